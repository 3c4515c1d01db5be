//! The HLS playlist parser over arbitrary bytes, then the model operations on what it returns
//! (merge with itself, reload interval, live start, presentation from a media playlist), with
//! and without variables to import (`EXT-X-DEFINE`).
#![no_main]

use kinema_core::stream::hls::{self, Parsed};
use kinema_core::stream::Variables;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Half the inputs get the header, so the parser gets past the first line.
    let mut bytes = Vec::with_capacity(data.len() + 8);
    if data.first().is_some_and(|b| b & 1 == 0) {
        bytes.extend_from_slice(b"#EXTM3U\n");
    }
    bytes.extend_from_slice(data.get(1..).unwrap_or_default());
    // Some inputs are media playlists of a multivariant playlist with variables to IMPORT,
    // fetched from a URL with query parameters for QUERYPARAM.
    let mut imports = Variables::default();
    imports.define("a", "x");
    imports.define("host", "https://cdn.example.com");
    let imports = data.first().is_some_and(|b| b & 2 == 0).then_some(&imports);
    match hls::parse_with_imports(
        &bytes,
        "https://example.com/live/index.m3u8?a=1&b=%22",
        imports,
    ) {
        Ok(Parsed::Media(list)) => {
            let _ = hls::reload_interval(Some(&list), &list);
            let _ = list.live_start_index(hls::hold_back_us(&list));
            let _ = list.segment_at(list.duration_us() / 2);
            if let Ok(merged) = list.merge(list.clone()) {
                assert_eq!(merged.segments.len(), list.segments.len());
            }
            let _ = hls::presentation_from_media(list);
        }
        Ok(Parsed::Multivariant(p)) => {
            for v in &p.variants {
                let _ = p.audio_for(v).count() + p.text_for(v).count();
            }
        }
        Err(_) => {}
    }
});
