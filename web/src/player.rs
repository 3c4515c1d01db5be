//! The JS `Player` class: the API a web page uses. Every call becomes an `AppRequest` for the
//! core or reads a core getter; nothing here decides anything about playback.
//!
//! Longer than the crate's ~800-line guide on purpose: it is the whole exported JS API (one
//! `#[wasm_bindgen]` class with its TypeScript declarations), kept in one file so that the
//! API can be read and reviewed in one place.

use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use kinema_core::subtitles::TextTrackKind;
use kinema_core::{AppRequest, HostEvent, PlaybackState, SeekMode};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AudioContextState;

use crate::audio;
use crate::driver::{AudioStatus, Driver};
use crate::events;
use crate::timer::{delay, now};

/// How long `play()` waits for a suspended AudioContext to resume before it rejects.
const RESUME_TIMEOUT_MS: i32 = 500;

#[wasm_bindgen(module = "/js/settle.js")]
extern "C" {
    /// `{promise, resolve, reject}` settled by the player's events (see `js/settle.js`).
    type Settle;
    #[wasm_bindgen(js_name = settleOn)]
    fn settle_on(
        target: &web_sys::EventTarget,
        ok: &str,
        aborts: Vec<String>,
        skip: u32,
        abort_message: &str,
    ) -> Settle;
    #[wasm_bindgen(method, getter)]
    fn promise(this: &Settle) -> Promise;
    #[wasm_bindgen(method, getter)]
    fn resolve(this: &Settle) -> js_sys::Function;
    #[wasm_bindgen(method, getter)]
    fn reject(this: &Settle) -> js_sys::Function;
    /// The player's typed error as an `Error` (`name` from the kind, plus `kind`).
    #[wasm_bindgen(js_name = playerError)]
    fn player_error(detail: &JsValue) -> JsValue;
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Playback state (`Player.state`, `statechange` detail). */
export type PlayerState = 'idle' | 'loading' | 'paused' | 'playing' | 'buffering' | 'ended' | 'error';

/** Failure classes (`PlayerError.kind`). */
export type PlayerErrorKind = 'network' | 'decode' | 'unsupported' | 'limit' | 'aborted' | 'audio-output' | 'invalid-state';

/** A failure (`Player.error`, `error` detail). */
export interface PlayerError { kind: PlayerErrorKind; message: string; }

/** What a request is for (`KinemaRequest.kind`). */
export type RequestKind = 'media' | 'manifest' | 'playlist' | 'index' | 'init' | 'segment' | 'text' | 'key';

/** A request the player is about to make (`setRequestHook`): change it, or return `false` to refuse it. */
export interface KinemaRequest { url: string; kind: RequestKind; range: { start: number; end: number | null } | null; headers: Record<string, string>; credentials: RequestCredentials; method: 'GET'; }

/** Response headers of a request (`setResponseHook`). */
export interface KinemaResponse { url: string; kind: RequestKind; status: number; headers: Headers; request: KinemaRequest; }

/** A problem playback goes on through (`warning` detail); `audio-output`: sound could not start (playback runs on the page clock); `render`: the GPU context was lost (drawing goes on with a 2D canvas put in the old canvas's place); an error kind (`unsupported`...): a part of the media nothing here decodes, e.g. an AC-3 audio track (the video plays without sound, as in `<video>`). */
export interface PlayerWarning { kind: PlayerErrorKind | 'render'; message: string; fatal: false; }

/** What the loaded source is (`Player.mediaInfo`, `loadedmetadata` detail); `duration` NaN if unknown. */
export interface MediaInfo { container: string; audioCodec: string; videoCodec: string | null; width: number; height: number; frameRate: number; sampleRate: number; channels: number; duration: number; }

/** Video pipeline counters (`Player.videoStats()`); `presented`: pictures drawn onto the canvas; `avOffsetMs` is picture time minus clock at presentation; `dropped`: pictures that were due and not shown (late — a picture more than 50 ms late is never shown —, skipped when the decoder fell behind, or overtaken by a newer one before it reached the canvas); `catchUps`: skips to a keyframe to catch up with the clock; `presentLeadMs`: how long a presented picture takes to be drawn (copied out of the decoder first), which the player picks pictures ahead by. */
export interface VideoStats { decoded: number; presented: number; dropped: number; catchUps: number; avOffsetMs: number; inFlight: number; queued: number; decoderErrors: number; held: number; decodePath: DecodePath | null; decodeLatencyMs: number; skipped: number; converted: number; presentLeadMs: number; }

/** How video is decoded: WebCodecs `VideoDecoder`, or a hidden `<video>` fed through Media Source Extensions. */
export type DecodePath = 'webcodecs' | 'mse';

/** What the engine offers (`Player.capabilities()`); `codecs` per decode path for avc1, hvc1, vp09, av01, mp4a, opus; `decodePath` is what 'auto' picks. */
export interface Capabilities { webcodecs: boolean; webgpu: boolean; webgl2: boolean; mse: boolean; requestVideoFrameCallback: boolean; decodePath: DecodePath | 'none'; codecs: { webcodecs: Record<string, boolean>; mse: Record<string, boolean> }; }

/** Adaptive-stream counters (`Player.streamStats()`): quality of the last segment, throughput estimate and buffer. */
export interface StreamStats { level: number; bitrate: number; throughputBps: number; bufferSecs: number; bufferBytes: number; switches: number; abandoned: number; retries: number; skipped: number; segments: number; }

/** A quality level or audio track of an adaptive stream (`Player.qualities`, `Player.audioTracks`). */
export interface TrackChoice { index: number; id: string; bandwidth: number; height: number; language: string | null; name: string; }

/** A seek-preview thumbnail (`Player.thumbnail`): the rectangle `x, y, width, height` (pixels) of the image at `url` (bytes `range` of it when set) stands for the `duration` seconds from `start`. */
export interface Thumbnail { url: string; range: { start: number; end: number } | null; x: number; y: number; width: number; height: number; start: number; duration: number; }

/** A subtitle track (`Player.textTracks`); `sideLoaded` for tracks added with `addTextTrack`. */
export interface TextTrackInfo { index: number; id: string; language: string | null; name: string; kind: 'subtitles' | 'captions'; default: boolean; forced: boolean; sideLoaded: boolean; }

/** A subtitle cue on screen (`Player.activeCues`, `cuechange` detail): times in seconds, its box in percent of the picture; `vertical` as `VTTCue.vertical` ('' horizontal, 'rl' or 'lr': `lines` are then columns). */
export interface ActiveCue { id: string; start: number; end: number; text: string; lines: string[]; x: number; y: number; width: number; height: number; vertical: '' | 'rl' | 'lr'; }

/** Audio output counters (`Player.stats()`); `audioMode` is null while the output opens or when there is none. Latencies in seconds. */
export interface PlayerStats { framesPlayed: number; audioMode: 'sab' | 'message' | null; sampleRate: number; underruns: number; baseLatency: number; outputLatency: number; }

/** The `detail` of each event a Player dispatches (all are `CustomEvent`s). */
export interface PlayerEventMap {
  statechange: PlayerState;
  loadstart: string;
  loadedmetadata: MediaInfo;
  durationchange: number;
  timeupdate: number;
  play: null;
  pause: null;
  playing: null;
  waiting: null;
  seeking: number;
  seeked: number;
  ended: null;
  error: PlayerError;
  warning: PlayerWarning;
  volumechange: { volume: number; muted: boolean };
  ratechange: number;
  progress: { bufferedBytes: number; totalBytes: number };
  resize: { width: number; height: number };
  audiotrackchange: number;
  texttrackschange: null;
  texttrackchange: number;
  texttrackerror: PlayerError & { track: number };
  cuechange: ActiveCue[];
  controlschange: ControlsView;
  unhandledkey: KeyName;
  suspended: number;
  resumed: number;
}

/** Logical keys (`Player.key`): what every device's remote, keyboard or gamepad maps onto. */
export type KeyName = 'Up' | 'Down' | 'Left' | 'Right' | 'Ok' | 'Back' | 'Play' | 'Pause' | 'PlayPause' | 'Stop' | 'Rewind' | 'FastForward' | 'Next' | 'Previous' | 'Red' | 'Green' | 'Yellow' | 'Blue' | 'Info' | 'Subtitle' | 'Audio' | 'Mute' | 'VolumeUp' | 'VolumeDown' | 'Digit0' | 'Digit1' | 'Digit2' | 'Digit3' | 'Digit4' | 'Digit5' | 'Digit6' | 'Digit7' | 'Digit8' | 'Digit9';

/** The on-screen controls to draw (`controlschange` detail); the core decides focus and menus. */
export interface ControlsView {
  visible: boolean;
  paused: boolean;
  buttons: { id: 'rewind' | 'playpause' | 'fastforward' | 'audio' | 'subtitles' | 'quality'; label: string; focused: boolean; enabled: boolean }[];
  menu: null | { kind: 'audio' | 'subtitles' | 'quality'; title: string; items: { label: string; selected: boolean; focused: boolean }[] };
}

export interface Player {
  /** Registers a listener, exactly like `EventTarget.addEventListener`; `event.detail` is typed by `PlayerEventMap`. */
  addEventListener<K extends keyof PlayerEventMap>(type: K, listener: (event: CustomEvent<PlayerEventMap[K]>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  /** Removes a listener, exactly like `EventTarget.removeEventListener`. */
  removeEventListener<K extends keyof PlayerEventMap>(type: K, listener: (event: CustomEvent<PlayerEventMap[K]>) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
"#;

/// A media player. Mirrors the parts of `HTMLMediaElement` a player needs; events are DOM
/// `CustomEvent`s whose `detail` carries the data (see `PlayerEventMap`). They are dispatched
/// on an internal `EventTarget`, so use the player itself rather than `event.target`.
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
            driver: Driver::new(audio::Options::default())?,
        })
    }

    fn app(&self, request: AppRequest) {
        self.driver.send(HostEvent::App(request));
    }

    /// Loads a source by URL (relative URLs resolve against the page; `blob:` URLs work).
    /// Progressive files and adaptive streams (HLS `.m3u8`, DASH `.mpd`: recognised by their
    /// content) load the same way. Resolves with the `MediaInfo` at `loadedmetadata`; rejects
    /// with the typed error (an `Error` whose `kind` is the `PlayerError` kind and whose `name`
    /// is the matching DOMException name: `NetworkError`, `NotSupportedError`, …) when the
    /// source fails, or with an `AbortError` when another `load()` replaces it first.
    #[wasm_bindgen(unchecked_return_type = "Promise<MediaInfo>")]
    pub fn load(&self, url: &str) -> Promise {
        if self.driver.destroyed() {
            return Promise::reject(&error("InvalidStateError", "the player was destroyed"));
        }
        // Its own `loadstart` is skipped; the next one means a newer load replaced it.
        let settle = settle_on(
            self.driver.target(),
            "loadedmetadata",
            vec!["loadstart".into()],
            1,
            "another load() replaced this source",
        );
        // The core resolves the segment URLs of a manifest against its URL: give it an absolute
        // one. And live DASH needs the wall clock.
        self.driver.send(HostEvent::WallClock {
            unix_ms: js_sys::Date::now() as i64,
        });
        self.driver.video().display().converted.set(0);
        self.app(AppRequest::Load { url: absolute(url) });
        settle.promise()
    }

    /// Sets (or with `null` removes) the hook called before every request the player makes —
    /// files, manifests, playlists, segment indexes, init and media segments, subtitles — with
    /// a `KinemaRequest` `{url, kind, range, headers, credentials, method}`. Change it in place
    /// or return another one (add headers such as tokens, set `credentials: 'include'` for
    /// cookies on another origin, rewrite the URL), return `false` to refuse the request, or
    /// return a promise of either. A refused request fails like a network refusal.
    #[wasm_bindgen(js_name = setRequestHook)]
    pub fn set_request_hook(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "((request: KinemaRequest) => KinemaRequest | false | void | Promise<KinemaRequest | false | void>) | null"
        )]
        hook: Option<js_sys::Function>,
    ) {
        self.driver.hooks().borrow_mut().request = hook;
    }

    /// Sets (or with `null` removes) the hook called when the response headers of any request
    /// arrive, with a `KinemaResponse` `{url, kind, status, headers, request}`.
    #[wasm_bindgen(js_name = setResponseHook)]
    pub fn set_response_hook(
        &self,
        #[wasm_bindgen(unchecked_param_type = "((response: KinemaResponse) => void) | null")]
        hook: Option<js_sys::Function>,
    ) {
        self.driver.hooks().borrow_mut().response = hook;
    }

    /// Subtitle tracks: the stream's WebVTT renditions, then side-loaded files.
    #[wasm_bindgen(getter, js_name = textTracks, unchecked_return_type = "TextTrackInfo[]")]
    pub fn text_tracks(&self) -> JsValue {
        let list = self
            .driver
            .with_core(|c| c.text_tracks())
            .unwrap_or_default();
        let arr = js_sys::Array::new();
        for (i, t) in list.iter().enumerate() {
            let o = Object::new();
            let set = |k: &str, v: JsValue| {
                let _ = Reflect::set(&o, &k.into(), &v);
            };
            set("index", (i as u32).into());
            set("id", t.id.as_str().into());
            set(
                "language",
                t.language.as_deref().map_or(JsValue::NULL, JsValue::from),
            );
            set("name", t.name.as_str().into());
            set(
                "kind",
                match t.kind {
                    TextTrackKind::Captions => "captions",
                    _ => "subtitles",
                }
                .into(),
            );
            set("default", t.default.into());
            set("forced", t.forced.into());
            set("sideLoaded", t.side_loaded.into());
            arr.push(&o);
        }
        arr.into()
    }

    /// The subtitle track shown (index into `textTracks`), -1 when off.
    #[wasm_bindgen(getter, js_name = textTrack)]
    pub fn text_track(&self) -> i32 {
        self.driver
            .with_core(|c| c.text_track())
            .flatten()
            .map_or(-1, |l| l as i32)
    }

    /// Shows a subtitle track (an index of `textTracks`), or none with -1; fires
    /// `texttrackchange`.
    #[wasm_bindgen(setter, js_name = textTrack)]
    pub fn set_text_track(&self, index: i32) {
        self.app(AppRequest::SelectTextTrack(usize::try_from(index).ok()));
    }

    /// Adds a WebVTT file as a subtitle track of the loaded source (call after `load`; the next
    /// `load` drops it) and returns its index in `textTracks` (-1 when nothing is loaded). It
    /// starts hidden: set `textTrack` to show it. `kind` is `subtitles` (default) or `captions`.
    #[wasm_bindgen(js_name = addTextTrack)]
    pub fn add_text_track(
        &self,
        url: &str,
        language: Option<String>,
        name: Option<String>,
        kind: Option<String>,
    ) -> i32 {
        let before = self
            .driver
            .with_core(|c| c.text_tracks().len())
            .unwrap_or(0);
        self.app(AppRequest::AddTextTrack {
            url: absolute(url),
            language: language.filter(|l| !l.is_empty()),
            name: name.unwrap_or_default(),
            kind: if kind.as_deref() == Some("captions") {
                TextTrackKind::Captions
            } else {
                TextTrackKind::Subtitles
            },
        });
        let after = self
            .driver
            .with_core(|c| c.text_tracks().len())
            .unwrap_or(0);
        if after > before {
            before as i32
        } else {
            -1
        }
    }

    /// The subtitle cues on screen now.
    #[wasm_bindgen(getter, js_name = activeCues, unchecked_return_type = "ActiveCue[]")]
    pub fn active_cues(&self) -> JsValue {
        crate::subtitles::cue_objects(
            &self
                .driver
                .with_core(|c| c.active_cues())
                .unwrap_or_default(),
        )
    }

    /// The seek-preview thumbnail for `time` (seconds) from the stream's thumbnail image
    /// tracks (DASH tiled images), taken from the track whose thumbnails are the widest at
    /// most `maxWidth` pixels wide (0 or absent: the widest); `null` when there is none.
    /// Fetch `url` (e.g. as an `<img>` or with `fetch`) and show the rectangle.
    #[wasm_bindgen(unchecked_return_type = "Thumbnail | null")]
    pub fn thumbnail(&self, time: f64, max_width: Option<u32>) -> JsValue {
        let max_width = max_width.filter(|&w| w > 0);
        let Some(t) = self
            .driver
            .with_core(|c| c.thumbnail(time, max_width))
            .flatten()
        else {
            return JsValue::NULL;
        };
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("url", t.url.as_str().into());
        let range = t.range.map_or(JsValue::NULL, |r| {
            let span = Object::new();
            let _ = Reflect::set(&span, &"start".into(), &(r.start as f64).into());
            let _ = Reflect::set(
                &span,
                &"end".into(),
                &(r.end().saturating_sub(1) as f64).into(),
            );
            span.into()
        });
        set("range", range);
        set("x", t.x.into());
        set("y", t.y.into());
        set("width", t.width.into());
        set("height", t.height.into());
        set("start", (t.start_us as f64 / 1e6).into());
        set("duration", (t.duration_us as f64 / 1e6).into());
        o.into()
    }

    /// Quality levels of an adaptive stream, lowest first (empty for a file).
    #[wasm_bindgen(getter, unchecked_return_type = "TrackChoice[]")]
    pub fn qualities(&self) -> JsValue {
        choices(&self.driver.with_core(|c| c.qualities()).unwrap_or_default())
    }

    /// The quality fixed with `selectQuality`, or -1 for automatic selection.
    #[wasm_bindgen(getter, js_name = manualQuality)]
    pub fn manual_quality(&self) -> i32 {
        self.driver
            .with_core(|c| c.manual_quality())
            .flatten()
            .map_or(-1, |l| l as i32)
    }

    /// Fixes the quality (an index of `qualities`), or returns to automatic with -1.
    #[wasm_bindgen(js_name = selectQuality)]
    pub fn select_quality(&self, index: i32) {
        self.app(AppRequest::SelectQuality(usize::try_from(index).ok()));
    }

    /// Caps automatic quality choices to pictures at most this tall (0 removes the cap). The
    /// demo passes the canvas height × devicePixelRatio.
    #[wasm_bindgen(js_name = setMaxVideoHeight)]
    pub fn set_max_video_height(&self, height: u32) {
        self.app(AppRequest::SetMaxVideoHeight(
            (height > 0).then_some(height),
        ));
    }

    /// Alternate audio tracks (languages) of an adaptive stream.
    #[wasm_bindgen(getter, js_name = audioTracks, unchecked_return_type = "TrackChoice[]")]
    pub fn audio_tracks(&self) -> JsValue {
        choices(
            &self
                .driver
                .with_core(|c| c.audio_tracks())
                .unwrap_or_default(),
        )
    }

    /// The audio track in use (index into `audioTracks`), -1 when there is none.
    #[wasm_bindgen(getter, js_name = audioTrack)]
    pub fn audio_track(&self) -> i32 {
        self.driver
            .with_core(|c| c.audio_track())
            .flatten()
            .map_or(-1, |l| l as i32)
    }

    /// Switches the audio track (an index of `audioTracks`); fires `audiotrackchange`.
    #[wasm_bindgen(setter, js_name = audioTrack)]
    pub fn set_audio_track(&self, index: i32) {
        if let Ok(i) = usize::try_from(index) {
            self.app(AppRequest::SelectAudioTrack(i));
        }
    }

    /// Adaptive-stream counters, or `null` for a file.
    #[wasm_bindgen(js_name = streamStats, unchecked_return_type = "StreamStats | null")]
    pub fn stream_stats(&self) -> JsValue {
        let Some(v) = self.driver.with_core(|c| c.stream_stats()).flatten() else {
            return JsValue::NULL;
        };
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("level", (v.level as u32).into());
        set("bitrate", (v.bitrate as f64).into());
        set("throughputBps", v.throughput_bps.into());
        set("bufferSecs", v.buffer_secs.into());
        set("bufferBytes", (v.buffer_bytes as f64).into());
        set("switches", v.switches.into());
        set("abandoned", v.abandoned.into());
        set("retries", v.retries.into());
        set("skipped", v.skipped.into());
        set("segments", v.segments.into());
        o.into()
    }

    /// Starts playback, like `HTMLMediaElement.play()`: resolves once the player is
    /// `playing`; rejects with the typed error when the source fails (`NotSupportedError`,
    /// `NetworkError`, … with `kind`), with an `AbortError` when `pause()` or another `load()`
    /// comes first, and with `NotAllowedError` when the browser refuses sound before a user
    /// gesture (the player is then paused; `play()` from a click starts it).
    ///
    /// Muted playback autoplays wherever a muted `<video>` would: it runs on the page clock
    /// without opening the audio output, and sound joins at the right position once the player
    /// is unmuted and the page may play sound. When the page had a gesture and the engine still
    /// keeps audio suspended, playback goes on silently with an `audio-output` `warning` event.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn play(&self) -> Promise {
        let driver = self.driver.clone();
        if driver.destroyed() {
            return Promise::reject(&error("InvalidStateError", "the player was destroyed"));
        }
        let (state, muted) = driver
            .with_core(|c| (c.state(), c.muted()))
            .unwrap_or((PlaybackState::Idle, false));
        if state == PlaybackState::Error {
            return Promise::reject(&player_error(&self.error()));
        }
        let settle = settle_on(
            driver.target(),
            "playing",
            vec!["pause".into(), "loadstart".into()],
            0,
            "pause() or load() was called before playback started",
        );
        let promise = settle.promise();
        if driver.audio_status() == AudioStatus::Silent && !muted && !audio::user_activated() {
            // Playing silently (muted autoplay) and now unmuted with no gesture yet: refused,
            // as `<video>` refuses it (decided before the core could start).
            refuse(&driver, &settle);
            return promise;
        }
        let already = state == PlaybackState::Playing && !self.paused();
        self.app(AppRequest::Play);
        if already {
            let _ = settle.resolve().call0(&JsValue::NULL);
        }
        match driver.audio_status() {
            AudioStatus::Ready | AudioStatus::Unavailable => return promise,
            AudioStatus::Silent => {
                if !muted {
                    // Maybe inside a gesture now: let sound join.
                    driver.want_sound();
                }
                return promise;
            }
            AudioStatus::Idle | AudioStatus::Opening => {}
        }
        if muted && !audio::may_start() {
            // Muted autoplay: nothing to hear, so no AudioContext (Chromium warns about one
            // made before a gesture); the page clock drives playback.
            driver.go_silent("muted playback before a user gesture", false);
            return promise;
        }
        // Unmuted: try, whatever the gesture state says. TV engines (Tizen, webOS: Chromium
        // with the User Activation API) let apps start sound without a gesture; a desktop
        // browser refuses, and says so in its console, as it does for `<video>`.
        let Some(ctx) = driver.start_audio() else {
            return promise;
        };
        if ctx.state() == AudioContextState::Running {
            return promise;
        }
        // Synchronously, inside the caller's user gesture.
        let resumed = ctx.resume();
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(p) = resumed {
                let race = Promise::race(&js_sys::Array::of2(&p, &delay(RESUME_TIMEOUT_MS)));
                let _ = JsFuture::from(race).await;
            }
            if ctx.state() == AudioContextState::Running
                || matches!(
                    driver.audio_status(),
                    AudioStatus::Ready | AudioStatus::Unavailable | AudioStatus::Silent
                )
            {
                return;
            }
            let muted = driver.with_core(|c| c.muted()).unwrap_or(false);
            if muted || audio::user_activated() {
                // Muted, or the user did interact and the engine has not started the output
                // yet: play on the clock; sound joins when the context runs, and if it still
                // does not after a grace period, a warning says so.
                driver.go_silent("the audio output did not start yet", false);
                if !muted {
                    driver.warn_if_still_silent(
                        ctx,
                        "the audio output did not start; playing on without sound",
                    );
                }
            } else {
                refuse(&driver, &settle);
            }
        });
        promise
    }

    /// Pauses playback.
    pub fn pause(&self) {
        self.app(AppRequest::Pause);
    }

    /// Seeks to `seconds` (clamped to the media): audio lands on the exact sample, video on
    /// the frame whose interval contains it.
    pub fn seek(&self, seconds: f64) {
        self.app(AppRequest::Seek {
            position: seconds,
            mode: SeekMode::Exact,
        });
    }

    /// Seeks to the video keyframe at or before `seconds` (cheaper; like
    /// `HTMLMediaElement.fastSeek`).
    #[wasm_bindgen(js_name = fastSeek)]
    pub fn fast_seek(&self, seconds: f64) {
        self.app(AppRequest::Seek {
            position: seconds,
            mode: SeekMode::Fast,
        });
    }

    /// Draws video into `canvas` (its pixel size is the drawing size: set `width`/`height`
    /// from the CSS size × `devicePixelRatio`, then call `redraw()`). Pictures are letterboxed.
    /// `renderer`: `auto` (default: WebGPU, else WebGL2, else WebGL1, else a 2D canvas),
    /// `webgpu`, `webgl2` (else WebGL1), `webgl1` or `2d`. Resolves to the renderer in use. A
    /// canvas keeps the GPU context it was given: attach a fresh canvas to change renderer.
    #[wasm_bindgen(js_name = attachCanvas, unchecked_return_type = "Promise<'webgpu' | 'webgl2' | 'webgl1' | '2d'>")]
    pub fn attach_canvas(
        &self,
        canvas: web_sys::HtmlCanvasElement,
        renderer: Option<String>,
    ) -> Promise {
        self.driver
            .video()
            .display()
            .attach(canvas, renderer.as_deref().unwrap_or("auto"))
    }

    /// Test and screenshot tap: resolves to `{width, height, data}` (RGBA bytes) of what the
    /// video canvas shows now (a browser does not let pages read a presented WebGPU canvas).
    /// With `width` and `height`, the picture scaled to that size, each pixel the canvas's at
    /// its centre (no smoothing): a probe of a few pixels costs far less than the whole
    /// canvas (a 632×356 WebGL2 canvas: 9–17 ms of the page's main thread on a software GPU).
    #[wasm_bindgen(js_name = captureFrame, unchecked_return_type = "Promise<{ width: number; height: number; data: Uint8ClampedArray }>")]
    pub fn capture_frame(&self, width: Option<u32>, height: Option<u32>) -> Promise {
        let size = match (width, height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some((w.min(16_384), h.min(16_384))),
            _ => None,
        };
        self.driver.video().display().capture(size)
    }

    /// The renderer drawing the video (`webgpu`, `webgl2`, `webgl1`, `2d`), `null` until
    /// attached.
    #[wasm_bindgen(getter)]
    pub fn renderer(&self) -> Option<String> {
        self.driver.video().display().backend().map(str::to_string)
    }

    /// Draws the current picture again (after the canvas was resized).
    pub fn redraw(&self) {
        self.driver.video().display().redraw();
    }

    /// Video counters, or `null` when the source has no video.
    #[wasm_bindgen(js_name = videoStats, unchecked_return_type = "VideoStats | null")]
    pub fn video_stats(&self) -> JsValue {
        let Some(v) = self.driver.with_core(|c| c.video_stats()).flatten() else {
            return JsValue::NULL;
        };
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("decoded", (v.decoded as f64).into());
        // Presented pictures the display never got onto the canvas count as dropped.
        let unshown = self.driver.video().display().unshown.get().min(v.presented);
        set("presented", ((v.presented - unshown) as f64).into());
        set("dropped", ((v.dropped + unshown) as f64).into());
        set("catchUps", (v.catch_ups as f64).into());
        set("avOffsetMs", v.av_offset_ms.into());
        set("inFlight", v.in_flight.into());
        set("queued", v.queued.into());
        set("decoderErrors", v.decoder_errors.into());
        set("held", (self.driver.video().held() as u32).into());
        let video = self.driver.video();
        set(
            "decodePath",
            video.decode_path().map_or(JsValue::NULL, JsValue::from),
        );
        set("decodeLatencyMs", video.decode_latency_ms().into());
        set("skipped", (video.skipped() as f64).into());
        set("converted", (video.display().converted.get() as f64).into());
        set("presentLeadMs", video.display().lead_ms().into());
        o.into()
    }

    /// What this engine offers: WebCodecs, WebGPU (an adapter), WebGL2, Media Source
    /// Extensions, and per decode path which of avc1, hvc1, vp09, av01, mp4a, opus it decodes.
    #[wasm_bindgen(unchecked_return_type = "Promise<Capabilities>")]
    pub fn capabilities() -> Promise {
        crate::caps::capabilities()
    }

    /// How video is decoded from the next load or seek on: `auto` (default: WebCodecs when
    /// the engine has `VideoDecoder`, else Media Source Extensions), `webcodecs` or `mse`.
    /// Throws a `TypeError` for anything else.
    #[wasm_bindgen(js_name = setDecodePath)]
    pub fn set_decode_path(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'auto' | 'webcodecs' | 'mse'")] path: &str,
    ) -> Result<(), JsValue> {
        let p = crate::video::DecodePath::parse(path).ok_or_else(|| {
            JsValue::from(js_sys::TypeError::new(&format!(
                "decode path must be 'auto', 'webcodecs' or 'mse', not {path:?}"
            )))
        })?;
        self.driver.video().set_decode_path(p);
        Ok(())
    }

    /// Where the output device's latency, held back from the clock so that `currentTime` says
    /// what is heard, comes from: `'ignore'` (default: only the context's `baseLatency`
    /// counts), `'read'` (`AudioContext.outputLatency`, read once the output has played a
    /// second) or a number of seconds the app knows (`0 ≤ s < 1`, e.g. a TV platform's
    /// documented latency). Not read by default because Firefox answers the first read with a
    /// synchronous call to its audio process that can hang the tab for good (seen with Firefox
    /// ESR 153.8 on Linux/PulseAudio: 1 page in 14–40); without it the clock is early by the
    /// device latency (32 ms in Chromium on PulseAudio), within lip-sync tolerances. Throws a
    /// `TypeError` for anything else.
    #[wasm_bindgen(js_name = setOutputLatency)]
    pub fn set_output_latency(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'ignore' | 'read' | number")] value: JsValue,
    ) -> Result<(), JsValue> {
        let policy = match (value.as_string().as_deref(), value.as_f64()) {
            (Some("ignore"), _) => audio::OutputLatency::Ignore,
            (Some("read"), _) => audio::OutputLatency::Read,
            (None, Some(s)) if (0.0..1.0).contains(&s) => audio::OutputLatency::Fixed(s),
            _ => {
                return Err(js_sys::TypeError::new(&format!(
                    "output latency must be 'ignore', 'read' or seconds in [0, 1), not {value:?}"
                ))
                .into())
            }
        };
        self.driver.set_output_latency(policy);
        Ok(())
    }

    /// The decode path of the video being played (`webcodecs`, `mse`), `null` without video.
    #[wasm_bindgen(getter, js_name = decodePath, unchecked_return_type = "DecodePath | null")]
    pub fn decode_path(&self) -> JsValue {
        self.driver
            .video()
            .decode_path()
            .map_or(JsValue::NULL, JsValue::from)
    }

    /// Playback position in seconds (smooth between the core's updates).
    #[wasm_bindgen(getter, js_name = currentTime)]
    pub fn current_time(&self) -> f64 {
        self.driver
            .with_core(|c| c.current_time_at(now()))
            .unwrap_or(0.0)
    }

    /// Seeks (same as `seek`).
    #[wasm_bindgen(setter, js_name = currentTime)]
    pub fn set_current_time(&self, seconds: f64) {
        self.seek(seconds);
    }

    /// Duration in seconds, `NaN` until known, `Infinity` while the stream is live (as
    /// `HTMLMediaElement.duration`).
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> f64 {
        self.driver
            .with_core(|c| {
                if c.is_live() {
                    Some(f64::INFINITY)
                } else {
                    c.duration()
                }
            })
            .flatten()
            .unwrap_or(f64::NAN)
    }

    /// The seekable range `[start, end]` in seconds, or `null` before anything is loaded:
    /// `[0, duration]` for a file or VOD stream; for a live stream the DVR window (oldest
    /// segment still listed, live edge as of the last reload). Seeks land inside it, live ones
    /// at most hold-back behind the edge.
    #[wasm_bindgen(getter, unchecked_return_type = "[number, number] | null")]
    pub fn seekable(&self) -> JsValue {
        let range = self.driver.with_core(|c| {
            if c.is_live() {
                c.live_window()
            } else {
                c.duration().map(|d| (0.0, d))
            }
        });
        match range.flatten() {
            Some((a, b)) => js_sys::Array::of2(&a.into(), &b.into()).into(),
            None => JsValue::NULL,
        }
    }

    /// True unless playback was requested (like `HTMLMediaElement.paused`).
    #[wasm_bindgen(getter)]
    pub fn paused(&self) -> bool {
        self.driver.with_core(|c| c.paused()).unwrap_or(true)
    }

    /// True from a seek until its `seeked` (like `HTMLMediaElement.seeking`).
    #[wasm_bindgen(getter)]
    pub fn seeking(&self) -> bool {
        self.driver.with_core(|c| c.seeking()).unwrap_or(false)
    }

    /// `'idle' | 'loading' | 'paused' | 'playing' | 'buffering' | 'ended' | 'error'`.
    #[wasm_bindgen(getter, unchecked_return_type = "PlayerState")]
    pub fn state(&self) -> String {
        self.driver
            .with_core(|c| c.state().as_str().to_string())
            .unwrap_or_default()
    }

    /// The current error as `{kind, message}`, or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "PlayerError | null")]
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
        if !m {
            // Unmuting inside a gesture is what lets a muted autoplay's sound start.
            self.driver.want_sound();
        }
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
    #[wasm_bindgen(getter, js_name = mediaInfo, unchecked_return_type = "MediaInfo | null")]
    pub fn media_info(&self) -> JsValue {
        self.driver
            .with_core(|c| c.media_info().map(events::info_object))
            .flatten()
            .unwrap_or(JsValue::NULL)
    }

    /// Registers a listener, exactly like `EventTarget.addEventListener` (typed overloads are
    /// in the `Player` interface of the custom TypeScript section).
    #[wasm_bindgen(js_name = addEventListener, skip_typescript)]
    pub fn add_event_listener(
        &self,
        kind: &str,
        listener: JsValue,
        options: Option<JsValue>,
    ) -> Result<(), JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        events::add_listener(self.driver.target(), kind, &listener, &options)
    }

    /// Removes a listener, exactly like `EventTarget.removeEventListener`.
    #[wasm_bindgen(js_name = removeEventListener, skip_typescript)]
    pub fn remove_event_listener(
        &self,
        kind: &str,
        listener: JsValue,
        options: Option<JsValue>,
    ) -> Result<(), JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        events::remove_listener(self.driver.target(), kind, &listener, &options)
    }

    /// Test tap: RMS level of the output after the volume (worklet → gain → analyser), over
    /// the last 2048 frames. Proves sound comes out.
    #[wasm_bindgen(js_name = audioLevel)]
    pub fn audio_level(&self) -> f64 {
        self.driver.with_audio(|a| a.level()).unwrap_or(0.0)
    }

    /// Test tap: `{framesPlayed, audioMode, sampleRate, underruns, baseLatency, outputLatency}`
    /// of the audio output. `framesPlayed` counts frames the worklet consumed since it opened
    /// (all epochs); the clock uses them minus `baseLatency + outputLatency`.
    #[wasm_bindgen(unchecked_return_type = "PlayerStats")]
    pub fn stats(&self) -> JsValue {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        let opened = self.driver.with_audio(|a| {
            set("framesPlayed", (a.frames_played() as f64).into());
            set("audioMode", a.mode().into());
            set("sampleRate", a.sample_rate().into());
            set("underruns", a.underruns().into());
            let latency = a.latency();
            set("baseLatency", latency.base.into());
            set("outputLatency", latency.output.into());
        });
        if opened.is_none() {
            let rate = self.driver.context().map_or(0.0, |c| c.sample_rate());
            set("framesPlayed", 0.into());
            set("audioMode", JsValue::NULL);
            set("sampleRate", rate.into());
            set("underruns", 0.into());
            set("baseLatency", 0.into());
            set("outputLatency", 0.into());
        }
        o.into()
    }

    /// Delivers a logical key (`KeyName`: `"PlayPause"`, `"Ok"`, `"Digit5"`, ...) from the
    /// device's remote, keyboard or gamepad; device shims map their key codes onto these.
    /// With the on-screen controls on, D-pad keys navigate them; otherwise keys act through
    /// the key map (arrows seek / change the volume). A key nothing uses fires
    /// `unhandledkey`. Returns false for an unknown name.
    pub fn key(&self, name: &str, down: Option<bool>, repeat: Option<bool>) -> bool {
        let Some(key) = kinema_core::Key::from_name(name) else {
            return false;
        };
        let input = if down.unwrap_or(true) {
            kinema_core::InputEvent::KeyDown {
                key,
                repeat: repeat.unwrap_or(false),
            }
        } else {
            kinema_core::InputEvent::KeyUp { key }
        };
        self.driver.send(HostEvent::Input(input));
        true
    }

    /// Binds a logical key to an action for this player: `toggle-play`, `play`, `pause`,
    /// `stop`, `mute`, `seek:<seconds>`, `volume:<delta>`, `seek-fraction:<0..1>`, or `null`
    /// to unbind (the key then fires `unhandledkey`). Keys the on-screen controls use are
    /// theirs while they are on. Returns false for an unknown key or action.
    #[wasm_bindgen(js_name = bindKey)]
    pub fn bind_key(&self, name: &str, action: Option<String>) -> bool {
        let Some(key) = kinema_core::Key::from_name(name) else {
            return false;
        };
        let action = match action.as_deref().map(kinema_core::Action::parse) {
            Some(None) => return false,
            Some(a) => a,
            None => None,
        };
        self.app(AppRequest::BindKey { key, action });
        true
    }

    /// Whether the core's on-screen controls are on (off by default). While on, every change
    /// of what they show fires `controlschange` with the view to draw.
    #[wasm_bindgen(getter)]
    pub fn controls(&self) -> bool {
        self.driver
            .with_core(|c| c.controls_enabled())
            .unwrap_or(false)
    }

    /// Turns the on-screen controls on or off.
    #[wasm_bindgen(setter)]
    pub fn set_controls(&self, on: bool) {
        self.app(AppRequest::SetControls(on));
    }

    /// A pointer activated a control: a button id (`"playpause"`, `"audio"`, ...) or the
    /// index of an entry of the open menu.
    #[wasm_bindgen(js_name = controlsActivate)]
    pub fn controls_activate(&self, target: JsValue) {
        use kinema_core::controls::{ControlId, ControlTarget};
        let target = if let Some(n) = target.as_f64() {
            (n >= 0.0).then_some(ControlTarget::Item(n as usize))
        } else {
            target
                .as_string()
                .and_then(|s| ControlId::from_name(&s))
                .map(ControlTarget::Button)
        };
        if let Some(t) = target {
            self.app(AppRequest::ControlsActivate(t));
        }
    }

    /// The pointer moved over the video: show the controls and restart their hide timer.
    #[wasm_bindgen(js_name = controlsPoke)]
    pub fn controls_poke(&self) {
        self.app(AppRequest::ControlsPoke);
    }

    /// Goes to the background: releases decoders, pictures, buffers and connections and
    /// remembers position, play state and track choices (`suspended` event).
    pub fn suspend(&self) {
        self.app(AppRequest::Suspend);
    }

    /// Back from the background: reloads and restores what `suspend` remembered (`resumed`
    /// event once the position is restored).
    pub fn resume(&self) {
        self.app(AppRequest::Resume);
    }

    /// True between `suspend()` and `resume()`.
    #[wasm_bindgen(getter)]
    pub fn suspended(&self) -> bool {
        self.driver.with_core(|c| c.suspended()).unwrap_or(false)
    }

    /// The device's memory budget for media in megabytes (device profiles; 0 or less: the
    /// defaults). It sets the byte budgets of the file cache and segment buffer from the next
    /// `load`.
    #[wasm_bindgen(js_name = setMemoryBudget)]
    pub fn set_memory_budget(&self, megabytes: f64) {
        let bytes =
            (megabytes.is_finite() && megabytes > 0.0).then_some((megabytes * 1048576.0) as u64);
        self.app(AppRequest::SetMemoryBudget(bytes));
    }

    /// The memory budget in effect, megabytes (`null`: the defaults).
    #[wasm_bindgen(getter, js_name = memoryBudget)]
    pub fn memory_budget(&self) -> Option<f64> {
        self.driver
            .with_core(|c| c.memory_budget())
            .flatten()
            .map(|b| b as f64 / 1048576.0)
    }

    /// Stops everything: unloads, stops timers, aborts fetches, closes the AudioContext. The
    /// player is inert afterwards (call `free()` to release its memory).
    pub fn destroy(&self) {
        self.app(AppRequest::Unload);
        self.driver.destroy();
    }
}

