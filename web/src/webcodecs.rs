//! The WebCodecs video decoder backend: the core's video decoder commands carried out by
//! WebCodecs' `VideoDecoder`, each decoded `VideoFrame` put into the picture store
//! (`crate::picture`) and reported as `VideoFrameDecoded`.
//!
//! Interface: [`WebCodecsVideo`] implements [`VideoBackend`]; the video host also calls
//! [`WebCodecsVideo::reuse`] / [`WebCodecsVideo::open`] (the two halves of `configure`) so
//! that it can close the other backend between them. [`chunk_init`] and [`is_unsupported`]
//! are shared with the WebCodecs audio decoder (`crate::audio_decoder`).
//!
//! web-sys gates `VideoDecoder`, `AudioDecoder` and the chunk types behind
//! `--cfg=web_sys_unstable_apis`; the few members used are bound here (and in
//! `crate::audio_decoder`) directly instead, so the crate builds with stable flags everywhere
//! (CI, clippy, wasm-pack).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use kinema_core::{EncodedChunk, FrameId, HostEvent, VideoDecoderConfig};
use wasm_bindgen::prelude::*;
use web_sys::VideoFrame;

use crate::backend::{Sink, VideoBackend};
use crate::js::{gc_callback, message, set};
use crate::picture::{Picture, PictureIds, Pictures};

/// True when the page has WebCodecs' `VideoDecoder`.
pub fn has_video_decoder() -> bool {
    Reflect::has(&js_sys::global(), &JsValue::from_str("VideoDecoder")).unwrap_or(false)
}

/// Whether WebCodecs decodes `config` (`VideoDecoder.isConfigSupported`); false when the
/// question itself fails.
pub async fn supports(config: &VideoDecoderConfig) -> bool {
    let check = JsVideoDecoder::is_config_supported(&video_config(config));
    match wasm_bindgen_futures::JsFuture::from(check).await {
        Ok(r) => Reflect::get(&r, &JsValue::from_str("supported")).is_ok_and(|v| v.is_truthy()),
        Err(_) => false,
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = VideoDecoder)]
    type JsVideoDecoder;
    #[wasm_bindgen(constructor, js_class = "VideoDecoder", catch)]
    fn new(init: &Object) -> Result<JsVideoDecoder, JsValue>;
    #[wasm_bindgen(method, catch, js_class = "VideoDecoder")]
    fn configure(this: &JsVideoDecoder, config: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = "VideoDecoder")]
    fn decode(this: &JsVideoDecoder, chunk: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_class = "VideoDecoder")]
    fn flush(this: &JsVideoDecoder) -> js_sys::Promise;
    #[wasm_bindgen(method, catch, js_class = "VideoDecoder")]
    fn close(this: &JsVideoDecoder) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = "VideoDecoder")]
    fn reset(this: &JsVideoDecoder) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter, js_class = "VideoDecoder")]
    fn state(this: &JsVideoDecoder) -> String;
    #[wasm_bindgen(static_method_of = JsVideoDecoder, js_class = "VideoDecoder", js_name = isConfigSupported)]
    fn is_config_supported(config: &Object) -> js_sys::Promise;

    #[wasm_bindgen(js_name = EncodedVideoChunk)]
    type JsEncodedVideoChunk;
    #[wasm_bindgen(constructor, js_class = "EncodedVideoChunk", catch)]
    fn new(init: &Object) -> Result<JsEncodedVideoChunk, JsValue>;
}

/// The `EncodedVideoChunkInit` / `EncodedAudioChunkInit` of `chunk`.
pub fn chunk_init(chunk: &EncodedChunk) -> Object {
    let init = Object::new();
    set(
        &init,
        "type",
        &JsValue::from_str(if chunk.key { "key" } else { "delta" }),
    );
    set(
        &init,
        "timestamp",
        &JsValue::from_f64(chunk.timestamp_us as f64),
    );
    if chunk.duration_us > 0 {
        set(
            &init,
            "duration",
            &JsValue::from_f64(chunk.duration_us as f64),
        );
    }
    set(&init, "data", &Uint8Array::from(chunk.data.as_slice()));
    init
}

