//! Kinema's platform-neutral, sans-IO playback core.
//!
//! The core is a deterministic state machine: a host feeds it [`HostEvent`]s with its monotonic
//! time and carries out the [`HostCommand`]s it answers with. See `ARCHITECTURE.md` and the
//! [`host`] module for the protocol.

pub mod adaptive;
pub mod audio;
pub mod clock;
pub mod controls;
pub mod demux;
pub mod error;
pub mod host;
pub mod input;
pub mod load_control;
pub mod net;
pub mod player;
pub mod remux;
pub mod sim;
pub mod source;
pub mod state;
pub mod stream;
pub mod subtitles;
pub mod text;
pub mod video;

pub use error::{Error, ErrorKind};
pub use host::{
    AppRequest, AudioDecoderConfig, ByteRange, EncodedChunk, FetchErrorKind, FrameId, HostCommand,
    HostEvent, MediaInfo, PlayerEvent, RequestId, RequestKind, SeekMode, VideoDecoderConfig,
};
pub use input::{Action, InputEvent, Key, KeyMap};
pub use player::{Player, PlayerConfig};
pub use state::PlaybackState;
pub use video::VideoStats;
