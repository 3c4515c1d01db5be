//! The MP4 demuxer against ffprobe's packet list for the generated video fixtures
//! (`scripts/fixtures.sh` makes them; `scripts/test.sh` runs it before the tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::demux::{self, ByteSource, Cursor, DemuxError, TrackKind};
use kinema_testkit::{all_samples, ffprobe_packets, fixture, fixture_path};

/// (pts µs, dts µs, size, pos, key) per packet of stream `index`, from ffprobe.
// Local: the MP4 fields with dts; webm_demux.rs and remux_fmp4.rs read others.
fn ffprobe(name: &str, index: usize) -> Vec<(i64, i64, u32, u64, bool)> {
    let us = |s: &str| (s.parse::<f64>().unwrap() * 1e6).round() as i64;
    ffprobe_packets(
        &fixture_path(name),
        &index.to_string(),
        "pts_time,dts_time,size,pos,flags",
    )
    .iter()
    .map(|f| {
        (
            us(&f[0]),
            us(&f[1]),
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
            f[4].starts_with('K'),
        )
    })
    .collect()
}

/// ffprobe's format duration of a fixture, in seconds.
fn ffprobe_duration(name: &str) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(fixture_path(name))
        .output()
        .expect("ffprobe must be installed (scripts/bootstrap.sh)");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

// Local: each format's demuxer is checked against its own fields (webm_demux.rs, ts_demux.rs).
fn check_against_ffprobe(name: &str, codecs: &[&str]) {
    check_displayed(name, codecs, (320, 180));
}

/// [`check_against_ffprobe`] for a video displayed at `display` (rotated by its matrix).
fn check_displayed(name: &str, codecs: &[&str], display: (u32, u32)) {
    let data = fixture(name);
    let mut src: &[u8] = &data;
    let mut d = demux::open(&mut src).unwrap();
    let tracks = d.tracks().to_vec();
    assert_eq!(tracks.len(), codecs.len(), "{name}: tracks");
    for (t, info) in tracks.iter().enumerate() {
        assert!(
            info.codec.starts_with(codecs[t]),
            "{name}: track {t} codec {} (wanted {})",
            info.codec,
            codecs[t]
        );
        let ours = all_samples(d.as_mut(), &mut src, t);
        let theirs = ffprobe(name, t);
        assert_eq!(ours.len(), theirs.len(), "{name}: track {t} sample count");
        for (i, (s, r)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (s.pts_us - r.0).abs() <= 1,
                "{name} t{t} #{i}: pts {} vs {}",
                s.pts_us,
                r.0
            );
            assert!(
                (s.dts_us - r.1).abs() <= 1,
                "{name} t{t} #{i}: dts {} vs {}",
                s.dts_us,
                r.1
            );
            assert_eq!(
                (s.size, s.offset, s.key),
                (r.2, r.3, r.4),
                "{name} t{t} #{i}"
            );
        }
        if info.kind == Some(TrackKind::Video) {
            assert_eq!((info.width, info.height), (320, 180));
            assert_eq!((info.display_width, info.display_height), display, "{name}");
            // 10 s at 30 fps; presentation times are exactly frame n / 30 after the first
            // (0 when an edit list hides the B-frame delay; ffmpeg's fragmented files have none).
            let mut pts: Vec<i64> = ours.iter().map(|s| s.pts_us).collect();
            pts.sort_unstable();
            assert_eq!(pts.len(), 300);
            for (n, p) in pts.iter().enumerate() {
                let want = pts[0] + n as i64 * 1_000_000 / 30;
                assert!((p - want).abs() <= 1, "{name}: frame {n} at {p}");
            }
        }
    }
    let dur = d.duration().unwrap();
    let theirs = ffprobe_duration(name);
    println!("{name}: duration {dur} (ffprobe {theirs})");
    assert!(
        (dur - theirs).abs() <= 0.05,
        "{name}: duration {dur} vs ffprobe {theirs}"
    );
}

#[test]
fn progressive_h264_aac() {
    check_against_ffprobe("h264-aac.mp4", &["avc1.", "mp4a.40.2"]);
}

#[test]
fn bframes_with_edit_list() {
    check_against_ffprobe("h264-bframes.mp4", &["avc1.64", "mp4a.40.2"]);
    // The B-frame delay is hidden by the edit list: the first presented frame is at 0 while
    // decoding starts earlier.
    let data = fixture("h264-bframes.mp4");
    let mut src: &[u8] = &data;
    let mut d = demux::open(&mut src).unwrap();
    let s = all_samples(d.as_mut(), &mut src, 0);
    assert!(s[0].dts_us < 0 && s[0].pts_us == 0, "{:?}", s[0]);
    assert!(s.windows(2).any(|w| w[1].pts_us < w[0].pts_us), "reordered");
}

