//! ISO BMFF (MP4) demuxer: progressive files (`moov` sample tables) and fragmented files
//! (`moof`/`traf`/`trun`), with composition offsets (`ctts`, signed `trun` offsets) and the
//! edit list's start shift (`elst`: leading empty edits and the first edit's `media_time`), so
//! presentation times match what ffprobe and browsers show.
//!
//! QuickTime files (`.mov`) read the same way: version 1 and 2 sound descriptions, decoder
//! parameters inside a `wave` atom (`esds`, `enda`), PCM sample entries (named `pcm-…`, decoded
//! by the core through symphonia), other boxes such as `chan` passed by. The `tkhd` matrix
//! gives [`TrackInfo::rotation_degrees`] and [`TrackInfo::flip`]. A fragmented file's duration
//! is its `mehd`'s, else that of a `sidx` indexing the whole file, else the end of the last
//! fragment the `mfra` at the end of the file indexes, else known once every fragment is
//! walked (never the `mvhd`'s, which covers only the samples in the `moov`).
//!
//! Fragments are discovered lazily, walking top-level box headers forward from the end of the
//! `moov`; only `moof` boxes are read whole. Every size is checked before anything is
//! allocated.
//!
//! One file per container: the box readers, the sample tables and the lazy fragment walk share
//! one set of bounded readers and limits; split by box they would all reach into each other.

use super::{
    codec, ticks_to_us, ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind,
    MAX_HEADER_BYTES, MAX_SAMPLES,
};

/// Most top-level boxes walked without finding what is looked for.
const MAX_TOP_BOXES: usize = 1 << 20;
/// Most entries of any sample-table run (stts, ctts, stsc, elst, trun...).
const MAX_ENTRIES: u32 = 1 << 24;
/// Largest decoder configuration accepted.
const MAX_CONFIG: usize = 1 << 20;

fn invalid(m: &str) -> DemuxError {
    DemuxError::Invalid(format!("mp4: {m}"))
}

/// (size including header, type, header length) of the box at the start of `b`.
fn box_header(b: &[u8]) -> Option<(u64, [u8; 4], u64)> {
    let size = u64::from(be_u32(b, 0)?);
    let kind: [u8; 4] = b.get(4..8)?.try_into().ok()?;
    if size == 1 {
        Some((be_u64(b, 8)?, kind, 16))
    } else {
        Some((size, kind, 8))
    }
}

/// Iterates the child boxes of an in-memory payload: (type, payload).
fn children(mut b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let (size, kind, header) = box_header(b)?;
        let size = if size == 0 { b.len() as u64 } else { size };
        if size < header || size > b.len() as u64 {
            return None;
        }
        let payload = b.get(header as usize..size as usize)?;
        b = b.get(size as usize..)?;
        Some((kind, payload))
    })
}

fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(b).find(|(k, _)| k == kind).map(|(_, p)| p)
}

fn path<'a>(b: &'a [u8], kinds: &[&[u8; 4]]) -> Option<&'a [u8]> {
    kinds.iter().try_fold(b, |b, k| child(b, k))
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Reads a table of `count` entries of `width` bytes starting at `at`, checking bounds first.
fn table(b: &[u8], at: usize, width: usize) -> Result<(u32, &[u8]), DemuxError> {
    let count = be_u32(b, at).ok_or_else(|| invalid("short table"))?;
    if count > MAX_ENTRIES {
        return Err(invalid("table too large"));
    }
    let len = count as usize * width;
    let body = b
        .get(at + 4..at + 4 + len)
        .ok_or_else(|| invalid("table past its box"))?;
    Ok((count, body))
}

/// What a track needs beyond its public info.
#[derive(Debug, Clone, Default)]
struct TrackState {
    track_id: u32,
    timescale: u32,
    /// Added to every composition time (ticks): leading empty edits minus the first
    /// edit's media time.
    shift: i64,
    default_duration: u32,
    default_size: u32,
    default_flags: u32,
}

/// One run of samples: the `moov` tables (segment 0) or one `moof`.
#[derive(Debug, Clone, Default)]
struct Segment {
    /// Per track, samples in decode order.
    samples: Vec<Vec<Sample>>,
}

/// Demuxer for one MP4 resource.
#[derive(Debug)]
pub struct Mp4Demuxer {
    tracks: Vec<TrackInfo>,
    state: Vec<TrackState>,
    duration: Option<f64>,
    segments: Vec<Segment>,
    /// Next top-level box to look at for fragments; `None` once the end is reached.
    scan: Option<u64>,
    /// Decode time (ticks, before the edit shift) where each track's next fragment starts when
    /// it has no `tfdt`.
    next_dts: Vec<i64>,
    total_samples: usize,
}

impl Mp4Demuxer {
    /// Parses `moov` (walking top-level boxes to find it) and the sample tables in it.
    pub fn open(src: &mut dyn ByteSource) -> Result<Self, DemuxError> {
        let mut offset = 0u64;
        for _ in 0..MAX_TOP_BOXES {
            let Some((size, kind, header)) = read_box_header(src, offset)? else {
                return Err(invalid("no moov box (not a playable MP4, or truncated)"));
            };
            if &kind == b"moov" {
                let moov = read_payload(src, offset, size, header)?;
                let after = offset
                    .checked_add(size)
                    .ok_or_else(|| invalid("box size overflow"))?;
                let mut d = Self::from_moov(&moov, after)?;
                if d.duration.is_none() && d.scan.is_some() {
                    d.duration = sidx_duration(src, after, &d.state)?;
                }
                if d.duration.is_none() && d.scan.is_some() {
                    d.duration = d.mfra_duration(src)?;
                }
                return Ok(d);
            }
            offset = offset
                .checked_add(size)
                .ok_or_else(|| invalid("box size overflow"))?;
        }
        Err(invalid("too many boxes before moov"))
    }

