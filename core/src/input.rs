//! The logical input key set every host maps its device keys onto, and the default actions.

/// A logical key, independent of the device that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// D-pad / arrow up.
    Up,
    /// D-pad / arrow down.
    Down,
    /// D-pad / arrow left.
    Left,
    /// D-pad / arrow right.
    Right,
    /// OK / Enter / Select.
    Ok,
    /// Back / Return / Escape.
    Back,
    /// Play.
    Play,
    /// Pause.
    Pause,
    /// Play/pause toggle (space bar, remote's combined key).
    PlayPause,
    /// Stop.
    Stop,
    /// Rewind.
    Rewind,
    /// Fast forward.
    FastForward,
    /// Next item / chapter.
    Next,
    /// Previous item / chapter.
    Previous,
    /// Red colour key.
    Red,
    /// Green colour key.
    Green,
    /// Yellow colour key.
    Yellow,
    /// Blue colour key.
    Blue,
    /// A digit key 0–9.
    Digit(u8),
    /// Info key.
    Info,
    /// Subtitle key.
    Subtitle,
    /// Audio-track key.
    Audio,
    /// Mute toggle.
    Mute,
    /// Volume up.
    VolumeUp,
    /// Volume down.
    VolumeDown,
}

/// An input event delivered by the host.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum InputEvent {
    /// A key went down (`repeat` for auto-repeat).
    KeyDown {
        /// Which logical key.
        key: Key,
        /// True for auto-repeat events.
        repeat: bool,
    },
    /// A key went up.
    KeyUp {
        /// Which logical key.
        key: Key,
    },
}

/// What a key does to the player when the app has not remapped it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Toggle between playing and paused.
    TogglePlay,
    /// Play.
    Play,
    /// Pause.
    Pause,
    /// Seek relative to the current position by this many seconds.
    SeekBy(f64),
    /// Change the volume by this amount (clamped to `[0, 1]`).
    VolumeBy(f64),
    /// Toggle mute.
    ToggleMute,
    /// Pause and seek to the start.
    Stop,
}

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
