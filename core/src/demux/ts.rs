//! MPEG-TS demuxer (HLS `.ts` segments, and whole `.ts`/`.m2ts` files): PAT/PMT, PES
//! reassembly, H.264/H.265 access units, AAC ADTS and MPEG audio frames, 33-bit timestamps
//! unwrapped to microseconds.
//!
//! A segment is demuxed whole from memory ([`demux_segment`]): HLS fetches segments whole, and
//! a segment is small (a few MB), so the output is owned data ([`TsSample::data`]) rather than
//! byte ranges. A whole file played progressively ([`TsFile`], `ts/file.rs`) runs the same state
//! machine over *windows* of the file read through a [`super::ByteSource`], each bounded so
//! that windows join exactly (see `Demux`); it owns seeking and the duration.
//!
//! Why our own code rather than the `mpeg2ts-reader` crate (0.18.2, which is maintained and
//! builds for wasm32): its `Demultiplex::push` stops at the first packet whose sync byte is
//! wrong and silently drops the rest of the buffer, so resynchronisation would be ours anyway;
//! it hands PES payload out in pieces through per-PID callback traits and a context macro, so
//! bounded reassembly, continuity handling policy (it treats the legal duplicate packet as a
//! loss and ignores `discontinuity_indicator`) and all of the codec work (access units, ADTS,
//! SPS, timestamps) would still be ours; and it pulls `encoding_rs`, `fixedbitset`, `log` and
//! a SMPTE registry crate into the wasm build. What it would save — packet headers, PSI
//! sections, PES headers — is the smaller part of this file. Likewise `h264-reader` would
//! parse the SPS, but brings nine crates for the handful of fields used here.
//!
//! What comes out:
//! - Video (H.264 `0x1B`, H.265 `0x24`): one sample per access unit in Annex B form, exactly the
//!   bytes of the stream (start codes included). WebCodecs decodes Annex B when the decoder is
//!   configured without a `description`, so [`TrackInfo::description`] is `None`; for hosts
//!   that need AVCC, [`avcc_from_annexb`] and [`avc_decoder_config`] convert. A PES with a PTS
//!   starts an access unit; an access unit delimiter inside a PES starts another one (timed
//!   evenly between this PES's and the next PES's DTS); a PES without PTS continues the current
//!   one. Keyframe = holds an IDR (H.264) or IRAP (H.265) picture. The codec string and size
//!   come from the first SPS.
//! - AAC in ADTS (`0x0F`): one sample per ADTS frame, the ADTS header stripped (raw AAC), with
//!   the 2-byte AudioSpecificConfig built from the header as `description`; MPEG audio
//!   (`0x03`/`0x04`): one sample per frame, header kept (what MP3 decoders take). Frames may
//!   straddle PES packets. Frame `k` after the PES's first frame is at `PTS + k·frame/rate`.
//! - Other streams (ID3 timed metadata `0x15`, private data, …) are listed with `kind: None`
//!   and give no samples.
//!
//! Times: the 33-bit 90 kHz PTS/DTS are unwrapped to the value nearest a reference — the first
//! timestamp of the segment, or the end of the previous segment when the caller passes it
//! ([`demux_segment_after`]) — so a wrap inside a segment or between segments keeps times
//! increasing. They are not shifted: the first sample of a typical segment is at ~1.4 s or
//! wherever the encoder's clock was; mapping to the playlist timeline is the caller's.
//!
//! Damage: continuity-counter gaps, transport errors and scrambled packets drop the PES being
//! assembled (counted in [`TsSegment::discarded_pes`]) and demuxing goes on; lost sync is found
//! again by looking for 0x47 at packet spacing (188, or 192 for M2TS, 204 with FEC bytes).
//! Every size is bounded by [`TsLimits`].
//!
//! One file for MPEG-TS: packets, PSI tables, PES assembly, the ADTS/H.264/H.265/MP3 framing
//! and timestamp unwrapping run as one streaming state machine with shared limits.

use super::frames::{adts_frame, configure_audio, dolby_frame, mpeg_frame};
use super::{codec, ticks_to_us, DemuxError, TrackInfo, TrackKind};

mod file;

pub use file::TsFile;

/// Size of a transport stream packet without any prefix or suffix.
const PACKET: usize = 188;
/// First byte of every packet.
const SYNC: u8 = 0x47;
/// The MPEG system clock used by PTS/DTS.
const CLOCK: i64 = 90_000;
/// PTS/DTS are 33-bit counters.
const WRAP: i64 = 1 << 33;
/// Longest PSI section (ISO/IEC 13818-1 allows 1021 bytes after the 3-byte header for PAT/PMT;
/// private sections up to 4093).
const MAX_SECTION: usize = 4096;
/// Most PMT PIDs followed (one program is what HLS carries; concatenated segments of other
/// muxers may each name their own).
const MAX_PROGRAMS: usize = 8;
/// Longest audio frame kept over from one PES to the next (ADTS frames are at most 8191 bytes).
const MAX_AUDIO_FRAME: usize = 8192;

/// Bounds on what one call may allocate or produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsLimits {
    /// Largest PES packet (and video access unit) assembled; larger ones are discarded and
    /// counted in [`TsSegment::discarded_pes`].
    pub max_pes_bytes: usize,
    /// Most samples one call returns; more is an error.
    pub max_samples: usize,
    /// Most elementary streams listed; further streams of the PMT are ignored.
    pub max_tracks: usize,
}

impl Default for TsLimits {
    fn default() -> Self {
        TsLimits {
            max_pes_bytes: 16 * 1024 * 1024,
            max_samples: 200_000,
            max_tracks: 16,
        }
    }
}

/// One compressed frame of a segment, owning its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsSample {
    /// Index into [`TsSegment::tracks`].
    pub track: usize,
    /// Presentation time in microseconds (unwrapped 90 kHz PTS).
    pub pts_us: i64,
    /// Decode time in microseconds (the DTS, or the PTS when the PES has none).
    pub dts_us: i64,
    /// Duration in microseconds: audio frame length; for video the distance to the next
    /// presentation time of the track within the segment, 0 for the last one.
    pub duration_us: i64,
    /// Decoding can start here (IDR/IRAP access unit; every audio frame).
    pub key: bool,
    /// Video: the access unit in Annex B form; AAC: the raw frame without its ADTS header;
    /// MPEG audio: the whole frame.
    pub data: Vec<u8>,
}

/// Everything found in one segment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TsSegment {
    /// One entry per elementary stream of the PMT, in PMT order (`id` is the PID). Streams
    /// without samples here (metadata, unknown codecs) have `kind: None`.
    pub tracks: Vec<TrackInfo>,
    /// All samples, in decode order within each track, tracks interleaved by decode time.
    pub samples: Vec<TsSample>,
    /// PES packets dropped for continuity-counter gaps, transport errors, scrambling,
    /// truncation, bad headers or size limits.
    pub discarded_pes: u32,
    /// How many times packet sync was lost and found again.
    pub resyncs: u32,
    /// The latest `pts_us + duration_us` of any sample: pass it to [`demux_segment_after`]
    /// for the next segment of the same stream.
    pub end_us: Option<i64>,
}

/// Demuxes one whole segment (or several concatenated), unwrapping timestamps around the
/// segment's first timestamp.
pub fn demux_segment(data: &[u8], limits: &TsLimits) -> Result<TsSegment, DemuxError> {
    demux_segment_after(data, limits, None)
}

