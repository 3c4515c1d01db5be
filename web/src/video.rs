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
//!
//! With [`DecodePath::Auto`] on an engine that has both, WebCodecs decodes unless it refuses
//! the configuration and MSE takes it: Firefox's WebCodecs refuses H.264 High 10 that its
//! `<video>` plays, for instance. WebCodecs answers `isConfigSupported` asynchronously, so the
//! first configuration of each codec string waits for the answer: its chunks and flush are
//! held (the core's decode-ahead bounds them) and handed to the chosen decoder after it is
//! configured. The answers are kept per codec string for the page's life.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

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

/// A command for a decoder whose path is not chosen yet.
enum Held {
    Decode(EncodedChunk),
    Flush,
}

/// A configuration waiting for WebCodecs' answer (see the module docs).
struct Undecided {
    generation: u32,
    config: VideoDecoderConfig,
    held: Vec<Held>,
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
    /// The configuration waiting for WebCodecs' answer, with the commands held for it.
    undecided: RefCell<Option<Undecided>>,
    /// WebCodecs' answers by codec string.
    webcodecs_takes: RefCell<HashMap<String, bool>>,
    /// The present→draw lead last told the core (`HostEvent::VideoPresentLead`), µs.
    lead_sent: Cell<u32>,
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
            undecided: RefCell::new(None),
            webcodecs_takes: RefCell::new(HashMap::new()),
            lead_sent: Cell::new(0),
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
    pub fn configure_video(self: &Rc<Self>, generation: u32, config: &VideoDecoderConfig) {
        // Every decode path hands out pictures as decoded; the display turns them.
        self.display
            .set_orientation(kinema_render::Orientation::new(
                config.rotation,
                config.flip,
            ));
        self.undecided.borrow_mut().take();
        let use_mse = match self.decode_path.get() {
            DecodePath::Mse => true,
            DecodePath::WebCodecs => false,
            DecodePath::Auto if !has_video_decoder() => crate::mse::available(),
            // Only MSE's taking it makes WebCodecs' answer matter; without, WebCodecs reports.
            DecodePath::Auto if !crate::mse::can_decode(config) => false,
            DecodePath::Auto => {
                let known = self.webcodecs_takes.borrow().get(&config.codec).copied();
                match known {
                    Some(takes) => !takes,
                    None => return self.decide(generation, config),
                }
            }
        };
        self.route(generation, config, use_mse);
    }

    /// Asks WebCodecs whether it takes `config`, holding the commands for `generation` until
    /// the answer routes them (see the module docs).
    fn decide(self: &Rc<Self>, generation: u32, config: &VideoDecoderConfig) {
        *self.undecided.borrow_mut() = Some(Undecided {
            generation,
            config: config.clone(),
            held: Vec::new(),
        });
        let me = Rc::downgrade(self);
        let config = config.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let takes = crate::webcodecs::supports(&config).await;
            let Some(me) = me.upgrade() else { return };
            me.webcodecs_takes
                .borrow_mut()
                .insert(config.codec.clone(), takes);
            // Still the configuration in force (not replaced or closed meanwhile)?
            let waiting = me
                .undecided
                .borrow_mut()
                .take_if(|u| u.generation == generation);
            let Some(u) = waiting else { return };
            me.route(u.generation, &u.config, !takes);
            for h in u.held {
                match h {
                    Held::Decode(chunk) => me.decode_video(u.generation, &chunk),
                    Held::Flush => me.flush_video(u.generation),
                }
            }
        });
    }

    /// Holds the command `make` builds when `generation`'s path is still undecided (true);
    /// false when it goes to the decoder now (nothing is built: chunks are not copied).
    fn hold(&self, generation: u32, make: impl FnOnce() -> Held) -> bool {
        match self.undecided.borrow_mut().as_mut() {
            Some(u) if u.generation == generation => {
                u.held.push(make());
                true
            }
            _ => false,
        }
    }

    /// Configures the decoder of the chosen path for `generation`, closing the other, and tells
    /// the core how many chunks the path holds before pictures come out (the MSE element more
    /// than WebCodecs).
    fn route(&self, generation: u32, config: &VideoDecoderConfig, use_mse: bool) {
        (self.sink)(HostEvent::VideoDecoderDepth {
            chunks: use_mse.then_some(crate::mse::DECODER_DEPTH),
        });
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
        if self.hold(generation, || Held::Decode(chunk.clone())) {
            return;
        }
        if let Some(b) = self.active() {
            b.decode(generation, chunk);
        }
    }

    /// Flushes the video decoder; answers `VideoDecoderFlushed`.
    pub fn flush_video(&self, generation: u32) {
        if self.hold(generation, || Held::Flush) {
            return;
        }
        if let Some(b) = self.active() {
            b.flush(generation);
        }
    }

    /// Closes the video decoder (pending outputs are dropped by the browser).
    pub fn close_video(&self) {
        self.undecided.borrow_mut().take();
        if let Some(m) = self.mse.borrow().as_ref() {
            m.close();
        }
        self.on_mse.set(false);
        self.webcodecs.close();
    }

    /// Draws a picture.
    pub fn present(&self, frame: FrameId, decided: Duration) {
        if let Some(m) = self.mse.borrow().as_ref() {
            m.presented(frame);
        }
        self.display.present(frame, decided);
        // The core picks pictures for when they will be drawn: tell it when that time moved.
        let lead = (self.display.lead_ms() * 1000.0).round() as u32;
        if lead.abs_diff(self.lead_sent.get()) >= 2_000 || (lead == 0 && self.lead_sent.get() > 0) {
            self.lead_sent.set(lead);
            (self.sink)(HostEvent::VideoPresentLead { micros: lead });
        }
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
