//! The display: draws the picture the core presents into the page's canvas, letterboxed,
//! with the subtitle overlay on top; captures what the canvas shows (tests, screenshots); and
//! survives a lost GPU context by drawing on with a 2D canvas put in the old one's place.
//!
//! Interface: [`VideoDisplay`], created over the picture store (`crate::picture`), which it
//! only reads. The video host calls [`VideoDisplay::present`], [`VideoDisplay::forget`] (a
//! picture released) and [`VideoDisplay::clear`] for the core's commands; the player calls
//! [`VideoDisplay::attach`], [`VideoDisplay::redraw`], [`VideoDisplay::capture`] and
//! [`VideoDisplay::backend`]; the driver [`VideoDisplay::show_subtitles`] and
//! [`VideoDisplay::set_warn`]; the video host [`VideoDisplay::set_orientation`] per decoder
//! configuration. Renderers, tried in this order for `auto`: kinema-render (wgpu on WebGPU),
//! the own WebGL2 display (`crate::webgl`), a 2D canvas (`crate::canvas2d`).
//!
//! Pictures arrive as decoded, on every path; the display turns them by their configuration's
//! rotation and flip (a phone video's `tkhd` matrix) and letterboxes the turned picture. The
//! GPU paths (WebGPU, WebGL2) upload a `VideoFrame`'s I420 / NV12 planes as they are
//! (`copyTo`) and convert them in their shader; any other pixel format (10-bit, 4:4:4, an
//! opaque GPU frame) is converted by the browser first (`converted` in the video stats): on
//! WebGL2 by `texImage2D`, which also takes the MSE path's snapshots as they are. A picture
//! that still cannot be drawn is a `render` warning, never a silent black canvas.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Object, Reflect, Uint8Array};
use kinema_core::subtitles::SubtitleCue;
use kinema_core::FrameId;
use kinema_render::Orientation;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, OffscreenCanvas, VideoFrame};

use crate::canvas2d::{canvas_2d, Canvas2d};
use crate::js::{gc_callback, set};
use crate::picture::{rgba_of, Picture, Pictures};
use crate::subtitles;
use crate::webgl::{Version, WebGl};

/// Where decoded pictures are drawn, letterboxed: the wgpu compositor (WebGPU), the own
/// WebGL2 display, or a 2D canvas when no GPU path exists.
enum Display {
    Gpu(Box<kinema_render::Renderer>),
    WebGl(Box<WebGl>),
    Canvas2d(Canvas2d),
}

impl Display {
    /// Draws at once (2D canvas), with the subtitle overlay on top. GPU drawing goes through
    /// [`VideoDisplay::present_gpu`] (the renderer holds its overlay).
    fn draw(&mut self, picture: &Picture, overlay: Option<&OffscreenCanvas>, turn: Orientation) {
        if let Display::Canvas2d(c) = self {
            c.draw(picture, overlay, turn);
        }
    }

