//! The MP4, WebM/Matroska and MPEG-TS file demuxers over arbitrary bytes: open, read every
//! sample of every track, seek. The first byte picks a container prefix so every parser gets
//! deep inputs; one choice wraps the bytes in a valid MP4 skeleton (one track whose `tkhd`
//! matrix and sample entry body are fuzzed, optionally fragmented, then fuzzed top-level boxes
//! such as `sidx`), which reaches the QuickTime sound descriptions (`wave`/`esds`, version 2,
//! PCM entries, `chan`), the Dolby and Opus entries (`dac3`, `dec3`, `dOps`), the rotation
//! matrix and the `sidx` duration without first having to invent a `moov`. Another builds a
//! transport stream (PAT, a PMT of fuzzed stream types, then packets whose PID, flags, PES
//! headers and timestamps come from the input, in 188- or 192-byte packets) and runs
//! `ts::TsFile` with a small window over bytes that arrive in pieces (every `NeedBytes` is
//! answered by more bytes): open with its tail read, every sample and its bytes, seeks
//! (bisection, walking back), the duration. The last one runs the MP3 length scan
//! (`audio::mp3`) the same way. Another builds an Ogg Opus file (a fuzzed OpusHead, then pages
//! whose flags, granule, serial, lacing values and body come from the input, with valid CRCs,
//! and here and there a damaged one) and runs `ogg::OggOpus` over bytes that arrive in pieces:
//! open, every packet and its bytes, seeks. The last builds an elementary audio stream file
//! (optionally after an ID3v2 tag: two valid MP3, ADTS or AC-3 frames so that it opens, then
//! the input, with a valid frame header here and there) and runs `es::EsFile` over bytes that
//! arrive in pieces: open, every frame and its bytes, seeks. One more prefixes the input with a
//! RIFF `WAVE` header (its chunks are the input) or a FLAC `fLaC` + STREAMINFO (its frames are
//! the input) and runs `demux::open_audio_file` (the WAV and FLAC demuxers) and every WAV
//! block's PCM conversion (`audio::pcm`).
#![no_main]

use kinema_core::audio::mp3::{self, LengthScan, Scan};
use kinema_core::audio::pcm::Format;
use kinema_core::demux::es::EsFile;
use kinema_core::demux::ogg::OggOpus;
use kinema_core::demux::ts::TsFile;
use kinema_core::demux::{self, ByteSource, Cursor, Demux, DemuxError};
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
    const KINDS: [&[u8; 4]; 11] = [
        b"mp4a", b"lpcm", b"sowt", b"twos", b"in24", b"fl32", b"avc1", b"raw ", b"ac-3", b"ec-3",
        b"Opus",
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

fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff_u32, |crc, &b| {
        (0..8).fold(crc ^ (u32::from(b) << 24), |c, _| {
            if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            }
        })
    })
}

