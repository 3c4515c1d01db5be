//! One scripted session on a virtual clock: the core module handles events, this host carries
//! out its commands (HTTP fetch, virtual audio device, GStreamer decoder, wgpu renderer).
//!
//! Virtual time makes the run deterministic: time only moves when every event of the
//! current instant was handled, straight to the next due thing (the core's `WakeAt`, the
//! next 10 ms audio period, a scripted sleep). Fetches complete at the instant they are asked
//! for (the server is on loopback); decoding completes at the instant a chunk is fed.

// Every protocol variant is handled by name: a new one must not fall into a catch-all arm.
#![deny(clippy::wildcard_enum_match_arm)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use kinema_abi::codec;
use kinema_core::host::FetchErrorKind;
use kinema_core::host::{AppRequest, HostCommand, HostEvent, PlayerEvent, RequestId, SeekMode};
use kinema_core::input::InputEvent;
use serde::Serialize;

use crate::decoder::{Decoder, Picture};
use crate::engine::Core;
use crate::render::Screen;
use crate::script::Step;
use kinema_render::Orientation;

/// The virtual audio device: 48 kHz stereo, a period of 10 ms.
const RATE: u32 = 48_000;
const CHANNELS: u16 = 2;
const PERIOD_US: u64 = 10_000;
/// A session taking longer than this in virtual time has hung.
const MAX_VIRTUAL_US: u64 = 120_000_000;

/// One presented picture.
#[derive(Debug, Clone, Serialize)]
pub struct Presented {
    /// Virtual host time, ms.
    pub at_ms: f64,
    /// The picture's timestamp, µs.
    pub timestamp_us: i64,
    /// The frame index read from the rendered picture (the fixture's 16 blocks).
    pub index: u32,
    /// FNV-1a 64 of the rendered RGBA, hex.
    pub checksum: String,
    /// The rendered picture's size, after its turn (portrait for a phone video turned 90°).
    pub shown: (u32, u32),
}

/// A scripted checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    /// Its name in the script.
    pub name: String,
    /// The player's media time.
    pub time: f64,
    /// Frame index of the picture on screen.
    pub index: Option<u32>,
}

/// What a session produced.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Engine name.
    pub engine: String,
    /// Wall time to compile and instantiate the module, ms.
    pub load_ms: f64,
    /// Wall time of the scripted session, ms.
    pub run_ms: f64,
    /// Virtual time the session covered, ms.
    pub virtual_ms: f64,
    /// Wall time spent inside the module (handle + poll calls), ms.
    pub core_ms: f64,
    /// Checkpoints in script order.
    pub checkpoints: Vec<Checkpoint>,
    /// Every presented picture.
    pub frames: Vec<Presented>,
    /// Events of note (errors, state changes).
    pub log: Vec<String>,
}

#[derive(Default)]
struct Audio {
    epoch: u32,
    queued: u64,
    played: u64,
    running: bool,
    next_us: Option<u64>,
}

struct Host {
    core: Box<dyn Core>,
    now_us: u64,
    wake_us: Option<u64>,
    events: VecDeque<HostEvent>,
    audio: Audio,
    http: ureq::Agent,
    base: String,
    decoder: Option<(u32, Decoder)>,
    /// The decoder's reordering delay learned by earlier generations.
    decoder_delay: u64,
    next_frame: u64,
    pictures: BTreeMap<u64, Picture>,
    shown: Option<u64>,
    /// How the current decoder configuration's pictures are turned to be shown.
    turn: Orientation,
    screen: Screen,
    // What the script waits for.
    loaded: bool,
    paused_events: u32,
    seeked_events: u32,
    ended: bool,
    suspended_events: u32,
    resumed_events: u32,
    unhandled_events: u32,
    frames: Vec<Presented>,
    log: Vec<String>,
    /// Wall time inside the module.
    core_time: Duration,
}

/// What [`run`] returns.
pub struct Outcome {
    /// Checkpoints in script order.
    pub checkpoints: Vec<Checkpoint>,
    /// Every presented picture.
    pub frames: Vec<Presented>,
    /// Events of note.
    pub log: Vec<String>,
    /// Virtual time covered, ms.
    pub virtual_ms: f64,
    /// Wall time inside the module, ms.
    pub core_ms: f64,
}

/// Event counts before the last action of the script.
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    paused: u32,
    seeked: u32,
    suspended: u32,
    resumed: u32,
    unhandled: u32,
}

