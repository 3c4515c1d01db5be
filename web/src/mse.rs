//! Video decoding without WebCodecs (older TV engines): a hidden, muted `<video>` fed by
//! Media Source Extensions plays the role of the platform `VideoDecoder`. The core does not
//! know: it sends the same `ConfigureVideoDecoder` / `DecodeVideo` / `FlushVideoDecoder`
//! commands and gets the same `VideoFrameDecoded` / `VideoDecoderFlushed` events back; it keeps
//! the clock and decides what is presented when, exactly as with WebCodecs.
//!
//! # Bytes in
//! `ConfigureVideoDecoder` becomes an init segment and every `DecodeVideo` chunk one media
//! segment (`kinema_core::remux::fmp4`: the container work is the core's; this file only moves
//! bytes). They are appended in order through a queue of SourceBuffer operations (one append
//! or remove at a time, the next on `updateend`). A new generation (seek, restart) empties the
//! SourceBuffer (`abort` + `remove`) and appends the init segment again; a configuration of
//! another codec gets a fresh `MediaSource`.
//!
//! # Pictures out
//! A `<video>` only hands out pictures as it plays them, so it is driven to play *ahead* of the
//! core's clock, muted, and every picture it presents is caught with
//! `requestVideoFrameCallback` (whose `mediaTime` is the chunk's timestamp exactly: the writer
//! uses a 1 MHz timescale) and copied, in that callback, into a CPU canvas (`drawImage`;
//! `VideoFrame` does not exist on these engines). The copy is the picture reported as
//! `VideoFrameDecoded`; the display draws it like a WebCodecs frame (2D canvas `drawImage`, or
//! read back as RGBA for kinema-render). Chunks whose picture the element never presented
//! (it skipped them, or they lie before a seek target it jumped to) are reported too, as
//! [`Picture::Missing`], so the core's in-flight accounting stays exact; presenting one keeps
//! the previous picture on screen (counted in `skipped`).
//!
//! # Staying in step with the core's clock
//! - The element needs more input before pictures come out than a WebCodecs decoder: the
//!   driver raises the core's decode-ahead bound to [`DECODER_DEPTH`] chunks on this path.
//! - After every core run the driver calls [`MseVideo::sync`] with the clock. While the core
//!   wants to play, the element plays at the core's rate; once it is less than
//!   [`LOW_WATER`] − 1 pictures' time ahead of the clock (with fewer than [`LOW_WATER`]
//!   snapshots waiting) it plays [`CATCH_UP`] times faster until it is [`LOW_WATER`] + ½
//!   pictures ahead again (hysteresis: each rate change costs a picture),
//!   and with [`HIGH_WATER`] or more it pauses (backpressure: the core's own decode-ahead
//!   bounds then stop the feeding, so the element never runs far ahead). When the core is
//!   paused, the element runs on until [`LOW_WATER`] snapshots wait, then pauses: a `play()`
//!   starts with the lead already there. A generation that starts while the core plays (a
//!   load with autoplay, a seek during playback) holds its first pictures back from the core
//!   until [`LOW_WATER`] are there, so the core's clock starts with the same lead.
//! - Seeks: a new generation lands the element on the picture the core will want first. The
//!   core's position at `ConfigureVideoDecoder` is the seek target (the keyframe for a fast
//!   seek); as soon as the chunk whose interval holds it has been queued, the element is sought
//!   to the middle of that picture (never to a frame boundary, where engines differ about
//!   which picture they show). The pictures before it come back as `Missing` and the core
//!   releases them, as it releases the pictures before an exact-seek target from WebCodecs.
//! - Flush (end of stream): `endOfStream()`, then the element plays to its end; when every
//!   queued chunk has been answered, `VideoDecoderFlushed`.
//! - Engines without `requestVideoFrameCallback` are polled every animation frame: the chunk
//!   whose interval holds `currentTime` is the picture on show.
//!
//! # Audio
//! The core decodes AAC/MP3/FLAC from progressive MP4 itself, so an H.264/AAC file needs no
//! platform audio decoder on this path. Audio that needs the platform `AudioDecoder` (Opus,
//! Vorbis, AAC in fragmented MP4) still goes to WebCodecs' `AudioDecoder`; where that is missing
//! too, the host answers `AudioDecoderError { unsupported: true }` ("no WebCodecs
//! AudioDecoder") and the load fails with an `unsupported` error.
//!
//! Limits: one picture is held per snapshot (at most the core's decode-ahead bound); data
//! behind the playhead is removed from the SourceBuffer as playback proceeds.
//!
//! # Interface
//! [`MseVideo`] implements `crate::backend::VideoBackend` (the video host, `crate::video`,
//! picks it per configuration); its pictures go into the shared store (`crate::picture`).
//! The video host also reads [`DECODER_DEPTH`] and [`ClockView`] comes from `crate::backend`.
//!
//! This file is longer than the crate's ~800-line guide on purpose: it is one state machine
//! ([`MseVideo`]'s `State`, under one borrow) over one element, and the SourceBuffer queue,
//! the landing after a seek, snapshot capture and the pacing against the clock all read and
//! write the same fields; split across files they would have to share that state anyway.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::rc::{Rc, Weak};

