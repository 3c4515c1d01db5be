//! The core's own audio decoding: [`AudioSource`] demuxes and decodes one audio track of a file
//! over the byte cache (MP3, ADTS AAC, FLAC, WAV, Ogg Vorbis, audio-only MP4), sample-accurate.
//!
//! With the `symphonia` feature (on by default) that is symphonia (`software.rs`). Without it
//! (`none.rs`: the streaming-only browser package) there is no such decoder: opening one is a
//! typed `unsupported` error, and every container the core demuxes itself (MP4, WebM, MPEG-TS,
//! Ogg Opus, MP3/ADTS/AC-3 elementary streams, FLAC, WAV, the segments of HLS and DASH) sends its audio to
//! the host's decoder instead (`crate::audio::platform`). symphonia is ~320 KB of the browser
//! package's 830 KB gzip (BENCHMARKS.md, "Size budgets").

#[cfg(not(feature = "symphonia"))]
mod none;
#[cfg(feature = "symphonia")]
mod software;

#[cfg(not(feature = "symphonia"))]
pub use none::{decode_all, AudioSource};
#[cfg(feature = "symphonia")]
pub use software::{decode_all, AudioSource};

use crate::error::Error;

/// Why an operation on the pipeline could not complete.
#[derive(Debug, Clone, PartialEq)]
pub enum Stall {
    /// Bytes at this offset must be fetched first; retry afterwards (after a re-open when the
    /// pipeline says it is broken).
    NeedBytes(u64),
    /// The source cannot be played.
    Fatal(Error),
}

/// What one decode step produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// This many frames were appended.
    Frames(usize),
    /// The end of the track.
    End,
    /// Nothing now: the output comes later from the host's decoder.
    Waiting,
}

/// The file extension of a URL's path, used as a probe hint.
pub fn extension_hint(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 5).then(|| ext.to_ascii_lowercase())
}
