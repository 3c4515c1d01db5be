//! The JS `Player` over the real core in headless Chromium.
//!
//! The first test checks the host alone. The others go through the lead's core (`kinema-core`):
//! they DEPEND ON CORE BEHAVIOUR (a 404 becomes a `network` error; a WAV from a blob: URL
//! loads, plays, seeks and ends) and fail if the core regresses, not only the host.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Reflect};
use kinema_web::timer::delay;
use kinema_web::Player;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::CustomEvent;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let _ = JsFuture::from(delay(ms)).await;
}

/// Polls `cond` every 20 ms for up to `ms`.
async fn until(ms: i32, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..ms / 20 {
        if cond() {
            return true;
        }
        sleep(20).await;
    }
    cond()
}

/// `load()`'s promise, its failure handled: these tests follow the load through events.
fn loading(p: js_sys::Promise) {
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
    let _ = p.catch(&ignore);
    ignore.forget();
}

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Every event the player dispatches, as (type, detail).
type Log = Rc<RefCell<Vec<(String, JsValue)>>>;

const EVENTS: [&str; 16] = [
    "statechange",
    "loadstart",
    "loadedmetadata",
    "durationchange",
    "timeupdate",
    "play",
    "pause",
    "playing",
    "waiting",
    "seeking",
    "seeked",
    "ended",
    "error",
    "volumechange",
    "ratechange",
    "progress",
];

fn record(player: &Player) -> Log {
    let log = Log::default();
    let l = log.clone();
    let listener = Closure::<dyn FnMut(CustomEvent)>::new(move |e: CustomEvent| {
        l.borrow_mut().push((e.type_(), e.detail()));
    })
    .into_js_value();
    for kind in EVENTS {
        player
            .add_event_listener(kind, listener.clone(), None)
            .unwrap();
    }
    log
}

fn seen(log: &Log, kind: &str) -> bool {
    log.borrow().iter().any(|(k, _)| k == kind)
}

fn detail(log: &Log, kind: &str) -> Option<JsValue> {
    log.borrow()
        .iter()
        .rev()
        .find(|(k, _)| k == kind)
        .map(|(_, d)| d.clone())
}

fn states(log: &Log) -> Vec<String> {
    log.borrow()
        .iter()
        .filter(|(k, _)| k == "statechange")
        .filter_map(|(_, d)| d.as_string())
        .collect()
}

/// A 16-bit stereo WAV: `secs` of a 440 Hz sine at half scale.
fn wav(rate: u32, secs: f64) -> Vec<u8> {
    let frames = (rate as f64 * secs) as u32;
    let data_len = frames * 4;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 4).to_le_bytes());
    w.extend_from_slice(&4u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s = (0.5
            * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / rate as f64).sin()
            * 32767.0) as i16;
        w.extend_from_slice(&s.to_le_bytes());
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

fn blob_url(data: &[u8]) -> String {
    let array = js_sys::Uint8Array::from(data);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array)).expect("blob");
    web_sys::Url::create_object_url_with_blob(&blob).expect("url")
}

/// The audio output opens when sound is asked for (`play()`), not when the player is made:
/// before a user gesture Chromium would keep a context made then suspended, and warn.
#[wasm_bindgen_test]
async fn a_new_player_is_idle_and_opens_the_ring_when_play_asks() {
    let player = Player::new().expect("player");
    assert_eq!(player.state(), "idle");
    assert!(player.duration().is_nan());
    assert!(player.paused());
    assert!(player.error().is_null());
    assert!(player.media_info().is_null());
    assert_eq!((player.volume(), player.muted()), (1.0, false));
    assert_eq!(player.current_time(), 0.0);
    sleep(200).await;
    assert!(
        get(&player.stats(), "audioMode").is_null(),
        "no audio output before anything asks for sound (no user gesture on this page)"
    );
    // Nothing loaded: the promise waits for a source, as `<video>`'s does.
    let _ = player.play();
    assert!(
        until(2000, || get(&player.stats(), "audioMode")
            .as_string()
            .is_some())
        .await
    );
    let stats = player.stats();
    console_log!(
        "stats of a new player: {:?}",
        js_sys::JSON::stringify(&stats)
    );
    assert_eq!(get(&stats, "audioMode").as_string().as_deref(), Some("sab"));
    assert!(get(&stats, "sampleRate").as_f64().unwrap_or(0.0) >= 8000.0);
    // Setters go through the core and come back as events.
    let log = record(&player);
    player.set_volume(0.25);
    player.set_muted(true);
    player.set_playback_rate(1.5);
    assert_eq!(
        (player.volume(), player.muted(), player.playback_rate()),
        (0.25, true, 1.5)
    );
    assert_eq!(
        get(&detail(&log, "volumechange").unwrap(), "muted").as_bool(),
        Some(true)
    );
    assert_eq!(detail(&log, "ratechange").unwrap().as_f64(), Some(1.5));
    player.destroy();
    player.set_volume(1.0);
    assert_eq!(player.volume(), 0.25, "a destroyed player ignores requests");
}

