//! The demuxer face of an adaptive stream: fetched segments are parsed into sample tables
//! ([`SegmentDemux`], which implements [`Demux`]) and their bytes kept in a budgeted
//! [`SegmentStore`] (which implements [`ByteSource`]), so the video pipeline and the platform
//! audio feeder read an HLS/DASH stream exactly as they read a progressive file.
//!
//! Addresses: a segment's bytes live at `seq << 32` in the store's address space (`seq` is a
//! store-local counter), so [`Sample::offset`] stays a plain `u64`. A read of a segment that
//! is not fetched answers [`DemuxError::NeedBytes`] with a *request tag*
//! ([`need_tag`]/[`parse_need_tag`]) naming the slot and segment number: the adaptive source
//! fetches that segment first.
//!
//! Times: each [`Slot`] (main = video or muxed A/V, and a separate audio rendition) has a grid of
//! segment numbers with the manifest's start times. The first parsed segment of each
//! discontinuity fixes the offset between container timestamps and presentation time
//! (`first pts − segment start`), shared by both slots so audio and video stay aligned (TS
//! starts at 1.4 s or anywhere in the 33-bit range; fMP4 `tfdt` may not start at 0). The
//! main rendition's times are the presentation's: an audio segment that opens a
//! discontinuity sets a provisional offset (counted from where the main grid has the
//! discontinuity begin), and the main rendition's first segment of it corrects the offset
//! and moves the audio already parsed.
//! Samples that repeat what an earlier segment already gave (overlapping segments after a
//! quality switch) are skipped by decode time.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

pub use super::slot::{need_tag, parse_need_tag, Slot, Slots};
use crate::demux::{ts, ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind};

/// Largest segment accepted (bytes).
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024 * 1024;

/// One entry of a slot's segment grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridEntry {
    /// Presentation start, microseconds.
    pub start_us: i64,
    /// Duration, microseconds.
    pub duration_us: i64,
    /// Discontinuity sequence: container timestamps may restart when it changes.
    pub discontinuity: u64,
}

/// What a segment held once parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSegment {
    /// Tracks found (video and/or audio), with decoder configurations.
    pub tracks: Vec<TrackInfo>,
    /// Samples per track of `tracks`, decode order, offsets into `data`.
    pub samples: Vec<Vec<Sample>>,
    /// The bytes samples point into.
    pub data: Vec<u8>,
}

/// Fills durations the container left at 0 (WebM blocks without a default duration, the last
/// frame of a TS segment) from the next sample's time, the last from the one before it.
fn fill_durations(samples: &mut [Sample]) {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    order.sort_by_key(|&i| samples.get(i).map_or(0, |s| s.pts_us));
    let mut last = 0;
    for w in 0..order.len() {
        let (Some(&i), next) = (order.get(w), order.get(w + 1)) else {
            continue;
        };
        let next_pts = next.and_then(|&n| samples.get(n)).map(|s| s.pts_us);
        if let Some(s) = samples.get_mut(i) {
            if s.duration_us <= 0 {
                s.duration_us = next_pts.map_or(last, |p| (p - s.pts_us).max(0));
            }
            last = s.duration_us;
        }
    }
}

/// True when `data` starts like an MPEG transport stream (sync bytes 188 apart).
pub fn looks_like_ts(data: &[u8]) -> bool {
    data.first() == Some(&0x47) && data.get(188).is_none_or(|&b| b == 0x47)
}

