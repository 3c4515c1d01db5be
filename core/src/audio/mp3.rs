//! The length of an MP3 file: what its first frame says (a Xing/Info or VBRI tag with a frame
//! count, the LAME tag's encoder delay and padding), symphonia's estimate when it says nothing,
//! and the exact count of its frames ([`LengthScan`]) for the files whose duration is only
//! estimated.
//!
//! Without a tag, symphonia estimates the number of frames from the size of the first 17 frames
//! (or 16 KiB); for a VBR file that can be far off (13.5 s for the 30 s fixture whose first
//! seconds are noise), and it then trims every packet past the estimate and refuses seeks past
//! it. So such a file ([`hides_length`]) is decoded by a reader that does not see the file's
//! length (no estimate, nothing trimmed), the estimate of a first reader is what the player
//! announces, and the player counts the frame headers over the bytes as they arrive
//! ([`LengthScan::advance`]: bounded work per call, never a fetch) to announce the exact
//! duration once the count reaches the end. A Xing/Info tag without a frame count gives no
//! duration at all: counted the same way.
//!
//! What the count covers: MPEG audio frames with the first frame's version, layer and rate,
//! back to back from the first; garbage between frames is skipped by looking for the next
//! header that another header follows; a last frame cut by the end of the file is not counted
//! (no decoder outputs it); an ID3v1 or APE tag at the end ends the count.

use crate::demux::mpa::{self, Header};
use crate::demux::{ByteSource, DemuxError};

/// Most bytes of ID3v2 tags skipped at the start (cover art can be large).
const MAX_ID3: u64 = 64 * 1024 * 1024;
/// Most bytes searched for the first frame after the tags.
const FIRST_FRAME_SEARCH: u64 = 64 * 1024;
/// Longer than any MPEG audio frame whose header gives its length (free format is refused).
const MAX_FRAME: usize = 4096;

/// What the start of an MP3 file says about its length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Head {
    /// Offset of the first frame (after ID3v2 tags).
    pub first_frame: u64,
    /// The first frame's header.
    pub header: Header,
    /// The frame count of a Xing/Info or VBRI tag in the first frame.
    pub frame_count: Option<u32>,
    /// The first frame is a Xing/Info/VBRI tag (decoders skip it).
    pub tag_frame: bool,
    /// Samples to trim at the start and at the end (LAME tag), as symphonia reads them.
    pub delay: u32,
    /// See `delay`.
    pub padding: u32,
}

/// Reads the start of an MP3 file: `Ok(None)` when it does not start (after ID3v2 tags) with
/// two consecutive MPEG audio frames of one stream.
pub fn read_head(src: &mut dyn ByteSource) -> Result<Option<Head>, DemuxError> {
    let mut at = 0u64;
    // ID3v2 tags (several may follow each other).
    loop {
        let mut id3 = [0u8; 10];
        let n = src.read_at(at, &mut id3)?;
        if n < 10 || id3[..3] != *b"ID3" || id3[6..10].iter().any(|&b| b & 0x80 != 0) {
            break;
        }
        let size = id3[6..10].iter().fold(0u64, |s, &b| s << 7 | u64::from(b));
        let footer = if id3[5] & 0x10 != 0 { 10 } else { 0 };
        at += 10 + size + footer;
        if at > MAX_ID3 {
            return Ok(None);
        }
    }
    let len = src.len();
    let stop = at + FIRST_FRAME_SEARCH;
    while at < stop {
        let Some(header) = header_at(src, at)? else {
            at += 1;
            continue;
        };
        let next = at + header.len as u64;
        let followed = match header_at(src, next)? {
            Some(h) => h.same_stream(&header),
            None => len.is_some_and(|l| next >= l),
        };
        if !followed {
            at += 1;
            continue;
        }
        let mut frame = vec![0u8; header.len.min(MAX_FRAME)];
        let n = src.read_at(at, &mut frame)?;
        let frame = frame.get(..n).unwrap_or(&[]);
        let mut head = Head {
            first_frame: at,
            header,
            frame_count: None,
            tag_frame: false,
            delay: 0,
            padding: 0,
        };
        read_tags(frame, &mut head);
        return Ok(Some(head));
    }
    Ok(None)
}

/// The frame header at `at`, if there is a valid one.
fn header_at(src: &mut dyn ByteSource, at: u64) -> Result<Option<Header>, DemuxError> {
    let mut b = [0u8; 4];
    let n = src.read_at(at, &mut b)?;
    Ok(b.get(..n).and_then(mpa::header))
}

