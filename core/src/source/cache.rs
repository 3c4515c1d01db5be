//! A sparse, budgeted in-memory cache of a remote resource's bytes, and the reader over it.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(feature = "symphonia")]
use symphonia::core::io::MediaSource;

/// Bytes per cache block. Fetches start on block boundaries so blocks fill front to back.
pub const BLOCK: u64 = 64 * 1024;

/// The cached bytes of one resource, in fixed-size blocks that fill front to back.
#[derive(Debug, Default)]
pub struct ByteCache {
    blocks: BTreeMap<u64, Vec<u8>>,
    total: Option<u64>,
    bytes: u64,
    budget: u64,
    /// Offset of the first read that found no bytes since the last `take_miss`.
    miss: Option<u64>,
    /// Where the last read ended: the reader's position in the resource.
    read_pos: u64,
}

impl ByteCache {
    /// An empty cache that evicts blocks far from the read position beyond `budget` bytes.
    pub fn new(budget: u64) -> Self {
        ByteCache {
            budget: budget.max(4 * BLOCK),
            ..Default::default()
        }
    }

    /// Total size of the resource, once known.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Records the resource size (from `Content-Range`, `Content-Length` or the end of a body).
    pub fn set_total(&mut self, total: u64) {
        self.total = Some(total);
    }

    /// Bytes held.
    pub fn held(&self) -> u64 {
        self.bytes
    }

    /// Where the reader last read up to.
    pub fn read_pos(&self) -> u64 {
        self.read_pos
    }

    /// Takes the offset of the first read miss since the last call.
    pub fn take_miss(&mut self) -> Option<u64> {
        self.miss.take()
    }

    /// Stores `data` found at resource offset `offset`. Bytes that are already held, or that do
    /// not continue a block's filled prefix, are skipped (fetches start on block boundaries).
    pub fn write(&mut self, mut offset: u64, mut data: &[u8]) {
        while !data.is_empty() {
            let index = offset / BLOCK;
            let within = (offset % BLOCK) as usize;
            let take = (BLOCK as usize - within).min(data.len());
            let block = self.blocks.entry(index).or_default();
            if within == block.len() {
                block.extend_from_slice(&data[..take]);
                self.bytes += take as u64;
            } else if within + take > block.len() && within < block.len() {
                let skip = block.len() - within;
                block.extend_from_slice(&data[skip..take]);
                self.bytes += (take - skip) as u64;
            }
            offset += take as u64;
            data = &data[take..];
        }
        self.evict();
    }

    /// Number of bytes held contiguously starting at `offset` (stops at a gap or the end).
    pub fn contiguous_from(&self, offset: u64) -> u64 {
        let mut pos = offset;
        loop {
            let index = pos / BLOCK;
            let within = pos % BLOCK;
            match self.blocks.get(&index) {
                Some(block) if (block.len() as u64) > within => {
                    pos = index * BLOCK + block.len() as u64;
                    if (block.len() as u64) < BLOCK {
                        return pos - offset;
                    }
                }
                _ => return pos - offset,
            }
        }
    }

    /// True if every byte from `offset` to the end of the resource is held.
    pub fn complete_from(&self, offset: u64) -> bool {
        match self.total {
            Some(total) => offset >= total || offset + self.contiguous_from(offset) >= total,
            None => false,
        }
    }

    /// First offset at or after `offset` that is not held (`None` if the rest is held).
    pub fn first_gap(&self, offset: u64) -> Option<u64> {
        let gap = offset + self.contiguous_from(offset);
        match self.total {
            Some(total) if gap >= total => None,
            _ => Some(gap),
        }
    }

    /// Where a fetch must start to fill the bytes at `offset`: the end of the filled prefix of
    /// its block (blocks fill front to back).
    pub fn fetch_start(&self, offset: u64) -> u64 {
        let index = offset / BLOCK;
        let filled = self.blocks.get(&index).map_or(0, |b| b.len() as u64);
        (index * BLOCK + filled).min(offset)
    }

    /// Copies bytes at `offset` into `buf`; `Ok(0)` at the known end; a miss when no byte at
    /// `offset` is held.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(total) = self.total {
            if offset >= total {
                return Ok(0);
            }
        }
        let index = offset / BLOCK;
        let within = (offset % BLOCK) as usize;
        match self.blocks.get(&index) {
            Some(block) if block.len() > within => {
                let n = (block.len() - within).min(buf.len());
                buf[..n].copy_from_slice(&block[within..within + n]);
                self.read_pos = offset + n as u64;
                Ok(n)
            }
            _ => {
                if self.miss.is_none() {
                    self.miss = Some(offset);
                }
                Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "kinema: bytes not fetched yet",
                ))
            }
        }
    }

    /// Copies up to `buf.len()` bytes at `offset` like [`ByteCache::copy_at`], but as a look
    /// aside: the read position (which the loader and the eviction follow) does not move and
    /// no miss is recorded.
    pub fn peek_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, u64> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            if self.total.is_some_and(|t| at >= t) {
                break;
            }
            let within = (at % BLOCK) as usize;
            let held = self
                .blocks
                .get(&(at / BLOCK))
                .and_then(|b| b.get(within..))
                .filter(|b| !b.is_empty());
            let Some(held) = held else {
                return Err(at);
            };
            let n = held.len().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&held[..n]);
            done += n;
        }
        Ok(done)
    }

    /// Copies up to `buf.len()` bytes at `offset`, across blocks. Returns how many were copied:
    /// fewer than asked only at the end of the resource; `Err(offset)` names the first byte
    /// that is not held.
    pub fn copy_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, u64> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            match self.read_at(at, &mut buf[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => {
                    self.miss = None;
                    return Err(at);
                }
            }
        }
        Ok(done)
    }

    /// Drops the blocks farthest from the read position until the budget holds; the first block
    /// (headers) is dropped last.
    fn evict(&mut self) {
        while self.bytes > self.budget {
            let here = self.read_pos / BLOCK;
            let victim = self
                .blocks
                .keys()
                .copied()
                .filter(|&i| i != here)
                .max_by_key(|&i| (i != 0, i.abs_diff(here)));
            match victim.and_then(|i| self.blocks.remove(&i)) {
                Some(block) => self.bytes -= block.len() as u64,
                None => break,
            }
        }
    }
}

