//! The core built without its software audio decoder (`--no-default-features`: no symphonia), as
//! in the browser's streaming-only package: every container the core demuxes itself (MP4,
//! MPEG-TS, elementary MP3/ADTS/AC-3 files, FLAC) sends its audio to the host's decoder (here the
//! simulated host's), PCM (WAV, QuickTime) is converted by the core, FLAC goes to the host's
//! decoder, HLS and DASH play, and a file whose audio only symphonia could read (Ogg Vorbis) is
//! a typed `unsupported` error that leaves the player usable.
//!
//! Run by the test command as
//! `cargo test -p kinema-core --no-default-features --test without_software_audio`; with the
//! default features (the workspace run) this file is empty.
#![cfg(not(feature = "symphonia"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, ErrorKind, PlaybackState, PlayerConfig};
use kinema_testkit::{
    ffmpeg_pcm, fixture, fixture_path, gen_dir, max_abs_diff, play_fixture_to_end, serve_under,
    wait, BASE,
};

/// Seconds of audio the device played (stereo at 48 kHz).
fn played_secs(h: &SimHost) -> f64 {
    h.played().len() as f64 / 2.0 / 48_000.0
}

#[test]
fn mp4_and_mpeg_ts_files_play_through_the_platform_decoder() {
    for (name, codec, seconds, frames) in [
        ("h264-aac.mp4", "mp4a.40.2", 10.0, 300),
        ("h264-mp3.mp4", "mp3", 10.0, 300),
        ("h264-flac.mp4", "flac", 10.0, 300),
        ("flac-in.mp4", "flac", 10.0, 0),
        ("aac-5.1.m4a", "mp4a.40.2", 6.0, 0),
        ("ts/h264-aac-320.ts", "mp4a.40.2", 4.0, 120),
        ("ts/h264-mp3.ts", "mp3", 2.0, 60),
        // Elementary streams (demux::es): the LAME delay trimmed, so exactly the source's 10 s
        // from the tagged MP3s, plus at most one frame of the encoder's padding (24 ms).
        ("clicks-10s.mp3", "mp3", 10.012, 0),
        ("cover.mp3", "mp3", 10.012, 0),
        ("clicks-10s.aac", "mp4a.40.2", 10.03, 0),
        ("clicks-10s.ac3", "ac-3", 10.02, 0),
        // Native FLAC (demux::flac).
        ("clicks-10s.flac", "flac", 10.0, 0),
        ("cover.flac", "flac", 10.0, 0),
    ] {
        let h = play_fixture_to_end(name, 30, |_| {});
        let config = h
            .audio_configs
            .first()
            .cloned()
            .expect("a platform decoder");
        assert_eq!(config.codec, codec, "{name}");
        let played = played_secs(&h);
        assert!((played - seconds).abs() < 0.1, "{name}: played {played} s");
        assert_eq!(h.video.presented.len(), frames, "{name}: pictures shown");
        println!("{name}: {codec} by the platform, played {played:.3} s, {frames} pictures");
    }
}

#[test]
fn wav_and_quicktime_pcm_are_converted_by_the_core_exactly_as_ffmpeg_decodes_them() {
    for name in [
        "clicks-10s.wav",
        "pcm/sowt.mov",
        "pcm/twos.mov",
        "pcm/in24.mov",
        "pcm/in24-be.mov",
        "pcm/fl32.mov",
    ] {
        let h = play_fixture_to_end(name, 30, |_| {});
        assert!(h.audio_configs.is_empty(), "{name}: no decoder asked");
        let theirs = ffmpeg_pcm(&fixture_path(name));
        let played = h.played();
        let diff = max_abs_diff(played, &theirs);
        println!(
            "{name}: {} frames played, ffmpeg {}, max |diff| {diff:e}",
            played.len() / 2,
            theirs.len() / 2
        );
        assert_eq!(played.len(), theirs.len(), "{name}: length");
        assert!(diff <= 1e-6, "{name}: max |diff| {diff}");
    }
}