use js_sys::{Function, Reflect};
use kinema_core::remux::fmp4::{Fmp4Writer, RemuxError};
use kinema_core::{EncodedChunk, FrameId, HostEvent, VideoDecoderConfig};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlVideoElement, MediaSource, MediaSourceReadyState, SourceBuffer};

use crate::backend::{ClockView, Sink, VideoBackend};
use crate::js::{gc_callback, message};
use crate::picture::{cpu_canvas, draw_image, Picture, PictureIds, Pictures};
use crate::timer::now;

/// Chunks the core may keep inside this decoder (`HostEvent::VideoDecoderDepth`): Chromium's
/// `<video>` shows an H.264 picture ~250 ms after its chunk is appended (measured: mean
/// append-to-snapshot time), more than WebCodecs' default bound of 8 chunks covers at 30 fps.
pub const DECODER_DEPTH: u32 = 16;
/// Snapshots waiting to be presented at which the element pauses: the core's own bound on
/// decoded pictures waiting (`kinema_core::video::MAX_DECODED`).
pub const HIGH_WATER: usize = 6;
/// Below this many waiting snapshots the element plays faster than the clock. The snapshots
/// waiting are the element's lead over the clock (4 pictures: 133 ms at 30 fps): the element
/// presents pictures on the compositor's schedule and a late rendering step (a loaded CPU, a
/// canvas readback) delays or skips some; with a lead of one or two pictures (the bounds
/// before 2026-12-06) every such hiccup put late pictures on screen (A/V −150…−500 ms in a CI
/// run); with four the clock rarely catches up with the element.
pub const LOW_WATER: usize = 4;
/// The element's rate relative to the clock while it catches up.
pub const CATCH_UP: f64 = 1.25;
/// The element's rate relative to the clock while it is behind the clock.
pub const BEHIND: f64 = 1.5;
/// Longest a generation's first pictures are held back from the core (see `State::holding`).
const HOLD_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);
/// A chunk whose picture ends this long before the element's position was passed over
/// (the engine dropped it): it is answered as missing.
const PASSED_US: i64 = 80_000;
/// How long after landing (the seek queued, the element's seek over, its picture ready) a
/// paused element's picture is read by polling when no frame callback named it: Firefox fires
/// none for the picture a paused element seeks to; Chromium's comes within a frame or two. Long
/// enough that a late callback under load still wins: a picture read by polling right after a
/// seek can be the one from before it (Chromium paints late).
const LANDING_GRACE: std::time::Duration = std::time::Duration::from_millis(400);
/// Chunks appended between two removals of data behind the playhead.
const EVICT_EVERY: u32 = 120;
/// Seconds of data kept behind the element's playhead.
const KEEP_BEHIND_S: f64 = 3.0;

#[wasm_bindgen]
extern "C" {
    /// An `HTMLVideoElement` with `requestVideoFrameCallback` (not in web-sys' stable set).
    #[wasm_bindgen(extends = HtmlVideoElement)]
    type FrameCallbacks;
    #[wasm_bindgen(method, js_name = requestVideoFrameCallback)]
    fn request_video_frame_callback(this: &FrameCallbacks, cb: &js_sys::Function) -> u32;
    #[wasm_bindgen(method, js_name = cancelVideoFrameCallback)]
    fn cancel_video_frame_callback(this: &FrameCallbacks, handle: u32);
}

fn has(target: &JsValue, name: &str) -> bool {
    Reflect::has(target, &JsValue::from_str(name)).unwrap_or(false)
}

/// True when the page has Media Source Extensions.
pub fn available() -> bool {
    has(&js_sys::global(), "MediaSource")
}

/// `MediaSource.isTypeSupported(mime)`, false without MSE.
pub fn supports(mime: &str) -> bool {
    available() && MediaSource::is_type_supported(mime)
}

/// True when this path can decode `config`: the core can remux it to fragmented MP4 and the
/// engine's MSE takes that type.
pub fn can_decode(config: &VideoDecoderConfig) -> bool {
    Fmp4Writer::new(config).is_ok_and(|w| supports(&w.mime_type()))
}

enum Op {
    /// Empty the SourceBuffer (a new generation).
    Clear,
    Append(Vec<u8>),
    Remove(f64, f64),
    Seek(f64),
    EndOfStream,
}

struct Chunk {
    dur: i64,
    /// Host time (ms) it was queued.
    queued_ms: f64,
}