    fn from_moov(moov: &[u8], after: u64) -> Result<Self, DemuxError> {
        let mvhd = child(moov, b"mvhd").ok_or_else(|| invalid("no mvhd"))?;
        let (movie_scale, movie_duration) = match mvhd.first() {
            Some(1) => (be_u32(mvhd, 20), be_u64(mvhd, 24)),
            _ => (be_u32(mvhd, 12), be_u32(mvhd, 16).map(u64::from)),
        };
        let movie_scale = movie_scale.filter(|&s| s > 0).unwrap_or(1000);
        let mvex = child(moov, b"mvex");
        let fragment_duration = mvex.and_then(|m| child(m, b"mehd")).and_then(|m| {
            if m.first() == Some(&1) {
                be_u64(m, 4)
            } else {
                be_u32(m, 4).map(u64::from)
            }
        });
        let mut tracks = Vec::new();
        let mut state = Vec::new();
        let mut seg0 = Segment::default();
        for (kind, trak) in children(moov) {
            if &kind != b"trak" {
                continue;
            }
            let (info, st, samples) = parse_trak(trak, movie_scale)?;
            tracks.push(info);
            state.push(st);
            seg0.samples.push(samples);
        }
        if tracks.is_empty() {
            return Err(invalid("no tracks"));
        }
        if let Some(mvex) = mvex {
            for (kind, trex) in children(mvex) {
                if &kind != b"trex" {
                    continue;
                }
                let id = be_u32(trex, 4).unwrap_or(0);
                if let Some(st) = state.iter_mut().find(|s| s.track_id == id) {
                    st.default_duration = be_u32(trex, 12).unwrap_or(0);
                    st.default_size = be_u32(trex, 16).unwrap_or(0);
                    st.default_flags = be_u32(trex, 20).unwrap_or(0);
                }
            }
        }
        let total_samples = seg0.samples.iter().map(Vec::len).sum();
        let next_dts = seg0
            .samples
            .iter()
            .zip(&state)
            .map(|(s, st)| {
                s.last().map_or(0, |l| {
                    // Back to ticks: the end of the last sample's decode interval.
                    let us = l.dts_us + l.duration_us;
                    (us as i128 * st.timescale as i128 / 1_000_000) as i64 - st.shift
                })
            })
            .collect();
        let known = |d: &u64| *d > 0 && *d != u64::from(u32::MAX) && *d != u64::MAX;
        let duration = if mvex.is_some() {
            // Fragmented: mvhd and mdhd cover only the samples in the moov (ffmpeg writes 0
            // with empty_moov, the first fragment's length without). The whole is the mehd's;
            // without one a global sidx tells (see `open`), else walking the fragments does.
            fragment_duration
                .filter(known)
                .map(|d| d as f64 / movie_scale as f64)
        } else {
            movie_duration
                .filter(known)
                .map(|d| d as f64 / movie_scale as f64)
                .or_else(|| {
                    tracks
                        .iter()
                        .filter_map(|t| t.duration_us)
                        .max()
                        .filter(|&d| d > 0)
                        .map(|d| d as f64 / 1e6)
                })
        };
        Ok(Mp4Demuxer {
            tracks,
            state,
            duration,
            segments: vec![seg0],
            scan: mvex.map(|_| after),
            next_dts,
            total_samples,
        })
    }

    /// Reads the next `moof` (skipping other boxes) into a new segment. `Ok(false)` at the end.
    fn discover(&mut self, src: &mut dyn ByteSource) -> Result<bool, DemuxError> {
        for _ in 0..MAX_TOP_BOXES {
            let Some(offset) = self.scan else {
                return Ok(false);
            };
            let Some((size, kind, header)) = read_box_header(src, offset)? else {
                self.scan = None;
                return Ok(false);
            };
            if &kind == b"moof" {
                let moof = match read_payload(src, offset, size, header) {
                    Ok(m) => m,
                    Err(DemuxError::Invalid(_)) => {
                        // A truncated last fragment ends the stream.
                        self.scan = None;
                        return Ok(false);
                    }
                    Err(e) => return Err(e),
                };
                let seg = self.parse_moof(&moof, offset, src.len())?;
                self.scan = offset.checked_add(size);
                self.total_samples += seg.samples.iter().map(Vec::len).sum::<usize>();
                if self.total_samples > MAX_SAMPLES {
                    return Err(invalid("too many samples"));
                }
                self.segments.push(seg);
                return Ok(true);
            }
            self.scan = offset.checked_add(size);
        }
        Err(invalid("too many boxes between fragments"))
    }

    /// The duration the movie fragment random access box at the end of the file (`mfra`,
    /// found through the `mfro` in the last 16 bytes; ffmpeg writes one for every fragmented
    /// file) tells: the end of the samples of the last fragment it indexes. This is how
    /// browsers know such a file's duration at once. `None` without one (or before the file's
    /// size is known); the fragment walk tells then.
    fn mfra_duration(&mut self, src: &mut dyn ByteSource) -> Result<Option<f64>, DemuxError> {
        let Some(len) = src.len().filter(|&l| l >= 16) else {
            return Ok(None);
        };
        let mut mfro = [0u8; 16];
        if src.read_at(len - 16, &mut mfro)? < 16 || &mfro[4..8] != b"mfro" {
            return Ok(None);
        }
        let mfra_size = u64::from(be_u32(&mfro, 12).unwrap_or(0));
        if mfra_size < 16 || mfra_size > len || mfra_size > MAX_HEADER_BYTES {
            return Ok(None);
        }
        let at = len - mfra_size;
        let Some((size, kind, header)) = read_box_header(src, at)? else {
            return Ok(None);
        };
        if &kind != b"mfra" || size != mfra_size {
            return Ok(None);
        }
        let mfra = read_payload(src, at, size, header)?;
        let last_moof = children(&mfra)
            .filter(|(k, _)| k == b"tfra")
            .filter_map(|(_, tfra)| last_tfra_moof(tfra))
            .max();
        let Some(moof_at) = last_moof.filter(|&o| o < at) else {
            return Ok(None);
        };
        let Some((size, kind, header)) = read_box_header(src, moof_at)? else {
            return Ok(None);
        };
        if &kind != b"moof" {
            return Ok(None);
        }
        let moof = read_payload(src, moof_at, size, header)?;
        // Parsing a fragment moves the tracks' running decode times: this one is only looked
        // at, so put them back.
        let saved = self.next_dts.clone();
        let seg = self.parse_moof(&moof, moof_at, Some(len));
        self.next_dts = saved;
        let end = seg?
            .samples
            .iter()
            .flatten()
            .map(|s| s.pts_us.saturating_add(s.duration_us))
            .max();
        Ok(end.filter(|&us| us > 0).map(|us| us as f64 / 1e6))
    }

