//! The default actions of the logical keys, and the app's remapping of them ([`KeyMap`]).
//! The key set itself ([`Key`], [`InputEvent`], [`Action`]) is protocol: `kinema_protocol::input`.

pub use kinema_protocol::input::{Action, InputEvent, Key};

/// Key → action mapping; hosts and apps may replace entries.
#[derive(Debug, Clone)]
pub struct KeyMap {
    entries: Vec<(Key, Action)>,
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            entries: vec![
                (Key::PlayPause, Action::TogglePlay),
                (Key::Ok, Action::TogglePlay),
                (Key::Play, Action::Play),
                (Key::Pause, Action::Pause),
                (Key::Stop, Action::Stop),
                (Key::Left, Action::SeekBy(-10.0)),
                (Key::Right, Action::SeekBy(10.0)),
                (Key::Rewind, Action::SeekBy(-30.0)),
                (Key::FastForward, Action::SeekBy(30.0)),
                (Key::Up, Action::VolumeBy(0.1)),
                (Key::Down, Action::VolumeBy(-0.1)),
                (Key::VolumeUp, Action::VolumeBy(0.1)),
                (Key::VolumeDown, Action::VolumeBy(-0.1)),
                (Key::Mute, Action::ToggleMute),
                (Key::Digit(0), Action::SeekToFraction(0.0)),
                (Key::Digit(1), Action::SeekToFraction(0.1)),
                (Key::Digit(2), Action::SeekToFraction(0.2)),
                (Key::Digit(3), Action::SeekToFraction(0.3)),
                (Key::Digit(4), Action::SeekToFraction(0.4)),
                (Key::Digit(5), Action::SeekToFraction(0.5)),
                (Key::Digit(6), Action::SeekToFraction(0.6)),
                (Key::Digit(7), Action::SeekToFraction(0.7)),
                (Key::Digit(8), Action::SeekToFraction(0.8)),
                (Key::Digit(9), Action::SeekToFraction(0.9)),
            ],
        }
    }
}

impl KeyMap {
    /// The action bound to `key`, if any.
    pub fn action(&self, key: Key) -> Option<Action> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, a)| *a)
    }

    /// Binds `key` to `action` (or unbinds it with `None`), replacing any earlier binding.
    pub fn bind(&mut self, key: Key, action: Option<Action>) {
        self.entries.retain(|(k, _)| *k != key);
        if let Some(action) = action {
            self.entries.push((key, action));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_and_bind() {
        assert_eq!(Action::parse("seek:-5"), Some(Action::SeekBy(-5.0)));
        assert_eq!(
            Action::parse("seek-fraction:2"),
            Some(Action::SeekToFraction(1.0))
        );
        assert_eq!(Action::parse("toggle-play"), Some(Action::TogglePlay));
        assert_eq!(Action::parse("seek"), None);
        assert_eq!(Action::parse("seek:NaN"), None);
        assert_eq!(Action::parse("play:1"), None);
        let mut m = KeyMap::default();
        m.bind(Key::Red, Action::parse("seek:60"));
        assert_eq!(m.action(Key::Red), Some(Action::SeekBy(60.0)));
        m.bind(Key::Left, None);
        assert_eq!(m.action(Key::Left), None);
    }
}
