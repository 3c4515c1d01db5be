//! Reads an MP4 track's edit list (`elst`) to trim encoder priming and padding.
//!
//! symphonia's MP4 reader (0.6) ignores edit lists, so AAC in MP4 would play 1024+ priming
//! frames of silence and a padded tail; ffmpeg, browsers and every real player honour them.
//! The `mp4parse` crate would need the whole file through `Read`; this reader only walks the
//! box headers to `moov` and parses the few boxes it needs, with every size bounded.

use crate::source::cache::{lock, SharedCache};

/// Largest `moov` accepted (it is read into memory whole).
const MAX_MOOV: u64 = 64 * 1024 * 1024;
/// Most top-level boxes walked before `moov` must have been found.
const MAX_TOP_BOXES: usize = 4096;
/// Most edit-list entries considered.
const MAX_EDITS: u32 = 4096;

/// Trimming, in frames at the track's sample rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edit {
    /// Frames at the start of the decoded track that are not presented (encoder priming).
    pub priming: u64,
    /// Frames presented in all, when the edit list bounds them (the rest is padding).
    pub valid: Option<u64>,
    /// Frames of silence presented before the track's first frame: empty edits before the
    /// first media edit (audio that starts after the video), at most [`MAX_DELAY_SECS`].
    pub delay: u64,
}

/// Longest leading delay honoured (longer ones are taken as this): no real file waits
/// minutes before its audio, and the silence is produced frame by frame.
pub const MAX_DELAY_SECS: u64 = 600;

/// Why no edit could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The bytes at this offset must be fetched first.
    NeedBytes(u64),
    /// The boxes are malformed.
    Invalid(&'static str),
}

/// Finds the edit of track `track_id` (its `tkhd` id) in the file held by `cache`.
pub fn read(cache: &SharedCache, track_id: u32, rate: u32) -> Result<Edit, EditError> {
    let moov = load_moov(cache)?;
    parse_moov(&moov, track_id, rate)
}

fn read_at(cache: &SharedCache, offset: u64, buf: &mut [u8]) -> Result<usize, EditError> {
    lock(cache)
        .copy_at(offset, buf)
        .map_err(EditError::NeedBytes)
}

fn load_moov(cache: &SharedCache) -> Result<Vec<u8>, EditError> {
    let mut offset = 0u64;
    for _ in 0..MAX_TOP_BOXES {
        let mut header = [0u8; 16];
        let n = read_at(cache, offset, &mut header)?;
        if n < 8 {
            return Err(EditError::Invalid("no moov box"));
        }
        let (size, kind, header_len) =
            box_header(&header[..n]).ok_or(EditError::Invalid("bad box header"))?;
        let size = match size {
            0 => lock(cache)
                .total()
                .map(|t| t.saturating_sub(offset))
                .ok_or(EditError::Invalid("open-ended box"))?,
            s => s,
        };
        if size < header_len {
            return Err(EditError::Invalid("box smaller than its header"));
        }
        if &kind == b"moov" {
            let len = size - header_len;
            if len > MAX_MOOV {
                return Err(EditError::Invalid("moov too large"));
            }
            let mut moov = vec![0u8; len as usize];
            if read_at(cache, offset + header_len, &mut moov)? < moov.len() {
                return Err(EditError::Invalid("truncated moov"));
            }
            return Ok(moov);
        }
        offset = offset
            .checked_add(size)
            .ok_or(EditError::Invalid("box size overflow"))?;
    }
    Err(EditError::Invalid("too many boxes before moov"))
}

/// (size including header, type, header length) of the box at the start of `b`.
fn box_header(b: &[u8]) -> Option<(u64, [u8; 4], u64)> {
    let size = u32::from_be_bytes(b.get(0..4)?.try_into().ok()?) as u64;
    let kind: [u8; 4] = b.get(4..8)?.try_into().ok()?;
    if size == 1 {
        let large = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        Some((large, kind, 16))
    } else {
        Some((size, kind, 8))
    }
}

/// Iterates the child boxes of an in-memory box payload: (type, payload).
fn children(mut b: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let (size, kind, header) = box_header(b)?;
        let size = if size == 0 { b.len() as u64 } else { size };
        if size < header || size > b.len() as u64 {
            return None;
        }
        let payload = &b[header as usize..size as usize];
        b = &b[size as usize..];
        Some((kind, payload))
    })
}

fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(b).find(|(k, _)| k == kind).map(|(_, p)| p)
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Timescale of an `mvhd` or `mdhd` payload (same layout for what we read).
fn timescale(b: &[u8]) -> Option<u32> {
    let version = *b.first()?;
    let ts = if version == 1 {
        be_u32(b, 20)?
    } else {
        be_u32(b, 12)?
    };
    (ts > 0).then_some(ts)
}

