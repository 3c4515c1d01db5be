//! A simulated host: virtual clock, in-memory resources with injectable faults, a fake audio
//! device that records what it plays. Deterministic, for exact tests of the core.

// The simulated host handles every protocol variant by name, like the real hosts.
#![deny(clippy::wildcard_enum_match_arm)]

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::host::{
    AppRequest, FetchErrorKind, FrameId, HostCommand, HostEvent, PlayerEvent, RequestId, SeekMode,
    VideoDecoderConfig,
};
use crate::input::InputEvent;
use crate::player::{Player, PlayerConfig};

/// How a simulated resource misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serves correctly, with ranges.
    None,
    /// Answers every request with this HTTP status.
    Status(u16),
    /// Drops the connection after this many body bytes of every response.
    DropAfter(u64),
    /// Drops the connection after this many body bytes, the first `n` requests only.
    DropAfterFirst(u64, u32),
    /// Ignores `Range` and always sends the whole body with 200.
    NoRanges,
    /// Sends headers, then nothing at all.
    Stall,
}

struct Resource {
    bytes: Vec<u8>,
    fault: Fault,
    requests: u32,
}

struct Transfer {
    id: RequestId,
    body: Vec<u8>,
    sent: usize,
    drop_after: Option<u64>,
    stalled: bool,
}

/// The fake audio device.
#[derive(Debug, Default)]
pub struct SimDevice {
    /// Device rate.
    pub rate: u32,
    /// Device channels.
    pub channels: u16,
    /// Current epoch.
    pub epoch: u32,
    queue: VecDeque<f32>,
    /// Frames played in the current epoch.
    pub played: u64,
    /// Consuming the queue.
    pub running: bool,
    /// Every sample played, interleaved, across epochs.
    pub output: Vec<f32>,
    /// Last gain set.
    pub gain: f32,
    /// Times the device wanted data and had none while running.
    pub underruns: u64,
}

/// The fake platform video decoder: outputs a picture per chunk (in presentation order, after
/// a reorder delay like a real H.264 decoder), one simulation step after the chunk, and
/// records every present and release so tests can check timing and leaks.
#[derive(Debug, Default)]
pub struct SimVideo {
    /// Generation of the last configure.
    pub generation: u32,
    /// Every configuration received.
    pub configs: Vec<VideoDecoderConfig>,
    /// Chunks held back for reordering: (timestamp, duration).
    held: Vec<(i64, i64)>,
    /// How many chunks the decoder holds before it outputs (reorder depth).
    pub reorder: usize,
    /// What the host reports as its decoder's depth after each configure
    /// ([`HostEvent::VideoDecoderDepth`]), as a browser host does for its MSE decoder; `None`:
    /// nothing is reported (the core's default bound).
    pub depth: Option<u32>,
    next_id: u64,
    /// Pictures delivered and not yet released: id → timestamp.
    pub live: BTreeMap<u64, i64>,
    /// Every present: (host time, picture timestamp).
    pub presented: Vec<(Duration, i64)>,
    /// The picture on screen (timestamp), `None` when cleared.
    pub on_screen: Option<i64>,
    /// Fail (once) when a chunk at or after this timestamp arrives: a mid-stream decode error.
    pub fail_at: Option<i64>,
    /// Codec string prefixes this decoder refuses as unsupported.
    pub unsupported: Vec<String>,
    /// Chunks decoded in all.
    pub chunks: u64,
    /// True between configure and close.
    pub open: bool,
    /// Host time the decoder spends on each chunk (zero: instant). A decoder slower than
    /// the frame rate (a TV-class CPU) delivers its pictures later and later.
    pub decode_cost: Duration,
    /// When the decoder is free again.
    busy_until: Duration,
    /// Outputs waiting for the decoder to get to them: (ready at, event).
    slow: VecDeque<(Duration, HostEvent)>,
}

