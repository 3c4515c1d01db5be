//! WAV files (RIFF `WAVE`, and RF64 for files over 4 GB) as a [`Demux`]: the `fmt ` chunk
//! names the sample format (integer PCM of 8 to 32 bits, IEEE float, A-law, µ-law; the
//! extensible format's subformat), the `data` chunk holds the frames, handed out in blocks of
//! up to [`BLOCK_FRAMES`]. The core converts the samples itself (`crate::audio::pcm`), so WAV
//! plays without symphonia and without a platform decoder. A `data` size of 0 or one past the
//! end of the file (a recording cut short, a stream written without seeking back) reads to
//! the end of the file.

use super::{ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind};

/// Frames per sample handed out (~85 ms at 48 kHz).
pub const BLOCK_FRAMES: u64 = 4096;
/// Most bytes of chunks read before `data` (a `LIST` of metadata, `bext`, a large `JUNK`).
const MAX_HEADER: u64 = 16 * 1024 * 1024;
/// Most channels accepted.
const MAX_CHANNELS: u16 = 32;
/// `WAVE_FORMAT_EXTENSIBLE`.
const EXTENSIBLE: u16 = 0xfffe;

/// A WAV file. See the module docs.
pub struct WavFile {
    tracks: [TrackInfo; 1],
    /// Offset of the first frame.
    data: u64,
    /// Whole frames in the `data` chunk.
    frames: u64,
    /// Bytes per frame.
    block_align: u64,
    rate: u32,
}

/// Little-endian `u16` / `u32` / `u64` at `at` of `b` (0 when short).
fn le(b: &[u8], at: usize, n: usize) -> u64 {
    b.get(at..at + n).map_or(0, |s| {
        s.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x))
    })
}

/// Whether `head` starts a WAV file.
pub fn is_wav(head: &[u8]) -> bool {
    head.len() >= 12 && matches!(&head[..4], b"RIFF" | b"RF64") && &head[8..12] == b"WAVE"
}

/// The codec name of a `fmt ` chunk's format (see `crate::audio::pcm`).
fn codec_of(tag: u16, bits: u16) -> Option<String> {
    Some(match (tag, bits) {
        (1, 8) => "pcm-u8".into(),
        (1, 16 | 24 | 32) => format!("pcm-s{bits}le"),
        (3, 32 | 64) => format!("pcm-f{bits}le"),
        (6, 8) => "alaw".into(),
        (7, 8) => "ulaw".into(),
        _ => return None,
    })
}

impl WavFile {
    /// Reads the chunks up to `data`. Call again after `NeedBytes`.
    pub fn open(src: &mut dyn ByteSource) -> Result<WavFile, DemuxError> {
        let invalid = |m: &str| DemuxError::Invalid(format!("wav: {m}"));
        let mut head = [0u8; 12];
        if src.read_at(0, &mut head)? < 12 || !is_wav(&head) {
            return Err(DemuxError::Unsupported("not a WAV file".into()));
        }
        let rf64 = &head[..4] == b"RF64";
        let mut at = 12u64;
        let mut fmt: Option<Vec<u8>> = None;
        let mut rf64_data: Option<u64> = None;
        loop {
            if at > MAX_HEADER {
                return Err(invalid("no data chunk in the first 16 MB"));
            }
            let mut h = [0u8; 8];
            if src.read_at(at, &mut h)? < 8 {
                return Err(invalid("no data chunk"));
            }
            let id = [h[0], h[1], h[2], h[3]];
            let size = le(&h, 4, 4);
            let body = at + 8;
            match &id {
                b"fmt " | b"ds64" => {
                    if size > 1024 {
                        return Err(invalid("oversized format chunk"));
                    }
                    let mut b = vec![0u8; size as usize];
                    let n = src.read_at(body, &mut b)?;
                    b.truncate(n);
                    if &id == b"ds64" {
                        // riff size (8), data size (8), sample count (8), table...
                        rf64_data = Some(le(&b, 8, 8));
                    } else {
                        fmt = Some(b);
                    }
                }
                b"data" => {
                    let fmt = fmt.ok_or_else(|| invalid("data before the format chunk"))?;
                    let size = match rf64_data {
                        Some(s) if rf64 && size == 0xffff_ffff => s,
                        _ => size,
                    };
                    return WavFile::with(&fmt, body, size, src.len());
                }
                _ => {}
            }
            at = body + size + (size & 1);
        }
    }

