//! What this engine offers the player (`Player.capabilities()`): decoders (WebCodecs, Media
//! Source Extensions), GPU APIs, and per decode path the codecs it can decode. The player picks
//! its decode path from the same facts (`crate::video::DecodePath::Auto`).

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The codecs probed, as `(name, codec string, MSE container type)`.
const CODECS: [(&str, &str, &str); 6] = [
    ("avc1", "avc1.64001f", "video/mp4"),
    ("hvc1", "hvc1.1.6.L93.B0", "video/mp4"),
    ("vp09", "vp09.00.10.08", "video/mp4"),
    ("av01", "av01.0.04M.08", "video/mp4"),
    ("mp4a", "mp4a.40.2", "audio/mp4"),
    ("opus", "opus", "audio/mp4"),
];

fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

fn global(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `Class.isConfigSupported(config)` and answers its `supported`.
async fn config_supported(class: &JsValue, config: &Object) -> bool {
    let Ok(f) = Reflect::get(class, &JsValue::from_str("isConfigSupported")) else {
        return false;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    let Ok(p) = f.call1(class, config) else {
        return false;
    };
    match JsFuture::from(Promise::resolve(&p)).await {
        Ok(r) => Reflect::get(&r, &JsValue::from_str("supported"))
            .map(|v| v.is_truthy())
            .unwrap_or(false),
        Err(_) => false,
    }
}

async fn webgpu() -> bool {
    let Some(gpu) = web_sys::window()
        .and_then(|w| Reflect::get(&w, &JsValue::from_str("navigator")).ok())
        .and_then(|n| Reflect::get(&n, &JsValue::from_str("gpu")).ok())
        .filter(|g| !g.is_undefined() && !g.is_null())
    else {
        return false;
    };
    let Ok(f) = Reflect::get(&gpu, &JsValue::from_str("requestAdapter")) else {
        return false;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    let Ok(p) = f.call0(&gpu) else { return false };
    matches!(JsFuture::from(Promise::resolve(&p)).await, Ok(a) if !a.is_null() && !a.is_undefined())
}

pub(crate) fn webgl2() -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Ok(canvas) = doc.create_element("canvas").and_then(|c| {
        c.dyn_into::<web_sys::HtmlCanvasElement>()
            .map_err(JsValue::from)
    }) else {
        return false;
    };
    let ctx = canvas.get_context("webgl2").ok().flatten();
    // Give the context back at once (browsers cap live WebGL contexts).
    if let Some(ctx) = ctx.as_ref() {
        let lose = Reflect::get(ctx, &"getExtension".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call1(ctx, &"WEBGL_lose_context".into()).ok())
            .filter(|e| !e.is_null() && !e.is_undefined());
        if let Some(ext) = lose {
            if let Ok(f) = Reflect::get(&ext, &"loseContext".into()) {
                if let Some(f) = f.dyn_ref::<js_sys::Function>() {
                    let _ = f.call0(&ext);
                }
            }
        }
    }
    ctx.is_some()
}

/// True when WebCodecs can decode video (and audio) here.
pub fn webcodecs() -> bool {
    global("VideoDecoder").is_some()
        && global("AudioDecoder").is_some()
        && global("EncodedVideoChunk").is_some()
}

/// `Player.capabilities()`: resolves to `{webcodecs, webgpu, webgl2, mse,
/// requestVideoFrameCallback, decodePath, codecs: {webcodecs: {...}, mse: {...}}}`.
pub fn capabilities() -> Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let out = Object::new();
        let wc = webcodecs();
        let mse = crate::mse::available();
        set(&out, "webcodecs", &wc.into());
        set(&out, "webgpu", &webgpu().await.into());
        set(&out, "webgl2", &webgl2().into());
        set(&out, "mse", &mse.into());
        let rvfc = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("video").ok())
            .is_some_and(|v| {
                Reflect::has(&v, &"requestVideoFrameCallback".into()).unwrap_or(false)
            });
        set(&out, "requestVideoFrameCallback", &rvfc.into());
        let path = if crate::webcodecs::has_video_decoder() {
            "webcodecs"
        } else if mse {
            "mse"
        } else {
            "none"
        };
        set(&out, "decodePath", &path.into());
        let by_wc = Object::new();
        let by_mse = Object::new();
        let video = global("VideoDecoder");
        let audio = global("AudioDecoder");
        for (name, codec, container) in CODECS {
            let cfg = Object::new();
            set(&cfg, "codec", &codec.into());
            let class = if container.starts_with("audio") {
                set(&cfg, "sampleRate", &48_000.into());
                set(&cfg, "numberOfChannels", &2.into());
                audio.as_ref()
            } else {
                video.as_ref()
            };
            let ok = match class {
                Some(c) => config_supported(c, &cfg).await,
                None => false,
            };
            set(&by_wc, name, &ok.into());
            let mime = format!("{container}; codecs=\"{codec}\"");
            set(&by_mse, name, &crate::mse::supports(&mime).into());
        }
        let codecs = Object::new();
        set(&codecs, "webcodecs", &by_wc);
        set(&codecs, "mse", &by_mse);
        set(&out, "codecs", &codecs);
        Ok(out.into())
    })
}