    fn clear(&mut self) {
        match self {
            Display::Gpu(r) => {
                let _ = r.clear();
            }
            Display::WebGl(w) => w.clear(),
            Display::Canvas2d(c) => c.clear(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Display::Gpu(r) => r.backend_name(),
            Display::WebGl(w) => w.name(),
            Display::Canvas2d(_) => "2d",
        }
    }
}

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
async fn gpu_renderer(
    canvas: HtmlCanvasElement,
    choice: kinema_render::BackendChoice,
) -> Result<kinema_render::Renderer, kinema_render::RenderError> {
    kinema_render::Renderer::from_canvas(canvas, choice).await
}

/// Native builds of this crate (clippy, docs) have no browser GPU; a package built without the
/// `webgpu` feature (the streaming-only flavour) leaves wgpu out and draws with WebGL or 2D.
#[cfg(not(all(target_arch = "wasm32", feature = "webgpu")))]
async fn gpu_renderer(
    _canvas: HtmlCanvasElement,
    _choice: kinema_render::BackendChoice,
) -> Result<kinema_render::Renderer, kinema_render::RenderError> {
    Err(kinema_render::RenderError::NoAdapter(
        if cfg!(target_arch = "wasm32") {
            "this package is built without WebGPU"
        } else {
            "not a browser build"
        }
        .into(),
    ))
}

/// Puts a fresh canvas (same attributes: id, class, style, size) in the place of `canvas` in
/// the document and returns it.
fn replace_canvas(canvas: &HtmlCanvasElement) -> Result<HtmlCanvasElement, JsValue> {
    let fresh = canvas
        .clone_node_with_deep(false)?
        .dyn_into::<HtmlCanvasElement>()?;
    if canvas.parent_node().is_some() {
        canvas.replace_with_with_node_1(&fresh)?;
    }
    Ok(fresh)
}

/// The display for `canvas` when WebGPU is not used: the own WebGL display when `webgl`
/// (WebGL2, else WebGL1: old TV engines), else (or when the engine has neither) a 2D canvas.
/// A canvas keeps its first context: when an attempt at WebGPU (`tried_webgpu`) took it, a
/// fresh copy is put in its place, so the picture is never left black. Returns the canvas
/// drawn into. `named`: the app asked for a renderer by name, so falling back is worth a
/// console warning.
fn without_webgpu(
    canvas: HtmlCanvasElement,
    webgl: Option<Version>,
    tried_webgpu: bool,
    named: bool,
    first_error: Option<String>,
) -> Result<(HtmlCanvasElement, Display), JsValue> {
    let mut canvas = canvas;
    let mut why = first_error;
    if let Some(first) = webgl {
        let versions: &[Version] = match first {
            Version::Two => &[Version::Two, Version::One],
            Version::One => &[Version::One],
        };
        for &version in versions {
            match WebGl::new(canvas.clone(), version) {
                Ok(w) => {
                    if named && version != first {
                        web_sys::console::warn_1(
                            &format!(
                                "kinema: no WebGL2 here ({}); drawing with WebGL1",
                                why.clone().unwrap_or_default()
                            )
                            .into(),
                        );
                    }
                    return Ok((canvas, Display::WebGl(Box::new(w))));
                }
                // The engine has WebGL2, only not on this canvas: WebGPU took it.
                Err(_) if tried_webgpu && version == Version::Two && crate::caps::webgl2() => {
                    canvas = replace_canvas(&canvas)?;
                    match WebGl::new(canvas.clone(), version) {
                        Ok(w) => return Ok((canvas, Display::WebGl(Box::new(w)))),
                        Err(e) => why = Some(e),
                    }
                }
                Err(e) => why = Some(e),
            }
        }
    }
    if named {
        let why = why.unwrap_or_default();
        web_sys::console::warn_1(
            &format!("kinema: no GPU renderer ({why}); drawing with a 2D canvas").into(),
        );
    }
    match canvas_2d(canvas.clone()) {
        Ok(c) => Ok((canvas, Display::Canvas2d(c))),
        Err(_) => {
            // A GPU context took the canvas before failing: draw into a fresh copy.
            let fresh = replace_canvas(&canvas)?;
            Ok((fresh.clone(), Display::Canvas2d(canvas_2d(fresh)?)))
        }
    }
}

/// Tells the app of a problem playback goes on through: `(kind, message)`.
pub type Warn = Rc<dyn Fn(&str, &str)>;

/// A picture could not be drawn: a `render` warning, once per decoder configuration (the
/// console too), so a picture that stays black is never silent.
fn tell_draw_failed(warn: &Option<Warn>, warned: &Cell<bool>, message: &str) {
    web_sys::console::warn_1(&format!("kinema: draw failed: {message}").into());
    if !warned.replace(true) {
        if let Some(w) = warn {
            w(
                "render",
                &format!("a picture could not be drawn: {message}"),
            );
        }
    }
}

/// A listener on an element the app owns (it outlives the display): it belongs to JS
/// ([`gc_callback`]) and reaches the display through a `Weak`.
type DomListener = js_sys::Function;

/// Where the presented pictures are drawn, and what is drawn over them.
pub struct VideoDisplay {
    frames: Pictures,
    display: Rc<RefCell<Option<Display>>>,
    canvas: RefCell<Option<HtmlCanvasElement>>,
    shown: Cell<Option<u64>>,
    /// Pictures decoded and presented (for the page's stats overlay and tests).
    pub presented: Cell<u64>,
    /// Pictures the GPU path could not upload as they were (10-bit or 4:4:4 samples, opaque
    /// GPU frames) and had the browser convert to RGBA first (stats, tests).
    pub converted: Cell<u64>,
    /// Pictures presented that never reached the canvas: the decode path had none to show
    /// (an MSE `<video>` skipped it), a newer picture was drawn before its plane copy
    /// finished, or one drawn after it before a rendering update showed it ([`Screen`]).
    /// `Player.videoStats()` counts them as dropped, not presented.
    pub unshown: Rc<Cell<u64>>,
    /// Counts `clear()`s (one per unload): a copy finishing after one counts for no load.
    cleared: Rc<Cell<u32>>,
    /// Tells whether a drawn picture reached a rendering update (see [`Screen`]).
    screen: Rc<Screen>,
    /// How long a presented picture takes to be drawn, ms: a running mean (an eighth per
    /// picture) of the time from the core's call that presented it (the commands before it
    /// are carried out first: on a slow CPU that takes a while) to the draw (after the plane
    /// copy, on the GPU paths). The video host tells the core (`HostEvent::VideoPresentLead`).
    lead_ms: Rc<Cell<f64>>,
    /// Numbers GPU draws in present order.
    draw_seq: Rc<Cell<u64>>,
    /// The newest draw that reached the renderer: a plane copy that finishes after a newer
    /// picture was drawn is dropped, but one that finishes while newer copies are still under
    /// way is drawn. (Dropping every copy a newer present overtook froze the picture for
    /// seconds on a loaded page, where each copy took longer than a picture's time.)
    drawn_seq: Rc<Cell<u64>>,
    /// Plane copies under way; the reused buffer serves only one at a time.
    copies: Rc<Cell<u32>>,
    /// Reused buffers for plane copies (JS side, then wasm side).
    planes_js: Rc<RefCell<Option<Uint8Array>>>,
    planes: Rc<RefCell<Vec<u8>>>,
    /// Subtitle cues on screen, and their raster (picture-rectangle size) when there are any.
    cues: RefCell<Vec<SubtitleCue>>,
    overlay: RefCell<Option<OffscreenCanvas>>,
    /// Display size of the last picture presented, before turning.
    picture: Cell<(u32, u32)>,
    /// How the current decoder configuration's pictures are turned to be shown.
    turn: Cell<Orientation>,
    /// A draw of this decoder configuration failed and the app was told (once).
    draw_warned: Rc<Cell<bool>>,
    /// Tells the app of a problem playback goes on through (`warning` event; set by the
    /// driver).
    warn: RefCell<Option<Warn>>,
    /// The `webglcontextlost` listener on the canvas a WebGL2 renderer draws into.
    lost: RefCell<Option<(HtmlCanvasElement, DomListener)>>,
}

impl VideoDisplay {
    /// A display (no canvas yet) drawing pictures of `frames`.
    pub fn new(frames: Pictures) -> Self {
        VideoDisplay {
            frames,
            display: Rc::new(RefCell::new(None)),
            canvas: RefCell::new(None),
            shown: Cell::new(None),
            presented: Cell::new(0),
            converted: Cell::new(0),
            unshown: Rc::new(Cell::new(0)),
            cleared: Rc::new(Cell::new(0)),
            screen: Screen::new(),
            lead_ms: Rc::new(Cell::new(0.0)),
            draw_seq: Rc::new(Cell::new(0)),
            drawn_seq: Rc::new(Cell::new(0)),
            copies: Rc::new(Cell::new(0)),
            planes_js: Rc::new(RefCell::new(None)),
            planes: Rc::new(RefCell::new(Vec::new())),
            cues: RefCell::new(Vec::new()),
            overlay: RefCell::new(None),
            picture: Cell::new((0, 0)),
            turn: Cell::new(Orientation::default()),
            draw_warned: Rc::new(Cell::new(false)),
            warn: RefCell::new(None),
            lost: RefCell::new(None),
        }
    }

