//! What [`Subtitles`] shows: the cues of the store active at the playhead
//! ([`Subtitles::update`], sent as [`HostCommand::ShowSubtitles`] when that set changes or the
//! picture's shape does, [`Subtitles::set_picture`]), laid out by the spec's cue box layout in
//! percent of the picture and wrapped into lines of styled [`TextRun`]s by an average glyph
//! advance (the module documentation's Layout and Style paragraphs). Reads the cue store and
//! style sheet the other parts fill; changes nothing but what is shown.

use super::{
    SubtitleCue, Subtitles, TextRun, AVERAGE_ADVANCE_EM, FONT_PER_LINE, VERTICAL_ADVANCE_EM,
};
use crate::host::HostCommand;
use crate::text::webvtt::{layout, Cue, StyleSheet, Vertical, Viewport};
use crate::text::CueId;

impl Subtitles {
    /// The cues on screen now.
    pub fn active(&self) -> Vec<SubtitleCue> {
        self.views(&self.shown)
    }

    /// The picture's display size changed: lay the cues out again.
    pub fn set_picture(&mut self, width: u32, height: u32) {
        if (width, height) != self.picture {
            self.picture = (width, height);
            self.dirty = true;
        }
    }

    /// Shows what is active at `time_us` when it differs from what is on screen.
    pub fn update(&mut self, time_us: i64, out: &mut Vec<HostCommand>) {
        let active: Vec<CueId> = if self.selected.is_some() {
            self.store
                .active_at(time_us)
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        } else {
            Vec::new()
        };
        if active == self.shown && (!self.dirty || active.is_empty()) {
            self.dirty = false;
            return;
        }
        self.dirty = false;
        let cues = self.views(&active);
        self.shown = active;
        out.push(HostCommand::ShowSubtitles { cues });
    }

    /// Lays out the cues `ids` (text track cue order).
    fn views(&self, ids: &[CueId]) -> Vec<SubtitleCue> {
        let cues: Vec<(CueId, &Cue)> = ids
            .iter()
            .filter_map(|&id| self.store.get(id).map(|c| (id, c)))
            .collect();
        let (w, h) = match self.picture {
            (w, h) if w > 0 && h > 0 => (f64::from(w), f64::from(h)),
            _ => (16.0, 9.0),
        };
        let viewport = Viewport::new(w, h);
        let aspect = w / h;
        let lh = viewport.line_height;
        let refs: Vec<&Cue> = cues.iter().map(|(_, c)| *c).collect();
        let sheet = &self.styles;
        let boxes = layout::layout_with(&refs, &[], &viewport, |cue, size| {
            wrap(
                cue,
                sheet,
                line_capacity(cue.settings.vertical, size, aspect, lh),
            )
            .len()
        });
        boxes
            .into_iter()
            .filter_map(|b| {
                let (id, cue) = cues.get(b.cue)?;
                let size = match b.vertical {
                    Vertical::Horizontal => b.width,
                    _ => b.height,
                };
                let lines = wrap(cue, sheet, line_capacity(b.vertical, size, aspect, lh));
                Some(SubtitleCue {
                    id: id.0,
                    cue_id: cue.id.clone(),
                    start: cue.start_us as f64 / 1e6,
                    end: cue.end_us as f64 / 1e6,
                    text: cue.plain_text(),
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: b.height,
                    line_height: lh,
                    font_size: lh * FONT_PER_LINE,
                    align: b.align,
                    rtl: b.rtl,
                    vertical: b.vertical,
                    lines,
                })
            })
            .collect()
    }
}

/// Characters that fit on one line of a cue of `size` percent: of the picture width for
/// horizontal cues, of its height down the columns of vertical ones.
fn line_capacity(vertical: Vertical, size: f64, aspect: f64, line_height: f64) -> usize {
    match vertical {
        Vertical::Horizontal => chars_per_line(size, aspect, line_height),
        _ => chars_per_column(size, line_height),
    }
}

/// Characters that fit in one column of `height` percent of the picture height.
fn chars_per_column(height: f64, line_height: f64) -> usize {
    let em = line_height * FONT_PER_LINE * VERTICAL_ADVANCE_EM;
    if em <= 0.0 || !height.is_finite() {
        return 1;
    }
    ((height / em).floor() as usize).max(1)
}

/// Characters that fit on one line of `width` percent of the picture width.
fn chars_per_line(width: f64, aspect: f64, line_height: f64) -> usize {
    let em = line_height * FONT_PER_LINE * AVERAGE_ADVANCE_EM; // percent of the height
    if em <= 0.0 || !width.is_finite() {
        return 1;
    }
    ((width * aspect / em).floor() as usize).max(1)
}

