//! Channel mapping from a source layout to the device's channel count: one mixer for every
//! audio path (core-decoded, platform-decoded, a level switch between channel counts).
//!
//! Positions are the speaker bits of WAVEFORMATEXTENSIBLE (`FL`, `FR`, `FC`, `LFE`, `BL`, `BR`,
//! …), which symphonia's `Position` also uses; interleaved channels come in ascending bit
//! order. A decoder that names no positions (WebCodecs' `AudioData` has only a count) hands
//! out the default layout of its count ([`Layout::of_count`]: ffmpeg's and Chromium's order,
//! e.g. 5.1 = L R C LFE BL BR).
//!
//! The mix follows what Chromium's `<video>` does, so a surround file plays at the level it
//! has there: mono is copied to left and right (or to the centre of an output that has one);
//! more channels fold into the output's by position — a position the output has is copied,
//! the centre goes to left and right at −3 dB, left-side and rear positions to left at −3 dB
//! (right likewise), rear/top centres to both at −6 dB, LFE is dropped — without
//! normalisation (a full-scale mix can exceed 1.0, as in the browser). A mix to mono is the
//! average of the stereo mix. Channels without positions (more than eight, or an unknown
//! layout) are mapped by index, the rest dropped (Web Audio's "discrete").

/// −3 dB.
const H: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// The speaker positions of interleaved channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Positions by WAVEFORMATEXTENSIBLE bit (bit 0 front left, 1 front right, 2 front centre,
    /// 3 LFE, 4 back left, 5 back right, …); channels in ascending bit order.
    Positions(u64),
    /// This many channels with no known positions.
    Discrete(usize),
}

/// Front left.
const FL: u64 = 1;
/// Front right.
const FR: u64 = 1 << 1;
/// Front centre.
const FC: u64 = 1 << 2;
/// Low-frequency effects.
const LFE: u64 = 1 << 3;
/// Back left.
const BL: u64 = 1 << 4;
/// Back right.
const BR: u64 = 1 << 5;
/// Front left of centre.
const FLC: u64 = 1 << 6;
/// Front right of centre.
const FRC: u64 = 1 << 7;
/// Back centre.
const BC: u64 = 1 << 8;
/// Side left.
const SL: u64 = 1 << 9;
/// Side right.
const SR: u64 = 1 << 10;

impl Layout {
    /// The default layout of `n` channels (ffmpeg's defaults, which Chromium's decoders hand
    /// out): mono, stereo, 3.0, quad, 5.0, 5.1, 6.1, 7.1; more are discrete.
    pub fn of_count(n: usize) -> Layout {
        Layout::Positions(match n {
            1 => FC,
            2 => FL | FR,
            3 => FL | FR | FC,
            4 => FL | FR | BL | BR,
            5 => FL | FR | FC | BL | BR,
            6 => FL | FR | FC | LFE | BL | BR,
            7 => FL | FR | FC | LFE | BC | SL | SR,
            8 => FL | FR | FC | LFE | BL | BR | SL | SR,
            _ => return Layout::Discrete(n),
        })
    }

    /// The layout a decoder hands out for an AAC `channelConfiguration` (ISO 14496-3
    /// table 1.19, in the decoders' order), when it differs from the default of its count:
    /// 4 is 4.0 with a back centre, 7 is 7.1 with front left- and right-of-centre.
    pub fn of_aac_config(config: u8) -> Option<Layout> {
        match config {
            4 => Some(Layout::Positions(FL | FR | FC | BC)),
            7 => Some(Layout::Positions(FL | FR | FC | LFE | BL | BR | FLC | FRC)),
            _ => None,
        }
    }

    /// `mask`'s positions when it names exactly `n` channels, else the default for `n`. One
    /// channel is mono whatever its position (symphonia names mono front left).
    pub fn from_mask(mask: u64, n: usize) -> Layout {
        if mask.count_ones() as usize == n && n > 1 {
            Layout::Positions(mask)
        } else {
            Layout::of_count(n)
        }
    }

    /// Number of channels.
    pub fn count(&self) -> usize {
        match *self {
            Layout::Positions(m) => m.count_ones() as usize,
            Layout::Discrete(n) => n,
        }
    }

    /// The position bit of each channel, in order (`None` for discrete channels).
    fn positions(&self) -> Vec<Option<u64>> {
        match *self {
            Layout::Positions(m) => (0..64)
                .map(|b| 1u64 << b)
                .filter(|bit| m & bit != 0)
                .map(Some)
                .collect(),
            Layout::Discrete(n) => vec![None; n],
        }
    }