/// A WebCodecs `VideoDecoderConfig` for `config`.
fn video_config(config: &VideoDecoderConfig) -> Object {
    let cfg = Object::new();
    set(&cfg, "codec", &JsValue::from_str(&config.codec));
    if let Some(d) = &config.description {
        set(&cfg, "description", &Uint8Array::from(d.as_slice()));
    }
    if config.coded_width > 0 {
        set(&cfg, "codedWidth", &config.coded_width.into());
        set(&cfg, "codedHeight", &config.coded_height.into());
    }
    if config.display_width > 0 {
        set(&cfg, "displayAspectWidth", &config.display_width.into());
        set(&cfg, "displayAspectHeight", &config.display_height.into());
    }
    cfg
}

/// True when a decoder error means "this configuration cannot be decoded here".
pub fn is_unsupported(e: &JsValue) -> bool {
    let name = Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    name == "NotSupportedError"
}

struct VideoDecoderSlot {
    decoder: JsVideoDecoder,
    generation: u32,
    /// The generation the output callbacks tag pictures with (changes on reuse).
    tag: Rc<Cell<u32>>,
    config: VideoDecoderConfig,
    /// Cleared by `close()`: outputs and errors the browser delivers after it (queued before
    /// the close) are dropped (pictures closed at once). The callbacks belong to JS
    /// ([`gc_callback`]).
    open: Rc<Cell<bool>>,
}

/// Mean decode latency (host time from a chunk going in to its picture coming out).
#[derive(Default)]
struct Latency {
    started: HashMap<i64, f64>,
    sum_ms: f64,
    count: u32,
}

/// The WebCodecs `VideoDecoder` backend (one decoder at a time, reused across seeks).
pub struct WebCodecsVideo {
    sink: Sink,
    frames: Pictures,
    next_id: PictureIds,
    video: RefCell<Option<VideoDecoderSlot>>,
    /// WebCodecs decode latency.
    latency: Rc<RefCell<Latency>>,
}

impl WebCodecsVideo {
    /// A backend whose pictures go into `frames` under ids from `next_id`, reported to `sink`.
    pub fn new(sink: Sink, frames: Pictures, next_id: PictureIds) -> Self {
        WebCodecsVideo {
            sink,
            frames,
            next_id,
            video: RefCell::new(None),
            latency: Rc::new(RefCell::new(Latency::default())),
        }
    }

    /// True while a decoder exists (configured and not closed).
    pub fn is_open(&self) -> bool {
        self.video.borrow().is_some()
    }

    /// First half of `configure`: with the same configuration as the running decoder (a
    /// seek), resets that decoder for `generation` and returns true; otherwise false, and a
    /// new decoder must be [`WebCodecsVideo::open`]ed.
    pub fn reuse(&self, generation: u32, config: &VideoDecoderConfig) -> bool {
        if let Ok(mut l) = self.latency.try_borrow_mut() {
            l.started.clear();
        }
        // Same configuration (a seek): reset the running decoder rather than building a new
        // one, which costs a decoder start-up on every seek. `reset()` drops pending outputs.
        if let Some(slot) = self.video.borrow_mut().as_mut() {
            if slot.config == *config
                && slot.decoder.state() == "configured"
                && slot.decoder.reset().is_ok()
                && slot.decoder.configure(&video_config(config)).is_ok()
            {
                slot.generation = generation;
                slot.tag.set(generation);
                return true;
            }
        }
        false
    }

