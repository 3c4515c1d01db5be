//! The request service with virtual time: ids, routing, timeouts, cancellation, and the
//! policy's backoff per kind.

use std::time::Duration;

use super::{Owner, RequestService};
use crate::host::{FetchErrorKind, HostCommand, HostEvent, RequestId, RequestKind};
use crate::net::policy::{deterministic_jitter, KindPolicy, RetryPolicy};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fetch(net: &mut RequestService, now: Duration, owner: Owner, kind: RequestKind) -> RequestId {
    let mut out = Vec::new();
    let id = net.fetch(now, owner, kind, format!("u{kind:?}"), None, &mut out);
    assert!(matches!(
        out.as_slice(),
        [HostCommand::Fetch { request, kind: k, .. }] if *request == id && *k == kind
    ));
    id
}

fn response(request: RequestId) -> HostEvent {
    HostEvent::FetchResponse {
        request,
        status: 200,
        content_length: None,
        content_range: None,
    }
}

fn data(request: RequestId) -> HostEvent {
    HostEvent::FetchData {
        request,
        data: vec![0; 4],
    }
}

/// Every wait of a request that keeps failing, until the policy gives up.
fn waits(p: &KindPolicy, seed: u64, starving: bool) -> Vec<Duration> {
    (0..)
        .map_while(|a| p.retry_delay(a, seed, starving))
        .collect()
}

#[test]
fn ids_count_from_one_across_owners() {
    let mut net = RequestService::default();
    let a = fetch(&mut net, ms(0), Owner::Progressive, RequestKind::Media);
    let b = fetch(&mut net, ms(0), Owner::Adaptive, RequestKind::Segment);
    let c = fetch(&mut net, ms(5), Owner::Text, RequestKind::Text);
    assert_eq!((a, b, c), (RequestId(1), RequestId(2), RequestId(3)));
    // Ids are never reused, not even after a request ends.
    net.route(ms(6), &HostEvent::FetchEnd { request: a });
    let d = fetch(&mut net, ms(7), Owner::Progressive, RequestKind::Media);
    assert_eq!(d, RequestId(4));
}

#[test]
fn events_go_to_the_owner_and_end_the_request() {
    let mut net = RequestService::default();
    let p = fetch(&mut net, ms(0), Owner::Progressive, RequestKind::Manifest);
    let a = fetch(&mut net, ms(0), Owner::Adaptive, RequestKind::Playlist);
    let t = fetch(&mut net, ms(0), Owner::Text, RequestKind::Text);
    assert_eq!(net.route(ms(1), &response(p)), Some(Owner::Progressive));
    assert_eq!(net.route(ms(1), &data(a)), Some(Owner::Adaptive));
    assert_eq!(net.route(ms(1), &response(t)), Some(Owner::Text));
    assert_eq!(
        net.route(ms(2), &HostEvent::FetchEnd { request: t }),
        Some(Owner::Text)
    );
    let failed = HostEvent::FetchFailed {
        request: a,
        kind: FetchErrorKind::Network,
        message: "reset".into(),
    };
    assert_eq!(net.route(ms(2), &failed), Some(Owner::Adaptive));
    // Ended requests are unknown from then on; so are ids never made and other events.
    assert_eq!(net.route(ms(3), &data(t)), None);
    assert_eq!(net.route(ms(3), &failed), None);
    assert_eq!(net.route(ms(3), &data(RequestId(99))), None);
    assert_eq!(net.route(ms(3), &HostEvent::Tick), None);
    assert_eq!(net.owner(p), Some(Owner::Progressive));
    assert_eq!(net.in_flight(Owner::Progressive), 1);
    assert_eq!(net.in_flight(Owner::Adaptive), 0);
}

#[test]
fn cancelled_requests_are_cancelled_once_and_their_events_ignored() {
    let mut net = RequestService::default();
    let a = fetch(&mut net, ms(0), Owner::Adaptive, RequestKind::Segment);
    let b = fetch(&mut net, ms(0), Owner::Adaptive, RequestKind::Segment);
    let mut out = Vec::new();
    net.cancel(a, &mut out);
    net.cancel(a, &mut out);
    assert!(matches!(
        out.as_slice(),
        [HostCommand::CancelFetch { request }] if *request == a
    ));
    for late in [
        response(a),
        data(a),
        HostEvent::FetchEnd { request: a },
        HostEvent::FetchFailed {
            request: a,
            kind: FetchErrorKind::Aborted,
            message: String::new(),
        },
    ] {
        assert_eq!(net.route(ms(1), &late), None);
    }
    assert!(!net.timed_out(a, ms(60_000)));
    assert_eq!(net.route(ms(1), &data(b)), Some(Owner::Adaptive));
    // Forgetting drops the request without a command; an owner's requests go at once.
    net.forget(b);
    assert_eq!(net.route(ms(2), &data(b)), None);
    let c = fetch(&mut net, ms(3), Owner::Text, RequestKind::Text);
    let d = fetch(&mut net, ms(3), Owner::Progressive, RequestKind::Media);
    net.forget_owner(Owner::Text);
    assert_eq!(net.owner(c), None);
    assert_eq!(net.owner(d), Some(Owner::Progressive));
}

