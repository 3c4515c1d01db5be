//! WebVTT cue text markup: the spec's cue text tokenizer and tree construction (`<c.class>`,
//! `<i>`, `<b>`, `<u>`, `<ruby>`/`<rt>`, `<v Speaker>`, `<lang xx>`, timestamps
//! `<00:01.000>`, character references), plus a flat list of styled spans for renderers.
//!
//! Character references: numeric ones (`&#233;`, `&#xE9;`) follow HTML fully (including its
//! windows-1252 remapping of 0x80–0x9F); named ones cover the references WebVTT authoring
//! uses (`&amp; &lt; &gt; &lrm; &rlm; &nbsp;`) and a set of common punctuation and symbols,
//! not HTML's full table of 2,231 names: an unknown name stays literal text, as HTML leaves
//! an unknown reference. Nesting deeper than [`MAX_DEPTH`] elements is not built (the extra
//! start tags are ignored) and an element keeps at most [`MAX_CLASSES`] classes.

use super::Cursor;

/// Deepest element nesting built; start tags beyond it are ignored.
pub const MAX_DEPTH: usize = 32;
/// Most classes kept on one element (the rest are dropped).
pub const MAX_CLASSES: usize = 16;

/// What an internal node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementKind {
    /// `<c>`: a span carrying only classes.
    Class,
    /// `<i>`.
    Italic,
    /// `<b>`.
    Bold,
    /// `<u>`.
    Underline,
    /// `<ruby>`: base text with `<rt>` annotations.
    Ruby,
    /// `<rt>` inside `<ruby>`.
    RubyText,
    /// `<v Name>`: text spoken by `name` (may be empty).
    Voice {
        /// The speaker, whitespace collapsed.
        name: String,
    },
    /// `<lang tag>`: text in another language (the tag is in [`Element::lang`]).
    Lang,
}

/// An internal node: a span of cue text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Which span.
    pub kind: ElementKind,
    /// Its classes (`<c.yellow.big>`), empty ones dropped.
    pub classes: Vec<String>,
    /// Its applicable language (from the innermost enclosing `<lang>`, or the fallback).
    pub lang: Option<String>,
    /// Its content.
    pub children: Vec<Node>,
}

/// A node of the cue text tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Text (character references decoded, line feeds kept).
    Text(String),
    /// A timestamp tag, microseconds on the cue's timeline (karaoke-style progress).
    Timestamp(i64),
    /// A span with content.
    Element(Element),
}

/// Parses cue text into the spec's tree, with no fallback language.
pub fn parse(text: &str) -> Vec<Node> {
    parse_with_language(text, None)
}

/// Parses cue text into the spec's tree; `language` is the track's fallback language.
pub fn parse_with_language(text: &str, language: Option<&str>) -> Vec<Node> {
    let mut b = Builder {
        root: Vec::new(),
        stack: Vec::new(),
        langs: language.map(str::to_string).into_iter().collect(),
    };
    let mut t = Tokenizer { s: text, pos: 0 };
    while let Some(token) = t.next_token() {
        b.token(token);
    }
    while !b.stack.is_empty() {
        b.close();
    }
    b.root
}

/// A run of text with the style of every element around it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    /// The text (may contain line feeds).
    pub text: String,
    /// Inside `<b>`.
    pub bold: bool,
    /// Inside `<i>`.
    pub italic: bool,
    /// Inside `<u>`.
    pub underline: bool,
    /// Base text inside `<ruby>` (not inside its `<rt>`).
    pub ruby: bool,
    /// Ruby annotation text (inside `<rt>`).
    pub ruby_text: bool,
    /// The classes of every enclosing element, outermost first.
    pub classes: Vec<String>,
    /// The innermost enclosing voice.
    pub voice: Option<String>,
    /// The applicable language.
    pub lang: Option<String>,
    /// The last timestamp tag before this text, if any: until then the text is "future"
    /// (karaoke), after it "past".
    pub timestamp_us: Option<i64>,
}

/// Flattens a tree into styled spans, in text order.
pub fn spans(nodes: &[Node]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut time = None;
    flatten(nodes, &Span::default(), &mut time, &mut out);
    out
}