/// A transport stream around `data`: see the module docs. Returns the bytes and the window
/// size to demux them with.
fn transport_stream(data: &[u8]) -> (Vec<u8>, u64) {
    let (&sel, data) = data.split_first().unwrap_or((&0, &[]));
    let (types, mut data) = data.split_at(data.len().min(3));
    let m2ts = sel & 1 != 0;
    let window = 188 * (8 + u64::from(sel >> 1));
    const TYPES: [u8; 9] = [0x1b, 0x0f, 0x24, 0x03, 0x04, 0x15, 0x06, 0x81, 0x87];
    let pids: Vec<(u16, u8)> = types
        .iter()
        .enumerate()
        .map(|(i, &t)| (0x100 + i as u16, TYPES[usize::from(t) % TYPES.len()]))
        .collect();
    let mut out = Vec::new();
    let mut cc = [0u8; 8];
    let packet = |out: &mut Vec<u8>, pid: u16, pusi: bool, body: &[u8], cc: &mut u8| {
        if m2ts {
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        let mut p = vec![0x47, (u8::from(pusi) << 6) | (pid >> 8) as u8, pid as u8];
        let len = body.len().min(184);
        if len == 184 {
            p.push(0x10 | *cc);
        } else {
            p.push(0x30 | *cc);
            p.push((183 - len) as u8);
            if len < 183 {
                p.push(0);
                p.resize(p.len() + 182 - len, 0xff);
            }
        }
        p.extend_from_slice(&body[..len]);
        *cc = (*cc + 1) & 15;
        out.extend_from_slice(&p);
    };
    let psi = |mut section: Vec<u8>| {
        let crc = crc32(&section);
        section.extend_from_slice(&crc.to_be_bytes());
        let mut body = vec![0];
        body.extend_from_slice(&section);
        body
    };
    let pat = psi(vec![0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0x00]);
    let mut pmt = vec![
        0x02,
        0xb0,
        (13 + 5 * pids.len()) as u8,
        0,
        1,
        0xc1,
        0,
        0,
        0xe1,
        0x00,
    ];
    pmt.extend_from_slice(&[0xf0, 0]);
    for &(pid, st) in &pids {
        pmt.extend_from_slice(&[st, 0xe0 | (pid >> 8) as u8, pid as u8, 0xf0, 0]);
    }
    let pmt = psi(pmt);
    let (mut cc_pat, mut cc_pmt) = (0u8, 0u8);
    packet(&mut out, 0, true, &pat, &mut cc_pat);
    packet(&mut out, 0x1000, true, &pmt, &mut cc_pmt);
    // Each packet: a control byte (stream, PES start, timestamps, a dropped counter step),
    // for a PES start 10 timestamp bytes, then the payload.
    while let Some((&ctl, rest)) = data.split_first() {
        let Some(&(pid, _)) = pids.get(usize::from(ctl) % pids.len().max(1)) else {
            break;
        };
        let k = usize::from(ctl) % pids.len();
        let pusi = ctl & 0x08 != 0;
        let mut body = Vec::new();
        let mut rest = rest;
        if pusi {
            let (ts, r) = rest.split_at(rest.len().min(10));
            rest = r;
            let mut t = [0u8; 10];
            t[..ts.len()].copy_from_slice(ts);
            let video = pids[k].1 == 0x1b || pids[k].1 == 0x24;
            let flags = match ctl >> 6 {
                0 => 0x00,
                1 => 0x80,
                _ => 0xc0,
            };
            let mut header = vec![0x80, flags, 0];
            if flags & 0x80 != 0 {
                header.extend_from_slice(&[0x21 | (t[0] & 0x0e), t[1], t[2] | 1, t[3], t[4] | 1]);
            }
            if flags & 0x40 != 0 {
                header.extend_from_slice(&[0x11 | (t[5] & 0x0e), t[6], t[7] | 1, t[8], t[9] | 1]);
            }
            header[2] = (header.len() - 3) as u8;
            let len = if video { 0 } else { u16::from(t[9]) << 4 };
            body.extend_from_slice(&[0, 0, 1, if video { 0xe0 } else { 0xc0 }]);
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(&header);
        }
        let take = rest.len().min(184 - body.len());
        body.extend_from_slice(&rest[..take]);
        data = &rest[take..];
        if ctl & 0x10 != 0 {
            cc[k] = (cc[k] + 1) & 15; // a lost packet
        }
        packet(&mut out, pid, pusi, &body, &mut cc[k]);
    }
    (out, window)
}

/// The bytes of `data` that have arrived: a read past them answers `NeedBytes`.
struct Arriving<'a> {
    data: &'a [u8],
    have: usize,
}

impl ByteSource for Arriving<'_> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .saturating_add(buf.len())
            .min(self.data.len());
        if end > self.have {
            return Err(DemuxError::NeedBytes(self.have as u64));
        }
        let mut all = self.data;
        all.read_at(offset, buf)
    }
    fn len(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }
}

impl Arriving<'_> {
    /// Runs `f` until it stops asking for bytes (more arrive each time).
    fn until<T>(&mut self, mut f: impl FnMut(&mut Self) -> Result<T, DemuxError>) -> Option<T> {
        loop {
            match f(self) {
                Ok(v) => return Some(v),
                Err(DemuxError::NeedBytes(at)) if (at as usize) < self.data.len() => {
                    self.have = (self.have + 4096).min(self.data.len());
                }
                Err(_) => return None,
            }
        }
    }
}

/// Every sample of track 0 and its bytes, then seeks, over bytes that arrive in pieces.
fn read_all_and_seek(src: &mut Arriving<'_>, d: &mut dyn Demux) {
    let _ = d.duration();
    let mut c = Cursor::default();
    let mut n = 0;
    while let Some(Some(s)) = src.until(|s| d.next_sample(s, 0, &mut c)) {
        let mut buf = vec![0u8; (s.size as usize).min(1 << 20)];
        let _ = src.until(|src| d.read_sample(src, &s, &mut buf));
        n += 1;
        if n > 20_000 {
            break;
        }
    }
    for time in [0, 1_000_000, -5, i64::MAX / 2, i64::MIN / 2, 20_000] {
        if let Some(mut c) = src.until(|s| d.seek(s, 0, time)) {
            let _ = src.until(|s| d.next_sample(s, 0, &mut c));
        }
    }
}

