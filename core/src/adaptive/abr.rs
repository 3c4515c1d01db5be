//! Adaptive bitrate: a throughput estimate from segment downloads combined with the buffer
//! level, an emergency rule that abandons a download which will not finish in time, a cap by
//! display size, and manual selection.
//!
//! # The algorithm
//! - **Throughput**: every finished download of at least [`AbrConfig::min_sample_bytes`] gives
//!   a sample `bits / seconds`. Two exponentially weighted moving averages, weighted by download
//!   time (half-lives [`AbrConfig::fast_half_life_s`] and [`AbrConfig::slow_half_life_s`]),
//!   follow it; the estimate is the smaller of the two, so a drop is seen at once and a rise
//!   only once it lasts. Small segments (a few KB) are dominated by latency, so they are
//!   ignored rather than dragging the estimate down; the time to first byte of every request
//!   is tracked separately as latency and added to the download-time predictions.
//! - **Buffer**: below [`AbrConfig::bola_buffer_s`] of buffer the *throughput rule* picks the
//!   highest quality whose bitrate fits `safety × estimate` (safety lower when the buffer is
//!   nearly empty). Above it, *BOLA* (Spiteri et al., "BOLA: Near-Optimal Bitrate Adaptation for
//!   Online Videos") picks the quality maximising `(V·(υₘ + γp) − Q) / Sₘ` where `υₘ = ln(Sₘ/S₀)`
//!   is the utility of quality m, `Sₘ` its size per segment, `Q` the buffer in segments and `V`
//!   is set so that the top quality is chosen only with a nearly full buffer. The higher of the
//!   two choices wins (a full buffer may spend it; a short one never trusts it), and a switch up
//!   needs the estimate to carry the new bitrate for a whole segment while keeping the buffer
//!   above the low mark (no oscillation from one fast segment).
//! - **Emergency**: while a segment downloads, if what is left at the current rate would take
//!   longer than the buffer that remains (minus a margin), the download is abandoned and the
//!   segment fetched again at the quality that fits the measured rate.
//! - **Caps**: qualities taller than the display (height × device pixel ratio) are skipped
//!   (the lowest always stays); a manual choice overrides everything until set back to auto.
//! - **Audio** is not chosen here: each alternate-audio segment follows the level of the video
//!   segment playing at that time (`AdaptiveSource::rendition_for`): the same track in that
//!   level's HLS `AUDIO` group, and of a track with several bitrates (a DASH AdaptationSet)
//!   the one at the level's place in the ladder. The video estimate above is measured with
//!   the audio sharing the link, so it already leaves the audio its share.

/// Tuning of [`Abr`]. The defaults suit VOD and live with 2–10 s segments.
#[derive(Debug, Clone, PartialEq)]
pub struct AbrConfig {
    /// Throughput assumed before the first measurement, bits per second.
    pub default_bps: f64,
    /// Half-life of the fast average, seconds of download time.
    pub fast_half_life_s: f64,
    /// Half-life of the slow average, seconds of download time.
    pub slow_half_life_s: f64,
    /// Downloads smaller than this are not used as throughput samples.
    pub min_sample_bytes: u64,
    /// Fraction of the estimate a chosen bitrate may use with a healthy buffer.
    pub safety: f64,
    /// Fraction used when the buffer is below [`AbrConfig::low_buffer_s`].
    pub low_buffer_safety: f64,
    /// Buffer under which the player is careful (and never switches up).
    pub low_buffer_s: f64,
    /// Buffer from which BOLA's choice is considered.
    pub bola_buffer_s: f64,
    /// The buffer BOLA aims for (normally the forward buffer budget).
    pub target_buffer_s: f64,
    /// Seconds of buffer kept in reserve by the emergency rule.
    pub emergency_margin_s: f64,
}

impl Default for AbrConfig {
    fn default() -> Self {
        AbrConfig {
            default_bps: 1_000_000.0,
            fast_half_life_s: 2.0,
            slow_half_life_s: 5.0,
            min_sample_bytes: 16 * 1024,
            safety: 0.85,
            low_buffer_safety: 0.6,
            low_buffer_s: 4.0,
            bola_buffer_s: 10.0,
            target_buffer_s: 30.0,
            emergency_margin_s: 1.0,
        }
    }
}

