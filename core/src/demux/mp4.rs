//! Placeholder; being written.

use super::{ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo};

/// Demuxer (placeholder).
pub struct Mp4Demuxer {
    tracks: Vec<TrackInfo>,
}

impl Mp4Demuxer {
    /// Opens the container.
    pub fn open(src: &mut dyn ByteSource) -> Result<Self, DemuxError> {
        let _ = src;
        Err(DemuxError::Unsupported("not yet".into()))
    }
}

impl Demux for Mp4Demuxer {
    fn container(&self) -> &'static str {
        "isomp4"
    }
    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }
    fn duration(&self) -> Option<f64> {
        None
    }
    fn next_sample(
        &mut self,
        _src: &mut dyn ByteSource,
        _track: usize,
        _cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        Ok(None)
    }
    fn seek(
        &mut self,
        _src: &mut dyn ByteSource,
        _track: usize,
        _time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        Ok(Cursor::default())
    }
}
