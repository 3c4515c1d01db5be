//! Subtitles of a session: the text track list, fetching the selected track's WebVTT (a
//! side-loaded file, HLS `SUBTITLES` segments, a DASH side-car or segmented `text/vtt`
//! AdaptationSet, DASH WebVTT in fragmented MP4 — `wvtt` samples after their init segment),
//! the cues active at the playhead, and where each goes on the video.
//!
//! Sans-IO like the rest of the core: requests go out through the player's
//! [`RequestService`] as [`Owner::Text`] (ids, stall timeout, retry waits: the `Text`
//! settings of its policy), the host's answers come back through [`Subtitles::on_response`]
//! and friends, and what to show goes out as [`HostCommand::ShowSubtitles`] whenever the set of
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
//! [`PlayerEvent::TextTrackError`] and shows nothing. Requests are retried as the `Text`
//! settings say (by default 3 times, after 0.5, 1 and 2 s); a segment that still fails is
//! skipped.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::adaptive::segments::parse_segment;
use crate::demux::mp4::WVTT;
use crate::error::{Error, ErrorKind};
use crate::host::{ByteRange, FetchErrorKind, HostCommand, PlayerEvent, RequestId, RequestKind};
use crate::net::{Owner, RequestService};
use crate::stream::hls;
use crate::stream::model::{MediaRef, Rendition, Segment, SegmentList, Variables};
use crate::text::webvtt::{self, layout, Cue, StyleSheet, Vertical, Viewport};
use crate::text::{CueId, CueStore};

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

/// Same style as `other` (only the text may differ).
fn same_style(a: &TextRun, b: &TextRun) -> bool {
    (a.bold, a.italic, a.underline, a.color, a.background)
        == (b.bold, b.italic, b.underline, b.color, b.background)
}

/// How a track's cue times reach the presentation timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Cue time + this offset (side-loaded: 0; DASH: the period start).
    Offset(i64),
    /// HLS: `X-TIMESTAMP-MAP`, then the discontinuity's offset.
    Hls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum What {
    Playlist,
    /// An initialization segment (`wvtt` in MP4) by its index in the list's `inits`.
    Init(usize),
    /// A segment by its index in the list's numbering (`Segment::number`).
    Segment(u64),
}

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

#[derive(Debug)]
struct Fetch {
    id: RequestId,
    track: usize,
    what: What,
    attempt: u32,
    status: Option<u16>,
    body: Vec<u8>,
}

#[derive(Debug)]
struct Retry {
    due: Duration,
    track: usize,
    what: What,
    attempt: u32,
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
}

impl Subtitles {
    /// No tracks.
    pub fn new() -> Self {
        Subtitles::default()
    }

    /// The tracks, in the order their indices refer to.
    pub fn tracks(&self) -> Vec<TextTrackInfo> {
        self.tracks.iter().map(|t| t.info.clone()).collect()
    }

    /// The track shown, if any.
    pub fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// The cues on screen now.
    pub fn active(&self) -> Vec<SubtitleCue> {
        self.views(&self.shown)
    }

    /// The variables of the HLS multivariant playlist the text renditions come from
    /// ([`crate::stream::Presentation::variables`]), for their media playlists'
    /// `EXT-X-DEFINE:IMPORT`. Set before [`Subtitles::add_renditions`].
    pub fn set_hls_variables(&mut self, variables: Option<Variables>) {
        self.hls_variables = variables;
    }