/// A deterministic host around a [`Player`].
pub struct SimHost {
    /// The player under test.
    pub player: Player,
    /// Virtual host time.
    pub now: Duration,
    /// Everything the player emitted, in order.
    pub events: Vec<PlayerEvent>,
    /// The fake device (`None` when simulating a host without audio output).
    pub device: Option<SimDevice>,
    /// Bytes delivered per 10 ms step per transfer.
    pub bytes_per_step: usize,
    /// A shared link: bytes per 10 ms step for all transfers together (split evenly), instead
    /// of `bytes_per_step` each. Tests change it over time to script bandwidth.
    pub link_bytes_per_step: Option<usize>,
    /// Until this time every new request fails and transfers under way break (an outage).
    pub outage_until: Option<Duration>,
    /// Decides a fault per request from its URL and a request counter (deterministic), on top
    /// of the resource's own fault: e.g. every 20th segment answers 404.
    pub request_fault: Option<fn(&str, u64) -> Fault>,
    requests_seen: u64,
    /// Every fetch command seen: (url, range header).
    pub fetch_log: Vec<(String, Option<String>)>,
    /// Every subtitle display change: (host time, cues shown from then on).
    pub subtitles: Vec<(Duration, Vec<crate::subtitles::SubtitleCue>)>,
    /// Every controls view sent: (host time, view). The last one is what is on screen.
    pub controls: Vec<(Duration, crate::controls::ControlsView)>,
    /// The fake platform video decoder and screen.
    pub video: SimVideo,
    /// The fake platform audio decoder outputs a ramp instead of silence: every sample of a
    /// frame at presentation time `t` seconds is `t / 100` (so the played output tells which
    /// media time it came from, across decoder reconfigurations and rate conversion).
    pub audio_ramp: bool,
    /// Every audio decoder configuration sent, in order.
    pub audio_configs: Vec<crate::host::AudioDecoderConfig>,
    /// Codecs the fake platform audio decoder has no decoder for (it answers `unsupported`,
    /// as WebCodecs without AC-3 does).
    pub audio_unsupported: Vec<String>,
    /// Decoder outputs to deliver at the next step.
    decoded: Vec<HostEvent>,
    /// The fake audio decoder's (generation, rate, channels).
    audio_decoder: Option<(u32, u32, u16)>,
    resources: BTreeMap<String, Resource>,
    transfers: Vec<Transfer>,
    wake: Option<Duration>,
}

/// Virtual time per simulation step.
pub const STEP: Duration = Duration::from_millis(10);

impl SimHost {
    /// A host with an audio device at `rate` Hz, stereo.
    pub fn new(config: PlayerConfig, rate: u32) -> Self {
        let mut host = SimHost {
            player: Player::new(config),
            now: Duration::ZERO,
            events: Vec::new(),
            device: Some(SimDevice {
                rate,
                channels: 2,
                gain: 1.0,
                ..Default::default()
            }),
            bytes_per_step: 64 * 1024,
            link_bytes_per_step: None,
            outage_until: None,
            request_fault: None,
            requests_seen: 0,
            fetch_log: Vec::new(),
            subtitles: Vec::new(),
            controls: Vec::new(),
            video: SimVideo {
                reorder: 2,
                ..SimVideo::default()
            },
            audio_ramp: false,
            audio_configs: Vec::new(),
            audio_unsupported: Vec::new(),
            decoded: Vec::new(),
            audio_decoder: None,
            resources: BTreeMap::new(),
            transfers: Vec::new(),
            wake: None,
        };
        host.send(HostEvent::AudioDeviceReady {
            sample_rate: rate,
            channels: 2,
        });
        host
    }

    /// A host without audio output (the core uses its virtual device).
    pub fn without_audio(config: PlayerConfig) -> Self {
        let mut host = SimHost::new(config, 48_000);
        host.device = None;
        host.send(HostEvent::AudioDeviceUnavailable {
            reason: "simulated".into(),
        });
        host
    }

    /// Serves `bytes` at `url`.
    pub fn add(&mut self, url: &str, bytes: Vec<u8>) {
        self.add_with_fault(url, bytes, Fault::None);
    }