/// The cue's styled text broken into lines: at its line feeds, then greedily at spaces so no
/// line exceeds `max_chars` (a longer word gets a line of its own).
fn wrap(cue: &Cue, sheet: &StyleSheet, max_chars: usize) -> Vec<Vec<TextRun>> {
    // Words with their style; `None` marks an explicit line break.
    let mut words: Vec<Option<(String, TextRun)>> = Vec::new();
    for (span, run) in cue.styled_spans(sheet) {
        if span.ruby_text {
            continue;
        }
        let style = TextRun {
            text: String::new(),
            bold: run.bold,
            italic: run.italic,
            underline: run.underline,
            color: run.color,
            background: run.background,
        };
        for (i, line) in span.text.split('\n').enumerate() {
            if i > 0 {
                words.push(None);
            }
            // Keep the space before each word so runs of different styles join naturally.
            let mut rest = line;
            while !rest.is_empty() {
                let lead = rest.len() - rest.trim_start().len();
                let body = rest.trim_start();
                let end = body.find(' ').unwrap_or(body.len());
                let (word, tail) = rest.split_at(lead + end);
                words.push(Some((word.to_string(), style.clone())));
                rest = tail;
            }
        }
    }
    let mut lines: Vec<Vec<TextRun>> = vec![Vec::new()];
    let mut len = 0usize;
    for w in words {
        let Some((word, style)) = w else {
            lines.push(Vec::new());
            len = 0;
            continue;
        };
        let n = word.chars().count();
        let word = if len > 0 && len + n > max_chars {
            lines.push(Vec::new());
            len = 0;
            word.trim_start().to_string()
        } else if len == 0 {
            word.trim_start().to_string()
        } else {
            word
        };
        if word.is_empty() {
            continue;
        }
        len += word.chars().count();
        let Some(line) = lines.last_mut() else { break };
        match line.last_mut() {
            Some(run) if same_style(run, &style) => run.text.push_str(&word),
            _ => line.push(TextRun {
                text: word,
                ..style
            }),
        }
    }
    // Trailing empty lines show nothing.
    while lines.last().is_some_and(|l| l.is_empty()) && lines.len() > 1 {
        lines.pop();
    }
    if lines.iter().all(|l| l.is_empty()) {
        return Vec::new();
    }
    lines
}

/// Same style as `other` (only the text may differ).
fn same_style(a: &TextRun, b: &TextRun) -> bool {
    (a.bold, a.italic, a.underline, a.color, a.background)
        == (b.bold, b.italic, b.underline, b.color, b.background)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::webvtt::{self, Rgba};

    fn cue(text: &str) -> Cue {
        let f = webvtt::parse(format!("WEBVTT\n\n00:01.000 --> 00:02.000\n{text}\n").as_bytes())
            .unwrap();
        f.cues[0].clone()
    }

    fn plain(lines: &[Vec<TextRun>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|r| r.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn wraps_at_spaces_and_keeps_line_feeds_and_styles() {
        let none = StyleSheet::default();
        let c = cue("one two three four\n<b>bold</b> plain");
        assert_eq!(
            plain(&wrap(&c, &none, 9)),
            vec!["one two", "three", "four", "bold", "plain"]
        );
        let lines = wrap(&c, &none, 100);
        assert_eq!(plain(&lines), vec!["one two three four", "bold plain"]);
        assert!(lines[1][0].bold && lines[1][0].text == "bold");
        assert!(!lines[1][1].bold && lines[1][1].text == " plain");
        // A word longer than the line gets its own line, never split.
        assert_eq!(
            plain(&wrap(&cue("a verylongword b"), &none, 4)),
            vec!["a", "verylongword", "b"]
        );
        assert!(wrap(&cue("<i></i>"), &none, 10).is_empty());
    }

    #[test]
    fn runs_carry_the_style_sheet_colours_and_split_where_they_change() {
        let f = webvtt::parse(
            b"WEBVTT\n\nSTYLE\n::cue(.hot) { color: #ff0000; background: rgba(0,0,255,0.5) }\n\n00:01.000 --> 00:02.000\nplain <c.hot>hot words</c> <b>bold</b>\n",
        )
        .unwrap();
        let sheet = f.style_sheet();
        let lines = wrap(&f.cues[0], &sheet, 100);
        assert_eq!(plain(&lines), vec!["plain hot words bold"]);
        let runs: Vec<(&str, Option<Rgba>, Option<Rgba>, bool)> = lines[0]
            .iter()
            .map(|r| (r.text.as_str(), r.color, r.background, r.bold))
            .collect();
        assert_eq!(
            runs,
            vec![
                ("plain ", None, None, false),
                (
                    "hot words",
                    Some([255, 0, 0, 255]),
                    Some([0, 0, 255, 128]),
                    false
                ),
                (" ", None, None, false),
                ("bold", None, None, true),
            ]
        );
        // Without the sheet: no colours.
        let bare = wrap(&f.cues[0], &StyleSheet::default(), 100);
        assert!(bare[0].iter().all(|r| r.color.is_none()));
    }

    #[test]
    fn vertical_columns_hold_one_em_per_character() {
        // 6 % lines, 5 % font: a full-height column holds 20 characters.
        assert_eq!(chars_per_column(100.0, 6.0), 20);
        assert_eq!(
            line_capacity(Vertical::GrowingLeft, 50.0, 16.0 / 9.0, 6.0),
            10
        );
        assert_eq!(
            line_capacity(Vertical::Horizontal, 50.0, 16.0 / 9.0, 6.0),
            35
        );
        assert_eq!(chars_per_column(f64::NAN, 6.0), 1);
    }

    #[test]
    fn chars_per_line_follows_the_aspect() {
        // 16:9, full width, 6 % lines: 5 % font, 2.5 % advance → 71 characters.
        assert_eq!(chars_per_line(100.0, 16.0 / 9.0, 6.0), 71);
        assert_eq!(chars_per_line(50.0, 16.0 / 9.0, 6.0), 35);
        assert_eq!(chars_per_line(0.0, 1.0, 6.0), 1);
    }
}