    fn parse_moof(
        &mut self,
        moof: &[u8],
        moof_offset: u64,
        file_len: Option<u64>,
    ) -> Result<Segment, DemuxError> {
        let mut seg = Segment {
            samples: vec![Vec::new(); self.tracks.len()],
        };
        let mut prev_end: Option<u64> = None;
        for (kind, traf) in children(moof) {
            if &kind != b"traf" {
                continue;
            }
            let tfhd = child(traf, b"tfhd").ok_or_else(|| invalid("traf without tfhd"))?;
            let flags = be_u32(tfhd, 0).unwrap_or(0) & 0xff_ffff;
            let id = be_u32(tfhd, 4).ok_or_else(|| invalid("short tfhd"))?;
            let Some(t) = self.state.iter().position(|s| s.track_id == id) else {
                continue;
            };
            let st = &self.state[t];
            let mut at = 8;
            let mut base = if flags & 0x1 != 0 {
                let b = be_u64(tfhd, at).ok_or_else(|| invalid("short tfhd"))?;
                at += 8;
                b
            } else if flags & 0x2_0000 != 0 {
                moof_offset
            } else {
                prev_end.unwrap_or(moof_offset)
            };
            let mut field = |bit: u32, default: u32| -> u32 {
                if flags & bit != 0 {
                    let v = be_u32(tfhd, at).unwrap_or(default);
                    at += 4;
                    v
                } else {
                    default
                }
            };
            let _description_index = field(0x2, 0);
            let def_duration = field(0x8, st.default_duration);
            let def_size = field(0x10, st.default_size);
            let def_flags = field(0x20, st.default_flags);
            let mut dts = match child(traf, b"tfdt") {
                Some(tfdt) if tfdt.first() == Some(&1) => {
                    be_u64(tfdt, 4).ok_or_else(|| invalid("short tfdt"))? as i64
                }
                Some(tfdt) => i64::from(be_u32(tfdt, 4).ok_or_else(|| invalid("short tfdt"))?),
                None => self.next_dts.get(t).copied().unwrap_or(0),
            };
            let (timescale, shift) = (st.timescale, st.shift);
            let out = seg
                .samples
                .get_mut(t)
                .ok_or_else(|| invalid("track index"))?;
            for (kind, trun) in children(traf) {
                if &kind != b"trun" {
                    continue;
                }
                let version = trun.first().copied().unwrap_or(0);
                let tflags = be_u32(trun, 0).unwrap_or(0) & 0xff_ffff;
                let count = be_u32(trun, 4).ok_or_else(|| invalid("short trun"))?;
                if count > MAX_ENTRIES || out.len() + count as usize > MAX_SAMPLES {
                    return Err(invalid("trun too large"));
                }
                let mut at = 8;
                let mut data = base;
                if tflags & 0x1 != 0 {
                    let off = be_u32(trun, at).ok_or_else(|| invalid("short trun"))? as i32;
                    at += 4;
                    data = base
                        .checked_add_signed(i64::from(off))
                        .ok_or_else(|| invalid("data offset"))?;
                }
                let first_flags = if tflags & 0x4 != 0 {
                    let f = be_u32(trun, at);
                    at += 4;
                    f
                } else {
                    None
                };
                let per = [0x100, 0x200, 0x400, 0x800]
                    .iter()
                    .filter(|&&b| tflags & b != 0)
                    .count()
                    * 4;
                if trun.len() < at + per * count as usize {
                    return Err(invalid("trun past its box"));
                }
                for i in 0..count as usize {
                    let mut p = at + i * per;
                    let mut next = |bit: u32| -> Option<u32> {
                        if tflags & bit != 0 {
                            let v = be_u32(trun, p);
                            p += 4;
                            v
                        } else {
                            None
                        }
                    };
                    let duration = next(0x100).unwrap_or(def_duration);
                    let size = next(0x200).unwrap_or(def_size);
                    let sflags = next(0x400)
                        .or(if i == 0 { first_flags } else { None })
                        .unwrap_or(def_flags);
                    let cts = next(0x800).map_or(0i64, |c| {
                        if version == 0 {
                            i64::from(c)
                        } else {
                            i64::from(c as i32)
                        }
                    });
                    if file_len.is_some_and(|l| data.saturating_add(u64::from(size)) > l) {
                        // Sample data past the end of a truncated file: stop here.
                        break;
                    }
                    out.push(Sample {
                        pts_us: ticks_to_us(dts + cts + shift, timescale),
                        dts_us: ticks_to_us(dts + shift, timescale),
                        duration_us: ticks_to_us(i64::from(duration), timescale),
                        offset: data,
                        size,
                        key: sflags & 0x1_0000 == 0,
                    });
                    dts += i64::from(duration);
                    data = data.saturating_add(u64::from(size));
                }
                base = data;
                prev_end = Some(data);
            }
            if let Some(n) = self.next_dts.get_mut(t) {
                *n = dts;
            }
        }
        Ok(seg)
    }
}

/// Most top-level boxes looked at after the `moov` for segment indexes.
const MAX_SIDX_BOXES: usize = 64;

/// The duration (seconds) the `sidx` boxes right after the `moov` give (the latest end of a
/// track's references: earliest presentation time plus their durations, after the edit
/// shift), when they index the whole file: `None` when there is none or each indexes one
/// fragment only (the DASH style of one `sidx` per fragment, which tells nothing of the rest).
fn sidx_duration(
    src: &mut dyn ByteSource,
    mut offset: u64,
    state: &[TrackState],
) -> Result<Option<f64>, DemuxError> {
    let mut end: Option<i64> = None;
    for _ in 0..MAX_SIDX_BOXES {
        let Some((size, kind, header)) = read_box_header(src, offset)? else {
            break;
        };
        let next = offset
            .checked_add(size)
            .ok_or_else(|| invalid("box size overflow"))?;
        match &kind {
            b"sidx" => {
                let sidx = read_payload(src, offset, size, header)?;
                if let Some((track_id, ticks, timescale, covered)) = parse_sidx(&sidx, next) {
                    let whole = covered.1 > 1 || src.len().is_some_and(|l| covered.0 >= l);
                    if whole {
                        let shift = state
                            .iter()
                            .find(|s| s.track_id == track_id)
                            .map_or(0, |s| s.shift);
                        let us = ticks_to_us(ticks.saturating_add(shift), timescale);
                        end = Some(end.map_or(us, |e| e.max(us)));
                    }
                }
            }
            b"free" | b"skip" | b"styp" | b"prft" | b"emsg" | b"uuid" => {}
            _ => break,
        }
        offset = next;
    }
    Ok(end.filter(|&us| us > 0).map(|us| us as f64 / 1e6))
}

