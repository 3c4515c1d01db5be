//! The media clock: audio-master, from the frames the device reports as played.
//!
//! Each flush of the device starts an *epoch*: frame 0 of an epoch is media time
//! `media_start`, and every device frame advances media time by `rate / device_rate`. Between
//! progress reports the position is interpolated from host time, never past what was queued.
//! Without an audio device the core plays into a virtual device that consumes frames at host
//! time, so the same code drives silent playback.

use std::time::Duration;

/// Longest interpolation past the last progress report.
const MAX_EXTRAPOLATION: f64 = 0.2;

/// Audio-master media clock.
#[derive(Debug, Clone)]
pub struct Clock {
    device_rate: u32,
    epoch: u32,
    media_start: f64,
    rate: f64,
    queued: u64,
    played: u64,
    reported_at: Option<Duration>,
    running: bool,
    /// The device has reported progress since it was last started: only then is the position
    /// extrapolated (a suspended output, e.g. autoplay refused, must not seem to play).
    consuming: bool,
    virtual_device: bool,
    last_position: f64,
}

impl Clock {
    /// A clock for a device consuming `device_rate` frames per second.
    pub fn new(device_rate: u32, virtual_device: bool) -> Self {
        Clock {
            device_rate: device_rate.max(1),
            epoch: 0,
            media_start: 0.0,
            rate: 1.0,
            queued: 0,
            played: 0,
            reported_at: None,
            running: false,
            consuming: false,
            virtual_device,
            last_position: 0.0,
        }
    }

    /// Frames per second of the device.
    pub fn device_rate(&self) -> u32 {
        self.device_rate
    }

    /// The current epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// True when the core itself consumes the frames (no audio device).
    pub fn is_virtual(&self) -> bool {
        self.virtual_device
    }

    /// Starts a new epoch at media time `media_start` played at `rate`; returns its number.
    pub fn flush(&mut self, media_start: f64, rate: f64) -> u32 {
        self.epoch = self.epoch.wrapping_add(1);
        self.media_start = media_start;
        self.rate = rate;
        self.queued = 0;
        self.played = 0;
        self.reported_at = None;
        self.consuming = false;
        self.last_position = media_start;
        self.epoch
    }

    /// Frames were queued to the device in the current epoch.
    pub fn queued(&mut self, frames: u64) {
        self.queued += frames;
    }

    /// The device reports `played` frames of `epoch` at host time `now`.
    pub fn progress(&mut self, now: Duration, epoch: u32, played: u64) {
        if epoch != self.epoch || self.virtual_device {
            return;
        }
        let played = played.min(self.queued).max(self.played);
        if played > self.played && self.running {
            self.consuming = true;
        }
        self.played = played;
        self.reported_at = Some(now);
    }

    /// Advances a virtual device to `now`.
    pub fn tick(&mut self, now: Duration) {
        if !self.virtual_device {
            return;
        }
        if let (true, Some(at)) = (self.running, self.reported_at) {
            let elapsed = now.saturating_sub(at).as_secs_f64();
            let frames = (elapsed * self.device_rate as f64) as u64;
            self.played = (self.played + frames).min(self.queued);
            if frames > 0 {
                let used = Duration::from_secs_f64(frames as f64 / self.device_rate as f64);
                self.reported_at = Some(at + used);
            }
            if self.played >= self.queued {
                self.reported_at = Some(now);
            }
        } else {
            self.reported_at = Some(now);
        }
    }

    /// The device starts or stops consuming at `now`.
    pub fn set_running(&mut self, now: Duration, running: bool) {
        if self.virtual_device {
            self.tick(now);
        } else if running && !self.running {
            self.reported_at = Some(now);
        }
        if !running {
            self.consuming = false;
        }
        self.running = running;
    }

    /// Whether the device is consuming.
    pub fn running(&self) -> bool {
        self.running
    }

    /// Frames queued but not yet played.
    pub fn ahead(&self) -> u64 {
        self.queued - self.played
    }

    /// Seconds of media queued but not yet played.
    pub fn ahead_secs(&self) -> f64 {
        self.ahead() as f64 / self.device_rate as f64 * self.rate
    }

    /// Everything queued has been played.
    pub fn drained(&self) -> bool {
        self.played >= self.queued
    }

    /// Media time at host time `now`, without moving the clock (for getters between events).
    pub fn peek(&self, now: Duration) -> f64 {
        self.compute(now).max(self.last_position)
    }

    fn compute(&self, now: Duration) -> f64 {
        let mut frames = self.played as f64;
        if self.running && self.consuming && !self.virtual_device {
            if let Some(at) = self.reported_at {
                let extra = now.saturating_sub(at).as_secs_f64().min(MAX_EXTRAPOLATION);
                frames = (frames + extra * self.device_rate as f64).min(self.queued as f64);
            }
        }
        self.media_start + frames / self.device_rate as f64 * self.rate
    }

    /// Media time at host time `now`.
    pub fn position(&mut self, now: Duration) -> f64 {
        let pos = self.compute(now);
        if pos > self.last_position {
            self.last_position = pos;
        }
        self.last_position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_played_frames_to_media_time() {
        let mut clock = Clock::new(48_000, false);
        let epoch = clock.flush(10.0, 2.0);
        clock.queued(48_000);
        clock.set_running(Duration::ZERO, true);
        // A started device that has not reported playing anything is not extrapolated.
        assert_eq!(clock.position(Duration::from_millis(150)), 10.0);
        clock.progress(Duration::from_millis(250), epoch, 12_000);
        assert!((clock.position(Duration::from_millis(250)) - 10.5).abs() < 1e-9);
        // Interpolated, capped by what was queued.
        assert!((clock.position(Duration::from_millis(300)) - 10.6).abs() < 1e-9);
        clock.progress(Duration::from_secs(5), epoch, 48_000);
        assert!((clock.position(Duration::from_secs(9)) - 12.0).abs() < 1e-9);
        assert!(clock.drained());
        // Reports of an old epoch are ignored.
        let e2 = clock.flush(3.0, 1.0);
        clock.progress(Duration::from_secs(10), epoch, 5);
        assert_eq!(clock.position(Duration::from_secs(10)), 3.0);
        assert_eq!(e2, epoch + 1);
    }

    #[test]
    fn virtual_device_consumes_at_host_time() {
        let mut clock = Clock::new(1000, true);
        clock.flush(0.0, 1.0);
        clock.queued(500);
        clock.set_running(Duration::ZERO, true);
        clock.tick(Duration::from_millis(200));
        assert!((clock.position(Duration::from_millis(200)) - 0.2).abs() < 1e-9);
        clock.tick(Duration::from_secs(2));
        assert!((clock.position(Duration::from_secs(2)) - 0.5).abs() < 1e-9);
        assert!(clock.drained());
    }
}
