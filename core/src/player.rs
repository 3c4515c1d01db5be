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
//! # Sources and loading
//! A session reads its media through the `MediaSource` trait (`media.rs`), implemented by the
//! progressive file (`media/progressive.rs`) and the adaptive stream
//! ([`AdaptiveSource`](crate::adaptive::source::AdaptiveSource),
//! `media/adaptive.rs`); the player never branches on which one it plays. A load starts as a
//! file; a manifest in its first bytes hands over to the stream. When to fetch, decode and
//! start is the [`LoadControl`] policy, built from [`PlayerConfig`].
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
//!
//! # Parts
//! This file is the façade: the state, the getters, [`Player::handle`]'s dispatch and the app
//! requests. The rest of `impl Player` lives beside it, one responsibility per file:
//! - `run.rs`: the step after every event (pull the source, pump audio, present video,
//!   subtitles, controls, state, wake-up);
//! - `media.rs` (+ `media/`): the media-source interface and its two implementations;
//! - `session.rs`: one loaded resource, how it opens, feeding the decoders;
//! - `fetch.rs`: fetch completions handed to their owner;
//! - `seek.rs`: seeking, repositioning, restarting the output;
//! - `input.rs`: keys and pointer through the controls and the key map;
//! - `lifecycle.rs`: suspend and resume.
//!
//! The sample work of audio is `crate::audio::pipeline`, beside the video pipeline
//! (`crate::video`); fetch ids and the retry policy are `crate::net`.

use std::collections::VecDeque;
use std::time::Duration;

use crate::adaptive::source::{StreamConfig, StreamStats, TrackChoice};
use crate::audio::decoder::Stall;
use crate::audio::pipeline::{Audio, AudioPipeline, Pumped};
use crate::audio::platform::PlatformAudio;
use crate::clock::Clock;
use crate::controls::{Choices, ControlTarget, Controls, Handled, UiAction};
use crate::demux::{DemuxError, TrackKind};
use crate::error::Error;
use crate::host::{AppRequest, HostCommand, HostEvent, MediaInfo, PlayerEvent, SeekMode};
use crate::input::{Action, InputEvent, Key, KeyMap};
use crate::load_control::{LoadControl, Readiness};
use crate::net::{Owner, RequestService, RetryPolicy};
use crate::state::PlaybackState;
use crate::stream::model::Thumbnail;
use crate::subtitles::{SubtitleCue, Subtitles, TextTrackInfo};
use crate::video::{VideoPipe, VideoStats};

mod fetch;
mod input;
mod lifecycle;
mod media;
mod run;
mod seek;
mod session;

use lifecycle::ResumePoint;
use media::{MediaSource, OpenContext, Wants};
use session::{feed_pipes, open_source, rebuild_switched_audio, Pending, Session};

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
    /// The load-control policy these numbers make.
    pub fn load_control(&self) -> LoadControl {
        LoadControl {
            start_secs: self.start_secs,
            decode_ahead_secs: self.audio_ahead_secs,
            forward_bytes: self.forward_buffer_bytes,
            forward_secs: self.stream.forward_secs,
            buffer_bytes: self.stream.buffer_bytes,
        }
    }

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

