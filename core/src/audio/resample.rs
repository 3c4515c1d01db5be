//! Streaming sample-rate conversion of interleaved `f32` audio: [`RateConverter`].
//!
//! Used to convert decoded audio from the source rate to the device rate, and to play at a
//! different speed (pitch follows the speed, like `preservesPitch = false`) by changing the
//! ratio while running. A ratio of exactly 1 is a bit-exact copy with no latency, so a 48 kHz
//! source on a 48 kHz device is untouched.
//!
//! # Algorithm
//! rubato's [`Async`] resampler with **sinc** interpolation (64 taps, Blackman² window,
//! 256× oversampled table, linear interpolation between table entries), fixed input size.
//! Measured against the polynomial variant (stereo, f32; residual after the best-fitting
//! sine relative to the tone, 44.1 → 48 kHz; aliasing of a 23 kHz tone at 48 → 44.1 kHz;
//! speed on wasm32 under node 20 on the dev box, after warm-up):
//!
//! | interpolation | 10 kHz | 16 kHz | gain at 18 / 20 kHz | alias | wasm32 speed |
//! |---|---|---|---|---|---|
//! | cubic polynomial | −31 dB | −16 dB | −3.7 / −5.2 dB | −4 dB | 360× real time |
//! | sinc, 64 taps (used) | −117 dB | −109 dB | −1.8 / −21 dB | −130 dB | 90× |
//! | sinc, 128 taps | −117 dB | −109 dB | 0.0 / −1.7 dB | −123 dB | 57× |
//!
//! The polynomial has no anti-aliasing filter, which is audible on bright material (a
//! 23 kHz tone folds to 21.1 kHz at −4 dB); the sinc is clean and flat to 16 kHz. At
//! 64 taps it costs about 11 ms of CPU per second of stereo output on wasm32 here (cubic:
//! 3 ms; rubato's SIMD paths are x86_64/aarch64 only), about 1 % of a core, the same at
//! every ratio since the work is per output frame and output runs at the device rate.
//! 128 taps would keep 18 kHz flat for 1.6× the cost: too much for TV-class CPUs. Change
//! `SINC_LEN` to trade.
//!
//! rubato designs the anti-aliasing filter once, for the ratio the resampler is built with
//! (cutoff × min(1, ratio)). Ratio changes that keep `min(1, ratio)` within 2 % of the
//! design reuse the resampler; others (typically a playback rate above 1×, which needs a
//! lower cutoff, or back from it) build a new one and hand over at the switch point, see
//! [`RateConverter::set_ratio`].
//!
//! # Timing
//! Output frame `k` of a stream is input time `k / ratio`, exactly (to rounding): rubato's
//! delay (32 input frames and a fraction) is removed by priming the filter with the 64
//! frames before the start (silence at a stream start) at a slightly adjusted ratio, so
//! that after discarding those frames one lands exactly on the start. [`RateConverter::flush`]
//! pumps silence through the filter for the held-back tail. A whole stream of `n` frames at
//! a constant ratio gives `n × ratio` frames, rounded (halves down).
//!
//! A ratio change takes effect at the input position where it is made (see
//! [`RateConverter::set_ratio`]), so the output length is the input integrated over the
//! ratio in effect, to within a frame per change, and no error accumulates.

use std::fmt;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Adjustable, Async, FixedAsync, Indexing, Resampler, Resizable, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

/// Smallest supported ratio (output frames per input frame).
pub const MIN_RATIO: f64 = 1.0 / 16.0;
/// Largest supported ratio (output frames per input frame).
pub const MAX_RATIO: f64 = 16.0;
/// Largest supported channel count.
pub const MAX_CHANNELS: usize = 64;

/// Largest number of input frames per rubato call.
const CHUNK: usize = 1024;
/// Sinc filter length in input frames (a multiple of 8, as rubato wants).
const SINC_LEN: usize = 64;
/// Sinc table oversampling.
const OVERSAMPLING: usize = 256;
/// Input frames of history a fresh resampler is primed with: the first kept frame needs
/// `SINC_LEN / 2` of them, [`Engine::begin`] more than `2 + 1 / MIN_RATIO`.
const HIST: usize = SINC_LEN / 2 + 32;
/// Time of rubato's virtual output frame 0 relative to the first input frame after a reset:
/// its interpolation index starts at `-(SINC_LEN - 1)`, and the sinc table centres index
/// `i` at input time `i + SINC_LEN / 2 - 1 + 1 / OVERSAMPLING`.
const FIRST_TIME: f64 = -((SINC_LEN / 2) as f64) + 1.0 / OVERSAMPLING as f64;
/// Input frames rubato needs after an output frame's time before it produces that frame:
/// with `n` frames fed it produces up to interpolation index `n - SINC_LEN - 1`.
const LOOKAHEAD: f64 = (SINC_LEN / 2 + 2) as f64 - 1.0 / OVERSAMPLING as f64;
/// Input frames after a switch point beyond which a switch is forced (`LOOKAHEAD` are
/// needed).
const DRAIN_LIMIT: usize = 4 * SINC_LEN;
/// Feeding steps after which pumping silence gives up (one or two are needed).
const PUMP_LIMIT: usize = 16;
/// How far `min(1, ratio)` may move from the filter's design before the filter is rebuilt.
const FILTER_TOLERANCE: f64 = 0.02;

