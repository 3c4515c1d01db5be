//! HLS (RFC 8216): multivariant and media playlists parsed into the presentation model.
//!
//! A hand-written line parser rather than `m3u8-rs` (6.0.1), measured against it:
//! - its attribute-list parser scans for `=` past the end of the line, so a playlist of
//!   attribute tags without `=` takes quadratic time (40,000 lines of `#EXT-X-KEY:abc`, 600 KB:
//!   83 ms; 8 MB would take about 15 s), and `METHOD=AES-128,junk` silently drops the key, so
//!   an encrypted stream would look clear;
//! - malformed tags turn into comments without an error (`#EXTINF:abc` gives a 0 s segment);
//! - `EXTINF` durations are `f32` (not exact to the microsecond past 8 s);
//! - `EXT-X-MAP`/`EXT-X-KEY` apply only to the next segment, and tags after the last segment
//!   are lost, so the RFC's carry-over rules have to be rebuilt on top anyway.
//!
//! The RFC's grammar is line-based and small (section 4.2 attribute lists, 4.3 tags); this
//! parser is linear in the input and exact (durations in integer microseconds).
//!
//! # Malformed lines
//! As hls.js does, an unknown tag is ignored (the RFC requires it) and a malformed tag whose
//! loss changes nothing that is fetched, decrypted or timed is skipped: `EXT-X-TARGETDURATION`
//! (the longest segment stands in), `EXT-X-PROGRAM-DATE-TIME`, `EXT-X-PLAYLIST-TYPE`,
//! `EXT-X-SERVER-CONTROL`; in a multivariant playlist an `EXT-X-STREAM-INF` (with its URI
//! line), `EXT-X-MEDIA` (also an unknown `TYPE`, a missing required attribute, a duplicate
//! `GROUP-ID`/`NAME`: the first stays), `EXT-X-I-FRAME-STREAM-INF`, `EXT-X-SESSION-KEY`, a
//! stray URI line, and malformed optional attributes (`RESOLUTION`, `FRAME-RATE`,
//! `AVERAGE-BANDWIDTH`, `CHANNELS`) which are left out.
//!
//! These still refuse the playlist ([`ErrorKind::Decode`] unless said otherwise):
//! - every limit ([`ErrorKind::Limit`]): size, segments, streams, attributes per tag, URL
//!   length, [`MAX_VARIABLES`], [`MAX_SUBSTITUTED_BYTES`], 16 key formats in force at once;
//! - what the RFC says a client MUST fail on: no `#EXTM3U` first, not UTF-8, multivariant and
//!   media tags mixed, and the variable failures of RFC 8216bis (a reference to an undefined
//!   name, a name defined twice, a malformed `EXT-X-DEFINE`, a missing `QUERYPARAM` or
//!   `IMPORT`; see [`parse_with_imports`]);
//! - what would play the wrong bytes or at the wrong time if skipped: a segment without
//!   `EXTINF` or with a malformed one; a malformed `EXT-X-BYTERANGE` (or one without offset
//!   and no previous range); a malformed `EXT-X-KEY` (skipping it would play encrypted segments
//!   as clear: no `METHOD`; an AES-128 key without a quoted `URI` or with an `IV` that is not
//!   `0x` and 32 hexadecimal digits) or `EXT-X-MAP` (segments without their init); a malformed
//!   or misplaced `EXT-X-MEDIA-SEQUENCE`, `EXT-X-DISCONTINUITY-SEQUENCE` or `EXT-X-SKIP`
//!   (numbering, which live reloads merge on); a bad segment URI;
//! - a multivariant playlist left without any variant.
//!
//! # Encryption
//! Each segment and `EXT-X-MAP` carries the [`Encryption`] of the `EXT-X-KEY` tags in force
//! where it is declared (section 4.3.2.4): one key per `KEYFORMAT`, each until the next tag of
//! its format, `METHOD=NONE` ending them all. `METHOD=AES-128` with `KEYFORMAT` absent or
//! `"identity"` is [`Encryption::Aes128`]: the key's URL (resolved against the playlist's,
//! after variable substitution) and its IV, explicit or the segment's media sequence number
//! (section 5.2; an encrypted `EXT-X-MAP` without `IV`, which the RFC forbids, gets 0 as in
//! hls.js). Anything else (`SAMPLE-AES`, `SAMPLE-AES-CTR`, a DRM system's `KEYFORMAT`, an
//! unknown method) is [`Encryption::Unsupported`]: parsed, kept, and refused by the player
//! when such a segment would play. `EXT-X-SESSION-KEY` is only noted ([`Ignored::SessionKey`]).
//!
//! One file for the playlist grammar: the multivariant and media passes share the
//! attribute-list parser, the line rules and the error conventions above; variable
//! substitution, a pass of its own over the text before them, is in `vars`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ::url::Url;

