//! WebVTT files and HLS segments: the W3C WebVTT parser algorithm (signature, header, blocks,
//! cue timings and settings, REGION, STYLE, NOTE) and the HLS `X-TIMESTAMP-MAP` header.
//!
//! The submodules hold the rest of the format: [`markup`] (cue text → node tree or styled
//! spans), [`style`] (STYLE blocks: a bounded CSS subset → run colours and font styles),
//! [`wvtt`] (ISO BMFF-wrapped WebVTT samples, as DASH delivers them) and
//! [`layout`](mod@layout) (the spec's cue box computation).
//!
//! Parsing follows the spec's algorithm step by step, including its leniency: a block whose
//! timings are invalid is dropped, an unknown or invalid cue setting is ignored, unknown tags
//! are ignored. Nothing here panics on any input; every count and size is bounded by
//! [`Limits`].
//!
//! # Why own code
//! The crates published for WebVTT were evaluated (`cargo info`, then their sources):
//! `webvtt-parser` 1.4.1 (nom; looks settings up by substring search, keeps `position` as a
//! `u8`, rejects the whole file on one bad block, no regions, no cue text markup, no
//! `X-TIMESTAMP-MAP`), `vtt` 1.0.0 (serde types; an invalid setting is an error for the file
//! where the spec says to ignore it; cue text stays a string), `aspasia` 0.2.1 (multi-format
//! subtitle editing; regions kept as raw strings, markup only stripped, pulls charset detection
//! crates) and `webvtt` 0.2.0 (bare-bones, unmaintained). None follows the spec's parser
//! algorithm, parses the cue text markup into a tree, reads `wvtt` samples or computes cue
//! boxes, so the core implements the spec itself: it is a few hundred lines of well-specified
//! state machines with no dependency.
//!
//! One file for the W3C parser algorithm (signature, header, blocks, timings, settings, REGION,
//! STYLE): its steps share the line reader and collect into one `Track`; the rest of the format
//! (markup, style, layout, wvtt) is already in submodules.

pub mod layout;
pub mod markup;
pub mod style;
pub mod wvtt;

pub use kinema_protocol::text::{TextAlign, Vertical};
pub use layout::{layout, layout_with, CueBox, Viewport};
pub use markup::{Element, ElementKind, Node, Span};
pub use style::{Rgba, RunStyle, StyleSheet};

use super::TimedText;
use crate::error::{Error, ErrorKind};

/// Bounds on what one parse may hold. Exceeding `max_input_bytes` is an error
/// ([`ErrorKind::Limit`]); the other limits truncate and are reported in [`ParseStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted.
    pub max_input_bytes: usize,
    /// Most cues kept; parsing stops at this many.
    pub max_cues: usize,
    /// Longest cue text (and cue identifier) kept, bytes; longer ones are cut at a character
    /// boundary.
    pub max_cue_text_bytes: usize,
    /// Most regions kept.
    pub max_regions: usize,
    /// Most STYLE text kept, bytes over all blocks.
    pub max_style_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 16 * 1024 * 1024,
            max_cues: 100_000,
            max_cue_text_bytes: 16 * 1024,
            max_regions: 64,
            max_style_bytes: 64 * 1024,
        }
    }
}

/// What the parser dropped or cut, for diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Blocks with a timing line that failed to parse (the cue is dropped, per the spec).
    pub invalid_cues: usize,
    /// NOTE blocks.
    pub comments: usize,
    /// Other blocks that were neither cue, comment, STYLE nor REGION (dropped).
    pub other_blocks: usize,
    /// Cue texts or identifiers cut to [`Limits::max_cue_text_bytes`].
    pub truncated_texts: usize,
    /// STYLE blocks or regions dropped by their limits.
    pub dropped_by_limit: usize,
    /// Parsing stopped at [`Limits::max_cues`].
    pub cue_limit_reached: bool,
}

/// A parsed WebVTT file (or HLS segment, or the `vttC` configuration text of a `wvtt` track).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VttFile {
    /// The header: the rest of the signature line, then the header block's lines, joined by
    /// line feeds.
    pub header: String,
    /// The HLS `X-TIMESTAMP-MAP` header, if present.
    pub timestamp_map: Option<TimestampMap>,
    /// REGION definitions, in file order.
    pub regions: Vec<Region>,
    /// STYLE blocks' CSS text, in file order (interpreted by [`VttFile::style_sheet`]).
    pub styles: Vec<String>,
    /// The cues, in file order.
    pub cues: Vec<Cue>,
    /// What was dropped or cut.
    pub stats: ParseStats,
}

