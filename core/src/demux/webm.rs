//! WebM / Matroska demuxer over a [`ByteSource`].
//!
//! `open` reads the EBML header, the Segment's SeekHead, Info and Tracks (following the SeekHead
//! when they come after the clusters). Clusters are found lazily as playback walks forward:
//! each one is a record (offset, end, timestamp, links to its neighbours) numbered in the order
//! this demuxer discovers it; [`Cursor::segment`] is that number and [`Cursor::index`] the n-th
//! sample of the track within the cluster. Playing forward from the start discovers clusters in
//! file order, so the number is then the cluster's index in the file; a seek through the Cues
//! jumps to a far cluster without reading the ones between (they get later numbers if they are
//! ever reached), which keeps seeking in a long file at a handful of reads.
//!
//! A cluster's blocks are parsed incrementally, element by element, only as far as a caller
//! needs; the parsed sample lists of the last few clusters are kept, and a small per-track
//! summary (count, first and last keyframe) of every fully parsed cluster, so skipping and
//! seeking never re-read a cluster. Every step either completes or returns
//! [`DemuxError::NeedBytes`] with nothing changed, so any call can be repeated.
//!
//! Times: `(cluster timestamp + block timestamp) × TimestampScale − CodecDelay`, in µs, as the
//! Matroska specification defines (the first Opus packet of an ffmpeg file is at −6.5 ms and
//! [`TrackInfo::codec_delay_us`] says how much decoded audio to drop, as for MP4). Frames of a
//! laced block share the block's timestamp, advanced by the track's DefaultDuration when it has
//! one. [`Demux::seek`] honours the track's SeekPreRoll (80 ms for Opus): it lands on a keyframe
//! at or before `time_us − SeekPreRoll`.
//!
//! Unknown-size Segment and Cluster elements (live WebM) end at the parent's end or at the next
//! top-level element. Tracks with ContentEncodings (compression, encryption) are listed with an
//! unrecognised (`?`) codec since their frames are not stored as is.
//!
//! One file per container: the EBML reader, the element tables, Cues, Clusters and lacing share
//! one bounded reader and its limits; split by element they would all reach into each other.

use std::collections::BTreeMap;

use super::{
    codec, ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind, MAX_HEADER_BYTES,
    MAX_SAMPLES,
};

// Element ids (with their length marker, as written).
const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const SEEK_POSITION: u32 = 0x53AC;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2AD7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63A2;
const DEFAULT_DURATION: u32 = 0x23E383;
const CODEC_DELAY: u32 = 0x56AA;
const SEEK_PRE_ROLL: u32 = 0x56BB;
const CONTENT_ENCODINGS: u32 = 0x6D80;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const DISPLAY_WIDTH: u32 = 0x54B0;
const DISPLAY_HEIGHT: u32 = 0x54BA;
const DISPLAY_UNIT: u32 = 0x54B2;
const AUDIO: u32 = 0xE1;
const SAMPLING_FREQUENCY: u32 = 0xB5;
const CHANNELS: u32 = 0x9F;
const CLUSTER: u32 = 0x1F43_B675;
const TIMESTAMP: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const BLOCK_DURATION: u32 = 0x9B;
const REFERENCE_BLOCK: u32 = 0xFB;
const CUES: u32 = 0x1C53_BB6B;
const CUE_POINT: u32 = 0xBB;
const CUE_TIME: u32 = 0xB3;
const CUE_TRACK_POSITIONS: u32 = 0xB7;
const CUE_TRACK: u32 = 0xF7;
const CUE_CLUSTER_POSITION: u32 = 0xF1;
const CHAPTERS: u32 = 0x1043_A770;
const ATTACHMENTS: u32 = 0x1941_A469;
const TAGS: u32 = 0x1254_C367;

/// Largest CodecPrivate accepted.
const MAX_PRIVATE: usize = 1 << 20;
/// Most tracks a file may declare.
const MAX_TRACKS: usize = 256;
/// Parsed clusters whose sample lists are kept.
const CACHED_CLUSTERS: usize = 8;
/// Most top-level elements looked at between two clusters (or before the first one).
const MAX_SCAN: usize = 1 << 16;
/// Bytes read at once when loading an element whole (the buffer grows as bytes arrive).
const CHUNK: usize = 64 * 1024;

fn invalid(m: impl Into<String>) -> DemuxError {
    DemuxError::Invalid(format!("webm: {}", m.into()))
}

/// Ids of the elements that may appear at the top level of a Segment (or start a new one):
/// they end an unknown-size Cluster.
fn is_top_level(id: u32) -> bool {
    matches!(
        id,
        CLUSTER | CUES | SEEK_HEAD | INFO | TRACKS | CHAPTERS | ATTACHMENTS | TAGS | EBML | SEGMENT
    )
}

/// Length of a variable-size integer from its first byte (1..=8), `None` for 0x00.
fn vint_len(b0: u8) -> Option<usize> {
    (b0 != 0).then(|| b0.leading_zeros() as usize + 1)
}

/// A variable-size integer at the start of `b`: (value without the length marker, length,
/// all value bits set). `None` when `b` is too short or the first byte is 0.
fn vint(b: &[u8]) -> Option<(u64, usize, bool)> {
    let len = vint_len(*b.first()?)?;
    let bytes = b.get(..len)?;
    let mut v = 0u64;
    for &x in bytes {
        v = (v << 8) | u64::from(x);
    }
    let bits = 7 * len as u32;
    let mask = (1u64 << bits) - 1;
    v &= mask;
    Some((v, len, v == mask))
}

/// An element header: id, where it starts, where its data starts, data size (`None` = unknown).
#[derive(Debug, Clone, Copy)]
struct Header {
    id: u32,
    data: u64,
    size: Option<u64>,
}

impl Header {
    fn end(&self) -> Option<u64> {
        self.size.and_then(|s| self.data.checked_add(s))
    }
}

/// Parses an element header at the start of `b` (found at file offset `at`): `Ok(None)` when
/// `b` ends first (end of data).
fn parse_header(b: &[u8], at: u64) -> Result<Option<(Header, usize)>, DemuxError> {
    let Some(&b0) = b.first() else {
        return Ok(None);
    };
    let id_len = match vint_len(b0) {
        Some(n) if n <= 4 => n,
        _ => return Err(invalid(format!("bad element id at byte {at}"))),
    };
    let Some(id_bytes) = b.get(..id_len) else {
        return Ok(None);
    };
    let id = id_bytes.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x));
    let rest = b.get(id_len..).unwrap_or(&[]);
    let Some(&s0) = rest.first() else {
        return Ok(None);
    };
    if s0 == 0 {
        return Err(invalid(format!("bad element size at byte {at}")));
    }
    let Some((size, size_len, unknown)) = vint(rest) else {
        return Ok(None);
    };
    let hlen = id_len + size_len;
    let data = at
        .checked_add(hlen as u64)
        .ok_or_else(|| invalid("offset overflow"))?;
    let size = (!unknown).then_some(size);
    if let Some(s) = size {
        if data.checked_add(s).is_none() {
            return Err(invalid(format!("element size overflow at byte {at}")));
        }
    }
    Ok(Some((Header { id, data, size }, hlen)))
}