struct State {
    video: HtmlVideoElement,
    source: MediaSource,
    url: String,
    buffer: Option<SourceBuffer>,
    /// MIME type of `buffer`, or the one wanted while the MediaSource opens.
    mime: Option<String>,
    open: bool,
    writer: Option<Fmp4Writer>,
    generation: u32,
    /// Configured and not closed.
    active: bool,
    ops: VecDeque<Op>,
    /// Chunks queued and not answered yet, by presentation time.
    pending: BTreeMap<i64, Chunk>,
    /// The core's position (µs) to land on, until the element's seek is queued.
    goal: Option<i64>,
    /// Presentation time of the picture the element was sent to: earlier missing pictures
    /// were jumped over on purpose, later ones were skipped.
    target: i64,
    first: bool,
    /// The element has been sent to this generation's first picture (before that, its
    /// position and pictures belong to what it played before).
    landed: bool,
    /// The element's picture at the landing point has been captured: until then it stays
    /// paused while the core is paused (see [`MseVideo::sync`]).
    shown: bool,
    /// When the element was sent to the landing point.
    landed_at: std::time::Duration,
    /// Snapshots reported and not yet presented or released.
    unpresented: HashSet<u64>,
    flush: bool,
    /// Duration (µs) of the latest chunk queued: the picture interval the lead is measured in.
    frame_us: i64,
    since_evict: u32,
    rvfc: Option<u32>,
    /// The element is catching up with its lead (see [`MseVideo::sync`]'s hysteresis).
    catching: std::cell::Cell<bool>,
    /// A generation that starts while the core plays holds its first pictures back until
    /// [`LOW_WATER`] are there (or [`HOLD_LIMIT`] passed): the core starts its clock at the
    /// first picture it gets, and starting with a lead of one picture made the element catch
    /// up at 1.25× while the page was busiest (a load, a seek), where it skipped pictures: a
    /// CI run held one on screen for 6 animation frames in the first half second.
    holding: bool,
    /// When the hold began.
    hold_since: std::time::Duration,
    /// Events held back meanwhile, in order.
    held_out: Vec<HostEvent>,
    latency_sum: f64,
    latency_n: u32,
    skipped: u64,
}

/// The MSE decoder: one hidden `<video>` and its MediaSource, reused across generations.
pub struct MseVideo {
    sink: Sink,
    pictures: Pictures,
    next_id: PictureIds,
    clock: Option<Rc<dyn Fn() -> ClockView>>,
    state: RefCell<State>,
    // The element's, the MediaSource's and the frame callbacks: they belong to JS
    // ([`gc_callback`]), as events can still come after this decoder is dropped, and reach it
    // through a `Weak`.
    on_open: Function,
    on_update: Function,
    on_frame: Function,
    on_poll: Function,
    on_ended: Function,
    on_error: Function,
    has_rvfc: bool,
}

impl MseVideo {
    /// Creates the element (hidden, muted, in the page so that it is composited) and its
    /// MediaSource. Fails without MSE.
    pub fn new(
        sink: Sink,
        pictures: Pictures,
        next_id: PictureIds,
        clock: Option<Rc<dyn Fn() -> ClockView>>,
    ) -> Result<Rc<MseVideo>, String> {
        if !available() {
            return Err("no Media Source Extensions (MediaSource) in this browser".into());
        }
        let doc = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let video = doc
            .create_element("video")
            .and_then(|e| e.dyn_into::<HtmlVideoElement>().map_err(JsValue::from))
            .map_err(|e| message(&e))?;
        video.set_muted(true);
        video.set_default_muted(true);
        let _ = video.set_attribute("playsinline", "");
        let _ = video.set_attribute("aria-hidden", "true");
        // In the page and (barely) visible, so the engine composites its pictures at the
        // display rate; a detached or `display: none` element is painted rarely, if at all.
        // Through the CSSOM: a `style` attribute is refused by a Content-Security-Policy
        // without `style-src 'unsafe-inline'`.
        let style = video.style();
        for (k, v) in [
            ("position", "fixed"),
            ("left", "0"),
            ("top", "0"),
            ("width", "2px"),
            ("height", "2px"),
            ("opacity", "0.01"),
            ("pointer-events", "none"),
            ("z-index", "-1"),
        ] {
            let _ = style.set_property(k, v);
        }
        if let Some(body) = doc.body() {
            let _ = body.append_child(&video);
        }
        let source = MediaSource::new().map_err(|e| message(&e))?;
        let has_rvfc = has(&video, "requestVideoFrameCallback");
        let me = Rc::new_cyclic(|me: &Weak<MseVideo>| {
            let on_open = callback(me, MseVideo::opened);
            let on_update = callback(me, MseVideo::pump);
            let weak = me.clone();
            let on_frame = gc_callback(Closure::<dyn FnMut(f64, JsValue)>::new(
                move |_: f64, meta: JsValue| {
                    if let Some(m) = weak.upgrade() {
                        let t = Reflect::get(&meta, &"mediaTime".into())
                            .ok()
                            .and_then(|v| v.as_f64());
                        m.frame_shown(t, true);
                    }
                },
            ));
            let weak = me.clone();
            let on_poll = gc_callback(Closure::<dyn FnMut(f64)>::new(move |_: f64| {
                if let Some(m) = weak.upgrade() {
                    m.frame_shown(None, true);
                }
            }));
            let on_ended = callback(me, MseVideo::ended);
            let on_error = callback(me, MseVideo::failed);
            MseVideo {
                sink,
                pictures,
                next_id,
                clock,
                state: RefCell::new(State {
                    video: video.clone(),
                    source: source.clone(),
                    url: String::new(),
                    buffer: None,
                    mime: None,
                    open: false,
                    writer: None,
                    generation: 0,
                    active: false,
                    ops: VecDeque::new(),
                    pending: BTreeMap::new(),
                    goal: None,
                    target: i64::MIN,
                    first: true,
                    landed: false,
                    landed_at: std::time::Duration::ZERO,
                    shown: false,
                    unpresented: HashSet::new(),
                    flush: false,
                    frame_us: 33_333,
                    since_evict: 0,
                    rvfc: None,
                    catching: std::cell::Cell::new(false),
                    holding: false,
                    hold_since: std::time::Duration::ZERO,
                    held_out: Vec::new(),
                    latency_sum: 0.0,
                    latency_n: 0,
                    skipped: 0,
                }),
                on_open,
                on_update,
                on_frame,
                on_poll,
                on_ended,
                on_error,
                has_rvfc,
            }
        });
        let _ = video.add_event_listener_with_callback("ended", &me.on_ended);
        let _ = video.add_event_listener_with_callback("error", &me.on_error);
        me.attach_source(source).map_err(|e| message(&e))?;
        Ok(me)
    }

