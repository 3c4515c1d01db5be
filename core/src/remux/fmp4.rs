//! Fragmented MP4 out of decoder input: the init segment (`ftyp` + `moov` with the codec's
//! sample entry and `mvex`) for a [`VideoDecoderConfig`], and one media segment (`moof` +
//! `mdat`) per batch of [`EncodedChunk`]s. A browser without WebCodecs decodes these through
//! Media Source Extensions (`SourceBuffer.appendBuffer`); see `web/src/mse.rs`.
//!
//! The boxes are written here (~150 lines) rather than with the `mp4-atom` crate, which was
//! tried first: it wrote correct files, but its typed atoms pull the encoders of every box and
//! sample entry into the binary (~176 KB of wasm code before wasm-opt; the default web package
//! was 814,065 bytes gzipped with it, 756,302 with this module) and it parses the codec
//! description to write it back, where
//! copying it verbatim is all MSE needs. `mp4-atom` stays as the independent reader in this
//! module's tests. This module only decides the contents:
//! - One video track (id 1), timescale 1 MHz, so chunk times in microseconds are written
//!   as they are and come back out of the platform decoder unchanged (MSE's presentation
//!   timestamps are the chunks' `timestamp_us`).
//! - Decode times: chunks carry presentation times only (WebCodecs needs no more), while an
//!   MP4 run needs decode times that increase in decode order. They are synthesised: the
//!   first chunk after [`Fmp4Writer::new`] or [`Fmp4Writer::restart`] decodes at its own
//!   presentation time, every later one one previous-chunk duration later. With B-frames a
//!   picture may then present before it decodes; `trun` version 1 carries such negative
//!   composition offsets. Consecutive decode times never differ by more than one frame
//!   duration, so MSE's discontinuity rule (a gap of more than twice the last frame duration
//!   drops frames until the next keyframe) never triggers, also when the core skips
//!   non-reference pictures before a seek target.
//! - Sample flags: keyframes are sync samples that depend on nothing, the rest non-sync.
//! - H.264 and H.265 in Annex B form (a configuration without description: MPEG-TS files and
//!   HLS TS segments, which WebCodecs decodes as they are): the avcC / hvcC is built from the
//!   first keyframe's parameter sets, and every chunk is rewritten with 4-byte NAL lengths.
//!   The init segment then comes with that keyframe's media segment
//!   ([`Fmp4Writer::waits_for_keyframe`]).
//!
//! Codecs: H.264 (`avc1`/`avc3` with an avcC description, or Annex B), HEVC (`hvc1`/`hev1`
//! with hvcC, or Annex B), AV1 (`av01` with av1C) and VP9 (`vp09`, vpcC built from the codec
//! string). Anything else is [`RemuxError::Unsupported`]. Every size is checked before it is
//! written: a sample or a segment larger than the limits below is [`RemuxError::Limit`],
//! never a panic.

use crate::error::{Error, ErrorKind};
use crate::host::{EncodedChunk, VideoDecoderConfig};

/// Units per second of the track's media time (microseconds).
pub const TIMESCALE: u32 = 1_000_000;
/// Largest media segment (all its samples together) written.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024 * 1024;
/// Most samples in one media segment.
pub const MAX_SEGMENT_SAMPLES: usize = 1024;
/// Largest codec description copied into the sample entry.
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;

/// Sample flags of a sync sample: depends on no other sample.
const SYNC_FLAGS: u32 = 0x0200_0000;
/// Sample flags of a non-sync sample: depends on others, `sample_is_non_sync_sample`.
const NON_SYNC_FLAGS: u32 = 0x0101_0000;
/// The identity matrix of `mvhd` / `tkhd`.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Why a segment could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemuxError {
    /// The codec (or its configuration) has no fragmented-MP4 mapping here.
    #[error("cannot remux to fragmented MP4: {0}")]
    Unsupported(String),
    /// The configuration or a chunk is malformed (e.g. an avcC that is too short).
    #[error("invalid input for fragmented MP4: {0}")]
    Invalid(String),
    /// A sample, a segment or a time does not fit the limits or the box fields.
    #[error("fragmented MP4 limit: {0}")]
    Limit(String),
}