/// A cache shared between the loader (writer) and the demuxer's reader.
pub type SharedCache = Arc<Mutex<ByteCache>>;

/// Locks the cache; a poisoned lock (a panic elsewhere) still yields the data.
pub fn lock(cache: &SharedCache) -> MutexGuard<'_, ByteCache> {
    match cache.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// `Read + Seek` over the cache for symphonia. A read of bytes not yet fetched fails with
/// `WouldBlock` and records the offset, so the caller can fetch it and retry.
pub struct CacheReader {
    cache: SharedCache,
    pos: u64,
    /// Tell symphonia the resource's length (see [`CacheReader::without_length`]).
    length: bool,
}

impl CacheReader {
    /// A reader at offset 0.
    pub fn new(cache: SharedCache) -> Self {
        CacheReader {
            cache,
            pos: 0,
            length: true,
        }
    }

    /// A reader that does not tell the resource's length: symphonia then makes no duration
    /// estimate from it (an MP3 without a frame count, `crate::audio::mp3`).
    pub fn without_length(mut self) -> Self {
        self.length = false;
        self
    }
}

impl Read for CacheReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = lock(&self.cache).read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for CacheReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let total = lock(&self.cache).total;
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => match total {
                Some(t) => t.checked_add_signed(d),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "kinema: resource size not known yet",
                    ))
                }
            },
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            )),
        }
    }
}

#[cfg(feature = "symphonia")]
impl MediaSource for CacheReader {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        if self.length {
            lock(&self.cache).total
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_and_gaps() {
        let mut cache = ByteCache::new(1 << 30);
        cache.write(0, &[1u8; 100]);
        assert_eq!(cache.contiguous_from(0), 100);
        assert_eq!(cache.contiguous_from(50), 50);
        cache.write(100, &vec![2u8; BLOCK as usize]);
        assert_eq!(cache.contiguous_from(0), 100 + BLOCK);
        cache.write(3 * BLOCK, &[3u8; 10]);
        assert_eq!(cache.first_gap(0), Some(100 + BLOCK));
        let mut buf = [0u8; 8];
        assert_eq!(cache.read_at(98, &mut buf).ok(), Some(8));
        assert_eq!(cache.read_at(BLOCK + 98, &mut buf).ok(), Some(2));
        assert!(cache.read_at(2 * BLOCK + 5, &mut buf).is_err());
        assert_eq!(cache.take_miss(), Some(2 * BLOCK + 5));
        assert_eq!(cache.take_miss(), None);
        assert_eq!(cache.fetch_start(2 * BLOCK + 5), 2 * BLOCK);
        assert_eq!(cache.fetch_start(BLOCK + 500), BLOCK + 100);
        cache.set_total(3 * BLOCK + 10);
        assert_eq!(cache.read_at(3 * BLOCK + 10, &mut buf).ok(), Some(0));
    }

    #[test]
    fn overlapping_writes_are_deduplicated() {
        let mut cache = ByteCache::new(1 << 30);
        cache.write(0, &[1u8; 10]);
        cache.write(0, &[9u8; 20]);
        assert_eq!(cache.held(), 20);
        let mut buf = [0u8; 20];
        assert_eq!(cache.read_at(0, &mut buf).ok(), Some(20));
        assert_eq!(&buf[..10], &[1u8; 10]);
        assert_eq!(&buf[10..], &[9u8; 10]);
    }

    #[test]
    fn eviction_keeps_budget_and_read_position() {
        let mut cache = ByteCache::new(4 * BLOCK);
        for i in 0..10 {
            cache.write(i * BLOCK, &vec![i as u8; BLOCK as usize]);
        }
        assert!(cache.held() <= 4 * BLOCK);
        let mut buf = [0u8; 1];
        assert_eq!(cache.read_at(0, &mut buf).ok(), Some(1));
    }

    #[test]
    fn peeks_leave_the_read_position() {
        let mut cache = ByteCache::new(1 << 30);
        cache.write(0, &[5u8; 100]);
        cache.write(BLOCK, &[6u8; 10]);
        let mut buf = [0u8; 50];
        assert_eq!(cache.peek_at(80, &mut buf), Err(100));
        assert_eq!(cache.peek_at(10, &mut buf), Ok(50));
        assert_eq!(cache.read_pos(), 0);
        assert_eq!(cache.take_miss(), None);
        cache.set_total(BLOCK + 10);
        assert_eq!(cache.peek_at(BLOCK + 5, &mut buf), Ok(5));
        assert_eq!(cache.peek_at(BLOCK + 10, &mut buf), Ok(0));
    }
}