    /// Adds the WebVTT text renditions of an adaptive presentation: WebVTT files or segments,
    /// and (DASH) `wvtt` in fragmented MP4; others (TTML) are not listed. `dash`: cue times
    /// are relative to the period start. Selects the manifest's default track unless the app
    /// already chose.
    pub fn add_renditions(
        &mut self,
        renditions: &[Rendition],
        period_starts: &[i64],
        dash: bool,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let mut seen = HashSet::new();
        let mut added = false;
        for r in renditions {
            let wvtt = r.codecs.iter().any(|c| c.eq_ignore_ascii_case(WVTT));
            let vtt = r.codecs.is_empty() || r.codecs.iter().any(|c| c.eq_ignore_ascii_case("vtt"));
            if !(vtt || (wvtt && dash)) {
                continue;
            }
            if !seen.insert(r.track.clone()) {
                continue;
            }
            let (playlist, list) = match &r.media {
                Some(MediaRef::Playlist { url }) if !wvtt => (Some(url.clone()), None),
                Some(MediaRef::Segments(l)) => (None, Some(l.clone())),
                _ => continue,
            };
            self.tracks.push(Track {
                info: TextTrackInfo {
                    id: r.id.clone(),
                    language: r.language.clone(),
                    name: r.name.clone(),
                    kind: TextTrackKind::Subtitles,
                    default: r.default,
                    forced: r.forced,
                    side_loaded: false,
                },
                playlist,
                list,
                timing: if dash { Timing::Offset(0) } else { Timing::Hls },
                period_starts: if dash {
                    period_starts.to_vec()
                } else {
                    Vec::new()
                },
                loaded: HashSet::new(),
                failed: HashSet::new(),
                next_reload: None,
                broken: false,
                wvtt,
                inits: HashMap::new(),
                media_offsets: HashMap::new(),
            });
            added = true;
        }
        if added {
            out.push(HostCommand::Emit(PlayerEvent::TextTracksChanged));
            if !self.chosen && self.selected.is_none() {
                if let Some(i) = self.tracks.iter().position(|t| t.info.default) {
                    self.select_inner(Some(i), net, out);
                }
            }
        }
    }

    /// The adaptive source's text version the track lists were last taken from.
    pub fn lists_version(&self) -> u64 {
        self.lists_version
    }

    /// Live DASH: the refreshed MPD's segment lists of the manifest's text tracks, when
    /// `version` differs from the last one taken (segments that left the window are forgotten).
    pub fn refresh_lists(&mut self, version: u64, renditions: &[Rendition]) {
        if version == self.lists_version {
            return;
        }
        self.lists_version = version;
        for r in renditions {
            let Some(MediaRef::Segments(list)) = &r.media else {
                continue;
            };
            let track = self
                .tracks
                .iter_mut()
                .find(|t| !t.info.side_loaded && t.playlist.is_none() && t.info.id == r.id);
            if let Some(t) = track {
                let numbers: HashSet<u64> = list.segments.iter().map(|s| s.number).collect();
                t.loaded.retain(|n| numbers.contains(n));
                t.failed.retain(|n| numbers.contains(n));
                t.list = Some(list.clone());
            }
        }
    }

    /// Adds a side-loaded WebVTT file; returns its index. It is not selected.
    pub fn add_file(
        &mut self,
        url: String,
        language: Option<String>,
        name: String,
        kind: TextTrackKind,
        out: &mut Vec<HostCommand>,
    ) -> usize {
        let index = self.tracks.len();
        let name = if name.is_empty() {
            language
                .clone()
                .unwrap_or_else(|| format!("Track {}", index + 1))
        } else {
            name
        };
        let mut list = SegmentList::empty(0);
        list.end_list = true;
        list.segments.push(Segment {
            number: 0,
            start_us: 0,
            duration_us: 0,
            url,
            range: None,
            init: None,
            discontinuity: 0,
            period: 0,
            encrypted: false,
            gap: false,
            program_date_time_ms: None,
        });
        self.tracks.push(Track {
            info: TextTrackInfo {
                id: format!("sideload-{index}"),
                language,
                name,
                kind,
                default: false,
                forced: false,
                side_loaded: true,
            },
            playlist: None,
            list: Some(list),
            timing: Timing::Offset(0),
            period_starts: Vec::new(),
            loaded: HashSet::new(),
            failed: HashSet::new(),
            next_reload: None,
            broken: false,
            wvtt: false,
            inits: HashMap::new(),
            media_offsets: HashMap::new(),
        });
        out.push(HostCommand::Emit(PlayerEvent::TextTracksChanged));
        index
    }

    /// Shows track `index` (`None`: subtitles off). Unknown indices are ignored.
    pub fn select(
        &mut self,
        index: Option<usize>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if index.is_some_and(|i| i >= self.tracks.len()) {
            return;
        }
        self.chosen = true;
        self.select_inner(index, net, out);
    }

