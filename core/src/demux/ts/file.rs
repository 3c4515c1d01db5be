//! MPEG-TS files played progressively (a `.ts` or `.m2ts` file rather than HLS segments):
//! [`TsFile`], a [`Demux`] over a [`ByteSource`] that may answer "not yet".
//!
//! A transport stream has no index, and a frame's bytes are spread over the packets of its PID,
//! so the file is demuxed in *windows*: fixed ranges of whole packets
//! ([`TsFile::DEFAULT_WINDOW`] bytes), each run through the segment state machine with a bound
//! (`Demux` in `ts.rs`). A window's samples are those of the timed PES packets that start
//! inside it, read on past its end until each track's next timed PES: windows join without a
//! gap or a repeat whatever their size. A demuxed window owns its samples' bytes; the few used
//! last are kept ([`MAX_CACHED`]) and the others demuxed again when needed.
//! [`Sample::offset`] is the sample's place among the windows (`window << 32 | track << 24 |
//! index`), not a file offset: [`Demux::read_sample`] hands out the bytes.
//!
//! Opening reads the PAT/PMT and the first windows (codec configurations, the first
//! presentation time, which becomes time 0, the video frame duration), then the last bytes of
//! the file once its size is known: the duration is the latest end of a sample there. Seeking
//! bisects the windows on the decode time of the track's first timed PES in each (a light scan
//! of a few packets, remembered), then walks back from the window found to the keyframe at or
//! before the target. Any read may answer `NeedBytes`; a window being demuxed keeps its state,
//! so the next call resumes where the bytes ran out.
//!
//! Timestamps are unwrapped around an estimate of the time at each window's offset (from the
//! file's average bitrate), so a 33-bit wrap inside the file keeps times increasing (an
//! estimate off by more than 13 hours, 2^32 ticks, would not). Timestamps that jump
//! (concatenated recordings) are taken as they are. Video samples carry the track's nominal
//! frame duration (the most common gap between presentation times at the start), as ffprobe
//! reports it.

use std::collections::{BTreeMap, VecDeque};

use super::{
    div_round, find_sync, parse_packet, pes_times, scan_programs, ticks_to_us, Demux as Machine,
    TsLimits, CLOCK, PACKET, SYNC, WRAP,
};
use crate::demux::{ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind};

/// Demuxed windows kept.
pub const MAX_CACHED: usize = 4;
/// How far past its end a window is read for its tracks' next timed PES packets.
const MAX_EXTEND: u64 = 8 * 1024 * 1024;
/// Most bytes a window demux reads from the source at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Packets a seek probe reads at a time.
const PROBE_PACKETS: usize = 32;
/// Bytes looked at to find packet sync again after garbage.
const RESYNC_SPAN: usize = 64 * 1024;
/// Most bytes read at the start of the file for its PAT and PMT.
const PSI_LIMIT: u64 = 4 * 1024 * 1024;
/// Windows demuxed at open (at least) to find every track's configuration and frame duration.
const OPEN_WINDOWS: usize = 4;
/// Bytes demuxed at open (at least, when the windows are small).
const OPEN_BYTES: u64 = 1024 * 1024;
/// Presentation times of a video track the frame duration is taken from.
const FRAME_SAMPLES: usize = 32;
/// Bytes at the end of the file demuxed for the duration (at least), doubled while they hold
/// no sample, up to [`MAX_TAIL`].
const MIN_TAIL: u64 = 256 * 1024;
/// See [`MIN_TAIL`].
const MAX_TAIL: u64 = 16 * 1024 * 1024;
/// Most bytes a seek probe scans for a track's next timed PES.
const PROBE_LIMIT: u64 = 4 * 1024 * 1024;
/// Most windows a seek walks back for a keyframe.
const MAX_BACK: usize = 64;
/// Most windows whose probe results and sample summaries are remembered.
const MAX_MEMO: usize = 1 << 16;
/// In-progress window demuxes kept (the video and the audio reader may each wait on one).
const MAX_PARSING: usize = 2;