    /// Second half of `configure`: creates and configures a new decoder for `generation`
    /// (after the old one was closed).
    pub fn open(&self, generation: u32, config: &VideoDecoderConfig) {
        let tag = Rc::new(Cell::new(generation));
        let sink = self.sink.clone();
        let frames = self.frames.clone();
        let next_id = self.next_id.clone();
        let out_tag = tag.clone();
        let latency = self.latency.clone();
        let open = Rc::new(Cell::new(true));
        let out_open = open.clone();
        let output = gc_callback(Closure::<dyn FnMut(VideoFrame)>::new(
            move |frame: VideoFrame| {
                if !out_open.get() {
                    frame.close();
                    return;
                }
                let id = next_id.get();
                next_id.set(id + 1);
                if let Ok(mut l) = latency.try_borrow_mut() {
                    if let Some(t) = l.started.remove(&(frame.timestamp() as i64)) {
                        l.sum_ms += crate::timer::now().as_secs_f64() * 1000.0 - t;
                        l.count += 1;
                    }
                }
                let event = HostEvent::VideoFrameDecoded {
                    generation: out_tag.get(),
                    frame: FrameId(id),
                    timestamp_us: frame.timestamp() as i64,
                    duration_us: frame.duration().unwrap_or(0.0) as i64,
                    width: frame.display_width(),
                    height: frame.display_height(),
                };
                frames.borrow_mut().insert(id, Picture::Frame(frame));
                sink(event);
            },
        ));
        let sink = self.sink.clone();
        let err_tag = tag.clone();
        let err_open = open.clone();
        let error = gc_callback(Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if !err_open.get() {
                return;
            }
            sink(HostEvent::VideoDecoderError {
                generation: err_tag.get(),
                unsupported: is_unsupported(&e),
                message: message(&e),
            });
        }));
        let init = Object::new();
        set(&init, "output", &output);
        set(&init, "error", &error);
        let decoder = match JsVideoDecoder::new(&init) {
            Ok(d) => d,
            Err(e) => {
                (self.sink)(HostEvent::VideoDecoderError {
                    generation,
                    unsupported: true,
                    message: format!("no WebCodecs VideoDecoder: {}", message(&e)),
                });
                return;
            }
        };
        let cfg = video_config(config);
        // Chromium reports an unsupported codec as a generic decode failure; ask first so the
        // app gets "unsupported" rather than "decode".
        let check = JsVideoDecoder::is_config_supported(&cfg);
        let sink = self.sink.clone();
        let codec = config.codec.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let supported = match wasm_bindgen_futures::JsFuture::from(check).await {
                Ok(r) => Reflect::get(&r, &JsValue::from_str("supported"))
                    .map(|v| v.is_truthy())
                    .unwrap_or(false),
                Err(_) => false,
            };
            if !supported {
                sink(HostEvent::VideoDecoderError {
                    generation,
                    unsupported: true,
                    message: format!("this browser cannot decode {codec}"),
                });
            }
        });
        if let Err(e) = decoder.configure(&cfg) {
            (self.sink)(HostEvent::VideoDecoderError {
                generation,
                unsupported: true,
                message: message(&e),
            });
        }
        *self.video.borrow_mut() = Some(VideoDecoderSlot {
            decoder,
            generation,
            tag,
            config: config.clone(),
            open,
        });
    }
}

impl VideoBackend for WebCodecsVideo {
    fn configure(&self, generation: u32, config: &VideoDecoderConfig) {
        if !self.reuse(generation, config) {
            self.close();
            self.open(generation, config);
        }
    }

    fn decode(&self, generation: u32, chunk: &EncodedChunk) {
        if let Ok(mut l) = self.latency.try_borrow_mut() {
            if l.started.len() < 64 {
                l.started.insert(
                    chunk.timestamp_us,
                    crate::timer::now().as_secs_f64() * 1000.0,
                );
            }
        }
        let result = {
            let slot = self.video.borrow();
            let Some(slot) = slot.as_ref().filter(|s| s.generation == generation) else {
                return;
            };
            if slot.decoder.state() != "configured" {
                return;
            }
            JsEncodedVideoChunk::new(&chunk_init(chunk)).and_then(|c| slot.decoder.decode(&c))
        };
        if let Err(e) = result {
            (self.sink)(HostEvent::VideoDecoderError {
                generation,
                unsupported: false,
                message: message(&e),
            });
        }
    }

    fn flush(&self, generation: u32) {
        let slot = self.video.borrow();
        let Some(slot) = slot.as_ref().filter(|s| s.generation == generation) else {
            return;
        };
        let promise = slot.decoder.flush();
        let sink = self.sink.clone();
        wasm_bindgen_futures::spawn_local(async move {
            // A flush rejected by a reset/close belongs to an old generation: stay quiet.
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                sink(HostEvent::VideoDecoderFlushed { generation });
            }
        });
    }

    fn close(&self) {
        if let Ok(mut l) = self.latency.try_borrow_mut() {
            l.started.clear();
        }
        if let Some(slot) = self.video.borrow_mut().take() {
            slot.open.set(false);
            if slot.decoder.state() != "closed" {
                let _ = slot.decoder.close();
            }
        }
    }

    fn latency_ms(&self) -> f64 {
        let l = self.latency.borrow();
        if l.count == 0 {
            0.0
        } else {
            l.sum_ms / f64::from(l.count)
        }
    }
}
