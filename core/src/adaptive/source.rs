//! The adaptive source of one HLS or DASH load: resolves media playlists and segment indexes,
//! decides which segment of which quality to fetch next (forward budgets in seconds and bytes,
//! eviction behind the playhead), asks [`Abr`] for the quality, retries failed requests with
//! exponential backoff and jitter, fails over to another quality, skips segments the server
//! says are gone (404/410), abandons downloads that will not finish in time, and reloads live
//! playlists when they are due. It only *asks* for bytes, through the [`RequestService`] as
//! [`Owner::Adaptive`] (ids, timeouts, and the retry waits of the `Manifest`, `Playlist`,
//! `Index`, `Init`, `Segment` and `Key` settings of its policy, the starving rule included);
//! parsed segments go to the [`SegmentDemux`] the player's pipelines read.
//!
//! # Parts
//! This file holds the state, opening (`open`, `build`), the getters, seeking and `poll`; the
//! rest of `impl AdaptiveSource` is split by responsibility beside it: `tracks.rs` (levels,
//! audio renditions, manual choices), `live.rs` (the manifest updater: MPD refresh, playlist
//! loads and reloads, timeline alignment), `schedule.rs` (what to fetch next, eviction,
//! timeouts, emergency switch-down), `requests.rs` (transfers, and failures handed to the pure
//! [`super::failover`] decision). Per-slot state is kept in [`Slots`], indexed by [`Slot`].
//!
//! # Faults
//! A failed or stalled request is retried as the policy says; when a level keeps failing it
//! is penalised for a while and a lower one used. A 404/410 on a segment tries a lower level
//! or skips the segment (the audio gap is filled with silence, so the clock keeps video in
//! step). A 2xx response pulls every retry still waiting out its backoff forward: the network
//! is back. Only a stream that cannot play at all ends in an error. The decision is the pure
//! [`super::failover::decide`] (rules and penalties there); this file carries it out.
//!
//! # Live
//! HLS media playlists are reloaded at the RFC 8216 interval and merged; DASH MPDs are
//! refetched at `minimumUpdatePeriod` or re-evaluated at the host's wall clock
//! (`HostEvent::WallClock`). Playback starts at the last segment beginning at least hold-back
//! before the live edge (HLS `HOLD-BACK`, else three target durations; DASH
//! `suggestedPresentationDelay`). A live list loaded for the first time is put on the timeline
//! of those already loaded (by `EXT-X-PROGRAM-DATE-TIME`, else by media sequence), so a
//! quality switch does not jump. The DVR window runs from the first listed segment to the
//! edge as of the last reload; when the stream ends (`EXT-X-ENDLIST`, the MPD turns static)
//! it is no longer live and plays to its end.
//!
//! Behind the playhead, segments older than the back budget are evicted; over the byte
//! budget, the oldest first.
//!
//! # Encryption
//! HLS AES-128 segments and initialization segments ([`Encryption::Aes128`]) are decrypted
//! whole after download, before they are parsed ([`super::crypto`]). Their key is fetched once
//! per load ([`KeyCache`], bounded) as a request of its own kind, [`RequestKind::Key`], sent
//! alongside the first segment that needs it; a body that arrives before its key waits for it
//! (`parked`). A key request fails as a playlist request does: retried as the policy says,
//! then a `network` error (a 4xx other than 404/408/410/429 at once); a key that is not 16
//! bytes is a `decode` error. A segment that does not decrypt (bad padding, not whole blocks)
//! is skipped like one that does not parse; an initialization segment that does not decrypt
//! is a `decode` error (every segment after it needs it). [`Encryption::Unsupported`] (DRM,
//! `SAMPLE-AES`, DASH `ContentProtection`) is refused with an `unsupported` error when such a
//! segment would be fetched.

mod live;
mod requests;
mod schedule;
mod tracks;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::abr::{Abr, AbrConfig, Download, Level};
use super::crypto::{self, KeyCache};
use super::failover::{self, ErrorAction, Failed, Failure, Switch};
use super::segments::{
    parse_need_tag, parse_segment, GridEntry, SegmentDemux, SegmentStore, Slot, Slots,
};
use crate::demux::DemuxError;
use crate::error::{Error, ErrorKind};
use crate::host::{ByteRange, FetchErrorKind, HostCommand, RequestId, RequestKind};
use crate::load_control::LoadControl;
use crate::net::{Owner, RequestService};
use crate::stream::model::{
    Encryption, ImageTrack, InitSegment, MediaRef, Presentation, RenditionKind, Segment,
    SegmentList, Thumbnail,
};
use crate::stream::{dash, hls, sidx};

