//! Scenario tests of the player against the simulated host: exact and deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use kinema_core::sim::{Fault, SimHost};
use kinema_core::{
    AppRequest, ErrorKind, InputEvent, Key, PlaybackState, PlayerConfig, PlayerEvent,
};

const RATE: u32 = 48_000;

/// A 16-bit PCM WAV whose left sample of frame `i` is `i % 30000` and right is its negation,
/// so any played sample tells which source frame it came from.
fn ramp_wav(frames: u32, rate: u32) -> Vec<u8> {
    let samples: Vec<i16> = (0..frames)
        .flat_map(|i| {
            let s = (i % 30000) as i16;
            [s, -s]
        })
        .collect();
    kinema_core::sim::stereo_wav(rate, &samples)
}

/// Source frame index encoded in a played left sample (modulo 30000).
fn frame_of(sample: f32) -> i64 {
    (sample * 32768.0).round() as i64
}

fn host_with(url: &str, bytes: Vec<u8>, fault: Fault) -> SimHost {
    let mut host = SimHost::new(PlayerConfig::default(), RATE);
    host.add_with_fault(url, bytes, fault);
    host
}

// Local: only sends the load (video_sim.rs and subtitles_sim.rs also wait for a state).
fn load(host: &mut SimHost, url: &str) {
    host.app(AppRequest::Load { url: url.into() });
}

fn wait_state(host: &mut SimHost, state: PlaybackState, secs: u64) {
    let ok = host.run_until(Duration::from_secs(secs), |h| h.player.state() == state);
    assert!(
        ok,
        "expected {state:?}, is {:?}; events {:?}",
        host.player.state(),
        host.events
    );
}

fn states(host: &SimHost) -> Vec<PlaybackState> {
    host.events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::StateChanged(s) => Some(*s),
            _ => None,
        })
        .collect()
}

