//! ISO BMFF `sidx` (segment index) boxes: the segment list of a DASH `SegmentBase` file.
//!
//! The box is small and fixed-layout (ISO/IEC 14496-12 section 8.16.3), so it is read here
//! directly; the core's MP4 demuxer works over a lazy byte source and does not expose it.

use super::model::{
    ByteSpan, Encryption, IndexedMedia, PlaylistType, Segment, SegmentList, MAX_SEGMENTS,
};
use crate::error::{Error, ErrorKind};

/// A parsed `sidx` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidx {
    /// Offset of the box within the bytes given to [`parse_box`].
    pub box_offset: u64,
    /// Size of the whole box in bytes.
    pub box_size: u64,
    /// `reference_ID`: the track the index describes.
    pub reference_id: u32,
    /// Ticks per second of the times below.
    pub timescale: u32,
    /// Presentation time of the first referenced sample, in `timescale` ticks.
    pub earliest_presentation_time: u64,
    /// Bytes from the end of the box to the first referenced byte.
    pub first_offset: u64,
    /// The references, in order.
    pub references: Vec<SidxReference>,
}

/// One `sidx` reference: a subsegment (or, when `nested`, another `sidx` box).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidxReference {
    /// `reference_type` 1: the reference points at another `sidx`, not at media.
    pub nested: bool,
    /// Bytes referenced.
    pub referenced_size: u32,
    /// Duration in `timescale` ticks.
    pub subsegment_duration: u32,
    /// The subsegment starts with a stream access point.
    pub starts_with_sap: bool,
}

fn decode(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Decode, message)
}

fn be(bytes: &[u8], at: usize, n: usize) -> Result<u64, Error> {
    let b = at
        .checked_add(n)
        .and_then(|end| bytes.get(at..end))
        .ok_or_else(|| decode("sidx box truncated"))?;
    Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// Finds and parses the first `sidx` box in `bytes`, skipping other top-level boxes before it
/// (e.g. `styp`).
pub fn parse_box(bytes: &[u8]) -> Result<Sidx, Error> {
    let mut at = 0usize;
    loop {
        let size32 = be(bytes, at, 4)?;
        let kind = bytes
            .get(at + 4..at + 8)
            .ok_or_else(|| decode("sidx box truncated"))?;
        let (size, header) = match size32 {
            1 => (be(bytes, at + 8, 8)?, 16),
            0 => ((bytes.len() - at) as u64, 8),
            s => (s, 8),
        };
        if size < header as u64 {
            return Err(decode("box size smaller than its header"));
        }
        if kind == b"sidx" {
            return parse_sidx(bytes, at, size, header);
        }
        at = usize::try_from(size)
            .ok()
            .and_then(|s| at.checked_add(s))
            .filter(|&end| end < bytes.len())
            .ok_or_else(|| decode("no sidx box in the index range"))?;
    }
}

fn parse_sidx(bytes: &[u8], at: usize, size: u64, header: usize) -> Result<Sidx, Error> {
    let end = usize::try_from(size)
        .ok()
        .and_then(|s| at.checked_add(s))
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| decode("sidx box truncated"))?;
    let b = bytes
        .get(..end)
        .ok_or_else(|| decode("sidx box truncated"))?;
    let mut p = at + header;
    let version = be(b, p, 1)?;
    p += 4;
    let reference_id = be(b, p, 4)? as u32;
    let timescale = be(b, p + 4, 4)? as u32;
    p += 8;
    if timescale == 0 {
        return Err(decode("sidx timescale is 0"));
    }
    let (earliest_presentation_time, first_offset) = match version {
        0 => {
            let v = (be(b, p, 4)?, be(b, p + 4, 4)?);
            p += 8;
            v
        }
        1 => {
            let v = (be(b, p, 8)?, be(b, p + 8, 8)?);
            p += 16;
            v
        }
        v => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("sidx version {v}"),
            ))
        }
    };
    let count = be(b, p + 2, 2)? as usize;
    p += 4;
    // 12 bytes per reference: check they are all there before allocating.
    if end.saturating_sub(p) < count * 12 {
        return Err(decode("sidx box truncated"));
    }
    let mut references = Vec::with_capacity(count);
    for i in 0..count {
        let q = p + i * 12;
        let word = be(b, q, 4)?;
        let sap = be(b, q + 8, 4)?;
        references.push(SidxReference {
            nested: word >> 31 == 1,
            referenced_size: (word & 0x7fff_ffff) as u32,
            subsegment_duration: be(b, q + 4, 4)? as u32,
            starts_with_sap: sap >> 31 == 1,
        });
    }
    Ok(Sidx {
        box_offset: at as u64,
        box_size: size,
        reference_id,
        timescale,
        earliest_presentation_time,
        first_offset,
        references,
    })
}

