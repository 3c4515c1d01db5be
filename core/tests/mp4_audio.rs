//! Audio in MP4 beyond AAC (issue 15), through the player on the simulated host: MP3 and FLAC
//! inside MP4, with the index video and alone, decoded by the core; and audio that starts
//! 0.5 s after the video (an empty edit): silence first, then the audio at its time, as
//! `<video>` plays it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::sim::SimHost;
use kinema_testkit::{frame_index, play_fixture_to_end};

fn play_to_end(name: &str) -> SimHost {
    play_fixture_to_end(name, 30, |_| {})
}

/// Times (s) of the click track's bursts as played: where the left channel first exceeds 0.5
/// in each second.
fn bursts(played: &[f32]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut next = 0usize;
    for (i, f) in played.chunks_exact(2).enumerate() {
        if i >= next && f[0].abs() > 0.5 {
            out.push(i as f64 / 48_000.0);
            next = i + 24_000;
        }
    }
    out
}

#[test]
fn mp3_and_flac_in_mp4_play_in_the_core() {
    for (name, codec, video) in [
        ("h264-mp3.mp4", "mp3", true),
        ("h264-flac.mp4", "flac", true),
        ("flac-in.mp4", "flac", false),
    ] {
        let h = play_to_end(name);
        let info = h.player.media_info().cloned().unwrap();
        assert_eq!(info.audio_codec, codec, "{name}: {info:?}");
        assert!(h.audio_configs.is_empty(), "{name}: decoded in the core");
        assert!(
            (info.duration.unwrap() - 10.0).abs() < 0.05,
            "{name}: {info:?}"
        );
        if video {
            assert_eq!(h.video.presented.len(), 300, "{name}: every frame");
        }
        // A burst at every whole second, on time (MP3's priming is trimmed by the edit list).
        let b = bursts(h.played());
        assert_eq!(b.len(), 10, "{name}: {b:?}");
        for (k, t) in b.iter().enumerate() {
            assert!((t - k as f64).abs() < 0.005, "{name}: burst {k} at {t}");
        }
        println!(
            "{name}: {} {}, bursts on time",
            info.container, info.audio_codec
        );
    }
}

#[test]
fn audio_that_starts_late_is_silence_first_then_on_time() {
    let name = "audio-late.mp4";
    let h = play_to_end(name);
    let played = h.played();
    // ffprobe: the audio's first sample at 0.5 s (its first packet at 0.478667 s carries the
    // encoder's 1024-sample priming, which the edit list hides).
    let head = &played[..(0.45 * 48_000.0) as usize * 2];
    assert!(
        head.iter().all(|&s| s == 0.0),
        "silence before the audio starts"
    );
    let b = bursts(played);
    assert_eq!(b.len(), 10, "{b:?}");
    for (k, t) in b.iter().enumerate() {
        assert!(
            (t - (k as f64 + 0.5)).abs() < 0.005,
            "burst {k} at {t}, want {}",
            k as f64 + 0.5
        );
    }
    // The video is not moved: frame n at n / 30 s.
    let shown: Vec<i64> = h.video.presented.iter().map(|p| frame_index(p.1)).collect();
    assert_eq!(shown, (0..300).collect::<Vec<_>>());
    let dur = h.player.duration().unwrap();
    println!("{name}: bursts at {:?}; duration {dur}", &b[..3]);
    assert!(
        (dur - 10.5).abs() < 0.05,
        "duration {dur}: the audio ends at 10.5 s"
    );
}
