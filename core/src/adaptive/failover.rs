//! What the adaptive source does about a failed request: retry it, fail over to another
//! quality level, skip the segment, or give up with a typed error. A pure function of the
//! failure, the levels' penalties and the retry policy's answer ([`decide`]), so every rule is
//! unit-tested here; [`super::source`] carries the action out.
//!
//! The rules (kept from before they were pulled out of the source):
//! - HTTP 404/410 (`gone`) of a main-slot level's playlist or index: avoid that level for
//!   [`LIST_PENALTY`] and play the nearest usable level below (above when it is the lowest);
//!   the current choice moves only if it was that level.
//! - `gone` of a segment: on a main-slot level above the lowest, avoid the level for
//!   [`GONE_PENALTY`] and step one level down (another level may have the segment); otherwise
//!   skip the segment and move on.
//! - Any other HTTP 4xx but 408/429 ([`refused`]): a level's list fails over as above, anything
//!   else fails the stream.
//! - Any other failure is retried while the policy (`net::policy`) allows; then a main-slot
//!   segment steps one level down with [`LIST_PENALTY`]; at the lowest level, or for any
//!   other request that cannot fail over, the stream fails with a `network` error.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

use super::segments::Slot;

/// How long a level whose segment is gone (404/410) is avoided.
pub const GONE_PENALTY: Duration = Duration::from_secs(10);
/// How long a level that failed for good (retries exhausted, or its playlist gone) is avoided.
pub const LIST_PENALTY: Duration = Duration::from_secs(30);

/// What failed, as far as the decision needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// A media segment of `slot`, numbered `number`, of quality level `level`.
    Segment {
        /// The slot (main video/muxed, or separate audio).
        slot: Slot,
        /// The segment's number.
        number: u64,
        /// Its quality level (rendition index within the slot).
        level: usize,
    },
    /// The playlist or SegmentBase index of level `index` of `slot`.
    LevelList {
        /// The slot.
        slot: Slot,
        /// The level.
        index: usize,
    },
    /// Anything else (the manifest, an initialization segment).
    Other,
}

/// A failure to decide on.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// What failed.
    pub what: Failed,
    /// The server said the resource is not there (HTTP 404/410): retrying cannot help.
    pub gone: bool,
    /// Attempts made so far minus one (0 after the first try).
    pub attempt: u32,
    /// The retry policy's delay for the next attempt, `None` when it gives up.
    pub retry: Option<Duration>,
    /// The request's URL (for the error message).
    pub url: &'a str,
    /// Why it failed (for the error message).
    pub why: &'a str,
}

/// When a fail-over changes the current level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Always (a segment of the level being played failed).
    Always,
    /// Only when the failed level is the current one (a level's playlist failed, maybe while
    /// another level plays).
    IfCurrent,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorAction {
    /// Try the same request again after this delay.
    Retry(Duration),
    /// Avoid `level` for `penalty` and play `to` instead (see [`Switch`]).
    FailOver {
        /// The level to avoid.
        level: usize,
        /// For how long.
        penalty: Duration,
        /// The level to play.
        to: usize,
        /// Whether the current level moves.
        switch: Switch,
    },
    /// Give up on this segment and move on.
    Skip {
        /// The slot.
        slot: Slot,
        /// The segment's number.
        number: u64,
    },
    /// The stream cannot go on.
    Fatal(Error),
}

/// Decides what to do about `f`. `penalties[i]` is when level `i` of the main slot may be
/// used again (`None`: it may be used now); `now` is the host's time.
pub fn decide(f: &Failure<'_>, penalties: &[Option<Duration>], now: Duration) -> ErrorAction {
    if f.gone {
        if let Some(action) = list_fail_over(f.what, penalties, now) {
            return action;
        }
        if let Failed::Segment {
            slot,
            number,
            level,
        } = f.what
        {
            // Not on this level: another level may have it, else move on.
            return if slot == Slot::Main && level > 0 {
                ErrorAction::FailOver {
                    level,
                    penalty: GONE_PENALTY,
                    to: level - 1,
                    switch: Switch::Always,
                }
            } else {
                ErrorAction::Skip { slot, number }
            };
        }
    }
    if let Some(delay) = f.retry {
        return ErrorAction::Retry(delay);
    }
    match f.what {
        Failed::Segment {
            slot,
            number,
            level,
        } => {
            // Fail over to a lower level; at the bottom, the stream is unplayable.
            if slot == Slot::Main && level > 0 {
                ErrorAction::FailOver {
                    level,
                    penalty: LIST_PENALTY,
                    to: level - 1,
                    switch: Switch::Always,
                }
            } else {
                ErrorAction::Fatal(Error::new(
                    ErrorKind::Network,
                    format!(
                        "segment {number} failed {} times: {} ({})",
                        f.attempt + 1,
                        f.why,
                        f.url
                    ),
                ))
            }
        }
        Failed::LevelList { .. } | Failed::Other => list_fail_over(f.what, penalties, now)
            .unwrap_or_else(|| {
                ErrorAction::Fatal(Error::new(
                    ErrorKind::Network,
                    format!("{} failed {} times: {}", f.url, f.attempt + 1, f.why),
                ))
            }),
    }
}

