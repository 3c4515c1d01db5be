//! Progressive sources: a byte cache filled by ranged fetches through the host.

pub mod cache;
pub mod http;
pub mod loader;
