//! What every device shim relies on, against the simulated host on the real fixtures: the
//! on-screen controls driven by logical keys alone (D-pad + OK + Back + media keys),
//! unhandled keys reaching the app, suspend/resume (everything released, then restored) and
//! the memory budget of a device profile capping the buffers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use kinema_core::controls::{ControlId, ControlTarget, ControlsView, MenuKind};
use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, Key, PlaybackState, PlayerConfig, PlayerEvent};

use kinema_testkit::{fixture, fixture_dir, serve_under, start, wait, BASE};

fn stream_host() -> SimHost {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    serve_under(&mut h, &fixture_dir("streams"), "hls-fmp4", |_| false);
    h
}

fn view(h: &SimHost) -> ControlsView {
    h.controls
        .last()
        .expect("a controls view was sent")
        .1
        .clone()
}

fn focused(h: &SimHost) -> Option<ControlId> {
    view(h).buttons.iter().find(|b| b.focused).map(|b| b.id)
}

#[test]
fn full_control_flow_with_d_pad_keys_alone() {
    let mut h = stream_host();
    h.app(AppRequest::SetControls(true));
    start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
    h.run_for(Duration::from_secs(2));
    assert!(!view(&h).visible, "controls start hidden");
    assert_eq!(h.player.audio_track(), Some(0));

    // Open the audio menu: OK shows the bar, Right twice to "Audio", OK opens it.
    h.press(Key::Ok);
    assert!(view(&h).visible);
    assert_eq!(focused(&h), Some(ControlId::PlayPause));
    assert_eq!(
        h.player.state(),
        PlaybackState::Playing,
        "OK only showed the bar"
    );
    h.press(Key::Right);
    h.press(Key::Right);
    assert_eq!(focused(&h), Some(ControlId::Audio));
    h.press(Key::Ok);
    let menu = view(&h).menu.expect("audio menu");
    assert_eq!(menu.kind, MenuKind::Audio);
    let expected: Vec<String> = h
        .player
        .audio_tracks()
        .iter()
        .map(|t| match t.name.as_str() {
            "" => t.language.clone().unwrap(),
            n => n.to_string(),
        })
        .collect();
    assert_eq!(expected.len(), 2);
    let labels: Vec<String> = menu.items.iter().map(|i| i.label.clone()).collect();
    assert_eq!(labels, expected);
    assert!(menu.items[0].selected && menu.items[0].focused);

    // Switch audio: Down, OK. The menu closes, the bar stays, video goes on.
    let shown = h.video.presented.len();
    h.press(Key::Down);
    assert!(view(&h).menu.unwrap().items[1].focused);
    h.press(Key::Ok);
    assert!(view(&h).menu.is_none() && view(&h).visible);
    assert!(h.saw(|e| matches!(e, PlayerEvent::AudioTrackChanged(1))));
    wait(&mut h, 5, "playing after the switch", |h| {
        h.player.state() == PlaybackState::Playing
    });
    h.run_for(Duration::from_secs(1));
    assert_eq!(h.player.audio_track(), Some(1));
    assert!(h.video.presented.len() > shown + 25, "video went on");

    // Seek with FastForward / Rewind.
    let t = h.player.current_time();
    h.press(Key::FastForward);
    wait(&mut h, 5, "seeked forward", |h| !h.player.seeking());
    let after_ff = h.player.current_time();
    assert!(
        (after_ff - (t + 10.0)).abs() < 0.5,
        "FF: {t:.2} → {after_ff:.2}"
    );
    h.press(Key::Rewind);
    wait(&mut h, 5, "seeked back", |h| !h.player.seeking());
    let after_rw = h.player.current_time();
    assert!(
        (after_rw - (after_ff - 10.0)).abs() < 0.5,
        "RW: {after_ff:.2} → {after_rw:.2}"
    );

    // Pause with PlayPause.
    h.press(Key::PlayPause);
    assert!(h.player.paused());
    h.run_for(Duration::from_millis(300));
    assert_eq!(h.player.state(), PlaybackState::Paused);
    assert_eq!(view(&h).buttons[1].label, "Play");

    // The subtitles menu by its key; Back closes the menu, Back hides the bar, and a third
    // Back is for the app (a TV app exits).
    h.press(Key::Subtitle);
    let menu = view(&h).menu.expect("subtitles menu");
    assert_eq!(menu.kind, MenuKind::Subtitles);
    assert_eq!(menu.items[0].label, "Off");
    h.press(Key::Back);
    assert!(view(&h).menu.is_none() && view(&h).visible);
    h.press(Key::Back);
    assert!(!view(&h).visible);
    assert!(!h.saw(|e| matches!(e, PlayerEvent::UnhandledKey(_))));
    h.press(Key::Back);
    assert!(h.saw(|e| matches!(e, PlayerEvent::UnhandledKey(Key::Back))));
    assert_eq!(h.last_error(), None);
}