    /// How the pictures presented from now on are turned (their decoder configuration's
    /// rotation and flip).
    pub fn set_orientation(&self, turn: Orientation) {
        self.draw_warned.set(false);
        if self.turn.replace(turn) != turn && !self.cues.borrow().is_empty() {
            // The picture's rectangle changes shape: the subtitles are laid out again.
            self.rasterize();
            self.apply_gpu_overlay();
        }
    }

    /// Where warnings go (the driver dispatches them as `warning` events).
    pub fn set_warn(&self, warn: Warn) {
        *self.warn.borrow_mut() = Some(warn);
    }

    /// Watches a WebGL2 renderer's canvas for a lost context (a GPU reset, a driver update,
    /// too many contexts on a TV): the picture then moves to a 2D canvas put in its place.
    fn watch_context(self: &Rc<Self>, canvas: &HtmlCanvasElement) {
        let me = Rc::downgrade(self);
        let on_lost = gc_callback(Closure::<dyn FnMut(web_sys::Event)>::new(
            move |_: web_sys::Event| {
                if let Some(me) = me.upgrade() {
                    me.context_lost();
                }
            },
        ));
        let _ = canvas.add_event_listener_with_callback("webglcontextlost", &on_lost);
        if let Some((old, f)) = self.lost.replace(Some((canvas.clone(), on_lost))) {
            let _ = old.remove_event_listener_with_callback("webglcontextlost", &f);
        }
    }

    /// The GPU context is gone: draw on with a 2D canvas in the old one's place, redraw the
    /// picture on show, and say so (`render` warning) rather than leave a black screen.
    fn context_lost(&self) {
        let Some(canvas) = self.canvas.borrow().clone() else {
            return;
        };
        let display = replace_canvas(&canvas).and_then(|fresh| {
            let c = canvas_2d(fresh.clone())?;
            Ok((fresh, c))
        });
        let message = match display {
            Ok((fresh, c)) => {
                *self.canvas.borrow_mut() = Some(fresh);
                *self.display.borrow_mut() = Some(Display::Canvas2d(c));
                self.redraw_2d();
                "the GPU context was lost; drawing with a 2D canvas (in the old canvas's place)"
                    .to_string()
            }
            Err(e) => format!("the GPU context was lost and no 2D canvas could replace it: {e:?}"),
        };
        if let Some(w) = self.warn.borrow().clone() {
            w("render", &message);
        }
    }

    /// Shows these subtitle cues over the picture from now on (empty: none).
    pub fn show_subtitles(&self, cues: Vec<SubtitleCue>) {
        *self.cues.borrow_mut() = cues;
        self.rasterize();
        let gpu = matches!(
            self.display.borrow().as_ref(),
            Some(Display::Gpu(_) | Display::WebGl(_))
        );
        if gpu {
            self.apply_gpu_overlay();
        } else {
            self.redraw_2d();
        }
    }

    /// The picture's rectangle on the canvas, in canvas pixels (letterboxed).
    fn picture_rect(&self) -> Option<(f64, f64, f64, f64)> {
        let canvas = self.canvas.borrow();
        let c = canvas.as_ref()?;
        let (cw, ch) = (f64::from(c.width().max(1)), f64::from(c.height().max(1)));
        let (pw, ph) = match self
            .turn
            .get()
            .shown_size(self.picture.get().0, self.picture.get().1)
        {
            (0, _) | (_, 0) => (cw, ch),
            (w, h) => (f64::from(w), f64::from(h)),
        };
        let scale = (cw / pw).min(ch / ph);
        let (w, h) = (pw * scale, ph * scale);
        Some(((cw - w) / 2.0, (ch - h) / 2.0, w, h))
    }

    /// Draws the cues into a canvas of the picture rectangle's pixel size.
    fn rasterize(&self) {
        let cues = self.cues.borrow();
        let raster = match self.picture_rect() {
            Some((_, _, w, h)) if !cues.is_empty() => {
                subtitles::rasterize(&cues, w.round() as u32, h.round() as u32).ok()
            }
            _ => None,
        };
        *self.overlay.borrow_mut() = raster;
    }