/// Why a [`RateConverter`] could not be built.
#[derive(Debug, Clone, PartialEq)]
pub enum ResampleError {
    /// The channel count is 0 or above [`MAX_CHANNELS`].
    Channels(usize),
    /// The ratio is not finite or outside [`MIN_RATIO`]..=[`MAX_RATIO`].
    Ratio(f64),
    /// rubato refused to build the resampler.
    Backend(String),
}

impl fmt::Display for ResampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResampleError::Channels(n) => {
                write!(f, "unsupported channel count {n} (1 to {MAX_CHANNELS})")
            }
            ResampleError::Ratio(r) => write!(f, "unsupported rate ratio {r} (1/16 to 16)"),
            ResampleError::Backend(e) => write!(f, "resampler: {e}"),
        }
    }
}

impl std::error::Error for ResampleError {}

/// One rubato resampler and the stream times of the frames it produces.
#[derive(Debug)]
struct Engine {
    rs: Async<f32>,
    /// The ratio the anti-aliasing filter was designed for.
    filter_ratio: f64,
    /// The ratio currently set in `rs`.
    ratio: f64,
    /// The chunk size currently set in `rs`.
    chunk: usize,
    /// Stream time (in input frames) of the segment's virtual frame 0: raw frame `j >= 1`
    /// of the segment is at `base + j / ratio`. A new segment starts at each ratio change.
    base: f64,
    /// Raw frames produced in this segment.
    raw: u64,
    /// Stream time where output starts: frames more than half an output frame earlier are
    /// dropped.
    start: f64,
    /// Stream time of the end of the input fed so far.
    fed: f64,
}

impl Engine {
    fn new(channels: usize, ratio: f64) -> Result<Self, ResampleError> {
        let params = SincInterpolationParameters {
            sinc_len: SINC_LEN,
            f_cutoff: None,
            oversampling_factor: OVERSAMPLING,
            interpolation: SincInterpolationType::Linear,
            window: WindowFunction::Blackman2,
        };
        // Wide enough that any supported ratio, and the priming ratio in `begin` (up to
        // 1/78 below it), can be set without rebuilding.
        let max_relative = 2.0 * MAX_RATIO * ratio.max(1.0 / ratio);
        let rs = Async::<f32>::new_sinc(
            ratio,
            max_relative,
            &params,
            CHUNK,
            channels,
            FixedAsync::Input,
        )
        .map_err(|e| ResampleError::Backend(e.to_string()))?;
        Ok(Engine {
            rs,
            filter_ratio: ratio,
            ratio,
            chunk: CHUNK,
            base: 0.0,
            raw: 0,
            start: 0.0,
            fed: 0.0,
        })
    }

    /// Whether the anti-aliasing filter fits `ratio`.
    fn suits(&self, ratio: f64) -> bool {
        (ratio.min(1.0) / self.filter_ratio.min(1.0) - 1.0).abs() <= FILTER_TOLERANCE
    }

    /// Clears all state and starts output at stream time `start`, priming the filter with
    /// `history`, the input frames just before `start` (at most `CHUNK`).
    ///
    /// The priming frames are all discarded, so they are produced at a slightly lower ratio
    /// chosen to make the last of them land a whole number of output frames before `start`:
    /// then an output frame falls exactly on `start`, and frame `k` after it is input time
    /// `start + k / ratio`.
    fn begin(
        &mut self,
        ratio: f64,
        history: &[f32],
        channels: usize,
        start: f64,
        out: &mut Vec<f32>,
    ) -> bool {
        self.rs.reset();
        self.chunk = CHUNK;
        self.ratio = self.filter_ratio;
        self.raw = 0;
        self.start = start;
        let frames = history.len() / channels;
        self.fed = start - frames as f64;
        self.base = self.fed + FIRST_TIME;
        // rubato's first call yields floor(room × r) frames, the last at base + that / r.
        let span = start - self.base;
        let room = frames as f64 - 2.0;
        let whole = ((span - room) * ratio).ceil().max(1.0);
        let last = span - whole / ratio;
        let produced = (last * ratio).floor();
        let priming = if last > 0.0 && produced >= 1.0 {
            produced / last
        } else {
            ratio
        };
        if !self.set_ratio(priming) && !self.set_ratio(ratio) {
            return false;
        }
        self.run(Some(history), frames, channels, Some(start), out);
        self.set_ratio(ratio)
    }

    /// Changes the ratio from the next produced frame on.
    fn set_ratio(&mut self, ratio: f64) -> bool {
        if self.rs.set_resample_ratio(ratio, false).is_err() {
            return false;
        }
        self.base += self.raw as f64 / self.ratio;
        self.raw = 0;
        self.ratio = ratio;
        true
    }

    /// Segment index of the first raw frame at or after `t - 0.5 / ratio`.
    fn index_at(&self, t: f64) -> u64 {
        let x = ((t - self.base) * self.ratio - 0.5).ceil();
        if x > 1.0 {
            x as u64
        } else {
            1
        }
    }

    /// Whether every frame before stream time `end` (less half an output frame) is out.
    fn done(&self, end: f64) -> bool {
        self.raw + 1 >= self.index_at(end)
    }

    /// Input frames (1 to `CHUNK`) to feed next on the way to [`done`](Self::done)`(end)`,
    /// so that the last call stops within an input frame of it; 0 when done.
    fn frames_to(&self, end: f64) -> usize {
        let next = self.index_at(end);
        if self.raw + 1 >= next {
            return 0;
        }
        let last = self.base + (next - 1) as f64 / self.ratio;
        (last + LOOKAHEAD - self.fed)
            .ceil()
            .clamp(1.0, CHUNK as f64) as usize
    }

