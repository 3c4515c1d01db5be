//! `HostCommand::Fetch` with the browser's `fetch()`: `Range` header, body streamed through
//! `getReader()`, `AbortController` for `CancelFetch`.
//!
//! Independent of the driver: [`start`] reports to any sink, so tests drive it alone.

use js_sys::{Reflect, Uint8Array};
use kinema_core::{ByteRange, FetchErrorKind, HostEvent, RequestId};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, ReadableStreamDefaultReader, Request, RequestInit, Response,
};

/// A fetch in flight. [`Fetch::abort`] stops it; no event reaches the sink after that.
pub struct Fetch {
    controller: Option<AbortController>,
}

impl Fetch {
    /// Aborts the request and silences it: the sink gets no further event, not even a failure.
    pub fn abort(&self) {
        if let Some(c) = &self.controller {
            c.abort();
        }
    }
}

/// Starts fetching `url` (bytes `range` of it, if given). Events go to `sink`, in order and
/// always asynchronously: `FetchResponse`, `FetchData`*, then `FetchEnd` — or `FetchFailed`
/// at any point. An HTTP error status is reported as a response without a body (the core
/// judges statuses).
pub fn start(
    request: RequestId,
    url: &str,
    range: Option<ByteRange>,
    sink: impl Fn(HostEvent) + 'static,
) -> Fetch {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    let init = RequestInit::new();
    if let Some(s) = &signal {
        init.set_signal(Some(s));
    }
    let prepared = Request::new_with_str_and_init(url, &init).and_then(|req| {
        if let Some(r) = range {
            req.headers().set("Range", &r.header_value())?;
        }
        Ok(req)
    });
    let live = Live { signal, sink };
    let cross_origin = cross_origin(url);
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = match prepared {
            Ok(req) => run(request, req, &live).await,
            Err(e) => Err((FetchErrorKind::Refused, e)),
        };
        if let Err((kind, e)) = outcome {
            let mut event = failed(request, kind, &e);
            if let (
                Some(origin),
                HostEvent::FetchFailed {
                    kind: FetchErrorKind::Network,
                    message,
                    ..
                },
            ) = (&cross_origin, &mut event)
            {
                // The browser hides why a cross-origin fetch failed; the usual cause is CORS.
                message.push_str(&format!(
                    " (a cross-origin request to {origin}: if that server sends no \
                     Access-Control-Allow-Origin header for this page's origin, the browser \
                     blocks the response (CORS); serve the media with CORS headers, or from \
                     this page's origin)"
                ));
            }
            live.send(event);
        }
    });
    Fetch { controller }
}

/// The origin of `url` when it differs from the page's (`None` for same-origin, `blob:` and
/// unparsable URLs).
fn cross_origin(url: &str) -> Option<String> {
    let page = Reflect::get(&js_sys::global(), &"location".into())
        .ok()
        .and_then(|l| Reflect::get(&l, &"origin".into()).ok())
        .and_then(|o| o.as_string())?;
    let target = web_sys::Url::new(url).ok()?.origin();
    (target != page && target != "null").then_some(target)
}

/// The sink of a fetch that has not been aborted.
struct Live<F> {
    signal: Option<AbortSignal>,
    sink: F,
}

impl<F: Fn(HostEvent)> Live<F> {
    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    fn send(&self, event: HostEvent) {
        if !self.aborted() {
            (self.sink)(event);
        }
    }
}

fn failed(request: RequestId, kind: FetchErrorKind, e: &JsValue) -> HostEvent {
    let message = Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "fetch failed".into());
    HostEvent::FetchFailed {
        request,
        kind,
        message,
    }
}

async fn run<F: Fn(HostEvent)>(
    request: RequestId,
    req: Request,
    live: &Live<F>,
) -> Result<(), (FetchErrorKind, JsValue)> {
    // `fetch` of the global scope, so the host also runs in a worker.
    let global = js_sys::global();
    let fetch_fn: js_sys::Function = Reflect::get(&global, &"fetch".into())
        .and_then(|f| f.dyn_into())
        .map_err(|e| (FetchErrorKind::Refused, e))?;
    let promise: js_sys::Promise = fetch_fn
        .call1(&global, &req)
        .map_err(|e| (FetchErrorKind::Refused, e))?
        .unchecked_into();
    // fetch() rejects with a TypeError for every network-level failure (refused, reset, DNS,
    // CORS): the page cannot tell them apart, so all are `Network`.
    let resp: Response = JsFuture::from(promise)
        .await
        .map_err(|e| (FetchErrorKind::Network, e))?
        .unchecked_into();
    let headers = resp.headers();
    let content_length = headers
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    let content_range = headers.get("Content-Range").ok().flatten();
    live.send(HostEvent::FetchResponse {
        request,
        status: resp.status(),
        content_length,
        content_range,
    });
    let body = if resp.ok() { resp.body() } else { None };
    if let Some(body) = body {
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        loop {
            if live.aborted() {
                return Ok(());
            }
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|e| (FetchErrorKind::Network, e))?;
            let done = Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            let value = Reflect::get(&chunk, &"value".into()).unwrap_or(JsValue::UNDEFINED);
            if let Ok(bytes) = value.dyn_into::<Uint8Array>() {
                live.send(HostEvent::FetchData {
                    request,
                    data: bytes.to_vec(),
                });
            }
        }
    } else if let Some(body) = resp.body() {
        // Release the connection: the body of an error page is not wanted. Awaited, because
        // cancelling a stream the sink aborted meanwhile rejects (an unhandled rejection
        // otherwise).
        let _ = JsFuture::from(body.cancel()).await;
    }
    live.send(HostEvent::FetchEnd { request });
    Ok(())
}
