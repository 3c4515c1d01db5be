//! A progressive file as a [`MediaSource`]: one URL fetched by ranges into a budgeted byte
//! cache ([`Loader`], [`ByteCache`]), probed by the core's demuxers or symphonia.
//!
//! Every load starts here. The first bytes are sniffed: a manifest (`#EXTM3U`, `<MPD`,
//! whatever the URL says) is read whole and handed over to an [`AdaptiveSource`]
//! ([`Opening::Handover`]), with the quality choices the app made before it knew; MP4, WebM and
//! MPEG-TS (`.ts`, `.m2ts`: [`demux::ts::TsFile`]) go to the core's demuxers, with the video
//! pipe and, for audio the core does not decode itself (Opus, Vorbis, AAC in fragmented MP4,
//! AAC and MP3 in MPEG-TS: symphonia reads neither container), the host's decoder; other
//! files, and audio-only MP4 with AAC/MP3/FLAC/PCM, play through symphonia (AAC with more
//! than two channels, which symphonia does not decode, through the host's decoder). Audio files
//! symphonia does not play (AC-3; every file when the core is built without it) go to the
//! host's decoder when they are elementary streams (MP3, ADTS, AC-3: [`demux::es`]) or FLAC
//! ([`demux::flac`]), and are converted by the core when they are WAV ([`demux::wav`],
//! `audio::pcm`). A file without
//! audio plays silence, so one clock drives every case.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{
    audio_info, video_pipe, Bytes, MediaSource, OpenContext, Opened, Opening, Reader, Wants,
};
use crate::adaptive::source::{sniff_manifest, AdaptiveSource};
use crate::audio::decoder::{AudioSource, Stall};
use crate::audio::mp3::{self, LengthScan, Scan};
use crate::audio::pcm::Format;
use crate::audio::pipeline::Audio;
use crate::audio::platform::{PlatformAudio, Silence};
use crate::demux::{self, Demux, DemuxError, Peek, Sniffed, TrackInfo, TrackKind};
use crate::error::{Error, ErrorKind};
use crate::host::{AudioDecoderConfig, HostCommand, HostEvent, MediaInfo, PlayerEvent};
use crate::load_control::LoadControl;
use crate::net::{Owner, RequestService};
use crate::source::cache::{lock, ByteCache, SharedCache};
use crate::source::loader::{Loader, LoaderConfig};

/// Contiguous bytes at a blocked offset before the blocked operation is retried.
const RETRY_BYTES: u64 = 128 * 1024;
/// Virtual device rate of the silence a file without audio plays.
const SILENCE_RATE: u32 = 48_000;
/// MP3 frame headers read per step when counting a file's frames (a 128 kb/s file has about
/// 2400 frames a megabyte).
const SCAN_FRAMES: usize = 4096;

/// A progressive file. See the module docs.
pub(in crate::player) struct Progressive {
    url: String,
    /// The URL's file extension, a hint for symphonia.
    ext: Option<String>,
    cache: SharedCache,
    loader: Loader,
    /// The container demuxer, for files with video or platform-decoded audio.
    demux: Option<Box<dyn Demux + Send>>,
    /// An MP3 whose duration is only estimated: its frames counted as the bytes arrive.
    length_scan: Option<LengthScan>,
    /// The audio track's channel count as the core's demuxer read it (MP4), for symphonia
    /// when its reader knows none.
    channels: Option<usize>,
    /// Quality choices made before the manifest was in (manual level, height cap): applied
    /// when a manifest hands over to the adaptive source.
    early_quality: Option<Option<usize>>,
    early_max_height: Option<Option<u32>>,
}

impl Progressive {
    /// A file at `url`, cached within `cache_budget` bytes, fetched `chunk_bytes` at a time.
    pub(in crate::player) fn new(url: String, cache_budget: u64, chunk_bytes: u64) -> Self {
        let cache: SharedCache = Arc::new(Mutex::new(ByteCache::new(cache_budget)));
        let loader = Loader::new(url.clone(), cache.clone(), LoaderConfig { chunk_bytes });
        Progressive {
            ext: crate::audio::decoder::extension_hint(&url),
            url,
            cache,
            loader,
            demux: None,
            length_scan: None,
            channels: None,
            early_quality: None,
            early_max_height: None,
        }
    }

