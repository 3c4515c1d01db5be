//! WebVTT carried in ISO BMFF (ISO/IEC 14496-30, the `wvtt` sample entry used by DASH and
//! fragmented MP4): one sample's boxes → cues.
//!
//! A sample covers `[time, time + duration)` and holds either one or more `vttc` cue boxes
//! (children: `iden` identifier, `sttg` settings, `payl` text, optionally `vsid` source id and
//! `ctim` current time) or a single `vtte` box (no cue in that interval). `vtta` (comments)
//! and unknown boxes are skipped. The track's `vttC` configuration box holds the file header
//! text (`WEBVTT`, regions, styles): parse it with [`super::parse`] and pass its regions here.

use super::{normalize, truncate, Cue, CueSettings, Region};
use crate::error::{Error, ErrorKind};

/// Largest sample accepted.
pub const MAX_SAMPLE_BYTES: usize = 1024 * 1024;
/// Most cues taken from one sample (the rest are dropped).
pub const MAX_CUES_PER_SAMPLE: usize = 256;
/// Longest cue text or identifier kept, bytes (cut at a character boundary).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Turns one `wvtt` sample into its cues, each spanning `[start_us, start_us + duration_us)`.
/// `regions` are those of the track's `vttC` configuration (for `region:` settings). A `vtte`
/// sample gives no cue. Truncated or inconsistent box sizes are a [`ErrorKind::Decode`]
/// error, a sample over [`MAX_SAMPLE_BYTES`] a [`ErrorKind::Limit`] error.
pub fn parse_sample(
    data: &[u8],
    start_us: i64,
    duration_us: i64,
    regions: &[Region],
) -> Result<Vec<Cue>, Error> {
    if data.len() > MAX_SAMPLE_BYTES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "wvtt sample of {} bytes exceeds {MAX_SAMPLE_BYTES}",
                data.len()
            ),
        ));
    }
    let end_us = start_us.saturating_add(duration_us.max(0));
    let mut cues = Vec::new();
    for item in Boxes(data) {
        let (kind, body) = item?;
        if &kind != b"vttc" {
            continue;
        }
        if cues.len() >= MAX_CUES_PER_SAMPLE {
            break;
        }
        let mut id = String::new();
        let mut settings = String::new();
        let mut text = String::new();
        for child in Boxes(body) {
            let (kind, body) = child?;
            match &kind {
                b"iden" => id = normalize(body),
                b"sttg" => settings = normalize(body),
                b"payl" => text = normalize(body),
                _ => {}
            }
        }
        truncate(&mut id, MAX_TEXT_BYTES);
        truncate(&mut text, MAX_TEXT_BYTES);
        let (settings, region) = CueSettings::parse(&settings, regions);
        cues.push(Cue {
            id,
            start_us,
            end_us,
            settings,
            region,
            text,
        });
    }
    Ok(cues)
}

/// Iterates the boxes laid end to end in a byte slice: (four-character code, body).
struct Boxes<'a>(&'a [u8]);

impl<'a> Iterator for Boxes<'a> {
    type Item = Result<([u8; 4], &'a [u8]), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let item = split_box(self.0);
        match item {
            Ok((kind, body, rest)) => {
                self.0 = rest;
                Some(Ok((kind, body)))
            }
            Err(e) => {
                self.0 = &[];
                Some(Err(e))
            }
        }
    }
}

/// A box split off the front: (code, body, what follows).
type Split<'a> = ([u8; 4], &'a [u8], &'a [u8]);

fn split_box(data: &[u8]) -> Result<Split<'_>, Error> {
    let bad = |what: &str| Error::new(ErrorKind::Decode, format!("wvtt sample: {what}"));
    let header: [u8; 8] = data
        .get(..8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| bad("truncated box header"))?;
    let [s0, s1, s2, s3, k0, k1, k2, k3] = header;
    let kind = [k0, k1, k2, k3];
    let (size, header_len) = match u32::from_be_bytes([s0, s1, s2, s3]) {
        0 => (data.len() as u64, 8),
        1 => {
            let large: [u8; 8] = data
                .get(8..16)
                .and_then(|h| h.try_into().ok())
                .ok_or_else(|| bad("truncated 64-bit box size"))?;
            (u64::from_be_bytes(large), 16)
        }
        n => (u64::from(n), 8),
    };
    if size < header_len as u64 || size > data.len() as u64 {
        return Err(bad(&format!(
            "box '{}' of {size} bytes does not fit the {} bytes left",
            String::from_utf8_lossy(&kind),
            data.len()
        )));
    }
    let size = size as usize;
    let body = data.get(header_len..size).ok_or_else(|| bad("box body"))?;
    let rest = data.get(size..).ok_or_else(|| bad("box end"))?;
    Ok((kind, body, rest))
}
