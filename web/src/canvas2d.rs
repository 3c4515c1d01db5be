//! The 2D-canvas display (no GPU path, or after a lost GPU context): draws a picture turned
//! by its [`Orientation`] and letterboxed at its shown aspect, the subtitle overlay upright
//! over it. Used by `crate::display`.

use kinema_render::Orientation;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, OffscreenCanvas};

use crate::picture::{draw_image, Picture};

/// The 2D-canvas display (no GPU API available).
pub(crate) struct Canvas2d {
    pub(crate) canvas: HtmlCanvasElement,
    pub(crate) ctx: CanvasRenderingContext2d,
}

impl Canvas2d {
    /// Draws `picture` turned by `turn`, letterboxed at its shown aspect, `overlay` upright
    /// over it.
    pub(crate) fn draw(
        &self,
        picture: &Picture,
        overlay: Option<&OffscreenCanvas>,
        turn: Orientation,
    ) {
        let (cw, ch) = (self.canvas.width() as f64, self.canvas.height() as f64);
        let (image, (fw, fh)): (&JsValue, _) = match picture {
            Picture::Frame(f) => (f.as_ref(), (f.display_width(), f.display_height())),
            Picture::Image {
                source,
                width,
                height,
            } => (source, (*width, *height)),
            Picture::Missing => return,
        };
        let (sw, sh) = turn.shown_size(fw.max(1), fh.max(1));
        let (sw, sh) = (f64::from(sw), f64::from(sh));
        // Letterbox / pillarbox: the largest rectangle of the shown aspect that fits.
        let scale = (cw / sw).min(ch / sh);
        let (w, h) = (sw * scale, sh * scale);
        self.ctx.set_fill_style_str("#000");
        self.ctx.fill_rect(0.0, 0.0, cw, ch);
        let (x, y) = ((cw - w) / 2.0, (ch - h) / 2.0);
        if turn == Orientation::default() {
            let _ = draw_image(&self.ctx, image, x, y, w, h);
        } else {
            // Points of the picture are mirrored, then rotated clockwise about the centre of
            // the rectangle (canvas transforms apply last-set first).
            let (pw, ph) = if turn.swaps_axes() { (h, w) } else { (w, h) };
            self.ctx.save();
            let _ = self.ctx.translate(x + w / 2.0, y + h / 2.0);
            let _ = self
                .ctx
                .rotate(f64::from(turn.rotation_degrees()).to_radians());
            if turn.flip() {
                let _ = self.ctx.scale(-1.0, 1.0);
            }
            let _ = draw_image(&self.ctx, image, -pw / 2.0, -ph / 2.0, pw, ph);
            self.ctx.restore();
        }
        if let Some(o) = overlay {
            let _ = self
                .ctx
                .draw_image_with_offscreen_canvas_and_dw_and_dh(o, x, y, w, h);
        }
    }

    pub(crate) fn clear(&self) {
        self.ctx.set_fill_style_str("#000");
        self.ctx.fill_rect(
            0.0,
            0.0,
            self.canvas.width() as f64,
            self.canvas.height() as f64,
        );
    }
}

pub(crate) fn canvas_2d(canvas: HtmlCanvasElement) -> Result<Canvas2d, JsValue> {
    let ctx = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("the canvas has no 2d context (a GPU context took it)"))?
        .dyn_into::<CanvasRenderingContext2d>()?;
    let c = Canvas2d { canvas, ctx };
    c.clear();
    Ok(c)
}