/// DEPENDS ON THE CORE: a 404 must end in an `error` event of kind `network`.
#[wasm_bindgen_test]
async fn a_missing_file_ends_in_a_network_error() {
    let player = Player::new().expect("player");
    let log = record(&player);
    loading(player.load("/kinema-no-such-file.mp3"));
    assert!(until(3000, || seen(&log, "error")).await, "no error event");
    let e = detail(&log, "error").unwrap();
    assert_eq!(get(&e, "kind").as_string().as_deref(), Some("network"));
    let message = get(&e, "message").as_string().unwrap_or_default();
    assert!(message.contains("404"), "{message}");
    assert_eq!(player.state(), "error");
    assert_eq!(
        get(&player.error(), "kind").as_string().as_deref(),
        Some("network")
    );
    assert_eq!(states(&log), ["loading", "error"]);
    // The URL as loaded: resolved against the page, like `HTMLMediaElement.currentSrc`.
    let url = detail(&log, "loadstart").unwrap().as_string().unwrap();
    assert!(
        url.starts_with("http") && url.ends_with("/kinema-no-such-file.mp3"),
        "{url}"
    );
    player.destroy();
}

/// DEPENDS ON THE CORE: a WAV loads, plays with sound, seeks and ends; then the same player
/// recovers from an error and plays again.
#[wasm_bindgen_test]
async fn a_wav_plays_seeks_and_ends() {
    let player = Player::new().expect("player");
    let log = record(&player);
    let url = blob_url(&wav(48_000, 1.5));
    loading(player.load(&url));
    assert!(until(3000, || seen(&log, "loadedmetadata")).await);
    let info = detail(&log, "loadedmetadata").unwrap();
    console_log!("loadedmetadata: {:?}", js_sys::JSON::stringify(&info));
    assert_eq!(get(&info, "sampleRate").as_f64(), Some(48_000.0));
    assert_eq!(get(&info, "channels").as_f64(), Some(2.0));
    assert!(
        (player.duration() - 1.5).abs() < 1e-3,
        "{}",
        player.duration()
    );
    assert_eq!(player.state(), "paused");

    JsFuture::from(player.play())
        .await
        .expect("play() resolves");
    assert!(!player.paused());
    assert!(until(3000, || player.state() == "playing").await);
    sleep(300).await;
    let t = player.current_time();
    let level = player.audio_level();
    let stats = player.stats();
    console_log!(
        "playing: currentTime {t:.3} after 300 ms, RMS {level:.3}, stats {:?}",
        js_sys::JSON::stringify(&stats)
    );
    assert!((0.15..0.6).contains(&t), "currentTime {t}");
    assert!(level > 0.2, "RMS {level}");
    assert!(get(&stats, "framesPlayed").as_f64().unwrap_or(0.0) > 0.0);

    player.seek(1.2);
    assert!(until(3000, || seen(&log, "seeked")).await);
    assert_eq!(detail(&log, "seeking").unwrap().as_f64(), Some(1.2));
    assert!(
        until(3000, || player.state() == "ended").await,
        "{}",
        player.state()
    );
    assert!(seen(&log, "ended") && player.paused());
    assert!(
        (player.current_time() - 1.5).abs() < 0.05,
        "{}",
        player.current_time()
    );
    for kind in [
        "play",
        "playing",
        "timeupdate",
        "durationchange",
        "progress",
        "pause",
    ] {
        assert!(seen(&log, kind), "no {kind} event");
    }

    // An error does not break the player: load again and it plays.
    loading(player.load("/kinema-no-such-file.mp3"));
    assert!(until(3000, || player.state() == "error").await);
    loading(player.load(&url));
    let _ = JsFuture::from(player.play()).await;
    assert!(
        until(3000, || player.state() == "playing").await,
        "{}",
        player.state()
    );
    player.destroy();
    assert_eq!(player.state(), "idle");
}

