//! Native FLAC files as a [`Demux`] for the host's decoder (WebCodecs `flac`, whose
//! description is `fLaC` + the STREAMINFO block).
//!
//! A frame's header (sync, block size, rate, channels, sample size, the UTF-8-coded frame or
//! sample number, CRC-8) says where its samples start but not how long it is: a frame ends
//! where the next valid header starts whose CRC-16 over the frame checks out (the frame's last
//! two bytes), or at the end of the file. Cursors hold the frame's byte offset
//! ([`Cursor::segment`]), so no frame index is kept. Seeking starts from the SEEKTABLE's last
//! point at or before the target (ffmpeg's encoder writes one every 10 s), else from the nearest
//! frame seen so far ([`CHECKPOINT_EVERY`] frames apart), and walks the frames to the one that
//! holds the target.

use super::mpa::skip_id3v2;
use super::{ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind};

/// Most bytes of metadata blocks read before the first frame (cover pictures can be large).
const MAX_METADATA: u64 = 16 * 1024 * 1024;
/// Most bytes one frame may take when STREAMINFO gives no maximum (8 channels of 32-bit
/// samples in a 16384-sample block, verbatim, is 512 KB).
const MAX_FRAME: u64 = 1024 * 1024;
/// Frames between the positions remembered for seeking without a SEEKTABLE.
pub const CHECKPOINT_EVERY: u64 = 64;
/// Most seek points kept from a SEEKTABLE or remembered.
const MAX_POINTS: usize = 65_536;

/// What a frame header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHeader {
    /// Variable block size: `number` is the first sample's number (else the frame's number).
    variable: bool,
    number: u64,
    block: u32,
    /// Header bytes (CRC-8 included).
    len: usize,
}

fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |crc, &b| {
        (0..8).fold(crc ^ b, |c, _| {
            if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            }
        })
    })
}

fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        (0..8).fold(crc ^ (u16::from(b) << 8), |c, _| {
            if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            }
        })
    })
}