impl VttFile {
    /// The STYLE blocks parsed into a [`StyleSheet`] (empty when there are none).
    pub fn style_sheet(&self) -> StyleSheet {
        StyleSheet::parse(&self.styles)
    }

    /// Adds `delta_us` to every cue's start and end (and to the timestamps inside cue text
    /// when it is parsed later, callers add it themselves): used to move a segment's cues onto
    /// media time.
    pub fn shift(&mut self, delta_us: i64) {
        for cue in &mut self.cues {
            cue.start_us = cue.start_us.saturating_add(delta_us);
            cue.end_us = cue.end_us.saturating_add(delta_us);
        }
    }
}

/// The MPEG-2 TS timestamp period: PTS values are 33 bits.
pub const MPEGTS_WRAP: i64 = 1 << 33;

/// HLS `X-TIMESTAMP-MAP=MPEGTS:<n>,LOCAL:<time>`: cue time `LOCAL` is the instant whose
/// 90 kHz MPEG-2 timestamp is `MPEGTS`. Without the header, RFC 8216 says cue times map to
/// MPEG-2 timestamp 0 (that is, `MPEGTS:0,LOCAL:00:00.000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampMap {
    /// The 90 kHz MPEG-2 timestamp, as written (33-bit values; not unwrapped).
    pub mpegts: u64,
    /// The cue time it corresponds to, microseconds.
    pub local_us: i64,
}

impl TimestampMap {
    /// What to add to a cue time to get time on the MPEG-2 timeline, in microseconds:
    /// `MPEGTS / 90 kHz − LOCAL`. The stream's 90 kHz timestamps wrap every 2^33 ticks
    /// (~26.5 h): pass `reference_90k`, a timestamp of the same stream the caller has already
    /// unwrapped (e.g. the first video PTS of the segment, or of the presentation), and
    /// `MPEGTS` is taken in the period nearest to it. The caller then subtracts its own media
    /// time origin (e.g. the presentation's first PTS) to get media time.
    pub fn offset_us(&self, reference_90k: Option<i64>) -> i64 {
        let ticks = match reference_90k {
            Some(r) => unwrap_mpegts(self.mpegts, r),
            None => clamp_i64(i128::from(self.mpegts)),
        };
        ticks_to_us(ticks).saturating_sub(self.local_us)
    }
}

/// `pts` (33 bits used) moved by whole periods of 2^33 ticks to be nearest `reference`.
pub fn unwrap_mpegts(pts: u64, reference: i64) -> i64 {
    let wrap = i128::from(MPEGTS_WRAP);
    let p = i128::from(pts) % wrap;
    let k = (i128::from(reference) - p + wrap / 2).div_euclid(wrap);
    clamp_i64(p + k * wrap)
}

/// 90 kHz ticks to microseconds, rounded to nearest.
pub fn ticks_to_us(ticks: i64) -> i64 {
    let t = i128::from(ticks) * 1_000_000;
    clamp_i64((t + t.signum() * 45_000) / 90_000)
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Whether a region's cues scroll (roll-up captions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scroll {
    /// Cues are shown in place.
    #[default]
    None,
    /// New lines push older ones up (`scroll:up`).
    Up,
}

/// A REGION definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// `id`.
    pub id: String,
    /// `width`, percent of the viewport width (default 100).
    pub width: f64,
    /// `lines`: the region's height in lines (default 3).
    pub lines: u32,
    /// `regionanchor`: the point of the region, in percent of its own size, that is placed at
    /// `viewport_anchor` (default (0, 100)).
    pub region_anchor: (f64, f64),
    /// `viewportanchor`: percent of the viewport (default (0, 100)).
    pub viewport_anchor: (f64, f64),
    /// `scroll`.
    pub scroll: Scroll,
}

impl Default for Region {
    fn default() -> Self {
        Region {
            id: String::new(),
            width: 100.0,
            lines: 3,
            region_anchor: (0.0, 100.0),
            viewport_anchor: (0.0, 100.0),
            scroll: Scroll::None,
        }
    }
}

