//! Drawing the subtitle cues the core laid out ([`kinema_core::subtitles::SubtitleCue`]: boxes in
//! percent of the picture, lines already wrapped) into an offscreen canvas of the picture's
//! pixel size, with the browser's fonts. The video display composites it over the picture
//! (2D canvas: `drawImage`; GPU renderers: an overlay texture). Nothing here decides what or
//! when: the core does.

use js_sys::{Array, Object, Reflect};
use kinema_core::subtitles::SubtitleCue;
use kinema_core::text::webvtt::TextAlign;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{OffscreenCanvas, OffscreenCanvasRenderingContext2d};

/// The spec's default cue background: `rgba(0,0,0,0.8)`.
const BACKGROUND: &str = "rgba(0,0,0,0.8)";
/// Horizontal padding of the background around a line, in font sizes.
const PAD_EM: f64 = 0.25;

fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// The cues as plain JS objects (`cuechange` detail, `Player.activeCues`).
pub fn cue_objects(cues: &[SubtitleCue]) -> JsValue {
    let list = Array::new();
    for c in cues {
        let o = Object::new();
        set(&o, "id", &JsValue::from_str(&c.cue_id));
        set(&o, "start", &c.start.into());
        set(&o, "end", &c.end.into());
        set(&o, "text", &JsValue::from_str(&c.text));
        let lines = Array::new();
        for l in &c.lines {
            let s: String = l.iter().map(|r| r.text.as_str()).collect();
            lines.push(&JsValue::from_str(&s));
        }
        set(&o, "lines", &lines);
        // The box, percent of the picture.
        set(&o, "x", &c.x.into());
        set(&o, "y", &c.y.into());
        set(&o, "width", &c.width.into());
        set(&o, "height", &c.height.into());
        list.push(&o);
    }
    list.into()
}

/// Draws `cues` into a new transparent `width`×`height` canvas (the picture's rectangle).
pub fn rasterize(
    cues: &[SubtitleCue],
    width: u32,
    height: u32,
) -> Result<OffscreenCanvas, JsValue> {
    let canvas = OffscreenCanvas::new(width.max(1), height.max(1))?;
    let ctx = canvas
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into::<OffscreenCanvasRenderingContext2d>()?;
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    ctx.set_text_baseline("middle");
    for cue in cues {
        let font = cue.font_size / 100.0 * h;
        let line = cue.line_height / 100.0 * h;
        let (bx, by, bw) = (cue.x / 100.0 * w, cue.y / 100.0 * h, cue.width / 100.0 * w);
        let pad = font * PAD_EM;
        for (i, runs) in cue.lines.iter().enumerate() {
            let font_of = |bold: bool, italic: bool| {
                format!(
                    "{}{}{:.1}px sans-serif",
                    if italic { "italic " } else { "" },
                    if bold { "bold " } else { "" },
                    font
                )
            };
            let widths: Vec<f64> = runs
                .iter()
                .map(|r| {
                    ctx.set_font(&font_of(r.bold, r.italic));
                    ctx.measure_text(&r.text).map(|m| m.width()).unwrap_or(0.0)
                })
                .collect();
            let total: f64 = widths.iter().sum();
            // Wider than the box (the font runs wider than the core's estimate): condense.
            let room = (bw - 2.0 * pad).max(1.0);
            let scale = if total > room { room / total } else { 1.0 };
            let tw = total * scale;
            let start_left = match cue.align {
                TextAlign::Left => true,
                TextAlign::Right => false,
                TextAlign::Start => !cue.rtl,
                TextAlign::End => cue.rtl,
                TextAlign::Center => {
                    draw_line(
                        &ctx,
                        runs,
                        &widths,
                        scale,
                        bx + (bw - tw) / 2.0,
                        by,
                        i,
                        line,
                        pad,
                        tw,
                        font,
                        &font_of,
                    );
                    continue;
                }
            };
            let x = if start_left {
                bx + pad
            } else {
                bx + bw - pad - tw
            };
            draw_line(
                &ctx, runs, &widths, scale, x, by, i, line, pad, tw, font, &font_of,
            );
        }
    }
    Ok(canvas)
}

#[allow(clippy::too_many_arguments)] // private: one line's geometry
fn draw_line(
    ctx: &OffscreenCanvasRenderingContext2d,
    runs: &[kinema_core::subtitles::TextRun],
    widths: &[f64],
    scale: f64,
    x: f64,
    top: f64,
    index: usize,
    line: f64,
    pad: f64,
    text_width: f64,
    font: f64,
    font_of: &dyn Fn(bool, bool) -> String,
) {
    let y = top + index as f64 * line;
    ctx.set_fill_style_str(BACKGROUND);
    ctx.fill_rect(x - pad, y, text_width + 2.0 * pad, line);
    ctx.set_fill_style_str("#fff");
    let mut at = x;
    for (r, &rw) in runs.iter().zip(widths) {
        ctx.set_font(&font_of(r.bold, r.italic));
        let width = rw * scale;
        let _ = ctx.fill_text_with_max_width(&r.text, at, y + line / 2.0, width.max(1.0));
        if r.underline {
            ctx.fill_rect(
                at,
                y + line / 2.0 + font * 0.45,
                width,
                (font / 14.0).max(1.0),
            );
        }
        at += width;
    }
}
