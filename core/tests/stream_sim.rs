//! Adaptive streaming (HLS, DASH) against the simulated host, on the real ladders that
//! `scripts/streams.sh` generates: playback from start to end, quality switches, audio track
//! switches, faults. Exact and deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};
use std::time::Duration;

use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, PlaybackState, PlayerConfig, PlayerEvent};

const FRAME_US: f64 = 1e6 / 30.0;
const BASE: &str = "http://sim.test/";

fn streams() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/gen/streams")
}

/// Serves every file under `dir` (relative to the streams folder) at `BASE + dir/...`.
fn serve(h: &mut SimHost, dir: &str) {
    fn walk(h: &mut SimHost, root: &Path, rel: &str) {
        let path = root.join(rel);
        let entries = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fixtures.sh)", path.display()));
        for e in entries {
            let e = e.unwrap();
            let name = format!("{rel}/{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(h, root, &name);
            } else {
                h.add(&format!("{BASE}{name}"), std::fs::read(e.path()).unwrap());
            }
        }
    }
    walk(h, &streams(), dir);
}

fn host(dir: &str) -> SimHost {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    serve(&mut h, dir);
    h
}

fn wait(h: &mut SimHost, secs: u64, what: &str, f: impl FnMut(&SimHost) -> bool) {
    let ok = h.run_until(Duration::from_secs(secs), f);
    assert!(
        ok,
        "{what}: state {:?} at {:.2}s, stats {:?}, error {:?}, last events {:?}",
        h.player.state(),
        h.player.current_time(),
        h.player.stream_stats(),
        h.last_error(),
        h.events.iter().rev().take(8).collect::<Vec<_>>()
    );
}

fn frame_index(pts_us: i64) -> i64 {
    (pts_us as f64 / FRAME_US).round() as i64
}

/// Plays `url` from start to end: every frame once, in order, and the player ends.
fn plays_to_the_end(dir: &str, manifest: &str) {
    let mut h = host(dir);
    h.app(AppRequest::Load {
        url: format!("{BASE}{dir}/{manifest}"),
    });
    h.app(AppRequest::Play);
    wait(&mut h, 60, "ended", |h| {
        h.player.state() == PlaybackState::Ended || h.player.state() == PlaybackState::Error
    });
    assert_eq!(h.last_error(), None);
    let shown: Vec<i64> = h.video.presented.iter().map(|p| frame_index(p.1)).collect();
    let stats = h.player.video_stats().unwrap();
    let s = h.player.stream_stats().unwrap();
    println!(
        "{dir}/{manifest}: {} frames shown, first {:?} last {:?}; video {stats:?}; stream {s:?}",
        shown.len(),
        shown.first(),
        shown.last()
    );
    // Video starts where the container puts it against audio: ffmpeg's fMP4 segments (no
    // edit list) show the first frame after the B-frame delay, as MSE players do.
    let first = shown[0];
    assert!(
        (0..=2).contains(&first),
        "{dir}: first frame at index {first}"
    );
    assert_eq!(shown.last(), Some(&(first + 899)), "{dir}: last frame");
    let repeats = shown.windows(2).filter(|w| w[1] <= w[0]).count();
    assert_eq!(repeats, 0, "{dir}: frames out of order or repeated");
    assert!(
        shown.len() >= 890,
        "{dir}: {} of 900 frames shown",
        shown.len()
    );
    let d = h.player.duration().unwrap();
    assert!((d - 30.0).abs() < 0.1, "duration {d}");
    assert!(h.saw(|e| matches!(e, PlayerEvent::Ended)));
}

#[test]
fn hls_fmp4_plays_to_the_end() {
    plays_to_the_end("hls-fmp4", "master.m3u8");
}

#[test]
fn hls_ts_plays_to_the_end() {
    plays_to_the_end("hls-ts", "master.m3u8");
}

#[test]
fn hls_byte_range_plays_to_the_end() {
    plays_to_the_end("hls-byterange", "master.m3u8");
}

#[test]
fn dash_timeline_plays_to_the_end() {
    plays_to_the_end("dash-timeline", "manifest.mpd");
}

#[test]
fn dash_number_plays_to_the_end() {
    plays_to_the_end("dash-number", "manifest.mpd");
}

#[test]
fn dash_segment_base_plays_to_the_end() {
    plays_to_the_end("dash-base", "manifest.mpd");
}

#[test]
fn dash_segment_list_plays_to_the_end() {
    plays_to_the_end("dash-base", "manifest-list.mpd");
}

#[test]
fn dash_webm_plays_to_the_end() {
    plays_to_the_end("dash-webm", "manifest.mpd");
}
