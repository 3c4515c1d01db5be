//! On-screen controls for 10-foot UIs (TVs, set-top boxes) that also work with a mouse.
//!
//! The core owns the controls' *model*: which buttons exist, which one has focus, which menu is
//! open and what it lists, when the bar hides. Hosts only draw the [`ControlsView`] they get in
//! [`crate::HostCommand::ShowControls`] and send keys ([`crate::InputEvent`]) or pointer
//! activations ([`crate::AppRequest::ControlsActivate`]). So every device navigates the same
//! way, and the navigation is tested once, in the core, with the simulated host.
//!
//! Navigation (D-pad + OK + Back alone reach everything):
//! - Hidden: a direction or OK shows the bar (focus where it was); Back is not used (the app
//!   gets [`crate::PlayerEvent::UnhandledKey`], e.g. to exit).
//! - Bar: Left/Right move the focus between enabled buttons, OK activates, Back hides.
//! - Menu (audio, subtitles, quality): Up/Down move, OK selects and closes, Back (or Left/Right)
//!   closes it and returns to the bar.
//! - Media keys act whatever is shown and show the bar: PlayPause/Play/Pause/Stop,
//!   FastForward/Rewind seek ±[`SEEK_STEP`] s. Subtitle and Audio open their menus; Info shows or
//!   hides the bar.
//! - While playing, the bar hides [`HIDE_AFTER`] after the last input, unless a menu is open.

use std::time::Duration;

use crate::input::Key;

/// How long the bar stays up without input while playing.
pub const HIDE_AFTER: Duration = Duration::from_secs(5);
/// Seconds a FastForward / Rewind press (or the bar's buttons) moves the playhead.
pub const SEEK_STEP: f64 = 10.0;

pub use kinema_protocol::controls::{
    ControlButton, ControlId, ControlTarget, ControlsView, MenuItem, MenuKind, MenuView, BUTTONS,
};

/// The menu a bar button opens.
fn menu_of(id: ControlId) -> Option<MenuKind> {
    match id {
        ControlId::Audio => Some(MenuKind::Audio),
        ControlId::Subtitles => Some(MenuKind::Subtitles),
        ControlId::Quality => Some(MenuKind::Quality),
        ControlId::Rewind | ControlId::PlayPause | ControlId::FastForward => None,
    }
}

/// A menu's heading.
fn title_of(kind: MenuKind) -> &'static str {
    match kind {
        MenuKind::Audio => "Audio",
        MenuKind::Subtitles => "Subtitles",
        MenuKind::Quality => "Quality",
    }
}

/// The lists the menus choose from, as the player has them now.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Choices {
    pub audio: Vec<String>,
    pub audio_selected: Option<usize>,
    pub text: Vec<String>,
    pub text_selected: Option<usize>,
    pub quality: Vec<String>,
    pub quality_selected: Option<usize>,
    pub paused: bool,
}

impl Choices {
    /// The menu's entries and which one is the current choice.
    fn items(&self, kind: MenuKind) -> (Vec<String>, usize) {
        match kind {
            MenuKind::Audio => (self.audio.clone(), self.audio_selected.unwrap_or(0)),
            MenuKind::Subtitles => {
                let mut v = vec!["Off".to_string()];
                v.extend(self.text.iter().cloned());
                (v, self.text_selected.map_or(0, |i| i + 1))
            }
            MenuKind::Quality => {
                let mut v = vec!["Auto".to_string()];
                v.extend(self.quality.iter().cloned());
                (v, self.quality_selected.map_or(0, |i| i + 1))
            }
        }
    }

    fn enabled(&self, id: ControlId) -> bool {
        match id {
            ControlId::Audio => self.audio.len() > 1,
            ControlId::Subtitles => !self.text.is_empty(),
            ControlId::Quality => self.quality.len() > 1,
            _ => true,
        }
    }
}

/// What the controls ask the player to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UiAction {
    TogglePlay,
    Play,
    Pause,
    Stop,
    SeekBy(f64),
    SelectAudio(usize),
    SelectText(Option<usize>),
    SelectQuality(Option<usize>),
}

/// Result of offering a key to the controls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Handled {
    /// Not for the controls: the key map (and then the app) gets it.
    No,
    /// Used; maybe with something for the player to do.
    Yes(Option<UiAction>),
}

