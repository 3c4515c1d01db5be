//! `fetch.rs` alone in headless Chromium: the events it produces for whole and ranged bodies
//! (blob: and data: URLs), HTTP errors, refused connections and aborts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use kinema_core::{ByteRange, FetchErrorKind, HostEvent, RequestId};
use kinema_web::fetch;
use kinema_web::timer::delay;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let _ = JsFuture::from(delay(ms)).await;
}

type Log = Rc<RefCell<Vec<HostEvent>>>;

fn collect() -> (Log, impl Fn(HostEvent) + 'static) {
    let log = Log::default();
    let sink = {
        let log = log.clone();
        move |e| log.borrow_mut().push(e)
    };
    (log, sink)
}

fn finished(log: &Log) -> bool {
    log.borrow().iter().any(|e| {
        matches!(
            e,
            HostEvent::FetchEnd { .. } | HostEvent::FetchFailed { .. }
        )
    })
}

/// Fetches to the end; returns (status, content-length, content-range, body, event count).
async fn fetch_all(
    url: &str,
    range: Option<ByteRange>,
) -> (u16, Option<u64>, Option<String>, Vec<u8>, Vec<HostEvent>) {
    let (log, sink) = collect();
    fetch::start(RequestId(7), url, range, sink);
    assert!(log.borrow().is_empty(), "events are always asynchronous");
    for _ in 0..250 {
        if finished(&log) {
            break;
        }
        sleep(20).await;
    }
    let events = log.borrow().clone();
    let Some(HostEvent::FetchResponse {
        request: RequestId(7),
        status,
        content_length,
        content_range,
    }) = events.first().cloned()
    else {
        panic!("first event: {:?}", events.first());
    };
    assert!(
        matches!(
            events.last(),
            Some(HostEvent::FetchEnd {
                request: RequestId(7)
            })
        ),
        "last event: {:?}",
        events.last()
    );
    let mut body = Vec::new();
    for e in &events[1..events.len() - 1] {
        match e {
            HostEvent::FetchData {
                request: RequestId(7),
                data,
            } => body.extend_from_slice(data),
            other => panic!("between response and end: {other:?}"),
        }
    }
    (status, content_length, content_range, body, events)
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn blob_url(data: &[u8]) -> String {
    let array = js_sys::Uint8Array::from(data);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array)).expect("blob");
    web_sys::Url::create_object_url_with_blob(&blob).expect("url")
}

const RANGE: ByteRange = ByteRange {
    start: 1000,
    end: Some(1999),
};

#[wasm_bindgen_test]
async fn blob_urls_stream_whole_and_ranged_bodies() {
    let data = bytes(300_000);
    let url = blob_url(&data);

    let (status, length, range, body, events) = fetch_all(&url, None).await;
    assert_eq!((status, length, range), (200, Some(300_000), None));
    assert_eq!(body, data);
    console_log!("blob: whole body in {} data events", events.len() - 2);

    let (status, length, range, body, _) = fetch_all(&url, Some(RANGE)).await;
    assert_eq!(
        (status, length, range.as_deref()),
        (206, Some(1000), Some("bytes 1000-1999/300000"))
    );
    assert_eq!(body, data[1000..2000]);

    let open_ended = ByteRange {
        start: 299_990,
        end: None,
    };
    let (status, _, range, body, _) = fetch_all(&url, Some(open_ended)).await;
    assert_eq!(
        (status, range.as_deref()),
        (206, Some("bytes 299990-299999/300000"))
    );
    assert_eq!(body, data[299_990..]);
}

#[wasm_bindgen_test]
async fn data_urls_stream_and_ignore_ranges() {
    let url = "data:application/octet-stream;base64,S2luZW1hIGZldGNoIHRlc3Q="; // "Kinema fetch test"
    let (status, _, range, body, _) = fetch_all(url, None).await;
    assert_eq!((status, range), (200, None));
    assert_eq!(body, b"Kinema fetch test");
    // Chromium answers data: URLs whole whatever the Range header says; the core copes (it
    // reads the status and Content-Range, not what it asked for).
    let (status, _, range, body, _) = fetch_all(
        url,
        Some(ByteRange {
            start: 7,
            end: Some(11),
        }),
    )
    .await;
    console_log!(
        "data: URL with Range → {status} {range:?} {} bytes",
        body.len()
    );
    match status {
        200 => assert_eq!(body, b"Kinema fetch test"),
        206 => assert_eq!(body, b"fetch"),
        other => panic!("status {other}"),
    }
}

