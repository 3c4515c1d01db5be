//! Elementary audio stream files: MP3 (MPEG audio), ADTS AAC (`.aac`) and AC-3 / E-AC-3
//! (`.ac3`, `.ec3`): frames back to back after optional ID3v2 tags, as a [`Demux`] whose one
//! track goes to the host's decoder. symphonia reads MP3 and ADTS files itself when the core has
//! it (`crate::audio::decoder`); this is the path without it (the streaming-only web package),
//! and for AC-3 files, which symphonia does not decode.
//!
//! The frames are found as the file is read ([`Walker`]): a frame is taken when its header
//! parses with the first frame's codec, rate and frame size; garbage between frames is skipped
//! by looking for the next header that another header (or the end) follows; a frame cut by the
//! end of the file is left out (no decoder outputs it); ID3v1, APEv2 and Lyrics3 tags end the
//! stream. An MP3's Xing/Info/VBRI frame is skipped, and its LAME tag's encoder delay and padding
//! give the timeline: the first sample after the delay is at time 0 (the decoder's output for
//! the samples before it carries negative timestamps and is dropped).
//!
//! Seeking maps a time to a frame index exactly (every frame of a stream holds the same number
//! of samples), then indexes frames up to it: a seek past what is fetched reads the bytes
//! before it first. The index keeps one offset per frame (8 bytes; bounded by
//! [`MAX_SAMPLES`](super::MAX_SAMPLES)).

use super::frames::{adts_frame, configure_audio, dolby_frame, mpeg_frame, AudioFrame};
use super::mpa::{self, skip_id3v2};
use super::{ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind};

/// Most bytes searched for the first frame after the tags.
const FIRST_FRAME_SEARCH: u64 = 64 * 1024;
/// Frames in a row that make a stream at open.
const FIRST_FRAMES: usize = 4;
/// Frames whose mean size estimates the duration of a file without a frame count.
const ESTIMATE_FRAMES: usize = 64;
/// Bytes a frame header is read from (AC-3 needs 8).
const HEADER_BYTES: usize = 8;

/// Which frame syntax the stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// MPEG audio, layers I–III.
    Mpeg,
    /// AAC in ADTS frames.
    Adts,
    /// AC-3 or E-AC-3 syncframes.
    Dolby,
}

impl Kind {
    fn parse(self, b: &[u8]) -> Option<AudioFrame> {
        match self {
            Kind::Mpeg => mpeg_frame(b),
            Kind::Adts => adts_frame(b),
            Kind::Dolby => dolby_frame(b),
        }
    }
}

/// The frame at `at` in `kind`'s syntax, if a header parses there.
fn frame_at(
    src: &mut dyn ByteSource,
    kind: Kind,
    at: u64,
) -> Result<Option<AudioFrame>, DemuxError> {
    let mut b = [0u8; HEADER_BYTES];
    let n = src.read_at(at, &mut b)?;
    Ok(b.get(..n).and_then(|b| kind.parse(b)))
}