    /// Hands the raster to the GPU renderer (which redraws the last picture under it).
    fn apply_gpu_overlay(&self) {
        let mut display = self.display.borrow_mut();
        let overlay = self.overlay.borrow();
        if let Some(Display::WebGl(w)) = display.as_mut() {
            let result = match overlay.as_ref() {
                Some(o) => w.set_overlay(o.as_ref()),
                None => {
                    w.clear_overlay();
                    Ok(())
                }
            };
            if let Err(e) = result {
                web_sys::console::warn_1(&format!("kinema: subtitle overlay failed: {e:?}").into());
            }
            return;
        }
        let Some(Display::Gpu(r)) = display.as_mut() else {
            return;
        };
        let result = match overlay.as_ref() {
            Some(o) => (|| -> Result<(), JsValue> {
                let (w, h) = (o.width(), o.height());
                let ctx = o
                    .get_context("2d")?
                    .ok_or_else(|| JsValue::from_str("no 2d context"))?
                    .dyn_into::<web_sys::OffscreenCanvasRenderingContext2d>()?;
                let img = ctx.get_image_data(0.0, 0.0, f64::from(w), f64::from(h))?;
                r.set_overlay(w, h, &img.data().0)
                    .map_err(|e| JsValue::from_str(&e.to_string()))
            })(),
            None => r
                .clear_overlay()
                .map_err(|e| JsValue::from_str(&e.to_string())),
        };
        if let Err(e) = result {
            web_sys::console::warn_1(&format!("kinema: subtitle overlay failed: {e:?}").into());
        }
    }

    /// 2D canvas: draws the shown picture again with the current overlay.
    fn redraw_2d(&self) {
        let mut display = self.display.borrow_mut();
        let Some(d @ Display::Canvas2d(_)) = display.as_mut() else {
            return;
        };
        let frames = self.frames.borrow();
        match self.shown.get().and_then(|id| frames.get(&id)) {
            Some(f) => d.draw(f, self.overlay.borrow().as_ref(), self.turn.get()),
            None => {
                // The picture was handed back: the next present draws the cues. Without
                // video (audio only), draw them on black now.
                if self.picture.get() == (0, 0) {
                    d.clear();
                    if let (Display::Canvas2d(c), Some(o), Some((x, y, w, h))) =
                        (&*d, self.overlay.borrow().as_ref(), self.picture_rect())
                    {
                        let _ = c
                            .ctx
                            .draw_image_with_offscreen_canvas_and_dw_and_dh(o, x, y, w, h);
                    }
                }
            }
        }
    }

    /// Draws into `canvas` from now on, with `renderer` (`auto`, `webgpu`, `webgl2`, `webgl1`
    /// or `2d`). Resolves to the backend in use. `auto` tries WebGPU, then WebGL2, WebGL1, then
    /// a 2D canvas; a renderer asked for by name that cannot be had falls back (`webgl2` to
    /// WebGL1, then all to a 2D canvas) with a console warning.
    pub fn attach(self: &Rc<Self>, canvas: HtmlCanvasElement, renderer: &str) -> js_sys::Promise {
        *self.display.borrow_mut() = None;
        *self.canvas.borrow_mut() = Some(canvas.clone());
        let (webgpu, webgl) = match renderer {
            "2d" => (false, None),
            "webgpu" => (true, None),
            "webgl2" => (false, Some(Version::Two)),
            "webgl1" => (false, Some(Version::One)),
            _ => (true, Some(Version::Two)),
        };
        let named = renderer != "auto";
        let me = Rc::downgrade(self);
        wasm_bindgen_futures::future_to_promise(async move {
            let mut first_error = None;
            let gpu = if webgpu {
                match gpu_renderer(canvas.clone(), kinema_render::BackendChoice::WebGpu).await {
                    Ok(r) => Some(Display::Gpu(Box::new(r))),
                    Err(e) => {
                        first_error = Some(e.to_string());
                        None
                    }
                }
            } else {
                None
            };
            let (canvas, display) = match gpu {
                Some(d) => (canvas, d),
                None => without_webgpu(canvas, webgl, webgpu, named, first_error)?,
            };
            let name = display.name();
            if let Some(me) = me.upgrade() {
                *me.canvas.borrow_mut() = Some(canvas.clone());
                *me.display.borrow_mut() = Some(display);
                if name.starts_with("webgl") {
                    me.watch_context(&canvas);
                }
                me.redraw();
            }
            Ok(JsValue::from_str(name))
        })
    }

    /// The backend drawing the video (`webgpu`, `webgl2`, `2d`), or `None` before `attach`
    /// completes.
    pub fn backend(&self) -> Option<&'static str> {
        self.display.borrow().as_ref().map(Display::name)
    }

    /// Draws the picture on screen again (after the canvas was resized).
    pub fn redraw(&self) {
        let stale = match (self.overlay.borrow().as_ref(), self.picture_rect()) {
            (Some(o), Some((_, _, w, h))) => {
                (o.width(), o.height()) != (w.round() as u32, h.round() as u32)
            }
            _ => false,
        };
        if stale {
            self.rasterize();
            self.apply_gpu_overlay();
        }
        let mut display = self.display.borrow_mut();
        let Some(d) = display.as_mut() else { return };
        if let (Display::Gpu(r), Some(c)) = (&mut *d, self.canvas.borrow().as_ref()) {
            // Reconfigures the surface and redraws the last picture it holds.
            let _ = r.resize(c.width(), c.height());
            return;
        }
        if let Display::WebGl(w) = d {
            // The canvas's size sets the viewport; the texture still holds the picture.
            w.redraw();
            return;
        }
        let Some(id) = self.shown.get() else {
            d.clear();
            return;
        };
        if let Some(f) = self.frames.borrow().get(&id) {
            d.draw(f, self.overlay.borrow().as_ref(), self.turn.get());
        }
    }

