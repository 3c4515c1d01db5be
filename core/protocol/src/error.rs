//! Typed errors: every failure reaches the app as an `error` event with a kind and a message.

use std::fmt;

/// Classes of failure an application can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The resource could not be fetched (connection refused/dropped, timeout, HTTP error).
    Network,
    /// The bytes were fetched but are not valid media (corrupt, truncated, not a media file).
    Decode,
    /// The media is valid but uses a container or codec this build cannot play.
    Unsupported,
    /// The media asks for more than the player's limits allow (sizes, counts, memory budget).
    Limit,
    /// The operation was cancelled (e.g. a new `load` replaced the source).
    Aborted,
    /// The audio output failed.
    AudioOutput,
    /// The request was not valid in the current state (e.g. `play` with nothing loaded).
    InvalidState,
}

impl ErrorKind {
    /// Stable lowercase name, used as the `kind` field of error events in every host.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Network => "network",
            ErrorKind::Decode => "decode",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Limit => "limit",
            ErrorKind::Aborted => "aborted",
            ErrorKind::AudioOutput => "audio-output",
            ErrorKind::InvalidState => "invalid-state",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure: its kind plus a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Error {
    /// What class of failure this is.
    pub kind: ErrorKind,
    /// Detail for developers and logs.
    pub message: String,
}

impl Error {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}