    /// Serves `bytes` at `url`, misbehaving as `fault` says.
    pub fn add_with_fault(&mut self, url: &str, bytes: Vec<u8>, fault: Fault) {
        self.resources.insert(
            url.to_string(),
            Resource {
                bytes,
                fault,
                requests: 0,
            },
        );
    }

    /// Fetches under way (started, not ended or cancelled).
    pub fn in_flight(&self) -> usize {
        self.transfers.len()
    }

    /// Sends an app request.
    pub fn app(&mut self, request: AppRequest) {
        self.send(HostEvent::App(request));
    }

    /// Sends an input event.
    pub fn input(&mut self, input: InputEvent) {
        self.send(HostEvent::Input(input));
    }

    /// Presses (down, then up) the logical key `key`.
    pub fn press(&mut self, key: crate::input::Key) {
        self.input(InputEvent::KeyDown { key, repeat: false });
        self.input(InputEvent::KeyUp { key });
    }

    /// Sends any event at the current virtual time and carries out the commands.
    pub fn send(&mut self, event: HostEvent) {
        self.player.handle(self.now, event);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(cmd) = self.player.poll_command() {
            self.execute(cmd);
        }
    }

    fn execute(&mut self, cmd: HostCommand) {
        match cmd {
            HostCommand::Fetch {
                request,
                url,
                range,
                kind: _,
            } => {
                self.fetch_log
                    .push((url.clone(), range.map(|r| r.header_value())));
                self.start_fetch(request, &url, range.map(|r| (r.start, r.end)));
            }
            HostCommand::CancelFetch { request } => self.transfers.retain(|t| t.id != request),
            HostCommand::QueueAudio { epoch, samples } => {
                if let Some(d) = self.device.as_mut() {
                    if epoch == d.epoch {
                        d.queue.extend(samples);
                    }
                }
            }
            HostCommand::StartAudio => self.with_device(|d| d.running = true),
            HostCommand::PauseAudio => self.with_device(|d| d.running = false),
            HostCommand::FlushAudio { epoch } => self.with_device(|d| {
                d.queue.clear();
                d.epoch = epoch;
                d.played = 0;
            }),
            HostCommand::SetAudioGain(g) => self.with_device(|d| d.gain = g),
            HostCommand::WakeAt { at } => self.wake = Some(at),
            HostCommand::Emit(event) => self.events.push(event),
            HostCommand::ShowSubtitles { cues } => self.subtitles.push((self.now, cues)),
            HostCommand::ShowControls(view) => self.controls.push((self.now, view)),
            HostCommand::ConfigureVideoDecoder { generation, config } => {
                let v = &mut self.video;
                v.generation = generation;
                v.held.clear();
                v.open = true;
                // A reset decoder drops the work it had not done (what it already output
                // still arrives, tagged with the old generation), as WebCodecs' `reset()`.
                v.busy_until = self.now;
                let now = self.now;
                let live = &mut v.live;
                v.slow.retain(|(at, e)| {
                    let undone = *at > now;
                    if let (true, HostEvent::VideoFrameDecoded { frame, .. }) = (undone, e) {
                        live.remove(&frame.0);
                    }
                    !undone
                });
                if v.unsupported
                    .iter()
                    .any(|u| config.codec.starts_with(u.as_str()))
                {
                    self.decoded.push(HostEvent::VideoDecoderError {
                        generation,
                        unsupported: true,
                        message: format!("{} is not supported", config.codec),
                    });
                    v.open = false;
                }
                v.configs.push(config);
                if let Some(chunks) = v.depth {
                    self.decoded.push(HostEvent::VideoDecoderDepth {
                        chunks: Some(chunks),
                    });
                }
            }
            HostCommand::DecodeVideo { generation, chunk } => {
                let v = &mut self.video;
                if generation != v.generation || !v.open {
                    return;
                }
                v.chunks += 1;
                if v.fail_at.is_some_and(|f| chunk.timestamp_us >= f) {
                    v.fail_at = None;
                    v.open = false;
                    v.held.clear();
                    self.decoded.push(HostEvent::VideoDecoderError {
                        generation,
                        unsupported: false,
                        message: "simulated corrupt frame".into(),
                    });
                    return;
                }
                v.held.push((chunk.timestamp_us, chunk.duration_us));
                if v.held.len() > v.reorder {
                    if v.decode_cost.is_zero() {
                        Self::output_first(v, generation, &mut self.decoded);
                    } else {
                        v.busy_until = v.busy_until.max(self.now) + v.decode_cost;
                        let mut out = Vec::new();
                        Self::output_first(v, generation, &mut out);
                        let at = v.busy_until;
                        v.slow.extend(out.into_iter().map(|e| (at, e)));
                    }
                }
            }
            HostCommand::FlushVideoDecoder { generation } => {
                let v = &mut self.video;
                if generation == v.generation && v.open {
                    if v.decode_cost.is_zero() {
                        while !v.held.is_empty() {
                            Self::output_first(v, generation, &mut self.decoded);
                        }
                        self.decoded
                            .push(HostEvent::VideoDecoderFlushed { generation });
                    } else {
                        // After what the slow decoder still has to do, in order.
                        while !v.held.is_empty() {
                            v.busy_until = v.busy_until.max(self.now) + v.decode_cost;
                            let mut out = Vec::new();
                            Self::output_first(v, generation, &mut out);
                            let at = v.busy_until;
                            v.slow.extend(out.into_iter().map(|e| (at, e)));
                        }
                        let at = v.busy_until.max(self.now);
                        v.slow
                            .push_back((at, HostEvent::VideoDecoderFlushed { generation }));
                    }
                }
            }
            HostCommand::CloseVideoDecoder => {
                self.video.open = false;
                self.video.held.clear();
            }
            HostCommand::PresentFrame { frame } => {
                let ts = self.video.live.get(&frame.0).copied();
                assert!(ts.is_some(), "present of unknown frame {frame:?}");
                self.video.on_screen = ts;
                if let Some(ts) = ts {
                    self.video.presented.push((self.now, ts));
                }
            }
            HostCommand::ReleaseFrame { frame } => {
                assert!(
                    self.video.live.remove(&frame.0).is_some(),
                    "release of unknown frame {frame:?}"
                );
            }
            HostCommand::ClearVideo => self.video.on_screen = None,
            HostCommand::ConfigureAudioDecoder { .. }
            | HostCommand::FlushAudioDecoder { .. }
            | HostCommand::CloseAudioDecoder
            | HostCommand::DecodeAudio { .. } => self.fake_audio_decoder(cmd),
        }
    }

