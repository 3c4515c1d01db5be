//! Keys and pointer input: the on-screen controls first ([`crate::controls`]), then the app's
//! key map ([`crate::KeyMap`]); a key nothing uses is reported as `UnhandledKey`.

use super::*;

impl Player {
    pub(super) fn on_input(&mut self, now: Duration, input: InputEvent) {
        let InputEvent::KeyDown { key, .. } = input else {
            return;
        };
        if self.controls.enabled() {
            let choices = self.choices();
            match self.controls.on_key(now, key, &choices) {
                Handled::Yes(Some(action)) => return self.ui_action(now, action),
                Handled::Yes(None) => return,
                Handled::No => {}
            }
        }
        let Some(action) = self.keys.action(key) else {
            self.emit(PlayerEvent::UnhandledKey(key));
            return;
        };
        self.key_action(now, key, action);
    }

    pub(super) fn key_action(&mut self, now: Duration, key: Key, action: Action) {
        match action {
            Action::TogglePlay if self.wants_play => self.pause(now),
            Action::TogglePlay | Action::Play => self.play(),
            Action::Pause => self.pause(now),
            Action::SeekBy(delta) => {
                let base = self.seeking.unwrap_or(self.position);
                self.seek(now, base + delta, SeekMode::Exact);
            }
            Action::VolumeBy(delta) => {
                self.volume = (self.volume + delta).clamp(0.0, 1.0);
                self.volume_changed();
            }
            Action::ToggleMute => {
                self.muted = !self.muted;
                self.volume_changed();
            }
            Action::Stop => {
                self.pause(now);
                self.seek(now, 0.0, SeekMode::Exact);
            }
            Action::SeekToFraction(f) => match self.seek_range() {
                Some((start, end)) if self.session.is_some() => {
                    self.seek(now, start + (end - start) * f, SeekMode::Exact);
                }
                _ => self.emit(PlayerEvent::UnhandledKey(key)),
            },
        }
    }

    pub(super) fn on_pointer(&mut self, now: Duration, target: ControlTarget) {
        let choices = self.choices();
        if let Some(action) = self.controls.on_pointer(now, target, &choices) {
            self.ui_action(now, action);
        }
    }

    pub(super) fn ui_action(&mut self, now: Duration, action: UiAction) {
        let key = match action {
            UiAction::TogglePlay => Action::TogglePlay,
            UiAction::Play => Action::Play,
            UiAction::Pause => Action::Pause,
            UiAction::Stop => Action::Stop,
            UiAction::SeekBy(d) => Action::SeekBy(d),
            UiAction::SelectAudio(i) => return self.select_audio(now, i),
            UiAction::SelectText(i) => {
                return self.subs.select(i, &mut self.net, &mut self.scratch)
            }
            UiAction::SelectQuality(q) => {
                if let Some(s) = self.session.as_mut() {
                    s.media.select_quality(q);
                }
                return;
            }
        };
        self.key_action(now, Key::Ok, key);
    }

    /// What the controls' menus list now.
    pub(super) fn choices(&self) -> Choices {
        let label = |name: &str, language: Option<&String>, i: usize| {
            if !name.is_empty() {
                name.to_string()
            } else {
                language
                    .cloned()
                    .unwrap_or_else(|| format!("Track {}", i + 1))
            }
        };
        Choices {
            audio: self
                .audio_tracks()
                .iter()
                .map(|t| label(&t.name, t.language.as_ref(), t.index))
                .collect(),
            audio_selected: self.audio_track(),
            text: self
                .text_tracks()
                .iter()
                .enumerate()
                .map(|(i, t)| label(&t.name, t.language.as_ref(), i))
                .collect(),
            text_selected: self.text_track(),
            quality: self
                .qualities()
                .iter()
                .map(|q| match (q.height, q.bandwidth) {
                    (0, b) => format!("{:.1} Mb/s", b as f64 / 1e6),
                    (h, 0) => format!("{h}p"),
                    (h, b) => format!("{h}p · {:.1} Mb/s", b as f64 / 1e6),
                })
                .collect(),
            quality_selected: self.manual_quality(),
            paused: !self.wants_play,
        }
    }
}
