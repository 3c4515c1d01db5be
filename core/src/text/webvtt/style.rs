//! WebVTT STYLE blocks (the spec's "CSS extensions"): a bounded, safe subset of CSS applied to
//! cue text, producing run colours and font styles renderers can draw without a CSS engine.
//!
//! Selectors: `::cue` (the whole cue), `::cue(X)` where `X` is one compound selector made of
//! an optional type (`c`, `i`, `b`, `u`, `v`, `lang`, `ruby`, `rt` or `*`), classes (`.a.b`)
//! and attributes (`[voice]`, `[voice="Name"]`, `[lang="en"]`), or `::cue(#id)` (the cue whose
//! identifier is `id`; CSS escapes such as `#\31 23` are decoded). Comma lists apply the rule
//! to each selector; a selector outside the subset (combinators, pseudo-classes such as
//! `:past`, other attributes or operators) is dropped from its list and the rest of the list
//! still applies (CSS would drop the whole rule; being lenient keeps more of a file's styling).
//! At-rules (`@media`, `@import`, …) are skipped.
//!
//! Properties: `color`, `background-color`, `background` (its colour only; `none` is
//! transparent), `font-weight` (`bold`, `bolder`, numbers ≥ 600 are bold), `font-style`
//! (`italic`, `oblique`), `text-decoration` / `text-decoration-line` (`underline`, `none`) and
//! `opacity` (multiplies the alphas of a run's colours, the default white text's too; the
//! host's default background is left as it is). Colours: `#rgb`, `#rgba`,
//! `#rrggbb`, `#rrggbbaa`, `rgb()` / `rgba()` (comma or space separated, numbers or
//! percentages, `/ alpha`), `transparent` and the CSS named colours. Anything else is ignored.
//!
//! Cascade, as CSS: `!important` declarations first, then higher specificity (an id over
//! classes and attributes over types; `::cue(...)` adds its pseudo-element's type weight), then
//! the later rule. `color`, `font-weight` and `font-style` inherit; a background is painted
//! behind everything inside its element; an underline also underlines the element's content.
//! The user-agent base: `<b>` bold, `<i>` italic, `<u>` underlined, and the default colour
//! classes ([`DEFAULT_CLASS_COLORS`]).
//!
//! Bounds: the parser never panics and never fails (malformed CSS only loses its rules); it
//! keeps at most [`MAX_RULES`] rules, [`MAX_SELECTORS`] selectors per rule, [`MAX_CLASSES`]
//! classes per selector, and ignores declarations longer than [`MAX_DECLARATION_BYTES`]. The
//! CSS text itself is bounded by [`super::Limits::max_style_bytes`]. Styling a cue costs at
//! most rules × selectors matches per element of its text (itself bounded by
//! [`super::Limits::max_cue_text_bytes`]).
//!
//! # Why own code
//! `cssparser` (Servo's tokenizer) would handle the syntax, but it is a tokenizer only (the
//! selector matching, cascade and colour table would still be ours), brings its own
//! dependencies and costs far more wasm than this subset: a comment stripper, a brace-aware
//! rule splitter and a compound-selector reader are enough for what WebVTT files contain.
//!
//! One file for the CSS subset (comment stripping, rules, selectors, declarations, cascade):
//! each step feeds the next and the limits apply to all of them; the tests are a third of it.

use super::markup::{ElementKind, Node, Span, MAX_CLASSES};

/// Most style rules kept from a file (later rules are dropped).
pub const MAX_RULES: usize = 256;
/// Most selectors kept in one rule's comma list.
pub const MAX_SELECTORS: usize = 32;
/// Longest declaration (`name: value`) read, bytes; longer ones are ignored.
pub const MAX_DECLARATION_BYTES: usize = 1024;

pub use kinema_protocol::text::Rgba;

/// The colour classes that caption converters (CEA-608/708 to WebVTT, as in Shaka Player and
/// ffmpeg-based tool chains) write as `<c.yellow>` and `<c.bg_yellow>`. WebVTT does not define
/// them: applying them follows common practice, not the spec. They are applied only when the
/// file's STYLE blocks set no colour of that kind (no `color` declaration at all for text
/// colours, no background declaration for `bg_` classes), so a file that styles itself is
/// drawn as a browser would draw it.
pub const DEFAULT_CLASS_COLORS: [(&str, Rgba); 8] = [
    ("white", [255, 255, 255, 255]),
    ("lime", [0, 255, 0, 255]),
    ("cyan", [0, 255, 255, 255]),
    ("red", [255, 0, 0, 255]),
    ("yellow", [255, 255, 0, 255]),
    ("magenta", [255, 0, 255, 255]),
    ("blue", [0, 0, 255, 255]),
    ("black", [0, 0, 0, 255]),
];

/// The style of a run of cue text after the cascade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStyle {
    /// Bold (`<b>` or `font-weight`).
    pub bold: bool,
    /// Italic (`<i>` or `font-style`).
    pub italic: bool,
    /// Underlined (`<u>` or `text-decoration`).
    pub underline: bool,
    /// Text colour; `None`: the renderer's default (white).
    pub color: Option<Rgba>,
    /// Background behind the run; `None`: the renderer's default cue background.
    pub background: Option<Rgba>,
}

/// The parsed STYLE blocks of a file. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StyleSheet {
    rules: Vec<Rule>,
    /// Some rule declares `color` (the default colour classes are then off).
    sets_color: bool,
    /// Some rule declares a background (the default `bg_` classes are then off).
    sets_background: bool,
    /// Rules, selectors or declarations dropped by the bounds or as outside the subset.
    dropped: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    selectors: Vec<Selector>,
    declarations: Vec<Declaration>,
}