    /// Points the element at `source` (a new MediaSource) and waits for `sourceopen`.
    fn attach_source(&self, source: MediaSource) -> Result<(), JsValue> {
        let mut st = self.state.borrow_mut();
        source.set_onsourceopen(Some(&self.on_open));
        let url = web_sys::Url::create_object_url_with_source(&source)?;
        st.video.set_src(&url);
        if !st.url.is_empty() {
            let _ = web_sys::Url::revoke_object_url(&st.url);
        }
        st.url = url;
        st.source = source;
        st.buffer = None;
        st.open = false;
        Ok(())
    }

    fn opened(&self) {
        let error = {
            let mut st = self.state.borrow_mut();
            // A `sourceopen` of a MediaSource replaced meanwhile: wait for the current one's.
            if st.source.ready_state() != MediaSourceReadyState::Open {
                return;
            }
            st.open = true;
            match st.mime.clone() {
                Some(mime) if st.buffer.is_none() => match st.source.add_source_buffer(&mime) {
                    Ok(sb) => {
                        sb.set_onupdateend(Some(&self.on_update));
                        st.buffer = Some(sb);
                        None
                    }
                    Err(e) => Some((st.generation, message(&e))),
                },
                _ => None,
            }
        };
        if let Some((generation, message)) = error {
            self.emit(vec![HostEvent::VideoDecoderError {
                generation,
                unsupported: true,
                message,
            }]);
            return;
        }
        self.pump();
    }

    /// (Re)starts decoding for `generation`.
    pub fn configure(&self, generation: u32, config: &VideoDecoderConfig) {
        let position = self.clock.as_ref().map_or(0.0, |c| c().position);
        let result = (|| -> Result<(), (bool, String)> {
            let writer = Fmp4Writer::new(config)
                .map_err(|e| (matches!(e, RemuxError::Unsupported(_)), e.to_string()))?;
            let mime = writer.mime_type();
            if !supports(&mime) {
                return Err((true, format!("this browser's MSE cannot decode {mime}")));
            }
            // H.264 in Annex B form (MPEG-TS): the init segment comes with the first keyframe.
            let init = if writer.waits_for_keyframe() {
                None
            } else {
                Some(writer.init_segment().map_err(|e| (false, e.to_string()))?)
            };
            let (fresh, stale) = {
                let mut st = self.state.borrow_mut();
                // The previous generation's held pictures go to the core, which releases
                // them as stale (as it does late WebCodecs outputs).
                let stale = std::mem::take(&mut st.held_out);
                st.holding = true;
                st.hold_since = now();
                st.generation = generation;
                st.active = true;
                st.writer = Some(writer);
                st.ops.clear();
                st.pending.clear();
                st.goal = Some((position * 1e6).round() as i64);
                st.target = i64::MIN;
                st.first = true;
                st.landed = false;
                st.shown = false;
                st.flush = false;
                st.since_evict = 0;
                // After a decode error the element keeps its error until it loads a new source.
                let reuse = st.buffer.is_some()
                    && st.mime.as_deref() == Some(mime.as_str())
                    && st.video.error().is_none();
                if reuse {
                    if let Some(sb) = st.buffer.as_ref() {
                        if sb.updating() && st.source.ready_state() == MediaSourceReadyState::Open {
                            let _ = sb.abort();
                        }
                    }
                    st.ops.push_back(Op::Clear);
                }
                if let Some(init) = init {
                    st.ops.push_back(Op::Append(init));
                }
                st.mime = Some(mime);
                (!reuse, stale)
            };
            for e in stale {
                (self.sink)(e);
            }
            if fresh {
                let source = MediaSource::new().map_err(|e| (false, message(&e)))?;
                self.attach_source(source)
                    .map_err(|e| (false, message(&e)))?;
            }
            self.watch_frames();
            Ok(())
        })();
        match result {
            Ok(()) => self.pump(),
            Err((unsupported, message)) => {
                self.state.borrow_mut().active = false;
                self.emit(vec![HostEvent::VideoDecoderError {
                    generation,
                    unsupported,
                    message,
                }]);
            }
        }
    }

