//! One loaded resource ([`Session`]) and how it opens: sniffing (manifest or media), probing
//! (the core's demuxers for video or platform-decoded audio, symphonia for the rest), the
//! pipelines of an adaptive stream once its first segments are parsed, and feeding the video
//! pipeline and the platform audio decoder from the demuxer.

use super::*;

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
    pub(super) ext: Option<String>,
    pub(super) cache: SharedCache,
    pub(super) loader: Loader,
    pub(super) source: Option<Audio>,
    /// The container demuxer, for sources with video or platform-decoded audio.
    pub(super) demux: Option<Box<dyn Demux + Send>>,
    pub(super) video: Option<VideoPipe>,
    /// Bytes the video or platform-audio feeder waits for.
    pub(super) feed_need: Option<u64>,
    /// Quality choices made before the manifest was in (manual level, height cap): applied
    /// when the adaptive source opens.
    pub(super) early_quality: Option<Option<usize>>,
    pub(super) early_max_height: Option<Option<u32>>,
    pub(super) pending: Pending,
    pub(super) need: Option<u64>,
    /// Decoded audio on its way to the device (remix, resample, padding, end of stream).
    pub(super) out: AudioPipeline,
    pub(super) last_frame: i64,
    /// An HLS/DASH stream: segments, ABR and live refresh (the loader only fetched the
    /// manifest).
    pub(super) adaptive: Option<AdaptiveSource>,
    /// The audio track changed: rebuild the audio pipeline once the new track's first segment
    /// is parsed.
    pub(super) audio_switch: bool,
    /// A live stream just opened: playback moves here (hold-back behind the live edge) before
    /// it starts.
    pub(super) live_start: Option<f64>,
}

/// Maps a demuxer failure during open to the player's stall type.
pub(super) fn demux_stall(e: DemuxError) -> Stall {
    match e {
        DemuxError::NeedBytes(at) => Stall::NeedBytes(at),
        e => Stall::Fatal(e.into()),
    }
}

/// Probes the session's resource: containers with video (or audio the core cannot decode)
/// get the core's demuxer and platform decoders; everything else the symphonia audio path.
pub(super) fn open_media(
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
    // PCM in QuickTime/MP4 goes to symphonia too: its MP4 reader already reads the PCM
    // sample entries (sowt, twos, lpcm, in24/fl32 with `enda`), so the core needs no PCM
    // decoder of its own; `demux::mp4::is_core_pcm` leaves out what symphonia misreads.
    let core_audio = |codec: &str| {
        codec.starts_with("mp4a.40.")
            || codec == "mp3"
            || codec == "flac"
            || demux::mp4::is_core_pcm(codec)
    };
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
        // Unrotated until hosts rotate pictures (the size they draw).
        let (width, height) = t.unrotated_display_size();
        info.width = width.max(1);
        info.height = height.max(1);
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
                if t.codec.starts_with("pcm-") {
                    // Fragmented, or an order symphonia misreads: no platform decoder
                    // takes these names.
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
pub(super) fn feed_pipes(
    s: &mut Session,
    scratch: &mut Vec<HostCommand>,
) -> Result<Option<u64>, Error> {
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
pub(super) fn open_source(
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
pub(super) fn open_adaptive(
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
        let (width, height) = t.unrotated_display_size();
        info.width = width.max(1);
        info.height = height.max(1);
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

pub(super) fn audio_config(t: &demux::TrackInfo) -> Result<AudioDecoderConfig, Stall> {
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

/// After an audio-track switch, once the new track's first segment is parsed: a fresh audio
/// decoder with its configuration, positioned at the playhead.
pub(super) fn rebuild_switched_audio(s: &mut Session, audio_generation: &mut u32, playhead: f64) {
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
