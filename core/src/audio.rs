//! Audio: decode (symphonia), trim, channel mapping and rate conversion to the device format.

pub mod decoder;
pub mod mix;
pub mod mp4_edit;
pub(crate) mod pipeline;
pub mod platform;
pub mod resample;
