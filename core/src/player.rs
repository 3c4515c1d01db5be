//! The player state machine: turns host events into host commands.
//!
//! Each [`Player::handle`] routes the event to its owner (fetch events through the
//! [`RequestService`], decoder events to the video pipe or the platform audio, keys to the
//! controls when they are on, then the [`KeyMap`]), then runs the session: feed the pipelines,
//! queue audio, present pictures, update subtitles and controls, and leave one `WakeAt` for the
//! next due thing. Commands wait in a queue for [`Player::poll_command`].
//!
//! # States
//! `Idle → Loading → Paused ⇄ Playing ⇄ Buffering → Ended`, `Error` from anywhere, `load`
//! from any state ([`PlaybackState`]). `Buffering` means "wants to play, waiting" (start-up,
//! after a seek, on underrun, or when an adaptive stream's video runs dry while its separate
//! audio still plays); playback (re)starts once [`PlayerConfig::start_secs`] of audio is
//! queued or the source has ended. `paused` is the app's wish, as in `HTMLMediaElement`.
//!
//! # Opening a source
//! A load starts as a progressive file (`crate::source`). Its first bytes are sniffed: a
//! manifest (`#EXTM3U`, `<MPD`, whatever the URL) hands over to an
//! [`AdaptiveSource`]; MP4 and WebM go to the core's demuxers ([`crate::demux`]), with the
//! video pipe and, for audio the core does not decode itself (Opus, Vorbis, AAC in fragmented
//! MP4), the host's decoder (`crate::audio::platform`); other files, and audio-only MP4 with
//! AAC/MP3/FLAC, play through symphonia (`crate::audio::decoder`). A file without audio plays
//! silence, so one clock drives every case.
//!
//! # Seeks and rate changes
//! A seek (or rate change) starts a new audio *epoch* (`FlushAudio`): the decoder lands on
//! the exact target frame (pre-roll for lossy codecs), and device progress of an older epoch
//! is ignored, so there is no race with the device ([`crate::clock`]). Video restarts with a
//! new decoder generation from the keyframe at or before the target: an exact seek releases
//! the pictures before it as they arrive (and skips H.264 non-reference pictures), a fast one
//! moves the target to the keyframe. `Seeked` waits until a picture at the target is there.
//!
//! # Lifecycle
//! `Suspend` remembers what a reload needs (URL, position, play state, track and quality
//! choices, side-loaded tracks) and tears the session down; `Resume` reloads, starts at the
//! position (inside the DVR window when live) and restores the choices once the source is
//! open. `SetMemoryBudget` sets the byte budgets of the next load
//! ([`PlayerConfig::with_memory_budget`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::adaptive::source::{
    sniff_manifest, AdaptiveSource, StreamConfig, StreamStats, TrackChoice,
};
use crate::audio::decoder::{extension_hint, AudioSource, Stall};
use crate::audio::pipeline::{Audio, AudioPipeline, Pumped};
use crate::audio::platform::{PlatformAudio, Silence};
use crate::clock::Clock;
use crate::controls::{Choices, ControlTarget, Controls, Handled, UiAction};
use crate::demux::{self, ByteSource, Demux, DemuxError, Sniffed, TrackKind};
use crate::error::{Error, ErrorKind};
use crate::host::{
    AppRequest, AudioDecoderConfig, HostCommand, HostEvent, MediaInfo, PlayerEvent, SeekMode,
};
use crate::input::{Action, InputEvent, Key, KeyMap};
use crate::net::{Owner, RequestService, RetryPolicy};
use crate::source::cache::{lock, ByteCache, SharedCache};
use crate::source::loader::{Loader, LoaderConfig};
use crate::state::PlaybackState;
use crate::subtitles::{SubtitleCue, Subtitles, TextTrackInfo};
use crate::video::{VideoPipe, VideoStats};

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
    /// Attempts, backoff and timeouts of every fetch, per request kind (files, manifests,
    /// playlists, segments, text…).
    pub retry: RetryPolicy,
    /// Budgets and ABR of adaptive (HLS/DASH) streams.
    pub stream: StreamConfig,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        PlayerConfig {
            chunk_bytes: 512 * 1024,
            forward_buffer_bytes: 8 * 1024 * 1024,
            cache_budget_bytes: 64 * 1024 * 1024,
            audio_ahead_secs: 0.5,
            start_secs: 0.2,
            retry: RetryPolicy::default(),
            stream: StreamConfig::default(),
        }
    }
}

impl PlayerConfig {
    /// Byte budgets for a device with `budget` bytes of memory for media (`None`: the
    /// defaults). Encoded bytes get 60 % (file cache, or segment buffer of a stream), the
    /// read-ahead of a file an eighth; the rest is headroom for demuxed samples, decoded audio
    /// and the platform's pictures. At least 8 MiB.
    pub fn with_memory_budget(mut self, budget: Option<u64>) -> Self {
        let d = PlayerConfig::default();
        match budget {
            None => {
                self.cache_budget_bytes = d.cache_budget_bytes;
                self.forward_buffer_bytes = d.forward_buffer_bytes;
                self.stream.buffer_bytes = d.stream.buffer_bytes;
            }
            Some(b) => {
                let b = b.max(8 << 20);
                let encoded = b / 10 * 6;
                self.cache_budget_bytes = encoded;
                self.forward_buffer_bytes = (b / 8).min(d.forward_buffer_bytes);
                self.stream.buffer_bytes = usize::try_from(encoded).unwrap_or(usize::MAX);
            }
        }
        self
    }
}

/// What a suspended session needs to come back ([`AppRequest::Suspend`]).
#[derive(Debug, Clone)]
struct ResumePoint {
    url: String,
    position: f64,
    play: bool,
    audio: Option<usize>,
    text: Option<String>,
    quality: Option<usize>,
    added: Vec<AppRequest>,
    /// The reloaded source has its metadata: selections can be restored.
    opened: bool,
}

