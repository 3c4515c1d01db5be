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
use web_sys::{AudioContext, EventTarget};

use crate::audio::{self, AudioOut};
use crate::events;
use crate::fetch::{self, Fetch};
use crate::timer::{now, Ticker, Timer};
use crate::video::VideoHost;

/// Period of the tick that reads audio progress, refills the ring and lets the core run.
pub const TICK_MS: i32 = 40;

/// Where the audio output stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioStatus {
    /// The worklet is loading.
    Opening,
    /// The output runs (see [`Driver::with_audio`]).
    Ready,
    /// There is no output; the core plays silently on the page clock.
    Unavailable,
}

/// Owns the core and everything the browser side holds for it.
pub struct Driver {
    core: RefCell<Core>,
    queue: RefCell<VecDeque<HostEvent>>,
    draining: Cell<bool>,
    target: EventTarget,
    fetches: RefCell<HashMap<RequestId, Fetch>>,
    ctx: Option<AudioContext>,
    audio: RefCell<Option<AudioOut>>,
    audio_status: Cell<AudioStatus>,
    wake: Timer,
    ticker: Ticker,
    destroyed: Cell<bool>,
    video: Rc<VideoHost>,
    me: Weak<Driver>,
}

impl Driver {
    /// Creates the driver and opens the audio output (`options`) in the background.
    pub fn new(options: audio::Options) -> Result<Rc<Driver>, wasm_bindgen::JsValue> {
        let target = EventTarget::new()?;
        let ctx = audio::create_context();
        let driver = Rc::new_cyclic(|me: &Weak<Driver>| {
            let on_wake = me.clone();
            let on_tick = me.clone();
            let on_decoded = me.clone();
            Driver {
                core: RefCell::new(Core::new(PlayerConfig::default())),
                queue: RefCell::new(VecDeque::new()),
                draining: Cell::new(false),
                target,
                fetches: RefCell::new(HashMap::new()),
                ctx: ctx.as_ref().ok().cloned(),
                audio: RefCell::new(None),
                audio_status: Cell::new(AudioStatus::Opening),
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
                me: me.clone(),
            }
        });
        driver.video.set_clock(clock_view(Rc::downgrade(&driver)));
        match ctx {
            Ok(ctx) => driver.open_audio(ctx, options),
            Err(reason) => driver.audio_unavailable(reason),
        }
        Ok(driver)
    }

    /// The target app listeners are registered on.
    pub fn target(&self) -> &EventTarget {
        &self.target
    }

    /// The audio context, unless creating it failed.
    pub fn context(&self) -> Option<&AudioContext> {
        self.ctx.as_ref()
    }

    /// Where the audio output stands.
    pub fn audio_status(&self) -> AudioStatus {
        self.audio_status.get()
    }

    /// The platform decoders and the picture store.
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
                core.handle(now(), event);
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
            } => {
                let f = fetch::start(request, &url, range, self.sink());
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
                self.video.show_subtitles(cues);
                events::dispatch_raw(&self.target, "cuechange", &detail);
            }
            HostCommand::ShowControls(view) => {
                let detail = events::controls_object(&view);
                events::dispatch_raw(&self.target, "controlschange", &detail);
            }
            HostCommand::ConfigureVideoDecoder { generation, config } => {
                self.video.configure_video(generation, &config);
                // The MSE element holds more chunks before pictures come out than WebCodecs.
                let depth =
                    (self.video.decode_path() == Some("mse")).then_some(crate::mse::DECODER_DEPTH);
                if let Ok(mut core) = self.core.try_borrow_mut() {
                    core.set_video_decoder_depth(depth);
                }
            }
            HostCommand::DecodeVideo { generation, chunk } => {
                self.video.decode_video(generation, &chunk)
            }
            HostCommand::FlushVideoDecoder { generation } => self.video.flush_video(generation),
            HostCommand::CloseVideoDecoder => self.video.close_video(),
            HostCommand::PresentFrame { frame } => self.video.present(frame),
            HostCommand::ReleaseFrame { frame } => self.video.release(frame),
            HostCommand::ClearVideo => self.video.clear(),
            HostCommand::ConfigureAudioDecoder { generation, config } => {
                self.video.configure_audio(generation, &config)
            }
            HostCommand::DecodeAudio { generation, chunk } => {
                self.video.decode_audio(generation, &chunk)
            }
            HostCommand::FlushAudioDecoder { generation } => self.video.flush_audio(generation),
            HostCommand::CloseAudioDecoder => self.video.close_audio(),
            // Commands of later protocol versions (text) this host does not carry out.
            _ => {}
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
                    let sample_rate = out.sample_rate();
                    if let Ok(mut slot) = d.audio.try_borrow_mut() {
                        *slot = Some(out);
                    }
                    d.audio_status.set(AudioStatus::Ready);
                    d.send(HostEvent::AudioDeviceReady {
                        sample_rate,
                        channels: 2,
                    });
                }
                Err(reason) => {
                    audio::close_context(&ctx);
                    d.audio_unavailable(reason);
                }
            }
        });
    }

    fn audio_unavailable(&self, reason: String) {
        self.audio_status.set(AudioStatus::Unavailable);
        web_sys::console::warn_1(&format!("kinema: no audio output: {reason}").into());
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
        // While the worklet is still loading, the opener sees `destroyed` and closes the
        // context; a failed opener closed it already.
        if let Some(out) = self.audio.try_borrow_mut().ok().and_then(|mut a| a.take()) {
            out.close();
        }
    }
}

/// The core's clock for the MSE decode path (`crate::mse`): position, whether it wants to
/// play, rate.
fn clock_view(driver: Weak<Driver>) -> Rc<dyn Fn() -> crate::mse::ClockView> {
    Rc::new(move || {
        driver
            .upgrade()
            .and_then(|d| {
                d.with_core(|c| crate::mse::ClockView {
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
