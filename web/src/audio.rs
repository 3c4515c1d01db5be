//! Audio output: an AudioContext with the Kinema worklet → gain → analyser → speakers, and the
//! transport that carries PCM to the worklet (a SharedArrayBuffer ring, or `postMessage`).
//!
//! # The context and autoplay
//! The context is made once the page may play sound (it had a user gesture, or the engine
//! allows audio contexts to autoplay) or when `play()` or unmuting asks for it, and resumed
//! inside that call so a click counts. Until it runs the core plays on the page clock,
//! silently (the driver's `AudioStatus`: muted autoplay; an engine that keeps audio suspended
//! gets an `audio-output` warning). The worklet module is loaded from its own file
//! `kinema_worklet.js` beside the package (`js/assets.js`: `new URL(…, import.meta.url)`,
//! which bundlers ship and a strict CSP allows), from a `blob:` URL only as a fallback.
//!
//! Frames *heard* are frames the worklet consumed minus `baseLatency` and the output latency
//! ([`AudioOut::progress`]; `stats()` reports both); the held-back part plays out once
//! consumption stops. `outputLatency` is not read unless the app asks: see [`OutputLatency`].
//!
//! # The SharedArrayBuffer ring (used when the page is `crossOriginIsolated`)
//! `header` is an `Int32Array` of [`HEADER_LEN`] slots (`H_*` below, mirrored in
//! `js/worklet.js`); `data` holds `ring_frames` interleaved stereo `f32` frames, `ring_frames` a
//! power of two. `WRITE` and `READ` are frame counters wrapping as `i32`; frame `i` lives in
//! slot `i & (ring_frames - 1)`, so wrapping is seamless.
//! - Only the host moves `WRITE` (after copying samples in), only the worklet moves `READ`.
//! - A flush to epoch `E`: the host drops its own backlog, stores `FLUSH_AT = WRITE`, then
//!   `FLUSH_EPOCH = E`, and only then writes samples of `E`. Each render quantum the worklet
//!   loads `WRITE` first, then `FLUSH_EPOCH`; on a new epoch it sets `READ = FLUSH_AT`, `PLAYED
//!   = 0`, then `EPOCH = E`. All accesses are `Atomics` (sequentially consistent), so if the
//!   `WRITE` it loaded covers any sample of `E`, the `FLUSH_EPOCH` it loads next is already `E`:
//!   no quantum ever plays a sample under the wrong epoch, nothing queued before a flush is
//!   heard after it, and no side ever waits for the other.
//! - The worklet counts frames it really played in `PLAYED` (silence from an empty ring is
//!   not counted; a quantum that wanted data and found too little is an underrun). The host
//!   reads `EPOCH`, `PLAYED`, `EPOCH` and keeps the count only if both epochs agree.
//!
//! # The message transport (otherwise)
//! The same protocol over the worklet's port: `queue` (transferred `Float32Array`s, kept in a
//! queue there), `flush`, `run`; the worklet posts `progress` every 8 render quanta.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Atomics, Float32Array, Int32Array, Object, Reflect, SharedArrayBuffer};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AnalyserNode, AudioContext, AudioWorkletNode, AudioWorkletNodeOptions, Blob, BlobPropertyBag,
    GainNode, MessageEvent, Url,
};

use crate::js::gc_callback;

/// The worklet's source, for the `blob:` fallback when its module file cannot be loaded (a
/// bundler that did not ship it, the in-browser unit tests).
const WORKLET_JS: &str = include_str!("../js/worklet.js");

#[wasm_bindgen(module = "/js/assets.js")]
extern "C" {
    /// `kinema_worklet.js` beside the package's `kinema_web.js` (see `js/assets.js`).
    #[wasm_bindgen(catch, js_name = defaultWorkletUrl)]
    fn default_worklet_url() -> Result<String, JsValue>;
}

