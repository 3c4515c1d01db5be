//! The audio output in headless Chromium: both transports play, count exactly, flush by epoch,
//! pause, and the ring's host-side backlog wraps without losing a frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use js_sys::Reflect;
use kinema_web::audio::{self, AudioOut, Mode, Options};
use kinema_web::timer::delay;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let _ = JsFuture::from(delay(ms)).await;
}

fn sine(frames: usize, rate: u32) -> Vec<f32> {
    (0..frames)
        .flat_map(|i| {
            let s = 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin();
            [s, s]
        })
        .collect()
}

async fn open(options: Options) -> AudioOut {
    let ctx = audio::create_context().expect("an AudioContext");
    let out = audio::open(ctx, options, Rc::new(|| {}))
        .await
        .expect("the worklet loads");
    let _ = JsFuture::from(out.context().resume().expect("resume")).await;
    out
}

/// Waits until the worklet's count stops moving (pumping the ring meanwhile).
async fn settle(out: &mut AudioOut) -> audio::Progress {
    let mut last = out.consumed();
    for _ in 0..100 {
        for _ in 0..10 {
            out.pump();
            sleep(10).await;
        }
        let now = out.consumed();
        if (now.epoch, now.played) == (last.epoch, last.played) {
            return now;
        }
        last = now;
    }
    panic!("the count never settled: {last:?}");
}

async fn plays_counts_and_flushes(mode: Mode, expected: &str) {
    let mut out = open(Options {
        mode,
        ..Options::default()
    })
    .await;
    assert_eq!(out.mode(), expected);
    let rate = out.sample_rate();
    let second = u64::from(rate);

    // Epoch 1: one second of sine; after 400 ms part of it has played, and it is audible.
    out.flush(1);
    out.queue(1, sine(rate as usize, rate));
    out.set_running(true);
    sleep(400).await;
    let p = out.consumed();
    assert_eq!(p.epoch, 1);
    assert!(
        p.played > second / 10 && p.played < second,
        "played {} in 400 ms",
        p.played
    );
    let level = out.level();
    assert!((0.25..0.45).contains(&level), "RMS {level} of a 0.5 sine");
    let ctx = out.context();
    let field = |k: &str| Reflect::get(ctx, &k.into()).ok().and_then(|v| v.as_f64());
    console_log!(
        "{expected}: sampleRate {rate}, baseLatency {:?}, outputLatency {:?}, currentTime {:?}",
        field("baseLatency"),
        field("outputLatency"),
        field("currentTime")
    );

    // Epoch 2, queued in the same turn as the flush: exactly its frames play, none of epoch 1.
    let quarter = rate as usize / 4;
    out.flush(2);
    out.queue(2, sine(quarter, rate));
    let p = settle(&mut out).await;
    assert_eq!((p.epoch, p.played), (2, quarter as u64));
    assert!(p.underruns > 0, "the queue ran dry while running");
    sleep(100).await;
    assert!(out.level() < 1e-3, "silence after the queue drained");

    // Samples of a stale epoch are refused.
    out.queue(1, sine(quarter, rate));
    assert_eq!(settle(&mut out).await.played, quarter as u64);

    // Paused, the worklet consumes nothing; resumed, it plays the rest.
    out.set_running(false);
    sleep(50).await;
    out.queue(2, sine(quarter, rate));
    sleep(200).await;
    out.pump();
    assert_eq!(
        out.consumed().played,
        quarter as u64,
        "nothing plays paused"
    );
    out.set_running(true);
    assert_eq!(settle(&mut out).await.played, 2 * quarter as u64);

    // Frames heard: on a change the latency (`baseLatency` + the 0.1 s the app set) is held
    // back; once consumption has stopped for that long, everything consumed has been heard.
    out.set_output_latency(audio::OutputLatency::Fixed(0.1));
    let t = 1e6;
    let heard = out.progress(t).expect("progress of epoch 2");
    let latency = out.latency();
    assert_eq!(latency.output, 0.1);
    let held = (latency.total() * f64::from(rate)).round() as u64;
    assert_eq!(heard.played, 2 * quarter as u64 - held);
    let heard = out
        .progress(t + 1000.0 * latency.total())
        .expect("progress");
    assert_eq!(heard.played, 2 * quarter as u64);
    assert!(out.frames_played() >= 2 * quarter as u64);
    out.close();
}

#[wasm_bindgen_test]
async fn ring_plays_counts_and_flushes_by_epoch() {
    let isolated = Reflect::get(&js_sys::global(), &JsValue::from("crossOriginIsolated"))
        .ok()
        .and_then(|v| v.as_bool());
    assert_eq!(
        isolated,
        Some(true),
        "wasm-bindgen-test serves COOP/COEP unless WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION is set"
    );
    plays_counts_and_flushes(Mode::Shared, "sab").await;
}

#[wasm_bindgen_test]
async fn messages_play_count_and_flush_by_epoch() {
    plays_counts_and_flushes(Mode::Messages, "message").await;
}

#[wasm_bindgen_test]
async fn ring_backlog_wraps_without_losing_a_frame() {
    let mut out = open(Options {
        mode: Mode::Shared,
        ring_frames: 4096,
        ..Options::default()
    })
    .await;
    let rate = out.sample_rate() as usize;
    out.flush(1);
    // Many odd-sized chunks, 12x the ring: the backlog holds what does not fit.
    let mut total = 0;
    for i in 0..48 {
        let frames = 1000 + 17 * i;
        out.queue(1, sine(frames, rate as u32));
        total += frames;
    }
    assert!(out.backlog_frames() >= total - 4096);
    out.set_running(true);
    let p = settle(&mut out).await;
    assert_eq!(
        (p.epoch, p.played, out.backlog_frames()),
        (1, total as u64, 0)
    );
    assert!(total > rate);
    out.close();
}