/// A `sidx` payload: (reference_ID, earliest presentation time + the references' durations in
/// its timescale, the timescale, (the byte after the last referenced one, reference count)).
/// `after` is the offset of the byte after the box (the anchor of its offsets).
fn parse_sidx(b: &[u8], after: u64) -> Option<(u32, i64, u32, (u64, usize))> {
    let track_id = be_u32(b, 4)?;
    let timescale = be_u32(b, 8).filter(|&t| t > 0)?;
    let (ept, first, at) = if b.first() == Some(&0) {
        (u64::from(be_u32(b, 12)?), u64::from(be_u32(b, 16)?), 20)
    } else {
        (be_u64(b, 12)?, be_u64(b, 20)?, 28)
    };
    let count = usize::from(be_u16(b, at + 2)?);
    let refs = b.get(at + 4..at + 4 + count * 12)?;
    let (mut bytes, mut ticks) = (0u64, i64::try_from(ept).ok()?);
    for r in refs.chunks_exact(12) {
        bytes = bytes.saturating_add(u64::from(be_u32(r, 0)? & 0x7fff_ffff));
        ticks = ticks.saturating_add(i64::from(be_u32(r, 4)?));
    }
    let covered = after.saturating_add(first).saturating_add(bytes);
    Some((track_id, ticks, timescale, (covered, count)))
}