fn flatten(nodes: &[Node], style: &Span, time: &mut Option<i64>, out: &mut Vec<Span>) {
    for node in nodes {
        match node {
            Node::Text(text) => out.push(Span {
                text: text.clone(),
                timestamp_us: *time,
                ..style.clone()
            }),
            Node::Timestamp(t) => *time = Some(*t),
            Node::Element(e) => {
                let mut inner = style.clone();
                match &e.kind {
                    ElementKind::Bold => inner.bold = true,
                    ElementKind::Italic => inner.italic = true,
                    ElementKind::Underline => inner.underline = true,
                    ElementKind::Ruby => inner.ruby = true,
                    ElementKind::RubyText => {
                        inner.ruby = false;
                        inner.ruby_text = true;
                    }
                    ElementKind::Voice { name } => inner.voice = Some(name.clone()),
                    ElementKind::Class | ElementKind::Lang => {}
                }
                inner.classes.extend(e.classes.iter().cloned());
                if e.lang.is_some() {
                    inner.lang = e.lang.clone();
                }
                flatten(&e.children, &inner, time, out);
            }
        }
    }
}

/// The text of the tree without markup and without ruby text.
pub fn plain_text(nodes: &[Node]) -> String {
    fn walk(nodes: &[Node], out: &mut String) {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Timestamp(_) => {}
                Node::Element(e) if e.kind == ElementKind::RubyText => {}
                Node::Element(e) => walk(&e.children, out),
            }
        }
    }
    let mut out = String::new();
    walk(nodes, &mut out);
    out
}

/// True when the first strongly directional character of `text` is right to left.
pub fn is_rtl(text: &str) -> bool {
    for c in text.chars() {
        let u = u32::from(c);
        let rtl = matches!(u,
            0x200F | 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF
            | 0x1E800..=0x1EFFF);
        if rtl {
            return true;
        }
        if u == 0x200E || c.is_alphabetic() {
            return false;
        }
    }
    false
}

enum Token {
    Text(String),
    Start {
        name: String,
        classes: Vec<String>,
        annotation: Option<String>,
    },
    End(String),
    Timestamp(String),
}

#[derive(Clone, Copy)]
enum State {
    Data,
    Tag,
    StartTag,
    Class,
    Annotation,
    EndTag,
    TimestampTag,
}

struct Tokenizer<'a> {
    s: &'a str,
    pos: usize,
}

impl Tokenizer<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// The spec's cue text tokenizer; `None` at the end of the input.
    fn next_token(&mut self) -> Option<Token> {
        self.peek()?;
        let mut state = State::Data;
        let mut result = String::new();
        let mut buffer = String::new();
        let mut classes = Vec::new();
        loop {
            let c = self.peek();
            let step = c.map_or(0, char::len_utf8);
            match state {
                State::Data => match c {
                    Some('&') => {
                        self.pos += 1;
                        match consume_char_ref(self.rest(), None, &mut result) {
                            Some(n) => self.pos += n,
                            None => result.push('&'),
                        }
                        continue;
                    }
                    Some('<') if result.is_empty() => state = State::Tag,
                    Some('<') | None => return Some(Token::Text(result)),
                    Some(ch) => result.push(ch),
                },
                State::Tag => match c {
                    Some('\t' | '\n' | '\x0C' | ' ') => state = State::Annotation,
                    Some('.') => state = State::Class,
                    Some('/') => state = State::EndTag,
                    Some(ch) if ch.is_ascii_digit() => {
                        result.push(ch);
                        state = State::TimestampTag;
                    }
                    Some('>') | None => {
                        self.pos += step;
                        return Some(start(result, classes, None));
                    }
                    Some(ch) => {
                        result.push(ch);
                        state = State::StartTag;
                    }
                },
                State::StartTag => match c {
                    Some('\t' | '\x0C' | ' ') => state = State::Annotation,
                    Some('\n') => {
                        buffer.push('\n');
                        state = State::Annotation;
                    }
                    Some('.') => state = State::Class,
                    Some('>') | None => {
                        self.pos += step;
                        return Some(start(result, classes, None));
                    }
                    Some(ch) => result.push(ch),
                },
                State::Class => match c {
                    Some('\t' | '\x0C' | ' ') => {
                        classes.push(std::mem::take(&mut buffer));
                        state = State::Annotation;
                    }
                    Some('\n') => {
                        classes.push(std::mem::take(&mut buffer));
                        buffer.push('\n');
                        state = State::Annotation;
                    }
                    Some('.') => classes.push(std::mem::take(&mut buffer)),
                    Some('>') | None => {
                        self.pos += step;
                        classes.push(buffer);
                        return Some(start(result, classes, None));
                    }
                    Some(ch) => buffer.push(ch),
                },
                State::Annotation => match c {
                    Some('&') => {
                        self.pos += 1;
                        match consume_char_ref(self.rest(), Some('>'), &mut buffer) {
                            Some(n) => self.pos += n,
                            None => buffer.push('&'),
                        }
                        continue;
                    }
                    Some('>') | None => {
                        self.pos += step;
                        let annotation = buffer
                            .split_ascii_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ");
                        return Some(start(result, classes, Some(annotation)));
                    }
                    Some(ch) => buffer.push(ch),
                },
                State::EndTag => match c {
                    Some('>') | None => {
                        self.pos += step;
                        return Some(Token::End(result));
                    }
                    Some(ch) => result.push(ch),
                },
                State::TimestampTag => match c {
                    Some('>') | None => {
                        self.pos += step;
                        return Some(Token::Timestamp(result));
                    }
                    Some(ch) => result.push(ch),
                },
            }
            self.pos += step;
        }
    }
}