#[derive(Debug, Clone, PartialEq)]
enum Selector {
    /// `::cue`: the cue's root.
    Cue,
    /// `::cue(#id)`.
    CueId(String),
    /// `::cue(compound)`: an element inside the cue.
    Element(Compound),
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Compound {
    /// `None`: any element (also `*`).
    tag: Option<Tag>,
    classes: Vec<String>,
    attributes: Vec<(Attribute, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tag {
    Class,
    Italic,
    Bold,
    Underline,
    Voice,
    Lang,
    Ruby,
    RubyText,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Attribute {
    Voice,
    Lang,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Property {
    Color(Rgba),
    Background(Rgba),
    Bold(bool),
    Italic(bool),
    Underline(bool),
    Opacity(f32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Declaration {
    property: Property,
    important: bool,
}

/// Specificity (ids, classes and attributes, types), compared in that order.
type Specificity = (u16, u16, u16);

impl Selector {
    fn specificity(&self) -> Specificity {
        match self {
            Selector::Cue => (0, 0, 1),
            Selector::CueId(_) => (1, 0, 1),
            Selector::Element(c) => {
                let classes = c.classes.len() + c.attributes.len();
                let classes = u16::try_from(classes).unwrap_or(u16::MAX);
                (0, classes, 1 + u16::from(c.tag.is_some()))
            }
        }
    }
}

impl StyleSheet {
    /// Parses the CSS of STYLE blocks, in file order (as [`super::VttFile::styles`] holds
    /// them). Never fails: what cannot be read is dropped.
    pub fn parse<S: AsRef<str>>(blocks: &[S]) -> StyleSheet {
        let mut sheet = StyleSheet::default();
        for block in blocks {
            sheet.add(block.as_ref());
        }
        sheet
    }

    /// No rule was kept.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules kept.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Rules, selectors and declarations dropped (bounds, or outside the subset).
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    fn add(&mut self, css: &str) {
        let css = strip_comments(css);
        for (prelude, block) in split_rules(&css) {
            let prelude = prelude.trim();
            if prelude.starts_with('@') || prelude.is_empty() {
                self.dropped += 1;
                continue;
            }
            if self.rules.len() >= MAX_RULES {
                self.dropped += 1;
                continue;
            }
            let mut selectors = Vec::new();
            for part in split_top_level(prelude, b',') {
                match (selectors.len() < MAX_SELECTORS)
                    .then(|| parse_selector(part))
                    .flatten()
                {
                    Some(s) => selectors.push(s),
                    None => self.dropped += 1,
                }
            }
            let mut declarations = Vec::new();
            for part in split_top_level(block, b';') {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                if part.len() > MAX_DECLARATION_BYTES {
                    self.dropped += 1;
                    continue;
                }
                let before = declarations.len();
                parse_declaration(part, &mut declarations);
                if declarations.len() == before {
                    self.dropped += 1;
                }
            }
            if selectors.is_empty() || declarations.is_empty() {
                continue;
            }
            for d in &declarations {
                match d.property {
                    Property::Color(_) => self.sets_color = true,
                    Property::Background(_) => self.sets_background = true,
                    _ => {}
                }
            }
            self.rules.push(Rule {
                selectors,
                declarations,
            });
        }
    }

    /// The cue text tree `nodes` of the cue with identifier `cue_id` as styled spans, in text
    /// order (the spans of [`super::markup::spans`], each with its style).
    pub fn style(&self, cue_id: &str, nodes: &[Node]) -> Vec<(Span, RunStyle)> {
        let root = self.cascade(Computed::default(), |s| match s {
            Selector::Cue => true,
            Selector::CueId(id) => id == cue_id,
            Selector::Element(_) => false,
        });
        let mut out = Vec::new();
        let mut time = None;
        self.walk(nodes, &Span::default(), &root, &mut time, &mut out);
        out
    }

    fn walk(
        &self,
        nodes: &[Node],
        span: &Span,
        style: &Computed,
        time: &mut Option<i64>,
        out: &mut Vec<(Span, RunStyle)>,
    ) {
        for node in nodes {
            match node {
                Node::Text(text) => out.push((
                    Span {
                        text: text.clone(),
                        timestamp_us: *time,
                        ..span.clone()
                    },
                    style.run(),
                )),
                Node::Timestamp(t) => *time = Some(*t),
                Node::Element(e) => {
                    let mut inner = span.clone();
                    let mut base = style.inherit();
                    match &e.kind {
                        ElementKind::Bold => {
                            inner.bold = true;
                            base.bold = true;
                        }
                        ElementKind::Italic => {
                            inner.italic = true;
                            base.italic = true;
                        }
                        ElementKind::Underline => {
                            inner.underline = true;
                            base.own_underline = true;
                        }
                        ElementKind::Ruby => inner.ruby = true,
                        ElementKind::RubyText => {
                            inner.ruby = false;
                            inner.ruby_text = true;
                        }
                        ElementKind::Voice { name } => inner.voice = Some(name.clone()),
                        ElementKind::Class | ElementKind::Lang => {}
                    }
                    for class in &e.classes {
                        if !self.sets_color {
                            if let Some(c) = default_class(class) {
                                base.color = Some(c);
                            }
                        }
                        if !self.sets_background {
                            if let Some(c) = class.strip_prefix("bg_").and_then(default_class) {
                                base.background = Some(c);
                            }
                        }
                    }
                    let computed = self.cascade(base, |s| match s {
                        Selector::Element(c) => c.matches(e),
                        _ => false,
                    });
                    inner.classes.extend(e.classes.iter().cloned());
                    if e.lang.is_some() {
                        inner.lang = e.lang.clone();
                    }
                    self.walk(&e.children, &inner, &computed, time, out);
                }
            }
        }
    }

    /// Applies the declarations of the rules whose selectors `matches` accepts onto `base`
    /// (the inherited and user-agent values), by importance, specificity, then order.
    fn cascade(&self, base: Computed, matches: impl Fn(&Selector) -> bool) -> Computed {
        let mut winners: Vec<((bool, Specificity, usize), Declaration)> = Vec::new();
        for (order, rule) in self.rules.iter().enumerate() {
            let Some(spec) = rule
                .selectors
                .iter()
                .filter(|s| matches(s))
                .map(Selector::specificity)
                .max()
            else {
                continue;
            };
            for d in &rule.declarations {
                let key = (d.important, spec, order);
                let slot = winners
                    .iter_mut()
                    .find(|(_, w)| same_property(&w.property, &d.property));
                match slot {
                    Some(slot) if key >= slot.0 => *slot = (key, *d),
                    Some(_) => {}
                    None => winners.push((key, *d)),
                }
            }
        }
        let mut c = base;
        for (_, d) in winners {
            match d.property {
                Property::Color(v) => c.color = Some(v),
                Property::Background(v) => c.background = Some(v),
                Property::Bold(v) => c.bold = v,
                Property::Italic(v) => c.italic = v,
                Property::Underline(v) => c.own_underline = v,
                Property::Opacity(v) => c.opacity = c.parent_opacity * v,
            }
        }
        c
    }
}

fn same_property(a: &Property, b: &Property) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn default_class(class: &str) -> Option<Rgba> {
    DEFAULT_CLASS_COLORS
        .iter()
        .find(|(name, _)| *name == class)
        .map(|(_, c)| *c)
}

/// Computed values of one element (or the cue root).
#[derive(Debug, Clone, Copy)]
struct Computed {
    bold: bool,
    italic: bool,
    color: Option<Rgba>,
    /// This element's background, else the nearest ancestor's (what shows behind its text).
    background: Option<Rgba>,
    /// Underlined by an ancestor.
    inherited_underline: bool,
    /// This element's own `text-decoration`.
    own_underline: bool,
    opacity: f32,
    parent_opacity: f32,
}

impl Default for Computed {
    fn default() -> Self {
        Computed {
            bold: false,
            italic: false,
            color: None,
            background: None,
            inherited_underline: false,
            own_underline: false,
            opacity: 1.0,
            parent_opacity: 1.0,
        }
    }
}

impl Computed {
    /// What a child element starts from.
    fn inherit(&self) -> Computed {
        Computed {
            inherited_underline: self.inherited_underline || self.own_underline,
            own_underline: false,
            parent_opacity: self.opacity,
            ..*self
        }
    }

    fn run(&self) -> RunStyle {
        let fade = |c: Rgba| {
            let [r, g, b, a] = c;
            [
                r,
                g,
                b,
                (f32::from(a) * self.opacity).round().clamp(0.0, 255.0) as u8,
            ]
        };
        let color = match self.color {
            None if self.opacity < 1.0 => Some([255, 255, 255, 255]),
            c => c,
        };
        RunStyle {
            bold: self.bold,
            italic: self.italic,
            underline: self.inherited_underline || self.own_underline,
            color: color.map(fade),
            background: self.background.map(fade),
        }
    }
}

impl Compound {
    fn matches(&self, e: &super::markup::Element) -> bool {
        if let Some(tag) = self.tag {
            let kind = match e.kind {
                ElementKind::Class => Tag::Class,
                ElementKind::Italic => Tag::Italic,
                ElementKind::Bold => Tag::Bold,
                ElementKind::Underline => Tag::Underline,
                ElementKind::Voice { .. } => Tag::Voice,
                ElementKind::Lang => Tag::Lang,
                ElementKind::Ruby => Tag::Ruby,
                ElementKind::RubyText => Tag::RubyText,
            };
            if kind != tag {
                return false;
            }
        }
        if !self.classes.iter().all(|c| e.classes.contains(c)) {
            return false;
        }
        self.attributes.iter().all(|(name, value)| {
            let actual = match (name, &e.kind) {
                (Attribute::Voice, ElementKind::Voice { name }) => Some(name.as_str()),
                (Attribute::Lang, ElementKind::Lang) => e.lang.as_deref(),
                _ => None,
            };
            match (actual, value) {
                (Some(a), Some(v)) => a == v,
                (Some(_), None) => true,
                (None, _) => false,
            }
        })
    }
}

/// The CSS without `/* … */` comments (an unclosed comment runs to the end). Strings are
/// respected, so a `/*` inside quotes stays.
fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else if c == q || c == '\n' {
                    quote = None;
                }
            }
            None if c == '/' && chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = '\0';
                for n in chars.by_ref() {
                    if last == '*' && n == '/' {
                        break;
                    }
                    last = n;
                }
                out.push(' ');
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// The bytes of `css` (with their index) that are structure: not inside a quoted string, not
/// a backslash or the character it escapes, not a quote. `newline_ends`: an unescaped line
/// feed ends a string (CSS's bad-string rule, for whole rules).
fn outside_strings(css: &str, newline_ends: bool) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    css.bytes().enumerate().filter(move |&(_, b)| {
        if escaped {
            escaped = false;
            return false;
        }
        if let Some(q) = quote {
            if b == b'\\' {
                escaped = true;
            } else if b == q || (newline_ends && b == b'\n') {
                quote = None;
            }
            return false;
        }
        match b {
            b'\\' => escaped = true,
            b'"' | b'\'' => quote = Some(b),
            _ => return true,
        }
        false
    })
}

/// Splits comment-free CSS into (prelude, block contents) pairs at the top level. A statement
/// ending in `;` outside any block (`@import …;`) is skipped; a block left open at the end is
/// closed there, as CSS does; a stray `}` is ignored.
fn split_rules(css: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut prelude_start = 0;
    let mut prelude_end = 0;
    let mut block_start = 0;
    for (i, b) in outside_strings(css, true) {
        match b {
            b'{' => {
                if depth == 0 {
                    prelude_end = i;
                    block_start = i + 1;
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push((
                        css.get(prelude_start..prelude_end).unwrap_or(""),
                        css.get(block_start..i).unwrap_or(""),
                    ));
                    prelude_start = i + 1;
                }
            }
            b'}' => prelude_start = i + 1,
            b';' if depth == 0 => prelude_start = i + 1,
            _ => {}
        }
    }
    if depth > 0 {
        out.push((
            css.get(prelude_start..prelude_end).unwrap_or(""),
            css.get(block_start..).unwrap_or(""),
        ));
    }
    out
}

/// Splits at `sep` outside parentheses, brackets and strings.
fn split_top_level(s: &str, sep: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, b) in outside_strings(s, false) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ if b == sep && depth == 0 => {
                out.push(s.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// One selector of a list: `::cue`, `::cue(#id)` or `::cue(compound)`.
fn parse_selector(s: &str) -> Option<Selector> {
    let s = s.trim();
    let head = s.get(..5)?;
    if !head.eq_ignore_ascii_case("::cue") {
        return None;
    }
    let rest = s.get(5..)?;
    if rest.is_empty() {
        return Some(Selector::Cue);
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?.trim();
    let mut r = Reader { s: inner, pos: 0 };
    if r.eat('#') {
        let id = r.ident()?;
        return r.at_end().then_some(Selector::CueId(id));
    }
    let mut c = Compound::default();
    let star = r.eat('*');
    if !star && r.peek().is_some_and(is_ident_start) {
        let name = r.ident()?.to_ascii_lowercase();
        c.tag = Some(match name.as_str() {
            "c" => Tag::Class,
            "i" => Tag::Italic,
            "b" => Tag::Bold,
            "u" => Tag::Underline,
            "v" => Tag::Voice,
            "lang" => Tag::Lang,
            "ruby" => Tag::Ruby,
            "rt" => Tag::RubyText,
            _ => return None,
        });
    }
    if !star && c.tag.is_none() && r.at_end() {
        return None;
    }
    while !r.at_end() {
        if r.eat('.') {
            if c.classes.len() >= MAX_CLASSES {
                return None;
            }
            c.classes.push(r.ident()?);
        } else if r.eat('[') {
            r.skip_space();
            let name = r.ident()?.to_ascii_lowercase();
            let name = match name.as_str() {
                "voice" => Attribute::Voice,
                "lang" => Attribute::Lang,
                _ => return None,
            };
            r.skip_space();
            let value = if r.eat('=') {
                r.skip_space();
                let v = match r.peek() {
                    Some(q @ ('"' | '\'')) => {
                        r.pos += 1;
                        r.string(q)?
                    }
                    _ => r.ident()?,
                };
                r.skip_space();
                Some(v)
            } else {
                None
            };
            if !r.eat(']') {
                return None;
            }
            c.attributes.push((name, value));
        } else {
            // Combinators, pseudo-classes, ids mixed with other parts: outside the subset.
            return None;
        }
    }
    Some(Selector::Element(c))
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '-' || c == '\\' || !c.is_ascii()
}

/// A character cursor over one selector.
struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn eat(&mut self, c: char) -> bool {
        let yes = self.peek() == Some(c);
        if yes {
            self.pos += c.len_utf8();
        }
        yes
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// A CSS escape after its backslash: up to 6 hex digits and one optional whitespace, or
    /// any other character as itself.
    fn escape(&mut self) -> Option<char> {
        let rest = self.s.get(self.pos..)?;
        let hex = rest
            .bytes()
            .take(6)
            .take_while(u8::is_ascii_hexdigit)
            .count();
        if hex > 0 {
            let value = u32::from_str_radix(rest.get(..hex)?, 16).ok()?;
            self.pos += hex;
            if self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                self.pos += 1;
            }
            return Some(match value {
                0 | 0xD800..=0xDFFF | 0x110000.. => '\u{FFFD}',
                v => char::from_u32(v).unwrap_or('\u{FFFD}'),
            });
        }
        let c = self.peek().filter(|&c| c != '\n')?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// An identifier (letters, digits, `-`, `_`, non-ASCII, escapes); `None` if empty.
    fn ident(&mut self) -> Option<String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                self.pos += 1;
                out.push(self.escape()?);
            } else if c.is_alphanumeric() || c == '-' || c == '_' || !c.is_ascii() {
                out.push(c);
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// A string's contents after its opening quote, through the closing one.
    fn string(&mut self, quote: char) -> Option<String> {
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            self.pos += c.len_utf8();
            match c {
                '\\' => out.push(self.escape()?),
                c if c == quote => return Some(out),
                '\n' => return None,
                c => out.push(c),
            }
        }
    }
}

/// One `name: value` declaration; pushes what it sets (nothing if unknown or invalid).
fn parse_declaration(decl: &str, out: &mut Vec<Declaration>) {
    let Some((name, value)) = decl.split_once(':') else {
        return;
    };
    let name = name.trim().to_ascii_lowercase();
    let mut value = value.trim();
    let mut important = false;
    if let Some(bang) = value.rfind('!') {
        let flag = value.get(bang + 1..).unwrap_or("").trim();
        if flag.eq_ignore_ascii_case("important") {
            important = true;
            value = value.get(..bang).unwrap_or("").trim();
        }
    }
    let lower = value.to_ascii_lowercase();
    let property = match name.as_str() {
        "color" => parse_color(value).map(Property::Color),
        "background-color" => parse_color(value).map(Property::Background),
        "background" => {
            let colour = split_words(value).into_iter().find_map(parse_color);
            match colour {
                Some(c) => Some(Property::Background(c)),
                None if lower == "none" => Some(Property::Background([0, 0, 0, 0])),
                None => None,
            }
        }
        "font-weight" => match lower.as_str() {
            "bold" | "bolder" => Some(Property::Bold(true)),
            "normal" | "lighter" => Some(Property::Bold(false)),
            n => n
                .parse::<f64>()
                .ok()
                .filter(|w| (1.0..=1000.0).contains(w))
                .map(|w| Property::Bold(w >= 600.0)),
        },
        "font-style" => match lower.split_ascii_whitespace().next() {
            Some("italic" | "oblique") => Some(Property::Italic(true)),
            Some("normal") => Some(Property::Italic(false)),
            _ => None,
        },
        "text-decoration" | "text-decoration-line" => {
            let words: Vec<&str> = lower.split_ascii_whitespace().collect();
            if words.contains(&"underline") {
                Some(Property::Underline(true))
            } else if words.contains(&"none") {
                Some(Property::Underline(false))
            } else {
                None
            }
        }
        "opacity" => parse_alpha(&lower).map(Property::Opacity),
        _ => None,
    };
    if let Some(property) = property {
        out.push(Declaration {
            property,
            important,
        });
    }
}

/// Splits a value at whitespace outside parentheses.
fn split_words(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = None;
    for (i, b) in value.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let space = b.is_ascii_whitespace() && depth == 0;
        match (space, start) {
            (true, Some(s)) => {
                out.push(value.get(s..i).unwrap_or(""));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(value.get(s..).unwrap_or(""));
    }
    out
}

/// A number or a percentage as 0..=1.
fn parse_alpha(s: &str) -> Option<f32> {
    let s = s.trim();
    let v = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f32>().ok()? / 100.0,
        None => s.parse::<f32>().ok()?,
    };
    v.is_finite().then_some(v.clamp(0.0, 1.0))
}

/// A CSS colour: hex (3, 4, 6 or 8 digits), `rgb()`/`rgba()`, `transparent` or a named colour.
pub fn parse_color(value: &str) -> Option<Rgba> {
    let v = value.trim();
    if let Some(hex) = v.strip_prefix('#') {
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let digit = |i: usize| {
            hex.as_bytes()
                .get(i)
                .and_then(|&b| char::from(b).to_digit(16))
                .map_or(0, |d| d as u8)
        };
        return match hex.len() {
            3 | 4 => {
                let alpha = if hex.len() == 4 { digit(3) * 17 } else { 255 };
                Some([digit(0) * 17, digit(1) * 17, digit(2) * 17, alpha])
            }
            6 | 8 => {
                let byte = |i: usize| digit(2 * i) * 16 + digit(2 * i + 1);
                let alpha = if hex.len() == 8 { byte(3) } else { 255 };
                Some([byte(0), byte(1), byte(2), alpha])
            }
            _ => None,
        };
    }
    let lower = v.to_ascii_lowercase();
    if let Some(args) = lower
        .strip_prefix("rgba(")
        .or_else(|| lower.strip_prefix("rgb("))
    {
        return parse_rgb_args(args.strip_suffix(')')?);
    }
    if lower == "transparent" {
        return Some([0, 0, 0, 0]);
    }
    let [r, g, b] = named_color(&lower)?;
    Some([r, g, b, 255])
}

/// `r, g, b[, a]` or `r g b[ / a]`.
fn parse_rgb_args(args: &str) -> Option<Rgba> {
    let (channels, alpha) = if args.contains(',') {
        let parts: Vec<&str> = args.split(',').map(str::trim).collect();
        match parts.as_slice() {
            [r, g, b] => ([*r, *g, *b], None),
            [r, g, b, a] => ([*r, *g, *b], Some(*a)),
            _ => return None,
        }
    } else {
        let (rgb, a) = match args.split_once('/') {
            Some((rgb, a)) => (rgb, Some(a.trim())),
            None => (args, None),
        };
        let parts: Vec<&str> = rgb.split_ascii_whitespace().collect();
        match parts.as_slice() {
            [r, g, b] => ([*r, *g, *b], a),
            _ => return None,
        }
    };
    let channel = |s: &str| -> Option<u8> {
        let v = match s.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().ok()? * 2.55,
            None => s.parse::<f64>().ok()?,
        };
        v.is_finite().then(|| v.round().clamp(0.0, 255.0) as u8)
    };
    let a = match alpha {
        Some(a) => (parse_alpha(a)? * 255.0).round() as u8,
        None => 255,
    };
    Some([
        channel(channels[0])?,
        channel(channels[1])?,
        channel(channels[2])?,
        a,
    ])
}

/// The CSS Color Module's named colours (lower case).
fn named_color(name: &str) -> Option<[u8; 3]> {
    let i = NAMED_COLORS.binary_search_by(|(n, _)| n.cmp(&name)).ok()?;
    NAMED_COLORS.get(i).map(|(_, c)| *c)
}

/// Sorted by name, for the binary search.
const NAMED_COLORS: [(&str, [u8; 3]); 148] = [
    ("aliceblue", [240, 248, 255]),
    ("antiquewhite", [250, 235, 215]),
    ("aqua", [0, 255, 255]),
    ("aquamarine", [127, 255, 212]),
    ("azure", [240, 255, 255]),
    ("beige", [245, 245, 220]),
    ("bisque", [255, 228, 196]),
    ("black", [0, 0, 0]),
    ("blanchedalmond", [255, 235, 205]),
    ("blue", [0, 0, 255]),
    ("blueviolet", [138, 43, 226]),
    ("brown", [165, 42, 42]),
    ("burlywood", [222, 184, 135]),
    ("cadetblue", [95, 158, 160]),
    ("chartreuse", [127, 255, 0]),
    ("chocolate", [210, 105, 30]),
    ("coral", [255, 127, 80]),
    ("cornflowerblue", [100, 149, 237]),
    ("cornsilk", [255, 248, 220]),
    ("crimson", [220, 20, 60]),
    ("cyan", [0, 255, 255]),
    ("darkblue", [0, 0, 139]),
    ("darkcyan", [0, 139, 139]),
    ("darkgoldenrod", [184, 134, 11]),
    ("darkgray", [169, 169, 169]),
    ("darkgreen", [0, 100, 0]),
    ("darkgrey", [169, 169, 169]),
    ("darkkhaki", [189, 183, 107]),
    ("darkmagenta", [139, 0, 139]),
    ("darkolivegreen", [85, 107, 47]),
    ("darkorange", [255, 140, 0]),
    ("darkorchid", [153, 50, 204]),
    ("darkred", [139, 0, 0]),
    ("darksalmon", [233, 150, 122]),
    ("darkseagreen", [143, 188, 143]),
    ("darkslateblue", [72, 61, 139]),
    ("darkslategray", [47, 79, 79]),
    ("darkslategrey", [47, 79, 79]),
    ("darkturquoise", [0, 206, 209]),
    ("darkviolet", [148, 0, 211]),
    ("deeppink", [255, 20, 147]),
    ("deepskyblue", [0, 191, 255]),
    ("dimgray", [105, 105, 105]),
    ("dimgrey", [105, 105, 105]),
    ("dodgerblue", [30, 144, 255]),
    ("firebrick", [178, 34, 34]),
    ("floralwhite", [255, 250, 240]),
    ("forestgreen", [34, 139, 34]),
    ("fuchsia", [255, 0, 255]),
    ("gainsboro", [220, 220, 220]),
    ("ghostwhite", [248, 248, 255]),
    ("gold", [255, 215, 0]),
    ("goldenrod", [218, 165, 32]),
    ("gray", [128, 128, 128]),
    ("green", [0, 128, 0]),
    ("greenyellow", [173, 255, 47]),
    ("grey", [128, 128, 128]),
    ("honeydew", [240, 255, 240]),
    ("hotpink", [255, 105, 180]),
    ("indianred", [205, 92, 92]),
    ("indigo", [75, 0, 130]),
    ("ivory", [255, 255, 240]),
    ("khaki", [240, 230, 140]),
    ("lavender", [230, 230, 250]),
    ("lavenderblush", [255, 240, 245]),
    ("lawngreen", [124, 252, 0]),
    ("lemonchiffon", [255, 250, 205]),
    ("lightblue", [173, 216, 230]),
    ("lightcoral", [240, 128, 128]),
    ("lightcyan", [224, 255, 255]),
    ("lightgoldenrodyellow", [250, 250, 210]),
    ("lightgray", [211, 211, 211]),
    ("lightgreen", [144, 238, 144]),
    ("lightgrey", [211, 211, 211]),
    ("lightpink", [255, 182, 193]),
    ("lightsalmon", [255, 160, 122]),
    ("lightseagreen", [32, 178, 170]),
    ("lightskyblue", [135, 206, 250]),
    ("lightslategray", [119, 136, 153]),
    ("lightslategrey", [119, 136, 153]),
    ("lightsteelblue", [176, 196, 222]),
    ("lightyellow", [255, 255, 224]),
    ("lime", [0, 255, 0]),
    ("limegreen", [50, 205, 50]),
    ("linen", [250, 240, 230]),
    ("magenta", [255, 0, 255]),
    ("maroon", [128, 0, 0]),
    ("mediumaquamarine", [102, 205, 170]),
    ("mediumblue", [0, 0, 205]),
    ("mediumorchid", [186, 85, 211]),
    ("mediumpurple", [147, 112, 219]),
    ("mediumseagreen", [60, 179, 113]),
    ("mediumslateblue", [123, 104, 238]),
    ("mediumspringgreen", [0, 250, 154]),
    ("mediumturquoise", [72, 209, 204]),
    ("mediumvioletred", [199, 21, 133]),
    ("midnightblue", [25, 25, 112]),
    ("mintcream", [245, 255, 250]),
    ("mistyrose", [255, 228, 225]),
    ("moccasin", [255, 228, 181]),
    ("navajowhite", [255, 222, 173]),
    ("navy", [0, 0, 128]),
    ("oldlace", [253, 245, 230]),
    ("olive", [128, 128, 0]),
    ("olivedrab", [107, 142, 35]),
    ("orange", [255, 165, 0]),
    ("orangered", [255, 69, 0]),
    ("orchid", [218, 112, 214]),
    ("palegoldenrod", [238, 232, 170]),
    ("palegreen", [152, 251, 152]),
    ("paleturquoise", [175, 238, 238]),
    ("palevioletred", [219, 112, 147]),
    ("papayawhip", [255, 239, 213]),
    ("peachpuff", [255, 218, 185]),
    ("peru", [205, 133, 63]),
    ("pink", [255, 192, 203]),
    ("plum", [221, 160, 221]),
    ("powderblue", [176, 224, 230]),
    ("purple", [128, 0, 128]),
    ("rebeccapurple", [102, 51, 153]),
    ("red", [255, 0, 0]),
    ("rosybrown", [188, 143, 143]),
    ("royalblue", [65, 105, 225]),
    ("saddlebrown", [139, 69, 19]),
    ("salmon", [250, 128, 114]),
    ("sandybrown", [244, 164, 96]),
    ("seagreen", [46, 139, 87]),
    ("seashell", [255, 245, 238]),
    ("sienna", [160, 82, 45]),
    ("silver", [192, 192, 192]),
    ("skyblue", [135, 206, 235]),
    ("slateblue", [106, 90, 205]),
    ("slategray", [112, 128, 144]),
    ("slategrey", [112, 128, 144]),
    ("snow", [255, 250, 250]),
    ("springgreen", [0, 255, 127]),
    ("steelblue", [70, 130, 180]),
    ("tan", [210, 180, 140]),
    ("teal", [0, 128, 128]),
    ("thistle", [216, 191, 216]),
    ("tomato", [255, 99, 71]),
    ("turquoise", [64, 224, 208]),
    ("violet", [238, 130, 238]),
    ("wheat", [245, 222, 179]),
    ("white", [255, 255, 255]),
    ("whitesmoke", [245, 245, 245]),
    ("yellow", [255, 255, 0]),
    ("yellowgreen", [154, 205, 50]),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::text::webvtt::markup;

    const RED: Rgba = [255, 0, 0, 255];
    const LIME: Rgba = [0, 255, 0, 255];
    const BLUE: Rgba = [0, 0, 255, 255];

    /// (text, style) of each span of `cue` (text markup) with identifier `id` under `css`.
    fn styled(css: &str, id: &str, cue: &str) -> Vec<(String, RunStyle)> {
        StyleSheet::parse(&[css])
            .style(id, &markup::parse(cue))
            .into_iter()
            .map(|(s, r)| (s.text, r))
            .collect()
    }

    fn colors(css: &str, cue: &str) -> Vec<Option<Rgba>> {
        styled(css, "", cue).iter().map(|(_, r)| r.color).collect()
    }

    #[test]
    fn colour_forms() {
        for (v, want) in [
            ("#f00", Some(RED)),
            ("#F00", Some(RED)),
            ("#ff000080", Some([255, 0, 0, 128])),
            ("#0f08", Some([0, 255, 0, 136])),
            ("#00ff00", Some(LIME)),
            ("rgb(255, 0, 0)", Some(RED)),
            ("RGB(100%,0%,0%)", Some(RED)),
            ("rgba(0,0,255,0.5)", Some([0, 0, 255, 128])),
            ("rgba(0 0 255 / 50%)", Some([0, 0, 255, 128])),
            ("rgb(300, -5, 0)", Some(RED)),
            ("red", Some(RED)),
            ("Lime", Some(LIME)),
            ("papayawhip", Some([255, 239, 213, 255])),
            ("transparent", Some([0, 0, 0, 0])),
            ("#ff", None),
            ("#gg0000", None),
            ("#ff00000", None),
            ("rgb(1,2)", None),
            ("rgb(1,2,3", None),
            ("rgb(a,b,c)", None),
            ("notacolour", None),
            ("", None),
            ("#", None),
        ] {
            assert_eq!(parse_color(v), want, "{v:?}");
        }
        let names: Vec<&str> = NAMED_COLORS.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            names, sorted,
            "the binary search needs sorted, unique names"
        );
        assert!(NAMED_COLORS.iter().all(|(n, c)| named_color(n) == Some(*c)));
    }

    #[test]
    fn selectors_reach_their_elements() {
        let cue = "a <c.hot>b</c> <b>c</b> <i>d</i> <u>e</u> <v Esme>f</v> <v Bob>g</v> <lang en>h</lang> <c.x.y>i</c> <c.x>j</c>";
        let css = "::cue(.hot) { color: red }
            ::cue(b) { color: lime }
            ::cue(i), ::cue(u) { color: blue }
            ::cue(v[voice=\"Esme\"]) { color: #010203 }
            ::cue([voice]) { background-color: #000 }
            ::cue(lang[lang=en]) { color: #040506 }
            ::cue(c.x.y) { color: #070809 }";
        let spans = styled(css, "", cue);
        let by = |t: &str| spans.iter().find(|(s, _)| s.trim() == t).unwrap().1;
        assert_eq!(by("a").color, None);
        assert_eq!(by("b").color, Some(RED));
        assert_eq!(by("c").color, Some(LIME));
        assert!(by("c").bold);
        assert_eq!(by("d").color, Some(BLUE));
        assert_eq!(by("e").color, Some(BLUE));
        assert_eq!(by("f").color, Some([1, 2, 3, 255]));
        assert_eq!(by("f").background, Some([0, 0, 0, 255]));
        assert_eq!(by("g").color, None, "another voice");
        assert_eq!(
            by("g").background,
            Some([0, 0, 0, 255]),
            "[voice] matches any"
        );
        assert_eq!(by("h").color, Some([4, 5, 6, 255]));
        assert_eq!(by("i").color, Some([7, 8, 9, 255]));
        assert_eq!(by("j").color, None, "c.x.y needs both classes");
    }

    #[test]
    fn whole_cue_and_cue_id_selectors() {
        let css =
            "::cue { color: lime } ::cue(#intro) { color: red } ::cue(#\\31 23) { color: blue }";
        assert_eq!(colors(css, "x"), vec![Some(LIME)]);
        let spans = styled(css, "intro", "x <b>y</b>");
        assert!(spans.iter().all(|(_, r)| r.color == Some(RED)), "{spans:?}");
        assert_eq!(
            styled(css, "123", "x")[0].1.color,
            Some(BLUE),
            "an escaped digit"
        );
        assert_eq!(styled(css, "other", "x")[0].1.color, Some(LIME));
    }

    #[test]
    fn cascade_by_importance_specificity_then_order() {
        // Later wins at equal specificity.
        assert_eq!(
            colors("::cue(.a){color:red} ::cue(.a){color:lime}", "<c.a>x</c>"),
            vec![Some(LIME)]
        );
        // A class beats a type, whatever the order; two classes beat one.
        assert_eq!(
            colors("::cue(.a){color:red} ::cue(c){color:lime}", "<c.a>x</c>"),
            vec![Some(RED)]
        );
        assert_eq!(
            colors(
                "::cue(.a.b){color:red} ::cue(.a){color:lime}",
                "<c.a.b>x</c>"
            ),
            vec![Some(RED)]
        );
        // !important beats specificity.
        assert_eq!(
            colors(
                "::cue(c){color:lime !important} ::cue(.a.b){color:red}",
                "<c.a.b>x</c>"
            ),
            vec![Some(LIME)]
        );
        // An id beats classes on the root; an element's own rule beats the inherited root.
        let spans = styled(
            "::cue(#c1){color:red} ::cue{color:lime} ::cue(b){color:blue}",
            "c1",
            "x<b>y</b>",
        );
        assert_eq!(spans[0].1.color, Some(RED));
        assert_eq!(spans[1].1.color, Some(BLUE));
        // Inheritance through nesting; the user-agent bold is overridable.
        let spans = styled(
            "::cue(.outer){color:red} ::cue(b){font-weight:normal}",
            "",
            "<c.outer>x<b>y<i>z</i></b></c>",
        );
        assert!(spans.iter().all(|(_, r)| r.color == Some(RED)));
        assert!(!spans[1].1.bold && !spans[2].1.bold && spans[2].1.italic);
        // Font properties from CSS.
        let spans = styled(
            "::cue(.k){font-weight:700;font-style:italic;text-decoration:underline} ::cue(u){text-decoration:none}",
            "",
            "<c.k>a</c><c.k>b<u>c</u></c><u>d</u>",
        );
        let flags: Vec<(bool, bool, bool)> = spans
            .iter()
            .map(|(_, r)| (r.bold, r.italic, r.underline))
            .collect();
        assert_eq!(
            flags,
            vec![
                (true, true, true),
                (true, true, true),
                (true, true, true), // the parent's underline still shows
                (false, false, false),
            ]
        );
    }

    #[test]
    fn backgrounds_opacity_and_shorthand() {
        let spans = styled(
            "::cue(.a){background: url(x.png) rgba(0,0,255,1) no-repeat} ::cue(.n){background:none} ::cue(.o){opacity:0.5;color:#ff0000}",
            "",
            "<c.a>x<b>y</b></c><c.n>z</c><c.o>w</c><c.o><c.o>v</c></c>",
        );
        assert_eq!(spans[0].1.background, Some(BLUE));
        assert_eq!(spans[1].1.background, Some(BLUE), "painted behind children");
        assert_eq!(spans[2].1.background, Some([0, 0, 0, 0]));
        assert_eq!(spans[3].1.color, Some([255, 0, 0, 128]));
        assert_eq!(spans[4].1.color, Some([255, 0, 0, 64]), "opacity compounds");
        // Opacity alone fades the default white.
        assert_eq!(
            colors("::cue{opacity:50%}", "x"),
            vec![Some([255, 255, 255, 128])]
        );
    }

    #[test]
    fn default_colour_classes_only_without_style_colours() {
        let cue = "<c.yellow>a</c> <c.bg_blue>b</c> <c.red.bg_black>c</c>";
        let spans = styled("", "", cue);
        assert_eq!(spans[0].1.color, Some([255, 255, 0, 255]));
        assert_eq!(spans[2].1.background, Some(BLUE));
        assert_eq!(spans[4].1.color, Some(RED));
        assert_eq!(spans[4].1.background, Some([0, 0, 0, 255]));
        // A sheet that sets text colours turns the colour classes off, not the bg_ ones.
        let spans = styled("::cue{color:lime}", "", cue);
        assert_eq!(spans[0].1.color, Some(LIME));
        assert_eq!(spans[2].1.background, Some(BLUE));
        // And one that sets backgrounds turns the bg_ classes off.
        let spans = styled("::cue(.other){background-color:red}", "", cue);
        assert_eq!(spans[2].1.background, None);
        assert_eq!(spans[0].1.color, Some([255, 255, 0, 255]));
    }

    #[test]
    fn unsupported_and_malformed_css_is_dropped_not_fatal() {
        // Unknown selectors drop out of their list; the rest applies.
        assert_eq!(
            colors(
                "video::cue(.a), ::cue(.a:past), ::cue(.a b), ::cue(.a){color:red}",
                "<c.a>x</c>"
            ),
            vec![Some(RED)]
        );
        for bad in [
            "::cue(.a{color:red}",
            "::cue(.a) color:red }",
            "::cue(.a) { color: red",
            "}}}} ::cue(.a) { color: red }",
            "@media screen { ::cue(.a) { color: blue } } ::cue(.a) { color: red }",
            "@import url(x.css); ::cue(.a) { color: red }",
            "::cue(.a) { color: ; colour: blue; color red; color: red; font-weight: 9999 }",
            "/* ::cue(.a) { color: blue } */ ::cue(.a) { color: red } /* unclosed",
            "::cue(.a) { content: \"}\"; color: red }",
            "::cue(.a) { nested { color: blue } ; color: red }",
            "::cue([voice=\"unterminated]) { color: blue } ::cue(.a) { color: red }",
        ] {
            let sheet = StyleSheet::parse(&[bad]);
            let got: Vec<_> = sheet
                .style("", &markup::parse("<c.a>x</c>"))
                .into_iter()
                .map(|(_, r)| r.color)
                .collect();
            let ok = got == vec![Some(RED)] || got == vec![None];
            assert!(ok, "{bad:?}: {got:?}");
        }
        // Garbage of every kind: never a panic.
        let junk = [
            "",
            "{",
            "}",
            "::cue(",
            "::cue(#)",
            "::cue(.)",
            "::cue([)",
            "::cue(\\",
            "\"",
            "'",
            "::cue{color:#\\}",
            "::cue(.\u{1F600}){color:red}",
            "::cue(){color:red}",
            "::cue( ){color:red}",
            "\\\\{\\\\}",
            "/*/",
            "::CUE{color:RED}",
        ];
        for j in junk {
            let _ = StyleSheet::parse(&[j]).style("", &markup::parse("<c.a>x</c>"));
        }
        assert_eq!(colors("::CUE{COLOR:RED}", "x"), vec![Some(RED)]);
        assert!(StyleSheet::parse(&["::cue(){color:red}"]).is_empty());
    }

    #[test]
    fn bounds_are_kept() {
        let many: String = (0..1000)
            .map(|i| format!("::cue(.c{i}) {{ color: red }}\n"))
            .collect();
        let sheet = StyleSheet::parse(&[many.as_str()]);
        assert_eq!(sheet.len(), MAX_RULES);
        assert_eq!(sheet.dropped(), 1000 - MAX_RULES);
        let long = format!(
            "::cue {{ color: {}red }}",
            " ".repeat(MAX_DECLARATION_BYTES)
        );
        assert!(StyleSheet::parse(&[long.as_str()]).is_empty());
        let list: String = (0..100)
            .map(|i| format!("::cue(.s{i})"))
            .collect::<Vec<_>>()
            .join(",");
        let sheet = StyleSheet::parse(&[format!("{list} {{ color: red }}")]);
        assert_eq!(colors_with(&sheet, "<c.s31>x</c>"), vec![Some(RED)]);
        assert_eq!(colors_with(&sheet, "<c.s32>x</c>"), vec![None]);
        let classes: String = (0..40).map(|i| format!(".k{i}")).collect();
        assert!(StyleSheet::parse(&[format!("::cue({classes}) {{ color: red }}")]).is_empty());
        // Deep nesting and long inputs stay linear (no recursion on the CSS side).
        let deep = format!("{}::cue{{color:red}}", "{".repeat(50_000));
        let _ = StyleSheet::parse(&[deep.as_str()]);
    }

    fn colors_with(sheet: &StyleSheet, cue: &str) -> Vec<Option<Rgba>> {
        sheet
            .style("", &markup::parse(cue))
            .into_iter()
            .map(|(_, r)| r.color)
            .collect()
    }

    #[test]
    fn spans_match_the_markup_spans() {
        let cue = "a <b>b <i>c</i></b><ruby>d<rt>e</rt></ruby><00:01.000><v X>f</v>";
        let nodes = markup::parse(cue);
        let plain = markup::spans(&nodes);
        let styled: Vec<Span> = StyleSheet::default()
            .style("", &nodes)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(plain, styled);
    }
}