    /// A short name: `mono`, `stereo`, `5.1`, `7.1`, or the channel count.
    pub fn name(&self) -> String {
        match *self {
            Layout::Positions(m) if m == FC => "mono".into(),
            Layout::Positions(m) if m == FL | FR => "stereo".into(),
            Layout::Positions(m) if m == FL | FR | FC | LFE | BL | BR => "5.1".into(),
            Layout::Positions(m) if m == FL | FR | FC | LFE | SL | SR => "5.1(side)".into(),
            Layout::Positions(m) if m == FL | FR | FC | LFE | BL | BR | SL | SR => "7.1".into(),
            other => format!("{} channels", other.count()),
        }
    }
}

/// (left, right) gains of a position folded into stereo.
fn stereo_gains(bit: u64) -> (f32, f32) {
    // Left-side positions: FL, BL, FLC, SL, TFL, TBL, TSL, BFL, FLW; right likewise.
    const LEFT: u64 = BL | FLC | SL | (1 << 12) | (1 << 15) | (1 << 19) | (1 << 22) | (1 << 24);
    const RIGHT: u64 = BR | FRC | SR | (1 << 14) | (1 << 17) | (1 << 20) | (1 << 23) | (1 << 25);
    const CENTRE_BACK: u64 = BC | (1 << 11) | (1 << 13) | (1 << 16) | (1 << 21);
    match bit {
        FL => (1.0, 0.0),
        FR => (0.0, 1.0),
        FC => (H, H),
        b if b & LEFT != 0 => (H, 0.0),
        b if b & RIGHT != 0 => (0.0, H),
        b if b & CENTRE_BACK != 0 => (0.5, 0.5),
        // LFE1, LFE2 and anything unnamed.
        _ => (0.0, 0.0),
    }
}

/// The `from.count() × to` gain matrix (row per input channel).
fn matrix(from: Layout, to: usize) -> Vec<f32> {
    let n = from.count();
    let mut m = vec![0.0f32; n * to];
    let inputs = from.positions();
    if to == 1 {
        // The average of the stereo mix (mono stays as it is).
        if from == Layout::Positions(FC) {
            m[0] = 1.0;
            return m;
        }
        for (i, p) in inputs.iter().enumerate() {
            let (l, r) = match p {
                Some(bit) => stereo_gains(*bit),
                None => match i {
                    0 => (1.0, 0.0),
                    1 => (0.0, 1.0),
                    _ => (0.0, 0.0),
                },
            };
            m[i] = (l + r) * 0.5;
        }
        return m;
    }
    let outputs = Layout::of_count(to).positions();
    let out_index = |bit: u64| outputs.iter().position(|o| *o == Some(bit));
    let (left, right) = (out_index(FL), out_index(FR));
    if from == Layout::Positions(FC) && out_index(FC).is_none() {
        // Mono to an output without a centre: copied to left and right.
        if let (Some(l), Some(r)) = (left, right) {
            m[l] = 1.0;
            m[r] = 1.0;
        }
        return m;
    }
    for (i, p) in inputs.iter().enumerate() {
        let row = &mut m[i * to..(i + 1) * to];
        match p {
            Some(bit) => {
                if let Some(o) = out_index(*bit) {
                    row[o] = 1.0;
                } else {
                    let (l, r) = stereo_gains(*bit);
                    if let (Some(lo), Some(ro)) = (left, right) {
                        row[lo] += l;
                        row[ro] += r;
                    }
                }
            }
            None => {
                if i < to {
                    row[i] = 1.0;
                }
            }
        }
    }
    m
}

/// Appends `src` (interleaved, laid out as `from`) to `out` as interleaved `to` channels,
/// mixed as the module docs say.
pub fn remix(src: &[f32], from: Layout, to: usize, out: &mut Vec<f32>) {
    let n = from.count();
    if n == 0 || to == 0 {
        return;
    }
    if Layout::of_count(to) == from || (n == to && matches!(from, Layout::Discrete(_))) {
        out.extend_from_slice(src);
        return;
    }
    let m = matrix(from, to);
    out.reserve(src.len() / n * to);
    for frame in src.chunks_exact(n) {
        for o in 0..to {
            let mut s = 0.0;
            for (i, x) in frame.iter().enumerate() {
                s += x * m[i * to + o];
            }
            out.push(s);
        }
    }
}

