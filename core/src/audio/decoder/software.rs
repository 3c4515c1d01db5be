//! Demux and decode of one audio track with symphonia, over the byte cache, sample-accurate
//! (the `symphonia` feature).

use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::{Error as SymError, SeekErrorKind};
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::{Time, TimeBase};

use super::{Stall, Step};
use crate::audio::mix::Layout;
use crate::audio::mp3::{self, LengthScan};
use crate::audio::mp4_edit::{self, Edit};
use crate::demux::{DemuxError, Peek};
use crate::error::{Error, ErrorKind};
use crate::host::MediaInfo;
use crate::source::cache::{lock, CacheReader, SharedCache};

/// Contiguous bytes wanted after the read position before the demuxer is asked for a packet, so
/// that a packet never straddles bytes that are still on the network.
const READ_MARGIN: u64 = 256 * 1024;
/// Consecutive undecodable packets tolerated before the stream is declared corrupt.
const MAX_BAD_PACKETS: u32 = 16;
/// Frames decoded and dropped before a seek target with lossy codecs.
const PREROLL_FRAMES: i64 = 4096;
/// Most channels accepted from a source.
const MAX_CHANNELS: usize = 32;

/// One opened source: the demuxer, the decoder of its audio track and the frame position.
pub struct AudioSource {
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    params: AudioCodecParameters,
    cache: SharedCache,
    track_id: u32,
    time_base: Option<TimeBase>,
    rate: u32,
    channels: usize,
    edit: Edit,
    /// Presentation frame of the next frame to output; `None` until the first packet places it.
    next_frame: Option<i64>,
    /// Frames before this presentation frame are decoded but dropped (accurate seek).
    skip_until: i64,
    bad_packets: u32,
    broken: bool,
    ended: bool,
    lossless: bool,
    info: MediaInfo,
    scratch: Vec<f32>,
    /// Frames of silence still to hand out before `held` (the track's leading delay, from the
    /// edit list, when decoding starts before the first frame).
    silence_left: i64,
    /// Decoded frames waiting behind that silence.
    held: Vec<f32>,
    /// An MP3 whose duration is only estimated: the count of its frames to run.
    length_scan: Option<LengthScan>,
}

fn classify(err: SymError, cache: &SharedCache) -> Stall {
    if let Some(offset) = lock(cache).take_miss() {
        return Stall::NeedBytes(offset);
    }
    Stall::Fatal(match err {
        SymError::Unsupported(what) => Error::new(
            ErrorKind::Unsupported,
            format!("not a supported media format or feature ({what})"),
        ),
        SymError::LimitError(what) => {
            Error::new(ErrorKind::Limit, format!("limit exceeded ({what})"))
        }
        SymError::DecodeError(what) => {
            Error::new(ErrorKind::Decode, format!("invalid media data ({what})"))
        }
        SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Error::new(
            ErrorKind::Decode,
            "the media ends before its headers are complete",
        ),
        other => Error::new(ErrorKind::Decode, other.to_string()),
    })
}

/// symphonia's reader over the cached bytes; `length`: whether it may see the resource's
/// length (see `crate::audio::mp3`).
fn probe(
    cache: &SharedCache,
    ext: Option<&str>,
    length: bool,
) -> Result<Box<dyn FormatReader>, Stall> {
    lock(cache).take_miss();
    let mut source = CacheReader::new(cache.clone());
    if !length {
        source = source.without_length();
    }
    let mss = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    if let Some(ext) = ext {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| classify(e, cache))
}

/// The duration (seconds) symphonia gives the default audio track of `reader`.
fn track_secs(reader: &dyn FormatReader) -> Option<f64> {
    let track = reader.default_track(TrackType::Audio)?;
    let frames = track.duration.map(|d| d.get()).or(track.num_frames)?;
    let time = track.time_base?.calc_duration(frames.into())?;
    Some(time.as_secs_f64())
}

impl AudioSource {
    /// Probes the cached bytes and opens the first decodable audio track.
    pub fn open(cache: &SharedCache, ext: Option<&str>) -> Result<AudioSource, Stall> {
        AudioSource::open_with(cache, ext, None)
    }