/// Runs `steps` against the module in `core`; `base` is the URL the script's paths are
/// relative to.
pub fn run(core: Box<dyn Core>, screen: Screen, base: &str, steps: &[Step]) -> Result<Outcome> {
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut h = Host {
        core,
        now_us: 0,
        wake_us: None,
        events: VecDeque::new(),
        audio: Audio::default(),
        http,
        base: base.to_string(),
        decoder: None,
        decoder_delay: 0,
        next_frame: 1,
        pictures: BTreeMap::new(),
        shown: None,
        turn: Orientation::default(),
        screen,
        loaded: false,
        paused_events: 0,
        seeked_events: 0,
        ended: false,
        suspended_events: 0,
        resumed_events: 0,
        unhandled_events: 0,
        frames: Vec::new(),
        log: Vec::new(),
        core_time: Duration::ZERO,
    };
    h.events.push_back(HostEvent::AudioDeviceReady {
        sample_rate: RATE,
        channels: CHANNELS,
    });
    h.settle()?;
    let mut checkpoints = Vec::new();
    // Event counts before the last action: a `wait` after an action waits for an event the
    // action caused, even when it came at once.
    let mut mark = Marks::default();
    for step in steps {
        if matches!(
            step,
            Step::Load(_) | Step::Key(_) | Step::Seek(_) | Step::App(_)
        ) {
            mark = Marks {
                paused: h.paused_events,
                seeked: h.seeked_events,
                suspended: h.suspended_events,
                resumed: h.resumed_events,
                unhandled: h.unhandled_events,
            };
        }
        match step {
            Step::Load(url) => {
                let url = format!("{}{}", h.base, url);
                h.loaded = false;
                h.ended = false;
                h.events.push_back(HostEvent::App(AppRequest::Load { url }));
            }
            Step::Key(key) => {
                h.events.push_back(HostEvent::Input(InputEvent::KeyDown {
                    key: *key,
                    repeat: false,
                }));
                h.events
                    .push_back(HostEvent::Input(InputEvent::KeyUp { key: *key }));
            }
            Step::Seek(t) => h.events.push_back(HostEvent::App(AppRequest::Seek {
                position: *t,
                mode: SeekMode::Exact,
            })),
            Step::WaitLoaded => h.until(|h| Ok(h.loaded))?,
            Step::WaitTime(t) => {
                let t = *t;
                h.until(move |h| Ok(h.core.current_time(h.now_us)? >= t))?
            }
            Step::App(request) => h.events.push_back(HostEvent::App(request.clone())),
            Step::WaitPaused => h.until(move |h| Ok(h.paused_events > mark.paused))?,
            Step::WaitSeeked => h.until(move |h| Ok(h.seeked_events > mark.seeked))?,
            Step::WaitEnded => h.until(|h| Ok(h.ended))?,
            Step::WaitSuspended => h.until(move |h| Ok(h.suspended_events > mark.suspended))?,
            Step::WaitResumed => h.until(move |h| Ok(h.resumed_events > mark.resumed))?,
            Step::WaitUnhandled => h.until(move |h| Ok(h.unhandled_events > mark.unhandled))?,
            Step::Sleep(ms) => {
                let end = h.now_us + ms * 1000;
                h.until(move |h| Ok(h.now_us >= end))?
            }
            Step::Checkpoint(name) => {
                h.settle()?;
                let index = h.frames.last().map(|f| f.index);
                checkpoints.push(Checkpoint {
                    name: name.clone(),
                    time: h.core.current_time(h.now_us)?,
                    index,
                });
            }
        }
        h.settle()?;
    }
    Ok(Outcome {
        checkpoints,
        virtual_ms: h.now_us as f64 / 1000.0,
        core_ms: h.core_time.as_secs_f64() * 1000.0,
        frames: h.frames,
        log: h.log,
    })
}

impl Host {
    /// Handles every queued event and the commands they cause, at the current instant.
    fn settle(&mut self) -> Result<()> {
        while let Some(e) = self.events.pop_front() {
            let bytes = codec::encode_event(&e);
            let t = Instant::now();
            self.core.handle(self.now_us, &bytes)?;
            self.core_time += t.elapsed();
            loop {
                let t = Instant::now();
                let next = self.core.poll()?;
                self.core_time += t.elapsed();
                let Some(c) = next else { break };
                self.execute(codec::decode_command(&c)?)?;
            }
        }
        Ok(())
    }

    /// Moves virtual time until `done` holds (checked after every instant).
    fn until(&mut self, mut done: impl FnMut(&mut Host) -> Result<bool>) -> Result<()> {
        loop {
            self.settle()?;
            if done(self)? {
                return Ok(());
            }
            let next = [self.wake_us, self.audio.next_us]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(self.now_us + PERIOD_US);
            self.now_us = next.max(self.now_us);
            if self.now_us > MAX_VIRTUAL_US {
                bail!("the session did not reach its next step within the virtual time limit");
            }
            if self.wake_us.is_some_and(|w| w <= self.now_us) {
                self.wake_us = None;
                self.events.push_back(HostEvent::Tick);
            }
            if self.audio.next_us.is_some_and(|t| t <= self.now_us) {
                let per = u64::from(RATE) * PERIOD_US / 1_000_000;
                let take = per.min(self.audio.queued);
                self.audio.queued -= take;
                self.audio.played += take;
                self.audio.next_us = Some(self.now_us + PERIOD_US);
                self.events.push_back(HostEvent::AudioProgress {
                    epoch: self.audio.epoch,
                    frames_played: self.audio.played,
                });
            }
        }
    }