impl From<RemuxError> for Error {
    fn from(e: RemuxError) -> Error {
        let kind = match e {
            RemuxError::Unsupported(_) => ErrorKind::Unsupported,
            RemuxError::Invalid(_) => ErrorKind::Decode,
            RemuxError::Limit(_) => ErrorKind::Limit,
        };
        Error::new(kind, e.to_string())
    }
}

/// Appends a box: size placeholder, type, body, then the size patched in. Every box written
/// here is far below 4 GiB (segments are bounded by [`MAX_SEGMENT_BYTES`]).
fn boxed(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(kind);
    body(out);
    let size = u32::try_from(out.len() - start).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// A full box: version and 24-bit flags before the body.
fn full(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    boxed(out, kind, |o| {
        o.push(version);
        o.extend_from_slice(&flags.to_be_bytes()[1..]);
        body(o);
    });
}

fn u16s(out: &mut Vec<u8>, v: &[u16]) {
    for x in v {
        out.extend_from_slice(&x.to_be_bytes());
    }
}

fn u32s(out: &mut Vec<u8>, v: &[u32]) {
    for x in v {
        out.extend_from_slice(&x.to_be_bytes());
    }
}

/// The codec's configuration box inside the sample entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ConfigBox {
    /// A plain box copied from the description (`avcC`, `hvcC`, `av1C` bodies).
    Plain([u8; 4], Vec<u8>),
    /// `vpcC` (a full box, version 1) body.
    Vpcc(Vec<u8>),
}

/// Writes one video track as fragmented MP4.
#[derive(Debug, Clone)]
pub struct Fmp4Writer {
    config: VideoDecoderConfig,
    entry: [u8; 4],
    /// `None` for H.264 in Annex B form until its first keyframe gave the avcC.
    config_box: Option<ConfigBox>,
    /// Chunks are H.264 in Annex B form: rewritten with NAL lengths.
    annexb: bool,
    width: u16,
    height: u16,
    codecs: String,
    sequence: u32,
    /// Decode time of the next chunk; `None` until the first chunk after a (re)start.
    next_dts: Option<i64>,
}

fn description(config: &VideoDecoderConfig, what: &str, min: usize) -> Result<Vec<u8>, RemuxError> {
    let d = config
        .description
        .as_deref()
        .ok_or_else(|| RemuxError::Unsupported(format!("{} without {what}", config.codec)))?;
    if d.len() < min || d.first() == Some(&0) {
        return Err(RemuxError::Invalid(format!("{what} of {} bytes", d.len())));
    }
    if d.len() > MAX_DESCRIPTION_BYTES {
        return Err(RemuxError::Limit(format!("{what} of {} bytes", d.len())));
    }
    Ok(d.to_vec())
}

/// The `vpcC` body for a `vp09.PP.LL.DD[.CC.cp.tc.mc.FF]` codec string.
fn vpcc_of(codec: &str) -> Result<Vec<u8>, RemuxError> {
    let fields: Vec<u8> = codec
        .split('.')
        .skip(1)
        .map(|f| f.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| RemuxError::Invalid(format!("VP9 codec string {codec}")))?;
    if fields.len() < 3 {
        return Err(RemuxError::Invalid(format!("VP9 codec string {codec}")));
    }
    let field = |i: usize, default: u8| fields.get(i).copied().unwrap_or(default);
    let packed = (field(2, 8) & 0x0f) << 4 | (field(3, 1) & 0x07) << 1 | (field(7, 0) & 1);
    Ok(vec![
        field(0, 0),
        field(1, 10),
        packed,
        field(4, 1),
        field(5, 1),
        field(6, 1),
        0,
        0,
    ])
}

