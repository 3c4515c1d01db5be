//! Ogg Opus files (`.opus`, RFC 7845 over RFC 3533 pages): [`OggOpus`], a [`Demux`] over a
//! [`ByteSource`] that may answer "not yet". The core has no Opus decoder; the packets go to
//! the host's (WebCodecs `AudioDecoder`), as Opus from WebM and MP4 does. Ogg Vorbis and FLAC
//! stay with symphonia, which decodes them; symphonia's Ogg reader is not used here because it
//! reads a blocking stream and cannot stop on a missing byte and resume, nor hand out packets
//! by position.
//!
//! Pages are read where they are needed and a few are kept. A sample is a packet, named by
//! the page it starts on and its index among the packets starting there ([`Sample::offset`]
//! is `page offset << 8 | index`); a packet continued over later pages is put together by
//! [`Demux::read_sample`]. Times come from the page itself: a page's granule position is the
//! end of the last packet completed on it, so the packets that start on it begin at that
//! granule minus the durations (from each packet's TOC byte, RFC 6716 §3.1) of those that
//! start and complete there. Times are `granule − pre-skip`, so the first packet of a file is
//! at −pre-skip (−6.5 ms from libopus), as from WebM and MP4; the player drops what decodes
//! before 0. The duration is the last page's granule (read from the end of the file)
//! − pre-skip. Seeking bisects the file on page start times, then walks forward.
//!
//! The first Opus stream is played; pages of other logical streams are passed by, and the
//! stream ends at its end-of-stream page (a chained file's next link is not played). Pages
//! with a bad CRC are skipped as lost, and garbage between pages is passed over to the next
//! capture pattern.

use std::collections::{BTreeMap, VecDeque};

use super::{ticks_to_us, ByteSource, Cursor, Demux, DemuxError, Sample, TrackInfo, TrackKind};

/// Opus time base: granule positions count 48 kHz samples whatever the input rate.
const RATE: u32 = 48_000;
/// Longest possible page: 27 header bytes, 255 lacing values, 255 × 255 body bytes.
const MAX_PAGE: usize = 27 + 255 + 255 * 255;
/// Pages kept parsed.
const MAX_CACHED: usize = 4;
/// Most bytes searched for the next capture pattern after garbage.
const RESYNC_SPAN: u64 = 256 * 1024;
/// Most bytes of header packets (OpusTags may hold cover art) before the audio.
const MAX_HEADERS: u64 = 16 * 1024 * 1024;
/// Bytes at the end of the file read for the duration (at least): two pages.
const TAIL: u64 = 2 * MAX_PAGE as u64;
/// Largest packet put together from continued pages (RFC 6716 allows 120 ms of 510 kbit/s
/// frames; far less in practice).
const MAX_PACKET: u64 = 1 << 20;
/// Page start times remembered for seeking.
const MAX_MEMO: usize = 1 << 16;
/// Bytes left between bisection bounds before walking forward page by page.
const WALK_SPAN: u64 = 2 * MAX_PAGE as u64;

fn invalid(m: &str) -> DemuxError {
    DemuxError::Invalid(format!("ogg: {m}"))
}

/// The Ogg CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0) of a page whose
/// CRC field reads as zero.
fn page_crc(page: &[u8]) -> u32 {
    page.iter().enumerate().fold(0u32, |crc, (i, &b)| {
        let b = if (22..26).contains(&i) { 0 } else { b };
        (0..8).fold(crc ^ (u32::from(b) << 24), |c, _| {
            if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            }
        })
    })
}

/// One page, parsed.
#[derive(Debug, Clone)]
struct Page {
    /// File offset of its capture pattern.
    offset: u64,
    /// File offset just past it.
    end: u64,
    /// End of the last packet completed on the page; −1 when none is.
    granule: i64,
    serial: u32,
    /// Its first bytes continue a packet from an earlier page.
    continued: bool,
    bos: bool,
    eos: bool,
    body: Vec<u8>,
    /// Packets starting on this page: (offset in the body, bytes on this page, completed on
    /// this page).
    starts: Vec<(usize, usize, bool)>,
    /// Bytes at the body's start that continue an earlier packet, and whether it completes.
    carry: (usize, bool),
}

