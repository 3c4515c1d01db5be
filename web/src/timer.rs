//! Page time and timers: the core's one pending wake-up (`setTimeout`) and the periodic tick
//! (`setInterval`) that runs while something moves.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The page's monotonic time (`performance.now()`), the `now` every core call gets.
pub fn now() -> Duration {
    let ms = web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0);
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

/// A one-shot timer with at most one pending firing: `set` replaces what was pending.
///
/// The callback closure is created once and lives as long as the timer, so re-arming the timer
/// from inside its own callback never frees a running closure.
pub struct Timer {
    handle: Rc<Cell<Option<i32>>>,
    closure: Closure<dyn FnMut()>,
}

impl Timer {
    /// A disarmed timer that calls `callback` when it fires.
    pub fn new(mut callback: impl FnMut() + 'static) -> Timer {
        let handle = Rc::new(Cell::new(None));
        let fired = handle.clone();
        let closure = Closure::<dyn FnMut()>::new(move || {
            fired.set(None);
            callback();
        });
        Timer { handle, closure }
    }

    /// Fires once at page time `at` (or as soon as possible if it is past), replacing any
    /// pending firing.
    pub fn set_at(&self, at: Duration) {
        let delay = at.saturating_sub(now()).as_millis().min(i32::MAX as u128) as i32;
        self.set_in(delay);
    }

    /// Fires once after `delay_ms`, replacing any pending firing.
    pub fn set_in(&self, delay_ms: i32) {
        self.clear();
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Ok(id) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            self.closure.as_ref().unchecked_ref(),
            delay_ms.max(0),
        ) {
            self.handle.set(Some(id));
        }
    }

    /// Cancels the pending firing, if any.
    pub fn clear(&self) {
        if let (Some(id), Some(window)) = (self.handle.take(), web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
    }

    /// True while a firing is pending.
    pub fn pending(&self) -> bool {
        self.handle.get().is_some()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A periodic callback that can be started and stopped.
pub struct Ticker {
    period_ms: i32,
    handle: Cell<Option<i32>>,
    closure: Closure<dyn FnMut()>,
}

impl Ticker {
    /// A stopped ticker that calls `callback` every `period_ms` once started.
    pub fn new(period_ms: i32, callback: impl FnMut() + 'static) -> Ticker {
        Ticker {
            period_ms,
            handle: Cell::new(None),
            closure: Closure::<dyn FnMut()>::new(callback),
        }
    }

    /// Starts ticking (no-op when already running).
    pub fn start(&self) {
        if self.handle.get().is_some() {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Ok(id) = window.set_interval_with_callback_and_timeout_and_arguments_0(
            self.closure.as_ref().unchecked_ref(),
            self.period_ms,
        ) {
            self.handle.set(Some(id));
        }
    }

    /// Stops ticking (no-op when stopped).
    pub fn stop(&self) {
        if let (Some(id), Some(window)) = (self.handle.take(), web_sys::window()) {
            window.clear_interval_with_handle(id);
        }
    }

    /// True while ticking.
    pub fn running(&self) -> bool {
        self.handle.get().is_some()
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A promise that resolves after `ms` (for races against promises that may never settle).
pub fn delay(ms: i32) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    })
}
