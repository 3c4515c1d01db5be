//! Timed text (subtitles, captions): the formats' parsers and what they share.
//!
//! Every cue time in this module is in microseconds (`i64`) on the cue file's own timeline;
//! mapping it to media time (HLS `X-TIMESTAMP-MAP`, a DASH period start) is the caller's step,
//! helped by [`webvtt::TimestampMap`].
//!
//! - [`webvtt`]: WebVTT files and segments, ISO BMFF `wvtt` samples, cue text markup and the
//!   cue box layout.
//! - [`store`]: [`CueStore`], the budgeted list of a text track's cues (dedup across segments,
//!   active cues at a time, what changed between two times).

pub mod store;
pub mod webvtt;

pub use store::{CueChange, CueId, CueStore, Insert, StoreBudget};

/// A cue of any text format, as far as a [`CueStore`] needs to know it.
pub trait TimedText {
    /// When the cue becomes active, microseconds.
    fn start_us(&self) -> i64;
    /// When it stops being active (exclusive), microseconds.
    fn end_us(&self) -> i64;
    /// Its text as written in the source (markup included): two cues with the same times and
    /// text are the same cue repeated by two segments.
    fn text(&self) -> &str;
    /// Approximate memory the cue holds, counted against the store's byte budget.
    fn byte_size(&self) -> usize
    where
        Self: Sized,
    {
        std::mem::size_of::<Self>() + self.text().len()
    }
}