/// Demuxes one whole segment that follows a segment ending at `prev_end_us` (its
/// [`TsSegment::end_us`]): timestamps are unwrapped to the values nearest that time, so they
/// continue across a 33-bit wrap between the segments. `None` behaves as [`demux_segment`].
///
/// Errors: no packet sync at all, or no PAT/PMT ([`DemuxError::Invalid`]); more samples than
/// [`TsLimits::max_samples`]. Damage inside the stream is not an error (see the module doc).
pub fn demux_segment_after(
    data: &[u8],
    limits: &TsLimits,
    prev_end_us: Option<i64>,
) -> Result<TsSegment, DemuxError> {
    let streams = scan_programs(data, limits)?;
    // Clamped to ±2^53 µs (285 years), so unwrapped times never near i64's range.
    let reference =
        prev_end_us.map(|us| div_round(i128::from(us.clamp(-(1 << 53), 1 << 53)) * 9, 100));
    let mut demux = Demux::new(&streams, limits, reference, 0, None);
    let mut packets = Packets::new(data);
    for p in packets.by_ref() {
        demux.packet(&p, 0)?;
    }
    demux.end_all()?;
    Ok(demux.finish(packets.resyncs))
}

// ---------------------------------------------------------------------------------------------
// Packets

/// One parsed transport packet.
struct Packet<'a> {
    pid: u16,
    pusi: bool,
    cc: u8,
    has_payload: bool,
    discontinuity: bool,
    /// Transport error, scrambled, reserved adaptation control or a bad adaptation length.
    damaged: bool,
    payload: &'a [u8],
}

fn parse_packet(pkt: &[u8; PACKET]) -> Packet<'_> {
    let tei = pkt[1] & 0x80 != 0;
    let pusi = pkt[1] & 0x40 != 0;
    let pid = u16::from(pkt[1] & 0x1f) << 8 | u16::from(pkt[2]);
    let scrambled = pkt[3] >> 6 != 0;
    let afc = (pkt[3] >> 4) & 3;
    let cc = pkt[3] & 0x0f;
    let mut damaged = tei || scrambled || afc == 0;
    let mut discontinuity = false;
    let mut start = 4;
    if afc & 2 != 0 {
        let len = usize::from(pkt[4]);
        let max = if afc == 3 { 182 } else { 183 };
        if len > max {
            damaged = true;
        } else {
            discontinuity = len > 0 && pkt[5] & 0x80 != 0;
            start = 5 + len;
        }
    }
    let payload = if afc & 1 != 0 && !damaged {
        pkt.get(start..).unwrap_or(&[])
    } else {
        &[]
    };
    Packet {
        pid,
        pusi,
        cc,
        has_payload: afc & 1 != 0,
        discontinuity,
        damaged,
        payload,
    }
}

/// The packets of a buffer, resynchronising on 0x47 at packet spacing after garbage.
struct Packets<'a> {
    data: &'a [u8],
    pos: usize,
    stride: usize,
    resyncs: u32,
}

impl<'a> Packets<'a> {
    fn new(data: &'a [u8]) -> Self {
        let (pos, stride) = find_sync(data, 0).unwrap_or((data.len(), PACKET));
        Packets {
            data,
            pos,
            stride,
            resyncs: 0,
        }
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = Packet<'a>;

    fn next(&mut self) -> Option<Packet<'a>> {
        loop {
            let end = self.pos.checked_add(PACKET)?;
            let pkt: &'a [u8; PACKET] = self.data.get(self.pos..end)?.try_into().ok()?;
            if pkt[0] != SYNC {
                match find_sync(self.data, self.pos + 1) {
                    Some((pos, stride)) => {
                        self.pos = pos;
                        self.stride = stride;
                        self.resyncs += 1;
                        continue;
                    }
                    None => {
                        self.pos = self.data.len();
                        return None;
                    }
                }
            }
            self.pos += self.stride;
            return Some(parse_packet(pkt));
        }
    }
}

/// The first offset at or after `from` where packets start, with their spacing: a 0x47 that
/// is followed by 0x47 one and two strides later (as far as the data goes), or a last packet
/// that exactly ends the data.
fn find_sync(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let len = data.len();
    let sync_at = |at: usize| data.get(at) == Some(&SYNC);
    (from..len.checked_sub(PACKET - 1)?)
        .filter(|&p| sync_at(p))
        .find_map(|p| {
            if p + PACKET == len {
                return Some((p, PACKET));
            }
            [PACKET, 192, 204].into_iter().find_map(|s| {
                let next = p + s;
                let ok = next < len && sync_at(next) && (next + s >= len || sync_at(next + s));
                ok.then_some((p, s))
            })
        })
}

/// Continuity-counter state of one PID.
#[derive(Default)]
struct Continuity {
    last: Option<u8>,
}

#[derive(PartialEq, Eq)]
enum Cc {
    Ok,
    /// The previous packet sent again (allowed once): ignore it.
    Duplicate,
    /// Packets were lost.
    Gap,
}

impl Continuity {
    fn check(&mut self, p: &Packet) -> Cc {
        let verdict = match self.last {
            _ if p.discontinuity => Cc::Ok,
            None => Cc::Ok,
            Some(last) if p.has_payload => {
                if p.cc == last {
                    Cc::Duplicate
                } else if p.cc == (last + 1) & 0x0f {
                    Cc::Ok
                } else {
                    Cc::Gap
                }
            }
            Some(last) if p.cc == last => Cc::Ok,
            Some(_) => Cc::Gap,
        };
        self.last = Some(p.cc);
        verdict
    }
}

// ---------------------------------------------------------------------------------------------
// PSI: PAT and PMT

/// Reassembles the sections of one PSI PID.
struct Sections {
    pid: u16,
    buf: Vec<u8>,
    active: bool,
    cc: Continuity,
}

impl Sections {
    fn new(pid: u16) -> Self {
        Sections {
            pid,
            buf: Vec::new(),
            active: false,
            cc: Continuity::default(),
        }
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.active = false;
    }

    /// Feeds one packet; complete sections (not yet CRC-checked) go to `done`.
    fn feed(&mut self, p: &Packet, done: &mut Vec<Vec<u8>>) {
        match self.cc.check(p) {
            Cc::Duplicate => return,
            Cc::Gap => self.reset(),
            Cc::Ok => {}
        }
        if p.damaged {
            self.reset();
            return;
        }
        if p.pusi {
            let Some((&pointer, rest)) = p.payload.split_first() else {
                self.reset();
                return;
            };
            let Some((tail, head)) = rest.split_at_checked(usize::from(pointer)) else {
                self.reset();
                return;
            };
            if self.active {
                self.buf.extend_from_slice(tail);
                self.drain(done);
            }
            self.buf.clear();
            self.buf.extend_from_slice(head);
            self.active = true;
        } else if self.active {
            self.buf.extend_from_slice(p.payload);
        } else {
            return;
        }
        self.drain(done);
    }

    fn drain(&mut self, done: &mut Vec<Vec<u8>>) {
        while self.active {
            let (Some(&table), Some(len)) = (self.buf.first(), be16(&self.buf, 1)) else {
                return;
            };
            let total = 3 + usize::from(len & 0x0fff);
            if table == 0xff || total > MAX_SECTION {
                self.reset();
                return;
            }
            if self.buf.len() < total {
                return;
            }
            done.push(self.buf.drain(..total).collect());
        }
    }
}

