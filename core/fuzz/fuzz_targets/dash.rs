//! The DASH MPD parser over arbitrary bytes, static and at a wall clock picked by the input.
#![no_main]

use kinema_core::stream::{dash, MediaRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    // 2024-01-01T00:00:00Z plus up to a day, or far in the future.
    let now_ms =
        1_704_067_200_000 + i64::from(pick) * 337_000 * if pick > 250 { 1_000_000 } else { 1 };
    let Ok(p) = dash::parse(rest, "https://cdn.example.com/a/manifest.mpd", now_ms) else {
        return;
    };
    let medias = p.variants.iter().map(|v| &v.media).chain(
        p.audio
            .iter()
            .chain(&p.text)
            .filter_map(|r| r.media.as_ref()),
    );
    for m in medias {
        if let MediaRef::Segments(list) = m {
            let _ = list.live_start_index(5_000_000);
            let _ = list.merge(list.clone());
        }
    }
});
