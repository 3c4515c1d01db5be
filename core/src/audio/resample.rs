//! Streaming sample-rate conversion of interleaved `f32` (rubato's polynomial `Async`).
//!
//! Converts decoded audio to the device rate, and implements the playback rate (pitch follows
//! the rate, like `preservesPitch = false`). A ratio of exactly 1 is a bit-exact copy with no
//! latency. Otherwise the resampler's delay is removed (in whole frames: output frame `k` is
//! input time `k / ratio` to within one frame), and `flush` supplies the tail: a whole stream of `n` frames gives
//! `round(n × ratio)` frames.

use std::fmt;

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, PolynomialDegree, Resampler};

/// Input frames per resampler call.
const CHUNK: usize = 1024;
/// Allowed ratio range (output frames per input frame).
const MIN_RATIO: f64 = 1.0 / 16.0;
const MAX_RATIO: f64 = 16.0;

/// The converter could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResampleError(String);

impl fmt::Display for ResampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Interleaved `f32` streaming converter; `ratio` = output frames per input frame.
pub struct RateConverter {
    channels: usize,
    ratio: f64,
    inner: Option<Async<f32>>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    /// Output frames still to drop (the resampler's delay).
    skip: usize,
    /// Output frames the input so far is worth.
    expected: f64,
    emitted: u64,
}

fn build(channels: usize, ratio: f64) -> Result<Async<f32>, ResampleError> {
    Async::<f32>::new_poly(
        ratio,
        1.0,
        PolynomialDegree::Cubic,
        CHUNK,
        channels,
        FixedAsync::Input,
    )
    .map_err(|e| ResampleError(e.to_string()))
}

impl RateConverter {
    /// A converter for `channels` interleaved channels at `ratio` (1/16 to 16).
    pub fn new(channels: usize, ratio: f64) -> Result<Self, ResampleError> {
        if channels == 0 || channels > 64 {
            return Err(ResampleError(format!(
                "unsupported channel count {channels}"
            )));
        }
        if !(MIN_RATIO..=MAX_RATIO).contains(&ratio) {
            return Err(ResampleError(format!("ratio {ratio} outside 1/16..16")));
        }
        let mut c = RateConverter {
            channels,
            ratio,
            inner: None,
            pending: Vec::new(),
            scratch: Vec::new(),
            skip: 0,
            expected: 0.0,
            emitted: 0,
        };
        c.reset_inner()?;
        Ok(c)
    }

    fn reset_inner(&mut self) -> Result<(), ResampleError> {
        self.pending.clear();
        self.expected = 0.0;
        self.emitted = 0;
        if self.ratio == 1.0 {
            self.inner = None;
            self.skip = 0;
        } else {
            let inner = build(self.channels, self.ratio)?;
            self.skip = inner.output_delay();
            self.scratch = vec![0.0; inner.output_frames_max() * self.channels];
            self.inner = Some(inner);
        }
        Ok(())
    }

    /// Changes the ratio (clamped). The converter restarts: audio held for filtering is dropped,
    /// which is what a seek or a rate change (a new device epoch) wants anyway.
    pub fn set_ratio(&mut self, ratio: f64) {
        let ratio = if ratio.is_finite() {
            ratio.clamp(MIN_RATIO, MAX_RATIO)
        } else {
            1.0
        };
        if ratio != self.ratio {
            self.ratio = ratio;
            if self.reset_inner().is_err() {
                self.ratio = 1.0;
                self.inner = None;
            }
        }
    }

    /// Output frames per input frame.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// True when the ratio is exactly 1 (bit-exact copy).
    pub fn is_passthrough(&self) -> bool {
        self.inner.is_none()
    }