    /// Outputs the held chunk with the smallest timestamp as a picture.
    fn output_first(v: &mut SimVideo, generation: u32, out: &mut Vec<HostEvent>) {
        let Some(i) = (0..v.held.len()).min_by_key(|&i| v.held[i].0) else {
            return;
        };
        let (ts, dur) = v.held.remove(i);
        v.next_id += 1;
        v.live.insert(v.next_id, ts);
        out.push(HostEvent::VideoFrameDecoded {
            generation,
            frame: FrameId(v.next_id),
            timestamp_us: ts,
            duration_us: dur,
            width: 320,
            height: 180,
        });
    }

    /// A platform audio decoder that outputs silence of each chunk's duration.
    fn fake_audio_decoder(&mut self, cmd: HostCommand) {
        match cmd {
            HostCommand::ConfigureAudioDecoder { generation, config } => {
                if self.audio_unsupported.contains(&config.codec) {
                    self.audio_decoder = None;
                    self.decoded.push(HostEvent::AudioDecoderError {
                        generation,
                        unsupported: true,
                        message: format!("no decoder for {}", config.codec),
                    });
                } else {
                    self.audio_decoder = Some((generation, config.sample_rate, config.channels));
                }
                self.audio_configs.push(config);
            }
            HostCommand::DecodeAudio { generation, chunk } => {
                let Some((g, rate, ch)) = self.audio_decoder else {
                    return;
                };
                if g != generation {
                    return;
                }
                // Rounded: an AAC frame at 48 kHz is 21 333.3 µs, truncated to whole µs.
                let frames = ((chunk.duration_us.max(0) as u64 * u64::from(rate) + 500_000)
                    / 1_000_000) as usize;
                let samples = if self.audio_ramp {
                    let t0 = chunk.timestamp_us as f64 / 1e6;
                    (0..frames)
                        .flat_map(|k| {
                            let v = ((t0 + k as f64 / f64::from(rate)) / 100.0) as f32;
                            std::iter::repeat_n(v, usize::from(ch))
                        })
                        .collect()
                } else {
                    vec![0.0; frames * usize::from(ch)]
                };
                self.decoded.push(HostEvent::AudioDecoded {
                    generation,
                    timestamp_us: chunk.timestamp_us,
                    sample_rate: rate,
                    channels: ch,
                    samples,
                });
            }
            HostCommand::FlushAudioDecoder { generation } => {
                self.decoded
                    .push(HostEvent::AudioDecoderFlushed { generation });
            }
            HostCommand::CloseAudioDecoder => self.audio_decoder = None,
            // Not audio-decoder commands: `execute` routes only those here.
            HostCommand::Fetch { .. }
            | HostCommand::CancelFetch { .. }
            | HostCommand::QueueAudio { .. }
            | HostCommand::StartAudio
            | HostCommand::PauseAudio
            | HostCommand::FlushAudio { .. }
            | HostCommand::SetAudioGain(_)
            | HostCommand::WakeAt { .. }
            | HostCommand::Emit(_)
            | HostCommand::ConfigureVideoDecoder { .. }
            | HostCommand::DecodeVideo { .. }
            | HostCommand::FlushVideoDecoder { .. }
            | HostCommand::CloseVideoDecoder
            | HostCommand::PresentFrame { .. }
            | HostCommand::ReleaseFrame { .. }
            | HostCommand::ClearVideo
            | HostCommand::ShowSubtitles { .. }
            | HostCommand::ShowControls(_) => {}
        }
    }

