//! The module's exports: `extern "C"` functions over [`Registry`] (ABI.md lists them).
//! `#[no_mangle]` is what the `unsafe_code` lint flags here; no function dereferences a raw
//! pointer (addresses are looked up in the registry), so the host cannot cause UB.
#![allow(unsafe_code)]

use std::cell::RefCell;

use crate::registry::Registry;

thread_local! {
    // wasm32-unknown-unknown runs one thread: this is the module's only state.
    static REG: RefCell<Registry> = RefCell::new(Registry::default());
}

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    REG.with(|r| f(&mut r.borrow_mut()))
}

/// The ABI version (2).
#[no_mangle]
pub extern "C" fn kinema_abi_version() -> u32 {
    crate::ABI_VERSION
}

/// Creates a player with the default configuration; its handle.
#[no_mangle]
pub extern "C" fn kinema_create() -> u32 {
    with(|r| r.create())
}

/// Destroys a player.
#[no_mangle]
pub extern "C" fn kinema_destroy(h: u32) -> i32 {
    with(|r| r.destroy(h))
}

/// A buffer of `len` bytes in the module's memory for the host to write an event into.
#[no_mangle]
pub extern "C" fn kinema_alloc(len: u32) -> u32 {
    with(|r| r.alloc(len as usize) as u32)
}

/// Frees a buffer from `kinema_alloc`.
#[no_mangle]
pub extern "C" fn kinema_free(at: u32) -> i32 {
    with(|r| r.free(at as usize))
}

/// Hands the event encoded in `len` bytes at `at` (a `kinema_alloc` buffer) to player `h`,
/// with the host's monotonic time in microseconds.
#[no_mangle]
pub extern "C" fn kinema_handle(h: u32, now_us: u64, at: u32, len: u32) -> i32 {
    with(|r| r.handle(h, now_us, at as usize, len as usize))
}

/// Encodes the next command; its length in bytes (0: none left), read it at
/// `kinema_command_ptr(h)` before the next call.
#[no_mangle]
pub extern "C" fn kinema_poll_command(h: u32) -> i64 {
    with(|r| r.poll(h))
}

/// Address of the command `kinema_poll_command` encoded last.
#[no_mangle]
pub extern "C" fn kinema_command_ptr(h: u32) -> u32 {
    with(|r| r.command_ptr(h) as u32)
}

/// The media time in seconds at the host's time `now_us`.
#[no_mangle]
pub extern "C" fn kinema_current_time(h: u32, now_us: u64) -> f64 {
    with(|r| r.current_time(h, now_us))
}
