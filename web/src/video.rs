//! The video host: carries out the core's video decoder and present/release commands by
//! routing them to the decoder backend in use and to the display. Nothing here decides what
//! to show or when.
//!
//! Interface: [`VideoHost`], owned by the driver. It owns the picture store
//! (`crate::picture`), the display (`crate::display`, reached through
//! [`VideoHost::display`]) and the two [`VideoBackend`]s: WebCodecs (`crate::webcodecs`) and,
//! for engines without WebCodecs (older TVs), a hidden `<video>` fed by Media Source
//! Extensions (`crate::mse`): the same commands, the same picture store; the path is chosen
//! per decoder configuration ([`DecodePath`]). Audio the platform decodes is
//! `crate::audio_decoder`'s.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use kinema_core::{EncodedChunk, FrameId, HostEvent, VideoDecoderConfig};

use crate::backend::{ClockView, Sink, VideoBackend};
use crate::display::VideoDisplay;
use crate::mse::MseVideo;
use crate::picture::{PictureIds, Pictures};
use crate::webcodecs::{has_video_decoder, WebCodecsVideo};

/// Which platform decoder turns the core's `DecodeVideo` chunks into pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodePath {
    /// WebCodecs when the engine has `VideoDecoder`, else MSE.
    Auto,
    /// WebCodecs `VideoDecoder`.
    WebCodecs,
    /// A hidden `<video>` fed fragmented MP4 through Media Source Extensions.
    Mse,
}

impl DecodePath {
    /// `auto`, `webcodecs` or `mse`.
    pub fn parse(s: &str) -> Option<DecodePath> {
        match s {
            "auto" => Some(DecodePath::Auto),
            "webcodecs" => Some(DecodePath::WebCodecs),
            "mse" => Some(DecodePath::Mse),
            _ => None,
        }
    }
}

/// The video decoders, the pictures they produced and the display they are drawn on.
pub struct VideoHost {
    sink: Sink,
    frames: Pictures,
    next_id: PictureIds,
    display: Rc<VideoDisplay>,
    webcodecs: Rc<WebCodecsVideo>,
    /// The decode path asked for, the MSE decoder once created, and whether the current
    /// video decoder is the MSE one.
    decode_path: Cell<DecodePath>,
    mse: RefCell<Option<Rc<MseVideo>>>,
    on_mse: Cell<bool>,
    /// The core's clock as the MSE decoder needs it (set by the driver).
    clock: RefCell<Option<Rc<dyn Fn() -> ClockView>>>,
}

impl VideoHost {
    /// A host whose decoder output goes to `sink`.
    pub fn new(sink: Sink) -> Self {
        let frames: Pictures = Rc::new(RefCell::new(HashMap::new()));
        let next_id: PictureIds = Rc::new(Cell::new(1));
        VideoHost {
            webcodecs: Rc::new(WebCodecsVideo::new(
                sink.clone(),
                frames.clone(),
                next_id.clone(),
            )),
            display: Rc::new(VideoDisplay::new(frames.clone())),
            sink,
            frames,
            next_id,
            decode_path: Cell::new(DecodePath::Auto),
            mse: RefCell::new(None),
            on_mse: Cell::new(false),
            clock: RefCell::new(None),
        }
    }

    /// The display the presented pictures are drawn on.
    pub fn display(&self) -> &Rc<VideoDisplay> {
        &self.display
    }

    /// The backend of the current video decoder: MSE while it is in use, else WebCodecs.
    fn active(&self) -> Option<Rc<dyn VideoBackend>> {
        if self.on_mse.get() {
            self.mse.borrow().clone().map(|m| m as Rc<dyn VideoBackend>)
        } else {
            Some(self.webcodecs.clone() as Rc<dyn VideoBackend>)
        }
    }

    /// Pictures held (decoded and not yet released).
    pub fn held(&self) -> usize {
        self.frames.borrow().len()
    }

    /// Chooses the decode path for the next decoder configuration (a `load`, a seek).
    pub fn set_decode_path(&self, path: DecodePath) {
        self.decode_path.set(path);
    }

