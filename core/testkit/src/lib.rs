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
//!   [`expected_cue`], [`shown`], [`all_samples`], [`ffprobe_packets`]);
//! - live streams: [`LiveGen`] asks the test server's live generator
//!   (`scripts/serve-live.mjs`, through `scripts/live-gen.mjs`) for live playlists and MPDs,
//!   so the sim tests and the page tests get the same live streams from one generator.
//!
//! What does not: a helper only one test file uses, or one whose meaning differs between files
//! (a `host()` that serves other files, a `load()` that waits for another state, a
//! `check_against_ffprobe` of another format); those stay in their test file, with a comment
//! saying why. This crate is a dev-dependency of `kinema-core` only and is never published.
// Test-only code: a failed expectation here is a failed test, so it may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
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

/// A fresh host (default config, a 48 kHz stereo device) serving fixture `name` at its own
/// name, set up by `setup`, that loads it, plays it and runs until it ended (at most `secs`
/// of sim time); fails on a player error.
pub fn play_fixture_to_end(name: &str, secs: u64, setup: impl FnOnce(&mut SimHost)) -> SimHost {
    let mut h = SimHost::new(kinema_core::PlayerConfig::default(), 48_000);
    setup(&mut h);
    h.add(name, fixture(name));
    h.app(AppRequest::Load { url: name.into() });
    h.app(AppRequest::Play);
    wait(&mut h, secs, "ended", |h| {
        h.player.state() == PlaybackState::Ended || h.last_error().is_some()
    });
    assert!(h.last_error().is_none(), "{name}: {:?}", h.last_error());
    h
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

/// What the test server answers for a path under `/__live/<spec>/` (see
/// `scripts/live-gen.mjs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveAnswer {
    /// The live media playlist or MPD.
    Body(String),
    /// A live DASH segment available now, served from this file (a number past the VOD's
    /// last wraps to the VOD's file).
    Segment(PathBuf),
    /// Not live content: the file as it is.
    File(PathBuf),
    /// 404: a live DASH segment not available yet on the live clock.
    NotYet(String),
    /// 400: the spec or the manifest cannot be served live.
    Bad(String),
}

/// The live generator of the test server (`scripts/serve-live.mjs`), the one that makes VOD
/// presentations live for the page tests, as a Node co-process (`scripts/live-gen.mjs`) that
/// answers at the time it is given: one process per test, any number of requests. The
/// process ends when this is dropped.
pub struct LiveGen {
    child: Child,
    io: RefCell<Option<(ChildStdin, BufReader<ChildStdout>)>>,
}

