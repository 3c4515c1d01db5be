//! Audio: decode (symphonia), trim, channel mapping and rate conversion to the device format;
//! the exact length of MP3 files (`mp3`).

pub mod decoder;
pub mod mix;
pub mod mp3;
pub mod mp4_edit;
pub mod pcm;
pub(crate) mod pipeline;
pub mod platform;
pub mod resample;