    fn with_device(&mut self, f: impl FnOnce(&mut SimDevice)) {
        if let Some(d) = self.device.as_mut() {
            f(d);
        }
    }

    fn start_fetch(&mut self, id: RequestId, url: &str, range: Option<(u64, Option<u64>)>) {
        self.requests_seen += 1;
        if self.outage_until.is_some_and(|t| self.now < t) {
            self.player.handle(
                self.now,
                HostEvent::FetchFailed {
                    request: id,
                    kind: FetchErrorKind::Network,
                    message: "outage".into(),
                },
            );
            return;
        }
        let extra = self
            .request_fault
            .map_or(Fault::None, |f| f(url, self.requests_seen));
        let Some(res) = self.resources.get_mut(url) else {
            self.player.handle(
                self.now,
                HostEvent::FetchResponse {
                    request: id,
                    status: 404,
                    content_length: Some(0),
                    content_range: None,
                },
            );
            return;
        };
        res.requests += 1;
        let total = res.bytes.len() as u64;
        let mut drop_after = None;
        let mut stalled = false;
        let fault = if extra == Fault::None {
            res.fault
        } else {
            extra
        };
        let (status, body, content_range) = match (fault, range) {
            (Fault::Status(code), _) => (code, Vec::new(), None),
            (Fault::NoRanges, _) => (200, res.bytes.clone(), None),
            (fault, None) => {
                match fault {
                    Fault::DropAfter(n) => drop_after = Some(n),
                    Fault::DropAfterFirst(n, k) if res.requests <= k => drop_after = Some(n),
                    Fault::Stall => stalled = true,
                    Fault::None
                    | Fault::DropAfterFirst(..)
                    | Fault::Status(_)
                    | Fault::NoRanges => {}
                }
                (200, res.bytes.clone(), None)
            }
            (fault, Some((start, end))) => {
                if start >= total {
                    (416, Vec::new(), Some(format!("bytes */{total}")))
                } else {
                    let end = end.unwrap_or(total - 1).min(total - 1);
                    match fault {
                        Fault::DropAfter(n) => drop_after = Some(n),
                        Fault::DropAfterFirst(n, k) if res.requests <= k => drop_after = Some(n),
                        Fault::Stall => stalled = true,
                        Fault::None
                        | Fault::DropAfterFirst(..)
                        | Fault::Status(_)
                        | Fault::NoRanges => {}
                    }
                    (
                        206,
                        res.bytes[start as usize..=end as usize].to_vec(),
                        Some(format!("bytes {start}-{end}/{total}")),
                    )
                }
            }
        };
        let content_length = Some(body.len() as u64);
        self.player.handle(
            self.now,
            HostEvent::FetchResponse {
                request: id,
                status,
                content_length,
                content_range,
            },
        );
        if (200..300).contains(&status) {
            self.transfers.push(Transfer {
                id,
                body,
                sent: 0,
                drop_after,
                stalled,
            });
        } else {
            self.player
                .handle(self.now, HostEvent::FetchEnd { request: id });
        }
    }

