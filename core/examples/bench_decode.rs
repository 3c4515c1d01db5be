//! Decode-speed benchmark: decodes each file repeatedly for about a second, then converts the
//! decoded audio to 44.1 kHz (the core's resampler, as for a 44.1 kHz output device) likewise,
//! and prints one JSON line per file. Built natively and for `wasm32-wasip1` (run under Node's
//! WASI) by `scripts/bench-decode.sh`, which puts the numbers side by side with ffmpeg's.

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
        let mut decoded = None;
        while runs < 3 || started.elapsed() < Duration::from_secs(1) {
            match kinema_core::audio::decoder::decode_all(&bytes, ext.as_deref()) {
                Ok((info, pcm)) => {
                    frames = pcm.len() / info.channels.max(1) as usize;
                    decoded = Some((info, pcm));
                }
                Err(e) => {
                    eprintln!("{path}: {e}");
                    std::process::exit(1);
                }
            }
            runs += 1;
        }
        let per_run = started.elapsed().as_secs_f64() / f64::from(runs);
        let resample = decoded.map_or(0.0, |(info, pcm)| resample_secs(&info, &pcm));
        println!(
            "{{\"file\":\"{path}\",\"frames\":{frames},\"runs\":{runs},\"secs\":{per_run:.6},\"resample_secs\":{resample:.6}}}"
        );
    }
}

/// Seconds per conversion of `pcm` to 44.1 kHz in 4096-frame blocks (as the player feeds the
/// converter), repeated for about a second; 0 when the file is at 44.1 kHz already.
fn resample_secs(info: &kinema_core::MediaInfo, pcm: &[f32]) -> f64 {
    use kinema_core::audio::resample::RateConverter;
    let channels = usize::from(info.channels.max(1));
    if info.sample_rate == 44_100 || info.sample_rate == 0 {
        return 0.0;
    }
    let ratio = 44_100.0 / f64::from(info.sample_rate);
    let started = Instant::now();
    let mut runs = 0u32;
    let mut out = Vec::with_capacity(pcm.len());
    while runs < 3 || started.elapsed() < Duration::from_secs(1) {
        let Ok(mut conv) = RateConverter::new(channels, ratio) else {
            return 0.0;
        };
        out.clear();
        for block in pcm.chunks(4096 * channels) {
            conv.process(block, &mut out);
        }
        conv.flush(&mut out);
        runs += 1;
    }
    started.elapsed().as_secs_f64() / f64::from(runs)
}