/// Reads the element header at `at`; `Ok(None)` at the end of the data (or a header cut by it).
fn read_header(src: &mut dyn ByteSource, at: u64) -> Result<Option<Header>, DemuxError> {
    let mut b = [0u8; 12];
    let n = src.read_at(at, &mut b)?;
    Ok(parse_header(b.get(..n).unwrap_or(&[]), at)?.map(|(h, _)| h))
}

/// Big-endian unsigned integer element body.
fn uint(b: &[u8]) -> Result<u64, DemuxError> {
    if b.len() > 8 {
        return Err(invalid(format!(
            "unsigned integer of {} bytes exceeds 8",
            b.len()
        )));
    }
    Ok(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

/// Float element body (0, 4 or 8 bytes).
fn float(b: &[u8]) -> Result<f64, DemuxError> {
    match b.len() {
        0 => Ok(0.0),
        4 => Ok(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
        8 => Ok(f64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ])),
        n => Err(invalid(format!("float of {n} bytes"))),
    }
}

fn string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(b.get(..end).unwrap_or(&[])).into_owned()
}

/// Calls `f` for every child (id, body) of a master element held in memory.
fn children<'a>(
    b: &'a [u8],
    mut f: impl FnMut(u32, &'a [u8]) -> Result<(), DemuxError>,
) -> Result<(), DemuxError> {
    let mut pos = 0usize;
    while pos < b.len() {
        let rest = b.get(pos..).unwrap_or(&[]);
        let Some((h, hlen)) = parse_header(rest, 0)? else {
            return Err(invalid("element header cut by its parent's end"));
        };
        let Some(size) = h.size else {
            return Err(invalid(format!(
                "unknown-size element {:X} in a header",
                h.id
            )));
        };
        let start = pos + hlen;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| start.checked_add(s))
            .filter(|&e| e <= b.len())
            .ok_or_else(|| invalid(format!("element {:X} overruns its parent", h.id)))?;
        f(h.id, b.get(start..end).unwrap_or(&[]))?;
        pos = end;
    }
    Ok(())
}

/// Reads `size` bytes at `at`, growing the buffer as bytes arrive (no allocation beyond what
/// the resource holds). A short read is an error naming `what`.
fn read_body(
    src: &mut dyn ByteSource,
    at: u64,
    size: u64,
    what: &str,
) -> Result<Vec<u8>, DemuxError> {
    if size > MAX_HEADER_BYTES {
        return Err(invalid(format!(
            "{what} of {size} bytes exceeds the {MAX_HEADER_BYTES}-byte limit"
        )));
    }
    let size = size as usize;
    let mut out = Vec::new();
    while out.len() < size {
        let want = (size - out.len()).min(CHUNK);
        let start = out.len();
        out.resize(start + want, 0);
        let n = src.read_at(at + start as u64, out.get_mut(start..).unwrap_or(&mut []))?;
        if n < want {
            return Err(invalid(format!("{what} cut by the end of the file")));
        }
    }
    Ok(out)
}

/// Reads a small unsigned integer element body; `Ok(None)` when the data ends first.
fn read_uint_at(src: &mut dyn ByteSource, h: &Header) -> Result<Option<u64>, DemuxError> {
    let size = h.size.unwrap_or(9);
    if size > 8 {
        return Err(invalid(format!(
            "integer element {:X} of {size} bytes",
            h.id
        )));
    }
    let mut b = [0u8; 8];
    let want = size as usize;
    let buf = b.get_mut(..want).unwrap_or(&mut []);
    let n = src.read_at(h.data, buf)?;
    if n < want {
        return Ok(None);
    }
    uint(b.get(..want).unwrap_or(&[])).map(Some)
}

/// Rounds nanoseconds to microseconds.
fn ns_to_us(ns: i128) -> i64 {
    let r = if ns >= 0 {
        (ns + 500) / 1000
    } else {
        (ns - 500) / 1000
    };
    r.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// What the demuxer keeps per track besides its [`TrackInfo`].
#[derive(Debug, Clone, Default)]
struct TrackState {
    number: u64,
    default_duration_ns: Option<u64>,
    codec_delay_ns: u64,
    seek_preroll_us: i64,
    /// VP9 track whose codec string should come from its first keyframe.
    probe_vp9: bool,
}

/// A link between clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not looked for yet.
    Unknown,
    /// There is none (or it cannot be found).
    None,
    /// The cluster with this number.
    To(usize),
}

/// Per track, what a fully parsed cluster holds.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    count: usize,
    first_key: Option<(usize, i64)>,
    last_key: Option<(usize, i64)>,
}

/// A cluster found so far.
#[derive(Debug, Clone)]
struct ClusterRec {
    offset: u64,
    data: u64,
    /// End of its data: from its size, or found by parsing when the size is unknown.
    end: Option<u64>,
    /// Whether the size was given (else the cluster ends at the next top-level element).
    sized: bool,
    /// Cluster timestamp in TimestampScale ticks.
    ts: i64,
    next: Link,
    prev: Link,
    summary: Option<Vec<Summary>>,
    /// Latest pts of any track, once fully parsed.
    max_pts: Option<i64>,
}

/// The samples of a cluster parsed so far.
#[derive(Debug, Clone)]
struct Parsed {
    cluster: usize,
    /// Next child element to parse.
    pos: u64,
    done: bool,
    samples: Vec<Vec<Sample>>,
    /// Per track, pts of the latest keyframe parsed.
    last_key_pts: Vec<Option<i64>>,
    /// Per track, latest pts parsed.
    track_max: Vec<Option<i64>>,
    /// Latest pts of any track parsed.
    max_pts: Option<i64>,
    total: usize,
}

/// One cue: time in ticks, track number, absolute cluster offset.
#[derive(Debug, Clone, Copy)]
struct Cue {
    time: u64,
    track: u64,
    pos: u64,
}

#[derive(Debug, Clone)]
enum Cues {
    /// No Cues element known (yet).
    Unknown,
    /// A Cues element at this offset, not read yet.
    At(u64),
    /// Read (empty when unreadable).
    Loaded(Vec<Cue>),
}

/// A parsed block header: track number, relative timestamp, flags and frame sizes.
struct BlockHead {
    track: u64,
    rel: i16,
    flags: u8,
    header_len: usize,
    sizes: Vec<u64>,
}

