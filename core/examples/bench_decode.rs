//! Decode-speed benchmark: decodes each file repeatedly for about a second and prints one JSON
//! line per file. Built natively and for `wasm32-wasip1` (run under Node's WASI) by
//! `scripts/bench.sh`, which puts the numbers side by side with ffmpeg's.

use std::time::{Duration, Instant};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: bench_decode FILE...");
        std::process::exit(2);
    }
    for path in files {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        let ext = kinema_core::audio::decoder::extension_hint(&path);
        let started = Instant::now();
        let mut runs = 0u32;
        let mut frames = 0usize;
        while runs < 3 || started.elapsed() < Duration::from_secs(1) {
            match kinema_core::audio::decoder::decode_all(&bytes, ext.as_deref()) {
                Ok((info, pcm)) => frames = pcm.len() / info.channels.max(1) as usize,
                Err(e) => {
                    eprintln!("{path}: {e}");
                    std::process::exit(1);
                }
            }
            runs += 1;
        }
        let per_run = started.elapsed().as_secs_f64() / f64::from(runs);
        println!(
            "{{\"file\":\"{path}\",\"frames\":{frames},\"runs\":{runs},\"secs\":{per_run:.6}}}"
        );
    }
}
