//! Where each active WebVTT cue goes on the video: the spec's "apply WebVTT cue settings"
//! (§7.2: position, size, line with snap-to-lines, text alignment) and region stacking, with
//! boxes in percent of the video viewport that any renderer can draw.
//!
//! The core measures no text, so a cue's height is its number of lines × a line height the
//! caller gives ([`Viewport::line_height`], percent of the viewport height). [`layout`]
//! counts explicit line breaks; a renderer that wraps text passes its own line count to
//! [`layout_with`] (the box width it will wrap to is given).
//!
//! Simplifications, all documented on the items:
//! - line boxes are as wide as the cue box (`size`), not as the text: two narrow cues side by
//!   side at different `position`s still count as overlapping if their boxes do;
//! - snap-to-lines follows the spec exactly; without snap-to-lines, the "closest position
//!   without overlap" is searched among positions touching the viewport edges or another box;
//! - vertical cues use the same steps on the other axis, lines one line height thick in
//!   absolute terms (so `line_height × height / width` percent of the width); no region for
//!   vertical cues, as in the spec;
//! - region cues stack bottom-up in their region and a cue that does not fit entirely is
//!   hidden (the spec clips it with `overflow: hidden`); `scroll:up`'s animation is the
//!   renderer's;
//! - the text's base direction is the first strong character's (see [`super::Cue::is_rtl`]);
//! - every cue is laid out as if in the first showing text track (auto line = −1).

use super::{Cue, LineAlign, PositionAlign, TextAlign, Vertical};

/// Line height used by [`Viewport::new`]: the spec's cue font is 5vh and its regions use 6vh
/// per line.
pub const DEFAULT_LINE_HEIGHT: f64 = 6.0;
/// Smallest line height honoured, percent (bounds the snap-to-lines search).
pub const MIN_LINE_HEIGHT: f64 = 0.5;
/// Most cues laid out in one call (the rest get no box).
pub const MAX_CUES: usize = 64;
/// Most lines counted for one cue.
pub const MAX_LINES: usize = 100;

const EPS: f64 = 1e-9;

/// The video's rendering area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// Width, in any unit (only the ratio to `height` matters: vertical cues).
    pub width: f64,
    /// Height, same unit.
    pub height: f64,
    /// Height of one line of cue text, percent of `height`.
    pub line_height: f64,
}

impl Viewport {
    /// A viewport of this size with [`DEFAULT_LINE_HEIGHT`].
    pub fn new(width: f64, height: f64) -> Self {
        Viewport {
            width,
            height,
            line_height: DEFAULT_LINE_HEIGHT,
        }
    }
}

/// Where one cue is drawn: a rectangle in percent of the viewport (x and width of its width,
/// y and height of its height), top-left origin.
#[derive(Debug, Clone, PartialEq)]
pub struct CueBox {
    /// Index of the cue in the slice given to [`layout`].
    pub cue: usize,
    /// Left edge, percent of the viewport width.
    pub x: f64,
    /// Top edge, percent of the viewport height.
    pub y: f64,
    /// Width, percent of the viewport width.
    pub width: f64,
    /// Height, percent of the viewport height.
    pub height: f64,
    /// Lines (columns for vertical cues) the box holds.
    pub lines: usize,
    /// Snap-to-lines cues: the line the box's first line ended on, counted like the `line`
    /// setting (0 = the first line from the top, −1 = the last line at the bottom; for
    /// vertical cues from the start side). `None` for percentage-positioned and region cues.
    pub line: Option<i64>,
    /// How the text is aligned inside the box.
    pub align: TextAlign,
    /// The text's base direction is right to left (resolves `start`/`end`).
    pub rtl: bool,
    /// Writing direction.
    pub vertical: Vertical,
    /// The region the cue is shown in.
    pub region: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w - EPS
            && o.x < self.x + self.w - EPS
            && self.y < o.y + o.h - EPS
            && o.y < self.y + self.h - EPS
    }

    fn within_viewport(&self) -> bool {
        self.x >= -EPS
            && self.y >= -EPS
            && self.x + self.w <= 100.0 + EPS
            && self.y + self.h <= 100.0 + EPS
    }
}

/// Lays out the cues active together, in text track cue order (as [`crate::text::CueStore`]
/// returns them), counting explicit line breaks for their heights.
pub fn layout(cues: &[&Cue], viewport: &Viewport) -> Vec<CueBox> {
    layout_with(cues, &[], viewport, |cue, _| explicit_lines(cue))
}

/// Lines of a cue's text as written (0 when it has no visible text: the cue is not shown).
pub fn explicit_lines(cue: &Cue) -> usize {
    let text = cue.plain_text();
    if text.trim().is_empty() {
        0
    } else {
        text.split('\n').count()
    }
}