/// A window demux that can stop on missing bytes and resume.
struct WindowParse {
    /// The window (`usize::MAX` for the tail read at open).
    index: usize,
    machine: Machine,
    stride: usize,
    /// Bytes from `buf_at`.
    buf: Vec<u8>,
    buf_at: u64,
    /// Offset of the next packet.
    pos: u64,
    /// Bytes read at a time.
    chunk: usize,
    /// The resource ends at `buf_at + buf.len()`.
    eof: bool,
    /// Stop reading at this offset (the window's end plus [`MAX_EXTEND`]).
    limit: u64,
}

impl WindowParse {
    fn new(index: usize, machine: Machine, start: u64, stride: usize, limit: u64) -> Self {
        WindowParse {
            index,
            machine,
            stride,
            buf: Vec::new(),
            buf_at: start,
            pos: start,
            chunk: READ_CHUNK,
            eof: false,
            limit,
        }
    }

    /// Reads `chunk` bytes at a time (clamped to whole packets, 8 to [`READ_CHUNK`]).
    fn reading(mut self, chunk: u64) -> Self {
        let min = 8 * self.stride;
        self.chunk = usize::try_from(chunk)
            .unwrap_or(READ_CHUNK)
            .clamp(min, READ_CHUNK.max(min));
        self
    }

    /// Bytes held from `pos` on.
    fn ahead(&self) -> usize {
        let rel = self.pos.saturating_sub(self.buf_at);
        self.buf
            .len()
            .saturating_sub(usize::try_from(rel).unwrap_or(usize::MAX))
    }

    /// Reads the next chunk after the held bytes (dropping those before `pos`).
    fn fill(&mut self, src: &mut dyn ByteSource) -> Result<(), DemuxError> {
        let rel = usize::try_from(self.pos.saturating_sub(self.buf_at)).unwrap_or(usize::MAX);
        if rel >= self.buf.len() {
            self.buf.clear();
            self.buf_at = self.pos;
        } else if rel >= READ_CHUNK {
            self.buf.drain(..rel);
            self.buf_at = self.pos;
        }
        let at = self.buf_at + self.buf.len() as u64;
        let old = self.buf.len();
        self.buf.resize(old + self.chunk, 0);
        match self.buf.get_mut(old..).map(|b| src.read_at(at, b)) {
            Some(Ok(n)) => {
                self.buf.truncate(old + n);
                if n < self.chunk {
                    self.eof = true;
                }
                Ok(())
            }
            Some(Err(e)) => {
                self.buf.truncate(old);
                Err(e)
            }
            None => {
                self.buf.truncate(old);
                self.eof = true;
                Ok(())
            }
        }
    }

    /// Demuxes until every track is done with the window or the data ends. `Ok(eof_at)`:
    /// where the resource ended, when it did. After `Ok` the parse is finished.
    fn run(&mut self, src: &mut dyn ByteSource) -> Result<Option<u64>, DemuxError> {
        loop {
            if self.machine.all_closed(self.pos) {
                return Ok(None);
            }
            if self.pos >= self.limit {
                self.machine.abandon()?;
                return Ok(None);
            }
            if self.ahead() < PACKET {
                if self.eof {
                    self.machine.end_all()?;
                    return Ok(Some(self.buf_at + self.buf.len() as u64));
                }
                self.fill(src)?;
                continue;
            }
            let rel = usize::try_from(self.pos - self.buf_at).unwrap_or(usize::MAX);
            if self.buf.get(rel) != Some(&SYNC) {
                if !self.eof && self.ahead() < RESYNC_SPAN {
                    self.fill(src)?;
                    continue;
                }
                let end = rel.saturating_add(RESYNC_SPAN).min(self.buf.len());
                let span = self.buf.get(rel + 1..end).unwrap_or(&[]);
                match find_sync(span, 0) {
                    Some((p, stride)) => {
                        self.pos += 1 + p as u64;
                        self.stride = stride;
                    }
                    None => {
                        let skip = span.len().saturating_sub(3 * 204 + PACKET).max(1);
                        self.pos += skip as u64;
                    }
                }
                continue;
            }
            let Some(pkt) = self
                .buf
                .get(rel..rel + PACKET)
                .and_then(|b| <&[u8; PACKET]>::try_from(b).ok())
            else {
                continue;
            };
            let p = parse_packet(pkt);
            self.machine.packet(&p, self.pos)?;
            self.pos += self.stride as u64;
        }
    }
}

