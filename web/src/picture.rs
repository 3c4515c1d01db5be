//! The picture store: decoded pictures the core refers to by [`kinema_core::FrameId`], held
//! on the host from `VideoFrameDecoded` until `ReleaseFrame`.
//!
//! Interface: a decoder backend (`crate::webcodecs`, `crate::mse`) takes the next id from
//! [`PictureIds`], inserts its [`Picture`] into [`Pictures`] under that id and reports the id
//! to the core; the display (`crate::display`) reads pictures by id to draw them; `ReleaseFrame`
//! removes one and [`Picture::close`]s it. The store knows nothing of decoders or drawing.
//!
//! Also here, because both the MSE backend (taking snapshots) and the display (drawing and
//! reading them back) need them: [`draw_image`] and [`rgba_of`] over the image sources a
//! [`Picture::Image`] holds, and [`cpu_canvas`], the CPU-readable canvas they go through.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, VideoFrame};

/// A decoded picture held for the core until `ReleaseFrame`.
pub enum Picture {
    /// A WebCodecs frame (GPU memory: closed on release).
    Frame(VideoFrame),
    /// A snapshot of the MSE element (an `ImageBitmap`, or a canvas where there is none),
    /// with its size in pixels.
    Image {
        /// The `ImageBitmap` or `HTMLCanvasElement`.
        source: JsValue,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A picture the MSE element decoded but never showed (skipped, or before a seek
    /// target): reported so the core's accounting holds; presenting it keeps the previous
    /// picture on screen.
    Missing,
}

impl Picture {
    /// Display size in pixels; `None` for [`Picture::Missing`].
    pub fn size(&self) -> Option<(u32, u32)> {
        match self {
            Picture::Frame(f) => Some((f.display_width(), f.display_height())),
            Picture::Image { width, height, .. } => Some((*width, *height)),
            Picture::Missing => None,
        }
    }

    /// Frees what the picture holds.
    pub fn close(self) {
        match self {
            Picture::Frame(f) => f.close(),
            Picture::Image { source, .. } => {
                if let Ok(close) = Reflect::get(&source, &JsValue::from_str("close")) {
                    if let Some(f) = close.dyn_ref::<js_sys::Function>() {
                        let _ = f.call0(&source);
                    }
                }
            }
            Picture::Missing => {}
        }
    }
}

/// The picture store shared by the decoders (id → picture).
pub type Pictures = Rc<RefCell<HashMap<u64, Picture>>>;

/// The next picture id, shared by the decoders so ids stay unique across decode paths.
pub type PictureIds = Rc<Cell<u64>>;

#[wasm_bindgen]
extern "C" {
    /// A 2D context whose `drawImage` takes any image source.
    #[wasm_bindgen(extends = CanvasRenderingContext2d)]
    type AnyImage2d;
    #[wasm_bindgen(method, catch, js_name = drawImage)]
    fn draw_image_at(
        this: &AnyImage2d,
        image: &JsValue,
        dx: f64,
        dy: f64,
        dw: f64,
        dh: f64,
    ) -> Result<(), JsValue>;
}

/// `ctx.drawImage(image, x, y, w, h)` for an ImageBitmap, canvas, video or VideoFrame.
pub fn draw_image(
    ctx: &CanvasRenderingContext2d,
    image: &JsValue,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
) -> Result<(), JsValue> {
    ctx.unchecked_ref::<AnyImage2d>()
        .draw_image_at(image, x, y, w, h)
}

/// A new canvas of `width` × `height` (at least 1) outside the document, with a 2D context
/// that is read back often (`willReadFrequently`: kept in CPU memory).
pub fn cpu_canvas(
    width: u32,
    height: u32,
) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), JsValue> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let canvas = doc
        .create_element("canvas")?
        .dyn_into::<HtmlCanvasElement>()?;
    canvas.set_width(width.max(1));
    canvas.set_height(height.max(1));
    let opts = js_sys::Object::new();
    let _ = Reflect::set(&opts, &"willReadFrequently".into(), &JsValue::TRUE);
    let ctx = canvas
        .get_context_with_context_options("2d", &opts)?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into::<CanvasRenderingContext2d>()?;
    Ok((canvas, ctx))
}

thread_local! {
    /// The scratch canvas snapshots are read back through (GPU display).
    static SCRATCH: RefCell<Option<(HtmlCanvasElement, CanvasRenderingContext2d)>> =
        const { RefCell::new(None) };
}

/// The RGBA pixels of an image source (ImageBitmap, canvas) of `width` × `height`.
pub fn rgba_of(source: &JsValue, width: u32, height: u32) -> Result<Vec<u8>, JsValue> {
    if let Some(canvas) = source.dyn_ref::<HtmlCanvasElement>() {
        // A snapshot canvas: read it directly.
        if let Some(ctx) = canvas
            .get_context("2d")?
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        {
            let (w, h) = (f64::from(width), f64::from(height));
            return Ok(ctx.get_image_data(0.0, 0.0, w, h)?.data().0);
        }
    }
    SCRATCH.with(|slot| {
        let mut slot = slot.borrow_mut();
        let fits = slot
            .as_ref()
            .is_some_and(|(c, _)| c.width() == width && c.height() == height);
        if !fits {
            *slot = Some(cpu_canvas(width, height)?);
        }
        let (_, ctx) = slot
            .as_ref()
            .ok_or_else(|| JsValue::from_str("no scratch canvas"))?;
        let (w, h) = (f64::from(width), f64::from(height));
        draw_image(ctx, source, 0.0, 0.0, w, h)?;
        Ok(ctx.get_image_data(0.0, 0.0, w, h)?.data().0)
    })
}
