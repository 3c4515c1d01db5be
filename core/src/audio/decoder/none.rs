//! The core without a software audio decoder (the `symphonia` feature off): an
//! [`AudioSource`] cannot be opened, so it is never built, and every file whose audio only the
//! core could decode is a typed `unsupported` error naming what the package lacks.

use super::{Stall, Step};
use crate::audio::mix::Layout;
use crate::audio::mp3::LengthScan;
use crate::error::{Error, ErrorKind};
use crate::host::MediaInfo;
use crate::source::cache::SharedCache;

/// Why nothing opens: the same text for the player and for [`decode_all`].
fn no_decoder() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "not a format this package plays: it has no software audio decoder (built without \
         the `symphonia` feature) and reads MP4, WebM, MPEG-TS, Ogg Opus, MP3, ADTS, AC-3, \
         FLAC and WAV files; Ogg Vorbis and Ogg FLAC need the full package",
    )
}

/// Uninhabited: no value exists, so every method is unreachable by construction.
pub enum AudioSource {}

impl AudioSource {
    /// Always the typed `unsupported` error.
    pub fn open(_cache: &SharedCache, _ext: Option<&str>) -> Result<AudioSource, Stall> {
        Err(Stall::Fatal(no_decoder()))
    }

    /// Always the typed `unsupported` error.
    pub fn open_with(
        _cache: &SharedCache,
        _ext: Option<&str>,
        _channels: Option<usize>,
    ) -> Result<AudioSource, Stall> {
        Err(Stall::Fatal(no_decoder()))
    }

    /// Never called (no value exists).
    pub fn length_scan(&self) -> Option<LengthScan> {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn info(&self) -> &MediaInfo {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn rate(&self) -> u32 {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn channels(&self) -> usize {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn layout(&self) -> Layout {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn is_broken(&self) -> bool {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn position(&self) -> i64 {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn decode(&mut self, _out: &mut Vec<f32>) -> Result<Step, Stall> {
        match *self {}
    }

    /// Never called (no value exists).
    pub fn seek(&mut self, _frame: i64) -> Result<(), Stall> {
        match *self {}
    }
}

/// Always the typed `unsupported` error.
pub fn decode_all(_bytes: &[u8], _ext: Option<&str>) -> Result<(MediaInfo, Vec<f32>), Error> {
    Err(no_decoder())
}