/// The offset of the last `moof` a `tfra` (track fragment random access) box lists: its last
/// entry's (entries are in time order). `None` for an empty or malformed box.
fn last_tfra_moof(tfra: &[u8]) -> Option<u64> {
    let v1 = tfra.first() == Some(&1);
    let sizes = be_u32(tfra, 8)?;
    let count = be_u32(tfra, 12)?;
    let (time_len, offset_len) = if v1 { (8, 8) } else { (4, 4) };
    let tail = (((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3) as usize;
    let entry = time_len + offset_len + tail;
    let last = count.checked_sub(1)? as usize;
    let at = 16usize.checked_add(last.checked_mul(entry)?)? + time_len;
    if v1 {
        be_u64(tfra, at)
    } else {
        be_u32(tfra, at).map(u64::from)
    }
}

/// Reads the header of the top-level box at `offset`; `None` at the end of the resource.
fn read_box_header(
    src: &mut dyn ByteSource,
    offset: u64,
) -> Result<Option<(u64, [u8; 4], u64)>, DemuxError> {
    let mut head = [0u8; 16];
    let n = src.read_at(offset, &mut head)?;
    if n < 8 {
        return Ok(None);
    }
    let (size, kind, header) = box_header(&head[..n]).ok_or_else(|| invalid("bad box header"))?;
    let size = match size {
        0 => src
            .len()
            .map(|t| t.saturating_sub(offset))
            .ok_or_else(|| invalid("open-ended box in a stream of unknown length"))?,
        s => s,
    };
    if size < header {
        return Err(invalid("box smaller than its header"));
    }
    Ok(Some((size, kind, header)))
}

fn read_payload(
    src: &mut dyn ByteSource,
    offset: u64,
    size: u64,
    header: u64,
) -> Result<Vec<u8>, DemuxError> {
    let len = size - header;
    if len > MAX_HEADER_BYTES {
        return Err(invalid("header box too large"));
    }
    let mut buf = vec![0u8; len as usize];
    if src.read_at(offset + header, &mut buf)? < buf.len() {
        return Err(invalid("truncated header box"));
    }
    Ok(buf)
}

fn parse_trak(
    trak: &[u8],
    movie_scale: u32,
) -> Result<(TrackInfo, TrackState, Vec<Sample>), DemuxError> {
    let tkhd = child(trak, b"tkhd").ok_or_else(|| invalid("no tkhd"))?;
    let v1 = tkhd.first() == Some(&1);
    let track_id = be_u32(tkhd, if v1 { 20 } else { 12 }).unwrap_or(0);
    let wh_at = if v1 { 88 } else { 76 };
    let tk_w = be_u32(tkhd, wh_at).unwrap_or(0) >> 16;
    let tk_h = be_u32(tkhd, wh_at + 4).unwrap_or(0) >> 16;
    // The matrix's a, b, c, d (16.16) precede the width: [a b u; c d v; x y w].
    let m = |i: usize| be_u32(tkhd, wh_at - 36 + i * 4).map_or(0, |v| v as i32);
    let (rotation_degrees, flip) = orientation(m(0), m(1), m(3), m(4));
    let mdia = child(trak, b"mdia").ok_or_else(|| invalid("no mdia"))?;
    let mdhd = child(mdia, b"mdhd").ok_or_else(|| invalid("no mdhd"))?;
    let (timescale, media_duration) = if mdhd.first() == Some(&1) {
        (be_u32(mdhd, 20), be_u64(mdhd, 24))
    } else {
        (be_u32(mdhd, 12), be_u32(mdhd, 16).map(u64::from))
    };
    let timescale = timescale
        .filter(|&t| t > 0)
        .ok_or_else(|| invalid("zero timescale"))?;
    let handler: [u8; 4] = child(mdia, b"hdlr")
        .and_then(|h| h.get(8..12))
        .and_then(|h| h.try_into().ok())
        .unwrap_or(*b"none");
    let stbl = path(mdia, &[b"minf", b"stbl"]).ok_or_else(|| invalid("no stbl"))?;
    let mut info = TrackInfo {
        id: u64::from(track_id),
        kind: match &handler {
            b"vide" => Some(TrackKind::Video),
            b"soun" => Some(TrackKind::Audio),
            _ => None,
        },
        duration_us: media_duration
            .filter(|&d| d > 0 && d != u64::from(u32::MAX) && d != u64::MAX)
            .map(|d| ticks_to_us(d.min(i64::MAX as u64) as i64, timescale)),
        ..TrackInfo::default()
    };
    if matches!(&handler, b"text" | b"subt" | b"sbtl") {
        wvtt_entry(stbl, &mut info)?;
    }
    if info.kind.is_some() {
        parse_stsd(stbl, &mut info)?;
        if info.kind == Some(TrackKind::Video) {
            // tkhd's size is the presentation size before the matrix: a 90° or 270° turn
            // swaps it for display.
            let w = if tk_w > 0 { tk_w } else { info.width };
            let h = if tk_h > 0 { tk_h } else { info.height };
            (info.display_width, info.display_height) = if rotation_degrees % 180 == 90 {
                (h, w)
            } else {
                (w, h)
            };
            info.rotation_degrees = rotation_degrees;
            info.flip = flip;
        }
    }
    let shift = edit_shift(trak, timescale, movie_scale)?;
    let state = TrackState {
        track_id,
        timescale,
        shift,
        ..TrackState::default()
    };
    let samples = if info.kind.is_some() || info.codec == WVTT {
        sample_table(stbl, timescale, shift)?
    } else {
        Vec::new()
    };
    Ok((info, state, samples))
}

/// Clockwise rotation (0, 90, 180, 270) and left-right mirror (applied first) of a `tkhd`
/// matrix's a, b, c, d (points map as `x' = a·x + c·y`, `y' = b·x + d·y`, y pointing down).
/// A negative determinant is a mirror; what is left after undoing it snaps to the nearest
/// right angle (matrices that shear or turn by other angles are not displayed as such).
fn orientation(a: i32, b: i32, c: i32, d: i32) -> (u16, bool) {
    let det = i64::from(a) * i64::from(d) - i64::from(b) * i64::from(c);
    let flip = det < 0;
    // M = mirror · R, and the mirror negates the first row: R = [-a -b; c d].
    let (a, b) = if flip {
        (-i64::from(a), -i64::from(b))
    } else {
        (i64::from(a), i64::from(b))
    };
    let degrees = if a.abs() >= b.abs() {
        if a >= 0 {
            0
        } else {
            180
        }
    } else if b > 0 {
        90
    } else {
        270
    };
    (degrees, flip)
}

/// Codec of a WebVTT track (ISO/IEC 14496-30 `wvtt` sample entry): a track without a
/// [`TrackKind`] (the player's video and audio pipelines pass it by) whose
/// [`TrackInfo::description`] is the `vttC` configuration (the WebVTT file header text).
/// Subtitles read its samples.
pub const WVTT: &str = "wvtt";

/// A text track's sample entry: `wvtt` sets [`WVTT`] and its `vttC` text; others are left
/// unknown.
fn wvtt_entry(stbl: &[u8], info: &mut TrackInfo) -> Result<(), DemuxError> {
    let Some(stsd) = child(stbl, b"stsd") else {
        return Ok(());
    };
    let Some((kind, entry)) = children(stsd.get(8..).unwrap_or_default()).next() else {
        return Ok(());
    };
    if &kind != b"wvtt" {
        return Ok(());
    }
    // SampleEntry: 6 reserved bytes and a data reference index, then boxes.
    let config = child(entry.get(8..).unwrap_or_default(), b"vttC").unwrap_or_default();
    if config.len() > MAX_CONFIG {
        return Err(invalid("vttC too large"));
    }
    info.codec = WVTT.into();
    info.description = Some(config.to_vec());
    Ok(())
}

/// The composition-time shift the edit list asks for, in media ticks.
fn edit_shift(trak: &[u8], timescale: u32, movie_scale: u32) -> Result<i64, DemuxError> {
    let Some(elst) = path(trak, &[b"edts", b"elst"]) else {
        return Ok(0);
    };
    let v1 = elst.first() == Some(&1);
    let width = if v1 { 20 } else { 12 };
    let (count, body) = table(elst, 4, width)?;
    let mut empty = 0i64;
    for i in 0..count as usize {
        let e = &body[i * width..];
        let (duration, media_time) = if v1 {
            (
                be_u64(e, 0).unwrap_or(0) as i64,
                be_u64(e, 8).unwrap_or(0) as i64,
            )
        } else {
            (
                i64::from(be_u32(e, 0).unwrap_or(0)),
                i64::from(be_u32(e, 4).unwrap_or(0) as i32),
            )
        };
        if media_time == -1 {
            // An empty edit: presentation starts later by its duration (movie timescale).
            let d = (duration as i128 * timescale as i128 / movie_scale.max(1) as i128) as i64;
            empty = empty.saturating_add(d);
            continue;
        }
        return Ok(empty.saturating_sub(media_time));
    }
    Ok(empty)
}

fn parse_stsd(stbl: &[u8], info: &mut TrackInfo) -> Result<(), DemuxError> {
    let stsd = child(stbl, b"stsd").ok_or_else(|| invalid("no stsd"))?;
    let (kind, entry) = children(stsd.get(8..).unwrap_or_default())
        .next()
        .ok_or_else(|| invalid("empty stsd"))?;
    let fourcc = String::from_utf8_lossy(&kind).into_owned();
    let config = |b: &[u8]| -> Result<Vec<u8>, DemuxError> {
        if b.len() > MAX_CONFIG {
            return Err(invalid("decoder configuration too large"));
        }
        Ok(b.to_vec())
    };
    match info.kind {
        Some(TrackKind::Video) => {
            info.width = u32::from(be_u16(entry, 24).unwrap_or(0));
            info.height = u32::from(be_u16(entry, 26).unwrap_or(0));
            let boxes = entry.get(78..).unwrap_or_default();
            let (codec, desc) = match &kind {
                b"avc1" | b"avc3" => {
                    let c = child(boxes, b"avcC").ok_or_else(|| invalid("avc1 without avcC"))?;
                    (codec::avc(c), Some(config(c)?))
                }
                b"hvc1" | b"hev1" => {
                    let c = child(boxes, b"hvcC").ok_or_else(|| invalid("hvc1 without hvcC"))?;
                    (codec::hevc(c, &fourcc), Some(config(c)?))
                }
                b"vp09" => (child(boxes, b"vpcC").and_then(codec::vp9_from_vpcc), None),
                b"vp08" => (Some("vp8".to_string()), None),
                b"av01" => {
                    let c = child(boxes, b"av1C").ok_or_else(|| invalid("av01 without av1C"))?;
                    (codec::av1(c), Some(config(c)?))
                }
                _ => (None, None),
            };
            info.codec = codec.unwrap_or_else(|| format!("?{fourcc}"));
            info.description = desc;
        }
        Some(TrackKind::Audio) => {
            let version = be_u16(entry, 8).unwrap_or(0);
            info.channels = be_u16(entry, 16).unwrap_or(0);
            info.sample_rate = be_u32(entry, 24).unwrap_or(0) >> 16;
            let skip = match version {
                1 => 28 + 16,
                2 => 28 + 36,
                _ => 28,
            };
            if version == 2 {
                // QuickTime version-2 sound description: the real rate (f64) and channel count
                // follow the version-0 fields, which hold placeholders.
                let rate = be_u64(entry, 32).map_or(0.0, f64::from_bits);
                info.sample_rate = if rate.is_finite() && rate > 0.0 && rate < 1e7 {
                    rate.round() as u32
                } else {
                    0
                };
                info.channels = be_u32(entry, 40)
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(0);
            }
            let boxes = entry.get(skip..).unwrap_or_default();
            // QuickTime puts decoder parameters (esds, enda) in a `wave` atom; `chan` and other
            // boxes are passed by.
            let wave = child(boxes, b"wave").unwrap_or_default();
            match &kind {
                b"mp4a" => {
                    let esds = child(boxes, b"esds")
                        .or_else(|| child(wave, b"esds"))
                        .ok_or_else(|| invalid("mp4a without esds"))?;
                    let (oti, asc) = parse_esds(esds.get(4..).unwrap_or_default());
                    match oti {
                        0x40 | 0x66 | 0x67 | 0x68 => {
                            let asc = asc.unwrap_or_default();
                            info.codec = codec::aac(asc).unwrap_or_else(|| "mp4a.40.2".into());
                            if let Some(n) = codec::aac_lc_channels(asc) {
                                info.channels = n;
                            }
                            info.description = Some(config(asc)?);
                        }
                        0x69 | 0x6b => info.codec = "mp3".into(),
                        _ => info.codec = format!("?mp4a.{oti:02x}"),
                    }
                }
                b"Opus" => {
                    let dops = child(boxes, b"dOps").ok_or_else(|| invalid("Opus without dOps"))?;
                    let head = opus_head(dops).ok_or_else(|| invalid("bad dOps"))?;
                    let pre_skip = u16::from_le_bytes([head[10], head[11]]);
                    info.codec_delay_us = ticks_to_us(i64::from(pre_skip), 48_000);
                    info.codec = "opus".into();
                    info.description = Some(head);
                }
                // Dolby AC-3 / E-AC-3 (ETSI TS 102 366 annex F): WebCodecs' names, the
                // channels from `dac3` / the first independent substream of `dec3`. Whether
                // the platform decodes them is the host's answer.
                b"ac-3" => {
                    info.codec = "ac-3".into();
                    if let Some(n) =
                        child(boxes, b"dac3").and_then(|b| codec::ac3_channels(b, false))
                    {
                        info.channels = n;
                    }
                }
                b"ec-3" => {
                    info.codec = "ec-3".into();
                    if let Some(n) =
                        child(boxes, b"dec3").and_then(|b| codec::ac3_channels(b, true))
                    {
                        info.channels = n;
                    }
                }
                b"fLaC" => {
                    let dfla = child(boxes, b"dfLa").ok_or_else(|| invalid("fLaC without dfLa"))?;
                    let mut d = b"fLaC".to_vec();
                    d.extend_from_slice(&config(dfla.get(4..).unwrap_or_default())?);
                    info.codec = "flac".into();
                    info.description = Some(d);
                }
                _ => {
                    info.codec = pcm_codec(&kind, entry, version, wave)
                        .unwrap_or_else(|| format!("?{fourcc}"));
                }
            }
        }
        None => {}
    }
    if &kind == b"encv" || &kind == b"enca" {
        return Err(DemuxError::Unsupported(
            "mp4: encrypted tracks are not supported".into(),
        ));
    }
    Ok(())
}

/// The codec string of a PCM sample entry (QuickTime `sowt`, `twos`, `raw `, `in24`, `in32`,
/// `fl32`, `fl64`, `lpcm`): `pcm-` + `s`/`u`/`f` + bits + `le`/`be` (`pcm-s16le`, `pcm-f32be`,
/// `pcm-u8`). These are the core's own names, not WebCodecs codec strings: the core decodes
/// PCM itself (see [`is_core_pcm`]). `None` for other entries or unusable parameters.
fn pcm_codec(kind: &[u8; 4], entry: &[u8], version: u16, wave: &[u8]) -> Option<String> {
    // `enda` in `wave`: a 16-bit flag, 1 when little-endian (in24, in32, fl32, fl64).
    let little = child(wave, b"enda")
        .and_then(|e| be_u16(e, 0))
        .is_some_and(|v| v == 1);
    let bits = be_u16(entry, 18).unwrap_or(0);
    let (format, bits, little) = match kind {
        b"sowt" if bits == 8 => ('s', 8, true),
        b"sowt" => ('s', 16, true),
        b"twos" if bits == 8 => ('s', 8, false),
        b"twos" => ('s', 16, false),
        b"raw " => ('u', 8, false),
        b"in24" => ('s', 24, little),
        b"in32" => ('s', 32, little),
        b"fl32" => ('f', 32, little),
        b"fl64" => ('f', 64, little),
        b"lpcm" if version == 2 => {
            // Version 2: constBitsPerChannel and formatSpecificFlags (float 1, big-endian 2,
            // signed 4).
            let bits = be_u32(entry, 48)?;
            let flags = be_u32(entry, 52)?;
            let format = if flags & 1 != 0 {
                'f'
            } else if flags & 4 != 0 || bits > 8 {
                's'
            } else {
                'u'
            };
            (format, u16::try_from(bits).ok()?, flags & 2 == 0)
        }
        _ => return None,
    };
    let valid = match format {
        'f' => matches!(bits, 32 | 64),
        _ => matches!(bits, 8 | 16 | 24 | 32),
    };
    if !valid {
        return None;
    }
    Some(if bits == 8 {
        format!("pcm-{format}8")
    } else {
        format!("pcm-{format}{bits}{}", if little { "le" } else { "be" })
    })
}

/// True for this demuxer's PCM codec strings (`pcm-s16le`...) that the core's decoder
/// (symphonia) reads right. symphonia maps `in24`/`in32`/`fl32`/`fl64` to little-endian whatever their `enda`
/// says, so big-endian samples wider than 16 bits are left out (reported unsupported rather
/// than played as noise); big-endian 16-bit (`twos`) and `lpcm` in either order are fine,
/// but one cannot tell an `lpcm` from an `in24` by the string, so the rule is by width.
pub fn is_core_pcm(codec: &str) -> bool {
    codec.starts_with("pcm-") && (!codec.ends_with("be") || codec == "pcm-s16be")
}

/// Object type indication and DecoderSpecificInfo from an ES descriptor.
fn parse_esds(b: &[u8]) -> (u8, Option<&[u8]>) {
    // Walks tag/length descriptors: ES (3) > DecoderConfig (4) > DecoderSpecificInfo (5).
    fn desc(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let mut len = 0usize;
        let mut i = 1;
        for _ in 0..4 {
            let c = *b.get(i)?;
            i += 1;
            len = (len << 7) | usize::from(c & 0x7f);
            if c & 0x80 == 0 {
                break;
            }
        }
        let body = b.get(i..i + len)?;
        Some((tag, body, b.get(i + len..).unwrap_or_default()))
    }
    let Some((3, es, _)) = desc(b) else {
        return (0, None);
    };
    let flags = es.get(2).copied().unwrap_or(0);
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2;
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(es.get(at).copied().unwrap_or(0));
    }
    if flags & 0x20 != 0 {
        at += 2;
    }
    let Some((4, dc, _)) = es.get(at..).and_then(desc) else {
        return (0, None);
    };
    let oti = dc.first().copied().unwrap_or(0);
    let asc = dc
        .get(13..)
        .and_then(desc)
        .and_then(|(t, body, _)| (t == 5).then_some(body));
    (oti, asc)
}

/// The OpusHead identification header WebCodecs expects, from an MP4 `dOps` box.
fn opus_head(dops: &[u8]) -> Option<Vec<u8>> {
    let channels = *dops.get(1)?;
    let pre_skip = be_u16(dops, 2)?;
    let rate = be_u32(dops, 4)?;
    let gain = be_u16(dops, 8)?;
    let family = *dops.get(10)?;
    let mut h = b"OpusHead".to_vec();
    h.push(1);
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&gain.to_le_bytes());
    h.push(family);
    if family != 0 {
        h.extend_from_slice(dops.get(11..13 + usize::from(channels))?);
    }
    Some(h)
}

