//! Suspend and resume (TV apps going to the background): a suspend remembers where the session
//! was ([`ResumePoint`]) and tears it down (decoders closed, pictures released, fetches
//! cancelled, caches dropped); a resume reloads, starts at the position (inside the DVR window
//! when live) and restores the choices once the source has opened.

use super::*;

/// What a suspended session needs to come back ([`AppRequest::Suspend`]).
#[derive(Debug, Clone)]
pub(super) struct ResumePoint {
    pub(super) url: String,
    pub(super) position: f64,
    pub(super) play: bool,
    pub(super) audio: Option<usize>,
    pub(super) text: Option<String>,
    pub(super) quality: Option<usize>,
    pub(super) added: Vec<AppRequest>,
    /// The reloaded source has its metadata: selections can be restored.
    pub(super) opened: bool,
}

impl Player {
    /// Releases everything of the session, remembering how to come back.
    pub(super) fn suspend(&mut self, now: Duration) {
        if self.suspended.is_some() {
            return;
        }
        // A resume that has not finished yet: suspend what it was restoring.
        let point = match (self.restore.take(), self.session.as_ref()) {
            (Some(mut p), _) => {
                p.opened = false;
                p.play = self.wants_play;
                p
            }
            (None, Some(s)) => ResumePoint {
                url: s.url.clone(),
                position: self.seeking.unwrap_or_else(|| self.current_time_at(now)),
                play: self.wants_play,
                audio: self.audio_track(),
                text: self
                    .text_track()
                    .and_then(|i| self.text_tracks().get(i).map(|t| t.id.clone())),
                quality: self.manual_quality(),
                added: self.added.clone(),
                opened: false,
            },
            (None, None) => return,
        };
        self.teardown();
        self.position = point.position;
        self.wants_play = false;
        let position = point.position;
        self.suspended = Some(point);
        if self.state != PlaybackState::Error {
            self.set_state(PlaybackState::Paused);
        }
        self.emit(PlayerEvent::Suspended { position });
    }

    pub(super) fn resume(&mut self, now: Duration) {
        let Some(point) = self.suspended.take() else {
            return;
        };
        let info = self.info.clone();
        self.load(now, point.url.clone());
        // Keep the duration and size known before, so the UI does not flash "no media".
        self.info = info;
        self.wants_play = point.play;
        self.restore = Some(point);
    }

    /// The reloaded source is open: restore track and quality choices.
    pub(super) fn finish_resume(&mut self, now: Duration, point: ResumePoint) {
        if let Some(q) = point.quality {
            if let Some(s) = self.session.as_mut() {
                s.media.select_quality(Some(q));
            }
        }
        if let Some(a) = point.audio.filter(|a| Some(*a) != self.audio_track()) {
            self.select_audio(now, a);
        }
        for request in point.added {
            self.on_app(now, request);
        }
        if let Some(id) = point.text {
            let index = self.text_tracks().iter().position(|t| t.id == id);
            if index != self.text_track() {
                self.subs.select(index, &mut self.net, &mut self.scratch);
            }
        }
        self.out.extend(self.scratch.drain(..));
        self.emit(PlayerEvent::Resumed(point.position));
    }
}
