//! Seeking and restarting the output: exact and fast seeks (keyframe lookup), repositioning
//! every pipeline (new audio epoch, new decoder generation), and queueing the device again
//! after a flush or a device change.

use super::*;

impl Player {
    pub(super) fn seek(&mut self, now: Duration, target: f64, mode: SeekMode) {
        if self.session.is_none()
            || matches!(self.state, PlaybackState::Loading) && self.info.is_none()
        {
            return;
        }
        let mut target = if target.is_finite() {
            target.max(0.0)
        } else {
            0.0
        };
        if let Some((lo, hi)) = self.seek_range() {
            target = target.clamp(lo, hi.max(lo));
        }
        if mode == SeekMode::Fast {
            target = self.keyframe_before(target).unwrap_or(target);
        }
        self.seeking = Some(target);
        self.emit(PlayerEvent::Seeking(target));
        self.reposition(now, target);
    }

    /// Presentation time (seconds) of the video keyframe at or before `target`, when the
    /// demuxer can tell without fetching.
    pub(super) fn keyframe_before(&mut self, target: f64) -> Option<f64> {
        let s = self.session.as_mut()?;
        let track = s.video.as_ref()?.track;
        let key_us = s.media.keyframe_before(track, (target * 1e6) as i64)?;
        Some((key_us.max(0) as f64 / 1e6).min(target))
    }

    /// Drops queued audio and positions the decoder at `target` (seek, rate change, restart).
    pub(super) fn reposition(&mut self, now: Duration, target: f64) {
        self.position = target;
        self.flush_output(target);
        if let Some(s) = self.session.as_mut() {
            s.media.seek(
                (target * 1e6).round() as i64,
                &mut self.net,
                &mut self.scratch,
            );
            // The resampler is rebuilt at the next decode with the current device rate and
            // playback rate.
            s.out.reset();
            if let Some(src) = s.source.as_ref() {
                let frame = (target * src.rate() as f64).round() as i64;
                s.pending = Pending::Seek(frame);
                s.need = None;
            }
            if let Some(v) = s.video.as_mut() {
                v.reset((target * 1e6).round() as i64, true, &mut self.scratch);
                s.feed_need = None;
            }
        }
        self.out.extend(self.scratch.drain(..));
        if self.state == PlaybackState::Ended || self.state == PlaybackState::Playing {
            self.set_state(if self.wants_play {
                PlaybackState::Buffering
            } else {
                PlaybackState::Paused
            });
        }
        let _ = now;
    }

    /// Starts a new device epoch at media time `at`.
    pub(super) fn flush_output(&mut self, at: f64) {
        let epoch = self.clock.flush(at, self.rate);
        self.clock.set_running(self.now, false);
        if !self.clock.is_virtual() || self.device != Device::Waiting {
            self.out.push_back(HostCommand::PauseAudio);
            self.out.push_back(HostCommand::FlushAudio { epoch });
        }
    }

    /// The device changed: queue again from the current position.
    pub(super) fn restart_output(&mut self, now: Duration) {
        let at = self.position;
        if let Some(s) = self.session.as_mut() {
            s.out.new_format();
        }
        let loaded = self.session.as_ref().is_some_and(|s| s.source.is_some());
        if loaded {
            self.reposition(now, at);
        } else {
            self.flush_output(at);
        }
    }
}