use super::model::{
    is_audio_codec, is_text_codec, us_to_duration, AesKey, Encryption, Ignored, InitSegment,
    InitTable, Iv, LiveInfo, MediaRef, Period, PlaylistType, Presentation, Rendition,
    RenditionKind, Segment, SegmentList, Variables, Variant, MAX_MANIFEST_BYTES, MAX_SEGMENTS,
    MAX_STREAMS,
};
use super::model::{too_many_segments, ByteSpan};
use super::time::{date_time_ms, decimal_seconds_us};
use super::url::{join, parse_base};
use crate::error::{Error, ErrorKind};

mod vars;
use vars::substitute;

/// What an HLS playlist turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A multivariant (master) playlist: variants and renditions point at media playlists.
    Multivariant(Box<Presentation>),
    /// A media playlist: the segments of one variant or rendition.
    Media(SegmentList),
}

/// Most `EXT-X-DEFINE` variables one playlist may define (with those it imports).
pub const MAX_VARIABLES: usize = 256;

/// Most bytes variable substitution may insert into one playlist, over all its references:
/// the expanded playlist stays within twice [`MAX_MANIFEST_BYTES`], however short the text.
pub const MAX_SUBSTITUTED_BYTES: usize = MAX_MANIFEST_BYTES;

/// Parses an HLS playlist fetched from `url` (absolute; relative URIs resolve against it).
/// A media playlist parsed with this was not loaded from a multivariant playlist, so its
/// `EXT-X-DEFINE:IMPORT` fails: see [`parse_with_imports`].
pub fn parse(bytes: &[u8], url: &str) -> Result<Parsed, Error> {
    parse_with_imports(bytes, url, None)
}