    fn select_inner(
        &mut self,
        index: Option<usize>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        if index == self.selected {
            return;
        }
        self.cancel(net, out);
        self.store.clear();
        self.styles = StyleSheet::default();
        for t in &mut self.tracks {
            t.loaded.clear();
            t.failed.clear();
        }
        self.selected = index;
        if !self.shown.is_empty() {
            self.shown.clear();
            out.push(HostCommand::ShowSubtitles { cues: Vec::new() });
        }
        out.push(HostCommand::Emit(PlayerEvent::TextTrackChanged(index)));
    }

    /// The picture's display size changed: lay the cues out again.
    pub fn set_picture(&mut self, width: u32, height: u32) {
        if (width, height) != self.picture {
            self.picture = (width, height);
            self.dirty = true;
        }
    }

    /// Cancels the request in flight (unload, track change).
    pub fn cancel(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        if let Some(f) = self.fetch.take() {
            net.cancel(f.id, out);
        }
        self.retry = None;
    }

    /// When the next retry or playlist reload is due.
    pub fn deadline(&self) -> Option<Duration> {
        let reload = self
            .selected
            .and_then(|i| self.tracks.get(i))
            .and_then(|t| t.next_reload);
        match (self.retry.as_ref().map(|r| r.due), reload) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Issues the next request of the selected track: its playlist, a reload, a retry, or the
    /// first unloaded segment within [`TEXT_AHEAD_US`] of `playhead_us`. `offset(d)` is the
    /// adaptive demuxer's container-minus-presentation offset of discontinuity `d` (`None`
    /// until its first media segment is parsed: HLS segments wait for it).
    pub fn poll(
        &mut self,
        now: Duration,
        playhead_us: i64,
        offset: &dyn Fn(u64) -> Option<i64>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        self.playhead_us = playhead_us;
        if let Some(f) = &self.fetch {
            if net.timed_out(f.id, now) {
                let (id, track, what, attempt) = (f.id, f.track, f.what, f.attempt);
                self.cancel(net, out);
                self.failed_attempt(now, net, id, (track, what, attempt), "stalled", out);
            }
        }
        self.store
            .evict_before(playhead_us.saturating_sub(TEXT_BEHIND_US));
        let Some(index) = self.selected else { return };
        if self.fetch.is_some() {
            return;
        }
        // A retry that is due goes first; one that is not yet due does not hold up the
        // other segments.
        if self.retry.as_ref().is_some_and(|r| r.due <= now) {
            if let Some(r) = self.retry.take() {
                if r.track == index {
                    if let Some((url, range)) = self.url_of(r.track, r.what) {
                        let at = (url, range, r.attempt);
                        self.send(now, r.track, r.what, at, net, out);
                        return;
                    }
                }
            }
        }
        let waiting = self.retry.as_ref().and_then(|r| match r.what {
            What::Segment(n) if r.track == index => Some(n),
            _ => None,
        });
        if self
            .retry
            .as_ref()
            .is_some_and(|r| matches!(r.what, What::Playlist | What::Init(_)))
        {
            return;
        }
        let Some(t) = self.tracks.get_mut(index) else {
            return;
        };
        if t.broken {
            return;
        }
        if let Some(url) = t.playlist.clone() {
            let due = t.list.is_none() || t.next_reload.is_some_and(|at| at <= now);
            if due {
                t.next_reload = None;
                self.send(now, index, What::Playlist, (url, None, 0), net, out);
                return;
            }
        }
        let Some(list) = &t.list else { return };
        // Cues already loaded must map onto media time: forget segments whose cues were
        // evicted (they ended long ago) so seeking back fetches them again.
        let behind = playhead_us.saturating_sub(TEXT_BEHIND_US);
        let ahead = playhead_us.saturating_add(TEXT_AHEAD_US);
        let next = list.segments.iter().find(|s| {
            let whole = s.duration_us <= 0;
            (whole || (s.end_us() > playhead_us.min(ahead) && s.start_us < ahead))
                && !t.loaded.contains(&s.number)
                && !t.failed.contains(&s.number)
                && waiting != Some(s.number)
                && !s.gap
                && (t.timing != Timing::Hls || offset(s.discontinuity).is_some())
        });
        let Some(seg) = next else {
            t.loaded.retain(|&n| {
                list.segments
                    .iter()
                    .find(|s| s.number == n)
                    .is_none_or(|s| s.duration_us <= 0 || s.end_us() > behind)
            });
            return;
        };
        // `wvtt` segments are read after their init segment.
        let what = match seg.init {
            Some(i) if t.wvtt && !t.inits.contains_key(&i) => What::Init(i),
            _ => What::Segment(seg.number),
        };
        if let Some((url, range)) = self.url_of(index, what) {
            self.send(now, index, what, (url, range, 0), net, out);
        }
    }

    fn url_of(&self, track: usize, what: What) -> Option<(String, Option<ByteRange>)> {
        let t = self.tracks.get(track)?;
        match what {
            What::Playlist => t.playlist.clone().map(|u| (u, None)),
            What::Init(i) => {
                let init = t.list.as_ref()?.inits.get(i)?;
                Some((init.url.clone(), init.range.map(|r| r.to_range())))
            }
            What::Segment(n) => t
                .list
                .as_ref()?
                .segments
                .iter()
                .find(|s| s.number == n)
                .map(|s| (s.url.clone(), s.range.map(|r| r.to_range()))),
        }
    }

    /// Sends `what` of `track`: `(url, range, attempt)`.
    fn send(
        &mut self,
        now: Duration,
        track: usize,
        what: What,
        (url, range, attempt): (String, Option<ByteRange>, u32),
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let id = net.fetch(now, Owner::Text, RequestKind::Text, url, range, out);
        self.fetch = Some(Fetch {
            id,
            track,
            what,
            attempt,
            status: None,
            body: Vec::new(),
        });
    }

    /// Response headers of this component's request: an error status ends it here.
    pub fn on_response(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        id: RequestId,
        status: u16,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.as_mut().filter(|f| f.id == id) else {
            return;
        };
        f.status = Some(status);
        if (200..300).contains(&status) {
            return;
        }
        let (track, what, attempt) = (f.track, f.what, f.attempt);
        self.fetch = None;
        net.cancel(id, out);
        self.bad_status(now, net, id, (track, what, attempt), status, out);
    }

    /// 404/410 and other client errors are final (a segment is skipped, a file or playlist
    /// breaks its track); 429 and server errors are retried.
    fn bad_status(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        (track, what, attempt): (usize, What, u32),
        status: u16,
        out: &mut Vec<HostCommand>,
    ) {
        if (400..500).contains(&status) && status != 429 {
            let error = Error::new(ErrorKind::Network, format!("text track: HTTP {status}"));
            self.give_up(track, what, error, out);
        } else {
            let why = format!("HTTP {status}");
            self.failed_attempt(now, net, id, (track, what, attempt), &why, out);
        }
    }

    /// Body bytes; a body over [`MAX_TEXT_BYTES`] fails the request.
    pub fn on_data(
        &mut self,
        net: &mut RequestService,
        id: RequestId,
        data: &[u8],
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.as_mut().filter(|f| f.id == id) else {
            return;
        };
        if f.body.len() + data.len() > MAX_TEXT_BYTES {
            let (track, what) = (f.track, f.what);
            self.cancel(net, out);
            self.give_up(
                track,
                what,
                Error::new(
                    ErrorKind::Limit,
                    format!("text track larger than {MAX_TEXT_BYTES} bytes"),
                ),
                out,
            );
            return;
        }
        f.body.extend_from_slice(data);
    }

    /// The request failed at the network level.
    pub fn on_failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        kind: FetchErrorKind,
        message: &str,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.take().filter(|f| f.id == id) else {
            return;
        };
        if kind == FetchErrorKind::Aborted {
            return;
        }
        self.failed_attempt(now, net, id, (f.track, f.what, f.attempt), message, out);
    }