    /// [`AudioSource::open`], with the channel count the container declares (`channels`)
    /// for when symphonia's reader knows none: MP3 inside MP4, whose sample entry has it but
    /// which symphonia's MP4 reader leaves unset.
    pub fn open_with(
        cache: &SharedCache,
        ext: Option<&str>,
        channels: Option<usize>,
    ) -> Result<AudioSource, Stall> {
        let hint = channels;
        let mut reader = probe(cache, ext, true)?;
        // An MP3 without a frame count: its exact length is counted later; when symphonia
        // only estimated it, the estimate is announced but the decoding reader must not see
        // the length (it would trim the audio past the estimate).
        let mut length_scan = None;
        let mut estimate = None;
        if reader.format_info().short_name == "mp3" {
            let head = mp3::read_head(&mut Peek(&lock(cache)));
            match head {
                Ok(Some(head)) => {
                    if mp3::needs_scan(&head) {
                        length_scan = Some(LengthScan::new(&head));
                    }
                    if mp3::hides_length(&head) {
                        estimate = track_secs(reader.as_ref());
                        reader = probe(cache, ext, false)?;
                    }
                }
                Ok(None) => {}
                Err(DemuxError::NeedBytes(at)) => return Err(Stall::NeedBytes(at)),
                Err(_) => {}
            }
        }
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or_else(|| Stall::Fatal(Error::new(ErrorKind::Unsupported, "no audio track")))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| {
                Stall::Fatal(Error::new(
                    ErrorKind::Unsupported,
                    "no audio codec parameters",
                ))
            })?
            .clone();
        let track_id = track.id;
        let time_base = track.time_base;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => Stall::Fatal(Error::new(
                    ErrorKind::Unsupported,
                    format!("no decoder for this audio codec ({:?})", params.codec),
                )),
                other => classify(other, cache),
            })?;
        let rate = params
            .sample_rate
            .filter(|&r| r > 0 && r <= 768_000)
            .ok_or_else(|| {
                Stall::Fatal(Error::new(
                    ErrorKind::Unsupported,
                    "unknown or invalid sample rate",
                ))
            })?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .filter(|&n| n > 0)
            .or(hint)
            .unwrap_or(0);
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(Stall::Fatal(Error::new(
                ErrorKind::Unsupported,
                format!("unsupported channel count {channels}"),
            )));
        }
        let container = reader.format_info().short_name.to_string();
        let edit = if container.contains("mp4") {
            mp4_edit::read(cache, track_id, rate).map_err(|e| match e {
                mp4_edit::EditError::NeedBytes(at) => Stall::NeedBytes(at),
                mp4_edit::EditError::Invalid(msg) => Stall::Fatal(Error::new(
                    ErrorKind::Decode,
                    format!("invalid edit list: {msg}"),
                )),
            })?
        } else {
            Edit::default()
        };
        let track_frames = track
            .duration
            .map(|d| d.get())
            .or(track.num_frames)
            .and_then(|d| time_base.and_then(|tb| tb.calc_duration(d.into())))
            .map(|t| (t.as_secs_f64() * rate as f64).round() as u64);
        let frames = edit
            .valid
            .or_else(|| track_frames.map(|f| f.saturating_sub(edit.priming)))
            .map(|f| f + edit.delay);
        let info = MediaInfo {
            container,
            audio_codec: decoder.codec_info().short_name.to_string(),
            sample_rate: rate,
            channels: channels as u16,
            duration: frames
                .map(|f| f as f64)
                .or(estimate.map(|secs| (secs * rate as f64).round()))
                .map(|f| f / rate as f64),
            ..MediaInfo::default()
        };
        Ok(AudioSource {
            reader,
            decoder,
            params,
            cache: cache.clone(),
            track_id,
            time_base,
            rate,
            channels,
            edit,
            next_frame: None,
            skip_until: 0,
            bad_packets: 0,
            broken: false,
            ended: false,
            lossless: matches!(info.audio_codec.as_str(), "flac" | "alac")
                || info.audio_codec.starts_with("pcm"),
            info,
            scratch: Vec::new(),
            silence_left: 0,
            held: Vec::new(),
            length_scan,
        })
    }

    /// For an MP3 whose duration is only estimated (or not known), the count of its frames
    /// that gives the exact one ([`LengthScan`]); `None` for every other file.
    pub fn length_scan(&self) -> Option<LengthScan> {
        self.length_scan.clone()
    }

    /// What was learned when the source was opened.
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// Source sample rate.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Source channel count (samples per interleaved frame this pipeline outputs).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The speaker positions of the decoded channels (symphonia's, when it names them).
    pub fn layout(&self) -> Layout {
        match &self.params.channels {
            Some(Channels::Positioned(p)) => Layout::from_mask(p.bits(), self.channels),
            _ => Layout::of_count(self.channels),
        }
    }

    /// A read failed mid-operation: the demuxer state is unreliable; re-open and seek.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Presentation frame of the next frame `decode` will append.
    pub fn position(&self) -> i64 {
        let waiting = self.silence_left + (self.held.len() / self.channels.max(1)) as i64;
        (self.next_frame.unwrap_or(self.skip_until) - waiting).max(self.skip_until)
    }

    /// Hands out the leading silence, then the frames held behind it (see `silence_left`).
    fn drain_delay(&mut self, out: &mut Vec<f32>) -> Option<Step> {
        if self.silence_left > 0 {
            let n = self.silence_left.min(4096);
            self.silence_left -= n;
            out.resize(out.len() + n as usize * self.channels, 0.0);
            return Some(Step::Frames(n as usize));
        }
        if self.held.is_empty() {
            return None;
        }
        let n = self.held.len() / self.channels.max(1);
        out.append(&mut self.held);
        Some(Step::Frames(n))
    }

    fn ts_to_frame(&self, ts: i64) -> i64 {
        match self.time_base {
            Some(tb) => {
                let num = ts as i128 * tb.numer.get() as i128 * self.rate as i128;
                (num / tb.denom.get() as i128) as i64
            }
            None => ts,
        }
    }

    /// Decodes the next packet of the track, appending interleaved `f32` frames (source rate and
    /// channels) to `out`.
    pub fn decode(&mut self, out: &mut Vec<f32>) -> Result<Step, Stall> {
        if let Some(step) = self.drain_delay(out) {
            return Ok(step);
        }
        if self.ended {
            return Ok(Step::End);
        }
        {
            let cache = lock(&self.cache);
            let pos = cache.read_pos();
            let have = cache.contiguous_from(pos);
            if have < READ_MARGIN && !cache.complete_from(pos) {
                return Err(Stall::NeedBytes(pos + have));
            }
        }
        lock(&self.cache).take_miss();
        let packet = match self.reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => {
                self.ended = true;
                return Ok(Step::End);
            }
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                if let Some(at) = lock(&self.cache).take_miss() {
                    self.broken = true;
                    return Err(Stall::NeedBytes(at));
                }
                self.ended = true;
                return Ok(Step::End);
            }
            Err(SymError::ResetRequired) => {
                return Err(Stall::Fatal(Error::new(
                    ErrorKind::Unsupported,
                    "the stream changes its tracks mid-way (chained streams)",
                )))
            }
            Err(e) => {
                let stall = classify(e, &self.cache);
                if matches!(stall, Stall::NeedBytes(_)) {
                    self.broken = true;
                }
                return Err(stall);
            }
        };
        if packet.track_id != self.track_id {
            return Ok(Step::Frames(0));
        }
        let start = self.ts_to_frame(
            packet
                .pts
                .get()
                .saturating_add(packet.trim_start.get() as i64),
        ) - self.edit.priming as i64
            + self.edit.delay as i64;
        let decoded = match self.decoder.decode(&packet) {
            Ok(buf) => buf,
            // A corrupt packet can look like an unsupported feature (AAC "program config"):
            // the decoder was created for this stream, so it is damage, not a missing feature.
            Err(SymError::DecodeError(_))
            | Err(SymError::IoError(_))
            | Err(SymError::Unsupported(_)) => {
                self.bad_packets += 1;
                if self.bad_packets > MAX_BAD_PACKETS {
                    return Err(Stall::Fatal(Error::new(
                        ErrorKind::Decode,
                        format!("{} consecutive packets failed to decode", self.bad_packets),
                    )));
                }
                return Ok(Step::Frames(0));
            }
            Err(e) => return Err(classify(e, &self.cache)),
        };
        self.bad_packets = 0;
        let frames = decoded.frames();
        if decoded.spec().channels().count() != self.channels {
            return Err(Stall::Fatal(Error::new(
                ErrorKind::Unsupported,
                "the channel layout changes mid-stream",
            )));
        }
        if frames == 0 {
            // Decoders that need a previous packet (Vorbis after a seek) output nothing for
            // the first one: only a packet with output places the position.
            return Ok(Step::Frames(0));
        }
        self.scratch.clear();
        decoded.copy_to_vec_interleaved(&mut self.scratch);
        let placed = self.next_frame.is_none();
        let first = *self.next_frame.get_or_insert(start);
        // Sequential output; the packet timestamp only places the first packet after a seek.
        self.next_frame = Some(first + frames as i64);
        let lo = self.skip_until.max(0);
        let hi = self
            .edit
            .valid
            .map(|v| (v + self.edit.delay) as i64)
            .unwrap_or(i64::MAX);
        let from = (lo - first).clamp(0, frames as i64) as usize;
        let to = (hi - first).clamp(0, frames as i64) as usize;
        if first + frames as i64 >= hi {
            self.ended = true;
        }
        if placed && first > lo && from < to {
            // The track starts after the position asked for (an empty edit): silence first.
            self.silence_left = first - lo;
            self.held.clear();
            self.held
                .extend_from_slice(&self.scratch[from * self.channels..to * self.channels]);
            return Ok(self.drain_delay(out).unwrap_or(Step::Frames(0)));
        }
        if from < to {
            out.extend_from_slice(&self.scratch[from * self.channels..to * self.channels]);
        }
        Ok(Step::Frames(to.saturating_sub(from)))
    }

    /// Positions the source so the next decoded frame is presentation frame `frame` exactly.
    pub fn seek(&mut self, frame: i64) -> Result<(), Stall> {
        let frame = frame.max(0);
        self.ended = false;
        // A fresh decoder rather than `reset()`: symphonia's AAC decoder keeps state across a
        // reset, which made the first block after a seek differ from a clean decode.
        match symphonia::default::get_codecs()
            .make_audio_decoder(&self.params, &AudioDecoderOptions::default())
        {
            Ok(decoder) => self.decoder = decoder,
            Err(_) => self.decoder.reset(),
        }
        lock(&self.cache).take_miss();
        // Start decoding a little before the target so lossy decoders (overlapped transforms,
        // the MP3 bit reservoir) have rebuilt their state by the time the target frame comes.
        let preroll = if self.lossless { 0 } else { PREROLL_FRAMES };
        self.silence_left = 0;
        self.held.clear();
        let start = (frame + self.edit.priming as i64 - self.edit.delay as i64 - preroll).max(0);
        let target = start as f64 / self.rate as f64;
        let time = Time::try_from_secs_f64(target).unwrap_or(Time::ZERO);
        let result = self.reader.seek(
            SeekMode::Accurate,
            SeekTo::Time {
                time,
                track_id: Some(self.track_id),
            },
        );
        match result {
            Ok(_) => {
                self.next_frame = None;
                self.skip_until = frame;
                Ok(())
            }
            Err(SymError::SeekError(SeekErrorKind::OutOfRange)) => {
                self.ended = true;
                self.next_frame = Some(frame);
                self.skip_until = frame;
                Ok(())
            }
            Err(e) => {
                let stall = classify(e, &self.cache);
                if matches!(stall, Stall::NeedBytes(_)) {
                    self.broken = true;
                }
                Err(stall)
            }
        }
    }
}

/// Decodes a whole in-memory file to interleaved `f32` at its own rate and channel count.
///
/// The same pipeline the player runs (probe, trim, decode), without a host: used by reference
/// tests against ffmpeg, benchmarks and fuzz targets.
pub fn decode_all(bytes: &[u8], ext: Option<&str>) -> Result<(MediaInfo, Vec<f32>), Error> {
    let cache: SharedCache = std::sync::Arc::new(std::sync::Mutex::new(
        crate::source::cache::ByteCache::new((bytes.len() as u64).saturating_mul(2)),
    ));
    {
        let mut c = lock(&cache);
        c.write(0, bytes);
        c.set_total(bytes.len() as u64);
    }
    let fatal = |s: Stall| match s {
        Stall::Fatal(e) => e,
        Stall::NeedBytes(at) => {
            Error::new(ErrorKind::Decode, format!("read past the data at {at}"))
        }
    };
    let mut src = AudioSource::open(&cache, ext).map_err(fatal)?;
    let mut pcm = Vec::new();
    while src.decode(&mut pcm).map_err(fatal)? != Step::End {}
    Ok((src.info().clone(), pcm))
}
