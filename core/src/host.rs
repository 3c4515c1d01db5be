//! The host protocol, re-exported from `kinema-protocol` (the bottom layer: read its crate
//! docs for the contract every host keeps).

pub use kinema_protocol::message::*;