impl Region {
    /// Reads region settings (the lines after `REGION`), ignoring invalid ones per the spec.
    pub fn parse(settings: &str) -> Region {
        let mut region = Region::default();
        for (name, value) in settings_tokens(settings) {
            match name {
                "id" => region.id = value.to_string(),
                "width" => {
                    if let Some(p) = parse_percentage(value) {
                        region.width = p;
                    }
                }
                "lines" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    // The spec: "Interpret value as an integer, and let number be that number.
                    // Let region's WebVTT region lines be number." No upper bound and no
                    // failure: a number past u32 is still that many lines, so it saturates (it
                    // neither wraps nor falls back to the default 3); layout shows at most
                    // layout::MAX_LINES. Only digits get here, so the one error is overflow.
                    region.lines = value.parse().unwrap_or(u32::MAX);
                }
                "regionanchor" => {
                    if let Some(p) = parse_percentage_pair(value) {
                        region.region_anchor = p;
                    }
                }
                "viewportanchor" => {
                    if let Some(p) = parse_percentage_pair(value) {
                        region.viewport_anchor = p;
                    }
                }
                "scroll" if value == "up" => region.scroll = Scroll::Up,
                _ => {}
            }
        }
        region
    }
}

/// Which side of the cue box sits at the `line` position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineAlign {
    /// Top (horizontal cues), the default.
    #[default]
    Start,
    /// Centre.
    Center,
    /// Bottom (horizontal cues).
    End,
}

/// What the `position` is anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionAlign {
    /// Follows the text alignment (the default).
    #[default]
    Auto,
    /// The box's left side (top for vertical cues).
    LineLeft,
    /// The box's centre.
    Center,
    /// The box's right side (bottom for vertical cues).
    LineRight,
}

/// A cue's settings, with the spec's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CueSettings {
    /// `vertical`.
    pub vertical: Vertical,
    /// `line`: `None` is auto; a line number when [`snap_to_lines`](Self::snap_to_lines),
    /// else percent of the viewport height (width for vertical cues).
    pub line: Option<f64>,
    /// True unless `line` was given as a percentage.
    pub snap_to_lines: bool,
    /// `line`'s alignment.
    pub line_align: LineAlign,
    /// `position`, percent; `None` is auto.
    pub position: Option<f64>,
    /// `position`'s alignment.
    pub position_align: PositionAlign,
    /// `size`, percent (default 100).
    pub size: f64,
    /// `align`.
    pub align: TextAlign,
}

impl Default for CueSettings {
    fn default() -> Self {
        CueSettings {
            vertical: Vertical::Horizontal,
            line: None,
            snap_to_lines: true,
            line_align: LineAlign::Start,
            position: None,
            position_align: PositionAlign::Auto,
            size: 100.0,
            align: TextAlign::Center,
        }
    }
}

impl CueSettings {
    /// Parses a settings string (what follows the timings, or a `wvtt` `sttg` box) per the
    /// spec, ignoring invalid settings. `region:` is looked up in `regions` (the last with that
    /// id wins); the spec drops the region again for vertical, explicitly lined or sized cues.
    pub fn parse(input: &str, regions: &[Region]) -> (CueSettings, Option<Region>) {
        let mut s = CueSettings::default();
        let mut region = None;
        for (name, value) in settings_tokens(input) {
            match name {
                "region" => region = regions.iter().rev().find(|r| r.id == value).cloned(),
                "vertical" => {
                    match value {
                        "rl" => s.vertical = Vertical::GrowingLeft,
                        "lr" => s.vertical = Vertical::GrowingRight,
                        _ => {}
                    }
                    if s.vertical != Vertical::Horizontal {
                        region = None;
                    }
                }
                "line" if s.parse_line(value) => region = None,
                "position" => {
                    let (pos, align) = match value.split_once(',') {
                        Some((p, a)) => (p, Some(a)),
                        None => (value, None),
                    };
                    let Some(number) = parse_percentage(pos) else {
                        continue;
                    };
                    let align = match align {
                        None => s.position_align,
                        Some("line-left") => PositionAlign::LineLeft,
                        Some("center") => PositionAlign::Center,
                        Some("line-right") => PositionAlign::LineRight,
                        Some(_) => continue,
                    };
                    s.position_align = align;
                    s.position = Some(number);
                }
                "size" => {
                    if let Some(p) = parse_percentage(value) {
                        s.size = p;
                        if p != 100.0 {
                            region = None;
                        }
                    }
                }
                "align" => match value {
                    "start" => s.align = TextAlign::Start,
                    "center" => s.align = TextAlign::Center,
                    "end" => s.align = TextAlign::End,
                    "left" => s.align = TextAlign::Left,
                    "right" => s.align = TextAlign::Right,
                    _ => {}
                },
                _ => {}
            }
        }
        (s, region)
    }