/// Fills the tag fields of `head` from its first frame's bytes (layer III only, as symphonia).
fn read_tags(frame: &[u8], head: &mut Head) {
    if head.header.layer != 3 {
        return;
    }
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(frame.get(at..at + 4)?.try_into().ok()?))
    };
    let zero_before = |end: usize| frame.get(4..end).is_some_and(|b| b.iter().all(|&x| x == 0));
    let xing = 4 + head.header.side_info_len();
    if matches!(frame.get(xing..xing + 4), Some(b"Xing" | b"Info")) && zero_before(xing) {
        head.tag_frame = true;
        let flags = be32(xing + 4).unwrap_or(0);
        let mut at = xing + 8;
        if flags & 1 != 0 {
            head.frame_count = be32(at);
            at += 4;
        }
        if flags & 2 != 0 {
            at += 4;
        }
        if flags & 4 != 0 {
            at += 100;
        }
        if flags & 8 != 0 {
            at += 4;
        }
        // The LAME extension: encoder (9), revision, lowpass, replay gain (8), flags, ABR,
        // then the 24-bit delay and padding.
        let encoder = frame.get(at..at + 4);
        let trim = frame.get(at + 21..at + 24);
        if let (Some(b"LAME" | b"Lavf" | b"Lavc"), Some(&[a, b, c])) = (encoder, trim) {
            let trim = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
            head.delay = 529 + (trim >> 12);
            head.padding = (trim & 0xfff).saturating_sub(529);
        }
        return;
    }
    let vbri = 4 + 32;
    if frame.get(vbri..vbri + 4) == Some(b"VBRI") && zero_before(vbri) {
        head.tag_frame = true;
        head.frame_count = be32(vbri + 14);
    }
}

/// Whether symphonia estimates the duration of this file from its first frames (no tag), so
/// that it must decode it without seeing the file's length.
pub fn hides_length(head: &Head) -> bool {
    !head.tag_frame
}

/// Whether the file's duration is known only once its frames are counted (no frame count in
/// its first frame).
pub fn needs_scan(head: &Head) -> bool {
    head.frame_count.is_none()
}

/// What [`LengthScan::advance`] got to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scan {
    /// More bytes are needed (not fetched yet, or the work budget of the call is spent).
    Pending,
    /// The count reached the end: the exact duration in seconds.
    Done(f64),
}

/// Counts an MP3 file's frames over its bytes as they arrive. See the module docs.
#[derive(Debug, Clone)]
pub struct LengthScan {
    first: Header,
    /// Offset of the next frame (or of the garbage being skipped).
    pos: u64,
    frames: u64,
    /// Samples to leave out of the count (the LAME tag's delay and padding).
    trim: u64,
    /// Skipping garbage: looking for the next frame from `pos`.
    lost: bool,
}

impl LengthScan {
    /// A scan of the file `head` describes, starting at its first frame (after the tag frame,
    /// which decoders skip).
    pub fn new(head: &Head) -> LengthScan {
        let pos = if head.tag_frame {
            head.first_frame + head.header.len as u64
        } else {
            head.first_frame
        };
        LengthScan {
            first: head.header,
            pos,
            frames: 0,
            trim: u64::from(head.delay) + u64::from(head.padding),
            lost: false,
        }
    }

    /// Where the count is (the offset of the next frame).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Counts frames from where the last call stopped, over the bytes `src` holds, reading at
    /// most `budget` frame headers (or garbage bytes). Never waits: a byte not there yet ends
    /// the call with [`Scan::Pending`].
    pub fn advance(&mut self, src: &mut dyn ByteSource, budget: usize) -> Scan {
        match self.run(src, budget) {
            Ok(Some(secs)) => Scan::Done(secs),
            Ok(None) | Err(_) => Scan::Pending,
        }
    }

    fn run(&mut self, src: &mut dyn ByteSource, budget: usize) -> Result<Option<f64>, DemuxError> {
        // The end must be known to tell a cut last frame from one not fetched yet.
        let Some(len) = src.len() else {
            return Ok(None);
        };
        for _ in 0..budget {
            if self.pos + 4 > len {
                return Ok(Some(self.duration()));
            }
            let mut b = [0u8; 12];
            let n = src.read_at(self.pos, &mut b)?;
            let b = b.get(..n).unwrap_or(&[]);
            let frame = mpa::header(b).filter(|h| h.same_stream(&self.first));
            match frame {
                Some(h) if !self.lost => {
                    let end = self.pos + h.len as u64;
                    if end > len {
                        // Cut by the end of the file: no decoder outputs it.
                        return Ok(Some(self.duration()));
                    }
                    self.frames += 1;
                    self.pos = end;
                }
                Some(h) => {
                    // A candidate after garbage: taken when another frame (or the end)
                    // follows it.
                    let end = self.pos + h.len as u64;
                    let followed = end == len
                        || (end + 4 <= len
                            && header_at(src, end)?.is_some_and(|n| n.same_stream(&self.first)));
                    if followed {
                        self.lost = false;
                    } else {
                        self.pos += 1;
                    }
                }
                None => {
                    // ID3v1 ("TAG", the last 128 bytes) or an APEv2 footer/header end it.
                    let tag = (b.starts_with(b"TAG") && self.pos + 128 == len)
                        || b.starts_with(b"APETAGEX")
                        || b.starts_with(b"LYRICSBEGIN");
                    if tag {
                        return Ok(Some(self.duration()));
                    }
                    self.lost = true;
                    self.pos += 1;
                }
            }
        }
        Ok(None)
    }

