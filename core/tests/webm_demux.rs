//! The WebM / Matroska demuxer against ffprobe's packet lists for fixtures that ffmpeg makes at
//! test time (VP9+Opus, VP8+Vorbis, AV1, live-style with unknown sizes, Cues in front, no
//! Cues, Matroska), a hand-built file with every lacing kind, seeking, a byte source that
//! fetches on demand (with eviction), and truncated / bit-flipped input.
//! ffmpeg and ffprobe must be installed: without them these tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use kinema_core::demux::webm::WebmDemuxer;
use kinema_core::demux::{self, ByteSource, Cursor, Demux, DemuxError, Sample, TrackKind};
use kinema_testkit::{all_samples, ffprobe_packets};

// ---------------------------------------------------------------------------------------------
// Fixtures

// Local: this file's fixtures are made by ffmpeg at test time in a temporary folder, not
// listed in tests/fixtures/manifest.txt (ts_demux.rs's `dir` is the generated ts/ folder).
fn dir() -> PathBuf {
    static CLEAN: std::sync::Once = std::sync::Once::new();
    CLEAN.call_once(remove_stale_dirs);
    let d = std::env::temp_dir().join(format!("kinema-webm-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Removes fixture directories of earlier test processes that have exited (Linux: no
/// `/proc/<pid>`); elsewhere they stay.
fn remove_stale_dirs() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("kinema-webm-test-") else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

static GENERATE: Mutex<()> = Mutex::new(());

const AV: &[&str] = &[
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=160x90:rate=30",
    "-f",
    "lavfi",
    "-i",
    "sine=f=440:sample_rate=48000",
];
const VP9: &[&str] = &[
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-g",
    "30",
];

/// ffmpeg arguments (inputs and codecs) of each fixture.
fn recipe(name: &str) -> Vec<&'static str> {
    let mut a: Vec<&str> = AV.to_vec();
    match name {
        "vp9_opus.webm" => {
            a.extend(["-t", "4"]);
            a.extend(VP9);
            a.extend(["-c:a", "libopus"]);
        }
        "vp8_vorbis.webm" => {
            a.extend(["-t", "4", "-c:v", "libvpx", "-deadline", "realtime"]);
            a.extend(["-cpu-used", "8", "-g", "30", "-c:a", "libvorbis"]);
        }
        "av1.webm" => {
            a.extend([
                "-t",
                "2",
                "-c:v",
                "libaom-av1",
                "-cpu-used",
                "8",
                "-g",
                "30",
            ]);
            a.extend(["-c:a", "libopus"]);
        }
        "live.webm" => {
            a.extend(["-t", "4"]);
            a.extend(VP9);
            a.extend([
                "-c:a",
                "libopus",
                "-live",
                "1",
                "-cluster_time_limit",
                "500",
            ]);
        }
        "cues_front.webm" => {
            a.extend(["-t", "4"]);
            a.extend(VP9);
            a.extend(["-c:a", "libopus", "-cues_to_front", "1"]);
            a.extend(["-cluster_time_limit", "700"]);
        }
        "opus_only.webm" => {
            a = vec![
                "-f",
                "lavfi",
                "-i",
                "sine=f=440:sample_rate=48000",
                "-t",
                "6",
            ];
            a.extend(["-c:a", "libopus", "-cluster_time_limit", "1000"]);
        }
        "vp9_10bit.webm" => {
            a = vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=160x90:rate=30",
                "-t",
                "1",
            ];
            a.extend(VP9);
            a.extend(["-pix_fmt", "yuv420p10le"]);
        }
        "vp9_opus.mkv" => {
            a.extend(["-t", "3"]);
            a.extend(VP9);
            a.extend(["-c:a", "libopus"]);
        }
        _ => panic!("no recipe for {name}"),
    }
    a
}

/// Path of a fixture, generating it (once per test process) when missing.
fn fixture_path(name: &str) -> PathBuf {
    let _g = GENERATE.lock().unwrap_or_else(|e| e.into_inner());
    let p = dir().join(name);
    if !p.exists() {
        let tmp = dir().join(format!("tmp-{name}"));
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(recipe(name))
            .arg(&tmp)
            .output()
            .expect("ffmpeg must be installed (scripts/bootstrap.sh)");
        assert!(
            out.status.success(),
            "ffmpeg {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&tmp, &p).unwrap();
    }
    p
}

// Local: reads this file's own test-time fixtures (see `dir`), not the manifest's.
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// An ffprobe packet: pts µs, size, key, pos.
#[derive(Debug, Clone, Copy)]
struct Probe {
    pts: i64,
    size: u32,
    key: bool,
    pos: u64,
}

// Local: the Matroska fields (no dts) as a `Probe`; mp4_demux.rs reads others.
fn ffprobe(path: &std::path::Path, stream: usize) -> Vec<Probe> {
    ffprobe_packets(path, &stream.to_string(), "pts_time,size,flags,pos")
        .iter()
        .map(|f| Probe {
            pts: (f[0].parse::<f64>().unwrap() * 1e6).round() as i64,
            size: f[1].parse().unwrap(),
            pos: f[2].parse().unwrap(),
            key: f[3].starts_with('K'),
        })
        .collect()
}

/// The packets of one stream, concatenated, as ffmpeg's `data` muxer writes them.
fn ffmpeg_packets(path: &std::path::Path, stream: usize) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map",
            &format!("0:{stream}"),
            "-c",
            "copy",
            "-f",
            "data",
            "-",
        ])
        .output()
        .expect("ffmpeg must be installed");
    assert!(out.status.success(), "ffmpeg data {}", path.display());
    out.stdout
}

