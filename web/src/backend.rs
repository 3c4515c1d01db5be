//! The interface between the video host (`crate::video`) and the platform video decoders
//! that carry out the core's decoder commands: WebCodecs' `VideoDecoder`
//! (`crate::webcodecs`) and a hidden `<video>` fed through Media Source Extensions
//! (`crate::mse`). Both implement [`VideoBackend`]; both put their pictures into the shared
//! store (`crate::picture`) and report them through a [`Sink`].
//!
//! This module holds only what the backends and their users share (the trait, the event
//! sink, the clock view), so no backend imports another and nothing imports back.

use std::rc::Rc;

use kinema_core::{EncodedChunk, FrameId, HostEvent, VideoDecoderConfig};

/// Sends an event to the core (the driver's sink).
pub type Sink = Rc<dyn Fn(HostEvent)>;

/// The core's clock, as the MSE element needs to follow it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClockView {
    /// Playback position in seconds (the seek target while seeking).
    pub position: f64,
    /// The core wants to play (playing or buffering, not paused, not ended).
    pub wants_play: bool,
    /// Playback rate.
    pub rate: f64,
}

/// A platform video decoder: carries out `ConfigureVideoDecoder`, `DecodeVideo`,
/// `FlushVideoDecoder` and `CloseVideoDecoder`, and answers with `VideoFrameDecoded` (the
/// picture stored under its id), `VideoDecoderFlushed` and `VideoDecoderError` through its
/// [`Sink`]. Generations: work of a generation other than the configured one is ignored.
pub trait VideoBackend {
    /// Resets (or creates) the decoder for `generation`.
    fn configure(&self, generation: u32, config: &VideoDecoderConfig);
    /// Feeds one chunk (decode order) of `generation`.
    fn decode(&self, generation: u32, chunk: &EncodedChunk);
    /// Decodes what is queued; answers `VideoDecoderFlushed { generation }`.
    fn flush(&self, generation: u32);
    /// Stops decoding; pending outputs are dropped.
    fn close(&self);
    /// The core presented this picture (default: nothing to do).
    fn presented(&self, _frame: FrameId) {}
    /// The core released this picture (default: nothing to do).
    fn released(&self, _frame: FrameId) {}
    /// Mean time from a chunk going in to its picture coming out, in ms (0 before any).
    fn latency_ms(&self) -> f64;
    /// Pictures decoded after a seek target that were never shown (default 0).
    fn skipped(&self) -> u64 {
        0
    }
    /// After a core run: follow the core's clock, read through `clock` only when needed
    /// (default: a decoder that does not run on its own ignores it).
    fn follow_clock(&self, _clock: &dyn Fn() -> ClockView) {}
}