    /// Feeds `data` (`None`: `frames` frames of silence, `frames <= CHUNK`) and appends
    /// the produced frames between `start` and `end` to `out`.
    fn run(
        &mut self,
        data: Option<&[f32]>,
        frames: usize,
        channels: usize,
        end: Option<f64>,
        out: &mut Vec<f32>,
    ) {
        if frames == 0 || frames > CHUNK {
            return;
        }
        if self.chunk != frames {
            if self.rs.set_chunk_size(frames).is_err() {
                return;
            }
            self.chunk = frames;
        }
        let need = self.rs.output_frames_next();
        let at = out.len();
        out.resize(at + need * channels, 0.0);
        let result = {
            let empty: &[f32] = &[];
            let (src, indexing) = match data {
                Some(d) => (InterleavedSlice::new(d, channels, frames), None),
                None => (
                    InterleavedSlice::new(empty, channels, 0),
                    Some(Indexing::new().partial_len(0)),
                ),
            };
            match (
                src,
                InterleavedSlice::new_mut(&mut out[at..], channels, need),
            ) {
                (Ok(src), Ok(mut dst)) => self
                    .rs
                    .process_into_buffer(&src, &mut dst, indexing.as_ref())
                    .ok(),
                _ => None,
            }
        };
        let Some((_, written)) = result else {
            // Cannot happen (the buffers are sized as rubato asks); drop this piece.
            out.truncate(at);
            return;
        };
        self.fed += frames as f64;
        let first = self.raw + 1;
        let lo = first.max(self.index_at(self.start));
        let mut hi = first + written as u64;
        if let Some(end) = end {
            hi = hi.min(self.index_at(end));
        }
        self.raw += written as u64;
        if lo < hi {
            let skip = (lo - first) as usize * channels;
            let keep = (hi - lo) as usize * channels;
            if skip > 0 {
                out.copy_within(at + skip..at + skip + keep, at);
            }
            out.truncate(at + keep);
        } else {
            out.truncate(at);
        }
    }

    /// Feeds interleaved `data` of any length.
    fn feed(&mut self, data: &[f32], channels: usize, out: &mut Vec<f32>) {
        for piece in data.chunks(CHUNK * channels) {
            self.run(Some(piece), piece.len() / channels, channels, None, out);
        }
    }

    /// Feeds silence until every frame before stream time `end` is out, cutting there
    /// when `cut`.
    fn pump(&mut self, channels: usize, end: f64, cut: bool, out: &mut Vec<f32>) {
        for _ in 0..PUMP_LIMIT {
            let n = self.frames_to(end);
            if n == 0 {
                break;
            }
            self.run(None, n, channels, cut.then_some(end), out);
        }
    }
}

/// What [`RateConverter::process`] does with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Ratio 1: copy.
    Pass,
    /// Convert from stream frame `start` on. Until primed, `held` is the history before it.
    Run { primed: bool },
    /// Hand-over at stream frame `edge`: the engine finishes the output for the input before
    /// it, while `held` keeps the history before `edge` and the input since.
    Drain { edge: u64 },
}

/// Interleaved `f32` streaming converter; ratio = output frames per input frame.
///
/// See the [module documentation](self) for the algorithm and the timing guarantees.
#[derive(Debug)]
pub struct RateConverter {
    channels: usize,
    ratio: f64,
    mode: Mode,
    engine: Option<Engine>,
    /// Stream frame where the current conversion run starts.
    start: u64,
    /// Input frames accepted since creation or the last reset.
    in_frames: u64,
    /// The last `HIST` input frames (silence before the stream start).
    hist: Vec<f32>,
    /// See [`Mode`].
    held: Vec<f32>,
}