    fn execute(&mut self, c: HostCommand) -> Result<()> {
        if std::env::var_os("KINEMA_SETTOP_TRACE").is_some() {
            // Bulk payloads in short; events are noted when they are handled.
            if let HostCommand::QueueAudio { epoch, samples } = &c {
                eprintln!("  cmd QueueAudio {epoch} {}", samples.len());
            } else if let HostCommand::DecodeVideo { chunk, .. } = &c {
                eprintln!("  cmd DecodeVideo {} {}", chunk.timestamp_us, chunk.key);
            } else if !matches!(c, HostCommand::Emit(_)) {
                eprintln!("  cmd {c:?}");
            }
        }
        match c {
            HostCommand::Fetch {
                request,
                url,
                range,
                kind: _,
            } => self.fetch(request, &url, range.map(|r| r.header_value()))?,
            HostCommand::CancelFetch { .. } => {} // fetches complete at once
            HostCommand::QueueAudio { epoch, samples } => {
                if epoch == self.audio.epoch {
                    self.audio.queued += (samples.len() / usize::from(CHANNELS)) as u64;
                }
            }
            HostCommand::StartAudio => {
                self.audio.running = true;
                self.audio.next_us = Some(self.now_us + PERIOD_US);
            }
            HostCommand::PauseAudio => {
                self.audio.running = false;
                self.audio.next_us = None;
            }
            HostCommand::FlushAudio { epoch } => {
                self.audio.epoch = epoch;
                self.audio.queued = 0;
                self.audio.played = 0;
            }
            HostCommand::SetAudioGain(_) => {}
            HostCommand::WakeAt { at } => {
                self.wake_us = Some(u64::try_from(at.as_micros()).unwrap_or(u64::MAX));
            }
            HostCommand::Emit(e) => self.on_player_event(e),
            HostCommand::ConfigureVideoDecoder { generation, config } => {
                self.close_decoder();
                self.turn = Orientation::new(config.rotation, config.flip);
                match Decoder::new(&config, self.decoder_delay) {
                    Ok(d) => self.decoder = Some((generation, d)),
                    Err(e) => self.events.push_back(HostEvent::VideoDecoderError {
                        generation,
                        unsupported: true,
                        message: e.to_string(),
                    }),
                }
            }
            HostCommand::DecodeVideo { generation, chunk } => {
                let out = match &mut self.decoder {
                    Some((g, d)) if *g == generation => d.decode(&chunk),
                    _ => return Ok(()),
                };
                self.decoded(generation, out, false);
            }
            HostCommand::FlushVideoDecoder { generation } => {
                let out = match &mut self.decoder {
                    Some((g, d)) if *g == generation => d.flush(),
                    _ => return Ok(()),
                };
                self.decoded(generation, out, true);
                // The pipeline is at end of stream: the next chunks need a new generation.
                self.close_decoder();
            }
            HostCommand::CloseVideoDecoder => self.close_decoder(),
            HostCommand::PresentFrame { frame } => self.present(frame.0)?,
            HostCommand::ReleaseFrame { frame } => {
                if self.shown != Some(frame.0) {
                    self.pictures.remove(&frame.0);
                }
            }
            HostCommand::ClearVideo => {
                if let Some(f) = self.shown.take() {
                    self.pictures.remove(&f);
                }
            }
            HostCommand::ConfigureAudioDecoder { generation, config } => {
                self.events.push_back(HostEvent::AudioDecoderError {
                    generation,
                    unsupported: true,
                    message: format!("no platform audio decoder for {}", config.codec),
                });
            }
            // No platform audio decoder here (refused at configure), and no text overlay:
            // the pictures this host renders are compared by frame index and checksum.
            HostCommand::DecodeAudio { .. }
            | HostCommand::FlushAudioDecoder { .. }
            | HostCommand::CloseAudioDecoder
            | HostCommand::ShowSubtitles { .. } => {}
            // The controls are logged, not drawn (this host renders headless for tests; a
            // device build draws the view over the picture like the web shim's controls).
            HostCommand::ShowControls(view) => {
                let focus = view
                    .buttons
                    .iter()
                    .find(|b| b.focused)
                    .map_or("none", |b| b.id.name());
                let menu = view.menu.as_ref().map_or("none", |m| m.kind.name());
                self.note(format!(
                    "ShowControls visible={} paused={} focus={focus} menu={menu}",
                    view.visible, view.paused
                ));
            }
        }
        Ok(())
    }