    /// The `line` setting's steps; true if a line was set.
    fn parse_line(&mut self, value: &str) -> bool {
        let (pos, align) = match value.split_once(',') {
            Some((p, a)) => (p, Some(a)),
            None => (value, None),
        };
        if !pos.bytes().any(|b| b.is_ascii_digit()) {
            return false;
        }
        let percent = pos.ends_with('%');
        let number = if percent {
            match parse_percentage(pos) {
                Some(n) => n,
                None => return false,
            }
        } else {
            let b = pos.as_bytes();
            if !b
                .iter()
                .all(|&c| c == b'-' || c == b'.' || c.is_ascii_digit())
                || b.iter().skip(1).any(|&c| c == b'-')
                || b.iter().filter(|&&c| c == b'.').count() > 1
            {
                return false;
            }
            if let Some(dot) = pos.find('.') {
                let before = dot.checked_sub(1).and_then(|i| b.get(i));
                let after = b.get(dot + 1);
                if !before.is_some_and(u8::is_ascii_digit) || !after.is_some_and(u8::is_ascii_digit)
                {
                    return false;
                }
            }
            match pos.parse::<f64>() {
                Ok(n) if n.is_finite() => n,
                _ => return false,
            }
        };
        // `-0` is the number 0, the first line from the top: the sign counts only for a
        // nonzero line (a host copying -0.0 into a VTTCue would see a line from the end).
        let number = if number == 0.0 { 0.0 } else { number };
        let line_align = match align {
            None => self.line_align,
            Some("start") => LineAlign::Start,
            Some("center") => LineAlign::Center,
            Some("end") => LineAlign::End,
            Some(_) => return false,
        };
        self.line_align = line_align;
        self.line = Some(number);
        self.snap_to_lines = !percent;
        true
    }

    /// The spec's *computed line*: auto is `-(track_index + 1)` with snap-to-lines (the last
    /// line for the first showing track), 100 without; a percentage outside 0..=100 is 100.
    pub fn computed_line(&self, track_index: usize) -> f64 {
        match self.line {
            Some(l) if !self.snap_to_lines && !(0.0..=100.0).contains(&l) => 100.0,
            Some(l) => l,
            None if !self.snap_to_lines => 100.0,
            None => -(track_index as f64) - 1.0,
        }
    }

    /// The spec's *computed position*: the position, or 0/100/50 for left/right/other text
    /// alignment when it is auto.
    pub fn computed_position(&self) -> f64 {
        match self.position {
            Some(p) if (0.0..=100.0).contains(&p) => p,
            _ => match self.align {
                TextAlign::Left => 0.0,
                TextAlign::Right => 100.0,
                _ => 50.0,
            },
        }
    }

    /// The spec's *computed position alignment* (never `Auto`); `rtl` is the cue text's base
    /// direction (see [`Cue::is_rtl`]).
    pub fn computed_position_align(&self, rtl: bool) -> PositionAlign {
        match (self.position_align, self.align) {
            (PositionAlign::Auto, TextAlign::Left) => PositionAlign::LineLeft,
            (PositionAlign::Auto, TextAlign::Right) => PositionAlign::LineRight,
            (PositionAlign::Auto, TextAlign::Start) if rtl => PositionAlign::LineRight,
            (PositionAlign::Auto, TextAlign::Start) => PositionAlign::LineLeft,
            (PositionAlign::Auto, TextAlign::End) if rtl => PositionAlign::LineLeft,
            (PositionAlign::Auto, TextAlign::End) => PositionAlign::LineRight,
            (PositionAlign::Auto, TextAlign::Center) => PositionAlign::Center,
            (explicit, _) => explicit,
        }
    }
}

/// One cue.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// The identifier (may be empty).
    pub id: String,
    /// Start, microseconds.
    pub start_us: i64,
    /// End, microseconds (exclusive).
    pub end_us: i64,
    /// Position, size, alignment.
    pub settings: CueSettings,
    /// The region the cue is shown in, if any (a copy of the definition).
    pub region: Option<Region>,
    /// The cue text as written, markup included (line feeds between lines).
    pub text: String,
}