/// Interval between `TimeUpdate` events while playing, and the wake-up period.
const TIME_UPDATE: Duration = Duration::from_millis(250);
const REFILL: Duration = Duration::from_millis(50);
/// An adaptive stream's video counts as run dry once the clock is this far past the end of
/// the last picture and no decoded picture is queued.
const VIDEO_STARVED_US: i64 = 100_000;
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
    url: String,
    ext: Option<String>,
    cache: SharedCache,
    loader: Loader,
    source: Option<Audio>,
    /// The container demuxer, for sources with video or platform-decoded audio.
    demux: Option<Box<dyn Demux + Send>>,
    video: Option<VideoPipe>,
    /// Bytes the video or platform-audio feeder waits for.
    feed_need: Option<u64>,
    /// Quality choices made before the manifest was in (manual level, height cap): applied
    /// when the adaptive source opens.
    early_quality: Option<Option<usize>>,
    early_max_height: Option<Option<u32>>,
    pending: Pending,
    need: Option<u64>,
    /// Decoded audio on its way to the device (remix, resample, padding, end of stream).
    out: AudioPipeline,
    last_frame: i64,
    /// An HLS/DASH stream: segments, ABR and live refresh (the loader only fetched the
    /// manifest).
    adaptive: Option<AdaptiveSource>,
    /// The audio track changed: rebuild the audio pipeline once the new track's first segment
    /// is parsed.
    audio_switch: bool,
    /// A live stream just opened: playback moves here (hold-back behind the live edge) before
    /// it starts.
    live_start: Option<f64>,
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
    /// Every fetch: ids, owners, timeouts, the retry policy.
    net: RequestService,
    wants_play: bool,
    /// Chunks the host's video decoder holds (`HostEvent::VideoDecoderDepth`).
    video_depth: Option<u32>,
    seeking: Option<f64>,
    position: f64,
    volume: f64,
    muted: bool,
    rate: f64,
    looping: bool,
    last_time_update: Option<Duration>,
    wake_at: Option<Duration>,
    now: Duration,
    /// Last decoder generations used, so a new load never reuses one.
    video_generation: u32,
    audio_generation: u32,
    /// The host's wall clock: (host time, ms since the epoch) of its last report.
    wall: Option<(Duration, i64)>,
    /// Text tracks of the loaded source.
    subs: Subtitles,
    /// Text tracks the app added to this load (replayed on resume).
    added: Vec<AppRequest>,
    /// The on-screen controls' model.
    controls: Controls,
    /// Set while suspended.
    suspended: Option<ResumePoint>,
    /// A resume in progress: applied once the reloaded source opens.
    restore: Option<ResumePoint>,
    /// The device's memory budget, bytes.
    memory_budget: Option<u64>,
}