impl Fmp4Writer {
    /// A writer for a decoder configured with `config`.
    pub fn new(config: &VideoDecoderConfig) -> Result<Self, RemuxError> {
        let codec = config.codec.as_str();
        let family = codec.split('.').next().unwrap_or_default();
        let dim = |v: u32, what: &str| {
            u16::try_from(v).map_err(|_| RemuxError::Limit(format!("{what} {v} exceeds 65535")))
        };
        let width = dim(config.coded_width, "coded width")?;
        let height = dim(config.coded_height, "coded height")?;
        // The sample entry carries the parameter sets, so avc3/hev1 streams are described
        // as avc1/hvc1 (in-band parameter sets still work).
        let annexb =
            matches!(family, "avc1" | "avc3" | "hvc1" | "hev1") && config.description.is_none();
        let (entry, config_box) = match family {
            "avc1" | "avc3" if annexb => (*b"avc1", None),
            "hvc1" | "hev1" if annexb => (*b"hvc1", None),
            "avc1" | "avc3" => (
                *b"avc1",
                Some(ConfigBox::Plain(*b"avcC", description(config, "avcC", 7)?)),
            ),
            "hvc1" | "hev1" => (
                *b"hvc1",
                Some(ConfigBox::Plain(*b"hvcC", description(config, "hvcC", 23)?)),
            ),
            "av01" => (
                *b"av01",
                Some(ConfigBox::Plain(*b"av1C", description(config, "av1C", 4)?)),
            ),
            "vp09" => (*b"vp09", Some(ConfigBox::Vpcc(vpcc_of(codec)?))),
            _ => {
                return Err(RemuxError::Unsupported(format!(
                    "video codec {codec} has no MP4 sample entry here"
                )))
            }
        };
        let fourcc = String::from_utf8_lossy(&entry).into_owned();
        let codecs = match codec.split_once('.') {
            Some((_, rest)) => format!("{fourcc}.{rest}"),
            None => fourcc,
        };
        Ok(Fmp4Writer {
            config: config.clone(),
            entry,
            config_box,
            annexb,
            width,
            height,
            codecs,
            sequence: 0,
            next_dts: None,
        })
    }

    /// The configuration this writer was made for.
    pub fn config(&self) -> &VideoDecoderConfig {
        &self.config
    }

    /// The MIME type for `MediaSource.addSourceBuffer` / `isTypeSupported`, e.g.
    /// `video/mp4; codecs="avc1.64001f"`.
    pub fn mime_type(&self) -> String {
        format!("video/mp4; codecs=\"{}\"", self.codecs)
    }

    /// True while the init segment cannot be written yet: H.264 in Annex B form before its
    /// first keyframe (whose media segment then starts with the init segment).
    pub fn waits_for_keyframe(&self) -> bool {
        self.config_box.is_none()
    }