/// [`parse`] for a playlist loaded from a multivariant playlist whose variables are
/// `imports` ([`Presentation::variables`]), for `EXT-X-DEFINE:IMPORT`; `None` when it was not
/// (IMPORT then fails, as RFC 8216bis section 4.4.2.3 says).
///
/// Variables (section 4.3): `EXT-X-DEFINE` gives a name a value (`NAME`/`VALUE`), the value of
/// a query parameter of `url` (`QUERYPARAM`, percent-decoded) or of a variable of the
/// multivariant playlist (`IMPORT`); `{$name}` is then replaced in URI lines and quoted-string
/// attribute values (not in hexadecimal sequences, which nothing here reads, nor inside
/// `EXT-X-DEFINE` itself: values are not expanded recursively). Failures the RFC requires: a
/// reference to a name not defined before it (also in a playlist without any
/// `EXT-X-DEFINE`), a name defined twice, a tag with none or more than one of `NAME`,
/// `IMPORT`, `QUERYPARAM`, a missing query parameter or imported name. Also refused: a URI
/// line that substitution empties or turns into a tag line. Limits: [`MAX_VARIABLES`],
/// [`MAX_SUBSTITUTED_BYTES`].
pub fn parse_with_imports(
    bytes: &[u8],
    url: &str,
    imports: Option<&Variables>,
) -> Result<Parsed, Error> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("playlist larger than {MAX_MANIFEST_BYTES} bytes"),
        ));
    }
    let base = parse_base(url)?;
    let text =
        std::str::from_utf8(bytes).map_err(|e| decode(format!("playlist is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.split('\n').map(str::trim).find(|l| !l.is_empty()) != Some("#EXTM3U") {
        return Err(decode("not an HLS playlist (no #EXTM3U first)"));
    }
    let (text, variables) = substitute(text, &base, imports)?;
    let mut lines = text.split('\n').map(str::trim).filter(|l| !l.is_empty());
    lines.next(); // #EXTM3U
    let mut multivariant = false;
    let mut media = false;
    for line in lines.clone() {
        if let Some(tag) = line.strip_prefix("#EXT") {
            let name = tag.split(':').next().unwrap_or_default();
            match name {
                "-X-STREAM-INF"
                | "-X-I-FRAME-STREAM-INF"
                | "-X-MEDIA"
                | "-X-SESSION-KEY"
                | "-X-SESSION-DATA" => multivariant = true,
                "INF"
                | "-X-TARGETDURATION"
                | "-X-MEDIA-SEQUENCE"
                | "-X-DISCONTINUITY-SEQUENCE"
                | "-X-ENDLIST"
                | "-X-PLAYLIST-TYPE"
                | "-X-I-FRAMES-ONLY"
                | "-X-BYTERANGE"
                | "-X-MAP"
                | "-X-KEY"
                | "-X-DISCONTINUITY"
                | "-X-PROGRAM-DATE-TIME"
                | "-X-GAP"
                | "-X-SERVER-CONTROL"
                | "-X-PART-INF"
                | "-X-SKIP" => media = true,
                _ => {}
            }
        }
    }
    match (multivariant, media) {
        (true, true) => Err(decode(
            "playlist mixes multivariant and media playlist tags",
        )),
        (true, false) => {
            let mut p = parse_multivariant(lines, &base)?;
            p.variables = Some(variables);
            Ok(Parsed::Multivariant(Box::new(p)))
        }
        (false, true) => Ok(Parsed::Media(parse_media(lines, &base)?)),
        (false, false) => Err(decode("playlist has neither variants nor segments")),
    }
}

/// A one-variant presentation for a media playlist loaded directly (no multivariant playlist):
/// no bandwidth or codec information, live timing from the list.
pub fn presentation_from_media(list: SegmentList) -> Presentation {
    let live = !list.end_list;
    let duration_us = (!live).then(|| list.duration_us());
    Presentation {
        live,
        duration_us,
        live_info: live_info(&list),
        periods: vec![Period {
            id: None,
            start_us: list.window_start_us().unwrap_or(0),
            duration_us,
        }],
        variants: vec![Variant {
            id: "0".into(),
            bandwidth: 0,
            average_bandwidth: None,
            width: None,
            height: None,
            frame_rate: None,
            codecs: Vec::new(),
            audio_group: None,
            text_group: None,
            media: MediaRef::Segments(list),
        }],
        audio: Vec::new(),
        text: Vec::new(),
        images: Vec::new(),
        ignored: Vec::new(),
        variables: None,
    }
}

/// Live timing of a media playlist; `None` once it has `EXT-X-ENDLIST`.
pub fn live_info(list: &SegmentList) -> Option<LiveInfo> {
    if list.end_list {
        return None;
    }
    Some(LiveInfo {
        hold_back_us: hold_back_us(list),
        refresh_us: Some(list.target_duration_us),
        dash: None,
    })
}

/// How far behind the live edge to play: `EXT-X-SERVER-CONTROL:HOLD-BACK`, else three target
/// durations (RFC 8216 sections 4.4.3.8 and 6.3.3).
pub fn hold_back_us(list: &SegmentList) -> i64 {
    list.hold_back_us
        .unwrap_or_else(|| list.target_duration_us.saturating_mul(3))
}

/// Shortest wait [`reload_interval`] returns, whatever the target duration says (a playlist with
/// `EXT-X-TARGETDURATION:0` must not make the player reload in a tight loop).
pub const MIN_RELOAD_US: i64 = 250_000;

/// How long to wait, from when the last reload of `new` began, before reloading the playlist
/// again (RFC 8216 section 6.3.4): the target duration after a load that changed the playlist
/// (or the first load: `prev` is `None`), half of it when the reload found it unchanged; at
/// least [`MIN_RELOAD_US`]. `None`: the playlist has `EXT-X-ENDLIST` and must not be reloaded.
pub fn reload_interval(prev: Option<&SegmentList>, new: &SegmentList) -> Option<Duration> {
    if new.end_list {
        return None;
    }
    let last = |l: &SegmentList| {
        l.segments
            .last()
            .map(|s| (s.number, s.url.clone(), s.range))
    };
    let changed = match prev {
        None => true,
        Some(p) => {
            last(p) != last(new)
                || p.segments.len() != new.segments.len()
                || p.media_sequence != new.media_sequence
        }
    };
    let target = new.target_duration_us.max(0);
    let wait = if changed { target } else { target / 2 };
    Some(us_to_duration(wait.max(MIN_RELOAD_US)))
}

fn decode(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Decode, message)
}

fn bad_line(what: &str, line: &str) -> Error {
    let shown: String = line.chars().take(100).collect();
    decode(format!("{what}: {shown:?}"))
}

/// One attribute value: a quoted string (quotes removed) or anything else, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'a> {
    Quoted(&'a str),
    Plain(&'a str),
}

impl<'a> Value<'a> {
    fn text(self) -> &'a str {
        match self {
            Value::Quoted(s) | Value::Plain(s) => s,
        }
    }
}

/// An attribute list (RFC 8216 section 4.2), in order.
struct Attrs<'a>(Vec<(&'a str, Value<'a>)>);

