//! The public playback state, re-exported from `kinema-protocol`.

pub use kinema_protocol::state::PlaybackState;
