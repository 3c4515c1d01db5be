//! The browser's platform decoders (WebCodecs `VideoDecoder` / `AudioDecoder`) and the picture
//! store: carries out the core's decoder and present/release commands and reports decoded
//! output back as host events; presented pictures are drawn by the display (`crate::display`,
//! reached through [`VideoHost::display`]). Nothing here decides what to show or when.
//!
//! Engines without WebCodecs (older TVs) decode video through a hidden `<video>` fed by Media
//! Source Extensions instead (`crate::mse`): the same commands, the same picture store; the
//! path is chosen per decoder configuration ([`DecodePath`]). The pictures live in
//! `crate::picture`; what the decoders share with their users in `crate::backend`.
//!
//! web-sys gates `VideoDecoder`, `AudioDecoder` and the chunk types behind
//! `--cfg=web_sys_unstable_apis`; the few members used are bound here directly instead, so
//! the crate builds with stable flags everywhere (CI, clippy, wasm-pack).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use kinema_core::{AudioDecoderConfig, EncodedChunk, FrameId, HostEvent, VideoDecoderConfig};
use wasm_bindgen::prelude::*;
use web_sys::VideoFrame;

use crate::backend::{ClockView, Sink};
use crate::display::VideoDisplay;
use crate::js::{message, set};
use crate::mse::MseVideo;
use crate::picture::{Picture, Pictures};

/// Which platform decoder turns the core's `DecodeVideo` chunks into pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodePath {
    /// WebCodecs when the engine has `VideoDecoder`, else MSE.
    Auto,
    /// WebCodecs `VideoDecoder`.
    WebCodecs,
    /// A hidden `<video>` fed fragmented MP4 through Media Source Extensions.
    Mse,
}

impl DecodePath {
    /// `auto`, `webcodecs` or `mse`.
    pub fn parse(s: &str) -> Option<DecodePath> {
        match s {
            "auto" => Some(DecodePath::Auto),
            "webcodecs" => Some(DecodePath::WebCodecs),
            "mse" => Some(DecodePath::Mse),
            _ => None,
        }
    }
}

/// True when the page has WebCodecs' `VideoDecoder`.
pub fn has_video_decoder() -> bool {
    Reflect::has(&js_sys::global(), &JsValue::from_str("VideoDecoder")).unwrap_or(false)
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

    #[wasm_bindgen(js_name = AudioDecoder)]
    type JsAudioDecoder;
    #[wasm_bindgen(constructor, js_class = "AudioDecoder", catch)]
    fn new(init: &Object) -> Result<JsAudioDecoder, JsValue>;
    #[wasm_bindgen(method, catch, js_class = "AudioDecoder")]
    fn configure(this: &JsAudioDecoder, config: &Object) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_class = "AudioDecoder")]
    fn decode(this: &JsAudioDecoder, chunk: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_class = "AudioDecoder")]
    fn flush(this: &JsAudioDecoder) -> js_sys::Promise;
    #[wasm_bindgen(method, catch, js_class = "AudioDecoder")]
    fn close(this: &JsAudioDecoder) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter, js_class = "AudioDecoder")]
    fn state(this: &JsAudioDecoder) -> String;

    #[wasm_bindgen(js_name = EncodedAudioChunk)]
    type JsEncodedAudioChunk;
    #[wasm_bindgen(constructor, js_class = "EncodedAudioChunk", catch)]
    fn new(init: &Object) -> Result<JsEncodedAudioChunk, JsValue>;

    #[wasm_bindgen(js_name = AudioData)]
    type JsAudioData;
    #[wasm_bindgen(method, getter, js_class = "AudioData", js_name = numberOfFrames)]
    fn number_of_frames(this: &JsAudioData) -> u32;
    #[wasm_bindgen(method, getter, js_class = "AudioData", js_name = numberOfChannels)]
    fn number_of_channels(this: &JsAudioData) -> u32;
    #[wasm_bindgen(method, getter, js_class = "AudioData", js_name = sampleRate)]
    fn sample_rate(this: &JsAudioData) -> f32;
    #[wasm_bindgen(method, getter, js_class = "AudioData")]
    fn timestamp(this: &JsAudioData) -> f64;
    #[wasm_bindgen(method, catch, js_class = "AudioData", js_name = copyTo)]
    fn copy_to(
        this: &JsAudioData,
        dest: &js_sys::Float32Array,
        options: &Object,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_class = "AudioData")]
    fn close(this: &JsAudioData);
}

