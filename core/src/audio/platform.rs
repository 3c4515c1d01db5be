//! Audio the core does not decode itself: compressed packets go to the host's decoder
//! (WebCodecs `AudioDecoder`), PCM comes back and joins the normal audio path. PCM tracks
//! (`crate::audio::pcm`) take the same path without a decoder: converted here. Also the
//! silent source that drives the clock of video-only files.

use std::collections::VecDeque;

use crate::audio::decoder::Step;
use crate::audio::mix::{remixed, Layout};
use crate::audio::pcm::Format;
use crate::audio::resample::RateConverter;
use crate::demux::codec::aac_lc_channel_config;
use crate::demux::{ByteSource, Cursor, Demux, DemuxError, Sample};
use crate::error::{Error, ErrorKind};
use crate::host::{AudioDecoderConfig, EncodedChunk, HostCommand};

/// Most chunks inside the host decoder at once.
const MAX_IN_FLIGHT: u32 = 16;
/// Most decoded frames waiting (per channel), ~1 s at 48 kHz.
const MAX_WAITING_FRAMES: usize = 48_000;
/// Largest compressed audio packet accepted.
const MAX_PACKET: u32 = 1024 * 1024;
/// Decoded before a seek target so Opus (80 ms) and friends converge.
const SEEK_PREROLL_US: i64 = 80_000;

struct Pcm {
    first: i64,
    /// The first block of a new decoder configuration: placed by its timestamp, not after
    /// the previous block (levels cut and prime their audio differently).
    realign: bool,
    rate: u32,
    channels: usize,
    samples: Vec<f32>,
}

/// A change of decoder configuration at a segment boundary (an adaptive stream switching to a
/// level whose audio is coded differently: another sample rate, channel layout or profile).
struct Switch {
    config: AudioDecoderConfig,
    /// The old decoder has delivered everything it was given.
    flushed: bool,
}

/// Packets out to the host decoder, PCM back in.
///
/// The PCM it hands on is always in the format the stream started with (`rate`, `channels`):
/// when an adaptive stream's audio changes configuration between segments (a level switch in
/// an HLS ladder whose muxed audio differs per level), the decoder is flushed, configured
/// again at the segment boundary, and its output converted back to that format (rate by the
/// streaming resampler, channels up/down mixed), so the clock, the device path and every
/// position stay in one timeline.
pub struct PlatformAudio {
    /// Index of the audio track in the demuxer.
    pub track: usize,
    /// The decoder's current configuration.
    config: AudioDecoderConfig,
    /// The output format (the stream's first configuration).
    out_rate: u32,
    out_channels: usize,
    /// The speaker positions of the output channels.
    out_layout: Layout,
    switch: Option<Switch>,
    /// The segment whose configuration was last looked at.
    checked_segment: Option<usize>,
    /// Converts decoder output at another rate to `out_rate`: (input rate, converter).
    converter: Option<(u32, Box<RateConverter>)>,
    /// Configuration changes carried out.
    switches: u32,
    /// The next decoded block is the first of a new configuration.
    realign_next: bool,
    generation: u32,
    configured: bool,
    cursor: Cursor,
    pending: Option<Sample>,
    seek_to: Option<i64>,
    /// Presentation frame before which output is dropped (seek target).
    start_frame: i64,
    fed_end: bool,
    flush_sent: bool,
    flushed: bool,
    in_flight: u32,
    pcm: VecDeque<Pcm>,
    waiting_frames: usize,
    next_frame: i64,
    errors: u32,
}

impl PlatformAudio {
    /// A source for track `track` decoded with `config`; generations continue after
    /// `last_generation`.
    pub fn new(track: usize, config: AudioDecoderConfig, last_generation: u32) -> Self {
        PlatformAudio {
            track,
            out_rate: config.sample_rate.max(1),
            out_channels: usize::from(config.channels.max(1)),
            out_layout: decoder_layout(&config, usize::from(config.channels.max(1))),
            config,
            switch: None,
            checked_segment: None,
            converter: None,
            switches: 0,
            realign_next: false,
            generation: last_generation,
            configured: false,
            cursor: Cursor::default(),
            pending: None,
            seek_to: Some(0),
            start_frame: 0,
            fed_end: false,
            flush_sent: false,
            flushed: false,
            in_flight: 0,
            pcm: VecDeque::new(),
            waiting_frames: 0,
            next_frame: 0,
            errors: 0,
        }
    }