/// One sample of a demuxed window.
#[derive(Debug, Clone, Copy)]
struct Entry {
    pts_us: i64,
    dts_us: i64,
    duration_us: i64,
    key: bool,
    /// Where its bytes start in [`Window::data`].
    at: usize,
    size: u32,
}

/// A demuxed window.
struct Window {
    index: usize,
    /// Per track, decode order.
    samples: Vec<Vec<Entry>>,
    data: Vec<u8>,
    /// The resource ended inside the window: no window follows.
    last: bool,
}

/// What is remembered of a window after it is dropped.
struct Summary {
    /// Per track: the sample count and the keyframes (index, pts µs).
    tracks: Vec<(usize, Vec<(usize, i64)>)>,
    /// See [`Window::last`].
    last: bool,
}

/// An MPEG-TS file as a [`Demux`]. See the module docs.
pub struct TsFile {
    /// PMT order: (PID, stream_type), one per track.
    streams: Vec<(u16, u8)>,
    tracks: Vec<TrackInfo>,
    limits: TsLimits,
    /// Offset of the first packet's sync byte.
    base: u64,
    stride: usize,
    /// Window size in bytes (whole packets).
    window: u64,
    /// The unwrapped 90 kHz time that is time 0.
    origin: i64,
    /// Estimated 90 kHz ticks per byte (for unwrap references).
    ticks_per_byte: f64,
    /// End of the media, ticks after `origin`.
    end_ticks: Option<i64>,
    /// Nominal frame duration of each video track, ticks (0: unknown).
    frame_ticks: Vec<i64>,
    cache: VecDeque<Window>,
    parsing: Vec<WindowParse>,
    /// (track, window) → decode time (µs) of the track's first timed PES at or after the
    /// window's start.
    probes: BTreeMap<(usize, usize), Option<i64>>,
    summaries: BTreeMap<usize, Summary>,
}

impl TsFile {
    /// The window size [`TsFile::open`] uses.
    pub const DEFAULT_WINDOW: u64 = 1024 * 1024;

    /// Opens the file in `src` (sync, PAT/PMT, the first windows, the tail). Call again after
    /// `NeedBytes`.
    pub fn open(src: &mut dyn ByteSource) -> Result<TsFile, DemuxError> {
        TsFile::open_with_window(src, TsFile::DEFAULT_WINDOW)
    }

    /// [`TsFile::open`] with windows of about `window` bytes (rounded down to whole packets, at
    /// least 8): the samples are the same whatever the size; tests and fuzzing use small ones.
    pub fn open_with_window(src: &mut dyn ByteSource, window: u64) -> Result<TsFile, DemuxError> {
        let mut head = [0u8; 1024];
        let n = src.read_at(0, &mut head)?;
        let (base, stride) = head
            .get(..n)
            .and_then(|h| find_sync(h, 0))
            .ok_or_else(|| DemuxError::Invalid("no MPEG-TS packet sync found".into()))?;
        let base = base as u64;
        let window = (window / stride as u64).max(8) * stride as u64;
        let limits = TsLimits::default();
        let streams = programs(src, base, &limits)?;
        let mut file = TsFile {
            tracks: streams
                .iter()
                .map(|&(pid, st)| super::Track::new(pid, st).info)
                .collect(),
            streams,
            limits,
            base,
            stride,
            window,
            origin: 0,
            ticks_per_byte: 0.0,
            end_ticks: None,
            frame_ticks: Vec::new(),
            cache: VecDeque::new(),
            parsing: Vec::new(),
            probes: BTreeMap::new(),
            summaries: BTreeMap::new(),
        };
        file.frame_ticks = vec![0; file.tracks.len()];
        file.scan_start(src)?;
        file.scan_tail(src)?;
        Ok(file)
    }