/// `url` resolved against the page (the core resolves manifest-relative URLs against it).
fn absolute(url: &str) -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .and_then(|base| web_sys::Url::new_with_base(url, &base).ok())
        .map_or_else(|| url.to_string(), |u| u.href())
}

/// Rejects a `play()` the autoplay policy refused. Like `<video>`, the player is left paused,
/// so `paused`, `state` and the clock agree; `play()` from a click then starts it.
fn refuse(driver: &Driver, settle: &Settle) {
    let _ = settle.reject().call1(
        &JsValue::NULL,
        &error(
            "NotAllowedError",
            "sound may not start before the user interacts with the page (a muted player autoplays)",
        ),
    );
    driver.send(HostEvent::App(AppRequest::Pause));
}

fn error(name: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name(name);
    err.into()
}

fn choices(list: &[kinema_core::adaptive::source::TrackChoice]) -> JsValue {
    let arr = js_sys::Array::new();
    for c in list {
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("index", (c.index as u32).into());
        set("id", c.id.as_str().into());
        set("bandwidth", (c.bandwidth as f64).into());
        set("height", c.height.into());
        set(
            "language",
            c.language.as_deref().map_or(JsValue::NULL, JsValue::from),
        );
        set("name", c.name.as_str().into());
        arr.push(&o);
    }
    arr.into()
}
