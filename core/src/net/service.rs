//! [`RequestService`]: request ids, owner tags, the transport clock of each request,
//! cancellation and routing. See the [module docs](crate::net) for the interface with owners.

use std::collections::BTreeMap;
use std::time::Duration;

use super::policy::{KindPolicy, RetryPolicy};
use crate::host::{ByteRange, HostCommand, HostEvent, RequestId, RequestKind};

/// Who made a request: its events go back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The progressive loader of the session (a file, or the first fetch of a manifest).
    Progressive,
    /// The session's adaptive source (manifests, playlists, indexes, init segments, segments).
    Adaptive,
    /// The text tracks.
    Text,
}

/// One request under way, as the service sees it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    owner: Owner,
    response_timeout: Duration,
    stall_timeout: Duration,
    sent: Duration,
    responded: bool,
    last_activity: Duration,
}

impl Entry {
    fn deadline(&self) -> Duration {
        if self.responded {
            self.last_activity + self.stall_timeout
        } else {
            self.sent + self.response_timeout
        }
    }
}

/// Every fetch of one player. See the [module docs](crate::net).
#[derive(Debug)]
pub struct RequestService {
    policy: RetryPolicy,
    next_id: u64,
    live: BTreeMap<RequestId, Entry>,
}

impl Default for RequestService {
    fn default() -> Self {
        RequestService::new(RetryPolicy::default())
    }
}

impl RequestService {
    /// A service with nothing under way; ids start at 1.
    pub fn new(policy: RetryPolicy) -> Self {
        RequestService {
            policy,
            next_id: 1,
            live: BTreeMap::new(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The settings `owner`'s requests of `kind` follow: the progressive loader's follow
    /// `Media` whatever kind they carry (the first fetch of a manifest URL is a progressive
    /// fetch until its bytes are sniffed); everyone else's follow their kind.
    pub fn settings(&self, owner: Owner, kind: RequestKind) -> &KindPolicy {
        match owner {
            Owner::Progressive => &self.policy.media,
            Owner::Adaptive | Owner::Text => self.policy.get(kind),
        }
    }

    /// Asks the host for `url` (`range` when set) on behalf of `owner`: allocates the id,
    /// pushes the `Fetch` and starts the request's clock at `now`.
    pub fn fetch(
        &mut self,
        now: Duration,
        owner: Owner,
        kind: RequestKind,
        url: String,
        range: Option<ByteRange>,
        out: &mut Vec<HostCommand>,
    ) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let settings = *self.settings(owner, kind);
        out.push(HostCommand::Fetch {
            request: id,
            url,
            range,
            kind,
        });
        self.live.insert(
            id,
            Entry {
                owner,
                response_timeout: settings.response_timeout,
                stall_timeout: settings.stall_timeout,
                sent: now,
                responded: false,
                last_activity: now,
            },
        );
        id
    }

    /// Cancels request `id`: pushes `CancelFetch` and forgets it, so whatever the host still
    /// reports for it is ignored. Nothing happens for an id the service does not know.
    pub fn cancel(&mut self, id: RequestId, out: &mut Vec<HostCommand>) {
        if self.live.remove(&id).is_some() {
            out.push(HostCommand::CancelFetch { request: id });
        }
    }

    /// Forgets request `id` without cancelling it: the host finishes it and nobody hears.
    pub fn forget(&mut self, id: RequestId) {
        self.live.remove(&id);
    }

    /// Forgets every request of `owner` (the owner is gone; it cancelled what it wanted).
    pub fn forget_owner(&mut self, owner: Owner) {
        self.live.retain(|_, e| e.owner != owner);
    }

    /// Who made request `id`, while it is under way.
    pub fn owner(&self, id: RequestId) -> Option<Owner> {
        self.live.get(&id).map(|e| e.owner)
    }

    /// Requests of `owner` under way.
    pub fn in_flight(&self, owner: Owner) -> usize {
        self.live.values().filter(|e| e.owner == owner).count()
    }

    /// A fetch event from the host: updates the request's clock (headers, bytes), ends it on
    /// `FetchEnd`/`FetchFailed`, and names the owner to hand the event to. `None`: not a fetch
    /// event, or one for a request the service does not know (cancelled, ended, never made),
    /// to be ignored.
    pub fn route(&mut self, now: Duration, event: &HostEvent) -> Option<Owner> {
        match event {
            HostEvent::FetchResponse { request, .. } => {
                let e = self.live.get_mut(request)?;
                e.responded = true;
                e.last_activity = now;
                Some(e.owner)
            }
            HostEvent::FetchData { request, .. } => {
                let e = self.live.get_mut(request)?;
                e.last_activity = now;
                Some(e.owner)
            }
            HostEvent::FetchEnd { request } | HostEvent::FetchFailed { request, .. } => {
                self.live.remove(request).map(|e| e.owner)
            }
            _ => None,
        }
    }

    /// When request `id` times out if nothing more arrives: its response timeout after it was
    /// sent until the headers come, then its stall timeout after the last byte.
    pub fn deadline(&self, id: RequestId) -> Option<Duration> {
        self.live.get(&id).map(Entry::deadline)
    }

    /// Whether request `id` has timed out at `now` (the owner cancels it and counts a failed
    /// attempt).
    pub fn timed_out(&self, id: RequestId, now: Duration) -> bool {
        self.deadline(id).is_some_and(|d| now >= d)
    }

    /// Attempt `attempt` (0: the first) of `owner`'s request of `kind` failed: the wait before
    /// the next attempt, or `None` to give up. `seed` spreads the jitter (the failed request's
    /// id); `starving`: the owner has nothing else to play meanwhile.
    pub fn retry_delay(
        &self,
        owner: Owner,
        kind: RequestKind,
        attempt: u32,
        seed: u64,
        starving: bool,
    ) -> Option<Duration> {
        self.settings(owner, kind)
            .retry_delay(attempt, seed, starving)
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