fn ts_file(data: &[u8]) {
    let (bytes, window) = transport_stream(data);
    let mut src = Arriving {
        data: &bytes,
        have: 0,
    };
    let Some(mut d) = src.until(|s| TsFile::open_with_window(s, window)) else {
        return;
    };
    let _ = d.duration();
    for t in 0..d.tracks().len() {
        let mut c = Cursor::default();
        let mut n = 0;
        while let Some(Some(s)) = src.until(|s| d.next_sample(s, t, &mut c)) {
            let mut buf = vec![0u8; (s.size as usize).min(1 << 20)];
            let _ = src.until(|src| d.read_sample(src, &s, &mut buf));
            n += 1;
            if n > 20_000 {
                break;
            }
        }
        for time in [0, 1_000_000, -5, i64::MAX / 2, i64::MIN / 2] {
            if let Some(mut c) = src.until(|s| d.seek(s, t, time)) {
                let _ = src.until(|s| d.next_sample(s, t, &mut c));
            }
        }
    }
}

fn mp3_scan(data: &[u8]) {
    let mut bytes = Vec::with_capacity(data.len() + 20);
    if data.first().is_some_and(|b| b & 1 == 1) {
        // An ID3v2 tag of fuzzed size first.
        bytes.extend_from_slice(b"ID3\x04\x00\x00\x00\x00\x00");
        bytes.push(data.get(1).map_or(0, |b| b & 0x7f));
    }
    bytes.extend_from_slice(data);
    let mut src = Arriving {
        data: &bytes,
        have: 0,
    };
    let Some(Some(head)) = src.until(|s| mp3::read_head(s)) else {
        return;
    };
    let _ = (mp3::needs_scan(&head), mp3::hides_length(&head));
    let mut scan = LengthScan::new(&head);
    for _ in 0..10_000 {
        let before = scan.position();
        if let Scan::Done(d) = scan.advance(&mut src, 64) {
            assert!(d.is_finite() && d >= 0.0);
            return;
        }
        if scan.position() == before {
            // Waiting for bytes: more arrive (once all are there, it must finish).
            assert!(src.have < bytes.len(), "the scan stalls on a whole file");
            src.have = (src.have + 4096).min(bytes.len());
        }
    }
}

/// An Ogg page with a valid CRC (unless `damage`).
fn ogg_page(
    flags: u8,
    granule: i64,
    serial: u32,
    lacing: &[u8],
    body: &[u8],
    damage: bool,
) -> Vec<u8> {
    let mut b = b"OggS\0".to_vec();
    b.push(flags);
    b.extend_from_slice(&granule.to_le_bytes());
    b.extend_from_slice(&serial.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.push(lacing.len() as u8);
    b.extend_from_slice(lacing);
    b.extend_from_slice(body);
    let crc = b.iter().fold(0u32, |crc, &x| {
        (0..8).fold(crc ^ (u32::from(x) << 24), |c, _| {
            if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            }
        })
    });
    b[22..26].copy_from_slice(&crc.to_le_bytes());
    if damage {
        b[26 + lacing.len() / 2] ^= 0x55;
    }
    b
}

fn ogg_opus(data: &[u8]) {
    let (head, mut data) = data.split_at(data.len().min(12));
    let mut h = b"OpusHead".to_vec();
    h.extend_from_slice(head);
    h.resize(19 + usize::from(head.get(1).copied().unwrap_or(0) % 9), 0);
    let mut bytes = ogg_page(2, 0, 1, &[h.len() as u8], &h, false);
    bytes.extend(ogg_page(0, 0, 1, &[8], b"OpusTags", false));
    // Each page: control byte (flags, other stream, damage), granule step, lacing count, then
    // that many lacing values and the body they add up to.
    let mut granule = 0i64;
    while let [ctl, step, n, rest @ ..] = data {
        let n = usize::from(*n);
        let Some(lacing) = rest.get(..n) else { break };
        let len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let rest = &rest[n..];
        let body: Vec<u8> = rest.iter().copied().cycle().take(len).collect();
        data = rest.get(len.min(rest.len())..).unwrap_or_default();
        granule += i64::from(*step) * 120;
        let g = if ctl & 0x40 != 0 { -1 } else { granule };
        let serial = if ctl & 0x20 != 0 { 2 } else { 1 };
        bytes.extend(ogg_page(ctl & 7, g, serial, lacing, &body, ctl & 0x80 != 0));
    }
    let mut src = Arriving {
        data: &bytes,
        have: 0,
    };
    let Some(mut d) = src.until(|s| OggOpus::open(s)) else {
        return;
    };
    read_all_and_seek(&mut src, &mut d);
}

