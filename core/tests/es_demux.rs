//! The audio file demuxers the core uses without symphonia (`demux::open_audio_file`: the
//! elementary streams of `demux::es` — MP3, ADTS AAC, AC-3 — and native FLAC, `demux::flac`)
//! against ffprobe's packet lists of the same files: every frame, at ffprobe's byte position, of
//! its size (less the ADTS header, which decoders do not take), at its time (ffprobe's, less the
//! encoder delay the LAME tag signals, which ffprobe reports as the stream's start time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::demux::{open_audio_file, Cursor};
use kinema_testkit::{all_samples, ffprobe_packets, fixture, fixture_path};

/// (file, codec, ADTS header bytes, the true duration in seconds and how close the demuxer's
/// must be: exact from an MP3's frame count, an estimate from the mean size of the first 64
/// frames otherwise. `None` for the VBR file without a tag, whose first seconds are noise: no
/// estimate from its start holds (ffprobe says 14.3 s of its 30); the player counts its frames
/// for the exact length, `audio::mp3::LengthScan`.)
/// A true duration and how close to it the demuxer must be, seconds.
type Duration = Option<(f64, f64)>;

const FILES: [(&str, &str, u64, Duration); 8] = [
    ("clicks-10s.mp3", "mp3", 0, Some((10.0, 0.001))),
    ("cover.mp3", "mp3", 0, Some((10.0, 0.001))),
    ("tone-1s.mp3", "mp3", 0, Some((1.0, 0.001))),
    ("vbr-no-xing.mp3", "mp3", 0, None),
    // 470 frames of 1024 samples; ffprobe estimates 9.987 s.
    (
        "clicks-10s.aac",
        "mp4a.40.2",
        7,
        Some((470.0 * 1024.0 / 48_000.0, 0.2)),
    ),
    // Constant frame size: the estimate is exact.
    (
        "clicks-10s.ac3",
        "ac-3",
        0,
        Some((313.0 * 1536.0 / 48_000.0, 0.001)),
    ),
    // STREAMINFO's sample count.
    ("clicks-10s.flac", "flac", 0, Some((10.0, 0.0))),
    ("cover.flac", "flac", 0, Some((10.0, 0.0))),
];

/// ffprobe's stream start time of `name` (0 when it says none).
fn start_time(name: &str) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .args(["stream=start_time", "-of", "csv=p=0"])
        .arg(fixture_path(name))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0)
}

#[test]
fn frames_match_ffprobe() {
    for (name, codec, header, duration) in FILES {
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let mut es = open_audio_file(&mut src).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let track = es.tracks()[0].clone();
        assert_eq!(track.codec, codec, "{name}");
        let ours = all_samples(&mut *es, &mut src, 0);
        let theirs = ffprobe_packets(&fixture_path(name), "a:0", "pts_time,size,pos");
        assert_eq!(ours.len(), theirs.len(), "{name}: frames");
        let start = start_time(name);
        for (k, (s, t)) in ours.iter().zip(&theirs).enumerate() {
            let pts: f64 = t[0].parse().unwrap();
            let size: u64 = t[1].parse().unwrap();
            let pos: u64 = t[2].parse().unwrap();
            assert_eq!(
                (s.offset, u64::from(s.size)),
                (pos + header, size - header),
                "{name}: frame {k}"
            );
            let want = ((pts - start) * 1e6).round() as i64;
            assert!(
                (s.pts_us - want).abs() <= 1,
                "{name}: frame {k} at {} µs, ffprobe {want}",
                s.pts_us
            );
        }
        let d = es.duration().unwrap();
        if let Some((want, within)) = duration {
            assert!(
                (d - want).abs() <= within,
                "{name}: duration {d}, truly {want}"
            );
        }
        println!(
            "{name}: {} frames as ffprobe, {} Hz {} ch, delay {} µs, duration {d:.3} s",
            ours.len(),
            track.sample_rate,
            track.channels,
            track.codec_delay_us
        );
    }
}

#[test]
fn seeks_land_on_the_frame_holding_the_time() {
    for (name, ..) in FILES {
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let mut es = open_audio_file(&mut src).unwrap();
        let all = all_samples(&mut *es, &mut src, 0);
        let mut es = open_audio_file(&mut src).unwrap();
        for t in [0, 1_000_000, 2_345_678, 50_000_000] {
            let mut cursor = es.seek(&mut src, 0, t).unwrap();
            match es.next_sample(&mut src, 0, &mut cursor).unwrap() {
                Some(s) => {
                    assert!(s.pts_us <= t && t < s.pts_us + s.duration_us, "{name}: {t}");
                    assert!(all.contains(&s), "{name}: {t}");
                }
                None => assert!(t >= all.last().unwrap().pts_us, "{name}: {t} past the end"),
            }
        }
        let mut cursor = Cursor::default();
        assert_eq!(
            es.next_sample(&mut src, 0, &mut cursor).unwrap(),
            all.first().copied()
        );
    }
}
