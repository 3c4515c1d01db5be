//! What a host draws of subtitles ([`SubtitleCue`], sent in
//! [`crate::HostCommand::ShowSubtitles`]): cue boxes in percent of the picture, lines of styled
//! runs. Parsing and layout are the core's (`kinema_core::subtitles`, `kinema_core::text`).

/// A colour, red, green, blue, alpha (straight alpha, 255 = opaque).
pub type Rgba = [u8; 4];

/// Writing direction (`vertical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Vertical {
    /// Horizontal lines, stacked downwards (the default).
    #[default]
    Horizontal,
    /// `vertical:rl`: vertical lines, stacked right to left.
    GrowingLeft,
    /// `vertical:lr`: vertical lines, stacked left to right.
    GrowingRight,
}

/// Text alignment inside the cue box (`align`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextAlign {
    /// Start of the line in the text's direction.
    Start,
    /// Centred (the default).
    #[default]
    Center,
    /// End of the line in the text's direction.
    End,
    /// Left.
    Left,
    /// Right.
    Right,
}

/// How a text track is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextTrackKind {
    /// Subtitles (translation of the dialogue).
    #[default]
    Subtitles,
    /// Captions (dialogue and sounds, for viewers who cannot hear them).
    Captions,
}

/// A styled run of cue text: the markup (`<b>`, `<i>`, `<u>`) and the track's STYLE blocks
/// (`font-weight`, `font-style`, `text-decoration`, `color`, `background-color`) after the
/// cascade (`kinema_core::text::webvtt::style`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextRun {
    /// The text (no line feeds).
    pub text: String,
    /// Bold.
    pub bold: bool,
    /// Italic.
    pub italic: bool,
    /// Underlined.
    pub underline: bool,
    /// Text colour, RGBA (straight alpha); `None`: the host's default, white.
    pub color: Option<Rgba>,
    /// Background behind this run, RGBA; `None`: the host's default cue background (80 %
    /// black). When set it replaces the default behind the run.
    pub background: Option<Rgba>,
}

/// One cue on screen: its box in percent of the video picture (top-left origin) and its
/// wrapped lines. Hosts draw each line's runs with a font of `font_size` percent of the
/// picture height, on a translucent black background behind the text (or the runs' own
/// colours), aligned by `align`. Vertical cues' lines are columns, see [`SubtitleCue::vertical`].
#[derive(Debug, Clone, PartialEq)]
pub struct SubtitleCue {
    /// Identity while the cue stays loaded.
    pub id: u64,
    /// The cue identifier of the file (may be empty).
    pub cue_id: String,
    /// Start, seconds of presentation time.
    pub start: f64,
    /// End, seconds (exclusive).
    pub end: f64,
    /// The text without markup (lines joined by `\n`), for apps and accessibility.
    pub text: String,
    /// Left edge, percent of the picture width.
    pub x: f64,
    /// Top edge, percent of the picture height.
    pub y: f64,
    /// Width, percent of the picture width.
    pub width: f64,
    /// Height, percent of the picture height.
    pub height: f64,
    /// Height of one line, percent of the picture height.
    pub line_height: f64,
    /// Font size, percent of the picture height.
    pub font_size: f64,
    /// Alignment of the lines inside the box.
    pub align: TextAlign,
    /// The text runs right to left (resolves `start`/`end`).
    pub rtl: bool,
    /// Writing direction. For vertical cues (`vertical:rl` / `vertical:lr`) each of
    /// [`lines`](Self::lines) is a column, `line_height` thick across (percent of the picture
    /// *height*, like every size here), its characters stacked top to bottom one `font_size`
    /// apart ((`kinema_core::subtitles::VERTICAL_ADVANCE_EM`)); the first column is at the box's right edge and the
    /// next ones go leftwards for [`Vertical::GrowingLeft`], from the left edge rightwards for
    /// [`Vertical::GrowingRight`]. `align` then places the text along the column (start and
    /// left: top; end and right: bottom).
    pub vertical: Vertical,
    /// The lines (columns for vertical cues), in reading order.
    pub lines: Vec<Vec<TextRun>>,
}