#[test]
fn fragmented_mp4() {
    check_against_ffprobe("fragmented.mp4", &["avc1.", "mp4a.40.2"]);
}

#[test]
fn av1_mp4() {
    check_against_ffprobe("av1-aac.mp4", &["av01.0.", "mp4a.40.2"]);
    let data = fixture("av1-aac.mp4");
    let mut src: &[u8] = &data;
    let d = demux::open(&mut src).unwrap();
    assert!(
        d.tracks()[0].description.as_ref().unwrap()[0] == 0x81,
        "av1C record"
    );
}

#[test]
fn ten_bit_vp9_and_av1_in_mp4() {
    // VP9 profile 2 (vpcC) with Opus (dOps), AV1 10-bit (av1C high_bitdepth) with AAC.
    check_against_ffprobe("vp9-profile2.mp4", &["vp09.02.", "opus"]);
    check_against_ffprobe("av1-10bit.mp4", &["av01.0.", "mp4a.40.2"]);
    let data = fixture("av1-10bit.mp4");
    let mut src: &[u8] = &data;
    let d = kinema_core::demux::open(&mut src).unwrap();
    assert!(
        d.tracks()[0].codec.ends_with(".10"),
        "{}",
        d.tracks()[0].codec
    );
}

#[test]
fn video_only_and_hevc_codec_strings() {
    check_against_ffprobe("video-only.mp4", &["avc1."]);
    let data = fixture("bad/hevc.mp4");
    let mut src: &[u8] = &data;
    let d = demux::open(&mut src).unwrap();
    assert!(
        d.tracks()[0].codec.starts_with("hvc1.1.6.L"),
        "{}",
        d.tracks()[0].codec
    );
}

#[test]
fn seek_finds_the_keyframe_at_or_before() {
    for name in ["h264-aac.mp4", "h264-bframes.mp4", "fragmented.mp4"] {
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let mut d = demux::open(&mut src).unwrap();
        let all = all_samples(d.as_mut(), &mut src, 0);
        for t in [0i64, 500_000, 1_000_000, 4_990_000, 9_999_000, 20_000_000] {
            let mut c = d.seek(&mut src, 0, t).unwrap();
            let s = d.next_sample(&mut src, 0, &mut c).unwrap().unwrap();
            assert!(s.key, "{name} @{t}");
            // The last keyframe presented at or before t: keyframes are every second (g 30).
            let want = all
                .iter()
                .filter(|s| s.key && s.pts_us <= t)
                .map(|s| s.pts_us)
                .max()
                .unwrap_or(all[0].pts_us);
            assert_eq!(s.pts_us, want, "{name} @{t}");
        }
    }
}

/// A source that holds only the 4 KiB blocks fetched so far.
struct Sparse<'a> {
    data: &'a [u8],
    have: std::collections::BTreeSet<u64>,
    misses: usize,
}

impl ByteSource for Sparse<'_> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        let end = (offset + buf.len() as u64).min(self.data.len() as u64);
        let mut b = offset / 4096 * 4096;
        while b < end {
            if !self.have.contains(&(b / 4096)) {
                return Err(DemuxError::NeedBytes(b.max(offset)));
            }
            b += 4096;
        }
        let mut full: &[u8] = self.data;
        full.read_at(offset, buf)
    }
    fn len(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }
}