/// The elementary streams (PID, stream_type) of the program(s) in the data, in PMT order.
fn scan_programs(data: &[u8], limits: &TsLimits) -> Result<Vec<(u16, u8)>, DemuxError> {
    let mut packets = Packets::new(data);
    if packets.pos >= data.len() {
        return Err(DemuxError::Invalid("no MPEG-TS packet sync found".into()));
    }
    let mut psi = vec![Sections::new(0)];
    let mut pmt_pids: Vec<u16> = Vec::new();
    let mut pmt_seen = false;
    let mut streams: Vec<(u16, u8)> = Vec::new();
    let mut done = Vec::new();
    for p in packets.by_ref() {
        let Some(sections) = psi.iter_mut().find(|s| s.pid == p.pid) else {
            continue;
        };
        sections.feed(&p, &mut done);
        for section in done.drain(..) {
            if crc32(&section) != 0 {
                continue;
            }
            if p.pid == 0 {
                if let Some(pmt) = parse_pat(&section) {
                    if !pmt_pids.contains(&pmt) && pmt_pids.len() < MAX_PROGRAMS {
                        pmt_pids.push(pmt);
                        psi.push(Sections::new(pmt));
                    }
                }
            } else if let Some(list) = parse_pmt(&section) {
                pmt_seen = true;
                for (pid, st) in list {
                    let reserved = pid == 0 || pid == 0x1fff || pmt_pids.contains(&pid);
                    if !reserved
                        && !streams.iter().any(|&(q, _)| q == pid)
                        && streams.len() < limits.max_tracks
                    {
                        streams.push((pid, st));
                    }
                }
            }
        }
    }
    if !pmt_seen {
        return Err(DemuxError::Invalid(
            "no program map table (PAT/PMT) in the MPEG-TS data".into(),
        ));
    }
    Ok(streams)
}

/// The PMT PID of the first program of a PAT section.
fn parse_pat(s: &[u8]) -> Option<u16> {
    if *s.first()? != 0 || s.get(1)? & 0x80 == 0 || s.get(5)? & 1 == 0 {
        return None;
    }
    s.get(8..s.len().checked_sub(4)?)?
        .chunks_exact(4)
        .find_map(|e| match *e {
            [a, b, c, d] if (a, b) != (0, 0) => Some(u16::from(c & 0x1f) << 8 | u16::from(d)),
            _ => None,
        })
}

/// (elementary PID, stream_type) of every stream of a PMT section. DVB carries Dolby audio as
/// private data (`0x06`) with an AC-3 (`0x6A`) or enhanced AC-3 (`0x7A`) descriptor (ETSI EN
/// 300 468 annex D): those are given ATSC's stream types, `0x81` and `0x87`.
fn parse_pmt(s: &[u8]) -> Option<Vec<(u16, u8)>> {
    if *s.first()? != 2 || s.get(1)? & 0x80 == 0 || s.get(5)? & 1 == 0 {
        return None;
    }
    let end = s.len().checked_sub(4)?;
    let mut at = 12 + usize::from(be16(s, 10)? & 0x0fff);
    let mut out = Vec::new();
    while at + 5 <= end {
        let st = *s.get(at)?;
        let pid = be16(s, at + 1)? & 0x1fff;
        let info = usize::from(be16(s, at + 3)? & 0x0fff);
        let mut st = st;
        if st == 0x06 {
            let mut d = s.get(at + 5..(at + 5 + info).min(end)).unwrap_or_default();
            while let [tag, len, rest @ ..] = d {
                match tag {
                    0x6a => st = 0x81,
                    0x7a => st = 0x87,
                    _ => {}
                }
                d = rest.get(usize::from(*len)..).unwrap_or_default();
            }
        }
        out.push((pid, st));
        at += 5 + info;
    }
    Some(out)
}

/// CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection, no final xor): 0 over a whole valid
/// section including its CRC field.
fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff_u32, |crc, &b| {
        (0..8).fold(crc ^ (u32::from(b) << 24), |c, _| {
            if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            }
        })
    })
}

fn be16(s: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*s.get(at)?, *s.get(at + 1)?]))
}

// ---------------------------------------------------------------------------------------------
// PES and elementary streams

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Es {
    Avc,
    Hevc,
    Adts,
    MpegAudio,
    /// AC-3 and E-AC-3 syncframes.
    Dolby,
    Skip,
}

/// An access unit being assembled (times in unwrapped 90 kHz ticks).
struct Au {
    pts: i64,
    dts: i64,
    key: bool,
    data: Vec<u8>,
}

/// Timing of audio frames: `anchor` ticks plus `samples` at `rate`.
struct AudioClock {
    anchor: i64,
    samples: i64,
    rate: u32,
}

impl AudioClock {
    /// (pts µs, duration µs) of the next frame of `samples` samples at `rate`.
    fn stamp(&mut self, samples: u32, rate: u32) -> (i64, i64) {
        if rate != self.rate {
            self.anchor += div_round(
                i128::from(self.samples) * i128::from(CLOCK),
                i128::from(self.rate.max(1)),
            );
            self.samples = 0;
            self.rate = rate;
        }
        let r = i128::from(rate.max(1));
        let num = i128::from(self.anchor) * r + i128::from(self.samples) * i128::from(CLOCK);
        let pts = div_round(num * 1_000_000, i128::from(CLOCK) * r);
        self.samples += i64::from(samples);
        (pts, ticks_to_us(i64::from(samples), rate))
    }
}

/// Demux state of one elementary stream.
struct Track {
    pid: u16,
    es: Es,
    info: TrackInfo,
    configured: bool,
    cc: Continuity,
    pes: Vec<u8>,
    /// A PES is being assembled in `pes`.
    active: bool,
    /// Data was lost; ignore payload until the next PES start.
    skipping: bool,
    samples: Vec<TsSample>,
    /// The access units since the last PES with a PTS: the first has that PES's times; more
    /// (split at access unit delimiters) are timed evenly up to the next PES's DTS.
    group: Vec<Au>,
    /// Ticks per access unit between the last two timed PES packets (for a last group).
    step: i64,
    carry: Vec<u8>,
    /// The PTS of the frame `carry` starts with, when its PES gave one that no frame used yet.
    carry_pts: Option<i64>,
    clock: Option<AudioClock>,
    /// Offset of the packet that started the PES in `pes` (windows of a file).
    pes_at: u64,
    /// A timed PES of this track started inside the window: its samples are the window's.
    owned: bool,
    /// The window is done with this track: its packets are ignored.
    closed: bool,
}

impl Track {
    fn new(pid: u16, stream_type: u8) -> Self {
        let (es, kind, codec) = match stream_type {
            0x1b => (Es::Avc, Some(TrackKind::Video), "?avc1".to_string()),
            0x24 => (Es::Hevc, Some(TrackKind::Video), "?hevc".to_string()),
            0x0f => (Es::Adts, Some(TrackKind::Audio), "?mp4a".to_string()),
            0x03 | 0x04 => (Es::MpegAudio, Some(TrackKind::Audio), "?mpga".to_string()),
            0x81 => (Es::Dolby, Some(TrackKind::Audio), "?ac-3".to_string()),
            0x87 => (Es::Dolby, Some(TrackKind::Audio), "?ec-3".to_string()),
            0x15 => (Es::Skip, None, "?id3".to_string()),
            other => (Es::Skip, None, format!("?ts-{other:#04x}")),
        };
        Track {
            pid,
            es,
            info: TrackInfo {
                id: u64::from(pid),
                kind,
                codec,
                ..TrackInfo::default()
            },
            configured: false,
            cc: Continuity::default(),
            pes: Vec::new(),
            active: false,
            skipping: false,
            samples: Vec::new(),
            group: Vec::new(),
            step: 0,
            carry: Vec::new(),
            carry_pts: None,
            clock: None,
            pes_at: 0,
            owned: false,
            closed: false,
        }
    }
}

