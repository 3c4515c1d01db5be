//! The JS `Player` class: the API a web page uses.

use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use kinema_core::{AppRequest, HostEvent};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AudioContextState;

use crate::driver::Driver;

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
use crate::events;

/// A media player. Mirrors the parts of `HTMLMediaElement` a player needs; events are DOM
/// `CustomEvent`s whose `detail` carries the data.
#[wasm_bindgen]
pub struct Player {
    driver: Rc<Driver>,
}

#[wasm_bindgen]
impl Player {
    /// Creates a player and opens the audio output in the background.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Player, JsValue> {
        Ok(Player {
            driver: Driver::new()?,
        })
    }

    fn app(&self, request: AppRequest) {
        self.driver.send(HostEvent::App(request));
    }

    /// Loads a source by URL (relative URLs resolve against the page).
    pub fn load(&self, url: &str) {
        self.app(AppRequest::Load {
            url: url.to_string(),
        });
    }

    /// Starts playback. Resolves once the audio output runs; rejects with `NotAllowedError` when
    /// the browser keeps audio suspended until a user gesture (autoplay policy) — call `play()`
    /// again from a click. The wish to play is kept either way, like `HTMLMediaElement`.
    pub fn play(&self) -> Promise {
        let driver = self.driver.clone();
        driver.send(HostEvent::App(AppRequest::Play));
        wasm_bindgen_futures::future_to_promise(async move {
            // The output opens asynchronously after construction; give it a moment.
            for _ in 0..100 {
                if driver.with_audio(|_| ()).is_some() || driver.audio_failed() {
                    break;
                }
                sleep(20).await;
            }
            let Some(ctx) = driver.with_audio(|a| a.context().clone()) else {
                return Ok(JsValue::UNDEFINED); // no audio output: plays silently on the host clock
            };
            if ctx.state() != AudioContextState::Running {
                if let Ok(p) = ctx.resume() {
                    let timeout = Promise::new(&mut |resolve, _| {
                        if let Some(w) = web_sys::window() {
                            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                                &resolve, 500,
                            );
                        }
                    });
                    let _ = JsFuture::from(Promise::race(&js_sys::Array::of2(&p, &timeout))).await;
                }
            }
            if ctx.state() == AudioContextState::Running {
                Ok(JsValue::UNDEFINED)
            } else {
                let err = js_sys::Error::new(
                    "audio output is suspended until the user interacts with the page",
                );
                err.set_name("NotAllowedError");
                Err(err.into())
            }
        })
    }

    /// Pauses playback.
    pub fn pause(&self) {
        self.app(AppRequest::Pause);
    }

    /// Seeks to `seconds` (sample-accurate).
    pub fn seek(&self, seconds: f64) {
        self.app(AppRequest::Seek { position: seconds });
    }

    /// Playback position in seconds.
    #[wasm_bindgen(getter, js_name = currentTime)]
    pub fn current_time(&self) -> f64 {
        self.driver
            .with_core(|c| c.current_time_at(crate::driver::now()))
            .unwrap_or(0.0)
    }

    /// Seeks (same as `seek`).
    #[wasm_bindgen(setter, js_name = currentTime)]
    pub fn set_current_time(&self, seconds: f64) {
        self.seek(seconds);
    }

    /// Duration in seconds, `NaN` until known.
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> f64 {
        self.driver
            .with_core(|c| c.duration())
            .flatten()
            .unwrap_or(f64::NAN)
    }

    /// True unless playback was requested.
    #[wasm_bindgen(getter)]
    pub fn paused(&self) -> bool {
        self.driver.with_core(|c| c.paused()).unwrap_or(true)
    }

    /// `'idle' | 'loading' | 'paused' | 'playing' | 'buffering' | 'ended' | 'error'`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.driver
            .with_core(|c| c.state().as_str().to_string())
            .unwrap_or_default()
    }

    /// The current error as `{kind, message}`, or `null`.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> JsValue {
        self.driver
            .with_core(|c| c.last_error().map(events::error_object))
            .flatten()
            .unwrap_or(JsValue::NULL)
    }

    /// Volume, linear 0..1.
    #[wasm_bindgen(getter)]
    pub fn volume(&self) -> f64 {
        self.driver.with_core(|c| c.volume()).unwrap_or(1.0)
    }

    /// Sets the volume (clamped to 0..1).
    #[wasm_bindgen(setter)]
    pub fn set_volume(&self, v: f64) {
        self.app(AppRequest::SetVolume(v));
    }

    /// Muted.
    #[wasm_bindgen(getter)]
    pub fn muted(&self) -> bool {
        self.driver.with_core(|c| c.muted()).unwrap_or(false)
    }

    /// Mutes or unmutes.
    #[wasm_bindgen(setter)]
    pub fn set_muted(&self, m: bool) {
        self.app(AppRequest::SetMuted(m));
    }

    /// Playback rate (0.25..4; pitch follows the rate).
    #[wasm_bindgen(getter, js_name = playbackRate)]
    pub fn playback_rate(&self) -> f64 {
        self.driver.with_core(|c| c.playback_rate()).unwrap_or(1.0)
    }

    /// Sets the playback rate.
    #[wasm_bindgen(setter, js_name = playbackRate)]
    pub fn set_playback_rate(&self, r: f64) {
        self.app(AppRequest::SetRate(r));
    }

    /// Whether playback restarts at the end.
    #[wasm_bindgen(getter, js_name = "loop")]
    pub fn looping(&self) -> bool {
        self.driver.with_core(|c| c.looping()).unwrap_or(false)
    }

    /// Sets looping.
    #[wasm_bindgen(setter, js_name = "loop")]
    pub fn set_looping(&self, l: bool) {
        self.app(AppRequest::SetLoop(l));
    }

    /// What the loaded source is (`{container, audioCodec, sampleRate, channels, duration}`),
    /// or `null` before metadata.
    #[wasm_bindgen(getter, js_name = mediaInfo)]
    pub fn media_info(&self) -> JsValue {
        self.driver
            .with_core(|c| c.media_info().map(events::info_object))
            .flatten()
            .unwrap_or(JsValue::NULL)
    }

    /// Registers a listener, like `EventTarget.addEventListener`.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.driver
            .target()
            .add_event_listener_with_callback(kind, listener)
    }

    /// Removes a listener.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(&self, kind: &str, listener: &Function) -> Result<(), JsValue> {
        self.driver
            .target()
            .remove_event_listener_with_callback(kind, listener)
    }

    /// RMS level of the output after the volume (a test tap: proves sound comes out).
    #[wasm_bindgen(js_name = audioLevel)]
    pub fn audio_level(&self) -> f64 {
        self.driver.with_audio(|a| a.level()).unwrap_or(0.0)
    }

    /// `{framesPlayed, audioMode, sampleRate, underruns, outputLatency}` of the audio output
    /// (`outputLatency` in seconds: what is subtracted from frames consumed to get frames heard).
    pub fn stats(&self) -> JsValue {
        let o = Object::new();
        self.driver.with_audio(|a| {
            let _ = Reflect::set(
                &o,
                &"framesPlayed".into(),
                &(a.frames_played() as f64).into(),
            );
            let _ = Reflect::set(&o, &"audioMode".into(), &a.mode().into());
            let _ = Reflect::set(&o, &"sampleRate".into(), &a.sample_rate().into());
            let _ = Reflect::set(&o, &"underruns".into(), &a.underruns().into());
            let _ = Reflect::set(&o, &"outputLatency".into(), &a.latency_secs().into());
        });
        o.into()
    }

    /// Stops everything and releases the audio output; the player is unusable afterwards.
    pub fn destroy(&self) {
        self.app(AppRequest::Unload);
        self.driver.destroy();
    }
}