    /// The first bytes name a manifest: read it whole and build the adaptive source.
    fn hand_over(
        &mut self,
        protocol: crate::adaptive::source::Protocol,
        ctx: OpenContext<'_>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<Opening, Stall> {
        let bytes = {
            let mut cache = lock(&self.cache);
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
        self.loader.cancel(net, out);
        let wall_ms = ctx
            .wall
            .map(|(at, ms)| ms + ctx.now.saturating_sub(at).as_millis() as i64);
        let mut source = AdaptiveSource::open(
            protocol,
            &self.url,
            &bytes,
            ctx.now,
            wall_ms,
            ctx.stream.clone(),
        )
        .map_err(Stall::Fatal)?;
        if let Some(level) = self.early_quality.take() {
            source.select_quality(level);
        }
        if let Some(h) = self.early_max_height.take() {
            source.set_max_height(h);
        }
        Ok(Opening::Handover(Box::new(source)))
    }

    /// Probes the file: containers with video (or audio the core cannot decode) get the
    /// core's demuxer and platform decoders; everything else the symphonia audio path.
    fn probe(&mut self, ctx: OpenContext<'_>) -> Result<Opened, Stall> {
        let mut head = [0u8; demux::SNIFF_BYTES];
        let n = lock(&self.cache)
            .copy_at(0, &mut head)
            .map_err(Stall::NeedBytes)?;
        let sniffed = demux::sniff(&head[..n]);
        let mut elementary: Option<Box<dyn Demux + Send>> = None;
        if sniffed == Sniffed::Other {
            // Ogg Vorbis and FLAC are symphonia's; any other Ogg stream (Speex, Theora) is
            // refused by name rather than read to its end for a codec symphonia never finds.
            match demux::ogg::first_codec(&head[..n]) {
                Some(codec) if codec != "vorbis" && codec != "flac" => {
                    return Err(Stall::Fatal(Error::new(
                        ErrorKind::Unsupported,
                        format!("ogg: {codec} is not supported"),
                    )));
                }
                _ => {}
            }
            // Audio files: symphonia's when the core has it and reads the file; else an
            // elementary stream (MP3, ADTS, AC-3) for the host's decoder.
            match self.core_decoded() {
                Err(Stall::Fatal(e)) => {
                    let mut cache = lock(&self.cache);
                    match demux::open_audio_file(&mut *cache) {
                        Ok(es) => {
                            // An MP3 without a frame count: its exact length is counted as
                            // for symphonia's path.
                            if es.container() == "mp3" {
                                if let Ok(Some(head)) = demux::mpa::read_head(&mut *cache) {
                                    self.length_scan =
                                        mp3::needs_scan(&head).then(|| LengthScan::new(&head));
                                }
                            }
                            elementary = Some(es);
                        }
                        Err(DemuxError::NeedBytes(at)) => return Err(Stall::NeedBytes(at)),
                        Err(_) => return Err(Stall::Fatal(e)),
                    }
                }
                other => return other,
            }
        }
        let mut demux: Box<dyn Demux + Send> = match elementary {
            Some(es) => es,
            None => {
                let mut cache = lock(&self.cache);
                demux::open(&mut *cache).map_err(demux_stall)?
            }
        };
        let tracks = demux.tracks().to_vec();
        let video = tracks.iter().position(|t| t.kind == Some(TrackKind::Video));
        let audio = tracks.iter().position(|t| t.kind == Some(TrackKind::Audio));
        self.channels = audio
            .map(|a| usize::from(tracks[a].channels))
            .filter(|&n| n > 0);
        if let Some(a) = audio
            .filter(|&a| video.is_none() && sniffed == Sniffed::Mp4 && core_audio(&tracks[a].codec))
        {
            // Audio-only MP4 (m4a): the core decodes it, unless symphonia cannot (AAC with
            // more than two channels: 5.1, 7.1): then the platform's decoder, fed from the
            // core's demuxer, as for a file with video.
            match self.core_decoded() {
                Err(Stall::Fatal(_)) if platform_decodable(&tracks[a].codec) => {}
                other => return other,
            }
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
            unsupported_if_unknown("video", t)?;
            // Nominal frame duration from the first sample.
            let mut cursor = demux::Cursor::default();
            let first = {
                let mut cache = lock(&self.cache);
                demux
                    .next_sample(&mut *cache, v, &mut cursor)
                    .map_err(demux_stall)?
            };
            let frame_us = first
                .map(|f| f.duration_us)
                .filter(|&d| d > 0)
                .unwrap_or(33_333);
            pipe = Some(video_pipe(
                &mut info,
                (v, t),
                frame_us,
                1e6 / frame_us as f64,
                ctx.video_generation,
            ));
        }
        let audio = match audio {
            Some(a) => {
                let t = &tracks[a];
                audio_info(&mut info, t);
                unsupported_if_unknown("audio", t)?;
                // symphonia's MP4 reader fails seeking backwards in fragmented files ("no
                // atom pending read"), so their audio goes to the platform decoder too.
                let core = if sniffed == Sniffed::Mp4 && core_audio(&t.codec) && !demux.fragmented()
                {
                    match AudioSource::open_with(&self.cache, self.ext.as_deref(), self.channels) {
                        Ok(src) => Some(src),
                        // symphonia refuses what the platform may decode: its MP4 reader an
                        // `hvcC` over 1 KB (as x265 writes it with its settings SEI), its AAC
                        // decoder more than two channels. The platform decodes the audio,
                        // from the core's demuxer, instead.
                        Err(Stall::Fatal(_)) if platform_decodable(&t.codec) => None,
                        Err(other) => return Err(other),
                    }
                } else {
                    None
                };
                if let Some(src) = core {
                    info.sample_rate = src.rate();
                    info.channels = src.channels() as u16;
                    Audio::Core(src)
                } else {
                    if !platform_decodable(&t.codec) {
                        // A PCM layout the core does not convert (PCM the core converts goes
                        // the platform path without a decoder: `audio::pcm`).
                        return Err(Stall::Fatal(Error::new(
                            ErrorKind::Unsupported,
                            format!("audio codec {} is not supported in this file", t.codec),
                        )));
                    }
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
                        ctx.audio_generation,
                    ))
                }
            }
            None => Audio::Silence(Silence::new(SILENCE_RATE, duration)),
        };
        self.demux = Some(demux);
        Ok(Opened {
            info,
            video: pipe,
            audio,
        })
    }

    /// A file symphonia plays on its own (audio only).
    fn core_decoded(&mut self) -> Result<Opened, Stall> {
        let src = AudioSource::open_with(&self.cache, self.ext.as_deref(), self.channels)?;
        self.length_scan = src.length_scan();
        Ok(Opened {
            info: src.info().clone(),
            video: None,
            audio: Audio::Core(src),
        })
    }
}