/// The progressive sample table of one track, in decode order.
fn sample_table(stbl: &[u8], timescale: u32, shift: i64) -> Result<Vec<Sample>, DemuxError> {
    // Sizes.
    let (count, sizes): (u32, Box<dyn Fn(usize) -> u32 + '_>) =
        if let Some(stsz) = child(stbl, b"stsz") {
            let fixed = be_u32(stsz, 4).ok_or_else(|| invalid("short stsz"))?;
            let count = be_u32(stsz, 8).ok_or_else(|| invalid("short stsz"))?;
            if fixed != 0 {
                (count, Box::new(move |_| fixed))
            } else {
                let (count, body) = table(stsz, 8, 4)?;
                (count, Box::new(move |i| be_u32(body, i * 4).unwrap_or(0)))
            }
        } else if let Some(stz2) = child(stbl, b"stz2") {
            let field = stz2.get(7).copied().unwrap_or(0);
            let count = be_u32(stz2, 8).ok_or_else(|| invalid("short stz2"))?;
            let bits = usize::from(field);
            if !matches!(bits, 4 | 8 | 16) || count > MAX_ENTRIES {
                return Err(invalid("bad stz2"));
            }
            let body = stz2
                .get(12..12 + (count as usize * bits).div_ceil(8))
                .ok_or_else(|| invalid("stz2 past its box"))?;
            (
                count,
                Box::new(move |i| match bits {
                    4 => {
                        let b = body.get(i / 2).copied().unwrap_or(0);
                        u32::from(if i % 2 == 0 { b >> 4 } else { b & 15 })
                    }
                    8 => u32::from(body.get(i).copied().unwrap_or(0)),
                    _ => u32::from(be_u16(body, i * 2).unwrap_or(0)),
                }),
            )
        } else {
            return Ok(Vec::new());
        };
    let count = count as usize;
    if count > MAX_SAMPLES {
        return Err(invalid("too many samples"));
    }
    // Chunk offsets.
    let chunks: Vec<u64> = if let Some(stco) = child(stbl, b"stco") {
        let (n, body) = table(stco, 4, 4)?;
        (0..n as usize)
            .map(|i| u64::from(be_u32(body, i * 4).unwrap_or(0)))
            .collect()
    } else if let Some(co64) = child(stbl, b"co64") {
        let (n, body) = table(co64, 4, 8)?;
        (0..n as usize)
            .map(|i| be_u64(body, i * 8).unwrap_or(0))
            .collect()
    } else {
        return Err(invalid("no chunk offsets"));
    };
    let stsc = child(stbl, b"stsc").ok_or_else(|| invalid("no stsc"))?;
    let (stsc_n, stsc) = table(stsc, 4, 12)?;
    let stts = child(stbl, b"stts").ok_or_else(|| invalid("no stts"))?;
    let (stts_n, stts) = table(stts, 4, 8)?;
    let ctts = match child(stbl, b"ctts") {
        Some(c) => {
            let signed = c.first() == Some(&1);
            let (n, body) = table(c, 4, 8)?;
            Some((signed, n, body))
        }
        None => None,
    };
    let sync: Option<Vec<u32>> = match child(stbl, b"stss") {
        Some(s) => {
            let (n, body) = table(s, 4, 4)?;
            Some(
                (0..n as usize)
                    .map(|i| be_u32(body, i * 4).unwrap_or(0))
                    .collect(),
            )
        }
        None => None,
    };
    let mut out = Vec::with_capacity(count.min(1 << 16));
    // Sample → chunk mapping.
    let mut sample = 0usize;
    'chunks: for e in 0..stsc_n as usize {
        let first = be_u32(stsc, e * 12).unwrap_or(1).max(1) as usize - 1;
        let per = be_u32(stsc, e * 12 + 4).unwrap_or(0) as usize;
        let last = if e + 1 < stsc_n as usize {
            (be_u32(stsc, (e + 1) * 12).unwrap_or(1).max(1) as usize - 1).min(chunks.len())
        } else {
            chunks.len()
        };
        for c in first..last {
            let Some(&base) = chunks.get(c) else {
                break 'chunks;
            };
            let mut off = base;
            for _ in 0..per {
                if sample >= count {
                    break 'chunks;
                }
                let size = sizes(sample);
                out.push(Sample {
                    pts_us: 0,
                    dts_us: 0,
                    duration_us: 0,
                    offset: off,
                    size,
                    key: true,
                });
                off = off.saturating_add(u64::from(size));
                sample += 1;
            }
        }
    }
    // Times.
    let mut dts = 0i64;
    let mut i = 0usize;
    for e in 0..stts_n as usize {
        let n = be_u32(stts, e * 8).unwrap_or(0) as usize;
        let delta = i64::from(be_u32(stts, e * 8 + 4).unwrap_or(0));
        for _ in 0..n {
            let Some(s) = out.get_mut(i) else { break };
            s.dts_us = dts;
            s.duration_us = delta;
            dts += delta;
            i += 1;
        }
    }
    // Samples the stts does not cover keep the last delta.
    let tail = out.get(i.saturating_sub(1)).map_or(0, |s| s.duration_us);
    for s in out.iter_mut().skip(i) {
        s.dts_us = dts;
        s.duration_us = tail;
        dts += tail;
    }
    let mut i = 0usize;
    if let Some((signed, n, body)) = ctts {
        for e in 0..n as usize {
            let count = be_u32(body, e * 8).unwrap_or(0) as usize;
            let raw = be_u32(body, e * 8 + 4).unwrap_or(0);
            // Version 0 is unsigned, but some muxers write negative offsets anyway.
            let off = if signed || raw > i32::MAX as u32 {
                i64::from(raw as i32)
            } else {
                i64::from(raw)
            };
            for _ in 0..count {
                let Some(s) = out.get_mut(i) else { break };
                s.pts_us = off;
                i += 1;
            }
        }
    }
    if let Some(sync) = sync {
        for s in out.iter_mut() {
            s.key = false;
        }
        for n in sync {
            if let Some(s) = (n as usize).checked_sub(1).and_then(|i| out.get_mut(i)) {
                s.key = true;
            }
        }
    }
    // Ticks → microseconds (pts_us held the composition offset until here).
    for s in out.iter_mut() {
        let pts = s.dts_us + s.pts_us + shift;
        s.pts_us = ticks_to_us(pts, timescale);
        s.dts_us = ticks_to_us(s.dts_us + shift, timescale);
        s.duration_us = ticks_to_us(s.duration_us, timescale);
    }
    Ok(out)
}

