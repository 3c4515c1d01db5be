//! `kinema-settop`: the native set-top runtime. It loads the core's standalone module
//! (`target/kinema-core.wasm`, built by `scripts/build-core-wasm.sh`) unchanged into wasmtime
//! or wasmi and plays a scripted remote session headless: HTTP with Range against the test
//! server, a virtual clock and audio device, GStreamer H.264 decoding, wgpu rendering on
//! Vulkan (lavapipe). Writes a JSON report: checkpoints, every presented frame (index read
//! from the picture, checksum), timings.
//!
//! ```text
//! kinema-settop run --wasm target/kinema-core.wasm --script device-shims/settop/remote.script \
//!     --base http://127.0.0.1:18080/ --engine wasmtime --out target/settop-wasmtime.json
//! kinema-settop features --wasm target/kinema-core.wasm      # Wasm features, MVP load check
//! ```

mod decoder;
mod engine;
mod features;
mod render;
mod script;
mod session;

use std::time::Instant;

use anyhow::{bail, Context, Result};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wasm_path = arg(&args, "--wasm").unwrap_or_else(|| "target/kinema-core.wasm".into());
    let wasm = std::fs::read(&wasm_path).with_context(|| format!("reading {wasm_path}"))?;
    match args.first().map(String::as_str) {
        Some("run") => run(&args, &wasm),
        Some("features") => features::report(&wasm),
        _ => bail!("usage: kinema-settop run|features [--wasm FILE] ..."),
    }
}

fn run(args: &[String], wasm: &[u8]) -> Result<()> {
    let script_path = arg(args, "--script").context("--script FILE")?;
    let base = arg(args, "--base").context("--base URL")?;
    let out = arg(args, "--out").context("--out FILE")?;
    let kind = match arg(args, "--engine").as_deref() {
        None | Some("wasmtime") => engine::Kind::Wasmtime,
        Some("wasmi") => engine::Kind::Wasmi,
        Some(other) => bail!("unknown engine {other}"),
    };
    let steps = script::parse(&std::fs::read_to_string(&script_path)?)?;
    decoder::init()?;
    let screen = render::Screen::new(320, 180)?;
    let adapter = screen.adapter.clone();
    let t0 = Instant::now();
    // --mvp: wasmi with every post-MVP proposal off (runs the lowered MVP flavour).
    let mvp = args.iter().any(|a| a == "--mvp");
    let core = engine::load(kind, wasm, mvp)?;
    let load_ms = session::ms_since(t0);
    let t1 = Instant::now();
    let o = session::run(core, screen, &base, &steps)?;
    let run_ms = session::ms_since(t1);
    let report = session::Report {
        engine: format!("{kind:?}").to_lowercase(),
        load_ms,
        run_ms,
        virtual_ms: o.virtual_ms,
        core_ms: o.core_ms,
        checkpoints: o.checkpoints,
        frames: o.frames,
        log: o.log,
    };
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!(
        "{}: load {:.1} ms, session {:.0} ms (inside the module {:.0} ms) for {:.0} ms of virtual time, {} frames presented, adapter {adapter}",
        report.engine,
        report.load_ms,
        report.run_ms,
        report.core_ms,
        report.virtual_ms,
        report.frames.len()
    );
    for c in &report.checkpoints {
        println!(
            "  checkpoint {:<16} t={:.3} index={:?}",
            c.name, c.time, c.index
        );
    }
    Ok(())
}
