//! The MPEG-TS demuxer against ffprobe for ffmpeg-made segments (`scripts/ts-fixtures.sh`, run
//! from here), HLS segment chaining, 33-bit wrap, damage handling and a broken-input corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use kinema_core::demux::ts::{
    avc_decoder_config, avc_sps, avcc_from_annexb, demux_segment, demux_segment_after, TsFile,
    TsLimits, TsSample, TsSegment,
};
use kinema_core::demux::{self, codec, ticks_to_us, Cursor, Demux, TrackKind};
use kinema_testkit::{fixture, fixture_path};

const WRAP: i64 = 1 << 33;

// Local: runs scripts/ts-fixtures.sh once per test process first (webm_demux.rs's `dir` is a
// temporary folder of its own).
fn dir() -> PathBuf {
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    MADE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let st = Command::new("bash")
            .arg(root.join("scripts/ts-fixtures.sh"))
            .status()
            .expect("bash");
        assert!(
            st.success(),
            "scripts/ts-fixtures.sh failed (is ffmpeg installed?)"
        );
        root.join("tests/fixtures/gen/ts")
    })
    .clone()
}

/// The path of `ts/NAME` (made first, and listed in the fixture manifest).
fn ts_path(name: &str) -> PathBuf {
    dir();
    fixture_path(&format!("ts/{name}"))
}

/// The bytes of `ts/NAME` (see `ts_path`).
fn read(name: &str) -> Vec<u8> {
    dir();
    fixture(&format!("ts/{name}"))
}

// Local: ffprobe's compact output of any section (the kit's `ffprobe_packets` reads csv).
/// ffprobe's `-of compact` output as one key=value map per line of the given section (streams
/// once each: ffprobe lists them again under their program).
fn probe(path: &Path, section: &str, entries: &str) -> Vec<HashMap<String, String>> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .arg(format!("{section}={entries}"))
        .args(["-of", "compact"])
        .arg(path)
        .output()
        .expect("ffprobe must be installed");
    assert!(out.status.success(), "ffprobe {}", path.display());
    let mut all: Vec<HashMap<String, String>> = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let line = line.strip_prefix("program|").unwrap_or(line);
        let Some(fields) = line.strip_prefix(&format!("{section}|")) else {
            continue;
        };
        let m: HashMap<String, String> = fields
            .split('|')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if section != "stream" || !all.iter().any(|o| o.get("index") == m.get("index")) {
            all.push(m);
        }
    }
    if section == "stream" {
        all.sort_by_key(|m| m["index"].parse::<usize>().unwrap());
    }
    all
}

/// (pts ticks, dts ticks, size, key) of every packet of every stream, from ffprobe.
fn probe_packets(path: &Path) -> HashMap<usize, Vec<(i64, i64, usize, bool)>> {
    let mut out: HashMap<usize, Vec<_>> = HashMap::new();
    for p in probe(path, "packet", "stream_index,pts,dts,size,flags") {
        let dts = p["dts"]
            .parse()
            .unwrap_or_else(|_| p["pts"].parse().unwrap());
        out.entry(p["stream_index"].parse().unwrap())
            .or_default()
            .push((
                p["pts"].parse().unwrap(),
                dts,
                p["size"].parse().unwrap(),
                p["flags"].starts_with('K'),
            ));
    }
    out
}

fn of_track(seg: &TsSegment, t: usize) -> Vec<&TsSample> {
    seg.samples.iter().filter(|s| s.track == t).collect()
}

// Local: MPEG-TS's own checks (90 kHz ticks, 2^33 wrap); see mp4_demux.rs.
/// Every sample of every audio/video track against ffprobe: count, pts, dts, key, size.
/// With `modulo`, times are compared modulo 2^33 ticks (ffprobe maps wrapped times its own way).
fn check_against_ffprobe(path: &Path, seg: &TsSegment, modulo: bool) {
    let name = path.display();
    let packets = probe_packets(path);
    let streams = probe(path, "stream", "index,codec_type");
    assert_eq!(seg.tracks.len(), streams.len(), "{name}: tracks");
    for (t, info) in seg.tracks.iter().enumerate() {
        let Some(kind) = info.kind else { continue };
        let ours = of_track(seg, t);
        let theirs = &packets[&t];
        assert_eq!(ours.len(), theirs.len(), "{name}: track {t} sample count");
        let header = if info.codec.starts_with("mp4a") { 7 } else { 0 };
        for (i, (s, r)) in ours.iter().zip(theirs).enumerate() {
            let same = |us: i64, ticks: i64| {
                if modulo {
                    (div_round(us * 9, 100) - ticks).rem_euclid(WRAP) == 0
                } else {
                    us == ticks_to_us(ticks, 90_000)
                }
            };
            assert!(
                same(s.pts_us, r.0),
                "{name} t{t} #{i}: pts {} vs {}",
                s.pts_us,
                r.0
            );
            assert!(
                same(s.dts_us, r.1),
                "{name} t{t} #{i}: dts {} vs {}",
                s.dts_us,
                r.1
            );
            if info.codec.starts_with("hvc1") {
                // ffmpeg's HEVC parser moves the zero byte of each 4-byte start code to the
                // access unit before: its first is one byte longer, its last one shorter.
                assert!(s.data.len().abs_diff(r.2) <= 1, "{name} t{t} #{i}: size");
            } else {
                assert_eq!(s.data.len() + header, r.2, "{name} t{t} #{i}: size");
            }
            assert_eq!(s.key, r.3, "{name} t{t} #{i}: key");
            if kind == TrackKind::Audio {
                assert_eq!(s.duration_us, 21_333, "{name} {t} #{i}"); // 1024 / 48 kHz
            }
        }
    }
    // Interleaved by decode time; decode order kept within each track.
    assert!(seg.samples.windows(2).all(|w| w[0].dts_us <= w[1].dts_us));
}

fn div_round(n: i64, d: i64) -> i64 {
    (n as f64 / d as f64).round() as i64
}

fn profile_idc(name: &str) -> u8 {
    match name {
        "Constrained Baseline" | "Baseline" => 66,
        "Main" => 77,
        "High" => 100,
        "High 10" => 110,
        "High 4:2:2" => 122,
        "High 4:4:4 Predictive" => 244,
        other => panic!("profile {other}"),
    }
}

/// Codec string, size and sample format of video track 0 against ffprobe's stream info.
fn check_video_stream(name: &str) -> TsSegment {
    let path = ts_path(name);
    let seg = demux_segment(&read(name), &TsLimits::default()).unwrap();
    let s = &probe(
        &path,
        "stream",
        "index,codec_name,profile,level,width,height",
    )[0];
    let v = &seg.tracks[0];
    assert_eq!(v.kind, Some(TrackKind::Video));
    assert_eq!(v.id, 0x100, "{name}: PID");
    assert_eq!(v.description, None);
    let (w, h): (u32, u32) = (s["width"].parse().unwrap(), s["height"].parse().unwrap());
    assert_eq!((v.width, v.height), (w, h), "{name}: size");
    assert_eq!(
        (v.display_width, v.display_height),
        (w, h),
        "{name}: display size"
    );
    let level: u8 = s["level"].parse().unwrap();
    if s["codec_name"] == "hevc" {
        assert_eq!(s["profile"], "Main");
        assert!(
            v.codec.starts_with(&format!("hvc1.1.6.L{level}.")),
            "{name}: {}",
            v.codec
        );
    } else {
        let p = profile_idc(&s["profile"]);
        let want = format!("avc1.{p:02x}");
        assert!(v.codec.starts_with(&want), "{name}: {} vs {want}", v.codec);
        assert!(
            v.codec.ends_with(&format!("{level:02x}")),
            "{name}: {}",
            v.codec
        );
        if s["profile"] == "Constrained Baseline" {
            assert_eq!(&v.codec[7..9], "c0", "constraint_set0/1 flags");
        }
    }
    check_against_ffprobe(&path, &seg, false);
    seg
}

