//! The fragmented-MP4 writer (`remux::fmp4`) on the real fixtures: the video samples of a
//! file, as the core would send them to a decoder, are written as an init segment plus one
//! media segment per chunk (as the MSE host appends them) and read back by ffprobe and by the
//! core's own MP4 demuxer: same presentation times, keyframes and bytes, and the file decodes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::process::Command;

use kinema_core::demux::{self, Cursor, TrackKind};
use kinema_core::remux::fmp4::Fmp4Writer;
use kinema_core::{EncodedChunk, VideoDecoderConfig};
use kinema_testkit::{ffprobe_packets, fixture};

/// The video track's decoder configuration and chunks in decode order.
fn chunks_of(name: &str) -> (VideoDecoderConfig, Vec<EncodedChunk>) {
    let data = fixture(name);
    let mut src: &[u8] = &data;
    let mut d = demux::open(&mut src).unwrap();
    let t = d
        .tracks()
        .iter()
        .position(|t| t.kind == Some(TrackKind::Video))
        .unwrap();
    let info = d.tracks()[t].clone();
    let config = VideoDecoderConfig {
        codec: info.codec.clone(),
        description: info.description.clone(),
        coded_width: info.width,
        coded_height: info.height,
        display_width: info.display_width,
        display_height: info.display_height,
        rotation: 0,
        flip: false,
    };
    let mut c = Cursor::default();
    let mut out = Vec::new();
    while let Some(s) = d.next_sample(&mut src, t, &mut c).unwrap() {
        let mut bytes = vec![0u8; s.size as usize];
        let mut at: &[u8] = &data;
        d.read_sample(&mut at, &s, &mut bytes).unwrap();
        out.push(EncodedChunk {
            timestamp_us: s.pts_us,
            duration_us: s.duration_us,
            key: s.key,
            data: bytes,
        });
    }
    (config, out)
}

fn remux(name: &str) -> (Vec<EncodedChunk>, Vec<u8>) {
    let (config, chunks) = chunks_of(name);
    let mut w = Fmp4Writer::new(&config).unwrap();
    // H.264 in Annex B form (MPEG-TS): the init segment comes with the first keyframe.
    let mut file = if w.waits_for_keyframe() {
        Vec::new()
    } else {
        w.init_segment().unwrap()
    };
    for c in &chunks {
        file.extend(w.media_segment(std::slice::from_ref(c)).unwrap());
    }
    (chunks, file)
}

/// (pts µs, key) per packet as ffprobe reads the file, and whether ffmpeg decodes it cleanly.
// Local: only pts and key of the first video stream; mp4_demux.rs reads more fields.
fn ffprobe(path: &std::path::Path) -> Vec<(i64, bool)> {
    ffprobe_packets(path, "v:0", "pts_time,flags")
        .iter()
        .map(|f| {
            (
                (f[0].parse::<f64>().unwrap() * 1e6).round() as i64,
                f[1].starts_with('K'),
            )
        })
        .collect()
}

fn decoded_frames(path: &std::path::Path) -> usize {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "decode errors: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count()
}