#[test]
fn hls_and_dash_play_with_platform_decoders_only() {
    for (dir, path) in [
        ("manifests/hls-fmp4", "manifests/hls-fmp4/master.m3u8"),
        ("manifests/dash-sidx", "manifests/dash-sidx/manifest.mpd"),
    ] {
        let mut h = SimHost::new(PlayerConfig::default(), 48_000);
        serve_under(&mut h, &gen_dir(), dir, |_| false);
        let url = format!("{BASE}{path}");
        h.app(AppRequest::Load { url: url.clone() });
        h.app(AppRequest::Play);
        wait(&mut h, 60, "ended", |h| {
            h.player.state() == PlaybackState::Ended || h.last_error().is_some()
        });
        assert!(h.last_error().is_none(), "{url}: {:?}", h.last_error());
        assert!(!h.audio_configs.is_empty(), "{url}: audio went to the host");
        let played = played_secs(&h);
        let duration = h.player.duration().unwrap();
        assert!(
            (played - duration).abs() < 0.2,
            "{url}: played {played} of {duration} s"
        );
        assert!(h.video.presented.len() > 50, "{url}: pictures shown");
        println!(
            "{url}: {} s played, {} pictures, audio {}",
            played,
            h.video.presented.len(),
            h.audio_configs[0].codec
        );
    }
}

#[test]
fn ogg_vorbis_which_only_symphonia_reads_is_a_typed_error_and_the_player_stays_usable() {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    for name in ["tone-1s.ogg", "h264-aac.mp4"] {
        h.add(name, fixture(name));
    }
    let name = "tone-1s.ogg";
    h.app(AppRequest::Load { url: name.into() });
    wait(&mut h, 10, "error", |h| h.last_error().is_some());
    let e = h.last_error().cloned().unwrap();
    assert_eq!(e.kind, ErrorKind::Unsupported, "{name}: {e:?}");
    assert!(
        e.message.contains("no software audio decoder"),
        "{name}: {e:?}"
    );
    assert!(
        h.audio_configs.is_empty(),
        "{name}: no platform decoder was asked"
    );
    println!("{name}: {}", e.message);
    // The same player then plays a file it can.
    h.app(AppRequest::Load {
        url: "h264-aac.mp4".into(),
    });
    h.app(AppRequest::Play);
    wait(&mut h, 30, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert_eq!(h.video.presented.len(), 300);
    assert!(played_secs(&h) > 9.9);
}

#[test]
fn truncated_damaged_and_noise_files_end_cleanly_or_in_a_typed_error() {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    // The first 40 % of each file (cut mid-frame), and FLAC/MP3 with 64 bytes of their
    // middle overwritten.
    let mut cases = Vec::new();
    for name in [
        "clicks-10s.mp3",
        "clicks-10s.flac",
        "clicks-10s.wav",
        "clicks-10s.aac",
    ] {
        let data = fixture(name);
        let cut = data[..data.len() * 4 / 10].to_vec();
        cases.push((format!("cut-{name}"), cut, 3.8..4.2));
        if name.ends_with(".mp3") || name.ends_with(".flac") {
            let mut damaged = data.clone();
            let mid = data.len() / 2;
            damaged[mid..mid + 64].fill(0x5a);
            cases.push((format!("damaged-{name}"), damaged, 9.7..10.1));
        }
    }
    for (name, data, secs) in cases {
        h.add(&name, data);
        h.app(AppRequest::Load { url: name.clone() });
        h.app(AppRequest::Play);
        let before = h.played().len();
        wait(&mut h, 30, "ended", |h| {
            h.player.state() == PlaybackState::Ended || h.last_error().is_some()
        });
        assert!(h.last_error().is_none(), "{name}: {:?}", h.last_error());
        let played = (h.played().len() - before) as f64 / 2.0 / 48_000.0;
        println!("{name}: ended after {played:.3} s of sound");
        assert!(secs.contains(&played), "{name}: played {played} s");
    }
    // Noise: a typed error, then the same player plays a file.
    let noise: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    h.add("noise.bin", noise);
    h.app(AppRequest::Load {
        url: "noise.bin".into(),
    });
    wait(&mut h, 10, "error", |h| h.last_error().is_some());
    let e = h.last_error().cloned().unwrap();
    println!("noise: {e:?}");
    assert_eq!(e.kind, ErrorKind::Unsupported, "{e:?}");
    h.add("h264-aac.mp4", fixture("h264-aac.mp4"));
    h.app(AppRequest::Load {
        url: "h264-aac.mp4".into(),
    });
    h.app(AppRequest::Play);
    wait(&mut h, 30, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert_eq!(h.video.presented.len(), 300);
}
