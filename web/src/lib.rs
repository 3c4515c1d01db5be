//! Kinema's browser host: the JS `Player` API over the sans-IO core.
//!
//! Thin by design: it moves bytes (`fetch`), plays PCM (AudioWorklet), runs the platform
//! decoders (WebCodecs, or Media Source Extensions where WebCodecs is missing) and draws the
//! pictures the core picks, keeps time (`performance.now`, timers) and turns core events into
//! DOM events. Every playback decision is the core's (`kinema-core`).
//!
//! # Layers
//! Modules depend one way, with no cycle: [`player`] (the JS class) → [`driver`] (the loop
//! that feeds the core and carries out its commands) → [`video`] → the decoder backends
//! [`webcodecs`] and [`mse`], and [`display`] (drawing with kinema-render's WebGPU, [`webgl`]
//! or [`canvas2d`]) → what they share: [`backend`] (the
//! `VideoBackend` trait), [`picture`] (the picture store), [`js`], [`timer`]. The driver also
//! owns [`audio`] (output), [`audio_decoder`] (→ `webcodecs` for the chunk helpers),
//! [`fetch`], [`events`] and, through the display, [`subtitles`]. [`caps`] reports what the
//! engine offers.

// Every protocol variant is handled by name: a new one must not fall into a catch-all arm.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod audio;
pub mod audio_decoder;
pub mod backend;
pub mod canvas2d;
pub mod caps;
pub mod display;
pub mod driver;
pub mod events;
pub mod fetch;
pub mod js;
pub mod mse;
pub mod picture;
pub mod player;
pub mod subtitles;
pub mod timer;
pub mod video;
pub mod webcodecs;
pub mod webgl;

pub use player::Player;

use wasm_bindgen::prelude::*;

/// Installs the panic hook so a bug reports a readable message instead of `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Loads the audio worklet module from `url` for players whose audio output opens afterwards
/// (apps that serve the package's files elsewhere than beside `kinema_web.js`); `null` or `''`
/// returns to the default, `kinema_worklet.js` beside the package's module.
#[wasm_bindgen(js_name = setAudioWorkletUrl)]
pub fn set_audio_worklet_url(url: Option<String>) {
    audio::set_worklet_url(url);
}