    /// `ftyp` + `moov`: what a SourceBuffer needs before any media segment.
    pub fn init_segment(&self) -> Result<Vec<u8>, RemuxError> {
        let Some(config_box) = &self.config_box else {
            return Err(RemuxError::Invalid(
                "the init segment of an Annex B stream needs its first keyframe".into(),
            ));
        };
        let c = &self.config;
        let (dw, dh) = if c.display_width > 0 && c.display_height > 0 {
            (c.display_width, c.display_height)
        } else {
            (c.coded_width, c.coded_height)
        };
        let fixed = |v: u32| v.min(u32::from(u16::MAX)) << 16;
        let mut out = Vec::with_capacity(1024);
        boxed(&mut out, b"ftyp", |o| {
            o.extend_from_slice(b"iso6");
            u32s(o, &[0]);
            o.extend_from_slice(b"iso6isommp41");
        });
        boxed(&mut out, b"moov", |o| {
            full(o, b"mvhd", 0, 0, |o| {
                u32s(o, &[0, 0, TIMESCALE, 0, 0x0001_0000]);
                u16s(o, &[0x0100, 0]);
                u32s(o, &[0, 0]);
                u32s(o, &MATRIX);
                u32s(o, &[0; 6]);
                u32s(o, &[2]);
            });
            boxed(o, b"trak", |o| {
                full(o, b"tkhd", 0, 3, |o| {
                    u32s(o, &[0, 0, 1, 0, 0, 0, 0]);
                    u16s(o, &[0, 0, 0, 0]);
                    u32s(o, &MATRIX);
                    u32s(o, &[fixed(dw), fixed(dh)]);
                });
                boxed(o, b"mdia", |o| {
                    full(o, b"mdhd", 0, 0, |o| {
                        u32s(o, &[0, 0, TIMESCALE, 0]);
                        // "und", packed as three 5-bit letters.
                        u16s(o, &[0x55c4, 0]);
                    });
                    full(o, b"hdlr", 0, 0, |o| {
                        u32s(o, &[0]);
                        o.extend_from_slice(b"vide");
                        u32s(o, &[0, 0, 0]);
                        o.extend_from_slice(b"kinema video\0");
                    });
                    boxed(o, b"minf", |o| {
                        full(o, b"vmhd", 0, 1, |o| u16s(o, &[0, 0, 0, 0]));
                        boxed(o, b"dinf", |o| {
                            full(o, b"dref", 0, 0, |o| {
                                u32s(o, &[1]);
                                full(o, b"url ", 0, 1, |_| {});
                            });
                        });
                        boxed(o, b"stbl", |o| {
                            full(o, b"stsd", 0, 0, |o| {
                                u32s(o, &[1]);
                                self.sample_entry(o, config_box);
                            });
                            full(o, b"stts", 0, 0, |o| u32s(o, &[0]));
                            full(o, b"stsc", 0, 0, |o| u32s(o, &[0]));
                            full(o, b"stsz", 0, 0, |o| u32s(o, &[0, 0]));
                            full(o, b"stco", 0, 0, |o| u32s(o, &[0]));
                        });
                    });
                });
            });
            boxed(o, b"mvex", |o| {
                full(o, b"trex", 0, 0, |o| u32s(o, &[1, 1, 0, 0, 0]));
            });
        });
        Ok(out)
    }

    /// The visual sample entry with the codec's configuration box.
    fn sample_entry(&self, out: &mut Vec<u8>, config_box: &ConfigBox) {
        boxed(out, &self.entry, |o| {
            o.extend_from_slice(&[0; 6]);
            u16s(o, &[1, 0, 0]);
            u32s(o, &[0, 0, 0]);
            u16s(o, &[self.width, self.height]);
            u32s(o, &[0x0048_0000, 0x0048_0000, 0]);
            u16s(o, &[1]);
            o.extend_from_slice(&[0; 32]);
            u16s(o, &[0x0018, 0xffff]);
            match config_box {
                ConfigBox::Plain(kind, body) => boxed(o, kind, |o| o.extend_from_slice(body)),
                ConfigBox::Vpcc(body) => full(o, b"vpcC", 1, 0, |o| o.extend_from_slice(body)),
            }
        });
    }

    /// The next chunk starts a new decode timeline (after a seek: the SourceBuffer was
    /// emptied and the chunks start again at a keyframe).
    pub fn restart(&mut self) {
        self.next_dts = None;
    }