impl Track {
    /// Ends the current access unit group, timing its untimed access units between the first's
    /// DTS and `next_dts` (or by the last step), and returns its samples.
    fn close_group(&mut self, next_dts: Option<i64>, t: usize) -> Vec<TsSample> {
        let mut group = std::mem::take(&mut self.group);
        let Some((pts0, dts0)) = group.first().map(|au| (au.pts, au.dts)) else {
            return Vec::new();
        };
        group.retain(|au| !au.data.is_empty());
        let n = (group.len() as i64).max(1);
        if let Some(next) = next_dts.filter(|&d| d > dts0) {
            self.step = (next - dts0) / n;
        }
        let step = self.step;
        let mut k = 0;
        group
            .into_iter()
            .map(|mut au| {
                au.dts = dts0 + k * step;
                au.pts = au.dts + (pts0 - dts0);
                k += 1;
                au_sample(au, t)
            })
            .collect()
    }
}

/// The sample of a finished access unit of track `track` (its duration is filled in later).
fn au_sample(au: Au, track: usize) -> TsSample {
    TsSample {
        track,
        pts_us: ticks_to_us(au.pts, CLOCK as u32),
        dts_us: ticks_to_us(au.dts, CLOCK as u32),
        duration_us: 0,
        key: au.key,
        data: au.data,
    }
}

/// Unwraps 33-bit timestamps to the value nearest a fixed reference (the first timestamp
/// when none is given), minus `origin`: the unwrapped time that becomes 0.
struct Timeline {
    reference: Option<i64>,
    origin: i64,
}

impl Timeline {
    fn unwrap(&mut self, raw: i64) -> i64 {
        let r = *self.reference.get_or_insert(raw);
        raw + div_round(i128::from(r - raw), i128::from(WRAP)) * WRAP - self.origin
    }
}

/// Rounds `n / d` to the nearest integer (halves away from zero); `d > 0`.
fn div_round(n: i128, d: i128) -> i64 {
    let q = if n >= 0 {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    };
    q.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// A parsed PES packet.
struct Pes<'a> {
    pts: Option<i64>,
    dts: Option<i64>,
    payload: &'a [u8],
}

/// Parses a whole PES packet; `None` when the header is malformed or the packet is shorter
/// than its declared length.
fn parse_pes(b: &[u8]) -> Option<Pes<'_>> {
    if b.get(..3)? != [0, 0, 1] {
        return None;
    }
    let sid = *b.get(3)?;
    let len = usize::from(be16(b, 4)?);
    let end = if len == 0 { b.len() } else { 6 + len };
    if b.len() < end {
        return None;
    }
    // Stream ids without the optional header: program stream map, padding, private stream 2,
    // ECM, EMM, directory, DSM-CC, H.222.1 type E.
    if matches!(sid, 0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xff | 0xf2 | 0xf8) {
        return Some(Pes {
            pts: None,
            dts: None,
            payload: b.get(6..end)?,
        });
    }
    let flags = *b.get(7)?;
    if b.get(6)? & 0xc0 != 0x80 {
        return None;
    }
    let start = 9 + usize::from(*b.get(8)?);
    let pts = if flags & 0x80 != 0 {
        Some(timestamp(b.get(9..14)?)?)
    } else {
        None
    };
    let dts = if flags & 0xc0 == 0xc0 {
        Some(timestamp(b.get(14..19)?)?)
    } else {
        None
    };
    Some(Pes {
        pts,
        dts,
        payload: b.get(start..end)?,
    })
}

/// The raw PTS and DTS (the PTS when there is none) of a PES packet from its first bytes
/// (the payload of the packet that starts it), when its header carries a PTS.
fn pes_times(b: &[u8]) -> Option<(i64, i64)> {
    if b.get(..3)? != [0, 0, 1] || b.get(6)? & 0xc0 != 0x80 {
        return None;
    }
    let flags = *b.get(7)?;
    if flags & 0x80 == 0 {
        return None;
    }
    let pts = timestamp(b.get(9..14)?)?;
    let dts = if flags & 0xc0 == 0xc0 {
        timestamp(b.get(14..19)?)?
    } else {
        pts
    };
    Some((pts, dts))
}

/// A 33-bit timestamp from its 5 PES header bytes (marker bits ignored).
fn timestamp(b: &[u8]) -> Option<i64> {
    let [b0, b1, b2, b3, b4] = *b else {
        return None;
    };
    Some(
        (i64::from(b0 >> 1) & 7) << 30
            | i64::from(b1) << 22
            | i64::from(b2 >> 1) << 15
            | i64::from(b3) << 7
            | i64::from(b4 >> 1),
    )
}

/// The demux state machine: packets in (with their offsets), samples out per track.
///
/// With a `bound` (a window of a file, see `file.rs`), a track's samples are those of the timed
/// PES packets that start before the bound, plus untimed PES continuing them; the first timed
/// PES at or after the bound ends the track's last access unit (its DTS times an access unit
/// group; an audio frame straddling into it is completed) and closes the track, and a track
/// with no timed PES before the bound is closed at its first PES after it. Without a bound
/// everything is taken (a segment).
struct Demux {
    limits: TsLimits,
    tracks: Vec<Track>,
    timeline: Timeline,
    samples: usize,
    discarded: u32,
    bound: Option<u64>,
}

impl Demux {
    /// A state machine for the elementary `streams` (PID, stream_type) of a PMT; see
    /// [`Timeline`] for `reference` and `origin` (90 kHz ticks).
    fn new(
        streams: &[(u16, u8)],
        limits: &TsLimits,
        reference: Option<i64>,
        origin: i64,
        bound: Option<u64>,
    ) -> Demux {
        Demux {
            limits: *limits,
            tracks: streams
                .iter()
                .map(|&(pid, st)| Track::new(pid, st))
                .collect(),
            timeline: Timeline { reference, origin },
            samples: 0,
            discarded: 0,
            bound,
        }
    }

    /// Whether the packet at `at` lies at or past the window's bound.
    fn beyond(&self, at: u64) -> bool {
        self.bound.is_some_and(|b| at >= b)
    }

    /// Whether no track can get more samples from packets at or after `at`: each is closed,
    /// or owns nothing in the window and assembles no PES that started inside it.
    fn all_closed(&self, at: u64) -> bool {
        self.beyond(at)
            && self.tracks.iter().all(|t| {
                let inside = t.active && !self.beyond(t.pes_at);
                t.es == Es::Skip || t.closed || (!t.owned && !inside)
            })
    }

    /// The data ended (end of the segment or file): completes every open PES and access unit.
    fn end_all(&mut self) -> Result<(), DemuxError> {
        for t in 0..self.tracks.len() {
            if self.tracks.get(t).is_some_and(|tr| tr.closed) {
                continue;
            }
            self.end_pes(t)?;
            let last = self
                .tracks
                .get_mut(t)
                .map(|track| track.close_group(None, t))
                .unwrap_or_default();
            for sample in last {
                self.push(sample)?;
            }
        }
        Ok(())
    }

    /// A window stopped before its tracks closed (size limit): what is being assembled is
    /// dropped (it may be cut), finished access units are kept.
    fn abandon(&mut self) -> Result<(), DemuxError> {
        for t in 0..self.tracks.len() {
            let open = self
                .tracks
                .get(t)
                .is_some_and(|tr| !tr.closed && tr.es != Es::Skip && tr.active);
            if open {
                self.discard(t)?;
            } else if let Some(track) = self.tracks.get_mut(t) {
                let last = track.close_group(None, t);
                for sample in last {
                    self.push(sample)?;
                }
            }
        }
        Ok(())
    }

