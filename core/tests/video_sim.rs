//! Video scheduling against the simulated host and its fake platform decoder, on the real
//! MP4 fixtures (`scripts/fixtures.sh`): exact and deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, ErrorKind, PlaybackState, PlayerConfig, PlayerEvent, SeekMode};

use kinema_testkit::{fixture, frame_index, wait};

// Local: serves the named MP4 files at their own names (stream_sim.rs serves a ladder).
fn host(files: &[&str]) -> SimHost {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    for f in files {
        h.add(f, fixture(f));
    }
    h
}

// Local: waits for the paused state after metadata (subtitles_sim.rs waits for metadata only).
fn load(h: &mut SimHost, url: &str) {
    h.app(AppRequest::Load { url: url.into() });
    wait(h, 10, "loaded", |h| {
        h.player.state() == PlaybackState::Paused
    });
}

/// Plays a whole file: every frame presented once, in order, on time, and nothing leaks.
fn plays_every_frame(name: &str) {
    let mut h = host(&[name]);
    load(&mut h, name);
    h.app(AppRequest::Play);
    wait(&mut h, 20, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    let shown: Vec<i64> = h.video.presented.iter().map(|p| frame_index(p.1)).collect();
    let first = shown[0];
    let stats = h.player.video_stats().unwrap();
    assert_eq!(stats.dropped, 0, "{name}: {stats:?}");
    assert_eq!(
        shown,
        (first..first + 300).collect::<Vec<_>>(),
        "{name}: each frame once, in order"
    );
    // Host time between presents follows the frame rate (10 ms simulation steps).
    let start = h.video.presented[1].0;
    for (i, (t, _)) in h.video.presented.iter().enumerate().skip(1) {
        let want = start.as_secs_f64() + (i - 1) as f64 / 30.0;
        assert!(
            (t.as_secs_f64() - want).abs() <= 0.011,
            "{name}: frame {i} at {t:?}, want {want}"
        );
    }
    assert_eq!(
        h.video.on_screen.map(frame_index),
        Some(first + 299),
        "last frame stays"
    );
    assert!(
        h.video.live.len() <= 1,
        "{name}: only the shown frame is held"
    );
    h.app(AppRequest::Unload);
    assert!(
        h.video.live.is_empty(),
        "{name}: unload releases everything"
    );
    assert_eq!(h.video.on_screen, None);
}

#[test]
fn h264_plays_every_frame_on_time() {
    plays_every_frame("h264-aac.mp4");
}

#[test]
fn bframes_and_edit_list_play_in_presentation_order() {
    plays_every_frame("h264-bframes.mp4");
}

#[test]
fn fragmented_mp4_plays() {
    plays_every_frame("fragmented.mp4");
}

#[test]
fn av1_plays() {
    plays_every_frame("av1-aac.mp4");
}

#[test]
fn video_only_runs_on_the_clock_and_ends() {
    plays_every_frame("video-only.mp4");
}

#[test]
fn presented_frame_matches_the_clock() {
    let mut h = host(&["h264-bframes.mp4"]);
    load(&mut h, "h264-bframes.mp4");
    h.app(AppRequest::Play);
    wait(&mut h, 5, "playing", |h| {
        h.player.state() == PlaybackState::Playing
    });
    for _ in 0..200 {
        h.step();
        let t = h.player.current_time_at(h.now);
        let shown = h.video.on_screen.unwrap();
        let clock_frame = (t * 30.0).floor() as i64;
        assert!(
            (frame_index(shown) - clock_frame).abs() <= 1,
            "shown {} at clock {t}",
            frame_index(shown)
        );
        let off = h.player.video_stats().unwrap().av_offset_ms;
        assert!((-12.0..=1.0).contains(&off), "A/V offset {off} ms");
    }
}

#[test]
fn exact_seek_while_paused_shows_the_requested_frame() {
    for name in ["h264-bframes.mp4", "fragmented.mp4", "h264-aac.mp4"] {
        let mut h = host(&[name]);
        load(&mut h, name);
        // Paused after load, the first picture is shown (like `<video>` after `loadeddata`).
        wait(&mut h, 2, "first frame", |h| h.video.on_screen.is_some());
        let first = h.video.presented[0].1;
        for (target, frame) in [(4.567, 137), (9.99, 299), (0.5, 15), (2.0, 60), (7.01, 210)] {
            h.app(AppRequest::Seek {
                position: target,
                mode: SeekMode::Exact,
            });
            wait(&mut h, 5, "seeked", |h| !h.player.seeking());
            // Frame n covers [n/30, (n+1)/30) after the stream's first timestamp.
            let want = frame + frame_index(first);
            let want = want.min(299 + frame_index(first));
            let shown = frame_index(h.video.on_screen.unwrap_or_else(|| {
                panic!(
                    "{name} {target}: nothing on screen; {:?} {:?}",
                    h.player.video_stats(),
                    h.last_error()
                )
            }));
            assert!(
                shown == want || (first > 0 && shown == want - 2),
                "{name}: seek {target} shows {shown}, want {want}"
            );
            assert_eq!(h.player.current_time(), target);
            assert!(h.video.live.len() <= 11, "bounded: {}", h.video.live.len());
        }
        // To the very end (no picture's interval holds the duration): the last picture, not
        // the one that was on screen (found by the set-top parity run: it kept frame 60).
        let end = h.player.duration().unwrap_or(10.0);
        h.app(AppRequest::Seek {
            position: 2.0,
            mode: SeekMode::Exact,
        });
        wait(&mut h, 5, "seeked", |h| !h.player.seeking());
        h.app(AppRequest::Seek {
            position: end,
            mode: SeekMode::Exact,
        });
        wait(&mut h, 5, "seeked to the end", |h| !h.player.seeking());
        h.run_for(std::time::Duration::from_millis(200));
        let shown = frame_index(h.video.on_screen.unwrap());
        let last = 299 + frame_index(first);
        assert!(
            (last - 2..=last).contains(&shown),
            "{name}: seek to the end ({end}) shows {shown}, want the last picture {last}"
        );
        assert!(h.video.live.len() <= 11, "bounded: {}", h.video.live.len());
    }
}

#[test]
fn fast_seek_lands_on_the_keyframe() {
    let mut h = host(&["h264-aac.mp4"]);
    load(&mut h, "h264-aac.mp4");
    h.app(AppRequest::Seek {
        position: 4.567,
        mode: SeekMode::Fast,
    });
    wait(&mut h, 5, "seeked", |h| !h.player.seeking());
    // The keyframe at or before 4.567 s, as the demuxer's sample table says.
    let data = fixture("h264-aac.mp4");
    let mut src: &[u8] = &data;
    let mut d = kinema_core::demux::open(&mut src).unwrap();
    let mut c = kinema_core::demux::Cursor::default();
    let mut key = 0;
    while let Some(s) = d.next_sample(&mut src, 0, &mut c).unwrap() {
        if s.key && s.pts_us <= 4_567_000 {
            key = key.max(s.pts_us);
        }
    }
    assert!(key >= 4_000_000, "a keyframe at least every second");
    assert_eq!(h.player.current_time(), key as f64 / 1e6);
    assert_eq!(h.video.on_screen, Some(key));
}

#[test]
fn rapid_seeks_settle_on_the_last_and_leak_nothing() {
    let mut h = host(&["h264-bframes.mp4"]);
    load(&mut h, "h264-bframes.mp4");
    h.app(AppRequest::Play);
    for i in 0..25 {
        h.app(AppRequest::Seek {
            position: (i * 7 % 10) as f64 + 0.25,
            mode: SeekMode::Exact,
        });
        h.step();
    }
    h.app(AppRequest::Seek {
        position: 6.0,
        mode: SeekMode::Exact,
    });
    wait(&mut h, 5, "seeked", |h| !h.player.seeking());
    assert_eq!(frame_index(h.video.on_screen.unwrap()), 180);
    assert!(h.video.live.len() <= 11, "{}", h.video.live.len());
    wait(&mut h, 5, "playing", |h| {
        h.player.state() == PlaybackState::Playing
    });
    h.run_for(Duration::from_secs(1));
    let t = h.player.current_time();
    assert!((6.9..7.1).contains(&t), "{t}");
}

#[test]
fn double_rate_keeps_video_on_the_clock() {
    let mut h = host(&["h264-aac.mp4"]);
    load(&mut h, "h264-aac.mp4");
    h.app(AppRequest::SetRate(2.0));
    h.app(AppRequest::Play);
    wait(&mut h, 5, "playing", |h| {
        h.player.state() == PlaybackState::Playing
    });
    h.run_for(Duration::from_secs(2));
    let t = h.player.current_time_at(h.now);
    let shown = frame_index(h.video.on_screen.unwrap());
    assert!(((t * 30.0) as i64 - shown).abs() <= 1, "{shown} at {t}");
    assert!(t > 3.9, "{t}");
    wait(&mut h, 10, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
}

#[test]
fn loop_restarts_video() {
    let mut h = host(&["video-only.mp4"]);
    load(&mut h, "video-only.mp4");
    h.app(AppRequest::SetLoop(true));
    h.app(AppRequest::Seek {
        position: 9.5,
        mode: SeekMode::Exact,
    });
    h.app(AppRequest::Play);
    h.run_for(Duration::from_secs(2));
    let t = h.player.current_time();
    assert!((0.9..1.6).contains(&t), "looped: {t}");
    let shown = frame_index(h.video.on_screen.unwrap());
    assert!(((t * 30.0) as i64 - shown).abs() <= 1);
}

#[test]
fn decoder_error_mid_stream_skips_to_the_next_keyframe() {
    let mut h = host(&["h264-aac.mp4"]);
    h.video.fail_at = Some(3_100_000);
    load(&mut h, "h264-aac.mp4");
    h.app(AppRequest::Play);
    wait(&mut h, 20, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert!(h.last_error().is_none(), "{:?}", h.last_error());
    let stats = h.player.video_stats().unwrap();
    assert_eq!(stats.decoder_errors, 1);
    let shown: Vec<i64> = h.video.presented.iter().map(|p| frame_index(p.1)).collect();
    assert!(shown.contains(&299) && shown.contains(&120));
    assert!(h.video.live.len() <= 1);
}

#[test]
fn unsupported_codec_is_a_typed_error_and_the_player_recovers() {
    let mut h = host(&["h264-aac.mp4", "bad/hevc.mp4", "bad/no-moov.mp4"]);
    h.video.unsupported = vec!["hvc1".into()];
    h.app(AppRequest::Load {
        url: "bad/hevc.mp4".into(),
    });
    wait(&mut h, 5, "error", |h| {
        h.player.state() == PlaybackState::Error
    });
    assert_eq!(h.last_error().unwrap().kind, ErrorKind::Unsupported);
    h.app(AppRequest::Load {
        url: "bad/no-moov.mp4".into(),
    });
    wait(&mut h, 5, "error", |h| {
        h.player.state() == PlaybackState::Error
            && h.last_error().is_some_and(|e| e.kind == ErrorKind::Decode)
    });
    assert!(h.video.live.is_empty());
    load(&mut h, "h264-aac.mp4");
    h.app(AppRequest::Play);
    h.run_for(Duration::from_secs(1));
    assert_eq!(h.player.state(), PlaybackState::Playing);
    assert!(h.saw(|e| matches!(
        e,
        PlayerEvent::Resize {
            width: 320,
            height: 180
        }
    )));
}

/// A host decoder that holds 12 chunks before its first picture (like a `<video>` fed through
/// MSE) stalls under the default decode-ahead of 8; when the host reports a depth of 16
/// (`HostEvent::VideoDecoderDepth`, as the web host does on its MSE path) every frame plays on
/// time and the held pictures stay bounded.
#[test]
fn deep_host_decoder_plays_with_a_raised_decoder_depth() {
    let name = "h264-aac.mp4";
    let mut h = host(&[name]);
    h.video.reorder = 12;
    load(&mut h, name);
    h.app(AppRequest::Play);
    h.run_for(Duration::from_secs(2));
    let stalled = h.video.presented.len();
    assert!(stalled <= 1, "default depth: {stalled} frames presented");

    let mut h = host(&[name]);
    h.video.reorder = 12;
    h.video.depth = Some(16);
    load(&mut h, name);
    h.app(AppRequest::Play);
    wait(&mut h, 20, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    let stats = h.player.video_stats().unwrap();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(h.video.presented.len(), 300, "{stats:?}");
}

// Local: ffprobe's format duration (mp4_demux.rs has its own for its fixtures).
fn ffprobe_duration(name: &str) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration"])
        .args(["-of", "csv=p=0"])
        .arg(kinema_testkit::fixture_path(name))
        .output()
        .expect("ffprobe must be installed (scripts/bootstrap.sh)");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The presentation times (µs) of every video frame of a file, in presentation order, from the
/// core's own demuxer.
fn video_pts(name: &str) -> Vec<i64> {
    let data = fixture(name);
    let mut src: &[u8] = &data;
    let mut d = kinema_core::demux::open(&mut src).unwrap();
    let v = d
        .tracks()
        .iter()
        .position(|t| t.kind == Some(kinema_core::demux::TrackKind::Video))
        .unwrap();
    let mut pts: Vec<i64> = kinema_testkit::all_samples(d.as_mut(), &mut src, v)
        .iter()
        .map(|s| s.pts_us)
        .collect();
    pts.sort_unstable();
    pts
}

/// MPEG-TS files played as files (not HLS): every frame once, in order, on time; the
/// duration announced at load and at the end within a frame of ffprobe's.
#[test]
fn ts_files_play_every_frame_and_end_at_their_duration() {
    for name in ["h264-aac.ts", "h264-mp3.ts", "h264.m2ts"] {
        plays_every_frame(name);
        let theirs = ffprobe_duration(name);
        let mut h = host(&[name]);
        load(&mut h, name);
        let announced = h.player.duration().unwrap();
        assert!(
            (announced - theirs).abs() <= 1.0 / 30.0,
            "{name}: duration {announced} at load, ffprobe {theirs}"
        );
        h.app(AppRequest::Play);
        wait(&mut h, 20, "ended", |h| {
            h.player.state() == PlaybackState::Ended
        });
        let end = h.player.duration().unwrap();
        println!("{name}: duration {announced} at load, {end} at the end, ffprobe {theirs}");
        assert!(
            (end - theirs).abs() <= 1.0 / 30.0,
            "{name}: {end} vs {theirs}"
        );
        assert!((h.player.current_time() - end).abs() < 1e-6);
        assert!(h.last_error().is_none(), "{:?}", h.last_error());
        let audio = h.audio_configs.last().map(|c| c.codec.clone());
        let want = match name {
            "h264-aac.ts" => Some("mp4a.40.2"),
            "h264-mp3.ts" => Some("mp3"),
            _ => None,
        };
        assert_eq!(
            audio.as_deref(),
            want,
            "{name}: the platform decodes the audio"
        );
    }
}

/// Exact seeks in a TS file land on the frame whose interval holds the target, paused, and
/// across the 33-bit wrap of `ts/wrap.ts` (2.3 s in).
#[test]
fn ts_file_exact_seeks_show_the_requested_frame() {
    let cases: [(&str, &[f64]); 3] = [
        ("h264-aac.ts", &[4.567, 9.99, 0.5, 7.01]),
        ("h264.m2ts", &[2.0, 8.34, 0.04]),
        ("ts/wrap.ts", &[3.1, 1.0, 2.32]),
    ];
    for (name, targets) in cases {
        let pts = video_pts(name);
        let mut h = host(&[name]);
        load(&mut h, name);
        wait(&mut h, 2, "first frame", |h| h.video.on_screen.is_some());
        for &target in targets {
            h.app(AppRequest::Seek {
                position: target,
                mode: SeekMode::Exact,
            });
            wait(&mut h, 5, "seeked", |h| !h.player.seeking());
            let t = (target * 1e6).round() as i64;
            let want = pts.iter().copied().rfind(|&p| p <= t).unwrap_or(pts[0]);
            assert_eq!(
                h.video.on_screen,
                Some(want),
                "{name}: seek {target} shows the frame at {want} µs"
            );
            assert_eq!(h.player.current_time(), target);
            assert!(h.video.live.len() <= 11, "bounded: {}", h.video.live.len());
        }
        // Playing on from the last target: frames follow in order.
        h.app(AppRequest::Play);
        h.run_for(Duration::from_secs(1));
        let shown: Vec<i64> = h.video.presented.iter().map(|p| p.1).collect();
        let tail = &shown[shown.len() - 10..];
        assert!(tail.windows(2).all(|w| w[1] > w[0]), "{name}: {tail:?}");
        assert!(h.last_error().is_none(), "{name}: {:?}", h.last_error());
    }
}

/// A decoder slower than the frame rate (a TV-class CPU: 40, 60, 100 and 250 ms a picture for
/// a 30 fps file): audio stays the master. Every picture shown is in sync (at most
/// [`LATE_US`](kinema_core::video::LATE_US) late, never early): later ones are dropped and the
/// one on screen stays; the lag stays bounded (non-reference pictures skipped, catch-ups to a
/// keyframe far enough ahead) instead of growing; the pictures never shown are counted as
/// dropped (shown + dropped = every picture, ±2), and pictures keep being shown to the end.
#[test]
fn a_slow_decoder_drops_pictures_and_stays_in_sync() {
    for (name, cost) in [
        ("h264-aac.mp4", 40u64),
        ("h264-aac.mp4", 60),
        ("h264-aac.mp4", 100),
        ("h264-bframes.mp4", 40),
        ("h264-bframes.mp4", 60),
        ("h264-aac.mp4", 250),
    ] {
        let mut h = host(&[name]);
        h.video.decode_cost = Duration::from_millis(cost);
        load(&mut h, name);
        h.app(AppRequest::Play);
        let mut offsets = Vec::new();
        let mut seen = h.video.presented.len();
        while h.player.state() != PlaybackState::Ended {
            h.step();
            assert!(
                h.now < Duration::from_secs(40),
                "{cost} ms: playback never ended"
            );
            let clock = (h.player.current_time() * 1e6).round() as i64;
            for &(_, pts) in &h.video.presented[seen..] {
                offsets.push((pts, pts - clock));
            }
            seen = h.video.presented.len();
        }
        assert!(h.last_error().is_none(), "{:?}", h.last_error());
        let stats = h.player.video_stats().unwrap();
        // (Pictures end within the last 2 s: after the last catch-up, a keyframe ahead.)
        // The first picture (before play) and the last one (shown at the end whatever the
        // clock) are outside the rule.
        let ruled = &offsets[1..offsets.len() - 1];
        let worst = ruled.iter().map(|&(_, o)| o).min().unwrap();
        let early = ruled.iter().map(|&(_, o)| o).max().unwrap();
        let last_pts = ruled.last().unwrap().0;
        println!(
            "{name}, decode {cost} ms/picture: {} shown, {} dropped, {} catch-ups; offsets {}..{} ms; last shown {:.2} s",
            stats.presented,
            stats.dropped,
            stats.catch_ups,
            worst as f64 / 1000.0,
            early as f64 / 1000.0,
            last_pts as f64 / 1e6
        );
        let in_sync = ruled.iter().filter(|&&(_, o)| o >= -50_000).count();
        println!("  {in_sync} of {} shown within -50 ms", ruled.len());
        // In sync, every one of them: never more than LATE_US late, never early.
        assert!(
            worst >= -kinema_core::video::SHOW_LATE_US && early <= 0,
            "{cost} ms: offsets {worst}..{early} µs"
        );
        assert!(stats.dropped > 0, "{cost} ms: a slow decoder must drop");
        let total = stats.presented + stats.dropped;
        assert!(
            total.abs_diff(300) <= 2,
            "{cost} ms: {} shown + {} dropped",
            stats.presented,
            stats.dropped
        );
        assert!(
            last_pts > 8_000_000,
            "{cost} ms: pictures stop at {last_pts} µs (drift)"
        );
    }
}

/// A decoder far too slow for the stream (1.5 s a picture, 45× too slow): pictures are still
/// shown now and then — the first picture after each catch-up is shown even when the skip
/// ahead was too short — never one picture frozen for the whole playback; the playback ends,
/// and every picture is counted shown or dropped.
#[test]
fn a_hopelessly_slow_decoder_still_shows_pictures() {
    let name = "h264-aac.mp4";
    let mut h = host(&[name]);
    h.video.decode_cost = Duration::from_millis(1500);
    load(&mut h, name);
    h.app(AppRequest::Play);
    while h.player.state() != PlaybackState::Ended {
        h.step();
        assert!(h.now < Duration::from_secs(40), "playback never ended");
    }
    assert!(h.last_error().is_none(), "{:?}", h.last_error());
    let stats = h.player.video_stats().unwrap();
    let shown: Vec<i64> = h.video.presented.iter().map(|p| p.1).collect();
    println!("1.5 s/picture: shown {shown:?}; {stats:?}");
    // The first picture (before play) and the last (at the end) aside, pictures came.
    assert!(shown.len() >= 4, "shown {shown:?}");
    assert!(stats.catch_ups >= 2, "{stats:?}");
    assert!(
        (stats.presented + stats.dropped).abs_diff(300) <= 2,
        "{stats:?}"
    );
}

/// A host that takes 40 ms to get a picture drawn (`VideoPresentLead`, as the browser host
/// sends while it copies WebCodecs planes) gets each picture that much before its time, so it
/// is drawn at its time: every picture presented while playing is 0–40 ms early at the
/// present (without the lead: 0–40 ms late), none is dropped, and the wake-ups come early
/// enough for that (no picture presented late for want of a wake-up).
#[test]
fn pictures_are_presented_ahead_by_the_hosts_draw_time() {
    let name = "h264-aac.mp4";
    let mut h = host(&[name]);
    load(&mut h, name);
    h.send(kinema_core::HostEvent::VideoPresentLead { micros: 40_000 });
    h.app(AppRequest::Play);
    let mut offsets = Vec::new();
    let mut seen = h.video.presented.len();
    while h.player.state() != PlaybackState::Ended {
        h.step();
        assert!(h.now < Duration::from_secs(30), "playback never ended");
        let clock = (h.player.current_time() * 1e6).round() as i64;
        if h.player.state() == PlaybackState::Playing {
            for &(_, pts) in &h.video.presented[seen..] {
                offsets.push(pts - clock);
            }
        }
        seen = h.video.presented.len();
    }
    let stats = h.player.video_stats().unwrap();
    let (lo, hi) = (offsets.iter().min().copied(), offsets.iter().max().copied());
    let mean = offsets.iter().sum::<i64>() as f64 / offsets.len() as f64;
    println!(
        "lead 40 ms: {} presented while playing, offsets {lo:?}..{hi:?} µs, mean {mean:.0}; {stats:?}",
        offsets.len()
    );
    assert!(offsets.len() >= 290, "{}", offsets.len());
    // (The clock is read after the step: up to one 10 ms step after the present.)
    assert!(
        offsets.iter().all(|&o| (-10_000..=40_000).contains(&o)),
        "offsets {lo:?}..{hi:?}"
    );
    assert!(mean > 10_000.0, "mean {mean}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
}
