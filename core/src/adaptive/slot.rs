//! Slots of an adaptive stream and the request tags that name their segments.
//!
//! A stream is fetched in [`Slot`]s: the main rendition (video, or muxed audio and video) and,
//! when the manifest has them, a separate audio rendition. [`Slots`] holds one value per slot.
//! A demuxer read of a segment not yet fetched answers `NeedBytes` with a *request tag*
//! ([`need_tag`]): the top bit set (store addresses stay below 2^63), the slot's byte, and the
//! segment number, which the adaptive source reads back with [`parse_need_tag`].

use std::ops::{Index, IndexMut};

/// Which rendition of the stream a segment, grid or request belongs to: the main one (video,
/// or muxed audio and video) or a separate audio rendition. A type of its own, so a slot
/// cannot be mixed up with a level, track or segment index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The main rendition (video, or muxed audio and video).
    Main,
    /// A separate audio rendition.
    Audio,
}

impl Slot {
    /// Every slot, the main one first.
    pub const ALL: [Slot; 2] = [Slot::Main, Slot::Audio];

    /// Its byte in a [`need_tag`].
    fn tag_byte(self) -> u8 {
        match self {
            Slot::Main => 0,
            Slot::Audio => 1,
        }
    }

    /// The slot a [`need_tag`] byte names; `None` for a byte no slot has.
    fn from_tag_byte(byte: u8) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.tag_byte() == byte)
    }
}

/// One value per [`Slot`], indexed by the slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slots<T> {
    main: T,
    audio: T,
}

impl<T> Slots<T> {
    /// The value `f` gives for each slot.
    pub fn from_fn(mut f: impl FnMut(Slot) -> T) -> Self {
        Slots {
            main: f(Slot::Main),
            audio: f(Slot::Audio),
        }
    }
}

impl<T> Index<Slot> for Slots<T> {
    type Output = T;

    fn index(&self, slot: Slot) -> &T {
        match slot {
            Slot::Main => &self.main,
            Slot::Audio => &self.audio,
        }
    }
}

impl<T> IndexMut<Slot> for Slots<T> {
    fn index_mut(&mut self, slot: Slot) -> &mut T {
        match slot {
            Slot::Main => &mut self.main,
            Slot::Audio => &mut self.audio,
        }
    }
}

const TAG: u64 = 1 << 63;

/// The `NeedBytes` value that means "segment `number` of `slot` is not fetched".
pub fn need_tag(slot: Slot, number: u64) -> u64 {
    TAG | (u64::from(slot.tag_byte()) << 48) | (number & 0xffff_ffff_ffff)
}

/// Reads a tag made by [`need_tag`]: `(slot, number)`; `None` for a plain byte offset or a
/// tag whose slot byte names no slot.
pub fn parse_need_tag(at: u64) -> Option<(Slot, u64)> {
    if at & TAG == 0 {
        return None;
    }
    let slot = Slot::from_tag_byte(((at >> 48) & 0xff) as u8)?;
    Some((slot, at & 0xffff_ffff_ffff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_never_look_like_offsets() {
        assert_eq!(
            parse_need_tag(need_tag(Slot::Audio, 12345)),
            Some((Slot::Audio, 12345))
        );
        assert_eq!(
            parse_need_tag(need_tag(Slot::Main, 0)),
            Some((Slot::Main, 0))
        );
        assert_eq!(parse_need_tag(5 << 32), None);
        // A tag whose slot byte names no slot is not ours.
        assert_eq!(parse_need_tag(TAG | (7 << 48) | 3), None);
    }
}