#[wasm_bindgen_test]
async fn http_errors_are_responses_without_a_body() {
    let (status, _, _, body, events) = fetch_all("/kinema-no-such-file.mp3", None).await;
    assert_eq!((status, body.len(), events.len()), (404, 0, 2));

    // The driver aborts from inside the sink as soon as the core sees the status: that must
    // end quietly, without an unhandled rejection on the page.
    let rejections = Rc::new(RefCell::new(0));
    let r = rejections.clone();
    let on_rejection = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
        move |_: web_sys::Event| *r.borrow_mut() += 1,
    );
    let window = web_sys::window().unwrap();
    window
        .add_event_listener_with_callback(
            "unhandledrejection",
            wasm_bindgen::JsCast::unchecked_ref(on_rejection.as_ref()),
        )
        .unwrap();
    let (log, sink) = collect();
    let handle: Rc<RefCell<Option<fetch::Fetch>>> = Rc::default();
    let aborter = handle.clone();
    let f = fetch::start(RequestId(3), "/kinema-no-such-file.mp3", None, move |e| {
        sink(e);
        if let Some(f) = aborter.borrow().as_ref() {
            f.abort();
        }
    });
    *handle.borrow_mut() = Some(f);
    sleep(300).await;
    assert!(
        matches!(
            log.borrow().as_slice(),
            [HostEvent::FetchResponse { status: 404, .. }]
        ),
        "{:?}",
        log.borrow()
    );
    assert_eq!(*rejections.borrow(), 0, "unhandled promise rejections");
    window
        .remove_event_listener_with_callback(
            "unhandledrejection",
            wasm_bindgen::JsCast::unchecked_ref(on_rejection.as_ref()),
        )
        .unwrap();
}

#[wasm_bindgen_test]
async fn refused_connections_fail_as_network_errors() {
    let (log, sink) = collect();
    fetch::start(RequestId(1), "http://127.0.0.1:9/refused", None, sink);
    for _ in 0..250 {
        if finished(&log) {
            break;
        }
        sleep(20).await;
    }
    let events = log.borrow().clone();
    assert!(
        matches!(
            events.as_slice(),
            [HostEvent::FetchFailed {
                request: RequestId(1),
                kind: FetchErrorKind::Network,
                ..
            }]
        ),
        "{events:?}"
    );
}

#[wasm_bindgen_test]
async fn aborted_fetches_report_nothing_more() {
    let data = bytes(4 << 20);
    let url = blob_url(&data);

    // Aborted before anything arrived: silence.
    let (log, sink) = collect();
    fetch::start(RequestId(1), &url, None, sink).abort();
    sleep(300).await;
    assert!(log.borrow().is_empty(), "{:?}", log.borrow().first());

    // Aborted mid-body: nothing after the abort, not even a failure.
    let (log, sink) = collect();
    let handle: Rc<RefCell<Option<fetch::Fetch>>> = Rc::default();
    let aborter = handle.clone();
    let f = fetch::start(RequestId(2), &url, None, move |e| {
        let data = matches!(e, HostEvent::FetchData { .. });
        sink(e);
        if data {
            if let Some(f) = aborter.borrow().as_ref() {
                f.abort();
            }
        }
    });
    *handle.borrow_mut() = Some(f);
    sleep(500).await;
    let events = log.borrow().clone();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            HostEvent::FetchResponse { .. } => "response",
            HostEvent::FetchData { .. } => "data",
            HostEvent::FetchEnd { .. } => "end",
            HostEvent::FetchFailed { .. } => "failed",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["response", "data"]);
}
