//! The host loop: feeds the core events with the page's time and carries out its commands.
//!
//! Sources of events: app calls, fetch callbacks, worklet progress, the core's `WakeAt` timer
//! and a periodic tick while something moves (loading, playing, buffering, seeking).
//!
//! Re-entrancy: a command can run app code (an event listener calling `player.pause()`), which
//! sends another event while the first is being handled. Events are queued and handled one at a
//! time by whoever is already draining, after the commands of the current one; the core is never
//! borrowed twice and nothing panics.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};

use kinema_core::{HostCommand, HostEvent, PlaybackState, Player as Core, PlayerConfig, RequestId};
use wasm_bindgen::closure::Closure;
use web_sys::{AudioContext, AudioContextState, EventTarget};

use crate::audio::{self, AudioOut};
use crate::audio_decoder::AudioDecoderHost;
use crate::backend::ClockView;
use crate::events;
use crate::fetch::{self, Fetch};
use crate::js::gc_callback;
use crate::timer::{now, Ticker, Timer};
use crate::video::VideoHost;

/// Period of the tick that reads audio progress, refills the ring and lets the core run.
pub const TICK_MS: i32 = 40;
/// How long a resumed AudioContext may take to run before playback goes on without it (on
/// the page clock; the output joins when it runs).
const RESUME_WAIT_MS: i32 = 500;
/// How long after that an unmuted, playing output may still be starting before the app is told
/// sound did not start (`audio-output` warning). Firefox's first AudioContext of a browser
/// process takes 0.9–1.7 s to run (its audio server connects on first use; measured with
/// Firefox ESR 153.8), which is slow, not silent.
const OUTPUT_START_GRACE_MS: i32 = 3000;

/// Where the audio output stands.
///
/// Autoplay policies let an `AudioContext` run only after the user interacted with the page,
/// and Chromium logs a warning for every context created before that. So the context is made
/// when it may run (the page had a user gesture, or the engine says audio may autoplay), or
/// when `play()` / unmuting asks for sound; until then the core waits for a device (paused
/// loads show their first picture meanwhile). Muted playback never needs the output: it runs
/// on the page clock ([`AudioStatus::Silent`]) and the output joins when it starts running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioStatus {
    /// No context yet; the core waits for a device.
    Idle,
    /// The context exists and the worklet is loading, or it waits to run.
    Opening,
    /// The output runs (see [`Driver::with_audio`]).
    Ready,
    /// The output does not run (yet): the core plays on the page clock, silently. It becomes
    /// `Ready` once the context runs.
    Silent,
    /// There is no output for good (no Web Audio, the worklet refused): the core plays on
    /// the page clock.
    Unavailable,
}

/// Owns the core and everything the browser side holds for it.
pub struct Driver {
    core: RefCell<Core>,
    queue: RefCell<VecDeque<HostEvent>>,
    draining: Cell<bool>,
    /// Page time of the core call whose commands are being carried out: when it decided them.
    handled_at: Cell<std::time::Duration>,
    target: EventTarget,
    fetches: RefCell<HashMap<RequestId, Fetch>>,
    hooks: RefCell<fetch::Hooks>,
    ctx: RefCell<Option<AudioContext>>,
    audio_options: Cell<audio::Options>,
    audio: RefCell<Option<AudioOut>>,
    audio_status: Cell<AudioStatus>,
    /// An `audio-output` warning went out since the output last ran: one per silence.
    silence_told: Cell<bool>,
    /// The audio context's `statechange` handler (JS-owned: [`gc_callback`]).
    on_audio_state: js_sys::Function,
    wake: Timer,
    ticker: Ticker,
    destroyed: Cell<bool>,
    video: Rc<VideoHost>,
    audio_decoder: AudioDecoderHost,
    me: Weak<Driver>,
}