/// [`remix`] into a new vector.
pub fn remixed(src: &[f32], from: Layout, to: usize) -> Vec<f32> {
    let mut out = Vec::new();
    remix(src, from, to, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn mono_and_stereo() {
        let mono = Layout::of_count(1);
        let stereo = Layout::of_count(2);
        assert_eq!(remixed(&[0.5, -0.5], mono, 2), vec![0.5, 0.5, -0.5, -0.5]);
        assert_eq!(remixed(&[0.1, 0.2], stereo, 2), vec![0.1, 0.2]);
        assert!(close(&remixed(&[0.2, 0.4], stereo, 1), &[0.3]));
        assert_eq!(remixed(&[0.7], mono, 1), vec![0.7]);
        // Stereo to a 5.1 device keeps left and right, the rest silent.
        assert_eq!(
            remixed(&[0.1, 0.2], stereo, 6),
            vec![0.1, 0.2, 0.0, 0.0, 0.0, 0.0]
        );
        // Mono to 5.1: the centre.
        assert_eq!(remixed(&[0.3], mono, 6), vec![0.0, 0.0, 0.3, 0.0, 0.0, 0.0]);
        // Mono to quad (no centre): left and right.
        assert_eq!(remixed(&[0.3], mono, 4), vec![0.3, 0.3, 0.0, 0.0]);
    }

    #[test]
    fn five_one_and_seven_one_to_stereo() {
        // L R C LFE BL BR: L + h(C + BL), R + h(C + BR), LFE dropped.
        let out = remixed(&[0.1, 0.2, 0.3, 0.9, 0.4, 0.5], Layout::of_count(6), 2);
        assert!(close(&out, &[0.1 + H * 0.7, 0.2 + H * 0.8]), "{out:?}");
        // 7.1 adds the sides at −3 dB: nothing is lost.
        let out = remixed(
            &[0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.6, 0.7],
            Layout::of_count(8),
            2,
        );
        assert!(
            close(
                &out,
                &[0.1 + H * (0.3 + 0.4 + 0.6), 0.2 + H * (0.3 + 0.5 + 0.7)]
            ),
            "{out:?}"
        );
        // Each channel of 7.1 reaches the stereo mix except LFE.
        for c in 0..8 {
            let mut f = [0.0f32; 8];
            f[c] = 1.0;
            let out = remixed(&f, Layout::of_count(8), 2);
            assert_eq!(out[0] + out[1] > 0.0, c != 3, "channel {c}: {out:?}");
        }
        // 6.1's back centre to both at −6 dB.
        let out = remixed(&[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], Layout::of_count(7), 2);
        assert!(close(&out, &[0.5, 0.5]), "{out:?}");
    }

    #[test]
    fn positions_from_the_decoder() {
        // Quad as FL FR SL SR (a WAV mask): the sides fold to their own side.
        let quad_sides = Layout::from_mask(FL | FR | SL | SR, 4);
        let out = remixed(&[0.0, 0.0, 1.0, 0.0], quad_sides, 2);
        assert!(close(&out, &[H, 0.0]), "{out:?}");
        // Mono named front left is mono.
        assert_eq!(Layout::from_mask(FL, 1), Layout::of_count(1));
        // A mask that does not match the count falls back to the default.
        assert_eq!(Layout::from_mask(FL | FR, 6), Layout::of_count(6));
        // Same layout in and out: a copy.
        let s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        assert_eq!(remixed(&s, Layout::of_count(6), 6), s.to_vec());
        // 5.1 to quad: L, R and the backs kept, the centre to both fronts at −3 dB.
        let out = remixed(&[0.1, 0.2, 1.0, 0.5, 0.3, 0.4], Layout::of_count(6), 4);
        assert!(close(&out, &[0.1 + H, 0.2 + H, 0.3, 0.4]), "{out:?}");
    }

    #[test]
    fn aac_layouts() {
        // 4.0 (C L R Cs): the back centre to both at −6 dB.
        let four = Layout::of_aac_config(4).unwrap();
        let out = remixed(&[0.0, 0.0, 0.0, 1.0], four, 2);
        assert!(close(&out, &[0.5, 0.5]), "{out:?}");
        // 7.1 wide: the front left-of-centre to the left at −3 dB.
        let wide = Layout::of_aac_config(7).unwrap();
        assert_eq!(wide.count(), 8);
        let out = remixed(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0], wide, 2);
        assert!(close(&out, &[H, 0.0]), "{out:?}");
        assert_eq!(Layout::of_aac_config(6), None);
    }

    #[test]
    fn discrete_channels_by_index() {
        let d = Layout::of_count(10);
        assert_eq!(d, Layout::Discrete(10));
        let f: Vec<f32> = (0..10).map(|i| i as f32).collect();
        assert_eq!(remixed(&f, d, 2), vec![0.0, 1.0]);
        assert!(close(&remixed(&f, d, 1), &[0.5]));
        assert_eq!(remixed(&f, d, 10), f);
        assert_eq!(Layout::of_count(6).name(), "5.1");
        assert_eq!(Layout::of_count(8).name(), "7.1");
        assert_eq!(d.name(), "10 channels");
    }
}
