//! An HLS/DASH stream as a [`MediaSource`]: the [`AdaptiveSource`] (manifest updater,
//! tracks, scheduler, failover) seen through the player's interface. Its pipelines always use
//! the host's decoders: segments are demuxed by the core ([`crate::adaptive::segments`]) and
//! their audio decoded by the platform, so quality and audio-track switches only reconfigure
//! decoders.

use std::time::Duration;

use super::{
    audio_info, video_pipe, Bytes, MediaSource, OpenContext, Opened, Opening, Reader, Wants,
};
use crate::adaptive::source::{AdaptiveSource, StreamStats, TrackChoice};
use crate::audio::decoder::Stall;
use crate::audio::pipeline::Audio;
use crate::audio::platform::{PlatformAudio, Silence};
use crate::demux::{Demux, TrackInfo, TrackKind};
use crate::error::{Error, ErrorKind};
use crate::host::{AudioDecoderConfig, HostCommand, HostEvent, MediaInfo};
use crate::load_control::LoadControl;
use crate::net::{Owner, RequestService};
use crate::stream::model::{Rendition, Thumbnail};
use crate::stream::Variables;

/// Virtual device rate of the silence a stream without audio plays.
const SILENCE_RATE: u32 = 48_000;
/// Nominal frame duration of a stream's video until its pictures say otherwise.
const NOMINAL_FRAME_US: i64 = 33_333;