    /// The first windows: each track's configuration, time 0, the frame durations and the
    /// bitrate estimate.
    fn scan_start(&mut self, src: &mut dyn ByteSource) -> Result<(), DemuxError> {
        let count = self.tracks.len();
        let mut configured = vec![false; count];
        let mut first_pts: Vec<Option<i64>> = vec![None; count];
        let mut video_pts: Vec<Vec<i64>> = vec![Vec::new(); count];
        let mut reference = None;
        let mut span: Option<(u64, i64)> = None;
        let mut w = 0;
        loop {
            let start = self.window_start(w);
            let machine = Machine::new(
                &self.streams,
                &self.limits,
                reference,
                0,
                Some(start + self.window),
            );
            let mut parse = WindowParse::new(
                w,
                machine,
                start,
                self.stride,
                start + self.window + MAX_EXTEND,
            );
            let eof = parse.run(src)?;
            reference = reference.or(parse.machine.timeline.reference);
            let (infos, samples) = parse.machine.into_tracks();
            let mut last_dts = None;
            for (t, (info, list)) in infos.into_iter().zip(&samples).enumerate() {
                let ticks = |us: i64| div_round(i128::from(us) * 9, 100);
                if list.is_empty() || info.kind.is_none() {
                    continue;
                }
                if first_pts.get(t).is_some_and(Option::is_none) {
                    let min = list.iter().map(|s| ticks(s.pts_us)).min();
                    if let Some(slot) = first_pts.get_mut(t) {
                        *slot = min;
                    }
                }
                if info.kind == Some(TrackKind::Video) {
                    if let Some(seen) = video_pts.get_mut(t) {
                        let room = FRAME_SAMPLES.saturating_sub(seen.len());
                        seen.extend(list.iter().take(room).map(|s| ticks(s.pts_us)));
                    }
                }
                let done = configured.get(t).copied().unwrap_or(true);
                if !done && !info.codec.starts_with('?') {
                    if let Some(slot) = self.tracks.get_mut(t) {
                        *slot = info;
                    }
                    if let Some(c) = configured.get_mut(t) {
                        *c = true;
                    }
                }
                let dts = list.iter().map(|s| ticks(s.dts_us)).max();
                last_dts = last_dts.max(dts);
            }
            if w == 0 {
                span = last_dts.map(|d| (parse.pos.saturating_sub(self.base), d));
            }
            let wanted =
                self.tracks
                    .iter()
                    .zip(&configured)
                    .zip(&video_pts)
                    .all(|((t, &c), pts)| {
                        t.kind.is_none()
                            || (c
                                && (t.kind != Some(TrackKind::Video) || pts.len() >= FRAME_SAMPLES))
                    });
            let scanned = w + 1 >= OPEN_WINDOWS && start + self.window - self.base >= OPEN_BYTES;
            if wanted || scanned || eof.is_some_and(|e| e <= start + self.window) {
                break;
            }
            w += 1;
        }
        for (f, pts) in self.frame_ticks.iter_mut().zip(video_pts) {
            *f = nominal_gap(pts);
        }
        // A stream listed but never configured (no SPS, no audio frame) is left out.
        for (t, c) in self.tracks.iter_mut().zip(&configured) {
            if !c {
                t.kind = None;
            }
        }
        if self.tracks.iter().all(|t| t.kind.is_none()) {
            let names: Vec<&str> = self
                .tracks
                .iter()
                .map(|t| t.codec.trim_start_matches('?'))
                .collect();
            return Err(DemuxError::Unsupported(format!(
                "no audio or video stream this player reads in the MPEG-TS ({})",
                names.join(", ")
            )));
        }
        let origin = self
            .tracks
            .iter()
            .zip(&first_pts)
            .filter(|(t, _)| t.kind.is_some())
            .filter_map(|(_, p)| *p)
            .min()
            .ok_or_else(|| DemuxError::Invalid("no timed audio or video in the MPEG-TS".into()))?;
        self.origin = origin;
        if let Some((bytes, dts)) = span.filter(|&(b, d)| b > 0 && d > origin) {
            self.ticks_per_byte = (dts - origin) as f64 / bytes as f64;
        }
        Ok(())
    }