// ---------------------------------------------------------------------------------------------
// Helpers

// Local: the sample bytes out of a file (manifests.rs's `bytes_of` reads a URL's range).
fn bytes_of(data: &[u8], samples: &[Sample]) -> Vec<u8> {
    let mut v = Vec::new();
    for s in samples {
        v.extend_from_slice(&data[s.offset as usize..s.offset as usize + s.size as usize]);
    }
    v
}

/// How far ffmpeg's times are from ours: ffmpeg subtracts CodecDelay rounded to whole
/// TimestampScale ticks (1 ms in these files), we subtract it exactly.
fn delay_adjust(delay_us: i64) -> i64 {
    ((delay_us + 500) / 1000) * 1000 - delay_us
}

/// Checks every sample of every track against ffprobe and ffmpeg's packet bytes. Returns how
/// many samples were compared.
// Local: Matroska's own checks (CodecDelay, block offsets, packet bytes); see mp4_demux.rs.
fn check_against_ffprobe(path: &std::path::Path, data: &[u8], codecs: &[&str]) -> usize {
    let mut src: &[u8] = data;
    let mut d = demux::open(&mut src).unwrap();
    let tracks = d.tracks().to_vec();
    assert_eq!(tracks.len(), codecs.len(), "{}: tracks", path.display());
    let mut compared = 0;
    for (t, info) in tracks.iter().enumerate() {
        eprintln!(
            "{}: track {t}: {} {:?}",
            path.display(),
            info.codec,
            info.kind
        );
        assert!(
            info.codec.starts_with(codecs[t]),
            "{}: track {t} codec {} (wanted {})",
            path.display(),
            info.codec,
            codecs[t]
        );
        let ours = all_samples(d.as_mut(), &mut src, t);
        let theirs = ffprobe(path, t);
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{}: track {t} count",
            path.display()
        );
        let adj = delay_adjust(info.codec_delay_us);
        for (i, (s, r)) in ours.iter().zip(&theirs).enumerate() {
            let ctx = format!("{} track {t} sample {i}: {s:?} vs {r:?}", path.display());
            assert!((s.pts_us - (r.pts + adj)).abs() <= 1, "pts {ctx}");
            assert_eq!(s.dts_us, s.pts_us, "dts {ctx}");
            assert_eq!(s.size, r.size, "size {ctx}");
            assert_eq!(s.key, r.key, "key {ctx}");
            // ffprobe's pos is the block body; the frame follows track number, time, flags.
            assert_eq!(s.offset, r.pos + 4, "offset {ctx}");
        }
        assert!(
            bytes_of(data, &ours) == ffmpeg_packets(path, t),
            "{}: track {t} packet bytes differ from ffmpeg's",
            path.display()
        );
        compared += ours.len();
    }
    compared
}

/// The sample `seek` should land on: the last keyframe at or before `t` (less the Opus
/// SeekPreRoll of 80 ms that ffmpeg writes), else the first keyframe.
fn expected_seek(all: &[Sample], t: i64, opus: bool) -> Sample {
    let target = t - if opus { 80_000 } else { 0 };
    all.iter()
        .rev()
        .find(|s| s.key && s.pts_us <= target)
        .or_else(|| all.iter().find(|s| s.key))
        .copied()
        .unwrap()
}

/// Seeks to a spread of times on a fresh demuxer and on one shared by all seeks; the cursor
/// must yield the expected keyframe and then exactly the rest of the track.
fn check_seeks(data: &[u8], times_ms: &[i64]) -> usize {
    let mut src: &[u8] = data;
    let mut shared = WebmDemuxer::open(&mut src).unwrap();
    let n = shared.tracks().len();
    let mut checked = 0;
    for t in 0..n {
        let mut fresh = WebmDemuxer::open(&mut src).unwrap();
        let all = all_samples(&mut fresh, &mut src, t);
        let opus = shared.tracks()[t].codec == "opus";
        for &ms in times_ms {
            let want = expected_seek(&all, ms * 1000, opus);
            let at = all.iter().position(|s| *s == want).unwrap();
            for d in [&mut WebmDemuxer::open(&mut src).unwrap(), &mut shared] {
                let mut c = d.seek(&mut src, t, ms * 1000).unwrap();
                let mut rest = Vec::new();
                while let Some(s) = d.next_sample(&mut src, t, &mut c).unwrap() {
                    rest.push(s);
                }
                assert_eq!(rest.first(), Some(&want), "track {t} seek {ms} ms");
                assert!(
                    rest == all[at..],
                    "track {t} seek {ms} ms: samples after it"
                );
                checked += 1;
            }
        }
    }
    checked
}

