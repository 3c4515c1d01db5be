//! The shared test kit of `kinema-core`'s integration tests (`core/tests/*.rs`): one copy of
//! each helper that two or more test files need with the same meaning.
//!
//! What belongs here:
//! - finding the generated media: [`fixture`], [`fixture_path`] and [`fixture_dir`] look names
//!   up in the fixture manifest, `tests/fixtures/manifest.txt`, and fail with a clear message
//!   when a name is not listed or its file was not made (`bash scripts/fixtures.sh`);
//! - serving fixtures to the simulated host ([`files_under`], [`serve_under`], [`BASE`]) and
//!   driving it ([`wait`], [`start`]);
//! - reading what the player did the same way in several files ([`frame_index`],
//!   [`expected_cue`], [`shown`], [`all_samples`], [`ffprobe_packets`]).
//!
//! What does not: a helper only one test file uses, or one whose meaning differs between files
//! (a `host()` that serves other files, a `load()` that waits for another state, a
//! `check_against_ffprobe` of another format); those stay in their test file, with a comment
//! saying why. This crate is a dev-dependency of `kinema-core` only and is never published.
// Test-only code: a failed expectation here is a failed test, so it may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use kinema_core::demux::{ByteSource, Cursor, Demux, Sample};
use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, PlaybackState};

/// Where the simulated host serves everything.
pub const BASE: &str = "http://sim.test/";

/// One frame of the 30 fps video fixtures, in µs.
pub const FRAME_US: f64 = 1e6 / 30.0;

/// What to run when a fixture is missing.
const MAKE: &str = "run bash scripts/fixtures.sh";

/// The repository root (two levels above this crate).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("core/testkit lies two levels below the repository root")
        .to_path_buf()
}

/// `tests/fixtures/gen/`, where the fixture scripts write the generated media. Prefer
/// [`fixture_path`] and [`fixture_dir`], which check the manifest.
pub fn gen_dir() -> PathBuf {
    root().join("tests/fixtures/gen")
}

/// `tests/fixtures/manifest.txt`: every generated file the tests use.
pub fn manifest_path() -> PathBuf {
    root().join("tests/fixtures/manifest.txt")
}

/// One line of the fixture manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to `tests/fixtures/gen/`; a folder's ends in `/`.
    pub path: String,
    /// What it is.
    pub what: String,
}

impl Entry {
    /// Whether the entry is a folder the tests use whole.
    pub fn is_dir(&self) -> bool {
        self.path.ends_with('/')
    }

    /// Whether `name` (relative to `tests/fixtures/gen/`) is this entry or lies under it.
    fn covers(&self, name: &str) -> bool {
        if self.is_dir() {
            name.starts_with(&self.path) || name == self.path.trim_end_matches('/')
        } else {
            name == self.path
        }
    }
}

/// Parses manifest text: `PATH  WHAT IT IS` a line; blank lines and `#` comments are skipped.
pub fn parse_manifest(text: &str) -> Vec<Entry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (path, what) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            Entry {
                path: path.to_string(),
                what: what.trim().to_string(),
            }
        })
        .collect()
}

/// The fixture manifest's entries (read once per test process).
pub fn manifest() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let p = manifest_path();
        let text = std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (the fixture manifest)", p.display()));
        parse_manifest(&text)
    })
}

/// Fails unless `name` (relative to `tests/fixtures/gen/`) is in the manifest, itself or
/// under a folder entry.
fn listed(name: &str) {
    let name = name.trim_start_matches("./");
    assert!(
        manifest().iter().any(|e| e.covers(name)),
        "fixture {name:?} is not in {}: list it there (path and what it is) and make it in \
         the script that generates it",
        manifest_path().display()
    );
}

/// The path of the generated file `name` (relative to `tests/fixtures/gen/`, e.g.
/// `h264-aac.mp4`, `ts/wrap.ts`), after checking the manifest lists it and the file exists.
pub fn fixture_path(name: &str) -> PathBuf {
    listed(name);
    let p = gen_dir().join(name);
    assert!(
        p.is_file(),
        "fixture {name:?} is missing: {} does not exist ({MAKE})",
        p.display()
    );
    p
}

/// The bytes of the generated file `name` (see [`fixture_path`]).
pub fn fixture(name: &str) -> Vec<u8> {
    let p = fixture_path(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} ({MAKE})", p.display()))
}

/// The path of the generated folder `name` (relative to `tests/fixtures/gen/`, e.g. `streams`),
/// after checking the manifest lists it and the folder exists.
pub fn fixture_dir(name: &str) -> PathBuf {
    listed(name);
    let p = gen_dir().join(name);
    assert!(
        p.is_dir(),
        "fixture folder {name:?} is missing: {} does not exist ({MAKE})",
        p.display()
    );
    p
}