    /// Test and screenshot tap: the canvas's pixels now, as
    /// `{width, height, data: Uint8ClampedArray (RGBA)}`. A page cannot read a WebGPU (or
    /// non-preserved WebGL) canvas after it was presented, so the picture is drawn once more
    /// and copied within the same task, before the browser presents it.
    pub fn capture(&self, size: Option<(u32, u32)>) -> js_sys::Promise {
        if let Some(p) = self.capture_webgpu(size) {
            return p;
        }
        match self.capture_now(size) {
            Ok(o) => js_sys::Promise::resolve(&o),
            Err(e) => js_sys::Promise::reject(&e),
        }
    }

    /// WebGPU: reading the canvas back (`drawImage` of a WebGPU canvas) blocks the page for
    /// ~75 ms per picture on SwiftShader, so the renderer draws the picture once more into a
    /// texture of the canvas's size and format and copies that into a mappable buffer
    /// (asynchronous, ~17 ms there; the same shader and viewport as the canvas draw). The [`kinema_render::Capture`] moves into the map callback: dropping it
    /// destroys the buffer, which aborts the map.
    #[cfg(not(target_arch = "wasm32"))]
    fn capture_webgpu(&self, _size: Option<(u32, u32)>) -> Option<js_sys::Promise> {
        None
    }

    /// See the native stub above; only the wasm32 build has a WebGPU renderer.
    #[cfg(target_arch = "wasm32")]
    fn capture_webgpu(&self, size: Option<(u32, u32)>) -> Option<js_sys::Promise> {
        let mut display = self.display.borrow_mut();
        let Some(Display::Gpu(r)) = display.as_mut() else {
            return None;
        };
        if r.backend_name() != "webgpu" {
            return None;
        }
        let capture = match r.capture() {
            Ok(c) => Rc::new(c),
            Err(e) => return Some(js_sys::Promise::reject(&JsValue::from_str(&e.to_string()))),
        };
        Some(js_sys::Promise::new(&mut |resolve, reject| {
            let held = capture.clone();
            capture.map(move |result| {
                let answer = result
                    .map_err(|e| format!("capture map failed: {e}"))
                    .and_then(|()| held.rgba().map_err(|e| e.to_string()));
                match answer {
                    Ok(px) => {
                        let (w, h) = (held.width(), held.height());
                        let (w, h, px) = match size {
                            Some((ow, oh)) => (ow, oh, nearest(&px, w, h, ow, oh)),
                            None => (w, h, px),
                        };
                        let o = Object::new();
                        set(&o, "width", &w.into());
                        set(&o, "height", &h.into());
                        set(&o, "data", &js_sys::Uint8ClampedArray::from(px.as_slice()));
                        let _ = resolve.call1(&JsValue::NULL, &o);
                    }
                    Err(e) => {
                        let _ = reject.call1(&JsValue::NULL, &JsValue::from_str(&e));
                    }
                }
            });
        }))
    }