    /// Advances virtual time by one step: transfers progress, the device plays, wake-ups fire.
    pub fn step(&mut self) {
        self.now += STEP;
        let mut events = Vec::new();
        let mut finished = Vec::new();
        let outage = self.outage_until.is_some_and(|t| self.now < t);
        let active = self.transfers.iter().filter(|t| !t.stalled).count().max(1);
        let per = self
            .link_bytes_per_step
            .map_or(self.bytes_per_step, |l| (l / active).max(1));
        for t in &mut self.transfers {
            if outage {
                events.push(HostEvent::FetchFailed {
                    request: t.id,
                    kind: FetchErrorKind::Network,
                    message: "outage".into(),
                });
                finished.push(t.id);
                continue;
            }
            if t.stalled {
                continue;
            }
            let mut n = per.min(t.body.len() - t.sent);
            if let Some(limit) = t.drop_after {
                let left = (limit as usize).saturating_sub(t.sent);
                if left == 0 {
                    events.push(HostEvent::FetchFailed {
                        request: t.id,
                        kind: FetchErrorKind::Network,
                        message: "connection reset".into(),
                    });
                    finished.push(t.id);
                    continue;
                }
                n = n.min(left);
            }
            if n > 0 {
                events.push(HostEvent::FetchData {
                    request: t.id,
                    data: t.body[t.sent..t.sent + n].to_vec(),
                });
                t.sent += n;
            }
            if t.sent == t.body.len() {
                events.push(HostEvent::FetchEnd { request: t.id });
                finished.push(t.id);
            }
        }
        self.transfers.retain(|t| !finished.contains(&t.id));
        for e in events {
            self.send(e);
        }
        for e in std::mem::take(&mut self.decoded) {
            self.send(e);
        }
        while self
            .video
            .slow
            .front()
            .is_some_and(|(at, _)| *at <= self.now)
        {
            if let Some((_, e)) = self.video.slow.pop_front() {
                self.send(e);
            }
        }
        if let Some(d) = self.device.as_mut() {
            if d.running {
                let frames = (d.rate as u64 * STEP.as_millis() as u64 / 1000) as usize;
                let ch = d.channels as usize;
                let avail = d.queue.len() / ch;
                let n = frames.min(avail);
                d.output.extend(d.queue.drain(..n * ch).map(|s| s * d.gain));
                d.played += n as u64;
                if n < frames {
                    d.underruns += 1;
                }
            }
            let (epoch, played) = (d.epoch, d.played);
            self.send(HostEvent::AudioProgress {
                epoch,
                frames_played: played,
            });
        }
        if self.wake.is_some_and(|w| w <= self.now) {
            self.wake = None;
        }
        self.send(HostEvent::Tick);
    }