fn start(name: String, classes: Vec<String>, annotation: Option<String>) -> Token {
    Token::Start {
        name,
        classes,
        annotation,
    }
}

struct Builder {
    root: Vec<Node>,
    stack: Vec<Element>,
    langs: Vec<String>,
}

impl Builder {
    fn append(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(e) => e.children.push(node),
            None => self.root.push(node),
        }
    }

    fn close(&mut self) {
        if let Some(e) = self.stack.pop() {
            self.append(Node::Element(e));
        }
    }

    fn current(&self) -> Option<&ElementKind> {
        self.stack.last().map(|e| &e.kind)
    }

    fn token(&mut self, token: Token) {
        match token {
            Token::Text(t) => self.append(Node::Text(t)),
            Token::Start {
                name,
                classes,
                annotation,
            } => {
                if self.stack.len() >= MAX_DEPTH {
                    return;
                }
                let kind = match name.as_str() {
                    "c" => ElementKind::Class,
                    "i" => ElementKind::Italic,
                    "b" => ElementKind::Bold,
                    "u" => ElementKind::Underline,
                    "ruby" => ElementKind::Ruby,
                    "rt" if self.current() == Some(&ElementKind::Ruby) => ElementKind::RubyText,
                    "v" => ElementKind::Voice {
                        name: annotation.unwrap_or_default(),
                    },
                    "lang" => {
                        self.langs.push(annotation.unwrap_or_default());
                        ElementKind::Lang
                    }
                    _ => return,
                };
                self.stack.push(Element {
                    kind,
                    classes: classes
                        .into_iter()
                        .filter(|c| !c.is_empty())
                        .take(MAX_CLASSES)
                        .collect(),
                    lang: self.langs.last().cloned(),
                    children: Vec::new(),
                });
            }
            Token::End(name) => {
                let closes = matches!(
                    (name.as_str(), self.current()),
                    ("c", Some(ElementKind::Class))
                        | ("i", Some(ElementKind::Italic))
                        | ("b", Some(ElementKind::Bold))
                        | ("u", Some(ElementKind::Underline))
                        | ("ruby", Some(ElementKind::Ruby))
                        | ("rt", Some(ElementKind::RubyText))
                        | ("v", Some(ElementKind::Voice { .. }))
                );
                if closes {
                    self.close();
                } else if name == "lang" && self.current() == Some(&ElementKind::Lang) {
                    self.close();
                    self.langs.pop();
                } else if name == "ruby" && self.current() == Some(&ElementKind::RubyText) {
                    self.close();
                    self.close();
                }
            }
            Token::Timestamp(value) => {
                let mut c = Cursor::new(&value);
                if let Some(t) = c.timestamp() {
                    if c.at_end() {
                        self.append(Node::Timestamp(t));
                    }
                }
            }
        }
    }
}

