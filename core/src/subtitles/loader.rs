//! The requests of [`Subtitles`], one in flight at a time: which part of the selected track
//! to fetch next ([`Subtitles::poll`]: its playlist, a live reload, a retry that is due, or the
//! first segment not yet loaded within [`TEXT_AHEAD_US`] of the playhead, after its HLS
//! AES-128 key when it is encrypted: decrypted with `adaptive::crypto` as media segments are;
//! a key that cannot be had, or another encryption, breaks the track), sending it through
//! the player's [`RequestService`] as [`Owner::Text`], and the host's answers: the status
//! ([`Subtitles::on_response`]), the body ([`Subtitles::on_data`], at most [`MAX_TEXT_BYTES`]),
//! network failures ([`Subtitles::on_failed`]) and stalls, retried after the `Text` settings'
//! waits. A complete body ([`Subtitles::on_end`]) goes to `segments.rs`
//! ([`Subtitles::on_playlist`], [`Subtitles::on_segment`]) or, an init segment, onto its
//! track; a request that fails for good goes to [`Subtitles::give_up`].

use std::time::Duration;

use super::{Subtitles, Timing, What, MAX_TEXT_BYTES, TEXT_AHEAD_US, TEXT_BEHIND_US};
use crate::adaptive::crypto::{self, Key};
use crate::error::{Error, ErrorKind};
use crate::host::{ByteRange, FetchErrorKind, HostCommand, RequestId, RequestKind};
use crate::net::{Owner, RequestService};
use crate::stream::Encryption;

/// The request in flight: `attempt` of `what` of `track`, its status and body so far.
#[derive(Debug)]
pub(super) struct Fetch {
    id: RequestId,
    track: usize,
    what: What,
    attempt: u32,
    status: Option<u16>,
    body: Vec<u8>,
}

/// A failed request to send again at `due`.
#[derive(Debug)]
pub(super) struct Retry {
    due: Duration,
    track: usize,
    what: What,
    attempt: u32,
}

impl Subtitles {
    /// Cancels the request in flight (unload, track change).
    pub fn cancel(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        if let Some(f) = self.fetch.take() {
            net.cancel(f.id, out);
        }
        self.retry = None;
    }