    fn packet(&mut self, p: &Packet, at: u64) -> Result<(), DemuxError> {
        let Some(t) = self.tracks.iter().position(|t| t.pid == p.pid) else {
            return Ok(());
        };
        let max = self.limits.max_pes_bytes;
        let beyond = self.beyond(at);
        let Some(track) = self.tracks.get_mut(t) else {
            return Ok(());
        };
        if track.es == Es::Skip || track.closed {
            return Ok(());
        }
        let verdict = track.cc.check(p);
        if verdict == Cc::Duplicate {
            return Ok(());
        }
        if verdict == Cc::Gap || p.damaged {
            if track.active || !track.skipping {
                self.discard(t)?;
            }
            if p.damaged {
                return Ok(());
            }
        }
        if p.pusi {
            self.end_pes(t)?;
            let Some(track) = self.tracks.get_mut(t) else {
                return Ok(());
            };
            if track.closed {
                return Ok(());
            }
            if beyond && !track.owned {
                // Nothing of this track in the window: what starts now is the next one's.
                track.closed = true;
                track.group.clear();
                return Ok(());
            }
            track.pes.clear();
            track.active = true;
            track.skipping = false;
            track.pes_at = at;
        }
        let Some(track) = self.tracks.get_mut(t) else {
            return Ok(());
        };
        if !track.active {
            return Ok(());
        }
        if track.pes.len() + p.payload.len() > max {
            return self.discard(t);
        }
        track.pes.extend_from_slice(p.payload);
        // A bounded PES is complete as soon as its declared length is there.
        let declared = be16(&track.pes, 4).map_or(0, usize::from);
        if declared != 0 && track.pes.len() >= 6 + declared {
            self.end_pes(t)?;
        }
        Ok(())
    }

    /// Drops the PES being assembled on track `t` (or one whose start was lost).
    fn discard(&mut self, t: usize) -> Result<(), DemuxError> {
        self.discarded = self.discarded.saturating_add(1);
        let Some(track) = self.tracks.get_mut(t) else {
            return Ok(());
        };
        track.pes.clear();
        track.active = false;
        track.skipping = true;
        track.carry.clear();
        track.carry_pts = None;
        // The access unit in progress may have lost its tail: emit what it has, and drop
        // PES continuations until the next timed one.
        for sample in track.close_group(None, t) {
            self.push(sample)?;
        }
        Ok(())
    }

    /// Ends the PES being assembled on track `t` and hands its payload to the codec.
    fn end_pes(&mut self, t: usize) -> Result<(), DemuxError> {
        let Some(track) = self.tracks.get_mut(t) else {
            return Ok(());
        };
        if !track.active {
            return Ok(());
        }
        track.active = false;
        let bytes = std::mem::take(&mut track.pes);
        let Some(pes) = parse_pes(&bytes) else {
            return self.discard(t);
        };
        let beyond = self.bound.is_some_and(|b| track.pes_at >= b);
        // The first timed PES past the window's bound closes the track (module doc of
        // `Demux`); an untimed one continues what the window has.
        let closing = beyond && pes.pts.is_some();
        if !beyond && pes.pts.is_some() {
            track.owned = true;
        }
        let es = track.es;
        let pts = pes.pts.map(|v| self.timeline.unwrap(v));
        let dts = pes.dts.map(|v| self.timeline.unwrap(v));
        let times = pts.map(|p| (p, dts.unwrap_or(p)));
        match es {
            Es::Avc | Es::Hevc => self.video(t, times, pes.payload, closing)?,
            Es::Adts | Es::MpegAudio | Es::Dolby => self.audio(t, pts, pes.payload, closing)?,
            Es::Skip => {}
        }
        if closing {
            if let Some(track) = self.tracks.get_mut(t) {
                track.closed = true;
                track.pes = Vec::new();
                track.carry = Vec::new();
                track.group.clear();
            }
            return Ok(());
        }
        // Give the buffer back so the next PES reuses its allocation.
        if let Some(track) = self.tracks.get_mut(t) {
            let mut bytes = bytes;
            bytes.clear();
            track.pes = bytes;
        }
        Ok(())
    }

    fn push(&mut self, sample: TsSample) -> Result<(), DemuxError> {
        if self.samples >= self.limits.max_samples {
            return Err(DemuxError::Invalid(format!(
                "more than {} samples in one MPEG-TS segment",
                self.limits.max_samples
            )));
        }
        self.samples += 1;
        if let Some(track) = self.tracks.get_mut(sample.track) {
            track.samples.push(sample);
        }
        Ok(())
    }

    /// The payload of a video PES (`times`: its PTS and DTS). `closing`: the PES opens the
    /// next window; it only completes and times what came before it.
    fn video(
        &mut self,
        t: usize,
        times: Option<(i64, i64)>,
        data: &[u8],
        closing: bool,
    ) -> Result<(), DemuxError> {
        let max = self.limits.max_pes_bytes;
        let Some(track) = self.tracks.get_mut(t) else {
            return Ok(());
        };
        let hevc = track.es == Es::Hevc;
        let nals = nal_starts(data);
        let first = nals.first().map_or(data.len(), |n| n.0);
        let mut out: Vec<TsSample> = Vec::new();
        // Bytes before the first start code continue the last NAL unit of the previous PES.
        if let (Some(au), Some(lead)) = (track.group.last_mut(), data.get(..first)) {
            au.data.extend_from_slice(lead);
        }
        if let Some((pts, dts)) = times {
            out.extend(track.close_group(Some(dts), t));
            if closing {
                for s in out {
                    self.push(s)?;
                }
                return Ok(());
            }
            track.group.push(Au {
                pts,
                dts,
                key: false,
                data: Vec::new(),
            });
        }
        let mut too_big = false;
        for (i, &(start, header)) in nals.iter().enumerate() {
            let end = nals.get(i + 1).map_or(data.len(), |n| n.0);
            let (Some(bytes), Some(nal)) = (data.get(start..end), data.get(header..end)) else {
                continue;
            };
            let Some(&h0) = nal.first() else {
                continue;
            };
            let kind = if hevc { (h0 >> 1) & 0x3f } else { h0 & 0x1f };
            let aud = if hevc { kind == 35 } else { kind == 9 };
            if aud && track.group.last().is_some_and(|au| !au.data.is_empty()) {
                // Another access unit in the same PES: timed when the group closes.
                track.group.push(Au {
                    pts: 0,
                    dts: 0,
                    key: false,
                    data: Vec::new(),
                });
            }
            let Some(au) = track.group.last_mut() else {
                continue; // no time known for this data
            };
            if au.data.len() + bytes.len() > max {
                too_big = true;
                track.group.pop();
                out.extend(track.close_group(None, t));
                continue;
            }
            au.data.extend_from_slice(bytes);
            let key = if hevc {
                (16..=21).contains(&kind)
            } else {
                kind == 5
            };
            au.key |= key;
            let sps = if hevc { kind == 33 } else { kind == 7 };
            if sps && !track.configured {
                track.configured = configure_video(&mut track.info, nal, hevc);
            }
        }
        for s in out {
            self.push(s)?;
        }
        if too_big {
            self.discarded = self.discarded.saturating_add(1);
        }
        Ok(())
    }

