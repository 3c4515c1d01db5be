//! The scripted remote: one step per line, run in order (format in the settop README).
//! The page test `tests/page/settop-parity.test.mjs` reads the same file.

use anyhow::{bail, Context, Result};
use kinema_core::input::Key;
use kinema_core::AppRequest;

/// One step of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Load this URL (relative to the base URL).
    Load(String),
    /// Press (key down, then up) a logical remote key.
    Key(Key),
    /// An app-level seek to seconds (exact).
    Seek(f64),
    /// Another app request: `app controls on|off`, `app suspend`, `app resume`.
    App(AppRequest),
    /// Wait for the metadata.
    WaitLoaded,
    /// Wait until the media time reaches seconds.
    WaitTime(f64),
    /// Wait for the `pause` event.
    WaitPaused,
    /// Wait for the next `seeked` event.
    WaitSeeked,
    /// Wait for `ended`.
    WaitEnded,
    /// Wait for the next `suspended` event.
    WaitSuspended,
    /// Wait for the next `resumed` event.
    WaitResumed,
    /// Wait for the next key nothing used (`UnhandledKey`).
    WaitUnhandled,
    /// Let virtual time pass (milliseconds).
    Sleep(u64),
    /// Record the presented picture under this name.
    Checkpoint(String),
}

/// Parses a script.
pub fn parse(text: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut w = line.split_whitespace();
        let (cmd, arg, arg2) = (w.next().unwrap_or(""), w.next(), w.next());
        let need = || arg.with_context(|| format!("line {}: `{cmd}` needs an argument", n + 1));
        let step = match (cmd, arg2) {
            ("load", _) => Step::Load(need()?.to_string()),
            ("key", _) => Step::Key(
                Key::from_name(need()?).with_context(|| format!("line {}: unknown key", n + 1))?,
            ),
            ("app", _) => Step::App(match (need()?, arg2) {
                ("controls", Some("on")) => AppRequest::SetControls(true),
                ("controls", Some("off")) => AppRequest::SetControls(false),
                ("suspend", None) => AppRequest::Suspend,
                ("resume", None) => AppRequest::Resume,
                _ => bail!("line {}: unknown app request `{line}`", n + 1),
            }),
            ("seek", _) => Step::Seek(need()?.parse().context("seek seconds")?),
            ("sleep", _) => Step::Sleep(need()?.parse().context("sleep ms")?),
            ("checkpoint", _) => Step::Checkpoint(need()?.to_string()),
            ("wait", Some(v)) if arg == Some("time") => {
                Step::WaitTime(v.parse().context("wait time seconds")?)
            }
            ("wait", None) => match need()? {
                "loaded" => Step::WaitLoaded,
                "paused" => Step::WaitPaused,
                "seeked" => Step::WaitSeeked,
                "ended" => Step::WaitEnded,
                "suspended" => Step::WaitSuspended,
                "resumed" => Step::WaitResumed,
                "unhandled" => Step::WaitUnhandled,
                other => bail!("line {}: unknown wait `{other}`", n + 1),
            },
            _ => bail!("line {}: cannot read `{line}`", n + 1),
        };
        steps.push(step);
    }
    Ok(steps)
}
