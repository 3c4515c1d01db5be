//! Fragmented MP4 out of decoder input: the init segment (`ftyp` + `moov` with the codec's
//! sample entry and `mvex`) for a [`VideoDecoderConfig`], and one media segment (`moof` +
//! `mdat`) per batch of [`EncodedChunk`]s. A browser without WebCodecs decodes these through
//! Media Source Extensions (`SourceBuffer.appendBuffer`); see `web/src/mse.rs`.
//!
//! The boxes are built and serialised with the `mp4-atom` crate (typed atoms, pure Rust,
//! builds for wasm32); this module only decides their contents:
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
//!
//! Codecs: H.264 (`avc1`/`avc3` with an avcC description), HEVC (`hvc1`/`hev1` with hvcC),
//! AV1 (`av01` with av1C) and VP9 (`vp09`, vpcC built from the codec string). Anything else
//! is [`RemuxError::Unsupported`]. Every size is checked before it is written: a sample or a
//! segment larger than the limits below is [`RemuxError::Limit`], never a panic.

use mp4_atom::{Atom, Encode};

use crate::error::{Error, ErrorKind};
use crate::host::{EncodedChunk, VideoDecoderConfig};

/// Units per second of the track's media time (microseconds).
pub const TIMESCALE: u32 = 1_000_000;
/// Largest media segment (all its samples together) written.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024 * 1024;
/// Most samples in one media segment.
pub const MAX_SEGMENT_SAMPLES: usize = 1024;

/// Sample flags of a sync sample: depends on no other sample.
const SYNC_FLAGS: u32 = 0x0200_0000;
/// Sample flags of a non-sync sample: depends on others, `sample_is_non_sync_sample`.
const NON_SYNC_FLAGS: u32 = 0x0101_0000;

/// Why a segment could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemuxError {
    /// The codec (or its configuration) has no fragmented-MP4 mapping here.
    #[error("cannot remux to fragmented MP4: {0}")]
    Unsupported(String),
    /// The configuration or a chunk is malformed (e.g. an avcC that does not parse).
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

fn atom_err(what: &str, e: mp4_atom::Error) -> RemuxError {
    RemuxError::Invalid(format!("{what}: {e}"))
}

/// Writes one video track as fragmented MP4.
#[derive(Debug, Clone)]
pub struct Fmp4Writer {
    config: VideoDecoderConfig,
    entry: mp4_atom::Codec,
    codecs: String,
    sequence: u32,
    /// Decode time of the next chunk; `None` until the first chunk after a (re)start.
    next_dts: Option<i64>,
}

/// `(width, height)` as the 16-bit sizes of a visual sample entry.
fn visual(config: &VideoDecoderConfig) -> Result<mp4_atom::Visual, RemuxError> {
    let dim = |v: u32, what: &str| {
        u16::try_from(v).map_err(|_| RemuxError::Limit(format!("{what} {v} exceeds 65535")))
    };
    Ok(mp4_atom::Visual {
        data_reference_index: 1,
        width: dim(config.coded_width, "coded width")?,
        height: dim(config.coded_height, "coded height")?,
        ..Default::default()
    })
}

fn description<'a>(config: &'a VideoDecoderConfig, what: &str) -> Result<&'a [u8], RemuxError> {
    config
        .description
        .as_deref()
        .ok_or_else(|| RemuxError::Unsupported(format!("{} without {what}", config.codec)))
}

/// The numeric fields of a `vp09.PP.LL.DD[.CC.cp.tc.mc.FF]` codec string.
fn vpcc_of(codec: &str) -> Result<mp4_atom::VpcC, RemuxError> {
    let fields: Vec<u8> = codec
        .split('.')
        .skip(1)
        .map(|f| f.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| RemuxError::Invalid(format!("VP9 codec string {codec}")))?;
    let field = |i: usize, default: u8| fields.get(i).copied().unwrap_or(default);
    if fields.len() < 3 {
        return Err(RemuxError::Invalid(format!("VP9 codec string {codec}")));
    }
    Ok(mp4_atom::VpcC {
        profile: field(0, 0),
        level: field(1, 10),
        bit_depth: field(2, 8),
        chroma_subsampling: field(3, 1),
        color_primaries: field(4, 1),
        transfer_characteristics: field(5, 1),
        matrix_coefficients: field(6, 1),
        video_full_range_flag: field(7, 0) != 0,
        codec_initialization_data: Vec::new(),
    })
}