/// Budgets of an adaptive source (retries and timeouts are the request service's
/// [`RetryPolicy`](crate::net::RetryPolicy)).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConfig {
    /// Media fetched ahead of the playhead, seconds (read through
    /// [`LoadControl`](crate::load_control::LoadControl), as the player builds it).
    pub forward_secs: f64,
    /// Media kept behind the playhead (for short seeks back), seconds.
    pub back_secs: f64,
    /// Most bytes of segments held (both slots together): TVs have little memory.
    pub buffer_bytes: usize,
    /// Bitrate choice tuning.
    pub abr: AbrConfig,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            forward_secs: 30.0,
            back_secs: 10.0,
            buffer_bytes: 96 * 1024 * 1024,
            abr: AbrConfig::default(),
        }
    }
}

/// Which manifest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP Live Streaming.
    Hls,
    /// MPEG-DASH.
    Dash,
}

/// What the first bytes of a resource say about it.
pub fn sniff_manifest(head: &[u8]) -> Option<Protocol> {
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("#EXTM3U") {
        Some(Protocol::Hls)
    } else if t.starts_with("<?xml") && text.contains("<MPD") || t.starts_with("<MPD") {
        Some(Protocol::Dash)
    } else {
        None
    }
}

/// One quality level or alternate rendition and the state of its segment list.
#[derive(Debug, Clone)]
struct Media {
    id: String,
    bandwidth: u64,
    height: u32,
    language: Option<String>,
    name: String,
    source: MediaRef,
    list: Option<SegmentList>,
    /// Index parts (DASH SegmentBase) still to fetch.
    parts_left: usize,
    next_reload: Option<Duration>,
    /// Failed over: not chosen again before this time.
    penalty_until: Option<Duration>,
    /// Index parts joined so far (DASH SegmentBase with several periods).
    partial: Option<SegmentList>,
    /// HLS audio group: of a level, the `AUDIO` group it plays with; of an audio rendition,
    /// its `GROUP-ID`. `None` in DASH.
    group: Option<String>,
    /// Of an audio rendition: renditions with the same track are one content at several
    /// bitrates (a DASH AdaptationSet's Representations).
    track: String,
}

impl Media {
    fn level(&self) -> Level {
        Level {
            bandwidth: self.bandwidth,
            height: self.height,
        }
    }
}

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    Playlist {
        slot: Slot,
        index: usize,
    },
    Index {
        slot: Slot,
        index: usize,
        part: usize,
    },
    Init {
        init: InitSegment,
    },
    Media {
        slot: Slot,
        number: u64,
        level: usize,
    },
    Manifest,
    /// An HLS AES-128 key, by its URL.
    Key {
        url: String,
    },
}

/// A segment or initialization segment that arrived before its key: decrypted and handed on
/// when the key does.
#[derive(Debug)]
struct Parked {
    purpose: Purpose,
    key_url: String,
    body: Vec<u8>,
}

#[derive(Debug)]
struct Request {
    purpose: Purpose,
    url: String,
    range: Option<ByteRange>,
    attempt: u32,
    started: Duration,
    first_byte: Option<Duration>,
    status: Option<u16>,
    total: Option<u64>,
    body: Vec<u8>,
}

/// A request waiting for its retry time.
#[derive(Debug, Clone)]
struct Retry {
    due: Duration,
    purpose: Purpose,
    url: String,
    range: Option<ByteRange>,
    attempt: u32,
}

/// Counters for the app and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamStats {
    /// Quality level of the last main segment fetched.
    pub level: usize,
    /// Its declared bitrate, bits per second.
    pub bitrate: u64,
    /// Throughput estimate, bits per second.
    pub throughput_bps: f64,
    /// Media buffered ahead of the playhead (main slot), seconds.
    pub buffer_secs: f64,
    /// Bytes of segments held.
    pub buffer_bytes: usize,
    /// Quality switches made.
    pub switches: u32,
    /// Downloads abandoned by the emergency rule.
    pub abandoned: u32,
    /// Requests retried.
    pub retries: u32,
    /// Segments skipped (gone on the server, or failing everywhere).
    pub skipped: u32,
    /// Segments fetched.
    pub segments: u32,
}