#[test]
fn h264_aac_with_bframes_matches_ffprobe() {
    for name in ["h264-aac-320.ts", "h264-aac-720.ts"] {
        let seg = check_video_stream(name);
        assert_eq!(seg.discarded_pes, 0);
        assert_eq!(seg.resyncs, 0);
        let a = &seg.tracks[1];
        assert_eq!(a.codec, "mp4a.40.2");
        assert_eq!((a.sample_rate, a.channels), (48_000, 2));
        // AAC LC, 48 kHz (index 3), 2 channels.
        assert_eq!(a.description.as_deref(), Some(&[0x11, 0x90][..]));
        assert_eq!(
            codec::aac(a.description.as_ref().unwrap()).unwrap(),
            a.codec
        );
        let v = of_track(&seg, 0);
        assert!(v[0].key);
        assert!(
            v.windows(2).any(|w| w[1].pts_us < w[0].pts_us),
            "B-frames reorder"
        );
        // Durations: the next presentation time, 1/30 s, except for the last in display order.
        let zero = v.iter().filter(|s| s.duration_us == 0).count();
        assert_eq!(zero, 1);
        assert!(v
            .iter()
            .all(|s| s.duration_us == 0 || (s.duration_us - 33_333).abs() <= 1));
        // Annex B with the stream's own start codes; every keyframe holds SPS and PPS.
        assert!(v.iter().all(|s| s.data.starts_with(&[0, 0, 0, 1, 9])));
    }
}