#[test]
fn subtitles_and_quality_from_the_menus_and_by_pointer() {
    let mut h = stream_host();
    h.app(AppRequest::SetControls(true));
    start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
    let texts = h.player.text_tracks().len();
    assert!(texts >= 2, "{texts} text tracks");
    // Subtitles: pick the second track from the menu with keys.
    h.press(Key::Subtitle);
    h.press(Key::Down);
    h.press(Key::Down);
    h.press(Key::Ok);
    assert_eq!(h.player.text_track(), Some(1));
    // Quality by pointer: open the menu, click the lowest level.
    h.app(AppRequest::ControlsActivate(ControlTarget::Button(
        ControlId::Quality,
    )));
    let items = view(&h).menu.expect("quality menu").items;
    assert_eq!(items[0].label, "Auto");
    assert!(items[0].selected);
    assert_eq!(items.len(), h.player.qualities().len() + 1);
    h.app(AppRequest::ControlsActivate(ControlTarget::Item(1)));
    assert_eq!(h.player.manual_quality(), Some(0));
    assert!(view(&h).menu.is_none());
    // Disabling the controls hides them and gives the D-pad back to the key map.
    h.app(AppRequest::SetControls(false));
    h.run_for(Duration::from_millis(100));
    assert!(!view(&h).visible);
    let t = h.player.current_time();
    h.press(Key::Right);
    wait(&mut h, 5, "key-map seek", |h| !h.player.seeking());
    assert!(h.player.current_time() > t + 9.0);
}

#[test]
fn bar_hides_after_five_idle_seconds_while_playing_not_while_paused() {
    let mut h = stream_host();
    h.app(AppRequest::SetControls(true));
    start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
    h.press(Key::Up);
    let shown_at = h.now;
    assert!(view(&h).visible);
    wait(&mut h, 8, "hidden", |h| !view(h).visible);
    let hidden_after = h.controls.last().unwrap().0 - shown_at;
    assert!(
        (Duration::from_millis(4900)..Duration::from_millis(5200)).contains(&hidden_after),
        "{hidden_after:?}"
    );
    h.press(Key::Ok);
    h.press(Key::Ok); // PlayPause button focused: pause
    assert!(h.player.paused());
    h.run_for(Duration::from_secs(8));
    assert!(view(&h).visible, "stays while paused");
}

#[test]
fn apps_bind_colour_keys_and_unbind_others() {
    let mut h = stream_host();
    start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
    h.press(Key::Red);
    assert!(h.saw(|e| matches!(e, PlayerEvent::UnhandledKey(Key::Red))));
    h.app(AppRequest::BindKey {
        key: Key::Red,
        action: kinema_core::Action::parse("seek:12"),
    });
    let t = h.player.current_time();
    h.press(Key::Red);
    wait(&mut h, 5, "seeked", |h| !h.player.seeking());
    assert!((h.player.current_time() - (t + 12.0)).abs() < 0.3);
    h.app(AppRequest::BindKey {
        key: Key::Right,
        action: None,
    });
    h.events.clear();
    h.press(Key::Right);
    assert!(h.saw(|e| matches!(e, PlayerEvent::UnhandledKey(Key::Right))));
}

#[test]
fn digit_keys_jump_to_tenths_of_the_duration() {
    let mut h = stream_host();
    start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
    let d = h.player.duration().unwrap();
    h.press(Key::Digit(5));
    wait(&mut h, 5, "seeked", |h| !h.player.seeking());
    assert!((h.player.current_time() - d / 2.0).abs() < 0.5);
}