    /// The body is complete: parse it.
    pub fn on_end(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        offset: &dyn Fn(u64) -> Option<i64>,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.take().filter(|f| f.id == id) else {
            return;
        };
        let status = f.status.unwrap_or(200);
        if !(200..300).contains(&status) {
            self.bad_status(now, net, id, (f.track, f.what, f.attempt), status, out);
            return;
        }
        match f.what {
            What::Playlist => self.on_playlist(now, f.track, &f.body, out),
            What::Init(i) => {
                if let Some(t) = self.tracks.get_mut(f.track) {
                    t.inits.insert(i, f.body);
                }
            }
            What::Segment(n) => self.on_segment(f.track, n, &f.body, offset, out),
        }
    }

    fn on_playlist(
        &mut self,
        now: Duration,
        track: usize,
        body: &[u8],
        out: &mut Vec<HostCommand>,
    ) {
        let Some(t) = self.tracks.get_mut(track) else {
            return;
        };
        let url = t.playlist.clone().unwrap_or_default();
        match hls::parse_with_imports(body, &url, self.hls_variables.as_ref()) {
            Ok(hls::Parsed::Media(list)) => {
                if !list.end_list {
                    let wait = hls::reload_interval(t.list.as_ref(), &list)
                        .unwrap_or(Duration::from_secs(2));
                    t.next_reload = Some(now + wait);
                } else {
                    t.playlist = None;
                }
                let numbers: HashSet<u64> = list.segments.iter().map(|s| s.number).collect();
                t.loaded.retain(|n| numbers.contains(n));
                t.list = Some(list);
            }
            Ok(hls::Parsed::Multivariant(_)) => self.give_up(
                track,
                What::Playlist,
                Error::new(
                    ErrorKind::Decode,
                    "text track: a multivariant playlist where a media playlist was expected",
                ),
                out,
            ),
            Err(e) => self.give_up(track, What::Playlist, e, out),
        }
    }