/// The frame header at the start of `b`, if one parses and its CRC-8 checks out.
fn frame_header(b: &[u8]) -> Option<FrameHeader> {
    let [0xff, b1, b2, b3, ..] = *b else {
        return None;
    };
    if b1 & 0xfe != 0xf8 || b2 >> 4 == 0 || b2 & 0x0f == 0x0f || b3 >> 4 >= 11 || b3 & 1 != 0 {
        return None;
    }
    // The UTF-8-like coded number.
    let first = *b.get(4)?;
    let extra = first.leading_ones() as usize;
    if extra == 1 || extra > 7 {
        return None;
    }
    let mut number = u64::from(if extra == 0 {
        first
    } else {
        first & (0x7f >> extra)
    });
    let mut at = 5;
    for _ in 1..extra.max(1) {
        let c = *b.get(at)?;
        if c & 0xc0 != 0x80 {
            return None;
        }
        number = (number << 6) | u64::from(c & 0x3f);
        at += 1;
    }
    let code = b2 >> 4;
    let block = match code {
        1 => 192,
        2..=5 => 576 << (code - 2),
        6 => {
            at += 1;
            u32::from(*b.get(at - 1)?) + 1
        }
        7 => {
            at += 2;
            u32::from(u16::from_be_bytes([*b.get(at - 2)?, *b.get(at - 1)?])) + 1
        }
        _ => 256 << (code - 8),
    };
    at += match b2 & 0x0f {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    let crc = *b.get(at)?;
    (crc8(b.get(..at)?) == crc).then_some(FrameHeader {
        variable: b1 & 1 == 1,
        number,
        block,
        len: at + 1,
    })
}

/// A native FLAC file. See the module docs.
pub struct FlacFile {
    tracks: [TrackInfo; 1],
    rate: u32,
    total: Option<u64>,
    first_frame: u64,
    /// Samples per frame of a fixed-block-size stream (the first frame's).
    fixed_block: Option<u32>,
    /// Largest frame to look for the next header in.
    max_frame: u64,
    /// (first sample, offset) of frames known: the SEEKTABLE's and those walked past.
    points: Vec<(u64, u64)>,
}

impl FlacFile {
    /// Reads the metadata blocks and the first frame's header. Call again after `NeedBytes`.
    pub fn open(src: &mut dyn ByteSource) -> Result<FlacFile, DemuxError> {
        let invalid = |m: &str| DemuxError::Invalid(format!("flac: {m}"));
        let start = skip_id3v2(src)?.ok_or_else(|| invalid("oversized ID3v2 tag"))?;
        let mut magic = [0u8; 4];
        if src.read_at(start, &mut magic)? < 4 || &magic != b"fLaC" {
            return Err(DemuxError::Unsupported("not a FLAC file".into()));
        }
        let mut at = start + 4;
        let mut info: Option<[u8; 34]> = None;
        let mut table = Vec::new();
        loop {
            if at - start > MAX_METADATA {
                return Err(invalid("metadata over 16 MB"));
            }
            let mut h = [0u8; 4];
            if src.read_at(at, &mut h)? < 4 {
                return Err(invalid("the file ends in its metadata"));
            }
            let len = u64::from(h[1]) << 16 | u64::from(h[2]) << 8 | u64::from(h[3]);
            let body = at + 4;
            match h[0] & 0x7f {
                0 if len == 34 => {
                    let mut b = [0u8; 34];
                    src.read_at(body, &mut b)?;
                    info = Some(b);
                }
                3 if len <= 18 * MAX_POINTS as u64 => {
                    let mut b = vec![0u8; len as usize];
                    let n = src.read_at(body, &mut b)?;
                    for p in b[..n].chunks_exact(18) {
                        let sample =
                            u64::from_be_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]]);
                        let offset = u64::from_be_bytes([
                            p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15],
                        ]);
                        if sample != u64::MAX {
                            table.push((sample, offset));
                        }
                    }
                }
                127 => return Err(invalid("invalid metadata block type")),
                _ => {}
            }
            at = body + len;
            if h[0] & 0x80 != 0 {
                break;
            }
        }
        let si = info.ok_or_else(|| invalid("no STREAMINFO block"))?;
        let rate = u32::from(si[10]) << 12 | u32::from(si[11]) << 4 | u32::from(si[12] >> 4);
        let channels = u16::from((si[12] >> 1) & 7) + 1;
        let total = u64::from(si[13] & 0x0f) << 32
            | u64::from(u32::from_be_bytes([si[14], si[15], si[16], si[17]]));
        let max_frame = u64::from(si[7]) << 16 | u64::from(si[8]) << 8 | u64::from(si[9]);
        if rate == 0 {
            return Err(invalid("sample rate 0"));
        }
        let first_frame = at;
        let mut head = [0u8; 16];
        let n = src.read_at(first_frame, &mut head)?;
        let first =
            frame_header(&head[..n]).ok_or_else(|| invalid("no frame after the metadata"))?;
        let mut description = b"fLaC".to_vec();
        description.extend_from_slice(&[0x80, 0, 0, 34]);
        description.extend_from_slice(&si);
        let total = (total > 0).then_some(total);
        let info = TrackInfo {
            id: 1,
            kind: Some(TrackKind::Audio),
            codec: "flac".into(),
            description: Some(description),
            sample_rate: rate,
            channels,
            duration_us: total.map(|t| (u128::from(t) * 1_000_000 / u128::from(rate)) as i64),
            ..TrackInfo::default()
        };
        table.sort_unstable();
        table.dedup_by_key(|p| p.0);
        let mut points: Vec<(u64, u64)> = table
            .into_iter()
            .map(|(s, o)| (s, first_frame.saturating_add(o)))
            .collect();
        points.insert(0, (0, first_frame));
        points.dedup_by_key(|p| p.0);
        Ok(FlacFile {
            tracks: [info],
            rate,
            total,
            first_frame,
            fixed_block: (!first.variable).then_some(first.block),
            max_frame: if max_frame > 0 {
                max_frame + 64
            } else {
                MAX_FRAME
            },
            points,
        })
    }

    /// The frame at `at`: its header and its length. `Ok(None)` at the end of the stream.
    fn frame_at(
        &self,
        src: &mut dyn ByteSource,
        at: u64,
    ) -> Result<Option<(FrameHeader, u64)>, DemuxError> {
        let mut head = [0u8; 16];
        let n = src.read_at(at, &mut head)?;
        let Some(h) = frame_header(&head[..n]) else {
            return Ok(None);
        };
        let want = match src.len() {
            Some(l) => self.max_frame.min(l.saturating_sub(at)),
            None => self.max_frame,
        };
        let mut buf = vec![0u8; want as usize];
        let n = src.read_at(at, &mut buf)?;
        buf.truncate(n);
        // The next header whose frame checks out (CRC-16 over the frame before it); failing
        // that (a damaged frame), the first following header that parses with the number
        // the next frame must carry: the damaged frame goes to the decoder, whose error the
        // player handles, and playback goes on after it.
        let next_number = if h.variable {
            h.number + u64::from(h.block)
        } else {
            h.number + 1
        };
        let mut damaged = None;
        let mut p = h.len + 2;
        while p + 1 < buf.len() {
            if buf[p] == 0xff && buf[p + 1] & 0xfe == 0xf8 {
                if let Some(next) = frame_header(&buf[p..]).filter(|n| n.variable == h.variable) {
                    let crc = u16::from_be_bytes([buf[p - 2], buf[p - 1]]);
                    if crc16(&buf[..p - 2]) == crc {
                        return Ok(Some((h, p as u64)));
                    }
                    if damaged.is_none() && next.number == next_number {
                        damaged = Some(p as u64);
                    }
                }
            }
            p += 1;
        }
        let n = buf.len();
        let at_end = src.len() == Some(at + n as u64);
        if at_end && n >= h.len + 2 {
            // The last frame: it ends with the file.
            let crc = u16::from_be_bytes([buf[n - 2], buf[n - 1]]);
            if crc16(&buf[..n - 2]) == crc {
                return Ok(Some((h, n as u64)));
            }
        }
        match damaged {
            Some(end) => Ok(Some((h, end))),
            // A last frame cut by the end of the file: no decoder outputs it.
            None if at_end => Ok(None),
            None => Err(DemuxError::Invalid(format!(
                "flac: no valid frame end after byte {at}"
            ))),
        }
    }

    /// The first sample of a frame.
    fn first_sample(&self, h: &FrameHeader) -> u64 {
        match self.fixed_block {
            Some(b) if !h.variable => h.number * u64::from(b),
            _ => h.number,
        }
    }

    fn time(&self, sample: u64) -> i64 {
        (u128::from(sample) * 1_000_000 / u128::from(self.rate)) as i64
    }

    fn remember(&mut self, sample: u64, at: u64) {
        let last = self.points.last().map_or(0, |p| p.0);
        let step = u64::from(self.fixed_block.unwrap_or(4096)) * CHECKPOINT_EVERY;
        if sample >= last + step && self.points.len() < MAX_POINTS {
            self.points.push((sample, at));
        }
    }
}

