//! The platform audio decoder: WebCodecs' `AudioDecoder` carrying out the core's
//! `ConfigureAudioDecoder` / `DecodeAudio` / `FlushAudioDecoder` / `CloseAudioDecoder` for
//! the audio the core does not decode itself (Opus, Vorbis in WebM, AAC in fragmented MP4),
//! answering with `AudioDecoded` (interleaved f32 PCM), `AudioDecoderFlushed` and
//! `AudioDecoderError`. Playing the PCM is `crate::audio`'s (the core queues it there).
//!
//! Interface: [`AudioDecoderHost`], one per player, owned by the driver. The decode path of
//! video (WebCodecs or MSE) does not matter here: on engines without WebCodecs the decoder is
//! missing and `configure` answers `AudioDecoderError { unsupported: true }`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Object, Uint8Array};
use kinema_core::{AudioDecoderConfig, EncodedChunk, HostEvent};
use wasm_bindgen::prelude::*;

use crate::backend::Sink;
use crate::js::{gc_callback, message, set};
use crate::webcodecs::{chunk_init, is_unsupported};

#[wasm_bindgen]
extern "C" {
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
    #[wasm_bindgen(static_method_of = JsAudioDecoder, js_class = "AudioDecoder", js_name = isConfigSupported, catch)]
    fn is_config_supported(config: &Object) -> Result<js_sys::Promise, JsValue>;

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

struct AudioDecoderSlot {
    decoder: JsAudioDecoder,
    generation: u32,
    /// Cleared by `close()`: outputs and errors delivered after it (queued before the close)
    /// are dropped. The callbacks belong to JS ([`gc_callback`]).
    open: Rc<Cell<bool>>,
}

/// The WebCodecs audio decoder of one player (at most one decoder at a time).
pub struct AudioDecoderHost {
    sink: Sink,
    audio: RefCell<Option<AudioDecoderSlot>>,
}

impl AudioDecoderHost {
    /// A host whose decoder output goes to `sink`.
    pub fn new(sink: Sink) -> Self {
        AudioDecoderHost {
            sink,
            audio: RefCell::new(None),
        }
    }

    /// Resets (or creates) the audio decoder for `generation`.
    pub fn configure(&self, generation: u32, config: &AudioDecoderConfig) {
        self.close();
        let cfg = Object::new();
        set(&cfg, "codec", &JsValue::from_str(&config.codec));
        set(&cfg, "sampleRate", &config.sample_rate.into());
        set(&cfg, "numberOfChannels", &u32::from(config.channels).into());
        if let Some(d) = &config.description {
            set(&cfg, "description", &Uint8Array::from(d.as_slice()));
        }
        let sink = self.sink.clone();
        let open = Rc::new(Cell::new(true));
        let out_open = open.clone();
        // Whether anything was decoded yet (an error before that may be the configuration).
        let produced = Rc::new(Cell::new(false));
        let out_produced = produced.clone();
        let output = gc_callback(Closure::<dyn FnMut(JsAudioData)>::new(
            move |data: JsAudioData| {
                if !out_open.get() {
                    data.close();
                    return;
                }
                out_produced.set(true);
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
            },
        ));
        let sink = self.sink.clone();
        let err_open = open.clone();
        let probe = cfg.clone();
        let error = gc_callback(Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if !err_open.get() {
                return;
            }
            let (unsupported, text) = (is_unsupported(&e), message(&e));
            if unsupported || produced.get() {
                sink(HostEvent::AudioDecoderError {
                    generation,
                    unsupported,
                    message: text,
                });
                return;
            }
            // An error before any output may be the configuration: Chromium reports a codec it
            // lacks (AC-3) as an OperationError, not the NotSupportedError WebCodecs specifies.
            // isConfigSupported() says which it was.
            let sink = sink.clone();
            let probe = probe.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let supported = match JsAudioDecoder::is_config_supported(&probe) {
                    Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
                        .await
                        .ok()
                        .and_then(|r| js_sys::Reflect::get(&r, &"supported".into()).ok())
                        .and_then(|v| v.as_bool())
                        .unwrap_or(true),
                    Err(_) => true,
                };
                sink(HostEvent::AudioDecoderError {
                    generation,
                    unsupported: !supported,
                    message: text,
                });
            });
        }));
        let init = Object::new();
        set(&init, "output", &output);
        set(&init, "error", &error);
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
            open,
        });
    }

    /// Feeds one chunk to the audio decoder.
    pub fn decode(&self, generation: u32, chunk: &EncodedChunk) {
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
    pub fn flush(&self, generation: u32) {
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
    pub fn close(&self) {
        if let Some(slot) = self.audio.borrow_mut().take() {
            slot.open.set(false);
            if slot.decoder.state() != "closed" {
                let _ = slot.decoder.close();
            }
        }
    }
}