    fn on_segment(
        &mut self,
        track: usize,
        number: u64,
        body: &[u8],
        offset: &dyn Fn(u64) -> Option<i64>,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(t) = self.tracks.get_mut(track) else {
            return;
        };
        let Some(seg) = t
            .list
            .as_ref()
            .and_then(|l| l.segments.iter().find(|s| s.number == number))
            .cloned()
        else {
            return;
        };
        if t.wvtt {
            let init = seg
                .init
                .and_then(|i| t.inits.get(&i))
                .map_or(&[][..], Vec::as_slice);
            match wvtt_cues(init, body, &seg, &mut t.media_offsets) {
                Ok((cues, styles)) => {
                    t.loaded.insert(number);
                    if !styles.is_empty() {
                        self.styles = styles;
                        self.dirty = true;
                    }
                    self.store.extend(cues);
                }
                Err(e) => self.give_up(track, What::Segment(number), e, out),
            }
            return;
        }
        let mut file = match webvtt::parse(body) {
            Ok(f) => f,
            Err(e) => {
                self.give_up(track, What::Segment(number), e, out);
                return;
            }
        };
        let shift = match t.timing {
            Timing::Offset(o) => {
                o.saturating_add(t.period_starts.get(seg.period).copied().unwrap_or_default())
            }
            Timing::Hls => match file.timestamp_map {
                Some(map) => {
                    let disc = offset(seg.discontinuity).unwrap_or_default();
                    // The 90 kHz time of the segment's start, to unwrap MPEGTS near it.
                    let reference = (seg.start_us.saturating_add(disc)).saturating_mul(9) / 100;
                    map.offset_us(Some(reference)).saturating_sub(disc)
                }
                None => 0,
            },
        };
        file.shift(shift);
        t.loaded.insert(number);
        if !file.styles.is_empty() {
            self.styles = file.style_sheet();
            self.dirty = true;
        }
        self.store.extend(file.cues);
    }

    /// Attempt `attempt` of `what` (request `id`) failed: retry after the `Text` settings'
    /// wait, or give up after their last attempt.
    fn failed_attempt(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        (track, what, attempt): (usize, What, u32),
        why: &str,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(wait) = net.retry_delay(Owner::Text, RequestKind::Text, attempt, id.0, false)
        else {
            let attempts = attempt.saturating_add(1);
            self.give_up(
                track,
                what,
                Error::new(
                    ErrorKind::Network,
                    format!("text track: {why} after {attempts} attempts"),
                ),
                out,
            );
            return;
        };
        self.retry = Some(Retry {
            due: now + wait,
            track,
            what,
            attempt: attempt + 1,
        });
    }

    /// A segment of a segmented track is skipped; a playlist or a whole file breaks the
    /// track, which is reported once.
    fn give_up(&mut self, track: usize, what: What, error: Error, out: &mut Vec<HostCommand>) {
        let Some(t) = self.tracks.get_mut(track) else {
            return;
        };
        let whole = match what {
            // Without its playlist or init segment nothing of the track can be read.
            What::Playlist | What::Init(_) => true,
            What::Segment(n) => {
                t.failed.insert(n);
                t.list.as_ref().is_some_and(|l| l.segments.len() == 1)
            }
        };
        if whole && !t.broken {
            t.broken = true;
            out.push(HostCommand::Emit(PlayerEvent::TextTrackError {
                track,
                error,
            }));
        }
    }