// ---------------------------------------------------------------------------------------------
// A byte source that has only what was fetched (4 KiB blocks), optionally forgetting the
// oldest blocks beyond a budget, optionally not telling its length.

struct Progressive {
    data: Vec<u8>,
    have: Vec<bool>,
    order: VecDeque<usize>,
    budget: usize,
    tell_len: bool,
    fetches: usize,
}

const PBLOCK: usize = 4096;

impl Progressive {
    fn new(data: Vec<u8>, budget: usize, tell_len: bool) -> Self {
        let blocks = data.len().div_ceil(PBLOCK);
        Progressive {
            data,
            have: vec![false; blocks],
            order: VecDeque::new(),
            budget,
            tell_len,
            fetches: 0,
        }
    }
    fn fetch(&mut self, at: u64) {
        let b = at as usize / PBLOCK;
        assert!(b < self.have.len(), "fetch beyond the end: {at}");
        assert!(!self.have[b], "NeedBytes({at}) for a block that is held");
        self.have[b] = true;
        self.order.push_back(b);
        self.fetches += 1;
        while self.order.len() > self.budget {
            let old = self.order.pop_front().unwrap();
            self.have[old] = false;
        }
    }
    /// Runs `f` until it stops asking for bytes.
    fn retry<T>(&mut self, mut f: impl FnMut(&mut Self) -> Result<T, DemuxError>) -> T {
        for _ in 0..10_000 {
            match f(self) {
                Ok(v) => return v,
                Err(DemuxError::NeedBytes(at)) => self.fetch(at),
                Err(e) => panic!("{e:?}"),
            }
        }
        panic!("no progress after 10000 fetches");
    }
}

impl ByteSource for Progressive {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, DemuxError> {
        let len = self.data.len();
        let start = (offset as usize).min(len);
        let end = (start + buf.len()).min(len);
        if start < end {
            for b in start / PBLOCK..=(end - 1) / PBLOCK {
                if !self.have[b] {
                    return Err(DemuxError::NeedBytes((b * PBLOCK).max(start) as u64));
                }
            }
        }
        buf[..end - start].copy_from_slice(&self.data[start..end]);
        Ok(end - start)
    }
    fn len(&self) -> Option<u64> {
        self.tell_len.then_some(self.data.len() as u64)
    }
}

// ---------------------------------------------------------------------------------------------
// Building Matroska by hand

fn id_bytes(id: u32) -> Vec<u8> {
    let b = id.to_be_bytes();
    let skip = b.iter().position(|&x| x != 0).unwrap();
    b[skip..].to_vec()
}

fn el(id: u32, body: &[u8]) -> Vec<u8> {
    let mut v = id_bytes(id);
    v.push(0x01);
    v.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

fn el_unknown(id: u32, body: &[u8]) -> Vec<u8> {
    let mut v = id_bytes(id);
    v.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    v.extend_from_slice(body);
    v
}

fn el_uint(id: u32, x: u64) -> Vec<u8> {
    el(id, &x.to_be_bytes())
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn frame(tag: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| tag.wrapping_add(i as u8 % 7)).collect()
}

/// A block body: track, relative time, flags, lace header, frames.
fn block(track: u8, rel: i16, flags: u8, lace: &[u8], frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0x80 | track];
    v.extend_from_slice(&rel.to_be_bytes());
    v.push(flags);
    v.extend_from_slice(lace);
    for f in frames {
        v.extend_from_slice(f);
    }
    v
}

fn xiph(n: usize) -> Vec<u8> {
    let mut v = vec![255u8; n / 255];
    v.push((n % 255) as u8);
    v
}

