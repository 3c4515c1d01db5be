//! WebVTT over arbitrary bytes: file parse (with and without a valid signature) and its STYLE
//! blocks' CSS, cue text markup and its styling, layout, the cue store, and `wvtt` samples.
//! The first byte picks the entry point.
#![no_main]

use kinema_core::text::webvtt::{self, layout, markup, wvtt, CueSettings, StyleSheet, Viewport};
use kinema_core::text::{CueStore, StoreBudget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 4 {
        0 | 1 => {
            let mut bytes = Vec::with_capacity(rest.len() + 8);
            if pick % 4 == 0 {
                bytes.extend_from_slice(b"WEBVTT\n\n");
            }
            bytes.extend_from_slice(rest);
            let Ok(f) = webvtt::parse(&bytes) else {
                return;
            };
            let sheet = f.style_sheet();
            let mut store = CueStore::new(StoreBudget {
                max_cues: 256,
                max_bytes: 1 << 20,
            });
            store.extend(f.cues.iter().cloned());
            let vp = Viewport::new(16.0, 9.0);
            for t in [0, 1_000_000, 60_000_000, i64::MAX, i64::MIN] {
                let active: Vec<_> = store.active_at(t).into_iter().map(|(_, c)| c).collect();
                for c in &active {
                    let _ = c.spans();
                    let _ = c.styled_spans(&sheet);
                }
                let _ = layout(&active, &vp);
                let _ = store.changes(t, t.saturating_add(2_000_000));
            }
            let _ = store.evict_before(30_000_000);
        }
        2 => {
            let regions = [webvtt::Region::parse("id:r width:50% lines:2")];
            if let Ok(cues) = wvtt::parse_sample(rest, 0, 1_000_000, &regions) {
                let refs: Vec<_> = cues.iter().collect();
                let _ = layout(&refs, &Viewport::new(4.0, 3.0));
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let nodes = markup::parse(&text);
            let _ = markup::spans(&nodes);
            let _ = markup::plain_text(&nodes);
            // The same text as CSS, and as cue text under a sheet made of it.
            let sheet = StyleSheet::parse(&[text.as_ref()]);
            let _ = sheet.style(&text, &nodes);
            let _ = CueSettings::parse(&text, &[]);
            let _ = webvtt::parse_timestamp(&text);
        }
    }
});
