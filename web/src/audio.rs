//! Audio output: an AudioContext with the Kinema worklet → gain → analyser → speakers.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Int32Array, Object, Reflect, SharedArrayBuffer};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AnalyserNode, AudioContext, AudioWorkletNode, AudioWorkletNodeOptions, Blob, BlobPropertyBag,
    GainNode, MessageEvent, Url,
};

const WORKLET_JS: &str = include_str!("../js/worklet.js");
/// Ring capacity in frames (2 s at 48 kHz); the core keeps about 0.5 s queued.
const RING_FRAMES: u32 = 96_000;
const H_WRITE: u32 = 0;
const H_READ: u32 = 1;
const H_EPOCH: u32 = 2;
const H_PLAYED: u32 = 3;
const H_RUN: u32 = 4;
const H_UNDERRUNS: u32 = 5;
const H_FLUSH_EPOCH: u32 = 6;
const H_FLUSH_AT: u32 = 7;

/// Progress as last seen from the worklet.
#[derive(Debug, Default, Clone, Copy)]
pub struct Progress {
    /// Epoch of the count.
    pub epoch: u32,
    /// Frames played in that epoch.
    pub played: u64,
    /// Render quanta that found the queue empty while running.
    pub underruns: u32,
}

enum Transport {
    Shared {
        header: Int32Array,
        data: Float32Array,
        write: i32,
        overflow: VecDeque<f32>,
    },
    Messages {
        progress: Rc<RefCell<Progress>>,
        _onmessage: Closure<dyn FnMut(MessageEvent)>,
    },
}

/// The opened audio output.
pub struct AudioOut {
    ctx: AudioContext,
    node: AudioWorkletNode,
    gain: GainNode,
    analyser: AnalyserNode,
    transport: Transport,
    epoch: u32,
    total_played: u64,
    last: Progress,
    /// Page time (ms) at which the consumed count last changed.
    changed_at: f64,
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

/// Creates the context, loads the worklet and wires the graph. `on_progress` is called for
/// every progress message in message mode.
pub async fn open(on_progress: Rc<dyn Fn()>) -> Result<AudioOut, String> {
    let ctx = AudioContext::new().map_err(js_err)?;
    let bag = BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let parts = Array::of1(&JsValue::from_str(WORKLET_JS));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &bag).map_err(js_err)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(js_err)?;
    let worklet = ctx.audio_worklet().map_err(js_err)?;
    JsFuture::from(worklet.add_module(&url).map_err(js_err)?)
        .await
        .map_err(js_err)?;
    let _ = Url::revoke_object_url(&url);

    let isolated = js_sys::global()
        .dyn_into::<Object>()
        .ok()
        .and_then(|g| Reflect::get(&g, &"crossOriginIsolated".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let options = AudioWorkletNodeOptions::new();
    options.set_number_of_inputs(0);
    options.set_number_of_outputs(1);
    options.set_output_channel_count(&Array::of1(&JsValue::from(2)));
    let shared = if isolated {
        let header = SharedArrayBuffer::new(8 * 4);
        let data = SharedArrayBuffer::new(RING_FRAMES * 2 * 4);
        let po = Object::new();
        Reflect::set(&po, &"header".into(), &header).map_err(js_err)?;
        Reflect::set(&po, &"data".into(), &data).map_err(js_err)?;
        options.set_processor_options(Some(&po));
        Some((Int32Array::new(&header), Float32Array::new(&data)))
    } else {
        None
    };
    let node =
        AudioWorkletNode::new_with_options(&ctx, "kinema-output", &options).map_err(js_err)?;
    let gain = ctx.create_gain().map_err(js_err)?;
    let analyser = ctx.create_analyser().map_err(js_err)?;
    analyser.set_fft_size(2048);
    node.connect_with_audio_node(&gain).map_err(js_err)?;
    gain.connect_with_audio_node(&analyser).map_err(js_err)?;
    analyser
        .connect_with_audio_node(&ctx.destination())
        .map_err(js_err)?;

    let transport = match shared {
        Some((header, data)) => Transport::Shared {
            header,
            data,
            write: 0,
            overflow: VecDeque::new(),
        },
        None => {
            let progress = Rc::new(RefCell::new(Progress::default()));
            let p = progress.clone();
            let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let d = e.data();
                let num = |k: &str| {
                    Reflect::get(&d, &k.into())
                        .ok()
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0)
                };
                if Reflect::get(&d, &"type".into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .as_deref()
                    == Some("progress")
                {
                    *p.borrow_mut() = Progress {
                        epoch: num("epoch") as u32,
                        played: num("played") as u64,
                        underruns: num("underruns") as u32,
                    };
                    on_progress();
                }
            });
            node.port()
                .map_err(js_err)?
                .set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
            Transport::Messages {
                progress,
                _onmessage: onmessage,
            }
        }
    };
    Ok(AudioOut {
        ctx,
        node,
        gain,
        analyser,
        transport,
        epoch: 0,
        total_played: 0,
        last: Progress::default(),
        changed_at: 0.0,
    })
}