fn tkhd_id(b: &[u8]) -> Option<u32> {
    let version = *b.first()?;
    if version == 1 {
        be_u32(b, 20)
    } else {
        be_u32(b, 12)
    }
}

/// Parses an in-memory `moov` payload for the edit of track `track_id` (public for fuzzing).
pub fn parse_moov(moov: &[u8], track_id: u32, rate: u32) -> Result<Edit, EditError> {
    let movie_ts = child(moov, b"mvhd")
        .and_then(timescale)
        .ok_or(EditError::Invalid("no mvhd"))?;
    let trak = children(moov)
        .filter(|(k, _)| k == b"trak")
        .map(|(_, p)| p)
        .find(|t| child(t, b"tkhd").and_then(tkhd_id) == Some(track_id));
    let Some(trak) = trak else {
        return Ok(Edit::default());
    };
    let media_ts = child(trak, b"mdia")
        .and_then(|m| child(m, b"mdhd"))
        .and_then(timescale)
        .ok_or(EditError::Invalid("no mdhd"))?;
    let Some(elst) = child(trak, b"edts").and_then(|e| child(e, b"elst")) else {
        return Ok(Edit::default());
    };
    let version = *elst.first().ok_or(EditError::Invalid("empty elst"))?;
    let count = be_u32(elst, 4).ok_or(EditError::Invalid("short elst"))?;
    if count > MAX_EDITS {
        return Err(EditError::Invalid("too many edits"));
    }
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut priming = None;
    let mut delay_movie: u64 = 0;
    let mut valid_movie: u64 = 0;
    let mut open_ended = false;
    for i in 0..count as usize {
        let at = 8 + i * entry_len;
        let (duration, media_time) = if version == 1 {
            (be_u64(elst, at), be_u64(elst, at + 8).map(|v| v as i64))
        } else {
            (
                be_u32(elst, at).map(u64::from),
                be_u32(elst, at + 4).map(|v| v as i32 as i64),
            )
        };
        let (Some(duration), Some(media_time)) = (duration, media_time) else {
            return Err(EditError::Invalid("short elst"));
        };
        if media_time < 0 {
            // An empty edit: a presentation delay (counted before the first media edit).
            if priming.is_none() {
                delay_movie = delay_movie.saturating_add(duration);
            }
            continue;
        }
        if priming.is_none() {
            priming = Some(media_time as u64);
        }
        if duration == 0 {
            open_ended = true;
        }
        valid_movie = valid_movie.saturating_add(duration);
    }
    let to_frames = |v: u64, ts: u32| (v as u128 * rate as u128 / ts as u128) as u64;
    Ok(Edit {
        priming: priming.map(|p| to_frames(p, media_ts)).unwrap_or(0),
        valid: (!open_ended && priming.is_some()).then(|| to_frames(valid_movie, movie_ts)),
        delay: to_frames(delay_movie, movie_ts).min(MAX_DELAY_SECS * u64::from(rate)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn full(version: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![version, 0, 0, 0];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn aac_priming_and_padding() {
        let mut mvhd = vec![0u8; 8];
        mvhd.extend_from_slice(&1000u32.to_be_bytes());
        let mut tkhd = vec![0u8; 8];
        tkhd.extend_from_slice(&7u32.to_be_bytes());
        let mut mdhd = vec![0u8; 8];
        mdhd.extend_from_slice(&48000u32.to_be_bytes());
        let mut elst = 1u32.to_be_bytes().to_vec();
        elst.extend_from_slice(&1000u32.to_be_bytes());
        elst.extend_from_slice(&1024u32.to_be_bytes());
        elst.extend_from_slice(&[0, 1, 0, 0]);
        let trak = [
            bx(b"tkhd", &full(0, &tkhd)),
            bx(b"mdia", &bx(b"mdhd", &full(0, &mdhd))),
            bx(b"edts", &bx(b"elst", &full(0, &elst))),
        ]
        .concat();
        let moov = [bx(b"mvhd", &full(0, &mvhd)), bx(b"trak", &trak)].concat();
        assert_eq!(
            parse_moov(&moov, 7, 48000),
            Ok(Edit {
                priming: 1024,
                valid: Some(48000),
                delay: 0,
            })
        );
        assert_eq!(parse_moov(&moov, 8, 48000), Ok(Edit::default()));
        for cut in 0..moov.len() {
            let _ = parse_moov(&moov[..cut], 7, 48000);
        }
    }
}