    /// The end of the file (when its size is known): the latest end of a sample there.
    fn scan_tail(&mut self, src: &mut dyn ByteSource) -> Result<(), DemuxError> {
        let Some(len) = src.len() else {
            return Ok(());
        };
        let mut tail = MIN_TAIL.max(self.window);
        loop {
            let start = self.align(len.saturating_sub(tail));
            let machine = Machine::new(
                &self.streams,
                &self.limits,
                Some(self.reference_at(start)),
                self.origin,
                None,
            );
            let mut parse = WindowParse::new(usize::MAX, machine, start, self.stride, u64::MAX);
            parse.run(src)?;
            let (_, samples) = parse.machine.into_tracks();
            let end = samples
                .iter()
                .enumerate()
                .filter(|(t, _)| self.tracks.get(*t).is_some_and(|i| i.kind.is_some()))
                .flat_map(|(t, list)| {
                    let frame = self.frame_ticks.get(t).copied().unwrap_or(0);
                    list.iter().map(move |s| {
                        let dur = if frame > 0 {
                            frame
                        } else {
                            div_round(i128::from(s.duration_us) * 9, 100)
                        };
                        div_round(i128::from(s.pts_us) * 9, 100) + dur
                    })
                })
                .max();
            if let Some(end) = end {
                self.end_ticks = Some(end.max(0));
                if len > self.base {
                    self.ticks_per_byte = end.max(0) as f64 / (len - self.base) as f64;
                }
                return Ok(());
            }
            if start <= self.base || tail >= MAX_TAIL {
                return Ok(());
            }
            tail *= 2;
        }
    }

    /// `offset` moved down onto the packet grid (not before the first packet).
    fn align(&self, offset: u64) -> u64 {
        let stride = self.stride as u64;
        self.base + offset.saturating_sub(self.base) / stride * stride
    }

    fn window_start(&self, w: usize) -> u64 {
        self.base
            .saturating_add((w as u64).saturating_mul(self.window))
    }

    /// Windows in the file, when its size is known.
    fn window_count(&self, src: &dyn ByteSource) -> Option<usize> {
        let len = src.len()?;
        let bytes = len.saturating_sub(self.base);
        Some(usize::try_from(bytes.div_ceil(self.window).max(1)).unwrap_or(usize::MAX))
    }

    /// The unwrapped time (ticks) expected at `offset`: the reference for unwrapping the
    /// timestamps found there.
    fn reference_at(&self, offset: u64) -> i64 {
        let est = offset.saturating_sub(self.base) as f64 * self.ticks_per_byte;
        self.origin + est.clamp(0.0, (1u64 << 52) as f64) as i64
    }

    fn check_track(&self, track: usize) -> Result<(), DemuxError> {
        if track < self.tracks.len() {
            Ok(())
        } else {
            Err(DemuxError::Invalid(format!("no track {track}")))
        }
    }