impl<'a> Attrs<'a> {
    /// Parses `NAME=VALUE,NAME="quoted, string",…`; spaces around items are tolerated, and so
    /// is whitespace inside an unquoted value, which ends at the next comma as hls.js, Shaka and
    /// ExoPlayer read it (m3u8-parser's LL-HLS test writes `RECENTLY-REMOVED-DATERANGES=a<TAB>b`
    /// unquoted, RFC 8216bis has it quoted). Nothing is guessed: each attribute that is read
    /// checks its own type, so `SKIPPED-SEGMENTS=2 3` or an `IV` with a space is still malformed,
    /// `METHOD=AES 128` an unknown method (kept as unsupported encryption, never as clear), and
    /// `TYPE=AUDIO X` an unknown rendition type.
    fn parse(s: &'a str) -> Option<Attrs<'a>> {
        const MAX_ATTRIBUTES: usize = 128;
        let mut out = Vec::new();
        let mut rest = s.trim_start();
        while !rest.is_empty() {
            let eq = rest.find('=')?;
            let name = rest.get(..eq)?.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return None;
            }
            let after = rest.get(eq + 1..)?.trim_start();
            let (value, tail) = if let Some(q) = after.strip_prefix('"') {
                let close = q.find('"')?;
                (Value::Quoted(q.get(..close)?), q.get(close + 1..)?)
            } else {
                let end = after.find(',').unwrap_or(after.len());
                let v = after.get(..end)?.trim();
                if v.is_empty() || v.contains(['"', '=']) {
                    return None;
                }
                (Value::Plain(v), after.get(end..)?)
            };
            out.push((name, value));
            if out.len() > MAX_ATTRIBUTES {
                return None;
            }
            let tail = tail.trim_start();
            rest = match tail.strip_prefix(',') {
                Some(t) => t.trim_start(),
                None if tail.is_empty() => tail,
                None => return None,
            };
        }
        Some(Attrs(out))
    }

    fn get(&self, name: &str) -> Option<Value<'a>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn text(&self, name: &str) -> Option<&'a str> {
        self.get(name).map(Value::text)
    }

    fn yes(&self, name: &str) -> bool {
        self.text(name) == Some("YES")
    }
}

fn attrs<'a>(value: &'a str, line: &str) -> Result<Attrs<'a>, Error> {
    Attrs::parse(value).ok_or_else(|| bad_line("malformed attribute list", line))
}

/// `Ok(None)` for a malformed line ([`ErrorKind::Decode`]) that is skipped, as hls.js does;
/// other errors (limits) stand.
fn lenient<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::Decode => Ok(None),
        Err(e) => Err(e),
    }
}

fn integer(s: &str, line: &str) -> Result<u64, Error> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_line("expected a decimal integer", line));
    }
    s.parse()
        .map_err(|_| bad_line("integer out of range", line))
}

/// `<n>[@<o>]` (EXT-X-BYTERANGE and EXT-X-MAP's BYTERANGE).
fn byte_range(s: &str, line: &str) -> Result<(u64, Option<u64>), Error> {
    let (n, o) = match s.split_once('@') {
        Some((n, o)) => (n, Some(integer(o, line)?)),
        None => (s, None),
    };
    let n = integer(n, line)?;
    if n == 0 {
        return Err(bad_line("empty byte range", line));
    }
    if let Some(o) = o {
        if o.checked_add(n).is_none() {
            return Err(bad_line("byte range out of range", line));
        }
    }
    Ok((n, o))
}

fn span(len: u64, start: u64, line: &str) -> Result<ByteSpan, Error> {
    start
        .checked_add(len)
        .map(|_| ByteSpan { start, len })
        .ok_or_else(|| bad_line("byte range out of range", line))
}

/// `WIDTHxHEIGHT`.
fn resolution(s: &str, line: &str) -> Result<(u32, u32), Error> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| bad_line("bad RESOLUTION", line))?;
    let dim = |v: &str| {
        integer(v, line)
            .and_then(|n| u32::try_from(n).map_err(|_| bad_line("RESOLUTION out of range", line)))
    };
    Ok((dim(w)?, dim(h)?))
}

fn codec_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .take(32)
        .map(String::from)
        .collect()
}

