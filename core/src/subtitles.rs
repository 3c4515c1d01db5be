//! Subtitles of a session: the text track list, fetching the selected track's WebVTT (a
//! side-loaded file, HLS `SUBTITLES` segments, a DASH side-car or segmented `text/vtt`
//! AdaptationSet, DASH WebVTT in fragmented MP4 — `wvtt` samples after their init segment),
//! the cues active at the playhead, and where each goes on the video.
//!
//! Sans-IO like the rest of the core: requests go out through the player's
//! [`RequestService`](crate::net::RequestService) as [`Owner::Text`](crate::net::Owner::Text)
//! (ids, stall timeout, retry waits: the `Text` settings of its policy), the host's answers
//! come back through [`Subtitles::on_response`] and friends, and what to show goes out as
//! [`HostCommand::ShowSubtitles`](crate::host::HostCommand::ShowSubtitles) whenever the set of
//! active cues (or the video's shape) changes. The host only draws the boxes it is given.
//!
//! Timing: a side-loaded file's cue times are presentation times (like `<track>`). DASH cue
//! times are relative to their period's start; `wvtt` sample times are media times, put on the
//! segment grid by the period's first segment (its first sample starts at the segment start,
//! as the adaptive demuxer does for audio and video). HLS segments map cue times with
//! `X-TIMESTAMP-MAP` onto the media's container timeline, then by the same per-discontinuity
//! offset the adaptive demuxer applies to audio and video ([`Subtitles::poll`]'s `offset`);
//! an HLS segment without the header is taken to be on the presentation timeline already
//! (what players do with fMP4 streams that omit it; RFC 8216 would map it to MPEG-TS 0).
//!
//! Layout: the spec's cue box layout ([`layout`](mod@crate::text::webvtt::layout)) in percent
//! of the video picture, with text wrapped into lines here by an average glyph advance
//! ([`AVERAGE_ADVANCE_EM`]; [`VERTICAL_ADVANCE_EM`] down the columns of vertical cues), so
//! every host draws the same lines in the same boxes; a host whose font is wider condenses a
//! line to the box (canvas `fillText`'s `maxWidth` does).
//!
//! Style: the selected track's STYLE blocks ([`crate::text::webvtt::style`]) and the common
//! colour classes give each [`TextRun`] its colours and font style. A segmented track takes
//! the style sheet of the last segment that has STYLE blocks (segments repeat their header).
//!
//! Failures never stop playback: a track that cannot be fetched or parsed is reported with
//! [`PlayerEvent::TextTrackError`](crate::host::PlayerEvent::TextTrackError) and shows nothing.
//! Requests are retried as the `Text` settings say (by default 3 times, after 0.5, 1 and 2 s);
//! a segment that still fails is skipped.
//!
//! # Parts
//! This file holds the public types and constants and the state the parts share: the
//! [`Subtitles`] fields, each track's `Track` (its list, what is loaded or failed, its
//! `Timing`) and `What` (the playlist, an init segment or a segment of a track). The rest of
//! `impl Subtitles` is split by responsibility beside it; the parts talk only through that
//! state and the methods named here:
//! - `tracks.rs`: the track list (manifest renditions, side-loaded files) and the selection;
//!   `give_up`, how a failure ends (a segment is skipped, a playlist, init segment or single
//!   file breaks the track, reported once).
//! - `loader.rs`: the requests: which one the selected track needs next (`poll`), sending it,
//!   the host's answers, stalls and retries. A complete body goes to `segments.rs`
//!   (`on_playlist`, `on_segment`), an init segment onto its track, a final failure to
//!   `give_up`.
//! - `segments.rs`: reading what arrived: HLS media playlists (live reload times), WebVTT
//!   files and segments put on the presentation timeline, `wvtt` in fragmented MP4, the live
//!   DASH list refresh (`refresh_lists`). Cues go into the cue store, STYLE blocks into the
//!   style sheet; what cannot be read goes to `give_up`.
//! - `display.rs`: what is on screen: the store's cues active at the playhead (`update`),
//!   laid out on the picture and wrapped into lines, sent as `ShowSubtitles`.

mod display;
mod loader;
mod segments;
mod tracks;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::stream::model::{SegmentList, Variables};
use crate::text::webvtt::{Cue, StyleSheet};
use crate::text::{CueId, CueStore};
use loader::{Fetch, Retry};