    /// The decode path of the current video decoder: `webcodecs`, `mse`, or `None` before
    /// one is configured.
    pub fn decode_path(&self) -> Option<&'static str> {
        if self.on_mse.get() {
            Some("mse")
        } else if self.webcodecs.is_open() {
            Some("webcodecs")
        } else {
            None
        }
    }

    /// Mean time from a chunk going into the decoder to its picture coming out, in ms, over
    /// the pictures decoded since the decoder of the current path was created (MSE: includes
    /// the time the element waits to show the picture).
    pub fn decode_latency_ms(&self) -> f64 {
        self.active().map_or(0.0, |b| b.latency_ms())
    }

    /// Pictures the MSE element never showed after a seek target (they stay on screen as
    /// the previous picture); 0 on the WebCodecs path.
    pub fn skipped(&self) -> u64 {
        self.mse.borrow().as_ref().map_or(0, |m| m.skipped())
    }

    /// Tells the MSE decoder how to read the core's clock (the driver sets it once).
    pub fn set_clock(&self, clock: Rc<dyn Fn() -> ClockView>) {
        *self.clock.borrow_mut() = Some(clock);
    }

    /// After the core ran: lets the MSE element follow the clock (play, pause, rate).
    pub fn sync(&self) {
        let clock = self.clock.borrow().clone();
        if let (Some(b), Some(c)) = (self.active(), clock) {
            b.follow_clock(&*c);
        }
    }

    /// The MSE decoder, created on first use.
    fn mse(&self) -> Result<Rc<MseVideo>, String> {
        if let Some(m) = self.mse.borrow().as_ref() {
            return Ok(m.clone());
        }
        let clock = self.clock.borrow().clone();
        let m = MseVideo::new(
            self.sink.clone(),
            self.frames.clone(),
            self.next_id.clone(),
            clock,
        )?;
        *self.mse.borrow_mut() = Some(m.clone());
        Ok(m)
    }

    /// Resets (or creates) the video decoder for `generation`.
    pub fn configure_video(&self, generation: u32, config: &VideoDecoderConfig) {
        let use_mse = match self.decode_path.get() {
            DecodePath::Mse => true,
            DecodePath::WebCodecs => false,
            DecodePath::Auto => !has_video_decoder() && crate::mse::available(),
        };
        if use_mse {
            self.webcodecs.close();
            self.on_mse.set(true);
            match self.mse() {
                Ok(m) => m.configure(generation, config),
                Err(message) => (self.sink)(HostEvent::VideoDecoderError {
                    generation,
                    unsupported: true,
                    message,
                }),
            }
            return;
        }
        if self.on_mse.replace(false) {
            if let Some(m) = self.mse.borrow().as_ref() {
                m.close();
            }
        }
        if self.webcodecs.reuse(generation, config) {
            return;
        }
        self.close_video();
        self.webcodecs.open(generation, config);
    }

    /// Feeds one chunk to the video decoder.
    pub fn decode_video(&self, generation: u32, chunk: &EncodedChunk) {
        if let Some(b) = self.active() {
            b.decode(generation, chunk);
        }
    }

    /// Flushes the video decoder; answers `VideoDecoderFlushed`.
    pub fn flush_video(&self, generation: u32) {
        if let Some(b) = self.active() {
            b.flush(generation);
        }
    }

    /// Closes the video decoder (pending outputs are dropped by the browser).
    pub fn close_video(&self) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.close();
        }
        self.on_mse.set(false);
        self.webcodecs.close();
    }

    /// Draws a picture.
    pub fn present(&self, frame: FrameId) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.presented(frame);
        }
        self.display.present(frame);
    }

    /// Closes a picture.
    pub fn release(&self, frame: FrameId) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.released(frame);
        }
        if let Some(f) = self.frames.borrow_mut().remove(&frame.0) {
            f.close();
        }
        self.display.forget(frame);
    }

    /// Clears the canvas.
    pub fn clear(&self) {
        self.display.clear();
    }

    /// Closes the video decoders and every picture (destroy).
    pub fn close_all(&self) {
        self.close_video();
        if let Some(m) = self.mse.borrow_mut().take() {
            m.destroy();
        }
        for (_, f) in self.frames.borrow_mut().drain() {
            f.close();
        }
    }
}