impl RateConverter {
    /// A converter for `channels` interleaved channels (1 to [`MAX_CHANNELS`]) at `ratio`
    /// ([`MIN_RATIO`] to [`MAX_RATIO`]); other arguments are errors.
    pub fn new(channels: usize, ratio: f64) -> Result<Self, ResampleError> {
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(ResampleError::Channels(channels));
        }
        if !(MIN_RATIO..=MAX_RATIO).contains(&ratio) {
            return Err(ResampleError::Ratio(ratio));
        }
        let engine = if ratio == 1.0 {
            None
        } else {
            Some(Engine::new(channels, ratio)?)
        };
        let mut c = RateConverter {
            channels,
            ratio,
            mode: Mode::Pass,
            engine,
            start: 0,
            in_frames: 0,
            hist: vec![0.0; HIST * channels],
            held: Vec::with_capacity((HIST + DRAIN_LIMIT + CHUNK) * channels),
        };
        c.reset();
        Ok(c)
    }

    /// Changes the ratio for subsequent input, clamped to [`MIN_RATIO`]..=[`MAX_RATIO`]
    /// (NaN is ignored). Never clicks.
    ///
    /// The change takes effect at the current input position `p`. The output for the input
    /// before `p` is first completed at the old ratio, which needs about 34 frames of
    /// input after `p` (the filter's look-ahead), so the switch completes during a later
    /// [`process`](Self::process) (or [`flush`](Self::flush)). Then:
    ///
    /// - If the running filter fits the new ratio (both ≥ 1, or `min(1, ratio)` within 2 %
    ///   of the filter's design), it carries on at the new ratio after its first output frame
    ///   at or past `p` (less than one input frame late). Nothing is lost or repeated.
    /// - To 1, or to a ratio needing another filter: the old output stops half an old output
    ///   period before `p`, and the copy or a new filter (primed with the 64 frames before
    ///   `p`; building it allocates) starts exactly at `p`. The step between the last old
    ///   frame and the first new one is 0.5 to 1.5 old output periods instead of 1: sub-frame
    ///   jitter, nothing lost or repeated beyond that. Input after `p` is held back until the
    ///   switch; [`is_passthrough`](Self::is_passthrough) turns true once it is done.
    /// - From 1: the filter starts exactly at `p`, right after the last copied frame.
    ///
    /// Another change before a pending switch has completed replaces its ratio: the newest
    /// ratio applies from the first position.
    pub fn set_ratio(&mut self, ratio: f64) {
        if ratio.is_nan() {
            return;
        }
        let ratio = ratio.clamp(MIN_RATIO, MAX_RATIO);
        if ratio == self.ratio {
            return;
        }
        self.ratio = ratio;
        match self.mode {
            Mode::Pass => {
                self.start = self.in_frames;
                self.held.clear();
                self.held.extend_from_slice(&self.hist);
                self.mode = Mode::Run { primed: false };
            }
            Mode::Run { primed: false } => {
                if ratio == 1.0 {
                    self.held.clear();
                    self.mode = Mode::Pass;
                }
            }
            Mode::Run { primed: true } => {
                let edge = self.in_frames;
                self.held.clear();
                self.held.extend_from_slice(&self.hist);
                self.mode = Mode::Drain { edge };
                // Usually the engine still owes output for the last `LOOKAHEAD` frames, and
                // the switch waits for more input. If not, switch now; nothing is held since
                // the edge, and priming a new engine waits for `process`.
                let owed = self.engine.as_ref().is_some_and(|e| !e.done(edge as f64));
                if !owed && !self.keep_engine() {
                    self.start = edge;
                    if ratio == 1.0 {
                        self.held.clear();
                        self.mode = Mode::Pass;
                    } else {
                        self.mode = Mode::Run { primed: false };
                    }
                }
            }
            // The switch happens when the engine reaches the edge, to whatever ratio is
            // current then.
            Mode::Drain { .. } => {}
        }
    }

    /// Whether the running engine's filter fits the current ratio (≠ 1).
    fn same_engine(&self) -> bool {
        self.ratio != 1.0 && self.engine.as_ref().is_some_and(|e| e.suits(self.ratio))
    }

    /// At a switch point: carries on with the running engine at the new ratio if its filter
    /// fits, dropping the held input (the engine has consumed it).
    fn keep_engine(&mut self) -> bool {
        let ratio = self.ratio;
        let kept = self.same_engine() && self.engine.as_mut().is_some_and(|e| e.set_ratio(ratio));
        if kept {
            self.held.clear();
            self.mode = Mode::Run { primed: true };
        }
        kept
    }

    /// The current ratio (output frames per input frame).
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// True when `process` is a bit-exact copy with no latency: the ratio is exactly 1 and
    /// the tail of an earlier ratio has been delivered (see [`set_ratio`](Self::set_ratio)).
    pub fn is_passthrough(&self) -> bool {
        self.mode == Mode::Pass
    }

    /// Feeds interleaved input (a trailing partial frame is ignored) and appends the
    /// converted interleaved frames to `out`. Apart from growing `out`, allocates only
    /// when a filter has to be built (see [`set_ratio`](Self::set_ratio)).
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let ch = self.channels;
        let frames = input.len() / ch;
        if frames == 0 {
            return;
        }
        let input = &input[..frames * ch];
        let mut rest = input;
        if let Mode::Drain { edge } = self.mode {
            rest = self.drain(input, edge, out);
        }
        if self.mode == (Mode::Run { primed: false }) {
            self.prime(out);
        }
        match (self.mode, self.engine.as_mut()) {
            (Mode::Pass, _) => out.extend_from_slice(rest),
            (Mode::Run { .. }, Some(e)) => e.feed(rest, ch, out),
            // Draining: all of the input is held.
            _ => {}
        }
        self.remember(input);
        self.in_frames += frames as u64;
    }

    /// End of stream: appends the frames still held back, so that the whole stream's
    /// output matches its input × ratio, then resets (the next input starts a new stream).
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        let ch = self.channels;
        if let Mode::Drain { edge } = self.mode {
            let same = self.same_engine();
            if let Some(e) = self.engine.as_mut() {
                e.pump(ch, edge as f64, !same, out);
            }
            self.finish_drain(edge, out);
        }
        if let Mode::Run { primed } = self.mode {
            let end = self.in_frames;
            if end > self.start {
                if !primed {
                    self.prime(out);
                }
                if let Some(e) = self.engine.as_mut() {
                    e.pump(ch, end as f64, true, out);
                }
            }
        }
        self.reset();
    }

    /// Drops all internal state (after a seek): the next input starts a new stream.
    pub fn reset(&mut self) {
        self.in_frames = 0;
        self.start = 0;
        self.hist.fill(0.0);
        self.held.clear();
        if self.ratio == 1.0 {
            self.mode = Mode::Pass;
        } else {
            self.held.extend_from_slice(&self.hist);
            self.mode = Mode::Run { primed: false };
        }
    }

    /// Starts conversion at `self.start`: `held` is the history before it (and, after a
    /// drain, the input since). Builds a filter if the current one does not fit.
    fn prime(&mut self, out: &mut Vec<f32>) {
        let ratio = self.ratio;
        if !self.engine.as_ref().is_some_and(|e| e.suits(ratio)) {
            self.engine = Engine::new(self.channels, ratio).ok();
        }
        let ch = self.channels;
        let (history, since) = self.held.split_at(self.held.len().min(HIST * ch));
        let start = self.start as f64;
        let primed = match self.engine.as_mut() {
            Some(e) => {
                let ok = e.begin(ratio, history, ch, start, out);
                if ok {
                    e.feed(since, ch, out);
                }
                ok
            }
            None => false,
        };
        if primed {
            self.mode = Mode::Run { primed: true };
        } else {
            // Cannot happen for supported ratios; degrade to a copy rather than silence.
            self.ratio = 1.0;
            out.extend_from_slice(since);
            self.mode = Mode::Pass;
        }
        self.held.clear();
    }

    /// Feeds `input` to the engine until its output for the input before `edge` is
    /// complete, then switches. Returns the input not consumed.
    fn drain<'a>(&mut self, input: &'a [f32], edge: u64, out: &mut Vec<f32>) -> &'a [f32] {
        let ch = self.channels;
        let mut at = 0;
        loop {
            // Carrying on with the same engine, its frames past the edge are kept (the ratio
            // changes after them); otherwise they are dropped and the successor starts at
            // the edge.
            let cut = (!self.same_engine()).then_some(edge as f64);
            let n = match self.engine.as_ref() {
                Some(e) => e.frames_to(edge as f64),
                None => 0,
            };
            if n == 0 || self.held.len() >= (HIST + DRAIN_LIMIT) * ch {
                self.finish_drain(edge, out);
                break;
            }
            if at == input.len() {
                break;
            }
            let piece = &input[at..input.len().min(at + n * ch)];
            at += piece.len();
            self.held.extend_from_slice(piece);
            if let Some(e) = self.engine.as_mut() {
                e.run(Some(piece), piece.len() / ch, ch, cut, out);
            }
        }
        &input[at..]
    }

    /// Switches at `edge`: the same engine at the new ratio, a copy, or a new engine.
    fn finish_drain(&mut self, edge: u64, out: &mut Vec<f32>) {
        if self.keep_engine() {
            return;
        }
        if self.ratio == 1.0 {
            out.extend_from_slice(self.held.get(HIST * self.channels..).unwrap_or(&[]));
            self.held.clear();
            self.mode = Mode::Pass;
        } else {
            self.start = edge;
            self.prime(out);
        }
    }

    /// Keeps the last `HIST` frames of input.
    fn remember(&mut self, input: &[f32]) {
        let (n, h) = (input.len(), self.hist.len());
        if n >= h {
            self.hist.copy_from_slice(&input[n - h..]);
        } else {
            self.hist.copy_within(n.., 0);
            self.hist[h - n..].copy_from_slice(input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const AMP: f64 = 0.5;

    /// Interleaved stereo: a sine on the left, silence on the right.
    fn sine(frames: usize, rate: f64, freq: f64) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| {
                [
                    (AMP * (2.0 * PI * freq * i as f64 / rate).sin()) as f32,
                    0.0,
                ]
            })
            .collect()
    }

    /// Deterministic chunk sizes in `1..=max` (xorshift).
    struct Sizes(u64, usize);

    impl Sizes {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % self.1 as u64) as usize + 1
        }
    }

    /// Feeds interleaved stereo `input` in chunks of `sizes` frames.
    /// Feeds all of `input` in varied chunk sizes and flushes: the converter's whole output.
    fn whole_stream(c: &mut RateConverter, input: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        feed(c, input, &mut Sizes(0x9e37_79b9_7f4a_7c15, 512), &mut out);
        c.flush(&mut out);
        out
    }

    fn feed(c: &mut RateConverter, input: &[f32], sizes: &mut Sizes, out: &mut Vec<f32>) {
        let mut at = 0;
        while at < input.len() {
            let n = (sizes.next() * 2).min(input.len() - at);
            c.process(&input[at..at + n], out);
            at += n;
        }
    }

    fn convert(ratio: f64, input: &[f32], max_chunk: usize) -> Vec<f32> {
        let mut c = RateConverter::new(2, ratio).unwrap();
        let mut out = Vec::new();
        feed(
            &mut c,
            input,
            &mut Sizes(0x9e37_79b9_7f4a_7c15, max_chunk),
            &mut out,
        );
        c.flush(&mut out);
        out
    }

    fn left(out: &[f32]) -> Vec<f32> {
        out.iter().step_by(2).copied().collect()
    }

    /// Largest difference between `out` and a sine of `freq` cycles per output frame,
    /// over output frames `range`.
    fn error_vs_sine(out: &[f32], freq: f64, range: std::ops::Range<usize>) -> f64 {
        range
            .map(|k| (f64::from(out[k]) - AMP * (2.0 * PI * freq * k as f64).sin()).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn passthrough_is_bit_exact_with_zero_latency() {
        let mut seed = 1u32;
        let input: Vec<f32> = (0..200_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                seed as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        let mut c = RateConverter::new(2, 1.0).unwrap();
        assert!(c.is_passthrough());
        let mut out = Vec::new();
        let mut sizes = Sizes(7, 5000);
        let mut at = 0;
        while at < input.len() {
            let n = (sizes.next() * 2).min(input.len() - at);
            c.process(&input[at..at + n], &mut out);
            at += n;
            assert_eq!(out.len(), at, "no latency");
        }
        c.flush(&mut out);
        assert!(out
            .iter()
            .zip(&input)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(out.len(), input.len());
    }

    #[test]
    fn converts_44k1_to_48k() {
        let input = sine(44_100, 44_100.0, 440.0);
        let out = convert(48_000.0 / 44_100.0, &input, 4096);
        assert_eq!(out.len() / 2, 48_000);
        let l = left(&out);
        // Aligned without any fitted offset: output frame k is input time k / ratio. The sine
        // starts and stops abruptly, which rings near the ends.
        let inner = error_vs_sine(&l, 440.0 / 48_000.0, 200..47_800);
        let all = error_vs_sine(&l, 440.0 / 48_000.0, 0..48_000);
        assert!(inner < 2e-6, "max error {inner:e} away from the ends");
        assert!(all < 2e-3, "max error {all:e} over the whole output");
        let rising = l.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert_eq!(rising, 440 - 1, "rising zero crossings in one second");
        assert!(out.iter().skip(1).step_by(2).all(|&s| s == 0.0));
    }

    /// Least-squares fit of `a sin(wk) + b cos(wk)` over `range`: (gain in dB relative to
    /// `AMP`, time offset in output frames of the fitted sine against `sin(wk)`).
    fn fit_sine(out: &[f32], w: f64, range: std::ops::Range<usize>) -> (f64, f64) {
        let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for k in range {
            let (s, c) = (w * k as f64).sin_cos();
            let y = f64::from(out[k]);
            (ss, cc, sc, ys, yc) = (ss + s * s, cc + c * c, sc + s * c, ys + y * s, yc + y * c);
        }
        let det = ss * cc - sc * sc;
        let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
        (20.0 * (a.hypot(b) / AMP).log10(), b.atan2(a) / w)
    }

    #[test]
    fn output_is_time_aligned_at_any_ratio() {
        // 100 Hz and 400 Hz at 48 kHz survive even 1/16. Output frame k is input time
        // k / ratio: the fitted sine has no time offset. The gain shows the filter's passband
        // ripple, largest at 1/16, where 64 taps span only 2 periods of the cutoff.
        for freq in [100.0, 400.0] {
            let input = sine(4_800, 48_000.0, freq);
            for ratio in [
                MIN_RATIO,
                0.25,
                0.5,
                44_100.0 / 48_000.0,
                1.001,
                48_000.0 / 44_100.0,
                2.0,
                3.7,
                MAX_RATIO,
            ] {
                let l = left(&convert(ratio, &input, 3000));
                let n = l.len();
                let (gain, offset) =
                    fit_sine(&l, 2.0 * PI * freq / 48_000.0 / ratio, n / 10..n - n / 10);
                // Measured: below 4e-7 frames; gain within 0.0003 dB, but -0.4 dB at 400 Hz
                // for 1/16.
                assert!(
                    offset.abs() < 1e-5,
                    "ratio {ratio}, {freq} Hz: offset {offset} frames"
                );
                let max_gain = if ratio < 0.25 { 0.5 } else { 0.01 };
                assert!(
                    gain.abs() < max_gain,
                    "ratio {ratio}, {freq} Hz: gain {gain} dB"
                );
                if ratio >= 0.5 {
                    let err = error_vs_sine(&l, freq / 48_000.0 / ratio, n / 10..n - n / 10);
                    assert!(err < 1e-5, "ratio {ratio}, {freq} Hz: max error {err:e}");
                }
            }
        }
    }

    #[test]
    fn lengths_match_input_times_ratio() {
        let input = sine(4_001, 48_000.0, 440.0);
        for ratio in [
            0.5,
            2.0,
            1.0 / 1.5,
            0.25,
            4.0,
            MIN_RATIO,
            MAX_RATIO,
            48_000.0 / 44_100.0,
            44_100.0 / 48_000.0,
        ] {
            for (frames, max_chunk) in [(4_001, 100_000), (4_001, 333), (301, 1), (7, 3)] {
                let n = convert(ratio, &input[..frames * 2], max_chunk).len() / 2;
                let exact = frames as f64 * ratio;
                // Rounded, halves down; a tie may go either way.
                let want = (exact - 0.5).ceil() as usize;
                let tie = (exact.fract() - 0.5).abs() < 1e-9;
                assert!(
                    n == want || tie && n.abs_diff(want) <= 1,
                    "ratio {ratio}, {frames} frames in: {n} out, want {want}"
                );
            }
        }
        // The pitch follows the rate: 440 Hz at 2× speed (ratio 0.5) is 880 Hz at 48 kHz.
        let input = sine(48_000, 48_000.0, 440.0);
        let l = left(&convert(0.5, &input, 1000));
        let rising = l.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert_eq!(rising, 440 - 1);
    }

    /// Input position, ratio from there on (input at 44.1 kHz).
    const CHANGES: [(usize, f64); 9] = [
        (0, 48_000.0 / 44_100.0),
        (7_000, 0.8),                  // below 1: new filter
        (12_000, 24_000.0 / 44_100.0), // 2× speed: new filter
        (17_000, 0.55),                // within 2 % of the filter's design: same engine
        (22_000, 1.0),                 // to pass-through
        (27_000, 1.25),                // from pass-through
        (32_000, 4.0),                 // both >= 1: same engine
        (33_000, 1.0),                 // to pass-through, but...
        (33_005, 0.3),                 // ...replaced before that switch could happen
    ];
    const CHANGES_INPUT: usize = 40_000;

    /// For each of `CHANGES`: (output frame where it takes effect, ratio in effect). A
    /// change less than `LOOKAHEAD` input frames after the previous one replaces it.
    fn segments() -> Vec<(f64, f64)> {
        let mut pos = 0.0;
        let mut segs = Vec::new();
        for (i, &(at, ratio)) in CHANGES.iter().enumerate() {
            let next = CHANGES.get(i + 1);
            let end = next.map_or(CHANGES_INPUT, |c| c.0);
            let ratio = next
                .filter(|c| ((c.0 - at) as f64) < LOOKAHEAD)
                .map_or(ratio, |c| c.1);
            segs.push((pos, ratio));
            pos += (end - at) as f64 * ratio;
        }
        segs.push((pos, 0.0));
        segs
    }

    fn with_changes(input: &[f32], max_chunk: usize) -> Vec<f32> {
        let mut c = RateConverter::new(2, CHANGES[0].1).unwrap();
        let mut sizes = Sizes(42, max_chunk);
        let mut out = Vec::new();
        for (i, &(at, ratio)) in CHANGES.iter().enumerate() {
            let end = CHANGES.get(i + 1).map_or(CHANGES_INPUT, |c| c.0);
            c.set_ratio(ratio);
            assert_eq!(c.ratio(), ratio);
            feed(&mut c, &input[at * 2..end * 2], &mut sizes, &mut out);
        }
        c.flush(&mut out);
        out
    }

    #[test]
    fn ratio_changes_keep_continuity() {
        let (freq, rate) = (440.0, 44_100.0);
        let input = sine(CHANGES_INPUT, rate, freq);
        let out = with_changes(&input, 700);
        let segs = segments();
        let want = segs[segs.len() - 1].0;
        let n = out.len() / 2;
        assert!((n as f64 - want).abs() <= 2.0, "{n} frames, want {want}");
        // Every step between output frames stays within what the sine itself does at the
        // ratio in effect (2 A sin(ω / 2)). Around a change, with the smaller of the two
        // ratios, and a step of up to 1.5 frames: a hand-over to pass-through or to a new
        // filter leaves a gap of 0.5 to 1.5 old output periods before the switch point.
        let l = left(&out);
        let step_at =
            |ratio: f64, periods: f64| 2.0 * AMP * (PI * freq / rate / ratio * periods).sin();
        let mut seams = 0;
        // (The sine starts and stops abruptly, which rings at the very ends.)
        for k in 200..l.len() - 200 {
            let step = f64::from((l[k + 1] - l[k]).abs());
            let i = segs.iter().rposition(|s| s.0 <= k as f64).unwrap_or(0);
            let (here, next) = (segs[i], segs.get(i + 1).copied().unwrap_or(segs[i]));
            let bound = if (k as f64 - here.0).abs() < 3.0 && i > 0 {
                seams += 1;
                step_at(here.1.min(segs[i - 1].1), 1.5)
            } else if (next.0 - k as f64).abs() < 3.0 && next.1 > 0.0 {
                seams += 1;
                step_at(here.1.min(next.1), 1.5)
            } else {
                step_at(here.1, 1.0) * 1.001 + 1e-6
            };
            assert!(step <= bound, "frame {k}: step {step} > {bound}");
        }
        assert!(seams > 20);
        assert!(out.iter().skip(1).step_by(2).all(|&s| s == 0.0));
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = sine(CHANGES_INPUT, 44_100.0, 1000.0);
        let one = with_changes(&input, 1_000_000);
        for max_chunk in [1, 17, 1500] {
            let many = with_changes(&input, max_chunk);
            assert_eq!(one.len(), many.len(), "max chunk {max_chunk}");
            let diff = one
                .iter()
                .zip(&many)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(diff <= 1e-6, "max chunk {max_chunk}: differs by {diff:e}");
        }
    }

    #[test]
    fn back_to_passthrough_copies_exactly() {
        let input = sine(20_000, 48_000.0, 440.0);
        let mut c = RateConverter::new(2, 1.0).unwrap();
        let mut out = Vec::new();
        c.process(&input[..10_000], &mut out);
        assert_eq!(out, &input[..10_000]);
        c.set_ratio(0.5);
        assert!(!c.is_passthrough());
        c.process(&input[10_000..20_000], &mut out); // 5000 frames at 2× speed
        c.set_ratio(1.0);
        assert!(!c.is_passthrough(), "the tail is still being finished");
        c.process(&input[20_000..20_200], &mut out);
        assert!(c.is_passthrough());
        let before = out.len();
        c.process(&input[20_200..], &mut out);
        assert_eq!(&out[before..], &input[20_200..]);
        let frames = out.len() / 2;
        assert!(
            frames.abs_diff(5_000 + 2_500 + 10_000) <= 1,
            "{frames} frames"
        );
        // The converted stretch starts exactly where the copy left off.
        let l = left(&out);
        let err = (5_000..7_500)
            .map(|k| {
                let t = 5_000.0 + (k - 5_000) as f64 * 2.0;
                (f64::from(l[k]) - AMP * (2.0 * PI * 440.0 * t / 48_000.0).sin()).abs()
            })
            .fold(0.0, f64::max);
        assert!(err < 1e-4, "max error {err:e}");
    }

    #[test]
    fn reset_restarts_cleanly() {
        let input = sine(30_000, 44_100.0, 440.0);
        let fresh = convert(48_000.0 / 44_100.0, &input, 512);
        let mut c = RateConverter::new(2, 48_000.0 / 44_100.0).unwrap();
        let mut out = Vec::new();
        c.process(&input[..10_001 * 2], &mut out);
        c.reset();
        assert_eq!(whole_stream(&mut c, &input), fresh);
        // Also in the middle of a hand-over, and after a flush.
        c.process(&input[..10_001 * 2], &mut out);
        c.set_ratio(1.0);
        c.process(&input[..4], &mut out);
        c.set_ratio(48_000.0 / 44_100.0);
        c.set_ratio(0.5);
        c.reset();
        c.set_ratio(48_000.0 / 44_100.0);
        assert_eq!(whole_stream(&mut c, &input), fresh);
        assert_eq!(whole_stream(&mut c, &input), fresh);
    }

    #[test]
    fn invalid_arguments_are_errors() {
        assert_eq!(
            RateConverter::new(0, 1.0).err(),
            Some(ResampleError::Channels(0))
        );
        assert!(RateConverter::new(MAX_CHANNELS + 1, 1.0).is_err());
        for ratio in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.06,
            16.01,
            100.0,
        ] {
            assert!(RateConverter::new(2, ratio).is_err(), "ratio {ratio}");
        }
        assert!(RateConverter::new(1, MIN_RATIO).is_ok());
        assert!(RateConverter::new(MAX_CHANNELS, MAX_RATIO).is_ok());
        let mut c = RateConverter::new(3, 1.0).unwrap();
        c.set_ratio(f64::NAN);
        assert_eq!(c.ratio(), 1.0);
        c.set_ratio(100.0);
        assert_eq!(c.ratio(), MAX_RATIO);
        c.set_ratio(f64::NEG_INFINITY);
        assert_eq!(c.ratio(), MIN_RATIO);
        c.set_ratio(0.0);
        assert_eq!(c.ratio(), MIN_RATIO);
        // A trailing partial frame is ignored; empty input and empty flushes are fine.
        let mut out = Vec::new();
        c.process(&[], &mut out);
        c.process(&[0.5, 0.5], &mut out);
        c.flush(&mut out);
        c.flush(&mut out);
        assert!(out.is_empty());
        c.set_ratio(1.0);
        c.process(&[0.1, 0.2, 0.3, 0.4, 0.5], &mut out);
        assert_eq!(out, [0.1, 0.2, 0.3]);
    }

    #[test]
    fn channels_stay_separated() {
        for ratio in [0.5, 48_000.0 / 44_100.0, 3.0] {
            let input = sine(20_000, 44_100.0, 3000.0);
            let swapped: Vec<f32> = input.chunks(2).flat_map(|f| [f[1], f[0]]).collect();
            for (data, silent) in [(&input, 1), (&swapped, 0)] {
                let mut c = RateConverter::new(2, ratio).unwrap();
                let mut out = Vec::new();
                c.process(&data[..20_000], &mut out);
                c.set_ratio(ratio * 0.7);
                c.process(&data[20_000..], &mut out);
                c.flush(&mut out);
                assert!(out.iter().skip(silent).step_by(2).all(|&s| s == 0.0));
                let loud = out
                    .iter()
                    .skip(1 - silent)
                    .step_by(2)
                    .fold(0.0f32, |m, s| m.max(s.abs()));
                assert!(loud > 0.45, "ratio {ratio}: peak {loud}");
            }
        }
    }

    #[test]
    fn random_use_never_misbehaves() {
        // Random chunk sizes, ratios (including 1, repeats and clamped values), resets and
        // flushes. The right channel stays silent, nothing overshoots, and each stream's
        // length is its input integrated over the ratio in effect, within a few frames per
        // change.
        let input = sine(12_000, 44_100.0, 2000.0);
        let mut rng = Sizes(0x2545_f491_4f6c_dd1d, 1 << 30);
        let ratios = [
            1.0,
            1.0,
            0.3,
            0.5,
            0.55,
            0.8,
            1.0 / 1.5,
            48.0 / 44.1,
            1.25,
            4.0,
            20.0,
        ];
        let mut c = RateConverter::new(2, 1.0).unwrap();
        let mut out = Vec::new();
        for _ in 0..50 {
            let mut want = 0.0;
            let mut changes = 0.0;
            let mut at = 0;
            out.clear();
            while at < input.len() && !rng.next().is_multiple_of(8) {
                if rng.next().is_multiple_of(3) {
                    c.set_ratio(ratios[rng.next() % ratios.len()]);
                    changes += 1.0;
                }
                let n = ((rng.next() % 1000 + 1) * 2).min(input.len() - at);
                c.process(&input[at..at + n], &mut out);
                want += (n / 2) as f64 * c.ratio();
                at += n;
            }
            if rng.next().is_multiple_of(4) {
                c.reset();
                continue;
            }
            c.flush(&mut out);
            let got = (out.len() / 2) as f64;
            // A change applies from where it is made, except that one arriving within the
            // look-ahead of a pending switch replaces it: allow that much per change.
            let slack = 2.0 + changes * LOOKAHEAD * MAX_RATIO.min(20.0);
            assert!((got - want).abs() <= slack, "{got} frames, want {want}");
            assert!(out.iter().skip(1).step_by(2).all(|&s| s == 0.0));
            // The sine starts and stops abruptly, which rings (Gibbs) for half a filter
            // length, up to 64 × 16 output frames.
            let (n, edge) = (out.len(), 2 * SINC_LEN / 2 * MAX_RATIO as usize);
            assert!(out.iter().all(|s| s.abs() < 0.6));
            assert!(n < 2 * edge || out[edge..n - edge].iter().all(|s| s.abs() < 0.5002));
        }
    }
}