#[test]
fn resumes_after_missing_bytes() {
    for name in ["h264-aac.mp4", "fragmented.mp4"] {
        let data = fixture(name);
        let mut whole: &[u8] = &data;
        let mut reference = demux::open(&mut whole).unwrap();
        let want = all_samples(reference.as_mut(), &mut whole, 0);
        let mut src = Sparse {
            data: &data,
            have: Default::default(),
            misses: 0,
        };
        let mut d = loop {
            match demux::open(&mut src) {
                Ok(d) => break d,
                Err(DemuxError::NeedBytes(at)) => {
                    src.have.insert(at / 4096);
                    src.misses += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        };
        let mut c = Cursor::default();
        let mut got = Vec::new();
        loop {
            match d.next_sample(&mut src, 0, &mut c) {
                Ok(Some(s)) => got.push(s),
                Ok(None) => break,
                Err(DemuxError::NeedBytes(at)) => {
                    src.have.insert(at / 4096);
                    src.misses += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(got, want, "{name}");
        assert!(src.misses > 0);
    }
}

#[test]
fn broken_files_end_in_errors_not_panics() {
    let data = fixture("fragmented.mp4");
    let mut rng = 0x2545_f491_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut opened = 0;
    for round in 0..400 {
        let mut bad = data.clone();
        if round % 2 == 0 {
            bad.truncate((next() % data.len() as u64) as usize);
        } else {
            // Flip bytes in the headers (first 4 KiB and around each fragment).
            for _ in 0..8 {
                let at = (next() % bad.len() as u64) as usize;
                let at = if round % 4 == 1 { at % 4096 } else { at };
                bad[at] ^= (next() & 0xff) as u8 | 1;
            }
        }
        let mut src: &[u8] = &bad;
        if let Ok(mut d) = demux::open(&mut src) {
            opened += 1;
            for t in 0..d.tracks().len() {
                let mut c = Cursor::default();
                let mut n = 0;
                while let Ok(Some(_)) = d.next_sample(&mut src, t, &mut c) {
                    n += 1;
                    assert!(n < 100_000, "runaway");
                }
                let _ = d.seek(&mut src, t, 5_000_000);
            }
        }
    }
    assert!(opened > 0);
    let mut src: &[u8] = &fixture("bad/no-moov.mp4");
    let src_ref: &mut &[u8] = &mut src;
    assert!(matches!(demux::open(src_ref), Err(DemuxError::Invalid(_))));
}

#[test]
fn quicktime_mov_with_esds_in_wave() {
    // ffmpeg -f mov: a version-1 sound description whose esds sits in a `wave` atom, then a
    // `chan` box; the same tables and times as ffprobe's.
    check_against_ffprobe("h264-aac.mov", &["avc1.", "mp4a.40.2"]);
    let data = fixture("h264-aac.mov");
    let mut src: &[u8] = &data;
    let d = demux::open(&mut src).unwrap();
    let a = &d.tracks()[1];
    assert_eq!((a.sample_rate, a.channels), (48_000, 2));
    // The AudioSpecificConfig: AAC LC (2), 48 kHz (index 3), 2 channels (then ffmpeg's
    // SBR sync extension), as in the MP4 twin.
    let desc = a.description.clone().unwrap();
    assert_eq!(desc[..2], [0x11, 0x90]);
    let mp4 = fixture("h264-aac.mp4");
    let mut src: &[u8] = &mp4;
    let twin = demux::open(&mut src).unwrap();
    assert_eq!(twin.tracks()[1].description, Some(desc));
}

#[test]
fn pcm_sample_entries_have_codecs() {
    for (name, codec, rate) in [
        ("pcm/sowt.mov", "pcm-s16le", 48_000),
        ("pcm/twos.mov", "pcm-s16be", 48_000),
        ("pcm/lpcm.mov", "pcm-s16le", 96_000),
        ("pcm/in24.mov", "pcm-s24le", 48_000),
        ("pcm/fl32.mov", "pcm-f32le", 48_000),
    ] {
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let mut d = demux::open(&mut src).unwrap();
        let t = d.tracks()[0].clone();
        assert_eq!(
            (t.codec.as_str(), t.sample_rate, t.channels),
            (codec, rate, 2),
            "{name}"
        );
        // One sample per frame (QuickTime PCM), as ffprobe counts them.
        let ours = all_samples(d.as_mut(), &mut src, 0);
        let theirs = ffprobe(name, 0);
        let frames: u64 = ours.iter().map(|s| u64::from(s.size)).sum::<u64>()
            / (u64::from(t.channels) * pcm_bytes(codec));
        assert_eq!(frames, u64::from(rate), "{name}: one second of frames");
        let bytes: u64 = theirs.iter().map(|p| u64::from(p.2)).sum();
        assert_eq!(
            ours.iter().map(|s| u64::from(s.size)).sum::<u64>(),
            bytes,
            "{name}: bytes"
        );
    }
}

fn pcm_bytes(codec: &str) -> u64 {
    match codec {
        "pcm-s16le" | "pcm-s16be" => 2,
        "pcm-s24le" => 3,
        _ => 4,
    }
}

#[test]
fn fragmented_duration_from_mehd_sidx_or_the_walk() {
    // mehd, a whole-file sidx, or the mfra at the end (ffmpeg writes one to every fragmented
    // file: browsers read it) give the duration at open; without any it is known once every
    // fragment is walked. Never the mvhd's, which covers only the samples in the moov.
    for (name, strip_mfra, at_open) in [
        ("frag-mehd.mp4", false, true),
        ("frag-sidx.mp4", false, true),
        ("fragmented.mp4", false, true),
        ("frag-moov-samples.mp4", false, true),
        ("fragmented.mp4", true, false),
        ("frag-moov-samples.mp4", true, false),
    ] {
        let mut data = fixture(name);
        if strip_mfra {
            // The mfro (last 16 bytes) gives the mfra's size: cut the whole mfra off.
            let tail = &data[data.len() - 16..];
            assert_eq!(&tail[4..8], b"mfro", "{name}: ends in an mfro");
            let size = u32::from_be_bytes([tail[12], tail[13], tail[14], tail[15]]) as usize;
            data.truncate(data.len() - size);
        }
        let mut src: &[u8] = &data;
        let mut d = demux::open(&mut src).unwrap();
        let theirs = ffprobe_duration(name);
        let early = d.duration();
        println!("{name} (mfra stripped: {strip_mfra}): at open {early:?} (ffprobe {theirs})");
        if at_open {
            let early = early.unwrap_or_else(|| panic!("{name}: no duration at open"));
            assert!(
                (early - theirs).abs() <= 0.05,
                "{name}: {early} vs {theirs}"
            );
        } else {
            assert_eq!(early, None, "{name} without mfra: unknown until walked");
        }
        for t in 0..d.tracks().len() {
            all_samples(d.as_mut(), &mut src, t);
        }
        let end = d.duration().unwrap();
        assert!((end - theirs).abs() <= 0.05, "{name}: {end} vs {theirs}");
    }
    check_against_ffprobe("frag-sidx.mp4", &["avc1.", "mp4a.40.2"]);
    check_against_ffprobe("frag-mehd.mp4", &["avc1.", "mp4a.40.2"]);
    check_against_ffprobe("frag-moov-samples.mp4", &["avc1.", "mp4a.40.2"]);
}

#[test]
fn rotation_matrix_and_displayed_size() {
    for (name, degrees, flip, display) in [
        ("h264-aac.mp4", 0, false, (320, 180)),
        ("rotate-90.mp4", 90, false, (180, 320)),
        ("rotate-180.mp4", 180, false, (320, 180)),
        ("rotate-270.mp4", 270, false, (180, 320)),
        ("flip.mp4", 0, true, (320, 180)),
        ("flip-90.mp4", 90, true, (180, 320)),
    ] {
        check_displayed(name, &["avc1.", "mp4a.40.2"], display);
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let d = demux::open(&mut src).unwrap();
        let v = &d.tracks()[0];
        assert_eq!((v.rotation_degrees, v.flip), (degrees, flip), "{name}");
        assert_eq!((v.width, v.height), (320, 180), "{name}: coded size");
    }
}

#[test]
fn edit_lists_that_start_late() {
    // An empty edit of 0.5 s before the video (and, with B-frames, a media_time after it).
    check_against_ffprobe("itsoffset.mp4", &["avc1.", "mp4a.40.2"]);
    check_against_ffprobe("itsoffset-bframes.mp4", &["avc1.64", "mp4a.40.2"]);
    let data = fixture("itsoffset-bframes.mp4");
    let mut src: &[u8] = &data;
    let mut d = demux::open(&mut src).unwrap();
    let first = all_samples(d.as_mut(), &mut src, 0)
        .iter()
        .map(|s| s.pts_us)
        .min()
        .unwrap();
    assert_eq!(first, 500_000);
}

#[test]
fn ten_bit_video_names_its_profile_and_depth() {
    // WebCodecs is configured with these strings: a 10-bit stream named as 8-bit would be
    // refused by the decoder or decoded wrong.
    for (name, prefix, suffix) in [
        ("h264-high10.mp4", "avc1.6e", ""),
        ("vp9-profile2.webm", "vp09.02.", ".10"),
    ] {
        let data = fixture(name);
        let mut src: &[u8] = &data;
        let d = demux::open(&mut src).unwrap();
        let v = d
            .tracks()
            .iter()
            .find(|t| t.kind == Some(TrackKind::Video))
            .unwrap();
        assert!(
            v.codec.starts_with(prefix) && v.codec.ends_with(suffix),
            "{name}: {}",
            v.codec
        );
    }
}
