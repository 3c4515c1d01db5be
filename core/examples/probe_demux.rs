//! Prints the samples a demuxer finds (debugging aid): `cargo run --example probe_demux FILE [TRACK]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use kinema_core::demux::{self, Cursor};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).expect("file");
    let track: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(0);
    let mut src: &[u8] = &data;
    let mut d = demux::open(&mut src).expect("open");
    for t in d.tracks() {
        println!(
            "track {} {:?} {} {}x{} {} Hz {} ch",
            t.id, t.kind, t.codec, t.width, t.height, t.sample_rate, t.channels
        );
    }
    let mut c = Cursor::default();
    let mut i = 0;
    while let Some(s) = d.next_sample(&mut src, track, &mut c).expect("sample") {
        println!(
            "{i} pts {} dts {} dur {} size {} key {}",
            s.pts_us, s.dts_us, s.duration_us, s.size, s.key
        );
        i += 1;
    }
}
