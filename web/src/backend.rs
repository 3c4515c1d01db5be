//! What the video host (`crate::video`) and the platform video decoders that carry out the
//! core's decoder commands (WebCodecs in `crate::video`, MSE in `crate::mse`) share: the
//! [`Sink`] decoded output is reported through and the [`ClockView`] the MSE element follows.
//!
//! This module holds only what the backends and their users share (the trait, the event
//! sink, the clock view), so no backend imports another and nothing imports back.

use std::rc::Rc;

use kinema_core::HostEvent;

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
