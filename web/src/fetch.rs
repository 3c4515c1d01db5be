//! `HostCommand::Fetch` with the browser's `fetch()`: Range header, streamed body, abort.

use js_sys::{Reflect, Uint8Array};
use kinema_core::{ByteRange, FetchErrorKind, HostEvent, RequestId};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, Request, RequestInit, Response};

/// Starts a fetch; its events go to `sink` in order. Returns the controller that aborts it.
pub fn start(
    request: RequestId,
    url: &str,
    range: Option<ByteRange>,
    sink: impl Fn(HostEvent) + 'static,
) -> Option<AbortController> {
    let controller = AbortController::new().ok();
    let init = RequestInit::new();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let prepared = Request::new_with_str_and_init(url, &init).and_then(|req| {
        if let Some(r) = range {
            req.headers().set("Range", &r.header_value())?;
        }
        Ok(req)
    });
    let signal = controller.as_ref().map(|c| c.signal());
    wasm_bindgen_futures::spawn_local(async move {
        let req = match prepared {
            Ok(req) => req,
            Err(e) => {
                sink(failed(request, FetchErrorKind::Refused, &e));
                return;
            }
        };
        if let Err((kind, e)) = run(request, req, &sink).await {
            let aborted = signal.as_ref().is_some_and(|s| s.aborted());
            sink(failed(
                request,
                if aborted {
                    FetchErrorKind::Aborted
                } else {
                    kind
                },
                &e,
            ));
        }
    });
    controller
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

async fn run(
    request: RequestId,
    req: Request,
    sink: &impl Fn(HostEvent),
) -> Result<(), (FetchErrorKind, JsValue)> {
    let global = js_sys::global();
    let fetch_fn =
        Reflect::get(&global, &"fetch".into()).map_err(|e| (FetchErrorKind::Refused, e))?;
    let fetch_fn: js_sys::Function = fetch_fn
        .dyn_into()
        .map_err(|e| (FetchErrorKind::Refused, e))?;
    let promise: js_sys::Promise = fetch_fn
        .call1(&global, &req)
        .map_err(|e| (FetchErrorKind::Refused, e))?
        .unchecked_into();
    // A fetch() rejection is a network failure (TypeError) or an abort.
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
    sink(HostEvent::FetchResponse {
        request,
        status: resp.status(),
        content_length,
        content_range,
    });
    if !resp.ok() {
        sink(HostEvent::FetchEnd { request });
        return Ok(());
    }
    let Some(body) = resp.body() else {
        sink(HostEvent::FetchEnd { request });
        return Ok(());
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    loop {
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
        if let Ok(value) = Reflect::get(&chunk, &"value".into()) {
            if let Ok(bytes) = value.dyn_into::<Uint8Array>() {
                sink(HostEvent::FetchData {
                    request,
                    data: bytes.to_vec(),
                });
            }
        }
    }
    sink(HostEvent::FetchEnd { request });
    Ok(())
}