impl LiveGen {
    /// Starts `node scripts/live-gen.mjs` (Node is on the PATH wherever the tests run:
    /// `scripts/bootstrap.sh` requires it).
    pub fn start() -> LiveGen {
        let script = root().join("scripts/live-gen.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "node {}: {e} (Node must be installed: scripts/bootstrap.sh)",
                    script.display()
                )
            });
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        LiveGen {
            child,
            io: RefCell::new(Some((stdin, stdout))),
        }
    }

    /// The server's answer for the file `path` (a VOD `.m3u8` or `.mpd`, or a file beside an
    /// MPD) under `/__live/<spec>/` at `now_ms` (Unix ms). `spec` is the URL's spec
    /// (`start=EPOCH_MS,window=S[,speed=X][,end=S]`); `start=` is required.
    pub fn answer(&self, now_ms: i64, spec: &str, path: &Path) -> LiveAnswer {
        self.answers(now_ms, spec, &[path]).remove(0)
    }

    /// The answers for several paths at one time (one round trip; see [`LiveGen::answer`]).
    pub fn answers(&self, now_ms: i64, spec: &str, paths: &[&Path]) -> Vec<LiveAnswer> {
        let mut io = self.io.borrow_mut();
        let (stdin, stdout) = io.as_mut().unwrap();
        let list: Vec<String> = paths
            .iter()
            .map(|p| json_string(&p.to_string_lossy()))
            .collect();
        let request = format!(
            "{{\"now\":{now_ms},\"spec\":{},\"paths\":[{}]}}\n",
            json_string(spec),
            list.join(",")
        );
        let what = || format!("live-gen at {now_ms} for {spec} {paths:?}");
        stdin
            .write_all(request.as_bytes())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{}: {e}", what()));
        let mut out = Vec::with_capacity(paths.len());
        for _ in paths {
            let mut head = String::new();
            stdout
                .read_line(&mut head)
                .unwrap_or_else(|e| panic!("{}: {e}", what()));
            let (kind, len) = head
                .trim_end()
                .split_once(' ')
                .and_then(|(k, n)| Some((k.to_string(), n.parse::<usize>().ok()?)))
                .unwrap_or_else(|| panic!("{}: bad answer {head:?}", what()));
            let mut payload = vec![0; len];
            stdout
                .read_exact(&mut payload)
                .unwrap_or_else(|e| panic!("{}: {e}", what()));
            let text = String::from_utf8(payload).unwrap();
            out.push(match kind.as_str() {
                "body" => LiveAnswer::Body(text),
                "segment" => LiveAnswer::Segment(text.into()),
                "file" => LiveAnswer::File(text.into()),
                "404" => LiveAnswer::NotYet(text),
                "400" => LiveAnswer::Bad(text),
                _ => panic!("{}: {kind} {text}", what()),
            });
        }
        out
    }

    /// The live playlist or MPD made from `path` at `now_ms` (see [`LiveGen::answer`]); fails
    /// when the generator answers anything else.
    pub fn body(&self, now_ms: i64, spec: &str, path: &Path) -> String {
        match self.answer(now_ms, spec, path) {
            LiveAnswer::Body(text) => text,
            other => panic!("live {spec} {}: {other:?}", path.display()),
        }
    }
}

impl Drop for LiveGen {
    fn drop(&mut self) {
        // Closing stdin ends the process.
        self.io.borrow_mut().take();
        let _ = self.child.wait();
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\nd"), r#""a\"b\\c\u000ad""#);
    }

    #[test]
    fn live_gen_answers_at_the_time_it_is_given() {
        // A 3-segment VOD of 2 s each, made live from EPOCH; no fixtures needed.
        let dir = std::env::temp_dir().join(format!("kinema-live-gen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vod = dir.join("index.m3u8");
        let segs: String = (0..3).map(|i| format!("#EXTINF:2.0,\ns{i}.ts\n")).collect();
        std::fs::write(
            &vod,
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n{segs}#EXT-X-ENDLIST\n"),
        )
        .unwrap();
        const EPOCH: i64 = 1_700_000_000_000;
        let gen = LiveGen::start();
        let spec = format!("start={EPOCH},window=4");
        // Nothing has ended yet: an empty live playlist.
        let early = gen.body(EPOCH + 1_000, &spec, &vod);
        assert!(early.contains("#EXT-X-MEDIA-SEQUENCE:0\n") && !early.contains("s0.ts"));
        // 7 s in: segments 1 and 2 fit the 4 s window; 13 s in: the loop wrapped (k = 5).
        let at7 = gen.body(EPOCH + 7_000, &spec, &vod);
        assert!(
            at7.contains("#EXT-X-MEDIA-SEQUENCE:1\n")
                && at7.ends_with("s1.ts\n#EXTINF:2.0,\ns2.ts\n")
        );
        let at13 = gen.body(EPOCH + 13_000, &spec, &vod);
        assert!(at13.contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n") && at13.ends_with("s2.ts\n"));
        assert!(!at13.contains("ENDLIST"));
        let ended = gen.body(EPOCH + 13_000, &format!("{spec},end=10"), &vod);
        assert!(ended.ends_with("#EXT-X-ENDLIST\n"), "{ended}");
        // Other files are served as they are; a bad spec is a 400.
        let seg = dir.join("s0.ts");
        assert_eq!(
            gen.answer(EPOCH, &spec, &seg),
            LiveAnswer::File(seg.clone())
        );
        assert!(matches!(
            gen.answer(EPOCH, "window=4", &vod),
            LiveAnswer::Bad(_)
        ));
        drop(gen);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    #[should_panic(expected = "is not in")]
    fn names_not_in_the_manifest_fail() {
        fixture_path("not-a-fixture.bin");
    }
}