impl Fmp4Writer {
    /// A writer for a decoder configured with `config`.
    pub fn new(config: &VideoDecoderConfig) -> Result<Self, RemuxError> {
        let codec = config.codec.as_str();
        let family = codec.split('.').next().unwrap_or_default();
        let visual = visual(config)?;
        // The sample entry carries the parameter sets, so avc3/hev1 streams are described
        // as avc1/hvc1 (in-band parameter sets still work).
        let (entry, fourcc) = match family {
            "avc1" | "avc3" => {
                let mut body = description(config, "avcC")?;
                let avcc =
                    mp4_atom::Avcc::decode_body(&mut body).map_err(|e| atom_err("avcC", e))?;
                (
                    mp4_atom::Codec::Avc1(mp4_atom::Avc1 {
                        visual,
                        avcc,
                        ..Default::default()
                    }),
                    "avc1",
                )
            }
            "hvc1" | "hev1" => {
                let mut body = description(config, "hvcC")?;
                let hvcc =
                    mp4_atom::Hvcc::decode_body(&mut body).map_err(|e| atom_err("hvcC", e))?;
                (
                    mp4_atom::Codec::Hvc1(mp4_atom::Hvc1 {
                        visual,
                        hvcc,
                        ..Default::default()
                    }),
                    "hvc1",
                )
            }
            "av01" => {
                let mut body = description(config, "av1C")?;
                let av1c =
                    mp4_atom::Av1c::decode_body(&mut body).map_err(|e| atom_err("av1C", e))?;
                (
                    mp4_atom::Codec::Av01(mp4_atom::Av01 {
                        visual,
                        av1c,
                        ..Default::default()
                    }),
                    "av01",
                )
            }
            "vp09" => (
                mp4_atom::Codec::Vp09(mp4_atom::Vp09 {
                    visual,
                    vpcc: vpcc_of(codec)?,
                    ..Default::default()
                }),
                "vp09",
            ),
            _ => {
                return Err(RemuxError::Unsupported(format!(
                    "video codec {codec} has no MP4 sample entry here"
                )))
            }
        };
        let codecs = match codec.split_once('.') {
            Some((_, rest)) => format!("{fourcc}.{rest}"),
            None => fourcc.to_string(),
        };
        let writer = Fmp4Writer {
            config: config.clone(),
            entry,
            codecs,
            sequence: 0,
            next_dts: None,
        };
        // Fail here rather than at the first append if the entry cannot be written.
        writer.init_segment()?;
        Ok(writer)
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

    /// `ftyp` + `moov`: what a SourceBuffer needs before any media segment.
    pub fn init_segment(&self) -> Result<Vec<u8>, RemuxError> {
        let c = &self.config;
        let (dw, dh) = if c.display_width > 0 && c.display_height > 0 {
            (c.display_width, c.display_height)
        } else {
            (c.coded_width, c.coded_height)
        };
        let fixed = |v: u32| mp4_atom::FixedPoint::new(v.min(u32::from(u16::MAX)) as u16, 0);
        let ftyp = mp4_atom::Ftyp {
            major_brand: mp4_atom::FourCC::new(b"iso6"),
            minor_version: 0,
            compatible_brands: vec![
                mp4_atom::FourCC::new(b"iso6"),
                mp4_atom::FourCC::new(b"isom"),
                mp4_atom::FourCC::new(b"mp41"),
            ],
        };
        let trak = mp4_atom::Trak {
            tkhd: mp4_atom::Tkhd {
                track_id: 1,
                enabled: true,
                in_movie: true,
                width: fixed(dw),
                height: fixed(dh),
                ..Default::default()
            },
            mdia: mp4_atom::Mdia {
                mdhd: mp4_atom::Mdhd {
                    timescale: TIMESCALE,
                    language: "und".into(),
                    ..Default::default()
                },
                hdlr: mp4_atom::Hdlr {
                    handler: mp4_atom::FourCC::new(b"vide"),
                    name: "kinema video".into(),
                },
                minf: mp4_atom::Minf {
                    vmhd: Some(mp4_atom::Vmhd::default()),
                    dinf: mp4_atom::Dinf {
                        dref: mp4_atom::Dref {
                            entries: vec![mp4_atom::DrefEntry::Url(mp4_atom::Url {
                                location: String::new(),
                            })],
                        },
                    },
                    stbl: mp4_atom::Stbl {
                        stsd: mp4_atom::Stsd {
                            codecs: vec![self.entry.clone()],
                        },
                        stco: Some(mp4_atom::Stco::default()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        };
        let moov = mp4_atom::Moov {
            mvhd: mp4_atom::Mvhd {
                timescale: TIMESCALE,
                next_track_id: 2,
                ..Default::default()
            },
            mvex: Some(mp4_atom::Mvex {
                mehd: None,
                trex: vec![mp4_atom::Trex {
                    track_id: 1,
                    default_sample_description_index: 1,
                    ..Default::default()
                }],
            }),
            trak: vec![trak],
            ..Default::default()
        };
        let mut out = Vec::new();
        ftyp.encode(&mut out).map_err(|e| atom_err("ftyp", e))?;
        moov.encode(&mut out).map_err(|e| atom_err("moov", e))?;
        Ok(out)
    }

    /// The next chunk starts a new decode timeline (after a seek: the SourceBuffer was
    /// emptied and the chunks start again at a keyframe).
    pub fn restart(&mut self) {
        self.next_dts = None;
    }

    /// `moof` + `mdat` holding `chunks` (decode order, as the core sent them).
    pub fn media_segment(&mut self, chunks: &[EncodedChunk]) -> Result<Vec<u8>, RemuxError> {
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
        let mut entries = Vec::with_capacity(chunks.len());
        for c in chunks {
            let duration = u32::try_from(c.duration_us.max(0))
                .map_err(|_| RemuxError::Limit(format!("duration {} µs", c.duration_us)))?;
            let cts = c
                .timestamp_us
                .checked_sub(dts)
                .filter(|d| i32::try_from(*d).is_ok())
                .ok_or_else(|| {
                    RemuxError::Limit(format!(
                        "presentation time {} µs too far from decode time {dts} µs",
                        c.timestamp_us
                    ))
                })?;
            entries.push(mp4_atom::TrunEntry {
                duration: Some(duration),
                // Bounded by MAX_SEGMENT_BYTES above.
                size: Some(c.data.len() as u32),
                flags: Some(if c.key { SYNC_FLAGS } else { NON_SYNC_FLAGS }),
                cts: Some(cts),
            });
            dts = dts.saturating_add(i64::from(duration));
        }
        self.sequence = self.sequence.wrapping_add(1);
        let mut moof = mp4_atom::Moof {
            mfhd: mp4_atom::Mfhd {
                sequence_number: self.sequence,
            },
            traf: vec![mp4_atom::Traf {
                tfhd: mp4_atom::Tfhd {
                    track_id: 1,
                    default_base_is_moof: true,
                    ..Default::default()
                },
                tfdt: Some(mp4_atom::Tfdt {
                    base_media_decode_time: base,
                }),
                trun: vec![mp4_atom::Trun {
                    data_offset: Some(0),
                    samples: mp4_atom::TrunSamples::Explicit(entries),
                }],
                ..Default::default()
            }],
        };
        // The data offset counts from the start of the moof to the first sample byte (after
        // the 8-byte mdat header); the moof's size does not depend on the offset's value.
        let mut probe = Vec::new();
        moof.encode(&mut probe).map_err(|e| atom_err("moof", e))?;
        let offset = i32::try_from(probe.len() + 8)
            .map_err(|_| RemuxError::Limit("moof larger than 2 GiB".into()))?;
        if let Some(run) = moof.traf.first_mut().and_then(|t| t.trun.first_mut()) {
            run.data_offset = Some(offset);
        }
        let mut out = Vec::with_capacity(probe.len() + 8 + total);
        moof.encode(&mut out).map_err(|e| atom_err("moof", e))?;
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
        c.description = None;
        assert!(matches!(
            Fmp4Writer::new(&c),
            Err(RemuxError::Unsupported(_))
        ));
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
        };
        let w = Fmp4Writer::new(&c).unwrap();
        assert_eq!(w.mime_type(), "video/mp4; codecs=\"vp09.00.10.08\"");
        let mut bad = c.clone();
        bad.codec = "vp09.x".into();
        assert!(matches!(Fmp4Writer::new(&bad), Err(RemuxError::Invalid(_))));
    }
}
