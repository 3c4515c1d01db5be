//! The player state machine: turns host events into host commands.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::audio::decoder::{extension_hint, AudioSource, Stall, Step};
use crate::audio::mix::remix;
use crate::audio::resample::RateConverter;
use crate::clock::Clock;
use crate::error::{Error, ErrorKind};
use crate::host::{AppRequest, HostCommand, HostEvent, MediaInfo, PlayerEvent};
use crate::input::{Action, InputEvent, KeyMap};
use crate::source::cache::{lock, ByteCache, SharedCache};
use crate::source::loader::{Loader, LoaderConfig};
use crate::state::PlaybackState;

/// Tunables of a player; hosts pick values per device profile.
#[derive(Debug, Clone)]
pub struct PlayerConfig {
    /// Size of each ranged fetch.
    pub chunk_bytes: u64,
    /// How far ahead of the read position to fetch.
    pub forward_buffer_bytes: u64,
    /// Most bytes of the resource kept in memory at once.
    pub cache_budget_bytes: u64,
    /// Seconds of decoded audio to keep queued on the device.
    pub audio_ahead_secs: f64,
    /// Seconds of audio queued before playback starts or resumes after a stall.
    pub start_secs: f64,
    /// Consecutive failed fetches tolerated before the load fails.
    pub max_retries: u32,
    /// A fetch that delivers nothing for this long is retried.
    pub stall_timeout: Duration,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        PlayerConfig {
            chunk_bytes: 512 * 1024,
            forward_buffer_bytes: 8 * 1024 * 1024,
            cache_budget_bytes: 64 * 1024 * 1024,
            audio_ahead_secs: 0.5,
            start_secs: 0.2,
            max_retries: 3,
            stall_timeout: Duration::from_secs(10),
        }
    }
}

/// Interval between `TimeUpdate` events while playing, and the wake-up period.
const TIME_UPDATE: Duration = Duration::from_millis(250);
const REFILL: Duration = Duration::from_millis(50);
/// Most demuxer steps in one call, so a call never runs long.
const MAX_STEPS: usize = 256;
/// Contiguous bytes at a blocked offset before the blocked operation is retried.
const RETRY_BYTES: u64 = 128 * 1024;
/// Virtual device rate when the host has no audio output.
const VIRTUAL_RATE: u32 = 48_000;

/// What the source needs done before it can decode.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pending {
    /// Nothing: decode.
    None,
    /// Probe the source (first open).
    Open,
    /// Re-open after a read failed mid-packet and continue at this frame.
    Reopen(i64),
    /// Position the decoder at this frame (seek or rate change).
    Seek(i64),
}

/// One loaded resource.
struct Session {
    ext: Option<String>,
    cache: SharedCache,
    loader: Loader,
    source: Option<AudioSource>,
    pending: Pending,
    need: Option<u64>,
    converter: Option<RateConverter>,
    decoded: Vec<f32>,
    mixed: Vec<f32>,
    converted: Vec<f32>,
    eos: bool,
    last_frame: i64,
}

/// Where the audio device stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Device {
    Waiting,
    Ready { rate: u32, channels: u16 },
    Virtual,
}

/// The playback core. See [`crate::host`] for the protocol.
pub struct Player {
    config: PlayerConfig,
    out: VecDeque<HostCommand>,
    scratch: Vec<HostCommand>,
    state: PlaybackState,
    keys: KeyMap,
    info: Option<MediaInfo>,
    error: Option<Error>,
    session: Option<Session>,
    device: Device,
    clock: Clock,
    next_request: u64,
    wants_play: bool,
    seeking: Option<f64>,
    position: f64,
    volume: f64,
    muted: bool,
    rate: f64,
    looping: bool,
    last_time_update: Option<Duration>,
    wake_at: Option<Duration>,
    now: Duration,
}

impl Player {
    /// A player with nothing loaded.
    pub fn new(config: PlayerConfig) -> Self {
        Player {
            config,
            out: VecDeque::new(),
            scratch: Vec::new(),
            state: PlaybackState::Idle,
            keys: KeyMap::default(),
            info: None,
            error: None,
            session: None,
            device: Device::Waiting,
            clock: Clock::new(VIRTUAL_RATE, true),
            next_request: 1,
            wants_play: false,
            seeking: None,
            position: 0.0,
            volume: 1.0,
            muted: false,
            rate: 1.0,
            looping: false,
            last_time_update: None,
            wake_at: None,
            now: Duration::ZERO,
        }
    }

