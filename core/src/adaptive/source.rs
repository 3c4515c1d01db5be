//! The adaptive source of one HLS or DASH load: resolves media playlists and segment indexes,
//! decides which segment of which quality to fetch next (forward budgets in seconds and bytes,
//! eviction behind the playhead), asks [`Abr`] for the quality, retries failed requests with
//! exponential backoff and jitter, fails over to another quality, skips segments the server
//! says are gone (404/410), abandons downloads that will not finish in time, and reloads live
//! playlists when they are due. It only *asks* for bytes, through the [`RequestService`] as
//! [`Owner::Adaptive`] (ids, timeouts, and the retry waits of the `Manifest`, `Playlist`,
//! `Index`, `Init` and `Segment` settings of its policy, the starving rule included); parsed
//! segments go to the [`SegmentDemux`] the player's pipelines read.
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

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::abr::{Abr, AbrConfig, Download, Level};
use super::failover::{self, ErrorAction, Failed, Failure, Switch};
use super::segments::{
    parse_need_tag, parse_segment, GridEntry, SegmentDemux, SegmentStore, AUDIO, MAIN, SLOTS,
};
use crate::demux::DemuxError;
use crate::error::{Error, ErrorKind};
use crate::host::{ByteRange, FetchErrorKind, HostCommand, RequestId, RequestKind};
use crate::net::{Owner, RequestService};
use crate::stream::model::{
    InitSegment, MediaRef, Presentation, RenditionKind, Segment, SegmentList,
};
use crate::stream::{dash, hls, sidx};

