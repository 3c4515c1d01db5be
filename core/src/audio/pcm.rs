//! PCM the core converts itself: the codec names of its demuxers' PCM tracks (`pcm-u8`,
//! `pcm-s16le`, `pcm-s24be`, `pcm-f32le`, `pcm-f64be`, ... as `demux::mp4` and `demux::wav`
//! name them; `alaw` and `ulaw`, G.711) to interleaved `f32`. No decoder is needed anywhere, so
//! [`crate::audio::platform::PlatformAudio`] converts such tracks in place of sending them to
//! the host, and they play in every build and on every host.

/// One PCM sample format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Integer samples: bytes per sample, signed, little-endian.
    Int {
        /// Bytes per sample (1 to 4).
        bytes: usize,
        /// Signed (else offset binary).
        signed: bool,
        /// Little-endian (else big-endian).
        little: bool,
    },
    /// IEEE float samples: bytes per sample (4 or 8), little-endian.
    Float {
        /// Bytes per sample (4 or 8).
        bytes: usize,
        /// Little-endian (else big-endian).
        little: bool,
    },
    /// G.711 A-law, one byte per sample.
    ALaw,
    /// G.711 µ-law, one byte per sample.
    MuLaw,
}

impl Format {
    /// The format a codec name stands for; `None` for anything that is not PCM.
    pub fn of(codec: &str) -> Option<Format> {
        match codec {
            "alaw" => return Some(Format::ALaw),
            "ulaw" => return Some(Format::MuLaw),
            _ => {}
        }
        let rest = codec.strip_prefix("pcm-")?;
        let (kind, rest) = rest.split_at_checked(1)?;
        let (bits, little) = if let Some(b) = rest.strip_suffix("le") {
            (b, true)
        } else if let Some(b) = rest.strip_suffix("be") {
            (b, false)
        } else {
            (rest, true)
        };
        let bytes = match bits {
            "8" => 1,
            "16" => 2,
            "24" => 3,
            "32" => 4,
            "64" => 8,
            _ => return None,
        };
        match (kind, bytes) {
            ("s" | "u", 1..=4) => Some(Format::Int {
                bytes,
                signed: kind == "s",
                little,
            }),
            ("f", 4 | 8) => Some(Format::Float { bytes, little }),
            _ => None,
        }
    }

    /// Bytes of one sample.
    pub fn bytes(self) -> usize {
        match self {
            Format::Int { bytes, .. } | Format::Float { bytes, .. } => bytes,
            Format::ALaw | Format::MuLaw => 1,
        }
    }

    /// Appends the samples of `data` (whole samples; a trailing part is ignored) as `f32`.
    pub fn convert(self, data: &[u8], out: &mut Vec<f32>) {
        let n = self.bytes();
        out.reserve(data.len() / n);
        for s in data.chunks_exact(n) {
            out.push(self.sample(s));
        }
    }

    fn sample(self, s: &[u8]) -> f32 {
        match self {
            Format::Int {
                bytes,
                signed,
                little,
            } => {
                let mut v: u32 = 0;
                for i in 0..bytes {
                    let b = if little { s[bytes - 1 - i] } else { s[i] };
                    v = (v << 8) | u32::from(b);
                }
                let bits = 8 * bytes as u32;
                let half = 1i64 << (bits - 1);
                let x = if signed {
                    // Sign-extend.
                    i64::from(v) - if i64::from(v) >= half { 2 * half } else { 0 }
                } else {
                    i64::from(v) - half
                };
                (x as f64 / half as f64) as f32
            }
            Format::Float { bytes: 4, little } => {
                let b = [s[0], s[1], s[2], s[3]];
                let v = if little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                if v.is_finite() {
                    v
                } else {
                    0.0
                }
            }
            Format::Float { little, .. } => {
                let b = [s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]];
                let v = if little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                if v.is_finite() {
                    v as f32
                } else {
                    0.0
                }
            }
            Format::ALaw => f32::from(alaw(s[0])) / 32768.0,
            Format::MuLaw => f32::from(ulaw(s[0])) / 32768.0,
        }
    }
}

/// G.711 A-law to 16-bit linear.
fn alaw(a: u8) -> i16 {
    let a = a ^ 0x55;
    let exponent = (a >> 4) & 7;
    let mantissa = i16::from(a & 0x0f);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    if a & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// G.711 µ-law to 16-bit linear.
fn ulaw(u: u8) -> i16 {
    let u = !u;
    let exponent = (u >> 4) & 7;
    let mantissa = i16::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(codec: &str, data: &[u8]) -> Vec<f32> {
        let mut out = Vec::new();
        Format::of(codec).unwrap().convert(data, &mut out);
        out
    }

    #[test]
    fn names_and_values() {
        assert_eq!(Format::of("mp4a.40.2"), None);
        assert_eq!(Format::of("pcm-s12le"), None);
        assert_eq!(Format::of("pcm-f16le"), None);
        assert_eq!(
            conv("pcm-u8", &[0x80, 0x00, 0xff]),
            [0.0, -1.0, 127.0 / 128.0]
        );
        assert_eq!(
            conv("pcm-s16le", &[0x00, 0x80, 0xff, 0x7f]),
            [-1.0, 32767.0 / 32768.0]
        );
        assert_eq!(conv("pcm-s16be", &[0x80, 0x00, 0x40, 0x00]), [-1.0, 0.5]);
        assert_eq!(
            conv("pcm-s24le", &[0, 0, 0x40, 0xff, 0xff, 0xff]),
            [0.5, -1.0 / 8_388_608.0]
        );
        assert_eq!(conv("pcm-s32be", &[0xc0, 0, 0, 0]), [-0.5]);
        assert_eq!(conv("pcm-f32le", &0.25f32.to_le_bytes()), [0.25]);
        assert_eq!(conv("pcm-f64be", &(-0.75f64).to_be_bytes()), [-0.75]);
        assert_eq!(conv("pcm-f32le", &f32::NAN.to_le_bytes()), [0.0]);
        // G.711 (ITU-T G.711 tables): A-law 0xd5 and µ-law 0xff are the smallest steps, and
        // the extremes are ±32124 (µ-law) and ±32256 (A-law).
        assert_eq!(alaw(0xd5), 8);
        assert_eq!(alaw(0x2a), -32256);
        assert_eq!(ulaw(0xff), 0);
        assert_eq!(ulaw(0x00), -32124);
        assert_eq!(ulaw(0x80), 32124);
    }
}
