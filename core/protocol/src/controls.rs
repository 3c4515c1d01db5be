//! What a host draws of the core's on-screen controls ([`ControlsView`], sent in
//! [`crate::HostCommand::ShowControls`]) and what a pointer can activate ([`ControlTarget`]).
//! The controls' model (focus, menus, auto-hide) is the core's (`kinema_core::controls`).

/// A button of the control bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlId {
    /// Seek back `SEEK_STEP` (core) seconds.
    Rewind,
    /// Play or pause.
    PlayPause,
    /// Seek forward `SEEK_STEP` (core) seconds.
    FastForward,
    /// Opens the audio-track menu (enabled with more than one track).
    Audio,
    /// Opens the subtitles menu (enabled with at least one text track).
    Subtitles,
    /// Opens the quality menu (enabled with more than one quality level).
    Quality,
}

/// The bar's buttons, left to right.
pub const BUTTONS: [ControlId; 6] = [
    ControlId::Rewind,
    ControlId::PlayPause,
    ControlId::FastForward,
    ControlId::Audio,
    ControlId::Subtitles,
    ControlId::Quality,
];

impl ControlId {
    /// Stable name for hosts (`"rewind"`, `"playpause"`, `"fastforward"`, `"audio"`,
    /// `"subtitles"`, `"quality"`).
    pub fn name(self) -> &'static str {
        match self {
            ControlId::Rewind => "rewind",
            ControlId::PlayPause => "playpause",
            ControlId::FastForward => "fastforward",
            ControlId::Audio => "audio",
            ControlId::Subtitles => "subtitles",
            ControlId::Quality => "quality",
        }
    }

    /// The button named `name` (see [`ControlId::name`]).
    pub fn from_name(name: &str) -> Option<ControlId> {
        BUTTONS.into_iter().find(|b| b.name() == name)
    }
}

/// Which list a menu shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuKind {
    /// Audio tracks (languages).
    Audio,
    /// "Off" and the text tracks.
    Subtitles,
    /// "Auto" and the quality levels.
    Quality,
}

impl MenuKind {
    /// Stable name for hosts (`"audio"`, `"subtitles"`, `"quality"`).
    pub fn name(self) -> &'static str {
        match self {
            MenuKind::Audio => "audio",
            MenuKind::Subtitles => "subtitles",
            MenuKind::Quality => "quality",
        }
    }
}

/// One button as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlButton {
    /// Which button.
    pub id: ControlId,
    /// Text for the button (and its accessible name).
    pub label: String,
    /// It has the focus (draw a focus ring).
    pub focused: bool,
    /// It does something now (draw disabled buttons dimmed; focus skips them).
    pub enabled: bool,
}

/// One entry of an open menu.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuItem {
    /// Text of the entry.
    pub label: String,
    /// It is the current choice (draw a check mark).
    pub selected: bool,
    /// It has the focus.
    pub focused: bool,
}

/// An open menu.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuView {
    /// Which list.
    pub kind: MenuKind,
    /// Heading.
    pub title: String,
    /// Entries, top to bottom.
    pub items: Vec<MenuItem>,
}

/// Everything a host needs to draw the controls.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlsView {
    /// The bar is shown (when false, draw nothing).
    pub visible: bool,
    /// The player is paused (the play/pause button shows "Play").
    pub paused: bool,
    /// The bar's buttons, left to right.
    pub buttons: Vec<ControlButton>,
    /// The open menu, drawn above the bar.
    pub menu: Option<MenuView>,
}

/// What a pointer (mouse, touch, Magic Remote) activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlTarget {
    /// A bar button.
    Button(ControlId),
    /// Entry `n` of the open menu.
    Item(usize),
}
