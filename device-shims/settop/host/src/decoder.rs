//! H.264 decoding with GStreamer: `appsrc ! h264parse ! avdec_h264 ! videoconvert ! appsink`
//! (I420 out), fed the core's `DecodeVideo` chunks (AVCC samples) with its avcC as
//! `codec_data`. One pipeline per decoder generation, as the protocol's generations ask.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video::prelude::*;
use kinema_core::host::{EncodedChunk, VideoDecoderConfig};

/// A decoded picture in CPU memory.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Presentation time.
    pub timestamp_us: i64,
    /// Duration.
    pub duration_us: i64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// I420 planes (Y, U, V), rows packed.
    pub y: Vec<u8>,
    /// Cb.
    pub u: Vec<u8>,
    /// Cr.
    pub v: Vec<u8>,
}

/// One decoder generation.
pub struct Decoder {
    pipeline: gst::Pipeline,
    src: gst_app::AppSrc,
    sink: gst_app::AppSink,
    pushed: u64,
    pulled: u64,
    /// Pictures the decoder holds back before it outputs (reordering), learned: a wait that
    /// timed out with `n` pictures inside raises it to `n`.
    delay: u64,
}

/// Initialises GStreamer once.
pub fn init() -> Result<()> {
    gst::init().context("gst::init")
}

impl Decoder {
    /// A decoder for `config` (H.264 with an avcC description only); `delay` is what an
    /// earlier generation of the same stream learned (see [`Decoder::delay`]).
    pub fn new(config: &VideoDecoderConfig, delay: u64) -> Result<Decoder> {
        if !(config.codec.starts_with("avc1") || config.codec.starts_with("avc3")) {
            bail!("unsupported codec {}", config.codec);
        }
        let avcc = config
            .description
            .as_deref()
            .ok_or_else(|| anyhow!("H.264 without avcC"))?;
        // max-threads=1: libav outputs each picture as soon as it is decoded (no frame-thread
        // delay), so a chunk in is a picture out for streams without reordering.
        let pipeline = gst::parse::launch(
            "appsrc name=src format=time ! h264parse ! avdec_h264 max-threads=1 ! videoconvert \
             ! video/x-raw,format=I420 ! appsink name=sink sync=false",
        )?
        .downcast::<gst::Pipeline>()
        .map_err(|_| anyhow!("not a pipeline"))?;
        let src = pipeline
            .by_name("src")
            .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
            .ok_or_else(|| anyhow!("no appsrc"))?;
        let sink = pipeline
            .by_name("sink")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| anyhow!("no appsink"))?;
        let caps = gst::Caps::builder("video/x-h264")
            .field("stream-format", "avc")
            .field("alignment", "au")
            .field("codec_data", gst::Buffer::from_slice(avcc.to_vec()))
            .build();
        src.set_caps(Some(&caps));
        pipeline.set_state(gst::State::Playing)?;
        Ok(Decoder {
            pipeline,
            src,
            sink,
            pushed: 0,
            pulled: 0,
            delay,
        })
    }

    /// The reordering delay learned so far (pass it to the next generation).
    pub fn delay(&self) -> u64 {
        self.delay
    }

    /// Feeds one chunk; returns the pictures that came out. While more pictures are inside
    /// than the decoder's reordering delay, it waits (up to 2 s) for one, so which pictures
    /// come out when does not depend on thread timing; the delay is learned from the waits
    /// that time out (once per stream: at most delay × 2 s in all).
    pub fn decode(&mut self, chunk: &EncodedChunk) -> Result<Vec<Picture>> {
        let mut buf = gst::Buffer::from_slice(chunk.data.clone());
        {
            let b = buf
                .get_mut()
                .ok_or_else(|| anyhow!("buffer not writable"))?;
            b.set_pts(gst::ClockTime::from_useconds(
                chunk.timestamp_us.max(0) as u64
            ));
            b.set_duration(gst::ClockTime::from_useconds(
                chunk.duration_us.max(0) as u64
            ));
            if !chunk.key {
                b.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
        }
        self.src
            .push_buffer(buf)
            .map_err(|e| anyhow!("push: {e:?}"))?;
        self.pushed += 1;
        let mut out = Vec::new();
        if let Some(p) = self.pull(Duration::from_secs(2))? {
            out.push(p);
        }
        while let Some(p) = self.pull(Duration::ZERO)? {
            out.push(p);
        }
        Ok(out)
    }

    /// End of stream: every picture still inside.
    pub fn flush(&mut self) -> Result<Vec<Picture>> {
        self.src
            .end_of_stream()
            .map_err(|e| anyhow!("eos: {e:?}"))?;
        let mut out = Vec::new();
        while let Some(s) = self.sink.try_pull_sample(gst::ClockTime::from_seconds(5)) {
            out.push(picture(&s)?);
            self.pulled += 1;
        }
        Ok(out)
    }

    fn pull(&mut self, wait: Duration) -> Result<Option<Picture>> {
        let inside = self.pushed.saturating_sub(self.pulled);
        let wait = if inside > self.delay {
            wait
        } else {
            Duration::ZERO
        };
        let t = gst::ClockTime::from_nseconds(wait.as_nanos() as u64);
        match self.sink.try_pull_sample(t) {
            Some(s) => {
                self.pulled += 1;
                Ok(Some(picture(&s)?))
            }
            None => {
                if !wait.is_zero() {
                    self.delay = inside;
                }
                Ok(None)
            }
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn picture(s: &gst::Sample) -> Result<Picture> {
    let caps = s.caps().ok_or_else(|| anyhow!("sample without caps"))?;
    let info = gstreamer_video::VideoInfo::from_caps(caps)?;
    let buffer = s.buffer().ok_or_else(|| anyhow!("sample without buffer"))?;
    let frame = gstreamer_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|_| anyhow!("cannot map frame"))?;
    let (w, h) = (info.width() as usize, info.height() as usize);
    let plane = |i: u32, pw: usize, ph: usize| -> Result<Vec<u8>> {
        let stride = frame.plane_stride()[i as usize] as usize;
        let data = frame.plane_data(i)?;
        let mut out = Vec::with_capacity(pw * ph);
        for row in 0..ph {
            let line = data
                .get(row * stride..row * stride + pw)
                .ok_or_else(|| anyhow!("short plane"))?;
            out.extend_from_slice(line);
        }
        Ok(out)
    };
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    Ok(Picture {
        timestamp_us: buffer.pts().map_or(0, |t| t.useconds() as i64),
        duration_us: buffer.duration().map_or(0, |t| t.useconds() as i64),
        width: w as u32,
        height: h as u32,
        y: plane(0, w, h)?,
        u: plane(1, cw, ch)?,
        v: plane(2, cw, ch)?,
    })
}
