//! Where a session's media comes from: the [`MediaSource`] trait, implemented by the
//! progressive file ([`Progressive`]: one URL read by ranges into a byte cache) and the
//! adaptive stream ([`AdaptiveSource`]: HLS/DASH segments chosen by ABR).
//!
//! The player talks to its source only through this trait, so it does not branch on what
//! kind of source it plays. The interface, in the order a session uses it:
//! - **opening**: [`MediaSource::open`] until it answers [`Opening::Open`] with the pipelines
//!   to build (the source decides which decoders its tracks need: symphonia for a file the
//!   core decodes itself, the host's decoders otherwise). A file whose first bytes are a
//!   manifest answers [`Opening::Handover`] with the adaptive source that replaces it.
//! - **loading**: [`MediaSource::poll`] after every event issues the fetches the
//!   [`LoadControl`] allows (what the pipelines wait for comes first: [`Wants`]);
//!   [`MediaSource::on_fetch`] takes the completions of the source's own requests (the
//!   request service routes them by owner); [`MediaSource::deadline`] says when to wake up
//!   for a timeout or a retry; [`MediaSource::cancel`] ends everything in flight.
//! - **reading**: [`MediaSource::reader`] hands the pipelines a demuxer over the source's
//!   bytes (a read of bytes not there yet is a miss, never a blocking read);
//!   [`MediaSource::bytes_ready`] says when a blocked read is worth retrying;
//!   [`MediaSource::seek`] repositions the loading.
//! - **choices and live**: qualities, audio renditions, the live window and the text
//!   renditions a manifest lists. A file has none of these: the defaults say so.
//!
//! [`AdaptiveSource`]: crate::adaptive::source::AdaptiveSource

use std::sync::MutexGuard;
use std::time::Duration;

use crate::adaptive::source::{StreamConfig, StreamStats, TrackChoice};
use crate::audio::decoder::{AudioSource, Stall};
use crate::audio::pipeline::Audio;
use crate::demux::{ByteSource, Demux, TrackInfo};
use crate::error::{Error, ErrorKind};
use crate::host::{HostCommand, HostEvent, MediaInfo};
use crate::load_control::LoadControl;
use crate::net::{Owner, RequestService};
use crate::source::cache::ByteCache;
use crate::stream::model::{Rendition, Thumbnail};
use crate::stream::Variables;
use crate::video::VideoPipe;

mod adaptive;
mod progressive;

pub(super) use adaptive::audio_config;
pub(super) use progressive::Progressive;

/// What the pipelines wait for, handed to [`MediaSource::poll`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Wants {
    /// A decode is blocked on the bytes at this offset (or segment tag).
    pub(super) blocked: Option<u64>,
    /// The video (or platform audio) feeder waits for this offset (or segment tag).
    pub(super) feed: Option<u64>,
    /// Where the player is, microseconds; `None` before it has a position of its own (a live
    /// stream still moving to its start).
    pub(super) playhead_us: Option<i64>,
}

/// What opening needs from the player.
#[derive(Debug, Clone, Copy)]
pub(super) struct OpenContext<'a> {
    /// Host time.
    pub(super) now: Duration,
    /// The host's wall clock: (host time, ms since the epoch) of its last report.
    pub(super) wall: Option<(Duration, i64)>,
    /// Budgets and ABR of an adaptive stream, should the file turn out to be a manifest.
    pub(super) stream: &'a StreamConfig,
    /// Decoder generations to start from (a new load never reuses one).
    pub(super) video_generation: u32,
    /// See `video_generation`.
    pub(super) audio_generation: u32,
}

/// The answer of [`MediaSource::open`].
pub(super) enum Opening {
    /// Not yet: more bytes or segments first.
    Wait,
    /// The resource is a manifest: this source replaces the file's.
    Handover(Box<dyn MediaSource>),
    /// Open: what the player announces and the pipelines to build.
    Open(Box<Opened>),
}

