//! The ISO BMFF `sidx` parser over arbitrary bytes (the first byte picks a `sidx` box header).
#![no_main]

use kinema_core::stream::{sidx, ByteSpan, IndexedMedia};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 8);
    if pick & 1 == 0 {
        let size = u32::try_from(rest.len() + 8).unwrap_or(u32::MAX);
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(b"sidx");
    }
    bytes.extend_from_slice(rest);
    let media = IndexedMedia {
        url: "https://cdn.example.com/a.mp4".into(),
        index_range: ByteSpan {
            start: u64::from(pick) * 1000,
            len: bytes.len() as u64,
        },
        init: None,
        period: 0,
        period_start_us: i64::from(pick) * 1_000_000,
        period_end_us: (pick > 128).then_some(60_000_000),
        presentation_time_offset_us: i64::from(pick % 7) * 500_000,
        discontinuity: 0,
        encrypted: false,
    };
    let _ = sidx::parse_box(&bytes);
    let _ = sidx::parse(&bytes, &media);
});