fn parse_multivariant<'a>(
    lines: impl Iterator<Item = &'a str>,
    base: &Url,
) -> Result<Presentation, Error> {
    let mut variants: Vec<Variant> = Vec::new();
    let mut renditions: Vec<Rendition> = Vec::new();
    let mut ignored = Vec::new();
    let mut ids = HashSet::new();
    let mut session_key = false;
    let mut pending: Option<Variant> = None;
    let streams = |n: usize| {
        if n >= MAX_STREAMS {
            Err(Error::new(
                ErrorKind::Limit,
                format!("more than {MAX_STREAMS} variants and renditions"),
            ))
        } else {
            Ok(())
        }
    };
    for line in lines {
        if !line.starts_with('#') {
            // A URI without its EXT-X-STREAM-INF (or after a skipped one) is skipped.
            let Some(mut v) = pending.take() else {
                continue;
            };
            if let Some(url) = lenient(join(base, line))? {
                v.media = MediaRef::Playlist { url: url.into() };
                variants.push(v);
            }
            continue;
        }
        let (tag, value) = line.split_once(':').unwrap_or((line, ""));
        match tag {
            "#EXT-X-STREAM-INF" => {
                streams(variants.len() + renditions.len())?;
                // A malformed one (or one without a URI, followed by another) is skipped
                // with its URI line.
                pending =
                    lenient(attrs(value, line).and_then(|a| stream_inf(&a, line, variants.len())))?;
            }
            "#EXT-X-I-FRAME-STREAM-INF" => {
                let Some(a) = lenient(attrs(value, line))? else {
                    continue;
                };
                let Some(uri) = a.text("URI") else {
                    continue;
                };
                let bandwidth = a
                    .text("BANDWIDTH")
                    .and_then(|b| integer(b, line).ok())
                    .unwrap_or(0);
                if let Some(url) = lenient(join(base, uri))? {
                    if ignored.len() < MAX_STREAMS {
                        ignored.push(Ignored::IFrameStream {
                            url: url.into(),
                            bandwidth,
                        });
                    }
                }
            }
            "#EXT-X-MEDIA" => {
                streams(variants.len() + renditions.len())?;
                let Some(a) = lenient(attrs(value, line))? else {
                    continue;
                };
                // The first of two with the same GROUP-ID and NAME stays (ids are unique).
                if let Some(r) = lenient(media_tag(&a, line, base, &mut ignored))?.flatten() {
                    if ids.insert(r.id.clone()) {
                        renditions.push(r);
                    }
                }
            }
            "#EXT-X-SESSION-KEY" => {
                let Some(a) = lenient(attrs(value, line))? else {
                    continue;
                };
                if a.text("METHOD").is_some_and(|m| m != "NONE") && !session_key {
                    session_key = true;
                    ignored.push(Ignored::SessionKey);
                }
            }
            _ => {}
        }
    }
    if variants.is_empty() {
        return Err(decode("multivariant playlist without variants"));
    }
    // EXT-X-MEDIA carries no CODECS: borrow the codecs of the first variant using the group.
    let mut first_of_group: HashMap<(RenditionKind, &str), usize> = HashMap::new();
    for (i, v) in variants.iter().enumerate() {
        for (kind, group) in [
            (RenditionKind::Audio, &v.audio_group),
            (RenditionKind::Text, &v.text_group),
        ] {
            if let Some(g) = group {
                first_of_group.entry((kind, g.as_str())).or_insert(i);
            }
        }
    }
    for r in renditions.iter_mut() {
        let first = r
            .group
            .as_deref()
            .and_then(|g| first_of_group.get(&(r.kind, g)))
            .and_then(|&i| variants.get(i));
        if let Some(v) = first {
            r.codecs = v
                .codecs
                .iter()
                .filter(|c| match r.kind {
                    RenditionKind::Audio => is_audio_codec(c),
                    RenditionKind::Text => is_text_codec(c),
                })
                .cloned()
                .collect();
        }
    }
    variants.sort_by_key(|v| v.bandwidth);
    let (audio, text) = renditions
        .into_iter()
        .partition(|r| r.kind == RenditionKind::Audio);
    Ok(Presentation {
        live: false,
        duration_us: None,
        variants,
        audio,
        text,
        // HLS image playlists (`EXT-X-IMAGE-STREAM-INF`, a Roku/Apple extension) are not read.
        images: Vec::new(),
        live_info: None,
        periods: vec![Period {
            id: None,
            start_us: 0,
            duration_us: None,
        }],
        ignored,
        variables: None,
    })
}

fn stream_inf(a: &Attrs<'_>, line: &str, index: usize) -> Result<Variant, Error> {
    let bandwidth = integer(
        a.text("BANDWIDTH")
            .ok_or_else(|| bad_line("EXT-X-STREAM-INF without BANDWIDTH", line))?,
        line,
    )?;
    // Optional attributes that are malformed are left out (hls.js: NaN, then unused).
    let average_bandwidth = a
        .text("AVERAGE-BANDWIDTH")
        .and_then(|s| integer(s, line).ok());
    let (width, height) = match a.text("RESOLUTION").map(|r| resolution(r, line)) {
        Some(Ok((w, h))) => (Some(w), Some(h)),
        _ => (None, None),
    };
    let frame_rate = a
        .text("FRAME-RATE")
        .and_then(|f| decimal_seconds_us(f).ok())
        .map(|us| us as f64 / 1e6);
    Ok(Variant {
        id: index.to_string(),
        bandwidth,
        average_bandwidth,
        width,
        height,
        frame_rate,
        codecs: a.text("CODECS").map(codec_list).unwrap_or_default(),
        audio_group: a.text("AUDIO").map(String::from),
        text_group: a.text("SUBTITLES").map(String::from),
        media: MediaRef::Playlist { url: String::new() },
    })
}