/// Listeners that call back into the player while it dispatches (re-entrancy) never panic;
/// `handleEvent` objects and listener options work like the DOM's.
#[wasm_bindgen_test]
async fn listeners_may_call_back_into_the_player() {
    let player = Rc::new(Player::new().expect("player"));
    let calls = Rc::new(RefCell::new(Vec::<String>::new()));
    let (p, c) = (player.clone(), calls.clone());
    let mut started = false;
    let reenter = Closure::<dyn FnMut(CustomEvent)>::new(move |e: CustomEvent| {
        let state = e.detail().as_string().unwrap_or_default();
        c.borrow_mut()
            .push(format!("{state}/{}/{}", p.state(), p.current_time()));
        if state == "paused" && !started {
            started = true;
            let _ = p.play();
            p.seek(0.5);
        }
        if state == "playing" {
            p.pause();
            p.set_volume(0.5);
        }
    })
    .into_js_value();
    player
        .add_event_listener("statechange", reenter, None)
        .unwrap();

    let once_count = Rc::new(RefCell::new(0));
    let n = once_count.clone();
    let handler = Object::new();
    let handle_event = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        *n.borrow_mut() += 1;
    })
    .into_js_value();
    Reflect::set(&handler, &"handleEvent".into(), &handle_event).unwrap();
    let options = Object::new();
    Reflect::set(&options, &"once".into(), &true.into()).unwrap();
    player
        .add_event_listener("statechange", handler.into(), Some(options.into()))
        .unwrap();

    loading(player.load(&blob_url(&wav(44_100, 1.0))));
    assert!(
        until(3000, || player.state() == "paused"
            && player.volume() == 0.5)
        .await
    );
    let calls = calls.borrow().clone();
    console_log!("re-entrant listener saw: {calls:?}");
    assert!(calls.iter().any(|c| c.starts_with("playing/")), "{calls:?}");
    assert_eq!(
        *once_count.borrow(),
        1,
        "a `once` handleEvent object fires once"
    );
    player.destroy();
}

/// Counts uncaught errors and unhandled rejections on the page while alive.
struct PageProblems {
    count: Rc<RefCell<u32>>,
    listener: Closure<dyn FnMut(web_sys::Event)>,
}

impl PageProblems {
    fn watch() -> PageProblems {
        let count = Rc::new(RefCell::new(0));
        let c = count.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            console_log!("page problem: {:?}", get(&e, "message"));
            *c.borrow_mut() += 1;
        });
        let w = web_sys::window().unwrap();
        for kind in ["error", "unhandledrejection"] {
            w.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref())
                .unwrap();
        }
        PageProblems { count, listener }
    }

    fn count(&self) -> u32 {
        *self.count.borrow()
    }
}

impl Drop for PageProblems {
    fn drop(&mut self) {
        let w = web_sys::window().unwrap();
        for kind in ["error", "unhandledrejection"] {
            let _ =
                w.remove_event_listener_with_callback(kind, self.listener.as_ref().unchecked_ref());
        }
    }
}

/// `destroy()` mid-playback stops events, timers and sound; freeing a player that was never
/// destroyed (JS `free()`, here `drop`) does the same, without errors from orphaned timers.
#[wasm_bindgen_test]
async fn destroy_and_drop_leave_nothing_running() {
    let problems = PageProblems::watch();
    let url = blob_url(&wav(48_000, 5.0));

    let player = Player::new().expect("player");
    let log = record(&player);
    loading(player.load(&url));
    let _ = JsFuture::from(player.play()).await;
    assert!(until(3000, || player.state() == "playing").await);
    player.destroy();
    let n = log.borrow().len();
    sleep(300).await;
    assert_eq!(log.borrow().len(), n, "events after destroy");
    assert_eq!(player.audio_level(), 0.0);
    assert_eq!(player.state(), "idle");
    JsFuture::from(player.play())
        .await
        .expect_err("play() after destroy rejects");

    let player = Player::new().expect("player");
    loading(player.load(&url));
    let _ = JsFuture::from(player.play()).await;
    assert!(until(3000, || player.state() == "playing").await);
    drop(player);
    sleep(300).await;
    assert_eq!(problems.count(), 0, "uncaught errors or rejections");
}