    fn capture_now(&self, size: Option<(u32, u32)>) -> Result<JsValue, JsValue> {
        let canvas = self
            .canvas
            .borrow()
            .clone()
            .ok_or_else(|| JsValue::from_str("no canvas attached"))?;
        let (w, h) = (canvas.width(), canvas.height());
        match self.display.borrow_mut().as_mut() {
            Some(Display::Canvas2d(_)) => {}
            Some(Display::WebGl(w)) => w.redraw(),
            Some(Display::Gpu(r)) => r.redraw().map_err(|e| JsValue::from_str(&e.to_string()))?,
            None => return Err(JsValue::from_str("no canvas attached")),
        }
        // Read through a copy: a GPU canvas cannot be read directly, and repeated reads of the
        // 2D display itself make Chromium warn (and would ask for a CPU-backed display).
        // At a requested size, nearest-pixel scaling: each output pixel is the canvas pixel at
        // its centre, so a few pixels cost one small read instead of the whole canvas's.
        let (ow, oh) = size.unwrap_or((w, h));
        let probe = web_sys::OffscreenCanvas::new(ow, oh)?;
        let ctx = probe
            .get_context("2d")?
            .ok_or_else(|| JsValue::from_str("no 2d context"))?
            .dyn_into::<web_sys::OffscreenCanvasRenderingContext2d>()?;
        ctx.set_image_smoothing_enabled(false);
        ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
            &canvas,
            0.0,
            0.0,
            f64::from(ow),
            f64::from(oh),
        )?;
        let img = ctx.get_image_data(0.0, 0.0, f64::from(ow), f64::from(oh))?;
        let o = Object::new();
        set(&o, "width", &ow.into());
        set(&o, "height", &oh.into());
        set(
            &o,
            "data",
            &js_sys::Uint8ClampedArray::from(img.data().0.as_slice()),
        );
        Ok(o.into())
    }

    /// Draws a picture.
    pub fn present(&self, frame: FrameId, decided: Duration) {
        if let Some(Picture::Missing) = self.frames.borrow().get(&frame.0) {
            self.unshown.set(self.unshown.get() + 1);
        }
        if let Some(size) = self.frames.borrow().get(&frame.0).and_then(Picture::size) {
            if size != self.picture.get() {
                self.picture.set(size);
                if !self.cues.borrow().is_empty() {
                    self.rasterize();
                    self.apply_gpu_overlay();
                }
            }
        }
        let lost = match self.display.borrow().as_ref() {
            Some(Display::Gpu(r)) => r.is_lost(),
            Some(Display::WebGl(w)) => w.is_lost(),
            _ => false,
        };
        if lost {
            // The device went away (WebGPU reports it here; WebGL2 also by event): on with 2D.
            self.context_lost();
        }
        let (gpu, webgl) = match self.display.borrow().as_ref() {
            Some(Display::Gpu(_)) => (true, false),
            Some(Display::WebGl(_)) => (false, true),
            _ => (false, false),
        };
        // Drawn now (not by a plane copy that finishes later)?
        let mut drawn = false;
        if gpu || webgl {
            drawn = match self.frames.borrow().get(&frame.0) {
                Some(Picture::Frame(f)) => self.present_gpu(f, decided),
                Some(Picture::Image { source, .. }) if webgl => {
                    self.present_webgl(source);
                    true
                }
                Some(Picture::Image {
                    source,
                    width,
                    height,
                }) => {
                    self.present_gpu_image(source, *width, *height);
                    true
                }
                _ => false,
            };
        } else if let (Some(d), Some(f)) = (
            self.display.borrow_mut().as_mut(),
            self.frames.borrow().get(&frame.0),
        ) {
            d.draw(f, self.overlay.borrow().as_ref(), self.turn.get());
            drawn = !matches!(f, Picture::Missing);
        }
        if drawn {
            add_lead(&self.lead_ms, since(decided));
            self.screen.drawn(&self.unshown);
        }
        self.shown.set(Some(frame.0));
        self.presented.set(self.presented.get() + 1);
    }

    /// GPU paths (WebGPU, WebGL2): copies the frame's planes out (`VideoFrame.copyTo`, a
    /// plain copy of what the decoder wrote; no colour conversion on the CPU) and draws them
    /// with the renderer's YUV shader, matrix and range taken from the frame's colour space.
    fn present_gpu(&self, frame: &VideoFrame, decided: Duration) -> bool {
        let format = Reflect::get(frame, &JsValue::from_str("format"))
            .ok()
            .and_then(|f| f.as_string());
        // The formats whose planes the renderer uploads as they are. Anything else (10- and
        // 12-bit samples such as H.264 High 10's I420P10, 4:2:2 and 4:4:4 planes, or an opaque
        // GPU frame whose `format` is null and whose planes `copyTo` refuses) is drawn by the
        // browser into a CPU canvas, which converts it, and taken as RGBA: slower, never black.
        let uploadable = matches!(
            format.as_deref(),
            Some("I420" | "I420A" | "NV12" | "RGBA" | "RGBX" | "BGRA" | "BGRX")
        );
        let webgl = matches!(self.display.borrow().as_ref(), Some(Display::WebGl(_)));
        if webgl && !matches!(format.as_deref(), Some("I420" | "I420A" | "NV12")) {
            // WebGL2 takes RGB frames as they are, and has the browser convert the rest
            // (`texImage2D`).
            if !uploadable {
                self.converted.set(self.converted.get() + 1);
            }
            self.present_webgl(frame.as_ref());
            return true;
        }
        let size = frame.allocation_size().ok().filter(|_| uploadable);
        let Some(size) = size else {
            self.converted.set(self.converted.get() + 1);
            let (w, h) = (frame.display_width(), frame.display_height());
            self.present_gpu_image(frame.as_ref(), w, h);
            return true;
        };
        let format = format.unwrap_or_default();
        let seq = self.draw_seq.get() + 1;
        self.draw_seq.set(seq);
        let buf = if self.copies.get() > 0 {
            // The reused buffer is being written by a copy under way: one of its own.
            Uint8Array::new_with_length(size)
        } else {
            let mut slot = self.planes_js.borrow_mut();
            match slot.as_ref() {
                Some(b) if b.length() == size => b.clone(),
                _ => {
                    let b = Uint8Array::new_with_length(size);
                    *slot = Some(b.clone());
                    b
                }
            }
        };
        let rect = frame.visible_rect();
        let (w, h) = rect
            .map(|r| (r.width() as u32, r.height() as u32))
            .unwrap_or((frame.coded_width(), frame.coded_height()));
        let shown_size = (frame.display_width(), frame.display_height());
        let turn = self.turn.get();
        let space = Reflect::get(frame, &JsValue::from_str("colorSpace")).unwrap_or(JsValue::NULL);
        let matrix = Reflect::get(&space, &JsValue::from_str("matrix"))
            .ok()
            .and_then(|m| m.as_string());
        let full = Reflect::get(&space, &JsValue::from_str("fullRange"))
            .map(|f| f.is_truthy())
            .unwrap_or(false);
        let matrix = match matrix.as_deref() {
            Some("bt709") => kinema_render::ColourMatrix::Bt709,
            Some(_) => kinema_render::ColourMatrix::Bt601,
            // Unspecified: HD sizes are BT.709 by convention, SD BT.601.
            None if h >= 720 => kinema_render::ColourMatrix::Bt709,
            None => kinema_render::ColourMatrix::Bt601,
        };
        let range = if full {
            kinema_render::ColourRange::Full
        } else {
            kinema_render::ColourRange::Limited
        };
        let promise = frame.copy_to_with_u8_array(&buf);
        let (warn, warned) = (self.warn.borrow().clone(), self.draw_warned.clone());
        let display_slot = self.display.clone();
        let drawn = self.drawn_seq.clone();
        let (unshown, cleared, epoch) = (
            self.unshown.clone(),
            self.cleared.clone(),
            self.cleared.get(),
        );
        let lead = self.lead_ms.clone();
        let screen = self.screen.clone();
        let copies = self.copies.clone();
        copies.set(copies.get() + 1);
        let planes = self.planes.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let copied = wasm_bindgen_futures::JsFuture::from(promise).await;
            copies.set(copies.get().saturating_sub(1));
            let Ok(layouts) = copied else {
                return;
            };
            if seq <= drawn.get() {
                if cleared.get() == epoch {
                    unshown.set(unshown.get() + 1);
                }
                return;
            }
            drawn.set(seq);
            add_lead(&lead, since(decided));
            screen.drawn(&unshown);
            let layout = |i: u32, k: &str| -> u32 {
                Reflect::get(
                    &Reflect::get(&layouts, &i.into()).unwrap_or(JsValue::NULL),
                    &k.into(),
                )
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as u32
            };
            let mut bytes = planes.borrow_mut();
            bytes.resize(size as usize, 0);
            buf.copy_to(&mut bytes);
            let mut display = display_slot.borrow_mut();
            let plane = |i: u32| -> &[u8] {
                bytes
                    .get(layout(i, "offset") as usize..)
                    .unwrap_or_default()
            };
            let r = match display.as_mut() {
                Some(Display::Gpu(r)) => r,
                Some(Display::WebGl(gl)) => {
                    let layout = match format.as_str() {
                        "NV12" => kinema_render::YuvLayout::Nv12 {
                            y: plane(0),
                            uv: plane(1),
                            y_stride: layout(0, "stride"),
                            uv_stride: layout(1, "stride"),
                        },
                        _ => kinema_render::YuvLayout::I420 {
                            y: plane(0),
                            u: plane(1),
                            v: plane(2),
                            y_stride: layout(0, "stride"),
                            uv_stride: layout(1, "stride"),
                        },
                    };
                    let result = gl.draw_yuv(&kinema_render::YuvFrame {
                        width: w,
                        height: h,
                        display_width: shown_size.0,
                        display_height: shown_size.1,
                        orientation: turn,
                        layout,
                        matrix,
                        range,
                    });
                    if let Err(e) = result {
                        drop(display);
                        let message = e.as_string().unwrap_or_else(|| format!("{e:?}"));
                        tell_draw_failed(&warn, &warned, &message);
                    }
                    return;
                }
                _ => return,
            };
            let result = match format.as_str() {
                "I420" | "I420A" => r.draw_yuv(&kinema_render::YuvFrame {
                    width: w,
                    height: h,
                    display_width: shown_size.0,
                    display_height: shown_size.1,
                    orientation: turn,
                    layout: kinema_render::YuvLayout::I420 {
                        y: plane(0),
                        u: plane(1),
                        v: plane(2),
                        y_stride: layout(0, "stride"),
                        uv_stride: layout(1, "stride"),
                    },
                    matrix,
                    range,
                }),
                "NV12" => r.draw_yuv(&kinema_render::YuvFrame {
                    width: w,
                    height: h,
                    display_width: shown_size.0,
                    display_height: shown_size.1,
                    orientation: turn,
                    layout: kinema_render::YuvLayout::Nv12 {
                        y: plane(0),
                        uv: plane(1),
                        y_stride: layout(0, "stride"),
                        uv_stride: layout(1, "stride"),
                    },
                    matrix,
                    range,
                }),
                "RGBA" | "RGBX" | "BGRA" | "BGRX" => r.draw_rgba(
                    w,
                    h,
                    plane(0),
                    layout(0, "stride"),
                    format.starts_with('B'),
                    shown_size,
                    turn,
                ),
                other => Err(kinema_render::RenderError::BadFrame(format!(
                    "pixel format {other} is not drawn"
                ))),
            };
            if let Err(e) = result {
                drop(display);
                tell_draw_failed(&warn, &warned, &e.to_string());
            }
        });
        false
    }

    /// WebGL2 path for an image source (an MSE snapshot; a frame the YUV shader does not
    /// take): it goes to the texture as it is, converted by the browser (`texImage2D`); a
    /// source the engine refuses there is converted to RGBA on the CPU first (`converted`). A
    /// picture that cannot be drawn either way is a `render` warning.
    fn present_webgl(&self, source: &JsValue) {
        self.drawn_now();
        let size = match source.dyn_ref::<VideoFrame>() {
            Some(f) => (f.display_width(), f.display_height()),
            None => {
                let dim = |k: &str| {
                    Reflect::get(source, &JsValue::from_str(k))
                        .ok()
                        .and_then(|v| v.as_f64())
                        .unwrap_or(0.0) as u32
                };
                (dim("width"), dim("height"))
            }
        };
        let turn = self.turn.get();
        let mut display = self.display.borrow_mut();
        let Some(Display::WebGl(w)) = display.as_mut() else {
            return;
        };
        let result = w.draw_source(source, size, turn).or_else(|direct| {
            self.converted.set(self.converted.get() + 1);
            let pixels = rgba_of(source, size.0, size.1).map_err(|_| direct)?;
            w.draw_rgba(size.0, size.1, &pixels, size, turn)
        });
        if let Err(e) = result {
            drop(display);
            let message = e.as_string().unwrap_or_else(|| format!("{e:?}"));
            tell_draw_failed(&self.warn.borrow().clone(), &self.draw_warned, &message);
        }
    }

    /// GPU path for MSE snapshots: the image drawn into a 2D canvas of its size, read back
    /// as RGBA and drawn with the renderer's RGBA path (no WebGPU/WebGL import of
    /// `ImageBitmap`s needed, so every backend takes it).
    fn present_gpu_image(&self, source: &JsValue, width: u32, height: u32) {
        self.drawn_now();
        let result = (|| -> Result<(), JsValue> {
            let pixels = rgba_of(source, width, height)?;
            let mut display = self.display.borrow_mut();
            if let Some(Display::Gpu(r)) = display.as_mut() {
                let turn = self.turn.get();
                r.draw_rgba(
                    width,
                    height,
                    &pixels,
                    width * 4,
                    false,
                    (width, height),
                    turn,
                )
                .map_err(|e| JsValue::from_str(&e.to_string()))?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            let message = e.as_string().unwrap_or_else(|| format!("{e:?}"));
            tell_draw_failed(&self.warn.borrow().clone(), &self.draw_warned, &message);
        }
    }

    /// A draw (or clear) happens now, synchronously: plane copies still under way are older.
    fn drawn_now(&self) {
        let seq = self.draw_seq.get() + 1;
        self.draw_seq.set(seq);
        self.drawn_seq.set(seq);
    }

    /// A picture was released: if it is the one on screen, it stays there, but a redraw no
    /// longer has it.
    pub fn forget(&self, frame: FrameId) {
        if self.shown.get() == Some(frame.0) {
            // Still on the canvas; only a redraw would need it.
            self.shown.set(None);
        }
    }

    /// How long a presented picture takes to be drawn, ms (a running mean, see `lead_ms`).
    pub fn lead_ms(&self) -> f64 {
        self.lead_ms.get()
    }

    /// Clears the canvas: no picture until the next one (subtitles meanwhile cover the whole
    /// canvas, as for a source without video).
    pub fn clear(&self) {
        self.drawn_now();
        self.cleared.set(self.cleared.get().wrapping_add(1));
        self.unshown.set(0);
        self.screen.waiting.set(false);
        self.shown.set(None);
        self.picture.set((0, 0));
        self.turn.set(Orientation::default());
        if let Some(d) = self.display.borrow_mut().as_mut() {
            d.clear();
        }
    }
}

/// Whether a drawn picture reached the screen: the browser shows the canvas as it is at each
/// rendering update, so of two pictures drawn between two updates the first is never seen.
/// An animation-frame callback (one per update, requested at a draw) marks each update; a
/// draw while the previous one is still waiting for its update counts that one as unshown.
struct Screen {
    /// A picture was drawn since the last rendering update.
    waiting: Rc<Cell<bool>>,
    /// The animation-frame callback that clears `waiting`.
    on_frame: js_sys::Function,
}

impl Screen {
    fn new() -> Rc<Self> {
        let waiting = Rc::new(Cell::new(false));
        let w = waiting.clone();
        let on_frame = gc_callback(Closure::<dyn FnMut()>::new(move || w.set(false)));
        Rc::new(Screen { waiting, on_frame })
    }

    /// A picture was just drawn; `unshown` counts the one it replaced before any update.
    fn drawn(&self, unshown: &Cell<u64>) {
        if self.waiting.replace(true) {
            unshown.set(unshown.get() + 1);
        } else if let Some(w) = web_sys::window() {
            if w.request_animation_frame(&self.on_frame).is_err() {
                self.waiting.set(false);
            }
        }
    }
}

/// Milliseconds from `decided` (when the core decided to present, on the page's clock) to now.
fn since(decided: Duration) -> f64 {
    crate::timer::now().saturating_sub(decided).as_secs_f64() * 1000.0
}

/// One more decision→draw time (ms) into the running mean `lead`: an eighth of the difference
/// per picture, from 0, each sample capped at 100 ms, so a few slow draws do not swing it. (The
/// first draw of a load can take 100+ ms — a GPU pipeline built, a decoder warming up —; taken
/// whole it had the next pictures picked that much early: 2 frames ahead on the canvas.)
fn add_lead(lead: &Cell<f64>, took: f64) {
    let old = lead.get();
    lead.set(old + (took.min(100.0) - old) / 8.0);
}

/// `px` (RGBA, `w`×`h`) scaled to `ow`×`oh` by taking the pixel at each output pixel's centre.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn nearest(px: &[u8], w: u32, h: u32, ow: u32, oh: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(ow as usize * oh as usize * 4);
    for y in 0..oh {
        let sy = ((u64::from(y) * 2 + 1) * u64::from(h) / (u64::from(oh) * 2)) as usize;
        for x in 0..ow {
            let sx = ((u64::from(x) * 2 + 1) * u64::from(w) / (u64::from(ow) * 2)) as usize;
            let i = (sy * w as usize + sx) * 4;
            out.extend_from_slice(px.get(i..i + 4).unwrap_or(&[0; 4]));
        }
    }
    out
}
