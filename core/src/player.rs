//! The player state machine: turns host events into host commands.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::Error;
use crate::host::{HostCommand, HostEvent, MediaInfo};
use crate::input::KeyMap;
use crate::state::PlaybackState;

/// Tunables of a player; hosts pick values per device profile.
#[derive(Debug, Clone)]
pub struct PlayerConfig {
    /// Size of each ranged fetch.
    pub chunk_bytes: u64,
    /// How far ahead of the read position to fetch.
    pub forward_buffer_bytes: u64,
    /// Most bytes of the resource kept in memory at once.
    pub cache_budget_bytes: u64,
    /// Seconds of decoded audio to keep queued on the device while playing.
    pub audio_ahead_secs: f64,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        PlayerConfig {
            chunk_bytes: 512 * 1024,
            forward_buffer_bytes: 8 * 1024 * 1024,
            cache_budget_bytes: 64 * 1024 * 1024,
            audio_ahead_secs: 0.5,
        }
    }
}

/// The playback core. See [`crate::host`] for the protocol.
pub struct Player {
    config: PlayerConfig,
    out: VecDeque<HostCommand>,
    state: PlaybackState,
    keys: KeyMap,
    info: Option<MediaInfo>,
    error: Option<Error>,
    position: f64,
    volume: f64,
    muted: bool,
    rate: f64,
    looping: bool,
    wants_play: bool,
}

impl Player {
    /// A player with nothing loaded.
    pub fn new(config: PlayerConfig) -> Self {
        Player {
            config,
            out: VecDeque::new(),
            state: PlaybackState::Idle,
            keys: KeyMap::default(),
            info: None,
            error: None,
            position: 0.0,
            volume: 1.0,
            muted: false,
            rate: 1.0,
            looping: false,
            wants_play: false,
        }
    }

    /// Feeds one event that happened at host time `now`.
    pub fn handle(&mut self, now: Duration, event: HostEvent) {
        let _ = (now, event, &self.config);
    }

    /// The next command for the host, in order; `None` when all are drained.
    pub fn poll_command(&mut self) -> Option<HostCommand> {
        self.out.pop_front()
    }

    /// Current playback state.
    pub fn state(&self) -> PlaybackState {
        self.state
    }

    /// Playback position in seconds as of the last `handle` call.
    pub fn current_time(&self) -> f64 {
        self.position
    }

    /// Duration in seconds, when known.
    pub fn duration(&self) -> Option<f64> {
        self.info.as_ref().and_then(|i| i.duration)
    }

    /// True unless the app asked to play (mirrors `HTMLMediaElement.paused`).
    pub fn paused(&self) -> bool {
        !self.wants_play
    }

    /// Linear volume in `[0, 1]`.
    pub fn volume(&self) -> f64 {
        self.volume
    }

    /// Whether output is muted.
    pub fn muted(&self) -> bool {
        self.muted
    }

    /// Playback rate.
    pub fn playback_rate(&self) -> f64 {
        self.rate
    }

    /// Whether playback loops at the end.
    pub fn looping(&self) -> bool {
        self.looping
    }

    /// What the probe found, once metadata is loaded.
    pub fn media_info(&self) -> Option<&MediaInfo> {
        self.info.as_ref()
    }

    /// The last error reported, if the player is in the error state.
    pub fn last_error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The key → action map, for apps that remap keys.
    pub fn key_map_mut(&mut self) -> &mut KeyMap {
        &mut self.keys
    }
}