    /// Shows what is active at `time_us` when it differs from what is on screen.
    pub fn update(&mut self, time_us: i64, out: &mut Vec<HostCommand>) {
        let active: Vec<CueId> = if self.selected.is_some() {
            self.store
                .active_at(time_us)
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        } else {
            Vec::new()
        };
        if active == self.shown && (!self.dirty || active.is_empty()) {
            self.dirty = false;
            return;
        }
        self.dirty = false;
        let cues = self.views(&active);
        self.shown = active;
        out.push(HostCommand::ShowSubtitles { cues });
    }

    /// Lays out the cues `ids` (text track cue order).
    fn views(&self, ids: &[CueId]) -> Vec<SubtitleCue> {
        let cues: Vec<(CueId, &Cue)> = ids
            .iter()
            .filter_map(|&id| self.store.get(id).map(|c| (id, c)))
            .collect();
        let (w, h) = match self.picture {
            (w, h) if w > 0 && h > 0 => (f64::from(w), f64::from(h)),
            _ => (16.0, 9.0),
        };
        let viewport = Viewport::new(w, h);
        let aspect = w / h;
        let lh = viewport.line_height;
        let refs: Vec<&Cue> = cues.iter().map(|(_, c)| *c).collect();
        let sheet = &self.styles;
        let boxes = layout::layout_with(&refs, &[], &viewport, |cue, size| {
            wrap(
                cue,
                sheet,
                line_capacity(cue.settings.vertical, size, aspect, lh),
            )
            .len()
        });
        boxes
            .into_iter()
            .filter_map(|b| {
                let (id, cue) = cues.get(b.cue)?;
                let size = match b.vertical {
                    Vertical::Horizontal => b.width,
                    _ => b.height,
                };
                let lines = wrap(cue, sheet, line_capacity(b.vertical, size, aspect, lh));
                Some(SubtitleCue {
                    id: id.0,
                    cue_id: cue.id.clone(),
                    start: cue.start_us as f64 / 1e6,
                    end: cue.end_us as f64 / 1e6,
                    text: cue.plain_text(),
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: b.height,
                    line_height: lh,
                    font_size: lh * FONT_PER_LINE,
                    align: b.align,
                    rtl: b.rtl,
                    vertical: b.vertical,
                    lines,
                })
            })
            .collect()
    }
}

/// Characters that fit on one line of a cue of `size` percent: of the picture width for
/// horizontal cues, of its height down the columns of vertical ones.
/// The cues of one `wvtt` segment on the presentation timeline, and the style sheet of its
/// `vttC` configuration. A period's first segment fixes its media-to-presentation offset
/// (`offsets`, by period): its first sample starts at the segment's start.
fn wvtt_cues(
    init: &[u8],
    body: &[u8],
    seg: &Segment,
    offsets: &mut HashMap<usize, i64>,
) -> Result<(Vec<Cue>, StyleSheet), Error> {
    let decode = |m: String| Error::new(ErrorKind::Decode, format!("wvtt segment: {m}"));
    let (parsed, _) = parse_segment(init, body, None).map_err(Error::from)?;
    let t = parsed
        .tracks
        .iter()
        .position(|t| t.codec == WVTT)
        .ok_or_else(|| decode("no wvtt track".into()))?;
    let config = parsed.tracks.get(t).and_then(|t| t.description.as_deref());
    let config = match config {
        Some(c) if !c.is_empty() => webvtt::parse(c).unwrap_or_default(),
        _ => webvtt::VttFile::default(),
    };
    let samples = parsed.samples.get(t).map_or(&[][..], Vec::as_slice);
    let Some(first) = samples.iter().map(|s| s.dts_us).min() else {
        return Ok((Vec::new(), config.style_sheet()));
    };
    let offset = *offsets
        .entry(seg.period)
        .or_insert_with(|| first.saturating_sub(seg.start_us));
    let mut cues = Vec::new();
    for s in samples {
        let start = usize::try_from(s.offset).map_err(|_| decode("sample offset".into()))?;
        let data = start
            .checked_add(s.size as usize)
            .and_then(|end| parsed.data.get(start..end))
            .ok_or_else(|| decode("sample past the segment".into()))?;
        let at = s.pts_us.saturating_sub(offset);
        cues.extend(webvtt::wvtt::parse_sample(
            data,
            at,
            s.duration_us,
            &config.regions,
        )?);
    }
    Ok((cues, config.style_sheet()))
}