thread_local! {
    /// The embedder's worklet URL ([`set_worklet_url`]), if any.
    static WORKLET_URL: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Loads the AudioWorklet module from `url` instead of the file beside the package (for apps
/// that serve the package's files elsewhere); `None` returns to the default.
pub fn set_worklet_url(url: Option<String>) {
    WORKLET_URL.with(|w| *w.borrow_mut() = url.filter(|u| !u.is_empty()));
}

/// Where the worklet module is loaded from: the embedder's URL, else the package's file.
pub fn worklet_url() -> Option<String> {
    WORKLET_URL
        .with(|w| w.borrow().clone())
        .or_else(|| default_worklet_url().ok())
}

async fn add_module(ctx: &AudioContext, url: &str) -> Result<(), String> {
    match ctx.audio_worklet().and_then(|w| w.add_module(url)) {
        Ok(promise) => JsFuture::from(promise).await.map(|_| ()).map_err(js_err),
        Err(e) => Err(js_err(e)),
    }
}

/// Loads the worklet module: from its file (what a strict Content-Security-Policy allows),
/// else from a `blob:` URL of the copy compiled into the package.
async fn load_worklet(ctx: &AudioContext) -> Result<(), String> {
    let first = match worklet_url() {
        Some(url) => match add_module(ctx, &url).await {
            Ok(()) => return Ok(()),
            Err(e) => format!("{url}: {e}"),
        },
        None => "no module URL".to_string(),
    };
    let bag = BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let parts = Array::of1(&JsValue::from_str(WORKLET_JS));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &bag).map_err(js_err)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(js_err)?;
    let second = add_module(ctx, &url).await;
    let _ = Url::revoke_object_url(&url);
    second.map_err(|e| format!("the audio worklet did not load ({first}; from a blob: URL: {e})"))
}
/// Name the worklet registers its processor under.
const PROCESSOR: &str = "kinema-output";
/// Default ring capacity: 2.7 s at 48 kHz, while the core keeps about 0.5 s queued.
pub const RING_FRAMES: u32 = 1 << 17;
const H_WRITE: u32 = 0;
const H_READ: u32 = 1;
const H_EPOCH: u32 = 2;
const H_PLAYED: u32 = 3;
const H_RUN: u32 = 4;
const H_UNDERRUNS: u32 = 5;
const H_FLUSH_EPOCH: u32 = 6;
const H_FLUSH_AT: u32 = 7;
/// Slots in the ring's header.
pub const HEADER_LEN: u32 = 8;

/// How PCM travels to the worklet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The ring when the page is `crossOriginIsolated`, messages otherwise.
    #[default]
    Auto,
    /// The SharedArrayBuffer ring (fails where `SharedArrayBuffer` is unavailable).
    Shared,
    /// `postMessage` with transferred buffers.
    Messages,
}

/// How to open the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Transport.
    pub mode: Mode,
    /// Ring capacity in frames, rounded up to a power of two (ring transport only).
    pub ring_frames: u32,
    /// Where the output latency comes from.
    pub latency: OutputLatency,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Auto,
            ring_frames: RING_FRAMES,
            latency: OutputLatency::Ignore,
        }
    }
}

/// Progress as last seen from the worklet.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Epoch of the count.
    pub epoch: u32,
    /// Frames of that epoch played.
    pub played: u64,
    /// Render quanta that wanted data and found too little, since the output opened.
    pub underruns: u32,
}

enum Transport {
    Shared {
        header: Int32Array,
        data: Float32Array,
        ring_frames: u32,
        write: i32,
        /// Samples waiting for room in the ring; `offset` samples of the front one are sent.
        backlog: VecDeque<Vec<f32>>,
        offset: usize,
    },
    /// Progress reports arrive as port messages; the handler belongs to JS ([`gc_callback`])
    /// and is taken off the port when the output is dropped.
    Messages { progress: Rc<RefCell<Progress>> },
}