impl AudioOut {
    /// Device rate.
    pub fn sample_rate(&self) -> u32 {
        self.ctx.sample_rate() as u32
    }

    /// `"sab"` or `"message"`.
    pub fn mode(&self) -> &'static str {
        match self.transport {
            Transport::Shared { .. } => "sab",
            Transport::Messages { .. } => "message",
        }
    }

    /// The context, for `resume()` on play.
    pub fn context(&self) -> &AudioContext {
        &self.ctx
    }

    fn post(&self, msg: &Object, transfer: Option<&Array>) {
        if let Ok(port) = self.node.port() {
            let _ = match transfer {
                Some(t) => port.post_message_with_transferable(msg, t),
                None => port.post_message(msg),
            };
        }
    }

    fn message(kind: &str, fields: &[(&str, JsValue)]) -> Object {
        let o = Object::new();
        let _ = Reflect::set(&o, &"type".into(), &kind.into());
        for (k, v) in fields {
            let _ = Reflect::set(&o, &(*k).into(), v);
        }
        o
    }

    /// Queues interleaved stereo samples of `epoch`.
    pub fn queue(&mut self, epoch: u32, samples: &[f32]) {
        if epoch != self.epoch {
            return;
        }
        match &mut self.transport {
            Transport::Shared { overflow, .. } => {
                overflow.extend(samples.iter().copied());
                self.pump();
            }
            Transport::Messages { .. } => {
                let arr = Float32Array::from(samples);
                let msg = Self::message(
                    "queue",
                    &[("epoch", epoch.into()), ("samples", arr.clone().into())],
                );
                self.post(&msg, Some(&Array::of1(&arr.buffer())));
            }
        }
    }

    /// Moves samples waiting host-side into the shared ring as space allows.
    pub fn pump(&mut self) {
        if let Transport::Shared {
            header,
            data,
            write,
            overflow,
        } = &mut self.transport
        {
            if overflow.is_empty() {
                return;
            }
            let read = js_sys::Atomics::load(header, H_READ).unwrap_or(0);
            let used = write.wrapping_sub(read).max(0) as u32;
            let free = RING_FRAMES.saturating_sub(used) as usize;
            let frames = (overflow.len() / 2).min(free);
            let mut w = *write;
            for _ in 0..frames {
                let at = (w as u32 % RING_FRAMES) * 2;
                let l = overflow.pop_front().unwrap_or(0.0);
                let r = overflow.pop_front().unwrap_or(0.0);
                data.set_index(at, l);
                data.set_index(at + 1, r);
                w = w.wrapping_add(1);
            }
            *write = w;
            let _ = js_sys::Atomics::store(header, H_WRITE, w);
        }
    }

    /// Drops everything queued; counting restarts at 0 in `epoch`.
    pub fn flush(&mut self, epoch: u32) {
        self.epoch = epoch;
        self.total_played += self.last.played;
        self.last = Progress {
            epoch,
            played: 0,
            underruns: self.last.underruns,
        };
        match &mut self.transport {
            Transport::Shared {
                header,
                write,
                overflow,
                ..
            } => {
                overflow.clear();
                let _ = js_sys::Atomics::store(header, H_FLUSH_AT, *write);
                let _ = js_sys::Atomics::store(header, H_FLUSH_EPOCH, epoch as i32);
            }
            Transport::Messages { progress, .. } => {
                *progress.borrow_mut() = Progress {
                    epoch,
                    played: 0,
                    underruns: self.last.underruns,
                };
                let msg = Self::message("flush", &[("epoch", epoch.into())]);
                self.post(&msg, None);
            }
        }
    }

    /// Starts or stops consuming the queue.
    pub fn set_running(&mut self, on: bool) {
        match &self.transport {
            Transport::Shared { header, .. } => {
                let _ = js_sys::Atomics::store(header, H_RUN, i32::from(on));
            }
            Transport::Messages { .. } => {
                let msg = Self::message("run", &[("on", on.into())]);
                self.post(&msg, None);
            }
        }
    }

    /// Output gain.
    pub fn set_gain(&self, gain: f32) {
        self.gain.gain().set_value(gain);
    }

    /// The latest progress of the current epoch at page time `now_ms`, if the worklet has
    /// reported it, in frames heard (see the latency note inside).
    pub fn progress(&mut self, now_ms: f64) -> Option<Progress> {
        let p = match &self.transport {
            Transport::Shared { header, .. } => {
                let load = |i| js_sys::Atomics::load(header, i).unwrap_or(0);
                let e1 = load(H_EPOCH);
                let played = load(H_PLAYED);
                let e2 = load(H_EPOCH);
                if e1 != e2 {
                    return None;
                }
                Progress {
                    epoch: e1 as u32,
                    played: played.max(0) as u64,
                    underruns: load(H_UNDERRUNS).max(0) as u32,
                }
            }
            Transport::Messages { progress, .. } => *progress.borrow(),
        };
        if p.epoch != self.epoch {
            return None;
        }
        if p.played != self.last.played || p.epoch != self.last.epoch {
            self.changed_at = now_ms;
        }
        self.last = p;
        // The protocol counts frames at the output: what the worklet consumed minus what is
        // still in the browser's output pipeline (measured in headless Chromium 156:
        // baseLatency 10 ms + outputLatency 32 ms at 44.1 kHz). Once consumption stops (queue
        // drained, or paused) that pipeline plays out, so the held-back part shrinks with time.
        let rate = f64::from(self.sample_rate());
        let latency = self.latency_secs() * rate;
        let drained = (now_ms - self.changed_at).max(0.0) / 1000.0 * rate;
        let held = (latency - drained).max(0.0).round() as u64;
        Some(Progress {
            played: p.played.saturating_sub(held),
            ..p
        })
    }

    /// `baseLatency + outputLatency` of the context, in seconds (0 where unsupported).
    pub fn latency_secs(&self) -> f64 {
        ["baseLatency", "outputLatency"]
            .iter()
            .filter_map(|k| {
                Reflect::get(&self.ctx, &(*k).into())
                    .ok()
                    .and_then(|v| v.as_f64())
            })
            .filter(|v| v.is_finite() && *v >= 0.0 && *v < 1.0)
            .sum()
    }

    /// Frames played since the output opened, across epochs.
    pub fn frames_played(&self) -> u64 {
        self.total_played + self.last.played
    }

    /// Underruns counted by the worklet.
    pub fn underruns(&self) -> u32 {
        self.last.underruns
    }

    /// RMS of the signal after the gain, over the analyser's window.
    pub fn level(&self) -> f64 {
        let mut buf = vec![0.0f32; self.analyser.fft_size() as usize];
        self.analyser.get_float_time_domain_data(&mut buf);
        let sum: f64 = buf.iter().map(|s| f64::from(*s) * f64::from(*s)).sum();
        (sum / buf.len().max(1) as f64).sqrt()
    }

    /// Closes the context.
    pub fn close(&self) {
        let _ = self.ctx.close();
    }
}