/// Budgets of an adaptive source (retries and timeouts are the request service's
/// [`RetryPolicy`](crate::net::RetryPolicy)).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConfig {
    /// Media fetched ahead of the playhead, seconds.
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
        slot: usize,
        index: usize,
    },
    Index {
        slot: usize,
        index: usize,
        part: usize,
    },
    Init {
        init: InitSegment,
    },
    Media {
        slot: usize,
        number: u64,
        level: usize,
    },
    Manifest,
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
    /// Quality levels (slot MAIN).
    levels: Vec<Media>,
    /// Alternate audio renditions (slot AUDIO), when the levels do not carry audio.
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
    requests: BTreeMap<RequestId, Request>,
    retries: Vec<Retry>,
    /// Segments the player waits for (seek or underrun), per slot.
    urgent: [Option<u64>; SLOTS],
    /// Segments given up on: (slot, number).
    gone: HashMap<(usize, u64), u32>,
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
    ts_end: [Option<i64>; SLOTS],
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
            requests: BTreeMap::new(),
            retries: Vec::new(),
            urgent: [None; SLOTS],
            gone: HashMap::new(),
            playhead_us: 0,
            stats: StreamStats::default(),
            live: presentation.live,
            wall: wall_ms.map(|w| (now, w)),
            next_manifest: None,
            started: false,
            live_start_us: None,
            ts_end: [None; SLOTS],
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
            return Err(Error::new(
                ErrorKind::Unsupported,
                "the manifest has no playable stream",
            ));
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
            Some(AUDIO)
        } else if !has_video {
            Some(MAIN)
        } else {
            let v = p.variants.first();
            let declared = v.is_some_and(|v| !v.codecs.is_empty());
            let has_audio_codec = v.is_some_and(|v| {
                v.codecs
                    .iter()
                    .any(|c| c.starts_with("mp4a") || c == "opus" || c == "ac-3" || c == "ec-3")
            });
            (!declared || has_audio_codec).then_some(MAIN)
        };
        let container = match self.protocol {
            Protocol::Hls => "hls",
            Protocol::Dash => "dash",
        };
        self.demux = SegmentDemux::new(has_video, audio_slot, container);
        Ok(())
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
        self.demux.ready() && self.demux.range(MAIN).1 > self.demux.range(MAIN).0
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
        let (first, end) = self.demux.range(MAIN);
        let a = self.demux.entry(MAIN, first)?;
        let b = self.demux.entry(MAIN, end.checked_sub(1)?)?;
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
        self.urgent = [None; SLOTS];
        let keep: Vec<Option<u64>> = (0..SLOTS)
            .map(|slot| self.demux.number_at(slot, target_us))
            .collect();
        self.cancel_where(
            |p| match *p {
                // The segment at the target and the one after it are needed next anyway.
                Purpose::Media { slot, number, .. } => keep
                    .get(slot)
                    .copied()
                    .flatten()
                    .is_none_or(|k| number != k && number != k + 1),
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
        if let Some(u) = self.urgent.get_mut(slot) {
            *u = Some(number);
        }
        true
    }

    /// Counters for the app.
    pub fn stats(&self) -> StreamStats {
        let mut s = self.stats;
        s.throughput_bps = self.abr.estimate_bps();
        s.buffer_secs = self.buffered_secs(MAIN);
        s.buffer_bytes = self.store.bytes();
        s
    }

    /// The quality levels, lowest first.
    pub fn qualities(&self) -> Vec<TrackChoice> {
        choices(&self.levels)
    }

    /// The alternate audio tracks (empty when the levels carry audio).
    pub fn audio_tracks(&self) -> Vec<TrackChoice> {
        let user: Vec<&Media> = self
            .audio_user
            .iter()
            .filter_map(|&i| self.audio.get(i))
            .collect();
        choices(user)
    }

    /// The audio track in use (an index of [`audio_tracks`](Self::audio_tracks)).
    pub fn audio_track(&self) -> Option<usize> {
        let sel = self.audio_sel?;
        self.audio_user.iter().position(|&u| u == sel).or_else(|| {
            let r = self.audio.get(sel)?;
            self.audio_user
                .iter()
                .position(|&u| self.audio.get(u).is_some_and(|m| same_track(m, r)))
        })
    }

    /// The level of the main segment playing at `us`: parsed, in flight, else the level the
    /// next main segment will have (a manual choice first).
    fn main_level_at(&self, us: i64) -> Option<usize> {
        let n = self.demux.number_at(MAIN, us);
        n.and_then(|n| {
            self.demux.level_of(MAIN, n).or_else(|| {
                self.requests.values().find_map(|r| match r.purpose {
                    Purpose::Media {
                        slot: MAIN,
                        number,
                        level,
                    } if number == n => Some(level),
                    _ => None,
                })
            })
        })
        .or(self.abr.manual())
        .or(self.current)
    }

    /// The rendition (of `audio`) to play instead of `rendition` with `level`'s `AUDIO`
    /// group: the same track in it (by name and language, then language), else `rendition`
    /// itself.
    fn rendition_in_group(&self, rendition: usize, level: Option<usize>) -> usize {
        let Some(r) = self.audio.get(rendition) else {
            return rendition;
        };
        let Some(group) = level
            .and_then(|l| self.levels.get(l))
            .and_then(|l| l.group.as_ref())
        else {
            return rendition;
        };
        if r.group.as_ref() == Some(group) {
            return rendition;
        }
        let in_group = |m: &&Media| m.group.as_ref() == Some(group);
        let by = |f: &dyn Fn(&Media) -> bool| {
            self.audio
                .iter()
                .enumerate()
                .filter(|(_, m)| in_group(m))
                .find(|(_, m)| f(m))
                .map(|(i, _)| i)
        };
        by(&|m| m.name == r.name && m.language == r.language)
            .or_else(|| by(&|m| m.language.is_some() && m.language == r.language))
            .unwrap_or(rendition)
    }

    /// The rendition of `rendition`'s track to play with `level`: the same track in the
    /// level's `AUDIO` group (HLS), then, when the track has several bitrates (DASH), the
    /// one at the level's place in the ladder (lowest level → lowest bitrate, highest →
    /// highest, proportionally between; with a single level, no bitrate change).
    fn rendition_for(&self, rendition: usize, level: Option<usize>) -> usize {
        let pick = self.rendition_in_group(rendition, level);
        let (Some(r), Some(level)) = (self.audio.get(pick), level) else {
            return pick;
        };
        let mut same: Vec<usize> = (0..self.audio.len())
            .filter(|&i| {
                self.audio
                    .get(i)
                    .is_some_and(|m| m.track == r.track && m.group == r.group)
            })
            .collect();
        // One video level: nothing to follow, the track's shown bitrate (nearest 128 kbit/s).
        if same.len() < 2 || self.levels.len() < 2 {
            return pick;
        }
        same.sort_by_key(|&i| self.audio.get(i).map_or(0, |m| m.bandwidth));
        let top = self.levels.len().saturating_sub(1).max(1);
        let k = (level.min(top) * (same.len() - 1) + top / 2) / top;
        same.get(k).copied().unwrap_or(pick)
    }

    /// A manual quality (`Some`) or automatic selection (`None`). A manual choice takes effect
    /// within a segment or two: main segments buffered beyond the next one are dropped and
    /// fetched again at the chosen quality (and HLS alternate audio from another `AUDIO`
    /// group than the level's, from its group).
    pub fn select_quality(&mut self, level: Option<usize>) {
        let level = level.filter(|&l| l < self.levels.len());
        self.abr.set_manual(level);
        let Some(level) = level else { return };
        let Some(here) = self.demux.number_at(MAIN, self.playhead_us) else {
            return;
        };
        for n in self.demux.parsed_numbers(MAIN) {
            if n > here + 1 && self.demux.level_of(MAIN, n) != Some(level) {
                self.demux.evict(&mut self.store, MAIN, n);
            }
        }
        // Alternate audio buffered ahead in another rendition than the chosen level plays
        // with (another HLS `AUDIO` group, another bitrate of the track) goes too.
        if let Some(here) = self.demux.number_at(AUDIO, self.playhead_us) {
            for n in self.demux.parsed_numbers(AUDIO) {
                let other = self
                    .demux
                    .level_of(AUDIO, n)
                    .is_some_and(|r| self.rendition_for(r, Some(level)) != r);
                if n > here + 1 && other {
                    self.demux.evict(&mut self.store, AUDIO, n);
                }
            }
        }
    }

    /// The quality chosen by hand, if any.
    pub fn manual_quality(&self) -> Option<usize> {
        self.abr.manual()
    }

    /// Caps automatic choices by the display's height in pixels.
    pub fn set_max_height(&mut self, height: Option<u32>) {
        self.abr.set_max_height(height);
    }

    /// Switches the audio track. Returns true when it changed: the player then repositions
    /// audio at the playhead (the audio slot's segments are dropped here).
    pub fn select_audio(
        &mut self,
        index: usize,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> bool {
        let Some(&user) = self.audio_user.get(index) else {
            return false;
        };
        let rendition = self.rendition_for(user, self.abr.manual().or(self.current));
        if self.audio_sel == Some(rendition) {
            return false;
        }
        self.audio_sel = Some(rendition);
        self.cancel_where(
            |p| {
                matches!(
                    p,
                    Purpose::Media { slot: AUDIO, .. } | Purpose::Playlist { slot: AUDIO, .. }
                )
            },
            net,
            out,
        );
        for n in self.demux.parsed_numbers(AUDIO) {
            self.demux.evict(&mut self.store, AUDIO, n);
        }
        self.demux.reset_slot_config(AUDIO);
        self.sync_grid(AUDIO);
        true
    }

    /// Cancels the requests under way whose purpose matches `pred`.
    fn cancel_where(
        &mut self,
        pred: impl Fn(&Purpose) -> bool,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let ids: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| pred(&r.purpose))
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.requests.remove(&id);
            net.cancel(id, out);
        }
    }

    /// Cancels everything (unload).
    pub fn cancel_all(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        for id in std::mem::take(&mut self.requests).into_keys() {
            net.cancel(id, out);
        }
        self.retries.clear();
    }

    /// The next moment something is due (retry, live reload, timeout).
    pub fn deadline(&self, net: &RequestService) -> Option<Duration> {
        let mut at: Option<Duration> = None;
        let mut take = |d: Duration| at = Some(at.map_or(d, |a| a.min(d)));
        for r in &self.retries {
            take(r.due);
        }
        for m in self.levels.iter().chain(&self.audio) {
            if let Some(d) = m.next_reload {
                take(d);
            }
        }
        if let Some(d) = self.next_manifest {
            take(d);
        }
        for &id in self.requests.keys() {
            if let Some(d) = net.deadline(id) {
                take(d);
            }
        }
        at
    }

    /// Media buffered contiguously ahead of the playhead in `slot`, seconds.
    pub fn buffered_secs(&self, slot: usize) -> f64 {
        let Some(mut n) = self.demux.number_at(slot, self.playhead_us) else {
            return 0.0;
        };
        let mut end = None;
        while self.demux.has(slot, n) {
            end = self
                .demux
                .entry(slot, n)
                .map(|e| e.start_us + e.duration_us);
            n += 1;
        }
        end.map_or(0.0, |e| ((e - self.playhead_us) as f64 / 1e6).max(0.0))
    }

    fn slot_media(&self, slot: usize) -> Option<(usize, &Media)> {
        if slot == MAIN {
            let l = self.current?;
            Some((l, self.levels.get(l)?))
        } else {
            let a = self.audio_sel?;
            Some((a, self.audio.get(a)?))
        }
    }

    /// Rebuilds `slot`'s grid from the list of the media in use.
    fn sync_grid(&mut self, slot: usize) {
        let Some((_, m)) = self.slot_media(slot) else {
            return;
        };
        let Some(list) = m.list.as_ref() else {
            return;
        };
        let first = list
            .segments
            .first()
            .map_or(list.media_sequence, |s| s.number);
        let grid: Vec<GridEntry> = list
            .segments
            .iter()
            .map(|s| GridEntry {
                start_us: s.start_us,
                duration_us: s.duration_us,
                discontinuity: s.discontinuity,
            })
            .collect();
        // Numbers must be consecutive for the grid; a list with holes keeps its order.
        let complete = list.end_list;
        self.demux.set_grid(slot, first, grid, complete);
    }

    #[allow(clippy::too_many_arguments)] // private: the parameters are the request's fields
    fn send(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        purpose: Purpose,
        url: String,
        range: Option<ByteRange>,
        attempt: u32,
        out: &mut Vec<HostCommand>,
    ) {
        let id = net.fetch(
            now,
            Owner::Adaptive,
            purpose.kind(),
            url.clone(),
            range,
            out,
        );
        self.requests.insert(
            id,
            Request {
                purpose,
                url,
                range,
                attempt,
                started: now,
                first_byte: None,
                status: None,
                total: None,
                body: Vec::new(),
            },
        );
    }

    fn busy(&self, pred: impl Fn(&Purpose) -> bool) -> bool {
        self.requests.values().any(|r| pred(&r.purpose))
            || self.retries.iter().any(|r| pred(&r.purpose))
    }

    /// Issues what is due: lists, live reloads, retries, the next segment of each slot.
    pub fn poll(
        &mut self,
        now: Duration,
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
        if self.current.is_none() {
            let levels: Vec<Level> = self.levels.iter().map(Media::level).collect();
            self.current = Some(self.abr.choose(&levels, None, 0.0, 4.0));
        }
        // DASH live: refresh the MPD (or just re-evaluate it with the later clock).
        if self.protocol == Protocol::Dash && self.live {
            self.refresh_dash(now, net, out)?;
        }
        for slot in 0..SLOTS {
            self.ensure_list(now, slot, net, out);
        }
        self.evict();
        for slot in 0..SLOTS {
            self.fetch_next(now, slot, net, out)?;
        }
        Ok(())
    }

    fn refresh_dash(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let period = self
            .presentation
            .live_info
            .as_ref()
            .and_then(|l| l.refresh_us)
            .map_or(Duration::from_secs(2), |us| {
                Duration::from_micros(us.clamp(500_000, 60_000_000) as u64)
            });
        match self.next_manifest {
            None => self.next_manifest = Some(now + period),
            Some(at) if at <= now && !self.busy(|p| *p == Purpose::Manifest) => {
                self.next_manifest = Some(now + period);
                let refetch = self
                    .presentation
                    .live_info
                    .as_ref()
                    .is_some_and(|l| l.refresh_us.is_some());
                if refetch {
                    let url = self.manifest_url.clone();
                    self.send(now, net, Purpose::Manifest, url, None, 0, out);
                } else {
                    let bytes = std::mem::take(&mut self.manifest);
                    let r = self.apply_dash(&bytes, now);
                    self.manifest = bytes;
                    r?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A refreshed MPD: take the new segment lists of the media in use.
    fn apply_dash(&mut self, bytes: &[u8], now: Duration) -> Result<(), Error> {
        let p = dash::parse(bytes, &self.manifest_url, self.wall_ms(now))?;
        let lists = |ms: &[crate::stream::model::Variant]| -> Vec<(String, SegmentList)> {
            ms.iter()
                .filter_map(|v| match &v.media {
                    MediaRef::Segments(l) => Some((v.id.clone(), l.clone())),
                    _ => None,
                })
                .collect()
        };
        let fresh = lists(&p.variants);
        let fresh_audio: Vec<(String, SegmentList)> = p
            .audio
            .iter()
            .filter_map(|r| match &r.media {
                Some(MediaRef::Segments(l)) => Some((r.id.clone(), l.clone())),
                _ => None,
            })
            .collect();
        for m in self.levels.iter_mut().chain(self.audio.iter_mut()) {
            if let Some((_, l)) = fresh.iter().chain(&fresh_audio).find(|(id, _)| *id == m.id) {
                m.list = Some(l.clone());
            }
        }
        self.live = p.live;
        self.presentation.live_info = p.live_info.clone();
        if p.text != self.presentation.text {
            self.presentation.text = p.text.clone();
            self.text_version += 1;
        }
        self.manifest = bytes.to_vec();
        for slot in 0..SLOTS {
            self.sync_grid(slot);
        }
        Ok(())
    }

    /// Makes sure the media in use for `slot` has its segment list (fetching the playlist or
    /// the sidx), and reloads live playlists when due.
    fn ensure_list(
        &mut self,
        now: Duration,
        slot: usize,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let index = match slot {
            MAIN => self.current,
            _ => self.audio_sel,
        };
        let Some(index) = index else { return };
        let Some(m) = (if slot == MAIN {
            self.levels.get(index)
        } else {
            self.audio.get(index)
        }) else {
            return;
        };
        let busy = self.busy(|p| {
            matches!(p, Purpose::Playlist { slot: s, index: i } | Purpose::Index { slot: s, index: i, .. } if *s == slot && *i == index)
        });
        if busy {
            return;
        }
        let reload_due = m.next_reload.is_some_and(|d| d <= now);
        match (&m.source, m.list.is_some()) {
            // First load, or a live reload that is due.
            (MediaRef::Playlist { url }, loaded) if !loaded || reload_due => {
                let url = url.clone();
                self.send(
                    now,
                    net,
                    Purpose::Playlist { slot, index },
                    url,
                    None,
                    0,
                    out,
                );
            }
            (MediaRef::Indexed(parts), false) => {
                let part = parts.len().saturating_sub(m.parts_left);
                if let Some(p) = parts.get(part) {
                    let (url, range) = (p.url.clone(), Some(p.index_range.to_range()));
                    self.send(
                        now,
                        net,
                        Purpose::Index { slot, index, part },
                        url,
                        range,
                        0,
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    /// Drops segments behind the playhead beyond the back budget, and the oldest ones while
    /// over the byte budget.
    fn evict(&mut self) {
        let back = self.playhead_us - (self.config.back_secs * 1e6) as i64;
        for slot in 0..SLOTS {
            for n in self.demux.parsed_numbers(slot) {
                let end = self
                    .demux
                    .entry(slot, n)
                    .map_or(i64::MIN, |e| e.start_us + e.duration_us);
                if end < back {
                    self.demux.evict(&mut self.store, slot, n);
                }
            }
        }
        // Over the byte budget: behind the playhead first, then the far end of the buffer.
        while self.store.bytes() > self.config.buffer_bytes {
            let mut victim = None;
            for slot in 0..SLOTS {
                let here = self.demux.number_at(slot, self.playhead_us);
                for n in self.demux.parsed_numbers(slot) {
                    if here.is_some_and(|h| n < h) {
                        victim = Some((slot, n));
                        break;
                    }
                }
            }
            if victim.is_none() {
                victim = (0..SLOTS)
                    .filter_map(|s| self.demux.parsed_numbers(s).last().map(|&n| (s, n)))
                    .filter(|&(s, n)| self.demux.number_at(s, self.playhead_us) != Some(n))
                    .max_by_key(|&(_, n)| n);
            }
            match victim {
                Some((s, n)) => self.demux.evict(&mut self.store, s, n),
                None => break,
            }
        }
    }

    /// Fetches the next segment `slot` needs, if budgets allow and nothing is under way.
    fn fetch_next(
        &mut self,
        now: Duration,
        slot: usize,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        if self.slot_media(slot).is_none_or(|(_, m)| m.list.is_none()) {
            return Ok(());
        }
        if self.demux.range(slot).1 == self.demux.range(slot).0 {
            self.sync_grid(slot);
        }
        if !self.started {
            if self.live && slot != MAIN {
                // Live: where playback starts is the main track's decision (hold-back behind
                // its edge). A second track (alternate audio) whose list arrives first waits
                // for it, or it would fetch the window start and pin the start there.
                return Ok(());
            }
            if self.live {
                let start = (self.start_position() * 1e6) as i64;
                self.playhead_us = start;
                self.live_start_us = Some(start);
            }
            self.started = true;
        }
        let urgent = self.urgent.get(slot).copied().flatten();
        // A request for a segment the player no longer waits for gives way to the urgent one.
        if let Some(u) = urgent {
            if self.demux.has(slot, u) || self.gone.contains_key(&(slot, u)) {
                if let Some(x) = self.urgent.get_mut(slot) {
                    *x = None;
                }
            } else {
                self.cancel_where(
                    |p| matches!(*p, Purpose::Media { slot: s, number, .. } if s == slot && number != u),
                    net,
                    out,
                );
            }
        }
        if self.busy(|p| matches!(p, Purpose::Media { slot: s, .. } if *s == slot)) {
            return Ok(());
        }
        let (first, end) = self.demux.range(slot);
        let Some(here) = self.demux.number_at(slot, self.playhead_us) else {
            return Ok(());
        };
        let mut n = urgent.unwrap_or(here).max(first);
        while n < end && (self.demux.has(slot, n) || self.gone.contains_key(&(slot, n))) {
            n += 1;
        }
        if n >= end {
            return Ok(());
        }
        let Some(entry) = self.demux.entry(slot, n) else {
            return Ok(());
        };
        let ahead_s = (entry.start_us - self.playhead_us) as f64 / 1e6;
        if urgent.is_none()
            && (ahead_s > self.config.forward_secs
                || self.store.bytes() >= self.config.buffer_bytes)
        {
            return Ok(());
        }
        // While the main track downloads a segment, a second track (alternate audio) waits
        // rather than run more than half a segment past that segment's start: on a shared
        // link its extra segments would slow the one playback waits for (startup on a slow
        // link: ~960 → ~700 ms at 1.5 Mbit/s in the sim). Anchored on the segment in flight,
        // not the playhead, so a live start (hold-back behind the edge) is respected. The main
        // track never waits for it. A segment the audio pipeline asks for (it decodes ahead)
        // waits too: playback cannot pass the video segment in flight before it arrives, so
        // only the one under the playhead is urgent (after a 3 s outage on a 0.7 Mbit/s link
        // the next audio segment shared the link with the video segment playback waited for,
        // resuming after 1.81 s instead of 1.5 s in the sim).
        let urgent_now = urgent.is_some_and(|u| {
            self.demux
                .entry(slot, u)
                .is_some_and(|e| e.start_us <= self.playhead_us)
        });
        if slot != MAIN && !urgent_now {
            let in_flight = self
                .requests
                .values()
                .filter_map(|r| match r.purpose {
                    Purpose::Media {
                        slot: MAIN, number, ..
                    } => self.demux.entry(MAIN, number),
                    _ => None,
                })
                .map(|e| e.start_us + e.duration_us / 2)
                .min();
            if in_flight.is_some_and(|limit| entry.start_us > limit) {
                return Ok(());
            }
        }
        let level = if slot == MAIN {
            let levels: Vec<Level> = self.levels.iter().map(Media::level).collect();
            let buffer = self.buffered_secs(MAIN);
            let mut pick = self.abr.choose(
                &levels,
                self.current,
                buffer,
                entry.duration_us as f64 / 1e6,
            );
            // A level that failed recently is skipped (failover), unless it is chosen by hand.
            while pick > 0
                && self.abr.manual().is_none()
                && self
                    .levels
                    .get(pick)
                    .and_then(|m| m.penalty_until)
                    .is_some_and(|t| t > now)
            {
                pick -= 1;
            }
            if Some(pick) != self.current {
                // The new level's list must be loaded before its segments can be fetched.
                let had = self.current;
                self.current = Some(pick);
                if self.levels.get(pick).is_some_and(|m| m.list.is_none()) {
                    self.ensure_list(now, MAIN, net, out);
                    return Ok(());
                }
                if had.is_some() {
                    self.stats.switches += 1;
                }
            }
            pick
        } else {
            // HLS: each level plays with its own `AUDIO` group: the same track from the group
            // of the main segment at this time (the demuxer keeps each segment's decoder
            // configuration; the audio pipeline reconfigures at the boundary). Its list is
            // loaded first.
            let sel = self.audio_sel.unwrap_or(0);
            let want = self.rendition_for(sel, self.main_level_at(entry.start_us));
            if want != sel {
                self.audio_sel = Some(want);
                if self.audio.get(want).is_some_and(|m| m.list.is_none()) {
                    self.ensure_list(now, AUDIO, net, out);
                    return Ok(());
                }
            }
            want
        };
        self.request_segment(now, slot, n, level, 0, net, out)
    }

    /// The segment of `level`'s list that matches grid entry `n` of `slot`.
    fn segment_for(
        &self,
        slot: usize,
        n: u64,
        level: usize,
    ) -> Option<(Segment, Option<InitSegment>)> {
        let media = if slot == MAIN {
            self.levels.get(level)?
        } else {
            self.audio.get(level)?
        };
        let list = media.list.as_ref()?;
        let entry = self.demux.entry(slot, n)?;
        let by_number = list
            .segments
            .binary_search_by_key(&n, |s| s.number)
            .ok()
            .and_then(|i| list.segments.get(i))
            .filter(|s| (s.start_us - entry.start_us).abs() < entry.duration_us / 2 + 1);
        let seg = match by_number {
            Some(s) => s,
            None => list
                .segment_at(entry.start_us + entry.duration_us / 2)
                .and_then(|i| list.segments.get(i))?,
        };
        Some((seg.clone(), list.init_of(seg).cloned()))
    }

    #[allow(clippy::too_many_arguments)]
    fn request_segment(
        &mut self,
        now: Duration,
        slot: usize,
        n: u64,
        level: usize,
        attempt: u32,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let Some((seg, init)) = self.segment_for(slot, n, level) else {
            return Ok(());
        };
        if seg.encrypted {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "encrypted segments (EXT-X-KEY / ContentProtection) are not supported",
            ));
        }
        if seg.gap {
            self.skip(slot, n);
            return Ok(());
        }
        if let Some(init) = init {
            if !self.inits.contains_key(&init) {
                if !self.busy(|p| matches!(p, Purpose::Init { init: i } if *i == init)) {
                    let (url, range) = (init.url.clone(), init.range.map(|r| r.to_range()));
                    self.send(now, net, Purpose::Init { init }, url, range, 0, out);
                }
                return Ok(());
            }
        }
        let range = seg.range.map(|r| r.to_range());
        self.send(
            now,
            net,
            Purpose::Media {
                slot,
                number: n,
                level,
            },
            seg.url,
            range,
            attempt,
            out,
        );
        Ok(())
    }

    /// Gives up on segment `n` of `slot`: playback moves past it.
    fn skip(&mut self, slot: usize, n: u64) {
        self.stats.skipped += 1;
        *self.gone.entry((slot, n)).or_insert(0) += 1;
        self.demux.insert_empty(slot, n);
    }

    fn check_timeouts(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let late: Vec<RequestId> = self
            .requests
            .keys()
            .copied()
            .filter(|&id| net.timed_out(id, now))
            .collect();
        for id in late {
            net.cancel(id, out);
            self.failed(now, net, id, false, "timed out")?;
        }
        Ok(())
    }

    /// The emergency rule on the main segment under way.
    fn check_emergency(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let levels: Vec<Level> = self.levels.iter().map(Media::level).collect();
        let buffer = self.buffered_secs(MAIN);
        let found = self.requests.iter().find_map(|(&id, r)| match r.purpose {
            Purpose::Media {
                slot: MAIN,
                number,
                level,
            } => Some((
                id,
                number,
                level,
                r.body.len() as u64,
                r.total,
                r.first_byte.unwrap_or(r.started),
            )),
            _ => None,
        });
        let Some((id, number, level, got, total, since)) = found else {
            return;
        };
        let seg_s = self
            .demux
            .entry(MAIN, number)
            .map_or(2.0, |e| e.duration_us as f64 / 1e6);
        let elapsed = now.saturating_sub(since).as_secs_f64();
        let download = Download {
            level,
            received: got,
            total,
            elapsed_s: elapsed,
            segment_s: seg_s,
        };
        if let Some(lower) = self.abr.abandon(&levels, &download, buffer) {
            self.abr.on_progress_stall(got, elapsed);
            self.requests.remove(&id);
            net.cancel(id, out);
            self.stats.abandoned += 1;
            self.current = Some(lower);
            if self.levels.get(lower).is_some_and(|m| m.list.is_some()) {
                self.stats.switches += 1;
                let _ = self.request_segment(now, MAIN, number, lower, 0, net, out);
            }
        }
    }

    /// Response headers arrived.
    pub fn on_response(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        id: RequestId,
        status: u16,
        content_length: Option<u64>,
    ) -> Result<(), Error> {
        let Some(r) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        r.status = Some(status);
        r.first_byte = Some(now);
        r.total = content_length;
        if (200..300).contains(&status) {
            // The server answers again (after an outage, say): retries waiting out their
            // backoff go now instead of up to `retry_max` later.
            for retry in &mut self.retries {
                retry.due = retry.due.min(now);
            }
        }
        if let Some(len) = content_length {
            if len as usize > super::segments::MAX_SEGMENT_BYTES {
                self.requests.remove(&id);
                net.forget(id);
                return Err(limit(format!(
                    "a response of {len} bytes is over the limit"
                )));
            }
        }
        Ok(())
    }

    /// Body bytes arrived.
    pub fn on_data(
        &mut self,
        net: &mut RequestService,
        id: RequestId,
        data: &[u8],
    ) -> Result<(), Error> {
        let Some(r) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        if r.body.len() + data.len() > super::segments::MAX_SEGMENT_BYTES {
            self.requests.remove(&id);
            net.forget(id);
            return Err(limit("a segment or manifest is over the size limit"));
        }
        r.body.extend_from_slice(data);
        Ok(())
    }

    /// The transfer failed: retry, fail over, skip or give up.
    pub fn on_failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        _kind: FetchErrorKind,
        message: &str,
    ) -> Result<(), Error> {
        self.failed(now, net, id, false, message)
    }

    fn failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        gone: bool,
        why: &str,
    ) -> Result<(), Error> {
        let Some(r) = self.requests.remove(&id) else {
            return Ok(());
        };
        // A segment the buffer is about to run out without (or already has) is *starving*:
        // the `Segment` settings then retry every retry_base within the same give-up time
        // (net::policy has the measurements).
        let starving =
            matches!(r.purpose, Purpose::Media { slot, .. } if self.buffered_secs(slot) < 2.0);
        let failure = Failure {
            what: failed(&r.purpose),
            gone,
            attempt: r.attempt,
            retry: net.retry_delay(Owner::Adaptive, r.purpose.kind(), r.attempt, id.0, starving),
            url: &r.url,
            why,
        };
        let action = failover::decide(&failure, &self.penalties(), now);
        self.act(now, action, r)
    }

    /// When each main-slot level may be used again (`None`: now).
    fn penalties(&self) -> Vec<Option<Duration>> {
        self.levels.iter().map(|m| m.penalty_until).collect()
    }

    /// Carries out what [`failover`] decided about the failed request `r`.
    fn act(&mut self, now: Duration, action: ErrorAction, r: Request) -> Result<(), Error> {
        match action {
            ErrorAction::Retry(delay) => {
                self.retries.push(Retry {
                    due: now + delay,
                    purpose: r.purpose,
                    url: r.url,
                    range: r.range,
                    attempt: r.attempt + 1,
                });
                Ok(())
            }
            ErrorAction::FailOver {
                level,
                penalty,
                to,
                switch,
            } => {
                if let Some(m) = self.levels.get_mut(level) {
                    m.penalty_until = Some(now + penalty);
                }
                if switch == Switch::Always || self.current == Some(level) {
                    self.current = Some(to);
                }
                Ok(())
            }
            ErrorAction::Skip { slot, number } => {
                self.skip(slot, number);
                Ok(())
            }
            ErrorAction::Fatal(e) => Err(e),
        }
    }

    /// The transfer completed.
    pub fn on_end(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
    ) -> Result<(), Error> {
        let Some(status) = self.requests.get(&id).map(|r| r.status.unwrap_or(0)) else {
            return Ok(());
        };
        if status == 404 || status == 410 {
            return self.failed(now, net, id, true, &format!("HTTP {status}"));
        }
        if (400..500).contains(&status) && status != 408 && status != 429 {
            let Some(r) = self.requests.remove(&id) else {
                return Ok(());
            };
            let action =
                failover::refused(failed(&r.purpose), status, &r.url, &self.penalties(), now);
            return self.act(now, action, r);
        }
        if !(200..300).contains(&status) {
            return self.failed(now, net, id, false, &format!("HTTP {status}"));
        }
        let Some(r) = self.requests.remove(&id) else {
            return Ok(());
        };
        let first = r.first_byte.unwrap_or(r.started);
        match r.purpose {
            Purpose::Manifest => self.apply_dash(&r.body, now),
            Purpose::Playlist { slot, index } => self.on_playlist(now, slot, index, &r.body),
            Purpose::Index { slot, index, part } => self.on_index(slot, index, part, &r.body),
            Purpose::Init { init } => {
                self.inits.insert(init, r.body);
                Ok(())
            }
            Purpose::Media {
                slot,
                number,
                level,
            } => {
                self.abr.on_download(
                    r.body.len() as u64,
                    now.saturating_sub(first).as_secs_f64(),
                    first.saturating_sub(r.started).as_secs_f64(),
                );
                self.on_segment(slot, number, level, r.body)
            }
        }
    }

    fn on_playlist(
        &mut self,
        now: Duration,
        slot: usize,
        index: usize,
        body: &[u8],
    ) -> Result<(), Error> {
        let url = {
            let m = if slot == MAIN {
                self.levels.get(index)
            } else {
                self.audio.get(index)
            };
            match m.map(|m| &m.source) {
                Some(MediaRef::Playlist { url }) => url.clone(),
                _ => return Ok(()),
            }
        };
        let list = match hls::parse(body, &url)? {
            hls::Parsed::Media(l) => l,
            hls::Parsed::Multivariant(_) => {
                return Err(Error::new(
                    ErrorKind::Decode,
                    format!("{url}: a multivariant playlist where a media playlist was expected"),
                ))
            }
        };
        let Some(m) = self.media_mut(slot, index) else {
            return Ok(());
        };
        let prev = m.list.take();
        let merged = match &prev {
            Some(old) => old.merge(list)?,
            None if !list.end_list && self.anchor_on_main(slot, &list) => list,
            None if !list.end_list => self.align_live(slot, index, list)?,
            None => list,
        };
        let Some(m) = self.media_mut(slot, index) else {
            return Ok(());
        };
        m.next_reload = hls::reload_interval(prev.as_ref(), &merged).map(|d| now + d);
        let (end_list, hold_back) = (merged.end_list, hls::hold_back_us(&merged));
        m.list = Some(merged);
        if !end_list {
            self.live = true;
            self.hold_back_us = hold_back;
        } else if slot == MAIN && self.current == Some(index) {
            // VOD, or a live stream that ended (EXT-X-ENDLIST appeared).
            self.live = false;
        }
        self.list_changed(slot, index);
        Ok(())
    }

    /// The first video list of a live stream keeps its own times when only alternate audio
    /// lists came in before it (nothing is fetched until it is in): the audio lists move onto
    /// it instead. Placed on the audio's timeline, the presentation began where the audio
    /// window did, and the video window (and `seekable`, and a seek to the window start) could
    /// start at −2 s. Returns whether `list` is such a list.
    fn anchor_on_main(&mut self, slot: usize, list: &SegmentList) -> bool {
        if slot != MAIN || self.started || self.levels.iter().any(|m| m.list.is_some()) {
            return false;
        }
        let Some(shift) = self
            .audio
            .iter()
            .find_map(|m| m.list.as_ref().and_then(|a| pdt_shift(a, list)))
        else {
            return false;
        };
        for m in &mut self.audio {
            for seg in m.list.iter_mut().flat_map(|l| l.segments.iter_mut()) {
                seg.start_us = seg.start_us.saturating_sub(shift);
            }
        }
        if self.audio_sel.is_some() {
            self.sync_grid(AUDIO);
        }
        true
    }

    /// The first list of a live level or rendition, put on the timeline of the lists already
    /// loaded (each live playlist counts its times from its own first segment): by
    /// `EXT-X-PROGRAM-DATE-TIME` when both lists have it, else (same slot) by media sequence
    /// number, as [`SegmentList::merge`] does for a reload. Without this, a quality switch
    /// on a live stream jumps by the difference of the two windows.
    fn align_live(
        &self,
        slot: usize,
        index: usize,
        mut list: SegmentList,
    ) -> Result<SegmentList, Error> {
        let (same, other) = if slot == MAIN {
            (&self.levels, &self.audio)
        } else {
            (&self.audio, &self.levels)
        };
        let loaded = |ms: &[Media]| -> Option<SegmentList> {
            ms.iter()
                .enumerate()
                .filter(|&(i, _)| ms.as_ptr() != same.as_ptr() || i != index)
                .find_map(|(_, m)| m.list.clone())
        };
        let near = loaded(same);
        let far = loaded(other);
        for reference in [&near, &far].into_iter().flatten() {
            if let Some(shift) = pdt_shift(reference, &list) {
                for seg in &mut list.segments {
                    seg.start_us = seg.start_us.saturating_add(shift);
                }
                return Ok(list);
            }
        }
        match near {
            Some(reference) => reference.merge(list),
            None => Ok(list),
        }
    }

    /// The list of `index` in `slot` changed: rebuild the grid if that media is in use.
    fn list_changed(&mut self, slot: usize, index: usize) {
        let in_use = match slot {
            MAIN => self.current == Some(index),
            _ => self.audio_sel == Some(index),
        };
        if in_use {
            self.sync_grid(slot);
        }
    }

    fn media_mut(&mut self, slot: usize, index: usize) -> Option<&mut Media> {
        if slot == MAIN {
            self.levels.get_mut(index)
        } else {
            self.audio.get_mut(index)
        }
    }

    fn on_index(
        &mut self,
        slot: usize,
        index: usize,
        part: usize,
        body: &[u8],
    ) -> Result<(), Error> {
        let Some(m) = self.media_mut(slot, index) else {
            return Ok(());
        };
        let MediaRef::Indexed(parts) = &m.source else {
            return Ok(());
        };
        let Some(p) = parts.get(part) else {
            return Ok(());
        };
        let list = sidx::parse(body, p)?;
        match m.partial.as_mut() {
            Some(l) => l.append(list)?,
            None => m.partial = Some(list),
        }
        m.parts_left = m.parts_left.saturating_sub(1);
        if m.parts_left == 0 {
            // Every part is in: the list becomes visible.
            m.list = m.partial.take();
            self.list_changed(slot, index);
        }
        Ok(())
    }

    fn on_segment(
        &mut self,
        slot: usize,
        number: u64,
        level: usize,
        body: Vec<u8>,
    ) -> Result<(), Error> {
        let init = self
            .segment_for(slot, number, level)
            .and_then(|(_, i)| i)
            .and_then(|i| self.inits.get(&i).cloned())
            .unwrap_or_default();
        let prev = self.ts_end.get(slot).copied().flatten();
        match parse_segment(&init, &body, prev) {
            Ok((seg, end)) => {
                if let Some(e) = self.ts_end.get_mut(slot) {
                    *e = end.or(*e);
                }
                self.stats.segments += 1;
                if slot == MAIN {
                    self.stats.level = level;
                    self.stats.bitrate = self.levels.get(level).map_or(0, |m| m.bandwidth);
                }
                self.demux
                    .insert(&mut self.store, slot, number, level, seg)
                    .map_err(Error::from)
            }
            Err(DemuxError::Unsupported(m)) => Err(Error::new(ErrorKind::Unsupported, m)),
            Err(_) => {
                // A broken segment: move past it rather than stop.
                self.skip(slot, number);
                Ok(())
            }
        }
    }
}

/// How far to move `list`'s times so that its wall-clock times (`EXT-X-PROGRAM-DATE-TIME`)
/// fall where `reference` has them; `None` when either list has none.
fn pdt_shift(reference: &SegmentList, list: &SegmentList) -> Option<i64> {
    let n = list
        .segments
        .iter()
        .find(|s| s.program_date_time_ms.is_some())?;
    let n_ms = n.program_date_time_ms?;
    // The reference segment closest to it in wall-clock time.
    let r = reference
        .segments
        .iter()
        .filter_map(|s| s.program_date_time_ms.map(|ms| (s, ms)))
        .min_by_key(|&(_, ms)| (ms - n_ms).unsigned_abs())?;
    let at =
        r.0.start_us
            .saturating_add((n_ms - r.1).saturating_mul(1000));
    Some(at.saturating_sub(n.start_us))
}

/// The same track in two audio groups or bitrates: one track key, or the same name and
/// language.
/// What a request was for, as the failover decision sees it.
fn failed(purpose: &Purpose) -> Failed {
    match *purpose {
        Purpose::Media {
            slot,
            number,
            level,
        } => Failed::Segment {
            slot,
            number,
            level,
        },
        Purpose::Playlist { slot, index } | Purpose::Index { slot, index, .. } => {
            Failed::LevelList { slot, index }
        }
        Purpose::Init { .. } | Purpose::Manifest => Failed::Other,
    }
}

fn same_track(a: &Media, b: &Media) -> bool {
    a.track == b.track || (a.name == b.name && a.language == b.language)
}

fn choices<'a>(media: impl IntoIterator<Item = &'a Media>) -> Vec<TrackChoice> {
    media
        .into_iter()
        .enumerate()
        .map(|(index, m)| TrackChoice {
            index,
            id: m.id.clone(),
            bandwidth: m.bandwidth,
            height: m.height,
            language: m.language.clone(),
            name: m.name.clone(),
        })
        .collect()
}