    /// (Re)arms the per-picture callback: exactly one is pending at any time.
    fn watch_frames(&self) {
        let mut st = self.state.borrow_mut();
        if self.has_rvfc {
            if let Some(h) = st.rvfc.take() {
                st.video
                    .unchecked_ref::<FrameCallbacks>()
                    .cancel_video_frame_callback(h);
            }
            let h = st
                .video
                .unchecked_ref::<FrameCallbacks>()
                .request_video_frame_callback(&self.on_frame);
            st.rvfc = Some(h);
        } else if st.rvfc.is_none() {
            if let Some(w) = web_sys::window() {
                st.rvfc = w
                    .request_animation_frame(&self.on_poll)
                    .ok()
                    .map(|h| h as u32);
            }
        }
    }

    /// Queues one chunk.
    pub fn decode(&self, generation: u32, chunk: &EncodedChunk) {
        let error = {
            let mut st = self.state.borrow_mut();
            if !st.active || st.generation != generation {
                return;
            }
            let segment = match st.writer.as_mut() {
                Some(w) => w.media_segment(std::slice::from_ref(chunk)),
                None => return,
            };
            match segment {
                Err(e) => Some(e.to_string()),
                Ok(segment) => {
                    st.ops.push_back(Op::Append(segment));
                    let dur = chunk.duration_us.max(1);
                    st.frame_us = dur;
                    st.pending.insert(
                        chunk.timestamp_us,
                        Chunk {
                            dur,
                            queued_ms: now().as_secs_f64() * 1000.0,
                        },
                    );
                    if let Some(goal) = st.goal {
                        let pts = chunk.timestamp_us;
                        if (pts <= goal && goal < pts + dur) || (st.first && pts >= goal) {
                            st.goal = None;
                            st.target = pts;
                            st.ops
                                .push_back(Op::Seek((pts as f64 + dur as f64 / 2.0) / 1e6));
                        }
                    }
                    st.first = false;
                    st.since_evict += 1;
                    if st.since_evict >= EVICT_EVERY {
                        st.since_evict = 0;
                        let t = st.video.current_time();
                        if t > 2.0 * KEEP_BEHIND_S {
                            st.ops.push_back(Op::Remove(0.0, t - KEEP_BEHIND_S));
                        }
                    }
                    None
                }
            }
        };
        if let Some(message) = error {
            self.emit(vec![HostEvent::VideoDecoderError {
                generation,
                unsupported: false,
                message,
            }]);
            return;
        }
        self.pump();
    }

    /// End of stream: the element plays out what it holds; `VideoDecoderFlushed` follows once
    /// every chunk is answered.
    pub fn flush(&self, generation: u32) {
        {
            let mut st = self.state.borrow_mut();
            if !st.active || st.generation != generation {
                return;
            }
            st.flush = true;
            if st.goal.take().is_some() {
                // The target lies after every picture: land on the last one.
                if let Some((pts, at)) = st
                    .pending
                    .iter()
                    .next_back()
                    .map(|(&p, c)| (p, (p as f64 + c.dur as f64 / 2.0) / 1e6))
                {
                    st.target = pts;
                    st.ops.push_back(Op::Seek(at));
                }
            }
            st.ops.push_back(Op::EndOfStream);
        }
        self.pump();
        self.check_flushed();
    }

    /// Stops decoding (unload / another decode path): queued work is dropped, the element
    /// paused and emptied.
    pub fn close(&self) {
        let mut st = self.state.borrow_mut();
        // Held pictures go to the core, which releases them (their decoder is closed).
        st.holding = false;
        let held = std::mem::take(&mut st.held_out);
        st.active = false;
        st.ops.clear();
        st.pending.clear();
        st.goal = None;
        st.flush = false;
        let _ = st.video.pause();
        if st.buffer.is_some() {
            st.ops.push_back(Op::Clear);
        }
        drop(st);
        for e in held {
            (self.sink)(e);
        }
        self.pump();
    }

    /// Removes the element (player destroyed).
    pub fn destroy(&self) {
        self.close();
        let st = self.state.borrow();
        if let Some(h) = st.rvfc {
            if self.has_rvfc {
                st.video
                    .unchecked_ref::<FrameCallbacks>()
                    .cancel_video_frame_callback(h);
            } else if let Some(w) = web_sys::window() {
                let _ = w.cancel_animation_frame(h as i32);
            }
        }
        st.video.remove();
        let _ = st.video.remove_attribute("src");
        if !st.url.is_empty() {
            let _ = web_sys::Url::revoke_object_url(&st.url);
        }
    }

