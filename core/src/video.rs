//! Video scheduling: feeds the platform decoder from the demuxer, holds the ids of decoded
//! pictures (the pictures themselves stay on the host), presents the one whose interval
//! contains the clock, drops late ones and releases everything it no longer needs.
//!
//! Audio is the master. When decoding (or the host's drawing) cannot keep up, pictures come
//! out after their time. Of the pictures due only the newest can be shown (older ones are
//! dropped), and only while it is at most [`SHOW_LATE_US`] (or a frame) late: a later one is
//! dropped too and the picture on screen stays, so a picture is never shown out of sync with
//! the sound (`<video>` and ExoPlayer drop late frames the same way). Once pictures come late,
//! the decoding changes so the lag stays bounded instead of growing: past twice that, H.264
//! pictures no other refers to (most B-frames) are not decoded, which gives a decoder that is
//! a little too slow its time back; and when a picture arrives more than [`BEHIND_US`] late,
//! or late pictures keep coming later, the feeder skips to a keyframe as far ahead of the
//! clock as the pictures were late, so the fresh decoder has it out before its time (the
//! samples it passes are never decoded). The first picture after such a skip is shown even
//! if it is late after all (a decoder slower than the skip allowed for): a frozen picture is
//! never the answer for good. A slower decoder shows fewer pictures, and every picture that
//! was due and not shown counts in [`VideoStats::dropped`]. (ExoPlayer's video renderer also
//! drops to the keyframe when far behind.)
//!
//! Decode-ahead is bounded: at most [`MAX_IN_FLIGHT`] chunks inside the decoder, at most
//! [`MAX_DECODED`] decoded pictures waiting (they are GPU memory on most hosts), and at most
//! [`MAX_AHEAD`] of both together. A host whose decoder holds more chunks before its first
//! picture comes out (a `<video>` fed through Media Source Extensions buffers ~250 ms before it
//! shows anything) raises the first and the last with [`VideoPipe::set_decoder_depth`].

use std::collections::VecDeque;

use crate::demux::{ByteSource, Cursor, Demux, DemuxError, Sample};
use crate::error::{Error, ErrorKind};
use crate::host::{EncodedChunk, FrameId, HostCommand, VideoDecoderConfig};

/// Most chunks fed to the decoder and not yet answered by a picture (covers the reorder
/// delay of B-frame streams).
pub const MAX_IN_FLIGHT: u32 = 8;
/// Most decoded pictures waiting to be presented.
pub const MAX_DECODED: usize = 6;
/// Chunks in flight while an exact seek decodes towards its target: the pictures before the
/// target are released as they arrive, so only the decoder's own queue grows.
pub const MAX_IN_FLIGHT_SEEKING: u32 = 32;
/// Most pictures waiting or in the decoder together: with the one on screen, the most
/// pictures the host ever holds for the player.
pub const MAX_AHEAD: usize = 10;
/// Largest compressed frame accepted.
pub const MAX_CHUNK: u32 = 32 * 1024 * 1024;
/// Decoder errors tolerated in one load before the player reports a decode error.
pub const MAX_DECODER_ERRORS: u32 = 3;
/// A picture whose time is more than this (or one frame duration, when longer) before the
/// clock is late: the decoding falls behind (the lip-sync tolerance for late video).
pub const LATE_US: i64 = 50_000;
/// A picture more than this late (or one frame duration, when longer) is not shown: the
/// lip-sync bound for late video, [`LATE_US`], less 10 ms for the host's drawing to vary
/// (what a host says its drawing takes, `HostEvent::VideoPresentLead`, is a mean). Wall time:
/// at playback rate r a picture may be r times this late in media time.
pub const SHOW_LATE_US: i64 = 40_000;
/// A picture this late (its start before the clock) makes the feeder skip to the next
/// keyframe after the clock; so do late pictures that keep coming later, one after the other,
/// beyond what the decoder held (the decoder is slower than the stream).
pub const BEHIND_US: i64 = 500_000;
/// Once a picture is shown less late than this, non-reference pictures are decoded again.
const LAG_CLEARED_US: i64 = 20_000;
/// Furthest a catch-up skips ahead of the clock (beyond what the pictures were late).
const MAX_CATCH_UP_LEAD_US: i64 = 2_000_000;