/// The pipelines of an opened source.
pub(super) struct Opened {
    /// What the probe found.
    pub(super) info: MediaInfo,
    /// The video pipeline, when there is video.
    pub(super) video: Option<VideoPipe>,
    /// The audio path (core-decoded, platform-decoded, or silence).
    pub(super) audio: Audio,
}

/// Fills `info`'s video fields from track `index` (`t`) and builds its pipeline.
fn video_pipe(
    info: &mut MediaInfo,
    (index, t): (usize, &TrackInfo),
    frame_us: i64,
    frame_rate: f64,
    generation: u32,
) -> VideoPipe {
    info.video_codec = Some(t.codec.clone());
    // The size a viewer sees: after the rotation hosts draw (as `<video>`'s videoWidth).
    info.width = t.display_width.max(1);
    info.height = t.display_height.max(1);
    info.frame_rate = frame_rate;
    VideoPipe::new(index, crate::video::config_of(t), frame_us, generation)
}

/// Fills `info`'s audio fields from track `t`.
fn audio_info(info: &mut MediaInfo, t: &TrackInfo) {
    info.audio_codec = t.codec.clone();
    info.sample_rate = t.sample_rate;
    info.channels = t.channels;
}

/// A demuxer over the bytes it reads, lent to the pipelines.
pub(super) struct Reader<'a> {
    demux: &'a mut dyn Demux,
    bytes: Bytes<'a>,
}

enum Bytes<'a> {
    /// A file's byte cache, locked while reading.
    Cache(MutexGuard<'a, ByteCache>),
    /// An adaptive stream's segment store.
    Store(&'a mut dyn ByteSource),
}

impl Reader<'_> {
    /// The demuxer and the bytes, for one read.
    pub(super) fn parts(&mut self) -> (&mut dyn Demux, &mut dyn ByteSource) {
        let bytes: &mut dyn ByteSource = match &mut self.bytes {
            Bytes::Cache(guard) => &mut **guard,
            Bytes::Store(store) => &mut **store,
        };
        (&mut *self.demux, bytes)
    }
}

/// A session's media. See the module docs for the interface.
pub(super) trait MediaSource: Send {
    // --- opening