    /// Window `w`, demuxed (from the cache, or resuming or starting its demux).
    fn window(&mut self, src: &mut dyn ByteSource, w: usize) -> Result<&Window, DemuxError> {
        if let Some(i) = self.cache.iter().position(|x| x.index == w) {
            if let Some(win) = self.cache.remove(i) {
                self.cache.push_back(win);
            }
        } else {
            let win = self.demux_window(src, w)?;
            if self.summaries.len() >= MAX_MEMO {
                self.summaries.clear();
            }
            self.summaries.insert(w, summarize(&win));
            if self.cache.len() >= MAX_CACHED {
                self.cache.pop_front();
            }
            self.cache.push_back(win);
        }
        self.cache
            .back()
            .ok_or_else(|| DemuxError::Invalid("window cache".into()))
    }

    fn demux_window(&mut self, src: &mut dyn ByteSource, w: usize) -> Result<Window, DemuxError> {
        let start = self.window_start(w);
        let end = start.saturating_add(self.window);
        let mut parse = match self.parsing.iter().position(|p| p.index == w) {
            Some(i) => self.parsing.remove(i),
            None => {
                let machine = Machine::new(
                    &self.streams,
                    &self.limits,
                    Some(self.reference_at(start)),
                    self.origin,
                    Some(end),
                );
                WindowParse::new(
                    w,
                    machine,
                    start,
                    self.stride,
                    end.saturating_add(MAX_EXTEND),
                )
                .reading(self.window / 4)
            }
        };
        let eof = match parse.run(src) {
            Ok(eof) => eof,
            Err(e) => {
                if self.parsing.len() >= MAX_PARSING {
                    self.parsing.remove(0);
                }
                self.parsing.push(parse);
                return Err(e);
            }
        };
        let (_, lists) = parse.machine.into_tracks();
        let mut data = Vec::new();
        let mut samples = Vec::with_capacity(lists.len());
        for (t, list) in lists.into_iter().enumerate() {
            let frame = self.frame_ticks.get(t).copied().unwrap_or(0);
            let video = self
                .tracks
                .get(t)
                .is_some_and(|i| i.kind == Some(TrackKind::Video));
            let skip = self.tracks.get(t).is_none_or(|i| i.kind.is_none());
            let mut out = Vec::with_capacity(if skip { 0 } else { list.len() });
            for s in list {
                if skip {
                    continue;
                }
                let size = u32::try_from(s.data.len())
                    .map_err(|_| DemuxError::Invalid("MPEG-TS frame too large".into()))?;
                out.push(Entry {
                    pts_us: s.pts_us,
                    dts_us: s.dts_us,
                    duration_us: if video && frame > 0 {
                        ticks_to_us(frame, CLOCK as u32)
                    } else {
                        s.duration_us
                    },
                    key: s.key,
                    at: data.len(),
                    size,
                });
                data.extend_from_slice(&s.data);
            }
            samples.push(out);
        }
        Ok(Window {
            index: w,
            samples,
            data,
            last: eof.is_some_and(|e| e <= end),
        })
    }