fn check(name: &str) {
    let (chunks, file) = remux(name);
    let annexb = chunks_of(name).0.description.is_none() && name.ends_with(".ts");
    let file_name = name.replace('/', "_");
    let path =
        std::env::temp_dir().join(format!("kinema-remux-{}-{file_name}", std::process::id()));
    std::fs::write(&path, &file).unwrap();

    // ffprobe: every packet at its presentation time, keyframes where they were.
    // ffmpeg's MP4 reader delays every presentation time by the largest negative
    // composition offset (so that no packet presents before it decodes): one constant shift.
    let probed = ffprobe(&path);
    assert_eq!(probed.len(), chunks.len(), "{name}: packets");
    let shift = probed[0].0 - chunks[0].timestamp_us;
    assert!(
        (0..=100_000).contains(&shift),
        "{name}: ffmpeg's shift {shift}"
    );
    for (i, (c, (pts, key))) in chunks.iter().zip(&probed).enumerate() {
        let pts = pts - shift;
        assert!(
            (c.timestamp_us - pts).abs() <= 1,
            "{name} #{i}: pts {pts} vs {}",
            c.timestamp_us
        );
        assert_eq!(c.key, *key, "{name} #{i}: key");
    }
    // ffmpeg decodes every frame without an error.
    assert_eq!(
        decoded_frames(&path),
        chunks.len(),
        "{name}: decoded frames"
    );
    std::fs::remove_file(&path).ok();

    // The core's own demuxer (fragmented path): same samples, same bytes.
    let mut src: &[u8] = &file;
    let mut d = demux::open(&mut src).unwrap();
    assert!(d.fragmented(), "{name}: fragmented");
    assert_eq!(
        d.tracks()[0].codec,
        chunks_of(name).0.codec,
        "{name}: codec"
    );
    let mut c = Cursor::default();
    let mut n = 0;
    while let Some(s) = d.next_sample(&mut src, 0, &mut c).unwrap() {
        let want = &chunks[n];
        assert_eq!(
            (s.pts_us, s.key, s.duration_us),
            (want.timestamp_us, want.key, want.duration_us),
            "{name} #{n}"
        );
        // Annex B chunks are written with 4-byte NAL lengths (H.265 without its in-band
        // parameter sets, which the hvcC holds).
        let bytes = if annexb {
            kinema_core::demux::ts::avcc_from_annexb_keeping(&want.data, |nal| {
                !(name.contains("hevc") && (32..=34).contains(&((nal[0] >> 1) & 0x3f)))
            })
        } else {
            want.data.clone()
        };
        assert_eq!(
            &file[s.offset as usize..s.offset as usize + s.size as usize],
            bytes.as_slice(),
            "{name} #{n}: bytes"
        );
        assert!(n == 0 || s.dts_us > 0, "{name} #{n}: decode times increase");
        n += 1;
    }
    assert_eq!(n, chunks.len(), "{name}: samples read back");
}

#[test]
fn h264_without_b_frames() {
    check("h264-aac.mp4");
}

#[test]
fn h264_with_b_frames() {
    check("h264-bframes.mp4");
}

#[test]
fn h264_annex_b_from_mpeg_ts() {
    // What the MSE path gets from a .ts file or HLS TS segments: no avcC, start codes.
    assert!(chunks_of("h264-aac.ts").0.description.is_none());
    check("h264-aac.ts");
}

#[test]
fn h265_annex_b_from_mpeg_ts() {
    // The hvcC is built from the first IRAP's VPS, SPS and PPS (x265 also sends an SEI).
    assert!(chunks_of("ts/hevc-aac.ts").0.description.is_none());
    check("ts/hevc-aac.ts");
}

#[test]
fn av1() {
    check("av1-aac.mp4");
}

/// After a seek the host starts a new timeline at the keyframe; decode times never jump by
/// more than a frame even when the core skipped non-reference pictures before the target.
#[test]
fn restart_and_skipped_pictures() {
    let (config, chunks) = chunks_of("h264-bframes.mp4");
    let mut w = Fmp4Writer::new(&config).unwrap();
    let mut file = w.init_segment().unwrap();
    w.restart();
    // From the keyframe at 4 s, every other chunk (as if B-frames were skipped).
    let from = chunks
        .iter()
        .position(|c| c.key && c.timestamp_us >= 4_000_000)
        .unwrap();
    let kept: Vec<_> = chunks[from..from + 30].iter().step_by(2).cloned().collect();
    for c in &kept {
        file.extend(w.media_segment(std::slice::from_ref(c)).unwrap());
    }
    let mut src: &[u8] = &file;
    let mut d = demux::open(&mut src).unwrap();
    let mut cur = Cursor::default();
    let mut last_dts = None;
    let mut n = 0;
    while let Some(s) = d.next_sample(&mut src, 0, &mut cur).unwrap() {
        assert_eq!(s.pts_us, kept[n].timestamp_us);
        if let Some(l) = last_dts {
            assert!(
                s.dts_us > l && s.dts_us - l <= 33_334,
                "dts step {}",
                s.dts_us - l
            );
        }
        last_dts = Some(s.dts_us);
        n += 1;
    }
    assert_eq!(n, kept.len());
}
