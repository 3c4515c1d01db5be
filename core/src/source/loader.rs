//! Decides which byte ranges to fetch, and turns fetch events into cached bytes or errors.
//!
//! Requests go through the [`RequestService`] as [`Owner::Progressive`]: it allocates the
//! ids, times out a request that sends nothing (the `Media` settings of the
//! [`RetryPolicy`](crate::net::RetryPolicy)) and says how long to wait after a failure. The
//! loader counts *consecutive* failures of its requests, whatever range each asked for: a
//! request that completes resets the count.

use std::time::Duration;

use crate::error::{Error, ErrorKind};
use crate::host::{ByteRange, FetchErrorKind, HostCommand, RequestId, RequestKind};
use crate::load_control::LoadControl;
use crate::net::{Owner, RequestService};
use crate::source::cache::{lock, SharedCache};
use crate::source::http::ContentRange;

/// Range planning numbers (retries and timeouts are the request service's; how far ahead to
/// fetch is the [`LoadControl`]'s).
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    /// Bytes per ranged request.
    pub chunk_bytes: u64,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            chunk_bytes: 512 * 1024,
        }
    }
}

#[derive(Debug)]
struct Inflight {
    id: RequestId,
    /// Offset the next body byte belongs at.
    next: u64,
    /// Last offset requested (inclusive), `None` for open-ended.
    end: Option<u64>,
    /// Headers arrived.
    responded: bool,
    /// The server ignored the range and sends the whole resource.
    whole: bool,
}

/// Fetches one resource into a [`SharedCache`] through host commands.
#[derive(Debug)]
pub struct Loader {
    url: String,
    cache: SharedCache,
    config: LoaderConfig,
    inflight: Option<Inflight>,
    failures: u32,
    retry_at: Option<Duration>,
    /// The server does not do ranges: never cancel the whole-body request for a new range.
    no_ranges: bool,
}

impl Loader {
    /// A loader for `url` writing into `cache`.
    pub fn new(url: String, cache: SharedCache, config: LoaderConfig) -> Self {
        Loader {
            url,
            cache,
            config,
            inflight: None,
            failures: 0,
            retry_at: None,
            no_ranges: false,
        }
    }

    /// True if a request is under way.
    pub fn busy(&self) -> bool {
        self.inflight.is_some()
    }

    /// The next time `poll` needs to run even if nothing else happens (retry or stall check).
    pub fn deadline(&self, net: &RequestService) -> Option<Duration> {
        match &self.inflight {
            Some(req) => net.deadline(req.id),
            None => self.retry_at,
        }
    }

    /// Issues or cancels requests so that the bytes at `want` (urgent: a read is blocked on
    /// them) and what `load` allows after it get fetched.
    pub fn poll(
        &mut self,
        now: Duration,
        want: u64,
        urgent: bool,
        load: &LoadControl,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        if let Some(req) = &self.inflight {
            if net.timed_out(req.id, now) {
                let id = req.id;
                self.inflight = None;
                net.cancel(id, out);
                self.fail(now, net, "the server stopped sending data")?;
                return Ok(());
            }
            let covers = want >= req.next && want < req.next + self.config.chunk_bytes;
            let cached = lock(&self.cache).contiguous_from(want) > 0;
            if !urgent || covers || cached || self.no_ranges {
                return Ok(());
            }
            net.cancel(req.id, out);
            self.inflight = None;
        }
        if let Some(at) = self.retry_at {
            if now < at {
                return Ok(());
            }
            self.retry_at = None;
        }
        let (gap, total) = {
            let cache = lock(&self.cache);
            (
                cache.first_gap(want).map(|g| (g, cache.fetch_start(g))),
                cache.total(),
            )
        };
        let Some((gap, start)) = gap else {
            return Ok(());
        };
        if !urgent && !load.fetch_bytes(gap.saturating_sub(want)) {
            return Ok(());
        }
        let mut end = start + self.config.chunk_bytes - 1;
        if let Some(total) = total {
            if start >= total {
                return Ok(());
            }
            end = end.min(total - 1);
        }
        let id = net.fetch(
            now,
            Owner::Progressive,
            RequestKind::for_url(&self.url),
            self.url.clone(),
            Some(ByteRange {
                start,
                end: Some(end),
            }),
            out,
        );
        self.inflight = Some(Inflight {
            id,
            next: start,
            end: Some(end),
            responded: false,
            whole: false,
        });
        Ok(())
    }