    /// Decode time (µs) of track `track`'s first timed PES at or after window `w`'s start
    /// (`None`: none within [`PROBE_LIMIT`] bytes or before the end).
    fn first_dts(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        w: usize,
    ) -> Result<Option<i64>, DemuxError> {
        if let Some(&r) = self.probes.get(&(track, w)) {
            return Ok(r);
        }
        let pid = self.streams.get(track).map_or(u16::MAX, |s| s.0);
        let start = self.window_start(w);
        let stop = start.saturating_add(PROBE_LIMIT);
        let mut buf = vec![0u8; PROBE_PACKETS * self.stride];
        let mut at = start;
        let mut found = None;
        'read: while at < stop {
            let n = src.read_at(at, &mut buf)?;
            let data = buf.get(..n).unwrap_or(&[]);
            let mut rel = 0;
            while rel + PACKET <= n {
                if data.get(rel) != Some(&SYNC) {
                    match find_sync(data, rel + 1) {
                        Some((p, _)) => rel = p,
                        None => rel = n.saturating_sub(PACKET - 1).max(rel + 1),
                    }
                    continue;
                }
                let Some(pkt) = data
                    .get(rel..rel + PACKET)
                    .and_then(|b| <&[u8; PACKET]>::try_from(b).ok())
                else {
                    break;
                };
                let p = parse_packet(pkt);
                if p.pid == pid && p.pusi && !p.damaged {
                    if let Some((_, dts)) = pes_times(p.payload) {
                        found = Some(dts);
                        break 'read;
                    }
                }
                rel += self.stride;
            }
            if n < buf.len() {
                break;
            }
            at += (rel as u64).max(1);
        }
        let reference = self.reference_at(start);
        let result = found.map(|raw| {
            let unwrapped = raw + div_round(i128::from(reference - raw), i128::from(WRAP)) * WRAP;
            ticks_to_us(unwrapped - self.origin, CLOCK as u32)
        });
        if self.probes.len() >= MAX_MEMO {
            self.probes.clear();
        }
        self.probes.insert((track, w), result);
        Ok(result)
    }

    /// Window `w`'s summary (sample counts and keyframes per track), demuxing it if needed.
    fn summary(&mut self, src: &mut dyn ByteSource, w: usize) -> Result<&Summary, DemuxError> {
        if !self.summaries.contains_key(&w) {
            self.window(src, w)?;
        }
        self.summaries
            .get(&w)
            .ok_or_else(|| DemuxError::Invalid("window summary".into()))
    }
}

/// What to remember of a window.
fn summarize(win: &Window) -> Summary {
    let tracks = win
        .samples
        .iter()
        .map(|list| {
            let keys = list
                .iter()
                .enumerate()
                .filter(|(_, e)| e.key)
                .map(|(i, e)| (i, e.pts_us))
                .collect();
            (list.len(), keys)
        })
        .collect();
    Summary {
        tracks,
        last: win.last,
    }
}

/// The most common positive gap between consecutive presentation times (ticks), 0 when
/// there is none.
fn nominal_gap(mut pts: Vec<i64>) -> i64 {
    pts.sort_unstable();
    let mut gaps: Vec<i64> = pts
        .windows(2)
        .filter_map(|w| match *w {
            [a, b] if b > a => Some(b - a),
            _ => None,
        })
        .collect();
    gaps.sort_unstable();
    let mut best = (0usize, 0i64);
    let mut run = (0usize, 0i64);
    for g in gaps {
        run = if run.1 == g { (run.0 + 1, g) } else { (1, g) };
        if run.0 > best.0 {
            best = run;
        }
    }
    best.1
}

/// The elementary streams of the file's program, from its first bytes (read in growing
/// steps up to [`PSI_LIMIT`]).
fn programs(
    src: &mut dyn ByteSource,
    base: u64,
    limits: &TsLimits,
) -> Result<Vec<(u16, u8)>, DemuxError> {
    let mut size = 256 * 1024u64;
    loop {
        let mut head = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
        let n = src.read_at(base, &mut head)?;
        let data = head.get(..n).unwrap_or(&[]);
        match scan_programs(data, limits) {
            Ok(streams) => return Ok(streams),
            Err(e) if n < head.len() || size >= PSI_LIMIT => return Err(e),
            Err(_) => size *= 4,
        }
    }
}

impl Demux for TsFile {
    fn container(&self) -> &'static str {
        "mpegts"
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn duration(&self) -> Option<f64> {
        self.end_ticks.map(|t| t as f64 / CLOCK as f64)
    }