    /// For an adaptive stream, whose levels may carry other channel layouts: hands on at
    /// least stereo (a mono first level is duplicated, losslessly), so a session that starts
    /// on a mono level keeps stereo when it climbs. The rate stays the first level's (the
    /// resampler is transparent to 16 kHz, see `resample.rs`).
    pub fn for_adaptive(mut self) -> Self {
        if self.out_channels < 2 {
            self.out_channels = 2;
            self.out_layout = Layout::of_count(2);
        }
        self
    }

    /// Sample rate of the stream (of the PCM this source hands on).
    pub fn rate(&self) -> u32 {
        self.out_rate
    }

    /// Channels of the stream (of the PCM this source hands on).
    pub fn channels(&self) -> usize {
        self.out_channels
    }

    /// The speaker positions of [`PlatformAudio::channels`].
    pub fn layout(&self) -> Layout {
        self.out_layout
    }

    /// Decoder configuration changes carried out so far (adaptive level switches).
    pub fn config_switches(&self) -> u32 {
        self.switches
    }

    /// Presentation frame of the next frame `decode` returns.
    pub fn position(&self) -> i64 {
        self.next_frame
    }

    /// The current decoder generation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Positions so the next decoded frame is presentation frame `frame`.
    pub fn seek(&mut self, frame: i64) {
        let frame = frame.max(0);
        let us = frame as i128 * 1_000_000 / self.rate() as i128;
        self.seek_to = Some((us as i64 - SEEK_PREROLL_US).max(0));
        self.start_frame = frame;
        self.next_frame = frame;
        self.pcm.clear();
        self.waiting_frames = 0;
        self.pending = None;
        self.fed_end = false;
        self.flush_sent = false;
        self.flushed = false;
        self.in_flight = 0;
        self.configured = false;
        self.switch = None;
        self.checked_segment = None;
        self.converter = None;
    }

    /// Feeds the host decoder as far as the bounds allow.
    pub fn feed(
        &mut self,
        demux: &mut dyn Demux,
        src: &mut dyn ByteSource,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), DemuxError> {
        if let Some(t) = self.seek_to {
            self.cursor = demux.seek(src, self.track, t)?;
            self.seek_to = None;
        }
        if let Some(sw) = self.switch.take_if(|sw| sw.flushed) {
            // The old decoder is drained: the next chunk configures the new one.
            self.config = sw.config;
            self.configured = false;
            self.in_flight = 0;
            self.switches += 1;
            self.realign_next = true;
        }
        if self.switch.is_some() {
            return Ok(());
        }
        while !self.fed_end
            && self.in_flight < MAX_IN_FLIGHT
            && self.waiting_frames < MAX_WAITING_FRAMES
        {
            let sample = match self.pending.take() {
                Some(s) => s,
                None => {
                    let mut c = self.cursor;
                    match demux.next_sample(src, self.track, &mut c)? {
                        Some(s) => {
                            self.cursor = c;
                            if self.checked_segment != Some(c.segment) {
                                self.checked_segment = Some(c.segment);
                                let next = demux
                                    .sample_config(self.track, c.segment)
                                    .and_then(config_of)
                                    .filter(|n| *n != self.config);
                                if let Some(next) = next {
                                    if !self.configured {
                                        self.config = next;
                                    } else {
                                        // Drain the old decoder first: configuring closes it.
                                        self.pending = Some(s);
                                        self.switch = Some(Switch {
                                            config: next,
                                            flushed: false,
                                        });
                                        out.push(HostCommand::FlushAudioDecoder {
                                            generation: self.generation,
                                        });
                                        break;
                                    }
                                }
                            }
                            s
                        }
                        None => {
                            self.fed_end = true;
                            break;
                        }
                    }
                }
            };
            if sample.size > MAX_PACKET {
                return Err(DemuxError::Invalid(format!(
                    "audio packet of {} bytes exceeds the limit",
                    sample.size
                )));
            }
            let mut data = vec![0u8; sample.size as usize];
            let n = match demux.read_sample(src, &sample, &mut data) {
                Ok(n) => n,
                Err(e) => {
                    self.pending = Some(sample);
                    return Err(e);
                }
            };
            if n < data.len() {
                self.fed_end = true;
                break;
            }
            if let Some(format) = Format::of(&self.config.codec) {
                // PCM: converted here, no decoder asked (never `configured`).
                let mut samples = Vec::new();
                format.convert(&data, &mut samples);
                let (rate, channels) = (self.config.sample_rate, self.config.channels);
                self.push_pcm(sample.pts_us, rate, channels, samples);
                continue;
            }
            if !self.configured {
                self.generation = self.generation.wrapping_add(1);
                out.push(HostCommand::ConfigureAudioDecoder {
                    generation: self.generation,
                    config: self.config.clone(),
                });
                self.configured = true;
            }
            out.push(HostCommand::DecodeAudio {
                generation: self.generation,
                chunk: EncodedChunk {
                    timestamp_us: sample.pts_us,
                    duration_us: sample.duration_us,
                    key: true,
                    data,
                },
            });
            self.in_flight += 1;
        }
        if self.fed_end && !self.flush_sent {
            self.flush_sent = true;
            if self.configured {
                out.push(HostCommand::FlushAudioDecoder {
                    generation: self.generation,
                });
            } else {
                self.flushed = true;
            }
        }
        Ok(())
    }

