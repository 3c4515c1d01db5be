//! The MP4 and WebM/Matroska demuxers over arbitrary bytes: open, read every sample of every
//! track, seek. The first byte picks a container prefix so both parsers get deep inputs; one
//! choice wraps the bytes in a valid MP4 skeleton (one track whose `tkhd` matrix and sample
//! entry body are fuzzed, optionally fragmented, then fuzzed top-level boxes such as `sidx`),
//! which reaches the QuickTime sound descriptions (`wave`/`esds`, version 2, PCM entries, `chan`),
//! the rotation matrix and the `sidx` duration without first having to invent a `moov`.
#![no_main]

use kinema_core::demux::{self, Cursor};
use libfuzzer_sys::fuzz_target;

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// A box with version and flags 0.
fn full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 4];
    b.extend_from_slice(body);
    bx(kind, &b)
}

/// ftyp + moov with one track built around `data`, then the rest of `data` as top-level boxes.
fn skeleton(data: &[u8]) -> Vec<u8> {
    let (&sel, data) = data.split_first().unwrap_or((&0, &[]));
    let (matrix, data) = data.split_at(data.len().min(36));
    let (&len, data) = data.split_first().unwrap_or((&0, &[]));
    let (entry_body, tail) = data.split_at(data.len().min(usize::from(len)));
    const KINDS: [&[u8; 4]; 8] = [
        b"mp4a", b"lpcm", b"sowt", b"twos", b"in24", b"fl32", b"avc1", b"raw ",
    ];
    let kind = KINDS[usize::from(sel) % KINDS.len()];
    let video = kind == b"avc1";
    let mut tkhd = vec![0u8; 8]; // creation, modification
    tkhd.extend_from_slice(&1u32.to_be_bytes()); // track_ID
    tkhd.extend_from_slice(&[0u8; 4 + 4 + 8 + 8]); // reserved, duration, reserved, layer...
    let mut m = [0u8; 36];
    m[..matrix.len()].copy_from_slice(matrix);
    tkhd.extend_from_slice(&m);
    tkhd.extend_from_slice(&(640u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(360u32 << 16).to_be_bytes());
    let mut mdhd = vec![0u8; 8];
    mdhd.extend_from_slice(&1000u32.to_be_bytes());
    mdhd.extend_from_slice(&[0u8; 8]);
    let mut hdlr = vec![0u8; 4];
    hdlr.extend_from_slice(if video { b"vide" } else { b"soun" });
    hdlr.extend_from_slice(&[0u8; 13]);
    let mut entry = vec![0, 0, 0, 0, 0, 0, 0, 1]; // reserved, data_reference_index
    entry.extend_from_slice(entry_body);
    let mut stsd = 1u32.to_be_bytes().to_vec();
    stsd.extend_from_slice(&bx(kind, &entry));
    let empty = 0u32.to_be_bytes();
    let stbl = [
        full(b"stsd", &stsd),
        full(b"stts", &empty),
        full(b"stsc", &empty),
        full(b"stsz", &[0u8; 8]),
        full(b"stco", &empty),
    ]
    .concat();
    let mdia = [
        full(b"mdhd", &mdhd),
        full(b"hdlr", &hdlr),
        bx(b"minf", &bx(b"stbl", &stbl)),
    ]
    .concat();
    let trak = [full(b"tkhd", &tkhd), bx(b"mdia", &mdia)].concat();
    let mut mvhd = vec![0u8; 8];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&[0u8; 84]);
    let mut moov = [full(b"mvhd", &mvhd), bx(b"trak", &trak)].concat();
    if sel & 0x80 != 0 {
        let mut trex = 1u32.to_be_bytes().to_vec();
        trex.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        moov.extend_from_slice(&bx(b"mvex", &full(b"trex", &trex)));
    }
    let mut out = bx(b"ftyp", b"qt  \0\0\0\0");
    out.extend_from_slice(&bx(b"moov", &moov));
    out.extend_from_slice(tail);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 8);
    match pick % 4 {
        0 => bytes.extend_from_slice(&[0, 0, 0, 8, b'f', b't', b'y', b'p']),
        1 => bytes.extend_from_slice(&[0x1A, 0x45, 0xDF, 0xA3]),
        2 => bytes = skeleton(rest),
        _ => {}
    }
    if pick % 4 != 2 {
        bytes.extend_from_slice(rest);
    }
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
