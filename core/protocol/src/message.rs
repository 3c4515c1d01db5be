//! The messages: [`HostEvent`] in, [`HostCommand`] out, and what they carry.

use crate::controls::{ControlTarget, ControlsView};
use crate::error::Error;
use crate::input::{Action, InputEvent, Key};
use crate::state::PlaybackState;
use crate::text::{SubtitleCue, TextTrackKind};

/// Identifies one fetch the core asked the host to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// An inclusive byte range for an HTTP `Range: bytes=start-end` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte offset requested.
    pub start: u64,
    /// Last byte offset requested (inclusive); `None` means "to the end of the resource".
    pub end: Option<u64>,
}

impl ByteRange {
    /// The value of an HTTP `Range` header for this range, e.g. `bytes=0-1023`.
    pub fn header_value(&self) -> String {
        match self.end {
            Some(end) => format!("bytes={}-{}", self.start, end),
            None => format!("bytes={}-", self.start),
        }
    }
}

/// Identifies one decoded picture held by the host. Chosen by the host, unique per player.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameId(pub u64);

/// One compressed frame for a platform decoder (WebCodecs `EncodedVideoChunk` /
/// `EncodedAudioChunk`).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedChunk {
    /// Presentation time in microseconds; decoded output carries it back.
    pub timestamp_us: i64,
    /// Duration in microseconds (0 when unknown).
    pub duration_us: i64,
    /// A keyframe: decoding can start here.
    pub key: bool,
    /// The compressed bytes.
    pub data: Vec<u8>,
}

/// How to configure a platform video decoder (WebCodecs `VideoDecoderConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoDecoderConfig {
    /// WebCodecs codec string, e.g. `avc1.64001f`, `vp09.00.10.08`, `av01.0.04M.08`.
    pub codec: String,
    /// Codec configuration record (avcC, hvcC, av1C body), when the codec has one.
    pub description: Option<Vec<u8>>,
    /// Coded size in pixels.
    pub coded_width: u32,
    /// Coded height in pixels.
    pub coded_height: u32,
    /// Display size (aspect ratio) in pixels, before [`VideoDecoderConfig::rotation`]: the
    /// decoded pictures' own aspect.
    pub display_width: u32,
    /// Display height in pixels, before the rotation.
    pub display_height: u32,
    /// Clockwise rotation to show the decoded pictures with: 0, 90, 180 or 270 degrees (an
    /// MP4 `tkhd` matrix; WebCodecs' `VideoDecoderConfig.rotation`). Hosts draw it; a value
    /// that is not a multiple of 90 is drawn unrotated.
    pub rotation: u16,
    /// Mirror the pictures left to right before rotating (WebCodecs' `flip`).
    pub flip: bool,
}

/// How to configure a platform audio decoder (WebCodecs `AudioDecoderConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioDecoderConfig {
    /// WebCodecs codec string, e.g. `opus`, `mp4a.40.2`.
    pub codec: String,
    /// Codec setup (OpusHead, AudioSpecificConfig, ...), when the codec has one.
    pub description: Option<Vec<u8>>,
    /// Sample rate of the stream.
    pub sample_rate: u32,
    /// Channels of the stream.
    pub channels: u16,
}