    fn with(fmt: &[u8], data: u64, size: u64, len: Option<u64>) -> Result<WavFile, DemuxError> {
        let unsupported = |m: String| DemuxError::Unsupported(format!("wav: {m}"));
        let mut tag = le(fmt, 0, 2) as u16;
        let channels = le(fmt, 2, 2) as u16;
        let rate = le(fmt, 4, 4) as u32;
        let block_align = le(fmt, 12, 2);
        let mut bits = le(fmt, 14, 2) as u16;
        if tag == EXTENSIBLE && fmt.len() >= 40 {
            // The subformat GUID's first two bytes are the format tag.
            tag = le(fmt, 24, 2) as u16;
        }
        if channels == 0 || channels > MAX_CHANNELS || rate == 0 || rate > 768_000 {
            return Err(unsupported(format!("{channels} channels at {rate} Hz")));
        }
        // Samples whose valid bits are fewer than their container (20 bits in 24): the
        // container's size is what the frame holds.
        let container = (block_align / u64::from(channels)) as u16 * 8;
        if container > bits {
            bits = container;
        }
        let codec = codec_of(tag, bits)
            .ok_or_else(|| unsupported(format!("format {tag:#x} with {bits}-bit samples")))?;
        if block_align != u64::from(channels) * u64::from(bits / 8) {
            return Err(DemuxError::Invalid(format!(
                "wav: {block_align} bytes per frame for {channels} channels of {bits} bits"
            )));
        }
        let available = len.map(|l| l.saturating_sub(data));
        let size = match available {
            Some(a) if size == 0 || size > a => a,
            _ => size,
        };
        let frames = size / block_align;
        let info = TrackInfo {
            id: 1,
            kind: Some(TrackKind::Audio),
            codec,
            sample_rate: rate,
            channels,
            duration_us: Some((u128::from(frames) * 1_000_000 / u128::from(rate)) as i64),
            ..TrackInfo::default()
        };
        Ok(WavFile {
            tracks: [info],
            data,
            frames,
            block_align,
            rate,
        })
    }

    /// Frames per block: [`BLOCK_FRAMES`], fewer for wide frames (a block stays under 1 MB).
    fn block(&self) -> u64 {
        BLOCK_FRAMES.min((1 << 20) / self.block_align.max(1)).max(1)
    }
}

impl Demux for WavFile {
    fn container(&self) -> &'static str {
        "wav"
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn duration(&self) -> Option<f64> {
        Some(self.frames as f64 / f64::from(self.rate))
    }

    fn next_sample(
        &mut self,
        _src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        let first = cursor.index as u64 * self.block();
        if track != 0 || first >= self.frames {
            return Ok(None);
        }
        let n = self.block().min(self.frames - first);
        let time = |f: u64| (u128::from(f) * 1_000_000 / u128::from(self.rate)) as i64;
        cursor.index += 1;
        Ok(Some(Sample {
            pts_us: time(first),
            dts_us: time(first),
            duration_us: time(first + n) - time(first),
            offset: self.data + first * self.block_align,
            size: (n * self.block_align) as u32,
            key: true,
        }))
    }

    fn seek(
        &mut self,
        _src: &mut dyn ByteSource,
        _track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        let frame = u128::from(time_us.max(0) as u64) * u128::from(self.rate) / 1_000_000;
        let frame = (frame as u64).min(self.frames);
        Ok(Cursor {
            segment: 0,
            index: (frame / self.block()) as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(fmt: &[u8], data: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut b = b"RIFF\0\0\0\0WAVE".to_vec();
        b.extend_from_slice(extra);
        b.extend_from_slice(b"fmt ");
        b.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        b.extend_from_slice(fmt);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut f = tag.to_le_bytes().to_vec();
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    #[test]
    fn blocks_times_and_seeks() {
        // 10000 stereo s16 frames at 8 kHz, after an odd-sized LIST chunk (padded).
        let data = vec![0u8; 10_000 * 4];
        let file = wav(&fmt(1, 2, 8000, 16), &data, b"LIST\x03\0\0\0abc\0");
        let mut src: &[u8] = &file;
        let mut w = WavFile::open(&mut src).unwrap();
        let t = &w.tracks()[0];
        assert_eq!(
            (t.codec.as_str(), t.sample_rate, t.channels),
            ("pcm-s16le", 8000, 2)
        );
        assert_eq!(w.duration(), Some(1.25));
        let mut c = Cursor::default();
        let mut blocks = Vec::new();
        while let Some(s) = w.next_sample(&mut src, 0, &mut c).unwrap() {
            blocks.push(s);
        }
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].offset, 12 + 12 + 8 + 16 + 8);
        assert_eq!(blocks[2].size, (10_000 - 8192) * 4);
        assert_eq!(blocks[1].pts_us, 512_000);
        assert_eq!(w.seek(&mut src, 0, 600_000).unwrap().index, 1);
        assert_eq!(w.seek(&mut src, 0, 99_000_000).unwrap().index, 2);
    }

    #[test]
    fn formats_and_refusals() {
        let mut ext = fmt(EXTENSIBLE, 2, 48_000, 32);
        ext.extend_from_slice(&[22, 0, 32, 0, 3, 0, 0, 0]);
        ext.extend_from_slice(&[
            3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        ]);
        for (f, codec) in [
            (fmt(1, 1, 44_100, 8), "pcm-u8"),
            (fmt(1, 2, 44_100, 24), "pcm-s24le"),
            (fmt(3, 2, 44_100, 64), "pcm-f64le"),
            (fmt(7, 1, 8000, 8), "ulaw"),
            (ext, "pcm-f32le"),
        ] {
            let file = wav(&f, &[0u8; 64], b"");
            let mut src: &[u8] = &file;
            assert_eq!(WavFile::open(&mut src).unwrap().tracks()[0].codec, codec);
        }
        for f in [
            fmt(2, 2, 44_100, 4),
            fmt(1, 0, 44_100, 16),
            fmt(1, 2, 0, 16),
        ] {
            let file = wav(&f, &[0u8; 64], b"");
            let mut src: &[u8] = &file;
            assert!(WavFile::open(&mut src).is_err());
        }
        let mut src: &[u8] = b"RIFF\0\0\0\0WAVEdata\x04\0\0\0abcd";
        assert!(matches!(
            WavFile::open(&mut src),
            Err(DemuxError::Invalid(_))
        ));
    }
}