    /// PCM arrived from the host decoder.
    pub fn on_decoded(
        &mut self,
        generation: u32,
        timestamp_us: i64,
        sample_rate: u32,
        channels: u16,
        samples: Vec<f32>,
    ) {
        if generation != self.generation || !self.configured {
            return;
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        self.push_pcm(timestamp_us, sample_rate, channels, samples);
    }

    /// Queues a decoded block (from the host, or converted PCM).
    fn push_pcm(&mut self, timestamp_us: i64, sample_rate: u32, channels: u16, samples: Vec<f32>) {
        let channels = usize::from(channels.max(1));
        let first = (timestamp_us as i128 * self.rate() as i128 / 1_000_000) as i64;
        self.waiting_frames += samples.len() / channels;
        self.pcm.push_back(Pcm {
            first,
            realign: std::mem::take(&mut self.realign_next),
            rate: if sample_rate == 0 {
                self.config.sample_rate.max(1)
            } else {
                sample_rate
            },
            channels,
            samples,
        });
    }

    /// The host decoder finished a flush.
    pub fn on_flushed(&mut self, generation: u32) {
        if generation != self.generation {
            return;
        }
        if let Some(sw) = self.switch.as_mut() {
            sw.flushed = true;
        } else if self.flush_sent {
            self.flushed = true;
            self.in_flight = 0;
        }
    }

    /// The host decoder failed.
    pub fn on_error(
        &mut self,
        generation: u32,
        unsupported: bool,
        message: &str,
    ) -> Result<(), Error> {
        if generation != self.generation {
            return Ok(());
        }
        self.errors += 1;
        if unsupported || self.errors > 3 {
            return Err(Error::new(
                if unsupported {
                    ErrorKind::Unsupported
                } else {
                    ErrorKind::Decode
                },
                format!("audio codec {}: {message}", self.config.codec),
            ));
        }
        // Start again just after what was output.
        let at = self.next_frame;
        self.seek(at);
        Ok(())
    }

    /// Appends the next decoded PCM (interleaved, stream rate and channels) to `out`.
    pub fn decode(&mut self, out: &mut Vec<f32>) -> Result<Step, Error> {
        let Some(pcm) = self.pcm.pop_front() else {
            return Ok(if self.flushed {
                Step::End
            } else {
                Step::Waiting
            });
        };
        self.waiting_frames = self
            .waiting_frames
            .saturating_sub(pcm.samples.len() / pcm.channels);
        let pcm = self.convert(pcm)?;
        let frames = pcm.samples.len() / pcm.channels;
        // Sequential output once started; the timestamp places the first block after a seek.
        // A block that starts well after the last one (a segment the stream skipped) is
        // preceded by silence for the gap, so the clock keeps video in step.
        let rate = i64::from(self.rate());
        let mut gap = 0usize;
        let expected = self.next_frame.max(self.start_frame);
        // After a configuration change the block goes where its timestamp says: a small gap
        // is filled with silence, an overlap is cut, so audio and video stay in step.
        let started = self.next_frame > self.start_frame;
        let realign = pcm.realign && started;
        if pcm.first > expected + rate / 10 || (realign && pcm.first > expected) {
            gap = (pcm.first - expected).min(rate * MAX_GAP_SECS) as usize;
            out.extend(std::iter::repeat_n(0.0, gap * pcm.channels));
            self.next_frame = expected + gap as i64;
        }
        let overlap = if realign {
            (expected - pcm.first).clamp(0, frames as i64) as usize
        } else {
            0
        };
        let first = if started { self.next_frame } else { pcm.first };
        let from = ((self.start_frame - first).clamp(0, frames as i64) as usize).max(overlap);
        if from < frames {
            out.extend_from_slice(&pcm.samples[from * pcm.channels..]);
        }
        self.next_frame = (first + (frames - overlap) as i64).max(self.next_frame);
        Ok(Step::Frames(gap + frames - from.min(frames)))
    }
}

impl PlatformAudio {
    /// Brings a decoded block to the output format: channels first (fewer frames to
    /// resample when mixing down), then the rate.
    fn convert(&mut self, pcm: Pcm) -> Result<Pcm, Error> {
        let mut pcm = pcm;
        if pcm.channels != self.out_channels {
            let from = decoder_layout(&self.config, pcm.channels);
            pcm.samples = remixed(&pcm.samples, from, self.out_channels);
            pcm.channels = self.out_channels;
        }
        if pcm.rate == self.out_rate {
            self.converter = None;
            return Ok(pcm);
        }
        let ratio = f64::from(self.out_rate) / f64::from(pcm.rate);
        if self.converter.as_ref().is_none_or(|(r, _)| *r != pcm.rate) {
            let c = RateConverter::new(self.out_channels, ratio).map_err(|e| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!("audio at {} Hz cannot be converted: {e}", pcm.rate),
                )
            })?;
            self.converter = Some((pcm.rate, Box::new(c)));
        }
        let mut samples = Vec::with_capacity((pcm.samples.len() as f64 * ratio) as usize + 64);
        if let Some((_, c)) = self.converter.as_mut() {
            c.process(&pcm.samples, &mut samples);
        }
        Ok(Pcm {
            first: pcm.first,
            realign: pcm.realign,
            rate: self.out_rate,
            channels: pcm.channels,
            samples,
        })
    }
}