/// Named character references recognised: (name as written after `&`, replacement). Names
/// without `;` are HTML's legacy forms that also match without it.
const NAMED: &[(&str, &str)] = &[
    ("amp;", "&"),
    ("amp", "&"),
    ("lt;", "<"),
    ("lt", "<"),
    ("gt;", ">"),
    ("gt", ">"),
    ("nbsp;", "\u{A0}"),
    ("nbsp", "\u{A0}"),
    ("lrm;", "\u{200E}"),
    ("rlm;", "\u{200F}"),
    ("quot;", "\""),
    ("quot", "\""),
    ("apos;", "'"),
    ("copy;", "\u{A9}"),
    ("copy", "\u{A9}"),
    ("reg;", "\u{AE}"),
    ("reg", "\u{AE}"),
    ("trade;", "\u{2122}"),
    ("deg;", "\u{B0}"),
    ("deg", "\u{B0}"),
    ("mdash;", "\u{2014}"),
    ("ndash;", "\u{2013}"),
    ("hellip;", "\u{2026}"),
    ("lsquo;", "\u{2018}"),
    ("rsquo;", "\u{2019}"),
    ("sbquo;", "\u{201A}"),
    ("ldquo;", "\u{201C}"),
    ("rdquo;", "\u{201D}"),
    ("bdquo;", "\u{201E}"),
    ("laquo;", "\u{AB}"),
    ("laquo", "\u{AB}"),
    ("raquo;", "\u{BB}"),
    ("raquo", "\u{BB}"),
    ("lsaquo;", "\u{2039}"),
    ("rsaquo;", "\u{203A}"),
    ("bull;", "\u{2022}"),
    ("middot;", "\u{B7}"),
    ("middot", "\u{B7}"),
    ("euro;", "\u{20AC}"),
    ("pound;", "\u{A3}"),
    ("pound", "\u{A3}"),
    ("yen;", "\u{A5}"),
    ("yen", "\u{A5}"),
    ("cent;", "\u{A2}"),
    ("cent", "\u{A2}"),
    ("sect;", "\u{A7}"),
    ("sect", "\u{A7}"),
    ("para;", "\u{B6}"),
    ("para", "\u{B6}"),
    ("times;", "\u{D7}"),
    ("times", "\u{D7}"),
    ("divide;", "\u{F7}"),
    ("divide", "\u{F7}"),
    ("plusmn;", "\u{B1}"),
    ("plusmn", "\u{B1}"),
    ("frac12;", "\u{BD}"),
    ("frac12", "\u{BD}"),
    ("frac14;", "\u{BC}"),
    ("frac14", "\u{BC}"),
    ("frac34;", "\u{BE}"),
    ("frac34", "\u{BE}"),
    ("iexcl;", "\u{A1}"),
    ("iexcl", "\u{A1}"),
    ("iquest;", "\u{BF}"),
    ("iquest", "\u{BF}"),
    ("shy;", "\u{AD}"),
    ("shy", "\u{AD}"),
    ("ensp;", "\u{2002}"),
    ("emsp;", "\u{2003}"),
    ("thinsp;", "\u{2009}"),
    ("zwnj;", "\u{200C}"),
    ("zwj;", "\u{200D}"),
    ("dagger;", "\u{2020}"),
    ("Dagger;", "\u{2021}"),
    ("permil;", "\u{2030}"),
    ("hearts;", "\u{2665}"),
    ("sung;", "\u{266A}"),
];

/// HTML's remapping of numeric references 0x80–0x9F (windows-1252).
const C1: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
];

/// HTML's "consume a character reference" at `rest` (just after the `&`): appends the
/// replacement to `out` and returns the bytes consumed, or `None` if there is no reference
/// (the caller keeps the `&` as text).
fn consume_char_ref(rest: &str, additional: Option<char>, out: &mut String) -> Option<usize> {
    let first = rest.chars().next()?;
    if matches!(first, '\t' | '\n' | '\x0C' | ' ' | '<' | '&') || Some(first) == additional {
        return None;
    }
    if first == '#' {
        let after = rest.get(1..)?;
        let hex = after.starts_with(['x', 'X']);
        let body = if hex { after.get(1..)? } else { after };
        let n = body
            .bytes()
            .take_while(|b| {
                if hex {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        if n == 0 {
            return None;
        }
        let radix = if hex { 16 } else { 10 };
        let mut value: u32 = 0;
        for b in body.bytes().take(n) {
            let d = char::from(b).to_digit(radix).unwrap_or(0);
            value = value.saturating_mul(radix).saturating_add(d);
        }
        let value = match value {
            0 | 0xD800..=0xDFFF | 0x110000.. => 0xFFFD,
            0x80..=0x9F => C1.get((value - 0x80) as usize).copied().unwrap_or(value),
            v => v,
        };
        out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
        let semicolon = usize::from(body.as_bytes().get(n) == Some(&b';'));
        return Some(1 + usize::from(hex) + n + semicolon);
    }
    let (name, value) = NAMED
        .iter()
        .filter(|(name, _)| rest.starts_with(name))
        .max_by_key(|(name, _)| name.len())?;
    out.push_str(value);
    Some(name.len())
}