impl Page {
    /// Parses the page at the start of `b` (`Ok(None)`: not a valid page there).
    fn parse(offset: u64, b: &[u8]) -> Option<Page> {
        if b.len() < 27 || &b[..4] != b"OggS" || b[4] != 0 {
            return None;
        }
        let flags = b[5];
        let granule = i64::from_le_bytes(b[6..14].try_into().ok()?);
        let serial = u32::from_le_bytes(b[14..18].try_into().ok()?);
        let crc = u32::from_le_bytes(b[22..26].try_into().ok()?);
        let n = usize::from(b[26]);
        let lacing = b.get(27..27 + n)?;
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let len = 27 + n + body_len;
        let whole = b.get(..len)?;
        if page_crc(whole) != crc {
            return None;
        }
        let continued = flags & 1 != 0;
        let mut starts = Vec::new();
        let mut carry = (0, false);
        let (mut at, mut run, mut in_carry) = (0usize, 0usize, continued);
        let mut run_start = 0usize;
        // A run of 255s ends a packet at the first value below 255; a run still open at the
        // end continues on the next page.
        for &l in lacing {
            run += usize::from(l);
            if l < 255 {
                if in_carry {
                    carry = (run, true);
                    in_carry = false;
                } else {
                    starts.push((run_start, run, true));
                }
                at += run;
                run_start = at;
                run = 0;
            }
        }
        if run > 0 {
            if in_carry {
                carry = (run, false);
            } else {
                starts.push((run_start, run, false));
            }
        }
        Some(Page {
            offset,
            end: offset + len as u64,
            granule,
            serial,
            continued,
            bos: flags & 2 != 0,
            eos: flags & 4 != 0,
            body: whole[27 + n..].to_vec(),
            starts,
            carry,
        })
    }

    /// The bytes of the `k`th packet starting here that lie on this page.
    fn start_bytes(&self, k: usize) -> &[u8] {
        self.starts
            .get(k)
            .and_then(|&(at, len, _)| self.body.get(at..at + len))
            .unwrap_or_default()
    }
}

/// Samples (at 48 kHz) an Opus packet decodes to, from its TOC byte and frame count byte
/// (RFC 6716 §3.1); 0 for an empty or malformed packet.
fn packet_samples(p: &[u8]) -> i64 {
    let Some(&toc) = p.first() else {
        return 0;
    };
    let config = toc >> 3;
    // Frame length in 48 kHz samples: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20.
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => p.get(1).map_or(0, |&c| i64::from(c & 0x3f)),
    };
    // At most 120 ms per packet.
    (frame * frames).min(5760)
}

/// An Ogg Opus file. See the module docs.
pub struct OggOpus {
    tracks: Vec<TrackInfo>,
    serial: u32,
    pre_skip: i64,
    /// Offset of the first page after the headers.
    audio_at: u64,
    duration: Option<f64>,
    cache: VecDeque<Page>,
    /// Start time (granule) of pages looked at, by offset: seeking bisects over them.
    memo: BTreeMap<u64, i64>,
    /// The end of the stream page read last, and where the packets after it start.
    follow: Option<(u64, i64)>,
}