/// Codecs of MP4 audio the core decodes itself (symphonia). PCM in QuickTime/MP4 goes there
/// too: its MP4 reader already reads the PCM sample entries (sowt, twos, lpcm, in24/fl32 with
/// `enda`), so the core needs no PCM decoder of its own; `demux::mp4::is_core_pcm` leaves out
/// what symphonia misreads.
fn core_audio(codec: &str) -> bool {
    codec.starts_with("mp4a.40.")
        || codec == "mp3"
        || codec == "flac"
        || demux::mp4::is_core_pcm(codec)
}

/// Whether the platform path can play a codec: anything but a PCM layout the core does not
/// convert (`audio::pcm`; the host's decoders take none of the demuxers' `pcm-` names).
fn platform_decodable(codec: &str) -> bool {
    !codec.starts_with("pcm-") || Format::of(codec).is_some()
}

/// A track whose codec the demuxer could not name (`?fourcc`) is a typed `unsupported`.
fn unsupported_if_unknown(what: &str, t: &TrackInfo) -> Result<(), Stall> {
    match t.codec.strip_prefix('?') {
        Some(name) => Err(Stall::Fatal(Error::new(
            ErrorKind::Unsupported,
            format!("{what} codec {name} is not supported"),
        ))),
        None => Ok(()),
    }
}

/// Maps a demuxer failure during open to the player's stall type.
pub(in crate::player) fn demux_stall(e: DemuxError) -> Stall {
    match e {
        DemuxError::NeedBytes(at) => Stall::NeedBytes(at),
        e => Stall::Fatal(e.into()),
    }
}

impl MediaSource for Progressive {
    fn open(
        &mut self,
        ctx: OpenContext<'_>,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<Opening, Stall> {
        let mut head = [0u8; 512];
        let n = {
            let mut cache = lock(&self.cache);
            let have = usize::try_from(cache.contiguous_from(0)).unwrap_or(usize::MAX);
            let n = have.min(head.len());
            if n < head.len() && !cache.complete_from(0) {
                return Err(Stall::NeedBytes(n as u64));
            }
            cache.copy_at(0, &mut head[..n]).map_err(Stall::NeedBytes)?
        };
        match sniff_manifest(&head[..n]) {
            Some(protocol) => self.hand_over(protocol, ctx, net, out),
            None => self.probe(ctx).map(|o| Opening::Open(Box::new(o))),
        }
    }

