//! Surround AAC and Opus outside WebM (issue 15), on the fixtures of `scripts/fixtures.sh`: the
//! Ogg Opus demuxer against ffprobe's packet lists, seeking in it, and playback through the
//! simulated host's platform audio decoder (the core decodes neither Opus nor AAC with more
//! than two channels), with the stereo mix of 5.1 and 7.1 checked end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::demux::{self, ticks_to_us};
use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, PlaybackState, PlayerConfig, SeekMode};
use kinema_testkit::{all_samples, ffprobe_packets, fixture, fixture_path, wait};

const OPUS: [(&str, u16, f64); 3] = [
    ("opus-stereo.opus", 2, 6.0),
    ("opus-5.1.opus", 6, 6.0),
    ("clicks-10s.opus", 2, 10.0),
];

#[test]
fn ogg_opus_packets_match_ffprobe() {
    for (name, channels, seconds) in OPUS {
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let mut d = demux::open(&mut src).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(d.container(), "ogg");
        let t = d.tracks()[0].clone();
        assert_eq!(
            (t.codec.as_str(), t.channels, t.sample_rate),
            ("opus", channels, 48_000)
        );
        assert_eq!(t.codec_delay_us, 6500, "{name}: libopus's pre-skip of 312");
        let head = t.description.clone().unwrap();
        assert!(head.starts_with(b"OpusHead") && head[9] as u16 == channels);
        let dur = d.duration().unwrap();
        assert!((dur - seconds).abs() < 1e-6, "{name}: duration {dur}");
        let ours = all_samples(d.as_mut(), &mut src, 0);
        // ffprobe: pts and duration in 1/48000 s, size in bytes.
        let theirs: Vec<(i64, i64, u32)> =
            ffprobe_packets(&fixture_path(name), "a:0", "pts,duration,size")
                .into_iter()
                .filter(|r| r.len() >= 3 && !r[0].is_empty())
                .map(|r| {
                    (
                        r[0].parse().unwrap(),
                        r[1].parse().unwrap(),
                        r[2].parse().unwrap(),
                    )
                })
                .collect();
        assert_eq!(ours.len(), theirs.len(), "{name}: packet count");
        for (i, (s, &(pts, duration, size))) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(
                s.pts_us,
                ticks_to_us(pts, 48_000),
                "{name}: packet {i} time"
            );
            assert_eq!(s.size, size, "{name}: packet {i} size");
            // The last packet: ffmpeg trims it to the end granule, the TOC says the whole frame.
            if i + 1 < ours.len() {
                assert_eq!(
                    s.duration_us,
                    ticks_to_us(duration, 48_000),
                    "{name}: packet {i}"
                );
            }
            let mut buf = vec![0u8; s.size as usize];
            assert_eq!(d.read_sample(&mut src, s, &mut buf).unwrap(), buf.len());
        }
        // Seeking lands on a page starting at or before the target (ffmpeg pages are ~1 s).
        for target in [0.0, 0.5, 2.345, seconds - 0.2, seconds + 5.0] {
            let us = (target * 1e6) as i64;
            let mut c = d.seek(&mut src, 0, us).unwrap();
            let s = d.next_sample(&mut src, 0, &mut c).unwrap().unwrap();
            assert!(
                s.pts_us <= us.max(0),
                "{name}: seek to {target} landed at {}",
                s.pts_us
            );
            let last = ours.last().unwrap().pts_us;
            assert!(
                us.min(last) - s.pts_us < 1_100_000,
                "{name}: seek to {target} landed at {}",
                s.pts_us
            );
        }
        println!(
            "{name}: {} packets match ffprobe; duration {dur} s",
            ours.len()
        );
    }
}

/// Plays `name` to its end on a 48 kHz device with the ramp decoder.
fn play_to_end(name: &str, seconds: u64) -> SimHost {
    kinema_testkit::play_fixture_to_end(name, seconds + 10, |h| h.audio_ramp = true)
}

#[test]
fn opus_in_ogg_and_mp4_plays_through_the_platform_decoder() {
    for (name, channels, seconds) in [
        ("opus-stereo.opus", 2, 6.0),
        ("opus-5.1.opus", 6, 6.0),
        ("opus-stereo.mp4", 2, 6.0),
    ] {
        let h = play_to_end(name, 6);
        let info = h.player.media_info().cloned().unwrap();
        let config = h.audio_configs.first().cloned().unwrap();
        assert_eq!(
            (config.codec.as_str(), config.channels),
            ("opus", channels),
            "{name}"
        );
        assert!(
            config.description.unwrap().starts_with(b"OpusHead"),
            "{name}"
        );
        assert_eq!(info.channels, channels, "{name}");
        assert!(
            (h.player.duration().unwrap() - seconds).abs() < 0.01,
            "{name}"
        );
        let played = h.played().len() as f64 / 2.0 / 48_000.0;
        assert!((played - seconds).abs() < 0.03, "{name}: played {played} s");
        println!(
            "{name}: {} {} ch, played {played:.3} s",
            info.container, info.channels
        );
    }
}