#[test]
fn sps_fields_for_profiles_sizes_and_field_coding() {
    for name in [
        "h264-1080.ts",
        "h264-baseline.ts",
        "h264-odd.ts",
        "h264-422.ts",
        "h264-444.ts",
        "h264-10bit.ts",
        "h264-interlaced.ts",
    ] {
        check_video_stream(name);
    }
    // The fixtures really exercise the SPS branches (checked with ffmpeg's own header trace).
    let trace = |name: &str| -> String {
        let out = Command::new("ffmpeg")
            .args(["-v", "trace", "-hide_banner", "-i"])
            .arg(ts_path(name))
            .args([
                "-c",
                "copy",
                "-bsf:v",
                "trace_headers",
                "-frames:v",
                "1",
                "-f",
                "null",
                "-",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let field = |t: &str, f: &str| -> String {
        let line = t
            .lines()
            .find(|l| l.contains(&format!(" {f} ")))
            .unwrap_or_else(|| panic!("{f}"));
        line.split_whitespace().last().unwrap().to_string()
    };
    assert_eq!(
        field(&trace("h264-interlaced.ts"), "frame_mbs_only_flag"),
        "0"
    );
    assert_eq!(field(&trace("h264-444.ts"), "chroma_format_idc"), "3");
    assert_eq!(
        field(&trace("h264-1080.ts"), "frame_crop_bottom_offset"),
        "4"
    );
    let odd = trace("h264-odd.ts");
    assert_eq!(field(&odd, "frame_crop_right_offset"), "3");
    // And the parser reads the same fields from the same bytes.
    let seg = demux_segment(&read("h264-10bit.ts"), &TsLimits::default()).unwrap();
    let sps = first_nal(&seg.samples[0].data, 7);
    let s = avc_sps(sps).unwrap();
    assert_eq!(
        (s.profile_idc, s.bit_depth_luma, s.chroma_format_idc),
        (110, 10, 1)
    );
    assert_eq!(s.codec(), seg.tracks[0].codec);
}

fn first_nal(au: &[u8], kind: u8) -> &[u8] {
    let mut starts = Vec::new();
    for i in 0..au.len().saturating_sub(3) {
        if au[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
        }
    }
    for (k, &s) in starts.iter().enumerate() {
        if au[s] & 0x1f == kind {
            let mut end = starts.get(k + 1).map_or(au.len(), |&n| n - 3);
            while end > s && au[end - 1] == 0 {
                end -= 1;
            }
            return &au[s..end];
        }
    }
    panic!("no NAL of type {kind}");
}

#[test]
fn hevc_and_mp3_streams() {
    let seg = check_video_stream("hevc-aac.ts");
    assert_eq!(seg.tracks[1].codec, "mp4a.40.2");
    let v = of_track(&seg, 0);
    assert!(v[0].key && v.iter().filter(|s| s.key).count() >= 2);

    let path = ts_path("h264-mp3.ts");
    let seg = demux_segment(&read("h264-mp3.ts"), &TsLimits::default()).unwrap();
    let a = &seg.tracks[1];
    assert_eq!(
        (a.codec.as_str(), a.sample_rate, a.channels),
        ("mp3", 48_000, 2)
    );
    assert_eq!(a.description, None);
    // MP3 frames keep their header; 1152 samples at 48 kHz = 24 ms.
    let packets = probe_packets(&path);
    let ours = of_track(&seg, 1);
    assert_eq!(ours.len(), packets[&1].len());
    for (s, r) in ours.iter().zip(&packets[&1]) {
        assert_eq!((s.pts_us, s.data.len()), (ticks_to_us(r.0, 90_000), r.2));
        assert_eq!(s.duration_us, 24_000);
        assert_eq!(&s.data[..2], &[0xff, 0xfb]);
    }
}

#[test]
fn dolby_streams_match_ffprobe() {
    // AC-3 (ATSC 0x81, DVB private data with an AC-3 descriptor, M2TS) and E-AC-3 (0x87): one
    // sample per syncframe, header kept, 1536 samples at 48 kHz = 32 ms.
    for (name, codec) in [
        ("h264-ac3.ts", "ac-3"),
        ("h264-ac3-dvb.ts", "ac-3"),
        ("h264-ac3.m2ts", "ac-3"),
        ("h264-eac3.ts", "ec-3"),
    ] {
        let path = ts_path(name);
        let seg = demux_segment(&read(name), &TsLimits::default()).unwrap();
        let a = &seg.tracks[1];
        assert_eq!(
            (a.codec.as_str(), a.sample_rate, a.channels),
            (codec, 48_000, 6),
            "{name}"
        );
        let packets = probe_packets(&path);
        let ours = of_track(&seg, 1);
        assert_eq!(ours.len(), packets[&1].len(), "{name}: frames");
        for (s, r) in ours.iter().zip(&packets[&1]) {
            assert_eq!(
                (s.pts_us, s.data.len()),
                (ticks_to_us(r.0, 90_000), r.2),
                "{name}"
            );
            assert_eq!(s.duration_us, 32_000, "{name}");
            assert_eq!(&s.data[..2], &[0x0b, 0x77], "{name}");
        }
        println!("{name}: {} {} frames match ffprobe", a.codec, ours.len());
    }
}

/// The avcC built from a keyframe and the AVCC samples are byte for byte what ffmpeg's MP4
/// muxer writes when it remuxes the same stream.
#[test]
fn avcc_conversion_matches_ffmpeg_remux() {
    let ts = ts_path("h264-aac-320.ts");
    let mp4 = std::env::temp_dir().join(format!("kinema-ts-remux-{}.mp4", std::process::id()));
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&ts)
        .args(["-map", "0:v", "-c", "copy"])
        .arg(&mp4)
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&mp4).unwrap();
    let _ = std::fs::remove_file(&mp4);
    let mut src: &[u8] = &bytes;
    let mut d = demux::open(&mut src).unwrap();
    let info = d.tracks()[0].clone();

    let seg = demux_segment(&read("h264-aac-320.ts"), &TsLimits::default()).unwrap();
    let v = of_track(&seg, 0);
    let record = avc_decoder_config(&v[0].data).unwrap();
    assert_eq!(Some(&record), info.description.as_ref(), "avcC");
    assert_eq!(codec::avc(&record).unwrap(), seg.tracks[0].codec);
    assert_eq!(info.codec, seg.tracks[0].codec);
    let mut c = Cursor::default();
    let mut n = 0;
    while let Some(s) = d.next_sample(&mut src, 0, &mut c).unwrap() {
        let theirs = &bytes[s.offset as usize..][..s.size as usize];
        let ours = avcc_from_annexb(&v[n].data);
        assert_eq!(ours, theirs, "sample {n}");
        assert_eq!(s.key, v[n].key, "sample {n}");
        n += 1;
    }
    assert_eq!(n, v.len());
}

fn hls_segments() -> Vec<(PathBuf, Vec<u8>)> {
    let playlist = std::fs::read_to_string(ts_path("hls/index.m3u8")).unwrap();
    let names: Vec<&str> = playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(names.len(), 3, "{playlist}");
    names
        .iter()
        .map(|n| {
            let p = ts_path(&format!("hls/{n}"));
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

#[test]
fn hls_segments_chain_without_gaps() {
    let segs = hls_segments();
    let limits = TsLimits::default();
    let mut prev_end = None;
    let mut all: Vec<Vec<TsSample>> = vec![Vec::new(), Vec::new()];
    for (path, bytes) in &segs {
        let seg = demux_segment_after(bytes, &limits, prev_end).unwrap();
        check_against_ffprobe(path, &seg, false);
        assert!(
            seg.samples.iter().find(|s| s.track == 0).unwrap().key,
            "segment starts with IDR"
        );
        assert_eq!(seg.tracks[0].codec, "avc1.64000d");
        for s in seg.samples.iter() {
            all[s.track].push(s.clone());
        }
        prev_end = seg.end_us;
    }
    // 6 s at 30 fps; decode times continue across segments one frame apart.
    assert_eq!(all[0].len(), 180);
    for w in all[0].windows(2) {
        assert!(
            (w[1].dts_us - w[0].dts_us - 33_333).abs() <= 1,
            "{:?}",
            (w[0].dts_us, w[1].dts_us)
        );
    }
    // Audio frames are back to back across the segment boundaries.
    for w in all[1].windows(2) {
        assert!((w[1].pts_us - (w[0].pts_us + w[0].duration_us)).abs() <= 1);
    }
    // The same bytes concatenated: one call gives the same samples.
    let cat: Vec<u8> = segs.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let seg = demux_segment(&cat, &limits).unwrap();
    assert_eq!(seg.discarded_pes, 0);
    for (t, separate) in all.iter().enumerate() {
        let one = of_track(&seg, t);
        assert_eq!(one.len(), separate.len());
        for (a, b) in one.iter().zip(separate) {
            assert_eq!((a.pts_us, a.dts_us, a.key), (b.pts_us, b.dts_us, b.key));
            assert!(a.data == b.data, "track {t} at {}", a.dts_us);
            // Video durations are only known within one call: the last frame of a segment
            // learns its duration from the next segment only when they are demuxed together.
            assert!(a.duration_us == b.duration_us || b.duration_us == 0);
        }
    }
}

/// Rewrites every PTS/DTS of a TS copy by `delta` ticks modulo 2^33.
fn shift_timestamps(ts: &[u8], delta: i64) -> Vec<u8> {
    let mut out = ts.to_vec();
    for pkt in out.chunks_mut(188) {
        if pkt[1] & 0x40 == 0 || pkt[3] & 0x10 == 0 {
            continue;
        }
        let start = if pkt[3] & 0x20 != 0 {
            5 + pkt[4] as usize
        } else {
            4
        };
        let p = &mut pkt[start..];
        if p.len() < 19 || p[..3] != [0, 0, 1] || p[3] < 0xc0 {
            continue;
        }
        let flags = p[7] >> 6;
        let fields: &[usize] = match flags {
            2 => &[9],
            3 => &[9, 14],
            _ => &[],
        };
        for &at in fields {
            let b = &mut p[at..at + 5];
            let v = ((b[0] as i64 >> 1) & 7) << 30
                | (b[1] as i64) << 22
                | (b[2] as i64 >> 1) << 15
                | (b[3] as i64) << 7
                | b[4] as i64 >> 1;
            let v = (v + delta).rem_euclid(WRAP);
            b[0] = (b[0] & 0xf1) | (((v >> 30) as u8 & 7) << 1);
            b[1] = (v >> 22) as u8;
            b[2] = (((v >> 15) as u8) << 1) | 1;
            b[3] = (v >> 7) as u8;
            b[4] = ((v as u8) << 1) | 1;
        }
    }
    out
}

#[test]
fn wrap_inside_a_segment() {
    let path = ts_path("wrap.ts");
    let seg = demux_segment(&read("wrap.ts"), &TsLimits::default()).unwrap();
    check_against_ffprobe(&path, &seg, true);
    let wrap_us = ticks_to_us(WRAP, 90_000);
    for t in 0..2 {
        let s = of_track(&seg, t);
        assert!(s.first().unwrap().pts_us < wrap_us && s.last().unwrap().pts_us > wrap_us);
        assert!(
            s.windows(2).all(|w| w[1].dts_us > w[0].dts_us),
            "track {t} dts increase"
        );
    }
    // The same encode without the offset has as many samples.
    let base = demux_segment(&read("h264-aac-320.ts"), &TsLimits::default()).unwrap();
    assert_eq!(base.samples.len(), seg.samples.len());
}

#[test]
fn wrap_between_segments_needs_the_reference() {
    let segs = hls_segments();
    let limits = TsLimits::default();
    let first = demux_segment(&segs[1].1, &limits).unwrap();
    let first_dts = first.samples.iter().map(|s| s.dts_us).min().unwrap();
    // Shift so segment 1 starts exactly at raw 0 after the wrap.
    let delta = WRAP - div_round(first_dts * 9, 100);
    let shifted: Vec<Vec<u8>> = segs
        .iter()
        .map(|(_, b)| shift_timestamps(b, delta))
        .collect();
    let a = demux_segment(&shifted[0], &limits).unwrap();
    let b = demux_segment_after(&shifted[1], &limits, a.end_us).unwrap();
    let c = demux_segment_after(&shifted[2], &limits, b.end_us).unwrap();
    let wrap_us = ticks_to_us(WRAP, 90_000);
    assert!(a.end_us.unwrap() < wrap_us + 100_000);
    assert!(b
        .samples
        .iter()
        .all(|s| s.dts_us >= wrap_us - 1 && s.pts_us > 0));
    let video: Vec<i64> = [&a, &b, &c]
        .iter()
        .flat_map(|s| of_track(s, 0).into_iter().map(|s| s.dts_us))
        .collect();
    assert_eq!(video.len(), 180);
    assert!(video.windows(2).all(|w| (w[1] - w[0] - 33_333).abs() <= 1));
    // Without the reference, segment 1 alone starts near 0 again.
    let alone = demux_segment(&shifted[1], &limits).unwrap();
    assert!(alone.samples.iter().map(|s| s.dts_us).min().unwrap() < 1_000_000);
}

/// The packet indices (of 188 bytes) of a PID.
fn packets_of(ts: &[u8], pid: u16) -> Vec<usize> {
    ts.chunks(188)
        .enumerate()
        .filter(|(_, p)| (u16::from(p[1] & 0x1f) << 8 | u16::from(p[2])) == pid)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn continuity_errors_drop_one_pes_and_count_it() {
    let ts = read("h264-aac-320.ts");
    let limits = TsLimits::default();
    let base = demux_segment(&ts, &limits).unwrap();
    let video = packets_of(&ts, 0x100);
    // A packet in the middle of a PES (not a PES start) is lost.
    let lost = video[video.len() / 2..]
        .iter()
        .copied()
        .find(|&i| ts[i * 188 + 1] & 0x40 == 0 && (i + 1) * 188 < ts.len())
        .unwrap();
    let mut cut = ts.clone();
    cut.drain(lost * 188..lost * 188 + 188);
    let seg = demux_segment(&cut, &limits).unwrap();
    assert_eq!(seg.discarded_pes, 1);
    assert_eq!(of_track(&seg, 0).len(), of_track(&base, 0).len() - 1);
    assert_eq!(of_track(&seg, 1), of_track(&base, 1));

    // A packet sent twice (allowed by the standard) changes nothing.
    let mut dup = ts.clone();
    let twice = ts[lost * 188..lost * 188 + 188].to_vec();
    dup.splice(lost * 188..lost * 188, twice);
    let seg = demux_segment(&dup, &limits).unwrap();
    assert_eq!((seg.discarded_pes, &seg.samples), (0, &base.samples));

    // Garbage before the first packet and in the middle: resync at the next packet.
    let mut junk = vec![0x47, 1, 2, 3, 0x47, 0x47, 9];
    junk.extend_from_slice(&ts);
    let seg = demux_segment(&junk, &limits).unwrap();
    assert_eq!((seg.resyncs, &seg.samples), (0, &base.samples));
    let mut mid = ts.clone();
    mid.splice(lost * 188..lost * 188, [0u8, 0x47, 5, 6, 7]);
    let seg = demux_segment(&mid, &limits).unwrap();
    assert_eq!((seg.resyncs, seg.discarded_pes), (1, 0));
    assert_eq!(seg.samples, base.samples);

    // M2TS: a 4-byte prefix before every packet.
    let m2ts: Vec<u8> = ts
        .chunks(188)
        .flat_map(|p| [0u8, 0, 0, 0].into_iter().chain(p.iter().copied()))
        .collect();
    assert_eq!(demux_segment(&m2ts, &limits).unwrap().samples, base.samples);
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An ID3 timed-metadata stream added to the PMT (and two of its PES packets) is listed and
/// skipped; ffprobe agrees the crafted file has it.
#[test]
fn id3_metadata_stream_is_listed_and_skipped() {
    let ts = read("h264-aac-320.ts");
    let base = demux_segment(&ts, &TsLimits::default()).unwrap();
    let mut out = ts.clone();
    let pmt = packets_of(&ts, 0x1000)[0] * 188;
    let p = &mut out[pmt..pmt + 188];
    assert_eq!(p[4..6], [0, 2], "pointer field 0, table_id 2");
    let s = 5;
    let len = (usize::from(p[s + 1] & 0x0f) << 8) | usize::from(p[s + 2]);
    let crc_at = s + 3 + len - 4;
    // PID 0x102 with the metadata_descriptor of Apple's timed-metadata spec ('ID3 ').
    let entry = [
        0x15, 0xe1, 0x02, 0xf0, 17, 0x26, 15, 0xff, 0xff, b'I', b'D', b'3', b' ', 0xff, b'I', b'D',
        b'3', b' ', 0, 0x0f,
    ];
    let mut section = p[s..crc_at].to_vec();
    section.extend_from_slice(&entry);
    let new_len = len + entry.len();
    section[1] = (section[1] & 0xf0) | (new_len >> 8) as u8;
    section[2] = new_len as u8;
    section.extend_from_slice(&crc32(&section).to_be_bytes());
    p[s..s + section.len()].copy_from_slice(&section);
    // An ID3 PES right after the PMT (PTS 0x1234).
    let mut id3 = vec![0x47, 0x41, 0x02, 0x10];
    id3.extend_from_slice(&[
        0, 0, 1, 0xbd, 0, 20, 0x84, 0x80, 5, 0x21, 0, 0x01, 0x24, 0x69,
    ]);
    id3.extend_from_slice(b"ID3\x04\x00\x00\x00\x00\x00\x00");
    id3.resize(188, 0xff);
    out.splice(pmt + 188..pmt + 188, id3);
    let seg = demux_segment(&out, &TsLimits::default()).unwrap();
    assert_eq!(seg.tracks.len(), 3);
    assert_eq!(
        (
            seg.tracks[2].kind,
            seg.tracks[2].codec.as_str(),
            seg.tracks[2].id
        ),
        (None, "?id3", 0x102)
    );
    assert_eq!(seg.samples, base.samples);
    let path = std::env::temp_dir().join(format!("kinema-ts-id3-{}.ts", std::process::id()));
    std::fs::write(&path, &out).unwrap();
    let streams = probe(&path, "stream", "index,codec_tag,id,start_pts");
    let _ = std::fs::remove_file(&path);
    // ffmpeg 5.1 lists it (stream_type 0x15, its PES timed at 0x1234) without naming the codec.
    assert_eq!(streams.len(), 3);
    assert_eq!(
        (
            streams[2]["codec_tag"].as_str(),
            streams[2]["id"].as_str(),
            streams[2]["start_pts"].as_str()
        ),
        ("0x0015", "0x102", "4660")
    );
}

#[test]
fn limits_are_enforced() {
    let ts = read("h264-aac-720.ts");
    let few = TsLimits {
        max_samples: 10,
        ..TsLimits::default()
    };
    assert!(demux_segment(&ts, &few).is_err());
    // PES packets above 2 KiB are dropped (most video frames here), audio stays.
    let small = TsLimits {
        max_pes_bytes: 2048,
        ..TsLimits::default()
    };
    let seg = demux_segment(&ts, &small).unwrap();
    assert!(seg.discarded_pes > 10);
    assert!(seg.samples.iter().all(|s| s.data.len() <= 2048));
    let one = TsLimits {
        max_tracks: 1,
        ..TsLimits::default()
    };
    assert_eq!(demux_segment(&ts, &one).unwrap().tracks.len(), 1);
    assert!(demux_segment(&[], &TsLimits::default()).is_err());
    assert!(demux_segment(&[0x47; 188 * 4], &TsLimits::default()).is_err());
    // SDT, PAT, PMT and nothing else: tracks, no samples.
    let head = demux_segment(&ts[..188 * 3], &TsLimits::default()).unwrap();
    assert_eq!((head.tracks.len(), head.samples.len()), (2, 0));
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 300 truncated, bit-flipped, spliced and zeroed variants of a real segment: each ends in a
/// result (samples or a typed error), never a panic, within the limits.
#[test]
fn malformed_segments_never_panic() {
    let segs = hls_segments();
    let seg = &segs[1].1;
    let limits = TsLimits::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ok = 0;
    let start = std::time::Instant::now();
    for i in 0..300 {
        let mut v = seg.clone();
        match i % 4 {
            0 => v.truncate(rng.below(seg.len())),
            1 => {
                for _ in 0..1 + rng.below(40) {
                    let at = rng.below(v.len());
                    v[at] ^= 1 << rng.below(8);
                }
            }
            2 => {
                let a = rng.below(v.len());
                let b = rng.below(v.len());
                let (a, b) = (a.min(b), a.max(b));
                v.drain(a..b.min(a + 5000));
            }
            _ => {
                let at = rng.below(v.len());
                let n = rng.below(3000).min(v.len() - at);
                for x in &mut v[at..at + n] {
                    *x = rng.next() as u8;
                }
            }
        }
        let prev = (i % 3 == 0).then(|| rng.next() as i64 >> 20);
        if let Ok(s) = demux_segment_after(&v, &limits, prev) {
            ok += 1;
            assert!(s.samples.iter().all(|x| x.track < s.tracks.len()));
            let bytes: usize = s.samples.iter().map(|x| x.data.len()).sum();
            assert!(bytes <= v.len());
        }
    }
    assert!(ok > 200, "{ok} of 300 still demuxed");
    assert!(start.elapsed().as_secs() < 60);
}

/// Writes H.264 RBSP bits: fixed-width fields, Exp-Golomb codes.
#[derive(Default)]
struct BitWriter(Vec<u8>);

impl BitWriter {
    fn u(&mut self, n: u32, v: u64) {
        for i in (0..n).rev() {
            self.0.push(((v >> i) & 1) as u8);
        }
    }
    fn ue(&mut self, v: u64) {
        let x = v + 1;
        let n = 64 - x.leading_zeros();
        self.u(n - 1, 0);
        self.u(n, x);
    }
    fn se(&mut self, v: i64) {
        self.ue(if v > 0 {
            2 * v as u64 - 1
        } else {
            (-2 * v) as u64
        });
    }
    /// The NAL unit: header byte, RBSP with stop bit, emulation prevention applied.
    fn nal(mut self, header: u8) -> Vec<u8> {
        self.0.push(1);
        while !self.0.len().is_multiple_of(8) {
            self.0.push(0);
        }
        let mut out = vec![header];
        let mut zeros = 0;
        for byte in self
            .0
            .chunks(8)
            .map(|b| b.iter().fold(0u8, |a, &x| a << 1 | x))
        {
            if zeros >= 2 && byte <= 3 {
                out.push(3);
                zeros = 0;
            }
            out.push(byte);
            zeros = if byte == 0 { zeros + 1 } else { 0 };
        }
        out
    }
}

struct SpsSpec {
    profile: u8,
    chroma: u64,
    /// Which scaling lists are present (bit i = list i).
    lists: u16,
    frame_mbs_only: bool,
    crop: [u64; 4],
    sar: Option<(u64, u64)>,
}

/// An SPS with the slice-relevant fields of x264's 320x180 SPS (so the stream it replaces the
/// SPS of still parses) and the given profile-dependent fields.
fn craft_sps(spec: &SpsSpec) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.u(8, spec.profile.into());
    w.u(8, 0);
    w.u(8, 30);
    w.ue(0);
    if spec.profile >= 100 {
        w.ue(spec.chroma);
        if spec.chroma == 3 {
            w.u(1, 0);
        }
        w.ue(0);
        w.ue(0);
        w.u(1, 0);
        w.u(1, u64::from(spec.lists != 0));
        if spec.lists != 0 {
            for i in 0..if spec.chroma == 3 { 12 } else { 8 } {
                let present = spec.lists >> i & 1 == 1;
                w.u(1, present.into());
                if !present {
                    continue;
                }
                let size = if i < 6 { 16 } else { 64 };
                let (mut last, mut next) = (8i64, 8i64);
                for j in 0..size {
                    if next != 0 {
                        // List 1 uses the default (first delta brings nextScale to 0).
                        let delta = if i == 1 { -8 } else { (j * 7 % 11) as i64 - 5 };
                        w.se(delta);
                        next = (last + delta + 256) % 256;
                    }
                    if next != 0 {
                        last = next;
                    }
                }
            }
        }
    }
    w.ue(0); // log2_max_frame_num_minus4
    w.ue(0); // pic_order_cnt_type
    w.ue(2); // log2_max_pic_order_cnt_lsb_minus4
    w.ue(4); // max_num_ref_frames
    w.u(1, 0);
    w.ue(19); // 20 macroblocks wide
    w.ue(if spec.frame_mbs_only { 11 } else { 5 });
    w.u(1, spec.frame_mbs_only.into());
    if !spec.frame_mbs_only {
        w.u(1, 1);
    }
    w.u(1, 1);
    w.u(1, u64::from(spec.crop != [0; 4]));
    if spec.crop != [0; 4] {
        for c in spec.crop {
            w.ue(c);
        }
    }
    w.u(1, spec.sar.is_some().into());
    if let Some((sw, sh)) = spec.sar {
        w.u(1, 1);
        w.u(8, 255);
        w.u(16, sw);
        w.u(16, sh);
        w.u(7, 0); // no overscan, signal type, chroma loc, timing, HRD, pic_struct, restriction
        w.u(1, 0);
    }
    w.nal(0x67)
}

/// SPS fields x264 never writes (scaling lists in the SPS, 4:4:4 with 12 lists, field coding
/// with cropping, explicit SAR) in a crafted SPS spliced into a real stream: our width, height
/// and SAR equal what ffprobe reads from the same bytes.
#[test]
fn crafted_sps_fields_match_ffprobe() {
    let seg = demux_segment(&read("h264-aac-320.ts"), &TsLimits::default()).unwrap();
    let specs = [
        SpsSpec {
            profile: 100,
            chroma: 1,
            lists: 0b1100_0111,
            frame_mbs_only: true,
            crop: [0, 0, 0, 6],
            sar: Some((4, 3)),
        },
        SpsSpec {
            profile: 244,
            chroma: 3,
            lists: 0b1010_0000_0011,
            frame_mbs_only: true,
            crop: [1, 2, 3, 4],
            sar: None,
        },
        SpsSpec {
            profile: 122,
            chroma: 2,
            lists: 0,
            frame_mbs_only: false,
            crop: [0, 5, 0, 3],
            sar: Some((16, 11)),
        },
        SpsSpec {
            profile: 77,
            chroma: 1,
            lists: 0,
            frame_mbs_only: true,
            crop: [3, 3, 1, 1],
            sar: None,
        },
    ];
    for (k, spec) in specs.iter().enumerate() {
        let sps = craft_sps(spec);
        let ours = avc_sps(&sps).unwrap();
        // The whole video stream with its SPS replaced, as a raw Annex B file.
        let mut es = Vec::new();
        for s in of_track(&seg, 0) {
            let au = &s.data;
            let old = first_nal_opt(au, 7);
            match old {
                Some((a, b)) => {
                    es.extend_from_slice(&au[..a]);
                    es.extend_from_slice(&sps);
                    es.extend_from_slice(&au[b..]);
                }
                None => es.extend_from_slice(au),
            }
        }
        let path =
            std::env::temp_dir().join(format!("kinema-ts-sps{k}-{}.h264", std::process::id()));
        std::fs::write(&path, &es).unwrap();
        let st = probe(&path, "stream", "index,width,height,sample_aspect_ratio");
        let trace = Command::new("ffmpeg")
            .args(["-v", "trace", "-hide_banner", "-f", "h264", "-i"])
            .arg(&path)
            .args([
                "-c",
                "copy",
                "-bsf:v",
                "trace_headers",
                "-frames:v",
                "1",
                "-f",
                "null",
                "-",
            ])
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let trace = String::from_utf8_lossy(&trace.stderr);
        if spec.lists != 0 {
            assert!(
                trace.contains("seq_scaling_matrix_present_flag                             1 = 1"),
                "{k}"
            );
        }
        let (w, h): (u32, u32) = (
            st[0]["width"].parse().unwrap(),
            st[0]["height"].parse().unwrap(),
        );
        assert_eq!((ours.width, ours.height), (w, h), "spec {k}");
        let sar = st[0]["sample_aspect_ratio"]
            .split_once(':')
            .map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap()));
        let (gw, gh) = ours.sar;
        let g = gcd(gw, gh);
        assert_eq!(
            Some((gw / g, gh / g)),
            sar.filter(|&s| s != (0, 1)).or(Some((1, 1))),
            "spec {k}"
        );
        assert_eq!(ours.chroma_format_idc as u64, spec.chroma);
        assert_eq!(ours.profile_idc, spec.profile);
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// (start, end) of the first NAL unit of `kind` in an access unit, start code excluded.
fn first_nal_opt(au: &[u8], kind: u8) -> Option<(usize, usize)> {
    let starts: Vec<usize> = (0..au.len().saturating_sub(3))
        .filter(|&i| au[i..i + 3] == [0, 0, 1])
        .map(|i| i + 3)
        .collect();
    let k = starts.iter().position(|&s| au[s] & 0x1f == kind)?;
    let s = starts[k];
    let mut end = starts.get(k + 1).map_or(au.len(), |&n| n - 3);
    while end > s && au[end - 1] == 0 {
        end -= 1;
    }
    Some((s, end))
}

/// TS packets carrying one PES on `pid`, continuity counter from `cc`, the last packet padded
/// with adaptation-field stuffing.
fn packetize(pid: u16, cc: &mut u8, pes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, chunk) in pes.chunks(184).enumerate() {
        let mut p = vec![
            0x47,
            (if k == 0 { 0x40 } else { 0 }) | (pid >> 8) as u8,
            pid as u8,
        ];
        if chunk.len() == 184 {
            p.push(0x10 | *cc);
        } else {
            p.push(0x30 | *cc);
            let af = 183 - chunk.len();
            p.push(af as u8);
            if af > 0 {
                p.push(0);
                p.resize(p.len() + af - 1, 0xff);
            }
        }
        p.extend_from_slice(chunk);
        assert_eq!(p.len(), 188);
        *cc = (*cc + 1) & 15;
        out.extend_from_slice(&p);
    }
    out
}

fn ts_bytes(prefix: u8, v: i64) -> [u8; 5] {
    [
        prefix << 4 | (((v >> 30) as u8 & 7) << 1) | 1,
        (v >> 22) as u8,
        (((v >> 15) as u8) << 1) | 1,
        (v >> 7) as u8,
        ((v as u8) << 1) | 1,
    ]
}

/// A PES packet with optional PTS (and DTS); `unbounded` writes length 0 (video).
fn pes(sid: u8, pts: Option<i64>, dts: Option<i64>, payload: &[u8], unbounded: bool) -> Vec<u8> {
    let mut header = vec![0x80, 0, 0];
    match (pts, dts) {
        (Some(p), Some(d)) => {
            header[1] = 0xc0;
            header.extend_from_slice(&ts_bytes(3, p));
            header.extend_from_slice(&ts_bytes(1, d));
        }
        (Some(p), None) => {
            header[1] = 0x80;
            header.extend_from_slice(&ts_bytes(2, p));
        }
        _ => {}
    }
    header[2] = (header.len() - 3) as u8;
    let len = if unbounded {
        0
    } else {
        header.len() + payload.len()
    };
    let mut out = vec![0, 0, 1, sid, (len >> 8) as u8, len as u8];
    out.extend_from_slice(&header);
    out.extend_from_slice(payload);
    out
}

fn audio_pes(pts: Option<i64>, payload: &[u8]) -> Vec<u8> {
    pes(0xc0, pts, None, payload, false)
}

/// The packets of a TS without those of `pid`.
fn without_pid(ts: &[u8], pid: u16) -> Vec<u8> {
    ts.chunks(188)
        .filter(|p| (u16::from(p[1] & 0x1f) << 8 | u16::from(p[2])) != pid)
        .flat_map(|p| p.iter().copied())
        .collect()
}

/// Two access units in one PES (split at the second's access unit delimiter) and a PES
/// without PTS continuing an access unit: the same samples as one AU per PES. Baseline
/// profile, so without B-frames the second AU's time is the first's plus one frame.
#[test]
fn access_units_split_and_joined_across_pes() {
    let ts = read("h264-baseline.ts");
    let limits = TsLimits::default();
    let base = demux_segment(&ts, &limits).unwrap();
    let aus = of_track(&base, 0);
    let ticks = |us: i64| div_round(us * 9, 100);
    let mut out = without_pid(&ts, 0x100);
    let mut cc = 0;
    for (k, pair) in aus.chunks(2).enumerate() {
        let first = pair[0];
        let mut payload = first.data.clone();
        if k % 3 == 2 {
            // An AU cut in two PES packets, the second without PTS; then its pair alone.
            let half = payload.len() / 2;
            let p1 = pes(
                0xe0,
                Some(ticks(first.pts_us)),
                Some(ticks(first.dts_us)),
                &payload[..half],
                true,
            );
            let p2 = pes(0xe0, None, None, &payload[half..], true);
            out.extend_from_slice(&packetize(0x100, &mut cc, &p1));
            out.extend_from_slice(&packetize(0x100, &mut cc, &p2));
            if let Some(second) = pair.get(1) {
                let p = pes(
                    0xe0,
                    Some(ticks(second.pts_us)),
                    Some(ticks(second.dts_us)),
                    &second.data,
                    true,
                );
                out.extend_from_slice(&packetize(0x100, &mut cc, &p));
            }
            continue;
        }
        if let Some(second) = pair.get(1) {
            payload.extend_from_slice(&second.data);
        }
        let p = pes(
            0xe0,
            Some(ticks(first.pts_us)),
            Some(ticks(first.dts_us)),
            &payload,
            true,
        );
        out.extend_from_slice(&packetize(0x100, &mut cc, &p));
    }
    let seg = demux_segment(&out, &limits).unwrap();
    same_in_windows(&out, &seg);
    let got = of_track(&seg, 0);
    assert_eq!(got.len(), aus.len());
    for (i, (g, w)) in got.iter().zip(&aus).enumerate() {
        assert_eq!(
            (g.pts_us, g.dts_us, g.key, g.duration_us),
            (w.pts_us, w.dts_us, w.key, w.duration_us),
            "AU {i}"
        );
        assert!(g.data == w.data, "AU {i} data");
    }
    assert_eq!(of_track(&seg, 1).len(), 0);
}

/// ADTS frames cut across PES packets at arbitrary bytes (as some encoders do): the demuxer
/// joins them and times each frame from the PES that holds its first byte.
#[test]
fn adts_frames_straddling_pes_packets() {
    let ts = read("h264-aac-320.ts");
    let limits = TsLimits::default();
    let base = demux_segment(&ts, &limits).unwrap();
    let want: Vec<(i64, Vec<u8>)> = of_track(&base, 1)
        .iter()
        .map(|s| (s.pts_us, s.data.clone()))
        .collect();
    let path = std::env::temp_dir().join(format!("kinema-ts-adts-{}.aac", std::process::id()));
    let st = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(ts_path("h264-aac-320.ts"))
        .args(["-map", "0:a", "-c", "copy", "-f", "adts"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(st.success());
    let adts = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    // Frame start offsets in the ADTS stream, and their PTS (ticks) from ffprobe.
    let mut starts = Vec::new();
    let mut at = 0;
    while at + 7 <= adts.len() {
        starts.push(at);
        at += (usize::from(adts[at + 3] & 3) << 11)
            | (usize::from(adts[at + 4]) << 3)
            | usize::from(adts[at + 5] >> 5);
    }
    let pts = &probe_packets(&ts_path("h264-aac-320.ts"))[&1];
    assert_eq!(starts.len(), pts.len());
    // Everything but the audio packets, then the audio re-cut.
    let audio_pid = 0x101;
    for chunk in [700usize, 100, 5000, 333] {
        let mut out = without_pid(&ts, audio_pid);
        let mut cc = 0;
        let mut without_pts = 0;
        for (k, piece) in adts.chunks(chunk).enumerate() {
            let (a, b) = (k * chunk, k * chunk + piece.len());
            let first = starts.iter().position(|&s| s >= a && s < b);
            without_pts += usize::from(first.is_none());
            let pes = audio_pes(first.map(|f| pts[f].0), piece);
            out.extend_from_slice(&packetize(audio_pid, &mut cc, &pes));
        }
        assert!(chunk != 100 || without_pts > 0, "PES without PTS");
        let seg = demux_segment(&out, &limits).unwrap();
        same_in_windows(&out, &seg);
        let got: Vec<(i64, Vec<u8>)> = of_track(&seg, 1)
            .iter()
            .map(|s| (s.pts_us, s.data.clone()))
            .collect();
        assert_eq!(got.len(), want.len(), "chunk {chunk}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.0, w.0, "chunk {chunk} frame {i}: pts");
            assert!(g.1 == w.1, "chunk {chunk} frame {i}: data");
        }
        assert_eq!(of_track(&seg, 0), of_track(&base, 0));
    }
}

// ---------------------------------------------------------------------------------------------
// Whole files played progressively (`demux::open` sniffs them: `ts::TsFile`)

/// The progressive MPEG-TS fixtures: scripts/fixtures.sh's 10 s files (index video, clicks) and
/// ts-fixtures.sh's (`ts/`; `ts/wrap.ts` crosses the 33-bit wrap 2.3 s in).
const FILES: [&str; 7] = [
    "h264-aac.ts",
    "h264-mp3.ts",
    "h264.m2ts",
    "ts/h264-aac-320.ts",
    "ts/hevc-aac.ts",
    "ts/h264-mp3.ts",
    "ts/wrap.ts",
];

fn file_path(name: &str) -> PathBuf {
    match name.strip_prefix("ts/") {
        Some(n) => ts_path(n),
        None => fixture_path(name),
    }
}

fn file_bytes(name: &str) -> Vec<u8> {
    std::fs::read(file_path(name)).unwrap()
}

/// (pts, dts, duration, size, key) of every packet per stream (90 kHz ticks), from ffprobe,
/// and the start time: the least pts (ffprobe keeps times continuous across a wrap).
/// (pts, dts, duration, size, key) of one packet, ticks.
type Packet = (i64, i64, i64, usize, bool);

fn file_packets(path: &Path) -> (HashMap<usize, Vec<Packet>>, i64) {
    let mut out: HashMap<usize, Vec<_>> = HashMap::new();
    for p in probe(path, "packet", "stream_index,pts,dts,duration,size,flags") {
        let pts: i64 = p["pts"].parse().unwrap();
        out.entry(p["stream_index"].parse().unwrap())
            .or_default()
            .push((
                pts,
                p["dts"].parse().unwrap_or(pts),
                p["duration"].parse().unwrap(),
                p["size"].parse().unwrap(),
                p["flags"].starts_with('K'),
            ));
    }
    let start = out.values().flatten().map(|p| p.0).min().unwrap();
    (out, start)
}

fn ffprobe_duration(path: &Path) -> f64 {
    probe(path, "format", "duration")[0]["duration"]
        .parse()
        .unwrap()
}

/// Every sample of every track of an opened file.
fn every_sample(d: &mut dyn demux::Demux, src: &mut &[u8]) -> Vec<Vec<demux::Sample>> {
    (0..d.tracks().len())
        .map(|t| kinema_testkit::all_samples(d, src, t))
        .collect()
}

#[test]
fn ts_files_are_sniffed() {
    for name in FILES {
        let bytes = file_bytes(name);
        let head = &bytes[..demux::SNIFF_BYTES];
        assert_eq!(demux::sniff(head), demux::Sniffed::Ts, "{name}");
    }
    assert_eq!(
        demux::sniff(&fixture("h264-aac.mp4")[..512]),
        demux::Sniffed::Mp4
    );
    assert_eq!(
        demux::sniff(&fixture("vbr-no-xing.mp3")[..512]),
        demux::Sniffed::Other
    );
    // One sync byte is not enough.
    let mut one = vec![0u8; 512];
    one[0] = 0x47;
    assert_eq!(demux::sniff(&one), demux::Sniffed::Other);
}

/// Every sample of a whole `.ts` / `.m2ts` file against ffprobe: count, pts and dts (from the
/// file's start time, which is time 0), duration, size, key; the tracks' codecs.
#[test]
fn ts_file_samples_match_ffprobe() {
    for name in FILES {
        let path = file_path(name);
        let bytes = file_bytes(name);
        let mut src: &[u8] = &bytes;
        let mut d = demux::open(&mut src).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(d.container(), "mpegts");
        let tracks = d.tracks().to_vec();
        let streams = probe(&path, "stream", "index,codec_name");
        assert_eq!(tracks.len(), streams.len(), "{name}: tracks");
        let (packets, start) = file_packets(&path);
        let all = every_sample(d.as_mut(), &mut src);
        for (t, info) in tracks.iter().enumerate() {
            let want_codec = match streams[t]["codec_name"].as_str() {
                "h264" => "avc1.",
                "hevc" => "hvc1.",
                "aac" => "mp4a.40.2",
                "mp3" => "mp3",
                other => panic!("{name}: codec {other}"),
            };
            assert!(info.codec.starts_with(want_codec), "{name}: {}", info.codec);
            let ours = &all[t];
            let theirs = &packets[&t];
            assert_eq!(ours.len(), theirs.len(), "{name}: track {t} sample count");
            let header = if info.codec.starts_with("mp4a") { 7 } else { 0 };
            for (i, (s, r)) in ours.iter().zip(theirs).enumerate() {
                let us = |ticks: i64| ticks_to_us(ticks, 90_000);
                assert_eq!(s.pts_us, us(r.0 - start), "{name} t{t} #{i}: pts");
                assert_eq!(s.dts_us, us(r.1 - start), "{name} t{t} #{i}: dts");
                assert_eq!(s.duration_us, us(r.2), "{name} t{t} #{i}: duration");
                if info.codec.starts_with("hvc1") {
                    // See check_against_ffprobe: ffmpeg's HEVC parser moves start-code bytes.
                    assert!(
                        (s.size as usize).abs_diff(r.3) <= 1,
                        "{name} t{t} #{i}: size"
                    );
                } else {
                    assert_eq!(s.size as usize + header, r.3, "{name} t{t} #{i}: size");
                }
                assert_eq!(s.key, r.4, "{name} t{t} #{i}: key");
            }
        }
        let first = all.iter().flatten().map(|s| s.pts_us).min().unwrap();
        assert_eq!(first, 0, "{name}: time 0 is the first presentation time");
    }
}

/// The bytes `read_sample` hands out are those the segment demuxer finds in the same file.
#[test]
fn ts_file_sample_bytes_match_the_segment_demuxer() {
    for name in FILES {
        let bytes = file_bytes(name);
        let seg = demux_segment(&bytes, &TsLimits::default()).unwrap();
        let mut src: &[u8] = &bytes;
        let mut d = demux::open(&mut src).unwrap();
        for t in 0..d.tracks().len() {
            let want = of_track(&seg, t);
            let ours = kinema_testkit::all_samples(d.as_mut(), &mut src, t);
            assert_eq!(ours.len(), want.len(), "{name} t{t}");
            for (i, (s, w)) in ours.iter().zip(&want).enumerate() {
                let mut buf = vec![0u8; s.size as usize];
                let n = d.read_sample(&mut src, s, &mut buf).unwrap();
                assert_eq!(n, buf.len(), "{name} t{t} #{i}");
                assert!(buf == w.data, "{name} t{t} #{i}: bytes");
            }
        }
    }
}

/// Windows of any size give the same samples: a window's samples are those of the PES packets
/// that start in it, so nothing is lost or repeated where windows meet.
#[test]
fn ts_file_windows_join_without_gaps() {
    for name in FILES {
        let bytes = file_bytes(name);
        let mut src: &[u8] = &bytes;
        let mut whole = TsFile::open(&mut src).unwrap();
        let want = every_sample(&mut whole, &mut src);
        for window in [188 * 8, 188 * 50, 64 * 1024 + 7, 100_000] {
            let mut d = TsFile::open_with_window(&mut src, window).unwrap();
            assert_eq!(d.tracks(), whole.tracks(), "{name} window {window}");
            assert_eq!(d.duration(), whole.duration(), "{name} window {window}");
            let got = every_sample(&mut d, &mut src);
            for (t, (g, w)) in got.iter().zip(&want).enumerate() {
                let key = |s: &demux::Sample| (s.pts_us, s.dts_us, s.duration_us, s.size, s.key);
                assert_eq!(
                    g.iter().map(key).collect::<Vec<_>>(),
                    w.iter().map(key).collect::<Vec<_>>(),
                    "{name} window {window} track {t}"
                );
                for (a, b) in g.iter().zip(w) {
                    let (mut x, mut y) = (vec![0; a.size as usize], vec![0; b.size as usize]);
                    d.read_sample(&mut src, a, &mut x).unwrap();
                    whole.read_sample(&mut src, b, &mut y).unwrap();
                    assert!(x == y, "{name} window {window} t{t} at {}", a.dts_us);
                }
            }
        }
    }
}

/// The duration: first presentation time to the end of the last sample, within a frame of
/// ffprobe's (which ends each stream one frame after its last PES's timestamp).
#[test]
fn ts_file_duration_matches_ffprobe() {
    for name in FILES {
        let path = file_path(name);
        let bytes = file_bytes(name);
        let mut src: &[u8] = &bytes;
        let mut d = demux::open(&mut src).unwrap();
        let ours = d.duration().unwrap();
        let theirs = ffprobe_duration(&path);
        println!("{name}: duration {ours:.6} s, ffprobe {theirs:.6} s");
        assert!(
            (ours - theirs).abs() <= 1.0 / 30.0,
            "{name}: {ours} vs {theirs}"
        );
        // And it is where the samples end.
        let end = every_sample(d.as_mut(), &mut src)
            .iter()
            .flatten()
            .map(|s| s.pts_us + s.duration_us)
            .max()
            .unwrap();
        assert!(
            ((ours * 1e6).round() as i64 - end).abs() <= 1,
            "{name}: {ours} vs {end}"
        );
    }
}

/// A seek lands on the last keyframe at or before the target (every audio frame is one), the
/// first sample when there is none, whatever the window size.
#[test]
fn ts_file_seeks_land_on_the_keyframe_before() {
    for name in FILES {
        let bytes = file_bytes(name);
        let mut src: &[u8] = &bytes;
        for window in [TsFile::DEFAULT_WINDOW, 188 * 40] {
            let mut d = TsFile::open_with_window(&mut src, window).unwrap();
            let all = every_sample(&mut d, &mut src);
            let end = (d.duration().unwrap() * 1e6) as i64;
            for (t, samples) in all.iter().enumerate() {
                let keys: Vec<i64> = samples.iter().filter(|s| s.key).map(|s| s.pts_us).collect();
                let mut targets = vec![-5_000_000, 0, 1, 999_999, 1_000_000, end / 2, end - 1];
                targets.extend([end, end + 5_000_000, i64::MAX / 4]);
                targets.extend(keys.iter().step_by(7).flat_map(|&k| [k - 1, k, k + 1]));
                for target in targets {
                    let want = samples
                        .iter()
                        .rfind(|s| s.key && s.pts_us <= target)
                        .unwrap_or(&samples[0]);
                    let mut c = d.seek(&mut src, t, target).unwrap();
                    let got = d.next_sample(&mut src, t, &mut c).unwrap().unwrap();
                    assert_eq!(
                        (got.pts_us, got.dts_us, got.key),
                        (want.pts_us, want.dts_us, want.key),
                        "{name} window {window} t{t} seek {target}"
                    );
                }
            }
        }
    }
}

/// Bytes that arrive in pieces, as from the player's cache: every read of bytes not there
/// answers `NeedBytes` (naming a byte that is missing), and the call succeeds once they are.
struct Holes<'a> {
    data: &'a [u8],
    held: std::collections::BTreeSet<u64>,
    misses: usize,
}

const HOLE_BLOCK: u64 = 4 * 1024;

impl Holes<'_> {
    fn new(data: &[u8]) -> Holes<'_> {
        Holes {
            data,
            held: Default::default(),
            misses: 0,
        }
    }

    /// Runs `f` until it no longer misses, fetching each missing block.
    fn until<T>(&mut self, mut f: impl FnMut(&mut Self) -> Result<T, demux::DemuxError>) -> T {
        loop {
            match f(self) {
                Ok(v) => return v,
                Err(demux::DemuxError::NeedBytes(at)) => {
                    assert!(at < self.data.len() as u64, "miss past the end: {at}");
                    assert!(self.held.insert(at / HOLE_BLOCK), "miss at held byte {at}");
                    self.misses += 1;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    fn fetched(&self) -> u64 {
        self.held.len() as u64 * HOLE_BLOCK
    }
}

impl demux::ByteSource for Holes<'_> {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, demux::DemuxError> {
        let end = (offset + buf.len() as u64).min(self.data.len() as u64);
        let mut at = offset;
        while at < end {
            if !self.held.contains(&(at / HOLE_BLOCK)) {
                return Err(demux::DemuxError::NeedBytes(at));
            }
            at = (at / HOLE_BLOCK + 1) * HOLE_BLOCK;
        }
        let mut all: &[u8] = self.data;
        all.read_at(offset, buf)
    }

    fn len(&self) -> Option<u64> {
        Some(self.data.len() as u64)
    }
}

/// Open, reading and seeking over bytes that arrive as they are asked for: the same results,
/// and a seek fetches what the bisection probes and the window it lands in need, not the file.
#[test]
fn ts_file_reads_resume_after_missing_bytes() {
    use kinema_core::demux::ByteSource;
    let name = "h264-aac.ts";
    let bytes = file_bytes(name);
    let mut full: &[u8] = &bytes;
    let window = 16 * 1024;
    let mut reference = TsFile::open_with_window(&mut full, window).unwrap();
    let want = every_sample(&mut reference, &mut full);

    let mut holes = Holes::new(&bytes);
    let mut d = holes.until(|h| TsFile::open_with_window(h, window));
    assert!(holes.misses > 2, "the head and the tail are fetched");
    assert_eq!(d.duration(), reference.duration());
    for (t, samples) in want.iter().enumerate() {
        let mut c = Cursor::default();
        for s in samples {
            let got = holes.until(|h| d.next_sample(h, t, &mut c)).unwrap();
            assert_eq!((got.pts_us, got.size), (s.pts_us, s.size));
            let mut buf = vec![0; got.size as usize];
            holes.until(|h| d.read_sample(h, &got, &mut buf));
            let mut theirs = vec![0; s.size as usize];
            reference.read_sample(&mut full, s, &mut theirs).unwrap();
            assert!(buf == theirs, "t{t} at {}", s.pts_us);
        }
        assert_eq!(holes.until(|h| d.next_sample(h, t, &mut c)), None);
    }

    // A fresh source for a seek: the bisection reads a few probes and the windows around the
    // target, not the whole file.
    let mut holes = Holes::new(&bytes);
    let mut d = TsFile::open_with_window(&mut full, window).unwrap();
    let target = 8_000_000;
    let mut c = holes.until(|h| d.seek(h, 0, target));
    let got = holes.until(|h| d.next_sample(h, 0, &mut c)).unwrap();
    let key = want[0]
        .iter()
        .rfind(|s| s.key && s.pts_us <= target)
        .unwrap();
    assert_eq!(got.pts_us, key.pts_us);
    println!(
        "seek to {target} µs in {name} ({} bytes): {} misses, {} bytes fetched",
        bytes.len(),
        holes.misses,
        holes.fetched()
    );
    assert!(
        holes.fetched() * 2 < bytes.len() as u64,
        "{}",
        holes.fetched()
    );
    assert!(holes.len().is_some());
}

/// The 33-bit wrap inside a file: times keep increasing through it, and seeks across it land
/// on the right keyframe (checked in `ts_file_seeks_land_on_the_keyframe_before` too); a file
/// whose wrap comes late (the 10 s file shifted to wrap at 7 s) as well.
#[test]
fn ts_file_timestamps_increase_across_the_wrap() {
    let bytes = file_bytes("h264-aac.ts");
    let seg = demux_segment(&bytes, &TsLimits::default()).unwrap();
    let first = seg.samples.iter().map(|s| s.pts_us).min().unwrap();
    let shifted = shift_timestamps(&bytes, WRAP - div_round((first + 7_000_000) * 9, 100));
    for data in [file_bytes("ts/wrap.ts"), shifted] {
        let mut src: &[u8] = &data;
        let mut d = TsFile::open_with_window(&mut src, 188 * 100).unwrap();
        let all = every_sample(&mut d, &mut src);
        for (t, samples) in all.iter().enumerate() {
            assert!(
                samples.windows(2).all(|w| w[1].dts_us > w[0].dts_us),
                "track {t}: dts increase"
            );
            assert!(samples[0].pts_us < 100_000, "track {t} starts at 0");
        }
        let d = d.duration().unwrap();
        assert!((3.9..10.1).contains(&d), "duration {d}");
    }
}

/// A file cut short plays what it has: the duration is where its samples end.
#[test]
fn truncated_ts_file_opens_with_the_duration_it_has() {
    let bytes = file_bytes("h264-aac.ts");
    let cut = &bytes[..bytes.len() * 6 / 10];
    let mut src: &[u8] = cut;
    let mut d = demux::open(&mut src).unwrap();
    let dur = d.duration().unwrap();
    assert!((5.0..7.0).contains(&dur), "{dur}");
    let mut full: &[u8] = &bytes;
    let mut whole = demux::open(&mut full).unwrap();
    for t in 0..2 {
        let part = kinema_testkit::all_samples(d.as_mut(), &mut src, t);
        let all = kinema_testkit::all_samples(whole.as_mut(), &mut full, t);
        let n = part.len() - 1; // the last may be cut
        assert!(n > all.len() / 2);
        for (a, b) in part[..n].iter().zip(&all) {
            assert_eq!((a.pts_us, a.size), (b.pts_us, b.size));
        }
    }
}

/// The same bytes as a file, in windows of several sizes: the segment demuxer's samples (times
/// from the first presentation time), whatever PES packets straddle the windows' ends.
fn same_in_windows(data: &[u8], seg: &TsSegment) {
    let ticks = |us: i64| div_round(us * 9, 100);
    let origin = seg
        .samples
        .iter()
        .filter(|s| seg.tracks[s.track].kind.is_some())
        .map(|s| ticks(s.pts_us))
        .min()
        .unwrap();
    for window in [188 * 8, 188 * 21, 4096, 20_000] {
        let mut src: &[u8] = data;
        let mut d = TsFile::open_with_window(&mut src, window).unwrap();
        for (t, info) in seg.tracks.iter().enumerate() {
            if info.kind.is_none() {
                continue;
            }
            let want = of_track(seg, t);
            let got = kinema_testkit::all_samples(&mut d, &mut src, t);
            assert_eq!(got.len(), want.len(), "window {window} track {t}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    (ticks(g.pts_us), ticks(g.dts_us), g.key, g.size as usize),
                    (
                        ticks(w.pts_us) - origin,
                        ticks(w.dts_us) - origin,
                        w.key,
                        w.data.len()
                    ),
                    "window {window} track {t} #{i}"
                );
                let mut buf = vec![0; g.size as usize];
                d.read_sample(&mut src, g, &mut buf).unwrap();
                assert!(buf == w.data, "window {window} track {t} #{i}: bytes");
            }
        }
    }
}