/// A Matroska file with Xiph, EBML and fixed lacing, BlockGroups with and without
/// ReferenceBlock, a negative block time, a known-size and an unknown-size cluster. Returns the
/// file and, per track, the expected (pts µs, duration µs, key, frame bytes).
#[allow(clippy::type_complexity)]
fn laced_file() -> (Vec<u8>, Vec<Vec<(i64, i64, bool, Vec<u8>)>>) {
    let ebml = el(
        0x1A45DFA3,
        &cat(&[el_uint(0x4286, 1), el(0x4282, b"matroska")]),
    );
    let info = el(
        0x1549A966,
        &cat(&[
            el_uint(0x2AD7B1, 100_000), // 0.1 ms ticks
            el(0x4489, &20_000f64.to_be_bytes()),
        ]),
    );
    let track = |n: u64, kind: u64, codec: &[u8], extra: Vec<u8>| {
        el(
            0xAE,
            &cat(&[
                el_uint(0xD7, n),
                el_uint(0x83, kind),
                el(0x86, codec),
                extra,
            ]),
        )
    };
    let tracks = el(
        0x1654AE6B,
        &cat(&[
            // Track 1: Opus-like with DefaultDuration 20 ms and CodecDelay 1 ms.
            track(
                1,
                2,
                b"A_OPUS",
                cat(&[
                    el_uint(0x23E383, 20_000_000),
                    el_uint(0x56AA, 1_000_000),
                    el(0x63A2, b"OpusHead\x01\x01"),
                    el(
                        0xE1,
                        &cat(&[el(0xB5, &48000f32.to_be_bytes()), el_uint(0x9F, 2)]),
                    ),
                ]),
            ),
            // Track 2: no DefaultDuration: laced frames share the block time.
            track(2, 2, b"A_VORBIS", el(0x63A2, b"\x02\x01\x01abc")),
            // Track 3: video, display aspect 16:9 (DisplayUnit 3).
            track(
                3,
                1,
                b"V_VP8",
                el(
                    0xE0,
                    &cat(&[
                        el_uint(0xB0, 64),
                        el_uint(0xBA, 48),
                        el_uint(0x54B0, 16),
                        el_uint(0x54BA, 9),
                        el_uint(0x54B2, 3),
                    ]),
                ),
            ),
            // Track 4: a subtitle track (skipped kind).
            track(4, 0x11, b"S_TEXT/UTF8", Vec::new()),
        ]),
    );
    let mut expect: Vec<Vec<(i64, i64, bool, Vec<u8>)>> = vec![Vec::new(); 4];
    let ms = |ticks: i64| ticks * 100; // ticks of 0.1 ms → µs

    // Cluster 1 at 1000 ticks (100 ms).
    let a = [frame(1, 300), frame(2, 5), frame(3, 17)];
    let xiph_lace = cat(&[vec![2], xiph(300), xiph(5)]);
    let sb1 = el(0xA3, &block(1, 10, 0x80 | 0x02, &xiph_lace, &a));
    for (i, f) in a.iter().enumerate() {
        expect[0].push((ms(1010) - 1000 + 20_000 * i as i64, 20_000, true, f.clone()));
    }
    let b = [frame(10, 100), frame(11, 90), frame(12, 130), frame(13, 7)];
    // EBML lacing: 100, then signed differences -10 and +40 (1-byte bias 63).
    let ebml_lace = vec![3, 0x80 | 100, 0x80 | (63 - 10), 0x80 | (63 + 40)];
    let sb2 = el(0xA3, &block(2, -5, 0x80 | 0x06, &ebml_lace, &b));
    for f in &b {
        expect[1].push((ms(995), 0, true, f.clone()));
    }
    let c = [frame(20, 10), frame(21, 10)];
    let sb3 = el(0xA3, &block(1, 400, 0x80 | 0x04, &[1], &c));
    for (i, f) in c.iter().enumerate() {
        expect[0].push((ms(1400) - 1000 + 20_000 * i as i64, 20_000, true, f.clone()));
    }
    let v1 = frame(30, 50);
    let bg1 = el(
        0xA0,
        &cat(&[
            el(0xA1, &block(3, 0, 0, &[], std::slice::from_ref(&v1))),
            el_uint(0x9B, 330),
        ]),
    );
    expect[2].push((ms(1000), ms(330), true, v1));
    let v2 = frame(31, 20);
    let bg2 = el(
        0xA0,
        &cat(&[
            el(0xFB, &[0xFE]), // ReferenceBlock -2
            el(0xA1, &block(3, 330, 0, &[], std::slice::from_ref(&v2))),
            el(0xEC, &[0; 3]), // Void
        ]),
    );
    expect[2].push((ms(1330), 0, false, v2));
    let v3 = frame(32, 9);
    let sb4 = el(0xA3, &block(3, -20, 0, &[], std::slice::from_ref(&v3)));
    expect[2].push((ms(980), 0, false, v3));
    let cluster1 = el(
        0x1F43B675,
        &cat(&[
            el(0xBF, &[0; 4]), // CRC-32
            el_uint(0xE7, 1000),
            sb1,
            sb2,
            sb3,
            bg1,
            bg2,
            sb4,
        ]),
    );

    // Cluster 2, unknown size, at 5000 ticks; ended by Tags.
    let v4 = frame(40, 70);
    let sb5 = el(0xA3, &block(3, 0, 0x80, &[], std::slice::from_ref(&v4)));
    expect[2].push((ms(5000), 0, true, v4));
    let d = [frame(50, 1), frame(51, 0), frame(52, 3)];
    let sb6 = el(
        0xA3,
        &block(2, 1, 0x80 | 0x02, &cat(&[vec![2], xiph(1), xiph(0)]), &d),
    );
    for f in &d {
        expect[1].push((ms(5001), 0, true, f.clone()));
    }
    let cluster2 = el_unknown(0x1F43B675, &cat(&[el_uint(0xE7, 5000), sb5, sb6]));
    let tags = el(0x1254C367, &el(0x7373, &[]));

    let segment = el(
        0x18538067,
        &cat(&[el(0xEC, &[0; 10]), info, tracks, cluster1, cluster2, tags]),
    );
    (cat(&[ebml, segment]), expect)
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn vp9_opus_matches_ffprobe() {
    let path = fixture_path("vp9_opus.webm");
    let data = fixture("vp9_opus.webm");
    let n = check_against_ffprobe(&path, &data, &["vp09.00.", "opus"]);
    eprintln!("vp9_opus.webm: {n} samples compared");
    let mut src: &[u8] = &data;
    let d = demux::open(&mut src).unwrap();
    assert_eq!(d.container(), "webm");
    assert!(
        (d.duration().unwrap() - 4.0).abs() < 0.05,
        "{:?}",
        d.duration()
    );
    let v = &d.tracks()[0];
    assert_eq!(v.kind, Some(TrackKind::Video));
    assert_eq!(v.id, 1);
    assert_eq!((v.width, v.height), (160, 90));
    assert_eq!((v.display_width, v.display_height), (160, 90));
    assert_eq!(v.description, None);
    let a = &d.tracks()[1];
    assert_eq!(a.kind, Some(TrackKind::Audio));
    assert_eq!((a.sample_rate, a.channels), (48000, 1));
    assert_eq!(a.codec_delay_us, 6500);
    assert!(a.description.as_ref().unwrap().starts_with(b"OpusHead"));
    assert!(a.duration_us.unwrap() > 3_900_000);
}

#[test]
fn vp9_codec_string_from_the_first_keyframe() {
    // ffmpeg writes no CodecPrivate for VP9: profile and bit depth come from the keyframe.
    let path = fixture_path("vp9_10bit.webm");
    let data = fixture("vp9_10bit.webm");
    let n = check_against_ffprobe(&path, &data, &["vp09.02.62.10"]);
    eprintln!("vp9_10bit.webm: {n} samples compared");
}

#[test]
fn vp8_vorbis_matches_ffprobe() {
    let path = fixture_path("vp8_vorbis.webm");
    let data = fixture("vp8_vorbis.webm");
    let n = check_against_ffprobe(&path, &data, &["vp8", "vorbis"]);
    eprintln!("vp8_vorbis.webm: {n} samples compared");
    let mut src: &[u8] = &data;
    let d = demux::open(&mut src).unwrap();
    assert_eq!(d.tracks()[1].description.as_ref().unwrap()[0], 2); // Xiph-laced headers
}

#[test]
fn av1_matches_ffprobe() {
    let path = fixture_path("av1.webm");
    let data = fixture("av1.webm");
    let n = check_against_ffprobe(&path, &data, &["av01.0.", "opus"]);
    eprintln!("av1.webm: {n} samples compared");
    let mut src: &[u8] = &data;
    let d = demux::open(&mut src).unwrap();
    assert_eq!(d.tracks()[0].description.as_ref().unwrap()[0], 0x81); // av1C
}

#[test]
fn matroska_doctype_matches_ffprobe() {
    let path = fixture_path("vp9_opus.mkv");
    let data = fixture("vp9_opus.mkv");
    let n = check_against_ffprobe(&path, &data, &["vp09.00.", "opus"]);
    eprintln!("vp9_opus.mkv: {n} samples compared");
    let mut src: &[u8] = &data;
    assert_eq!(demux::open(&mut src).unwrap().container(), "matroska");
}

#[test]
fn cues_in_front_match_ffprobe_and_seek() {
    let path = fixture_path("cues_front.webm");
    let data = fixture("cues_front.webm");
    let n = check_against_ffprobe(&path, &data, &["vp09.00.", "opus"]);
    let s = check_seeks(&data, &[0, 500, 1000, 1010, 2345, 3999, 9000]);
    eprintln!("cues_front.webm: {n} samples compared, {s} seeks");
}

/// Finds the top-level elements of the (first) Segment: (id, offset, size-field length).
fn top_level(data: &[u8]) -> Vec<(u32, usize, usize)> {
    fn vlen(b: u8) -> usize {
        b.leading_zeros() as usize + 1
    }
    fn val(b: &[u8]) -> u64 {
        let n = vlen(b[0]);
        let mut v = u64::from(b[0]) & (0xFF >> n);
        for &x in &b[1..n] {
            v = (v << 8) | u64::from(x);
        }
        v
    }
    let ebml_size_at = 4;
    let mut pos = ebml_size_at + vlen(data[ebml_size_at]) + val(&data[ebml_size_at..]) as usize;
    assert_eq!(&data[pos..pos + 4], &[0x18, 0x53, 0x80, 0x67]);
    pos += 4 + vlen(data[pos + 4]);
    let mut out = Vec::new();
    while pos + 4 < data.len() {
        let il = vlen(data[pos]);
        let id = data[pos..pos + il]
            .iter()
            .fold(0u32, |a, &x| (a << 8) | u32::from(x));
        let sl = vlen(data[pos + il]);
        let size = val(&data[pos + il..]) as usize;
        out.push((id, pos, sl));
        pos += il + sl + size;
    }
    out
}

#[test]
fn live_unknown_sizes_match_ffprobe() {
    let path = fixture_path("live.webm");
    let data = fixture("live.webm");
    let n = check_against_ffprobe(&path, &data, &["vp09.00.", "opus"]);
    // Make every Cluster unknown-size too (ffmpeg gives the Segment an unknown size only).
    let mut patched = data.clone();
    let clusters: Vec<_> = top_level(&data)
        .into_iter()
        .filter(|e| e.0 == 0x1F43B675)
        .collect();
    assert!(clusters.len() >= 6, "{} clusters", clusters.len());
    for &(_, at, sl) in &clusters {
        let s = at + 4;
        patched[s] = 0xFF >> (sl - 1);
        for b in &mut patched[s + 1..s + sl] {
            *b = 0xFF;
        }
    }
    let ppath = dir().join("live_unknown.webm");
    std::fs::write(&ppath, &patched).unwrap();
    let m = check_against_ffprobe(&ppath, &patched, &["vp09.00.", "opus"]);
    let s = check_seeks(&patched, &[0, 700, 1500, 3000, 3990]);
    eprintln!("live.webm: {n} samples compared; unknown-size clusters: {m} compared, {s} seeks");
}

#[test]
fn seek_with_and_without_cues() {
    let data = fixture("vp9_opus.webm");
    let times = [
        -100, 0, 1, 33, 500, 999, 1000, 1001, 1500, 2000, 2999, 3500, 3990, 60_000,
    ];
    let a = check_seeks(&data, &times);
    // The same file with its Cues renamed to an unknown element: seeking walks clusters.
    let mut nocues = data.clone();
    let cues = top_level(&data)
        .into_iter()
        .find(|e| e.0 == 0x1C53BB6B)
        .expect("ffmpeg wrote Cues");
    nocues[cues.1..cues.1 + 4].copy_from_slice(&[0x1F, 0x11, 0x11, 0x11]);
    let b = check_seeks(&nocues, &times);
    let c = check_seeks(&fixture("opus_only.webm"), &[0, 100, 2500, 5000, 5990]);
    eprintln!("seeks checked: {a} with Cues, {b} without, {c} audio-only");
}

#[test]
fn laced_and_grouped_blocks() {
    let (file, expect) = laced_file();
    let mut src: &[u8] = &file;
    let mut d = demux::open(&mut src).unwrap();
    assert_eq!(d.container(), "matroska");
    assert_eq!(d.duration(), Some(2.0));
    let t = d.tracks().to_vec();
    assert_eq!(t.len(), 4);
    assert_eq!(t[0].codec, "opus");
    assert_eq!(t[0].codec_delay_us, 1000);
    assert_eq!((t[0].sample_rate, t[0].channels), (48000, 2));
    assert_eq!(t[1].codec, "vorbis");
    assert_eq!(t[2].codec, "vp8");
    assert_eq!((t[2].width, t[2].height), (64, 48));
    assert_eq!((t[2].display_width, t[2].display_height), (85, 48));
    assert_eq!(t[3].kind, None);
    assert_eq!(t[3].codec, "?S_TEXT/UTF8");
    for (track, want) in expect.iter().enumerate() {
        let got = all_samples(d.as_mut(), &mut src, track);
        assert_eq!(got.len(), want.len(), "track {track}");
        for (i, (s, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(
                (s.pts_us, s.duration_us, s.key),
                (w.0, w.1, w.2),
                "track {track} frame {i}"
            );
            assert_eq!(
                &file[s.offset as usize..s.offset as usize + s.size as usize],
                &w.3[..],
                "track {track} frame {i} bytes"
            );
        }
    }
    assert!(all_samples(d.as_mut(), &mut src, 3).is_empty());
    // Video: seek to 120 ms lands on the keyframe at 100 ms; to 600 ms on the one at 500 ms.
    let c = d.seek(&mut src, 2, 120_000).unwrap();
    let mut c2 = c;
    assert_eq!(
        d.next_sample(&mut src, 2, &mut c2).unwrap().unwrap().pts_us,
        100_000
    );
    let mut c = d.seek(&mut src, 2, 600_000).unwrap();
    assert_eq!(
        d.next_sample(&mut src, 2, &mut c).unwrap().unwrap().pts_us,
        500_000
    );
    assert_eq!(d.next_sample(&mut src, 2, &mut c).unwrap(), None);
    // Every truncation of the hand-built file: no panic, a prefix of the samples.
    for cut in 0..file.len() {
        let mut s: &[u8] = &file[..cut];
        if let Ok(mut d) = WebmDemuxer::open(&mut s) {
            for track in 0..4 {
                let mut c = Cursor::default();
                let mut n = 0;
                while let Ok(Some(x)) = d.next_sample(&mut s, track, &mut c) {
                    assert!(x.offset + u64::from(x.size) <= cut as u64);
                    n += 1;
                    assert!(n <= 20);
                }
            }
        }
    }
}

#[test]
fn on_demand_bytes_give_the_same_samples() {
    let mut total = 0;
    for name in ["vp9_opus.webm", "live.webm", "cues_front.webm"] {
        let data = fixture(name);
        let mut mem: &[u8] = &data;
        let mut reference = WebmDemuxer::open(&mut mem).unwrap();
        let tracks = reference.tracks().len();
        let want: Vec<Vec<Sample>> = (0..tracks)
            .map(|t| all_samples(&mut reference, &mut mem, t))
            .collect();
        // Budgets: everything kept; 8 blocks (32 KiB) with the oldest forgotten. Length known
        // or not.
        for (budget, tell_len) in [(usize::MAX, true), (8, true), (8, false)] {
            let mut src = Progressive::new(data.clone(), budget, tell_len);
            let mut d = src.retry(|s| WebmDemuxer::open(s));
            assert_eq!(d.tracks(), reference.tracks(), "{name}");
            // Read the tracks interleaved, as the player does.
            let mut cursors = vec![Cursor::default(); tracks];
            let mut got = vec![Vec::new(); tracks];
            let mut ended = vec![false; tracks];
            while ended.iter().any(|e| !e) {
                for t in 0..tracks {
                    if ended[t] {
                        continue;
                    }
                    let before = cursors[t];
                    let r = src.retry(|s| {
                        let mut c = cursors[t];
                        let r = d.next_sample(s, t, &mut c);
                        if r.is_err() {
                            assert_eq!(c, before, "cursor moved on error");
                        }
                        r.map(|x| (x, c))
                    });
                    match r {
                        (Some(x), c) => {
                            cursors[t] = c;
                            got[t].push(x);
                        }
                        (None, _) => ended[t] = true,
                    }
                }
            }
            assert!(got == want, "{name} budget {budget}: samples differ");
            // Seeks through the same source.
            for (t, w) in want.iter().enumerate() {
                let opus = d.tracks()[t].codec == "opus";
                for ms in [0i64, 1700, 3300, 900] {
                    let mut c = src.retry(|s| d.seek(s, t, ms * 1000));
                    let first = src.retry(|s| d.next_sample(s, t, &mut c)).unwrap();
                    assert_eq!(first, expected_seek(w, ms * 1000, opus), "{name} seek {ms}");
                }
            }
            total += got.iter().map(Vec::len).sum::<usize>();
            eprintln!(
                "{name} budget {budget} len {tell_len}: {} fetches",
                src.fetches
            );
        }
    }
    eprintln!("on-demand: {total} samples compared");
}

/// Opens and reads everything a damaged file gives, with caps: must not panic or loop.
fn exercise(data: &[u8]) -> usize {
    let mut src: &[u8] = data;
    let Ok(mut d) = demux::open(&mut src) else {
        return 0;
    };
    let mut n = 0;
    for t in 0..d.tracks().len() {
        let mut c = Cursor::default();
        while let Ok(Some(s)) = d.next_sample(&mut src, t, &mut c) {
            assert!(s.offset + u64::from(s.size) <= data.len() as u64, "{s:?}");
            n += 1;
            assert!(n < 200_000, "runaway");
        }
        for ms in [0, 1234, 3900] {
            if let Ok(mut c) = d.seek(&mut src, t, ms * 1000) {
                let _ = d.next_sample(&mut src, t, &mut c);
            }
        }
    }
    n
}

#[test]
fn truncated_files_end_at_the_last_whole_block() {
    let data = fixture("vp9_opus.webm");
    let mut src: &[u8] = &data;
    let mut full = WebmDemuxer::open(&mut src).unwrap();
    let all: Vec<Vec<Sample>> = (0..2)
        .map(|t| all_samples(&mut full, &mut src, t))
        .collect();
    let mut cuts: Vec<usize> = (0..700).step_by(3).collect();
    cuts.extend((700..data.len()).step_by(data.len() / 150));
    cuts.push(data.len() - 1);
    let mut opened = 0;
    for &cut in &cuts {
        let part = &data[..cut];
        let mut s: &[u8] = part;
        let Ok(mut d) = WebmDemuxer::open(&mut s) else {
            continue;
        };
        opened += 1;
        for (t, all) in all.iter().enumerate() {
            let got = all_samples(&mut d, &mut s, t);
            assert!(
                got[..] == all[..got.len()],
                "cut {cut} track {t}: not a prefix"
            );
            let hi = all
                .iter()
                .filter(|x| x.offset + u64::from(x.size) <= cut as u64)
                .count();
            let lo = all
                .iter()
                .filter(|x| x.offset + u64::from(x.size) + 64 <= cut as u64)
                .count();
            assert!(
                (lo..=hi).contains(&got.len()),
                "cut {cut} track {t}: {} samples, wanted {lo}..={hi}",
                got.len()
            );
        }
        exercise(part);
    }
    assert!(opened > 100, "only {opened} truncations opened");
}

#[test]
fn bit_flips_never_panic() {
    for name in ["vp9_opus.webm", "vp8_vorbis.webm", "live.webm"] {
        let data = fixture(name);
        let mut positions: Vec<usize> = (0..data.len().min(1200)).collect();
        positions.extend((1200..data.len()).step_by(97));
        for (i, &p) in positions.iter().enumerate() {
            let mut d = data.clone();
            d[p] ^= 1 << (i % 8);
            exercise(&d);
            // Also a byte set to 0xFF (unknown sizes) and to 0x00 (invalid vints).
            if i % 5 == 0 {
                d[p] = 0xFF;
                exercise(&d);
                d[p] = 0;
                exercise(&d);
            }
        }
    }
}

#[test]
fn rejects_garbage() {
    let mut src: &[u8] = b"not a media file at all";
    assert!(demux::open(&mut src).is_err());
    let mut e: &[u8] = &[0x1A, 0x45, 0xDF, 0xA3];
    assert!(WebmDemuxer::open(&mut e).is_err());
    // A DocType that is not WebM or Matroska.
    let f = el(0x1A45DFA3, &el(0x4282, b"other"));
    let mut s: &[u8] = &f;
    assert!(matches!(
        WebmDemuxer::open(&mut s),
        Err(DemuxError::Unsupported(_))
    ));
    // A huge CodecPrivate and an element larger than the header limit are refused.
    let ebml = el(0x1A45DFA3, &el(0x4282, b"webm"));
    let big = el(
        0x1654AE6B,
        &el(
            0xAE,
            &cat(&[el_uint(0xD7, 1), el(0x63A2, &vec![0; (1 << 20) + 1])]),
        ),
    );
    let f = cat(&[ebml.clone(), el(0x18538067, &big)]);
    let mut s: &[u8] = &f;
    assert!(matches!(
        WebmDemuxer::open(&mut s),
        Err(DemuxError::Invalid(_))
    ));
    let mut huge = ebml;
    huge.extend_from_slice(&[
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    huge.extend_from_slice(&[
        0x16, 0x54, 0xAE, 0x6B, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    let mut s: &[u8] = &huge;
    assert!(matches!(
        WebmDemuxer::open(&mut s),
        Err(DemuxError::Invalid(_))
    ));
}

/// The blocks (4 KiB) a fresh demuxer fetches to open and seek every track to `ms`, then read
/// one sample of each.
fn blocks_for_seek(data: &[u8], ms: i64) -> Vec<usize> {
    let mut src = Progressive::new(data.to_vec(), usize::MAX, true);
    let mut d = src.retry(|s| WebmDemuxer::open(s));
    for t in 0..d.tracks().len() {
        let mut c = src.retry(|s| d.seek(s, t, ms * 1000));
        src.retry(|s| d.next_sample(s, t, &mut c)).unwrap();
    }
    let mut b: Vec<usize> = src.order.iter().copied().collect();
    b.sort_unstable();
    b
}

#[test]
fn seeks_read_few_bytes() {
    let data = fixture("vp9_opus.webm");
    let blocks = data.len().div_ceil(PBLOCK);
    // Starting playback: the headers and the start of the first cluster only.
    let start = blocks_for_seek(&data, 0);
    assert_eq!(start, [0], "start: {start:?}");
    // Far into the file through the Cues: the end (Cues) and the target cluster from its
    // keyframe to the target, not every cluster on the way.
    let mut src: &[u8] = &data;
    let mut d = WebmDemuxer::open(&mut src).unwrap();
    let video = all_samples(&mut d, &mut src, 0);
    let key = expected_seek(&video, 3_500_000, false);
    assert_eq!(key.pts_us, 3_007_000);
    let far = blocks_for_seek(&data, 3500);
    let from = key.offset as usize / PBLOCK - 1;
    assert!(
        far.iter().all(|&b| b == 0 || b >= from),
        "{far:?}: blocks before {from}"
    );
    assert!(far.contains(&(blocks - 1)), "{far:?}: Cues not read");
    eprintln!("fetched blocks of {blocks}: start {start:?}, 3.5 s {far:?}");
}

#[test]
fn headers_after_the_clusters_through_the_seek_head() {
    let ebml = el(0x1A45DFA3, &el(0x4282, b"webm"));
    let seek_head = |info: u64, tracks: u64| {
        el(
            0x114D9B74,
            &cat(&[
                el(
                    0x4DBB,
                    &cat(&[el(0x53AB, &[0x15, 0x49, 0xA9, 0x66]), el_uint(0x53AC, info)]),
                ),
                el(
                    0x4DBB,
                    &cat(&[
                        el(0x53AB, &[0x16, 0x54, 0xAE, 0x6B]),
                        el_uint(0x53AC, tracks),
                    ]),
                ),
            ]),
        )
    };
    let f = frame(9, 40);
    let cluster = el(
        0x1F43B675,
        &cat(&[
            el_uint(0xE7, 20),
            el(0xA3, &block(1, 3, 0x80, &[], std::slice::from_ref(&f))),
        ]),
    );
    let info = el(0x1549A966, &el_uint(0x2AD7B1, 10_000_000)); // 10 ms ticks
    let tracks = el(
        0x1654AE6B,
        &el(
            0xAE,
            &cat(&[el_uint(0xD7, 1), el_uint(0x83, 1), el(0x86, b"V_VP8")]),
        ),
    );
    let head_len = seek_head(0, 0).len();
    let info_at = (head_len + cluster.len()) as u64;
    let tracks_at = info_at + info.len() as u64;
    let body = cat(&[seek_head(info_at, tracks_at), cluster, info, tracks]);
    let file = cat(&[ebml, el(0x18538067, &body)]);
    let mut src: &[u8] = &file;
    let mut d = WebmDemuxer::open(&mut src).unwrap();
    assert_eq!(d.container(), "webm");
    assert_eq!(d.tracks()[0].codec, "vp8");
    let s = all_samples(&mut d, &mut src, 0);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].pts_us, 230_000);
    assert_eq!(&file[s[0].offset as usize..][..s[0].size as usize], &f[..]);
}
