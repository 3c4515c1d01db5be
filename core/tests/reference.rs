//! Decoded PCM against ffmpeg's decode of the same files (ffmpeg is the reference decoder).
//!
//! Files are generated with ffmpeg into a temporary folder; ffmpeg must be installed
//! (`scripts/bootstrap.sh` installs it). The decoder is symphonia: nothing to test without it.
#![cfg(feature = "symphonia")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};
use std::process::Command;

use kinema_core::audio::decoder::decode_all;

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg must be installed (scripts/bootstrap.sh)");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

fn workdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kinema-reference-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Encodes `source` (an lavfi graph) to `dir/name` with extra codec args.
fn make(dir: &Path, name: &str, source: &str, codec: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["-f", "lavfi", "-i", source];
    args.extend_from_slice(codec);
    let p = path.to_str().expect("utf-8 path");
    args.push(p);
    ffmpeg(&args);
    path
}

/// ffmpeg's decode of `path` as interleaved f32 at the file's own rate and channels.
fn reference_pcm(path: &Path) -> Vec<f32> {
    kinema_testkit::ffmpeg_pcm(path)
}

struct Case {
    name: &'static str,
    codec: &'static [&'static str],
    /// Largest allowed absolute difference per sample.
    tolerance: f32,
}

const TONE: &str = "aevalsrc='0.5*sin(2*PI*440*t)|0.5*sin(2*PI*440*t)':s=48000:d=1";
const CLICKS: &str = "aevalsrc='0.05*sin(2*PI*220*t)+if(lt(mod(t\\,1)\\,0.01)\\,0.8*sin(2*PI*1000*t)\\,0)|0.05*sin(2*PI*330*t)':s=48000:d=3";

const CASES: &[Case] = &[
    Case {
        name: "wav",
        codec: &["-c:a", "pcm_s16le"],
        tolerance: 0.0,
    },
    Case {
        name: "flac",
        codec: &["-c:a", "flac"],
        tolerance: 0.0,
    },
    Case {
        name: "mp3",
        codec: &["-c:a", "libmp3lame", "-b:a", "192k"],
        tolerance: 1e-4,
    },
    Case {
        name: "m4a",
        codec: &["-c:a", "aac", "-b:a", "192k"],
        tolerance: 1e-4,
    },
    Case {
        name: "aac",
        codec: &["-c:a", "aac", "-b:a", "192k", "-f", "adts"],
        tolerance: 1e-4,
    },
    Case {
        name: "ogg",
        codec: &["-c:a", "libvorbis", "-q:a", "6"],
        tolerance: 1e-4,
    },
];

fn compare(dir: &Path, stem: &str, source: &str, case: &Case, expect_frames: Option<usize>) {
    let path = make(dir, &format!("{stem}.{}", case.name), source, case.codec);
    let bytes = std::fs::read(&path).expect("read fixture");
    let (info, ours) =
        decode_all(&bytes, Some(case.name)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let theirs = reference_pcm(&path);
    let ch = info.channels as usize;
    assert_eq!(ch, 2, "{}", case.name);
    let max_diff = kinema_testkit::max_abs_diff(&ours, &theirs);
    println!(
        "{stem}.{}: ours {} frames, ffmpeg {} frames, max |diff| {max_diff:e}",
        case.name,
        ours.len() / ch,
        theirs.len() / ch
    );
    if case.name == "m4a" || case.name == "ogg" {
        // ffmpeg 5.1 honours the priming but not the declared end of these containers: for
        // MP4 it keeps the AAC padding after the edit list's end, for Ogg it drops the last
        // block short of the final granule position. We end exactly where the container says
        // (checked against the source length below); the overlap must match.
        let diff = theirs.len().abs_diff(ours.len());
        assert!(
            diff < 1024 * ch,
            "{stem}.{}: lengths {} vs {}",
            case.name,
            ours.len(),
            theirs.len()
        );
    } else {
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{stem}.{}: frame count differs from ffmpeg",
            case.name
        );
    }
    if let Some(frames) = expect_frames {
        assert_eq!(ours.len() / ch, frames, "{stem}.{}: frames", case.name);
    }
    assert!(
        max_diff <= case.tolerance,
        "{stem}.{}: max |diff| {max_diff} > {}",
        case.name,
        case.tolerance
    );
    let duration = info.duration.unwrap_or(0.0);
    let decoded = (ours.len() / ch) as f64 / info.sample_rate as f64;
    if case.name != "aac" {
        assert!(
            (duration - decoded).abs() < 0.03,
            "{stem}.{}: duration {duration} vs decoded {decoded}",
            case.name
        );
    }
}

