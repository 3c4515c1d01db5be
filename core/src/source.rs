//! Progressive sources: a byte cache filled by ranged fetches through the host.
//!
//! Misses instead of async readers: symphonia and the core's demuxers read synchronously, and
//! the core may not block. So a read of bytes not fetched yet fails at once and records the
//! offset (a *miss*: `WouldBlock` from [`cache::CacheReader`], `NeedBytes` from a
//! [`ByteSource`](crate::demux::ByteSource)); the operation is abandoned, [`loader`] fetches
//! that offset (cancelling a sequential fetch elsewhere, e.g. for a `moov` at the end) and the
//! operation is run again once the bytes are there. Probing and seeking are cheap to redo;
//! packet reads wait for a margin of cached bytes after the read position
//! (`crate::audio::decoder`), and after a miss mid-packet the source is re-opened at the exact
//! next frame. No file is buffered whole: the cache is sparse and budgeted.

pub mod cache;
pub mod http;
pub mod loader;