/// Every file under `root/dir`: (`dir/...` relative name, path). Under `tests/fixtures/gen/`,
/// `dir` must be in the manifest.
pub fn files_under(root: &Path, dir: &str) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
        let path = root.join(rel);
        let entries =
            std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e} ({MAKE})", path.display()));
        for e in entries {
            let e = e.unwrap();
            let name = format!("{rel}/{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(root, &name, out);
            } else {
                out.push((name, e.path()));
            }
        }
    }
    if let Ok(rel) = root.join(dir).strip_prefix(gen_dir()) {
        let rel = rel.to_string_lossy().replace('\\', "/");
        fixture_dir(&rel);
    }
    let mut out = Vec::new();
    walk(root, dir, &mut out);
    out
}

/// Serves every file under `root/dir` at `BASE + dir/...`, except those `skip` names.
pub fn serve_under(h: &mut SimHost, root: &Path, dir: &str, skip: impl Fn(&str) -> bool) {
    for (name, path) in files_under(root, dir) {
        if !skip(&name) {
            h.add(&format!("{BASE}{name}"), std::fs::read(path).unwrap());
        }
    }
}

/// Runs until `f` holds (at most `secs` of sim time), or fails with what the player shows.
pub fn wait(h: &mut SimHost, secs: u64, what: &str, f: impl FnMut(&SimHost) -> bool) {
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

/// Loads `url`, asks to play and runs until it plays (at most 20 s of sim time).
pub fn start(h: &mut SimHost, url: &str) {
    h.app(AppRequest::Load { url: url.into() });
    h.app(AppRequest::Play);
    wait(h, 20, "playing", |h| {
        h.player.state() == PlaybackState::Playing
    });
}

/// The index of the 30 fps frame presented at `pts_us` (µs).
pub fn frame_index(pts_us: i64) -> i64 {
    (pts_us as f64 / FRAME_US).round() as i64
}

/// The streams fixture's cue number at `t` seconds (0: none): cue n runs from 2n−1 s to
/// 2n+1 s, n = 1..15.
pub fn expected_cue(t: f64) -> u32 {
    if t < 1.0 {
        return 0;
    }
    (((t - 1.0) / 2.0).floor() as u32 + 1).min(15)
}

/// The cue numbers on screen now, read from the text the player lays out ("`word` n …").
pub fn shown(h: &SimHost, word: &str) -> Vec<u32> {
    h.player
        .active_cues()
        .iter()
        .map(|c| {
            let line: String = c.lines[0].iter().map(|r| r.text.as_str()).collect();
            let rest = line
                .strip_prefix(word)
                .unwrap_or_else(|| panic!("cue text {line:?} does not start with {word:?}"));
            rest.trim().split(' ').next().unwrap().parse().unwrap()
        })
        .collect()
}

/// Every sample of `track`, read to the end from a fresh cursor (fails past a million: a
/// demuxer that never ends).
pub fn all_samples(d: &mut dyn Demux, src: &mut dyn ByteSource, track: usize) -> Vec<Sample> {
    let mut c = Cursor::default();
    let mut out = Vec::new();
    while let Some(s) = d.next_sample(src, track, &mut c).unwrap() {
        out.push(s);
        assert!(out.len() < 1_000_000, "runaway sample list");
    }
    out
}

/// ffprobe's packet list of `path`: `ffprobe -select_streams SELECT -show_entries
/// packet=ENTRIES -of csv=p=0`, one row of fields a packet (in ffprobe's field order, not
/// necessarily that of `entries`). Fails when ffprobe is missing or fails.
pub fn ffprobe_packets(path: &Path, select: &str, entries: &str) -> Vec<Vec<String>> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", select, "-show_entries"])
        .arg(format!("packet={entries}"))
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe must be installed (scripts/bootstrap.sh)");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// ffmpeg's decode of the file at `path` as interleaved f32 at the file's own rate and
/// channels: the reference the PCM tests compare the core's decode with.
pub fn ffmpeg_pcm(path: &Path) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-f", "f32le", "-c:a", "pcm_f32le", "-"])
        .output()
        .expect("ffmpeg must be installed (scripts/bootstrap.sh)");
    assert!(out.status.success(), "ffmpeg decode of {}", path.display());
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The largest absolute difference between two sample runs, over their common length.
pub fn max_abs_diff(ours: &[f32], theirs: &[f32]) -> f32 {
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_and_lookup() {
        let m = parse_manifest("# c\n\na.mp4   the a file\nstreams/  folder\n");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].path, "a.mp4");
        assert_eq!(m[0].what, "the a file");
        assert!(m[1].is_dir() && m[1].covers("streams/x/y.m4s") && m[1].covers("streams"));
        assert!(!m[0].covers("b.mp4") && !m[1].covers("streamsx"));
    }

    #[test]
    #[should_panic(expected = "is not in")]
    fn names_not_in_the_manifest_fail() {
        fixture_path("not-a-fixture.bin");
    }
}