fn line_capacity(vertical: Vertical, size: f64, aspect: f64, line_height: f64) -> usize {
    match vertical {
        Vertical::Horizontal => chars_per_line(size, aspect, line_height),
        _ => chars_per_column(size, line_height),
    }
}

/// Characters that fit in one column of `height` percent of the picture height.
fn chars_per_column(height: f64, line_height: f64) -> usize {
    let em = line_height * FONT_PER_LINE * VERTICAL_ADVANCE_EM;
    if em <= 0.0 || !height.is_finite() {
        return 1;
    }
    ((height / em).floor() as usize).max(1)
}

/// Characters that fit on one line of `width` percent of the picture width.
fn chars_per_line(width: f64, aspect: f64, line_height: f64) -> usize {
    let em = line_height * FONT_PER_LINE * AVERAGE_ADVANCE_EM; // percent of the height
    if em <= 0.0 || !width.is_finite() {
        return 1;
    }
    ((width * aspect / em).floor() as usize).max(1)
}

/// The cue's styled text broken into lines: at its line feeds, then greedily at spaces so no
/// line exceeds `max_chars` (a longer word gets a line of its own).
fn wrap(cue: &Cue, sheet: &StyleSheet, max_chars: usize) -> Vec<Vec<TextRun>> {
    // Words with their style; `None` marks an explicit line break.
    let mut words: Vec<Option<(String, TextRun)>> = Vec::new();
    for (span, run) in cue.styled_spans(sheet) {
        if span.ruby_text {
            continue;
        }
        let style = TextRun {
            text: String::new(),
            bold: run.bold,
            italic: run.italic,
            underline: run.underline,
            color: run.color,
            background: run.background,
        };
        for (i, line) in span.text.split('\n').enumerate() {
            if i > 0 {
                words.push(None);
            }
            // Keep the space before each word so runs of different styles join naturally.
            let mut rest = line;
            while !rest.is_empty() {
                let lead = rest.len() - rest.trim_start().len();
                let body = rest.trim_start();
                let end = body.find(' ').unwrap_or(body.len());
                let (word, tail) = rest.split_at(lead + end);
                words.push(Some((word.to_string(), style.clone())));
                rest = tail;
            }
        }
    }
    let mut lines: Vec<Vec<TextRun>> = vec![Vec::new()];
    let mut len = 0usize;
    for w in words {
        let Some((word, style)) = w else {
            lines.push(Vec::new());
            len = 0;
            continue;
        };
        let n = word.chars().count();
        let word = if len > 0 && len + n > max_chars {
            lines.push(Vec::new());
            len = 0;
            word.trim_start().to_string()
        } else if len == 0 {
            word.trim_start().to_string()
        } else {
            word
        };
        if word.is_empty() {
            continue;
        }
        len += word.chars().count();
        let Some(line) = lines.last_mut() else { break };
        match line.last_mut() {
            Some(run) if same_style(run, &style) => run.text.push_str(&word),
            _ => line.push(TextRun {
                text: word,
                ..style
            }),
        }
    }
    // Trailing empty lines show nothing.
    while lines.last().is_some_and(|l| l.is_empty()) && lines.len() > 1 {
        lines.pop();
    }
    if lines.iter().all(|l| l.is_empty()) {
        return Vec::new();
    }
    lines
}

