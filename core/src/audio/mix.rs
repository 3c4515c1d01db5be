//! Channel mapping from a source layout to the device's channel count.

/// Appends `src` (interleaved, `from` channels) to `out` as interleaved `to` channels.
///
/// Mono is copied to every output channel; stereo to stereo is a copy; more than two source
/// channels are folded to stereo with the ITU-R BS.775 coefficients for the common
/// L, R, C, LFE, Ls, Rs order (LFE dropped); extra output channels are silent.
pub fn remix(src: &[f32], from: usize, to: usize, out: &mut Vec<f32>) {
    if from == 0 || to == 0 {
        return;
    }
    if from == to {
        out.extend_from_slice(src);
        return;
    }
    const C: f32 = std::f32::consts::FRAC_1_SQRT_2;
    out.reserve(src.len() / from * to);
    for frame in src.chunks_exact(from) {
        let (l, r) = match from {
            1 => (frame[0], frame[0]),
            2 => (frame[0], frame[1]),
            _ => {
                let c = frame.get(2).copied().unwrap_or(0.0) * C;
                let ls = frame.get(4).copied().unwrap_or(0.0) * C;
                let rs = frame.get(5).copied().unwrap_or(0.0) * C;
                let norm = 1.0 / (1.0 + C + C);
                ((frame[0] + c + ls) * norm, (frame[1] + c + rs) * norm)
            }
        };
        match to {
            1 => out.push(if from == 1 { l } else { (l + r) * 0.5 }),
            _ => {
                out.push(l);
                out.push(r);
                out.extend(std::iter::repeat_n(0.0, to - 2));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::remix;

    #[test]
    fn layouts() {
        let mut out = Vec::new();
        remix(&[0.5, -0.5], 1, 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, -0.5, -0.5]);
        out.clear();
        remix(&[0.1, 0.2], 2, 2, &mut out);
        assert_eq!(out, vec![0.1, 0.2]);
        out.clear();
        remix(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], 6, 2, &mut out);
        assert_eq!(out.len(), 2);
        assert!(out[0] > 0.4 && out[1] == 0.0);
        out.clear();
        remix(&[0.2, 0.4], 2, 1, &mut out);
        assert!((out[0] - 0.3).abs() < 1e-6);
    }
}