/// The decoder configuration a segment's track info asks for (`None` when it names none).
fn config_of(t: &crate::demux::TrackInfo) -> Option<AudioDecoderConfig> {
    (!t.codec.is_empty() && !t.codec.starts_with('?') && t.sample_rate > 0 && t.channels > 0).then(
        || AudioDecoderConfig {
            codec: t.codec.clone(),
            description: t.description.clone(),
            sample_rate: t.sample_rate,
            channels: t.channels,
        },
    )
}

/// The layout the host decoder hands `channels` channels of `config` out in: the AAC
/// AudioSpecificConfig's where it differs from the default of the count, else the default.
fn decoder_layout(config: &AudioDecoderConfig, channels: usize) -> Layout {
    config
        .codec
        .starts_with("mp4a.40.")
        .then_some(config.description.as_deref())
        .flatten()
        .and_then(aac_lc_channel_config)
        .and_then(Layout::of_aac_config)
        .filter(|l| l.count() == channels)
        .unwrap_or_else(|| Layout::of_count(channels))
}

/// Longest gap between decoded blocks filled with silence (longer ones are cut short).
const MAX_GAP_SECS: i64 = 10;

/// Silence that drives the clock of a file without audio.
pub struct Silence {
    rate: u32,
    position: i64,
    end: Option<i64>,
}

/// Frames of silence per decode step.
const SILENCE_BLOCK: i64 = 2048;

impl Silence {
    /// Silence at `rate` until `end_secs` (open-ended while `None`).
    pub fn new(rate: u32, end_secs: Option<f64>) -> Self {
        let mut s = Silence {
            rate: rate.max(1),
            position: 0,
            end: None,
        };
        s.set_end(end_secs);
        s
    }

    /// Sets (or corrects) where the silence ends.
    pub fn set_end(&mut self, end_secs: Option<f64>) {
        self.end = end_secs.map(|e| (e.max(0.0) * self.rate as f64).round() as i64);
    }

    /// Rate of the silence.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Next frame.
    pub fn position(&self) -> i64 {
        self.position
    }

    /// Positions at `frame`.
    pub fn seek(&mut self, frame: i64) {
        self.position = frame.max(0);
    }

    /// Appends a block of stereo silence.
    pub fn decode(&mut self, out: &mut Vec<f32>) -> Step {
        let n = match self.end {
            Some(end) if self.position >= end => return Step::End,
            Some(end) => (end - self.position).min(SILENCE_BLOCK),
            None => SILENCE_BLOCK,
        };
        out.resize(out.len() + 2 * n as usize, 0.0);
        self.position += n;
        Step::Frames(n as usize)
    }
}
