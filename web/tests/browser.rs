//! Browser tests of the web host in headless Chromium (`wasm-pack test --headless --chrome web`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use kinema_core::{ByteRange, HostEvent, RequestId};
use kinema_web::{audio, fetch, Player};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn sine(frames: usize, rate: f32) -> Vec<f32> {
    (0..frames)
        .flat_map(|i| {
            let s = 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate).sin();
            [s, s]
        })
        .collect()
}

#[wasm_bindgen_test]
async fn worklet_plays_counts_and_flushes_by_epoch() {
    let mut out = audio::open(Rc::new(|| {}))
        .await
        .expect("audio output opens");
    let _ = JsFuture::from(out.context().resume().expect("resume")).await;
    let rate = out.sample_rate();
    out.flush(1);
    out.queue(1, &sine(rate as usize, rate as f32));
    out.set_running(true);
    sleep(400).await;
    out.pump();
    let p = out.progress(1e12).expect("progress of epoch 1");
    assert_eq!(p.epoch, 1);
    assert!(
        p.played > rate as u64 / 10,
        "played {} frames in 400 ms",
        p.played
    );
    assert!(p.played <= rate as u64, "never more than was queued");
    let level = out.level();
    assert!(level > 0.1, "output RMS {level}");

    // A flush drops what is queued and restarts the count in the new epoch.
    out.flush(2);
    sleep(200).await;
    let p2 = out.progress(1e12).expect("progress of epoch 2");
    assert_eq!(
        (p2.epoch, p2.played),
        (2, 0),
        "nothing of epoch 1 plays after the flush"
    );
    out.queue(2, &sine(rate as usize / 2, rate as f32));
    sleep(300).await;
    let p3 = out.progress(1e12).expect("progress");
    assert!(
        p3.played > 0 && p3.played <= rate as u64 / 2,
        "epoch 2 played {}",
        p3.played
    );
    // Samples of a stale epoch are refused.
    out.queue(1, &sine(rate as usize, rate as f32));
    sleep(700).await;
    let p4 = out.progress(1e12).expect("progress");
    assert!(
        p4.played <= rate as u64 / 2,
        "stale samples played: {}",
        p4.played
    );
    out.close();
}

fn collect() -> (Rc<RefCell<Vec<HostEvent>>>, impl Fn(HostEvent) + 'static) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = {
        let log = log.clone();
        move |e| log.borrow_mut().push(e)
    };
    (log, sink)
}

async fn wait_for_end(log: &Rc<RefCell<Vec<HostEvent>>>) {
    for _ in 0..100 {
        if log.borrow().iter().any(|e| {
            matches!(
                e,
                HostEvent::FetchEnd { .. } | HostEvent::FetchFailed { .. }
            )
        }) {
            return;
        }
        sleep(20).await;
    }
}

fn body(log: &[HostEvent]) -> Vec<u8> {
    log.iter()
        .filter_map(|e| match e {
            HostEvent::FetchData { data, .. } => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[wasm_bindgen_test]
async fn fetch_streams_whole_and_ranged_bodies() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array)).expect("blob");
    let url = web_sys::Url::create_object_url_with_blob(&blob).expect("url");

    let (log, sink) = collect();
    fetch::start(RequestId(1), &url, None, sink);
    wait_for_end(&log).await;
    let events = log.borrow().clone();
    assert!(
        matches!(
            events.first(),
            Some(HostEvent::FetchResponse { status: 200, .. })
        ),
        "{:?}",
        events.first()
    );
    assert!(matches!(
        events.last(),
        Some(HostEvent::FetchEnd {
            request: RequestId(1)
        })
    ));
    assert_eq!(body(&events), bytes);

    let (log, sink) = collect();
    fetch::start(
        RequestId(2),
        &url,
        Some(ByteRange {
            start: 1000,
            end: Some(1999),
        }),
        sink,
    );
    wait_for_end(&log).await;
    let events = log.borrow().clone();
    match events.first() {
        Some(HostEvent::FetchResponse {
            status: 206,
            content_range,
            ..
        }) => {
            assert_eq!(content_range.as_deref(), Some("bytes 1000-1999/100000"));
            assert_eq!(body(&events), bytes[1000..2000].to_vec());
        }
        // A browser that ignores ranges on blob: URLs answers 200 with everything; the core
        // handles that too.
        Some(HostEvent::FetchResponse { status: 200, .. }) => assert_eq!(body(&events), bytes),
        other => panic!("unexpected {other:?}"),
    }

    let (log, sink) = collect();
    fetch::start(RequestId(3), "http://127.0.0.1:9/refused", None, sink);
    wait_for_end(&log).await;
    assert!(
        matches!(log.borrow().last(), Some(HostEvent::FetchFailed { .. })),
        "{:?}",
        log.borrow()
    );
}

#[wasm_bindgen_test]
async fn player_reports_a_missing_file_as_a_network_error() {
    let player = Player::new().expect("player");
    assert_eq!(player.state(), "idle");
    assert!(player.duration().is_nan());
    let seen = Rc::new(RefCell::new(None::<(String, String)>));
    let listener = {
        let seen = seen.clone();
        Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |e: web_sys::CustomEvent| {
            let d = e.detail();
            let get = |k: &str| {
                Reflect::get(&d, &k.into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            *seen.borrow_mut() = Some((get("kind"), get("message")));
        })
    };
    let f: &Function = listener.as_ref().unchecked_ref();
    player.add_event_listener("error", f).expect("listen");
    player.load("/kinema-no-such-file.mp3");
    for _ in 0..100 {
        if seen.borrow().is_some() {
            break;
        }
        sleep(20).await;
    }
    let (kind, message) = seen.borrow().clone().expect("an error event");
    assert_eq!(kind, "network");
    assert!(message.contains("404"), "{message}");
    assert_eq!(player.state(), "error");
    player.destroy();
}
