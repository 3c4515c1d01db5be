//! Audio files with cover art (issue 15): ffprobe lists the attached picture as a video
//! stream, but the file is audio — it plays through, with its duration, and no picture or
//! video decoder is asked for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_testkit::play_fixture_to_end;

#[test]
fn audio_with_cover_art_plays_as_audio() {
    for name in ["cover.mp3", "cover.m4a", "cover.flac"] {
        let h = play_fixture_to_end(name, 20, |_| {});
        let info = h.player.media_info().cloned().unwrap();
        let played = h.played().len() as f64 / 2.0 / 48_000.0;
        println!(
            "{name}: {} {} {:?} s, played {played:.3} s",
            info.container, info.audio_codec, info.duration
        );
        assert_eq!((info.width, info.height), (0, 0), "{name}: no video");
        assert!(h.video.presented.is_empty(), "{name}: no picture presented");
        assert!(
            (info.duration.unwrap() - 10.0).abs() < 0.05,
            "{name}: {info:?}"
        );
        assert!((played - 10.0).abs() < 0.05, "{name}: played {played} s");
    }
}
