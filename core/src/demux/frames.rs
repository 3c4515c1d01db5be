//! Audio frame headers of elementary streams: ADTS (AAC), MPEG audio (layers I–III) and
//! AC-3 / E-AC-3 syncframes: length, rate, channels and the decoder configuration of one frame.
//! Shared by the MPEG-TS demuxer (PES payloads) and the elementary-stream file demuxer
//! ([`super::es`]: `.mp3`, `.aac`, `.ac3` files).

use super::{codec, TrackInfo};

/// One audio frame header.
pub(crate) struct AudioFrame {
    /// Whole frame length in bytes.
    pub(crate) len: usize,
    /// Bytes to strip before handing the frame out (ADTS header; 0 for MPEG audio).
    pub(crate) header: usize,
    /// PCM samples per channel the frame decodes to.
    pub(crate) samples: u32,
    pub(crate) rate: u32,
    pub(crate) channels: u16,
    /// WebCodecs codec string.
    pub(crate) codec: String,
    /// AudioSpecificConfig (AAC).
    pub(crate) config: Option<[u8; 2]>,
}

pub(crate) const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// An ADTS header at the start of `b` (ISO/IEC 13818-7 / 14496-3).
pub(crate) fn adts_frame(b: &[u8]) -> Option<AudioFrame> {
    let [b0, b1, b2, b3, b4, b5, b6, ..] = *b else {
        return None;
    };
    if b0 != 0xff || b1 & 0xf6 != 0xf0 {
        return None; // syncword, layer 0
    }
    let header = if b1 & 1 == 1 { 7 } else { 9 };
    let profile = b2 >> 6;
    let sf = (b2 >> 2) & 0x0f;
    let rate = *AAC_RATES.get(usize::from(sf))?;
    let channel_config = ((b2 & 1) << 2) | (b3 >> 6);
    let len = usize::from(b3 & 3) << 11 | usize::from(b4) << 3 | usize::from(b5 >> 5);
    if len <= header {
        return None;
    }
    let blocks = u32::from(b6 & 3) + 1;
    let aot = profile + 1;
    let config = [
        (aot << 3) | (sf >> 1),
        ((sf & 1) << 7) | (channel_config << 3),
    ];
    Some(AudioFrame {
        len,
        header,
        samples: 1024 * blocks,
        rate,
        channels: match channel_config {
            7 => 8,
            c => u16::from(c),
        },
        codec: codec::aac(&config).unwrap_or_else(|| "?mp4a".into()),
        config: Some(config),
    })
}

/// An MPEG-1/2/2.5 audio frame header (layers I–III) at the start of `b`.
pub(crate) fn mpeg_frame(b: &[u8]) -> Option<AudioFrame> {
    let h = super::mpa::header(b)?;
    Some(AudioFrame {
        len: h.len,
        header: 0,
        samples: h.samples,
        rate: h.rate,
        channels: h.channels,
        codec: match h.layer {
            3 => "mp3".into(),
            2 => "?mp2".into(),
            _ => "?mp1".into(),
        },
        config: None,
    })
}

/// Bytes per AC-3 syncframe at 48 kHz for each bit rate (frmsizecod / 2), in kbit/s.
const AC3_KBPS: [u32; 19] = [
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
];

/// An AC-3 or E-AC-3 syncframe header at the start of `b` (ETSI TS 102 366 §4.4 and E.1.2):
/// frame length, rate, samples and channels; `bsid` 0–10 is AC-3, 11–16 E-AC-3. An E-AC-3
/// dependent substream (7.1's extra channels) is its own frame here: decoders of the
/// independent substream play the 5.1 core.
pub(crate) fn dolby_frame(b: &[u8]) -> Option<AudioFrame> {
    let [0x0b, 0x77, b2, b3, b4, b5, b6, ..] = *b else {
        return None;
    };
    let bsid = b5 >> 3;
    let full = |acmod: u8| [2u16, 1, 2, 3, 3, 4, 4, 5][usize::from(acmod & 7)];
    if bsid <= 10 {
        let fscod = b4 >> 6;
        let code = usize::from(b4 & 0x3f);
        let kbps = *AC3_KBPS.get(code / 2)?;
        let (rate, len) = match fscod {
            0 => (48_000, 4 * kbps as usize),
            1 => (
                44_100,
                2 * (kbps as usize * 1_536_000 / (44_100 * 16) + (code & 1)),
            ),
            2 => (32_000, 6 * kbps as usize),
            _ => return None,
        };
        // BSI after bsid and bsmod: acmod, then optional mix levels, then lfeon.
        let acmod = b6 >> 5;
        let mut bit = 3u32; // bits of b6 used
        if acmod & 1 == 1 && acmod != 1 {
            bit += 2;
        }
        if acmod & 4 != 0 {
            bit += 2;
        }
        if acmod == 2 {
            bit += 2;
        }
        let word = u16::from_be_bytes([b6, *b.get(7)?]);
        let lfe = (word >> (15 - bit)) & 1;
        Some(AudioFrame {
            len,
            header: 0,
            samples: 1536,
            rate,
            channels: full(acmod) + lfe,
            codec: "ac-3".into(),
            config: None,
        })
    } else if bsid <= 16 {
        let len = (usize::from(b2 & 7) << 8 | usize::from(b3)) * 2 + 2;
        let fscod = b4 >> 6;
        let (rate, blocks) = if fscod == 3 {
            ([24_000, 22_050, 16_000, 0][usize::from((b4 >> 4) & 3)], 6)
        } else {
            (
                [48_000, 44_100, 32_000][usize::from(fscod)],
                [1, 2, 3, 6][usize::from((b4 >> 4) & 3)],
            )
        };
        if rate == 0 {
            return None;
        }
        let acmod = (b4 >> 1) & 7;
        Some(AudioFrame {
            len,
            header: 0,
            samples: 256 * blocks,
            rate,
            channels: full(acmod) + u16::from(b4 & 1),
            codec: "ec-3".into(),
            config: None,
        })
    } else {
        None
    }
}

/// Sets `info`'s codec, rate, channels and description from a frame header.
pub(crate) fn configure_audio(info: &mut TrackInfo, f: &AudioFrame) {
    info.codec = f.codec.clone();
    info.sample_rate = f.rate;
    info.channels = f.channels;
    info.description = f.config.map(|c| c.to_vec());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adts_config_and_mpeg_frame() {
        // LC, 48 kHz (index 3), stereo, frame length 0x100.
        let h = [0xff, 0xf1, 0x4c, 0x80, 0x20, 0x1f, 0xfc];
        let f = adts_frame(&h).unwrap();
        assert_eq!((f.len, f.header, f.rate, f.channels), (0x100, 7, 48000, 2));
        assert_eq!(f.config, Some([0x11, 0x90]));
        assert_eq!(f.codec, "mp4a.40.2");
        // MPEG-1 layer III, 128 kb/s, 44.1 kHz, no padding: 417 bytes.
        let f = mpeg_frame(&[0xff, 0xfb, 0x90, 0x00]).unwrap();
        assert_eq!(
            (f.len, f.samples, f.rate, f.channels),
            (417, 1152, 44100, 2)
        );
    }
}