    fn open_core_audio(&self) -> Result<AudioSource, Stall> {
        AudioSource::open_with(&self.cache, self.ext.as_deref(), self.channels)
    }

    fn poll(
        &mut self,
        now: Duration,
        load: &LoadControl,
        wants: Wants,
        net: &mut RequestService,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let need = match (wants.blocked, wants.feed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (want, urgent) = match need {
            Some(at) => (at, true),
            None => (lock(&self.cache).read_pos(), false),
        };
        self.loader.poll(now, want, urgent, load, net, out)
    }

    fn owner(&self) -> Owner {
        Owner::Progressive
    }

    fn on_fetch(
        &mut self,
        now: Duration,
        net: &mut RequestService,
        event: HostEvent,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        let net = &*net;
        match event {
            HostEvent::FetchResponse {
                request,
                status,
                content_length,
                content_range,
            } => self.loader.on_response(
                now,
                net,
                request,
                status,
                content_length,
                content_range.as_deref(),
            ),
            HostEvent::FetchData { request, data } => {
                self.loader.on_data(request, &data);
                Ok(())
            }
            HostEvent::FetchEnd { request } => {
                let r = self.loader.on_end(now, net, request);
                let (buffered_bytes, total_bytes) = {
                    let cache = lock(&self.cache);
                    (cache.contiguous_from(cache.read_pos()), cache.total())
                };
                out.push(HostCommand::Emit(PlayerEvent::Progress {
                    buffered_bytes,
                    total_bytes,
                }));
                r
            }
            HostEvent::FetchFailed {
                request,
                kind,
                message,
            } => self.loader.on_failed(now, net, request, kind, &message),
            _ => Ok(()),
        }
    }

    fn deadline(&self, net: &RequestService) -> Option<Duration> {
        self.loader.deadline(net)
    }

    fn cancel(&mut self, net: &mut RequestService, out: &mut Vec<HostCommand>) {
        self.loader.cancel(net, out);
    }

    fn bytes_ready(&self, at: u64) -> bool {
        let cache = lock(&self.cache);
        cache.contiguous_from(at) >= RETRY_BYTES
            || cache.complete_from(at)
            || (!self.loader.busy() && cache.contiguous_from(at) > 0)
    }

    fn reader(&mut self) -> Option<Reader<'_>> {
        let demux = self.demux.as_mut()?;
        Some(Reader {
            demux: demux.as_mut(),
            bytes: Bytes::Cache(lock(&self.cache)),
        })
    }

    fn tracks(&self) -> Option<&[TrackInfo]> {
        self.demux.as_ref().map(|d| d.tracks())
    }

    fn keyframe_before(&mut self, track: usize, target_us: i64) -> Option<i64> {
        let demux = self.demux.as_mut()?;
        let mut cache = lock(&self.cache);
        let mut cursor = demux.seek(&mut *cache, track, target_us).ok()?;
        let key = demux.next_sample(&mut *cache, track, &mut cursor).ok()??;
        Some(key.pts_us)
    }

    fn seek(&mut self, _target_us: i64, _net: &mut RequestService, _out: &mut Vec<HostCommand>) {
        // Nothing to cancel: the next poll fetches where the pipelines then wait.
    }

    fn late_duration(&self) -> Option<f64> {
        self.demux
            .as_ref()
            .and_then(|d| d.duration())
            .filter(|d| d.is_finite() && *d > 0.0)
    }

    fn refine_duration(&mut self) -> Option<f64> {
        let scan = self.length_scan.as_mut()?;
        // Over the bytes as they are: the count never asks for a fetch or moves the read
        // position, so a file within the forward budget is counted soon after load and a
        // larger one as the fetch reaches its end.
        let step = scan.advance(&mut Peek(&lock(&self.cache)), SCAN_FRAMES);
        match step {
            Scan::Pending => None,
            Scan::Done(secs) => {
                self.length_scan = None;
                Some(secs).filter(|d| d.is_finite() && *d > 0.0)
            }
        }
    }

    fn select_quality(&mut self, level: Option<usize>) {
        self.early_quality = Some(level);
    }

    fn set_max_height(&mut self, height: Option<u32>) {
        self.early_max_height = Some(height);
    }
}