    /// The payload of an audio PES (`pts`: its PTS). `closing`: the PES opens the next
    /// window; only a frame carried over from the previous PES is completed from it.
    fn audio(
        &mut self,
        t: usize,
        pts: Option<i64>,
        data: &[u8],
        closing: bool,
    ) -> Result<(), DemuxError> {
        let Some(track) = self.tracks.get_mut(t) else {
            return Ok(());
        };
        let es = track.es;
        let mut buf = std::mem::take(&mut track.carry);
        let carried = buf.len();
        buf.extend_from_slice(data);
        let mut carry_pts = track.carry_pts.take();
        let mut pending_pts = pts;
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(rest) = buf.get(at..).filter(|r| !r.is_empty()) {
            if closing && at >= carried {
                break;
            }
            let frame = match es {
                Es::Adts => adts_frame(rest),
                Es::Dolby => dolby_frame(rest),
                _ => mpeg_frame(rest),
            };
            let sync = if es == Es::Dolby { 0x0b } else { 0xff };
            let Some(f) = frame else {
                if rest.len() < 9 && rest.first() == Some(&sync) {
                    break; // maybe a header cut by the PES boundary
                }
                at += 1; // resync
                continue;
            };
            let Some(bytes) = rest.get(..f.len) else {
                break; // completed by the next PES
            };
            // A header whose frame is not followed by another sync word is a false sync (or
            // a damaged length): look further.
            if rest.get(f.len).is_some_and(|&b| b != sync) {
                at += 1;
                continue;
            }
            // A PES's PTS belongs to the first frame that starts in it: the carried bytes all
            // come from the PES that gave `carry_pts` (a false sync may lead them).
            let start_pts = if at >= carried {
                pending_pts.take()
            } else {
                carry_pts.take()
            };
            if let Some(p) = start_pts {
                track.clock = Some(AudioClock {
                    anchor: p,
                    samples: 0,
                    rate: f.rate,
                });
            }
            at += f.len;
            let Some(clock) = track.clock.as_mut() else {
                continue; // no timestamp seen yet
            };
            let (pts_us, duration_us) = clock.stamp(f.samples, f.rate);
            if !track.configured {
                track.configured = true;
                configure_audio(&mut track.info, &f);
            }
            out.push(TsSample {
                track: t,
                pts_us,
                dts_us: pts_us,
                duration_us,
                key: true,
                data: bytes.get(f.header..).unwrap_or(&[]).to_vec(),
            });
        }
        if let Some(rest) = buf.get(at..).filter(|r| r.len() <= MAX_AUDIO_FRAME) {
            track.carry.extend_from_slice(rest);
            track.carry_pts = if at >= carried {
                pending_pts
            } else {
                carry_pts
            };
        }
        for s in out {
            self.push(s)?;
        }
        Ok(())
    }

    /// Each track's configuration and samples (decode order; video durations 0), for a
    /// window of a file.
    fn into_tracks(self) -> (Vec<TrackInfo>, Vec<Vec<TsSample>>) {
        self.tracks.into_iter().map(|t| (t.info, t.samples)).unzip()
    }