/// Where the output latency held back from the clock comes from (`Player.setOutputLatency`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum OutputLatency {
    /// Not counted (the default): only `baseLatency` is.
    ///
    /// Firefox answers the first read of `AudioContext.outputLatency` (and of
    /// `getOutputTimestamp()`) with a synchronous call to its audio process made while it holds
    /// the audio graph's lock; when that call meets a stream callback in flight (PulseAudio),
    /// the page's main thread, the graph thread and the audio process wait on each other and the
    /// tab hangs for good. Seen with Firefox ESR 153.8 on this project's test machine (gdb
    /// stacks: the main thread in the `outputLatency` getter, inside the graph, waiting on the
    /// audio process; the graph thread waiting for the lock; the audio process's callback
    /// waiting for the graph): 5 pages in 72 when read as the output started, 1 in 40 when
    /// read after a second of steady output. No engine says whether its read is safe, so the
    /// player does not read it unless asked; the clock is then early by the device's latency
    /// (32 ms in headless Chromium 156 on PulseAudio), inside broadcast lip-sync tolerances
    /// (sound up to 60 ms late).
    #[default]
    Ignore,
    /// Read from the context once per running period, after [`LATENCY_SETTLE_S`] of output.
    Read,
    /// A latency the app knows (seconds, `0.0..1.0`), e.g. a TV platform's documented one.
    Fixed(f64),
}

/// Output the context has played before [`OutputLatency::Read`] reads the latency (seconds).
const LATENCY_SETTLE_S: f64 = 1.0;
/// How often [`OutputLatency::Read`] asks again while `outputLatency` reads 0 (unknown).
const LATENCY_RETRY_MS: f64 = 1000.0;
/// How many times [`OutputLatency::Read`] asks per running period before settling on 0.
const LATENCY_READS: u32 = 3;
/// How fast a changed latency reaches the clock while frames flow: the clock runs this much
/// slower or faster until it has (a jump would hold or skip pictures).
const LATENCY_SLEW: f64 = 0.05;

/// `baseLatency` and the output latency (seconds) as last known.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    /// `baseLatency` (0 where unsupported or absurd): read once per running period.
    pub base: f64,
    /// The output latency per [`OutputLatency`] (0 when ignored or unknown).
    pub output: f64,
    /// Reads of `outputLatency` in this running period.
    reads: u32,
    /// Page time (ms) of the last read.
    read_at_ms: f64,
    /// `baseLatency` was read in this running period.
    base_read: bool,
}

impl Latency {
    /// Whether [`OutputLatency::Read`] reads `outputLatency` now, at page time `now_ms`.
    fn read_due(&self, now_ms: f64) -> bool {
        self.reads == 0
            || (self.output == 0.0
                && self.reads < LATENCY_READS
                && now_ms - self.read_at_ms >= LATENCY_RETRY_MS)
    }

    /// The sum held back from the played count, in seconds.
    pub fn total(&self) -> f64 {
        self.base + self.output
    }
}

/// The opened audio output.
pub struct AudioOut {
    ctx: AudioContext,
    /// The context's rate (fixed for its life).
    rate: u32,
    latency: Latency,
    policy: OutputLatency,
    /// Frames played when the context's current running period began.
    period_start: u64,
    /// Latency held back now (frames): follows `latency` ([`LATENCY_SLEW`]).
    held: f64,
    /// The epoch `held` was last set in (a new one takes the latency at once).
    held_epoch: u32,
    /// Page time (ms) of the last [`AudioOut::progress`].
    progress_at_ms: f64,
    node: AudioWorkletNode,
    gain: GainNode,
    analyser: AnalyserNode,
    transport: Transport,
    epoch: u32,
    total_played: u64,
    last: Progress,
    /// Page time (ms) at which the played count last changed.
    changed_at: f64,
}