/// Interval between `TimeUpdate` events while playing, and the wake-up period.
const TIME_UPDATE: Duration = Duration::from_millis(250);
const REFILL: Duration = Duration::from_millis(50);
/// Longest presentation lead a host is believed (`HostEvent::VideoPresentLead`), µs.
const MAX_PRESENT_LEAD_US: i64 = 250_000;
/// An adaptive stream's video counts as run dry once the clock is this far past the end of
/// the last picture and no decoded picture is queued.
const VIDEO_STARVED_US: i64 = 100_000;
/// Most demuxer steps in one call, so a call never runs long.
const MAX_STEPS: usize = 256;
/// Virtual device rate when the host has no audio output.
const VIRTUAL_RATE: u32 = 48_000;

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
    /// How long the host takes to get a presented picture drawn, µs
    /// (`HostEvent::VideoPresentLead`): pictures are picked for the clock that far ahead.
    present_lead_us: i64,
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
            present_lead_us: 0,
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
                if let Some(s) = self.session.as_mut() {
                    s.media.set_wall_clock(now, unix_ms);
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
                let duration = self.duration();
                let r = match self.session.as_mut() {
                    Some(s) => s.on_audio_error(generation, unsupported, &message, duration),
                    None => Ok(None),
                };
                match r {
                    Ok(Some(warning)) => self.emit(PlayerEvent::Warning(warning)),
                    Ok(None) => {}
                    Err(e) => self.fail(e),
                }
            }
            HostEvent::VideoDecoderDepth { chunks } => self.video_depth = chunks,
            // Bounded: a host that says it needs more than a quarter second is stalled, and
            // picking pictures that early would show them early when it recovers.
            HostEvent::VideoPresentLead { micros } => {
                self.present_lead_us = i64::from(micros).min(MAX_PRESENT_LEAD_US);
            }
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
        self.media()?.stream_stats()
    }

    /// The seek-preview thumbnail for `time` (seconds) from the stream's image tracks (DASH
    /// thumbnail tiles), from the track whose thumbnails are the widest at most `max_width`
    /// pixels wide (any width: `None`): which image to fetch and the rectangle of it to show.
    /// `None` when the source has no image track.
    pub fn thumbnail(&self, time: f64, max_width: Option<u32>) -> Option<Thumbnail> {
        let t_us = (time.max(0.0) * 1e6).round() as i64;
        self.media()?.thumbnail(t_us, max_width)
    }

    /// Quality levels of an adaptive stream, lowest first (empty otherwise).
    pub fn qualities(&self) -> Vec<TrackChoice> {
        self.media().map_or(Vec::new(), |m| m.qualities())
    }

    /// The quality fixed by hand, `None` for automatic selection.
    pub fn manual_quality(&self) -> Option<usize> {
        self.media()?.manual_quality()
    }

    /// Alternate audio tracks of an adaptive stream (empty when there are none).
    pub fn audio_tracks(&self) -> Vec<TrackChoice> {
        self.media().map_or(Vec::new(), |m| m.audio_tracks())
    }

    /// The audio track in use (index into [`Player::audio_tracks`]).
    pub fn audio_track(&self) -> Option<usize> {
        self.media()?.audio_track()
    }

    /// The seekable window of a live stream, seconds: (DVR window start, live edge). Seeks
    /// are clamped to it (see [`Player::seek_range`]).
    pub fn live_window(&self) -> Option<(f64, f64)> {
        self.media()?.live_window()
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
        self.media().is_some_and(|m| m.is_live())
    }

    /// Where a seek to `target` seconds lands before keyframe snapping: inside the live
    /// window for a live stream (at most the live start point, hold-back behind the edge),
    /// inside `0..=duration` otherwise.
    pub fn seek_range(&self) -> Option<(f64, f64)> {
        if let Some(a) = self.media().filter(|m| m.is_live()) {
            let (start, edge) = a.live_window()?;
            let live_point = a.live_point().unwrap_or(edge).clamp(start, edge);
            return Some((start, live_point));
        }
        self.duration().map(|d| (0.0, d))
    }

    fn media(&self) -> Option<&dyn MediaSource> {
        self.session.as_ref().map(|s| &*s.media)
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
                    s.media.select_quality(level);
                }
            }
            AppRequest::SetMaxVideoHeight(h) => {
                if let Some(s) = self.session.as_mut() {
                    s.media.set_max_height(h);
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
        if !s
            .media
            .select_audio(index, &mut self.net, &mut self.scratch)
        {
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
        s.media.cancel(&mut self.net, &mut self.scratch);
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
        self.session = Some(Session::new(url.clone(), &self.config));
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
}