    /// Runs queued SourceBuffer operations until one has to wait for `updateend`.
    fn pump(&self) {
        let mut failure = None;
        {
            let mut st = self.state.borrow_mut();
            loop {
                if !st.open {
                    break;
                }
                let Some(sb) = st.buffer.clone() else { break };
                if sb.updating() {
                    break;
                }
                let Some(op) = st.ops.pop_front() else { break };
                match op {
                    Op::Append(mut bytes) => match sb.append_buffer_with_u8_array(&mut bytes) {
                        Ok(()) => break,
                        Err(e) => {
                            let quota = Reflect::get(&e, &"name".into())
                                .ok()
                                .and_then(|n| n.as_string())
                                .is_some_and(|n| n == "QuotaExceededError");
                            let t = st.video.current_time();
                            if quota && t > 1.0 {
                                // Full: drop what is behind the playhead, then try again.
                                st.ops.push_front(Op::Append(bytes));
                                st.ops.push_front(Op::Remove(0.0, t - 0.5));
                            } else {
                                failure = Some((st.generation, message(&e)));
                                st.ops.clear();
                                break;
                            }
                        }
                    },
                    Op::Clear => {
                        let buffered = sb.buffered().map(|b| b.length() > 0).unwrap_or(false);
                        if buffered && sb.remove(0.0, f64::INFINITY).is_ok() {
                            break;
                        }
                    }
                    Op::Remove(a, b) => {
                        if b > a && sb.remove(a, b).is_ok() {
                            break;
                        }
                    }
                    Op::Seek(t) => {
                        st.video.set_current_time(t);
                        st.landed = true;
                        st.landed_at = now();
                    }
                    Op::EndOfStream => {
                        if st.source.ready_state() == MediaSourceReadyState::Open {
                            let _ = st.source.end_of_stream();
                        }
                    }
                }
            }
        }
        if let Some((generation, message)) = failure {
            self.emit(vec![HostEvent::VideoDecoderError {
                generation,
                unsupported: false,
                message,
            }]);
        }
    }

    /// Reports `keys` (removed from `st.pending`) as pictures the element never showed: the
    /// core counts them like decoded ones, and they draw nothing.
    fn report_missing(&self, st: &mut State, keys: Vec<i64>, events: &mut Vec<HostEvent>) {
        let (w, h) = (st.video.video_width(), st.video.video_height());
        for k in keys {
            let Some(c) = st.pending.remove(&k) else {
                continue;
            };
            if k >= st.target {
                st.skipped += 1;
            }
            let id = self.next_id.get();
            self.next_id.set(id + 1);
            self.pictures.borrow_mut().insert(id, Picture::Missing);
            events.push(HostEvent::VideoFrameDecoded {
                generation: st.generation,
                frame: FrameId(id),
                timestamp_us: k,
                duration_us: c.dur,
                width: w,
                height: h,
            });
        }
    }

    /// A picture is on show in the element (`mediaTime` from requestVideoFrameCallback, or
    /// `None` when polled): answers the chunks up to it.
    fn frame_shown(&self, media_time: Option<f64>, from_callback: bool) {
        let mut events = Vec::new();
        let mut snapshot = None;
        {
            let mut st = self.state.borrow_mut();
            if from_callback {
                st.rvfc = None;
            }
            // A frame callback names its picture exactly (and may run before `seeking` turns
            // false for the picture a seek lands on); polling by `currentTime` waits until the
            // seek is over. Copying the element at `seeked` instead was tried: Chromium can
            // still paint the picture from before the seek then.
            let busy = !st.active || !st.landed || (media_time.is_none() && st.video.seeking());
            let t = media_time.unwrap_or_else(|| st.video.current_time());
            let us = (t * 1e6).round() as i64;
            let key = if busy {
                None
            } else if media_time.is_some() {
                st.pending
                    .range(us - 1000..=us + 1000)
                    .next()
                    .map(|(k, _)| *k)
            } else {
                st.pending
                    .range(..=us)
                    .next_back()
                    .filter(|(k, c)| us < **k + c.dur)
                    .map(|(k, _)| *k)
            };
            if let Some(key) = key {
                let earlier: Vec<i64> = st.pending.range(..key).map(|(k, _)| *k).collect();
                self.report_missing(&mut st, earlier, &mut events);
                let (w, h) = (st.video.video_width(), st.video.video_height());
                if let Some(c) = st.pending.remove(&key) {
                    st.shown = true;
                    snapshot = Some((st.generation, key, c, w, h));
                }
            }
        }
        if let Some((generation, pts, chunk, w, h)) = snapshot {
            self.snapshot(generation, pts, chunk, w, h, &mut events);
        }
        self.emit(events);
        if from_callback {
            self.watch_frames();
        }
        self.check_flushed();
        self.resync();
    }

    /// Copies the picture on show into a canvas of its size (synchronously, in the frame
    /// callback, so it is the picture `mediaTime` names). `createImageBitmap` was tried first:
    /// under the page tests' readback load its pending promises kept the core's in-flight bound
    /// full and the element fell behind the clock; the synchronous copy did not. A CPU canvas
    /// (`willReadFrequently`) also gives the RGBA the GPU display needs without another copy.
    fn snapshot(
        &self,
        generation: u32,
        pts: i64,
        chunk: Chunk,
        w: u32,
        h: u32,
        events: &mut Vec<HostEvent>,
    ) {
        let video = self.state.borrow().video.clone();
        let copy = cpu_canvas(w, h).and_then(|(canvas, ctx)| {
            draw_image(&ctx, &video, 0.0, 0.0, f64::from(w), f64::from(h))?;
            Ok(canvas)
        });
        if let Some(e) = self.report(generation, pts, chunk, w, h, copy.ok().map(JsValue::from)) {
            events.push(e);
        }
    }

