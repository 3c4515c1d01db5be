//! Remuxing the core's decoder input into other containers, for platforms whose decoder only
//! takes a container: [`fmp4`] wraps `ConfigureVideoDecoder` + `DecodeVideo` chunks into
//! fragmented MP4 for Media Source Extensions (engines without WebCodecs).
//!
//! Pure bytes in, bytes out: no I/O, nothing platform-specific.

pub mod fmp4;