fn offset_of(c: &Cursor, first_frame: u64) -> u64 {
    if c.segment == 0 && c.index == 0 {
        first_frame
    } else {
        c.segment as u64
    }
}

impl Demux for FlacFile {
    fn container(&self) -> &'static str {
        "flac"
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn duration(&self) -> Option<f64> {
        self.total.map(|t| t as f64 / f64::from(self.rate))
    }

    fn next_sample(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        let at = offset_of(cursor, self.first_frame);
        if track != 0 || src.len().is_some_and(|l| at >= l) {
            return Ok(None);
        }
        let Some((h, len)) = self.frame_at(src, at)? else {
            return Ok(None);
        };
        let end = usize::try_from(at + len)
            .map_err(|_| DemuxError::Unsupported("flac: a file over 4 GB here".into()))?;
        let first = self.first_sample(&h);
        self.remember(first, at);
        cursor.segment = end;
        cursor.index = 1;
        let pts = self.time(first);
        Ok(Some(Sample {
            pts_us: pts,
            dts_us: pts,
            duration_us: self.time(first + u64::from(h.block)) - pts,
            offset: at,
            size: len as u32,
            key: true,
        }))
    }

    fn seek(
        &mut self,
        src: &mut dyn ByteSource,
        _track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        let target = (u128::from(time_us.max(0) as u64) * u128::from(self.rate) / 1_000_000) as u64;
        let i = self
            .points
            .partition_point(|p| p.0 <= target)
            .saturating_sub(1);
        let mut at = self.points.get(i).map_or(self.first_frame, |p| p.1);
        while let Some((h, len)) = self.frame_at(src, at)? {
            let first = self.first_sample(&h);
            if target < first + u64::from(h.block) {
                break;
            }
            self.remember(first, at);
            // Past the last frame: the end (no sample follows).
            at += len;
        }
        let segment = usize::try_from(at)
            .map_err(|_| DemuxError::Unsupported("flac: a file over 4 GB here".into()))?;
        Ok(Cursor { segment, index: 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_crcs() {
        // Fixed blocking, block size code 12 (4096), 44.1 kHz (9), stereo, 16-bit, frame 0.
        let mut h = vec![0xff, 0xf8, 0xc9, 0x18, 0x00];
        h.push(crc8(&h));
        let f = frame_header(&h).unwrap();
        assert_eq!((f.variable, f.number, f.block, f.len), (false, 0, 4096, 6));
        h[5] ^= 1;
        assert_eq!(frame_header(&h), None);
        // A two-byte coded number (0x80 → 0xc2 0x80) and an 8-bit block size (code 6).
        let mut h = vec![0xff, 0xf9, 0x69, 0x18, 0xc2, 0x80, 0x0f];
        h.push(crc8(&h));
        let f = frame_header(&h).unwrap();
        assert_eq!((f.variable, f.number, f.block, f.len), (true, 0x80, 16, 8));
        // The check values of CRC-8 (poly 7) and CRC-16 (poly 0x8005, "BUYPASS").
        assert_eq!(crc8(b"123456789"), 0xf4);
        assert_eq!(crc16(b"123456789"), 0xfee8);
    }
}