    /// When the next retry or playlist reload is due.
    pub fn deadline(&self) -> Option<Duration> {
        let reload = self
            .selected
            .and_then(|i| self.tracks.get(i))
            .and_then(|t| t.next_reload);
        match (self.retry.as_ref().map(|r| r.due), reload) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Issues the next request of the selected track: its playlist, a reload, a retry, or the
    /// first unloaded segment within [`TEXT_AHEAD_US`] of `playhead_us`. `offset(d)` is the
    /// adaptive demuxer's container-minus-presentation offset of discontinuity `d` (`None`
    /// until its first media segment is parsed: HLS segments wait for it).
    pub fn poll(
        &mut self,
        now: Duration,
        playhead_us: i64,
        offset: &dyn Fn(u64) -> Option<i64>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        self.playhead_us = playhead_us;
        if let Some(f) = &self.fetch {
            if net.timed_out(f.id, now) {
                let (id, track, what, attempt) = (f.id, f.track, f.what, f.attempt);
                self.cancel(net, out);
                self.failed_attempt(now, net, id, (track, what, attempt), "stalled", out);
            }
        }
        self.store
            .evict_before(playhead_us.saturating_sub(TEXT_BEHIND_US));
        let Some(index) = self.selected else { return };
        if self.fetch.is_some() {
            return;
        }
        // A retry that is due goes first; one that is not yet due does not hold up the
        // other segments.
        if self.retry.as_ref().is_some_and(|r| r.due <= now) {
            if let Some(r) = self.retry.take() {
                if r.track == index {
                    if let Some((url, range)) = self.url_of(r.track, r.what) {
                        let at = (url, range, r.attempt);
                        self.send(now, r.track, r.what, at, net, out);
                        return;
                    }
                }
            }
        }
        let waiting = self.retry.as_ref().and_then(|r| match r.what {
            What::Segment(n) if r.track == index => Some(n),
            _ => None,
        });
        if self
            .retry
            .as_ref()
            .is_some_and(|r| matches!(r.what, What::Playlist | What::Init(_)))
        {
            return;
        }
        let Some(t) = self.tracks.get_mut(index) else {
            return;
        };
        if t.broken {
            return;
        }
        if let Some(url) = t.playlist.clone() {
            let due = t.list.is_none() || t.next_reload.is_some_and(|at| at <= now);
            if due {
                t.next_reload = None;
                self.send(now, index, What::Playlist, (url, None, 0), net, out);
                return;
            }
        }
        let Some(list) = &t.list else { return };
        // Cues already loaded must map onto media time: forget segments whose cues were
        // evicted (they ended long ago) so seeking back fetches them again.
        let behind = playhead_us.saturating_sub(TEXT_BEHIND_US);
        let ahead = playhead_us.saturating_add(TEXT_AHEAD_US);
        let next = list.segments.iter().find(|s| {
            let whole = s.duration_us <= 0;
            (whole || (s.end_us() > playhead_us.min(ahead) && s.start_us < ahead))
                && !t.loaded.contains(&s.number)
                && !t.failed.contains(&s.number)
                && waiting != Some(s.number)
                && !s.gap
                && (t.timing != Timing::Hls || offset(s.discontinuity).is_some())
        });
        let Some(seg) = next else {
            t.loaded.retain(|&n| {
                list.segments
                    .iter()
                    .find(|s| s.number == n)
                    .is_none_or(|s| s.duration_us <= 0 || s.end_us() > behind)
            });
            return;
        };
        // `wvtt` segments are read after their init segment; an encrypted resource after its
        // key.
        let what = match seg.init {
            Some(i) if t.wvtt && !t.inits.contains_key(&i) => What::Init(i),
            _ => What::Segment(seg.number),
        };
        let encryption = match what {
            What::Init(i) => list.inits.get(i).map(|x| &x.encryption),
            _ => Some(&seg.encryption),
        };
        let what = match (encryption, what) {
            (Some(Encryption::Aes128(k)), What::Init(i)) if self.keys.get(&k.url).is_none() => {
                What::Key(true, i as u64)
            }
            (Some(Encryption::Aes128(k)), What::Segment(n)) if self.keys.get(&k.url).is_none() => {
                What::Key(false, n)
            }
            (Some(Encryption::Unsupported(how)), what) => {
                let error = Error::new(
                    ErrorKind::Unsupported,
                    format!("text track: encrypted with {how}, which is not supported"),
                );
                // Like a key that cannot be had: the track is unreadable as a whole.
                let keyless = match what {
                    What::Init(i) => What::Key(true, i as u64),
                    What::Segment(n) => What::Key(false, n),
                    other => other,
                };
                self.give_up(index, keyless, error, out);
                return;
            }
            (_, what) => what,
        };
        if let Some((url, range)) = self.url_of(index, what) {
            self.send(now, index, what, (url, range, 0), net, out);
        }
    }

    fn url_of(&self, track: usize, what: What) -> Option<(String, Option<ByteRange>)> {
        let t = self.tracks.get(track)?;
        match what {
            What::Key(..) => match self.encryption_of(track, what)? {
                Encryption::Aes128(k) => Some((k.url.clone(), None)),
                _ => None,
            },
            What::Playlist => t.playlist.clone().map(|u| (u, None)),
            What::Init(i) => {
                let init = t.list.as_ref()?.inits.get(i)?;
                Some((init.url.clone(), init.range.map(|r| r.to_range())))
            }
            What::Segment(n) => t
                .list
                .as_ref()?
                .segments
                .iter()
                .find(|s| s.number == n)
                .map(|s| (s.url.clone(), s.range.map(|r| r.to_range()))),
        }
    }

    /// How the resource `what` names (a key: the resource it decrypts) is encrypted.
    fn encryption_of(&self, track: usize, what: What) -> Option<&Encryption> {
        let list = self.tracks.get(track)?.list.as_ref()?;
        let init = |i: usize| list.inits.get(i).map(|x| &x.encryption);
        match what {
            What::Init(i) => init(i),
            What::Key(true, i) => init(usize::try_from(i).ok()?),
            What::Segment(n) | What::Key(false, n) => list
                .segments
                .iter()
                .find(|s| s.number == n)
                .map(|s| &s.encryption),
            What::Playlist => None,
        }
    }

    /// The body of `what` as plain text: decrypted with its AES-128 key (RFC 8216 section
    /// 5.2; the segment's media sequence number is the IV when the tag gives none), or as it
    /// came when it is not encrypted.
    fn plain(&self, track: usize, what: What, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        match self.encryption_of(track, what) {
            Some(Encryption::Aes128(k)) => {
                let key = self.keys.get(&k.url).ok_or_else(|| {
                    Error::new(ErrorKind::Decode, "text track: the segment's key is gone")
                })?;
                let number = match what {
                    What::Segment(n) => n,
                    _ => 0,
                };
                crypto::decrypt(key, k.iv.bytes(number), body)
            }
            _ => Ok(body),
        }
    }

    /// Sends `what` of `track`: `(url, range, attempt)`.
    fn send(
        &mut self,
        now: Duration,
        track: usize,
        what: What,
        (url, range, attempt): (String, Option<ByteRange>, u32),
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) {
        let kind = match what {
            What::Key(..) => RequestKind::Key,
            _ => RequestKind::Text,
        };
        let id = net.fetch(now, Owner::Text, kind, url, range, out);
        self.fetch = Some(Fetch {
            id,
            track,
            what,
            attempt,
            status: None,
            body: Vec::new(),
        });
    }

    /// Response headers of this component's request: an error status ends it here.
    pub fn on_response(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        id: RequestId,
        status: u16,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.as_mut().filter(|f| f.id == id) else {
            return;
        };
        f.status = Some(status);
        if (200..300).contains(&status) {
            return;
        }
        let (track, what, attempt) = (f.track, f.what, f.attempt);
        self.fetch = None;
        net.cancel(id, out);
        self.bad_status(now, net, id, (track, what, attempt), status, out);
    }

    /// 404/410 and other client errors are final (a segment is skipped, a file or playlist
    /// breaks its track); 429 and server errors are retried.
    fn bad_status(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        (track, what, attempt): (usize, What, u32),
        status: u16,
        out: &mut Vec<HostCommand>,
    ) {
        if (400..500).contains(&status) && status != 429 {
            let error = Error::new(ErrorKind::Network, format!("text track: HTTP {status}"));
            self.give_up(track, what, error, out);
        } else {
            let why = format!("HTTP {status}");
            self.failed_attempt(now, net, id, (track, what, attempt), &why, out);
        }
    }

    /// Body bytes; a body over [`MAX_TEXT_BYTES`] fails the request.
    pub fn on_data(
        &mut self,
        net: &mut RequestService,
        id: RequestId,
        data: &[u8],
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.as_mut().filter(|f| f.id == id) else {
            return;
        };
        if f.body.len() + data.len() > MAX_TEXT_BYTES {
            let (track, what) = (f.track, f.what);
            self.cancel(net, out);
            self.give_up(
                track,
                what,
                Error::new(
                    ErrorKind::Limit,
                    format!("text track larger than {MAX_TEXT_BYTES} bytes"),
                ),
                out,
            );
            return;
        }
        f.body.extend_from_slice(data);
    }

    /// The request failed at the network level.
    pub fn on_failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        kind: FetchErrorKind,
        message: &str,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.take().filter(|f| f.id == id) else {
            return;
        };
        if kind == FetchErrorKind::Aborted {
            return;
        }
        self.failed_attempt(now, net, id, (f.track, f.what, f.attempt), message, out);
    }

