//! WebCodecs codec strings from decoder configuration records.
//!
//! The strings follow the WebCodecs codec registry: `avc1.PPCCLL` (ISO/IEC 14496-15),
//! `hvc1.P.C.TL.B` (ISO/IEC 14496-15 annex E), `vp09.PP.LL.DD` (VP9 ISOBMFF binding),
//! `av01.P.LLT.DD` (AV1 ISOBMFF binding), `mp4a.40.AOT` (RFC 6381).

/// `avc1.PPCCLL` from an `avcC` body (AVCDecoderConfigurationRecord).
pub fn avc(avcc: &[u8]) -> Option<String> {
    if avcc.len() < 7 || avcc[0] != 1 {
        return None;
    }
    Some(format!(
        "avc1.{:02x}{:02x}{:02x}",
        avcc[1], avcc[2], avcc[3]
    ))
}

/// `hvc1.P.C.TL.B` (or `hev1…` when `sample_entry` is `hev1`) from an `hvcC` body.
pub fn hevc(hvcc: &[u8], sample_entry: &str) -> Option<String> {
    if hvcc.len() < 23 || hvcc[0] != 1 {
        return None;
    }
    let space = hvcc[1] >> 6;
    let tier = (hvcc[1] >> 5) & 1;
    let profile = hvcc[1] & 0x1f;
    let compat = u32::from_be_bytes([hvcc[2], hvcc[3], hvcc[4], hvcc[5]]).reverse_bits();
    let constraints = &hvcc[6..12];
    let level = hvcc[12];
    let space = match space {
        1 => "A",
        2 => "B",
        3 => "C",
        _ => "",
    };
    let mut s = format!(
        "{sample_entry}.{space}{profile}.{compat:x}.{}{level}",
        if tier == 1 { 'H' } else { 'L' }
    );
    let last = constraints.iter().rposition(|&b| b != 0);
    if let Some(last) = last {
        for b in &constraints[..=last] {
            s.push_str(&format!(".{b:X}"));
        }
    }
    Some(s)
}

/// `vp09.PP.LL.DD` from profile, level (e.g. 10 for level 1.0, 31 for 3.1) and bit depth.
pub fn vp9(profile: u8, level: u8, bit_depth: u8) -> String {
    format!("vp09.{profile:02}.{level:02}.{bit_depth:02}")
}

/// `vp09…` from a `vpcC` full box body (version + flags first).
pub fn vp9_from_vpcc(vpcc: &[u8]) -> Option<String> {
    if vpcc.len() < 7 {
        return None;
    }
    Some(vp9(vpcc[4], vpcc[5], vpcc[6] >> 4))
}

/// `vp09…` from the uncompressed header of a VP9 keyframe (WebM has no `vpcC`): profile and
/// bit depth come from the frame; the level is not coded in the bitstream, so the loosest
/// common level (6.2 = 62) is given, which decoders accept for any stream.
pub fn vp9_from_keyframe(frame: &[u8]) -> Option<String> {
    let b0 = *frame.first()?;
    if b0 >> 6 != 2 {
        return None; // frame_marker
    }
    let profile = ((b0 >> 5) & 1) | (((b0 >> 4) & 1) << 1);
    let mut bit_depth = 8;
    if profile >= 2 {
        // Bits 0-1 frame marker, 2-3 profile, (4 reserved zero for profile 3), then
        // show_existing_frame, frame_type, show_frame, error_resilient, the 24-bit sync code,
        // and the ten_or_twelve_bit flag.
        let mut pos = if profile == 3 { 5 } else { 4 };
        let bit = |p: usize| -> Option<u8> { Some((frame.get(p / 8)? >> (7 - p % 8)) & 1) };
        // For a keyframe (frame_type 0) with show_existing_frame 0.
        if bit(pos)? == 1 {
            return None;
        }
        pos += 4 + 24;
        bit_depth = if bit(pos)? == 1 { 12 } else { 10 };
    }
    Some(vp9(profile, 62, bit_depth))
}

/// `av01.P.LLT.DD` from an `av1C` body (AV1CodecConfigurationRecord).
pub fn av1(av1c: &[u8]) -> Option<String> {
    if av1c.len() < 4 || av1c[0] != 0x81 {
        return None;
    }
    let profile = av1c[1] >> 5;
    let level = av1c[1] & 0x1f;
    let tier = if av1c[2] >> 7 == 1 { 'H' } else { 'M' };
    let high = (av1c[2] >> 6) & 1;
    let twelve = (av1c[2] >> 5) & 1;
    let depth = match (high, twelve) {
        (1, 1) => 12,
        (1, 0) => 10,
        _ => 8,
    };
    Some(format!("av01.{profile}.{level:02}{tier}.{depth:02}"))
}