    /// `moof` + `mdat` holding `chunks` (decode order, as the core sent them). For H.264 in
    /// Annex B form the chunks are rewritten with NAL lengths, and the first segment (it must
    /// start with a keyframe) is preceded by the init segment built from that keyframe.
    pub fn media_segment(&mut self, chunks: &[EncodedChunk]) -> Result<Vec<u8>, RemuxError> {
        if !self.annexb {
            return self.segment(chunks);
        }
        let mut init = Vec::new();
        if self.config_box.is_none() {
            let first = chunks.first().filter(|c| c.key).ok_or_else(|| {
                RemuxError::Invalid("an Annex B stream must start with a keyframe".into())
            })?;
            let config = if &self.entry == b"hvc1" {
                crate::demux::ts::hevc_decoder_config(&first.data).map(|c| (*b"hvcC", c))
            } else {
                crate::demux::ts::avc_decoder_config(&first.data).map(|c| (*b"avcC", c))
            };
            let (kind, body) = config.ok_or_else(|| {
                RemuxError::Invalid("a keyframe without its parameter sets".into())
            })?;
            self.config_box = Some(ConfigBox::Plain(kind, body));
            init = self.init_segment()?;
        }
        // `hvc1` means the parameter sets are in the sample entry only (ISO/IEC 14496-15
        // 8.4.1): Firefox's MSE decodes garbage when the samples repeat them. H.264's are kept
        // (every engine here takes in-band SPS/PPS with `avc1`).
        let hevc = &self.entry == b"hvc1";
        let converted: Vec<EncodedChunk> = chunks
            .iter()
            .map(|c| EncodedChunk {
                data: crate::demux::ts::avcc_from_annexb_keeping(&c.data, |nal| {
                    !(hevc
                        && nal
                            .first()
                            .is_some_and(|h| (32..=34).contains(&((h >> 1) & 0x3f))))
                }),
                ..c.clone()
            })
            .collect();
        let segment = self.segment(&converted)?;
        init.extend_from_slice(&segment);
        Ok(init)
    }

