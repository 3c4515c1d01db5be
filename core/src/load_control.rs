//! The load-control policy: when to fetch more, when to decode more, when playback may start.
//!
//! One value holds every "enough?" decision, so the sources and the player ask it rather than
//! compare against their own numbers: the progressive loader asks whether the bytes ahead of
//! the read position are enough ([`LoadControl::fetch_bytes`]), the adaptive scheduler whether
//! the next segment is within the forward budget ([`LoadControl::fetch_segment`]), the player
//! whether to decode more audio ([`LoadControl::decode_more`]) and whether it may start or
//! resume playing ([`LoadControl::may_start`]). The numbers come from the player's
//! configuration (`PlayerConfig`: `start_secs`, `audio_ahead_secs`, `forward_buffer_bytes`,
//! `stream.forward_secs`, `stream.buffer_bytes`), so an embedder tunes them there; the rules
//! are here, pure, with unit tests.

/// The policy's numbers. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadControl {
    /// Seconds of audio queued on the device before playback starts or resumes.
    pub start_secs: f64,
    /// Seconds of decoded audio kept queued on the device.
    pub decode_ahead_secs: f64,
    /// Bytes of a file fetched ahead of the read position.
    pub forward_bytes: u64,
    /// Seconds of an adaptive stream fetched ahead of the playhead.
    pub forward_secs: f64,
    /// Most bytes of segments held at once.
    pub buffer_bytes: usize,
}

/// What the player has ready, for [`LoadControl::may_start`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readiness {
    /// The audio decoder sits at the playback position (no seek or open pending).
    pub positioned: bool,
    /// The picture for the position is there (or there is no video).
    pub video_ready: bool,
    /// An adaptive stream's video ran dry while its separate audio has more.
    pub video_starved: bool,
    /// The audio has reached its end: whatever is queued is all there is.
    pub at_end: bool,
    /// Seconds of audio queued on the device.
    pub queued_secs: f64,
}

impl LoadControl {
    /// Whether playback may start (or resume after a stall): positioned, the picture there,
    /// and enough audio queued — `start_secs`, but never more than the decoder keeps queued
    /// (`decode_ahead_secs`), or the whole rest when the audio has ended.
    pub fn may_start(&self, r: &Readiness) -> bool {
        r.positioned
            && r.video_ready
            && !r.video_starved
            && (r.at_end || r.queued_secs >= self.start_secs.min(self.decode_ahead_secs))
    }

    /// Whether to decode more audio with `queued_secs` already queued on the device.
    pub fn decode_more(&self, queued_secs: f64) -> bool {
        queued_secs < self.decode_ahead_secs
    }

    /// Whether a file's next missing byte, `ahead` bytes past the read position, is within
    /// the forward budget (a read blocked on bytes is fetched whatever the budget).
    pub fn fetch_bytes(&self, ahead: u64) -> bool {
        ahead < self.forward_bytes
    }

    /// Whether the next segment, starting `ahead_secs` past the playhead, may be fetched
    /// with `held_bytes` of segments held (a segment the player waits for is fetched
    /// whatever the budgets).
    pub fn fetch_segment(&self, ahead_secs: f64, held_bytes: usize) -> bool {
        ahead_secs <= self.forward_secs && held_bytes < self.buffer_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LoadControl {
        LoadControl {
            start_secs: 0.2,
            decode_ahead_secs: 0.5,
            forward_bytes: 8 << 20,
            forward_secs: 30.0,
            buffer_bytes: 96 << 20,
        }
    }

    fn ready(queued_secs: f64) -> Readiness {
        Readiness {
            positioned: true,
            video_ready: true,
            video_starved: false,
            at_end: false,
            queued_secs,
        }
    }

    #[test]
    fn starts_with_start_secs_queued() {
        let p = policy();
        assert!(!p.may_start(&ready(0.19)));
        assert!(p.may_start(&ready(0.2)));
    }

    #[test]
    fn start_never_waits_for_more_than_the_decoder_keeps() {
        let p = LoadControl {
            start_secs: 2.0,
            ..policy()
        };
        assert!(p.may_start(&ready(0.5)));
        assert!(!p.may_start(&ready(0.49)));
    }

    #[test]
    fn the_end_of_the_audio_is_enough() {
        let r = Readiness {
            at_end: true,
            ..ready(0.0)
        };
        assert!(policy().may_start(&r));
    }

    #[test]
    fn never_starts_unpositioned_without_a_picture_or_starved() {
        let p = policy();
        for r in [
            Readiness {
                positioned: false,
                ..ready(1.0)
            },
            Readiness {
                video_ready: false,
                ..ready(1.0)
            },
            Readiness {
                video_starved: true,
                ..ready(1.0)
            },
        ] {
            assert!(!p.may_start(&r), "{r:?}");
        }
    }

    #[test]
    fn decodes_up_to_the_decode_ahead() {
        let p = policy();
        assert!(p.decode_more(0.49));
        assert!(!p.decode_more(0.5));
    }

    #[test]
    fn fetches_bytes_inside_the_forward_budget() {
        let p = policy();
        assert!(p.fetch_bytes(0));
        assert!(p.fetch_bytes((8 << 20) - 1));
        assert!(!p.fetch_bytes(8 << 20));
    }

    #[test]
    fn fetches_segments_inside_the_time_and_byte_budgets() {
        let p = policy();
        assert!(p.fetch_segment(30.0, 0));
        assert!(!p.fetch_segment(30.001, 0));
        assert!(p.fetch_segment(-5.0, (96 << 20) - 1));
        assert!(!p.fetch_segment(0.0, 96 << 20));
    }
}