    /// Feeds one event that happened at host time `now`, then does whatever is due.
    pub fn handle(&mut self, now: Duration, event: HostEvent) {
        self.now = self.now.max(now);
        let now = self.now;
        match event {
            HostEvent::App(request) => self.on_app(now, request),
            HostEvent::Tick => {}
            HostEvent::AudioDeviceReady {
                sample_rate,
                channels,
            } => {
                let rate = sample_rate.clamp(8_000, 384_000);
                self.device = Device::Ready {
                    rate,
                    channels: channels.clamp(1, 8),
                };
                self.clock = Clock::new(rate, false);
                self.restart_output(now);
            }
            HostEvent::AudioDeviceUnavailable { .. } => {
                self.device = Device::Virtual;
                self.clock = Clock::new(VIRTUAL_RATE, true);
                self.restart_output(now);
            }
            HostEvent::AudioProgress {
                epoch,
                frames_played,
            } => {
                self.clock.progress(now, epoch, frames_played);
            }
            HostEvent::FetchResponse {
                request,
                status,
                content_length,
                content_range,
            } => {
                if let Some(s) = self.session.as_mut() {
                    let r = s.loader.on_response(
                        now,
                        request,
                        status,
                        content_length,
                        content_range.as_deref(),
                    );
                    self.check(r);
                }
            }
            HostEvent::FetchData { request, data } => {
                if let Some(s) = self.session.as_mut() {
                    s.loader.on_data(now, request, &data);
                }
            }
            HostEvent::FetchEnd { request } => {
                if let Some(s) = self.session.as_mut() {
                    let r = s.loader.on_end(now, request);
                    let (buffered_bytes, total_bytes) = {
                        let cache = lock(&s.cache);
                        (cache.contiguous_from(cache.read_pos()), cache.total())
                    };
                    self.emit(PlayerEvent::Progress {
                        buffered_bytes,
                        total_bytes,
                    });
                    self.check(r);
                }
            }
            HostEvent::FetchFailed {
                request,
                kind,
                message,
            } => {
                if let Some(s) = self.session.as_mut() {
                    let r = s.loader.on_failed(now, request, kind, &message);
                    self.check(r);
                }
            }
            HostEvent::Input(input) => self.on_input(now, input),
        }
        self.advance(now);
    }

    /// The next command for the host, in order; `None` when all are drained.
    pub fn poll_command(&mut self) -> Option<HostCommand> {
        self.out.pop_front()
    }

    /// Current playback state.
    pub fn state(&self) -> PlaybackState {
        self.state
    }

    /// Playback position in seconds as of the last `handle` call.
    pub fn current_time(&self) -> f64 {
        self.position
    }

    /// Playback position in seconds at host time `now`: between events the clock is
    /// extrapolated (at most 0.2 s past the last device report), so getters stay smooth even
    /// when the host's ticks run late.
    pub fn current_time_at(&self, now: Duration) -> f64 {
        if self.state != PlaybackState::Playing || self.seeking.is_some() {
            return self.position;
        }
        let pos = self.clock.peek(now.max(self.now)).max(self.position);
        match self.duration() {
            Some(d) => pos.min(d),
            None => pos,
        }
    }

    /// Duration in seconds, when known.
    pub fn duration(&self) -> Option<f64> {
        self.info.as_ref().and_then(|i| i.duration)
    }

    /// True unless the app asked to play (mirrors `HTMLMediaElement.paused`).
    pub fn paused(&self) -> bool {
        !self.wants_play
    }

    /// Linear volume in `[0, 1]`.
    pub fn volume(&self) -> f64 {
        self.volume
    }

    /// Whether output is muted.
    pub fn muted(&self) -> bool {
        self.muted
    }

    /// Playback rate.
    pub fn playback_rate(&self) -> f64 {
        self.rate
    }

    /// Whether playback loops at the end.
    pub fn looping(&self) -> bool {
        self.looping
    }

    /// True while a seek is in progress.
    pub fn seeking(&self) -> bool {
        self.seeking.is_some()
    }

    /// What the probe found, once metadata is loaded.
    pub fn media_info(&self) -> Option<&MediaInfo> {
        self.info.as_ref()
    }

