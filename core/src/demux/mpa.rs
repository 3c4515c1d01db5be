//! MPEG audio (MPEG-1/2/2.5 layers I–III) frame headers: what the MPEG-TS demuxer needs to cut
//! an MPEG audio elementary stream into frames, and what the MP3 length scan
//! (`crate::audio::mp3`) counts. ISO/IEC 11172-3 and 13818-3; free-format frames (bitrate
//! index 0) have no length in their header and are not accepted.

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