    /// Steps for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.step();
        }
    }

    /// Steps until `done` holds or `limit` of virtual time passes; returns whether it held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&SimHost) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    /// True if the player emitted an event matching `f`.
    pub fn saw(&self, f: impl Fn(&PlayerEvent) -> bool) -> bool {
        self.events.iter().any(f)
    }

    /// The last error event, if any.
    pub fn last_error(&self) -> Option<&crate::Error> {
        self.events.iter().rev().find_map(|e| {
            if let PlayerEvent::Error(err) = e {
                Some(err)
            } else {
                None
            }
        })
    }

    /// Samples the device has played (interleaved, gain applied).
    pub fn played(&self) -> &[f32] {
        self.device
            .as_ref()
            .map(|d| d.output.as_slice())
            .unwrap_or(&[])
    }
}

/// A whole scenario driven by arbitrary bytes, for fuzzing and malformed-input tests: the
/// first bytes are a script of app requests, the rest is the served file. Returns `Err` when
/// the player ends up unusable (a good file no longer loads after the scenario).
pub fn fuzz_scenario(data: &[u8]) -> Result<(), String> {
    let split = data.len().min(12);
    let (script, file) = data.split_at(split);
    let mut host = SimHost::new(
        PlayerConfig {
            chunk_bytes: 64 * 1024,
            ..PlayerConfig::default()
        },
        44_100,
    );
    host.bytes_per_step = 16 * 1024;
    host.add("fuzz.bin", file.to_vec());
    host.app(AppRequest::Load {
        url: "fuzz.bin".into(),
    });
    for &op in script {
        match op % 8 {
            0 => host.app(AppRequest::Play),
            1 => host.app(AppRequest::Pause),
            2 => host.app(AppRequest::Seek {
                mode: SeekMode::Exact,
                position: f64::from(op) / 8.0,
            }),
            3 => host.app(AppRequest::SetRate(0.25 + f64::from(op % 16) / 4.0)),
            4 => host.app(AppRequest::Seek {
                position: f64::MAX,
                mode: SeekMode::Fast,
            }),
            5 => host.app(AppRequest::SetLoop(op & 16 != 0)),
            6 if op & 8 != 0 => host.app(AppRequest::Suspend),
            6 => host.app(AppRequest::Resume),
            _ => {
                // Remote keys with the on-screen controls on or off.
                use crate::input::Key;
                const KEYS: [Key; 16] = [
                    Key::Up,
                    Key::Down,
                    Key::Left,
                    Key::Right,
                    Key::Ok,
                    Key::Back,
                    Key::PlayPause,
                    Key::FastForward,
                    Key::Rewind,
                    Key::Subtitle,
                    Key::Audio,
                    Key::Info,
                    Key::Digit(7),
                    Key::Stop,
                    Key::Mute,
                    Key::Red,
                ];
                if op & 0x80 != 0 {
                    host.app(AppRequest::SetControls(op & 0x40 != 0));
                }
                host.press(KEYS[usize::from(op >> 3) % KEYS.len()]);
            }
        }
        host.run_for(Duration::from_millis(u64::from(op) * 4));
    }
    host.run_for(Duration::from_secs(2));
    // The player must stay usable: a good file loads afterwards.
    host.add("good.wav", tiny_wav());
    host.app(AppRequest::Load {
        url: "good.wav".into(),
    });
    let ok = host.run_until(Duration::from_secs(3), |h| h.player.media_info().is_some());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a good file did not load after the scenario: {:?}",
            host.player.state()
        ))
    }
}

/// 0.1 s of 16-bit stereo silence at 44.1 kHz as a WAV file.
fn tiny_wav() -> Vec<u8> {
    stereo_wav(44_100, &[0; 4410 * 2])
}

/// A 16-bit PCM stereo WAV file at `rate` from interleaved samples (for tests).
pub fn stereo_wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut v = Vec::with_capacity(44 + data_len as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&2u16.to_le_bytes()); // channels
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 4).to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes()); // block align
    v.extend_from_slice(&16u16.to_le_bytes()); // bits
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}
