//! Opens one manifest file the way the player opens a fetched manifest, and prints `accepted`
//! or `refused: KIND: MESSAGE`: `cargo run -p kinema-core --example manifest_check -- FILE [URL]`.
//!
//! The same two steps as `player::media::progressive`: the first 512 bytes are sniffed with
//! [`sniff_manifest`] (bytes that are neither HLS nor DASH would be probed as a media file, so
//! they are refused here), then [`AdaptiveSource::open`] parses the whole document (HLS:
//! multivariant or media playlist, as `hls::parse` decides; DASH: the MPD and its model,
//! segment lists expanded) and builds the levels and renditions the player would play.
//! `URL` (default `https://conformance.invalid/manifest`) is where the manifest is said to come
//! from: relative URIs resolve against it. The wall clock for a dynamic MPD is the system's,
//! or `KINEMA_NOW_MS` (milliseconds since the Unix epoch) when set.
//! Used by `scripts/manifest-conformance.sh`; exit status 0 accepted, 1 refused, 2 usage.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kinema_core::adaptive::source::{sniff_manifest, AdaptiveSource, StreamConfig};
use kinema_core::demux::SNIFF_BYTES;
use kinema_core::stream::model::MAX_MANIFEST_BYTES;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: manifest_check FILE [URL]");
        std::process::exit(2);
    };
    let url = args
        .get(1)
        .map_or("https://conformance.invalid/manifest", String::as_str);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    match check(&bytes, url, now_ms()) {
        Ok(()) => println!("accepted"),
        Err(reason) => {
            println!("refused: {reason}");
            std::process::exit(1);
        }
    }
}

/// The player's steps for a manifest it has fetched whole: size limit, sniff, open.
fn check(bytes: &[u8], url: &str, now_ms: i64) -> Result<(), String> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "limit: manifest larger than {MAX_MANIFEST_BYTES} bytes"
        ));
    }
    let head = bytes.get(..bytes.len().min(SNIFF_BYTES)).unwrap_or(bytes);
    let Some(protocol) = sniff_manifest(head) else {
        return Err(
            "not sniffed as HLS or DASH (the player would probe it as a media file)".into(),
        );
    };
    AdaptiveSource::open(
        protocol,
        url,
        bytes,
        Duration::ZERO,
        Some(now_ms),
        StreamConfig::default(),
    )
    .map(|_| ())
    .map_err(|e| format!("{}: {}", e.kind, e.message))
}

fn now_ms() -> i64 {
    if let Some(ms) = std::env::var("KINEMA_NOW_MS")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
    {
        return ms;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
