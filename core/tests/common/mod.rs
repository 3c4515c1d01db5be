//! Helpers shared by the simulated-host stream tests (`mod common;` in each).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // not every test uses every helper

use std::path::{Path, PathBuf};
use std::time::Duration;

use kinema_core::sim::SimHost;
use kinema_core::{AppRequest, PlaybackState};

/// Where the sim serves everything.
pub const BASE: &str = "http://sim.test/";

/// `tests/fixtures/gen/` (made by `scripts/fixtures.sh`).
pub fn gen() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/gen")
}

/// Every file under `root/dir`: (`dir/...` relative name, path).
pub fn files_under(root: &Path, dir: &str) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
        let path = root.join(rel);
        let entries = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fixtures.sh)", path.display()));
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

/// The fixture's cue number at `t` seconds (0: none).
pub fn expected_cue(t: f64) -> u32 {
    if t < 1.0 {
        return 0;
    }
    (((t - 1.0) / 2.0).floor() as u32 + 1).min(15)
}

/// The cue numbers on screen now, read from the text the player lays out.
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