impl Subtitles {
    /// Numbers of the selected track's segments loaded so far (diagnostics, tests).
    pub fn loaded_segments(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .selected
            .and_then(|i| self.tracks.get(i))
            .map(|t| t.loaded.iter().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::webvtt::Rgba;

    #[test]
    fn a_broken_wvtt_segment_is_a_typed_error() {
        let seg = Segment {
            number: 1,
            start_us: 0,
            duration_us: 2_000_000,
            url: String::new(),
            range: None,
            init: Some(0),
            discontinuity: 0,
            period: 0,
            encrypted: false,
            gap: false,
            program_date_time_ms: None,
        };
        let mut offsets = HashMap::new();
        for (init, body) in [
            (&b""[..], &b"garbage, not MP4"[..]),
            (&b"\0\0\0\x10ftypiso6\0\0\0\0"[..], &b"\0\0\0\x08moof"[..]),
        ] {
            let e = wvtt_cues(init, body, &seg, &mut offsets)
                .map(|_| ())
                .unwrap_err();
            assert!(
                matches!(e.kind, ErrorKind::Decode | ErrorKind::Unsupported),
                "{e:?}"
            );
        }
        assert!(offsets.is_empty());
    }

    fn cue(text: &str) -> Cue {
        let f = webvtt::parse(format!("WEBVTT\n\n00:01.000 --> 00:02.000\n{text}\n").as_bytes())
            .unwrap();
        f.cues[0].clone()
    }

    fn plain(lines: &[Vec<TextRun>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|r| r.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn wraps_at_spaces_and_keeps_line_feeds_and_styles() {
        let none = StyleSheet::default();
        let c = cue("one two three four\n<b>bold</b> plain");
        assert_eq!(
            plain(&wrap(&c, &none, 9)),
            vec!["one two", "three", "four", "bold", "plain"]
        );
        let lines = wrap(&c, &none, 100);
        assert_eq!(plain(&lines), vec!["one two three four", "bold plain"]);
        assert!(lines[1][0].bold && lines[1][0].text == "bold");
        assert!(!lines[1][1].bold && lines[1][1].text == " plain");
        // A word longer than the line gets its own line, never split.
        assert_eq!(
            plain(&wrap(&cue("a verylongword b"), &none, 4)),
            vec!["a", "verylongword", "b"]
        );
        assert!(wrap(&cue("<i></i>"), &none, 10).is_empty());
    }

    #[test]
    fn runs_carry_the_style_sheet_colours_and_split_where_they_change() {
        let f = webvtt::parse(
            b"WEBVTT\n\nSTYLE\n::cue(.hot) { color: #ff0000; background: rgba(0,0,255,0.5) }\n\n00:01.000 --> 00:02.000\nplain <c.hot>hot words</c> <b>bold</b>\n",
        )
        .unwrap();
        let sheet = f.style_sheet();
        let lines = wrap(&f.cues[0], &sheet, 100);
        assert_eq!(plain(&lines), vec!["plain hot words bold"]);
        let runs: Vec<(&str, Option<Rgba>, Option<Rgba>, bool)> = lines[0]
            .iter()
            .map(|r| (r.text.as_str(), r.color, r.background, r.bold))
            .collect();
        assert_eq!(
            runs,
            vec![
                ("plain ", None, None, false),
                (
                    "hot words",
                    Some([255, 0, 0, 255]),
                    Some([0, 0, 255, 128]),
                    false
                ),
                (" ", None, None, false),
                ("bold", None, None, true),
            ]
        );
        // Without the sheet: no colours.
        let bare = wrap(&f.cues[0], &StyleSheet::default(), 100);
        assert!(bare[0].iter().all(|r| r.color.is_none()));
    }

    #[test]
    fn vertical_columns_hold_one_em_per_character() {
        // 6 % lines, 5 % font: a full-height column holds 20 characters.
        assert_eq!(chars_per_column(100.0, 6.0), 20);
        assert_eq!(
            line_capacity(Vertical::GrowingLeft, 50.0, 16.0 / 9.0, 6.0),
            10
        );
        assert_eq!(
            line_capacity(Vertical::Horizontal, 50.0, 16.0 / 9.0, 6.0),
            35
        );
        assert_eq!(chars_per_column(f64::NAN, 6.0), 1);
    }

    #[test]
    fn chars_per_line_follows_the_aspect() {
        // 16:9, full width, 6 % lines: 5 % font, 2.5 % advance → 71 characters.
        assert_eq!(chars_per_line(100.0, 16.0 / 9.0, 6.0), 71);
        assert_eq!(chars_per_line(50.0, 16.0 / 9.0, 6.0), 35);
        assert_eq!(chars_per_line(0.0, 1.0, 6.0), 1);
    }
}