/// Parses a block header from `b`, the first bytes of a block of `size` bytes. `Ok(None)` when
/// `b` is shorter than the block and more bytes are needed for the lace header.
fn parse_block_head(b: &[u8], size: u64) -> Result<Option<BlockHead>, DemuxError> {
    let whole = b.len() as u64 >= size;
    let more = || {
        if whole {
            Err(invalid("block header overruns its block"))
        } else {
            Ok(None)
        }
    };
    let Some((track, tlen, _)) = vint(b) else {
        if b.first() == Some(&0) {
            return Err(invalid("bad track number in a block"));
        }
        return more();
    };
    let Some(&[t0, t1, flags]) = b.get(tlen..tlen + 3) else {
        return more();
    };
    let rel = i16::from_be_bytes([t0, t1]);
    let mut pos = tlen + 3;
    let mut sizes = Vec::new();
    let lacing = (flags >> 1) & 3;
    if lacing != 0 {
        let Some(&n) = b.get(pos) else {
            return more();
        };
        pos += 1;
        let count = usize::from(n) + 1;
        match lacing {
            1 => {
                // Xiph: each size as a run of 255s plus a final byte.
                for _ in 1..count {
                    let mut s = 0u64;
                    loop {
                        let Some(&x) = b.get(pos) else {
                            return more();
                        };
                        pos += 1;
                        s += u64::from(x);
                        if x != 255 {
                            break;
                        }
                    }
                    sizes.push(s);
                }
            }
            3 => {
                // EBML: the first size, then signed differences.
                let mut prev = 0i128;
                for i in 1..count {
                    let rest = b.get(pos..).unwrap_or(&[]);
                    if rest.first() == Some(&0) {
                        return Err(invalid("bad EBML lace size"));
                    }
                    let Some((v, len, _)) = vint(rest) else {
                        return more();
                    };
                    pos += len;
                    let s = if i == 1 {
                        i128::from(v)
                    } else {
                        let bias = (1i128 << (7 * len - 1)) - 1;
                        prev + i128::from(v) - bias
                    };
                    if s < 0 || s > i128::from(size) {
                        return Err(invalid("bad EBML lace size"));
                    }
                    prev = s;
                    sizes.push(s as u64);
                }
            }
            _ => {
                // Fixed-size: all frames share what is left.
                let left = size.saturating_sub(pos as u64);
                let count = count as u64;
                if !left.is_multiple_of(count) {
                    return Err(invalid("fixed-size lace does not divide its block"));
                }
                for _ in 1..count {
                    sizes.push(left / count);
                }
            }
        }
    }
    let used = sizes.iter().fold(pos as u64, |a, &s| a.saturating_add(s));
    if pos as u64 > size || used > size {
        return Err(invalid("lace sizes exceed their block"));
    }
    sizes.push(size - used);
    Ok(Some(BlockHead {
        track,
        rel,
        flags,
        header_len: pos,
        sizes,
    }))
}

/// Reads and parses the header of the block whose data is at `at` (`size` bytes).
fn read_block_head(
    src: &mut dyn ByteSource,
    at: u64,
    size: u64,
) -> Result<Option<BlockHead>, DemuxError> {
    let mut want = size.min(64);
    loop {
        let mut b = vec![0u8; want as usize];
        let n = src.read_at(at, &mut b)?;
        if (n as u64) < want {
            return Ok(None); // cut by the end of the file
        }
        if let Some(h) = parse_block_head(&b, size)? {
            return Ok(Some(h));
        }
        if want >= size || want >= MAX_HEADER_BYTES {
            return Err(invalid("block lace header too long"));
        }
        want = (want * 8).min(size).min(MAX_HEADER_BYTES);
    }
}

/// VP9 CodecPrivate (codec feature list: id, length, value): profile, level, bit depth when
/// all are present and the level is a defined one.
fn vp9_from_private(p: &[u8]) -> Option<String> {
    let (mut profile, mut level, mut depth) = (None, None, None);
    let mut pos = 0usize;
    while pos + 2 <= p.len() {
        let id = *p.get(pos)?;
        let len = usize::from(*p.get(pos + 1)?);
        let v = p.get(pos + 2..pos + 2 + len)?;
        if len == 1 {
            let x = *v.first()?;
            match id {
                1 => profile = Some(x),
                2 => level = Some(x),
                3 => depth = Some(x),
                _ => {}
            }
        }
        pos += 2 + len;
    }
    let level = level.filter(|l| {
        matches!(
            l,
            10 | 11 | 20 | 21 | 30 | 31 | 40 | 41 | 50 | 51 | 52 | 60 | 61 | 62
        )
    })?;
    let profile = profile.filter(|&p| p <= 3)?;
    let depth = depth.filter(|d| matches!(d, 8 | 10 | 12))?;
    Some(codec::vp9(profile, level, depth))
}

/// `vp09.PP.62.DD` from the uncompressed header of a VP9 keyframe: profile and bit depth from
/// the frame, the loosest level (the bitstream codes none). Done here rather than with
/// `codec::vp9_from_keyframe`, which reads the bits after the profile one position early for
/// profiles 2 and 3 (so gives no string for 10-bit video).
fn vp9_from_keyframe(frame: &[u8]) -> Option<String> {
    let bit = |p: usize| -> Option<u8> { Some((frame.get(p / 8)? >> (7 - p % 8)) & 1) };
    if bit(0)? != 1 || bit(1)? != 0 {
        return None; // frame_marker
    }
    let profile = bit(2)? | (bit(3)? << 1);
    let mut pos = 4;
    if profile == 3 {
        pos += 1; // reserved_zero
    }
    // show_existing_frame, frame_type (0 = key), show_frame, error_resilient_mode.
    if bit(pos)? != 0 || bit(pos + 1)? != 0 {
        return None;
    }
    pos += 4;
    let sync = (0..24).try_fold(0u32, |a, i| Some((a << 1) | u32::from(bit(pos + i)?)))?;
    if sync != 0x49_8342 {
        return None;
    }
    pos += 24;
    let depth = if profile >= 2 {
        if bit(pos)? == 1 {
            12
        } else {
            10
        }
    } else {
        8
    };
    Some(codec::vp9(profile, 62, depth))
}

/// Codec string and decoder description for a CodecID and CodecPrivate. The third value asks
/// for the VP9 keyframe probe.
fn codec_for(id: &str, private: Option<&[u8]>) -> (String, Option<Vec<u8>>, bool) {
    let unknown = || format!("?{id}");
    let desc = private.map(<[u8]>::to_vec);
    match id {
        "V_VP8" => ("vp8".into(), None, false),
        "V_VP9" => match private.and_then(vp9_from_private) {
            Some(s) => (s, None, false),
            None => ("vp09.00.62.08".into(), None, true),
        },
        "V_AV1" => match private.and_then(codec::av1) {
            Some(s) => (s, desc, false),
            None => (unknown(), None, false),
        },
        "V_MPEG4/ISO/AVC" => match private.and_then(codec::avc) {
            Some(s) => (s, desc, false),
            None => (unknown(), None, false),
        },
        "V_MPEGH/ISO/HEVC" => match private.and_then(|p| codec::hevc(p, "hvc1")) {
            Some(s) => (s, desc, false),
            None => (unknown(), None, false),
        },
        "A_OPUS" => ("opus".into(), desc, false),
        "A_VORBIS" => ("vorbis".into(), desc, false),
        "A_FLAC" => ("flac".into(), desc, false),
        "A_MPEG/L3" => ("mp3".into(), None, false),
        // Dolby: WebCodecs' names; the host decides whether its platform decodes them.
        "A_AC3" => ("ac-3".into(), None, false),
        "A_EAC3" => ("ec-3".into(), None, false),
        _ if id.starts_with("A_AAC") => match private.and_then(codec::aac) {
            Some(s) => (s, desc, false),
            None => (unknown(), None, false),
        },
        _ => (unknown(), None, false),
    }
}

