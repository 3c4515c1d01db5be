//! The MPEG-TS segment demuxer over arbitrary bytes (half of the inputs behind a valid PAT and
//! PMT listing H.264, AAC, H.265, MP3, ID3, AC-3 and E-AC-3 streams, so the PES paths are
//! reached), then the Annex B → AVCC helpers on whatever samples come out.
#![no_main]

use kinema_core::demux::ts::{self, TsLimits};
use libfuzzer_sys::fuzz_target;

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// A TS packet on `pid` carrying one PSI section.
fn psi_packet(pid: u16, mut section: Vec<u8>) -> Vec<u8> {
    let crc = crc32(&section);
    section.extend_from_slice(&crc.to_be_bytes());
    let mut p = vec![0x47, 0x40 | (pid >> 8) as u8, pid as u8, 0x10, 0];
    p.extend_from_slice(&section);
    p.resize(188, 0xff);
    p
}

fn head() -> Vec<u8> {
    let mut out = psi_packet(0, vec![0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0x00]);
    let streams: [(u8, u16); 7] = [
        (0x1b, 0x100),
        (0x0f, 0x101),
        (0x24, 0x102),
        (0x03, 0x103),
        (0x15, 0x104),
        (0x81, 0x105),
        (0x87, 0x106),
    ];
    let len = 9 + 5 * streams.len() + 4;
    let mut pmt = vec![0x02, 0xb0, len as u8, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0];
    for (st, pid) in streams {
        pmt.extend_from_slice(&[st, 0xe0 | (pid >> 8) as u8, pid as u8, 0xf0, 0]);
    }
    out.extend_from_slice(&psi_packet(0x1000, pmt));
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = if pick & 1 == 1 { head() } else { Vec::new() };
    bytes.extend_from_slice(rest);
    let limits = TsLimits {
        max_pes_bytes: 1 << 20,
        max_samples: 20_000,
        max_tracks: 8,
    };
    let prev = (pick & 2 != 0).then_some(i64::from(pick) << 30);
    if let Ok(seg) = ts::demux_segment_after(&bytes, &limits, prev) {
        for s in seg.samples.iter().take(64) {
            let _ = ts::avcc_from_annexb(&s.data);
            let _ = ts::avc_decoder_config(&s.data);
            let _ = ts::hevc_decoder_config(&s.data);
        }
    }
    let _ = ts::avc_sps(rest);
    let _ = ts::hevc_decoder_config(rest);
});
