//! The public playback state, as the application sees it.

/// Where the player is in its life cycle.
///
/// `Idle → Loading → Paused ⇄ Playing ⇄ Buffering → Ended`, `Error` from anywhere; a new
/// `load` leaves `Error` (or any state) for `Loading`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaybackState {
    /// Nothing loaded.
    Idle,
    /// Fetching and probing a source; nothing to play yet.
    Loading,
    /// Ready to play, not playing.
    Paused,
    /// Playing: the clock advances.
    Playing,
    /// Wants to play but is waiting for data (or for a seek to complete).
    Buffering,
    /// Reached the end of the media.
    Ended,
    /// A fatal error stopped playback; see the last `error` event. `load` recovers.
    Error,
}

impl PlaybackState {
    /// Stable lowercase name used by every host (`"playing"`, `"buffering"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybackState::Idle => "idle",
            PlaybackState::Loading => "loading",
            PlaybackState::Paused => "paused",
            PlaybackState::Playing => "playing",
            PlaybackState::Buffering => "buffering",
            PlaybackState::Ended => "ended",
            PlaybackState::Error => "error",
        }
    }
}