fn media_tag(
    a: &Attrs<'_>,
    line: &str,
    base: &Url,
    ignored: &mut Vec<Ignored>,
) -> Result<Option<Rendition>, Error> {
    let need = |name: &str| {
        a.text(name)
            .ok_or_else(|| bad_line(&format!("EXT-X-MEDIA without {name}"), line))
    };
    let kind = need("TYPE")?;
    let group = need("GROUP-ID")?.to_string();
    let name = need("NAME")?.to_string();
    let kind = match kind {
        "AUDIO" => RenditionKind::Audio,
        "SUBTITLES" => RenditionKind::Text,
        "CLOSED-CAPTIONS" => {
            if ignored.len() < MAX_STREAMS {
                ignored.push(Ignored::ClosedCaptions { group, name });
            }
            return Ok(None);
        }
        "VIDEO" => {
            if ignored.len() < MAX_STREAMS {
                ignored.push(Ignored::VideoRendition { group, name });
            }
            return Ok(None);
        }
        _ => return Err(bad_line("unknown EXT-X-MEDIA TYPE", line)),
    };
    let media = match a.text("URI") {
        Some(uri) => Some(MediaRef::Playlist {
            url: join(base, uri)?.into(),
        }),
        None if kind == RenditionKind::Text => {
            return Err(bad_line("EXT-X-MEDIA TYPE=SUBTITLES without URI", line))
        }
        None => None,
    };
    let channels = a.text("CHANNELS").and_then(|c| {
        let count = c.split('/').next().unwrap_or_default();
        integer(count, line)
            .ok()
            .and_then(|n| u32::try_from(n).ok())
    });
    let id = format!("{group}/{name}");
    Ok(Some(Rendition {
        track: id.clone(),
        id,
        kind,
        language: a.text("LANGUAGE").map(String::from),
        name,
        default: a.yes("DEFAULT"),
        autoselect: a.yes("AUTOSELECT") || a.yes("DEFAULT"),
        forced: a.yes("FORCED"),
        group: Some(group),
        codecs: Vec::new(),
        bandwidth: None,
        channels,
        media,
    }))
}

/// Most key formats (`EXT-X-KEY` `KEYFORMAT`s) in force at once: real playlists list a few
/// (identity, FairPlay, Widevine, PlayReady); more is refused ([`ErrorKind::Limit`]) so that
/// updating the keys stays cheap.
const MAX_KEY_FORMATS: usize = 16;

/// The `EXT-X-KEY` tags in force (RFC 8216 section 4.3.2.4): one key per `KEYFORMAT`, each
/// lasting until the next tag of its format; `METHOD=NONE` ends them all (as hls.js reads it).
#[derive(Default)]
struct Keys {
    /// `(KEYFORMAT, what that key does)`, in the order first seen.
    formats: Vec<(String, Encryption)>,
    /// What the keys make of the segments that follow: an identity AES-128 key is decrypted
    /// (every key in force must yield the same clear bytes), any other key makes them
    /// [`Encryption::Unsupported`].
    in_force: Encryption,
}

impl Keys {
    fn tag(&mut self, a: &Attrs<'_>, line: &str, base: &Url) -> Result<(), Error> {
        let method = a
            .text("METHOD")
            .ok_or_else(|| bad_line("EXT-X-KEY without METHOD", line))?;
        if method == "NONE" {
            self.formats.clear();
            self.in_force = Encryption::Clear;
            return Ok(());
        }
        let format = a.text("KEYFORMAT").unwrap_or("identity");
        let this = if method == "AES-128" && format == "identity" {
            // The key and IV decide what is decrypted: malformed, they refuse the playlist.
            let uri = match a.get("URI") {
                Some(Value::Quoted(u)) if !u.trim().is_empty() => u,
                _ => return Err(bad_line("EXT-X-KEY without a quoted URI", line)),
            };
            let iv = match a.text("IV") {
                Some(iv) => Iv::Explicit(hex_iv(iv).ok_or_else(|| {
                    bad_line(
                        "EXT-X-KEY IV is not 0x followed by 32 hexadecimal digits",
                        line,
                    )
                })?),
                None => Iv::MediaSequence,
            };
            Encryption::Aes128(AesKey {
                url: join(base, uri)?.into(),
                iv,
            })
        } else {
            let shown = |s: &str| s.chars().take(64).collect::<String>();
            Encryption::Unsupported(if format == "identity" {
                format!("METHOD={}", shown(method))
            } else {
                format!("METHOD={}, KEYFORMAT=\"{}\"", shown(method), shown(format))
            })
        };
        if let Some((_, e)) = self.formats.iter_mut().find(|(f, _)| f == format) {
            *e = this;
        } else if self.formats.len() >= MAX_KEY_FORMATS {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("more than {MAX_KEY_FORMATS} EXT-X-KEY formats in force"),
            ));
        } else {
            self.formats.push((format.to_string(), this));
        }
        self.in_force = self
            .formats
            .iter()
            .map(|(_, e)| e)
            .find(|e| matches!(e, Encryption::Aes128(_)))
            .or_else(|| self.formats.first().map(|(_, e)| e))
            .cloned()
            .unwrap_or_default();
        Ok(())
    }

    /// The encryption of an `EXT-X-MAP` declared now. RFC 8216 requires an IV for an encrypted
    /// initialization segment (it has no media sequence number); without one, 0 is used, as
    /// hls.js does.
    fn for_init(&self) -> Encryption {
        match &self.in_force {
            Encryption::Aes128(AesKey {
                url,
                iv: Iv::MediaSequence,
            }) => Encryption::Aes128(AesKey {
                url: url.clone(),
                iv: Iv::Explicit([0; 16]),
            }),
            other => other.clone(),
        }
    }
}

