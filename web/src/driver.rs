//! The host loop: feeds the core events with the page's time and carries out its commands.
//!
//! Re-entrancy: a command can run app code (an event listener calling `player.pause()`), which
//! sends another event while the first is being handled. Events are queued and handled one at a
//! time by whoever is already draining, so the core is never borrowed twice.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::time::Duration;

use kinema_core::{HostCommand, HostEvent, Player as Core, PlayerConfig};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, EventTarget};

use crate::audio::{self, AudioOut};
use crate::{events, fetch};

/// Period of the host tick that reads audio progress and lets the core refill.
const TICK_MS: i32 = 40;

/// Owns the core and everything the browser side holds for it.
pub struct Driver {
    core: RefCell<Core>,
    queue: RefCell<VecDeque<HostEvent>>,
    draining: Cell<bool>,
    target: EventTarget,
    fetches: RefCell<HashMap<u64, AbortController>>,
    audio: RefCell<Option<AudioOut>>,
    timeout: Cell<Option<i32>>,
    interval: Cell<Option<i32>>,
    on_timeout: RefCell<Option<Closure<dyn FnMut()>>>,
    on_interval: RefCell<Option<Closure<dyn FnMut()>>>,
    destroyed: Cell<bool>,
    audio_failed: Cell<bool>,
    me: Weak<Driver>,
}

/// The page's monotonic time (`performance.now()`).
pub fn now() -> Duration {
    let ms = web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0);
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

impl Driver {
    /// Creates the driver, starts the tick and opens the audio output in the background.
    pub fn new() -> Result<Rc<Driver>, JsValue> {
        let target = EventTarget::new()?;
        let driver = Rc::new_cyclic(|me| Driver {
            core: RefCell::new(Core::new(PlayerConfig::default())),
            queue: RefCell::new(VecDeque::new()),
            draining: Cell::new(false),
            target,
            fetches: RefCell::new(HashMap::new()),
            audio: RefCell::new(None),
            timeout: Cell::new(None),
            interval: Cell::new(None),
            on_timeout: RefCell::new(None),
            on_interval: RefCell::new(None),
            destroyed: Cell::new(false),
            audio_failed: Cell::new(false),
            me: me.clone(),
        });
        driver.start_tick();
        driver.open_audio();
        Ok(driver)
    }

    /// The target app listeners are registered on.
    pub fn target(&self) -> &EventTarget {
        &self.target
    }

    /// Reads the core (getters).
    pub fn with_core<T>(&self, f: impl FnOnce(&Core) -> T) -> Option<T> {
        self.core.try_borrow().ok().map(|c| f(&c))
    }

    /// The audio output, when open.
    pub fn with_audio<T>(&self, f: impl FnOnce(&mut AudioOut) -> T) -> Option<T> {
        self.audio
            .try_borrow_mut()
            .ok()
            .and_then(|mut a| a.as_mut().map(f))
    }

    /// True once opening the audio output failed (the core then plays silently).
    pub fn audio_failed(&self) -> bool {
        self.audio_failed.get()
    }

    /// Sends an event to the core and carries out what it answers.
    pub fn send(&self, event: HostEvent) {
        if self.destroyed.get() {
            return;
        }
        if let HostEvent::FetchEnd { request } | HostEvent::FetchFailed { request, .. } = &event {
            self.fetches.borrow_mut().remove(&request.0);
        }
        self.queue.borrow_mut().push_back(event);
        if self.draining.replace(true) {
            return;
        }
        let mut commands = Vec::new();
        loop {
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
        match cmd {
            HostCommand::Fetch {
                request,
                url,
                range,
            } => {
                if let Some(c) = fetch::start(request, &url, range, self.sink()) {
                    self.fetches.borrow_mut().insert(request.0, c);
                }
            }
            HostCommand::CancelFetch { request } => {
                if let Some(c) = self.fetches.borrow_mut().remove(&request.0) {
                    c.abort();
                }
            }
            HostCommand::QueueAudio { epoch, samples } => {
                self.with_audio(|a| a.queue(epoch, &samples));
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
            HostCommand::WakeAt { at } => self.wake_at(at),
            HostCommand::Emit(event) => events::dispatch(&self.target, &event),
            _ => {}
        }
    }

    fn wake_at(&self, at: Duration) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(id) = self.timeout.take() {
            window.clear_timeout_with_handle(id);
        }
        let delay = at.saturating_sub(now()).as_millis().min(i32::MAX as u128) as i32;
        let mut slot = self.on_timeout.borrow_mut();
        // One closure for the driver's life: replacing it from inside its own call would free
        // a running closure.
        let closure = slot.get_or_insert_with(|| {
            let me = self.me.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Some(d) = me.upgrade() {
                    d.timeout.set(None);
                    d.send(HostEvent::Tick);
                }
            })
        });
        if let Ok(id) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            delay,
        ) {
            self.timeout.set(Some(id));
        }
    }

    /// Reads the worklet's progress and ticks the core.
    pub fn tick(&self) {
        let progress = self.with_audio(|a| {
            a.pump();
            a.progress(now().as_secs_f64() * 1000.0)
        });
        if let Some(Some(p)) = progress {
            self.send(HostEvent::AudioProgress {
                epoch: p.epoch,
                frames_played: p.played,
            });
        }
        self.send(HostEvent::Tick);
    }

    fn start_tick(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let me = self.me.clone();
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(d) = me.upgrade() {
                d.tick();
            }
        });
        if let Ok(id) = window.set_interval_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            TICK_MS,
        ) {
            self.interval.set(Some(id));
        }
        *self.on_interval.borrow_mut() = Some(closure);
    }

    fn open_audio(&self) {
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
            let opened = audio::open(on_progress).await;
            let Some(d) = me.upgrade() else { return };
            match opened {
                Ok(out) => {
                    let rate = out.sample_rate();
                    *d.audio.borrow_mut() = Some(out);
                    d.send(HostEvent::AudioDeviceReady {
                        sample_rate: rate,
                        channels: 2,
                    });
                }
                Err(reason) => {
                    d.audio_failed.set(true);
                    web_sys::console::warn_1(&format!("kinema: no audio output: {reason}").into());
                    d.send(HostEvent::AudioDeviceUnavailable { reason });
                }
            }
        });
    }

    /// Stops timers, aborts fetches and closes the audio output.
    pub fn destroy(&self) {
        self.destroyed.set(true);
        if let Some(window) = web_sys::window() {
            if let Some(id) = self.timeout.take() {
                window.clear_timeout_with_handle(id);
            }
            if let Some(id) = self.interval.take() {
                window.clear_interval_with_handle(id);
            }
        }
        for (_, c) in self.fetches.borrow_mut().drain() {
            c.abort();
        }
        if let Ok(mut audio) = self.audio.try_borrow_mut() {
            if let Some(a) = audio.take() {
                a.close();
            }
        }
        self.on_timeout.borrow_mut().take();
        self.on_interval.borrow_mut().take();
    }
}