/// Whether [`FIRST_FRAMES`] frames like `first` follow each other from `at` (fewer when the
/// file ends right after the last): two headers in a row happen in noise (a 64 KB file of
/// random bytes had an ADTS pair), four do not.
fn chained(
    src: &mut dyn ByteSource,
    kind: Kind,
    first: &AudioFrame,
    at: u64,
    len: Option<u64>,
) -> Result<bool, DemuxError> {
    let mut next = at + first.len as u64;
    for _ in 1..FIRST_FRAMES {
        if len == Some(next) {
            return Ok(true);
        }
        match frame_at(src, kind, next)? {
            Some(f) if same_stream(first, &f) => next += f.len as u64,
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Whether `b` can follow `a` in one stream (the same codec, rate and frame size): a guard
/// against false syncs inside frame data.
fn same_stream(a: &AudioFrame, b: &AudioFrame) -> bool {
    a.codec == b.codec && a.rate == b.rate && a.samples == b.samples
}

/// What one [`Walker::step`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A frame: its offset, its whole length and the bytes of its header to strip (ADTS).
    Frame {
        /// Offset of the frame.
        at: u64,
        /// Whole frame length in bytes.
        len: u32,
        /// Header bytes before the payload a decoder takes.
        header: u32,
    },
    /// A byte of garbage was skipped: call again.
    Skipped,
    /// The stream ended (end of file, a trailing tag, or a frame cut by the end).
    End,
}

/// Walks the frames of a stream from a position, one header (or garbage byte) per step. See
/// the module docs for what is taken.
#[derive(Debug, Clone)]
pub struct Walker {
    kind: Kind,
    codec: String,
    rate: u32,
    samples: u32,
    /// Offset of the next frame (or of the garbage being skipped).
    pos: u64,
    /// Skipping garbage: looking for the next frame from `pos`.
    lost: bool,
}

impl Walker {
    /// A walk from `pos` of frames like `first`.
    fn new(kind: Kind, first: &AudioFrame, pos: u64) -> Walker {
        Walker {
            kind,
            codec: first.codec.clone(),
            rate: first.rate,
            samples: first.samples,
            pos,
            lost: false,
        }
    }

    /// A walk of an MP3 file's frames from its first audio frame (after the Xing/Info/VBRI
    /// frame, which decoders skip).
    pub fn mp3(head: &mpa::Head) -> Walker {
        let h = &head.header;
        let pos = head.first_frame + if head.tag_frame { h.len as u64 } else { 0 };
        Walker {
            kind: Kind::Mpeg,
            codec: match h.layer {
                3 => "mp3",
                2 => "?mp2",
                _ => "?mp1",
            }
            .into(),
            rate: h.rate,
            samples: h.samples,
            pos,
            lost: false,
        }
    }

    /// Where the walk is (the offset of the next frame, or of the garbage being skipped).
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn matches(&self, f: &AudioFrame) -> bool {
        f.codec == self.codec && f.rate == self.rate && f.samples == self.samples
    }

    /// One step. `Err(NeedBytes)` leaves the walk where it was.
    pub fn step(&mut self, src: &mut dyn ByteSource) -> Result<Found, DemuxError> {
        let len = src.len();
        if len.is_some_and(|l| self.pos + 4 > l) {
            return Ok(Found::End);
        }
        let mut b = [0u8; HEADER_BYTES];
        let n = src.read_at(self.pos, &mut b)?;
        let b = b.get(..n).unwrap_or(&[]);
        if n < 4 {
            return Ok(Found::End);
        }
        match self.kind.parse(b).filter(|f| self.matches(f)) {
            Some(f) => {
                let end = self.pos + f.len as u64;
                if self.lost {
                    // A candidate after garbage: taken when another frame (or the end)
                    // follows it.
                    let followed = len == Some(end)
                        || frame_at(src, self.kind, end)?.is_some_and(|n| self.matches(&n));
                    if !followed {
                        self.pos += 1;
                        return Ok(Found::Skipped);
                    }
                    self.lost = false;
                }
                // Cut by the end of the file: no decoder outputs it. (Without a known length,
                // the frame's last byte tells.)
                let cut = match len {
                    Some(l) => end > l,
                    None => src.read_at(end - 1, &mut [0u8; 1])? == 0,
                };
                if cut {
                    return Ok(Found::End);
                }
                let at = self.pos;
                self.pos = end;
                Ok(Found::Frame {
                    at,
                    len: f.len as u32,
                    header: f.header as u32,
                })
            }
            None => {
                let tag = (b.starts_with(b"TAG") && len == Some(self.pos + 128))
                    || b.starts_with(b"APETAGEX")
                    || b.starts_with(b"LYRICSBE");
                if tag {
                    return Ok(Found::End);
                }
                self.lost = true;
                self.pos += 1;
                Ok(Found::Skipped)
            }
        }
    }
}

/// An elementary audio stream file. See the module docs.
pub struct EsFile {
    tracks: [TrackInfo; 1],
    container: &'static str,
    walker: Walker,
    /// The offset of every frame found so far, in order.
    frames: Vec<u64>,
    /// The walk reached the end: `frames` is complete.
    complete: bool,
    /// Samples per frame and rate.
    samples: u32,
    rate: u32,
    /// Samples before time 0 (MP3: the LAME tag's delay, the decoder's 529 included).
    delay: u32,
    duration: Option<f64>,
}

impl EsFile {
    /// Reads the tags and the first frames. `Err(Unsupported)` when the file is not an
    /// elementary stream of a kind above; call again after `NeedBytes`.
    pub fn open(src: &mut dyn ByteSource) -> Result<EsFile, DemuxError> {
        let not = || DemuxError::Unsupported("not an MP3, ADTS or AC-3 file".into());
        let start = skip_id3v2(src)?.ok_or_else(not)?;
        // Containers whose payload could hold false frame syncs.
        let mut magic = [0u8; 4];
        let n = src.read_at(start, &mut magic)?;
        if n == 4
            && matches!(
                &magic,
                b"RIFF" | b"RF64" | b"fLaC" | b"OggS" | b"FORM" | b"caff"
            )
        {
            return Err(not());
        }
        let stop = start + FIRST_FRAME_SEARCH;
        let len = src.len();
        let mut at = start;
        while at < stop && len.is_none_or(|l| at < l) {
            for kind in [Kind::Mpeg, Kind::Adts, Kind::Dolby] {
                let Some(first) = frame_at(src, kind, at)? else {
                    continue;
                };
                if chained(src, kind, &first, at, len)? {
                    return EsFile::with_first(src, kind, first, at);
                }
            }
            at += 1;
        }
        Err(not())
    }

    fn with_first(
        src: &mut dyn ByteSource,
        kind: Kind,
        first: AudioFrame,
        at: u64,
    ) -> Result<EsFile, DemuxError> {
        let mut info = TrackInfo {
            id: 1,
            kind: Some(TrackKind::Audio),
            ..TrackInfo::default()
        };
        configure_audio(&mut info, &first);
        let mut walker = Walker::new(kind, &first, at);
        let (mut delay, mut padding, mut count) = (0u32, 0u32, None);
        let container = match kind {
            Kind::Mpeg => "mp3",
            Kind::Adts => "adts",
            Kind::Dolby => "ac3",
        };
        if kind == Kind::Mpeg {
            if let Some(head) = mpa::read_head(src)?.filter(|h| h.first_frame == at) {
                walker = Walker::new(kind, &first, Walker::mp3(&head).position());
                delay = head.delay;
                padding = head.padding;
                count = head.frame_count;
            }
        }
        let rate = first.rate.max(1);
        let mut es = EsFile {
            tracks: [info],
            container,
            walker,
            frames: Vec::new(),
            complete: false,
            samples: first.samples,
            rate,
            delay,
            duration: None,
        };
        let frames = match (count, src.len()) {
            (Some(n), _) => Some(u64::from(n)),
            // Without a frame count: the mean frame size of the first frames (as far as they
            // are fetched) into the size of the file, as players estimate it.
            (None, Some(len)) => {
                let from = es.walker.position();
                match es.index_to(src, ESTIMATE_FRAMES) {
                    Ok(()) | Err(DemuxError::NeedBytes(_)) => {}
                    Err(e) => return Err(e),
                }
                let indexed = es.frames.len() as u64;
                let bytes = es.walker.position().saturating_sub(from);
                Some(if es.complete {
                    indexed
                } else if indexed > 0 && bytes > 0 {
                    (u128::from(len.saturating_sub(from)) * u128::from(indexed) / u128::from(bytes))
                        as u64
                } else {
                    len.saturating_sub(from) / (first.len as u64).max(1)
                })
            }
            (None, None) => None,
        };
        let duration = frames.map(|n| {
            let samples = (n * u64::from(first.samples))
                .saturating_sub(u64::from(delay) + u64::from(padding));
            samples as f64 / f64::from(rate)
        });
        let info = &mut es.tracks[0];
        info.duration_us = duration.map(|d| (d * 1e6).round() as i64);
        info.codec_delay_us = i64::from(delay) * 1_000_000 / i64::from(rate);
        es.duration = duration;
        Ok(es)
    }

    /// Indexes frames until frame `k` is known or the stream ends.
    fn index_to(&mut self, src: &mut dyn ByteSource, k: usize) -> Result<(), DemuxError> {
        while self.frames.len() <= k && !self.complete {
            match self.walker.step(src)? {
                Found::Frame { at, .. } => {
                    if self.frames.len() >= super::MAX_SAMPLES {
                        return Err(DemuxError::Unsupported(format!(
                            "more than {} audio frames",
                            super::MAX_SAMPLES
                        )));
                    }
                    self.frames.push(at);
                }
                Found::Skipped => {}
                Found::End => self.complete = true,
            }
        }
        Ok(())
    }

    /// Presentation time of frame `k`, µs.
    fn time_of(&self, k: usize) -> i64 {
        let samples = k as i128 * i128::from(self.samples) - i128::from(self.delay);
        (samples * 1_000_000 / i128::from(self.rate)) as i64
    }
}

impl Demux for EsFile {
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
        if track != 0 {
            return Ok(None);
        }
        let k = cursor.index;
        self.index_to(src, k)?;
        let Some(&at) = self.frames.get(k) else {
            return Ok(None);
        };
        let Some(f) = frame_at(src, self.walker.kind, at)? else {
            return Err(DemuxError::Invalid(format!("no frame header at {at}")));
        };
        let pts = self.time_of(k);
        cursor.index += 1;
        Ok(Some(Sample {
            pts_us: pts,
            dts_us: pts,
            duration_us: self.time_of(k + 1) - pts,
            offset: at + f.header as u64,
            size: f.len.saturating_sub(f.header) as u32,
            key: true,
        }))
    }

    fn seek(
        &mut self,
        src: &mut dyn ByteSource,
        _track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        let delay_us = i128::from(self.delay) * 1_000_000 / i128::from(self.rate);
        let per_frame = i128::from(self.samples) * 1_000_000;
        let k = ((i128::from(time_us.max(0)) + delay_us) * i128::from(self.rate) / per_frame)
            .clamp(0, super::MAX_SAMPLES as i128) as usize;
        self.index_to(src, k)?;
        Ok(Cursor {
            segment: 0,
            index: k.min(self.frames.len()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` MPEG-1 layer III frames of 128 kb/s at 44.1 kHz (417 bytes, no padding).
    fn mp3_frames(n: usize) -> Vec<u8> {
        let mut f = vec![0u8; 417];
        f[..4].copy_from_slice(&[0xff, 0xfb, 0x90, 0x00]);
        f.repeat(n)
    }

    /// `n` ADTS frames (LC, 48 kHz, stereo) of 256 bytes.
    fn adts_frames(n: usize) -> Vec<u8> {
        let mut f = vec![0u8; 0x100];
        f[..7].copy_from_slice(&[0xff, 0xf1, 0x4c, 0x80, 0x20, 0x1f, 0xfc]);
        f.repeat(n)
    }

    fn all(data: &[u8]) -> (EsFile, Vec<Sample>) {
        let mut src: &[u8] = data;
        let mut es = EsFile::open(&mut src).unwrap();
        let mut cursor = Cursor::default();
        let mut out = Vec::new();
        while let Some(s) = es.next_sample(&mut src, 0, &mut cursor).unwrap() {
            out.push(s);
        }
        (es, out)
    }

    #[test]
    fn mp3_frames_after_id3_and_garbage_with_id3v1_at_the_end() {
        let mut data = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        data.extend(mp3_frames(4));
        data.extend([1, 2, 3]); // garbage
        data.extend(mp3_frames(2));
        data.extend(mp3_frames(1).get(..100).unwrap()); // cut by the end... then a tag
        let mut tagged = data.clone();
        tagged.truncate(data.len() - 100);
        tagged.extend(b"TAG");
        tagged.extend([0u8; 125]);
        for d in [&data, &tagged] {
            let (es, samples) = all(d);
            assert_eq!(es.tracks()[0].codec, "mp3");
            assert_eq!(samples.len(), 6);
            assert_eq!(samples[0].offset, 15);
            assert_eq!(samples[4].offset, 15 + 4 * 417 + 3);
            assert_eq!(samples[1].pts_us, 1152 * 1_000_000 / 44_100);
            assert!(samples.iter().all(|s| s.size == 417 && s.key));
        }
    }

    #[test]
    fn adts_payloads_without_their_headers_and_exact_seeks() {
        let data = adts_frames(100);
        let (mut es, samples) = all(&data);
        let t = &es.tracks()[0];
        assert_eq!(
            (t.codec.as_str(), t.sample_rate, t.channels),
            ("mp4a.40.2", 48_000, 2)
        );
        assert_eq!(t.description.as_deref(), Some(&[0x11, 0x90][..]));
        assert_eq!(samples.len(), 100);
        assert_eq!((samples[2].offset, samples[2].size), (2 * 256 + 7, 249));
        let mut src: &[u8] = &data;
        // Frame 10 starts at 10 × 1024 / 48000 s = 213.33 ms.
        assert_eq!(es.seek(&mut src, 0, 213_334).unwrap().index, 10);
        assert_eq!(es.seek(&mut src, 0, 213_332).unwrap().index, 9);
        assert_eq!(es.seek(&mut src, 0, 60_000_000).unwrap().index, 100);
        assert!((es.duration().unwrap() - 100.0 * 1024.0 / 48_000.0).abs() < 1e-9);
    }

    #[test]
    fn bytes_not_fetched_are_asked_for_and_garbage_is_refused() {
        struct Partial(Vec<u8>, usize);
        impl ByteSource for Partial {
            fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
                let end = offset as usize + buf.len();
                if end > self.1 && self.1 < self.0.len() {
                    return Err(DemuxError::NeedBytes(self.1 as u64));
                }
                (&self.0[..]).read_at(offset, buf)
            }
            fn len(&self) -> Option<u64> {
                Some(self.0.len() as u64)
            }
        }
        let mut src = Partial(mp3_frames(10), 2000);
        let mut es = EsFile::open(&mut src).unwrap();
        let mut cursor = Cursor::default();
        let mut n = 0;
        loop {
            match es.next_sample(&mut src, 0, &mut cursor) {
                Ok(Some(_)) => n += 1,
                Ok(None) => break,
                Err(DemuxError::NeedBytes(at)) => {
                    assert_eq!(at, 2000);
                    src.1 = usize::MAX;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(n, 10);
        let mut noise: &[u8] = &[0x55u8; 70_000];
        assert!(matches!(
            EsFile::open(&mut noise),
            Err(DemuxError::Unsupported(_))
        ));
    }
}
