//! Players and host-written buffers of the module, kept in safe Rust: the exports see only
//! numeric handles and offsets, so a wrong handle or pointer from the host is an error code,
//! never undefined behaviour.

use std::collections::BTreeMap;
use std::time::Duration;

use kinema_core::{Player, PlayerConfig};

use crate::codec;

/// Status codes of the exports (ABI.md).
pub mod status {
    /// Done.
    pub const OK: i32 = 0;
    /// No player with that handle.
    pub const BAD_HANDLE: i32 = -1;
    /// No buffer at that address, or the length is past its end.
    pub const BAD_BUFFER: i32 = -2;
    /// The bytes are not a valid event.
    pub const BAD_EVENT: i32 = -3;
}

struct Slot {
    player: Player,
    /// The last command `poll` encoded, read by the host through `command_ptr`.
    out: Vec<u8>,
}

/// Everything the module owns for its host.
#[derive(Default)]
pub struct Registry {
    players: BTreeMap<u32, Slot>,
    next: u32,
    /// Buffers handed out by `alloc`, by address.
    buffers: BTreeMap<usize, Vec<u8>>,
}

impl Registry {
    /// A new player; its handle (never 0).
    pub fn create(&mut self) -> u32 {
        self.next = self.next.wrapping_add(1).max(1);
        while self.players.contains_key(&self.next) {
            self.next = self.next.wrapping_add(1).max(1);
        }
        self.players.insert(
            self.next,
            Slot {
                player: Player::new(PlayerConfig::default()),
                out: Vec::new(),
            },
        );
        self.next
    }

    /// Drops a player.
    pub fn destroy(&mut self, h: u32) -> i32 {
        match self.players.remove(&h) {
            Some(_) => status::OK,
            None => status::BAD_HANDLE,
        }
    }

    /// A zeroed buffer of `len` bytes for the host to write into; its address (0 when `len`
    /// is 0: nothing to write).
    pub fn alloc(&mut self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        let buf = vec![0u8; len];
        let at = buf.as_ptr() as usize;
        self.buffers.insert(at, buf);
        at
    }

    /// A buffer holding a copy of `bytes` (what a host does with `alloc` + a memory write;
    /// for native callers and tests).
    pub fn alloc_with(&mut self, bytes: &[u8]) -> usize {
        let at = self.alloc(bytes.len());
        if let Some(b) = self.buffers.get_mut(&at) {
            b.copy_from_slice(bytes);
        }
        at
    }

    /// The bytes `poll` encoded last (empty on a bad handle).
    pub fn last_command(&self, h: u32) -> &[u8] {
        self.players.get(&h).map_or(&[][..], |slot| &slot.out)
    }

    /// Frees a buffer from `alloc`.
    pub fn free(&mut self, at: usize) -> i32 {
        match self.buffers.remove(&at) {
            Some(_) => status::OK,
            None => status::BAD_BUFFER,
        }
    }

    /// Decodes the event in the first `len` bytes of buffer `at` and hands it to player `h`.
    pub fn handle(&mut self, h: u32, now_us: u64, at: usize, len: usize) -> i32 {
        let bytes = match self.buffers.get(&at).and_then(|b| b.get(..len)) {
            Some(b) => b,
            None if len == 0 => &[][..],
            None => return status::BAD_BUFFER,
        };
        let event = match codec::decode_event(bytes) {
            Ok(e) => e,
            Err(_) => return status::BAD_EVENT,
        };
        match self.players.get_mut(&h) {
            Some(slot) => {
                slot.player.handle(Duration::from_micros(now_us), event);
                status::OK
            }
            None => status::BAD_HANDLE,
        }
    }

    /// Encodes player `h`'s next command; its length (0: none), negative on a bad handle.
    pub fn poll(&mut self, h: u32) -> i64 {
        match self.players.get_mut(&h) {
            Some(slot) => match slot.player.poll_command() {
                Some(c) => {
                    slot.out = codec::encode_command(&c);
                    slot.out.len() as i64
                }
                None => {
                    slot.out.clear();
                    0
                }
            },
            None => i64::from(status::BAD_HANDLE),
        }
    }

    /// Address of the last polled command's bytes (0 on a bad handle).
    pub fn command_ptr(&self, h: u32) -> usize {
        self.players
            .get(&h)
            .map_or(0, |slot| slot.out.as_ptr() as usize)
    }

    /// The player's media time at the host's `now_us` (NaN on a bad handle).
    pub fn current_time(&self, h: u32, now_us: u64) -> f64 {
        self.players.get(&h).map_or(f64::NAN, |slot| {
            slot.player.current_time_at(Duration::from_micros(now_us))
        })
    }
}