/// Turns the `sidx` bytes fetched for `media.index_range` (they may start with other boxes)
/// into the segment list of that DASH `SegmentBase` representation: byte ranges counted from
/// the anchor (the first byte after the `sidx` box, plus `first_offset`), times from
/// `earliest_presentation_time` mapped onto the presentation timeline. Nested indexes
/// (`reference_type` 1) are [`ErrorKind::Unsupported`].
pub fn parse(bytes: &[u8], media: &IndexedMedia) -> Result<SegmentList, Error> {
    let sidx = parse_box(bytes)?;
    if sidx.references.iter().any(|r| r.nested) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "hierarchical sidx (reference_type 1)",
        ));
    }
    if sidx.references.len() > MAX_SEGMENTS {
        return Err(super::model::too_many_segments());
    }
    let overflow = || decode("sidx offsets out of range");
    let mut offset = media
        .index_range
        .start
        .checked_add(sidx.box_offset)
        .and_then(|o| o.checked_add(sidx.box_size))
        .and_then(|o| o.checked_add(sidx.first_offset))
        .ok_or_else(overflow)?;
    let ts = i128::from(sidx.timescale);
    let to_us = |ticks: u128| -> Result<i64, Error> {
        let us = (ticks as i128 * 1_000_000 + ts / 2) / ts;
        i64::try_from(us).map_err(|_| overflow())
    };
    let mut list = SegmentList::empty(0);
    let init = media.init.clone().map(|i| {
        list.inits.push(i);
        0
    });
    let mut ticks = u128::from(sidx.earliest_presentation_time);
    for (i, r) in sidx.references.iter().enumerate() {
        let start = to_us(ticks)?
            .checked_sub(media.presentation_time_offset_us)
            .and_then(|t| t.checked_add(media.period_start_us))
            .ok_or_else(overflow)?;
        let end = to_us(ticks + u128::from(r.subsegment_duration))?
            .checked_sub(media.presentation_time_offset_us)
            .and_then(|t| t.checked_add(media.period_start_us))
            .ok_or_else(overflow)?;
        ticks += u128::from(r.subsegment_duration);
        if media.period_end_us.is_some_and(|e| start >= e) {
            break;
        }
        let range = ByteSpan {
            start: offset,
            len: u64::from(r.referenced_size),
        };
        offset = offset.checked_add(range.len).ok_or_else(overflow)?;
        if range.len == 0 {
            return Err(decode("sidx reference of 0 bytes"));
        }
        list.target_duration_us = list.target_duration_us.max(end - start);
        list.segments.push(Segment {
            number: i as u64 + 1,
            start_us: start,
            duration_us: end - start,
            url: media.url.clone(),
            range: Some(range),
            init,
            discontinuity: media.discontinuity,
            period: media.period,
            encryption: Encryption::dash(media.encrypted),
            gap: false,
            program_date_time_ms: None,
        });
    }
    list.media_sequence = 1;
    list.discontinuity_sequence = media.discontinuity;
    list.end_list = true;
    list.playlist_type = PlaylistType::Vod;
    Ok(list)
}