#[test]
fn suspend_releases_everything_and_resume_restores_position_and_tracks() {
    let mut h = stream_host();
    start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
    h.app(AppRequest::SelectAudioTrack(1));
    h.app(AppRequest::SelectTextTrack(Some(1)));
    h.run_for(Duration::from_secs(4));
    let at = h.player.current_time();
    h.app(AppRequest::Suspend);
    assert!(h.player.suspended());
    assert!(
        h.saw(|e| matches!(e, PlayerEvent::Suspended { position } if (position - at).abs() < 0.05))
    );
    assert_eq!(h.player.state(), PlaybackState::Paused);
    h.run_for(Duration::from_millis(50));
    assert!(h.video.live.is_empty(), "every picture released");
    assert!(!h.video.open, "decoder closed");
    assert_eq!(h.in_flight(), 0, "no fetch under way");
    let fetched = h.fetch_log.len();
    let presented = h.video.presented.len();
    h.run_for(Duration::from_secs(5));
    assert_eq!(
        h.fetch_log.len(),
        fetched,
        "nothing fetched while suspended"
    );
    assert_eq!(h.video.presented.len(), presented);
    assert!((h.player.current_time() - at).abs() < 0.05);

    h.app(AppRequest::Resume);
    assert!(!h.player.suspended());
    wait(&mut h, 10, "playing again", |h| {
        h.player.state() == PlaybackState::Playing
    });
    assert!(h.saw(|e| matches!(e, PlayerEvent::Resumed(p) if (p - at).abs() < 0.05)));
    let first = h.video.presented[presented].1 as f64 / 1e6;
    assert!(
        (first - at).abs() < 0.1,
        "first picture after resume at {first:.3}, suspended at {at:.3}"
    );
    h.run_for(Duration::from_secs(1));
    assert_eq!(h.player.audio_track(), Some(1));
    assert_eq!(h.player.text_track(), Some(1));
    assert!(h.player.current_time() > at + 0.5);
    assert_eq!(h.last_error(), None);
}

#[test]
fn suspend_and_resume_a_paused_file() {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.add(&format!("{BASE}f.mp4"), fixture("h264-aac.mp4"));
    start(&mut h, &format!("{BASE}f.mp4"));
    h.app(AppRequest::Seek {
        position: 3.3,
        mode: kinema_core::SeekMode::Exact,
    });
    h.app(AppRequest::Pause);
    wait(&mut h, 5, "seeked", |h| !h.player.seeking());
    h.app(AppRequest::Suspend);
    h.run_for(Duration::from_secs(1));
    h.app(AppRequest::Resume);
    wait(&mut h, 10, "restored", |h| {
        h.saw(|e| matches!(e, PlayerEvent::Resumed(_))) && !h.player.seeking()
    });
    h.run_for(Duration::from_millis(300));
    assert!(h.player.paused(), "it was paused: it stays paused");
    assert!((h.player.current_time() - 3.3).abs() < 0.04);
    let on = h.video.on_screen.expect("a picture on screen") as f64 / 1e6;
    assert!((on - 3.3).abs() < 0.04, "picture at {on}");
}

#[test]
fn memory_budget_caps_the_segment_buffer() {
    let peak = |budget: Option<u64>| {
        let mut h = stream_host();
        h.app(AppRequest::SetMemoryBudget(budget));
        h.app(AppRequest::SelectQuality(Some(2)));
        start(&mut h, &format!("{BASE}hls-fmp4/master.m3u8"));
        h.app(AppRequest::SelectQuality(Some(2)));
        let mut peak = 0;
        for _ in 0..1500 {
            h.step();
            peak = peak.max(h.player.stream_stats().map_or(0, |s| s.buffer_bytes));
        }
        assert_eq!(h.last_error(), None);
        peak
    };
    let unlimited = peak(None);
    let small = peak(Some(2 << 20)); // clamped to the 8 MiB minimum: 4.8 MiB for segments
    println!("peak segment bytes: default {unlimited}, 8 MiB profile {small}");
    assert!(small <= (8usize << 20) / 10 * 6, "{small}");
    assert!(
        unlimited > small,
        "the test must make the budget bite ({unlimited} vs {small})"
    );
}
