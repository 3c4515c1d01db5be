//! The fragmented-MP4 writer over arbitrary decoder configurations and chunks: the codec
//! description (avcC / hvcC / av1C, copied into the sample entry) and the chunk times come from files,
//! so every input must end in `Ok` or a typed `RemuxError`, never a panic.
#![no_main]

use kinema_core::remux::fmp4::Fmp4Writer;
use kinema_core::{EncodedChunk, VideoDecoderConfig};
use libfuzzer_sys::fuzz_target;

const CODECS: [&str; 6] = [
    "avc1.64001f",
    "avc3.42e01e",
    "hvc1.1.6.L93.B0",
    "av01.0.04M.08",
    "vp09.00.10.08",
    "vp09.2.x",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let split = rest.len().min(usize::from(pick) * 2);
    let (description, tail) = rest.split_at(split);
    let config = VideoDecoderConfig {
        codec: CODECS[usize::from(pick) % CODECS.len()].into(),
        description: (pick & 0x80 == 0).then(|| description.to_vec()),
        coded_width: u32::from(pick) * 300,
        coded_height: u32::from(pick) * 200,
        display_width: u32::from(pick),
        display_height: u32::from(pick) * 3,
        rotation: u16::from(pick) * 90,
        flip: pick & 0x40 != 0,
    };
    let Ok(mut w) = Fmp4Writer::new(&config) else {
        return;
    };
    let _ = w.init_segment();
    let _ = w.mime_type();
    // The rest: chunks of (pts: i32, duration: u16, key bit + length: u8, bytes).
    let mut chunks = Vec::new();
    let mut at = tail;
    while at.len() >= 7 && chunks.len() < 64 {
        let pts = i64::from(i32::from_be_bytes([at[0], at[1], at[2], at[3]])) * 1000;
        let duration = i64::from(u16::from_be_bytes([at[4], at[5]])) * 100;
        let len = usize::from(at[6] & 0x7f).min(at.len() - 7);
        chunks.push(EncodedChunk {
            timestamp_us: pts,
            duration_us: duration,
            key: at[6] & 0x80 != 0,
            data: at[7..7 + len].to_vec(),
        });
        at = &at[7 + len..];
    }
    for c in chunks.chunks(3) {
        let _ = w.media_segment(c);
        if pick & 1 == 1 {
            w.restart();
        }
    }
});