    /// Opens the resource: tracks, duration, the pipelines to build.
    fn open(
        &mut self,
        ctx: OpenContext<'_>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<Opening, Stall>;

    /// A symphonia decoder over the file's bytes (to decode again from scratch after a
    /// failed read). Only a file has one.
    fn open_core_audio(&self) -> Result<AudioSource, Stall> {
        Err(Stall::Fatal(Error::new(
            ErrorKind::InvalidState,
            "this source has no file to decode",
        )))
    }

    // --- loading

    /// Issues or cancels fetches: what the pipelines wait for first, then what `load`
    /// allows ahead of the playhead.
    fn poll(
        &mut self,
        now: Duration,
        load: &LoadControl,
        wants: Wants,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error>;

    /// Whose requests the source makes (the request service routes their events by it).
    fn owner(&self) -> Owner;

    /// A fetch event of one of this source's requests; may emit events (download progress).
    fn on_fetch(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        event: HostEvent,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error>;

    /// When the source needs a wake-up (a timeout or a retry), if ever.
    fn deadline(&self, net: &RequestService) -> Option<Duration>;

    /// Cancels every request in flight and every retry waiting.
    fn cancel(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>);

    /// Whether a read blocked at `at` is worth retrying now.
    fn bytes_ready(&self, at: u64) -> bool;

    // --- reading

    /// The demuxer over the source's bytes, once the tracks are known.
    fn reader(&mut self) -> Option<Reader<'_>>;

    /// The tracks the demuxer shows, once known.
    fn tracks(&self) -> Option<&[TrackInfo]>;

    /// Presentation time (µs) of the keyframe of `track` at or before `target_us`, when the
    /// demuxer can tell without fetching.
    fn keyframe_before(&mut self, track: usize, target_us: i64) -> Option<i64>;

    /// Whether video and audio arrive apart (an adaptive stream: alternate audio renditions
    /// are fetched on their own), so the video can run dry while audio still plays.
    fn tracks_arrive_apart(&self) -> bool {
        false
    }

    /// The player repositions to `target_us`.
    fn seek(&mut self, target_us: i64, net: &mut RequestService, out: &mut Vec<HostCommand>);

    /// A duration the source learned after opening (a fragmented file without one in its
    /// header, once its fragments are walked).
    fn late_duration(&self) -> Option<f64> {
        None
    }

    /// Does a bounded step of the work that makes a duration exact, and returns the exact
    /// duration once, when it is known (an MP3 without a frame count, once its frames are
    /// counted to the end of the file). Until then the duration announced at open stands.
    fn refine_duration(&mut self) -> Option<f64> {
        None
    }

    /// The offset (µs) that maps media timestamps after discontinuity `d` onto the
    /// timeline (segmented subtitles follow it).
    fn timestamp_offset(&self, _d: u64) -> Option<i64> {
        None
    }

    // --- choices

    /// Fixes the quality (`None`: automatic).
    fn select_quality(&mut self, _level: Option<usize>) {}

    /// Caps the video height automatic selection may pick.
    fn set_max_height(&mut self, _height: Option<u32>) {}

    /// Switches the audio rendition; false when nothing changed.
    fn select_audio(
        &mut self,
        _index: usize,
        _net: &mut RequestService,
        _out: &mut Vec<HostCommand>,
    ) -> bool {
        false
    }

    /// Quality levels, lowest first.
    fn qualities(&self) -> Vec<TrackChoice> {
        Vec::new()
    }

    /// The quality fixed by hand.
    fn manual_quality(&self) -> Option<usize> {
        None
    }

    /// Alternate audio renditions.
    fn audio_tracks(&self) -> Vec<TrackChoice> {
        Vec::new()
    }

    /// The audio rendition in use.
    fn audio_track(&self) -> Option<usize> {
        None
    }

    /// The source has neither audio nor video, only text or thumbnail images (a DASH
    /// presentation of text or image sets alone): it plays as a timeline over silence.
    fn timeline_only(&self) -> bool {
        false
    }

    /// The thumbnail for `t_us` from the manifest's image tracks (the widest whose
    /// thumbnails are at most `max_width` pixels wide), if it has any.
    fn thumbnail(&self, _t_us: i64, _max_width: Option<u32>) -> Option<Thumbnail> {
        None
    }

    /// Stream counters (quality, throughput, buffer).
    fn stream_stats(&self) -> Option<StreamStats> {
        None
    }

    /// Counts manifest refreshes that replaced the text renditions' lists (a live MPD);
    /// `None` without a manifest.
    fn text_version(&self) -> Option<u64> {
        None
    }

    /// The text renditions the manifest lists, the periods' starts (µs) and whether they
    /// come from DASH.
    fn text_renditions(&self) -> Option<(Vec<Rendition>, Vec<i64>, bool)> {
        None
    }

    /// HLS `EXT-X-DEFINE` variables, for the subtitle playlists.
    fn hls_variables(&self) -> Option<&Variables> {
        None
    }

    // --- live

    /// Whether the stream is live.
    fn is_live(&self) -> bool {
        false
    }

    /// A live stream's seekable window, seconds (DVR start, live edge).
    fn live_window(&self) -> Option<(f64, f64)> {
        None
    }

    /// Hold-back behind the live edge, seconds.
    fn live_point(&self) -> Option<f64> {
        None
    }

    /// Where a live stream starts playing, seconds (`None` for media that starts at 0).
    fn live_start(&self) -> Option<f64> {
        None
    }

    /// The host's wall clock (ms since the epoch) at host time `now`.
    fn set_wall_clock(&mut self, _now: Duration, _unix_ms: i64) {}
}