fn chunk_init(chunk: &EncodedChunk) -> Object {
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
fn is_unsupported(e: &JsValue) -> bool {
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
    // Kept alive as long as the decoder.
    _output: Closure<dyn FnMut(VideoFrame)>,
    _error: Closure<dyn FnMut(JsValue)>,
}

/// Mean decode latency (host time from a chunk going in to its picture coming out).
#[derive(Default)]
struct Latency {
    started: HashMap<i64, f64>,
    sum_ms: f64,
    count: u32,
}

struct AudioDecoderSlot {
    decoder: JsAudioDecoder,
    generation: u32,
    _output: Closure<dyn FnMut(JsAudioData)>,
    _error: Closure<dyn FnMut(JsValue)>,
}

/// The platform decoders and the pictures they produced.
pub struct VideoHost {
    sink: Sink,
    frames: Pictures,
    next_id: Rc<Cell<u64>>,
    video: RefCell<Option<VideoDecoderSlot>>,
    audio: RefCell<Option<AudioDecoderSlot>>,
    display: Rc<VideoDisplay>,
    /// The decode path asked for, the MSE decoder once created, and whether the current
    /// video decoder is the MSE one.
    decode_path: Cell<DecodePath>,
    mse: RefCell<Option<Rc<MseVideo>>>,
    on_mse: Cell<bool>,
    /// The core's clock as the MSE decoder needs it (set by the driver).
    clock: RefCell<Option<Rc<dyn Fn() -> ClockView>>>,
    /// WebCodecs decode latency.
    latency: Rc<RefCell<Latency>>,
}

impl VideoHost {
    /// A host whose decoder output goes to `sink`.
    pub fn new(sink: Sink) -> Self {
        let frames: Pictures = Rc::new(RefCell::new(HashMap::new()));
        VideoHost {
            sink,
            display: Rc::new(VideoDisplay::new(frames.clone())),
            frames,
            next_id: Rc::new(Cell::new(1)),
            video: RefCell::new(None),
            audio: RefCell::new(None),
            decode_path: Cell::new(DecodePath::Auto),
            mse: RefCell::new(None),
            on_mse: Cell::new(false),
            clock: RefCell::new(None),
            latency: Rc::new(RefCell::new(Latency::default())),
        }
    }

    /// The display the presented pictures are drawn on.
    pub fn display(&self) -> &Rc<VideoDisplay> {
        &self.display
    }

    /// Pictures held (decoded and not yet released).
    pub fn held(&self) -> usize {
        self.frames.borrow().len()
    }

    /// Chooses the decode path for the next decoder configuration (a `load`, a seek).
    pub fn set_decode_path(&self, path: DecodePath) {
        self.decode_path.set(path);
    }

    /// The decode path of the current video decoder: `webcodecs`, `mse`, or `None` before
    /// one is configured.
    pub fn decode_path(&self) -> Option<&'static str> {
        if self.on_mse.get() {
            Some("mse")
        } else if self.video.borrow().is_some() {
            Some("webcodecs")
        } else {
            None
        }
    }

    /// Mean time from a chunk going into the decoder to its picture coming out, in ms, over
    /// the pictures decoded since the decoder of the current path was created (MSE: includes
    /// the time the element waits to show the picture).
    pub fn decode_latency_ms(&self) -> f64 {
        if self.on_mse.get() {
            return self.mse.borrow().as_ref().map_or(0.0, |m| m.latency_ms());
        }
        let l = self.latency.borrow();
        if l.count == 0 {
            0.0
        } else {
            l.sum_ms / f64::from(l.count)
        }
    }

    /// Pictures the MSE element never showed after a seek target (they stay on screen as
    /// the previous picture); 0 on the WebCodecs path.
    pub fn skipped(&self) -> u64 {
        self.mse.borrow().as_ref().map_or(0, |m| m.skipped())
    }

    /// Tells the MSE decoder how to read the core's clock (the driver sets it once).
    pub fn set_clock(&self, clock: Rc<dyn Fn() -> ClockView>) {
        *self.clock.borrow_mut() = Some(clock);
    }

    /// After the core ran: lets the MSE element follow the clock (play, pause, rate).
    pub fn sync(&self) {
        if !self.on_mse.get() {
            return;
        }
        let mse = self.mse.borrow().clone();
        let clock = self.clock.borrow().clone();
        if let (Some(m), Some(c)) = (mse, clock) {
            m.sync(c());
        }
    }

    /// The MSE decoder, created on first use.
    fn mse(&self) -> Result<Rc<MseVideo>, String> {
        if let Some(m) = self.mse.borrow().as_ref() {
            return Ok(m.clone());
        }
        let clock = self.clock.borrow().clone();
        let m = MseVideo::new(
            self.sink.clone(),
            self.frames.clone(),
            self.next_id.clone(),
            clock,
        )?;
        *self.mse.borrow_mut() = Some(m.clone());
        Ok(m)
    }

    /// Resets (or creates) the video decoder for `generation`.
    pub fn configure_video(&self, generation: u32, config: &VideoDecoderConfig) {
        let use_mse = match self.decode_path.get() {
            DecodePath::Mse => true,
            DecodePath::WebCodecs => false,
            DecodePath::Auto => !has_video_decoder() && crate::mse::available(),
        };
        if use_mse {
            self.close_webcodecs_video();
            self.on_mse.set(true);
            match self.mse() {
                Ok(m) => m.configure(generation, config),
                Err(message) => (self.sink)(HostEvent::VideoDecoderError {
                    generation,
                    unsupported: true,
                    message,
                }),
            }
            return;
        }
        if self.on_mse.replace(false) {
            if let Some(m) = self.mse.borrow().as_ref() {
                m.close();
            }
        }
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
                return;
            }
        }
        self.close_video();
        let tag = Rc::new(Cell::new(generation));
        let sink = self.sink.clone();
        let frames = self.frames.clone();
        let next_id = self.next_id.clone();
        let out_tag = tag.clone();
        let latency = self.latency.clone();
        let output = Closure::<dyn FnMut(VideoFrame)>::new(move |frame: VideoFrame| {
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
        });
        let sink = self.sink.clone();
        let err_tag = tag.clone();
        let error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            sink(HostEvent::VideoDecoderError {
                generation: err_tag.get(),
                unsupported: is_unsupported(&e),
                message: message(&e),
            });
        });
        let init = Object::new();
        set(&init, "output", output.as_ref());
        set(&init, "error", error.as_ref());
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
            _output: output,
            _error: error,
        });
    }

    /// Feeds one chunk to the video decoder.
    pub fn decode_video(&self, generation: u32, chunk: &EncodedChunk) {
        if self.on_mse.get() {
            if let Some(m) = self.mse.borrow().as_ref() {
                m.decode(generation, chunk);
            }
            return;
        }
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

    /// Flushes the video decoder; answers `VideoDecoderFlushed`.
    pub fn flush_video(&self, generation: u32) {
        if self.on_mse.get() {
            if let Some(m) = self.mse.borrow().as_ref() {
                m.flush(generation);
            }
            return;
        }
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

    /// Closes the video decoder (pending outputs are dropped by the browser).
    pub fn close_video(&self) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.close();
        }
        self.on_mse.set(false);
        self.close_webcodecs_video();
    }

    fn close_webcodecs_video(&self) {
        if let Ok(mut l) = self.latency.try_borrow_mut() {
            l.started.clear();
        }
        if let Some(slot) = self.video.borrow_mut().take() {
            if slot.decoder.state() != "closed" {
                let _ = slot.decoder.close();
            }
        }
    }

    /// Draws a picture.
    pub fn present(&self, frame: FrameId) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.presented(frame);
        }
        self.display.present(frame);
    }

    /// Closes a picture.
    pub fn release(&self, frame: FrameId) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.released(frame);
        }
        if let Some(f) = self.frames.borrow_mut().remove(&frame.0) {
            f.close();
        }
        self.display.forget(frame);
    }

    /// Clears the canvas.
    pub fn clear(&self) {
        self.display.clear();
    }

    /// Resets (or creates) the audio decoder for `generation`.
    pub fn configure_audio(&self, generation: u32, config: &AudioDecoderConfig) {
        self.close_audio();
        let sink = self.sink.clone();
        let output = Closure::<dyn FnMut(JsAudioData)>::new(move |data: JsAudioData| {
            let frames = data.number_of_frames() as usize;
            let channels = data.number_of_channels().max(1) as usize;
            let mut interleaved = vec![0f32; frames * channels];
            let plane = js_sys::Float32Array::new_with_length(frames as u32);
            for c in 0..channels {
                let opts = Object::new();
                set(&opts, "planeIndex", &(c as u32).into());
                set(&opts, "format", &JsValue::from_str("f32-planar"));
                if data.copy_to(&plane, &opts).is_err() {
                    continue;
                }
                let mut tmp = vec![0f32; frames];
                plane.copy_to(&mut tmp);
                for (i, s) in tmp.iter().enumerate() {
                    interleaved[i * channels + c] = *s;
                }
            }
            let event = HostEvent::AudioDecoded {
                generation,
                timestamp_us: data.timestamp() as i64,
                sample_rate: data.sample_rate() as u32,
                channels: channels as u16,
                samples: interleaved,
            };
            data.close();
            sink(event);
        });
        let sink = self.sink.clone();
        let error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            sink(HostEvent::AudioDecoderError {
                generation,
                unsupported: is_unsupported(&e),
                message: message(&e),
            });
        });
        let init = Object::new();
        set(&init, "output", output.as_ref());
        set(&init, "error", error.as_ref());
        let decoder = match JsAudioDecoder::new(&init) {
            Ok(d) => d,
            Err(e) => {
                (self.sink)(HostEvent::AudioDecoderError {
                    generation,
                    unsupported: true,
                    message: format!("no WebCodecs AudioDecoder: {}", message(&e)),
                });
                return;
            }
        };
        let cfg = Object::new();
        set(&cfg, "codec", &JsValue::from_str(&config.codec));
        set(&cfg, "sampleRate", &config.sample_rate.into());
        set(&cfg, "numberOfChannels", &u32::from(config.channels).into());
        if let Some(d) = &config.description {
            set(&cfg, "description", &Uint8Array::from(d.as_slice()));
        }
        if let Err(e) = decoder.configure(&cfg) {
            (self.sink)(HostEvent::AudioDecoderError {
                generation,
                unsupported: true,
                message: message(&e),
            });
        }
        *self.audio.borrow_mut() = Some(AudioDecoderSlot {
            decoder,
            generation,
            _output: output,
            _error: error,
        });
    }

    /// Feeds one chunk to the audio decoder.
    pub fn decode_audio(&self, generation: u32, chunk: &EncodedChunk) {
        let result = {
            let slot = self.audio.borrow();
            let Some(slot) = slot.as_ref().filter(|s| s.generation == generation) else {
                return;
            };
            if slot.decoder.state() != "configured" {
                return;
            }
            JsEncodedAudioChunk::new(&chunk_init(chunk)).and_then(|c| slot.decoder.decode(&c))
        };
        if let Err(e) = result {
            (self.sink)(HostEvent::AudioDecoderError {
                generation,
                unsupported: false,
                message: message(&e),
            });
        }
    }

    /// Flushes the audio decoder; answers `AudioDecoderFlushed`.
    pub fn flush_audio(&self, generation: u32) {
        let slot = self.audio.borrow();
        let Some(slot) = slot.as_ref().filter(|s| s.generation == generation) else {
            return;
        };
        let promise = slot.decoder.flush();
        let sink = self.sink.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                sink(HostEvent::AudioDecoderFlushed { generation });
            }
        });
    }

    /// Closes the audio decoder.
    pub fn close_audio(&self) {
        if let Some(slot) = self.audio.borrow_mut().take() {
            if slot.decoder.state() != "closed" {
                let _ = slot.decoder.close();
            }
        }
    }

    /// Closes decoders and every picture (destroy).
    pub fn close_all(&self) {
        self.close_video();
        self.close_audio();
        if let Some(m) = self.mse.borrow_mut().take() {
            m.destroy();
        }
        for (_, f) in self.frames.borrow_mut().drain() {
            f.close();
        }
    }
}