    fn close_decoder(&mut self) {
        if let Some((_, d)) = self.decoder.take() {
            self.decoder_delay = self.decoder_delay.max(d.delay());
        }
    }

    fn decoded(&mut self, generation: u32, out: Result<Vec<Picture>>, flushed: bool) {
        match out {
            Ok(pictures) => {
                for p in pictures {
                    let frame = self.next_frame;
                    self.next_frame += 1;
                    self.events.push_back(HostEvent::VideoFrameDecoded {
                        generation,
                        frame: kinema_core::FrameId(frame),
                        timestamp_us: p.timestamp_us,
                        duration_us: p.duration_us,
                        width: p.width,
                        height: p.height,
                    });
                    self.pictures.insert(frame, p);
                }
                if flushed {
                    self.events
                        .push_back(HostEvent::VideoDecoderFlushed { generation });
                }
            }
            Err(e) => self.events.push_back(HostEvent::VideoDecoderError {
                generation,
                unsupported: false,
                message: e.to_string(),
            }),
        }
    }

    fn present(&mut self, frame: u64) -> Result<()> {
        if let Some(old) = self.shown.replace(frame) {
            if old != frame {
                self.pictures.remove(&old);
            }
        }
        let p = self
            .pictures
            .get(&frame)
            .ok_or_else(|| anyhow!("present of unknown frame {frame}"))?;
        let (index, checksum, shown) = self.screen.show(p, self.turn)?;
        self.frames.push(Presented {
            at_ms: self.now_us as f64 / 1000.0,
            timestamp_us: p.timestamp_us,
            index,
            checksum: format!("{checksum:016x}"),
            shown,
        });
        Ok(())
    }

    fn on_player_event(&mut self, e: PlayerEvent) {
        match &e {
            PlayerEvent::LoadedMetadata(_) => self.loaded = true,
            PlayerEvent::Pause => self.paused_events += 1,
            PlayerEvent::Seeked(_) => self.seeked_events += 1,
            PlayerEvent::Ended => self.ended = true,
            PlayerEvent::Suspended { .. } => self.suspended_events += 1,
            PlayerEvent::Resumed(_) => self.resumed_events += 1,
            PlayerEvent::UnhandledKey(_) => self.unhandled_events += 1,
            PlayerEvent::TimeUpdate(_) | PlayerEvent::Progress { .. } => return,
            // Only logged: the script waits for none of these.
            PlayerEvent::StateChanged(_)
            | PlayerEvent::LoadStart { .. }
            | PlayerEvent::DurationChanged(_)
            | PlayerEvent::Play
            | PlayerEvent::Playing
            | PlayerEvent::Waiting
            | PlayerEvent::Seeking(_)
            | PlayerEvent::Error(_)
            | PlayerEvent::VolumeChanged { .. }
            | PlayerEvent::RateChanged(_)
            | PlayerEvent::AudioTrackChanged(_)
            | PlayerEvent::TextTracksChanged
            | PlayerEvent::TextTrackChanged(_)
            | PlayerEvent::TextTrackError { .. }
            | PlayerEvent::Warning(_)
            | PlayerEvent::Resize { .. } => {}
        }
        self.note(format!("{e:?}"));
    }

    /// Logs a line (also to stderr with `KINEMA_SETTOP_TRACE=1`).
    fn note(&mut self, what: String) {
        let line = format!("{:9.3} ms {what}", self.now_us as f64 / 1000.0);
        if std::env::var_os("KINEMA_SETTOP_TRACE").is_some() {
            eprintln!("{line}");
        }
        self.log.push(line);
    }

    fn fetch(&mut self, request: RequestId, url: &str, range: Option<String>) -> Result<()> {
        let mut req = self.http.get(url);
        if let Some(r) = &range {
            req = req.header("Range", r);
        }
        let mut resp = match req.call() {
            Ok(r) => r,
            Err(e) => {
                self.events.push_back(HostEvent::FetchFailed {
                    request,
                    kind: FetchErrorKind::Network,
                    message: e.to_string(),
                });
                return Ok(());
            }
        };
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_range = header("content-range");
        let content_length = header("content-length").and_then(|v| v.parse().ok());
        self.events.push_back(HostEvent::FetchResponse {
            request,
            status: resp.status().as_u16(),
            content_length,
            content_range,
        });
        // The core's ranges are bounded (chunk_bytes); cap a whole-file answer too.
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .context("reading the body")?;
        for piece in body.chunks(64 * 1024) {
            self.events.push_back(HostEvent::FetchData {
                request,
                data: piece.to_vec(),
            });
        }
        self.events.push_back(HostEvent::FetchEnd { request });
        Ok(())
    }
}

/// Wall-clock stopwatch.
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
