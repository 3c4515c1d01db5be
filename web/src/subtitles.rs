//! Drawing the subtitle cues the core laid out ([`kinema_core::subtitles::SubtitleCue`]: boxes in
//! percent of the picture, lines already wrapped, runs already styled) into an offscreen canvas
//! of the picture's pixel size, with the browser's fonts: horizontal lines, or the columns of
//! vertical cues with upright glyphs stacked top to bottom. The video display composites it
//! over the picture (2D canvas: `drawImage`; GPU renderers: an overlay texture). Nothing here
//! decides what or when: the core does.

use js_sys::{Array, Object, Reflect};
use kinema_core::subtitles::{SubtitleCue, TextRun};
use kinema_core::text::webvtt::{Rgba, TextAlign, Vertical};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{OffscreenCanvas, OffscreenCanvasRenderingContext2d};

/// The spec's default cue background: `rgba(0,0,0,0.8)`.
const BACKGROUND: &str = "rgba(0,0,0,0.8)";
/// The spec's default text colour.
const TEXT: &str = "#fff";
/// Padding of the background around a line (along it), in font sizes.
const PAD_EM: f64 = 0.25;

fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// `vertical` as `VTTCue.vertical` spells it: `""`, `"rl"` or `"lr"`.
fn vertical_name(v: Vertical) -> &'static str {
    match v {
        Vertical::Horizontal => "",
        Vertical::GrowingLeft => "rl",
        Vertical::GrowingRight => "lr",
    }
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
        set(
            &o,
            "vertical",
            &JsValue::from_str(vertical_name(c.vertical)),
        );
        list.push(&o);
    }
    list.into()
}

/// A colour as a canvas fill style.
fn css(c: Rgba) -> String {
    let [r, g, b, a] = c;
    format!("rgba({r},{g},{b},{:.3})", f64::from(a) / 255.0)
}

fn fill_of(color: Option<Rgba>, default: &str) -> String {
    color.map_or_else(|| default.to_string(), css)
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
        let geometry = Geometry {
            font: cue.font_size / 100.0 * h,
            // Line (column) thickness: the core gives it in percent of the height for both.
            line: cue.line_height / 100.0 * h,
            x: cue.x / 100.0 * w,
            y: cue.y / 100.0 * h,
            width: cue.width / 100.0 * w,
            height: cue.height / 100.0 * h,
        };
        for (i, runs) in cue.lines.iter().enumerate() {
            match cue.vertical {
                Vertical::Horizontal => draw_line(&ctx, cue, &geometry, i, runs),
                Vertical::GrowingLeft | Vertical::GrowingRight => {
                    draw_column(&ctx, cue, &geometry, i, runs)
                }
            }
        }
    }
    Ok(canvas)
}

