//! `kinema-abi`: kinema-core as a standalone WebAssembly module with a small C ABI, for
//! runtimes that embed a Wasm engine (the set-top host in `device-shims/settop/host` runs it
//! in wasmtime or wasmi). No wasm-bindgen, no imports: the module only exports functions and
//! its memory. The exports (wasm32 only) are in `exports.rs`; the byte encoding of the host
//! protocol, which the native host links from this same crate, is [`codec`] (re-exported from
//! `kinema-protocol`). Both are specified in `device-shims/settop/ABI.md`.

// Every protocol variant is handled by name: a new one must not fall into a catch-all arm.
#![deny(clippy::wildcard_enum_match_arm)]

pub use kinema_protocol::codec;
#[cfg(target_arch = "wasm32")]
mod exports;
pub mod registry;

/// Version of the ABI (exports and encoding); `kinema_abi_version` returns it. 7: host event
/// `0x13`, `VideoPresentLead` (how long the host takes to get a picture drawn). 6: player
/// event 25, `Warning` (playback goes on without a part of the media). 5:
/// `ConfigureVideoDecoder` carries the pictures' rotation and flip. 4: request kind
/// 7, `key` (HLS AES-128 keys). 3: every protocol variant is encoded (controls, lifecycle, key binding, memory budget, decoder depth;
/// no "unknown command" tag). 2: subtitle runs carry colours and `vertical` says which way
/// columns go (`ShowSubtitles`).
pub const ABI_VERSION: u32 = 7;