/// Parses one TrackEntry.
fn parse_track(b: &[u8], duration_us: Option<i64>) -> Result<(TrackInfo, TrackState), DemuxError> {
    let mut info = TrackInfo {
        duration_us,
        ..TrackInfo::default()
    };
    let mut st = TrackState::default();
    let mut codec_id = String::new();
    let mut private: Option<&[u8]> = None;
    let mut kind = 0u64;
    let mut encoded = false;
    let (mut dw, mut dh, mut unit) = (None, None, 0u64);
    let mut rate = 8000.0f64;
    let mut channels = 1u64;
    children(b, |id, body| {
        match id {
            TRACK_NUMBER => st.number = uint(body)?,
            TRACK_TYPE => kind = uint(body)?,
            CODEC_ID => codec_id = string(body),
            CODEC_PRIVATE => {
                if body.len() > MAX_PRIVATE {
                    return Err(invalid(format!(
                        "CodecPrivate of {} bytes exceeds the {MAX_PRIVATE}-byte limit",
                        body.len()
                    )));
                }
                private = Some(body);
            }
            DEFAULT_DURATION => st.default_duration_ns = Some(uint(body)?).filter(|&d| d > 0),
            CODEC_DELAY => st.codec_delay_ns = uint(body)?,
            SEEK_PRE_ROLL => {
                st.seek_preroll_us = ns_to_us(i128::from(uint(body)?));
            }
            CONTENT_ENCODINGS => encoded = true,
            VIDEO => children(body, |id, v| {
                match id {
                    PIXEL_WIDTH => info.width = u32::try_from(uint(v)?).unwrap_or(u32::MAX),
                    PIXEL_HEIGHT => info.height = u32::try_from(uint(v)?).unwrap_or(u32::MAX),
                    DISPLAY_WIDTH => dw = Some(uint(v)?),
                    DISPLAY_HEIGHT => dh = Some(uint(v)?),
                    DISPLAY_UNIT => unit = uint(v)?,
                    _ => {}
                }
                Ok(())
            })?,
            AUDIO => children(body, |id, a| {
                match id {
                    SAMPLING_FREQUENCY => rate = float(a)?,
                    CHANNELS => channels = uint(a)?,
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    if st.number == 0 {
        return Err(invalid("track without a TrackNumber"));
    }
    info.id = st.number;
    info.kind = match kind {
        1 => Some(TrackKind::Video),
        2 => Some(TrackKind::Audio),
        _ => None,
    };
    let (codec, description, probe) = codec_for(&codec_id, private);
    if encoded {
        info.codec = format!("?{codec_id}");
    } else {
        info.codec = codec;
        info.description = description;
        st.probe_vp9 = probe;
    }
    info.display_width = info.width;
    info.display_height = info.height;
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    match (unit, dw, dh) {
        (0, Some(w), Some(h)) if w > 0 && h > 0 => {
            info.display_width = clamp(w);
            info.display_height = clamp(h);
        }
        (3, Some(w), Some(h)) if w > 0 && h > 0 && info.height > 0 => {
            // Display aspect ratio: keep the height, widen or narrow the picture.
            let width =
                (u128::from(info.height) * u128::from(w) + u128::from(h) / 2) / u128::from(h);
            info.display_width = u32::try_from(width).unwrap_or(u32::MAX);
        }
        _ => {}
    }
    if info.kind == Some(TrackKind::Audio) {
        info.sample_rate = if rate.is_finite() && rate > 0.0 && rate < 1e9 {
            rate.round() as u32
        } else {
            0
        };
        info.channels = u16::try_from(channels).unwrap_or(u16::MAX);
        info.codec_delay_us = ns_to_us(i128::from(st.codec_delay_ns));
    }
    Ok((info, st))
}

/// The WebM / Matroska demuxer.
#[derive(Debug, Clone)]
pub struct WebmDemuxer {
    container: &'static str,
    tracks: Vec<TrackInfo>,
    states: Vec<TrackState>,
    duration: Option<f64>,
    /// Nanoseconds per tick.
    scale: u64,
    /// Where the Segment's data starts (Cues and SeekHead positions count from here).
    seg_start: u64,
    /// Where the Segment ends, when its size is known.
    seg_end: Option<u64>,
    clusters: Vec<ClusterRec>,
    by_offset: BTreeMap<u64, usize>,
    cues: Cues,
    cache: Vec<Parsed>,
}

impl WebmDemuxer {
    /// Opens the container: EBML header, Segment, SeekHead, Info, Tracks, and the first
    /// cluster (for the VP9 codec string). Call again from scratch after `NeedBytes`.
    pub fn open(src: &mut dyn ByteSource) -> Result<Self, DemuxError> {
        // EBML header.
        let Some(h) = read_header(src, 0)? else {
            return Err(invalid("empty file"));
        };
        if h.id != EBML {
            return Err(invalid("no EBML header"));
        }
        let size = h.size.ok_or_else(|| invalid("unknown-size EBML header"))?;
        let body = read_body(src, h.data, size, "EBML header")?;
        let mut doc_type = String::from("matroska");
        children(&body, |id, b| {
            if id == DOC_TYPE {
                doc_type = string(b);
            }
            Ok(())
        })?;
        let container = match doc_type.as_str() {
            "webm" => "webm",
            "matroska" => "matroska",
            other => {
                return Err(DemuxError::Unsupported(format!(
                    "EBML document type {other:?} is not WebM or Matroska"
                )))
            }
        };

        // Segment.
        let mut pos = h.data + size;
        let seg = loop {
            let Some(h) = read_header(src, pos)? else {
                return Err(invalid("no Segment"));
            };
            if h.id == SEGMENT {
                break h;
            }
            pos = h
                .end()
                .ok_or_else(|| invalid("unknown-size element before the Segment"))?;
        };
        let seg_start = seg.data;
        let seg_end = seg.end();
        let mut limit = seg_end.unwrap_or(u64::MAX);
        if let Some(len) = src.len() {
            limit = limit.min(len);
        }

        // Top level: SeekHead, Info, Tracks, Cues, up to the first Cluster.
        let mut seeks: Vec<(u32, u64)> = Vec::new();
        let mut info: Option<Vec<u8>> = None;
        let mut tracks: Option<Vec<u8>> = None;
        let mut cues_at: Option<u64> = None;
        let mut first_cluster: Option<u64> = None;
        let mut pos = seg_start;
        let mut heads_read = 0;
        for _ in 0..MAX_SCAN {
            if pos >= limit {
                break;
            }
            let Some(h) = read_header(src, pos)? else {
                break;
            };
            match h.id {
                CLUSTER => {
                    first_cluster.get_or_insert(pos);
                }
                SEEK_HEAD if heads_read < 4 => {
                    heads_read += 1;
                    let size = h.size.ok_or_else(|| invalid("unknown-size SeekHead"))?;
                    let body = read_body(src, h.data, size, "SeekHead")?;
                    parse_seek_head(&body, &mut seeks)?;
                }
                INFO if info.is_none() => {
                    let size = h.size.ok_or_else(|| invalid("unknown-size Info"))?;
                    info = Some(read_body(src, h.data, size, "Info")?);
                }
                TRACKS if tracks.is_none() => {
                    let size = h.size.ok_or_else(|| invalid("unknown-size Tracks"))?;
                    tracks = Some(read_body(src, h.data, size, "Tracks")?);
                }
                CUES => {
                    cues_at.get_or_insert(pos);
                }
                EBML | SEGMENT => break,
                _ => {}
            }
            // Past the first cluster only to find Tracks that no SeekHead points to (Info is
            // taken from the SeekHead when it comes later, else the defaults hold).
            let tracks_known = tracks.is_some() || seeks.iter().any(|&(i, _)| i == TRACKS);
            if first_cluster.is_some() && tracks_known {
                break;
            }
            match h.end() {
                Some(e) => pos = e,
                None => break,
            }
        }
        // Info / Tracks / Cues the SeekHead points to beyond the clusters.
        for &(id, rel) in &seeks {
            let Some(at) = seg_start.checked_add(rel) else {
                continue;
            };
            match id {
                INFO if info.is_none() => info = read_element(src, at, INFO, "Info")?,
                TRACKS if tracks.is_none() => tracks = read_element(src, at, TRACKS, "Tracks")?,
                CUES if cues_at.is_none() => cues_at = Some(at),
                _ => {}
            }
        }

        // Info.
        let mut scale = 1_000_000u64;
        let mut duration_ticks: Option<f64> = None;
        if let Some(b) = &info {
            children(b, |id, body| {
                match id {
                    TIMESTAMP_SCALE => scale = uint(body)?,
                    DURATION => duration_ticks = Some(float(body)?),
                    _ => {}
                }
                Ok(())
            })?;
        }
        if scale == 0 {
            return Err(invalid("TimestampScale of 0"));
        }
        let duration = duration_ticks
            .map(|d| d * scale as f64 / 1e9)
            .filter(|d| d.is_finite() && *d >= 0.0);
        let duration_us = duration.map(|d| (d * 1e6).round().min(i64::MAX as f64) as i64);

        // Tracks.
        let Some(tb) = tracks else {
            return Err(invalid("no Tracks element"));
        };
        let mut infos = Vec::new();
        let mut states = Vec::new();
        children(&tb, |id, body| {
            if id == TRACK_ENTRY {
                if infos.len() >= MAX_TRACKS {
                    return Err(invalid(format!("more than {MAX_TRACKS} tracks")));
                }
                let (info, st) = parse_track(body, duration_us)?;
                infos.push(info);
                states.push(st);
            }
            Ok(())
        })?;

        let mut d = WebmDemuxer {
            container,
            tracks: infos,
            states,
            duration,
            scale,
            seg_start,
            seg_end,
            clusters: Vec::new(),
            by_offset: BTreeMap::new(),
            cues: cues_at.map_or(Cues::Unknown, Cues::At),
            cache: Vec::new(),
        };
        if let Some(at) = first_cluster {
            if let Some(id) = d.register(src, at)? {
                if let Some(c) = d.clusters.get_mut(id) {
                    c.prev = Link::None;
                }
            }
        }
        d.probe_vp9(src)?;
        Ok(d)
    }

    /// Codec strings of VP9 tracks from their first keyframe.
    fn probe_vp9(&mut self, src: &mut dyn ByteSource) -> Result<(), DemuxError> {
        for t in 0..self.tracks.len() {
            if !self.states.get(t).is_some_and(|s| s.probe_vp9) {
                continue;
            }
            let mut c = Cursor::default();
            for _ in 0..256 {
                let s = match self.next_sample(src, t, &mut c) {
                    Ok(Some(s)) => s,
                    Ok(None) | Err(DemuxError::Invalid(_) | DemuxError::Unsupported(_)) => break,
                    Err(e) => return Err(e),
                };
                if !s.key {
                    continue;
                }
                let mut head = [0u8; 16];
                let want = (s.size as usize).min(head.len());
                let n = src.read_at(s.offset, head.get_mut(..want).unwrap_or(&mut []))?;
                if let Some(codec) = vp9_from_keyframe(head.get(..n).unwrap_or(&[])) {
                    if let Some(info) = self.tracks.get_mut(t) {
                        info.codec = codec;
                    }
                }
                break;
            }
        }
        Ok(())
    }

    /// Where reading stops: the Segment's end or the resource's.
    fn limit(&self, src: &dyn ByteSource) -> u64 {
        let l = self.seg_end.unwrap_or(u64::MAX);
        src.len().map_or(l, |n| l.min(n))
    }

    fn rec(&self, cluster: usize) -> Result<&ClusterRec, DemuxError> {
        self.clusters
            .get(cluster)
            .ok_or_else(|| invalid(format!("no cluster {cluster}")))
    }

    fn rec_mut(&mut self, cluster: usize) -> Result<&mut ClusterRec, DemuxError> {
        self.clusters
            .get_mut(cluster)
            .ok_or_else(|| invalid(format!("no cluster {cluster}")))
    }

    /// Presentation time in µs of `ticks` on `track` (after its codec delay).
    fn ticks_us(&self, ticks: i128, delay_ns: u64) -> i64 {
        ns_to_us(ticks * i128::from(self.scale) - i128::from(delay_ns))
    }

    fn cluster_us(&self, cluster: usize) -> i64 {
        self.clusters
            .get(cluster)
            .map_or(0, |c| self.ticks_us(i128::from(c.ts), 0))
    }

    /// The number of the cluster at `at`, reading its header if new; `None` when there is no
    /// cluster there.
    fn register(&mut self, src: &mut dyn ByteSource, at: u64) -> Result<Option<usize>, DemuxError> {
        if let Some(&id) = self.by_offset.get(&at) {
            return Ok(Some(id));
        }
        let limit = self.limit(src);
        let Some(h) = read_header(src, at)? else {
            return Ok(None);
        };
        if h.id != CLUSTER {
            return Ok(None);
        }
        let end = h.end();
        let bound = end.unwrap_or(limit);
        let mut pos = h.data;
        let mut ts = 0u64;
        for _ in 0..16 {
            if pos >= bound {
                break;
            }
            let Some(c) = read_header(src, pos)? else {
                break;
            };
            match c.id {
                TIMESTAMP => {
                    ts = read_uint_at(src, &c)?.unwrap_or(0);
                    break;
                }
                SIMPLE_BLOCK | BLOCK_GROUP => break,
                id if end.is_none() && is_top_level(id) => break,
                _ => {}
            }
            match c.end() {
                Some(e) => pos = e,
                None => break,
            }
        }
        let ts = i64::try_from(ts).map_err(|_| invalid("cluster timestamp out of range"))?;
        if self.clusters.len() >= MAX_SAMPLES {
            return Err(invalid("too many clusters"));
        }
        let id = self.clusters.len();
        self.clusters.push(ClusterRec {
            offset: at,
            data: h.data,
            end,
            sized: end.is_some(),
            ts,
            next: Link::Unknown,
            prev: Link::Unknown,
            summary: None,
            max_pts: None,
        });
        self.by_offset.insert(at, id);
        Ok(Some(id))
    }

    /// Offset of the first Cluster at or after `from` at the top level, noting Cues on the way.
    fn scan_for_cluster(
        &mut self,
        src: &mut dyn ByteSource,
        from: u64,
    ) -> Result<Option<u64>, DemuxError> {
        let limit = self.limit(src);
        let mut pos = from;
        for _ in 0..MAX_SCAN {
            if pos >= limit {
                return Ok(None);
            }
            let Some(h) = read_header(src, pos)? else {
                return Ok(None);
            };
            match h.id {
                CLUSTER => return Ok(Some(pos)),
                CUES => {
                    if matches!(self.cues, Cues::Unknown) {
                        self.cues = Cues::At(pos);
                    }
                }
                EBML | SEGMENT => return Ok(None),
                _ => {}
            }
            match h.end() {
                Some(e) => pos = e,
                None => return Ok(None),
            }
        }
        Err(invalid(format!(
            "no Cluster within {MAX_SCAN} elements after byte {from}"
        )))
    }

    /// The cluster after `cluster` in the file, `None` at the end.
    fn next_cluster(
        &mut self,
        src: &mut dyn ByteSource,
        cluster: usize,
    ) -> Result<Option<usize>, DemuxError> {
        let rec = self.rec(cluster)?;
        match rec.next {
            Link::To(n) => return Ok(Some(n)),
            Link::None => return Ok(None),
            Link::Unknown => {}
        }
        let end = match rec.end {
            Some(e) => e,
            None => {
                self.parse_until(src, cluster, &|_| false)?;
                match self.rec(cluster)?.end {
                    Some(e) => e,
                    None => return Err(invalid("cluster end not found")),
                }
            }
        };
        let next = match self.scan_for_cluster(src, end)? {
            Some(at) => self.register(src, at)?,
            None => None,
        };
        self.rec_mut(cluster)?.next = next.map_or(Link::None, Link::To);
        if let Some(n) = next {
            let r = self.rec_mut(n)?;
            if r.prev == Link::Unknown {
                r.prev = Link::To(cluster);
            }
        }
        Ok(next)
    }

    /// The cluster before `cluster` in the file, `None` for the first (or when it cannot be
    /// found).
    fn prev_cluster(
        &mut self,
        src: &mut dyn ByteSource,
        cluster: usize,
    ) -> Result<Option<usize>, DemuxError> {
        let rec = self.rec(cluster)?;
        match rec.prev {
            Link::To(p) => return Ok(Some(p)),
            Link::None => return Ok(None),
            Link::Unknown => {}
        }
        let off = rec.offset;
        // Walk forward from the nearest known cluster (or cue) before it.
        let mut start = self
            .by_offset
            .range(..off)
            .next_back()
            .map_or(0, |(_, &i)| i);
        let start_off = self.rec(start)?.offset;
        if start_off >= off {
            self.rec_mut(cluster)?.prev = Link::None;
            return Ok(None);
        }
        if let Cues::Loaded(cues) = &self.cues {
            let best = cues
                .iter()
                .map(|c| c.pos)
                .filter(|&p| p < off && p > start_off)
                .max();
            if let Some(p) = best {
                if let Some(id) = self.register(src, p)? {
                    start = id;
                }
            }
        }
        let mut cur = start;
        loop {
            match self.next_cluster(src, cur)? {
                Some(n) if n == cluster => return Ok(Some(cur)),
                Some(n) if self.rec(n)?.offset < off => cur = n,
                _ => {
                    self.rec_mut(cluster)?.prev = Link::None;
                    return Ok(None);
                }
            }
        }
    }

    /// Parses cluster `cluster` until `enough` holds or it ends; returns its index in the cache.
    fn parse_until(
        &mut self,
        src: &mut dyn ByteSource,
        cluster: usize,
        enough: &dyn Fn(&Parsed) -> bool,
    ) -> Result<usize, DemuxError> {
        let rec = self.rec(cluster)?;
        let (data, end, sized) = (rec.data, rec.end, rec.sized);
        let mut p = match self.cache.iter().position(|p| p.cluster == cluster) {
            Some(i) => self.cache.remove(i),
            None => Parsed {
                cluster,
                pos: data,
                done: false,
                samples: vec![Vec::new(); self.tracks.len()],
                last_key_pts: vec![None; self.tracks.len()],
                track_max: vec![None; self.tracks.len()],
                max_pts: None,
                total: 0,
            },
        };
        let bound = match (sized, end) {
            (true, Some(e)) => e,
            _ => self.limit(src),
        };
        let mut result = Ok(());
        while !p.done && !enough(&p) {
            if let Err(e) = self.step(src, &mut p, bound, sized) {
                result = Err(e);
                break;
            }
        }
        if p.done {
            let summary: Vec<Summary> = p
                .samples
                .iter()
                .map(|list| {
                    let mut keys = list.iter().enumerate().filter(|(_, s)| s.key);
                    Summary {
                        count: list.len(),
                        first_key: keys.next().map(|(i, s)| (i, s.pts_us)),
                        last_key: list
                            .iter()
                            .enumerate()
                            .rev()
                            .find(|(_, s)| s.key)
                            .map(|(i, s)| (i, s.pts_us)),
                    }
                })
                .collect();
            let pos = p.pos;
            let r = self.rec_mut(cluster)?;
            r.summary = Some(summary);
            r.max_pts = p.max_pts;
            if !r.sized {
                r.end = Some(pos);
            }
        }
        self.cache.push(p);
        if self.cache.len() > CACHED_CLUSTERS {
            self.cache.remove(0);
        }
        result.map(|()| self.cache.len() - 1)
    }

    /// Parses the next child element of a cluster: all or nothing.
    fn step(
        &self,
        src: &mut dyn ByteSource,
        p: &mut Parsed,
        bound: u64,
        sized: bool,
    ) -> Result<(), DemuxError> {
        if p.pos >= bound {
            p.done = true;
            return Ok(());
        }
        let Some(h) = read_header(src, p.pos)? else {
            p.done = true;
            return Ok(());
        };
        if !sized && is_top_level(h.id) {
            p.done = true;
            return Ok(());
        }
        let Some(end) = h.end() else {
            return Err(invalid(format!(
                "unknown-size element {:X} inside a Cluster at byte {}",
                h.id, p.pos
            )));
        };
        let truncated = src.len().is_some_and(|len| end > len);
        if truncated {
            // The file ends inside this element: the cluster ends with the last whole block.
            p.done = true;
            return Ok(());
        }
        if end > bound {
            return Err(invalid(format!(
                "element {:X} at byte {} overruns its Cluster",
                h.id, p.pos
            )));
        }
        let cluster_ts = self.rec(p.cluster)?.ts;
        let size = end - h.data;
        let block = match h.id {
            SIMPLE_BLOCK => Some((h.data, size, None, None)),
            BLOCK_GROUP => {
                let mut block = None;
                let mut duration = None;
                let mut key = true;
                let mut pos = h.data;
                while pos < end {
                    let Some(c) = read_header(src, pos)? else {
                        p.done = true;
                        return Ok(());
                    };
                    let c_end = c
                        .end()
                        .filter(|&e| e <= end)
                        .ok_or_else(|| invalid("element overruns its BlockGroup"))?;
                    match c.id {
                        BLOCK => block = Some((c.data, c_end - c.data)),
                        BLOCK_DURATION => duration = read_uint_at(src, &c)?,
                        REFERENCE_BLOCK => key = false,
                        _ => {}
                    }
                    pos = c_end;
                }
                block.map(|(at, size)| (at, size, duration, Some(key)))
            }
            _ => None,
        };
        if let Some((at, size, duration, group_key)) = block {
            let Some(head) = read_block_head(src, at, size)? else {
                p.done = true;
                return Ok(());
            };
            if let Some(t) = self.states.iter().position(|s| s.number == head.track) {
                let st = self.states.get(t).ok_or_else(|| invalid("track index"))?;
                let count = head.sizes.len();
                if p.total + count > MAX_SAMPLES {
                    return Err(invalid(format!(
                        "more than {MAX_SAMPLES} samples in a cluster"
                    )));
                }
                let key = group_key.unwrap_or(head.flags & 0x80 != 0);
                let base = i128::from(cluster_ts) + i128::from(head.rel);
                let base_ns = base * i128::from(self.scale) - i128::from(st.codec_delay_ns);
                let block_ns = duration.map(|d| i128::from(d) * i128::from(self.scale));
                let default_ns = st.default_duration_ns.map(i128::from);
                let frame_ns = if count == 1 {
                    block_ns.or(default_ns)
                } else {
                    default_ns.or(block_ns.map(|d| d / count as i128))
                };
                let mut offset = at + head.header_len as u64;
                let mut new = Vec::with_capacity(count);
                for (i, &fsize) in head.sizes.iter().enumerate() {
                    let pts_ns = base_ns + default_ns.map_or(0, |d| d * i as i128);
                    let pts_us = ns_to_us(pts_ns);
                    new.push(Sample {
                        pts_us,
                        dts_us: pts_us,
                        duration_us: frame_ns.map_or(0, ns_to_us),
                        offset,
                        size: u32::try_from(fsize)
                            .map_err(|_| invalid("frame larger than 4 GiB"))?,
                        key,
                    });
                    offset += fsize;
                }
                let list = p.samples.get_mut(t).ok_or_else(|| invalid("track index"))?;
                for s in new {
                    p.max_pts = Some(p.max_pts.map_or(s.pts_us, |m| m.max(s.pts_us)));
                    if let Some(m) = p.track_max.get_mut(t) {
                        *m = Some(m.map_or(s.pts_us, |m| m.max(s.pts_us)));
                    }
                    if s.key {
                        if let Some(k) = p.last_key_pts.get_mut(t) {
                            *k = Some(s.pts_us);
                        }
                    }
                    list.push(s);
                }
                p.total += count;
            }
        }
        p.pos = end;
        Ok(())
    }

    /// Reads the Cues if they are known and not read yet (unreadable Cues count as none).
    fn load_cues(&mut self, src: &mut dyn ByteSource) -> Result<(), DemuxError> {
        let Cues::At(at) = self.cues else {
            return Ok(());
        };
        let seg_start = self.seg_start;
        let res = (|| -> Result<Vec<Cue>, DemuxError> {
            let Some(body) = read_element(src, at, CUES, "Cues")? else {
                return Ok(Vec::new());
            };
            let mut cues = Vec::new();
            children(&body, |id, point| {
                if id != CUE_POINT {
                    return Ok(());
                }
                let mut time = None;
                let mut positions = Vec::new();
                children(point, |id, b| {
                    match id {
                        CUE_TIME => time = Some(uint(b)?),
                        CUE_TRACK_POSITIONS => {
                            let (mut track, mut pos) = (0, None);
                            children(b, |id, v| {
                                match id {
                                    CUE_TRACK => track = uint(v)?,
                                    CUE_CLUSTER_POSITION => pos = Some(uint(v)?),
                                    _ => {}
                                }
                                Ok(())
                            })?;
                            if let Some(p) = pos.and_then(|p| seg_start.checked_add(p)) {
                                positions.push((track, p));
                            }
                        }
                        _ => {}
                    }
                    Ok(())
                })?;
                if let Some(time) = time {
                    for (track, pos) in positions {
                        if cues.len() >= MAX_SAMPLES {
                            return Err(invalid("too many cue points"));
                        }
                        cues.push(Cue { time, track, pos });
                    }
                }
                Ok(())
            })?;
            cues.sort_by_key(|c| c.time);
            Ok(cues)
        })();
        self.cues = match res {
            Ok(c) => Cues::Loaded(c),
            Err(DemuxError::NeedBytes(at)) => return Err(DemuxError::NeedBytes(at)),
            Err(_) => Cues::Loaded(Vec::new()),
        };
        Ok(())
    }

    /// A cluster starting at or before `target` µs to search from.
    fn start_cluster(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        target: i64,
    ) -> Result<usize, DemuxError> {
        let mut best = 0usize;
        let mut best_us = self.cluster_us(0);
        if target <= best_us {
            return Ok(0);
        }
        for (i, c) in self.clusters.iter().enumerate() {
            let us = self.ticks_us(i128::from(c.ts), 0);
            if us <= target && us > best_us {
                best = i;
                best_us = us;
            }
        }
        self.load_cues(src)?;
        let number = self.states.get(track).map_or(0, |s| s.number);
        let mut pick = None;
        if let Cues::Loaded(cues) = &self.cues {
            let own = cues.iter().any(|c| c.track == number);
            pick = cues
                .iter()
                .filter(|c| !own || c.track == number)
                .rfind(|c| self.ticks_us(i128::from(c.time), 0) <= target)
                .map(|c| (c.pos, self.ticks_us(i128::from(c.time), 0)));
        }
        if let Some((pos, us)) = pick {
            if us > best_us {
                if let Some(id) = self.register(src, pos)? {
                    if self.cluster_us(id) <= target {
                        best = id;
                    }
                }
            }
        }
        Ok(best)
    }

    /// Whether `cluster` holds a sample (of any track) later than `target`, parsing it as far as
    /// needed: then the clusters after it start later, and need not be looked at.
    fn passes(
        &mut self,
        src: &mut dyn ByteSource,
        cluster: usize,
        target: i64,
    ) -> Result<bool, DemuxError> {
        let rec = self.rec(cluster)?;
        if rec.summary.is_some() {
            return Ok(rec.max_pts.is_some_and(|m| m > target));
        }
        let i = self.parse_until(src, cluster, &|p| p.max_pts.is_some_and(|m| m > target))?;
        Ok(self
            .cache
            .get(i)
            .and_then(|p| p.max_pts)
            .is_some_and(|m| m > target))
    }

    /// Index of the last keyframe of `track` in `cluster` with pts ≤ `target`. Parsing stops at
    /// the first sample of the track later than the target: a keyframe after it in decode
    /// order is later still.
    fn last_key_before(
        &mut self,
        src: &mut dyn ByteSource,
        cluster: usize,
        track: usize,
        target: i64,
    ) -> Result<Option<usize>, DemuxError> {
        if let Some(s) = self
            .rec(cluster)?
            .summary
            .as_ref()
            .and_then(|s| s.get(track))
        {
            match (s.first_key, s.last_key) {
                (None, _) => return Ok(None),
                (Some((_, pts)), _) if pts > target => return Ok(None),
                (_, Some((i, pts))) if pts <= target => return Ok(Some(i)),
                _ => {}
            }
        }
        let i = self.parse_until(src, cluster, &|p| {
            p.track_max
                .get(track)
                .copied()
                .flatten()
                .is_some_and(|pts| pts > target)
        })?;
        let list = self
            .cache
            .get(i)
            .and_then(|p| p.samples.get(track))
            .map_or(&[][..], Vec::as_slice);
        Ok(list.iter().rposition(|s| s.key && s.pts_us <= target))
    }

    /// Index of the first keyframe of `track` in `cluster`.
    fn first_key(
        &mut self,
        src: &mut dyn ByteSource,
        cluster: usize,
        track: usize,
    ) -> Result<Option<usize>, DemuxError> {
        if let Some(s) = self
            .rec(cluster)?
            .summary
            .as_ref()
            .and_then(|s| s.get(track))
        {
            return Ok(s.first_key.map(|(i, _)| i));
        }
        let i = self.parse_until(src, cluster, &|p| {
            p.last_key_pts.get(track).copied().flatten().is_some()
        })?;
        let list = self
            .cache
            .get(i)
            .and_then(|p| p.samples.get(track))
            .map_or(&[][..], Vec::as_slice);
        Ok(list.iter().position(|s| s.key))
    }
}

/// Reads the element at `at` whole when it has id `want`; `Ok(None)` otherwise.
fn read_element(
    src: &mut dyn ByteSource,
    at: u64,
    want: u32,
    what: &str,
) -> Result<Option<Vec<u8>>, DemuxError> {
    let Some(h) = read_header(src, at)? else {
        return Ok(None);
    };
    if h.id != want {
        return Ok(None);
    }
    let size = h
        .size
        .ok_or_else(|| invalid(format!("unknown-size {what}")))?;
    read_body(src, h.data, size, what).map(Some)
}

/// Collects (element id, position) pairs of a SeekHead.
fn parse_seek_head(b: &[u8], out: &mut Vec<(u32, u64)>) -> Result<(), DemuxError> {
    children(b, |id, seek| {
        if id != SEEK {
            return Ok(());
        }
        let (mut sid, mut pos) = (None, None);
        children(seek, |id, v| {
            match id {
                SEEK_ID => sid = u32::try_from(uint(v)?).ok(),
                SEEK_POSITION => pos = Some(uint(v)?),
                _ => {}
            }
            Ok(())
        })?;
        if let (Some(sid), Some(pos)) = (sid, pos) {
            if out.len() < 1024 {
                out.push((sid, pos));
            }
        }
        Ok(())
    })
}

impl Demux for WebmDemuxer {
    fn container(&self) -> &'static str {
        self.container
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn duration(&self) -> Option<f64> {
        self.duration
    }

    fn next_sample(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        if track >= self.tracks.len() {
            return Err(invalid(format!("no track {track}")));
        }
        let mut c = *cursor;
        loop {
            let Some(rec) = self.clusters.get(c.segment) else {
                return Ok(None);
            };
            let exhausted = rec
                .summary
                .as_ref()
                .and_then(|s| s.get(track))
                .is_some_and(|s| s.count <= c.index);
            if !exhausted {
                let want = c.index;
                let i = self.parse_until(src, c.segment, &|p| {
                    p.samples.get(track).is_some_and(|l| l.len() > want)
                })?;
                let found = self
                    .cache
                    .get(i)
                    .and_then(|p| p.samples.get(track))
                    .and_then(|l| l.get(want))
                    .copied();
                if let Some(s) = found {
                    c.index += 1;
                    *cursor = c;
                    return Ok(Some(s));
                }
            }
            match self.next_cluster(src, c.segment)? {
                Some(n) => {
                    c = Cursor {
                        segment: n,
                        index: 0,
                    }
                }
                None => return Ok(None),
            }
        }
    }

    fn seek(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        let Some(preroll) = self.states.get(track).map(|s| s.seek_preroll_us) else {
            return Err(invalid(format!("no track {track}")));
        };
        if self.clusters.is_empty() {
            return Ok(Cursor::default());
        }
        let target = time_us.saturating_sub(preroll);
        let mut cluster = self.start_cluster(src, track, target)?;
        // Forward over clusters that start at or before the target, by their headers, unless
        // the first one already goes past the target (the usual case for a seek to the start
        // or through the Cues: no read of the next cluster's header, which may be far).
        if !self.passes(src, cluster, target)? {
            while let Some(n) = self.next_cluster(src, cluster)? {
                if self.cluster_us(n) > target {
                    break;
                }
                cluster = n;
            }
        }
        // Back to the last keyframe at or before the target.
        let mut c = cluster;
        loop {
            if let Some(index) = self.last_key_before(src, c, track, target)? {
                return Ok(Cursor { segment: c, index });
            }
            match self.prev_cluster(src, c)? {
                Some(p) => c = p,
                None => break,
            }
        }
        // None: the first keyframe from there on.
        loop {
            if let Some(index) = self.first_key(src, c, track)? {
                return Ok(Cursor { segment: c, index });
            }
            match self.next_cluster(src, c)? {
                Some(n) => c = n,
                None => return Ok(Cursor::default()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp9_keyframe_strings() {
        let s = |b: &[u8]| vp9_from_keyframe(b);
        assert_eq!(
            s(&[0x82, 0x49, 0x83, 0x42]).as_deref(),
            Some("vp09.00.62.08")
        );
        assert_eq!(
            s(&[0x92, 0x49, 0x83, 0x42, 0x00]).as_deref(),
            Some("vp09.02.62.10")
        );
        assert_eq!(
            s(&[0xB1, 0x24, 0xC1, 0xA1, 0x40]).as_deref(),
            Some("vp09.03.62.12")
        );
        assert_eq!(s(&[0xA6, 0x49, 0x83, 0x42]), None); // inter frame
        assert_eq!(s(&[0x82, 0x49, 0x83, 0x43]), None); // bad sync code
        assert_eq!(s(&[0x92, 0x49, 0x83, 0x42]), None); // cut before the bit depth
        assert_eq!(s(&[]), None);
    }

    #[test]
    fn vp9_private_features() {
        assert_eq!(
            vp9_from_private(&[1, 1, 2, 2, 1, 31, 3, 1, 10]).as_deref(),
            Some("vp09.02.31.10")
        );
        assert_eq!(vp9_from_private(&[1, 1, 0, 2, 1, 0, 3, 1, 8]), None); // level 0
        assert_eq!(vp9_from_private(&[1, 1, 0, 3, 1, 8]), None); // no level
        assert_eq!(vp9_from_private(&[1, 200]), None);
    }

    #[test]
    fn vints_and_headers() {
        assert_eq!(vint(&[0x81]), Some((1, 1, false)));
        assert_eq!(vint(&[0xFF]), Some((127, 1, true)));
        assert_eq!(vint(&[0x40, 0x02]), Some((2, 2, false)));
        assert_eq!(
            vint(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).map(|v| v.2),
            Some(true)
        );
        assert_eq!(vint(&[0x40]), None);
        assert_eq!(vint(&[0x00]), None);
        assert!(parse_header(&[0x00, 0x81], 0).is_err());
        assert!(parse_header(&[0x08, 0x81], 0).is_err()); // 5-byte id
        assert!(matches!(parse_header(&[0x1A, 0x45], 0), Ok(None)));
        // A size that would overflow the offset.
        assert!(parse_header(
            &[0xEC, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE],
            u64::MAX - 20
        )
        .is_err());
    }

    #[test]
    fn lace_headers() {
        // Xiph, 3 frames: 256 and 1 bytes, the rest 2.
        let b = [0x81, 0, 0, 0x02, 2, 255, 1, 1, 0, 0, 0, 0];
        let total = 8 + 256 + 1 + 2;
        let h = parse_block_head(&b, total);
        assert!(matches!(&h, Ok(Some(h)) if h.sizes == [256, 1, 2] && h.header_len == 8));
        // Needs more bytes than given, then too few in the whole block.
        assert!(matches!(parse_block_head(&b[..5], total), Ok(None)));
        assert!(parse_block_head(&b[..5], 5).is_err());
        // Lace sizes beyond the block.
        assert!(parse_block_head(&[0x81, 0, 0, 0x02, 1, 200], 10).is_err());
        // Fixed lacing that does not divide.
        assert!(parse_block_head(&[0x81, 0, 0, 0x04, 1, 0, 0, 0], 8).is_err());
        // EBML lacing with a negative size.
        assert!(parse_block_head(&[0x81, 0, 0, 0x06, 2, 0x82, 0x80, 0, 0], 9).is_err());
    }
}