impl OggOpus {
    /// Opens the file: the identification and comment headers, then the last page for the
    /// duration when the file's size is known. Call again after `NeedBytes`.
    pub fn open(src: &mut dyn ByteSource) -> Result<OggOpus, DemuxError> {
        let mut d = OggOpus {
            tracks: Vec::new(),
            serial: 0,
            pre_skip: 0,
            audio_at: 0,
            duration: None,
            cache: VecDeque::new(),
            memo: BTreeMap::new(),
            follow: None,
        };
        let first = d
            .page_at(src, 0)?
            .ok_or_else(|| invalid("no page at the start"))?;
        let head = first.start_bytes(0).to_vec();
        if !first.bos || !head.starts_with(b"OpusHead") {
            return Err(DemuxError::Unsupported(
                "ogg: the first stream is not Opus".into(),
            ));
        }
        d.serial = first.serial;
        let info = opus_head(&head)?;
        d.pre_skip = info.1;
        d.tracks.push(TrackInfo {
            id: u64::from(first.serial),
            kind: Some(TrackKind::Audio),
            codec: "opus".into(),
            description: Some(head),
            sample_rate: RATE,
            channels: info.0,
            codec_delay_us: ticks_to_us(info.1, RATE),
            ..TrackInfo::default()
        });
        // The comment header: from the next page of the stream until a packet completes.
        let mut at = first.end;
        let mut tags_done = false;
        while !tags_done {
            if at > MAX_HEADERS {
                return Err(invalid("headers longer than the limit"));
            }
            let page = d
                .next_page(src, at)?
                .ok_or_else(|| invalid("no comment header"))?;
            at = page.end;
            if page.serial != d.serial {
                continue;
            }
            if page.granule != -1 && page.granule != 0 {
                return Err(invalid("audio before the comment header"));
            }
            tags_done = page.carry.1 || page.starts.iter().any(|s| s.2);
        }
        d.audio_at = at;
        if let Some(len) = src.len() {
            d.duration = d.read_duration(src, len)?;
            if let Some(t) = d.duration {
                d.tracks[0].duration_us = Some((t * 1e6).round() as i64);
            }
        }
        Ok(d)
    }

    /// The last granule of the stream, from the last bytes of the file, as seconds.
    fn read_duration(
        &mut self,
        src: &mut dyn ByteSource,
        len: u64,
    ) -> Result<Option<f64>, DemuxError> {
        let from = len.saturating_sub(TAIL).max(self.audio_at);
        let mut buf = vec![0u8; usize::try_from(len - from.min(len)).unwrap_or(0)];
        let n = src.read_at(from, &mut buf)?;
        buf.truncate(n);
        let mut last = None;
        let mut i = 0;
        while i + 27 <= buf.len() {
            if &buf[i..i + 4] == b"OggS" {
                if let Some(p) = Page::parse(from + i as u64, &buf[i..]) {
                    if p.serial == self.serial && p.granule >= 0 {
                        last = Some(p.granule);
                    }
                    i += usize::try_from(p.end - p.offset).unwrap_or(1);
                    continue;
                }
            }
            i += 1;
        }
        Ok(last.map(|g| (g - self.pre_skip).max(0) as f64 / f64::from(RATE)))
    }

    /// The page at `offset` exactly (`Ok(None)`: none there, or the file ended).
    fn page_at(
        &mut self,
        src: &mut dyn ByteSource,
        offset: u64,
    ) -> Result<Option<Page>, DemuxError> {
        if let Some(p) = self.cache.iter().find(|p| p.offset == offset) {
            return Ok(Some(p.clone()));
        }
        let mut head = [0u8; 27];
        let n = src.read_at(offset, &mut head)?;
        if n < 27 {
            return Ok(None);
        }
        if &head[..4] != b"OggS" {
            return Ok(None);
        }
        let mut seg = vec![0u8; usize::from(head[26])];
        let got = src.read_at(offset + 27, &mut seg)?;
        if got < seg.len() {
            return Ok(None);
        }
        let body: usize = seg.iter().map(|&l| usize::from(l)).sum();
        let mut b = vec![0u8; 27 + seg.len() + body];
        let got = src.read_at(offset, &mut b)?;
        b.truncate(got);
        let page = Page::parse(offset, &b);
        if let Some(p) = &page {
            if self.cache.len() >= MAX_CACHED {
                self.cache.pop_front();
            }
            self.cache.push_back(p.clone());
        }
        Ok(page)
    }

