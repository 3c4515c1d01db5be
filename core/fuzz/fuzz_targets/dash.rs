//! The DASH MPD parser over arbitrary bytes, static and at a wall clock picked by the input;
//! the thumbnail lookup of every image track at times around and past its segments.
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
    for track in &p.images {
        let ends = track
            .list
            .segments
            .iter()
            .flat_map(|s| [s.start_us, s.end_us(), s.start_us.saturating_add(s.duration_us / 2)]);
        for t in ends.take(64).chain([i64::MIN, -1, 0, i64::MAX]) {
            if let Some(th) = track.thumbnail(t) {
                assert!(th.duration_us >= 0, "{th:?}");
            }
        }
    }
});
