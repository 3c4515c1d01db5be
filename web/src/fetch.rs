//! `HostCommand::Fetch` with the browser's `fetch()`: `Range` header, body streamed through
//! `getReader()`, `AbortController` for `CancelFetch`, and the embedder's request/response
//! hooks ([`Hooks`]: headers, credentials mode, URL rewrite, refusal; every request, by kind).
//!
//! Independent of the driver: [`start`] reports to any sink, so tests drive it alone.

use js_sys::{Reflect, Uint8Array};
use kinema_core::{ByteRange, FetchErrorKind, HostEvent, RequestId, RequestKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, ReadableStreamDefaultReader, Request, RequestCredentials,
    RequestInit, Response,
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

/// The embedder's hooks on every request the player makes (`Player.setRequestHook`,
/// `Player.setResponseHook`).
#[derive(Clone, Default)]
pub struct Hooks {
    /// Called with `{url, kind, range, headers, credentials, method}` before the fetch; may
    /// change it (in place or by returning another object), return `false` to refuse it, or
    /// return a promise of either.
    pub request: Option<js_sys::Function>,
    /// Called with `{url, kind, status, headers, request}` when the response headers arrive.
    pub response: Option<js_sys::Function>,
}

/// Starts fetching `url` (bytes `range` of it, if given) without hooks; see [`start_with`].
pub fn start(
    request: RequestId,
    url: &str,
    range: Option<ByteRange>,
    sink: impl Fn(HostEvent) + 'static,
) -> Fetch {
    start_with(
        request,
        url,
        range,
        RequestKind::Media,
        Hooks::default(),
        sink,
    )
}

/// Starts fetching `url` (bytes `range` of it, if given), for `kind`, through `hooks`. Events
/// go to `sink`, in order and always asynchronously: `FetchResponse`, `FetchData`*, then
/// `FetchEnd` — or `FetchFailed` at any point. An HTTP error status is reported as a response
/// without a body (the core judges statuses). A request the hook refuses (or that throws)
/// fails as `Refused`.
pub fn start_with(
    request: RequestId,
    url: &str,
    range: Option<ByteRange>,
    kind: RequestKind,
    hooks: Hooks,
    sink: impl Fn(HostEvent) + 'static,
) -> Fetch {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    let live = Live { signal, sink };
    let spec = describe(url, range, kind);
    wasm_bindgen_futures::spawn_local(async move {
        let mut target = None;
        let outcome = async {
            let spec = match &hooks.request {
                Some(hook) => hooked(hook, spec).await?,
                None => spec,
            };
            let url = field(&spec, "url").unwrap_or_default();
            target = Some(url.clone());
            let req = prepare(&url, &spec, range, &live)?;
            run(request, req, kind, &spec, &hooks, &live).await
        }
        .await;
        if let Err((kind, e)) = outcome {
            let mut event = failed(request, kind, &e);
            if let (
                Some(origin),
                HostEvent::FetchFailed {
                    kind: FetchErrorKind::Network,
                    message,
                    ..
                },
            ) = (target.as_deref().and_then(cross_origin), &mut event)
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

type Failure = (FetchErrorKind, JsValue);

fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &k.into(), v);
}

fn field(o: &JsValue, k: &str) -> Option<String> {
    Reflect::get(o, &k.into()).ok().and_then(|v| v.as_string())
}

/// What the request hook sees: `{url, kind, range: {start, end} | null, headers: {},
/// credentials: 'same-origin', method: 'GET'}`.
fn describe(url: &str, range: Option<ByteRange>, kind: RequestKind) -> JsValue {
    let o = js_sys::Object::new();
    set(&o, "url", &url.into());
    set(&o, "kind", &kind.name().into());
    let r = match range {
        Some(r) => {
            let ro = js_sys::Object::new();
            set(&ro, "start", &(r.start as f64).into());
            set(
                &ro,
                "end",
                &r.end.map_or(JsValue::NULL, |e| (e as f64).into()),
            );
            ro.into()
        }
        None => JsValue::NULL,
    };
    set(&o, "range", &r);
    set(&o, "headers", &js_sys::Object::new());
    set(&o, "credentials", &"same-origin".into());
    set(&o, "method", &"GET".into());
    o.into()
}

/// Runs the request hook: its answer (or the object it changed), or a refusal.
async fn hooked(hook: &js_sys::Function, spec: JsValue) -> Result<JsValue, Failure> {
    let refused = |why: &str| (FetchErrorKind::Refused, JsValue::from_str(why));
    let mut answer = hook
        .call1(&JsValue::NULL, &spec)
        .map_err(|e| refused(&format!("the request hook threw: {}", describe_error(&e))))?;
    if let Some(p) = answer.dyn_ref::<js_sys::Promise>() {
        answer = JsFuture::from(p.clone())
            .await
            .map_err(|e| refused(&format!("the request hook failed: {}", describe_error(&e))))?;
    }
    if answer == JsValue::FALSE {
        return Err(refused("refused by the request hook"));
    }
    Ok(if answer.is_object() { answer } else { spec })
}

fn describe_error(e: &JsValue) -> String {
    field(e, "message")
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// The browser `Request` for what the hook left: URL, headers, credentials, the range.
fn prepare<F>(
    url: &str,
    spec: &JsValue,
    range: Option<ByteRange>,
    live: &Live<F>,
) -> Result<Request, Failure> {
    let refused = |e| (FetchErrorKind::Refused, e);
    let init = RequestInit::new();
    if let Some(s) = &live.signal {
        init.set_signal(Some(s));
    }
    match field(spec, "credentials").as_deref() {
        Some("include") => init.set_credentials(RequestCredentials::Include),
        Some("omit") => init.set_credentials(RequestCredentials::Omit),
        _ => init.set_credentials(RequestCredentials::SameOrigin),
    }
    let req = Request::new_with_str_and_init(url, &init).map_err(refused)?;
    if let Some(r) = range {
        req.headers()
            .set("Range", &r.header_value())
            .map_err(refused)?;
    }
    if let Ok(headers) = Reflect::get(spec, &"headers".into()) {
        if headers.is_object() {
            for entry in js_sys::Object::entries(headers.unchecked_ref()).iter() {
                let pair: js_sys::Array = entry.unchecked_into();
                if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                    req.headers().set(&k, &v).map_err(refused)?;
                }
            }
        }
    }
    Ok(req)
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
    kind: RequestKind,
    spec: &JsValue,
    hooks: &Hooks,
    live: &Live<F>,
) -> Result<(), Failure> {
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
    if let Some(hook) = &hooks.response {
        let o = js_sys::Object::new();
        set(&o, "url", &resp.url().into());
        set(&o, "kind", &kind.name().into());
        set(&o, "status", &resp.status().into());
        set(&o, "headers", &headers);
        set(&o, "request", spec);
        if let Err(e) = hook.call1(&JsValue::NULL, &o) {
            web_sys::console::warn_1(
                &format!("kinema: the response hook threw: {}", describe_error(&e)).into(),
            );
        }
    }
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