    /// The first valid page at or after `offset` (passing garbage and damaged pages), or
    /// `Ok(None)` at the end of the file.
    fn next_page(
        &mut self,
        src: &mut dyn ByteSource,
        offset: u64,
    ) -> Result<Option<Page>, DemuxError> {
        if let Some(p) = self.page_at(src, offset)? {
            return Ok(Some(p));
        }
        let mut at = offset + 1;
        let mut buf = vec![0u8; 64 * 1024];
        while at < offset.saturating_add(RESYNC_SPAN) {
            let n = src.read_at(at, &mut buf)?;
            if n < 4 {
                return Ok(None);
            }
            let found = buf[..n].windows(4).position(|w| w == b"OggS");
            match found {
                Some(i) => {
                    if let Some(p) = self.page_at(src, at + i as u64)? {
                        return Ok(Some(p));
                    }
                    at += i as u64 + 1;
                }
                None => at += (n - 3) as u64,
            }
        }
        Err(invalid("no page found where one was expected"))
    }

    /// The next page of the stream at or after `offset`, with the granule its first starting
    /// packet begins at (`None` when the page says nothing: no packet completes on it).
    ///
    /// A page's granule is the end of its last completed packet, so the start is that less
    /// the packets' durations; except on the last page, whose granule may end the stream
    /// inside its last packet (end trimming, RFC 7845 §4.4): its start is where the page
    /// before it left off, when that page was just read.
    fn stream_page(
        &mut self,
        src: &mut dyn ByteSource,
        offset: u64,
    ) -> Result<Option<(Page, Option<i64>)>, DemuxError> {
        let mut at = offset.max(self.audio_at);
        let after_previous = self.follow.filter(|&(end, _)| end == at).map(|(_, g)| g);
        loop {
            let Some(page) = self.next_page(src, at)? else {
                return Ok(None);
            };
            if page.serial != self.serial {
                at = page.end;
                continue;
            }
            let durations: Vec<i64> = (0..page.starts.len())
                .map(|k| packet_samples(page.start_bytes(k)))
                .collect();
            let backward = (page.granule >= 0).then(|| {
                let done: i64 = (0..page.starts.len())
                    .filter(|&k| page.starts[k].2)
                    .map(|k| durations[k])
                    .sum();
                page.granule.saturating_sub(done)
            });
            let start = if page.eos {
                after_previous
                    .or_else(|| self.memo.get(&page.offset).copied())
                    .or(backward)
            } else {
                backward
            };
            if let Some(g) = start {
                if self.memo.len() < MAX_MEMO || self.memo.contains_key(&page.offset) {
                    self.memo.insert(page.offset, g);
                }
                let next = g.saturating_add(durations.iter().sum::<i64>());
                self.follow = Some((page.end, next));
            }
            return Ok(Some((page, start)));
        }
    }

    /// The first page of the stream at or after `offset` and before `end` that has a start
    /// time, with it.
    fn timed_page(
        &mut self,
        src: &mut dyn ByteSource,
        offset: u64,
        end: u64,
    ) -> Result<Option<(Page, i64)>, DemuxError> {
        let mut at = offset;
        while at < end {
            match self.stream_page(src, at)? {
                Some((p, Some(g))) if p.offset < end => return Ok(Some((p, g))),
                Some((p, None)) if !p.eos => at = p.end,
                _ => break,
            }
        }
        Ok(None)
    }

    /// The stream's next page at or after `*at` when it continues a packet (`None`: the
    /// stream's next page starts afresh, or the file ended); `*at` moves past it.
    fn continuation(
        &mut self,
        src: &mut dyn ByteSource,
        at: &mut u64,
    ) -> Result<Option<Page>, DemuxError> {
        loop {
            let Some(next) = self.next_page(src, *at)? else {
                return Ok(None);
            };
            *at = next.end;
            if next.serial == self.serial {
                return Ok(next.continued.then_some(next));
            }
        }
    }