/// `mp4a.40.AOT` from an AudioSpecificConfig.
pub fn aac(asc: &[u8]) -> Option<String> {
    let b0 = *asc.first()?;
    let mut aot = b0 >> 3;
    if aot == 31 {
        let b1 = *asc.get(1)?;
        aot = 32 + (((b0 & 7) << 3) | (b1 >> 5));
    }
    (aot != 0).then(|| format!("mp4a.40.{aot}"))
}

/// The channel count an AAC-LC AudioSpecificConfig declares (`channelConfiguration` 1–7),
/// `None` for other object types (SBR/PS change the output layout) or a program config
/// element. Encoders write 2 in the MP4 sample entry for any layout (ffmpeg does for mono);
/// the ASC is what decoders follow.
pub fn aac_lc_channels(asc: &[u8]) -> Option<u16> {
    match aac_lc_channel_config(asc)? {
        config @ 1..=6 => Some(u16::from(config)),
        7 => Some(8),
        _ => None,
    }
}

/// The channel count of an AC-3 `dac3` box body (`enhanced` false) or of the first
/// independent substream of an E-AC-3 `dec3` body (ETSI TS 102 366 F.4 and F.6): the coding
/// mode's full-range channels, plus one for the LFE.
pub fn ac3_channels(b: &[u8], enhanced: bool) -> Option<u16> {
    // acmod 0 is "1+1" (dual mono).
    const FULL: [u16; 8] = [2, 1, 2, 3, 3, 4, 4, 5];
    let (acmod, lfe) = if enhanced {
        let x = *b.get(3)?;
        ((x >> 1) & 7, x & 1)
    } else {
        let x = *b.get(1)?;
        ((x >> 3) & 7, (x >> 2) & 1)
    };
    Some(FULL[usize::from(acmod)] + u16::from(lfe))
}

/// The `channelConfiguration` of an AAC-LC AudioSpecificConfig (0 when a program config
/// element gives the layout), `None` for other object types.
pub fn aac_lc_channel_config(asc: &[u8]) -> Option<u8> {
    let b0 = *asc.first()?;
    let b1 = *asc.get(1)?;
    if b0 >> 3 != 2 {
        return None;
    }
    // 5 bits object type, 4 bits frequency index (15: a 24-bit rate follows), 4 bits layout.
    let freq = ((b0 & 7) << 1) | (b1 >> 7);
    Some(if freq == 15 {
        let b4 = *asc.get(4)?;
        (b4 >> 3) & 0xf
    } else {
        (b1 >> 3) & 0xf
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_lc_channel_configuration() {
        // LC, 44.1 kHz (index 4), mono / stereo; 48 kHz (index 3) 5.1; HE-AAC (5) is left.
        assert_eq!(aac_lc_channels(&[0x12, 0x08]), Some(1));
        assert_eq!(aac_lc_channels(&[0x12, 0x10]), Some(2));
        assert_eq!(aac_lc_channels(&[0x11, 0xb0]), Some(6));
        assert_eq!(aac_lc_channels(&[0x2b, 0x92, 0x08, 0x00]), None);
        assert_eq!(aac_lc_channels(&[0x12]), None);
        // Explicit 24-bit rate (index 15): the layout comes after it.
        assert_eq!(aac_lc_channels(&[0x17, 0x80, 0x5d, 0xc0, 0x10]), Some(2));
    }

    #[test]
    fn strings() {
        assert_eq!(
            avc(&[1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0]).as_deref(),
            Some("avc1.64001f")
        );
        assert_eq!(
            av1(&[0x81, 0x04, 0x0c, 0]).as_deref(),
            Some("av01.0.04M.08")
        );
        assert_eq!(
            vp9_from_vpcc(&[1, 0, 0, 0, 0, 10, 0x82]).as_deref(),
            Some("vp09.00.10.08")
        );
        assert_eq!(aac(&[0x12, 0x10]).as_deref(), Some("mp4a.40.2"));
        // Main profile, level 3.1, compat flags 0x60000000 → reversed 0x6.
        let mut hvcc = vec![1u8, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93];
        hvcc.resize(23, 0);
        assert_eq!(hevc(&hvcc, "hvc1").as_deref(), Some("hvc1.1.6.L93.90"));
        // VP9 profile 0 keyframe: frame marker 10, profile bits 00.
        assert_eq!(
            vp9_from_keyframe(&[0x82, 0x49, 0x83, 0x42]).as_deref(),
            Some("vp09.00.62.08")
        );
    }
}
