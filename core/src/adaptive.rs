//! Adaptive streaming playback (HLS, DASH): which segment of which quality to fetch next, the
//! bitrate choice, the segment store the demuxers read from, and the playlist refresh of live
//! streams. Manifest parsing lives in `stream`; this module only plays what it describes.

pub mod abr;
pub mod crypto;
pub mod failover;
pub mod segments;
pub mod slot;
pub mod source;