    fn current(&mut self, id: RequestId) -> Option<&mut Inflight> {
        self.inflight.as_mut().filter(|req| req.id == id)
    }

    /// Headers of a response arrived.
    pub fn on_response(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        status: u16,
        content_length: Option<u64>,
        content_range: Option<&str>,
    ) -> Result<(), Error> {
        let Some(req) = self.current(id) else {
            return Ok(());
        };
        req.responded = true;
        let parsed = content_range.and_then(ContentRange::parse);
        match status {
            206 => {
                let Some(ContentRange::Bytes { start, end, total }) = parsed else {
                    return Err(Error::new(
                        ErrorKind::Network,
                        "partial response without a valid Content-Range",
                    ));
                };
                if start != req.next {
                    return Err(Error::new(
                        ErrorKind::Network,
                        format!("server sent bytes from {start}, asked from {}", req.next),
                    ));
                }
                req.end = Some(end);
                if let Some(total) = total {
                    lock(&self.cache).set_total(total);
                }
            }
            200..=299 => {
                // The server ignored the range: the body is the whole resource from 0.
                req.next = 0;
                req.end = None;
                req.whole = true;
                self.no_ranges = true;
                if let Some(len) = content_length {
                    lock(&self.cache).set_total(len);
                }
            }
            416 => {
                // Asked past the end: the Content-Range tells the size.
                if let Some(ContentRange::Unsatisfied { total }) = parsed {
                    lock(&self.cache).set_total(total);
                    self.inflight = None;
                    return Ok(());
                }
                return Err(Error::new(
                    ErrorKind::Network,
                    "HTTP 416 without a resource size",
                ));
            }
            500..=599 | 408 | 429 => {
                self.inflight = None;
                self.fail(now, net, &format!("HTTP {status}"))?;
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Network,
                    format!("HTTP {status} fetching {}", self.url),
                ))
            }
        }
        Ok(())
    }

    /// Body bytes arrived.
    pub fn on_data(&mut self, id: RequestId, data: &[u8]) {
        let cache = self.cache.clone();
        let Some(req) = self.current(id) else { return };
        if !req.responded {
            return;
        }
        lock(&cache).write(req.next, data);
        req.next += data.len() as u64;
    }

    /// The body is complete.
    pub fn on_end(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
    ) -> Result<(), Error> {
        let cache = self.cache.clone();
        let Some(req) = self.current(id) else {
            return Ok(());
        };
        let (next, end, whole) = (req.next, req.end, req.whole);
        self.inflight = None;
        if whole {
            lock(&cache).set_total(next);
        } else if let Some(end) = end {
            if next <= end {
                // Shorter than asked: either the resource ends here (size unknown) or the
                // connection was cut cleanly.
                let total = lock(&cache).total();
                match total {
                    None => lock(&cache).set_total(next),
                    Some(total) if next < total => {
                        return self.fail(now, net, "the response body ended early");
                    }
                    Some(_) => {}
                }
            }
        }
        self.failures = 0;
        Ok(())
    }

    /// The request failed.
    pub fn on_failed(
        &mut self,
        now: Duration,
        net: &RequestService,
        id: RequestId,
        kind: FetchErrorKind,
        message: &str,
    ) -> Result<(), Error> {
        if self.current(id).is_none() {
            return Ok(());
        }
        self.inflight = None;
        if kind == FetchErrorKind::Refused {
            return Err(Error::new(
                ErrorKind::Network,
                format!("fetch refused: {message}"),
            ));
        }
        self.fail(now, net, message)
    }

    /// Cancels what is in flight (the source is being dropped or replaced).
    pub fn cancel(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        if let Some(req) = self.inflight.take() {
            net.cancel(req.id, out);
        }
    }

    /// A request failed: wait as the policy says, or fail the load after its last attempt.
    fn fail(&mut self, now: Duration, net: &RequestService, why: &str) -> Result<(), Error> {
        let attempt = self.failures;
        self.failures += 1;
        let kind = RequestKind::for_url(&self.url);
        let Some(backoff) = net.retry_delay(Owner::Progressive, kind, attempt, 0, false) else {
            return Err(Error::new(
                ErrorKind::Network,
                format!(
                    "{why} ({} attempts failed) fetching {}",
                    self.failures, self.url
                ),
            ));
        };
        self.retry_at = Some(now + backoff);
        Ok(())
    }
}