    /// Feeds interleaved input and appends the converted frames to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let usable = input.len() - input.len() % self.channels;
        if self.inner.is_none() {
            out.extend_from_slice(&input[..usable]);
            return;
        }
        self.expected += (usable / self.channels) as f64 * self.ratio;
        self.pending.extend_from_slice(&input[..usable]);
        let chunk = CHUNK * self.channels;
        let mut at = 0;
        while self.pending.len() - at >= chunk {
            self.run_chunk(at, out);
            at += chunk;
        }
        self.pending.drain(..at);
    }

    fn run_chunk(&mut self, at: usize, out: &mut Vec<f32>) {
        let Some(inner) = self.inner.as_mut() else {
            return;
        };
        let channels = self.channels;
        let chunk = &self.pending[at..at + CHUNK * channels];
        let out_frames = self.scratch.len() / channels;
        let (Ok(src), Ok(mut dst)) = (
            InterleavedSlice::new(chunk, channels, CHUNK),
            InterleavedSlice::new_mut(&mut self.scratch, channels, out_frames),
        ) else {
            return;
        };
        let Ok((_, written)) = inner.process_into_buffer(&src, &mut dst, None) else {
            return;
        };
        let drop = self.skip.min(written);
        self.skip -= drop;
        out.extend_from_slice(&self.scratch[drop * channels..written * channels]);
        self.emitted += (written - drop) as u64;
    }

    /// End of stream: appends the frames held back, so the stream's total is complete.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        if self.inner.is_none() {
            return;
        }
        let target = self.expected.round() as u64;
        let chunk = CHUNK * self.channels;
        let start = out.len();
        // Zero-pad through the filter until everything that was fed has come out.
        let mut guard = 0;
        while self.emitted < target && guard < 64 {
            self.pending.resize(chunk, 0.0);
            self.run_chunk(0, out);
            self.pending.clear();
            guard += 1;
        }
        let excess = self.emitted.saturating_sub(target) as usize;
        let keep =
            (out.len() - start) / self.channels - excess.min((out.len() - start) / self.channels);
        out.truncate(start + keep * self.channels);
        self.emitted = target;
    }

    /// Drops all state (after a seek).
    pub fn reset(&mut self) {
        if let Some(inner) = self.inner.as_mut() {
            inner.reset();
            self.skip = inner.output_delay();
        }
        self.pending.clear();
        self.expected = 0.0;
        self.emitted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(frames: usize, rate: f64, freq: f64) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| {
                [
                    (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin() as f32 * 0.5,
                    0.0,
                ]
            })
            .collect()
    }

    fn run(c: &mut RateConverter, input: &[f32], chunk_frames: &[usize]) -> Vec<f32> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < input.len() {
            let n = (chunk_frames[i % chunk_frames.len()] * 2).min(input.len() - at);
            c.process(&input[at..at + n], &mut out);
            at += n;
            i += 1;
        }
        c.flush(&mut out);
        out
    }

    #[test]
    fn passthrough_is_bit_exact() {
        let input = sine(1000, 48_000.0, 440.0);
        let mut c = RateConverter::new(2, 1.0).expect("new");
        assert!(c.is_passthrough());
        assert_eq!(run(&mut c, &input, &[7]), input);
    }

    #[test]
    fn converts_44k1_to_48k_accurately() {
        let input = sine(44_100, 44_100.0, 440.0);
        let mut c = RateConverter::new(2, 48_000.0 / 44_100.0).expect("new");
        let out = run(&mut c, &input, &[4096]);
        assert_eq!(out.len() / 2, 48_000);
        // Away from the edges the output is the same sine at the new rate, aligned to within
        // one output frame (the polynomial's delay is fractional; whole frames are removed).
        let mut best = (f32::MAX, 0.0);
        for tenth in -10..=10 {
            let d = f64::from(tenth) / 10.0;
            let err = (2000..46_000)
                .map(|k| {
                    let t = (k as f64 + d) / 48_000.0;
                    (out[k * 2] - (2.0 * std::f64::consts::PI * 440.0 * t).sin() as f32 * 0.5).abs()
                })
                .fold(0.0f32, f32::max);
            if err < best.0 {
                best = (err, d);
            }
        }
        assert!(best.0 < 2e-3, "max error {} at offset {}", best.0, best.1);
        // The silent right channel stays silent.
        assert!(out.iter().skip(1).step_by(2).all(|s| s.abs() < 1e-6));
    }

    #[test]
    fn playback_rate_ratios_give_expected_lengths() {
        let input = sine(48_000, 48_000.0, 440.0);
        for (ratio, frames) in [(0.5, 24_000), (2.0, 96_000), (1.0 / 1.5, 32_000)] {
            let mut c = RateConverter::new(2, ratio).expect("new");
            let n = run(&mut c, &input, &[333, 4096, 1]).len() / 2;
            assert!(n.abs_diff(frames) <= 1, "ratio {ratio}: {n} frames");
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = sine(20_000, 44_100.0, 1000.0);
        let mut a = RateConverter::new(2, 1.2).expect("new");
        let mut b = RateConverter::new(2, 1.2).expect("new");
        let one = run(&mut a, &input, &[20_000]);
        let many = run(&mut b, &input, &[1, 17, 1000, 3]);
        assert_eq!(one.len(), many.len());
        assert!(one.iter().zip(&many).all(|(x, y)| (x - y).abs() <= 1e-6));
    }

    #[test]
    fn reset_and_ratio_changes_restart_cleanly() {
        let input = sine(10_000, 44_100.0, 440.0);
        let mut c = RateConverter::new(2, 48_000.0 / 44_100.0).expect("new");
        let first = run(&mut c, &input, &[512]);
        c.reset();
        let second = run(&mut c, &input, &[512]);
        assert_eq!(first, second);
        c.set_ratio(1.0);
        assert!(c.is_passthrough());
        assert_eq!(run(&mut c, &input, &[512]), input);
        c.set_ratio(2.0);
        assert_eq!(run(&mut c, &input, &[512]).len() / 2, 20_000);
    }

    #[test]
    fn invalid_arguments_are_errors() {
        assert!(RateConverter::new(0, 1.0).is_err());
        assert!(RateConverter::new(2, 0.0).is_err());
        assert!(RateConverter::new(2, 100.0).is_err());
        assert!(RateConverter::new(2, f64::NAN).is_err());
    }
}