#[test]
fn loads_plays_bit_exact_and_ends() {
    let mut host = host_with("a.wav", ramp_wav(2 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    wait_state(&mut host, PlaybackState::Paused, 2);
    assert_eq!(host.player.duration(), Some(2.0));
    let info = host.player.media_info().cloned().expect("metadata");
    assert_eq!(
        (info.sample_rate, info.channels, info.container.as_str()),
        (RATE, 2, "wave")
    );

    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 1);
    let start = host.now;
    host.run_for(Duration::from_secs(1));
    let advanced = host.player.current_time();
    let elapsed = (host.now - start).as_secs_f64();
    assert!(
        (advanced - elapsed).abs() < 0.03,
        "clock {advanced} vs host {elapsed}"
    );

    wait_state(&mut host, PlaybackState::Ended, 3);
    assert!(host.saw(|e| *e == PlayerEvent::Ended));
    assert_eq!(host.player.current_time(), 2.0);
    assert!(host.saw(|e| matches!(e, PlayerEvent::Progress { total_bytes: Some(t), .. } if *t == 44 + 2 * 4 * RATE as u64)));

    assert!(host.player.paused());
    // Every frame played once, in order, unchanged (48 kHz source on a 48 kHz device).
    let out = host.played();
    assert_eq!(out.len(), 2 * RATE as usize * 2);
    for (i, frame) in out.chunks(2).enumerate() {
        assert_eq!(frame_of(frame[0]), (i % 30000) as i64, "frame {i}");
        assert_eq!(frame_of(frame[1]), -((i % 30000) as i64));
    }
    assert_eq!(
        states(&host),
        vec![
            PlaybackState::Loading,
            PlaybackState::Paused,
            PlaybackState::Buffering,
            PlaybackState::Playing,
            PlaybackState::Ended
        ]
    );
}

#[test]
fn play_before_metadata_autoplays_and_replay_after_end_restarts() {
    let mut host = host_with("a.wav", ramp_wav(RATE / 2, RATE), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    wait_state(&mut host, PlaybackState::Ended, 2);
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    assert!(host.player.current_time() < 0.2);
}

#[test]
fn pause_stops_the_clock_and_resume_continues() {
    let mut host = host_with("a.wav", ramp_wav(5 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    host.run_for(Duration::from_millis(700));
    host.app(AppRequest::Pause);
    let at = host.player.current_time();
    assert_eq!(host.player.state(), PlaybackState::Paused);
    host.run_for(Duration::from_secs(1));
    assert_eq!(host.player.current_time(), at);
    let played = host.played().len();
    host.run_for(Duration::from_secs(1));
    assert_eq!(
        host.played().len(),
        played,
        "device keeps playing while paused"
    );
    host.app(AppRequest::Play);
    host.run_for(Duration::from_millis(500));
    let now = host.player.current_time();
    assert!((now - at - 0.5).abs() < 0.05, "resumed from {at} to {now}");
}

#[test]
fn seek_is_sample_exact_paused_and_playing() {
    let mut host = host_with("a.wav", ramp_wav(20 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    wait_state(&mut host, PlaybackState::Paused, 2);
    host.app(AppRequest::Seek {
        position: 12.3,
        mode: kinema_core::SeekMode::Exact,
    });
    assert_eq!(host.player.current_time(), 12.3);
    assert!(host.run_until(Duration::from_secs(2), |h| h
        .saw(|e| *e == PlayerEvent::Seeked(12.3))));
    assert_eq!(host.player.current_time(), 12.3);
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    assert!(host.run_until(Duration::from_secs(1), |h| !h.played().is_empty()));
    let first = frame_of(host.played()[0]);
    assert_eq!(first, (12.3f64 * RATE as f64).round() as i64 % 30000);

    // A seek while playing: what plays next starts exactly at the target frame.
    host.run_for(Duration::from_millis(300));
    let before = host.played().len();
    host.app(AppRequest::Seek {
        position: 3.25,
        mode: kinema_core::SeekMode::Exact,
    });
    assert!(host.run_until(Duration::from_secs(2), |h| h.player.state()
        == PlaybackState::Playing
        && h.played().len() > before));
    assert_eq!(
        frame_of(host.played()[before]),
        (3.25 * RATE as f64) as i64 % 30000
    );
    let t = host.player.current_time();
    assert!((3.25..3.4).contains(&t), "position after seek {t}");
}

#[test]
fn rapid_seeks_settle_on_the_last_one() {
    let mut host = host_with("a.wav", ramp_wav(30 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    wait_state(&mut host, PlaybackState::Paused, 2);
    for i in 0..20 {
        host.app(AppRequest::Seek {
            position: i as f64 * 1.3,
            mode: kinema_core::SeekMode::Exact,
        });
        host.step();
    }
    host.app(AppRequest::Seek {
        position: 7.0,
        mode: kinema_core::SeekMode::Exact,
    });
    assert!(host.run_until(Duration::from_secs(2), |h| !h.player.seeking()));
    assert_eq!(host.player.current_time(), 7.0);
    assert_eq!(
        host.events
            .iter()
            .rev()
            .find(|e| matches!(e, PlayerEvent::Seeked(_))),
        Some(&PlayerEvent::Seeked(7.0))
    );
}

#[test]
fn missing_resource_is_a_network_error_and_the_player_recovers() {
    let mut host = host_with("good.wav", ramp_wav(RATE, RATE), Fault::None);
    load(&mut host, "missing.wav");
    wait_state(&mut host, PlaybackState::Error, 2);
    let err = host.last_error().cloned().expect("error event");
    assert_eq!(err.kind, ErrorKind::Network);
    assert!(err.message.contains("404"), "{}", err.message);
    assert_eq!(
        host.player.last_error().map(|e| e.kind),
        Some(ErrorKind::Network)
    );

    load(&mut host, "good.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    assert!(host.player.last_error().is_none());
}

#[test]
fn a_server_that_keeps_dropping_fails_with_network_after_retries() {
    let mut host = host_with("a.wav", ramp_wav(10 * RATE, RATE), Fault::DropAfter(20_000));
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Error, 10);
    assert_eq!(host.last_error().map(|e| e.kind), Some(ErrorKind::Network));
    assert_eq!(host.fetch_log.len(), 4, "one request and three retries");
}

#[test]
fn a_dropped_connection_is_retried_and_playback_is_intact() {
    let mut host = host_with(
        "a.wav",
        ramp_wav(4 * RATE, RATE),
        Fault::DropAfterFirst(100_000, 2),
    );
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Ended, 10);
    assert!(host.last_error().is_none());
    let out = host.played();
    assert_eq!(out.len(), 4 * RATE as usize * 2);
    for (i, frame) in out.chunks(2).enumerate() {
        assert_eq!(frame_of(frame[0]), (i % 30000) as i64, "frame {i}");
    }
}

#[test]
fn a_stalled_server_times_out_as_network_error() {
    let mut host = host_with("a.wav", ramp_wav(RATE, RATE), Fault::Stall);
    load(&mut host, "a.wav");
    wait_state(&mut host, PlaybackState::Error, 60);
    assert_eq!(host.last_error().map(|e| e.kind), Some(ErrorKind::Network));
}

#[test]
fn a_server_without_ranges_still_plays() {
    let mut host = host_with("a.wav", ramp_wav(3 * RATE, RATE), Fault::NoRanges);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    host.app(AppRequest::Seek {
        position: 2.0,
        mode: kinema_core::SeekMode::Exact,
    });
    wait_state(&mut host, PlaybackState::Ended, 5);
    assert!(host.last_error().is_none());
}

#[test]
fn garbage_and_truncated_inputs_end_in_typed_errors_or_a_clean_end() {
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..65536 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    let mut host = host_with("noise.mp3", garbage, Fault::None);
    load(&mut host, "noise.mp3");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Error, 5);
    let kind = host.last_error().map(|e| e.kind);
    assert!(
        matches!(kind, Some(ErrorKind::Decode | ErrorKind::Unsupported)),
        "{kind:?}"
    );

    // A WAV whose header promises 5 s but whose data stops after 1 s plays 1 s and ends.
    let mut cut = ramp_wav(5 * RATE, RATE);
    cut.truncate(44 + RATE as usize * 4);
    host.add("cut.wav", cut);
    load(&mut host, "cut.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Ended, 8);

    host.add("empty.wav", Vec::new());
    load(&mut host, "empty.wav");
    wait_state(&mut host, PlaybackState::Error, 2);
    assert!(host.last_error().is_some());
}

#[test]
fn volume_mute_and_keys() {
    let mut host = host_with("a.wav", ramp_wav(30 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    wait_state(&mut host, PlaybackState::Paused, 2);
    host.app(AppRequest::SetVolume(0.25));
    assert_eq!(host.device.as_ref().map(|d| d.gain), Some(0.25));
    host.app(AppRequest::SetMuted(true));
    assert_eq!(host.device.as_ref().map(|d| d.gain), Some(0.0));
    host.app(AppRequest::SetMuted(false));
    host.app(AppRequest::SetVolume(7.0));
    assert_eq!(host.player.volume(), 1.0);

    host.input(InputEvent::KeyDown {
        key: Key::PlayPause,
        repeat: false,
    });
    wait_state(&mut host, PlaybackState::Playing, 2);
    host.input(InputEvent::KeyDown {
        key: Key::Right,
        repeat: false,
    });
    assert!(host.run_until(Duration::from_secs(2), |h| !h.player.seeking()));
    assert!(host.player.current_time() >= 10.0);
    host.input(InputEvent::KeyDown {
        key: Key::PlayPause,
        repeat: false,
    });
    assert_eq!(host.player.state(), PlaybackState::Paused);
    host.player.key_map_mut().bind(Key::PlayPause, None);
    host.input(InputEvent::KeyDown {
        key: Key::PlayPause,
        repeat: false,
    });
    assert!(host.player.paused());
}

#[test]
fn without_audio_output_the_host_clock_drives_playback() {
    let mut host = SimHost::without_audio(PlayerConfig::default());
    host.add("a.wav", ramp_wav(3 * RATE, RATE));
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    let t0 = host.player.current_time();
    host.run_for(Duration::from_secs(1));
    let t1 = host.player.current_time();
    assert!((t1 - t0 - 1.0).abs() < 0.03, "{t0} → {t1}");
    wait_state(&mut host, PlaybackState::Ended, 4);
}

#[test]
fn loop_restarts_at_the_end() {
    let mut host = host_with("a.wav", ramp_wav(RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::SetLoop(true));
    host.app(AppRequest::Play);
    host.run_for(Duration::from_millis(2500));
    assert_eq!(host.player.state(), PlaybackState::Playing);
    assert!(!host.saw(|e| *e == PlayerEvent::Ended));
    assert!(host.played().len() > 2 * RATE as usize * 2);
}

#[test]
fn unload_returns_to_idle() {
    let mut host = host_with("a.wav", ramp_wav(RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    host.app(AppRequest::Unload);
    assert_eq!(host.player.state(), PlaybackState::Idle);
    host.run_for(Duration::from_millis(200));
    assert_eq!(host.player.state(), PlaybackState::Idle);
}

#[test]
fn playback_rate_changes_clock_and_output_length() {
    let mut host = host_with("a.wav", ramp_wav(10 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    host.app(AppRequest::SetRate(2.0));
    assert!(host.saw(|e| *e == PlayerEvent::RateChanged(2.0)));
    assert!(host.run_until(Duration::from_secs(1), |h| h.player.state()
        == PlaybackState::Playing));
    let (t0, n0) = (host.player.current_time(), host.played().len());
    host.run_for(Duration::from_secs(1));
    let (t1, n1) = (host.player.current_time(), host.played().len());
    assert!((t1 - t0 - 2.0).abs() < 0.06, "2x: {t0} → {t1}");
    // Twice the media in the same device time: one device second of frames.
    let frames = (n1 - n0) / 2;
    assert!(
        frames.abs_diff(RATE as usize) < 1200,
        "{frames} device frames in 1 s"
    );
    host.app(AppRequest::SetRate(9.0));
    assert_eq!(host.player.playback_rate(), 4.0);
}

#[test]
fn a_44k1_source_plays_in_real_time_on_a_48k_device() {
    let mut host = host_with("a.wav", ramp_wav(44_100 * 3, 44_100), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    let start = host.now;
    wait_state(&mut host, PlaybackState::Ended, 5);
    let took = (host.now - start).as_secs_f64();
    assert!((took - 3.0).abs() < 0.1, "3 s of audio took {took} s");
    let frames = host.played().len() / 2;
    assert!(
        frames.abs_diff(3 * RATE as usize) <= 2,
        "{frames} device frames"
    );
}

#[test]
fn getters_extrapolate_between_events() {
    let mut host = host_with("a.wav", ramp_wav(5 * RATE, RATE), Fault::None);
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Playing, 2);
    host.run_for(Duration::from_millis(500));
    let at_event = host.player.current_time();
    let later = host
        .player
        .current_time_at(host.now + Duration::from_millis(80));
    assert!(
        (later - at_event - 0.08).abs() < 0.011,
        "{at_event} → {later}"
    );
    // Never more than the extrapolation bound past the last report.
    let far = host
        .player
        .current_time_at(host.now + Duration::from_secs(5));
    assert!(far - at_event <= 0.21, "{far}");
    host.app(AppRequest::Pause);
    assert_eq!(
        host.player
            .current_time_at(host.now + Duration::from_secs(1)),
        host.player.current_time()
    );
}

#[test]
fn the_configured_retry_policy_governs_a_files_attempts_and_stall_timeout() {
    // Two attempts instead of four.
    let mut config = PlayerConfig::default();
    config.retry.media.max_attempts = 2;
    let mut host = SimHost::new(config, RATE);
    host.add_with_fault("a.wav", ramp_wav(10 * RATE, RATE), Fault::DropAfter(20_000));
    load(&mut host, "a.wav");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Error, 10);
    assert_eq!(host.fetch_log.len(), 2, "one request and one retry");

    // A stalled server given up on after 1 s instead of 4 × 10 s.
    let mut config = PlayerConfig::default();
    config.retry.media.max_attempts = 1;
    config.retry.media.response_timeout = Duration::from_secs(1);
    config.retry.media.stall_timeout = Duration::from_secs(1);
    let mut host = SimHost::new(config, RATE);
    host.add_with_fault("a.wav", ramp_wav(RATE, RATE), Fault::Stall);
    load(&mut host, "a.wav");
    wait_state(&mut host, PlaybackState::Error, 2);
    assert_eq!(host.last_error().map(|e| e.kind), Some(ErrorKind::Network));
    assert_eq!(host.fetch_log.len(), 1);
}

/// (frames, samples per frame, rate) of an MPEG-1 layer III file, counted here from its frame
/// headers (an independent count of what the core's scan finds).
fn mp3_frames(bytes: &[u8]) -> (u64, u64, u32) {
    let mut at = 0;
    if bytes.starts_with(b"ID3") {
        let size = bytes[6..10]
            .iter()
            .fold(0usize, |s, &b| s << 7 | usize::from(b));
        at = 10 + size;
    }
    let kbps = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    let rates = [44_100, 48_000, 32_000];
    let rate = rates[usize::from((bytes[at + 2] >> 2) & 3)];
    let mut frames = 0;
    while at + 4 <= bytes.len() {
        let h = &bytes[at..at + 4];
        assert!(
            h[0] == 0xff && h[1] & 0xfe == 0xfa,
            "MPEG-1 layer III at {at}"
        );
        let len = 144 * kbps[usize::from(h[2] >> 4)] * 1000 / rate + usize::from((h[2] >> 1) & 1);
        if at + len > bytes.len() {
            break;
        }
        at += len;
        frames += 1;
    }
    (frames, 1152, rate as u32)
}

fn durations(host: &SimHost) -> Vec<f64> {
    host.events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::DurationChanged(d) => Some(*d),
            _ => None,
        })
        .collect()
}

/// A VBR MP3 without a Xing/Info header: the estimate from its first frames is announced at
/// load; the core counts the frame headers as the bytes arrive and, the whole file being
/// within the forward budget, announces the exact duration soon after, before playing. It
/// then plays to that end.
#[test]
fn vbr_mp3_without_xing_gets_its_exact_duration() {
    let bytes = kinema_testkit::fixture("vbr-no-xing.mp3");
    let (frames, per_frame, rate) = mp3_frames(&bytes);
    let exact = (frames * per_frame) as f64 / f64::from(rate);
    let mut host = host_with("vbr.mp3", bytes, Fault::None);
    load(&mut host, "vbr.mp3");
    wait_state(&mut host, PlaybackState::Paused, 2);
    let estimate = host.player.media_info().unwrap().duration.unwrap();
    assert!((estimate - exact).abs() > 5.0, "estimate {estimate}");
    let ok = host.run_until(Duration::from_secs(2), |h| {
        h.player
            .duration()
            .is_some_and(|d| (d - exact).abs() < 1e-9)
    });
    assert!(ok, "exact duration {exact}: events {:?}", durations(&host));
    println!(
        "vbr-no-xing.mp3: estimate {estimate} s, exact {exact} s after {:?}",
        host.now
    );
    assert_eq!(durations(&host), vec![estimate, exact]);
    assert_eq!(host.player.state(), PlaybackState::Paused);

    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Ended, 40);
    assert_eq!(
        host.player.duration(),
        Some(exact),
        "{:?}",
        durations(&host)
    );
    assert!((host.player.current_time() - exact).abs() < 0.01);
    let played = host.played().len() / 2;
    let want = (exact * f64::from(RATE)).round() as usize;
    assert!(
        played.abs_diff(want) <= RATE as usize / 100,
        "{played} vs {want}"
    );
}

/// A larger file (the fixture's frames four times over, 776 KB, 120 s, with a forward budget
/// of 64 KiB beyond the decoder's 256 KiB read margin): the exact duration comes once the
/// fetch has reached the end, while it plays.
#[test]
fn vbr_mp3_duration_comes_when_the_fetch_reaches_the_end() {
    let one = kinema_testkit::fixture("vbr-no-xing.mp3");
    let size = one[6..10]
        .iter()
        .fold(0usize, |s, &b| s << 7 | usize::from(b));
    let (tag, frames) = one.split_at(10 + size);
    let bytes = [tag, frames, frames, frames, frames].concat();
    let len = bytes.len();
    let (count, per_frame, rate) = mp3_frames(&bytes);
    let exact = (count * per_frame) as f64 / f64::from(rate);
    let config = PlayerConfig {
        forward_buffer_bytes: 64 * 1024,
        chunk_bytes: 64 * 1024,
        ..PlayerConfig::default()
    };
    let mut host = SimHost::new(config, RATE);
    host.add("vbr.mp3", bytes);
    load(&mut host, "vbr.mp3");
    wait_state(&mut host, PlaybackState::Paused, 2);
    host.run_for(Duration::from_secs(2));
    assert_eq!(durations(&host).len(), 1, "only the estimate while paused");
    host.app(AppRequest::Play);
    let ok = host.run_until(Duration::from_secs(130), |h| {
        h.player.duration() == Some(exact)
    });
    assert!(ok, "{:?}", durations(&host));
    let at = host.player.current_time();
    println!("exact duration {exact} s announced at {at} s of playback");
    assert!(at > 30.0 && at < exact - 10.0, "{at}");
    let last = host.fetch_log.last().and_then(|f| f.1.clone()).unwrap();
    assert!(last.ends_with(&format!("-{}", len - 1)), "{last}");
    wait_state(&mut host, PlaybackState::Ended, 130);
    assert_eq!(host.player.duration(), Some(exact));
    assert_eq!(durations(&host).len(), 2, "{:?}", durations(&host));
}

/// An MP3 whose Info header gives the frame count: symphonia's duration is already exact
/// (frame count less the LAME tag's delay and padding, as ffmpeg decodes it), so nothing is
/// scanned and nothing changes.
#[test]
fn mp3_with_a_frame_count_keeps_its_duration() {
    let path = kinema_testkit::fixture_path("clicks-10s.mp3");
    let decoded = kinema_testkit::ffmpeg_pcm(&path).len() / 2;
    let mut host = host_with("clicks.mp3", std::fs::read(&path).unwrap(), Fault::None);
    load(&mut host, "clicks.mp3");
    wait_state(&mut host, PlaybackState::Paused, 2);
    let d = host.player.duration().unwrap();
    assert_eq!((d * 48_000.0).round() as usize, decoded, "{d}");
    host.app(AppRequest::Play);
    wait_state(&mut host, PlaybackState::Ended, 20);
    assert_eq!(durations(&host), vec![d]);
}