impl Cue {
    /// The cue text parsed into the spec's node tree (see [`markup`]).
    pub fn nodes(&self) -> Vec<Node> {
        markup::parse(&self.text)
    }

    /// The cue text as a flat list of styled spans.
    pub fn spans(&self) -> Vec<Span> {
        markup::spans(&self.nodes())
    }

    /// The cue text as styled spans with the style `sheet` (the file's STYLE blocks, see
    /// [`VttFile::style_sheet`]) and the user-agent defaults give each.
    pub fn styled_spans(&self, sheet: &StyleSheet) -> Vec<(Span, RunStyle)> {
        sheet.style(&self.id, &self.nodes())
    }

    /// The text without markup and without ruby text (the spec's chapter title rule).
    pub fn plain_text(&self) -> String {
        markup::plain_text(&self.nodes())
    }

    /// True when the text's base direction is right to left: its first strongly directional
    /// character is Hebrew, Arabic or another right-to-left script (or U+200F RLM). This is the
    /// Unicode bidi paragraph rule reduced to script ranges.
    pub fn is_rtl(&self) -> bool {
        markup::is_rtl(&self.plain_text())
    }
}

impl TimedText for Cue {
    fn start_us(&self) -> i64 {
        self.start_us
    }
    fn end_us(&self) -> i64 {
        self.end_us
    }
    fn text(&self) -> &str {
        &self.text
    }
    fn byte_size(&self) -> usize {
        std::mem::size_of::<Cue>()
            + self.text.len()
            + self.id.len()
            + self.region.as_ref().map_or(0, |r| r.id.len())
    }
}

/// Parses a WebVTT file with the default [`Limits`].
pub fn parse(bytes: &[u8]) -> Result<VttFile, Error> {
    parse_with(bytes, &Limits::default())
}

/// Parses a WebVTT file: UTF-8 (a BOM is skipped, invalid sequences become U+FFFD), then the
/// spec's parser algorithm. Fails only for a missing `WEBVTT` signature
/// ([`ErrorKind::Decode`]) or an input over [`Limits::max_input_bytes`] ([`ErrorKind::Limit`]).
pub fn parse_with(bytes: &[u8], limits: &Limits) -> Result<VttFile, Error> {
    if bytes.len() > limits.max_input_bytes {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "WebVTT input of {} bytes exceeds the limit of {}",
                bytes.len(),
                limits.max_input_bytes
            ),
        ));
    }
    let input = normalize(bytes);
    Parser {
        input: &input,
        pos: 0,
        limits,
        seen_cue: false,
        file: VttFile::default(),
    }
    .run()
}

/// UTF-8 decode (BOM skipped, invalid sequences replaced), NUL → U+FFFD, CRLF and CR → LF.
pub(crate) fn normalize(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            c => out.push(c),
        }
    }
    out
}

/// What collecting one block produced.
enum Block {
    Cue(Cue),
    Style(String),
    Region(Region),
    /// Neither: the collected text (a comment, the header, or junk).
    Other(String),
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    limits: &'a Limits,
    seen_cue: bool,
    file: VttFile,
}