/// One cue's box and metrics, in canvas pixels.
struct Geometry {
    font: f64,
    line: f64,
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

fn font_of(bold: bool, italic: bool, size: f64) -> String {
    format!(
        "{}{}{:.1}px sans-serif",
        if italic { "italic " } else { "" },
        if bold { "bold " } else { "" },
        size
    )
}

/// Where text of `length` starts on an axis from `start` of `room` pixels.
fn aligned(cue: &SubtitleCue, start: f64, room: f64, pad: f64, length: f64) -> f64 {
    let start_side = match cue.align {
        TextAlign::Left => true,
        TextAlign::Right => false,
        TextAlign::Start => !cue.rtl || cue.vertical != Vertical::Horizontal,
        TextAlign::End => cue.rtl && cue.vertical == Vertical::Horizontal,
        TextAlign::Center => return start + (room - length) / 2.0,
    };
    if start_side {
        start + pad
    } else {
        start + room - pad - length
    }
}

/// Paints the backgrounds along a line or column that starts at `start` (after `pad`): each
/// run's own colour over its `lengths`, else the default; the padding at either end takes the
/// colour of the run beside it. Runs of one colour are painted as one rectangle with edges on
/// whole pixels, so no seam shows between them. `rect(ctx, from, to)` fills along the axis.
fn backgrounds(
    ctx: &OffscreenCanvasRenderingContext2d,
    runs: &[TextRun],
    lengths: &[f64],
    pad: f64,
    start: f64,
    rect: impl Fn(&OffscreenCanvasRenderingContext2d, f64, f64),
) {
    let mut pieces: Vec<(f64, f64, Option<Rgba>)> = Vec::new();
    let mut push = |from: f64, to: f64, colour: Option<Rgba>| match pieces.last_mut() {
        Some(last) if last.2 == colour => last.1 = to,
        _ => pieces.push((from, to, colour)),
    };
    push(start - pad, start, runs.first().and_then(|r| r.background));
    let mut at = start;
    for (r, &len) in runs.iter().zip(lengths) {
        push(at, at + len, r.background);
        at += len;
    }
    push(at, at + pad, runs.last().and_then(|r| r.background));
    for (from, to, colour) in pieces {
        ctx.set_fill_style_str(&fill_of(colour, BACKGROUND));
        rect(ctx, from.round(), to.round());
    }
}

/// Line `index` of a horizontal cue: the backgrounds (each run's own colour, else the default)
/// padded at both ends, then the runs' text in their colours.
fn draw_line(
    ctx: &OffscreenCanvasRenderingContext2d,
    cue: &SubtitleCue,
    g: &Geometry,
    index: usize,
    runs: &[TextRun],
) {
    let pad = g.font * PAD_EM;
    let widths: Vec<f64> = runs
        .iter()
        .map(|r| {
            ctx.set_font(&font_of(r.bold, r.italic, g.font));
            ctx.measure_text(&r.text).map(|m| m.width()).unwrap_or(0.0)
        })
        .collect();
    let total: f64 = widths.iter().sum();
    // Wider than the box (the font runs wider than the core's estimate): condense.
    let room = (g.width - 2.0 * pad).max(1.0);
    let scale = if total > room { room / total } else { 1.0 };
    let text_width = total * scale;
    let x = aligned(cue, g.x, g.width, pad, text_width);
    let y = g.y + index as f64 * g.line;
    let lengths: Vec<f64> = widths.iter().map(|w| w * scale).collect();
    backgrounds(ctx, runs, &lengths, pad, x, |ctx, from, to| {
        ctx.fill_rect(from, y, to - from, g.line);
    });
    let mut at = x;
    for (r, &rw) in runs.iter().zip(&widths) {
        ctx.set_font(&font_of(r.bold, r.italic, g.font));
        ctx.set_fill_style_str(&fill_of(r.color, TEXT));
        let width = rw * scale;
        let _ = ctx.fill_text_with_max_width(&r.text, at, y + g.line / 2.0, width.max(1.0));
        if r.underline {
            ctx.fill_rect(
                at,
                y + g.line / 2.0 + g.font * 0.45,
                width,
                (g.font / 14.0).max(1.0),
            );
        }
        at += width;
    }
}

/// Column `index` of a vertical cue: upright characters one font size apart from the top
/// (condensed if the font's em is taller than the box allows), centred across the column;
/// columns go right to left from the box's right edge (`rl`) or left to right (`lr`).
fn draw_column(
    ctx: &OffscreenCanvasRenderingContext2d,
    cue: &SubtitleCue,
    g: &Geometry,
    index: usize,
    runs: &[TextRun],
) {
    let pad = g.font * PAD_EM;
    let left = match cue.vertical {
        Vertical::GrowingRight => g.x + index as f64 * g.line,
        // Columns from the right edge leftwards (a horizontal cue never gets here).
        Vertical::GrowingLeft | Vertical::Horizontal => g.x + g.width - (index + 1) as f64 * g.line,
    };
    let chars: usize = runs.iter().map(|r| r.text.chars().count()).sum();
    let total = chars as f64 * g.font;
    let room = (g.height - 2.0 * pad).max(1.0);
    let step = if total > room {
        room / chars.max(1) as f64
    } else {
        g.font
    };
    let top = aligned(cue, g.y, g.height, pad, step * chars as f64);
    let lengths: Vec<f64> = runs
        .iter()
        .map(|r| r.text.chars().count() as f64 * step)
        .collect();
    backgrounds(ctx, runs, &lengths, pad, top, |ctx, from, to| {
        ctx.fill_rect(left, from, g.line, to - from);
    });
    ctx.set_text_align("center");
    let centre = left + g.line / 2.0;
    let mut at = top;
    let mut buf = [0u8; 4];
    for r in runs {
        ctx.set_font(&font_of(r.bold, r.italic, g.font));
        ctx.set_fill_style_str(&fill_of(r.color, TEXT));
        let start = at;
        for c in r.text.chars() {
            let glyph: &str = c.encode_utf8(&mut buf);
            if !c.is_whitespace() {
                let _ = ctx.fill_text_with_max_width(glyph, centre, at + step / 2.0, g.line);
            }
            at += step;
        }
        if r.underline {
            // Underline of vertical text: a rule on the column's right side.
            ctx.fill_rect(
                left + g.line / 2.0 + g.font * 0.45,
                start,
                (g.font / 14.0).max(1.0),
                at - start,
            );
        }
    }
    ctx.set_text_align("start");
}
