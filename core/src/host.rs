//! The host protocol: plain-data [`HostEvent`]s into the core, [`HostCommand`]s out of it.
//!
//! This is the ONE API every host (browser, TV shim, set-top runtime, simulated test host)
//! speaks. The core never performs I/O, never reads a clock and never sleeps: the host tells it
//! what happened, together with the host's monotonic time, and carries out the commands it gets
//! back. Every type here is plain data (no handles, no callbacks) so it can cross a wasm-bindgen
//! boundary, a C ABI or a test harness alike.
//!
//! # Contract shared by all hosts
//! - Call [`crate::Player::handle`] with a monotonic `now` that never goes backwards.
//! - After every call, drain [`crate::Player::poll_command`] and carry the commands out in order.
//! - Keep at most one wake-up pending: a [`HostCommand::WakeAt`] replaces the previous one. When
//!   it is due, call `handle(now, HostEvent::Tick)`. Hosts may also send `Tick` more often (for
//!   example on every animation frame); the core tolerates any rate.
//! - Requests are identified by [`RequestId`]; events for a request the core cancelled or no
//!   longer knows are ignored, so a host never needs to synchronise cancellation.
//!
//! # Room for what comes next
//! Video (decoder configure/feed/flush, decoded-frame notifications, present/release by frame id)
//! and text cues join these enums as new variants; both enums are `#[non_exhaustive]` so hosts
//! written against this version keep compiling and ignore what they do not know.

use crate::error::Error;
use crate::input::InputEvent;
use crate::state::PlaybackState;

/// Identifies one fetch the core asked the host to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// An inclusive byte range for an HTTP `Range: bytes=start-end` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte offset requested.
    pub start: u64,
    /// Last byte offset requested (inclusive); `None` means "to the end of the resource".
    pub end: Option<u64>,
}

impl ByteRange {
    /// The value of an HTTP `Range` header for this range, e.g. `bytes=0-1023`.
    pub fn header_value(&self) -> String {
        match self.end {
            Some(end) => format!("bytes={}-{}", self.start, end),
            None => format!("bytes={}-", self.start),
        }
    }
}

/// What the application asked the player to do (the Player API, as plain data).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AppRequest {
    /// Load a new source, replacing the current one (even one in the error state).
    Load {
        /// URL of the resource; the host resolves it and fetches it as the core asks.
        url: String,
    },
    /// Start or resume playback. From `Ended`, restarts from the beginning.
    Play,
    /// Pause playback; the clock stops where it is.
    Pause,
    /// Seek to a position in seconds; clamped to `[0, duration]`.
    Seek {
        /// Target media time in seconds.
        position: f64,
    },
    /// Output volume, linear gain clamped to `[0, 1]`.
    SetVolume(f64),
    /// Mute or unmute without losing the volume.
    SetMuted(bool),
    /// Playback rate, clamped to `[0.25, 4]`.
    SetRate(f64),
    /// Restart from the beginning when the end is reached.
    SetLoop(bool),
    /// Stop and release the source; the player returns to `Idle`.
    Unload,
}

/// Why a fetch failed, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// The connection failed or was dropped before the body was complete.
    Network,
    /// The host's per-request timeout expired.
    Timeout,
    /// The request was aborted (by the host, not by a `CancelFetch`).
    Aborted,
    /// The host refused the request (e.g. CORS, mixed content, bad URL).
    Refused,
}

/// Everything a host tells the core.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HostEvent {
    /// The application made a request.
    App(AppRequest),
    /// Time advanced (a wake-up fired, or the host's periodic tick). Carries nothing: the
    /// current time is the `now` passed with every event.
    Tick,
    /// The host's audio output is open. The core converts everything it queues to this rate and
    /// channel count (interleaved `f32`).
    AudioDeviceReady {
        /// Frames per second the device consumes.
        sample_rate: u32,
        /// Interleaved channels per frame (1 or 2 in practice).
        channels: u16,
    },
    /// The host has no audio output (none exists, or it failed to open). The core then drives
    /// its clock from the host time and plays silently.
    AudioDeviceUnavailable {
        /// Human-readable reason, for diagnostics.
        reason: String,
    },
    /// How many frames of the given epoch the device has actually played, counted at the
    /// output (hosts subtract known output latency). Cumulative within an epoch; reports for an
    /// epoch other than the current one are ignored. Frames of silence the device played because
    /// its queue ran dry are NOT counted.
    AudioProgress {
        /// Epoch set by the last [`HostCommand::FlushAudio`] (0 before any flush).
        epoch: u32,
        /// Frames of this epoch played so far.
        frames_played: u64,
    },
    /// Response headers of a fetch arrived.
    FetchResponse {
        /// Which request.
        request: RequestId,
        /// HTTP status code (200, 206, 404, ...).
        status: u16,
        /// Value of `Content-Length`, if present.
        content_length: Option<u64>,
        /// Raw value of `Content-Range`, if present (the core parses it).
        content_range: Option<String>,
    },
    /// Body bytes of a fetch, in order, contiguous from the start of the response body.
    FetchData {
        /// Which request.
        request: RequestId,
        /// The next bytes of the body.
        data: Vec<u8>,
    },
    /// The body of a fetch is complete.
    FetchEnd {
        /// Which request.
        request: RequestId,
    },
    /// A fetch failed; no more events follow for it.
    FetchFailed {
        /// Which request.
        request: RequestId,
        /// Failure class.
        kind: FetchErrorKind,
        /// Human-readable detail, for diagnostics.
        message: String,
    },
    /// A user input event, already mapped by the host to the logical key set.
    Input(InputEvent),
}