/// Cues are fetched this far ahead of the playhead (segments overlapping the window).
pub const TEXT_AHEAD_US: i64 = 30_000_000;
/// Cues that ended this long before the playhead are dropped (seeking back refetches them).
pub const TEXT_BEHIND_US: i64 = 60_000_000;
/// Largest text file or segment accepted (a whole-film side-loaded file is well under 1 MiB).
pub const MAX_TEXT_BYTES: usize = 16 << 20;
/// Average advance of a glyph, in em, used to wrap cue text (sans-serif Latin text runs at
/// 0.45–0.55 em per character).
pub const AVERAGE_ADVANCE_EM: f64 = 0.5;
/// Advance of a glyph down a column of a vertical cue, in em (glyphs are set upright, one em
/// each, as CJK text is).
pub const VERTICAL_ADVANCE_EM: f64 = 1.0;
/// Font size as a share of the line height (the spec's 5vh font on 6vh lines).
pub const FONT_PER_LINE: f64 = 5.0 / 6.0;

pub use kinema_protocol::text::{SubtitleCue, TextRun, TextTrackKind};

/// A text track as the app sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextTrackInfo {
    /// Stable identity: the manifest's rendition id, or `sideload-N`.
    pub id: String,
    /// RFC 5646 language tag when known.
    pub language: Option<String>,
    /// Human-readable name.
    pub name: String,
    /// Subtitles or captions.
    pub kind: TextTrackKind,
    /// The manifest marks it as the default choice (it is selected on load).
    pub default: bool,
    /// Forced narrative (HLS `FORCED=YES`).
    pub forced: bool,
    /// Added by the app ([`crate::AppRequest::AddTextTrack`]) rather than by the manifest.
    pub side_loaded: bool,
}

/// How a track's cue times reach the presentation timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Cue time + this offset (side-loaded: 0; DASH: the period start).
    Offset(i64),
    /// HLS: `X-TIMESTAMP-MAP`, then the discontinuity's offset.
    Hls,
}

/// The part of a track a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum What {
    /// Its media playlist (HLS).
    Playlist,
    /// An initialization segment (`wvtt` in MP4) by its index in the list's `inits`.
    Init(usize),
    /// A segment by its index in the list's numbering (`Segment::number`).
    Segment(u64),
    /// The AES-128 key of segment `n` (HLS `EXT-X-KEY`), or of init segment `i` when
    /// `init` (`(true, i)`), fetched before the resource it decrypts.
    Key(bool, u64),
}

/// One text track: what the app sees of it, where its cues come from, and what of it is
/// loaded.
#[derive(Debug)]
struct Track {
    info: TextTrackInfo,
    /// A playlist still to fetch (HLS), or to reload (live).
    playlist: Option<String>,
    list: Option<SegmentList>,
    timing: Timing,
    /// Period start per DASH period index.
    period_starts: Vec<i64>,
    /// Segments loaded, and given up on, by number.
    loaded: HashSet<u64>,
    failed: HashSet<u64>,
    next_reload: Option<Duration>,
    /// The whole track failed (reported once).
    broken: bool,
    /// WebVTT in fragmented MP4 (`wvtt` samples, DASH): segments need their init segment.
    wvtt: bool,
    /// Init segments fetched, by index into the list's `inits`.
    inits: HashMap<usize, Vec<u8>>,
    /// `wvtt`: media time minus presentation time per period, fixed by the first segment
    /// parsed in it (as the adaptive demuxer does for audio and video).
    media_offsets: HashMap<usize, i64>,
}

/// The text tracks of one session. See the module documentation.
#[derive(Debug, Default)]
pub struct Subtitles {
    tracks: Vec<Track>,
    selected: Option<usize>,
    /// The app chose (a manifest default no longer applies).
    chosen: bool,
    store: CueStore<Cue>,
    /// The selected track's STYLE blocks.
    styles: StyleSheet,
    shown: Vec<CueId>,
    /// Picture size (aspect ratio for wrapping and vertical text).
    picture: (u32, u32),
    fetch: Option<Fetch>,
    retry: Option<Retry>,
    /// Last playhead seen by [`Subtitles::poll`].
    playhead_us: i64,
    /// Show again even if the active set did not change (layout inputs changed).
    dirty: bool,
    /// The adaptive source's text version the lists came from ([`Subtitles::refresh_lists`]).
    lists_version: u64,
    /// The HLS multivariant playlist's variables, for the text playlists' `EXT-X-DEFINE:IMPORT`.
    hls_variables: Option<Variables>,
    /// AES-128 keys of encrypted text segments, by URL.
    keys: crate::adaptive::crypto::KeyCache,
}

impl Subtitles {
    /// No tracks.
    pub fn new() -> Self {
        Subtitles::default()
    }
}