/// What the application asked the player to do (the Player API, as plain data).
#[derive(Debug, Clone, PartialEq)]
pub enum AppRequest {
    /// Load a new source, replacing the current one (even one in the error state).
    Load {
        /// URL of the resource; the host resolves it and fetches it as the core asks.
        url: String,
    },
    /// Start or resume playback. From `Ended`, restarts from the beginning.
    Play,
    /// Pause playback; the clock stops where it is.
    Pause,
    /// Seek to a position in seconds; clamped to `[0, duration]`.
    Seek {
        /// Target media time in seconds.
        position: f64,
        /// `Exact` decodes forward to the requested frame; `Fast` lands on the keyframe at or
        /// before it (cheaper: like `HTMLMediaElement.fastSeek`).
        mode: SeekMode,
    },
    /// Output volume, linear gain clamped to `[0, 1]`.
    SetVolume(f64),
    /// Mute or unmute without losing the volume.
    SetMuted(bool),
    /// Playback rate, clamped to `[0.25, 4]`.
    SetRate(f64),
    /// Restart from the beginning when the end is reached.
    SetLoop(bool),
    /// Stop and release the source; the player returns to `Idle`.
    Unload,
    /// Adaptive streams: fix the quality level (index into [`crate::Player::qualities`]) or
    /// return to automatic selection (`None`). Segments already buffered still play.
    SelectQuality(Option<usize>),
    /// Adaptive streams: never choose a quality taller than this many pixels automatically
    /// (the display's height × device pixel ratio); `None` removes the cap.
    SetMaxVideoHeight(Option<u32>),
    /// Adaptive streams: switch the audio track (index into [`crate::Player::audio_tracks`]);
    /// video goes on, audio restarts at the playhead in the new language.
    SelectAudioTrack(usize),
    /// Adds a side-loaded WebVTT text track to the loaded source (send after `Load`; the next
    /// `Load` drops it). Its index is the current length of [`crate::Player::text_tracks`].
    AddTextTrack {
        /// URL of the `.vtt` file.
        url: String,
        /// RFC 5646 language tag.
        language: Option<String>,
        /// Name for menus (empty: the language).
        name: String,
        /// Subtitles or captions.
        kind: TextTrackKind,
    },
    /// Shows text track `index` (of [`crate::Player::text_tracks`]), or none.
    SelectTextTrack(Option<usize>),
    /// Turns the core's on-screen controls on or off ([`crate::controls`]). Off by default;
    /// while on, D-pad keys navigate them instead of seeking / changing the volume.
    SetControls(bool),
    /// A pointer (mouse, touch, Magic Remote) activated a control the host drew.
    ControlsActivate(ControlTarget),
    /// The pointer moved over the video: show the controls, restart their hide timer.
    ControlsPoke,
    /// The app went to the background (hidden page, TV app switch): remember where playback
    /// is, then release decoders, pictures, buffers and connections. `Suspended` follows.
    Suspend,
    /// Back in the foreground: reload the suspended source and restore position, play/pause,
    /// audio and text track and quality choice. `Resumed` follows once it is restored.
    Resume,
    /// Binds a logical key to an action (`None`: unbinds it), for keys the on-screen controls
    /// do not use (or all keys while they are off). See [`crate::KeyMap`].
    BindKey {
        /// The key.
        key: Key,
        /// What it does from now on.
        action: Option<Action>,
    },
    /// The device's memory budget for media in bytes (TV profiles): sets the byte budgets of
    /// the file cache and the segment buffer for the next `Load` (`None`: the defaults).
    SetMemoryBudget(Option<u64>),
}

/// How precisely a seek lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeekMode {
    /// On the requested time: video shows the frame whose interval contains it, audio starts
    /// at that sample.
    #[default]
    Exact,
    /// On the video keyframe at or before the requested time (audio follows it).
    Fast,
}

/// Why a fetch failed, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchErrorKind {
    /// The connection failed or was dropped before the body was complete.
    Network,
    /// The host's per-request timeout expired.
    Timeout,
    /// The request was aborted (by the host, not by a `CancelFetch`).
    Aborted,
    /// The host refused the request (e.g. CORS, mixed content, bad URL).
    Refused,
}

/// What a fetch is for: hosts hand it to the embedder's request and response hooks (as
/// Shaka's `RequestType` or hls.js's loader contexts do) and to logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Bytes of a progressive file (MP4, WebM, MP3, …).
    Media,
    /// An HLS multivariant playlist or a DASH MPD.
    Manifest,
    /// An HLS media playlist.
    Playlist,
    /// A segment index (DASH `SegmentBase` `sidx`).
    Index,
    /// An initialisation segment.
    Init,
    /// A media segment of an adaptive stream.
    Segment,
    /// A subtitle file, playlist or segment.
    Text,
    /// A decryption key (HLS `EXT-X-KEY:METHOD=AES-128`): its own kind because embedders
    /// treat key requests apart (a key server's token or cookies, another origin), as Shaka's
    /// `RequestType.KEY` and hls.js's key loader let them.
    Key,
}