    fn segment(&mut self, chunks: &[EncodedChunk]) -> Result<Vec<u8>, RemuxError> {
        if chunks.is_empty() {
            return Err(RemuxError::Invalid("a media segment needs a sample".into()));
        }
        if chunks.len() > MAX_SEGMENT_SAMPLES {
            return Err(RemuxError::Limit(format!(
                "{} samples in one segment (at most {MAX_SEGMENT_SAMPLES})",
                chunks.len()
            )));
        }
        let total: usize = chunks.iter().map(|c| c.data.len()).sum();
        if total > MAX_SEGMENT_BYTES {
            return Err(RemuxError::Limit(format!(
                "{total} bytes in one segment (at most {MAX_SEGMENT_BYTES})"
            )));
        }
        let mut dts = self.next_dts.unwrap_or(chunks[0].timestamp_us);
        let base = u64::try_from(dts)
            .map_err(|_| RemuxError::Limit(format!("decode time {dts} µs is negative")))?;
        // (duration, size, flags, composition offset) per sample.
        let mut samples = Vec::with_capacity(chunks.len());
        for c in chunks {
            let duration = u32::try_from(c.duration_us.max(0))
                .map_err(|_| RemuxError::Limit(format!("duration {} µs", c.duration_us)))?;
            let cts = c
                .timestamp_us
                .checked_sub(dts)
                .and_then(|d| i32::try_from(d).ok())
                .ok_or_else(|| {
                    RemuxError::Limit(format!(
                        "presentation time {} µs too far from decode time {dts} µs",
                        c.timestamp_us
                    ))
                })?;
            // Bounded by MAX_SEGMENT_BYTES above.
            let size = c.data.len() as u32;
            let flags = if c.key { SYNC_FLAGS } else { NON_SYNC_FLAGS };
            samples.push((duration, size, flags, cts));
            dts = dts.saturating_add(i64::from(duration));
        }
        self.sequence = self.sequence.wrapping_add(1);
        let mut out = Vec::with_capacity(64 + 16 * samples.len() + 8 + total);
        let mut offset_at = 0;
        boxed(&mut out, b"moof", |o| {
            full(o, b"mfhd", 0, 0, |o| u32s(o, &[self.sequence]));
            boxed(o, b"traf", |o| {
                // default-base-is-moof: data offsets count from the moof.
                full(o, b"tfhd", 0, 0x02_0000, |o| u32s(o, &[1]));
                full(o, b"tfdt", 1, 0, |o| {
                    o.extend_from_slice(&base.to_be_bytes())
                });
                // data offset, then per sample duration, size, flags, composition offset
                // (version 1: signed).
                full(o, b"trun", 1, 0x0f01, |o| {
                    // Bounded by MAX_SEGMENT_SAMPLES.
                    u32s(o, &[samples.len() as u32]);
                    offset_at = o.len();
                    u32s(o, &[0]);
                    for (d, s, f, cts) in &samples {
                        u32s(o, &[*d, *s, *f]);
                        o.extend_from_slice(&cts.to_be_bytes());
                    }
                });
            });
        });
        // The first sample byte follows the moof and the 8-byte mdat header.
        let data_offset = u32::try_from(out.len() + 8)
            .map_err(|_| RemuxError::Limit("moof larger than 4 GiB".into()))?;
        out[offset_at..offset_at + 4].copy_from_slice(&data_offset.to_be_bytes());
        let mdat_size = u32::try_from(total + 8)
            .map_err(|_| RemuxError::Limit("mdat larger than 4 GiB".into()))?;
        out.extend_from_slice(&mdat_size.to_be_bytes());
        out.extend_from_slice(b"mdat");
        for c in chunks {
            out.extend_from_slice(&c.data);
        }
        self.next_dts = Some(dts);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use mp4_atom::Decode;

    fn avc_config() -> VideoDecoderConfig {
        // avcC of a 64x64 High-profile stream: version 1, profile 100, level 10, 4-byte NAL
        // lengths, one SPS, one PPS.
        let sps = [
            0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10,
        ];
        let pps = [0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];
        let mut d = vec![1, 0x64, 0x00, 0x0a, 0xff, 0xe1];
        d.extend_from_slice(&(sps.len() as u16).to_be_bytes());
        d.extend_from_slice(&sps);
        d.push(1);
        d.extend_from_slice(&(pps.len() as u16).to_be_bytes());
        d.extend_from_slice(&pps);
        VideoDecoderConfig {
            codec: "avc1.64000a".into(),
            description: Some(d),
            coded_width: 64,
            coded_height: 64,
            display_width: 64,
            display_height: 64,
            rotation: 0,
            flip: false,
        }
    }

    fn chunk(pts: i64, key: bool, len: usize) -> EncodedChunk {
        EncodedChunk {
            timestamp_us: pts,
            duration_us: 33_333,
            key,
            data: vec![0xab; len],
        }
    }

    #[test]
    fn mime_type_names_the_sample_entry() {
        let w = Fmp4Writer::new(&avc_config()).unwrap();
        assert_eq!(w.mime_type(), "video/mp4; codecs=\"avc1.64000a\"");
        let mut avc3 = avc_config();
        avc3.codec = "avc3.64000a".into();
        let w = Fmp4Writer::new(&avc3).unwrap();
        assert_eq!(w.mime_type(), "video/mp4; codecs=\"avc1.64000a\"");
    }

    #[test]
    fn init_segment_is_ftyp_then_moov_with_mvex() {
        let init = Fmp4Writer::new(&avc_config())
            .unwrap()
            .init_segment()
            .unwrap();
        assert_eq!(&init[4..8], b"ftyp");
        let ftyp_len = u32::from_be_bytes(init[0..4].try_into().unwrap()) as usize;
        assert_eq!(&init[ftyp_len + 4..ftyp_len + 8], b"moov");
        let moov = mp4_atom::Moov::decode(&mut &init[ftyp_len..]).unwrap();
        assert!(moov.mvex.is_some());
        let stsd = &moov.trak[0].mdia.minf.stbl.stsd;
        assert!(matches!(stsd.codecs[0], mp4_atom::Codec::Avc1(_)));
    }

    #[test]
    fn decode_times_follow_durations_and_offsets_point_at_the_data() {
        let mut w = Fmp4Writer::new(&avc_config()).unwrap();
        // Decode order I0 P3 B1 B2 in 1/30 s frames.
        let f = 33_333;
        let seg = w
            .media_segment(&[chunk(0, true, 10), chunk(3 * f, false, 20)])
            .unwrap();
        let moof = mp4_atom::Moof::decode(&mut seg.as_slice()).unwrap();
        let traf = &moof.traf[0];
        assert_eq!(traf.tfdt.as_ref().unwrap().base_media_decode_time, 0);
        let run = &traf.trun[0];
        let off = run.data_offset.unwrap() as usize;
        assert_eq!(&seg[off - 4..off], b"mdat");
        assert_eq!(seg.len(), off + 30);
        let e: Vec<_> = run.samples.iter().collect();
        assert_eq!(e[0].cts, Some(0));
        assert_eq!(e[1].cts, Some(3 * f - f));
        assert_eq!(e[0].flags, Some(SYNC_FLAGS));
        let seg = w.media_segment(&[chunk(f, false, 5)]).unwrap();
        let moof = mp4_atom::Moof::decode(&mut seg.as_slice()).unwrap();
        assert_eq!(moof.mfhd.sequence_number, 2);
        let traf = &moof.traf[0];
        assert_eq!(
            traf.tfdt.as_ref().unwrap().base_media_decode_time,
            2 * f as u64
        );
        // B1 presents before it decodes: a signed (version 1) offset.
        assert_eq!(traf.trun[0].samples.get(0).unwrap().cts, Some(-(f)));
        w.restart();
        let seg = w.media_segment(&[chunk(90 * f, true, 5)]).unwrap();
        let moof = mp4_atom::Moof::decode(&mut seg.as_slice()).unwrap();
        assert_eq!(
            moof.traf[0].tfdt.as_ref().unwrap().base_media_decode_time,
            90 * f as u64
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let mut c = avc_config();
        // Without avcC: Annex B, which needs a keyframe with SPS and PPS first.
        c.description = None;
        let mut w = Fmp4Writer::new(&c).unwrap();
        assert!(w.waits_for_keyframe());
        assert!(matches!(w.init_segment(), Err(RemuxError::Invalid(_))));
        let annexb_chunk = |key: bool, data: Vec<u8>| EncodedChunk {
            timestamp_us: 0,
            duration_us: 33_333,
            key,
            data,
        };
        let no_sps = vec![0, 0, 0, 1, 0x65, 0x88, 0x84];
        assert!(matches!(
            w.media_segment(&[annexb_chunk(false, no_sps.clone())]),
            Err(RemuxError::Invalid(_))
        ));
        assert!(matches!(
            w.media_segment(&[annexb_chunk(true, no_sps)]),
            Err(RemuxError::Invalid(_))
        ));
        assert!(w.waits_for_keyframe());
        c.description = Some(vec![1, 2]);
        assert!(matches!(Fmp4Writer::new(&c), Err(RemuxError::Invalid(_))));
        let mut c = avc_config();
        c.codec = "vp8".into();
        assert!(matches!(
            Fmp4Writer::new(&c),
            Err(RemuxError::Unsupported(_))
        ));
        let mut c = avc_config();
        c.coded_width = 70_000;
        assert!(matches!(Fmp4Writer::new(&c), Err(RemuxError::Limit(_))));
        let mut w = Fmp4Writer::new(&avc_config()).unwrap();
        assert!(matches!(w.media_segment(&[]), Err(RemuxError::Invalid(_))));
        assert!(matches!(
            w.media_segment(&[chunk(-5, true, 1)]),
            Err(RemuxError::Limit(_))
        ));
        let mut far = chunk(0, true, 1);
        far.timestamp_us = i64::MAX;
        assert!(matches!(
            w.media_segment(&[chunk(0, true, 1), far]),
            Err(RemuxError::Limit(_))
        ));
    }

    #[test]
    fn vp9_entry_comes_from_the_codec_string() {
        let c = VideoDecoderConfig {
            codec: "vp09.00.10.08".into(),
            description: None,
            coded_width: 640,
            coded_height: 360,
            display_width: 640,
            display_height: 360,
            rotation: 0,
            flip: false,
        };
        let w = Fmp4Writer::new(&c).unwrap();
        assert_eq!(w.mime_type(), "video/mp4; codecs=\"vp09.00.10.08\"");
        let mut bad = c.clone();
        bad.codec = "vp09.x".into();
        assert!(matches!(Fmp4Writer::new(&bad), Err(RemuxError::Invalid(_))));
    }
}