/// Parses one media segment: MPEG-TS on its own, or fMP4 / WebM after its initialization
/// segment. `ts_prev_end_us` is the previous TS segment's end (33-bit wrap continuity); the
/// second value returned is this one's, for the next call.
pub fn parse_segment(
    init: &[u8],
    media: &[u8],
    ts_prev_end_us: Option<i64>,
) -> Result<(ParsedSegment, Option<i64>), DemuxError> {
    if init.len() + media.len() > MAX_SEGMENT_BYTES {
        return Err(DemuxError::Invalid("segment too large".into()));
    }
    if looks_like_ts(media) {
        let seg = ts::demux_segment_after(media, &ts::TsLimits::default(), ts_prev_end_us)?;
        let mut data = Vec::with_capacity(media.len());
        let mut samples = vec![Vec::new(); seg.tracks.len()];
        for s in seg.samples {
            let offset = data.len() as u64;
            data.extend_from_slice(&s.data);
            if let Some(list) = samples.get_mut(s.track) {
                list.push(Sample {
                    pts_us: s.pts_us,
                    dts_us: s.dts_us,
                    duration_us: s.duration_us,
                    offset,
                    size: s.data.len() as u32,
                    key: s.key,
                });
            }
        }
        for list in &mut samples {
            fill_durations(list);
        }
        return Ok((
            ParsedSegment {
                tracks: seg.tracks,
                samples,
                data,
            },
            seg.end_us,
        ));
    }
    let mut data = Vec::with_capacity(init.len() + media.len());
    data.extend_from_slice(init);
    data.extend_from_slice(media);
    let mut src: &[u8] = &data;
    let mut demux = crate::demux::open(&mut src)?;
    let tracks: Vec<TrackInfo> = demux.tracks().to_vec();
    let mut samples = Vec::with_capacity(tracks.len());
    for (t, info) in tracks.iter().enumerate() {
        let mut list = Vec::new();
        if info.kind.is_some() || info.codec == crate::demux::mp4::WVTT {
            let mut cursor = Cursor::default();
            loop {
                match demux.next_sample(&mut src, t, &mut cursor) {
                    Ok(Some(s)) => {
                        if list.len() >= crate::demux::MAX_SAMPLES {
                            return Err(DemuxError::Invalid("too many samples".into()));
                        }
                        list.push(s);
                    }
                    Ok(None) => break,
                    Err(DemuxError::NeedBytes(_)) => {
                        return Err(DemuxError::Invalid("truncated segment".into()))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        fill_durations(&mut list);
        samples.push(list);
    }
    Ok((
        ParsedSegment {
            tracks,
            samples,
            data,
        },
        None,
    ))
}

/// Sample tables of a parsed segment, placed in the store.
#[derive(Debug, Clone)]
struct Tables {
    /// Per kind (video, audio): the track's info and its samples (offsets already global).
    video: Option<(TrackInfo, Vec<Sample>)>,
    audio: Option<(TrackInfo, Vec<Sample>)>,
    /// Store address of the bytes.
    base: u64,
    /// Quality level it was fetched at.
    level: usize,
    bytes: usize,
}

/// What the demuxer holds for one slot: its grid and parsed segments.
#[derive(Debug, Default)]
struct SlotState {
    /// Number of the first grid entry.
    first: u64,
    grid: VecDeque<GridEntry>,
    /// No more entries will be added (VOD, or a live stream that ended).
    complete: bool,
    parsed: BTreeMap<u64, Tables>,
}

impl SlotState {
    fn entry(&self, number: u64) -> Option<&GridEntry> {
        let i = number.checked_sub(self.first)?;
        self.grid.get(usize::try_from(i).ok()?)
    }

    fn end(&self) -> u64 {
        self.first + self.grid.len() as u64
    }

    /// Start of discontinuity `d` in this grid: the first entry of `d` that follows an entry
    /// of another discontinuity (`None` when the boundary is not in the grid).
    fn discontinuity_start(&self, d: u64) -> Option<i64> {
        let i = self.grid.iter().position(|e| e.discontinuity == d)?;
        let prev = self.grid.get(i.checked_sub(1)?)?;
        let e = self.grid.get(i)?;
        (prev.discontinuity != d).then_some(e.start_us)
    }

    /// The entry whose interval holds `t_us` (the first one before the grid, the last after).
    fn number_at(&self, t_us: i64) -> Option<u64> {
        if self.grid.is_empty() {
            return None;
        }
        let i = self
            .grid
            .partition_point(|e| e.start_us + e.duration_us <= t_us);
        Some(self.first + i.min(self.grid.len() - 1) as u64)
    }
}

/// Where each demuxer track comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TrackSource {
    slot: Slot,
    kind: TrackKind,
}

/// The adaptive stream as a [`Demux`]: tracks `[video?, audio?]`, cursors by segment number.
#[derive(Debug)]
pub struct SegmentDemux {
    slots: Slots<SlotState>,
    sources: Vec<TrackSource>,
    tracks: Vec<TrackInfo>,
    /// Offset (container time − presentation time) per discontinuity, microseconds.
    offsets: HashMap<u64, i64>,
    /// Discontinuities whose offset an audio segment set before the main rendition's first.
    provisional: HashSet<u64>,
    /// Last decode time handed out per track, to skip overlaps after switches.
    last_dts: Vec<Option<i64>>,
    container: &'static str,
}

impl SegmentDemux {
    /// A demuxer with a video track from the main slot when `video`, and an audio track from
    /// slot `audio` when given (the main slot for muxed audio, the audio slot for a separate
    /// rendition).
    pub fn new(video: bool, audio: Option<Slot>, container: &'static str) -> Self {
        let mut sources = Vec::new();
        if video {
            sources.push(TrackSource {
                slot: Slot::Main,
                kind: TrackKind::Video,
            });
        }
        if let Some(slot) = audio {
            sources.push(TrackSource {
                slot,
                kind: TrackKind::Audio,
            });
        }
        let tracks = sources
            .iter()
            .map(|s| TrackInfo {
                kind: Some(s.kind),
                ..TrackInfo::default()
            })
            .collect();
        SegmentDemux {
            slots: Default::default(),
            last_dts: vec![None; sources.len()],
            sources,
            tracks,
            offsets: HashMap::new(),
            provisional: HashSet::new(),
            container,
        }
    }

    /// Replaces the grid of `slot` from segment number `first` on (a new playlist, or a live
    /// refresh: entries already known keep their tables). `complete`: no entries will follow.
    pub fn set_grid(&mut self, slot: Slot, first: u64, grid: Vec<GridEntry>, complete: bool) {
        let s = &mut self.slots[slot];
        s.first = first;
        s.grid = grid.into();
        s.complete = complete;
        let end = s.end();
        s.parsed.retain(|&n, _| n >= first && n < end);
    }

    /// Container time minus presentation time of discontinuity `discontinuity`, microseconds,
    /// once its first segment has been parsed (subtitles map their cues with it).
    pub fn timestamp_offset(&self, discontinuity: u64) -> Option<i64> {
        self.offsets.get(&discontinuity).copied()
    }

    /// Where `entry` of `slot` starts on the main rendition's timeline. The main playlist's
    /// times are the presentation's; an audio playlist's drift from them by its rounding (AAC
    /// segments of 2.005333 s against 2 s of video add up to 75 ms over 30 s), so when an
    /// audio segment is the first of a discontinuity to arrive, its start is counted from
    /// where the main grid has that discontinuity begin, when both grids hold the boundary.
    /// Otherwise (or for the main slot) the entry's own start.
    fn main_start(&self, slot: Slot, entry: &GridEntry) -> i64 {
        if slot == Slot::Main {
            return entry.start_us;
        }
        let d = entry.discontinuity;
        let (main, own) = (&self.slots[Slot::Main], &self.slots[slot]);
        match (main.discontinuity_start(d), own.discontinuity_start(d)) {
            (Some(m), Some(o)) => entry.start_us - o + m,
            _ => entry.start_us,
        }
    }

    /// Makes `delta` part of discontinuity `d`'s offset: samples already parsed for it in the
    /// other slots move by it (so they stay in step with the main rendition).
    fn rebase(&mut self, d: u64, delta: i64) {
        self.provisional.remove(&d);
        if let Some(o) = self.offsets.get_mut(&d) {
            *o += delta;
        }
        if delta == 0 {
            return;
        }
        for slot in Slot::ALL.into_iter().filter(|&s| s != Slot::Main) {
            let state = &mut self.slots[slot];
            let first = state.first;
            let in_d = |n: u64| {
                let i = n.checked_sub(first).and_then(|i| usize::try_from(i).ok());
                i.and_then(|i| state.grid.get(i))
                    .is_some_and(|e| e.discontinuity == d)
            };
            let numbers: Vec<u64> = state.parsed.keys().copied().filter(|&n| in_d(n)).collect();
            for n in numbers {
                let Some(t) = state.parsed.get_mut(&n) else {
                    continue;
                };
                for track in [&mut t.video, &mut t.audio].into_iter().flatten() {
                    for s in track.1.iter_mut() {
                        s.pts_us -= delta;
                        s.dts_us -= delta;
                    }
                }
            }
        }
    }

    /// Grid entry `number` of `slot`.
    pub fn entry(&self, slot: Slot, number: u64) -> Option<GridEntry> {
        self.slots[slot].entry(number).copied()
    }

    /// First and one-past-last segment numbers of `slot`.
    pub fn range(&self, slot: Slot) -> (u64, u64) {
        let s = &self.slots[slot];
        (s.first, s.end())
    }

    /// True when no segments will be added to `slot`.
    pub fn complete(&self, slot: Slot) -> bool {
        self.slots[slot].complete
    }

    /// The segment of `slot` holding presentation time `t_us`.
    pub fn number_at(&self, slot: Slot, t_us: i64) -> Option<u64> {
        self.slots[slot].number_at(t_us)
    }

    /// Is segment `number` of `slot` parsed?
    pub fn has(&self, slot: Slot, number: u64) -> bool {
        self.slots[slot].parsed.contains_key(&number)
    }

    /// The quality level segment `number` of `slot` was fetched at.
    pub fn level_of(&self, slot: Slot, number: u64) -> Option<usize> {
        Some(self.slots[slot].parsed.get(&number)?.level)
    }

    /// Bytes held for `slot`.
    pub fn bytes(&self, slot: Slot) -> usize {
        self.slots[slot].parsed.values().map(|t| t.bytes).sum()
    }

    /// Parsed segment numbers of `slot`.
    pub fn parsed_numbers(&self, slot: Slot) -> Vec<u64> {
        self.slots[slot].parsed.keys().copied().collect()
    }

    /// Total presentation duration of the main slot (when complete), seconds.
    pub fn total_duration(&self) -> Option<f64> {
        let s = &self.slots[Slot::Main];
        if !s.complete {
            return None;
        }
        let last = s.grid.back()?;
        Some((last.start_us + last.duration_us) as f64 / 1e6)
    }

    /// Adds a parsed segment: its samples are rebased to presentation time, its bytes go to
    /// `store`.
    pub fn insert(
        &mut self,
        store: &mut SegmentStore,
        slot: Slot,
        number: u64,
        level: usize,
        seg: ParsedSegment,
    ) -> Result<(), DemuxError> {
        let Some(entry) = self.slots[slot].entry(number).copied() else {
            return Ok(());
        };
        let find = |kind: TrackKind| {
            seg.tracks
                .iter()
                .position(|t| t.kind == Some(kind))
                .map(|i| {
                    (
                        seg.tracks[i].clone(),
                        seg.samples.get(i).cloned().unwrap_or_default(),
                    )
                })
        };
        let mut video = if slot == Slot::Main {
            find(TrackKind::Video)
        } else {
            None
        };
        let mut audio = find(TrackKind::Audio);
        if video.is_none() && audio.is_none() {
            return Err(DemuxError::Invalid("segment without audio or video".into()));
        }
        // Timestamp offset of this discontinuity: the earliest presentation in the segment
        // against the manifest's start time.
        let first_pts = video
            .as_ref()
            .or(audio.as_ref())
            .and_then(|(_, s)| s.iter().map(|s| s.pts_us).min());
        let d = entry.discontinuity;
        let offset = match (self.offsets.get(&d), first_pts) {
            (Some(&o), Some(p)) if slot == Slot::Main && self.provisional.contains(&d) => {
                // The main rendition's first segment of a discontinuity an audio segment
                // opened: its times are the presentation's (an audio track's first sample
                // may start 20 ms off the video's), so move that audio to them.
                let main = p - entry.start_us;
                self.rebase(d, main - o);
                main
            }
            (Some(&o), _) => o,
            (None, Some(p)) => {
                let o = p - self.main_start(slot, &entry);
                self.offsets.insert(d, o);
                if slot != Slot::Main {
                    self.provisional.insert(d);
                }
                o
            }
            (None, None) => 0,
        };
        let base = store.put(seg.data);
        for track in [&mut video, &mut audio].into_iter().flatten() {
            for s in track.1.iter_mut() {
                s.pts_us -= offset;
                s.dts_us -= offset;
                s.offset = s.offset.saturating_add(base);
            }
        }
        // The demuxer's track list takes the first configuration seen.
        for (i, src) in self.sources.iter().enumerate() {
            if src.slot != slot {
                continue;
            }
            let got = match src.kind {
                TrackKind::Video => video.as_ref(),
                TrackKind::Audio => audio.as_ref(),
            };
            if let (Some((info, _)), Some(t)) = (got, self.tracks.get_mut(i)) {
                if t.codec.is_empty() {
                    *t = info.clone();
                }
            }
        }
        // A track expected from this slot that its segments do not carry (muxed audio the
        // manifest did not declare): drop it, the stream plays without it.
        let first_of_slot = self.slots[slot].parsed.is_empty();
        if first_of_slot {
            let mut i = 0;
            while i < self.sources.len() {
                let missing = self.sources[i].slot == slot
                    && self.tracks.get(i).is_some_and(|t| t.codec.is_empty());
                if missing {
                    self.sources.remove(i);
                    self.tracks.remove(i);
                    self.last_dts.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        let bytes = store.len_at(base);
        self.slots[slot].parsed.insert(
            number,
            Tables {
                video,
                audio,
                base,
                level,
                bytes,
            },
        );
        Ok(())
    }

    /// Marks segment `number` of `slot` as played-through without samples (gone on the server,
    /// broken, or an HLS gap): readers move on to the next one.
    pub fn insert_empty(&mut self, slot: Slot, number: u64) {
        self.slots[slot].parsed.insert(
            number,
            Tables {
                video: None,
                audio: None,
                base: 0,
                level: 0,
                bytes: 0,
            },
        );
    }

    /// Forgets the decoder configuration learnt from `slot` (a new audio track follows), so
    /// [`SegmentDemux::ready`] waits for its first segment again.
    pub fn reset_slot_config(&mut self, slot: Slot) {
        for (i, src) in self.sources.iter().enumerate() {
            if src.slot == slot {
                if let Some(t) = self.tracks.get_mut(i) {
                    t.codec.clear();
                }
                if let Some(d) = self.last_dts.get_mut(i) {
                    *d = None;
                }
            }
        }
    }

    /// Drops segment `number` of `slot` (and its bytes).
    pub fn evict(&mut self, store: &mut SegmentStore, slot: Slot, number: u64) {
        if let Some(t) = self.slots[slot].parsed.remove(&number) {
            store.remove(t.base);
        }
    }

    /// True when every track has a configuration (a first segment of each slot parsed).
    pub fn ready(&self) -> bool {
        self.tracks.iter().all(|t| !t.codec.is_empty())
    }

    /// The decoder configuration segment `number` carries for `track`: it differs from the
    /// track's first one after a quality switch.
    pub fn config_at(&self, track: usize, number: u64) -> Option<&TrackInfo> {
        let src = self.sources.get(track)?;
        let t = self.slots[src.slot].parsed.get(&number)?;
        match src.kind {
            TrackKind::Video => t.video.as_ref().map(|v| &v.0),
            TrackKind::Audio => t.audio.as_ref().map(|a| &a.0),
        }
    }

    /// Forgets the decode-time history (after a seek, so earlier samples play again).
    pub fn rewind(&mut self) {
        for d in &mut self.last_dts {
            *d = None;
        }
    }

    fn samples(&self, track: usize, number: u64) -> Result<Option<&[Sample]>, DemuxError> {
        let Some(src) = self.sources.get(track) else {
            return Ok(None);
        };
        let state = &self.slots[src.slot];
        if number >= state.end() {
            if state.complete {
                return Ok(None);
            }
            // Live: the segment is not in the playlist yet.
            return Err(DemuxError::NeedBytes(need_tag(src.slot, number)));
        }
        let Some(t) = state.parsed.get(&number) else {
            return Err(DemuxError::NeedBytes(need_tag(src.slot, number)));
        };
        let list = match src.kind {
            TrackKind::Video => t.video.as_ref(),
            TrackKind::Audio => t.audio.as_ref(),
        };
        Ok(Some(list.map_or(&[][..], |l| l.1.as_slice())))
    }
}

impl Demux for SegmentDemux {
    fn container(&self) -> &'static str {
        self.container
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn duration(&self) -> Option<f64> {
        self.total_duration()
    }

    fn fragmented(&self) -> bool {
        true
    }

    fn sample_config(&self, track: usize, segment: usize) -> Option<&TrackInfo> {
        self.config_at(track, segment as u64)
    }

    fn next_sample(
        &mut self,
        _src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        let Some(slot) = self.sources.get(track).map(|s| s.slot) else {
            return Ok(None);
        };
        let mut c = *cursor;
        let mut number = (c.segment as u64).max(self.range(slot).0);
        if number != c.segment as u64 {
            c.index = 0;
        }
        loop {
            let Some(list) = self.samples(track, number)? else {
                return Ok(None);
            };
            match list.get(c.index) {
                Some(&s) => {
                    c.index += 1;
                    let last = self.last_dts.get(track).copied().flatten();
                    if last.is_some_and(|l| s.dts_us <= l) {
                        continue;
                    }
                    if let Some(l) = self.last_dts.get_mut(track) {
                        *l = Some(s.dts_us);
                    }
                    c.segment = number as usize;
                    *cursor = c;
                    return Ok(Some(s));
                }
                None => {
                    number += 1;
                    c.index = 0;
                    c.segment = number as usize;
                }
            }
        }
    }

    fn seek(
        &mut self,
        _src: &mut dyn ByteSource,
        track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        let Some(slot) = self.sources.get(track).map(|s| s.slot) else {
            return Ok(Cursor::default());
        };
        let Some(number) = self.number_at(slot, time_us) else {
            return Err(DemuxError::NeedBytes(need_tag(slot, 0)));
        };
        let list = self.samples(track, number)?.unwrap_or(&[]);
        // The last keyframe at or before the target (segments start with one).
        let mut index = 0;
        for (i, s) in list.iter().enumerate() {
            if s.pts_us > time_us {
                break;
            }
            if s.key {
                index = i;
            }
        }
        if let Some(l) = self.last_dts.get_mut(track) {
            *l = None;
        }
        Ok(Cursor {
            segment: number as usize,
            index,
        })
    }
}

/// The bytes of parsed segments, addressed `seq << 32`.
#[derive(Debug, Default)]
pub struct SegmentStore {
    next: u64,
    data: BTreeMap<u64, Vec<u8>>,
    bytes: usize,
}

impl SegmentStore {
    /// An empty store.
    pub fn new() -> Self {
        SegmentStore::default()
    }

    /// Stores one segment's bytes; returns its address.
    pub fn put(&mut self, data: Vec<u8>) -> u64 {
        self.next = (self.next + 1) & 0x7fff_ffff;
        let base = self.next << 32;
        self.bytes += data.len();
        self.data.insert(base, data);
        base
    }

    /// Length of the bytes at `base`.
    pub fn len_at(&self, base: u64) -> usize {
        self.data.get(&base).map_or(0, Vec::len)
    }

    /// Forgets the bytes at `base`.
    pub fn remove(&mut self, base: u64) {
        if let Some(d) = self.data.remove(&base) {
            self.bytes -= d.len();
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl ByteSource for SegmentStore {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        let base = offset & !0xffff_ffff;
        let Some(d) = self.data.get(&base) else {
            return Err(DemuxError::NeedBytes(offset));
        };
        let at = (offset - base) as usize;
        let Some(src) = d.get(at..) else {
            return Ok(0);
        };
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn len(&self) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pts: i64, dts: i64, key: bool, offset: u64) -> Sample {
        Sample {
            pts_us: pts,
            dts_us: dts,
            duration_us: 1000,
            offset,
            size: 4,
            key,
        }
    }

    fn seg(first_pts: i64) -> ParsedSegment {
        let samples = (0..4)
            .map(|i| {
                sample(
                    first_pts + i * 1000,
                    first_pts + i * 1000,
                    i == 0,
                    i as u64 * 4,
                )
            })
            .collect();
        ParsedSegment {
            tracks: vec![TrackInfo {
                kind: Some(TrackKind::Video),
                codec: "avc1.42e01e".into(),
                ..TrackInfo::default()
            }],
            samples: vec![samples],
            data: (0..16u8).collect(),
        }
    }

    fn grid(starts: &[(i64, u64)]) -> Vec<GridEntry> {
        starts
            .iter()
            .map(|&(start_us, discontinuity)| GridEntry {
                start_us,
                duration_us: 2000,
                discontinuity,
            })
            .collect()
    }

    #[test]
    fn an_audio_segment_first_in_a_discontinuity_is_placed_on_the_main_timeline() {
        let mut d = SegmentDemux::new(true, Some(Slot::Audio), "hls");
        let mut store = SegmentStore::new();
        // Audio segments are a little longer: the audio list's discontinuity 1 starts 11 µs
        // later than the video list's.
        d.set_grid(Slot::Main, 0, grid(&[(0, 0), (2000, 0), (4000, 1)]), true);
        d.set_grid(Slot::Audio, 0, grid(&[(0, 0), (2005, 0), (4011, 1)]), true);
        // The audio track starts 20 µs before the video in the media.
        let mut audio = seg(89_980);
        audio.tracks[0].kind = Some(TrackKind::Audio);
        audio.tracks[0].codec = "mp4a.40.2".into();
        d.insert(&mut store, Slot::Audio, 2, 0, audio).unwrap();
        // Until the video is in: media time 89.98 ms is where the main list has
        // discontinuity 1 begin.
        assert_eq!(d.timestamp_offset(1), Some(89_980 - 4000));
        // The video's first picture fixes it; the audio parsed before moves with it.
        d.insert(&mut store, Slot::Main, 2, 0, seg(90_000)).unwrap();
        assert_eq!(d.timestamp_offset(1), Some(90_000 - 4000));
        let mut none: &[u8] = &[];
        for track in 0..2 {
            let mut cur = Cursor {
                segment: 2,
                index: 0,
            };
            let first = d.next_sample(&mut none, track, &mut cur).unwrap().unwrap();
            assert_eq!(first.pts_us, [4000, 3980][track], "track {track}");
        }
    }

    #[test]
    fn samples_follow_segments_rebased_to_presentation_time() {
        let mut d = SegmentDemux::new(true, None, "hls");
        let mut store = SegmentStore::new();
        let grid = (0..3)
            .map(|i| GridEntry {
                start_us: i * 4000,
                duration_us: 4000,
                discontinuity: 0,
            })
            .collect();
        d.set_grid(Slot::Main, 10, grid, true);
        assert!(!d.ready());
        let mut none: &[u8] = &[];
        let mut c = d.seek(&mut none, 0, 0).map(|_| ()).unwrap_err();
        assert_eq!(c, DemuxError::NeedBytes(need_tag(Slot::Main, 10)));
        // Container time starts at 1.4 s: presentation time starts at 0.
        d.insert(&mut store, Slot::Main, 10, 0, seg(1_400_000))
            .unwrap();
        d.insert(&mut store, Slot::Main, 11, 0, seg(1_404_000))
            .unwrap();
        assert!(d.ready());
        let mut cur = d.seek(&mut none, 0, 5000).unwrap();
        assert_eq!(
            cur,
            Cursor {
                segment: 11,
                index: 0
            }
        );
        let mut seen = Vec::new();
        loop {
            match d.next_sample(&mut none, 0, &mut cur) {
                Ok(Some(s)) => {
                    let mut b = [0u8; 4];
                    assert_eq!(store.read_at(s.offset, &mut b).unwrap(), 4);
                    seen.push((s.pts_us, b[0]));
                }
                Ok(None) => break,
                Err(e) => {
                    c = e;
                    break;
                }
            }
        }
        assert_eq!(seen, vec![(4000, 0), (5000, 4), (6000, 8), (7000, 12)]);
        assert_eq!(c, DemuxError::NeedBytes(need_tag(Slot::Main, 12)));
        // Overlap after a switch: a segment repeating decode times is skipped up to new ones.
        let mut overlap = seg(1_406_000);
        overlap.tracks[0].codec = "avc1.64001f".into();
        d.insert(&mut store, Slot::Main, 12, 1, overlap).unwrap();
        let got: Vec<i64> =
            std::iter::from_fn(|| d.next_sample(&mut none, 0, &mut cur).ok().flatten())
                .map(|s| s.pts_us)
                .collect();
        assert_eq!(got, vec![8000, 9000]);
        assert_eq!(
            d.config_at(0, 12).map(|t| t.codec.as_str()),
            Some("avc1.64001f")
        );
        assert_eq!(d.level_of(Slot::Main, 12), Some(1));
        assert_eq!(d.total_duration(), Some(0.012));
        d.evict(&mut store, Slot::Main, 10);
        assert!(!d.has(Slot::Main, 10));
        assert_eq!(store.bytes(), 32);
    }
}