    /// Stores a snapshot and builds its `VideoFrameDecoded` (or frees it when its generation
    /// is over).
    fn report(
        &self,
        generation: u32,
        pts: i64,
        chunk: Chunk,
        w: u32,
        h: u32,
        image: Option<JsValue>,
    ) -> Option<HostEvent> {
        let mut st = self.state.borrow_mut();
        let picture = match image {
            Some(source) => Picture::Image {
                source,
                width: w,
                height: h,
            },
            None => Picture::Missing,
        };
        if !st.active || st.generation != generation {
            picture.close();
            return None;
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        if matches!(picture, Picture::Image { .. }) {
            st.unpresented.insert(id);
        }
        self.pictures.borrow_mut().insert(id, picture);
        st.latency_sum += now().as_secs_f64() * 1000.0 - chunk.queued_ms;
        st.latency_n += 1;
        Some(HostEvent::VideoFrameDecoded {
            generation,
            frame: FrameId(id),
            timestamp_us: pts,
            duration_us: chunk.dur,
            width: w,
            height: h,
        })
    }

    fn check_flushed(&self) {
        let generation = {
            let mut st = self.state.borrow_mut();
            if !(st.active && st.flush && st.pending.is_empty()) {
                return;
            }
            st.flush = false;
            st.generation
        };
        self.emit(vec![HostEvent::VideoDecoderFlushed { generation }]);
    }

    /// The element reached the end: whatever it did not show is answered as missing.
    fn ended(&self) {
        let mut events = Vec::new();
        {
            let mut st = self.state.borrow_mut();
            if !st.active || !st.flush {
                return;
            }
            let rest: Vec<i64> = st.pending.keys().copied().collect();
            self.report_missing(&mut st, rest, &mut events);
        }
        self.emit(events);
        self.check_flushed();
    }

    /// The element failed (a segment it could not decode).
    fn failed(&self) {
        let (generation, message) = {
            let mut st = self.state.borrow_mut();
            if !st.active {
                return;
            }
            let detail = st.video.error().map(|e| e.message()).unwrap_or_default();
            st.active = false;
            st.ops.clear();
            st.pending.clear();
            // The element is unusable after an error: the next configuration starts afresh.
            st.mime = None;
            st.buffer = None;
            (
                st.generation,
                format!("the MSE video element failed: {detail}"),
            )
        };
        self.emit(vec![HostEvent::VideoDecoderError {
            generation,
            unsupported: false,
            message,
        }]);
    }

    fn resync(&self) {
        if let Some(c) = self.clock.as_ref() {
            self.sync(c());
        }
    }

    /// Answers, as missing, the chunks whose pictures the element has played past without
    /// presenting them (an engine drops pictures it cannot show in time), so the core's
    /// decode-ahead is not held up by pictures that will never come.
    fn sweep(&self) {
        let mut events = Vec::new();
        {
            let Ok(mut st) = self.state.try_borrow_mut() else {
                return;
            };
            if !st.active || !st.landed || st.video.seeking() {
                return;
            }
            let at = (st.video.current_time() * 1e6).round() as i64 - PASSED_US;
            let passed: Vec<i64> = st
                .pending
                .iter()
                .take_while(|(k, _)| **k < at)
                .filter(|(k, c)| **k + c.dur <= at)
                .map(|(k, _)| *k)
                .collect();
            self.report_missing(&mut st, passed, &mut events);
        }
        self.emit(events);
    }

    /// Lets the element follow the core: plays it (ahead, within the water marks) while the
    /// core wants to play, pauses it otherwise.
    pub fn sync(&self, clock: ClockView) {
        self.sweep();
        self.release_due();
        let Ok(st) = self.state.try_borrow() else {
            return;
        };
        let video = &st.video;
        // No frame callback for the landing picture of a paused element (Firefox): read it by
        // polling once the seek is over and the picture is there.
        let unnamed = self.has_rvfc
            && st.active
            && st.landed
            && !st.shown
            && video.paused()
            && !video.seeking()
            && video.ready_state() >= 2
            && now().saturating_sub(st.landed_at) > LANDING_GRACE;
        if unnamed {
            drop(st);
            self.frame_shown(None, false);
            return;
        }
        let waiting = st.unpresented.len();
        // While the core is paused (after a load or a seek), the element still runs on until
        // LOW_WATER pictures wait: playback then starts with its lead already built (from a
        // standing start the element's first pictures came late, at 2× by three frames). It
        // waits for the picture it landed on to be captured first: playing on from a seek, a
        // late frame callback reports only a later picture, the landing picture comes back
        // missing and the core keeps the picture from before the seek on screen while paused
        // (a CI run: an exact seek to 4.567 s showed frame 0).
        let preroll =
            !clock.wants_play && st.landed && st.shown && !st.flush && waiting < LOW_WATER;
        let play =
            st.active && (preroll || (clock.wants_play && waiting < HIGH_WATER)) && !video.ended();
        if play {
            // The lead is counted in snapshots and checked in time: pictures the element skips
            // (the compositor shows at most one per display refresh, and a late frame callback
            // reports only the newest) leave fewer snapshots than the element is ahead, and
            // catching up on the count alone then ran the element faster and faster (at 2× a
            // 30 fps file it played 75 pictures a second on a 60 Hz display, skipping a fifth).
            //
            // With hysteresis: every change of the element's rate cost a picture (Chromium's
            // renderer drops one as it re-times its cadence: of 7 pictures skipped in 18 s of
            // playback with one core busy, 5 came within 5 ms of a rate change), and deciding on
            // the count and the lead alone flipped the rate 1 → 1.25 → 1 every 20–400 ms as both
            // hovered at the mark. A catch-up now starts below LOW_WATER − 1 pictures of lead
            // and runs until LOW_WATER + 1/2; the two clocks drift by parts per million, so in
            // steady playback the rate stays put.
            let lead_s = video.current_time() - clock.position;
            let frame_s = st.frame_us as f64 / 1e6;
            let catching = if lead_s < (LOW_WATER as f64 - 1.0) * frame_s && waiting < LOW_WATER {
                true
            } else if lead_s >= (LOW_WATER as f64 + 0.5) * frame_s {
                false
            } else {
                st.catching.get()
            };
            st.catching.set(catching);
            let factor = if lead_s < 0.0 {
                BEHIND
            } else if catching {
                CATCH_UP
            } else {
                1.0
            };
            let rate = (clock.rate * factor).clamp(0.0625, 16.0);
            if (video.playback_rate() - rate).abs() > 1e-6 {
                video.set_playback_rate(rate);
            }
            if video.paused() {
                if let Ok(p) = video.play() {
                    // A refused or interrupted play() is expected (a pause, a seek, a new
                    // source): await it so that its rejection is handled.
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                    });
                }
            }
        } else if !video.paused() {
            let _ = video.pause();
        }
    }

    /// Hands events to the core, or holds them while a generation's first pictures are held
    /// back (`State::holding`).
    fn emit(&self, events: Vec<HostEvent>) {
        if events.is_empty() {
            return;
        }
        let out = {
            let mut st = self.state.borrow_mut();
            if st.holding {
                st.held_out.extend(events);
                Vec::new()
            } else {
                events
            }
        };
        for e in out {
            (self.sink)(e);
        }
        self.release_due();
    }

    /// Ends the hold once it is due: [`LOW_WATER`] pictures are there, the core does not want
    /// to play (a paused seek shows its picture at once), the stream ended or failed, or
    /// [`HOLD_LIMIT`] passed.
    fn release_due(&self) {
        let wants_play = self.clock.as_ref().is_some_and(|c| c().wants_play);
        let out = {
            let Ok(mut st) = self.state.try_borrow_mut() else {
                return;
            };
            if !st.holding {
                return;
            }
            let pictures = st
                .held_out
                .iter()
                .filter(|e| {
                    matches!(e, HostEvent::VideoFrameDecoded { frame, .. }
                        if st.unpresented.contains(&frame.0))
                })
                .count();
            let ends = st
                .held_out
                .iter()
                .any(|e| !matches!(e, HostEvent::VideoFrameDecoded { .. }));
            let due = !wants_play
                || !st.active
                || st.flush
                || ends
                || pictures >= LOW_WATER
                || now().saturating_sub(st.hold_since) > HOLD_LIMIT;
            if !due {
                return;
            }
            st.holding = false;
            std::mem::take(&mut st.held_out)
        };
        for e in out {
            (self.sink)(e);
        }
    }

    /// The core presented this picture.
    pub fn presented(&self, frame: FrameId) {
        if let Ok(mut st) = self.state.try_borrow_mut() {
            st.unpresented.remove(&frame.0);
        }
    }

    /// The core released this picture.
    pub fn released(&self, frame: FrameId) {
        if let Ok(mut st) = self.state.try_borrow_mut() {
            st.unpresented.remove(&frame.0);
        }
    }

    /// Mean time from a chunk being queued to its picture being reported, ms.
    pub fn latency_ms(&self) -> f64 {
        let st = self.state.borrow();
        if st.latency_n == 0 {
            0.0
        } else {
            st.latency_sum / f64::from(st.latency_n)
        }
    }

    /// Pictures after a seek target the element never showed.
    pub fn skipped(&self) -> u64 {
        self.state.borrow().skipped
    }
}