impl Driver {
    /// Creates the driver; the audio output (`options`) opens in the background when the page
    /// may play sound (see [`AudioStatus`]).
    pub fn new(options: audio::Options) -> Result<Rc<Driver>, wasm_bindgen::JsValue> {
        let target = EventTarget::new()?;
        let driver = Rc::new_cyclic(|me: &Weak<Driver>| {
            let on_wake = me.clone();
            let on_tick = me.clone();
            let on_decoded = me.clone();
            let on_audio_decoded = me.clone();
            let on_state = me.clone();
            Driver {
                core: RefCell::new(Core::new(PlayerConfig::default())),
                queue: RefCell::new(VecDeque::new()),
                draining: Cell::new(false),
                handled_at: Cell::new(std::time::Duration::ZERO),
                target,
                fetches: RefCell::new(HashMap::new()),
                hooks: RefCell::new(fetch::Hooks::default()),
                ctx: RefCell::new(None),
                audio_options: Cell::new(options),
                audio: RefCell::new(None),
                audio_status: Cell::new(AudioStatus::Idle),
                silence_told: Cell::new(false),
                on_audio_state: gc_callback(Closure::<dyn FnMut()>::new(move || {
                    if let Some(d) = on_state.upgrade() {
                        d.with_audio(|a| a.latency_changed());
                        d.update_device();
                    }
                })),
                wake: Timer::new(move || {
                    if let Some(d) = on_wake.upgrade() {
                        d.tick();
                    }
                }),
                ticker: Ticker::new(TICK_MS, move || {
                    if let Some(d) = on_tick.upgrade() {
                        d.tick();
                    }
                }),
                destroyed: Cell::new(false),
                video: Rc::new(VideoHost::new(Rc::new(move |event| {
                    if let Some(d) = on_decoded.upgrade() {
                        d.send(event);
                    }
                }))),
                audio_decoder: AudioDecoderHost::new(Rc::new(move |event| {
                    if let Some(d) = on_audio_decoded.upgrade() {
                        d.send(event);
                    }
                })),
                me: me.clone(),
            }
        });
        driver.video.set_clock(clock_view(Rc::downgrade(&driver)));
        let me = Rc::downgrade(&driver);
        driver
            .video
            .display()
            .set_warn(Rc::new(move |kind: &str, message: &str| {
                if let Some(d) = me.upgrade() {
                    d.warn(kind, message);
                }
            }));
        if audio::may_start() {
            driver.start_audio();
        }
        Ok(driver)
    }

    /// The embedder's request and response hooks, used from the next request on.
    pub fn hooks(&self) -> &RefCell<fetch::Hooks> {
        &self.hooks
    }

    /// The target app listeners are registered on.
    pub fn target(&self) -> &EventTarget {
        &self.target
    }

    /// The audio context, once made (see [`AudioStatus`]).
    pub fn context(&self) -> Option<AudioContext> {
        self.ctx.borrow().clone()
    }

    /// Makes the audio context (synchronously: inside a user gesture it may run at once) and
    /// loads the worklet, unless that happened already. Returns the context.
    pub fn start_audio(&self) -> Option<AudioContext> {
        if let Some(ctx) = self.context() {
            return Some(ctx);
        }
        if self.destroyed.get() || self.audio_status.get() == AudioStatus::Unavailable {
            return None;
        }
        match audio::create_context() {
            Ok(ctx) => {
                ctx.set_onstatechange(Some(&self.on_audio_state));
                *self.ctx.borrow_mut() = Some(ctx.clone());
                if self.audio_status.get() == AudioStatus::Idle {
                    self.audio_status.set(AudioStatus::Opening);
                }
                self.open_audio(ctx.clone(), self.audio_options.get());
                Some(ctx)
            }
            Err(reason) => {
                self.audio_unavailable(format!("no AudioContext: {reason}"));
                None
            }
        }
    }

    /// Plays on without sound output for now (muted autoplay, or an engine that keeps the
    /// context suspended): the core runs on the page clock until the context runs. `warn`
    /// tells the app with an `audio-output` warning (sound was wanted).
    pub fn go_silent(&self, reason: &str, warn: bool) {
        if matches!(
            self.audio_status.get(),
            AudioStatus::Ready | AudioStatus::Unavailable
        ) {
            return;
        }
        if warn {
            self.warn_silent(reason);
        }
        if self.audio_status.replace(AudioStatus::Silent) != AudioStatus::Silent {
            self.send(HostEvent::AudioDeviceUnavailable {
                reason: reason.to_string(),
            });
        }
    }