/// Everything the core asks a host to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HostCommand {
    /// Fetch `url` (with `Range` when `range` is set) and report it through
    /// `FetchResponse`, `FetchData`*, then `FetchEnd` or `FetchFailed`.
    Fetch {
        /// Identifies the request in the events that answer it.
        request: RequestId,
        /// Absolute or page-relative URL.
        url: String,
        /// Byte range to request; `None` for the whole resource.
        range: Option<ByteRange>,
    },
    /// Abort a fetch; send no further events for it (stray ones are ignored anyway).
    CancelFetch {
        /// Which request.
        request: RequestId,
    },
    /// Append interleaved `f32` PCM at the device's rate and channel count to the device queue.
    QueueAudio {
        /// The epoch these samples belong to (see `FlushAudio`).
        epoch: u32,
        /// Interleaved samples; `samples.len()` is a multiple of the channel count.
        samples: Vec<f32>,
    },
    /// Start (or resume) consuming the device queue.
    StartAudio,
    /// Stop consuming the device queue, keeping what is queued (pause).
    PauseAudio,
    /// Drop everything queued and start a new epoch: progress reports restart at 0 frames and
    /// carry this epoch.
    FlushAudio {
        /// The new epoch.
        epoch: u32,
    },
    /// Set the output gain (volume × mute), linear, `[0, 1]`.
    SetAudioGain(f32),
    /// Call `handle(now, Tick)` at host time `at` (or soon after). Replaces any earlier wake-up.
    WakeAt {
        /// Host time at which the core wants to run again.
        at: std::time::Duration,
    },
    /// Deliver an event to the application.
    Emit(PlayerEvent),
}

/// Events the application sees (the host turns them into DOM events or callbacks).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlayerEvent {
    /// The playback state changed.
    StateChanged(PlaybackState),
    /// A new source started loading.
    LoadStart {
        /// The URL being loaded.
        url: String,
    },
    /// The source was probed: tracks and duration are known.
    LoadedMetadata(MediaInfo),
    /// The duration (seconds) is known or changed.
    DurationChanged(f64),
    /// The playback position (seconds) moved; sent at least every 250 ms while playing.
    TimeUpdate(f64),
    /// Playback started or resumed (the `play` request was accepted).
    Play,
    /// Playback is paused.
    Pause,
    /// Media is flowing again after loading, seeking or buffering.
    Playing,
    /// Playback stalled waiting for data.
    Waiting,
    /// A seek started towards this position (seconds).
    Seeking(f64),
    /// A seek completed at this position (seconds).
    Seeked(f64),
    /// Playback reached the end.
    Ended,
    /// Something failed; the player is in the `Error` state (or recovered, see the error kind)
    /// and accepts a new `Load`.
    Error(Error),
    /// Volume or mute changed.
    VolumeChanged {
        /// Linear volume in `[0, 1]`.
        volume: f64,
        /// Whether output is muted.
        muted: bool,
    },
    /// Playback rate changed.
    RateChanged(f64),
    /// Bytes of the resource are cached up to this media position (seconds), best estimate.
    Progress {
        /// Bytes cached contiguously from the read position.
        buffered_bytes: u64,
        /// Total size of the resource, when known.
        total_bytes: Option<u64>,
    },
}

/// What the core learned about a source when it was probed.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// Container format, short name (e.g. `mp3`, `isomp4`, `wave`).
    pub container: String,
    /// Audio codec, short name (e.g. `aac`, `flac`).
    pub audio_codec: String,
    /// Sample rate of the source audio.
    pub sample_rate: u32,
    /// Channels of the source audio.
    pub channels: u16,
    /// Duration in seconds, if known.
    pub duration: Option<f64>,
}