/// Frame headers of each kind `es_file` builds with, and their whole frame lengths.
const ES_FRAMES: [(&[u8], usize); 3] = [
    // MPEG-1 layer III, 128 kb/s, 44.1 kHz: 417 bytes.
    (&[0xff, 0xfb, 0x90, 0x00], 417),
    // ADTS AAC-LC, 48 kHz, stereo, 256 bytes.
    (&[0xff, 0xf1, 0x4c, 0x80, 0x20, 0x1f, 0xfc], 256),
    // AC-3, 48 kHz, 192 kb/s (768 bytes), stereo.
    (&[0x0b, 0x77, 0, 0, 0x14, 0x40, 0x43, 0], 768),
];

fn es_file(data: &[u8]) {
    let (&sel, mut data) = data.split_first().unwrap_or((&0, &[]));
    let (header, len) = ES_FRAMES[usize::from(sel % 3)];
    let frame = |out: &mut Vec<u8>| {
        let start = out.len();
        out.extend_from_slice(header);
        out.resize(start + len, 0);
    };
    let mut bytes = Vec::new();
    if sel & 0x80 != 0 {
        bytes.extend_from_slice(b"ID3\x04\x00\x00\x00\x00\x00\x20");
        bytes.resize(bytes.len() + 0x20, 0);
    }
    frame(&mut bytes);
    frame(&mut bytes);
    // Chunks of the input, each followed by a valid frame when its control byte says.
    while let Some((&ctl, rest)) = data.split_first() {
        let take = rest.len().min(usize::from(ctl & 0x7f) * 8);
        bytes.extend_from_slice(&rest[..take]);
        if ctl & 0x80 != 0 {
            frame(&mut bytes);
        }
        data = &rest[take..];
    }
    let mut src = Arriving {
        data: &bytes,
        have: 0,
    };
    let Some(mut d) = src.until(|s| EsFile::open(s)) else {
        return;
    };
    read_all_and_seek(&mut src, &mut d);
}

fn wav_or_flac_file(data: &[u8]) {
    let (&sel, data) = data.split_first().unwrap_or((&0, &[]));
    let mut bytes = if sel & 1 == 0 {
        b"RIFF\0\0\0\0WAVE".to_vec()
    } else {
        // fLaC, then a last STREAMINFO block: blocks 4096, frames up to 64 KB, 48 kHz stereo
        // 16-bit, 480000 samples; then the input as frames.
        let mut b =
            b"fLaC\x80\0\0\x22\x10\0\x10\0\0\0\0\x01\0\0\x0b\xb8\x02\xf0\0\x07\x53\0".to_vec();
        b.resize(4 + 4 + 34, 0);
        b
    };
    bytes.extend_from_slice(data);
    let mut src: &[u8] = &bytes;
    let Ok(mut d) = demux::open_audio_file(&mut src) else {
        return;
    };
    let _ = d.duration();
    let format = Format::of(&d.tracks()[0].codec);
    assert!(
        format.is_some() || d.tracks()[0].codec == "flac",
        "a track the core can neither convert nor name: {}",
        d.tracks()[0].codec
    );
    let mut c = Cursor::default();
    let mut n = 0;
    let mut pcm = Vec::new();
    while let Ok(Some(s)) = d.next_sample(&mut src, 0, &mut c) {
        let mut buf = vec![0u8; s.size as usize];
        if let Ok(got) = d.read_sample(&mut src, &s, &mut buf) {
            if let Some(format) = format {
                pcm.clear();
                format.convert(&buf[..got], &mut pcm);
                assert!(pcm.iter().all(|x| x.is_finite()));
            }
        }
        n += 1;
        if n > 20_000 {
            break;
        }
    }
    for time in [0, 1_000_000, i64::MAX / 2, -5] {
        let _ = d.seek(&mut src, 0, time);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 8);
    match pick % 9 {
        0 => bytes.extend_from_slice(&[0, 0, 0, 8, b'f', b't', b'y', b'p']),
        1 => bytes.extend_from_slice(&[0x1A, 0x45, 0xDF, 0xA3]),
        2 => bytes = skeleton(rest),
        4 => return ts_file(rest),
        5 => return mp3_scan(rest),
        6 => return ogg_opus(rest),
        7 => return es_file(rest),
        8 => return wav_or_flac_file(rest),
        _ => {}
    }
    if pick % 9 != 2 {
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
