//! Adaptive streaming manifests: HLS playlists and DASH MPDs parsed into one presentation model.
//!
//! Everything here is a pure function over text or bytes: no I/O, no clock. Where live DASH
//! needs the wall clock the caller passes it in (`now_ms`, milliseconds since the Unix epoch).
//!
//! The flow a player follows:
//!
//! 1. Fetch the manifest and call [`hls::parse`] or [`dash::parse`] (sniff with [`detect`]).
//! 2. HLS multivariant playlist: [`Presentation`] whose [`Variant`]s and [`Rendition`]s point
//!    at media playlists ([`MediaRef::Playlist`]); fetch the chosen ones and parse them with
//!    [`hls::parse_with_imports`] and the multivariant playlist's [`Presentation::variables`]
//!    (→ [`hls::Parsed::Media`], a [`SegmentList`]). A media playlist loaded
//!    directly becomes a one-variant presentation with [`hls::presentation_from_media`].
//! 3. DASH: every list is already expanded ([`MediaRef::Segments`]), except `SegmentBase`
//!    representations ([`MediaRef::Indexed`]): fetch each part's `index_range` and call
//!    [`sidx::parse`], then join the parts with [`SegmentList::append`].
//! 4. Live HLS: reload after [`hls::reload_interval`] and fold the new list into the old with
//!    [`SegmentList::merge`], which keeps start times continuous. Live DASH: segment times are
//!    absolute (from `availabilityStartTime`), so call [`dash::parse`] again with a later
//!    `now_ms` (re-fetching the MPD when `minimumUpdatePeriod` says so) and replace the lists.
//!
//! Times are microseconds on the presentation timeline (HLS: 0 at the first segment of the
//! first list loaded; DASH: period start + segment time − `presentationTimeOffset`). Every size
//! read from a manifest is bounded ([`model::MAX_SEGMENTS`] and friends) before it allocates;
//! malformed input is [`ErrorKind::Decode`](crate::ErrorKind::Decode), exceeded bounds
//! [`ErrorKind::Limit`](crate::ErrorKind::Limit), valid but unplayable features
//! [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).

pub mod dash;
pub mod hls;
pub mod model;
pub mod sidx;
pub mod time;
pub mod url;

pub use model::{
    AesKey, ByteSpan, DashLive, Encryption, Ignored, IndexedMedia, InitSegment, Iv, LiveInfo,
    MediaRef, Period, PlaylistType, Presentation, Rendition, RenditionKind, Segment, SegmentList,
    UtcTiming, Variables, Variant,
};

/// Which manifest format some bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An HLS playlist (`#EXTM3U` first).
    Hls,
    /// A DASH MPD (an XML document whose root is `MPD`).
    Dash,
}

/// Sniffs the manifest format from its first bytes (after a UTF-8 byte-order mark and
/// whitespace). `None` when it is neither.
pub fn detect(bytes: &[u8]) -> Option<ManifestKind> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let b = b.get(start..).unwrap_or_default();
    if b.starts_with(b"#EXTM3U") {
        return Some(ManifestKind::Hls);
    }
    if b.starts_with(b"<") {
        let head = b.get(..b.len().min(4096)).unwrap_or_default();
        if head.windows(4).any(|w| w == b"<MPD" || w == b":MPD") {
            return Some(ManifestKind::Dash);
        }
    }
    None
}