/// The MSE path behind the decoder interface: each method is the inherent one above.
impl VideoBackend for MseVideo {
    fn configure(&self, generation: u32, config: &VideoDecoderConfig) {
        MseVideo::configure(self, generation, config);
    }

    fn decode(&self, generation: u32, chunk: &EncodedChunk) {
        MseVideo::decode(self, generation, chunk);
    }

    fn flush(&self, generation: u32) {
        MseVideo::flush(self, generation);
    }

    fn close(&self) {
        MseVideo::close(self);
    }

    fn presented(&self, frame: FrameId) {
        MseVideo::presented(self, frame);
    }

    fn released(&self, frame: FrameId) {
        MseVideo::released(self, frame);
    }

    fn latency_ms(&self) -> f64 {
        MseVideo::latency_ms(self)
    }

    fn skipped(&self) -> u64 {
        MseVideo::skipped(self)
    }

    fn follow_clock(&self, clock: &dyn Fn() -> ClockView) {
        self.sync(clock());
    }
}

/// A DOM callback that calls `f` on the decoder while it is alive (the element outlives it).
fn callback(me: &Weak<MseVideo>, f: fn(&MseVideo)) -> Function {
    let weak = me.clone();
    gc_callback(Closure::<dyn FnMut()>::new(move || {
        if let Some(m) = weak.upgrade() {
            f(&m);
        }
    }))
}