/// Counters an app (or the stats overlay) can read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VideoStats {
    /// Pictures the decoder output for the current position (stale generations excluded).
    pub decoded: u64,
    /// Pictures presented.
    pub presented: u64,
    /// Pictures that were due and not shown: decoded but late (the clock had passed them), or
    /// never decoded because the feeder skipped to a keyframe to catch up with the clock.
    pub dropped: u64,
    /// Times the feeder skipped to a keyframe because the video was far behind the clock.
    pub catch_ups: u64,
    /// Presented picture time minus the clock at presentation, milliseconds (positive: the
    /// picture is early; negative: late).
    pub av_offset_ms: f64,
    /// Chunks inside the decoder.
    pub in_flight: u32,
    /// Decoded pictures waiting.
    pub queued: u32,
    /// Decoder errors recovered from.
    pub decoder_errors: u32,
}

#[derive(Debug, Clone, Copy)]
struct Picture {
    id: FrameId,
    pts: i64,
    dur: i64,
}

/// The video pipeline of one loaded source.
#[derive(Debug)]
pub struct VideoPipe {
    /// Index of the video track in the demuxer.
    pub track: usize,
    config: VideoDecoderConfig,
    generation: u32,
    cursor: Cursor,
    /// A sample taken from the demuxer whose bytes are not fetched yet.
    pending: Option<Sample>,
    /// Where to position before feeding (seek not yet resolved by the demuxer).
    seek_to: Option<i64>,
    /// Feed nothing until a keyframe later than this (after a decoder error, or to catch up).
    skip_to_key_after: Option<i64>,
    /// The skip is a catch-up: the samples passed were due pictures (counted as dropped).
    catching_up: bool,
    /// A catch-up restarted the decoder: its first picture is shown even when late.
    landing: bool,
    /// How much later than the skip allowed for the first picture of a catch-up came, summed
    /// (µs): the next catch-up skips that much further ahead.
    landing_late: i64,
    /// Pictures are arriving late: H.264 pictures nothing refers to (most B-frames) are not
    /// decoded, to give the decoder back the time it lacks, until one is on time again.
    lagging: bool,
    /// How late the last late picture was (µs).
    last_late: i64,
    /// Late pictures in a row, each later than the one before.
    growing: u32,
    /// Pictures ending at or before this time are released unseen (exact seek).
    skip_before: Option<i64>,
    /// The latest of those, kept until a picture at the target arrives: a seek past the
    /// last picture (to the very end, or into audio that outlasts the video) shows it.
    early: Option<Picture>,
    fed_end: bool,
    flush_sent: bool,
    flushed: bool,
    in_flight: u32,
    /// Of those, chunks presented before the exact-seek target (released on arrival).
    in_flight_early: u32,
    frames: VecDeque<Picture>,
    shown: Option<Picture>,
    /// Nothing presented since the last reset: present the first picture that arrives.
    fresh: bool,
    frame_us: i64,
    /// End of the last sample fed (pts + duration), the end of the stream once `fed_end`.
    end_us: i64,
    /// Statistics.
    pub stats: VideoStats,
    configured: bool,
    /// Generations of this pipeline are greater than this.
    first_generation: u32,
    /// H.264 NAL length size (from avcC), to spot non-reference pictures.
    nal_length: Option<usize>,
    /// Non-reference pictures before a seek target that were never decoded.
    pub skipped: u64,
    /// The stream switches to this configuration at the pending keyframe (adaptive quality
    /// switch): the decoder is flushed first so no picture of the old one is lost.
    switch: Option<VideoDecoderConfig>,
    /// Configuration switches made.
    pub switches: u32,
    /// Most chunks in flight outside exact seeks: [`MAX_IN_FLIGHT`] unless the host's decoder
    /// is deeper ([`VideoPipe::set_decoder_depth`]).
    max_in_flight: u32,
}