fn js_err(e: JsValue) -> String {
    Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

/// Creates the AudioContext at the device's default rate. Synchronous, so `play()` can resume
/// it inside the user gesture that autoplay policies require.
pub fn create_context() -> Result<AudioContext, String> {
    AudioContext::new().map_err(js_err)
}

/// Closes `ctx`, ignoring a rejection (already closed) so it never surfaces as an unhandled
/// promise rejection.
pub fn close_context(ctx: &AudioContext) {
    if let Ok(p) = ctx.close() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(p).await;
        });
    }
}

fn navigator() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &"navigator".into())
        .ok()
        .filter(|n| n.is_object())
}

/// True when the page has had a user gesture (`navigator.userActivation.hasBeenActive`), or
/// the engine cannot tell (no User Activation API: older TV engines, which do not gate audio
/// on gestures).
pub fn user_activated() -> bool {
    let Some(nav) = navigator() else { return true };
    match Reflect::get(&nav, &"userActivation".into()) {
        Ok(ua) if ua.is_object() => Reflect::get(&ua, &"hasBeenActive".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
        _ => true,
    }
}

/// True when an `AudioContext` made now may run: the page had a user gesture, or the engine
/// says audio contexts may autoplay (`navigator.getAutoplayPolicy('audiocontext')`).
pub fn may_start() -> bool {
    if user_activated() {
        return true;
    }
    let Some(nav) = navigator() else { return true };
    Reflect::get(&nav, &"getAutoplayPolicy".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call1(&nav, &"audiocontext".into()).ok())
        .and_then(|v| v.as_string())
        .is_some_and(|p| p == "allowed")
}

/// True when the page may share memory with the worklet.
pub fn cross_origin_isolated() -> bool {
    Reflect::get(&js_sys::global(), &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Loads the worklet into `ctx` and wires worklet → gain → analyser → destination. In message
/// mode `on_progress` runs for every progress report of the worklet.
pub async fn open(
    ctx: AudioContext,
    options: Options,
    on_progress: Rc<dyn Fn()>,
) -> Result<AudioOut, String> {
    load_worklet(&ctx).await?;

    let shared = match options.mode {
        Mode::Auto => cross_origin_isolated(),
        Mode::Shared => true,
        Mode::Messages => false,
    };
    let node_options = AudioWorkletNodeOptions::new();
    node_options.set_number_of_inputs(0);
    node_options.set_number_of_outputs(1);
    node_options.set_output_channel_count(&Array::of1(&JsValue::from(2)));
    let ring = if shared {
        if !Object::has_own(&js_sys::global(), &"SharedArrayBuffer".into()) {
            return Err("SharedArrayBuffer is unavailable (page not cross-origin isolated)".into());
        }
        let ring_frames = options.ring_frames.clamp(256, 1 << 22).next_power_of_two();
        let header = SharedArrayBuffer::new(HEADER_LEN * 4);
        let data = SharedArrayBuffer::new(ring_frames * 2 * 4);
        let po = Object::new();
        Reflect::set(&po, &"header".into(), &header).map_err(js_err)?;
        Reflect::set(&po, &"data".into(), &data).map_err(js_err)?;
        node_options.set_processor_options(Some(&po));
        Some((
            Int32Array::new(&header),
            Float32Array::new(&data),
            ring_frames,
        ))
    } else {
        None
    };
    let node =
        AudioWorkletNode::new_with_options(&ctx, PROCESSOR, &node_options).map_err(js_err)?;
    let gain = ctx.create_gain().map_err(js_err)?;
    let analyser = ctx.create_analyser().map_err(js_err)?;
    analyser.set_fft_size(2048);
    node.connect_with_audio_node(&gain).map_err(js_err)?;
    gain.connect_with_audio_node(&analyser).map_err(js_err)?;
    analyser
        .connect_with_audio_node(&ctx.destination())
        .map_err(js_err)?;

    let transport = match ring {
        Some((header, data, ring_frames)) => Transport::Shared {
            header,
            data,
            ring_frames,
            write: 0,
            backlog: VecDeque::new(),
            offset: 0,
        },
        None => {
            let progress = Rc::new(RefCell::new(Progress::default()));
            let p = progress.clone();
            let onmessage = gc_callback(Closure::<dyn FnMut(MessageEvent)>::new(
                move |e: MessageEvent| {
                    if let Some(report) = parse_progress(&e.data()) {
                        *p.borrow_mut() = report;
                        on_progress();
                    }
                },
            ));
            node.port().map_err(js_err)?.set_onmessage(Some(&onmessage));
            Transport::Messages { progress }
        }
    };
    Ok(AudioOut {
        rate: ctx.sample_rate() as u32,
        latency: Latency::default(),
        policy: options.latency,
        period_start: 0,
        held: 0.0,
        held_epoch: 0,
        progress_at_ms: 0.0,
        ctx,
        node,
        gain,
        analyser,
        transport,
        epoch: 0,
        total_played: 0,
        last: Progress::default(),
        changed_at: 0.0,
    })
}

fn parse_progress(d: &JsValue) -> Option<Progress> {
    let kind = Reflect::get(d, &"type".into()).ok()?.as_string()?;
    if kind != "progress" {
        return None;
    }
    let num = |k: &str| {
        Reflect::get(d, &k.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    Some(Progress {
        epoch: num("epoch") as u32,
        played: num("played") as u64,
        underruns: num("underruns") as u32,
    })
}

fn message(kind: &str, fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    let _ = Reflect::set(&o, &"type".into(), &kind.into());
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

impl AudioOut {
    /// Device rate.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// `"sab"` or `"message"`.
    pub fn mode(&self) -> &'static str {
        match self.transport {
            Transport::Shared { .. } => "sab",
            Transport::Messages { .. } => "message",
        }
    }

    /// The context.
    pub fn context(&self) -> &AudioContext {
        &self.ctx
    }

    fn post(&self, msg: &Object, transfer: Option<&Array>) {
        if let Ok(port) = self.node.port() {
            let _ = match transfer {
                Some(t) => port.post_message_with_transferable(msg, t),
                None => port.post_message(msg),
            };
        }
    }

    /// Queues interleaved stereo samples of `epoch`; samples of any other epoch than the last
    /// flushed one are dropped.
    pub fn queue(&mut self, epoch: u32, samples: Vec<f32>) {
        if epoch != self.epoch || samples.is_empty() {
            return;
        }
        match &mut self.transport {
            Transport::Shared { backlog, .. } => {
                backlog.push_back(samples);
                self.pump();
            }
            Transport::Messages { .. } => {
                let arr = Float32Array::from(samples.as_slice());
                let msg = message(
                    "queue",
                    &[("epoch", epoch.into()), ("samples", arr.clone().into())],
                );
                self.post(&msg, Some(&Array::of1(&arr.buffer())));
            }
        }
    }

    /// Moves samples waiting host-side into the ring as room allows (ring transport; called
    /// on every queue and every tick).
    pub fn pump(&mut self) {
        let Transport::Shared {
            header,
            data,
            ring_frames,
            write,
            backlog,
            offset,
        } = &mut self.transport
        else {
            return;
        };
        if backlog.is_empty() {
            return;
        }
        let cap = *ring_frames;
        let read = Atomics::load(header, H_READ).unwrap_or(*write);
        let used = (write.wrapping_sub(read).max(0) as u32).min(cap);
        let mut free = cap - used;
        let mut w = *write;
        while free > 0 {
            let Some(front) = backlog.front() else { break };
            let left = (front.len().saturating_sub(*offset) / 2) as u32;
            if left == 0 {
                backlog.pop_front();
                *offset = 0;
                continue;
            }
            let slot = (w as u32) & (cap - 1);
            let n = left.min(free).min(cap - slot);
            let from = *offset;
            let to = from + n as usize * 2;
            data.subarray(slot * 2, (slot + n) * 2)
                .copy_from(&front[from..to]);
            *offset = to;
            w = w.wrapping_add(n as i32);
            free -= n;
        }
        *write = w;
        let _ = Atomics::store(header, H_WRITE, w);
    }

    /// Frames waiting host-side for room in the ring.
    pub fn backlog_frames(&self) -> usize {
        match &self.transport {
            Transport::Shared {
                backlog, offset, ..
            } => (backlog.iter().map(Vec::len).sum::<usize>() - offset) / 2,
            Transport::Messages { .. } => 0,
        }
    }

    /// Drops everything queued; counting restarts at 0 in `epoch`.
    pub fn flush(&mut self, epoch: u32) {
        self.epoch = epoch;
        self.total_played += self.last.played;
        self.last = Progress {
            epoch,
            played: 0,
            underruns: self.last.underruns,
        };
        match &mut self.transport {
            Transport::Shared {
                header,
                write,
                backlog,
                offset,
                ..
            } => {
                backlog.clear();
                *offset = 0;
                // Order matters: see the module notes.
                let _ = Atomics::store(header, H_FLUSH_AT, *write);
                let _ = Atomics::store(header, H_FLUSH_EPOCH, epoch as i32);
            }
            Transport::Messages { progress, .. } => {
                *progress.borrow_mut() = self.last;
                self.post(&message("flush", &[("epoch", epoch.into())]), None);
            }
        }
    }

    /// Starts or stops consuming the queue (stopped, the worklet outputs silence).
    pub fn set_running(&mut self, on: bool) {
        match &self.transport {
            Transport::Shared { header, .. } => {
                let _ = Atomics::store(header, H_RUN, i32::from(on));
            }
            Transport::Messages { .. } => {
                self.post(&message("run", &[("on", on.into())]), None);
            }
        }
    }

    /// Output gain.
    pub fn set_gain(&self, gain: f32) {
        self.gain.gain().set_value(gain);
    }

    /// What the worklet last reported, as consumed (before the latency correction).
    pub fn consumed(&self) -> Progress {
        match &self.transport {
            Transport::Shared { header, .. } => {
                let load = |i| Atomics::load(header, i).unwrap_or(0);
                let e1 = load(H_EPOCH);
                let played = load(H_PLAYED);
                let e2 = load(H_EPOCH);
                if e1 != e2 {
                    // A flush landed between the loads: keep the last consistent report.
                    return self.last;
                }
                Progress {
                    epoch: e1 as u32,
                    played: played.max(0) as u64,
                    underruns: load(H_UNDERRUNS).max(0) as u32,
                }
            }
            Transport::Messages { progress, .. } => *progress.borrow(),
        }
    }

    /// Frames of the current epoch *heard* at page time `now_ms`, for
    /// `HostEvent::AudioProgress`; `None` until the worklet has caught up with the last flush.
    ///
    /// Latency: the worklet counts frames when it hands them to the browser, and they reach the
    /// speakers `baseLatency` plus the device's latency later (measured in headless Chromium
    /// 156: 10 ms + 32 ms at 44.1 kHz; the second counts per [`OutputLatency`]). The clock is meant to say what is heard, and
    /// video will be scheduled against it, so that much is held back while frames flow; once
    /// consumption stops (queue drained, or paused) the pipeline plays out and the held-back part
    /// shrinks with time, so `frames_played` still reaches everything queued and the core can
    /// tell the end. The core keeps the count monotonic.
    pub fn progress(&mut self, now_ms: f64) -> Option<Progress> {
        let p = self.consumed();
        if p.epoch != self.epoch {
            return None;
        }
        if p.played != self.last.played || p.epoch != self.last.epoch {
            self.changed_at = now_ms;
        }
        self.last = p;
        self.refresh_latency(now_ms);
        let rate = f64::from(self.sample_rate());
        let target = self.latency.total() * rate;
        // In a new epoch (load, seek) the latency applies at once; within one it is slewed in,
        // so the clock neither stalls nor jumps.
        let step = if p.epoch != self.held_epoch {
            self.held_epoch = p.epoch;
            f64::INFINITY
        } else {
            (now_ms - self.progress_at_ms).max(0.0) / 1000.0 * rate * LATENCY_SLEW
        };
        self.progress_at_ms = now_ms;
        self.held += (target - self.held).clamp(-step, step);
        let latency = self.held;
        let drained = (now_ms - self.changed_at).max(0.0) / 1000.0 * rate;
        let held = (latency - drained).max(0.0).round() as u64;
        Some(Progress {
            played: p.played.saturating_sub(held),
            ..p
        })
    }

    /// The latency as last known (see [`Latency`]).
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// Changes where the output latency comes from (read afresh, if read, after the settle time).
    pub fn set_output_latency(&mut self, policy: OutputLatency) {
        self.policy = policy;
        self.latency.output = match policy {
            OutputLatency::Fixed(s) => s,
            OutputLatency::Ignore | OutputLatency::Read => 0.0,
        };
        self.latency.reads = 0;
        self.period_start = self.frames_played();
    }

    /// The context changed state (resumed, suspended, interrupted): a new running period, whose
    /// latency is read afresh.
    pub fn latency_changed(&mut self) {
        self.latency.reads = 0;
        self.latency.base_read = false;
        self.period_start = self.frames_played();
    }

    /// Brings [`Latency`] up to date per the policy (see [`OutputLatency`] for why reads are few).
    fn refresh_latency(&mut self, now_ms: f64) {
        let field = |key: &str| {
            Reflect::get(&self.ctx, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
                .filter(|v| v.is_finite() && (0.0..1.0).contains(v))
                .unwrap_or(0.0)
        };
        if !self.latency.base_read {
            // A constant of the context, answered without a call to the audio process.
            self.latency.base = field("baseLatency");
            self.latency.base_read = true;
        }
        match self.policy {
            OutputLatency::Ignore => self.latency.output = 0.0,
            OutputLatency::Fixed(s) => self.latency.output = s,
            OutputLatency::Read => {
                let settled = self.frames_played().saturating_sub(self.period_start) as f64
                    >= LATENCY_SETTLE_S * f64::from(self.rate);
                if settled && self.latency.read_due(now_ms) {
                    self.latency.output = field("outputLatency");
                    self.latency.reads += 1;
                    self.latency.read_at_ms = now_ms;
                }
            }
        }
    }

    /// Frames consumed since the output opened, across epochs.
    pub fn frames_played(&self) -> u64 {
        self.total_played + self.last.played
    }

    /// Underruns counted by the worklet.
    pub fn underruns(&self) -> u32 {
        self.last.underruns
    }

    /// RMS of the signal after the gain, over the analyser's last 2048 frames.
    pub fn level(&self) -> f64 {
        let mut buf = vec![0.0f32; self.analyser.fft_size() as usize];
        self.analyser.get_float_time_domain_data(&mut buf);
        let sum: f64 = buf.iter().map(|s| f64::from(*s) * f64::from(*s)).sum();
        (sum / buf.len().max(1) as f64).sqrt()
    }

    /// Disconnects the worklet and closes the context.
    pub fn close(&self) {
        if let Transport::Shared { header, .. } = &self.transport {
            let _ = Atomics::store(header, H_RUN, 0);
        }
        let _ = self.node.disconnect();
        close_context(&self.ctx);
    }
}

impl Drop for AudioOut {
    /// Takes the progress handler off the worklet's port: reports already queued find no
    /// handler rather than the player that dropped this output.
    fn drop(&mut self) {
        if let Transport::Messages { .. } = self.transport {
            if let Ok(port) = self.node.port() {
                port.set_onmessage(None);
            }
        }
    }
}
