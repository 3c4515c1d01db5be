//! The logical input key set every host maps its device keys onto, and what keys can do.

/// A logical key, independent of the device that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Every key with its name, in [`Key::name`] order of the enum (digits as `Digit0`–`Digit9`).
const NAMED: [(Key, &str); 25] = [
    (Key::Up, "Up"),
    (Key::Down, "Down"),
    (Key::Left, "Left"),
    (Key::Right, "Right"),
    (Key::Ok, "Ok"),
    (Key::Back, "Back"),
    (Key::Play, "Play"),
    (Key::Pause, "Pause"),
    (Key::PlayPause, "PlayPause"),
    (Key::Stop, "Stop"),
    (Key::Rewind, "Rewind"),
    (Key::FastForward, "FastForward"),
    (Key::Next, "Next"),
    (Key::Previous, "Previous"),
    (Key::Red, "Red"),
    (Key::Green, "Green"),
    (Key::Yellow, "Yellow"),
    (Key::Blue, "Blue"),
    (Key::Info, "Info"),
    (Key::Subtitle, "Subtitle"),
    (Key::Audio, "Audio"),
    (Key::Mute, "Mute"),
    (Key::VolumeUp, "VolumeUp"),
    (Key::VolumeDown, "VolumeDown"),
    (Key::Digit(0), "Digit0"),
];

impl Key {
    /// The key's stable name, as hosts and apps spell it (`"PlayPause"`, `"Digit7"`, ...).
    pub fn name(self) -> String {
        match self {
            Key::Up => "Up",
            Key::Down => "Down",
            Key::Left => "Left",
            Key::Right => "Right",
            Key::Ok => "Ok",
            Key::Back => "Back",
            Key::Play => "Play",
            Key::Pause => "Pause",
            Key::PlayPause => "PlayPause",
            Key::Stop => "Stop",
            Key::Rewind => "Rewind",
            Key::FastForward => "FastForward",
            Key::Next => "Next",
            Key::Previous => "Previous",
            Key::Red => "Red",
            Key::Green => "Green",
            Key::Yellow => "Yellow",
            Key::Blue => "Blue",
            Key::Info => "Info",
            Key::Subtitle => "Subtitle",
            Key::Audio => "Audio",
            Key::Mute => "Mute",
            Key::VolumeUp => "VolumeUp",
            Key::VolumeDown => "VolumeDown",
            Key::Digit(d) => return format!("Digit{}", d.min(9)),
        }
        .to_string()
    }

    /// The key named `name` (see [`Key::name`]; `"Enter"`/`"Select"` are accepted for `Ok`).
    pub fn from_name(name: &str) -> Option<Key> {
        if let Some(d) = name.strip_prefix("Digit") {
            return match d.as_bytes() {
                [c @ b'0'..=b'9'] => Some(Key::Digit(c - b'0')),
                _ => None,
            };
        }
        match name {
            "Enter" | "Select" | "OK" => Some(Key::Ok),
            _ => NAMED.iter().find(|(_, s)| *s == name).map(|(k, _)| *k),
        }
    }
}

/// An input event delivered by the host.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// Seek to this fraction of the duration (digit keys: 0 = start, 5 = half way).
    SeekToFraction(f64),
}

impl Action {
    /// Parses an action as apps spell it: `toggle-play`, `play`, `pause`, `stop`, `mute`,
    /// `seek:<seconds>` (relative, may be negative), `volume:<delta>`, `seek-fraction:<0..1>`.
    pub fn parse(text: &str) -> Option<Action> {
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, a.trim().parse::<f64>().ok().filter(|v| v.is_finite())),
            None => (text, None),
        };
        Some(match (name, arg) {
            ("toggle-play", None) => Action::TogglePlay,
            ("play", None) => Action::Play,
            ("pause", None) => Action::Pause,
            ("stop", None) => Action::Stop,
            ("mute", None) => Action::ToggleMute,
            ("seek", Some(s)) => Action::SeekBy(s),
            ("volume", Some(v)) => Action::VolumeBy(v),
            ("seek-fraction", Some(f)) => Action::SeekToFraction(f.clamp(0.0, 1.0)),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (k, n) in NAMED {
            assert_eq!(k.name(), n);
            assert_eq!(Key::from_name(n), Some(k));
        }
        for d in 0..10 {
            assert_eq!(Key::from_name(&Key::Digit(d).name()), Some(Key::Digit(d)));
        }
        assert_eq!(Key::from_name("Enter"), Some(Key::Ok));
        assert_eq!(Key::from_name("Digit10"), None);
        assert_eq!(Key::from_name("Nope"), None);
    }
}