/// True when an H.264 access unit (length-prefixed NAL units) holds only non-reference
/// slices (`nal_ref_idc == 0`): nothing else depends on it, so a seek can skip decoding it.
fn h264_non_reference(data: &[u8], nal_length: usize) -> bool {
    let mut at = 0usize;
    let mut slices = 0;
    while at + nal_length <= data.len() {
        let mut len = 0usize;
        for b in &data[at..at + nal_length] {
            len = (len << 8) | usize::from(*b);
        }
        at += nal_length;
        let Some(&header) = data.get(at) else { break };
        let kind = header & 0x1f;
        if (1..=5).contains(&kind) {
            if header & 0x60 != 0 {
                return false;
            }
            slices += 1;
        }
        at = at.saturating_add(len);
    }
    slices > 0
}

/// The H.264 NAL length size of an avcC description (None for other codecs or Annex B).
fn nal_length_of(config: &VideoDecoderConfig) -> Option<usize> {
    (config.codec.starts_with("avc1") || config.codec.starts_with("avc3"))
        .then(|| {
            config
                .description
                .as_ref()?
                .get(4)
                .map(|b| usize::from(b & 3) + 1)
        })
        .flatten()
}

/// The decoder configuration a track's info asks for: the display size of the decoded
/// pictures (unrotated) and the rotation and flip hosts draw them with.
pub(crate) fn config_of(t: &crate::demux::TrackInfo) -> VideoDecoderConfig {
    let (display_width, display_height) = t.unrotated_display_size();
    VideoDecoderConfig {
        codec: t.codec.clone(),
        description: t.description.clone(),
        coded_width: t.width,
        coded_height: t.height,
        display_width,
        display_height,
        rotation: t.rotation_degrees,
        flip: t.flip,
    }
}

impl VideoPipe {
    /// A pipeline for track `track` with decoder `config`; `frame_us` is the nominal frame
    /// duration (used when samples carry none). Decoder generations start after
    /// `last_generation` (the previous pipeline's [`VideoPipe::generation`]) so late outputs of
    /// an earlier load are never mistaken for new ones.
    pub fn new(
        track: usize,
        config: VideoDecoderConfig,
        frame_us: i64,
        last_generation: u32,
    ) -> Self {
        let nal_length = nal_length_of(&config);
        let mut pipe = VideoPipe {
            track,
            config,
            generation: last_generation,
            cursor: Cursor::default(),
            pending: None,
            seek_to: Some(0),
            skip_to_key_after: None,
            catching_up: false,
            landing: false,
            landing_late: 0,
            lagging: false,
            last_late: 0,
            growing: 0,
            skip_before: None,
            early: None,
            fed_end: false,
            flush_sent: false,
            flushed: false,
            in_flight: 0,
            in_flight_early: 0,
            frames: VecDeque::new(),
            shown: None,
            fresh: true,
            frame_us: frame_us.max(1),
            end_us: 0,
            stats: VideoStats::default(),
            configured: false,
            first_generation: last_generation,
            nal_length: None,
            skipped: 0,
            switch: None,
            switches: 0,
            max_in_flight: MAX_IN_FLIGHT,
        };
        pipe.nal_length = nal_length;
        pipe
    }

