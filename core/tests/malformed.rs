//! A deterministic corpus of broken inputs (truncations, bit flips, garbage) derived from valid
//! files: every one must end in a typed error or a clean end, never a panic or a hang, and the
//! player must stay usable. The same entry points are the cargo-fuzz targets in `core/fuzz`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::process::Command;

use kinema_core::audio::decoder::decode_all;
use kinema_core::sim::fuzz_scenario;

/// A small xorshift generator: the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn encode(ext: &str, codec: &[&str]) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("kinema-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("src.{ext}"));
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("sine=frequency=440:sample_rate=44100:duration=0.5,aformat=channel_layouts=stereo")
        .args(codec)
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed (scripts/bootstrap.sh)");
    assert!(status.success());
    let bytes = std::fs::read(&path).expect("read");
    let _ = std::fs::remove_file(&path);
    // The folder too (it is empty now): every run made one more under the temp dir.
    let _ = std::fs::remove_dir(&dir);
    bytes
}

fn variants(valid: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 1..24 {
        out.push(valid[..valid.len() * i / 24].to_vec());
    }
    for _ in 0..24 {
        let mut v = valid.to_vec();
        for _ in 0..(1 + rng.next() % 8) {
            let at = (rng.next() as usize) % v.len();
            v[at] ^= 1 << (rng.next() % 8);
        }
        out.push(v);
    }
    for _ in 0..4 {
        let mut v = valid[..valid.len().min(512)].to_vec();
        v.extend((0..4096).map(|_| rng.next() as u8));
        out.push(v);
    }
    out
}

#[test]
fn broken_files_end_in_errors_not_panics() {
    let formats: [(&str, &[&str]); 6] = [
        ("wav", &["-c:a", "pcm_s16le"]),
        ("flac", &["-c:a", "flac"]),
        ("mp3", &["-c:a", "libmp3lame"]),
        ("m4a", &["-c:a", "aac"]),
        ("aac", &["-c:a", "aac", "-f", "adts"]),
        ("ogg", &["-c:a", "libvorbis"]),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0;
    let mut total = 0;
    for (ext, codec) in formats {
        let valid = encode(ext, codec);
        assert!(
            decode_all(&valid, Some(ext)).is_ok(),
            "{ext} reference file must decode"
        );
        for (i, bad) in variants(&valid, &mut rng).into_iter().enumerate() {
            total += 1;
            if decode_all(&bad, Some(ext)).is_err() {
                errors += 1;
            }
            if i % 4 == 0 {
                let mut scenario = vec![0u8, 2, 0, 7, 1, 0, 4, 0, 3, 2, 0, 6];
                scenario.extend_from_slice(&bad);
                fuzz_scenario(&scenario).unwrap_or_else(|e| panic!("{ext} variant {i}: {e}"));
            }
        }
    }
    println!("{total} broken inputs: {errors} typed errors, the rest decoded what was valid");
    assert!(errors > 0);
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(42);
    for len in [0usize, 1, 7, 64, 1000, 70_000] {
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for ext in [None, Some("mp3"), Some("m4a"), Some("ogg")] {
            assert!(decode_all(&data, ext).is_err() || len > 0);
        }
        fuzz_scenario(&data).unwrap_or_else(|e| panic!("garbage of {len} bytes: {e}"));
    }
}

/// Broken MPEG-TS files (truncations, bit flips, garbage) through the file demuxer (open, every
/// sample and its bytes, seeks) and the player, and broken VBR MP3s without a Xing header
/// (whose frames the player counts) through the player: typed errors or a clean end.
#[test]
fn broken_ts_files_and_vbr_mp3s_end_in_errors_not_panics() {
    use kinema_core::demux::{self, Cursor};
    let mut rng = Rng(0x5eed_7515);
    let ts = kinema_testkit::fixture("h264-aac.ts");
    let mut opened = 0;
    let all = variants(&ts, &mut rng);
    let count = all.len();
    for (i, bad) in all.into_iter().enumerate() {
        let mut src: &[u8] = &bad;
        if let Ok(mut d) = demux::open(&mut src) {
            opened += 1;
            let _ = d.duration();
            for t in 0..d.tracks().len() {
                let mut c = Cursor::default();
                while let Ok(Some(s)) = d.next_sample(&mut src, t, &mut c) {
                    let mut buf = vec![0; s.size as usize];
                    let _ = d.read_sample(&mut src, &s, &mut buf);
                }
                for at in [0, 3_000_000, 9_000_000, i64::MAX / 2] {
                    let _ = d.seek(&mut src, t, at);
                }
            }
        }
        if i % 6 == 0 {
            let mut scenario = vec![0u8, 2, 0, 7, 1, 0, 4, 0, 3, 2, 0, 6];
            scenario.extend_from_slice(&bad);
            fuzz_scenario(&scenario).unwrap_or_else(|e| panic!("ts variant {i}: {e}"));
        }
    }
    println!("{count} broken TS files: {opened} opened");
    let mp3 = kinema_testkit::fixture("vbr-no-xing.mp3");
    for (i, bad) in variants(&mp3[..40_000], &mut rng)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 4 == 0)
    {
        let mut scenario = vec![0u8, 2, 0, 7, 1, 0, 4, 0, 3, 2, 0, 6];
        scenario.extend_from_slice(&bad);
        fuzz_scenario(&scenario).unwrap_or_else(|e| panic!("mp3 variant {i}: {e}"));
    }
}
