//! One loaded resource ([`Session`]): its [`MediaSource`] and the pipelines that read it, how
//! it opens (the source's [`Opening`]s, a file handing over to a stream), and feeding the
//! video pipeline and the platform audio decoder from the source's demuxer.

use super::media::{self, MediaSource, OpenContext, Opened, Opening, Progressive};
use super::*;
use crate::audio::platform::Silence;

/// What the source needs done before it can decode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Pending {
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
pub(super) struct Session {
    pub(super) url: String,
    /// Where the media comes from: a file, or the stream a manifest file handed over to.
    pub(super) media: Box<dyn MediaSource>,
    /// The audio path, once open.
    pub(super) source: Option<Audio>,
    pub(super) video: Option<VideoPipe>,
    /// Bytes the video or platform-audio feeder waits for.
    pub(super) feed_need: Option<u64>,
    pub(super) pending: Pending,
    /// Bytes a blocked audio decode waits for.
    pub(super) need: Option<u64>,
    /// Decoded audio on its way to the device (remix, resample, padding, end of stream).
    pub(super) out: AudioPipeline,
    pub(super) last_frame: i64,
    /// The audio track changed: rebuild the audio pipeline once the new track's first segment
    /// is parsed.
    pub(super) audio_switch: bool,
    /// A live stream just opened: playback moves here (hold-back behind the live edge) before
    /// it starts.
    pub(super) live_start: Option<f64>,
}

impl Session {
    /// A session for `url`: a progressive file until its first bytes say otherwise.
    pub(super) fn new(url: String, config: &PlayerConfig) -> Self {
        let media = Progressive::new(
            url.clone(),
            config.cache_budget_bytes,
            config.chunk_bytes.max(64 * 1024),
        );
        Session {
            url,
            media: Box::new(media),
            source: None,
            video: None,
            feed_need: None,
            pending: Pending::Open,
            need: Some(0),
            out: AudioPipeline::default(),
            last_frame: 0,
            audio_switch: false,
            live_start: None,
        }
    }
}

/// Feeds the video pipeline and the platform audio decoder from the source's demuxer. Returns
/// the offset (or segment tag) they wait for.
pub(super) fn feed_pipes(
    s: &mut Session,
    scratch: &mut Vec<HostCommand>,
) -> Result<Option<u64>, Error> {
    let Some(mut reader) = s.media.reader() else {
        return Ok(None);
    };
    let (demux, src) = reader.parts();
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
    Ok(need)
}

/// Opens the session's media: `Ok(None)` until it can tell (bytes or segments first); a file
/// that is a manifest hands over to the stream, which opens once its first segments are
/// parsed. On success the pipelines are in the session.
pub(super) fn open_source(
    s: &mut Session,
    ctx: OpenContext<'_>,
    net: &mut RequestService,
    out: &mut Vec<HostCommand>,
) -> Result<Option<MediaInfo>, Stall> {
    loop {
        match s.media.open(ctx, net, out)? {
            Opening::Wait => return Ok(None),
            Opening::Handover(stream) => s.media = stream,
            Opening::Open(opened) => {
                let Opened { info, video, audio } = *opened;
                s.video = video;
                s.source = Some(audio);
                return Ok(Some(info));
            }
        }
    }
}

impl Session {
    /// The platform audio decoder failed. When it has no decoder for the codec (AC-3 where
    /// the platform has none) and there is a video to show, the video plays without sound,
    /// as `<video>` plays such a file: silence keeps the clock from where the audio was, and
    /// the error comes back as a warning. Otherwise the decoder's own handling (a retry, or
    /// the error).
    pub(super) fn on_audio_error(
        &mut self,
        generation: u32,
        unsupported: bool,
        message: &str,
        duration: Option<f64>,
    ) -> Result<Option<Error>, Error> {
        let Some(Audio::Platform(a)) = self.source.as_mut() else {
            return Ok(None);
        };
        match a.on_error(generation, unsupported, message) {
            Err(e) if unsupported && self.video.is_some() => {
                let mut silence = Silence::new(a.rate(), duration);
                silence.seek(a.position());
                self.source = Some(Audio::Silence(silence));
                self.out.new_format();
                Ok(Some(Error::new(
                    e.kind,
                    format!("{}: the video plays without sound", e.message),
                )))
            }
            other => other.map(|()| None),
        }
    }
}

/// After an audio-track switch, once the new track's first segment is parsed: a fresh audio
/// decoder with its configuration, positioned at the playhead.
pub(super) fn rebuild_switched_audio(s: &mut Session, audio_generation: &mut u32, playhead: f64) {
    let Some(tracks) = s.media.tracks() else {
        return;
    };
    s.audio_switch = false;
    let Some(i) = tracks.iter().position(|t| t.kind == Some(TrackKind::Audio)) else {
        return;
    };
    let Ok(config) = media::audio_config(&tracks[i]) else {
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