    /// Restarts decoding at `target_us`: a new decoder generation, pending pictures released.
    /// With `exact`, pictures before the target are decoded but not shown. The picture on
    /// screen stays until the new one is ready.
    pub fn reset(&mut self, target_us: i64, exact: bool, out: &mut Vec<HostCommand>) {
        self.release_queued(out);
        self.seek_to = Some(target_us);
        self.skip_before = exact.then_some(target_us);
        self.skip_to_key_after = None;
        self.catching_up = false;
        self.landing = false;
        self.lagging = false;
        self.pending = None;
        self.fed_end = false;
        self.flush_sent = false;
        self.flushed = false;
        self.in_flight = 0;
        self.in_flight_early = 0;
        self.fresh = true;
        self.configured = false;
        if let Some(c) = self.switch.take() {
            // A seek lands wherever: the configuration comes again with the keyframe there.
            self.set_config(c);
        }
    }

    /// The host's decoder needs up to `chunks` chunks inside it to keep pictures coming
    /// (`None`: the default [`MAX_IN_FLIGHT`]); the limit on pictures waiting plus chunks in
    /// flight grows by the same amount over [`MAX_AHEAD`]. Clamped to
    /// `MAX_IN_FLIGHT..=MAX_IN_FLIGHT_SEEKING`.
    pub fn set_decoder_depth(&mut self, chunks: Option<u32>) {
        self.max_in_flight = chunks
            .unwrap_or(MAX_IN_FLIGHT)
            .clamp(MAX_IN_FLIGHT, MAX_IN_FLIGHT_SEEKING);
    }

    fn set_config(&mut self, config: VideoDecoderConfig) {
        self.nal_length = nal_length_of(&config);
        self.config = config;
    }

    fn configure(&mut self, out: &mut Vec<HostCommand>) {
        self.generation = self.generation.wrapping_add(1);
        out.push(HostCommand::ConfigureVideoDecoder {
            generation: self.generation,
            config: self.config.clone(),
        });
        self.configured = true;
    }