    fn finish(self, resyncs: u32) -> TsSegment {
        let mut lists = Vec::with_capacity(self.tracks.len());
        let mut tracks = Vec::with_capacity(self.tracks.len());
        for mut t in self.tracks {
            if t.info.kind == Some(TrackKind::Video) {
                let mut pts: Vec<i64> = t.samples.iter().map(|s| s.pts_us).collect();
                pts.sort_unstable();
                for s in &mut t.samples {
                    let next = pts.partition_point(|&p| p <= s.pts_us);
                    s.duration_us = pts.get(next).map_or(0, |&p| p - s.pts_us);
                }
            }
            lists.push(t.samples.into_iter().peekable());
            tracks.push(t.info);
        }
        let mut samples = Vec::with_capacity(self.samples);
        loop {
            let next = lists
                .iter_mut()
                .enumerate()
                .filter_map(|(i, l)| l.peek().map(|s| (s.dts_us, i)))
                .min();
            let Some(s) = next
                .and_then(|(_, i)| lists.get_mut(i))
                .and_then(|l| l.next())
            else {
                break;
            };
            samples.push(s);
        }
        let end_us = samples.iter().map(|s| s.pts_us + s.duration_us).max();
        TsSegment {
            tracks,
            samples,
            discarded_pes: self.discarded,
            resyncs,
            end_us,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NAL units, SPS

/// (start of the start code — its leading zero byte included for a 4-byte one, offset of the
/// NAL header) of every NAL unit in Annex B data.
fn nal_starts(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b2) = data.get(i + 2) {
        if b2 > 1 {
            i += 3;
        } else if b2 == 1 && data.get(i..i + 2) == Some(&[0, 0]) {
            let start = if i > 0 && data.get(i - 1) == Some(&0) {
                i - 1
            } else {
                i
            };
            out.push((start, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// The NAL units of Annex B data (without start codes and trailing zero bytes).
fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let starts = nal_starts(data);
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|s| s.0)
        .chain(std::iter::once(data.len()))
        .collect();
    starts
        .into_iter()
        .zip(ends)
        .filter_map(move |((_, header), end)| {
            let nal = data.get(header..end)?;
            let keep = nal.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            nal.get(..keep).filter(|n| !n.is_empty())
        })
}

/// The RBSP of a NAL unit body: emulation prevention bytes (`00 00 03`) removed. At most
/// `limit` input bytes are read (parameter sets are small).
fn unescape(b: &[u8], limit: usize) -> Vec<u8> {
    let b = b.get(..limit).unwrap_or(b);
    let mut out = Vec::with_capacity(b.len());
    let mut zeros = 0;
    for &x in b {
        if zeros >= 2 && x == 3 {
            zeros = 0;
            continue;
        }
        out.push(x);
        zeros = if x == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// MSB-first bit reader with Exp-Golomb codes.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }
    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.pos += n;
        (self.pos <= self.data.len() * 8).then_some(())
    }
    fn flag(&mut self) -> Option<bool> {
        Some(self.bit()? == 1)
    }
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let v = (1u64 << zeros) - 1 + u64::from(self.bits(zeros)?);
        u32::try_from(v).ok()
    }
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k & 1 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// What the demuxer reads from an H.264 sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvcSps {
    /// `profile_idc` (66 baseline, 77 main, 100 high, …).
    pub profile_idc: u8,
    /// The constraint_set flags byte.
    pub constraint_flags: u8,
    /// `level_idc` (31 = level 3.1).
    pub level_idc: u8,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// Luma bit depth (8–14).
    pub bit_depth_luma: u8,
    /// Chroma bit depth (8–14).
    pub bit_depth_chroma: u8,
    /// Picture width after the cropping window.
    pub width: u32,
    /// Picture height after the cropping window (frames, also for field coding).
    pub height: u32,
    /// Sample aspect ratio (width, height) from the VUI; (1, 1) when absent or unspecified.
    pub sar: (u32, u32),
}

impl AvcSps {
    /// The WebCodecs codec string `avc1.PPCCLL`.
    pub fn codec(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_idc, self.constraint_flags, self.level_idc
        )
    }
}

/// Parses an H.264 SPS NAL unit (header byte included, no start code, emulation prevention
/// bytes still in). `None` if it is not an SPS or is malformed.
pub fn avc_sps(nal: &[u8]) -> Option<AvcSps> {
    if nal.first()? & 0x1f != 7 {
        return None;
    }
    let rbsp = unescape(nal.get(1..)?, 4096);
    let mut r = Bits {
        data: &rbsp,
        pos: 0,
    };
    let profile_idc = r.bits(8)? as u8;
    let constraint_flags = r.bits(8)? as u8;
    let level_idc = r.bits(8)? as u8;
    if r.ue()? > 31 {
        return None; // seq_parameter_set_id
    }
    let (mut chroma, mut separate, mut depth_luma, mut depth_chroma) = (1, false, 8, 8);
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma = r.ue()?;
        if chroma > 3 {
            return None;
        }
        if chroma == 3 {
            separate = r.flag()?;
        }
        let (luma, chroma_depth) = (r.ue()?, r.ue()?);
        if luma > 6 || chroma_depth > 6 {
            return None; // bit depths above 14
        }
        depth_luma = 8 + luma;
        depth_chroma = 8 + chroma_depth;
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.flag()? {
            let lists = if chroma == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.flag()? {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bit()?; // delta_pic_order_always_zero_flag
            r.se()?;
            r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = r.flag()?;
    if !frame_mbs_only {
        r.bit()?; // mb_adaptive_frame_field_flag
    }
    r.bit()?; // direct_8x8_inference_flag
    let mut crop = [0u64; 4]; // left, right, top, bottom
    if r.flag()? {
        for c in &mut crop {
            *c = u64::from(r.ue()?);
        }
    }
    let sar = vui_sar(&mut r).unwrap_or((1, 1));
    let fields = if frame_mbs_only { 1 } else { 2 };
    let (sub_w, sub_h) = match (chroma, separate) {
        (0, _) | (3, true) => (1, 1),
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let [left, right, top, bottom] = crop;
    let width = (width_mbs * 16).checked_sub((left + right) * sub_w)?;
    let height = (fields * height_units * 16).checked_sub((top + bottom) * sub_h * fields)?;
    Some(AvcSps {
        profile_idc,
        constraint_flags,
        level_idc,
        chroma_format_idc: chroma as u8,
        bit_depth_luma: depth_luma as u8,
        bit_depth_chroma: depth_chroma as u8,
        width: u32::try_from(width).ok()?,
        height: u32::try_from(height).ok()?,
        sar,
    })
}

fn skip_scaling_list(r: &mut Bits, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = r.se()?;
            if !(-128..=127).contains(&delta) {
                return None;
            }
            next = (last + delta + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// The sample aspect ratio from the start of the VUI (`vui_parameters_present_flag` first).
fn vui_sar(r: &mut Bits) -> Option<(u32, u32)> {
    const SAR: [(u32, u32); 16] = [
        (1, 1),
        (12, 11),
        (10, 11),
        (16, 11),
        (40, 33),
        (24, 11),
        (20, 11),
        (32, 11),
        (80, 33),
        (18, 11),
        (15, 11),
        (64, 33),
        (160, 99),
        (4, 3),
        (3, 2),
        (2, 1),
    ];
    if !r.flag()? || !r.flag()? {
        return None; // no VUI, or no aspect_ratio_info
    }
    match r.bits(8)? {
        255 => {
            let (w, h) = (r.bits(16)?, r.bits(16)?);
            (w > 0 && h > 0).then_some((w, h))
        }
        idc => SAR.get(usize::try_from(idc).ok()?.checked_sub(1)?).copied(),
    }
}

/// Codec string and picture size from an H.265 SPS NAL unit (2-byte header included).
fn hevc_sps(nal: &[u8]) -> Option<(String, u32, u32)> {
    hevc_sps_fields(nal).map(|s| (s.codec, s.width, s.height))
}

/// What an H.265 SPS says that the codec string, the picture size and an hvcC need.
struct HevcSps {
    codec: String,
    width: u32,
    height: u32,
    /// hvcC bytes 1..=12: general_profile_tier_level as it is in the SPS.
    ptl: [u8; 12],
    sub_layers: u8,
    temporal_nesting: bool,
    chroma_format_idc: u8,
    bit_depth_luma: u8,
    bit_depth_chroma: u8,
}

/// Parses an H.265 SPS NAL unit (2-byte header included), ITU-T H.265 7.3.2.2.
fn hevc_sps_fields(nal: &[u8]) -> Option<HevcSps> {
    if (nal.first()? >> 1) & 0x3f != 33 {
        return None;
    }
    let rbsp = unescape(nal.get(2..)?, 4096);
    let mut r = Bits {
        data: &rbsp,
        pos: 0,
    };
    r.bits(4)?; // sps_video_parameter_set_id
    let sub_layers = r.bits(3)? as usize; // sps_max_sub_layers_minus1
    let nesting = r.bit()?; // temporal_id_nesting
                            // general_profile_tier_level: the same 12 bytes as hvcC bytes 1..=12.
    let mut hvcc = vec![1u8];
    for _ in 0..12 {
        hvcc.push(r.bits(8)? as u8);
    }
    hvcc.resize(23, 0);
    let mut present = Vec::with_capacity(sub_layers);
    for _ in 0..sub_layers {
        present.push((r.flag()?, r.flag()?));
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?;
    }
    for (profile, level) in present {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    if r.ue()? > 15 {
        return None; // sps_seq_parameter_set_id
    }
    let chroma = r.ue()?;
    let separate = chroma == 3 && r.flag()?;
    let width = u64::from(r.ue()?);
    let height = u64::from(r.ue()?);
    let (sub_w, sub_h) = match (chroma, separate) {
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        (0 | 3, _) => (1, 1),
        _ => return None,
    };
    let mut window = [0u64; 4];
    if r.flag()? {
        for w in &mut window {
            *w = u64::from(r.ue()?);
        }
    }
    let [left, right, top, bottom] = window;
    let w = width.checked_sub((left + right) * sub_w)?;
    let h = height.checked_sub((top + bottom) * sub_h)?;
    let depth_luma = r.ue()?;
    let depth_chroma = r.ue()?;
    if depth_luma > 8 || depth_chroma > 8 {
        return None; // at most 16 bits
    }
    let codec = codec::hevc(&hvcc, "hvc1")?;
    let mut ptl = [0u8; 12];
    ptl.copy_from_slice(hvcc.get(1..13)?);
    Some(HevcSps {
        codec,
        width: u32::try_from(w).ok()?,
        height: u32::try_from(h).ok()?,
        ptl,
        sub_layers: sub_layers as u8,
        temporal_nesting: nesting != 0,
        chroma_format_idc: chroma as u8,
        bit_depth_luma: depth_luma as u8 + 8,
        bit_depth_chroma: depth_chroma as u8 + 8,
    })
}

/// Builds an HEVCDecoderConfigurationRecord (the hvcC body, 4-byte NAL lengths) from the VPS,
/// SPS and PPS NAL units found in Annex B data (an IRAP access unit of a TS stream), ISO/IEC
/// 14496-15 8.3.3.1. `None` without a valid SPS, or without a VPS or PPS.
pub fn hevc_decoder_config(annexb: &[u8]) -> Option<Vec<u8>> {
    // (NAL unit type, units) for VPS, SPS, PPS, in the order hvcC lists them.
    let mut arrays: [(u8, Vec<&[u8]>); 3] = [(32, Vec::new()), (33, Vec::new()), (34, Vec::new())];
    for nal in nal_units(annexb) {
        let kind = nal.first().map(|h| (h >> 1) & 0x3f);
        if let Some((_, list)) = arrays.iter_mut().find(|(k, _)| Some(*k) == kind) {
            if !list.contains(&nal) && nal.len() <= usize::from(u16::MAX) && list.len() < 16 {
                list.push(nal);
            }
        }
    }
    if arrays.iter().any(|(_, l)| l.is_empty()) {
        return None;
    }
    let sps = hevc_sps_fields(arrays[1].1.first()?)?;
    let mut out = vec![1u8];
    out.extend_from_slice(&sps.ptl);
    out.extend_from_slice(&[
        0xf0,
        0x00, // min_spatial_segmentation_idc 0
        0xfc, // parallelismType 0 (unknown)
        0xfc | sps.chroma_format_idc,
        0xf8 | (sps.bit_depth_luma - 8),
        0xf8 | (sps.bit_depth_chroma - 8),
        0,
        0, // avgFrameRate unknown
        // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
        ((sps.sub_layers + 1) << 3) | (u8::from(sps.temporal_nesting) << 2) | 3,
        3,
    ]);
    for (kind, list) in &arrays {
        out.push(0x80 | kind); // array_completeness 1
        out.extend_from_slice(&(list.len() as u16).to_be_bytes());
        for nal in list {
            out.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            out.extend_from_slice(nal);
        }
    }
    Some(out)
}

/// Fills a video track's codec string and size from its SPS; false if the SPS is unusable.
fn configure_video(info: &mut TrackInfo, sps: &[u8], hevc: bool) -> bool {
    let (codec, width, height, sar) = if hevc {
        let Some((codec, w, h)) = hevc_sps(sps) else {
            return false;
        };
        (codec, w, h, (1, 1))
    } else {
        let Some(s) = avc_sps(sps) else {
            return false;
        };
        (s.codec(), s.width, s.height, s.sar)
    };
    info.codec = codec;
    info.width = width;
    info.height = height;
    let (sw, sh) = sar;
    let display = u64::from(width) * u64::from(sw) / u64::from(sh.max(1));
    info.display_width = u32::try_from(display).unwrap_or(width);
    info.display_height = height;
    true
}

/// Converts an Annex B access unit to AVCC form (each NAL unit prefixed by its 4-byte
/// big-endian length), as MP4 samples and a WebCodecs decoder configured with an avcC
/// `description` expect. NAL units longer than 4 GiB cannot occur in a bounded segment.
pub fn avcc_from_annexb(au: &[u8]) -> Vec<u8> {
    avcc_from_annexb_keeping(au, |_| true)
}

/// [`avcc_from_annexb`], keeping only the NAL units `keep` accepts (e.g. an H.265 access unit
/// without its in-band parameter sets, which an `hvc1` sample entry carries instead).
pub fn avcc_from_annexb_keeping(au: &[u8], keep: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(au.len() + 16);
    for nal in nal_units(au).filter(|n| keep(n)) {
        let len = u32::try_from(nal.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

/// Builds an AVCDecoderConfigurationRecord (the avcC body, 4-byte NAL lengths) from the SPS
/// and PPS NAL units found in Annex B data (e.g. a keyframe's access unit). `None` when there
/// is no valid SPS or no PPS.
pub fn avc_decoder_config(annexb: &[u8]) -> Option<Vec<u8>> {
    let mut sps: Vec<&[u8]> = Vec::new();
    let mut pps: Vec<&[u8]> = Vec::new();
    for nal in nal_units(annexb) {
        let list = match nal.first().map(|h| h & 0x1f) {
            Some(7) => &mut sps,
            Some(8) => &mut pps,
            _ => continue,
        };
        if !list.contains(&nal) && nal.len() <= usize::from(u16::MAX) {
            list.push(nal);
        }
    }
    let first = avc_sps(sps.first()?)?;
    if pps.is_empty() || sps.len() > 31 || pps.len() > 255 {
        return None;
    }
    let mut out = vec![
        1,
        first.profile_idc,
        first.constraint_flags,
        first.level_idc,
        0xff,
        0xe0 | sps.len() as u8,
    ];
    for s in &sps {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s);
    }
    out.push(pps.len() as u8);
    for p in &pps {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    // ISO/IEC 14496-15 (since its 2014 edition): the extension follows for every profile but
    // Baseline, Main and Extended.
    if !matches!(first.profile_idc, 66 | 77 | 88) {
        out.extend_from_slice(&[
            0xfc | first.chroma_format_idc,
            0xf8 | (first.bit_depth_luma - 8),
            0xf8 | (first.bit_depth_chroma - 8),
            0,
        ]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_a_known_pat() {
        // PAT of ffmpeg's mpegts muxer: program 1 → PMT PID 0x1000.
        let pat = [
            0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1,
            0x04, 0xb2,
        ];
        assert_eq!(crc32(&pat), 0);
        assert_eq!(parse_pat(&pat), Some(0x1000));
    }

    #[test]
    fn timestamps_and_unwrap() {
        // PTS 0x1_2345_6789 coded with '0010' prefix and marker bits.
        let v: i64 = 0x1_2345_6789;
        let b = [
            0x21 | (((v >> 30) as u8 & 7) << 1),
            (v >> 22) as u8,
            (((v >> 15) as u8) << 1) | 1,
            (v >> 7) as u8,
            ((v as u8) << 1) | 1,
        ];
        assert_eq!(timestamp(&b), Some(v));
        let mut tl = Timeline {
            reference: Some(WRAP - 100),
            origin: 0,
        };
        assert_eq!(tl.unwrap(50), WRAP + 50);
        assert_eq!(tl.unwrap(WRAP - 200), WRAP - 200);
        let mut tl = Timeline {
            reference: None,
            origin: 0,
        };
        assert_eq!(tl.unwrap(WRAP - 10), WRAP - 10);
        assert_eq!(tl.unwrap(5), WRAP + 5);
    }

    #[test]
    fn nal_split_and_avcc() {
        let au = [0, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0];
        assert_eq!(nal_starts(&au), vec![(0, 4), (6, 9)]);
        let avcc = avcc_from_annexb(&au);
        assert_eq!(
            avcc,
            vec![0, 0, 0, 2, 9, 0xf0, 0, 0, 0, 3, 0x65, 0x88, 0x84]
        );
    }

    #[test]
    fn hostile_sps_values_are_rejected() {
        // High profile, bit_depth_luma_minus8 = 2^32 - 2 (32 leading zeros would be more).
        let mut bits = String::from("0110010000000000000111101010");
        bits.push_str(&"0".repeat(31));
        bits.push('1');
        bits.push_str(&"1".repeat(31));
        bits.push_str("1111");
        let mut nal = vec![0x67];
        for chunk in bits.as_bytes().chunks(8) {
            let mut b = 0u8;
            for (i, &c) in chunk.iter().enumerate() {
                b |= u8::from(c == b'1') << (7 - i);
            }
            nal.push(b);
        }
        assert_eq!(avc_sps(&nal), None);
        // A reference at the end of i64 does not overflow the unwrap.
        let seg = demux_segment_after(&[], &TsLimits::default(), Some(i64::MAX));
        assert!(seg.is_err());
    }

    #[test]
    fn sync_after_garbage_and_m2ts() {
        let mut pkt = [0xffu8; PACKET];
        pkt[0] = SYNC;
        let mut data = vec![1u8, 2, SYNC, 3];
        for _ in 0..3 {
            data.extend_from_slice(&pkt);
        }
        assert_eq!(find_sync(&data, 0), Some((4, PACKET)));
        let mut m2ts = Vec::new();
        for _ in 0..3 {
            m2ts.extend_from_slice(&[0, 0, 0, 0]);
            m2ts.extend_from_slice(&pkt);
        }
        assert_eq!(find_sync(&m2ts, 0), Some((4, 192)));
    }
}