impl RequestKind {
    /// Every kind, in the order of their codes (`code`).
    pub const ALL: [RequestKind; 8] = [
        RequestKind::Media,
        RequestKind::Manifest,
        RequestKind::Playlist,
        RequestKind::Index,
        RequestKind::Init,
        RequestKind::Segment,
        RequestKind::Text,
        RequestKind::Key,
    ];

    /// What the first request of a load is: the content decides what a source is (sniffed),
    /// before that the URL is the only clue — `Manifest` when its path ends in `.m3u8`,
    /// `.m3u` or `.mpd`, else `Media`.
    pub fn for_url(url: &str) -> RequestKind {
        let path = url
            .split(['?', '#'])
            .next()
            .unwrap_or(url)
            .to_ascii_lowercase();
        if [".m3u8", ".m3u", ".mpd"].iter().any(|e| path.ends_with(e)) {
            RequestKind::Manifest
        } else {
            RequestKind::Media
        }
    }

    /// The name hosts show apps: `media`, `manifest`, `playlist`, `index`, `init`,
    /// `segment`, `text`, `key`.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Media => "media",
            RequestKind::Manifest => "manifest",
            RequestKind::Playlist => "playlist",
            RequestKind::Index => "index",
            RequestKind::Init => "init",
            RequestKind::Segment => "segment",
            RequestKind::Text => "text",
            RequestKind::Key => "key",
        }
    }
}