    fn next_sample(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        self.check_track(track)?;
        if self.tracks.get(track).is_some_and(|t| t.kind.is_none()) {
            return Ok(None);
        }
        let mut c = *cursor;
        loop {
            if self.window_count(src).is_some_and(|n| c.segment >= n) {
                return Ok(None);
            }
            // A window known to hold nothing more of the track is passed without demuxing
            // it again.
            let known = self.summaries.get(&c.segment).and_then(|s| {
                let count = s.tracks.get(track).map_or(0, |t| t.0);
                (c.index >= count).then_some(s.last)
            });
            match known {
                Some(true) => return Ok(None),
                Some(false) => {
                    c = Cursor {
                        segment: c.segment + 1,
                        index: 0,
                    };
                    continue;
                }
                None => {}
            }
            let segment = c.segment;
            let win = self.window(src, segment)?;
            let entry = win.samples.get(track).and_then(|l| l.get(c.index)).copied();
            let last = win.last;
            match entry {
                Some(e) => {
                    let sample = Sample {
                        pts_us: e.pts_us,
                        dts_us: e.dts_us,
                        duration_us: e.duration_us,
                        offset: address(segment, track, c.index),
                        size: e.size,
                        key: e.key,
                    };
                    c.index += 1;
                    *cursor = c;
                    return Ok(Some(sample));
                }
                None if last => return Ok(None),
                None => {
                    c = Cursor {
                        segment: segment + 1,
                        index: 0,
                    }
                }
            }
        }
    }

    fn seek(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        self.check_track(track)?;
        if self.tracks.get(track).is_some_and(|t| t.kind.is_none()) {
            return Ok(Cursor::default());
        }
        // The last window whose first timed PES of the track decodes at or before the target
        // (decode times increase through the file; pts >= dts).
        let mut lo = 0usize;
        let mut hi = match self.window_count(src) {
            Some(n) => n,
            None => {
                let mut hi = 1usize;
                while hi < 1 << 31 {
                    match self.first_dts(src, track, hi)? {
                        Some(d) if d <= time_us => {
                            lo = hi;
                            hi *= 2;
                        }
                        _ => break,
                    }
                }
                hi
            }
        };
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match self.first_dts(src, track, mid)? {
                Some(d) if d <= time_us => lo = mid,
                _ => hi = mid,
            }
        }
        // Back from there to the last keyframe at or before the target.
        let stop = lo.saturating_sub(MAX_BACK);
        let mut w = lo;
        loop {
            let keys = self.summary(src, w)?.tracks.get(track).map(|s| &s.1);
            let hit = keys.and_then(|k| k.iter().rev().find(|(_, pts)| *pts <= time_us));
            if let Some(&(index, _)) = hit {
                return Ok(Cursor { segment: w, index });
            }
            if w == stop {
                return Ok(Cursor {
                    segment: w,
                    index: 0,
                });
            }
            w -= 1;
        }
    }

    fn read_sample(
        &mut self,
        src: &mut dyn ByteSource,
        sample: &Sample,
        buf: &mut [u8],
    ) -> Result<usize, DemuxError> {
        let (w, track, index) = parse_address(sample.offset);
        let win = self.window(src, w)?;
        let entry = win
            .samples
            .get(track)
            .and_then(|l| l.get(index))
            .filter(|e| e.size == sample.size && e.pts_us == sample.pts_us)
            .ok_or_else(|| DemuxError::Invalid("no such MPEG-TS sample".into()))?;
        let bytes = win
            .data
            .get(entry.at..entry.at + entry.size as usize)
            .ok_or_else(|| DemuxError::Invalid("MPEG-TS sample out of its window".into()))?;
        let n = bytes.len().min(buf.len());
        if let (Some(dst), Some(from)) = (buf.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(from);
        }
        Ok(n)
    }
}

/// The [`Sample::offset`] of sample `index` of `track` in window `w`.
fn address(w: usize, track: usize, index: usize) -> u64 {
    (w as u64) << 32 | ((track as u64) & 0xff) << 24 | (index as u64 & 0x00ff_ffff)
}

/// (window, track, index) of an [`address`].
fn parse_address(at: u64) -> (usize, usize, usize) {
    (
        usize::try_from(at >> 32).unwrap_or(usize::MAX),
        ((at >> 24) & 0xff) as usize,
        (at & 0x00ff_ffff) as usize,
    )
}