/// An `IV` attribute: `0x` (or `0X`) and exactly 32 hexadecimal digits, a 128-bit number.
fn hex_iv(s: &str) -> Option<[u8; 16]> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if digits.len() != 32 {
        return None;
    }
    let digit = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut iv = [0u8; 16];
    for (out, pair) in iv.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *out = digit(*hi)? << 4 | digit(*lo)?;
    }
    Some(iv)
}

/// What the tags before a URI line say about the segment it names.
#[derive(Default)]
struct Pending {
    duration_us: Option<i64>,
    byte_range: Option<(u64, Option<u64>)>,
    discontinuity: bool,
    program_date_time_ms: Option<i64>,
    gap: bool,
}

fn parse_media<'a>(lines: impl Iterator<Item = &'a str>, base: &Url) -> Result<SegmentList, Error> {
    let mut list = SegmentList::empty(0);
    let mut table = InitTable::default();
    let mut target_us: Option<i64> = None;
    let mut skipped = 0u64;
    let mut next = Pending::default();
    // State carried from segment to segment: the keys in force and what they make of a segment.
    let mut keys = Keys::default();
    let mut map: Option<InitSegment> = None;
    let mut start_us = 0i64;
    let mut discontinuity = 0u64;
    let mut previous: Option<(String, u64)> = None; // URL and end of the last byte range
                                                    // EXT-X-PROGRAM-DATE-TIME carried forward: (wall clock ms, start_us it was given at).
    let mut pdt: Option<(i64, i64)> = None;
    for line in lines {
        if !line.starts_with('#') {
            let duration_us = next
                .duration_us
                .ok_or_else(|| bad_line("segment without EXTINF", line))?;
            if list.segments.len() >= MAX_SEGMENTS {
                return Err(too_many_segments());
            }
            let url: String = join(base, line)?.into();
            let range = match next.byte_range {
                None => None,
                Some((len, Some(start))) => Some(span(len, start, line)?),
                Some((len, None)) => match &previous {
                    Some((prev_url, end)) if *prev_url == url => Some(span(len, *end, line)?),
                    _ => {
                        return Err(bad_line(
                            "EXT-X-BYTERANGE without offset, and no previous range of the same resource",
                            line,
                        ))
                    }
                },
            };
            previous = range.map(|r| (url.clone(), r.end()));
            if next.discontinuity {
                discontinuity = discontinuity.saturating_add(1);
                pdt = None;
            }
            if let Some(t) = next.program_date_time_ms {
                pdt = Some((t, start_us));
            }
            let number = list
                .media_sequence
                .saturating_add(skipped)
                .saturating_add(list.segments.len() as u64);
            list.segments.push(Segment {
                number,
                start_us,
                duration_us,
                url,
                range,
                init: map.as_ref().map(|m| table.intern(&mut list.inits, m)),
                discontinuity: list.discontinuity_sequence.saturating_add(discontinuity),
                period: 0,
                encryption: keys.in_force.clone(),
                gap: next.gap,
                program_date_time_ms: pdt.and_then(|(ms, at_us)| {
                    ms.checked_add(start_us.saturating_sub(at_us).saturating_add(500) / 1000)
                }),
            });
            start_us = start_us
                .checked_add(duration_us)
                .ok_or_else(|| bad_line("playlist duration out of range", line))?;
            next = Pending::default();
            continue;
        }
        let (tag, value) = line.split_once(':').unwrap_or((line, ""));
        let has_segments = !list.segments.is_empty();
        let before_segments = |what: &str| {
            if has_segments {
                Err(bad_line(&format!("{what} after the first segment"), line))
            } else {
                Ok(())
            }
        };
        match tag {
            "#EXTINF" => {
                let duration = value.split(',').next().unwrap_or_default().trim();
                next.duration_us = Some(
                    decimal_seconds_us(duration)
                        .map_err(|_| bad_line("bad EXTINF duration", line))?,
                );
            }
            "#EXT-X-BYTERANGE" => next.byte_range = Some(byte_range(value.trim(), line)?),
            "#EXT-X-DISCONTINUITY" => next.discontinuity = true,
            "#EXT-X-GAP" => next.gap = true,
            "#EXT-X-PROGRAM-DATE-TIME" => {
                // A malformed date is skipped: the segment has no wall-clock time.
                if let Ok(ms) = date_time_ms(value) {
                    next.program_date_time_ms = Some(ms);
                }
            }
            "#EXT-X-TARGETDURATION" => {
                // A decimal-integer by the RFC; a fraction is rounded up to whole seconds. A
                // malformed one is skipped: the longest segment stands in (below).
                if let Ok(us) = decimal_seconds_us(value.trim()) {
                    target_us = Some(us.saturating_add(999_999) / 1_000_000 * 1_000_000);
                }
            }
            "#EXT-X-MEDIA-SEQUENCE" => {
                before_segments("EXT-X-MEDIA-SEQUENCE")?;
                list.media_sequence = integer(value.trim(), line)?;
            }
            "#EXT-X-DISCONTINUITY-SEQUENCE" => {
                before_segments("EXT-X-DISCONTINUITY-SEQUENCE")?;
                list.discontinuity_sequence = integer(value.trim(), line)?;
            }
            "#EXT-X-ENDLIST" => list.end_list = true,
            "#EXT-X-PLAYLIST-TYPE" => match value.trim() {
                "VOD" => list.playlist_type = PlaylistType::Vod,
                "EVENT" => list.playlist_type = PlaylistType::Event,
                _ => {} // unknown: skipped, the type stays unspecified
            },
            "#EXT-X-I-FRAMES-ONLY" => list.i_frames_only = true,
            "#EXT-X-KEY" => keys.tag(&attrs(value, line)?, line, base)?,
            "#EXT-X-MAP" => {
                let a = attrs(value, line)?;
                let uri = match a.get("URI") {
                    Some(Value::Quoted(u)) => u,
                    _ => return Err(bad_line("EXT-X-MAP without a quoted URI", line)),
                };
                let range = match a.text("BYTERANGE") {
                    Some(r) => {
                        let (len, start) = byte_range(r, line)?;
                        Some(span(len, start.unwrap_or(0), line)?)
                    }
                    None => None,
                };
                map = Some(InitSegment {
                    url: join(base, uri)?.into(),
                    range,
                    encryption: keys.for_init(),
                });
            }
            "#EXT-X-SERVER-CONTROL" => {
                // Malformed: skipped, three target durations stand in for HOLD-BACK.
                let hold_back = lenient(attrs(value, line))?
                    .and_then(|a| a.text("HOLD-BACK").map(decimal_seconds_us))
                    .and_then(Result::ok);
                if let Some(h) = hold_back {
                    list.hold_back_us = Some(h);
                }
            }
            "#EXT-X-SKIP" => {
                before_segments("EXT-X-SKIP")?;
                let a = attrs(value, line)?;
                skipped = integer(
                    a.text("SKIPPED-SEGMENTS")
                        .ok_or_else(|| bad_line("EXT-X-SKIP without SKIPPED-SEGMENTS", line))?,
                    line,
                )?;
            }
            _ => {}
        }
    }
    // EXTINF durations rounded to whole seconds may not exceed it (RFC 8216 4.3.3.1); when a
    // playlist breaks that (or leaves the tag out) the longest segment stands in.
    let longest = list
        .segments
        .iter()
        .map(|s| s.duration_us)
        .max()
        .unwrap_or(0);
    let longest = longest.saturating_add(500_000) / 1_000_000 * 1_000_000;
    list.target_duration_us = target_us.unwrap_or(0).max(longest);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists() {
        let a =
            Attrs::parse(r#"BANDWIDTH=395000,CODECS="avc1.4d001f,mp4a.40.2",RESOLUTION=640x360"#)
                .unwrap();
        assert_eq!(a.text("CODECS"), Some("avc1.4d001f,mp4a.40.2"));
        assert_eq!(a.get("BANDWIDTH"), Some(Value::Plain("395000")));
        assert_eq!(a.text("RESOLUTION"), Some("640x360"));
        for bad in [r#"A="open"#, "A", "=1", "A=1 B=2", r#"A=x"y"#, "A=,B=1"] {
            assert!(Attrs::parse(bad).is_none(), "{bad}");
        }
        assert!(Attrs::parse("A=1,").is_some());
        // Whitespace inside an unquoted value: the value runs to the comma.
        let a = Attrs::parse("A=x\ty z,B=1").unwrap();
        assert_eq!(a.get("A"), Some(Value::Plain("x\ty z")));
        assert_eq!(a.text("B"), Some("1"));
    }

    #[test]
    fn codec_kinds() {
        assert!(is_audio_codec("mp4a.40.2") && is_audio_codec("ec-3") && is_audio_codec("Opus"));
        assert!(
            !is_audio_codec("avc1.42c01e")
                && is_text_codec("wvtt")
                && is_text_codec("stpp.ttml.im1t")
        );
    }
}