#[test]
fn response_and_stall_timeouts_per_kind() {
    let mut net = RequestService::default();
    // Adaptive: 8 s to the headers, then 4 s without a byte.
    let s = fetch(&mut net, ms(1_000), Owner::Adaptive, RequestKind::Segment);
    assert_eq!(net.deadline(s), Some(ms(9_000)));
    assert!(!net.timed_out(s, ms(8_999)));
    assert!(net.timed_out(s, ms(9_000)));
    net.route(ms(2_000), &response(s));
    assert_eq!(net.deadline(s), Some(ms(6_000)));
    net.route(ms(5_000), &data(s));
    assert!(!net.timed_out(s, ms(8_999)));
    assert!(net.timed_out(s, ms(9_000)));
    // Progressive: 10 s from the send or the last activity, even for a manifest URL.
    let p = fetch(&mut net, ms(0), Owner::Progressive, RequestKind::Manifest);
    assert_eq!(net.deadline(p), Some(ms(10_000)));
    net.route(ms(3_000), &response(p));
    assert_eq!(net.deadline(p), Some(ms(13_000)));
    // Text: 10 s likewise.
    let t = fetch(&mut net, ms(0), Owner::Text, RequestKind::Text);
    assert!(!net.timed_out(t, ms(9_999)));
    assert!(net.timed_out(t, ms(10_000)));
    // Unknown requests never time out.
    assert_eq!(net.deadline(RequestId(77)), None);
}

#[test]
fn backoff_sequences_and_attempts_per_kind() {
    let p = RetryPolicy::default();
    // Progressive: 4 attempts, 250 ms doubling, no jitter.
    assert_eq!(waits(&p.media, 9, false), [ms(250), ms(500), ms(1_000)]);
    assert_eq!(waits(&p.media, 9, true), [ms(250), ms(500), ms(1_000)]);
    // Text: 4 attempts, 0.5, 1, 2 s.
    assert_eq!(waits(&p.text, 9, false), [ms(500), ms(1_000), ms(2_000)]);
    // Adaptive kinds: 6 attempts, 250 ms doubling to 2 s, +0–30 % by the seed.
    for kind in [
        RequestKind::Manifest,
        RequestKind::Playlist,
        RequestKind::Index,
        RequestKind::Init,
        RequestKind::Segment,
        RequestKind::Key,
    ] {
        let k = p.get(kind);
        assert_eq!(k.attempts(false), 6, "{kind:?}");
        let j = 1.0 + 0.3 * deterministic_jitter(42);
        let want: Vec<Duration> = [0.25, 0.5, 1.0, 2.0, 2.0]
            .iter()
            .map(|s| Duration::from_secs_f64(s * j))
            .collect();
        assert_eq!(waits(k, 42, false), want, "{kind:?}");
    }
    assert_eq!(p.get(RequestKind::Media), &p.media);
    assert_eq!(p.get(RequestKind::Text).max_attempts, 4);
}

#[test]
fn a_starving_segment_retries_every_base_within_the_same_total_wait() {
    let p = RetryPolicy::default();
    // Normal schedule waits 0.25 + 0.5 + 1 + 2 + 2 = 5.75 s: 23 waits of 0.25 s.
    assert_eq!(p.segment.attempts(true), 24);
    let w = waits(&p.segment, 7, true);
    assert_eq!(w.len(), 23);
    let j = 1.0 + 0.3 * deterministic_jitter(7);
    assert!(w.iter().all(|d| *d == Duration::from_secs_f64(0.25 * j)));
    // Only segments starve: other kinds keep their schedule.
    assert_eq!(p.playlist.attempts(true), 6);
    assert_eq!(waits(&p.init, 7, true).len(), 5);
}

#[test]
fn jitter_is_deterministic_and_within_its_share() {
    for seed in 0..200 {
        let j = deterministic_jitter(seed);
        assert!((0.0..1.0).contains(&j));
        assert_eq!(j, deterministic_jitter(seed));
        let d = KindPolicy::ADAPTIVE.retry_delay(0, seed, false);
        assert!(d.is_some_and(|d| d >= ms(250) && d < ms(325)), "{d:?}");
    }
}

#[test]
fn the_service_answers_with_the_owners_settings() {
    let mut policy = RetryPolicy::default();
    policy.get_mut(RequestKind::Text).max_attempts = 2;
    policy.media.retry_base = ms(100);
    let net = RequestService::new(policy);
    // The progressive loader follows `Media` even for a manifest URL.
    assert_eq!(
        net.retry_delay(Owner::Progressive, RequestKind::Manifest, 1, 0, false),
        Some(ms(200))
    );
    assert_eq!(
        net.settings(Owner::Adaptive, RequestKind::Manifest),
        &KindPolicy::ADAPTIVE
    );
    assert_eq!(
        net.retry_delay(Owner::Text, RequestKind::Text, 0, 0, false),
        Some(ms(500))
    );
    assert_eq!(
        net.retry_delay(Owner::Text, RequestKind::Text, 1, 0, false),
        None
    );
    // A policy whose waits overflow gives the cap instead of failing.
    let huge = KindPolicy {
        max_attempts: 100,
        retry_base: Duration::MAX,
        retry_max: Duration::MAX,
        ..KindPolicy::TEXT
    };
    assert!(huge.retry_delay(50, 0, false).is_some());
}