    /// The body is complete: parse it.
    pub fn on_end(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        offset: &dyn Fn(u64) -> Option<i64>,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(f) = self.fetch.take().filter(|f| f.id == id) else {
            return;
        };
        let status = f.status.unwrap_or(200);
        if !(200..300).contains(&status) {
            self.bad_status(now, net, id, (f.track, f.what, f.attempt), status, out);
            return;
        }
        let what = f.what;
        if let What::Key(..) = what {
            let url = match self.encryption_of(f.track, what) {
                Some(Encryption::Aes128(k)) => k.url.clone(),
                _ => return,
            };
            match Key::from_response(&f.body, &url) {
                Ok(key) => self.keys.insert(url, key),
                Err(e) => self.give_up(f.track, what, e, out),
            }
            return;
        }
        let body = match self.plain(f.track, what, f.body) {
            Ok(b) => b,
            Err(e) => {
                self.give_up(f.track, what, e, out);
                return;
            }
        };
        match what {
            What::Playlist => self.on_playlist(now, f.track, &body, out),
            What::Init(i) => {
                if let Some(t) = self.tracks.get_mut(f.track) {
                    t.inits.insert(i, body);
                }
            }
            What::Segment(n) => self.on_segment(f.track, n, &body, offset, out),
            What::Key(..) => {}
        }
    }

    /// Attempt `attempt` of `what` (request `id`) failed: retry after the `Text` settings'
    /// wait, or give up after their last attempt.
    fn failed_attempt(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        (track, what, attempt): (usize, What, u32),
        why: &str,
        out: &mut Vec<HostCommand>,
    ) {
        let Some(wait) = net.retry_delay(Owner::Text, RequestKind::Text, attempt, id.0, false)
        else {
            let attempts = attempt.saturating_add(1);
            self.give_up(
                track,
                what,
                Error::new(
                    ErrorKind::Network,
                    format!("text track: {why} after {attempts} attempts"),
                ),
                out,
            );
            return;
        };
        self.retry = Some(Retry {
            due: now + wait,
            track,
            what,
            attempt: attempt + 1,
        });
    }
}