impl Player {
    /// A player with nothing loaded.
    pub fn new(config: PlayerConfig) -> Self {
        Player {
            net: RequestService::new(config.retry.clone()),
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
            wants_play: false,
            video_depth: None,
            seeking: None,
            position: 0.0,
            volume: 1.0,
            muted: false,
            rate: 1.0,
            looping: false,
            last_time_update: None,
            wake_at: None,
            now: Duration::ZERO,
            video_generation: 0,
            audio_generation: 0,
            wall: None,
            subs: Subtitles::new(),
            added: Vec::new(),
            controls: Controls::default(),
            suspended: None,
            restore: None,
            memory_budget: None,
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
            HostEvent::FetchResponse { .. }
            | HostEvent::FetchData { .. }
            | HostEvent::FetchEnd { .. }
            | HostEvent::FetchFailed { .. } => {
                if let Some(owner) = self.net.route(now, &event) {
                    self.on_fetch(now, owner, event);
                }
            }
            HostEvent::Input(input) => self.on_input(now, input),
            HostEvent::WallClock { unix_ms } => {
                self.wall = Some((now, unix_ms));
                if let Some(a) = self.session.as_mut().and_then(|s| s.adaptive.as_mut()) {
                    a.set_wall_clock(now, unix_ms);
                }
            }
            HostEvent::VideoFrameDecoded {
                generation,
                frame,
                timestamp_us,
                duration_us,
                ..
            } => match self.session.as_mut().and_then(|s| s.video.as_mut()) {
                Some(v) => v.on_frame(
                    generation,
                    frame,
                    timestamp_us,
                    duration_us,
                    &mut self.scratch,
                ),
                // Nothing wants it (unloaded): hand it back at once.
                None => self.scratch.push(HostCommand::ReleaseFrame { frame }),
            },
            HostEvent::VideoDecoderFlushed { generation } => {
                if let Some(v) = self.session.as_mut().and_then(|s| s.video.as_mut()) {
                    v.on_flushed(generation);
                }
            }
            HostEvent::VideoDecoderError {
                generation,
                unsupported,
                message,
            } => {
                let clock_us = (self.position * 1e6) as i64;
                if let Some(v) = self.session.as_mut().and_then(|s| s.video.as_mut()) {
                    let r = v.on_error(
                        generation,
                        unsupported,
                        &message,
                        clock_us,
                        &mut self.scratch,
                    );
                    self.out.extend(self.scratch.drain(..));
                    self.check(r);
                }
            }
            HostEvent::AudioDecoded {
                generation,
                timestamp_us,
                sample_rate,
                channels,
                samples,
            } => {
                if let Some(Audio::Platform(a)) =
                    self.session.as_mut().and_then(|s| s.source.as_mut())
                {
                    a.on_decoded(generation, timestamp_us, sample_rate, channels, samples);
                }
            }
            HostEvent::AudioDecoderFlushed { generation } => {
                if let Some(Audio::Platform(a)) =
                    self.session.as_mut().and_then(|s| s.source.as_mut())
                {
                    a.on_flushed(generation);
                }
            }
            HostEvent::AudioDecoderError {
                generation,
                unsupported,
                message,
            } => {
                if let Some(Audio::Platform(a)) =
                    self.session.as_mut().and_then(|s| s.source.as_mut())
                {
                    let r = a.on_error(generation, unsupported, &message);
                    self.check(r);
                }
            }
            HostEvent::VideoDecoderDepth { chunks } => self.video_depth = chunks,
        }
        self.out.extend(self.scratch.drain(..));
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

    /// Video pipeline counters, when the source has video.
    pub fn video_stats(&self) -> Option<VideoStats> {
        self.session
            .as_ref()
            .and_then(|s| s.video.as_ref())
            .map(|v| v.stats)
    }

    /// Adaptive-stream counters (quality, throughput, buffer), for HLS/DASH sources.
    pub fn stream_stats(&self) -> Option<StreamStats> {
        self.adaptive().map(AdaptiveSource::stats)
    }

    /// Quality levels of an adaptive stream, lowest first (empty otherwise).
    pub fn qualities(&self) -> Vec<TrackChoice> {
        self.adaptive()
            .map_or(Vec::new(), AdaptiveSource::qualities)
    }

    /// The quality fixed by hand, `None` for automatic selection.
    pub fn manual_quality(&self) -> Option<usize> {
        self.adaptive().and_then(AdaptiveSource::manual_quality)
    }

    /// Alternate audio tracks of an adaptive stream (empty when there are none).
    pub fn audio_tracks(&self) -> Vec<TrackChoice> {
        self.adaptive()
            .map_or(Vec::new(), AdaptiveSource::audio_tracks)
    }

    /// The audio track in use (index into [`Player::audio_tracks`]).
    pub fn audio_track(&self) -> Option<usize> {
        self.adaptive().and_then(AdaptiveSource::audio_track)
    }

    /// The seekable window of a live stream, seconds: (DVR window start, live edge). Seeks
    /// are clamped to it (see [`Player::seek_range`]).
    pub fn live_window(&self) -> Option<(f64, f64)> {
        self.adaptive().and_then(AdaptiveSource::live_window)
    }

    /// Text tracks of the loaded source: the manifest's WebVTT renditions, then side-loaded
    /// files in the order they were added.
    pub fn text_tracks(&self) -> Vec<TextTrackInfo> {
        self.subs.tracks()
    }

    /// The text track shown (index into [`Player::text_tracks`]), `None` when off.
    pub fn text_track(&self) -> Option<usize> {
        self.subs.selected()
    }

    /// The subtitle cues on screen now, with their layout.
    pub fn active_cues(&self) -> Vec<SubtitleCue> {
        self.subs.active()
    }

    /// True while the loaded stream is live (an HLS playlist without `EXT-X-ENDLIST`, a
    /// dynamic MPD): [`Player::duration`] is `None` then, and [`Player::live_window`] the
    /// seekable range. Turns false when the stream ends.
    pub fn is_live(&self) -> bool {
        self.adaptive().is_some_and(AdaptiveSource::is_live)
    }

    /// Where a seek to `target` seconds lands before keyframe snapping: inside the live
    /// window for a live stream (at most the live start point, hold-back behind the edge),
    /// inside `0..=duration` otherwise.
    pub fn seek_range(&self) -> Option<(f64, f64)> {
        if let Some(a) = self.adaptive().filter(|a| a.is_live()) {
            let (start, edge) = a.live_window()?;
            let live_point = a.live_point().unwrap_or(edge).clamp(start, edge);
            return Some((start, live_point));
        }
        self.duration().map(|d| (0.0, d))
    }

    fn adaptive(&self) -> Option<&AdaptiveSource> {
        self.session.as_ref().and_then(|s| s.adaptive.as_ref())
    }

    /// A fetch event, handed to the owner of its request (the one the request service named).
    fn on_fetch(&mut self, now: Duration, owner: Owner, event: HostEvent) {
        match owner {
            Owner::Text => self.on_text_fetch(now, event),
            Owner::Adaptive => {
                let net = &mut self.net;
                let Some(a) = self.session.as_mut().and_then(|s| s.adaptive.as_mut()) else {
                    return;
                };
                let r = match event {
                    HostEvent::FetchResponse {
                        request,
                        status,
                        content_length,
                        ..
                    } => a.on_response(now, net, request, status, content_length),
                    HostEvent::FetchData { request, data } => a.on_data(net, request, &data),
                    HostEvent::FetchEnd { request } => a.on_end(now, net, request),
                    HostEvent::FetchFailed {
                        request,
                        kind,
                        message,
                    } => a.on_failed(now, net, request, kind, &message),
                    _ => Ok(()),
                };
                self.check(r);
            }
            Owner::Progressive => {
                let net = &self.net;
                let Some(s) = self.session.as_mut() else {
                    return;
                };
                let r = match event {
                    HostEvent::FetchResponse {
                        request,
                        status,
                        content_length,
                        content_range,
                    } => s.loader.on_response(
                        now,
                        net,
                        request,
                        status,
                        content_length,
                        content_range.as_deref(),
                    ),
                    HostEvent::FetchData { request, data } => {
                        s.loader.on_data(request, &data);
                        Ok(())
                    }
                    HostEvent::FetchEnd { request } => {
                        let r = s.loader.on_end(now, net, request);
                        let (buffered_bytes, total_bytes) = {
                            let cache = lock(&s.cache);
                            (cache.contiguous_from(cache.read_pos()), cache.total())
                        };
                        self.out.push_back(HostCommand::Emit(PlayerEvent::Progress {
                            buffered_bytes,
                            total_bytes,
                        }));
                        r
                    }
                    HostEvent::FetchFailed {
                        request,
                        kind,
                        message,
                    } => s.loader.on_failed(now, net, request, kind, &message),
                    _ => Ok(()),
                };
                self.check(r);
            }
        }
    }

    /// A fetch event of the text tracks' request.
    fn on_text_fetch(&mut self, now: Duration, event: HostEvent) {
        let out = &mut self.scratch;
        match event {
            HostEvent::FetchResponse {
                request, status, ..
            } => self
                .subs
                .on_response(now, &mut self.net, request, status, out),
            HostEvent::FetchData { request, data } => {
                self.subs.on_data(&mut self.net, request, &data, out);
            }
            HostEvent::FetchEnd { request } => {
                let adaptive = self.session.as_ref().and_then(|s| s.adaptive.as_ref());
                let offset = |d: u64| adaptive.and_then(|a| a.demux.timestamp_offset(d));
                self.subs.on_end(now, &self.net, request, &offset, out);
            }
            HostEvent::FetchFailed {
                request,
                kind,
                message,
            } => self
                .subs
                .on_failed(now, &self.net, request, kind, &message, out),
            _ => {}
        }
    }

    /// True while suspended ([`AppRequest::Suspend`] until [`AppRequest::Resume`]).
    pub fn suspended(&self) -> bool {
        self.suspended.is_some()
    }

    /// The memory budget in effect ([`AppRequest::SetMemoryBudget`]; `None`: defaults).
    pub fn memory_budget(&self) -> Option<u64> {
        self.memory_budget
    }

    /// Whether the on-screen controls are on ([`AppRequest::SetControls`]).
    pub fn controls_enabled(&self) -> bool {
        self.controls.enabled()
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
        if let Some(s) = self.session.take() {
            self.close_session(s);
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
            AppRequest::Seek { position, mode } => self.seek(now, position, mode),
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
            AppRequest::SelectQuality(level) => {
                if let Some(s) = self.session.as_mut() {
                    match s.adaptive.as_mut() {
                        Some(a) => a.select_quality(level),
                        None => s.early_quality = Some(level),
                    }
                }
            }
            AppRequest::SetMaxVideoHeight(h) => {
                if let Some(s) = self.session.as_mut() {
                    match s.adaptive.as_mut() {
                        Some(a) => a.set_max_height(h),
                        None => s.early_max_height = Some(h),
                    }
                }
            }
            AppRequest::SelectAudioTrack(index) => self.select_audio(now, index),
            AppRequest::AddTextTrack {
                url,
                language,
                name,
                kind,
            } => {
                if self.session.is_some() {
                    self.added.push(AppRequest::AddTextTrack {
                        url: url.clone(),
                        language: language.clone(),
                        name: name.clone(),
                        kind,
                    });
                    self.subs
                        .add_file(url, language, name, kind, &mut self.scratch);
                }
            }
            AppRequest::SetControls(on) => self.controls.set_enabled(on),
            AppRequest::BindKey { key, action } => self.keys.bind(key, action),
            AppRequest::ControlsActivate(target) => self.on_pointer(now, target),
            AppRequest::ControlsPoke => self.controls.poke(now),
            AppRequest::Suspend => self.suspend(now),
            AppRequest::Resume => self.resume(now),
            AppRequest::SetMemoryBudget(b) => {
                self.memory_budget = b;
                self.config = self.config.clone().with_memory_budget(b);
            }
            AppRequest::SelectTextTrack(index) => {
                self.subs.select(index, &mut self.net, &mut self.scratch)
            }
            AppRequest::Unload => {
                self.suspended = None;
                self.restore = None;
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
        if self.controls.enabled() {
            let choices = self.choices();
            match self.controls.on_key(now, key, &choices) {
                Handled::Yes(Some(action)) => return self.ui_action(now, action),
                Handled::Yes(None) => return,
                Handled::No => {}
            }
        }
        let Some(action) = self.keys.action(key) else {
            self.emit(PlayerEvent::UnhandledKey(key));
            return;
        };
        self.key_action(now, key, action);
    }

    fn key_action(&mut self, now: Duration, key: Key, action: Action) {
        match action {
            Action::TogglePlay if self.wants_play => self.pause(now),
            Action::TogglePlay | Action::Play => self.play(),
            Action::Pause => self.pause(now),
            Action::SeekBy(delta) => {
                let base = self.seeking.unwrap_or(self.position);
                self.seek(now, base + delta, SeekMode::Exact);
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
                self.seek(now, 0.0, SeekMode::Exact);
            }
            Action::SeekToFraction(f) => match self.seek_range() {
                Some((start, end)) if self.session.is_some() => {
                    self.seek(now, start + (end - start) * f, SeekMode::Exact);
                }
                _ => self.emit(PlayerEvent::UnhandledKey(key)),
            },
        }
    }

    fn on_pointer(&mut self, now: Duration, target: ControlTarget) {
        let choices = self.choices();
        if let Some(action) = self.controls.on_pointer(now, target, &choices) {
            self.ui_action(now, action);
        }
    }

    fn ui_action(&mut self, now: Duration, action: UiAction) {
        let key = match action {
            UiAction::TogglePlay => Action::TogglePlay,
            UiAction::Play => Action::Play,
            UiAction::Pause => Action::Pause,
            UiAction::Stop => Action::Stop,
            UiAction::SeekBy(d) => Action::SeekBy(d),
            UiAction::SelectAudio(i) => return self.select_audio(now, i),
            UiAction::SelectText(i) => {
                return self.subs.select(i, &mut self.net, &mut self.scratch)
            }
            UiAction::SelectQuality(q) => {
                if let Some(a) = self.session.as_mut().and_then(|s| s.adaptive.as_mut()) {
                    a.select_quality(q);
                }
                return;
            }
        };
        self.key_action(now, Key::Ok, key);
    }

    /// What the controls' menus list now.
    fn choices(&self) -> Choices {
        let label = |name: &str, language: Option<&String>, i: usize| {
            if !name.is_empty() {
                name.to_string()
            } else {
                language
                    .cloned()
                    .unwrap_or_else(|| format!("Track {}", i + 1))
            }
        };
        Choices {
            audio: self
                .audio_tracks()
                .iter()
                .map(|t| label(&t.name, t.language.as_ref(), t.index))
                .collect(),
            audio_selected: self.audio_track(),
            text: self
                .text_tracks()
                .iter()
                .enumerate()
                .map(|(i, t)| label(&t.name, t.language.as_ref(), i))
                .collect(),
            text_selected: self.text_track(),
            quality: self
                .qualities()
                .iter()
                .map(|q| match (q.height, q.bandwidth) {
                    (0, b) => format!("{:.1} Mb/s", b as f64 / 1e6),
                    (h, 0) => format!("{h}p"),
                    (h, b) => format!("{h}p · {:.1} Mb/s", b as f64 / 1e6),
                })
                .collect(),
            quality_selected: self.manual_quality(),
            paused: !self.wants_play,
        }
    }

    /// Releases everything of the session, remembering how to come back.
    fn suspend(&mut self, now: Duration) {
        if self.suspended.is_some() {
            return;
        }
        // A resume that has not finished yet: suspend what it was restoring.
        let point = match (self.restore.take(), self.session.as_ref()) {
            (Some(mut p), _) => {
                p.opened = false;
                p.play = self.wants_play;
                p
            }
            (None, Some(s)) => ResumePoint {
                url: s.url.clone(),
                position: self.seeking.unwrap_or_else(|| self.current_time_at(now)),
                play: self.wants_play,
                audio: self.audio_track(),
                text: self
                    .text_track()
                    .and_then(|i| self.text_tracks().get(i).map(|t| t.id.clone())),
                quality: self.manual_quality(),
                added: self.added.clone(),
                opened: false,
            },
            (None, None) => return,
        };
        self.teardown();
        self.position = point.position;
        self.wants_play = false;
        let position = point.position;
        self.suspended = Some(point);
        if self.state != PlaybackState::Error {
            self.set_state(PlaybackState::Paused);
        }
        self.emit(PlayerEvent::Suspended { position });
    }

    fn resume(&mut self, now: Duration) {
        let Some(point) = self.suspended.take() else {
            return;
        };
        let info = self.info.clone();
        self.load(now, point.url.clone());
        // Keep the duration and size known before, so the UI does not flash "no media".
        self.info = info;
        self.wants_play = point.play;
        self.restore = Some(point);
    }

    /// The reloaded source is open: restore track and quality choices.
    fn finish_resume(&mut self, now: Duration, point: ResumePoint) {
        if let Some(q) = point.quality {
            if let Some(a) = self.session.as_mut().and_then(|s| s.adaptive.as_mut()) {
                a.select_quality(Some(q));
            }
        }
        if let Some(a) = point.audio.filter(|a| Some(*a) != self.audio_track()) {
            self.select_audio(now, a);
        }
        for request in point.added {
            self.on_app(now, request);
        }
        if let Some(id) = point.text {
            let index = self.text_tracks().iter().position(|t| t.id == id);
            if index != self.text_track() {
                self.subs.select(index, &mut self.net, &mut self.scratch);
            }
        }
        self.out.extend(self.scratch.drain(..));
        self.emit(PlayerEvent::Resumed(point.position));
    }

    fn volume_changed(&mut self) {
        let gain = if self.muted { 0.0 } else { self.volume as f32 };
        self.out.push_back(HostCommand::SetAudioGain(gain));
        self.emit(PlayerEvent::VolumeChanged {
            volume: self.volume,
            muted: self.muted,
        });
    }

    /// Switches the audio track of an adaptive stream: video goes on, audio restarts at the
    /// playhead from the new track.
    fn select_audio(&mut self, now: Duration, index: usize) {
        let at = self.clock_position(now);
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let Some(a) = s.adaptive.as_mut() else { return };
        if !a.select_audio(index, &mut self.net, &mut self.scratch) {
            return;
        }
        s.audio_switch = true;
        self.out.extend(self.scratch.drain(..));
        self.position = at;
        self.flush_output(at);
        if let Some(s) = self.session.as_mut() {
            s.out.reset();
            if let Some(src) = s.source.as_ref() {
                s.pending = Pending::Seek((at * src.rate() as f64).round() as i64);
            }
        }
        if self.state == PlaybackState::Playing {
            self.set_state(PlaybackState::Buffering);
        }
        self.emit(PlayerEvent::AudioTrackChanged(index));
    }

    /// Cancels fetches, releases every decoded picture and closes the platform decoders.
    fn close_session(&mut self, mut s: Session) {
        s.loader.cancel(&mut self.net, &mut self.scratch);
        if let Some(a) = s.adaptive.as_mut() {
            a.cancel_all(&mut self.net, &mut self.scratch);
        }
        // The session's owners are gone: nothing of theirs is heard from now on.
        self.net.forget_owner(Owner::Progressive);
        self.net.forget_owner(Owner::Adaptive);
        if let Some(v) = s.video.as_mut() {
            self.video_generation = v.generation();
            v.close(&mut self.scratch);
        }
        if let Some(Audio::Platform(a)) = s.source.as_ref() {
            self.audio_generation = a.generation();
            self.scratch.push(HostCommand::CloseAudioDecoder);
        }
        self.out.extend(self.scratch.drain(..));
    }

    fn teardown(&mut self) {
        if let Some(s) = self.session.take() {
            self.close_session(s);
        }
        self.subs.cancel(&mut self.net, &mut self.scratch);
        self.net.forget_owner(Owner::Text);
        if !self.subs.active().is_empty() {
            self.scratch
                .push(HostCommand::ShowSubtitles { cues: Vec::new() });
        }
        let had_tracks = !self.subs.tracks().is_empty();
        self.subs = Subtitles::new();
        if had_tracks {
            self.scratch
                .push(HostCommand::Emit(PlayerEvent::TextTracksChanged));
        }
        self.out.extend(self.scratch.drain(..));
        self.seeking = None;
        self.flush_output(0.0);
    }

    fn load(&mut self, now: Duration, url: String) {
        self.teardown();
        self.added.clear();
        self.restore = None;
        self.suspended = None;
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
            },
        );
        self.session = Some(Session {
            url: url.clone(),
            ext: extension_hint(&url),
            cache,
            loader,
            source: None,
            demux: None,
            video: None,
            feed_need: None,
            early_quality: None,
            early_max_height: None,
            pending: Pending::Open,
            need: Some(0),
            out: AudioPipeline::default(),
            last_frame: 0,
            adaptive: None,
            audio_switch: false,
            live_start: None,
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

    fn seek(&mut self, now: Duration, target: f64, mode: SeekMode) {
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
        if let Some((lo, hi)) = self.seek_range() {
            target = target.clamp(lo, hi.max(lo));
        }
        if mode == SeekMode::Fast {
            target = self.keyframe_before(target).unwrap_or(target);
        }
        self.seeking = Some(target);
        self.emit(PlayerEvent::Seeking(target));
        self.reposition(now, target);
    }

    /// Presentation time (seconds) of the video keyframe at or before `target`, when the
    /// demuxer can tell without fetching.
    fn keyframe_before(&mut self, target: f64) -> Option<f64> {
        let s = self.session.as_mut()?;
        let track = s.video.as_ref()?.track;
        if let Some(a) = s.adaptive.as_mut() {
            let (demux, store) = (&mut a.demux, &mut a.store);
            let mut cursor = demux.seek(store, track, (target * 1e6) as i64).ok()?;
            let key = demux.next_sample(store, track, &mut cursor).ok()??;
            demux.rewind();
            return Some((key.pts_us.max(0) as f64 / 1e6).min(target));
        }
        let demux = s.demux.as_mut()?;
        let mut cache = lock(&s.cache);
        let mut cursor = demux.seek(&mut *cache, track, (target * 1e6) as i64).ok()?;
        let key = demux.next_sample(&mut *cache, track, &mut cursor).ok()??;
        Some((key.pts_us.max(0) as f64 / 1e6).min(target))
    }

    /// Drops queued audio and positions the decoder at `target` (seek, rate change, restart).
    fn reposition(&mut self, now: Duration, target: f64) {
        self.position = target;
        self.flush_output(target);
        if let Some(s) = self.session.as_mut() {
            if let Some(a) = s.adaptive.as_mut() {
                a.seek(
                    (target * 1e6).round() as i64,
                    &mut self.net,
                    &mut self.scratch,
                );
            }
            // The resampler is rebuilt at the next decode with the current device rate and
            // playback rate.
            s.out.reset();
            if let Some(src) = s.source.as_ref() {
                let frame = (target * src.rate() as f64).round() as i64;
                s.pending = Pending::Seek(frame);
                s.need = None;
            }
            if let Some(v) = s.video.as_mut() {
                v.reset((target * 1e6).round() as i64, true, &mut self.scratch);
                s.feed_need = None;
            }
        }
        self.out.extend(self.scratch.drain(..));
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
            s.out.new_format();
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
        if let Some(t) = self.session.as_mut().and_then(|s| s.live_start.take()) {
            // Live: start hold-back behind the edge, not at the window start (or where a
            // suspended session was).
            self.reposition(now, t);
        }
        if let Some(point) = self.restore.take_if(|r| r.opened) {
            self.finish_resume(now, point);
        }
        self.update_state(now);
        self.present_video(now);
        self.run_subtitles(now);
        self.run_controls(now);
        self.schedule(now);
    }

    /// Hides the controls when their time is up and sends their view when it changed.
    fn run_controls(&mut self, now: Duration) {
        let playing = self.wants_play && self.suspended.is_none();
        self.controls.tick(now, playing);
        if self.controls.enabled() || self.controls.showing() {
            let choices = self.choices();
            if let Some(view) = self.controls.changed_view(&choices) {
                self.out.push_back(HostCommand::ShowControls(view));
            }
        }
    }

    /// Fetches the selected text track around the playhead and shows the cues active now.
    fn run_subtitles(&mut self, now: Duration) {
        let playing = self.state == PlaybackState::Playing && self.seeking.is_none();
        let t = if playing {
            self.clock_position(now)
        } else {
            self.seeking.unwrap_or(self.position)
        };
        let t_us = (t * 1e6).round() as i64;
        let adaptive = self.session.as_ref().and_then(|s| s.adaptive.as_ref());
        if let Some(a) = adaptive.filter(|a| a.text_version() != self.subs.lists_version()) {
            // A live MPD refresh moved the text tracks' segment windows.
            self.subs
                .refresh_lists(a.text_version(), &a.text_renditions().0);
        }
        let offset = |d: u64| adaptive.and_then(|a| a.demux.timestamp_offset(d));
        if self.session.is_some() {
            self.subs
                .poll(now, t_us, &offset, &mut self.net, &mut self.scratch);
        }
        self.subs.update(t_us, &mut self.scratch);
        self.out.extend(self.scratch.drain(..));
    }

    /// Presents the picture for the current position and releases what the clock passed.
    fn present_video(&mut self, now: Duration) {
        let playing = self.state == PlaybackState::Playing && self.seeking.is_none();
        let t = if playing {
            self.clock_position(now)
        } else {
            self.position
        };
        let ended = self.state == PlaybackState::Ended;
        let Some(v) = self.session.as_mut().and_then(|s| s.video.as_mut()) else {
            return;
        };
        // At the end, show the last picture whatever the clock says.
        let clock_us = if ended {
            i64::MAX
        } else {
            (t * 1e6).round() as i64
        };
        v.present(clock_us, &mut self.scratch);
        self.out.extend(self.scratch.drain(..));
    }

    fn run_source(&mut self, now: Duration) -> Result<(), Error> {
        let format = self.device_format();
        let target_ahead = self.config.audio_ahead_secs;
        let playhead = self.clock_position(now);
        let wall = self.wall;
        let stream_config = self.config.stream.clone();
        let Some(s) = self.session.as_mut() else {
            return Ok(());
        };
        if s.audio_switch {
            rebuild_switched_audio(s, &mut self.audio_generation, playhead);
        }
        if s.pending != Pending::Open {
            if let Some(v) = s.video.as_mut() {
                v.set_decoder_depth(self.video_depth);
            }
            let need = feed_pipes(s, &mut self.scratch)?;
            s.feed_need = need;
            self.out.extend(self.scratch.drain(..));
        }
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
                Pending::Open => {
                    let opened = open_source(
                        s,
                        now,
                        wall,
                        &stream_config,
                        (self.video_generation, self.audio_generation),
                        &mut self.net,
                        &mut self.scratch,
                    );
                    self.out.extend(self.scratch.drain(..));
                    match opened {
                        Ok(None) => break,
                        Ok(Some(info)) => {
                            s.pending = Pending::None;
                            s.live_start = s
                                .adaptive
                                .as_ref()
                                .filter(|a| a.is_live())
                                .map(AdaptiveSource::start_position);
                            if let Some(r) = self.restore.as_mut() {
                                r.opened = true;
                                // Back where it was: inside the DVR window when live.
                                let window = s
                                    .adaptive
                                    .as_ref()
                                    .and_then(|a| a.is_live().then(|| a.live_window()).flatten());
                                match window {
                                    Some((lo, hi)) if (lo..=hi).contains(&r.position) => {
                                        s.live_start = Some(r.position);
                                    }
                                    Some(_) => {}
                                    None if r.position > 0.0 => {
                                        s.live_start = Some(r.position);
                                    }
                                    None => {}
                                }
                            }
                            self.info = Some(info.clone());
                            self.out
                                .push_back(HostCommand::Emit(PlayerEvent::LoadedMetadata(
                                    info.clone(),
                                )));
                            if let Some(d) = info.duration {
                                self.out
                                    .push_back(HostCommand::Emit(PlayerEvent::DurationChanged(d)));
                            }
                            if info.video_codec.is_some() {
                                self.out.push_back(HostCommand::Emit(PlayerEvent::Resize {
                                    width: info.width,
                                    height: info.height,
                                }));
                                self.subs.set_picture(info.width, info.height);
                            }
                            if let Some(a) = s.adaptive.as_ref() {
                                let (renditions, periods, dash) = a.text_renditions();
                                self.subs.add_renditions(
                                    &renditions,
                                    &periods,
                                    dash,
                                    &mut self.net,
                                    &mut self.scratch,
                                );
                                self.out.extend(self.scratch.drain(..));
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
                    }
                }
                Pending::Reopen(frame) | Pending::Seek(frame) => {
                    let reopen = matches!(s.pending, Pending::Reopen(_))
                        || s.source.as_ref().is_none_or(|src| src.is_broken());
                    let opened = if reopen {
                        AudioSource::open(&s.cache, s.ext.as_deref())
                            .map(|src| s.source = Some(Audio::Core(src)))
                    } else {
                        Ok(())
                    };
                    match (opened, s.source.as_mut()) {
                        // symphonia's MP4 reader can fail seeking backwards across fragments
                        // ("no atom pending read"): a fresh reader seeks from the start.
                        (Ok(()), Some(src)) => match src.seek(frame) {
                            Err(Stall::Fatal(_)) if !reopen && matches!(src, Audio::Core(_)) => {
                                s.pending = Pending::Reopen(frame);
                                Ok(())
                            }
                            r => r.map(|()| {
                                s.pending = Pending::None;
                                s.last_frame = frame;
                            }),
                        },
                        (Err(e), _) => Err(e),
                        (Ok(()), None) => Ok(()),
                    }
                }
                Pending::None => {
                    let Some((dev_rate, dev_channels)) = format else {
                        break;
                    };
                    let Some(src) = s.source.as_mut() else { break };
                    if s.out.eos() || self.clock.ahead_secs() >= target_ahead {
                        break;
                    }
                    // Where the video ends, for padding audio that ends first.
                    let duration_us = self
                        .info
                        .as_ref()
                        .and_then(|i| i.duration)
                        .map(|d| (d * 1e6) as i64);
                    let video_end_us = s
                        .video
                        .as_ref()
                        .filter(|v| !v.done())
                        .and_then(|v| v.end_us().or(duration_us));
                    match s
                        .out
                        .pump(src, (dev_rate, dev_channels), self.rate, video_end_us)
                    {
                        Ok(Pumped::Waiting) => break,
                        Ok(Pumped::Pcm {
                            samples,
                            last_frame,
                        }) => {
                            s.last_frame = last_frame;
                            let frames = samples.len() / dev_channels;
                            if frames > 0 {
                                self.clock.queued(frames as u64);
                                self.out.push_back(HostCommand::QueueAudio {
                                    epoch: self.clock.epoch(),
                                    samples,
                                });
                            }
                            if s.out.eos() && self.seeking.is_none() {
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
        if let Some(a) = s.adaptive.as_mut() {
            // Until the pipelines open and the player moves to the start the source picked
            // (a live stream: hold-back behind the edge), the player's position (0) would
            // pull the source to the window start.
            if s.pending != Pending::Open && s.live_start.is_none() {
                a.set_playhead((playhead * 1e6).round() as i64);
            }
            if let Some(at) = s.feed_need {
                a.on_need(at);
            }
            a.poll(now, &mut self.net, &mut self.scratch)?;
            self.out.extend(self.scratch.drain(..));
            if s.pending == Pending::Open {
                s.need = None;
            }
            return Ok(());
        }
        let need = match (s.need, s.feed_need) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (want, urgent) = match need {
            Some(at) => (at, true),
            None => (lock(&s.cache).read_pos(), false),
        };
        s.loader
            .poll(now, want, urgent, &mut self.net, &mut self.scratch)?;
        self.out.extend(self.scratch.drain(..));
        Ok(())
    }

    /// Moves between paused, buffering, playing and ended from what the clock and source say.
    fn update_state(&mut self, now: Duration) {
        let clock_us = (self.clock_position(now) * 1e6).round() as i64;
        let Some(s) = self.session.as_ref() else {
            return;
        };
        if s.source.is_none() || self.state == PlaybackState::Error {
            return;
        }
        let positioned = s.pending == Pending::None;
        let eos = s.out.eos();
        let ahead = self.clock.ahead_secs();
        let video_ready = s.video.as_ref().is_none_or(|v| v.has_picture());
        let video_done = s
            .video
            .as_ref()
            .is_none_or(|v| v.done() || v.end_us().is_some());
        // Adaptive streams fetch video and audio separately (alternate audio renditions): the
        // video can run dry while audio still plays. Then wait, as for audio, rather than
        // freeze the picture while the clock runs on.
        let video_starved = s.adaptive.is_some()
            && s.feed_need.is_some()
            && s.video.as_ref().is_some_and(|v| {
                v.next_due().is_none()
                    && v.end_us().is_none()
                    && v.shown()
                        .is_some_and(|(pts, dur)| pts + dur + VIDEO_STARVED_US < clock_us)
            });
        let enough = positioned
            && video_ready
            && !video_starved
            && (eos || ahead >= self.config.start_secs.min(self.config.audio_ahead_secs));
        if let Some(target) = self.seeking {
            if enough {
                self.seeking = None;
                self.position = target;
                self.emit(PlayerEvent::Seeked(target));
                self.emit(PlayerEvent::TimeUpdate(target));
            }
        }
        let ended =
            eos && self.clock.drained() && positioned && self.seeking.is_none() && video_done;
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
            let starved = (self.clock.drained() && !eos) || video_starved;
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
        if self.state == PlaybackState::Playing && self.seeking.is_none() {
            let due = self
                .session
                .as_ref()
                .and_then(|s| s.video.as_ref())
                .and_then(|v| v.next_due());
            if let Some(due) = due {
                let ahead = (due as f64 / 1e6 - self.clock.peek(now)) / self.rate.max(0.25);
                let wake = now + Duration::from_secs_f64(ahead.clamp(0.0, REFILL.as_secs_f64()));
                at = Some(at.map_or(wake, |a| a.min(wake)));
            }
        }
        if let Some(s) = self.session.as_ref() {
            if let Some(d) = s.loader.deadline(&self.net) {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if let Some(d) = s.adaptive.as_ref().and_then(|a| a.deadline(&self.net)) {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if let Some(d) = self.subs.deadline() {
                at = Some(at.map_or(d, |a| a.min(d)));
            }
            if let Some(d) = self.controls.deadline(self.wants_play) {
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

/// Maps a demuxer failure during open to the player's stall type.
fn demux_stall(e: DemuxError) -> Stall {
    match e {
        DemuxError::NeedBytes(at) => Stall::NeedBytes(at),
        e => Stall::Fatal(e.into()),
    }
}

/// Probes the session's resource: containers with video (or audio the core cannot decode)
/// get the core's demuxer and platform decoders; everything else the symphonia audio path.
fn open_media(
    s: &mut Session,
    video_generation: u32,
    audio_generation: u32,
) -> Result<MediaInfo, Stall> {
    let mut head = [0u8; 12];
    let n = lock(&s.cache)
        .copy_at(0, &mut head)
        .map_err(Stall::NeedBytes)?;
    let sniffed = demux::sniff(&head[..n]);
    if sniffed == Sniffed::Other {
        let src = AudioSource::open(&s.cache, s.ext.as_deref())?;
        let info = src.info().clone();
        s.source = Some(Audio::Core(src));
        return Ok(info);
    }
    let mut demux = {
        let mut cache = lock(&s.cache);
        demux::open(&mut *cache).map_err(demux_stall)?
    };
    let tracks = demux.tracks().to_vec();
    let video = tracks.iter().position(|t| t.kind == Some(TrackKind::Video));
    let audio = tracks.iter().position(|t| t.kind == Some(TrackKind::Audio));
    let core_audio =
        |codec: &str| codec.starts_with("mp4a.40.") || codec == "mp3" || codec == "flac";
    if video.is_none()
        && sniffed == Sniffed::Mp4
        && audio.is_some_and(|a| core_audio(&tracks[a].codec))
    {
        // Audio-only MP4 (m4a): the core decodes it, exactly as before.
        let src = AudioSource::open(&s.cache, s.ext.as_deref())?;
        let info = src.info().clone();
        s.source = Some(Audio::Core(src));
        return Ok(info);
    }
    if video.is_none() && audio.is_none() {
        return Err(Stall::Fatal(Error::new(
            ErrorKind::Unsupported,
            "no audio or video track",
        )));
    }
    let duration = demux.duration();
    let mut info = MediaInfo {
        container: demux.container().to_string(),
        duration,
        ..MediaInfo::default()
    };
    let mut pipe = None;
    if let Some(v) = video {
        let t = &tracks[v];
        if t.codec.starts_with('?') {
            return Err(Stall::Fatal(Error::new(
                ErrorKind::Unsupported,
                format!("video codec {} is not supported", &t.codec[1..]),
            )));
        }
        // Nominal frame duration from the first sample.
        let mut cursor = demux::Cursor::default();
        let first = {
            let mut cache = lock(&s.cache);
            demux
                .next_sample(&mut *cache, v, &mut cursor)
                .map_err(demux_stall)?
        };
        let frame_us = first
            .map(|f| f.duration_us)
            .filter(|&d| d > 0)
            .unwrap_or(33_333);
        info.video_codec = Some(t.codec.clone());
        info.width = t.display_width.max(1);
        info.height = t.display_height.max(1);
        info.frame_rate = 1e6 / frame_us as f64;
        pipe = Some(VideoPipe::new(
            v,
            crate::video::config_of(t),
            frame_us,
            video_generation,
        ));
    }
    let source = match audio {
        Some(a) => {
            let t = &tracks[a];
            info.audio_codec = t.codec.clone();
            info.sample_rate = t.sample_rate;
            info.channels = t.channels;
            if t.codec.starts_with('?') {
                return Err(Stall::Fatal(Error::new(
                    ErrorKind::Unsupported,
                    format!("audio codec {} is not supported", &t.codec[1..]),
                )));
            }
            // symphonia's MP4 reader fails seeking backwards in fragmented files ("no atom
            // pending read"), so their audio goes to the platform decoder too.
            if sniffed == Sniffed::Mp4 && core_audio(&t.codec) && !demux.fragmented() {
                let src = AudioSource::open(&s.cache, s.ext.as_deref())?;
                info.sample_rate = src.rate();
                info.channels = src.channels() as u16;
                Audio::Core(src)
            } else {
                if t.sample_rate == 0 || t.channels == 0 {
                    return Err(Stall::Fatal(Error::new(
                        ErrorKind::Decode,
                        "audio track without a sample rate or channel count",
                    )));
                }
                Audio::Platform(PlatformAudio::new(
                    a,
                    AudioDecoderConfig {
                        codec: t.codec.clone(),
                        description: t.description.clone(),
                        sample_rate: t.sample_rate,
                        channels: t.channels,
                    },
                    audio_generation,
                ))
            }
        }
        None => Audio::Silence(Silence::new(VIRTUAL_RATE, duration)),
    };
    s.source = Some(source);
    s.demux = Some(demux);
    s.video = pipe;
    Ok(info)
}

/// Feeds the video pipeline and the platform audio decoder from the demuxer (the progressive
/// file's, over its byte cache, or the adaptive stream's, over its segment store). Returns the
/// offset (or segment tag) they wait for.
fn feed_pipes(s: &mut Session, scratch: &mut Vec<HostCommand>) -> Result<Option<u64>, Error> {
    let mut guard = None;
    let (demux, src): (&mut dyn Demux, &mut dyn ByteSource) = if let Some(a) = s.adaptive.as_mut() {
        if !a.ready() {
            return Ok(None);
        }
        (&mut a.demux, &mut a.store)
    } else if let Some(d) = s.demux.as_mut() {
        let g = guard.insert(lock(&s.cache));
        (d.as_mut(), &mut **g)
    } else {
        return Ok(None);
    };
    let mut need = None;
    // A seek the audio has not taken yet (the player applies it below): feeding it now
    // would ask for the segment of its old position.
    let seeking = matches!(s.pending, Pending::Seek(_));
    if let (Some(Audio::Platform(a)), false) = (s.source.as_mut(), seeking) {
        match a.feed(demux, src, scratch) {
            Ok(()) => {}
            Err(DemuxError::NeedBytes(at)) => need = Some(at),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(v) = s.video.as_mut() {
        match v.feed(demux, src, scratch) {
            Ok(()) => {}
            Err(DemuxError::NeedBytes(at)) => need = Some(need.map_or(at, |n: u64| n.min(at))),
            Err(e) => return Err(e.into()),
        }
        if let (Some(end), Some(Audio::Silence(sil))) = (v.end_us(), s.source.as_mut()) {
            sil.set_end(Some(end as f64 / 1e6));
        }
    }
    drop(guard);
    Ok(need)
}

/// Opens the session's resource: a manifest (HLS/DASH) becomes an adaptive source whose
/// pipelines start once its first segments are parsed (`Ok(None)` until then); anything else
/// goes to [`open_media`].
fn open_source(
    s: &mut Session,
    now: Duration,
    wall: Option<(Duration, i64)>,
    config: &StreamConfig,
    (video_generation, audio_generation): (u32, u32),
    net: &mut RequestService,
    out: &mut Vec<HostCommand>,
) -> Result<Option<MediaInfo>, Stall> {
    if s.adaptive.is_none() {
        let mut head = [0u8; 512];
        let n = {
            let mut cache = lock(&s.cache);
            let have = usize::try_from(cache.contiguous_from(0)).unwrap_or(usize::MAX);
            let n = have.min(head.len());
            if n < head.len() && !cache.complete_from(0) {
                return Err(Stall::NeedBytes(n as u64));
            }
            cache.copy_at(0, &mut head[..n]).map_err(Stall::NeedBytes)?
        };
        let Some(protocol) = sniff_manifest(&head[..n]) else {
            return open_media(s, video_generation, audio_generation).map(Some);
        };
        let bytes = {
            let mut cache = lock(&s.cache);
            let have = cache.contiguous_from(0);
            match cache.total() {
                Some(total) if have >= total => {
                    let len = usize::try_from(total).unwrap_or(usize::MAX);
                    if len > crate::stream::model::MAX_MANIFEST_BYTES {
                        return Err(Stall::Fatal(Error::new(
                            ErrorKind::Limit,
                            "manifest larger than the limit",
                        )));
                    }
                    let mut b = vec![0u8; len];
                    let got = cache.copy_at(0, &mut b).map_err(Stall::NeedBytes)?;
                    b.truncate(got);
                    b
                }
                _ => return Err(Stall::NeedBytes(have)),
            }
        };
        s.loader.cancel(net, out);
        let wall_ms = wall.map(|(at, ms)| ms + now.saturating_sub(at).as_millis() as i64);
        let mut source =
            AdaptiveSource::open(protocol, &s.url, &bytes, now, wall_ms, config.clone())
                .map_err(Stall::Fatal)?;
        if let Some(level) = s.early_quality.take() {
            source.select_quality(level);
        }
        if let Some(h) = s.early_max_height.take() {
            source.set_max_height(h);
        }
        s.adaptive = Some(source);
    }
    let Some(a) = s.adaptive.as_ref() else {
        return Ok(None);
    };
    if !a.ready() {
        return Ok(None);
    }
    open_adaptive(s, video_generation, audio_generation).map(Some)
}

/// Builds the pipelines of an adaptive stream from the tracks its first segments showed.
fn open_adaptive(
    s: &mut Session,
    video_generation: u32,
    audio_generation: u32,
) -> Result<MediaInfo, Stall> {
    let Some(a) = s.adaptive.as_ref() else {
        return Err(Stall::Fatal(Error::new(
            ErrorKind::InvalidState,
            "no adaptive source",
        )));
    };
    let tracks = a.demux.tracks().to_vec();
    let mut info = MediaInfo {
        container: a.demux.container().to_string(),
        duration: a.duration(),
        ..MediaInfo::default()
    };
    let video = tracks.iter().position(|t| t.kind == Some(TrackKind::Video));
    let audio = tracks.iter().position(|t| t.kind == Some(TrackKind::Audio));
    if let Some(v) = video {
        let t = &tracks[v];
        if t.codec.starts_with('?') {
            return Err(Stall::Fatal(Error::new(
                ErrorKind::Unsupported,
                format!("video codec {} is not supported", &t.codec[1..]),
            )));
        }
        info.video_codec = Some(t.codec.clone());
        info.width = t.display_width.max(1);
        info.height = t.display_height.max(1);
        info.frame_rate = 30.0;
        s.video = Some(VideoPipe::new(
            v,
            crate::video::config_of(t),
            33_333,
            video_generation,
        ));
    }
    s.source = Some(match audio {
        Some(i) => {
            let t = &tracks[i];
            info.audio_codec = t.codec.clone();
            info.sample_rate = t.sample_rate;
            info.channels = t.channels;
            let audio = PlatformAudio::new(i, audio_config(t)?, audio_generation).for_adaptive();
            Audio::Platform(audio)
        }
        None => Audio::Silence(Silence::new(VIRTUAL_RATE, info.duration)),
    });
    Ok(info)
}

fn audio_config(t: &demux::TrackInfo) -> Result<AudioDecoderConfig, Stall> {
    if t.codec.starts_with('?') {
        return Err(Stall::Fatal(Error::new(
            ErrorKind::Unsupported,
            format!("audio codec {} is not supported", &t.codec[1..]),
        )));
    }
    if t.sample_rate == 0 || t.channels == 0 {
        return Err(Stall::Fatal(Error::new(
            ErrorKind::Decode,
            "audio track without a sample rate or channel count",
        )));
    }
    Ok(AudioDecoderConfig {
        codec: t.codec.clone(),
        description: t.description.clone(),
        sample_rate: t.sample_rate,
        channels: t.channels,
    })
}

/// After an audio-track switch, once the new track's first segment is parsed: a fresh audio
/// decoder with its configuration, positioned at the playhead.
fn rebuild_switched_audio(s: &mut Session, audio_generation: &mut u32, playhead: f64) {
    let Some(a) = s.adaptive.as_ref() else {
        s.audio_switch = false;
        return;
    };
    if !a.demux.ready() {
        return;
    }
    s.audio_switch = false;
    let tracks = a.demux.tracks();
    let Some(i) = tracks.iter().position(|t| t.kind == Some(TrackKind::Audio)) else {
        return;
    };
    let Ok(config) = audio_config(&tracks[i]) else {
        return;
    };
    if let Some(Audio::Platform(old)) = s.source.as_ref() {
        *audio_generation = old.generation();
    }
    let mut fresh = PlatformAudio::new(i, config, *audio_generation).for_adaptive();
    let frame = (playhead * fresh.rate() as f64).round() as i64;
    fresh.seek(frame);
    s.source = Some(Audio::Platform(fresh));
    s.pending = Pending::None;
    s.out.new_format();
}