/// Everything a host tells the core.
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// The application made a request.
    App(AppRequest),
    /// Time advanced (a wake-up fired, or the host's periodic tick). Carries nothing: the
    /// current time is the `now` passed with every event.
    Tick,
    /// The host's audio output is open. The core converts everything it queues to this rate and
    /// channel count (interleaved `f32`).
    AudioDeviceReady {
        /// Frames per second the device consumes.
        sample_rate: u32,
        /// Interleaved channels per frame (1 or 2 in practice).
        channels: u16,
    },
    /// The host has no audio output (none exists, or it failed to open). The core then drives
    /// its clock from the host time and plays silently.
    AudioDeviceUnavailable {
        /// Human-readable reason, for diagnostics.
        reason: String,
    },
    /// How many frames of the given epoch the device has actually played, counted at the
    /// output (hosts subtract known output latency). Cumulative within an epoch; reports for an
    /// epoch other than the current one are ignored. Frames of silence the device played because
    /// its queue ran dry are NOT counted.
    AudioProgress {
        /// Epoch set by the last [`HostCommand::FlushAudio`] (0 before any flush).
        epoch: u32,
        /// Frames of this epoch played so far.
        frames_played: u64,
    },
    /// Response headers of a fetch arrived.
    FetchResponse {
        /// Which request.
        request: RequestId,
        /// HTTP status code (200, 206, 404, ...).
        status: u16,
        /// Value of `Content-Length`, if present.
        content_length: Option<u64>,
        /// Raw value of `Content-Range`, if present (the core parses it).
        content_range: Option<String>,
    },
    /// Body bytes of a fetch, in order, contiguous from the start of the response body.
    FetchData {
        /// Which request.
        request: RequestId,
        /// The next bytes of the body.
        data: Vec<u8>,
    },
    /// The body of a fetch is complete.
    FetchEnd {
        /// Which request.
        request: RequestId,
    },
    /// A fetch failed; no more events follow for it.
    FetchFailed {
        /// Which request.
        request: RequestId,
        /// Failure class.
        kind: FetchErrorKind,
        /// Human-readable detail, for diagnostics.
        message: String,
    },
    /// A user input event, already mapped by the host to the logical key set.
    Input(InputEvent),
    /// The host's wall clock (UTC, milliseconds since the Unix epoch) at the event's `now`.
    /// Live DASH needs it (segment availability is wall-clock based); hosts send it before
    /// `Load` and whenever their clock is corrected.
    WallClock {
        /// Milliseconds since 1970-01-01T00:00:00Z.
        unix_ms: i64,
    },
    /// The video decoder output a picture. The host keeps it until `ReleaseFrame`.
    VideoFrameDecoded {
        /// Generation of the `ConfigureVideoDecoder` the decoder was running.
        generation: u32,
        /// Host-chosen id for the picture.
        frame: FrameId,
        /// Presentation time in microseconds (the chunk's `timestamp_us`).
        timestamp_us: i64,
        /// Duration in microseconds (0 when unknown).
        duration_us: i64,
        /// Display width of the picture in pixels.
        width: u32,
        /// Display height of the picture in pixels.
        height: u32,
    },
    /// The video decoder output everything after `FlushVideoDecoder`.
    VideoDecoderFlushed {
        /// Generation being flushed.
        generation: u32,
    },
    /// The video decoder failed (unsupported configuration, corrupt data). It must be
    /// configured again before further use.
    VideoDecoderError {
        /// Generation that failed.
        generation: u32,
        /// True when the platform cannot decode this configuration at all.
        unsupported: bool,
        /// Human-readable detail.
        message: String,
    },
    /// The audio decoder output PCM.
    AudioDecoded {
        /// Generation of the `ConfigureAudioDecoder` the decoder was running.
        generation: u32,
        /// Presentation time of the first frame, microseconds.
        timestamp_us: i64,
        /// Sample rate of the PCM.
        sample_rate: u32,
        /// Channels of the PCM.
        channels: u16,
        /// Interleaved `f32` samples.
        samples: Vec<f32>,
    },
    /// The audio decoder output everything after `FlushAudioDecoder`.
    AudioDecoderFlushed {
        /// Generation being flushed.
        generation: u32,
    },
    /// The audio decoder failed.
    AudioDecoderError {
        /// Generation that failed.
        generation: u32,
        /// True when the platform cannot decode this configuration at all.
        unsupported: bool,
        /// Human-readable detail.
        message: String,
    },
    /// The host's video decoder holds up to `chunks` compressed chunks before its pictures
    /// come out (a browser's `<video>` fed through Media Source Extensions buffers more than a
    /// WebCodecs decoder); `None` restores the core's default bound. Hosts send it after
    /// [`HostCommand::ConfigureVideoDecoder`] when their decoder differs from the default; it
    /// applies from the next feeding on, also to later loads. The core still decides what is
    /// fed and shown; only its decode-ahead bound grows.
    VideoDecoderDepth {
        /// Chunks the decoder holds, or `None` for the default.
        chunks: Option<u32>,
    },
    /// The host's pictures reach its display `micros` after [`HostCommand::PresentFrame`] (a
    /// host whose draw waits for something first: the browser host copies a WebCodecs
    /// picture's planes out of the decoder before it draws them). The core then picks each
    /// picture for the clock that much later, so that it is on the display at its time, and
    /// judges lateness there. Hosts that draw at once never send it (the lead is 0); a host
    /// sends it again when its measured lead changes.
    VideoPresentLead {
        /// Microseconds from `PresentFrame` to the picture being drawn.
        micros: u32,
    },
}