/// One quality level as the ABR sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Declared bitrate, bits per second.
    pub bandwidth: u64,
    /// Picture height in pixels (0 when unknown, e.g. audio-only).
    pub height: u32,
}

/// A segment download under way, for [`Abr::abandon`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Download {
    /// Quality level being fetched.
    pub level: usize,
    /// Bytes received so far.
    pub received: u64,
    /// Size of the whole response, when the server said.
    pub total: Option<u64>,
    /// Seconds since the response started.
    pub elapsed_s: f64,
    /// Duration of the segment, seconds.
    pub segment_s: f64,
}

/// A time-weighted exponential moving average (weights decay per second of download time).
#[derive(Debug, Clone, Copy)]
struct Ewma {
    alpha: f64,
    estimate: f64,
    weight: f64,
}

impl Ewma {
    fn new(half_life_s: f64) -> Self {
        Ewma {
            alpha: 0.5f64.powf(1.0 / half_life_s.max(1e-3)),
            estimate: 0.0,
            weight: 0.0,
        }
    }

    fn sample(&mut self, weight_s: f64, value: f64) {
        let a = self.alpha.powf(weight_s);
        self.estimate = value * (1.0 - a) + a * self.estimate;
        self.weight += weight_s;
    }

    /// The average, corrected for the zero it started from.
    fn get(&self) -> f64 {
        let zero_factor = 1.0 - self.alpha.powf(self.weight);
        if zero_factor <= 0.0 {
            0.0
        } else {
            self.estimate / zero_factor
        }
    }
}

/// The bitrate chooser of one adaptive session.
#[derive(Debug, Clone)]
pub struct Abr {
    config: AbrConfig,
    fast: Ewma,
    slow: Ewma,
    samples: u32,
    latency_s: Option<f64>,
    manual: Option<usize>,
    max_height: Option<u32>,
}