/// The controls' state. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    enabled: bool,
    visible: bool,
    focus: usize,
    menu: Option<(MenuKind, usize)>,
    hide_at: Option<Duration>,
    shown: Option<ControlsView>,
}

impl Controls {
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        if !on {
            self.visible = false;
            self.menu = None;
        } else {
            self.focus = 1;
        }
    }

    /// The host has a visible view (so one hiding it is still owed after disabling).
    pub fn showing(&self) -> bool {
        self.shown.as_ref().is_some_and(|v| v.visible)
    }

    /// Shows the bar (pointer moved, media key): the hide timer restarts.
    pub fn poke(&mut self, now: Duration) {
        if self.enabled {
            self.visible = true;
            self.hide_at = Some(now + HIDE_AFTER);
        }
    }

    /// When the bar hides by itself, if it is up.
    pub fn deadline(&self, playing: bool) -> Option<Duration> {
        (self.enabled && self.visible && self.menu.is_none() && playing)
            .then_some(self.hide_at)
            .flatten()
    }

    /// Hides the bar if its time is up (only while playing, with no menu open).
    pub fn tick(&mut self, now: Duration, playing: bool) {
        if self.deadline(playing).is_some_and(|at| now >= at) {
            self.visible = false;
        }
        if !playing && self.visible {
            // Paused: stay up; restart the timer so it does not hide at once on play.
            self.hide_at = Some(now + HIDE_AFTER);
        }
    }

    /// Offers a key press to the controls.
    pub fn on_key(&mut self, now: Duration, key: Key, c: &Choices) -> Handled {
        if !self.enabled {
            return Handled::No;
        }
        let media = match key {
            Key::PlayPause => Some(UiAction::TogglePlay),
            Key::Play => Some(UiAction::Play),
            Key::Pause => Some(UiAction::Pause),
            Key::Stop => Some(UiAction::Stop),
            Key::FastForward => Some(UiAction::SeekBy(SEEK_STEP)),
            Key::Rewind => Some(UiAction::SeekBy(-SEEK_STEP)),
            _ => None,
        };
        if let Some(a) = media {
            self.poke(now);
            return Handled::Yes(Some(a));
        }
        let opens = match key {
            Key::Subtitle => Some(ControlId::Subtitles),
            Key::Audio => Some(ControlId::Audio),
            _ => None,
        };
        if let Some(id) = opens {
            if !c.enabled(id) {
                return Handled::No;
            }
            self.poke(now);
            self.focus_button(id);
            self.open(id, c);
            return Handled::Yes(None);
        }
        if key == Key::Info {
            if self.visible {
                self.visible = false;
                self.menu = None;
            } else {
                self.poke(now);
            }
            return Handled::Yes(None);
        }
        let nav = matches!(
            key,
            Key::Up | Key::Down | Key::Left | Key::Right | Key::Ok | Key::Back
        );
        if !nav {
            return Handled::No;
        }
        if !self.visible {
            if key == Key::Back {
                return Handled::No;
            }
            self.poke(now);
            self.fix_focus(c);
            return Handled::Yes(None);
        }
        self.poke(now);
        if let Some((kind, focus)) = self.menu {
            let (items, _) = c.items(kind);
            let last = items.len().saturating_sub(1);
            return match key {
                Key::Up => {
                    self.menu = Some((kind, focus.saturating_sub(1)));
                    Handled::Yes(None)
                }
                Key::Down => {
                    self.menu = Some((kind, (focus + 1).min(last)));
                    Handled::Yes(None)
                }
                Key::Ok => Handled::Yes(self.choose(kind, focus, c)),
                _ => {
                    self.menu = None;
                    Handled::Yes(None)
                }
            };
        }
        match key {
            Key::Left | Key::Right => {
                self.fix_focus(c);
                let step: isize = if key == Key::Left { -1 } else { 1 };
                let mut i = self.focus as isize + step;
                while (0..BUTTONS.len() as isize).contains(&i) {
                    if c.enabled(BUTTONS[i as usize]) {
                        self.focus = i as usize;
                        break;
                    }
                    i += step;
                }
                Handled::Yes(None)
            }
            Key::Ok => {
                self.fix_focus(c);
                let id = BUTTONS[self.focus];
                Handled::Yes(self.activate(id, c))
            }
            Key::Back => {
                self.visible = false;
                Handled::Yes(None)
            }
            _ => Handled::Yes(None),
        }
    }

    /// A pointer activated `target`.
    pub fn on_pointer(
        &mut self,
        now: Duration,
        target: ControlTarget,
        c: &Choices,
    ) -> Option<UiAction> {
        if !self.enabled {
            return None;
        }
        self.poke(now);
        match target {
            ControlTarget::Button(id) if c.enabled(id) => {
                self.focus_button(id);
                if self.menu.map(|(k, _)| Some(k)) == Some(menu_of(id)) {
                    // A second click on the menu's button closes it.
                    self.menu = None;
                    return None;
                }
                self.activate(id, c)
            }
            ControlTarget::Button(_) => None,
            ControlTarget::Item(n) => {
                let (kind, _) = self.menu?;
                (n < c.items(kind).0.len())
                    .then(|| self.choose(kind, n, c))
                    .flatten()
            }
        }
    }

    fn focus_button(&mut self, id: ControlId) {
        if let Some(i) = BUTTONS.iter().position(|b| *b == id) {
            self.focus = i;
        }
    }

    /// Moves the focus off a button that became disabled (tracks went away).
    fn fix_focus(&mut self, c: &Choices) {
        if !c.enabled(BUTTONS[self.focus.min(BUTTONS.len() - 1)]) {
            self.focus = 1;
        }
    }

    fn open(&mut self, id: ControlId, c: &Choices) {
        if let Some(kind) = menu_of(id) {
            let (_, selected) = c.items(kind);
            self.menu = Some((kind, selected));
        }
    }

    fn activate(&mut self, id: ControlId, c: &Choices) -> Option<UiAction> {
        match id {
            ControlId::Rewind => Some(UiAction::SeekBy(-SEEK_STEP)),
            ControlId::PlayPause => Some(UiAction::TogglePlay),
            ControlId::FastForward => Some(UiAction::SeekBy(SEEK_STEP)),
            _ => {
                self.open(id, c);
                None
            }
        }
    }

    fn choose(&mut self, kind: MenuKind, n: usize, c: &Choices) -> Option<UiAction> {
        self.menu = None;
        match kind {
            MenuKind::Audio => (n < c.audio.len()).then_some(UiAction::SelectAudio(n)),
            MenuKind::Subtitles => Some(UiAction::SelectText(n.checked_sub(1))),
            MenuKind::Quality => Some(UiAction::SelectQuality(n.checked_sub(1))),
        }
    }

    /// The view for `c`, if it differs from the last one given out.
    pub fn changed_view(&mut self, c: &Choices) -> Option<ControlsView> {
        if !self.enabled && self.shown.as_ref().is_none_or(|v| !v.visible) {
            return None;
        }
        let view = self.view(c);
        if self.shown.as_ref() == Some(&view) {
            return None;
        }
        self.shown = Some(view.clone());
        Some(view)
    }

    fn view(&self, c: &Choices) -> ControlsView {
        let visible = self.enabled && self.visible;
        let buttons = BUTTONS
            .iter()
            .enumerate()
            .map(|(i, &id)| ControlButton {
                id,
                label: match id {
                    ControlId::Rewind => format!("−{SEEK_STEP} s"),
                    ControlId::PlayPause if c.paused => "Play".into(),
                    ControlId::PlayPause => "Pause".into(),
                    ControlId::FastForward => format!("+{SEEK_STEP} s"),
                    ControlId::Audio => "Audio".into(),
                    ControlId::Subtitles => "Subtitles".into(),
                    ControlId::Quality => "Quality".into(),
                },
                focused: visible && self.menu.is_none() && i == self.focus,
                enabled: c.enabled(id),
            })
            .collect();
        let menu = self.menu.filter(|_| visible).map(|(kind, focus)| {
            let (items, selected) = c.items(kind);
            MenuView {
                kind,
                title: title_of(kind).into(),
                items: items
                    .into_iter()
                    .enumerate()
                    .map(|(i, label)| MenuItem {
                        label,
                        selected: i == selected,
                        focused: i == focus,
                    })
                    .collect(),
            }
        });
        ControlsView {
            visible,
            paused: c.paused,
            buttons,
            menu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices() -> Choices {
        Choices {
            audio: vec!["English".into(), "Français".into()],
            audio_selected: Some(0),
            text: vec!["English".into()],
            text_selected: None,
            quality: vec!["360p".into(), "720p".into()],
            quality_selected: None,
            paused: false,
        }
    }

    fn focused(v: &ControlsView) -> Option<ControlId> {
        v.buttons.iter().find(|b| b.focused).map(|b| b.id)
    }

    #[test]
    fn d_pad_reaches_a_menu_and_back_closes_it() {
        let c = choices();
        let mut k = Controls::default();
        k.set_enabled(true);
        let t = Duration::ZERO;
        assert!(!k.view(&c).visible);
        assert_eq!(k.on_key(t, Key::Back, &c), Handled::No);
        assert_eq!(k.on_key(t, Key::Ok, &c), Handled::Yes(None));
        let v = k.view(&c);
        assert!(v.visible);
        assert_eq!(focused(&v), Some(ControlId::PlayPause));
        k.on_key(t, Key::Right, &c);
        k.on_key(t, Key::Right, &c);
        assert_eq!(focused(&k.view(&c)), Some(ControlId::Audio));
        assert_eq!(k.on_key(t, Key::Ok, &c), Handled::Yes(None));
        let m = k.view(&c).menu.expect("menu open");
        assert_eq!(m.kind, MenuKind::Audio);
        assert!(m.items[0].selected && m.items[0].focused);
        k.on_key(t, Key::Down, &c);
        k.on_key(t, Key::Down, &c); // clamped at the last entry
        assert_eq!(
            k.on_key(t, Key::Ok, &c),
            Handled::Yes(Some(UiAction::SelectAudio(1)))
        );
        assert!(k.view(&c).menu.is_none());
        k.on_key(t, Key::Right, &c);
        k.on_key(t, Key::Ok, &c);
        assert_eq!(k.view(&c).menu.map(|m| m.kind), Some(MenuKind::Subtitles));
        k.on_key(t, Key::Back, &c);
        assert!(k.view(&c).menu.is_none() && k.view(&c).visible);
        k.on_key(t, Key::Back, &c);
        assert!(!k.view(&c).visible);
    }

    #[test]
    fn focus_skips_disabled_buttons_and_media_keys_act() {
        let mut c = choices();
        c.audio.truncate(1);
        c.text.clear();
        let mut k = Controls::default();
        k.set_enabled(true);
        let t = Duration::ZERO;
        k.on_key(t, Key::Down, &c);
        for _ in 0..5 {
            k.on_key(t, Key::Right, &c);
        }
        assert_eq!(focused(&k.view(&c)), Some(ControlId::Quality));
        k.on_key(t, Key::Left, &c);
        assert_eq!(focused(&k.view(&c)), Some(ControlId::FastForward));
        assert_eq!(k.on_key(t, Key::Audio, &c), Handled::No);
        assert_eq!(
            k.on_key(t, Key::Rewind, &c),
            Handled::Yes(Some(UiAction::SeekBy(-SEEK_STEP)))
        );
        assert_eq!(
            k.on_key(t, Key::PlayPause, &c),
            Handled::Yes(Some(UiAction::TogglePlay))
        );
        assert_eq!(k.on_key(t, Key::VolumeUp, &c), Handled::No);
    }

    #[test]
    fn hides_after_idle_while_playing_only() {
        let c = choices();
        let mut k = Controls::default();
        k.set_enabled(true);
        k.on_key(Duration::ZERO, Key::Ok, &c);
        k.tick(Duration::from_secs(4), true);
        assert!(k.view(&c).visible);
        k.tick(Duration::from_secs(6), false);
        assert!(k.view(&c).visible, "paused: stays");
        k.tick(Duration::from_secs(12), true);
        assert!(!k.view(&c).visible);
    }

    #[test]
    fn pointer_opens_and_chooses() {
        let c = choices();
        let mut k = Controls::default();
        k.set_enabled(true);
        let t = Duration::ZERO;
        assert_eq!(
            k.on_pointer(t, ControlTarget::Button(ControlId::Quality), &c),
            None
        );
        assert_eq!(k.view(&c).menu.map(|m| m.items.len()), Some(3));
        assert_eq!(
            k.on_pointer(t, ControlTarget::Item(2), &c),
            Some(UiAction::SelectQuality(Some(1)))
        );
        assert_eq!(k.on_pointer(t, ControlTarget::Item(9), &c), None);
        assert_eq!(
            k.on_pointer(t, ControlTarget::Button(ControlId::PlayPause), &c),
            Some(UiAction::TogglePlay)
        );
    }
}
