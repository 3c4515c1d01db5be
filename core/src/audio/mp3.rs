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

use crate::demux::es::{Found, Walker};
pub use crate::demux::mpa::{read_head, Head};
use crate::demux::{ByteSource, DemuxError};

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
    walker: Walker,
    samples: u32,
    rate: u32,
    frames: u64,
    /// Samples to leave out of the count (the LAME tag's delay and padding).
    trim: u64,
}

impl LengthScan {
    /// A scan of the file `head` describes, starting at its first frame (after the tag frame,
    /// which decoders skip).
    pub fn new(head: &Head) -> LengthScan {
        LengthScan {
            walker: Walker::mp3(head),
            samples: head.header.samples,
            rate: head.header.rate,
            frames: 0,
            trim: u64::from(head.delay) + u64::from(head.padding),
        }
    }

    /// Where the count is (the offset of the next frame).
    pub fn position(&self) -> u64 {
        self.walker.position()
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
        if src.len().is_none() {
            return Ok(None);
        }
        for _ in 0..budget {
            match self.walker.step(src)? {
                Found::Frame { .. } => self.frames += 1,
                Found::Skipped => {}
                Found::End => return Ok(Some(self.duration())),
            }
        }
        Ok(None)
    }

    /// Seconds of the frames counted so far, less the trimmed samples.
    fn duration(&self) -> f64 {
        let samples = (self.frames * u64::from(self.samples)).saturating_sub(self.trim);
        samples as f64 / f64::from(self.rate.max(1))
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