/// A track the app can choose (quality level or audio language).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackChoice {
    /// Index to select it by.
    pub index: usize,
    /// Manifest id.
    pub id: String,
    /// Bits per second (0 when unknown).
    pub bandwidth: u64,
    /// Picture height (0 for audio).
    pub height: u32,
    /// Language tag (audio, text).
    pub language: Option<String>,
    /// Display name.
    pub name: String,
}

/// The adaptive source of one load. See the module docs.
#[derive(Debug)]
pub struct AdaptiveSource {
    protocol: Protocol,
    manifest_url: String,
    manifest: Vec<u8>,
    presentation: Presentation,
    /// Counts MPD refreshes that replaced the text renditions' lists.
    text_version: u64,
    config: StreamConfig,
    abr: Abr,
    /// Quality levels (the main slot).
    levels: Vec<Media>,
    /// The presentation has neither audio nor video, only text or thumbnail images: it plays
    /// as a timeline over silence, with its text tracks, and fetches no media segment.
    timeline_only: bool,
    /// Alternate audio renditions (the audio slot), when the levels do not carry audio.
    audio: Vec<Media>,
    /// The rendition of `audio` in use.
    audio_sel: Option<usize>,
    /// The tracks the app sees and picks from: indices into `audio` of the first variant's
    /// group (every rendition in DASH). Other groups' renditions of the same track stand in
    /// for them while a level of that group plays.
    audio_user: Vec<usize>,
    /// Quality of the next main segment, and of the last one fetched.
    current: Option<usize>,
    /// The demuxer and store the player's pipelines read.
    pub demux: SegmentDemux,
    /// Segment bytes.
    pub store: SegmentStore,
    inits: HashMap<InitSegment, Vec<u8>>,
    /// HLS AES-128 keys fetched so far.
    keys: KeyCache,
    /// Bodies waiting for their key.
    parked: Vec<Parked>,
    requests: BTreeMap<RequestId, Request>,
    retries: Vec<Retry>,
    /// Segments the player waits for (seek or underrun), per slot.
    urgent: Slots<Option<u64>>,
    /// Segments given up on: (slot, number).
    gone: HashMap<(Slot, u64), u32>,
    playhead_us: i64,
    stats: StreamStats,
    live: bool,
    /// Wall clock: (host time, ms since the epoch) of the last report.
    wall: Option<(Duration, i64)>,
    next_manifest: Option<Duration>,
    started: bool,
    /// Where a live stream starts (µs), decided when the main track's first fetch is made:
    /// what [`AdaptiveSource::start_position`] reports from then on, whatever level lists
    /// are loaded when the pipelines open.
    live_start_us: Option<i64>,
    hold_back_us: i64,
    /// End of the last TS segment per slot (container time), for 33-bit wrap continuity.
    ts_end: Slots<Option<i64>>,
}

fn limit(m: impl Into<String>) -> Error {
    Error::new(ErrorKind::Limit, m)
}

impl Purpose {
    /// The kind the host sees, and whose retry settings apply.
    fn kind(&self) -> RequestKind {
        match self {
            Purpose::Playlist { .. } => RequestKind::Playlist,
            Purpose::Index { .. } => RequestKind::Index,
            Purpose::Init { .. } => RequestKind::Init,
            Purpose::Media { .. } => RequestKind::Segment,
            Purpose::Manifest => RequestKind::Manifest,
            // Its own kind rather than `Init` or `Segment` (a protocol change, ABI 4): request
            // hooks tell key requests apart (a key server's token or cookies, another
            // origin), logs say what was fetched, and the policy has a setting for keys
            // (`RetryPolicy::key`, the playlists' numbers: `net::policy` says why).
            Purpose::Key { .. } => RequestKind::Key,
        }
    }
}