#[test]
fn seeking_in_ogg_opus_plays_from_the_target() {
    let name = "clicks-10s.opus";
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.audio_ramp = true;
    h.add(name, fixture(name));
    h.app(AppRequest::Load { url: name.into() });
    h.app(AppRequest::Play);
    wait(&mut h, 5, "playing", |h| h.player.current_time() > 0.5);
    let before = h.played().len();
    h.app(AppRequest::Seek {
        position: 7.25,
        mode: SeekMode::Exact,
    });
    wait(&mut h, 5, "past the seek", |h| {
        h.player.current_time() > 7.5
    });
    // The ramp decoder writes presentation time / 100 into every sample: the first sample
    // played after the seek is from 7.25 s.
    let after = &h.played()[before..];
    let first = after.iter().copied().find(|&v| v > 0.05).unwrap();
    assert!(
        (f64::from(first) * 100.0 - 7.25).abs() < 0.005,
        "first sample after the seek from {} s",
        first * 100.0
    );
    wait(&mut h, 5, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert!(h.last_error().is_none(), "{:?}", h.last_error());
}

#[test]
fn surround_aac_is_decoded_by_the_platform_and_mixed_to_stereo() {
    // The ramp decoder gives every channel the same value v: the stereo mix of 5.1 is
    // L = FL + h·FC + h·BL = (1 + 2h)·v, of 7.1 (1 + 3h)·v (module docs of audio/mix.rs),
    // as Chromium's <video> mixes them: no normalisation.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    for (name, channels, gain, seconds) in [
        ("aac-5.1.m4a", 6, 1.0 + 2.0 * h, 6),
        ("aac-7.1.m4a", 8, 1.0 + 3.0 * h, 6),
        ("h264-aac-5.1.mp4", 6, 1.0 + 2.0 * h, 10),
    ] {
        let host = play_to_end(name, seconds);
        let config = host.audio_configs.first().cloned().unwrap();
        assert_eq!(
            (config.codec.as_str(), config.channels),
            ("mp4a.40.2", channels),
            "{name}"
        );
        assert_eq!(
            host.player.media_info().unwrap().channels,
            channels,
            "{name}"
        );
        let played = host.played();
        let secs = played.len() as f64 / 2.0 / 48_000.0;
        assert!(
            (secs - seconds as f64).abs() < 0.03,
            "{name}: played {secs} s"
        );
        // Mid-file, each output sample is gain × (its time / 100): the ratio to the
        // neighbouring frame's time, read off the device position.
        let frame = 48_000 * 3;
        let (l, r) = (played[frame * 2], played[frame * 2 + 1]);
        let v = l / gain;
        assert!((l - r).abs() < 1e-6, "{name}: left {l} right {r}");
        assert!(
            (f64::from(v) * 100.0 - 3.0).abs() < 0.05,
            "{name}: left {l} = {gain} × {v}"
        );
        println!("{name}: {channels} channels, platform decoder; left {l:.5} = {gain:.4} × {v:.5} at 3 s");
    }
}

#[test]
fn ogg_that_is_not_opus_stays_with_symphonia_and_speex_is_a_typed_error() {
    let name = "bad/unsupported.spx";
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.add(name, fixture(name));
    h.app(AppRequest::Load { url: name.into() });
    wait(&mut h, 10, "error", |h| h.last_error().is_some());
    let e = h.last_error().cloned().unwrap();
    println!("{name}: {e:?}");
    assert_eq!(e.kind, kinema_core::ErrorKind::Unsupported, "{e:?}");
    assert!(h.audio_configs.is_empty(), "no platform decoder was asked");
    // Ogg Vorbis still decodes in the core.
    let ogg = "tone-1s.ogg";
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.add(ogg, fixture(ogg));
    h.app(AppRequest::Load { url: ogg.into() });
    h.app(AppRequest::Play);
    wait(&mut h, 5, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert!(h.audio_configs.is_empty() && h.last_error().is_none());
    assert_eq!(h.player.media_info().unwrap().audio_codec, "vorbis");
}

#[test]
fn dolby_audio_goes_to_the_platform_and_without_a_decoder_the_video_plays_silently() {
    for (name, codec, seconds) in [
        ("h264-ac3.mp4", "ac-3", 10),
        ("h264-eac3.mp4", "ec-3", 10),
        ("ts/h264-ac3.m2ts", "ac-3", 2),
    ] {
        // A platform with the decoder (a TV): the audio is decoded there, 5.1.
        let h = play_to_end(name, seconds);
        let config = h.audio_configs.first().cloned().unwrap();
        assert_eq!(
            (config.codec.as_str(), config.channels),
            (codec, 6),
            "{name}"
        );
        // Without one (a desktop browser): every frame shown, silence on the clock, and a
        // typed warning instead of an error.
        let mut h = SimHost::new(PlayerConfig::default(), 48_000);
        h.audio_unsupported = vec![codec.to_string()];
        h.add(name, fixture(name));
        h.app(AppRequest::Load { url: name.into() });
        h.app(AppRequest::Play);
        wait(&mut h, 20, "ended", |h| {
            h.player.state() == PlaybackState::Ended || h.last_error().is_some()
        });
        assert!(h.last_error().is_none(), "{name}: {:?}", h.last_error());
        let warning = h
            .events
            .iter()
            .find_map(|e| match e {
                kinema_core::PlayerEvent::Warning(w) => Some(w.clone()),
                _ => None,
            })
            .expect("a warning");
        assert_eq!(
            warning.kind,
            kinema_core::ErrorKind::Unsupported,
            "{warning:?}"
        );
        assert!(warning.message.contains(codec), "{warning:?}");
        let frames = h.video.presented.len();
        if seconds == 10 {
            // The index fixtures: every frame, in order.
            let shown: Vec<i64> = h
                .video
                .presented
                .iter()
                .map(|p| kinema_testkit::frame_index(p.1))
                .collect();
            assert_eq!(
                shown,
                (0..300).collect::<Vec<_>>(),
                "{name}: every frame, in order"
            );
        } else {
            assert_eq!(frames, seconds as usize * 30, "{name}: every frame");
        }
        assert!(h.played().iter().all(|&s| s == 0.0), "{name}: silence");
        let secs = h.played().len() as f64 / 2.0 / 48_000.0;
        assert!(
            (secs - seconds as f64).abs() < 0.05,
            "{name}: the clock ran {secs} s"
        );
        println!("{name}: warning {:?}: {}", warning.kind, warning.message);
    }
}