/// Everything the core asks a host to do.
#[derive(Debug, Clone, PartialEq)]
pub enum HostCommand {
    /// Fetch `url` (with `Range` when `range` is set) and report it through
    /// `FetchResponse`, `FetchData`*, then `FetchEnd` or `FetchFailed`.
    Fetch {
        /// Identifies the request in the events that answer it.
        request: RequestId,
        /// Absolute or page-relative URL.
        url: String,
        /// Byte range to request; `None` for the whole resource.
        range: Option<ByteRange>,
        /// What the bytes are for (hosts pass it to the embedder's request hooks and logs).
        kind: RequestKind,
    },
    /// Abort a fetch; send no further events for it (stray ones are ignored anyway).
    CancelFetch {
        /// Which request.
        request: RequestId,
    },
    /// Append interleaved `f32` PCM at the device's rate and channel count to the device queue.
    QueueAudio {
        /// The epoch these samples belong to (see `FlushAudio`).
        epoch: u32,
        /// Interleaved samples; `samples.len()` is a multiple of the channel count.
        samples: Vec<f32>,
    },
    /// Start (or resume) consuming the device queue.
    StartAudio,
    /// Stop consuming the device queue, keeping what is queued (pause).
    PauseAudio,
    /// Drop everything queued and start a new epoch: progress reports restart at 0 frames and
    /// carry this epoch.
    FlushAudio {
        /// The new epoch.
        epoch: u32,
    },
    /// Set the output gain (volume × mute), linear, `[0, 1]`.
    SetAudioGain(f32),
    /// Call `handle(now, Tick)` at host time `at` (or soon after). Replaces any earlier wake-up.
    WakeAt {
        /// Host time at which the core wants to run again.
        at: std::time::Duration,
    },
    /// Deliver an event to the application.
    Emit(PlayerEvent),
    /// Reset (or create) the video decoder and configure it; start generation `generation`.
    ConfigureVideoDecoder {
        /// Tags every output until the next configure.
        generation: u32,
        /// Codec and setup.
        config: VideoDecoderConfig,
    },
    /// Decode one chunk (decode order; the first after a configure is a keyframe).
    DecodeVideo {
        /// The generation this chunk belongs to (ignore it if the decoder is newer).
        generation: u32,
        /// The chunk.
        chunk: EncodedChunk,
    },
    /// Output every picture the decoder holds (end of stream), then answer
    /// `VideoDecoderFlushed`.
    FlushVideoDecoder {
        /// The generation to flush.
        generation: u32,
    },
    /// Close the video decoder; drop pending outputs (frames already delivered stay until
    /// released).
    CloseVideoDecoder,
    /// Show this decoded frame now; it stays on screen until another is presented.
    PresentFrame {
        /// Which frame.
        frame: FrameId,
    },
    /// The core no longer needs this frame: close it.
    ReleaseFrame {
        /// Which frame.
        frame: FrameId,
    },
    /// Clear the picture (black): nothing is loaded or the new source has no picture yet.
    ClearVideo,
    /// Reset (or create) the audio decoder and configure it; start generation `generation`.
    ConfigureAudioDecoder {
        /// Tags every output until the next configure.
        generation: u32,
        /// Codec and setup.
        config: AudioDecoderConfig,
    },
    /// Decode one audio chunk.
    DecodeAudio {
        /// The generation this chunk belongs to.
        generation: u32,
        /// The chunk.
        chunk: EncodedChunk,
    },
    /// Output everything the audio decoder holds, then answer `AudioDecoderFlushed`.
    FlushAudioDecoder {
        /// The generation to flush.
        generation: u32,
    },
    /// Close the audio decoder.
    CloseAudioDecoder,
    /// Draw these subtitle cues over the video from now on, replacing what was shown (an empty
    /// list clears them). Sent when the active cues change, and again when their layout does.
    ShowSubtitles {
        /// The cues, in text track cue order (later ones on top).
        cues: Vec<SubtitleCue>,
    },
    /// Draw the on-screen controls like this from now on (sent when anything in the view
    /// changes; `visible == false` hides them). See [`crate::controls`].
    ShowControls(ControlsView),
}

