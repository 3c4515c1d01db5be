//! MPEG audio (MPEG-1/2/2.5 layers I–III) frame headers: what the MPEG-TS demuxer needs to cut
//! an MPEG audio elementary stream into frames, and what the MP3 length scan
//! (`crate::audio::mp3`) counts. ISO/IEC 11172-3 and 13818-3; free-format frames (bitrate
//! index 0) have no length in their header and are not accepted.

use super::{ByteSource, DemuxError};

/// One parsed 4-byte frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1 for MPEG-1, 2 for MPEG-2 (LSF), 25 for MPEG-2.5.
    pub version: u8,
    /// 1, 2 or 3.
    pub layer: u8,
    /// Sample rate in Hz.
    pub rate: u32,
    /// Bitrate in kbit/s.
    pub kbps: u32,
    /// Whole frame length in bytes, the header included.
    pub len: usize,
    /// PCM samples per channel the frame decodes to (384, 576 or 1152).
    pub samples: u32,
    /// Channels (1 for mono, 2 otherwise).
    pub channels: u16,
}

impl Header {
    /// Bytes of layer III side information after the header (and its CRC): where a Xing or
    /// Info tag starts in a frame that carries one, counted from the end of the 4-byte header.
    pub fn side_info_len(&self) -> usize {
        match (self.version == 1, self.channels == 1) {
            (true, false) => 32,
            (true, true) | (false, false) => 17,
            (false, true) => 9,
        }
    }

    /// Whether `other` can belong to the same stream (same version, layer and sample rate):
    /// a guard against false syncs inside frame data.
    pub fn same_stream(&self, other: &Header) -> bool {
        (self.version, self.layer, self.rate) == (other.version, other.layer, other.rate)
    }
}

const V1: [[u32; 14]; 3] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const V2: [[u32; 14]; 2] = [
    [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/// The frame header at the start of `b`, if the first four bytes are a valid one.
pub fn header(b: &[u8]) -> Option<Header> {
    let [b0, b1, b2, b3, ..] = *b else {
        return None;
    };
    if b0 != 0xff || b1 & 0xe0 != 0xe0 {
        return None;
    }
    let version_bits = (b1 >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer = match (b1 >> 1) & 3 {
        3 => 1u8,
        2 => 2,
        1 => 3,
        _ => return None,
    };
    let rate_index = usize::from((b2 >> 2) & 3);
    let (version, rate) = match version_bits {
        3 => (1, [44100, 48000, 32000].get(rate_index)),
        2 => (2, [22050, 24000, 16000].get(rate_index)),
        0 => (25, [11025, 12000, 8000].get(rate_index)),
        _ => return None,
    };
    let rate: u32 = *rate?;
    let table = if version == 1 {
        V1.get(usize::from(layer - 1))
    } else {
        V2.get(if layer == 1 { 0 } else { 1 })
    }?;
    // Index 0 is free format (no length in the header), 15 is invalid.
    let kbps = *table.get(usize::from(b2 >> 4).checked_sub(1)?)?;
    let padding = u32::from((b2 >> 1) & 1);
    let bps = kbps * 1000;
    let (len, samples) = match layer {
        1 => ((12 * bps / rate + padding) * 4, 384),
        2 => (144 * bps / rate + padding, 1152),
        _ if version == 1 => (144 * bps / rate + padding, 1152),
        _ => (72 * bps / rate + padding, 576),
    };
    Some(Header {
        version,
        layer,
        rate,
        kbps,
        len: usize::try_from(len).ok().filter(|&l| l >= 4)?,
        samples,
        channels: if b3 >> 6 == 3 { 1 } else { 2 },
    })
}

// -------------------------------------------------------------------------------------------
// The start of an MP3 file

/// Most bytes of ID3v2 tags skipped at the start (cover art can be large).
pub const MAX_ID3: u64 = 64 * 1024 * 1024;
/// Most bytes searched for the first frame after the tags.
const FIRST_FRAME_SEARCH: u64 = 64 * 1024;
/// Longer than any MPEG audio frame whose header gives its length (free format is refused).
const MAX_FRAME: usize = 4096;

/// Skips the ID3v2 tags at the start of a file (several may follow each other): the offset
/// after them, or `None` when they claim more than [`MAX_ID3`] bytes.
pub fn skip_id3v2(src: &mut dyn ByteSource) -> Result<Option<u64>, DemuxError> {
    let mut at = 0u64;
    loop {
        let mut id3 = [0u8; 10];
        let n = src.read_at(at, &mut id3)?;
        if n < 10 || id3[..3] != *b"ID3" || id3[6..10].iter().any(|&b| b & 0x80 != 0) {
            return Ok(Some(at));
        }
        let size = id3[6..10].iter().fold(0u64, |s, &b| s << 7 | u64::from(b));
        let footer = if id3[5] & 0x10 != 0 { 10 } else { 0 };
        at += 10 + size + footer;
        if at > MAX_ID3 {
            return Ok(None);
        }
    }
}

/// What the start of an MP3 file says about its length (`crate::audio::mp3`, [`super::es`]).
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
    let Some(mut at) = skip_id3v2(src)? else {
        return Ok(None);
    };
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
    Ok(b.get(..n).and_then(header))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_headers() {
        // MPEG-1 layer III, 128 kb/s, 44.1 kHz, no padding: 417 bytes.
        let h = header(&[0xff, 0xfb, 0x90, 0x00]).unwrap();
        assert_eq!(
            (h.version, h.layer, h.len, h.samples, h.rate, h.channels),
            (1, 3, 417, 1152, 44100, 2)
        );
        assert_eq!(h.side_info_len(), 32);
        // MPEG-2 layer III, 64 kb/s, 24 kHz, mono, padded: 72 * 64000 / 24000 + 1 = 193.
        let h = header(&[0xff, 0xf3, 0x86, 0xc0]).unwrap();
        assert_eq!((h.version, h.len, h.samples, h.channels), (2, 193, 576, 1));
        assert_eq!(h.side_info_len(), 9);
        // Free format, a reserved layer and a bad sync are refused.
        assert_eq!(header(&[0xff, 0xfb, 0x00, 0x00]), None);
        assert_eq!(header(&[0xff, 0xf9, 0x90, 0x00]), None);
        assert_eq!(header(&[0xfe, 0xfb, 0x90, 0x00]), None);
        assert_eq!(header(&[0xff, 0xfb]), None);
    }
}