    /// The last error reported, if the player is in the error state.
    pub fn last_error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The key → action map, for apps that remap keys.
    pub fn key_map_mut(&mut self) -> &mut KeyMap {
        &mut self.keys
    }

    fn emit(&mut self, event: PlayerEvent) {
        self.out.push_back(HostCommand::Emit(event));
    }

    fn set_state(&mut self, state: PlaybackState) {
        if self.state != state {
            self.state = state;
            self.emit(PlayerEvent::StateChanged(state));
        }
    }

    fn check(&mut self, result: Result<(), Error>) {
        if let Err(e) = result {
            self.fail(e);
        }
    }

    fn fail(&mut self, error: Error) {
        if let Some(mut s) = self.session.take() {
            s.loader.cancel(&mut self.scratch);
            self.out.extend(self.scratch.drain(..));
        }
        self.flush_output(self.position);
        self.seeking = None;
        self.error = Some(error.clone());
        self.set_state(PlaybackState::Error);
        self.emit(PlayerEvent::Error(error));
    }

    fn on_app(&mut self, now: Duration, request: AppRequest) {
        match request {
            AppRequest::Load { url } => self.load(now, url),
            AppRequest::Play => self.play(),
            AppRequest::Pause => self.pause(now),
            AppRequest::Seek { position } => self.seek(now, position),
            AppRequest::SetVolume(v) => {
                self.volume = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    self.volume
                };
                self.volume_changed();
            }
            AppRequest::SetMuted(m) => {
                self.muted = m;
                self.volume_changed();
            }
            AppRequest::SetRate(r) => {
                let r = if r.is_finite() {
                    r.clamp(0.25, 4.0)
                } else {
                    1.0
                };
                if r != self.rate {
                    self.rate = r;
                    self.emit(PlayerEvent::RateChanged(r));
                    if self.session.is_some() {
                        // A new epoch at the new rate, exactly where the clock is now.
                        self.reposition(now, self.position);
                    }
                }
            }
            AppRequest::SetLoop(l) => self.looping = l,
            AppRequest::Unload => {
                self.teardown();
                self.info = None;
                self.error = None;
                self.position = 0.0;
                self.wants_play = false;
                self.set_state(PlaybackState::Idle);
            }
        }
    }

    fn on_input(&mut self, now: Duration, input: InputEvent) {
        let InputEvent::KeyDown { key, .. } = input else {
            return;
        };
        let Some(action) = self.keys.action(key) else {
            return;
        };
        match action {
            Action::TogglePlay if self.wants_play => self.pause(now),
            Action::TogglePlay | Action::Play => self.play(),
            Action::Pause => self.pause(now),
            Action::SeekBy(delta) => {
                let base = self.seeking.unwrap_or(self.position);
                self.seek(now, base + delta);
            }
            Action::VolumeBy(delta) => {
                self.volume = (self.volume + delta).clamp(0.0, 1.0);
                self.volume_changed();
            }
            Action::ToggleMute => {
                self.muted = !self.muted;
                self.volume_changed();
            }
            Action::Stop => {
                self.pause(now);
                self.seek(now, 0.0);
            }
        }
    }

    fn volume_changed(&mut self) {
        let gain = if self.muted { 0.0 } else { self.volume as f32 };
        self.out.push_back(HostCommand::SetAudioGain(gain));
        self.emit(PlayerEvent::VolumeChanged {
            volume: self.volume,
            muted: self.muted,
        });
    }

    fn teardown(&mut self) {
        if let Some(mut s) = self.session.take() {
            s.loader.cancel(&mut self.scratch);
            self.out.extend(self.scratch.drain(..));
        }
        self.seeking = None;
        self.flush_output(0.0);
    }

    fn load(&mut self, now: Duration, url: String) {
        self.teardown();
        self.info = None;
        self.error = None;
        self.position = 0.0;
        self.last_time_update = None;
        let cache: SharedCache =
            Arc::new(Mutex::new(ByteCache::new(self.config.cache_budget_bytes)));
        let loader = Loader::new(
            url.clone(),
            cache.clone(),
            LoaderConfig {
                chunk_bytes: self.config.chunk_bytes.max(64 * 1024),
                forward_bytes: self.config.forward_buffer_bytes,
                max_retries: self.config.max_retries,
                stall_timeout: self.config.stall_timeout,
                ..LoaderConfig::default()
            },
        );
        self.session = Some(Session {
            ext: extension_hint(&url),
            cache,
            loader,
            source: None,
            pending: Pending::Open,
            need: Some(0),
            converter: None,
            decoded: Vec::new(),
            mixed: Vec::new(),
            converted: Vec::new(),
            eos: false,
            last_frame: 0,
        });
        self.emit(PlayerEvent::LoadStart { url });
        self.set_state(PlaybackState::Loading);
        let _ = now;
    }

    fn play(&mut self) {
        match self.state {
            PlaybackState::Idle | PlaybackState::Error => {
                // Nothing to play; remember the wish (a later load autoplays), like `<video>`.
                self.wants_play = true;
                return;
            }
            PlaybackState::Ended => {
                self.wants_play = true;
                self.emit(PlayerEvent::Play);
                self.reposition(self.now, 0.0);
                return;
            }
            _ => {}
        }
        if !self.wants_play {
            self.wants_play = true;
            self.emit(PlayerEvent::Play);
        }
    }

    fn pause(&mut self, now: Duration) {
        if self.wants_play {
            self.wants_play = false;
            self.position = self.clock_position(now);
            self.emit(PlayerEvent::Pause);
            self.emit(PlayerEvent::TimeUpdate(self.position));
        }
    }

    fn seek(&mut self, now: Duration, target: f64) {
        if self.session.is_none()
            || matches!(self.state, PlaybackState::Loading) && self.info.is_none()
        {
            return;
        }
        let mut target = if target.is_finite() {
            target.max(0.0)
        } else {
            0.0
        };
        if let Some(d) = self.duration() {
            target = target.min(d);
        }
        self.seeking = Some(target);
        self.emit(PlayerEvent::Seeking(target));
        self.reposition(now, target);
    }

    /// Drops queued audio and positions the decoder at `target` (seek, rate change, restart).
    fn reposition(&mut self, now: Duration, target: f64) {
        self.position = target;
        self.flush_output(target);
        if let Some(s) = self.session.as_mut() {
            s.eos = false;
            // Rebuilt at the next decode with the current device rate and playback rate.
            s.converter = None;
            if let Some(src) = s.source.as_ref() {
                let frame = (target * src.rate() as f64).round() as i64;
                s.pending = Pending::Seek(frame);
                s.need = None;
            }
        }
        if self.state == PlaybackState::Ended || self.state == PlaybackState::Playing {
            self.set_state(if self.wants_play {
                PlaybackState::Buffering
            } else {
                PlaybackState::Paused
            });
        }
        let _ = now;
    }

    /// Starts a new device epoch at media time `at`.
    fn flush_output(&mut self, at: f64) {
        let epoch = self.clock.flush(at, self.rate);
        self.clock.set_running(self.now, false);
        if !self.clock.is_virtual() || self.device != Device::Waiting {
            self.out.push_back(HostCommand::PauseAudio);
            self.out.push_back(HostCommand::FlushAudio { epoch });
        }
    }

    /// The device changed: queue again from the current position.
    fn restart_output(&mut self, now: Duration) {
        let at = self.position;
        if let Some(s) = self.session.as_mut() {
            s.converter = None;
        }
        let loaded = self.session.as_ref().is_some_and(|s| s.source.is_some());
        if loaded {
            self.reposition(now, at);
        } else {
            self.flush_output(at);
        }
    }

    fn clock_position(&mut self, now: Duration) -> f64 {
        if self.seeking.is_some() || self.session.as_ref().is_none_or(|s| s.source.is_none()) {
            return self.position;
        }
        let pos = self.clock.position(now);
        match self.duration() {
            Some(d) => pos.min(d),
            None => pos,
        }
    }

    fn device_format(&self) -> Option<(u32, usize)> {
        match self.device {
            Device::Ready { rate, channels } => Some((rate, channels as usize)),
            Device::Virtual => Some((VIRTUAL_RATE, 2)),
            Device::Waiting => None,
        }
    }

    /// Runs the source: blocked operations, decoding ahead, fetching; then the state machine.
    fn advance(&mut self, now: Duration) {
        self.clock.tick(now);
        if let Err(e) = self.run_source(now) {
            self.fail(e);
        }
        self.update_state(now);
        self.schedule(now);
    }

    fn run_source(&mut self, now: Duration) -> Result<(), Error> {
        let format = self.device_format();
        let target_ahead = self.config.audio_ahead_secs;
        let Some(s) = self.session.as_mut() else {
            return Ok(());
        };
        let mut steps = 0;
        while steps < MAX_STEPS {
            steps += 1;
            if let Some(at) = s.need {
                let cache = lock(&s.cache);
                let ready = cache.contiguous_from(at) >= RETRY_BYTES
                    || cache.complete_from(at)
                    || (!s.loader.busy() && cache.contiguous_from(at) > 0);
                drop(cache);
                if !ready {
                    break;
                }
                s.need = None;
            }
            let result = match s.pending {
                Pending::Open => match AudioSource::open(&s.cache, s.ext.as_deref()) {
                    Ok(src) => {
                        let info = src.info().clone();
                        s.source = Some(src);
                        s.pending = Pending::None;
                        self.info = Some(info.clone());
                        self.out
                            .push_back(HostCommand::Emit(PlayerEvent::LoadedMetadata(
                                info.clone(),
                            )));
                        if let Some(d) = info.duration {
                            self.out
                                .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(d)));
                        }
                        if self.state == PlaybackState::Loading {
                            self.state = PlaybackState::Paused;
                            self.out
                                .push_back(HostCommand::Emit(PlayerEvent::StateChanged(
                                    self.state,
                                )));
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Pending::Reopen(frame) | Pending::Seek(frame) => {
                    let reopen = matches!(s.pending, Pending::Reopen(_))
                        || s.source.as_ref().is_none_or(|src| src.is_broken());
                    let opened = if reopen {
                        AudioSource::open(&s.cache, s.ext.as_deref())
                            .map(|src| s.source = Some(src))
                    } else {
                        Ok(())
                    };
                    match (opened, s.source.as_mut()) {
                        (Ok(()), Some(src)) => src.seek(frame).map(|()| {
                            s.pending = Pending::None;
                            s.last_frame = frame;
                        }),
                        (Err(e), _) => Err(e),
                        (Ok(()), None) => Ok(()),
                    }
                }
                Pending::None => {
                    let Some((dev_rate, dev_channels)) = format else {
                        break;
                    };
                    let Some(src) = s.source.as_mut() else { break };
                    if s.eos || self.clock.ahead_secs() >= target_ahead {
                        break;
                    }
                    if s.converter.is_none() {
                        let ratio = dev_rate as f64 / (src.rate() as f64 * self.rate);
                        s.converter =
                            Some(RateConverter::new(dev_channels, ratio).map_err(|e| {
                                Error::new(ErrorKind::Unsupported, format!("resampler: {e}"))
                            })?);
                    }
                    s.decoded.clear();
                    match src.decode(&mut s.decoded) {
                        Ok(step) => {
                            let channels = src.channels();
                            s.last_frame = src.position();
                            s.mixed.clear();
                            remix(&s.decoded, channels, dev_channels, &mut s.mixed);
                            s.converted.clear();
                            if let Some(c) = s.converter.as_mut() {
                                c.process(&s.mixed, &mut s.converted);
                                if step == Step::End {
                                    c.flush(&mut s.converted);
                                    s.eos = true;
                                }
                            }
                            let frames = s.converted.len() / dev_channels;
                            if frames > 0 {
                                self.clock.queued(frames as u64);
                                self.out.push_back(HostCommand::QueueAudio {
                                    epoch: self.clock.epoch(),
                                    samples: std::mem::take(&mut s.converted),
                                });
                            }
                            if s.eos && self.seeking.is_none() {
                                if let Some(info) = self.info.as_mut() {
                                    if info.duration.is_none() {
                                        let d =
                                            s.last_frame.max(0) as f64 / info.sample_rate as f64;
                                        info.duration = Some(d);
                                        self.out.push_back(HostCommand::Emit(
                                            PlayerEvent::DurationChanged(d),
                                        ));
                                    }
                                }
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match result {
                Ok(()) => {}
                Err(Stall::NeedBytes(at)) => {
                    s.need = Some(at);
                    if let (Pending::None, Some(src)) = (s.pending, s.source.as_ref()) {
                        if src.is_broken() {
                            s.pending = Pending::Reopen(src.position());
                        }
                    }
                }
                Err(Stall::Fatal(e)) => return Err(e),
            }
        }
        let (want, urgent) = match s.need {
            Some(at) => (at, true),
            None => (lock(&s.cache).read_pos(), false),
        };
        s.loader
            .poll(now, want, urgent, &mut self.next_request, &mut self.scratch)?;
        self.out.extend(self.scratch.drain(..));
        Ok(())
    }

    /// Moves between paused, buffering, playing and ended from what the clock and source say.
    fn update_state(&mut self, now: Duration) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        if s.source.is_none() || self.state == PlaybackState::Error {
            return;
        }
        let positioned = s.pending == Pending::None;
        let eos = s.eos;
        let ahead = self.clock.ahead_secs();
        let enough = positioned
            && (eos || ahead >= self.config.start_secs.min(self.config.audio_ahead_secs));
        if let Some(target) = self.seeking {
            if enough {
                self.seeking = None;
                self.position = target;
                self.emit(PlayerEvent::Seeked(target));
                self.emit(PlayerEvent::TimeUpdate(target));
            }
        }
        let ended = eos && self.clock.drained() && positioned && self.seeking.is_none();
        if self.wants_play {
            if ended {
                if self.looping {
                    self.reposition(now, 0.0);
                    return;
                }
                self.clock.set_running(now, false);
                self.out.push_back(HostCommand::PauseAudio);
                // Where the media really ended: a truncated file ends before its header's
                // duration, and the duration is corrected to match (as `<video>` does).
                let end = self.clock.position(now);
                self.position = end;
                if let Some(info) = self.info.as_mut() {
                    if info.duration.is_none_or(|d| (d - end).abs() > 0.05) {
                        info.duration = Some(end);
                        self.out
                            .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(end)));
                    }
                }
                self.wants_play = false;
                self.emit(PlayerEvent::TimeUpdate(self.position));
                self.emit(PlayerEvent::Pause);
                self.set_state(PlaybackState::Ended);
                self.emit(PlayerEvent::Ended);
                return;
            }
            let starved = self.clock.drained() && !eos;
            match self.state {
                PlaybackState::Playing if starved || self.seeking.is_some() => {
                    self.clock.set_running(now, false);
                    self.out.push_back(HostCommand::PauseAudio);
                    self.set_state(PlaybackState::Buffering);
                    self.emit(PlayerEvent::Waiting);
                }
                PlaybackState::Playing => {}
                _ if enough && self.seeking.is_none() => {
                    self.clock.set_running(now, true);
                    self.out.push_back(HostCommand::StartAudio);
                    self.set_state(PlaybackState::Playing);
                    self.emit(PlayerEvent::Playing);
                }
                PlaybackState::Paused | PlaybackState::Ended => {
                    self.set_state(PlaybackState::Buffering);
                    self.emit(PlayerEvent::Waiting);
                }
                _ => {}
            }
        } else {
            if self.clock.running() {
                self.clock.set_running(now, false);
                self.out.push_back(HostCommand::PauseAudio);
            }
            if matches!(
                self.state,
                PlaybackState::Playing | PlaybackState::Buffering
            ) {
                self.set_state(PlaybackState::Paused);
            }
        }
        if self.state == PlaybackState::Playing {
            self.position = self.clock_position(now);
            let due = self.last_time_update.is_none_or(|t| now >= t + TIME_UPDATE);
            if due {
                self.last_time_update = Some(now);
                self.emit(PlayerEvent::TimeUpdate(self.position));
            }
        }
    }

    /// Asks for the next wake-up: while anything moves, soon; otherwise at the loader's deadline.
    fn schedule(&mut self, now: Duration) {
        let active = matches!(
            self.state,
            PlaybackState::Playing | PlaybackState::Buffering
        ) || self.seeking.is_some();
        let mut at = active.then_some(now + REFILL);
        if let Some(s) = self.session.as_ref() {
            if let Some(d) = s.loader.deadline() {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if s.need.is_none() && s.pending != Pending::None && s.source.is_some() {
                at = Some(now);
            }
        }
        if let Some(at) = at {
            if self.wake_at != Some(at) {
                self.wake_at = Some(at);
                self.out.push_back(HostCommand::WakeAt { at });
            }
        }
    }
}