impl<'a> Parser<'a> {
    fn run(mut self) -> Result<VttFile, Error> {
        let sig = self.input.get(..6);
        let seventh = self.input.get(6..).and_then(|r| r.chars().next());
        if sig != Some("WEBVTT") || !matches!(seventh, None | Some(' ' | '\t' | '\n')) {
            return Err(Error::new(
                ErrorKind::Decode,
                "not a WebVTT file: it does not start with the WEBVTT signature",
            ));
        }
        self.pos = 6;
        let (first_line, eof) = self.collect_line();
        let mut header = first_line.trim_start_matches([' ', '\t']).to_string();
        if !eof {
            self.pos += 1;
        }
        if self.at_end() {
            self.file.header = header;
            return Ok(self.file);
        }
        if !self.at_lf() {
            if let Block::Other(text) = self.collect_block(true) {
                if !header.is_empty() {
                    header.push('\n');
                }
                header.push_str(&text);
            }
        } else {
            self.pos += 1;
        }
        self.file.timestamp_map = find_timestamp_map(&header);
        self.file.header = header;
        self.skip_lfs();
        let mut style_bytes = 0;
        while !self.at_end() {
            match self.collect_block(false) {
                Block::Cue(cue) => {
                    self.file.cues.push(cue);
                    if self.file.cues.len() >= self.limits.max_cues {
                        self.file.stats.cue_limit_reached = true;
                        break;
                    }
                }
                Block::Style(css) => {
                    if style_bytes + css.len() <= self.limits.max_style_bytes {
                        style_bytes += css.len();
                        self.file.styles.push(css);
                    } else {
                        self.file.stats.dropped_by_limit += 1;
                    }
                }
                Block::Region(region) => {
                    if self.file.regions.len() < self.limits.max_regions {
                        self.file.regions.push(region);
                    } else {
                        self.file.stats.dropped_by_limit += 1;
                    }
                }
                Block::Other(text) => {
                    if is_comment(&text) {
                        self.file.stats.comments += 1;
                    } else if !text.is_empty() {
                        // Lenient: a timestamp map written as its own block before the cues.
                        if self.file.timestamp_map.is_none() && !self.seen_cue {
                            self.file.timestamp_map = find_timestamp_map(&text);
                        }
                        self.file.stats.other_blocks += 1;
                    }
                }
            }
            self.skip_lfs();
        }
        Ok(self.file)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn at_lf(&self) -> bool {
        self.input.as_bytes().get(self.pos) == Some(&b'\n')
    }

    fn skip_lfs(&mut self) {
        while self.at_lf() {
            self.pos += 1;
        }
    }

    /// Collects up to the next LF (not consumed) and reports whether the input ended there.
    fn collect_line(&mut self) -> (&'a str, bool) {
        let input: &'a str = self.input;
        let rest = input.get(self.pos..).unwrap_or("");
        match rest.find('\n') {
            Some(i) => {
                self.pos += i;
                (rest.get(..i).unwrap_or(""), false)
            }
            None => {
                self.pos = self.input.len();
                (rest, true)
            }
        }
    }

    /// The spec's "collect a WebVTT block".
    fn collect_block(&mut self, in_header: bool) -> Block {
        let mut line_count = 0usize;
        let mut previous = self.pos;
        let mut buffer = String::new();
        let mut seen_arrow = false;
        let mut cue: Option<Cue> = None;
        let mut style = false;
        let mut region: Option<Region> = None;
        loop {
            let (line, _) = self.collect_line();
            line_count += 1;
            let seen_eof = self.at_end();
            if !seen_eof {
                self.pos += 1;
            }
            if line.contains("-->") {
                if !in_header && (line_count == 1 || (line_count == 2 && !seen_arrow)) {
                    seen_arrow = true;
                    previous = self.pos;
                    let regions = &self.file.regions;
                    match parse_timing_line(line, regions) {
                        Some((start_us, end_us, settings, region)) => {
                            let mut id = std::mem::take(&mut buffer);
                            if truncate(&mut id, self.limits.max_cue_text_bytes) {
                                self.file.stats.truncated_texts += 1;
                            }
                            cue = Some(Cue {
                                id,
                                start_us,
                                end_us,
                                settings,
                                region,
                                text: String::new(),
                            });
                            self.seen_cue = true;
                        }
                        None => {
                            cue = None;
                            self.file.stats.invalid_cues += 1;
                        }
                    }
                } else {
                    self.pos = previous;
                    break;
                }
            } else if line.is_empty() {
                break;
            } else {
                if !in_header && line_count == 2 && !self.seen_cue {
                    if is_keyword(&buffer, "STYLE") {
                        style = true;
                        buffer.clear();
                    } else if is_keyword(&buffer, "REGION") {
                        region = Some(Region::default());
                        buffer.clear();
                    }
                }
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(line);
                previous = self.pos;
            }
            if seen_eof {
                break;
            }
        }
        if let Some(mut cue) = cue {
            if truncate(&mut buffer, self.limits.max_cue_text_bytes) {
                self.file.stats.truncated_texts += 1;
            }
            cue.text = buffer;
            Block::Cue(cue)
        } else if style {
            Block::Style(buffer)
        } else if region.is_some() {
            Block::Region(Region::parse(&buffer))
        } else {
            Block::Other(buffer)
        }
    }
}

/// `buffer` is `word` followed by nothing but ASCII whitespace.
fn is_keyword(buffer: &str, word: &str) -> bool {
    buffer
        .strip_prefix(word)
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_whitespace()))
}

fn is_comment(text: &str) -> bool {
    text.strip_prefix("NOTE")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n']))
}