#[test]
fn decoded_pcm_matches_ffmpeg() {
    let dir = workdir("decode");
    for case in CASES {
        // Containers that carry priming/padding must give exactly the source's 48000 frames;
        // raw ADTS carries none, so ffmpeg (and we) decode whole frames.
        let exact = (case.name != "aac").then_some(48_000);
        compare(&dir, "tone", TONE, case, exact);
        compare(&dir, "clicks", CLICKS, case, None);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Decodes `frames` frames starting exactly at source frame `at`, after a seek.
fn decode_after_seek(bytes: &[u8], ext: &str, at: i64, frames: usize) -> Vec<f32> {
    use kinema_core::audio::decoder::{AudioSource, Step};
    use kinema_core::source::cache::{lock, ByteCache};
    let cache = std::sync::Arc::new(std::sync::Mutex::new(ByteCache::new(1 << 30)));
    lock(&cache).write(0, bytes);
    lock(&cache).set_total(bytes.len() as u64);
    let mut src = AudioSource::open(&cache, Some(ext)).expect("open");
    // Decode a little first, so the seek happens mid-stream like a user's.
    let mut pcm = Vec::new();
    for _ in 0..3 {
        src.decode(&mut pcm).expect("decode");
    }
    pcm.clear();
    src.seek(at).expect("seek");
    while pcm.len() < frames * 2 {
        if src.decode(&mut pcm).expect("decode") == Step::End {
            break;
        }
    }
    pcm.truncate(frames * 2);
    pcm
}

#[test]
fn seeks_land_on_the_exact_frame() {
    let dir = workdir("seek");
    for case in CASES {
        let path = make(&dir, &format!("seek.{}", case.name), CLICKS, case.codec);
        let bytes = std::fs::read(&path).expect("read");
        let theirs = reference_pcm(&path);
        // ffmpeg's ADTS output keeps the priming; ours does too, so frames line up in both.
        for at in [0i64, 1_234, 50_000, 100_001] {
            let ours = decode_after_seek(&bytes, case.name, at, 4096);
            let reference = &theirs[at as usize * 2..(at as usize + 4096) * 2];
            assert_eq!(ours.len(), reference.len(), "{} @ {at}", case.name);
            // Lossy decoders rebuild their state from the packets before the target
            // (overlap, bit reservoir): allow their first block to differ slightly.
            let settle = if case.tolerance == 0.0 { 0 } else { 2048 };
            let early = ours[..settle * 2]
                .iter()
                .zip(&reference[..settle * 2])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            let max_diff = ours[settle * 2..]
                .iter()
                .zip(&reference[settle * 2..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            if std::env::var("KINEMA_DEBUG_SEEK").is_ok() {
                let n = ours.len() / 2;
                for off in -3000i64..3000 {
                    let base = at + off;
                    if base < 0 || (base as usize + n) * 2 > theirs.len() {
                        continue;
                    }
                    let r = &theirs[base as usize * 2..(base as usize + n) * 2];
                    let d = ours[settle * 2..]
                        .iter()
                        .zip(&r[settle * 2..])
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0f32, f32::max);
                    if d < 1e-4 {
                        println!("  aligned at offset {off}: {d:e}");
                    }
                }
            }
            println!("seek {} to frame {at}: first {settle} frames max |diff| {early:e}, then {max_diff:e}", case.name);
            assert!(
                max_diff <= case.tolerance.max(1e-6),
                "{} @ {at}: {max_diff}",
                case.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A VBR MP3 without a Xing/Info header: symphonia estimates its length from the first frames
/// (13.5 s of 30.04 s here) and trimmed everything past the estimate; the core decodes it to
/// its end, as ffmpeg does, and says the estimate until the player counts the frames.
#[test]
fn vbr_mp3_without_xing_decodes_to_its_end() {
    let path = kinema_testkit::fixture_path("vbr-no-xing.mp3");
    let bytes = std::fs::read(&path).unwrap();
    let (info, ours) = decode_all(&bytes, Some("mp3")).unwrap();
    let theirs = reference_pcm(&path);
    let max_diff = kinema_testkit::max_abs_diff(&ours, &theirs);
    println!(
        "vbr-no-xing.mp3: ours {} frames, ffmpeg {} frames, max |diff| {max_diff:e}, estimate {:?}",
        ours.len() / 2,
        theirs.len() / 2,
        info.duration
    );
    assert_eq!(ours.len(), theirs.len(), "decoded to the end");
    assert!(max_diff <= 1e-4, "{max_diff}");
    let estimate = info.duration.unwrap();
    assert!(estimate < 20.0, "the first frames' estimate: {estimate}");
}