    /// Total bytes of the packet starting at `k` on `page`, following continued pages.
    fn packet_len(
        &mut self,
        src: &mut dyn ByteSource,
        page: &Page,
        k: usize,
    ) -> Result<u64, DemuxError> {
        let &(_, len, mut complete) = page.starts.get(k).ok_or_else(|| invalid("packet"))?;
        let mut total = len as u64;
        let mut at = page.end;
        while !complete {
            let Some(next) = self.continuation(src, &mut at)? else {
                break;
            };
            let len;
            (len, complete) = next.carry;
            total += len as u64;
            if total > MAX_PACKET {
                return Err(invalid("packet larger than the limit"));
            }
        }
        Ok(total)
    }

    fn time_us(&self, granule: i64) -> i64 {
        ticks_to_us(granule.saturating_sub(self.pre_skip), RATE)
    }
}

/// (channels, pre-skip) from an OpusHead packet (RFC 7845 §5.1).
fn opus_head(h: &[u8]) -> Result<(u16, i64), DemuxError> {
    if h.len() < 19 {
        return Err(invalid("OpusHead too short"));
    }
    if h[8] >> 4 != 0 {
        return Err(DemuxError::Unsupported(format!(
            "ogg: Opus header version {}",
            h[8]
        )));
    }
    let channels = h[9];
    let family = h[18];
    let ok = match family {
        0 => (1..=2).contains(&channels),
        _ => channels >= 1 && h.len() >= 21 + usize::from(channels),
    };
    if !ok {
        return Err(invalid("bad OpusHead channel mapping"));
    }
    Ok((
        u16::from(channels),
        i64::from(u16::from_le_bytes([h[10], h[11]])),
    ))
}

impl Demux for OggOpus {
    fn container(&self) -> &'static str {
        "ogg"
    }

    fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    fn duration(&self) -> Option<f64> {
        self.duration
    }

    fn next_sample(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        cursor: &mut Cursor,
    ) -> Result<Option<Sample>, DemuxError> {
        if track != 0 {
            return Ok(None);
        }
        let mut at = (cursor.segment as u64).max(self.audio_at);
        let mut index = cursor.index;
        loop {
            let Some((page, start)) = self.stream_page(src, at)? else {
                return Ok(None);
            };
            match start {
                Some(g) if index < page.starts.len() => {
                    let before: i64 = (0..index)
                        .map(|k| packet_samples(page.start_bytes(k)))
                        .sum();
                    let dur = packet_samples(page.start_bytes(index));
                    let size = self.packet_len(src, &page, index)?;
                    let pts = self.time_us(g + before);
                    let sample = Sample {
                        pts_us: pts,
                        dts_us: pts,
                        duration_us: ticks_to_us(dur, RATE),
                        offset: (page.offset << 8) | index as u64,
                        size: u32::try_from(size).map_err(|_| invalid("packet size"))?,
                        key: true,
                    };
                    *cursor = Cursor {
                        segment: usize::try_from(page.offset)
                            .map_err(|_| DemuxError::Unsupported("ogg: file too large".into()))?,
                        index: index + 1,
                    };
                    return Ok(Some(sample));
                }
                _ if page.eos => return Ok(None),
                _ => {
                    at = page.end;
                    index = 0;
                }
            }
        }
    }

    fn seek(
        &mut self,
        src: &mut dyn ByteSource,
        track: usize,
        time_us: i64,
    ) -> Result<Cursor, DemuxError> {
        let target = self.pre_skip.saturating_add(
            (time_us.max(0) as i128 * i128::from(RATE) / 1_000_000).min(i128::from(i64::MAX / 2))
                as i64,
        );
        let start = Cursor {
            segment: usize::try_from(self.audio_at).unwrap_or(0),
            index: 0,
        };
        if track != 0 || target <= self.pre_skip {
            return Ok(start);
        }
        // Bisect: `lo` is a page starting at or before the target.
        let mut lo = self.audio_at;
        let mut hi = src.len().unwrap_or(lo);
        if let Some((&o, _)) = self.memo.iter().rev().find(|(_, &g)| g <= target) {
            lo = o;
        }
        if let Some((&o, _)) = self.memo.range(lo + 1..).find(|(_, &g)| g > target) {
            hi = hi.min(o);
        }
        while hi > lo + WALK_SPAN {
            let mid = lo + (hi - lo) / 2;
            match self.timed_page(src, mid, hi)? {
                Some((p, g)) if g <= target => lo = p.offset,
                _ => hi = mid,
            }
        }
        // Walk forward: the last page starting at or before the target.
        let mut best = lo;
        let mut at = lo;
        while let Some((p, g)) = self.stream_page(src, at)? {
            match g {
                Some(g) if g > target => break,
                Some(_) => best = p.offset,
                None => {}
            }
            if p.eos {
                break;
            }
            at = p.end;
        }
        Ok(Cursor {
            segment: usize::try_from(best)
                .map_err(|_| DemuxError::Unsupported("ogg: file too large".into()))?,
            index: 0,
        })
    }

    fn read_sample(
        &mut self,
        src: &mut dyn ByteSource,
        sample: &Sample,
        buf: &mut [u8],
    ) -> Result<usize, DemuxError> {
        let offset = sample.offset >> 8;
        let k = (sample.offset & 0xff) as usize;
        let page = self
            .page_at(src, offset)?
            .ok_or_else(|| invalid("the page of a packet is gone"))?;
        let first = page.start_bytes(k);
        let mut n = first.len().min(buf.len());
        buf[..n].copy_from_slice(&first[..n]);
        let mut complete = page.starts.get(k).is_none_or(|s| s.2);
        let mut at = page.end;
        while !complete && n < buf.len() {
            let Some(next) = self.continuation(src, &mut at)? else {
                break;
            };
            let (len, done) = next.carry;
            let part = next.body.get(..len).unwrap_or_default();
            let take = part.len().min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&part[..take]);
            n += take;
            complete = done;
        }
        Ok(n)
    }
}