    /// Feeds the decoder as far as the bounds allow. `NeedBytes` names bytes to fetch first.
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
        if self.switch.is_some() {
            if !self.flushed {
                return Ok(());
            }
            if let Some(c) = self.switch.take() {
                self.set_config(c);
            }
            self.switches += 1;
            self.configured = false;
            self.flush_sent = false;
            self.flushed = false;
        }
        while !self.fed_end
            && self.in_flight < MAX_IN_FLIGHT_SEEKING.max(self.max_in_flight)
            && self.frames.len() < MAX_DECODED
        {
            let sample = match self.pending.take() {
                Some(s) => s,
                None => {
                    let mut c = self.cursor;
                    match demux.next_sample(src, self.track, &mut c)? {
                        Some(s) => {
                            self.cursor = c;
                            if s.key {
                                let next = demux
                                    .sample_config(self.track, c.segment)
                                    .map(config_of)
                                    .filter(|n| *n != self.config);
                                if let Some(next) = next {
                                    self.pending = Some(s);
                                    if !self.configured {
                                        self.set_config(next);
                                    } else {
                                        self.switch = Some(next);
                                        if !self.flush_sent {
                                            self.flush_sent = true;
                                            self.flushed = false;
                                            out.push(HostCommand::FlushVideoDecoder {
                                                generation: self.generation,
                                            });
                                        }
                                        break;
                                    }
                                    continue;
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
            // Pictures before an exact-seek target are released as they arrive, so those
            // chunks may run further ahead; everything else obeys the normal bounds.
            let sample_dur = if sample.duration_us > 0 {
                sample.duration_us
            } else {
                self.frame_us
            };
            let before_target = self
                .skip_before
                .is_some_and(|t| sample.pts_us + sample_dur <= t);
            let late = self.in_flight.saturating_sub(self.in_flight_early);
            if !before_target
                && (late >= self.max_in_flight
                    || self.frames.len() + late as usize
                        >= MAX_AHEAD + (self.max_in_flight - MAX_IN_FLIGHT) as usize)
            {
                self.pending = Some(sample);
                break;
            }
            if let Some(after) = self.skip_to_key_after {
                if !(sample.key && sample.pts_us > after) {
                    if self.catching_up {
                        self.stats.dropped += 1;
                        self.end_us = self.end_us.max(sample.pts_us + sample_dur);
                    }
                    continue;
                }
                self.skip_to_key_after = None;
                self.landing = self.catching_up;
                self.catching_up = false;
            }
            if sample.size > MAX_CHUNK {
                return Err(DemuxError::Invalid(format!(
                    "video frame of {} bytes exceeds the limit",
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
                // Truncated file: the stream ends before this frame.
                self.fed_end = true;
                break;
            }
            let droppable = self.configured
                && self
                    .nal_length
                    .is_some_and(|l| h264_non_reference(&data, l));
            if before_target && droppable {
                self.skipped += 1;
                continue;
            }
            if self.lagging && droppable {
                self.stats.dropped += 1;
                self.end_us = self.end_us.max(sample.pts_us + sample_dur);
                continue;
            }
            if !self.configured {
                if !sample.key {
                    // Decoding must start at a keyframe.
                    continue;
                }
                self.configure(out);
            }
            let dur = if sample.duration_us > 0 {
                sample.duration_us
            } else {
                self.frame_us
            };
            self.end_us = self.end_us.max(sample.pts_us + dur);
            out.push(HostCommand::DecodeVideo {
                generation: self.generation,
                chunk: EncodedChunk {
                    timestamp_us: sample.pts_us,
                    duration_us: dur,
                    key: sample.key,
                    data,
                },
            });
            self.in_flight += 1;
            if before_target {
                self.in_flight_early += 1;
            }
        }
        if self.fed_end && !self.flush_sent {
            self.flush_sent = true;
            if self.configured {
                out.push(HostCommand::FlushVideoDecoder {
                    generation: self.generation,
                });
            } else {
                self.flushed = true;
            }
        }
        self.stats.in_flight = self.in_flight;
        Ok(())
    }

    /// A decoded picture arrived. Stale generations and pictures before an exact-seek target
    /// are released at once.
    pub fn on_frame(
        &mut self,
        generation: u32,
        id: FrameId,
        pts: i64,
        dur: i64,
        out: &mut Vec<HostCommand>,
    ) {
        if generation != self.generation || !self.configured {
            out.push(HostCommand::ReleaseFrame { frame: id });
            return;
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        self.stats.in_flight = self.in_flight;
        self.stats.decoded += 1;
        let dur = if dur > 0 { dur } else { self.frame_us };
        if let Some(t) = self.skip_before {
            if pts + dur <= t {
                self.in_flight_early = self.in_flight_early.saturating_sub(1);
                let pic = Picture { id, pts, dur };
                if let Some(old) = self.early.replace(pic) {
                    out.push(HostCommand::ReleaseFrame { frame: old.id });
                }
                return;
            }
        }
        if let Some(old) = self.early.take() {
            out.push(HostCommand::ReleaseFrame { frame: old.id });
        }
        let pic = Picture { id, pts, dur };
        let at = self.frames.partition_point(|p| p.pts <= pts);
        self.frames.insert(at, pic);
        self.stats.queued = self.frames.len() as u32;
    }

    /// The decoder finished a flush.
    pub fn on_flushed(&mut self, generation: u32) {
        if generation == self.generation && self.flush_sent {
            self.flushed = true;
            self.in_flight = 0;
            self.in_flight_early = 0;
            // The stream ended before the seek target: the last picture is the one to show.
            if let Some(p) = self.early.take() {
                self.frames.push_back(p);
                self.stats.queued = self.frames.len() as u32;
            }
        }
    }

    /// The decoder failed at the current position. Returns `Err` when the player should
    /// report an error; otherwise decoding restarts at the next keyframe after `clock_us`.
    pub fn on_error(
        &mut self,
        generation: u32,
        unsupported: bool,
        message: &str,
        clock_us: i64,
        out: &mut Vec<HostCommand>,
    ) -> Result<(), Error> {
        // The configuration is the same in every generation of this pipeline, so an
        // "unsupported" verdict counts even when it arrives after a restart.
        let ours = generation > self.first_generation && generation <= self.generation;
        if unsupported && ours {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("video codec {}: {message}", self.config.codec),
            ));
        }
        if generation != self.generation {
            return Ok(());
        }
        self.stats.decoder_errors += 1;
        if self.stats.decoder_errors > MAX_DECODER_ERRORS {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("video decoder failed repeatedly: {message}"),
            ));
        }
        // Keep what is decoded; skip the broken group of pictures.
        let after = self.end_us.max(clock_us);
        self.release_queued(out);
        self.pending = None;
        self.configured = false;
        self.in_flight = 0;
        self.in_flight_early = 0;
        self.skip_to_key_after = Some(after);
        self.catching_up = false;
        self.landing = false;
        self.fresh = self.shown.is_none();
        Ok(())
    }

    /// Presents the picture for `clock_us`; releases what the clock has passed. `rate` is the
    /// playback rate: lateness is a matter of wall time (lip sync), so a picture may be `rate`
    /// times as late in media time. Returns true when a new picture was presented.
    pub fn present(&mut self, clock_us: i64, rate: f64, out: &mut Vec<HostCommand>) -> bool {
        let show_late = (SHOW_LATE_US as f64 * rate.clamp(0.25, 16.0)) as i64;
        // The last picture whose presentation time has come.
        let due = self.frames.partition_point(|p| p.pts <= clock_us);
        let pick = if due > 0 {
            Some(due - 1)
        } else if self.fresh && !self.frames.is_empty() {
            // Nothing shown since a seek or load: show the first picture even if it is early
            // (a stream starting after 0, or a paused seek).
            Some(0)
        } else {
            None
        };
        let Some(pick) = pick else {
            return false;
        };
        for _ in 0..pick {
            if let Some(p) = self.frames.pop_front() {
                self.stats.dropped += 1;
                out.push(HostCommand::ReleaseFrame { frame: p.id });
            }
        }
        let Some(p) = self.frames.pop_front() else {
            return false;
        };
        // Late: its time passed more than LATE_US ago (or a whole frame, for frame rates under
        // 20 fps): the decoder or the host cannot keep up. Shown now it would be out of sync
        // with the sound: it is dropped and the picture on screen stays (a held picture is in
        // sync again as soon as one arrives in time; a late one never is). What changes is the
        // decoding (see the module docs).
        let landing = std::mem::take(&mut self.landing);
        if landing && clock_us != i64::MAX {
            // The skip ahead was too short for this decoder: the next one goes further.
            let over = clock_us - p.pts - show_late.max(p.dur);
            if over > 0 {
                self.landing_late = (self.landing_late + over + LATE_US).min(MAX_CATCH_UP_LEAD_US);
            }
        }
        if !self.fresh && clock_us != i64::MAX && clock_us - p.pts > show_late.max(p.dur) {
            let late = clock_us - p.pts;
            // Falling further behind picture after picture, for longer than what was already
            // in the decoder when the lag began (skipping non-reference pictures takes effect
            // after those): the decoder is slower than the stream, and waiting only loses more;
            // catch up at once. A one-off stall, whose pictures then come quickly, needs none.
            self.growing = if late > self.last_late {
                self.growing + 1
            } else {
                0
            };
            let falling = self.growing > self.max_in_flight && late > 2 * LATE_US;
            // Skipping non-reference pictures holds the one on screen longer: only for a lag
            // that is more than the jitter of a loaded host.
            if late > 2 * LATE_US {
                self.lagging = true;
            }
            self.last_late = late;
            if (falling || late > BEHIND_US) && self.skip_to_key_after.is_none() {
                // The decoder's backlog is as late: a fresh decoder (a new generation) starts
                // on the next keyframe after the clock; what the old one still outputs is
                // released on arrival, and counts as dropped now.
                self.stats.dropped += u64::from(self.in_flight) + self.frames.len() as u64;
                self.release_queued(out);
                self.configured = false;
                self.in_flight = 0;
                self.in_flight_early = 0;
                // The keyframe must come out of the fresh decoder before its time: one as far
                // ahead of the clock as the pictures were late leaves it that long.
                self.skip_to_key_after =
                    Some(clock_us + (late + LATE_US + self.landing_late).min(MAX_CATCH_UP_LEAD_US));
                self.catching_up = true;
                self.stats.catch_ups += 1;
            }
            if !landing && self.shown.is_some() {
                self.stats.dropped += 1;
                self.stats.queued = self.frames.len() as u32;
                out.push(HostCommand::ReleaseFrame { frame: p.id });
                return false;
            }
        } else {
            self.growing = 0;
            self.last_late = 0;
            if clock_us - p.pts < LAG_CLEARED_US {
                self.lagging = false;
            }
        }
        out.push(HostCommand::PresentFrame { frame: p.id });
        if let Some(old) = self.shown.replace(p) {
            out.push(HostCommand::ReleaseFrame { frame: old.id });
        }
        self.fresh = false;
        self.skip_before = None;
        self.in_flight_early = 0;
        self.stats.presented += 1;
        if clock_us != i64::MAX {
            // (i64::MAX: the end, where the last picture is shown whatever the clock says.)
            self.stats.av_offset_ms = (p.pts - clock_us) as f64 / 1000.0;
        }
        self.stats.queued = self.frames.len() as u32;
        true
    }

    /// Playback reached the end: pictures still in the decoder or waiting were due and will
    /// not be shown (a decoder too slow for the stream): counted as dropped.
    pub fn end_of_playback(&mut self) {
        self.stats.dropped += u64::from(self.in_flight) + self.frames.len() as u64;
        self.in_flight = 0;
        self.stats.in_flight = 0;
    }

    /// Presentation time of the next picture after the one on screen, if decoded.
    pub fn next_due(&self) -> Option<i64> {
        self.frames.front().map(|p| p.pts)
    }

    /// A picture for the current position is on screen (or the stream has none).
    pub fn ready(&self) -> bool {
        !self.fresh || (self.fed_end && self.flushed && self.frames.is_empty())
    }

    /// The first picture after a reset has been decoded (playback can start).
    pub fn has_picture(&self) -> bool {
        !self.fresh || !self.frames.is_empty() || (self.fed_end && self.flushed)
    }

    /// Every picture has been fed, decoded and presented.
    pub fn done(&self) -> bool {
        self.fed_end && self.flushed && self.frames.is_empty()
    }

    /// End of the stream in microseconds, once every sample has been fed.
    pub fn end_us(&self) -> Option<i64> {
        self.fed_end.then_some(self.end_us)
    }

    /// Presentation time and duration of the picture on screen.
    pub fn shown(&self) -> Option<(i64, i64)> {
        self.shown.map(|p| (p.pts, p.dur))
    }

    /// The current decoder generation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn release_queued(&mut self, out: &mut Vec<HostCommand>) {
        for p in self.frames.drain(..).chain(self.early.take()) {
            out.push(HostCommand::ReleaseFrame { frame: p.id });
        }
        self.stats.queued = 0;
    }

    /// Releases every picture, closes the decoder and clears the screen (unload).
    pub fn close(&mut self, out: &mut Vec<HostCommand>) {
        self.release_queued(out);
        if let Some(p) = self.shown.take() {
            out.push(HostCommand::ReleaseFrame { frame: p.id });
        }
        out.push(HostCommand::CloseVideoDecoder);
        out.push(HostCommand::ClearVideo);
        self.configured = false;
        self.generation = self.generation.wrapping_add(1);
    }
}