/// Lays out `cues` around boxes already on screen: `shown` are the boxes of cues that stay
/// displayed from an earlier layout (the spec keeps them where they are; they are obstacles
/// here and not returned). `lines_of(cue, width)` gives the number of lines (columns for
/// vertical cues) the cue's text takes when wrapped to `width` percent of the viewport
/// width (height for vertical cues); 0 means nothing to show.
pub fn layout_with(
    cues: &[&Cue],
    shown: &[CueBox],
    viewport: &Viewport,
    lines_of: impl Fn(&Cue, f64) -> usize,
) -> Vec<CueBox> {
    let lh = if viewport.line_height.is_finite() {
        viewport.line_height.clamp(MIN_LINE_HEIGHT, 100.0)
    } else {
        DEFAULT_LINE_HEIGHT
    };
    let ratio = if viewport.width > 0.0 && viewport.height > 0.0 {
        viewport.height / viewport.width
    } else {
        1.0
    };
    let cues = cues.get(..cues.len().min(MAX_CUES)).unwrap_or_default();
    let mut output: Vec<Rect> = shown
        .iter()
        .map(|b| Rect {
            x: b.x,
            y: b.y,
            w: b.width,
            h: b.height,
        })
        .collect();
    let mut boxes = layout_regions(cues, lh, &lines_of, &mut output);
    for (index, cue) in cues.iter().enumerate() {
        if cue.region.is_some() {
            continue;
        }
        if let Some(b) = layout_cue(index, cue, lh, ratio, &lines_of, &mut output) {
            boxes.push(b);
        }
    }
    boxes.sort_by_key(|b| b.cue);
    boxes
}

/// The spec's "apply WebVTT cue settings" for one cue outside any region.
fn layout_cue(
    index: usize,
    cue: &Cue,
    lh: f64,
    ratio: f64,
    lines_of: &impl Fn(&Cue, f64) -> usize,
    output: &mut Vec<Rect>,
) -> Option<CueBox> {
    let s = &cue.settings;
    let rtl = cue.is_rtl();
    let position = s.computed_position();
    let align = s.computed_position_align(rtl);
    let max_size = match align {
        PositionAlign::LineLeft => 100.0 - position,
        PositionAlign::LineRight => position,
        _ if position <= 50.0 => position * 2.0,
        _ => (100.0 - position) * 2.0,
    };
    let size = s.size.min(max_size).max(0.0);
    let inline_start = match align {
        PositionAlign::LineLeft => position,
        PositionAlign::LineRight => position - size,
        _ => position - size / 2.0,
    };
    let lines = lines_of(cue, size).min(MAX_LINES);
    if lines == 0 {
        return None;
    }
    let horizontal = s.vertical == Vertical::Horizontal;
    // One line's thickness on the block axis, percent of that axis.
    let step = if horizontal { lh } else { lh * ratio };
    let thickness = step * lines as f64;
    let to_rect = |block: f64| match s.vertical {
        Vertical::Horizontal => Rect {
            x: inline_start,
            y: block,
            w: size,
            h: thickness,
        },
        Vertical::GrowingRight => Rect {
            x: block,
            y: inline_start,
            w: thickness,
            h: size,
        },
        Vertical::GrowingLeft => Rect {
            x: 100.0 - block - thickness,
            y: inline_start,
            w: thickness,
            h: size,
        },
    };
    let (rect, line) = if s.snap_to_lines {
        let (block, line) = snap_to_lines(s.computed_line(0), step, &to_rect, output)?;
        (to_rect(block), Some(line))
    } else {
        let mut block = s.computed_line(0);
        block -= match s.line_align {
            LineAlign::Start => 0.0,
            LineAlign::Center => thickness / 2.0,
            LineAlign::End => thickness,
        };
        let rect = match s.vertical {
            Vertical::Horizontal => to_rect(block),
            // Percentages place vertical cues from the left edge either way.
            _ => Rect {
                x: block,
                ..to_rect(0.0)
            },
        };
        (nearest_free(rect, output), None)
    };
    output.push(rect);
    Some(CueBox {
        cue: index,
        x: rect.x,
        y: rect.y,
        width: rect.w,
        height: rect.h,
        lines,
        line,
        align: s.align,
        rtl,
        vertical: s.vertical,
        region: None,
    })
}