/// The server refused the request for good (an HTTP 4xx other than 404, 408, 410 and 429):
/// a level's list fails over as in [`decide`]; anything else fails the stream.
pub fn refused(
    what: Failed,
    status: u16,
    url: &str,
    penalties: &[Option<Duration>],
    now: Duration,
) -> ErrorAction {
    list_fail_over(what, penalties, now).unwrap_or_else(|| {
        ErrorAction::Fatal(Error::new(
            ErrorKind::Network,
            format!("HTTP {status} fetching {url}"),
        ))
    })
}

/// A main-slot level's playlist (or SegmentBase index) could not be loaded: when another level
/// can play, that level is avoided for [`LIST_PENALTY`] and playback moves to the nearest
/// usable level below it (above it when it is the lowest); `None` when no other level can play
/// or the failure is not a level's list.
fn list_fail_over(
    what: Failed,
    penalties: &[Option<Duration>],
    now: Duration,
) -> Option<ErrorAction> {
    let Failed::LevelList {
        slot: Slot::Main,
        index,
    } = what
    else {
        return None;
    };
    let usable =
        |i: usize| i != index && penalties.get(i).is_some_and(|p| p.is_none_or(|t| t <= now));
    let below = (0..index).rev().find(|&i| usable(i));
    let above = (index + 1..penalties.len()).find(|&i| usable(i));
    let to = below.or(above)?;
    Some(ErrorAction::FailOver {
        level: index,
        penalty: LIST_PENALTY,
        to,
        switch: Switch::IfCurrent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(100);

    fn failure(what: Failed, gone: bool, retry: Option<Duration>) -> Failure<'static> {
        Failure {
            what,
            gone,
            attempt: 5,
            retry,
            url: "https://cdn.example/seg.m4s",
            why: "HTTP 500",
        }
    }

    fn segment(slot: Slot, level: usize) -> Failed {
        Failed::Segment {
            slot,
            number: 7,
            level,
        }
    }

    #[test]
    fn a_failure_is_retried_while_the_policy_allows() {
        let d = Duration::from_millis(250);
        for what in [
            segment(Slot::Main, 2),
            segment(Slot::Audio, 0),
            Failed::Other,
        ] {
            let a = decide(&failure(what, false, Some(d)), &[None; 3], NOW);
            assert_eq!(a, ErrorAction::Retry(d), "{what:?}");
        }
        // A level's list too, even when other levels could play.
        let list = Failed::LevelList {
            slot: Slot::Main,
            index: 1,
        };
        assert_eq!(
            decide(&failure(list, false, Some(d)), &[None; 3], NOW),
            ErrorAction::Retry(d)
        );
    }

    #[test]
    fn a_segment_that_keeps_failing_steps_one_level_down_then_fails_at_the_bottom() {
        let a = decide(
            &failure(segment(Slot::Main, 2), false, None),
            &[None; 3],
            NOW,
        );
        assert_eq!(
            a,
            ErrorAction::FailOver {
                level: 2,
                penalty: LIST_PENALTY,
                to: 1,
                switch: Switch::Always
            }
        );
        let ErrorAction::Fatal(e) = decide(
            &failure(segment(Slot::Main, 0), false, None),
            &[None; 3],
            NOW,
        ) else {
            panic!("the lowest level has nowhere to go");
        };
        assert_eq!(e.kind, ErrorKind::Network);
        assert_eq!(
            e.message,
            "segment 7 failed 6 times: HTTP 500 (https://cdn.example/seg.m4s)"
        );
        // A separate audio rendition has no levels to fall back on.
        assert!(matches!(
            decide(
                &failure(segment(Slot::Audio, 1), false, None),
                &[None; 3],
                NOW
            ),
            ErrorAction::Fatal(_)
        ));
    }

    #[test]
    fn a_gone_segment_is_not_retried_it_fails_over_or_is_skipped() {
        let retry = Some(Duration::from_millis(250));
        assert_eq!(
            decide(
                &failure(segment(Slot::Main, 1), true, retry),
                &[None; 2],
                NOW
            ),
            ErrorAction::FailOver {
                level: 1,
                penalty: GONE_PENALTY,
                to: 0,
                switch: Switch::Always
            }
        );
        for what in [segment(Slot::Main, 0), segment(Slot::Audio, 3)] {
            let Failed::Segment { slot, number, .. } = what else {
                unreachable!()
            };
            assert_eq!(
                decide(&failure(what, true, retry), &[None; 4], NOW),
                ErrorAction::Skip { slot, number }
            );
        }
    }

    #[test]
    fn a_gone_level_list_fails_over_to_the_nearest_usable_level_below_then_above() {
        let list = |index| Failed::LevelList {
            slot: Slot::Main,
            index,
        };
        let over = |to| ErrorAction::FailOver {
            level: 2,
            penalty: LIST_PENALTY,
            to,
            switch: Switch::IfCurrent,
        };
        assert_eq!(
            decide(&failure(list(2), true, None), &[None; 4], NOW),
            over(1)
        );
        // Level 1 is still penalised: 0 is the nearest usable below.
        let later = Some(NOW + Duration::from_secs(1));
        assert_eq!(
            decide(
                &failure(list(2), true, None),
                &[None, later, None, None],
                NOW
            ),
            over(0)
        );
        // Nothing usable below: the one above.
        assert_eq!(
            decide(
                &failure(list(2), true, None),
                &[later, later, None, None],
                NOW
            ),
            over(3)
        );
        // A penalty that has run out counts as usable.
        let past = Some(NOW - Duration::from_secs(1));
        assert_eq!(
            decide(&failure(list(2), true, None), &[past, later, None], NOW),
            over(0)
        );
        // No other level: a gone list is retried like any failure while the policy allows,
        // then the stream fails.
        let d = Duration::from_secs(1);
        assert_eq!(
            decide(&failure(list(0), true, Some(d)), &[None], NOW),
            ErrorAction::Retry(d)
        );
        assert!(matches!(
            decide(&failure(list(0), true, None), &[None], NOW),
            ErrorAction::Fatal(_)
        ));
    }

    #[test]
    fn a_refused_request_fails_over_a_level_list_else_fails_the_stream() {
        let list = Failed::LevelList {
            slot: Slot::Main,
            index: 1,
        };
        assert_eq!(
            refused(list, 403, "u", &[None; 2], NOW),
            ErrorAction::FailOver {
                level: 1,
                penalty: LIST_PENALTY,
                to: 0,
                switch: Switch::IfCurrent
            }
        );
        let ErrorAction::Fatal(e) = refused(segment(Slot::Main, 1), 403, "u", &[None; 2], NOW)
        else {
            panic!("a refused segment fails the stream");
        };
        assert_eq!(e.message, "HTTP 403 fetching u");
    }

    #[test]
    fn an_exhausted_level_list_fails_over_and_other_requests_fail_the_stream() {
        let list = Failed::LevelList {
            slot: Slot::Main,
            index: 0,
        };
        assert_eq!(
            decide(&failure(list, false, None), &[None; 2], NOW),
            ErrorAction::FailOver {
                level: 0,
                penalty: LIST_PENALTY,
                to: 1,
                switch: Switch::IfCurrent
            }
        );
        // The audio slot's list has no levels of the main slot to fall back on.
        let audio = Failed::LevelList {
            slot: Slot::Audio,
            index: 0,
        };
        let ErrorAction::Fatal(e) = decide(&failure(audio, false, None), &[None; 2], NOW) else {
            panic!("an audio list cannot fail over");
        };
        assert_eq!(
            e.message,
            "https://cdn.example/seg.m4s failed 6 times: HTTP 500"
        );
        assert!(matches!(
            decide(&failure(Failed::Other, true, None), &[None; 2], NOW),
            ErrorAction::Fatal(_)
        ));
    }
}
