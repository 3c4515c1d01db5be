//! `kinema-protocol`: the host protocol, the bottom layer of Kinema: plain-data [`HostEvent`]s into the core, [`HostCommand`]s out of it.
//!
//! This is the ONE API every host (browser, TV shim, set-top runtime, simulated test host)
//! speaks. The core never performs I/O, never reads a clock and never sleeps: the host tells it
//! what happened, together with the host's monotonic time, and carries out the commands it gets
//! back. Every type here is plain data (no handles, no callbacks) so it can cross a wasm-bindgen
//! boundary, a C ABI or a test harness alike.
//!
//! # Contract shared by all hosts
//! - Call `kinema_core::Player::handle` with a monotonic `now` that never goes backwards.
//! - After every call, drain `kinema_core::Player::poll_command` and carry the commands out in order.
//! - Keep at most one wake-up pending: a [`HostCommand::WakeAt`] replaces the previous one. When
//!   it is due, call `handle(now, HostEvent::Tick)`. Hosts may also send `Tick` more often (for
//!   example on every animation frame); the core tolerates any rate.
//! - Requests are identified by [`RequestId`]; events for a request the core cancelled or no
//!   longer knows are ignored, so a host never needs to synchronise cancellation.
//!
//! # Platform decoders (video, and audio the core cannot decode)
//! Compressed frames go to the host's decoder (WebCodecs in browsers, GStreamer on set-top
//! boxes) and the decoded pictures stay on the host side: the core only learns their id,
//! timestamp and size, and later says which one to present and when to release it.
//! - [`HostCommand::ConfigureVideoDecoder`] starts a new decoder *generation*: the host resets
//!   or re-creates its decoder, drops everything in flight, and tags every later output with
//!   this generation. Outputs of an older generation that still arrive are released by the core.
//! - [`HostCommand::DecodeVideo`] feeds one chunk (decode order); each decoded picture is
//!   answered with [`HostEvent::VideoFrameDecoded`] carrying a host-chosen [`FrameId`].
//! - [`HostCommand::FlushVideoDecoder`] (end of stream) outputs what the decoder holds, then
//!   [`HostEvent::VideoDecoderFlushed`]. Decoder failures come back as
//!   [`HostEvent::VideoDecoderError`].
//! - [`HostCommand::PresentFrame`] shows a frame (it stays on screen until another is
//!   presented or [`HostCommand::ClearVideo`]); [`HostCommand::ReleaseFrame`] hands a frame back
//!   (close it: frames are GPU memory). A presented frame may be released right after a newer
//!   one is presented; the host keeps what it needs to redraw (e.g. on resize) itself.
//! - Audio the core cannot decode (Opus, ...) takes the same path with
//!   [`HostCommand::ConfigureAudioDecoder`] / [`HostCommand::DecodeAudio`], but its output comes
//!   back to the core as PCM ([`HostEvent::AudioDecoded`]) and is played through the usual
//!   audio queue, so one clock drives everything.
//!
//! # Subtitles
//! The core fetches and parses text tracks itself and lays their cues out; the host draws what
//! [`HostCommand::ShowSubtitles`] lists over the video (boxes in percent of the picture) until
//! the next one replaces it (an empty list clears). The core's `subtitles` module parses and lays them out.
//!
//! # Exhaustive on purpose
//! No enum here is `#[non_exhaustive]`: every host inside the repository matches every variant
//! (the hosts deny `clippy::wildcard_enum_match_arm`), so a new variant does not compile until
//! each host carries it out. Hosts outside the repository meet the same: adding a variant is a
//! breaking change of this crate. Across a byte boundary (the set-top ABI) [`codec`] encodes
//! every variant; a decoder meeting a tag it does not know gets a [`codec::DecodeError`].

//!
//! # Layout
//! - [`message`]: [`HostEvent`], [`HostCommand`], [`AppRequest`], [`PlayerEvent`] and the plain
//!   data they carry (requests, decoder configurations, chunks, media info).
//! - [`error`], [`state`], [`input`], [`controls`], [`text`]: the types those messages carry
//!   (typed errors, the playback state, logical keys, the controls view, subtitle cues).
//! - [`codec`]: the byte encoding of every message (the set-top ABI).
//!
//! This crate depends on nothing of Kinema; `kinema-core` and every host depend on it.

// Matches over the protocol name every variant (see "Exhaustive on purpose").
#![deny(clippy::wildcard_enum_match_arm)]

pub mod codec;
pub mod controls;
pub mod error;
pub mod input;
pub mod message;
pub mod state;
pub mod text;

pub use error::{Error, ErrorKind};
pub use input::{Action, InputEvent, Key};
pub use message::{
    AppRequest, AudioDecoderConfig, ByteRange, EncodedChunk, FetchErrorKind, FrameId, HostCommand,
    HostEvent, MediaInfo, PlayerEvent, RequestId, RequestKind, SeekMode, VideoDecoderConfig,
};
pub use state::PlaybackState;