/// The codec of the first logical stream when `head` (the first bytes of a resource) starts
/// with an Ogg page: `opus`, `vorbis`, `flac`, `speex`, `theora`, or `unknown`; `None` when it
/// is not Ogg.
pub fn first_codec(head: &[u8]) -> Option<&'static str> {
    if head.len() < 28 || &head[..4] != b"OggS" || head[5] & 2 == 0 {
        return None;
    }
    let body = head.get(27 + usize::from(head[26])..).unwrap_or_default();
    let kinds: [(&[u8], &str); 5] = [
        (b"OpusHead", "opus"),
        (b"\x01vorbis", "vorbis"),
        (b"\x7fFLAC", "flac"),
        (b"Speex   ", "speex"),
        (b"\x80theora", "theora"),
    ];
    Some(
        kinds
            .iter()
            .find(|(magic, _)| body.starts_with(magic))
            .map_or("unknown", |(_, name)| name),
    )
}

/// True when `head` (the first bytes of a resource) is an Ogg page opening an Opus stream.
pub fn is_ogg_opus(head: &[u8]) -> bool {
    first_codec(head) == Some("opus")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of `packets` (each completed on it unless `open_last`), CRC filled in.
    fn page(flags: u8, granule: i64, serial: u32, packets: &[&[u8]], open_last: bool) -> Vec<u8> {
        let mut lacing = Vec::new();
        let mut body = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            let mut left = <[u8]>::len(p);
            while left >= 255 {
                lacing.push(255);
                left -= 255;
            }
            if !(open_last && i + 1 == packets.len()) {
                lacing.push(left as u8);
            }
            body.extend_from_slice(p);
        }
        let mut b = b"OggS\0".to_vec();
        b.push(flags);
        b.extend_from_slice(&granule.to_le_bytes());
        b.extend_from_slice(&serial.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.push(lacing.len() as u8);
        b.extend_from_slice(&lacing);
        b.extend_from_slice(&body);
        let crc = page_crc(&b);
        b[22..26].copy_from_slice(&crc.to_le_bytes());
        b
    }

    fn head(channels: u8, pre_skip: u16) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.extend_from_slice(&[1, channels]);
        h.extend_from_slice(&pre_skip.to_le_bytes());
        h.extend_from_slice(&48_000u32.to_le_bytes());
        h.extend_from_slice(&[0, 0, 0]);
        h
    }

    /// A 20 ms CELT packet (config 31, one frame) of `n` bytes tagged with `tag`.
    fn packet(n: usize, tag: u8) -> Vec<u8> {
        let mut p = vec![tag; n];
        p[0] = 31 << 3;
        p
    }

    /// Headers, then `pages` pages of `per` 20 ms packets each (an extra stream's page
    /// between them), ending with EOS.
    fn file(pages: usize, per: usize) -> Vec<u8> {
        let mut f = page(2, 0, 7, &[&head(2, 312)], false);
        f.extend(page(2, 0, 9, &[b"other stream"], false));
        f.extend(page(0, 0, 7, &[b"OpusTags\0\0\0\0\0\0\0\0"], false));
        let mut g = 0i64;
        for i in 0..pages {
            let ps: Vec<Vec<u8>> = (0..per).map(|k| packet(100, (i * per + k) as u8)).collect();
            let refs: Vec<&[u8]> = ps.iter().map(|p| p.as_slice()).collect();
            g += 960 * per as i64;
            let flags = if i + 1 == pages { 4 } else { 0 };
            f.extend(page(flags, g, 7, &refs, false));
            if i == 1 {
                f.extend(page(0, 5, 9, &[b"noise"], false));
            }
        }
        f
    }

    fn all(d: &mut OggOpus, src: &mut &[u8]) -> Vec<Sample> {
        let mut c = Cursor::default();
        let mut out = Vec::new();
        while let Some(s) = d.next_sample(src, 0, &mut c).unwrap() {
            out.push(s);
        }
        out
    }

    #[test]
    fn packets_times_and_duration() {
        let bytes = file(5, 10);
        let mut src: &[u8] = &bytes;
        assert!(is_ogg_opus(&bytes));
        let mut d = OggOpus::open(&mut src).unwrap();
        let t = &d.tracks()[0];
        assert_eq!(
            (t.codec.as_str(), t.channels, t.sample_rate),
            ("opus", 2, 48_000)
        );
        assert_eq!(t.codec_delay_us, 6500);
        assert!(t.description.as_ref().unwrap().starts_with(b"OpusHead"));
        // 50 packets of 20 ms, minus the pre-skip.
        assert!((d.duration().unwrap() - (1.0 - 0.0065)).abs() < 1e-9);
        let s = all(&mut d, &mut src);
        assert_eq!(s.len(), 50);
        for (i, x) in s.iter().enumerate() {
            assert_eq!(x.pts_us, i as i64 * 20_000 - 6500, "packet {i}");
            assert_eq!((x.duration_us, x.size, x.key), (20_000, 100, true));
            let mut buf = vec![0u8; 100];
            assert_eq!(d.read_sample(&mut src, x, &mut buf).unwrap(), 100);
            assert_eq!(buf[1], i as u8, "packet {i}'s bytes");
        }
    }

    #[test]
    fn a_packet_continued_over_pages() {
        let mut f = page(2, 0, 7, &[&head(1, 0)], false);
        f.extend(page(0, 0, 7, &[b"OpusTags"], false));
        let big = packet(700, 0xab);
        let small = packet(50, 0x01);
        // Page 1: the small packet, then the first 510 bytes of the big one.
        let first_part = &big[..510];
        f.extend(page(0, 960, 7, &[&small, first_part], true));
        // Page 2: the big packet's last 190 bytes (continued), then another small one.
        let p2 = page(1 | 4, 960 * 3, 7, &[&big[510..], &small], false);
        // The continued run must not be mistaken for a packet start: it is the carry.
        assert_eq!(p2[27], 190);
        f.extend(p2);
        let mut src: &[u8] = &f;
        let mut d = OggOpus::open(&mut src).unwrap();
        let s = all(&mut d, &mut src);
        assert_eq!(
            s.iter().map(|x| x.size).collect::<Vec<_>>(),
            vec![50, 700, 50]
        );
        assert_eq!(
            s.iter().map(|x| x.pts_us).collect::<Vec<_>>(),
            vec![0, 20_000, 40_000]
        );
        let mut buf = vec![0u8; 700];
        assert_eq!(d.read_sample(&mut src, &s[1], &mut buf).unwrap(), 700);
        assert_eq!(buf, big);
    }

    #[test]
    fn seeking_lands_on_a_page_at_or_before() {
        let bytes = file(400, 5);
        let mut src: &[u8] = &bytes;
        let mut d = OggOpus::open(&mut src).unwrap();
        for t in [0i64, 1_000_000, 13_370_000, 39_000_000, 100_000_000] {
            let mut c = d.seek(&mut src, 0, t).unwrap();
            let s = d.next_sample(&mut src, 0, &mut c).unwrap().unwrap();
            assert!(
                s.pts_us <= t.max(0),
                "seek to {t}: first packet at {}",
                s.pts_us
            );
            assert!(
                s.pts_us > t.min(39_990_000) - 200_000,
                "seek to {t}: landed at {}",
                s.pts_us
            );
        }
    }

    #[test]
    fn damage_and_missing_bytes() {
        let bytes = file(5, 10);
        // A corrupt page (bad CRC) is skipped as lost; the rest plays.
        let mut bad = bytes.clone();
        let third_audio = {
            let mut at = 0;
            let mut found = Vec::new();
            while let Some(i) = bad[at..].windows(4).position(|w| w == b"OggS") {
                found.push(at + i);
                at += i + 4;
            }
            found[4]
        };
        bad[third_audio + 40] ^= 0xff;
        let mut src: &[u8] = &bad;
        let mut d = OggOpus::open(&mut src).unwrap();
        assert_eq!(all(&mut d, &mut src).len(), 40);
        // Bytes that have not arrived: NeedBytes, and the same call succeeds later.
        struct Partial<'a>(&'a [u8], usize);
        impl ByteSource for Partial<'_> {
            fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
                if offset as usize + buf.len() > self.1 && self.1 < self.0.len() {
                    return Err(DemuxError::NeedBytes(self.1 as u64));
                }
                let mut s = self.0;
                s.read_at(offset, buf)
            }
            fn len(&self) -> Option<u64> {
                Some(self.0.len() as u64)
            }
        }
        let mut p = Partial(&bytes, 30);
        let d = loop {
            match OggOpus::open(&mut p) {
                Ok(d) => break d,
                Err(DemuxError::NeedBytes(_)) => p.1 = (p.1 + 100).min(bytes.len()),
                Err(e) => panic!("{e:?}"),
            }
        };
        assert!(d.duration().is_some());
        // Not Opus, or a bad header: typed errors.
        let mut v = page(2, 0, 1, &[b"\x01vorbis0000000000000000000000"], false);
        v.extend(page(0, 0, 1, &[b"x"], false));
        let mut src: &[u8] = &v;
        assert!(matches!(
            OggOpus::open(&mut src),
            Err(DemuxError::Unsupported(_))
        ));
        let mut h = head(3, 0); // family 0 with 3 channels
        h.truncate(19);
        let f = page(2, 0, 1, &[&h], false);
        let mut src: &[u8] = &f;
        assert!(matches!(
            OggOpus::open(&mut src),
            Err(DemuxError::Invalid(_))
        ));
    }

    #[test]
    fn toc_durations() {
        assert_eq!(packet_samples(&[0]), 480); // SILK 10 ms
        assert_eq!(packet_samples(&[3 << 3]), 2880); // SILK 60 ms
        assert_eq!(packet_samples(&[(13 << 3) | 1]), 1920); // hybrid 20 ms × 2
        assert_eq!(packet_samples(&[(16 << 3) | 3, 0x05]), 600); // CELT 2.5 ms × 5
        assert_eq!(packet_samples(&[(3 << 3) | 3, 0x3f]), 5760); // capped at 120 ms
        assert_eq!(packet_samples(&[]), 0);
    }
}