impl Demux for Mp4Demuxer {
    fn container(&self) -> &'static str {
        "isomp4"
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn fragmented(&self) -> bool {
        self.segments.len() > 1 || self.scan.is_some()
    }

    fn duration(&self) -> Option<f64> {
        if self.duration.is_some() || self.scan.is_some() {
            return self.duration;
        }
        // A fragmented file without a duration in its header: known once every fragment has
        // been seen.
        self.segments
            .iter()
            .flat_map(|s| s.samples.iter().flatten())
            .map(|s| s.pts_us + s.duration_us)
            .max()
            .map(|us| us as f64 / 1e6)
    }

    fn next_sample(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        let mut at = *cursor;
        loop {
            if at.segment >= self.segments.len() {
                if !self.discover(src)? {
                    return Ok(None);
                }
                continue;
            }
            let samples = self
                .segments
                .get(at.segment)
                .and_then(|s| s.samples.get(track));
            match samples.and_then(|s| s.get(at.index)) {
                Some(sample) => {
                    let sample = *sample;
                    *cursor = Cursor {
                        segment: at.segment,
                        index: at.index + 1,
                    };
                    return Ok(Some(sample));
                }
                None => {
                    at = Cursor {
                        segment: at.segment + 1,
                        index: 0,
                    };
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
        let mut best: Option<Cursor> = None;
        let mut first: Option<Cursor> = None;
        let mut seg = 0;
        loop {
            if seg >= self.segments.len() {
                if !self.discover(src)? {
                    break;
                }
                continue;
            }
            let samples = self
                .segments
                .get(seg)
                .and_then(|s| s.samples.get(track))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut past = false;
            for (index, s) in samples.iter().enumerate() {
                if !s.key {
                    continue;
                }
                let c = Cursor {
                    segment: seg,
                    index,
                };
                first.get_or_insert(c);
                if s.pts_us <= time_us {
                    best = Some(c);
                } else {
                    past = true;
                    break;
                }
            }
            if past {
                break;
            }
            seg += 1;
        }
        Ok(best.or(first).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: i32 = 0x1_0000;

    #[test]
    fn orientation_of_matrices() {
        assert_eq!(orientation(ONE, 0, 0, ONE), (0, false));
        assert_eq!(orientation(0, ONE, -ONE, 0), (90, false));
        assert_eq!(orientation(-ONE, 0, 0, -ONE), (180, false));
        assert_eq!(orientation(0, -ONE, ONE, 0), (270, false));
        // Mirrors: left-right, top-bottom (= mirror + 180°), and the two diagonals.
        assert_eq!(orientation(-ONE, 0, 0, ONE), (0, true));
        assert_eq!(orientation(ONE, 0, 0, -ONE), (180, true));
        assert_eq!(orientation(0, ONE, ONE, 0), (270, true));
        assert_eq!(orientation(0, -ONE, -ONE, 0), (90, true));
        // A zero matrix (a broken tkhd) is shown as it is.
        assert_eq!(orientation(0, 0, 0, 0), (0, false));
    }

    #[test]
    fn pcm_codec_strings() {
        let mut entry = vec![0u8; 28];
        entry[19] = 16;
        assert_eq!(
            pcm_codec(b"sowt", &entry, 0, &[]).as_deref(),
            Some("pcm-s16le")
        );
        assert_eq!(
            pcm_codec(b"twos", &entry, 0, &[]).as_deref(),
            Some("pcm-s16be")
        );
        let enda = [0, 0, 0, 10, b'e', b'n', b'd', b'a', 0, 1];
        assert_eq!(
            pcm_codec(b"in24", &entry, 1, &enda).as_deref(),
            Some("pcm-s24le")
        );
        assert_eq!(
            pcm_codec(b"fl32", &entry, 1, &[]).as_deref(),
            Some("pcm-f32be")
        );
        assert_eq!(pcm_codec(b"mp4a", &entry, 0, &[]), None);
        // lpcm version 2 with unusable widths.
        let mut v2 = vec![0u8; 64];
        v2[51] = 12;
        assert_eq!(pcm_codec(b"lpcm", &v2, 2, &[]), None);
        v2[51] = 32;
        v2[55] = 1 | 2;
        assert_eq!(
            pcm_codec(b"lpcm", &v2, 2, &[]).as_deref(),
            Some("pcm-f32be")
        );
        assert!(is_core_pcm("pcm-s16be") && is_core_pcm("pcm-f32le"));
        assert!(!is_core_pcm("pcm-s24be") && !is_core_pcm("mp4a.40.2"));
    }
}