/// The decoder configuration of an audio track the platform decodes.
pub(in crate::player) fn audio_config(t: &TrackInfo) -> Result<AudioDecoderConfig, Stall> {
    // PCM names are the core's own (`demux::mp4`): no platform decoder takes them.
    if t.codec.starts_with('?') || t.codec.starts_with("pcm-") {
        return Err(Stall::Fatal(Error::new(
            ErrorKind::Unsupported,
            format!(
                "audio codec {} is not supported",
                t.codec.trim_start_matches('?')
            ),
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

/// A presentation of only text or thumbnails: no decoder, silence drives the clock to the
/// end of the presentation (its text tracks show their cues on it, as over a video).
fn timeline(a: &AdaptiveSource) -> Opened {
    let info = MediaInfo {
        container: a.demux.container().to_string(),
        duration: a.duration(),
        ..MediaInfo::default()
    };
    let audio = Audio::Silence(Silence::new(SILENCE_RATE, info.duration));
    Opened {
        info,
        video: None,
        audio,
    }
}

/// Builds the pipelines from the tracks the first segments showed.
fn pipelines(a: &AdaptiveSource, ctx: OpenContext<'_>) -> Result<Opened, Stall> {
    let tracks = a.demux.tracks();
    let mut info = MediaInfo {
        container: a.demux.container().to_string(),
        duration: a.duration(),
        ..MediaInfo::default()
    };
    let video = tracks.iter().position(|t| t.kind == Some(TrackKind::Video));
    let audio = tracks.iter().position(|t| t.kind == Some(TrackKind::Audio));
    let mut pipe = None;
    if let Some(v) = video {
        let t = &tracks[v];
        if let Some(name) = t.codec.strip_prefix('?') {
            return Err(Stall::Fatal(Error::new(
                ErrorKind::Unsupported,
                format!("video codec {name} is not supported"),
            )));
        }
        pipe = Some(video_pipe(
            &mut info,
            (v, t),
            NOMINAL_FRAME_US,
            30.0,
            ctx.video_generation,
        ));
    }
    let audio = match audio {
        Some(i) => {
            let t = &tracks[i];
            audio_info(&mut info, t);
            let audio =
                PlatformAudio::new(i, audio_config(t)?, ctx.audio_generation).for_adaptive();
            Audio::Platform(audio)
        }
        None => Audio::Silence(Silence::new(SILENCE_RATE, info.duration)),
    };
    Ok(Opened {
        info,
        video: pipe,
        audio,
    })
}

impl MediaSource for AdaptiveSource {
    fn open(
        &mut self,
        ctx: OpenContext<'_>,
        _net: &mut RequestService,
        _out: &mut Vec<HostCommand>,
    ) -> Result<Opening, Stall> {
        if self.timeline_only() {
            return Ok(Opening::Open(Box::new(timeline(self))));
        }
        if !self.ready() {
            return Ok(Opening::Wait);
        }
        pipelines(self, ctx).map(|o| Opening::Open(Box::new(o)))
    }

    fn poll(
        &mut self,
        now: Duration,
        load: &LoadControl,
        wants: Wants,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        if self.timeline_only() {
            // No media segments: text tracks load on their own (`crate::subtitles`).
            return Ok(());
        }
        if let Some(us) = wants.playhead_us {
            self.set_playhead(us);
        }
        if let Some(at) = wants.feed {
            self.on_need(at);
        }
        AdaptiveSource::poll(self, now, load, net, out)
    }

    fn owner(&self) -> Owner {
        Owner::Adaptive
    }

    fn on_fetch(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        event: HostEvent,
        _out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        match event {
            HostEvent::FetchResponse {
                request,
                status,
                content_length,
                ..
            } => self.on_response(now, net, request, status, content_length),
            HostEvent::FetchData { request, data } => self.on_data(net, request, &data),
            HostEvent::FetchEnd { request } => self.on_end(now, net, request),
            HostEvent::FetchFailed {
                request,
                kind,
                message,
            } => self.on_failed(now, net, request, kind, &message),
            _ => Ok(()),
        }
    }

    fn deadline(&self, net: &RequestService) -> Option<Duration> {
        AdaptiveSource::deadline(self, net)
    }

    fn cancel(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        self.cancel_all(net, out);
    }

    fn bytes_ready(&self, _at: u64) -> bool {
        // Reads wait for segments through the feeders' tags ([`Wants::feed`]), not offsets.
        true
    }

    fn reader(&mut self) -> Option<Reader<'_>> {
        if !self.ready() {
            return None;
        }
        Some(Reader {
            demux: &mut self.demux,
            bytes: Bytes::Store(&mut self.store),
        })
    }

    fn tracks(&self) -> Option<&[TrackInfo]> {
        self.demux.ready().then(|| self.demux.tracks())
    }

    fn keyframe_before(&mut self, track: usize, target_us: i64) -> Option<i64> {
        let (demux, store) = (&mut self.demux, &mut self.store);
        let mut cursor = demux.seek(store, track, target_us).ok()?;
        let key = demux.next_sample(store, track, &mut cursor).ok()??;
        // The lookup moved the demuxer's decode-time history: forget it.
        demux.rewind();
        Some(key.pts_us)
    }

    fn tracks_arrive_apart(&self) -> bool {
        true
    }

    fn seek(&mut self, target_us: i64, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        AdaptiveSource::seek(self, target_us, net, out);
    }

    fn timestamp_offset(&self, d: u64) -> Option<i64> {
        self.demux.timestamp_offset(d)
    }

    fn select_quality(&mut self, level: Option<usize>) {
        AdaptiveSource::select_quality(self, level);
    }

    fn set_max_height(&mut self, height: Option<u32>) {
        AdaptiveSource::set_max_height(self, height);
    }

    fn select_audio(
        &mut self,
        index: usize,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> bool {
        AdaptiveSource::select_audio(self, index, net, out)
    }

    fn qualities(&self) -> Vec<TrackChoice> {
        AdaptiveSource::qualities(self)
    }

    fn manual_quality(&self) -> Option<usize> {
        AdaptiveSource::manual_quality(self)
    }

    fn audio_tracks(&self) -> Vec<TrackChoice> {
        AdaptiveSource::audio_tracks(self)
    }

    fn audio_track(&self) -> Option<usize> {
        AdaptiveSource::audio_track(self)
    }

    fn timeline_only(&self) -> bool {
        AdaptiveSource::timeline_only(self)
    }

    fn thumbnail(&self, t_us: i64, max_width: Option<u32>) -> Option<Thumbnail> {
        AdaptiveSource::thumbnail(self, t_us, max_width)
    }

    fn stream_stats(&self) -> Option<StreamStats> {
        Some(self.stats())
    }

    fn text_version(&self) -> Option<u64> {
        Some(AdaptiveSource::text_version(self))
    }

    fn text_renditions(&self) -> Option<(Vec<Rendition>, Vec<i64>, bool)> {
        Some(AdaptiveSource::text_renditions(self))
    }

    fn hls_variables(&self) -> Option<&Variables> {
        AdaptiveSource::hls_variables(self)
    }

    fn is_live(&self) -> bool {
        AdaptiveSource::is_live(self)
    }

    fn live_window(&self) -> Option<(f64, f64)> {
        AdaptiveSource::live_window(self)
    }

    fn live_point(&self) -> Option<f64> {
        AdaptiveSource::live_point(self)
    }

    fn live_start(&self) -> Option<f64> {
        AdaptiveSource::is_live(self).then(|| self.start_position())
    }

    fn set_wall_clock(&mut self, now: Duration, unix_ms: i64) {
        AdaptiveSource::set_wall_clock(self, now, unix_ms);
    }
}