/// Cuts `s` to at most `max` bytes at a character boundary; true if it was cut.
pub(crate) fn truncate(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut at = max;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    s.truncate(at);
    true
}

/// The header's `X-TIMESTAMP-MAP=MPEGTS:<n>,LOCAL:<time>` (either order; a missing half is 0).
fn find_timestamp_map(header: &str) -> Option<TimestampMap> {
    let value = header
        .lines()
        .find_map(|l| l.trim().strip_prefix("X-TIMESTAMP-MAP="))?;
    let mut map = TimestampMap {
        mpegts: 0,
        local_us: 0,
    };
    let mut any = false;
    for part in value.split(',') {
        let part = part.trim();
        if let Some(n) = part.strip_prefix("MPEGTS:") {
            if n.is_empty() || n.len() > 19 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            map.mpegts = n.parse().ok()?;
            any = true;
        } else if let Some(t) = part.strip_prefix("LOCAL:") {
            map.local_us = parse_timestamp(t)?;
            any = true;
        }
    }
    any.then_some(map)
}

/// Parses a whole string as a WebVTT timestamp (`mm:ss.ttt` or `h+:mm:ss.ttt`), in
/// microseconds; `None` if it is not exactly one.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let t = c.timestamp()?;
    c.at_end().then_some(t)
}

/// Parses a timing line: start, arrow, end, then the settings.
fn parse_timing_line(
    line: &str,
    regions: &[Region],
) -> Option<(i64, i64, CueSettings, Option<Region>)> {
    let mut c = Cursor::new(line);
    c.skip_whitespace();
    let start = c.timestamp()?;
    c.skip_whitespace();
    for expected in [b'-', b'-', b'>'] {
        if c.peek() != Some(expected) {
            return None;
        }
        c.pos += 1;
    }
    c.skip_whitespace();
    let end = c.timestamp()?;
    let (settings, region) = CueSettings::parse(c.rest(), regions);
    Some((start, end, settings, region))
}

/// "Split on spaces", then each token with a colon that is neither first nor last, as
/// (name, value) split at the first colon.
fn settings_tokens(input: &str) -> impl Iterator<Item = (&str, &str)> {
    input.split_ascii_whitespace().filter_map(|token| {
        let colon = token.find(':')?;
        if colon == 0 || colon + 1 == token.len() {
            return None;
        }
        Some((token.get(..colon)?, token.get(colon + 1..)?))
    })
}

/// The spec's "parse a percentage string": digits, optionally a dot and digits, then `%`;
/// 0..=100.
fn parse_percentage(s: &str) -> Option<f64> {
    let num = s.strip_suffix('%')?;
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let ok = match num.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(num),
    };
    if !ok {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

fn parse_percentage_pair(s: &str) -> Option<(f64, f64)> {
    let (x, y) = s.split_once(',')?;
    Some((parse_percentage(x)?, parse_percentage(y)?))
}

/// A byte cursor for the ASCII-only grammars (timestamps, arrows).
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.pos += 1)
    }

    /// Digits as (count, value); the value is `None` past 18 digits (no overflow).
    fn digits(&mut self) -> (usize, Option<u64>) {
        let from = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let n = self.pos - from;
        let value = if n <= 18 {
            self.s.get(from..self.pos).and_then(|d| d.parse().ok())
        } else {
            None
        };
        (n, value)
    }

    /// The spec's "collect a WebVTT timestamp", in microseconds.
    fn timestamp(&mut self) -> Option<i64> {
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return None;
        }
        let (n1, v1) = self.digits();
        let v1 = v1?;
        let hours = n1 != 2 || v1 > 59;
        self.eat(b':')?;
        let (n2, v2) = self.digits();
        if n2 != 2 {
            return None;
        }
        let (h, m, s) = if hours || self.peek() == Some(b':') {
            self.eat(b':')?;
            let (n3, v3) = self.digits();
            if n3 != 2 {
                return None;
            }
            (v1, v2?, v3?)
        } else {
            (0, v1, v2?)
        };
        self.eat(b'.')?;
        let (n4, ms) = self.digits();
        if n4 != 3 {
            return None;
        }
        if m > 59 || s > 59 {
            return None;
        }
        let total_ms = h
            .checked_mul(3600)?
            .checked_add(m * 60 + s)?
            .checked_mul(1000)?
            .checked_add(ms?)?;
        i64::try_from(total_ms.checked_mul(1000)?).ok()
    }
}