/// Events the application sees (the host turns them into DOM events or callbacks).
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    /// The playback state changed.
    StateChanged(PlaybackState),
    /// A new source started loading.
    LoadStart {
        /// The URL being loaded.
        url: String,
    },
    /// The source was probed: tracks and duration are known.
    LoadedMetadata(MediaInfo),
    /// The duration (seconds) is known or changed.
    DurationChanged(f64),
    /// The playback position (seconds) moved; sent at least every 250 ms while playing.
    TimeUpdate(f64),
    /// Playback started or resumed (the `play` request was accepted).
    Play,
    /// Playback is paused.
    Pause,
    /// Media is flowing again after loading, seeking or buffering.
    Playing,
    /// Playback stalled waiting for data.
    Waiting,
    /// A seek started towards this position (seconds).
    Seeking(f64),
    /// A seek completed at this position (seconds).
    Seeked(f64),
    /// Playback reached the end.
    Ended,
    /// Something failed; the player is in the `Error` state (or recovered, see the error kind)
    /// and accepts a new `Load`.
    Error(Error),
    /// Volume or mute changed.
    VolumeChanged {
        /// Linear volume in `[0, 1]`.
        volume: f64,
        /// Whether output is muted.
        muted: bool,
    },
    /// Playback rate changed.
    RateChanged(f64),
    /// The audio track of an adaptive stream changed (index into
    /// [`crate::Player::audio_tracks`]).
    AudioTrackChanged(usize),
    /// The list of text tracks changed (a manifest's tracks arrived, or one was added).
    TextTracksChanged,
    /// The text track shown changed (`None`: subtitles off).
    TextTrackChanged(Option<usize>),
    /// A text track could not be fetched or parsed: it shows nothing; playback goes on.
    TextTrackError {
        /// Index into [`crate::Player::text_tracks`].
        track: usize,
        /// What went wrong.
        error: Error,
    },
    /// The video's display size is known or changed (pixels).
    Resize {
        /// Display width.
        width: u32,
        /// Display height.
        height: u32,
    },
    /// A key nothing used (not the controls, not the key map): e.g. Back at the top level,
    /// which a TV app answers by exiting.
    UnhandledKey(Key),
    /// Playback was suspended ([`AppRequest::Suspend`]): resources are released.
    Suspended {
        /// Where playback will resume (seconds).
        position: f64,
    },
    /// A suspended session was restored ([`AppRequest::Resume`]) at this position (seconds).
    Resumed(f64),
    /// Something failed that playback goes on without, e.g. an audio track no decoder here
    /// takes: the video plays without sound, as `<video>` plays it. The player stays in its
    /// state; hosts surface it (the browser host as a `warning` event).
    Warning(Error),
    /// Bytes of the resource are cached up to this media position (seconds), best estimate.
    Progress {
        /// Bytes cached contiguously from the read position.
        buffered_bytes: u64,
        /// Total size of the resource, when known.
        total_bytes: Option<u64>,
    },
}

/// What the core learned about a source when it was probed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaInfo {
    /// Container format, short name (e.g. `mp3`, `isomp4`, `webm`).
    pub container: String,
    /// Audio codec, short name (e.g. `aac`, `flac`, `opus`); empty without audio.
    pub audio_codec: String,
    /// Video codec (WebCodecs codec string); `None` without video.
    pub video_codec: Option<String>,
    /// Video display size in pixels (0×0 without video).
    pub width: u32,
    /// Video display height in pixels.
    pub height: u32,
    /// Video frame rate, frames per second, when it is constant (0 when unknown).
    pub frame_rate: f64,
    /// Sample rate of the source audio.
    pub sample_rate: u32,
    /// Channels of the source audio.
    pub channels: u16,
    /// Duration in seconds, if known.
    pub duration: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::RequestKind;

    #[test]
    fn the_first_request_of_a_load_is_a_manifest_when_its_url_names_one() {
        for (url, kind) in [
            (
                "https://cdn.example/live/master.m3u8",
                RequestKind::Manifest,
            ),
            ("/a/b/Manifest.MPD?token=1#t=3", RequestKind::Manifest),
            ("list.m3u", RequestKind::Manifest),
            ("movie.mp4", RequestKind::Media),
            ("https://x/manifest.mpd.mp4", RequestKind::Media),
            ("blob:https://x/0b7c", RequestKind::Media),
        ] {
            assert_eq!(RequestKind::for_url(url), kind, "{url}");
        }
        let names: Vec<_> = RequestKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            ["media", "manifest", "playlist", "index", "init", "segment", "text", "key"]
        );
    }
}