impl Abr {
    /// A chooser with no measurements yet.
    pub fn new(config: AbrConfig) -> Self {
        Abr {
            fast: Ewma::new(config.fast_half_life_s),
            slow: Ewma::new(config.slow_half_life_s),
            config,
            samples: 0,
            latency_s: None,
            manual: None,
            max_height: None,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &AbrConfig {
        &self.config
    }

    /// A download finished: `bytes` arrived in `seconds` (from the response's first byte to the
    /// end; the wait for the first byte is `latency_s`).
    pub fn on_download(&mut self, bytes: u64, seconds: f64, latency_s: f64) {
        if latency_s.is_finite() && latency_s >= 0.0 {
            self.latency_s = Some(match self.latency_s {
                Some(l) => 0.7 * l + 0.3 * latency_s,
                None => latency_s,
            });
        }
        if bytes < self.config.min_sample_bytes || !seconds.is_finite() {
            return;
        }
        // A body that arrived "instantly" (cached, or a clock tick apart) says nothing useful
        // beyond "fast": count it as 5 ms.
        let seconds = seconds.max(0.005);
        let bps = bytes as f64 * 8.0 / seconds;
        self.fast.sample(seconds, bps);
        self.slow.sample(seconds, bps);
        self.samples += 1;
    }

    /// Part of a download in progress: lets the estimate fall while a slow segment is still
    /// arriving (the emergency rule uses the rate directly; this keeps later choices honest).
    pub fn on_progress_stall(&mut self, bytes: u64, seconds: f64) {
        if seconds > 0.5 {
            let bps = bytes as f64 * 8.0 / seconds;
            if bps < self.estimate_bps() {
                self.fast.sample(seconds.min(2.0), bps);
            }
        }
    }

    /// Current throughput estimate, bits per second.
    pub fn estimate_bps(&self) -> f64 {
        if self.samples == 0 {
            return self.config.default_bps;
        }
        self.fast.get().min(self.slow.get())
    }

    /// Average time to first byte, seconds (0 before any request).
    pub fn latency_s(&self) -> f64 {
        self.latency_s.unwrap_or(0.0)
    }

    /// Number of throughput samples taken.
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// Fixes the quality (`Some(index)`) or returns to automatic selection (`None`).
    pub fn set_manual(&mut self, level: Option<usize>) {
        self.manual = level;
    }

    /// The manual choice, if any.
    pub fn manual(&self) -> Option<usize> {
        self.manual
    }

    /// Caps automatic choices to qualities at most this tall (display height × pixel ratio);
    /// `None` removes the cap.
    pub fn set_max_height(&mut self, height: Option<u32>) {
        self.max_height = height.filter(|&h| h > 0);
    }

    /// Levels usable under the display cap: indices into `levels` (sorted by bandwidth).
    fn allowed(&self, levels: &[Level]) -> Vec<usize> {
        let mut out: Vec<usize> = (0..levels.len())
            .filter(|&i| {
                self.max_height.is_none_or(|cap| {
                    levels
                        .get(i)
                        .is_none_or(|l| l.height == 0 || l.height <= cap)
                })
            })
            .collect();
        if out.is_empty() && !levels.is_empty() {
            out.push(0);
        }
        out
    }

    /// The quality to fetch the next segment in. `levels` are sorted by bandwidth ascending;
    /// `current` is the quality of the last segment fetched; `buffer_s` is the media buffered
    /// ahead of the playhead; `segment_s` the nominal segment duration.
    pub fn choose(
        &self,
        levels: &[Level],
        current: Option<usize>,
        buffer_s: f64,
        segment_s: f64,
    ) -> usize {
        if levels.is_empty() {
            return 0;
        }
        if let Some(m) = self.manual {
            return m.min(levels.len() - 1);
        }
        let allowed = self.allowed(levels);
        let estimate = self.estimate_bps();
        let low = buffer_s < self.config.low_buffer_s;
        let safety = if low {
            self.config.low_buffer_safety
        } else {
            self.config.safety
        };
        let bw = |i: usize| levels.get(i).map_or(0.0, |l| l.bandwidth as f64);
        // Throughput rule: the highest level that fits.
        let mut tput = allowed.first().copied().unwrap_or(0);
        for &i in &allowed {
            if bw(i) <= safety * estimate {
                tput = i;
            }
        }
        let mut choice = tput;
        if buffer_s >= self.config.bola_buffer_s && allowed.len() > 1 {
            let bola = self.bola(levels, &allowed, buffer_s, segment_s);
            choice = choice.max(bola);
        }
        // Switching up: the estimate must carry the new level with the normal safety and the
        // buffer must not be low; one level at a time unless the buffer is healthy.
        if let Some(cur) = current {
            if choice > cur {
                if low {
                    choice = cur.min(levels.len() - 1);
                } else if buffer_s < self.config.bola_buffer_s {
                    let next_up = allowed.iter().copied().find(|&i| i > cur).unwrap_or(cur);
                    choice = choice.min(next_up);
                }
            }
        }
        choice
    }

    /// BOLA's choice among `allowed` for a buffer of `buffer_s`.
    fn bola(&self, levels: &[Level], allowed: &[usize], buffer_s: f64, segment_s: f64) -> usize {
        let seg = segment_s.max(0.5);
        let size = |i: usize| {
            levels
                .get(i)
                .map_or(1.0, |l| (l.bandwidth.max(1) as f64) * seg)
        };
        let s0 = allowed.first().map_or(1.0, |&i| size(i));
        let utility = |i: usize| (size(i) / s0).ln();
        let top = allowed.last().map_or(0.0, |&i| utility(i));
        // gamma*p: BOLA's "rebuffer avoidance" term, in segments.
        let gp = 5.0;
        // The top level wins only once the buffer is near the target; V scales for that.
        let q_max = (self.config.target_buffer_s / seg).max(gp + 2.0);
        let v = (q_max - 1.0) / (top + gp);
        let q = buffer_s / seg;
        let mut best = allowed.first().copied().unwrap_or(0);
        let mut best_score = f64::NEG_INFINITY;
        for &i in allowed {
            let score = (v * (utility(i) + gp) - q) / size(i);
            if score > best_score {
                best_score = score;
                best = i;
            }
        }
        best
    }

    /// Emergency rule: should `download` be abandoned, with `buffer_s` of media left to play?
    /// Returns the level to fetch the segment at instead, or `None` to keep going.
    pub fn abandon(&self, levels: &[Level], download: &Download, buffer_s: f64) -> Option<usize> {
        let Download {
            level,
            received,
            total,
            elapsed_s,
            segment_s,
        } = *download;
        if self.manual.is_some() || level == 0 || elapsed_s < 0.5 {
            return None;
        }
        let rate_bps = received as f64 * 8.0 / elapsed_s;
        let total = total.unwrap_or_else(|| {
            levels
                .get(level)
                .map_or(0, |l| (l.bandwidth as f64 * segment_s / 8.0) as u64)
        });
        let left_bits = total.saturating_sub(received) as f64 * 8.0;
        let left_s = if rate_bps > 0.0 {
            left_bits / rate_bps
        } else {
            f64::INFINITY
        };
        if left_s <= (buffer_s - self.config.emergency_margin_s).max(0.0) {
            return None;
        }
        // What would fit: a lower level whose whole segment downloads in time at this rate.
        let budget_s = (buffer_s - self.config.emergency_margin_s - self.latency_s()).max(0.1);
        let mut pick = 0;
        for i in 0..level {
            let bits = levels
                .get(i)
                .map_or(0.0, |l| l.bandwidth as f64 * segment_s);
            if bits / rate_bps.max(1.0) <= budget_s {
                pick = i;
            }
        }
        // Re-fetching the same amount at a lower level only helps if it is much smaller than
        // what is left of this one.
        let pick_bits = levels
            .get(pick)
            .map_or(0.0, |l| l.bandwidth as f64 * segment_s);
        (pick_bits < left_bits * 0.8).then_some(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Vec<Level> {
        [(300_000, 234), (800_000, 360), (2_500_000, 720)]
            .iter()
            .map(|&(bandwidth, height)| Level { bandwidth, height })
            .collect()
    }

    /// Downloads `n` segments of `seconds` of a `bps` stream over a link of `link_bps`.
    fn feed(abr: &mut Abr, n: usize, stream_bps: f64, link_bps: f64) {
        for _ in 0..n {
            let bytes = (stream_bps * 2.0 / 8.0) as u64;
            abr.on_download(bytes, bytes as f64 * 8.0 / link_bps, 0.02);
        }
    }

    #[test]
    fn estimate_follows_drops_at_once_and_rises_slowly() {
        let mut abr = Abr::new(AbrConfig::default());
        assert_eq!(abr.estimate_bps(), 1_000_000.0);
        feed(&mut abr, 10, 2_500_000.0, 10_000_000.0);
        let high = abr.estimate_bps();
        assert!((high - 10e6).abs() < 1e5, "{high}");
        // One slow download moves the (min of the) estimate most of the way down.
        feed(&mut abr, 1, 2_500_000.0, 500_000.0);
        let low = abr.estimate_bps();
        assert!(low < 4e6, "after a drop {low}");
        // One fast download after that does not bring it all the way back.
        feed(&mut abr, 1, 300_000.0, 10_000_000.0);
        assert!(abr.estimate_bps() < 8e6, "{}", abr.estimate_bps());
    }

    #[test]
    fn small_downloads_are_not_throughput_samples() {
        let mut abr = Abr::new(AbrConfig::default());
        abr.on_download(2_000, 0.2, 0.2);
        assert_eq!(abr.samples(), 0);
        assert_eq!(abr.estimate_bps(), 1_000_000.0);
        assert!((abr.latency_s() - 0.2).abs() < 1e-9);
    }

    #[test]
    fn throughput_rule_with_a_short_buffer() {
        let levels = ladder();
        let mut abr = Abr::new(AbrConfig::default());
        // 1 Mbit/s default: 0.85 Mbit/s fits the 800k level, but a start from an empty buffer
        // uses the low-buffer safety (0.6 Mbit/s): the lowest.
        assert_eq!(abr.choose(&levels, None, 0.0, 2.0), 0);
        assert_eq!(abr.choose(&levels, None, 5.0, 2.0), 1);
        feed(&mut abr, 5, 2_500_000.0, 10_000_000.0);
        // Never more than one level up at a time below the BOLA threshold.
        assert_eq!(abr.choose(&levels, Some(0), 6.0, 2.0), 1);
        assert_eq!(abr.choose(&levels, Some(1), 6.0, 2.0), 2);
        // A low buffer never switches up.
        assert_eq!(abr.choose(&levels, Some(0), 2.0, 2.0), 0);
    }

    #[test]
    fn bola_spends_a_full_buffer_and_the_throughput_rule_protects_a_short_one() {
        let levels = ladder();
        let mut abr = Abr::new(AbrConfig::default());
        // Measured 1.5 Mbit/s: the throughput rule says 800k.
        feed(&mut abr, 8, 800_000.0, 1_500_000.0);
        assert_eq!(abr.choose(&levels, Some(1), 8.0, 2.0), 1);
        // With a nearly full buffer BOLA may take the top level...
        assert_eq!(abr.choose(&levels, Some(1), 29.0, 2.0), 2);
        // ...and comes back down as the buffer drains.
        assert_eq!(abr.choose(&levels, Some(2), 12.0, 2.0), 1);
    }

    #[test]
    fn display_cap_and_manual_choice() {
        let levels = ladder();
        let mut abr = Abr::new(AbrConfig::default());
        feed(&mut abr, 8, 2_500_000.0, 50_000_000.0);
        assert_eq!(abr.choose(&levels, Some(2), 20.0, 2.0), 2);
        abr.set_max_height(Some(400));
        assert_eq!(abr.choose(&levels, Some(2), 20.0, 2.0), 1);
        abr.set_max_height(Some(100));
        assert_eq!(abr.choose(&levels, Some(2), 20.0, 2.0), 0, "lowest stays");
        abr.set_manual(Some(2));
        assert_eq!(abr.choose(&levels, Some(0), 0.0, 2.0), 2);
        abr.set_manual(None);
        abr.set_max_height(None);
        assert_eq!(abr.choose(&levels, Some(2), 20.0, 2.0), 2);
    }

    #[test]
    fn emergency_abandons_a_download_that_will_not_finish() {
        let levels = ladder();
        let abr = Abr::new(AbrConfig::default());
        // A 2.5 Mbit/s segment of 2 s (625 kB) arriving at 0.5 Mbit/s: after 1 s, 62.5 kB are
        // in and 9 s are left, with 4 s of buffer: abandon, fetch the lowest (0.6 Mbit in 1.2 s).
        let got = abr.abandon(
            &levels,
            &Download {
                level: 2,
                received: 62_500,
                total: Some(625_000),
                elapsed_s: 1.0,
                segment_s: 2.0,
            },
            4.0,
        );
        assert_eq!(got, Some(0));
        // The same download with 20 s of buffer goes on.
        assert_eq!(
            abr.abandon(
                &levels,
                &Download {
                    level: 2,
                    received: 62_500,
                    total: Some(625_000),
                    elapsed_s: 1.0,
                    segment_s: 2.0
                },
                20.0
            ),
            None
        );
        // Nearly finished: going on is cheaper than starting over.
        assert_eq!(
            abr.abandon(
                &levels,
                &Download {
                    level: 2,
                    received: 600_000,
                    total: Some(625_000),
                    elapsed_s: 1.0,
                    segment_s: 2.0
                },
                1.2
            ),
            None
        );
        // The lowest level is never abandoned (there is nothing lower).
        assert_eq!(
            abr.abandon(
                &levels,
                &Download {
                    level: 0,
                    received: 1,
                    total: Some(75_000),
                    elapsed_s: 5.0,
                    segment_s: 2.0
                },
                0.5
            ),
            None
        );
    }
}
