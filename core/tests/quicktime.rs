//! QuickTime and MP4 variants (issue 15) through the player, on the fixtures of
//! `scripts/fixtures.sh`: `.mov` as iPhones write it, PCM sample entries (decoded by symphonia,
//! against ffmpeg's decode of the same file), and the duration of fragmented files whose header
//! has none. The demuxer's tables are checked against ffprobe in `mp4_demux.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::audio::decoder::decode_all;
use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, PlaybackState, PlayerConfig, PlayerEvent};
use kinema_testkit::{fixture, fixture_path, frame_index, wait};

const PCM: [&str; 5] = [
    "pcm/sowt.mov",
    "pcm/twos.mov",
    "pcm/lpcm.mov",
    "pcm/in24.mov",
    "pcm/fl32.mov",
];

/// ffmpeg's decode of a fixture as interleaved f32 at its own rate and channels.
fn reference_pcm(name: &str) -> Vec<f32> {
    kinema_testkit::ffmpeg_pcm(&fixture_path(name))
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Loads and plays `name` to its end on a 48 kHz device.
fn play_to_end(name: &str) -> SimHost {
    kinema_testkit::play_fixture_to_end(name, 30, |_| {})
}

#[test]
fn pcm_in_quicktime_decodes_like_ffmpeg() {
    for name in PCM {
        let (info, ours) =
            decode_all(&fixture(name), Some("mov")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs = reference_pcm(name);
        let max_diff = kinema_testkit::max_abs_diff(&ours, &theirs);
        println!(
            "{name}: {} Hz, ours {} frames rms {:.4}, ffmpeg {} frames rms {:.4}, max |diff| {max_diff:e}",
            info.sample_rate,
            ours.len() / 2,
            rms(&ours),
            theirs.len() / 2,
            rms(&theirs)
        );
        assert_eq!(info.channels, 2, "{name}");
        assert_eq!(ours.len(), theirs.len(), "{name}: length");
        assert!(max_diff <= 1e-6, "{name}: max |diff| {max_diff}");
    }
}

#[test]
fn pcm_mov_plays_through_the_player() {
    for name in PCM {
        let h = play_to_end(name);
        let info = h.player.media_info().cloned().expect("metadata");
        let theirs = reference_pcm(name);
        let played = h.played();
        let (ours_rms, their_rms) = (rms(played), rms(&theirs));
        println!(
            "{name}: codec {}, played {} frames rms {ours_rms:.4}, ffmpeg {} frames at {} Hz rms {their_rms:.4}",
            info.audio_codec,
            played.len() / 2,
            theirs.len() / 2,
            info.sample_rate
        );
        // symphonia names the codec (`pcm_s16le`...).
        assert!(info.audio_codec.starts_with("pcm"), "{name}: {info:?}");
        // The core decodes it (no platform audio decoder), 1 s at the device's 48 kHz.
        assert!(h.audio_configs.is_empty(), "{name}: {:?}", h.audio_configs);
        let seconds = theirs.len() as f64 / 2.0 / f64::from(info.sample_rate);
        let played_s = played.len() as f64 / 2.0 / 48_000.0;
        assert!((played_s - seconds).abs() < 0.01, "{name}: {played_s} s");
        assert!(
            (ours_rms - their_rms).abs() < 0.01 * their_rms,
            "{name}: level"
        );
    }
}

#[test]
fn big_endian_wide_pcm_is_converted_by_the_core_exactly() {
    // symphonia reads in24 as little-endian whatever `enda` says, so the core does not hand it
    // this file: its samples go the platform path, converted by the core (`audio::pcm`), no
    // decoder asked; exactly ffmpeg's samples on a device at the file's rate.
    let name = "pcm/in24-be.mov";
    let h = play_to_end(name);
    assert!(h.audio_configs.is_empty(), "{:?}", h.audio_configs);
    let info = h.player.media_info().cloned().unwrap();
    assert_eq!(info.audio_codec, "pcm-s24be");
    let theirs = reference_pcm(name);
    let played = h.played();
    let diff = kinema_testkit::max_abs_diff(played, &theirs);
    println!(
        "{name}: {} Hz, played {} frames, ffmpeg {}, max |diff| {diff:e}",
        info.sample_rate,
        played.len() / 2,
        theirs.len() / 2
    );
    assert_eq!(info.sample_rate, 48_000);
    assert_eq!(played.len(), theirs.len());
    assert!(diff <= 1e-6, "max |diff| {diff}");
}

#[test]
fn quicktime_mov_plays_like_its_mp4_twin() {
    let mut runs = Vec::new();
    for name in ["h264-aac.mp4", "h264-aac.mov"] {
        let h = play_to_end(name);
        let info = h.player.media_info().cloned().expect("metadata");
        let shown: Vec<i64> = h.video.presented.iter().map(|p| frame_index(p.1)).collect();
        println!(
            "{name}: {} {}x{} audio {} {} Hz, {} frames shown, played rms {:.4}",
            info.container,
            info.width,
            info.height,
            info.audio_codec,
            info.sample_rate,
            shown.len(),
            rms(h.played())
        );
        // The core decodes the AAC (symphonia), as for the MP4.
        assert!(h.audio_configs.is_empty(), "{name}: {:?}", h.audio_configs);
        assert_eq!(
            shown,
            (0..300).collect::<Vec<_>>(),
            "{name}: every frame once"
        );
        runs.push((
            info.audio_codec,
            info.sample_rate,
            info.channels,
            (info.width, info.height),
            rms(h.played()),
        ));
    }
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(
        (runs[0].1, runs[0].2, runs[0].3),
        (runs[1].1, runs[1].2, runs[1].3)
    );
    assert!((runs[0].4 - runs[1].4).abs() < 1e-3, "{runs:?}");
}

#[test]
fn fragmented_duration_is_announced_once_walked() {
    // No duration in the header (mvhd 0, no mehd, no sidx): known once the fragments are
    // walked, before the end is played, and announced then.
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.add("fragmented.mp4", fixture("fragmented.mp4"));
    h.app(AppRequest::Load {
        url: "fragmented.mp4".into(),
    });
    h.app(AppRequest::Play);
    wait(&mut h, 30, "duration", |h| {
        h.saw(|e| matches!(e, PlayerEvent::DurationChanged(_)))
    });
    let at = h.player.current_time();
    let d = h.player.duration().expect("duration");
    println!("fragmented.mp4: duration {d} announced at {at:.2} s");
    assert!((d - 10.066_667).abs() <= 0.05, "{d}");
    assert!(at < d - 0.1, "announced before the end ({at})");
    // With an mehd it is known at once.
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.add("frag-mehd.mp4", fixture("frag-mehd.mp4"));
    h.app(AppRequest::Load {
        url: "frag-mehd.mp4".into(),
    });
    wait(&mut h, 10, "metadata", |h| {
        h.player.state() == PlaybackState::Paused
    });
    let d = h.player.duration().expect("duration at open");
    assert!((d - 10.066_667).abs() <= 0.05, "{d}");
}

#[test]
fn a_rotated_phone_video_reports_its_turned_size_and_hands_the_turn_to_the_host() {
    for (name, degrees, shown) in [
        ("h264-aac.mp4", 0, (320, 180)),
        ("rotate-90.mp4", 90, (180, 320)),
        ("rotate-180.mp4", 180, (320, 180)),
        ("rotate-270.mp4", 270, (180, 320)),
    ] {
        let mut h = SimHost::new(PlayerConfig::default(), 48_000);
        h.add(name, fixture(name));
        h.app(AppRequest::Load { url: name.into() });
        wait(&mut h, 10, "metadata", |h| h.player.media_info().is_some());
        wait(&mut h, 10, "a decoder", |h| !h.video.configs.is_empty());
        let info = h.player.media_info().cloned().expect("metadata");
        // As <video>'s videoWidth × videoHeight: the size a viewer sees.
        assert_eq!((info.width, info.height), shown, "{name}");
        let resized = h.events.iter().find_map(|e| match e {
            PlayerEvent::Resize { width, height } => Some((*width, *height)),
            _ => None,
        });
        assert_eq!(resized, Some(shown), "{name}");
        // The decoder gets the pictures' own aspect and the turn to draw them with.
        let c = &h.video.configs[0];
        assert_eq!(
            (c.display_width, c.display_height, c.rotation, c.flip),
            (320, 180, degrees, false),
            "{name}"
        );
    }
}

#[test]
fn an_hevc_file_whose_hvcc_symphonia_refuses_plays_its_audio_on_the_platform_decoder() {
    // x265 writes its settings into an SEI inside `hvcC` (> 1 KB): symphonia's MP4 reader
    // refuses the whole file ("atom size is greater than 1 kb"); the core's demuxer reads it.
    let name = "hevc-aac.mp4";
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.add(name, fixture(name));
    h.app(AppRequest::Load { url: name.into() });
    wait(&mut h, 10, "a video decoder", |h| {
        !h.video.configs.is_empty() || h.last_error().is_some()
    });
    assert_eq!(h.last_error(), None);
    let info = h.player.media_info().cloned().expect("metadata");
    assert!(
        info.video_codec
            .as_deref()
            .is_some_and(|c| c.starts_with("hvc1.")),
        "{info:?}"
    );
    wait(&mut h, 10, "an audio decoder", |h| {
        !h.audio_configs.is_empty()
    });
    assert_eq!(h.audio_configs[0].codec, "mp4a.40.2");
    assert_eq!((info.sample_rate, info.channels), (48_000, 2));
}