impl AdaptiveSource {
    /// A source for the manifest `bytes` fetched from `url`. `wall_ms` is the wall clock when
    /// the host reported one (needed for live DASH).
    pub fn open(
        protocol: Protocol,
        url: &str,
        bytes: &[u8],
        now: Duration,
        wall_ms: Option<i64>,
        config: StreamConfig,
    ) -> Result<Self, Error> {
        let presentation = match protocol {
            Protocol::Hls => match hls::parse(bytes, url)? {
                hls::Parsed::Multivariant(p) => *p,
                hls::Parsed::Media(list) => hls::presentation_from_media(list),
            },
            Protocol::Dash => dash::parse(bytes, url, wall_ms.unwrap_or(0))?,
        };
        let mut s = AdaptiveSource {
            protocol,
            manifest_url: url.to_string(),
            manifest: bytes.to_vec(),
            text_version: 0,
            abr: Abr::new(config.abr.clone()),
            config,
            levels: Vec::new(),
            audio: Vec::new(),
            audio_sel: None,
            audio_user: Vec::new(),
            current: None,
            demux: SegmentDemux::new(false, None, "hls"),
            store: SegmentStore::new(),
            inits: HashMap::new(),
            keys: KeyCache::default(),
            parked: Vec::new(),
            requests: BTreeMap::new(),
            retries: Vec::new(),
            urgent: Slots::default(),
            gone: HashMap::new(),
            playhead_us: 0,
            stats: StreamStats::default(),
            live: presentation.live,
            wall: wall_ms.map(|w| (now, w)),
            next_manifest: None,
            started: false,
            live_start_us: None,
            ts_end: Slots::default(),
            timeline_only: false,
            hold_back_us: presentation
                .live_info
                .as_ref()
                .map_or(0, |l| l.hold_back_us),
            presentation,
        };
        if protocol == Protocol::Dash && s.live && wall_ms.is_none() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "live DASH needs the host's wall clock (HostEvent::WallClock)",
            ));
        }
        s.build()?;
        Ok(s)
    }

    fn build(&mut self) -> Result<(), Error> {
        let p = &self.presentation;
        let media = |id: &str, bw: u64, h: u32, lang: Option<String>, name: String, m: MediaRef| {
            let list = match &m {
                MediaRef::Segments(l) => Some(l.clone()),
                _ => None,
            };
            let parts = match &m {
                MediaRef::Indexed(v) => v.len(),
                _ => 0,
            };
            Media {
                id: id.to_string(),
                bandwidth: bw,
                height: h,
                language: lang,
                name,
                source: m,
                list,
                parts_left: parts,
                next_reload: None,
                penalty_until: None,
                partial: None,
                group: None,
                track: String::new(),
            }
        };
        for v in &p.variants {
            let mut level = media(
                &v.id,
                v.bandwidth,
                v.height.unwrap_or(0),
                None,
                v.height.map_or_else(|| v.id.clone(), |h| format!("{h}p")),
                v.media.clone(),
            );
            level.group = v.audio_group.clone();
            self.levels.push(level);
        }
        // Alternate audio: the renditions of every group (HLS: each variant plays with its own
        // `AUDIO` group; the first variant's group names the tracks the app sees) and every
        // bitrate of every track (DASH: a set's Representations). The app sees one entry per
        // track of the first group: its bitrate nearest 128 kbit/s (the others stand in as the
        // level asks, see `rendition_for`).
        let group = p.variants.first().and_then(|v| v.audio_group.clone());
        let near = |b: u64| (b as i64 - 128_000).abs();
        let mut shown: Vec<(String, usize)> = Vec::new();
        let mut default_track = None;
        for r in p.audio.iter().filter(|r| r.kind == RenditionKind::Audio) {
            let Some(m) = r.media.clone() else { continue };
            let mut rendition = media(
                &r.id,
                r.bandwidth.unwrap_or(0),
                0,
                r.language.clone(),
                r.name.clone(),
                m,
            );
            rendition.group = r.group.clone();
            rendition.track = r.track.clone();
            let i = self.audio.len();
            let bandwidth = rendition.bandwidth;
            self.audio.push(rendition);
            if group.is_some() && r.group != group {
                continue;
            }
            if r.default && default_track.is_none() {
                default_track = Some(r.track.clone());
            }
            match shown.iter_mut().find(|(t, _)| *t == r.track) {
                Some((_, shown_i)) => {
                    let current = self.audio.get(*shown_i).map_or(0, |m| m.bandwidth);
                    if near(bandwidth) < near(current) {
                        *shown_i = i;
                    }
                }
                None => shown.push((r.track.clone(), i)),
            }
        }
        self.audio_user = shown.iter().map(|&(_, i)| i).collect();
        self.audio_sel = default_track
            .and_then(|t| shown.iter().find(|(track, _)| *track == t).map(|&(_, i)| i));
        if self.levels.is_empty() {
            // Audio-only presentation: the audio renditions are the levels.
            self.levels = std::mem::take(&mut self.audio);
            self.levels.sort_by_key(|m| m.bandwidth);
            self.audio_sel = None;
            self.audio_user.clear();
        } else if self.audio_sel.is_none() {
            self.audio_sel = self.audio_user.first().copied();
        }
        if self.levels.is_empty() {
            if p.text.is_empty() && p.images.is_empty() {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the manifest has no playable stream",
                ));
            }
            // Only text or thumbnails (a captions-only or preview stream): a timeline.
            if self.live || p.duration_us.is_none_or(|d| d <= 0) {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "a presentation with neither audio nor video plays only as video on demand \
                     with a duration",
                ));
            }
            self.timeline_only = true;
            self.demux = SegmentDemux::new(false, None, "dash");
            return Ok(());
        }
        let has_video = !p.variants.is_empty()
            && p.variants.iter().any(|v| {
                v.height.is_some()
                    || v.codecs.is_empty()
                    || v.codecs.iter().any(|c| {
                        ["avc", "hvc", "hev", "vp0", "vp8", "vp9", "av01"]
                            .iter()
                            .any(|pre| c.starts_with(pre))
                    })
            });
        // Muxed audio: HLS variants without an audio group, with an audio codec or no codec
        // list (the TS/fMP4 segments may carry it; the demuxer finds out).
        let audio_slot = if self.audio_sel.is_some() {
            Some(Slot::Audio)
        } else if !has_video {
            Some(Slot::Main)
        } else {
            let v = p.variants.first();
            let declared = v.is_some_and(|v| !v.codecs.is_empty());
            let has_audio_codec = v.is_some_and(|v| {
                v.codecs
                    .iter()
                    .any(|c| c.starts_with("mp4a") || c == "opus" || c == "ac-3" || c == "ec-3")
            });
            (!declared || has_audio_codec).then_some(Slot::Main)
        };
        let container = match self.protocol {
            Protocol::Hls => "hls",
            Protocol::Dash => "dash",
        };
        self.demux = SegmentDemux::new(has_video, audio_slot, container);
        Ok(())
    }

    /// The presentation has neither audio nor video, only text or thumbnail images
    /// ([`AdaptiveSource::thumbnail`]): it plays as a timeline over silence.
    pub fn timeline_only(&self) -> bool {
        self.timeline_only
    }

    /// The thumbnail for `t_us` (presentation time, microseconds) of the image track whose
    /// thumbnails are the widest not wider than `max_width` pixels (the narrowest when all
    /// are wider; the widest when `max_width` is `None`). `None` without image tracks.
    pub fn thumbnail(&self, t_us: i64, max_width: Option<u32>) -> Option<Thumbnail> {
        let width = |t: &ImageTrack| t.width / t.columns.max(1);
        let images = &self.presentation.images;
        let fits = images
            .iter()
            .filter(|t| max_width.is_none_or(|m| width(t) <= m))
            .max_by_key(|t| width(t));
        let track = fits.or_else(|| images.iter().min_by_key(|t| width(t)))?;
        track.thumbnail(t_us)
    }

    /// HLS or DASH.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The presentation's text renditions, the start of each period (microseconds) and
    /// whether it is DASH (cue times relative to the period) — for [`crate::subtitles`].
    pub fn text_renditions(&self) -> (Vec<crate::stream::model::Rendition>, Vec<i64>, bool) {
        let p = &self.presentation;
        (
            p.text.clone(),
            p.periods.iter().map(|x| x.start_us).collect(),
            self.protocol == Protocol::Dash,
        )
    }

    /// The HLS multivariant playlist's variables (`EXT-X-DEFINE`), which its media playlists
    /// may import; `None` for DASH and a media playlist loaded alone.
    pub fn hls_variables(&self) -> Option<&crate::stream::Variables> {
        self.presentation.variables.as_ref()
    }

    /// Changes whenever a live MPD refresh brings new text rendition lists
    /// ([`text_renditions`](Self::text_renditions) then has them).
    pub fn text_version(&self) -> u64 {
        self.text_version
    }

    /// The presentation grows while it plays.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Total duration in seconds (VOD), `None` while live.
    pub fn duration(&self) -> Option<f64> {
        if self.live {
            return None;
        }
        self.demux
            .total_duration()
            .or(self.presentation.duration_us.map(|d| d as f64 / 1e6))
    }

    /// The first segments are parsed: every track has a decoder configuration.
    pub fn ready(&self) -> bool {
        self.demux.ready() && self.demux.range(Slot::Main).1 > self.demux.range(Slot::Main).0
    }

    /// Where playback starts, seconds: 0 for VOD, `hold-back` behind the live edge for live
    /// (the start the first fetch was made for, once made: ABR may have moved to a level whose
    /// list is still loading when the pipelines open, and the start then read 0, the window
    /// start).
    pub fn start_position(&self) -> f64 {
        if !self.live {
            return 0.0;
        }
        if let Some(start) = self.live_start_us {
            return start as f64 / 1e6;
        }
        let list = self
            .current
            .and_then(|l| self.levels.get(l))
            .and_then(|m| m.list.as_ref());
        let Some(list) = list else { return 0.0 };
        list.live_start_index(self.hold_back_us)
            .and_then(|i| list.segments.get(i))
            .map_or(0.0, |s| s.start_us as f64 / 1e6)
    }

    /// The seekable window of a live stream, seconds (DVR window start, live edge).
    pub fn live_window(&self) -> Option<(f64, f64)> {
        if !self.live {
            return None;
        }
        let (first, end) = self.demux.range(Slot::Main);
        let a = self.demux.entry(Slot::Main, first)?;
        let b = self.demux.entry(Slot::Main, end.checked_sub(1)?)?;
        Some((
            a.start_us as f64 / 1e6,
            (b.start_us + b.duration_us) as f64 / 1e6,
        ))
    }

    /// The live point, seconds: hold-back behind the live edge (where a live stream starts,
    /// before snapping to a segment start, and the latest position a seek goes to).
    pub fn live_point(&self) -> Option<f64> {
        let (start, edge) = self.live_window()?;
        Some((edge - self.hold_back_us as f64 / 1e6).max(start))
    }

    /// The host's wall clock (ms since the epoch) at host time `now`.
    pub fn set_wall_clock(&mut self, now: Duration, unix_ms: i64) {
        self.wall = Some((now, unix_ms));
    }

    fn wall_ms(&self, now: Duration) -> i64 {
        self.wall
            .map_or(0, |(at, ms)| ms + now.saturating_sub(at).as_millis() as i64)
    }

    /// Where the player is, microseconds (drives budgets and eviction).
    pub fn set_playhead(&mut self, us: i64) {
        self.playhead_us = us;
    }

    /// The player repositions to `target_us`: media requests for segments other than the one
    /// there and the next are cancelled.
    pub fn seek(&mut self, target_us: i64, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        self.playhead_us = target_us;
        self.urgent = Slots::default();
        let keep = Slots::from_fn(|slot| self.demux.number_at(slot, target_us));
        self.cancel_where(
            |p| match *p {
                // The segment at the target and the one after it are needed next anyway.
                Purpose::Media { slot, number, .. } => {
                    keep[slot].is_none_or(|k| number != k && number != k + 1)
                }
                _ => false,
            },
            net,
            out,
        );
        self.retries
            .retain(|r| !matches!(r.purpose, Purpose::Media { .. }));
        self.demux.rewind();
    }

    /// A demuxer answered `NeedBytes(at)`: if `at` names a segment, fetch it first. Returns
    /// false when `at` is not one of ours.
    pub fn on_need(&mut self, at: u64) -> bool {
        let Some((slot, number)) = parse_need_tag(at) else {
            return false;
        };
        self.urgent[slot] = Some(number);
        true
    }

    /// Counters for the app.
    pub fn stats(&self) -> StreamStats {
        let mut s = self.stats;
        s.throughput_bps = self.abr.estimate_bps();
        s.buffer_secs = self.buffered_secs(Slot::Main);
        s.buffer_bytes = self.store.bytes();
        s
    }

    /// Issues what is due: lists, live reloads, retries, the next segment of each slot.
    pub fn poll(
        &mut self,
        now: Duration,
        load: &LoadControl,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        self.check_timeouts(now, net, out)?;
        self.check_emergency(now, net, out);
        // Retries that are due.
        let due: Vec<Retry> = {
            let (due, wait): (Vec<Retry>, Vec<Retry>) =
                self.retries.drain(..).partition(|r| r.due <= now);
            self.retries = wait;
            due
        };
        for r in due {
            self.stats.retries += 1;
            self.send(now, net, r.purpose, r.url, r.range, r.attempt, out);
        }
        self.want_parked_keys(now, net, out);
        if self.current.is_none() {
            let levels: Vec<Level> = self.levels.iter().map(Media::level).collect();
            self.current = Some(self.abr.choose(&levels, None, 0.0, 4.0));
        }
        // DASH live: refresh the MPD (or just re-evaluate it with the later clock).
        if self.protocol == Protocol::Dash && self.live {
            self.refresh_dash(now, net, out)?;
        }
        for slot in Slot::ALL {
            self.ensure_list(now, slot, net, out);
        }
        self.evict();
        for slot in Slot::ALL {
            self.fetch_next(now, slot, load, net, out)?;
        }
        Ok(())
    }
}