    /// Sound is wanted (unmuted, or `play()` while silent): makes or resumes the context
    /// (inside the caller's gesture, if any); if it still does not run while playback goes
    /// on, an `audio-output` warning says so.
    pub fn want_sound(&self) {
        if !matches!(
            self.audio_status.get(),
            AudioStatus::Idle | AudioStatus::Opening | AudioStatus::Silent
        ) {
            return;
        }
        let Some(ctx) = self.start_audio() else {
            return;
        };
        if ctx.state() == AudioContextState::Running {
            self.update_device();
            return;
        }
        let resumed = ctx.resume();
        let me = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(p) = resumed {
                let race = js_sys::Promise::race(&js_sys::Array::of2(
                    &p,
                    &crate::timer::delay(RESUME_WAIT_MS),
                ));
                let _ = wasm_bindgen_futures::JsFuture::from(race).await;
            }
            let Some(d) = me.upgrade() else { return };
            d.warn_if_still_silent(
                ctx,
                "sound is blocked until the user interacts with the page; playing on without sound",
            );
        });
    }

    /// Sound was wanted and the output is not running yet: after [`OUTPUT_START_GRACE_MS`],
    /// if it still is not (and playback is on, unmuted), an `audio-output` warning says so.
    /// An output that starts meanwhile takes over without a word.
    pub fn warn_if_still_silent(&self, ctx: AudioContext, message: &'static str) {
        let me = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let still_silent = |d: &Driver| {
                ctx.state() != AudioContextState::Running
                    && d.audio_status.get() == AudioStatus::Silent
                    && d.with_core(|c| !c.paused() && !c.muted()).unwrap_or(false)
            };
            if !me.upgrade().is_some_and(|d| still_silent(&d)) {
                return;
            }
            let _ =
                wasm_bindgen_futures::JsFuture::from(crate::timer::delay(OUTPUT_START_GRACE_MS))
                    .await;
            if let Some(d) = me
                .upgrade()
                .filter(|d| !d.destroyed.get() && still_silent(d))
            {
                d.warn_silent(message);
            }
        });
    }

    /// The output is loaded and its context runs: the core moves onto the device clock.
    fn update_device(&self) {
        let Some(ctx) = self.context() else { return };
        if ctx.state() != AudioContextState::Running
            || matches!(
                self.audio_status.get(),
                AudioStatus::Ready | AudioStatus::Unavailable
            )
        {
            return;
        }
        let Some(sample_rate) = self.with_audio(|a| a.sample_rate()) else {
            return;
        };
        self.audio_status.set(AudioStatus::Ready);
        self.silence_told.set(false);
        self.send(HostEvent::AudioDeviceReady {
            sample_rate,
            channels: 2,
        });
    }

    /// Says once per silence that sound could not start (an `audio-output` warning).
    fn warn_silent(&self, message: &str) {
        if !self.silence_told.replace(true) {
            self.warn("audio-output", message);
        }
    }

    /// Dispatches a `warning` event `{kind, message}`: a problem playback goes on through.
    pub fn warn(&self, kind: &str, message: &str) {
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"kind".into(), &kind.into());
        let _ = js_sys::Reflect::set(&detail, &"message".into(), &message.into());
        let _ = js_sys::Reflect::set(&detail, &"fatal".into(), &false.into());
        events::dispatch_raw(&self.target, "warning", &detail);
    }

    /// Where the output latency held back from the clock comes from, now and for outputs
    /// opened later.
    pub fn set_output_latency(&self, policy: audio::OutputLatency) {
        let mut options = self.audio_options.get();
        options.latency = policy;
        self.audio_options.set(options);
        self.with_audio(|a| a.set_output_latency(policy));
    }

    /// Where the audio output stands.
    pub fn audio_status(&self) -> AudioStatus {
        self.audio_status.get()
    }

    /// The video decoders, the picture store and the display.
    pub fn video(&self) -> &Rc<VideoHost> {
        &self.video
    }

    /// True once [`Driver::destroy`] ran.
    pub fn destroyed(&self) -> bool {
        self.destroyed.get()
    }

    /// Reads the core (getters); `None` only if called while the core is being driven.
    pub fn with_core<T>(&self, f: impl FnOnce(&Core) -> T) -> Option<T> {
        self.core.try_borrow().ok().map(|c| f(&c))
    }

    /// Uses the audio output, when it is open.
    pub fn with_audio<T>(&self, f: impl FnOnce(&mut AudioOut) -> T) -> Option<T> {
        self.audio
            .try_borrow_mut()
            .ok()
            .and_then(|mut a| a.as_mut().map(f))
    }

    /// Sends an event to the core and carries out what it answers (queued if the core is
    /// already being driven further up the stack).
    pub fn send(&self, event: HostEvent) {
        if self.destroyed.get() {
            return;
        }
        if let HostEvent::FetchEnd { request } | HostEvent::FetchFailed { request, .. } = &event {
            if let Ok(mut f) = self.fetches.try_borrow_mut() {
                f.remove(request);
            }
        }
        self.queue.borrow_mut().push_back(event);
        if self.draining.replace(true) {
            return;
        }
        let mut commands = Vec::new();
        while !self.destroyed.get() {
            let Some(event) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            if let Ok(mut core) = self.core.try_borrow_mut() {
                let at = now();
                self.handled_at.set(at);
                core.handle(at, event);
                while let Some(cmd) = core.poll_command() {
                    commands.push(cmd);
                }
            }
            for cmd in commands.drain(..) {
                self.execute(cmd);
            }
        }
        self.draining.set(false);
        self.sync_ticker();
        self.video.sync();
    }

    /// Ticks periodically only while something moves; the core's own `WakeAt` covers the rest.
    fn sync_ticker(&self) {
        let active = !self.destroyed.get()
            && self
                .with_core(|c| {
                    c.seeking()
                        || matches!(
                            c.state(),
                            PlaybackState::Loading
                                | PlaybackState::Playing
                                | PlaybackState::Buffering
                        )
                })
                .unwrap_or(false);
        if active {
            self.ticker.start();
        } else {
            self.ticker.stop();
        }
    }

    fn sink(&self) -> impl Fn(HostEvent) + 'static {
        let me = self.me.clone();
        move |event| {
            if let Some(d) = me.upgrade() {
                d.send(event);
            }
        }
    }

    fn execute(&self, cmd: HostCommand) {
        if self.destroyed.get() {
            return;
        }
        match cmd {
            HostCommand::Fetch {
                request,
                url,
                range,
                kind,
            } => {
                let hooks = self.hooks.borrow().clone();
                let f = fetch::start_with(request, &url, range, kind, hooks, self.sink());
                if let Ok(mut fetches) = self.fetches.try_borrow_mut() {
                    fetches.insert(request, f);
                }
            }
            HostCommand::CancelFetch { request } => {
                if let Some(f) = self
                    .fetches
                    .try_borrow_mut()
                    .ok()
                    .and_then(|mut f| f.remove(&request))
                {
                    f.abort();
                }
            }
            HostCommand::QueueAudio { epoch, samples } => {
                self.with_audio(|a| a.queue(epoch, samples));
            }
            HostCommand::StartAudio => {
                self.with_audio(|a| a.set_running(true));
            }
            HostCommand::PauseAudio => {
                self.with_audio(|a| a.set_running(false));
            }
            HostCommand::FlushAudio { epoch } => {
                self.with_audio(|a| a.flush(epoch));
            }
            HostCommand::SetAudioGain(g) => {
                self.with_audio(|a| a.set_gain(g));
            }
            HostCommand::WakeAt { at } => self.wake.set_at(at),
            HostCommand::Emit(event) => events::dispatch(&self.target, &event),
            HostCommand::ShowSubtitles { cues } => {
                let detail = crate::subtitles::cue_objects(&cues);
                self.video.display().show_subtitles(cues);
                events::dispatch_raw(&self.target, "cuechange", &detail);
            }
            HostCommand::ShowControls(view) => {
                let detail = events::controls_object(&view);
                events::dispatch_raw(&self.target, "controlschange", &detail);
            }
            HostCommand::ConfigureVideoDecoder { generation, config } => {
                // Answers `VideoDecoderDepth` once the decode path is chosen.
                self.video.configure_video(generation, &config);
            }
            HostCommand::DecodeVideo { generation, chunk } => {
                self.video.decode_video(generation, &chunk)
            }
            HostCommand::FlushVideoDecoder { generation } => self.video.flush_video(generation),
            HostCommand::CloseVideoDecoder => self.video.close_video(),
            HostCommand::PresentFrame { frame } => self.video.present(frame, self.handled_at.get()),
            HostCommand::ReleaseFrame { frame } => self.video.release(frame),
            HostCommand::ClearVideo => self.video.clear(),
            HostCommand::ConfigureAudioDecoder { generation, config } => {
                self.audio_decoder.configure(generation, &config)
            }
            HostCommand::DecodeAudio { generation, chunk } => {
                self.audio_decoder.decode(generation, &chunk)
            }
            HostCommand::FlushAudioDecoder { generation } => self.audio_decoder.flush(generation),
            HostCommand::CloseAudioDecoder => self.audio_decoder.close(),
        }
    }

    /// Refills the ring, reads the worklet's progress and lets the core run.
    pub fn tick(&self) {
        let progress = self
            .with_audio(|a| {
                a.pump();
                a.progress(now().as_secs_f64() * 1000.0)
            })
            .flatten();
        // The core runs on every event, so a progress report is a tick too.
        self.send(match progress {
            Some(p) => HostEvent::AudioProgress {
                epoch: p.epoch,
                frames_played: p.played,
            },
            None => HostEvent::Tick,
        });
    }

    fn open_audio(&self, ctx: AudioContext, options: audio::Options) {
        let me = self.me.clone();
        let on_progress: Rc<dyn Fn()> = {
            let me = me.clone();
            Rc::new(move || {
                if let Some(d) = me.upgrade() {
                    d.tick();
                }
            })
        };
        wasm_bindgen_futures::spawn_local(async move {
            let opened = audio::open(ctx.clone(), options, on_progress).await;
            let Some(d) = me.upgrade().filter(|d| !d.destroyed.get()) else {
                match opened {
                    Ok(out) => out.close(),
                    Err(_) => audio::close_context(&ctx),
                }
                return;
            };
            match opened {
                Ok(out) => {
                    if let Ok(mut slot) = d.audio.try_borrow_mut() {
                        *slot = Some(out);
                    }
                    // Running (or once it runs: `onstatechange`), the core takes the device.
                    d.update_device();
                }
                Err(reason) => {
                    audio::close_context(&ctx);
                    d.audio_unavailable(reason);
                }
            }
        });
    }

    /// No audio output for good: playback goes on, silently, on the page clock; the app hears
    /// of it through an `audio-output` warning (never silence without a word).
    fn audio_unavailable(&self, reason: String) {
        self.audio_status.set(AudioStatus::Unavailable);
        let message = format!("no audio output: {reason}");
        web_sys::console::warn_1(&format!("kinema: {message}").into());
        self.warn("audio-output", &message);
        self.send(HostEvent::AudioDeviceUnavailable { reason });
    }

    /// Stops timers, aborts fetches and closes the audio output. Idempotent.
    pub fn destroy(&self) {
        if self.destroyed.replace(true) {
            return;
        }
        self.wake.clear();
        self.ticker.stop();
        if let Ok(mut fetches) = self.fetches.try_borrow_mut() {
            for (_, f) in fetches.drain() {
                f.abort();
            }
        }
        if let Ok(mut q) = self.queue.try_borrow_mut() {
            q.clear();
        }
        self.video.close_all();
        self.audio_decoder.close();
        // While the worklet is still loading, the opener sees `destroyed` and closes the
        // context; a failed opener closed it already.
        if let Some(out) = self.audio.try_borrow_mut().ok().and_then(|mut a| a.take()) {
            out.close();
        } else if let Some(ctx) = self.ctx.try_borrow().ok().and_then(|c| c.clone()) {
            // Still loading the worklet: the opener sees `destroyed`; close it here anyway
            // (closing twice is harmless).
            audio::close_context(&ctx);
        }
        if let Some(ctx) = self.ctx.try_borrow().ok().and_then(|c| c.clone()) {
            ctx.set_onstatechange(None);
        }
    }
}

/// The core's clock for the MSE decode path (`crate::mse`): position, whether it wants to
/// play, rate.
fn clock_view(driver: Weak<Driver>) -> Rc<dyn Fn() -> ClockView> {
    Rc::new(move || {
        driver
            .upgrade()
            .and_then(|d| {
                d.with_core(|c| ClockView {
                    position: c.current_time_at(now()),
                    wants_play: !c.paused()
                        && !matches!(
                            c.state(),
                            PlaybackState::Ended | PlaybackState::Error | PlaybackState::Idle
                        ),
                    rate: c.playback_rate(),
                })
            })
            .unwrap_or_default()
    })
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.destroy();
    }
}