    /// Seconds of the frames counted so far, less the trimmed samples.
    fn duration(&self) -> f64 {
        let samples = (self.frames * u64::from(self.first.samples)).saturating_sub(self.trim);
        samples as f64 / f64::from(self.first.rate.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` MPEG-1 layer III frames of 128 kb/s at 44.1 kHz (417 bytes, no padding).
    fn frames(n: usize) -> Vec<u8> {
        let mut f = vec![0u8; 417];
        f[..4].copy_from_slice(&[0xff, 0xfb, 0x90, 0x00]);
        f.repeat(n)
    }

    fn scan_all(data: &[u8]) -> (Option<Head>, Option<f64>) {
        let mut src: &[u8] = data;
        let head = read_head(&mut src).unwrap();
        let done = head.map(|h| {
            let mut scan = LengthScan::new(&h);
            loop {
                if let Scan::Done(d) = scan.advance(&mut src, 7) {
                    return d;
                }
            }
        });
        (head, done)
    }

    #[test]
    fn counts_frames_after_id3_and_garbage_up_to_a_cut_frame() {
        let mut data = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        data.extend(frames(10));
        data.extend_from_slice(&[1, 2, 3, 0xff, 0xfb, 9]); // garbage with a false sync
        data.extend(frames(5));
        data.extend_from_slice(&frames(1)[..200]); // cut
        let (head, d) = scan_all(&data);
        let head = head.unwrap();
        assert_eq!((head.first_frame, head.tag_frame), (15, false));
        assert!(needs_scan(&head) && hides_length(&head));
        assert_eq!(d, Some(15.0 * 1152.0 / 44100.0));
        // An ID3v1 tag at the end ends the count too.
        let mut tagged = frames(3);
        let mut tag = b"TAG".to_vec();
        tag.resize(128, b' ');
        tagged.extend(tag);
        assert_eq!(scan_all(&tagged).1, Some(3.0 * 1152.0 / 44100.0));
    }

    #[test]
    fn xing_frame_count_and_lame_trim() {
        let mut data = frames(6);
        // Xing at 4 + 32 with frames (flag 1), then a LAME tag whose trim says 576 / 1000.
        data[36..40].copy_from_slice(b"Xing");
        data[40..44].copy_from_slice(&1u32.to_be_bytes());
        data[44..48].copy_from_slice(&5u32.to_be_bytes());
        data[48..52].copy_from_slice(b"LAME");
        let trim: u32 = (576 - 529) << 12 | (1000 + 529);
        data[48 + 21..48 + 24].copy_from_slice(&trim.to_be_bytes()[1..]);
        let (head, d) = scan_all(&data);
        let head = head.unwrap();
        assert_eq!(head.frame_count, Some(5));
        assert_eq!((head.delay, head.padding), (576, 1000));
        assert!(!needs_scan(&head) && !hides_length(&head));
        // Counted anyway: the tag frame is left out, the trim taken off.
        assert_eq!(d, Some((5.0 * 1152.0 - 1576.0) / 44100.0));
    }

    #[test]
    fn not_mp3() {
        for data in [
            &b""[..],
            b"RIFF....WAVEfmt ",
            &[0xff, 0xf1, 0x50, 0x80, 0, 0x1f, 0xfc],
        ] {
            let mut src: &[u8] = data;
            assert_eq!(read_head(&mut src).unwrap(), None);
        }
        // A header alone is not a stream; followed by the end it is.
        let one = frames(1);
        let mut src: &[u8] = &one;
        assert!(read_head(&mut src).unwrap().is_some());
    }

    #[test]
    fn missing_bytes_wait() {
        struct Upto<'a>(&'a [u8], usize);
        impl ByteSource for Upto<'_> {
            fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
                let end = offset as usize + buf.len();
                if end.min(self.0.len()) > self.1 {
                    return Err(DemuxError::NeedBytes(self.1 as u64));
                }
                let mut all = self.0;
                all.read_at(offset, buf)
            }
            fn len(&self) -> Option<u64> {
                Some(self.0.len() as u64)
            }
        }
        let data = frames(50);
        let mut src = Upto(&data, 4000);
        let head = read_head(&mut src).unwrap().unwrap();
        let mut scan = LengthScan::new(&head);
        assert_eq!(scan.advance(&mut src, 1000), Scan::Pending);
        assert_eq!(scan.position(), 417 * 10);
        src.1 = data.len();
        assert_eq!(
            scan.advance(&mut src, 1000),
            Scan::Done(50.0 * 1152.0 / 44100.0)
        );
    }
}