/// The spec's snap-to-lines steps on the block axis (`block` = distance of the box's start
/// side from the viewport's start side, percent): returns the final block position and the
/// line number it corresponds to, or `None` when the cue fits nowhere (it is not shown).
fn snap_to_lines(
    computed_line: f64,
    step: f64,
    to_rect: &impl Fn(f64) -> Rect,
    output: &[Rect],
) -> Option<(f64, i64)> {
    // Lines further out than the viewport behave like the first line outside it.
    let slots = (100.0 / step).ceil() + 1.0;
    let line = (computed_line + 0.5).floor().clamp(-slots - 1.0, slots);
    let mut step = step;
    let mut block = step * line;
    let from_end = line < 0.0;
    if from_end {
        block += 100.0;
        step = -step;
    }
    let specified = block;
    let mut switched = false;
    let limit = (4.0 * slots) as usize + 8;
    for _ in 0..limit {
        let rect = to_rect(block);
        if rect.within_viewport() && !output.iter().any(|o| o.overlaps(&rect)) {
            let unit = step.abs();
            let line = if from_end {
                -((100.0 - block) / unit).round()
            } else {
                (block / unit).round()
            };
            return Some((block, line as i64));
        }
        let past_start = step < 0.0 && block < -EPS;
        let past_end = step > 0.0 && block + step.abs() > 100.0 + EPS;
        if past_start || past_end {
            if switched {
                return None;
            }
            block = specified;
            step = -step;
            switched = true;
            continue;
        }
        block += step;
    }
    None
}

/// The position closest to `rect` (ties: highest, then leftmost) inside the viewport where it
/// overlaps nothing in `output`, searched among positions that touch an edge or another box;
/// `rect` itself if there is none (the boxes will overlap).
fn nearest_free(rect: Rect, output: &[Rect]) -> Rect {
    let free = |r: &Rect| r.within_viewport() && !output.iter().any(|o| o.overlaps(r));
    if free(&rect) {
        return rect;
    }
    let mut xs = vec![rect.x, 0.0, 100.0 - rect.w];
    let mut ys = vec![rect.y, 0.0, 100.0 - rect.h];
    for o in output {
        xs.extend([o.x - rect.w, o.x + o.w]);
        ys.extend([o.y - rect.h, o.y + o.h]);
    }
    let mut best: Option<(f64, Rect)> = None;
    for &y in &ys {
        for &x in &xs {
            let r = Rect { x, y, ..rect };
            if !free(&r) {
                continue;
            }
            let d = (x - rect.x).powi(2) + (y - rect.y).powi(2);
            let better = match &best {
                None => true,
                Some((bd, b)) => {
                    d < bd - EPS
                        || ((d - bd).abs() <= EPS
                            && (y < b.y - EPS || ((y - b.y).abs() <= EPS && x < b.x)))
                }
            };
            if better {
                best = Some((d, r));
            }
        }
    }
    best.map_or(rect, |(_, r)| r)
}

/// Region cues: each region's cues stack from the region's bottom upwards (the latest cue at
/// the bottom); a cue that does not fit entirely is hidden. Adds each region's content box to
/// `output`.
fn layout_regions(
    cues: &[&Cue],
    lh: f64,
    lines_of: &impl Fn(&Cue, f64) -> usize,
    output: &mut Vec<Rect>,
) -> Vec<CueBox> {
    let mut boxes = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for cue in cues {
        let Some(region) = &cue.region else {
            continue;
        };
        if done.contains(&region.id.as_str()) {
            continue;
        }
        done.push(&region.id);
        let members: Vec<(usize, &Cue)> = cues
            .iter()
            .enumerate()
            .filter(|(_, c)| c.region.as_ref().is_some_and(|r| r.id == region.id))
            .map(|(i, c)| (i, *c))
            .collect();
        let width = region.width;
        let max_height = f64::from(region.lines.min(MAX_LINES as u32)) * lh;
        let left = region.viewport_anchor.0 - region.region_anchor.0 * width / 100.0;
        let top = region.viewport_anchor.1 - region.region_anchor.1 * max_height / 100.0;
        let bottom = top + max_height;
        let mut cursor = bottom;
        for &(index, cue) in members.iter().rev() {
            let lines = lines_of(cue, width).min(MAX_LINES);
            if lines == 0 {
                continue;
            }
            let height = lines as f64 * lh;
            if cursor - height < top - EPS {
                break;
            }
            cursor -= height;
            let rtl = cue.is_rtl();
            let s = &cue.settings;
            let mut offset = s.computed_position() * width / 100.0;
            offset -= match s.computed_position_align(rtl) {
                PositionAlign::Center => width / 2.0,
                PositionAlign::LineRight => width,
                _ => 0.0,
            };
            let x = (left + offset).clamp(left, left + width);
            boxes.push(CueBox {
                cue: index,
                x,
                y: cursor,
                width: left + width - x,
                height,
                lines,
                line: None,
                align: s.align,
                rtl,
                vertical: Vertical::Horizontal,
                region: Some(region.id.clone()),
            });
        }
        if cursor < bottom {
            output.push(Rect {
                x: left,
                y: cursor,
                w: width,
                h: bottom - cursor,
            });
        }
    }
    boxes
}
