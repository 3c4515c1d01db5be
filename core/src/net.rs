//! The request service: every fetch the core asks the host for goes through one
//! [`RequestService`], whoever needs the bytes.
//!
//! What the service does, for every owner alike:
//!
//! - allocates the [`RequestId`](crate::host::RequestId)s (one counter per player, from 1, in
//!   the order requests are made) and sends the [`HostCommand::Fetch`](crate::host::HostCommand);
//! - tags each request with its [`Owner`], so `Player::handle` routes a fetch event with one
//!   lookup ([`RequestService::route`]) instead of asking each owner in turn;
//! - keeps the transport clock of each request (sent, headers, last byte) and says when it
//!   has timed out ([`RequestService::timed_out`], [`RequestService::deadline`]): no response
//!   within the kind's `response_timeout`, or no byte within its `stall_timeout`;
//! - cancels ([`RequestService::cancel`]: `CancelFetch` out, the id forgotten) and ignores
//!   events for requests it no longer knows (cancelled, ended, failed, or never made): `route`
//!   answers `None` and nobody sees them;
//! - holds the one [`RetryPolicy`] (per [`RequestKind`](crate::host::RequestKind) attempts,
//!   backoff and timeouts, a plain value in `PlayerConfig`) and answers "retry after how long,
//!   or give up?" ([`RequestService::retry_delay`]).
//!
//! The interface with the owners (`source::loader` for progressive files, `adaptive::source`
//! for manifests, playlists, indexes and segments, `subtitles` for text tracks):
//!
//! - an owner starts a request with [`RequestService::fetch`] and keeps what the request is
//!   *for* (a byte range, a segment, a track's playlist…) under the id it gets back: the
//!   service knows nothing of owners' purposes and imports none of them;
//! - the player calls [`RequestService::route`] on each `FetchResponse`/`FetchData`/
//!   `FetchEnd`/`FetchFailed` and hands the event to the owner named (`FetchEnd`/`FetchFailed`
//!   end the request in the service first);
//! - an owner that drops a request cancels it with [`RequestService::cancel`] (instead of
//!   pushing `CancelFetch` itself), or [`RequestService::forget`]s it when the host is to
//!   finish it unheard; the player forgets a whole owner's requests when that owner goes
//!   ([`RequestService::forget_owner`]);
//! - each poll, an owner asks [`RequestService::timed_out`] about its requests and treats a
//!   timed-out one as a failed attempt; its wake-up time includes
//!   [`RequestService::deadline`] of its requests;
//! - what to retry stays with the owner (the loader plans the next range afresh, the adaptive
//!   source may have moved to another level, subtitles only retry the track still selected);
//!   *whether* and *when* is [`RequestService::retry_delay`]. The owner counts attempts: the
//!   loader counts consecutive failures of its requests (any range), the others the attempts
//!   of one resource.

pub mod policy;
pub mod service;

pub use policy::{KindPolicy, RetryPolicy};
pub use service::{Owner, RequestService};
