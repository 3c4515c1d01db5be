//! Typed errors, re-exported from `kinema-protocol` (they cross the host protocol).

pub use kinema_protocol::error::{Error, ErrorKind};
