//! The MP4 and WebM/Matroska demuxers over arbitrary bytes: open, read every sample of every
//! track, seek. The first byte picks a container prefix so both parsers get deep inputs.
#![no_main]

use kinema_core::demux::{self, Cursor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 8);
    match pick % 3 {
        0 => bytes.extend_from_slice(&[0, 0, 0, 8, b'f', b't', b'y', b'p']),
        1 => bytes.extend_from_slice(&[0x1A, 0x45, 0xDF, 0xA3]),
        _ => {}
    }
    bytes.extend_from_slice(rest);
    let mut src: &[u8] = &bytes;
    let Ok(mut d) = demux::open(&mut src) else {
        return;
    };
    let _ = d.duration();
    for t in 0..d.tracks().len() {
        let mut c = Cursor::default();
        let mut n = 0;
        while let Ok(Some(_)) = d.next_sample(&mut src, t, &mut c) {
            n += 1;
            if n > 100_000 {
                break;
            }
        }
        for time in [0, 1_000_000, i64::MAX / 2, -5] {
            let _ = d.seek(&mut src, t, time);
        }
    }
});
