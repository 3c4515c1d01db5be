//! MPEG-DASH MPDs (ISO/IEC 23009-1) parsed into the presentation model, segment lists expanded.
//!
//! The XML is read with `roxmltree` and the MPD model is built here, not with `dash-mpd`:
//! `dash-mpd` 0.21 has no parse-only feature (reqwest, tokio with `rt-multi-thread` and `fs`,
//! tempfile are unconditional) and does not build for wasm32-unknown-unknown ("Only features
//! sync,macros,io-util,rt,time are supported on wasm"); its parse-only half `dash-mpd-core`
//! 0.1.0 does not compile with default features off (an unconditional `use tracing`), pulls
//! js-sys through chrono on wasm32 and weighs 543 KB gzipped in a Wasm build against 33 KB for
//! roxmltree (measured with `opt-level = "s"`, LTO, on a one-call probe). The part of the
//! schema a player needs is small; roxmltree bounds the node count and nesting, and refuses
//! DTDs (so no entity expansion).
//!
//! Covered: `BaseURL` at every level; `SegmentTemplate` (`$Number$`, `$Time$`,
//! `$RepresentationID$`, `$Bandwidth$`, `%0Nd` widths, `startNumber`, `endNumber`,
//! `timescale`, `duration`, `presentationTimeOffset`, `SegmentTimeline` with `S@t/d/r/n`
//! including `r="-1"`); `SegmentList` (`SegmentURL@media/mediaRange`); `SegmentBase`
//! (`indexRange`, `Initialization@range`: left for [`crate::stream::sidx`]); a representation
//! without any of these is one segment (a sidecar WebVTT file); inheritance of all of them from
//! Period and AdaptationSet; several periods, matched into continuing variants; `static` and
//! `dynamic` MPDs (segments available at `now_ms`, inside `timeShiftBufferDepth`).
//!
//! Lenient where dash.js and Shaka are and nothing unsafe follows: a Representation without
//! `@bandwidth` has bandwidth 0; `frameRate="30.0"` is read as a number; a negative
//! `presentationTimeOffset` shifts media time later (all timeline arithmetic is checked
//! `i128`); a namespace prefix without its `xmlns:` declaration is declared before parsing
//! (see [`parse`]; at most [`MAX_UNDECLARED_PREFIXES`]). Every limit stays, and so do the
//! errors for what cannot be played right: bad times, ranges, templates, remote elements.
//!
//! One file for the MPD: element inheritance (Period → AdaptationSet → Representation) and the
//! three segment addressing schemes resolve against each other; the model it fills is
//! `stream::model`, shared with HLS.

use std::collections::HashMap;

use ::url::Url;
use roxmltree::{Document, Node, ParsingOptions};

use super::model::{
    is_audio_codec, is_text_codec, too_many_segments, ByteSpan, DashLive, Encryption, Ignored,
    ImageTrack, IndexedMedia, InitSegment, LiveInfo, MediaRef, Period, PlaylistType, Presentation,
    Rendition, RenditionKind, Segment, SegmentList, UtcTiming, Variant, MAX_MANIFEST_BYTES,
    MAX_PERIODS, MAX_SEGMENTS, MAX_STREAMS, MAX_TOTAL_SEGMENTS,
};
use super::time::{date_time_ms, xs_duration_us};
use super::url::{join, parse_base};
use crate::error::{Error, ErrorKind};

/// Most XML nodes an MPD may have (an explicit `S` per segment for 10 representations over a
/// day of 2 s segments is about 430,000).
pub const MAX_XML_NODES: u32 = 2_000_000;

/// Most `S` and `SegmentURL` elements read over all representations (an AdaptationSet-level
/// timeline is read once per representation): bounds the work of a small hostile MPD whose
/// segments all fall outside the live window.
pub const MAX_ENTRIES_READ: usize = 8_000_000;

/// Parses an MPD fetched from `url` (absolute). `now_ms` is the wall clock (milliseconds since
/// the Unix epoch) for `type="dynamic"` MPDs: only segments available at that instant are
/// listed; static MPDs ignore it.
pub fn parse(bytes: &[u8], url: &str, now_ms: i64) -> Result<Presentation, Error> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("MPD larger than {MAX_MANIFEST_BYTES} bytes"),
        ));
    }
    let base = parse_base(url)?;
    let text = std::str::from_utf8(bytes).map_err(|e| decode(format!("MPD is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let xml_error = |e: roxmltree::Error| match e {
        roxmltree::Error::NodesLimitReached => Error::new(
            ErrorKind::Limit,
            format!("MPD has more than {MAX_XML_NODES} XML nodes"),
        ),
        e => decode(format!("MPD is not well-formed XML: {e}")),
    };
    // roxmltree refuses a prefix without an `xmlns:` declaration (a namespace error in XML
    // terms), but packagers write `mspr:pro` or `cenc:default_KID` without declaring them and
    // dash.js and Shaka (DOMParser in HTML mode, or their own readers) ignore what they do not
    // understand. roxmltree has no option for it, so the least invasive fix: on that error,
    // declare the prefix on the root element (its well-known namespace, or a placeholder) and
    // parse again. Bounded: at most MAX_UNDECLARED_PREFIXES extra parses of one copy of the
    // text, a few dozen bytes longer each; past that the error stands. Declaring on the root is
    // always safe: a prefix the root declared would not have been unknown anywhere.
    let mut declared: Vec<String> = Vec::new();
    let mut patched: Option<String> = None;
    loop {
        let source = patched.as_deref().unwrap_or(text);
        let e = match Document::parse_with_options(source, xml_options()) {
            Ok(doc) => return read_document(&doc, &base, now_ms),
            Err(e) => e,
        };
        match e {
            roxmltree::Error::UnknownNamespace(prefix, pos)
                if declared.len() < MAX_UNDECLARED_PREFIXES && !declared.contains(&prefix) =>
            {
                let Some(at) = root_name_end(text) else {
                    return Err(xml_error(roxmltree::Error::UnknownNamespace(prefix, pos)));
                };
                declared.push(prefix);
                patched = Some(declare_prefixes(text, at, &declared));
            }
            e => return Err(xml_error(e)),
        }
    }
}

/// No DTD (so no entity expansion), at most [`MAX_XML_NODES`] nodes.
fn xml_options<'a>() -> ParsingOptions<'a> {
    ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..ParsingOptions::default()
    }
}

fn read_document(doc: &Document<'_>, base: &Url, now_ms: i64) -> Result<Presentation, Error> {
    let mpd = doc.root_element();
    if mpd.tag_name().name() != "MPD" {
        return Err(decode("not a DASH MPD (the root element is not MPD)"));
    }
    Mpd::read(mpd, base, now_ms)?.build()
}

/// Most undeclared namespace prefixes an MPD may use (each costs one more XML parse).
pub const MAX_UNDECLARED_PREFIXES: usize = 8;

/// Where the root element's name ends in `text` (after `<` and the name): comments,
/// processing instructions and declarations before it are skipped. `None` if not found.
fn root_name_end(text: &str) -> Option<usize> {
    let mut at = 0;
    loop {
        let rest = text.get(at..)?;
        let lt = at + rest.find('<')?;
        let tail = text.get(lt..)?;
        at = if tail.starts_with("<!--") {
            lt + tail.find("-->")? + 3
        } else if tail.starts_with("<?") {
            lt + tail.find("?>")? + 2
        } else if tail.starts_with("<!") {
            lt + tail.find('>')? + 1
        } else {
            let name = tail.get(1..)?;
            let len = name
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(name.len());
            return (len > 0).then_some(lt + 1 + len);
        };
    }
}

/// `text` with ` xmlns:P="…"` for each of `prefixes` inserted at `at` (the root's name end).
fn declare_prefixes(text: &str, at: usize, prefixes: &[String]) -> String {
    let (head, tail) = text.split_at(at.min(text.len()));
    let mut out = String::with_capacity(text.len() + prefixes.len() * 64);
    out.push_str(head);
    for p in prefixes {
        // Known prefixes keep their meaning (an undeclared `xlink:href` is still a remote
        // element, refused as unsupported, never read as a local one).
        let uri = match p.as_str() {
            "xlink" => "http://www.w3.org/1999/xlink",
            "cenc" => "urn:mpeg:cenc:2013",
            "mspr" => "urn:microsoft:playready",
            "xsi" => "http://www.w3.org/2001/XMLSchema-instance",
            _ => "urn:kinema:undeclared-prefix",
        };
        out.push_str(&format!(" xmlns:{p}=\"{uri}\""));
    }
    out.push_str(tail);
    out
}

fn decode(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Decode, message)
}

fn bad_attr(name: &str, value: &str) -> Error {
    let shown: String = value.chars().take(64).collect();
    decode(format!("invalid {name}={shown:?} in MPD"))
}

fn elements<'a, 'i: 'a>(
    node: Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn element<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'static str) -> Option<Node<'a, 'i>> {
    elements(node, name).next()
}

fn text_of<'a>(node: Node<'a, '_>) -> Option<&'a str> {
    node.text().map(str::trim).filter(|t| !t.is_empty())
}

/// `base` joined with the first `BaseURL` child of `node`, if any.
fn with_base_url(base: &Url, node: Node<'_, '_>) -> Result<Url, Error> {
    match element(node, "BaseURL").and_then(text_of) {
        Some(b) => join(base, b),
        None => Ok(base.clone()),
    }
}

fn u64_attr(node: Node<'_, '_>, name: &str) -> Result<Option<u64>, Error> {
    node.attribute(name).map(|v| parse_u64(name, v)).transpose()
}

fn parse_u64(name: &str, v: &str) -> Result<u64, Error> {
    let t = v.trim();
    if t.is_empty() || t.len() > 20 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_attr(name, v));
    }
    t.parse().map_err(|_| bad_attr(name, v))
}

/// An integer that may be negative (`presentationTimeOffset`: `xs:unsignedLong` in the
/// schema, but packagers write negative offsets and dash.js and Shaka honour them). At most 20
/// digits, so every value (and any sum of two) fits the `i128` timeline arithmetic.
fn parse_signed(name: &str, v: &str) -> Result<i128, Error> {
    let t = v.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t),
    };
    let n = i128::from(parse_u64(name, digits)?);
    Ok(if negative { -n } else { n })
}

fn duration_attr(node: Node<'_, '_>, name: &str) -> Result<Option<i64>, Error> {
    node.attribute(name)
        .map(|v| xs_duration_us(v).map_err(|_| bad_attr(name, v)))
        .transpose()
}

/// `first-last` (inclusive, as in HTTP) → a span.
fn byte_range(name: &str, v: &str) -> Result<ByteSpan, Error> {
    let (a, b) = v.trim().split_once('-').ok_or_else(|| bad_attr(name, v))?;
    let (a, b) = (parse_u64(name, a)?, parse_u64(name, b)?);
    let len = b
        .checked_sub(a)
        .and_then(|n| n.checked_add(1))
        .ok_or_else(|| bad_attr(name, v))?;
    Ok(ByteSpan { start: a, len })
}

fn codec_list(s: Option<&str>) -> Vec<String> {
    s.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .take(32)
        .map(String::from)
        .collect()
}

/// `30`, `30000/1001` → frames per second. The schema's `FrameRateType` is an integer or a
/// ratio of integers, but packagers write `30.0` or `29.97` and dash.js and Shaka read them
/// as numbers: a decimal numerator is accepted (digits, at most one `.` followed by digits).
fn frame_rate(v: &str) -> Result<f64, Error> {
    let (n, d) = v.trim().split_once('/').unwrap_or((v.trim(), "1"));
    let d = parse_u64("frameRate", d)?;
    let (whole, fraction) = n.split_once('.').unwrap_or((n, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if d == 0 || n.len() > 32 || !digits(whole) || !digits(fraction) {
        return Err(bad_attr("frameRate", v));
    }
    let n: f64 = n.parse().map_err(|_| bad_attr("frameRate", v))?;
    Ok(n / d as f64)
}

/// The microsecond ↔ tick conversions of one timescale; all in `i128` and checked.
#[derive(Clone, Copy)]
struct Scale(i128);

impl Scale {
    fn new(timescale: Option<u64>) -> Result<Scale, Error> {
        match timescale.unwrap_or(1) {
            0 => Err(decode("timescale of 0 in MPD")),
            t => Ok(Scale(i128::from(t))),
        }
    }

    /// Ticks → µs, rounded to nearest.
    fn us(self, ticks: i128) -> Result<i64, Error> {
        ticks
            .checked_mul(1_000_000)
            .and_then(|v| v.checked_add(self.0 / 2))
            .map(|v| v.div_euclid(self.0))
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(out_of_range)
    }

    /// µs → ticks, rounded down (`up`: rounded up).
    fn ticks(self, us: i64, up: bool) -> Result<i128, Error> {
        let n = i128::from(us)
            .checked_mul(self.0)
            .ok_or_else(out_of_range)?;
        Ok(if up {
            ceil_div(n, 1_000_000)
        } else {
            n.div_euclid(1_000_000)
        })
    }
}

fn out_of_range() -> Error {
    decode("MPD times out of range")
}

/// `⌈a / b⌉` for `b > 0`, saturating at the ends of `i128`.
fn ceil_div(a: i128, b: i128) -> i128 {
    -(a.saturating_neg().div_euclid(b))
}

/// The MPD-level facts every period and representation needs.
struct Mpd<'a, 'i> {
    node: Node<'a, 'i>,
    base: Url,
    dynamic: bool,
    now_ms: i64,
    ast_ms: i64,
    edge_us: i64,
    duration_us: Option<i64>,
    tsbd_us: Option<i64>,
    max_segment_us: Option<i64>,
    periods: Vec<PeriodCtx<'a, 'i>>,
    total_segments: usize,
    entries_read: usize,
    ignored: Vec<Ignored>,
}

struct PeriodCtx<'a, 'i> {
    node: Node<'a, 'i>,
    base: Url,
    info: Period,
    end_us: Option<i64>,
}

impl<'a, 'i> Mpd<'a, 'i> {
    fn read(node: Node<'a, 'i>, url: &Url, now_ms: i64) -> Result<Self, Error> {
        let dynamic = match node.attribute("type").map(str::trim) {
            None | Some("static") => false,
            Some("dynamic") => true,
            Some(t) => return Err(bad_attr("type", t)),
        };
        let ast_ms = match node.attribute("availabilityStartTime") {
            Some(v) => date_time_ms(v).map_err(|_| bad_attr("availabilityStartTime", v))?,
            None if dynamic => {
                return Err(decode("dynamic MPD without availabilityStartTime"));
            }
            None => 0,
        };
        let edge_us = now_ms
            .checked_sub(ast_ms)
            .and_then(|ms| ms.checked_mul(1000))
            .ok_or_else(out_of_range)?;
        let base = with_base_url(url, node)?;
        let mut mpd = Mpd {
            node,
            dynamic,
            now_ms,
            ast_ms,
            edge_us,
            duration_us: duration_attr(node, "mediaPresentationDuration")?,
            tsbd_us: duration_attr(node, "timeShiftBufferDepth")?,
            max_segment_us: duration_attr(node, "maxSegmentDuration")?,
            periods: Vec::new(),
            total_segments: 0,
            entries_read: 0,
            ignored: Vec::new(),
            base,
        };
        let nodes: Vec<Node<'a, 'i>> = elements(node, "Period").take(MAX_PERIODS + 1).collect();
        if nodes.len() > MAX_PERIODS {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("more than {MAX_PERIODS} periods"),
            ));
        }
        if nodes.is_empty() {
            return Err(decode("MPD without a Period"));
        }
        let mut starts = Vec::with_capacity(nodes.len());
        let mut durations = Vec::with_capacity(nodes.len());
        for (i, p) in nodes.iter().enumerate() {
            if p.has_attribute(("http://www.w3.org/1999/xlink", "href")) {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "remote Period (xlink:href)",
                ));
            }
            let duration = duration_attr(*p, "duration")?;
            let start = match duration_attr(*p, "start")? {
                Some(s) => s,
                None if i == 0 => 0,
                None => match (starts.last(), durations.last()) {
                    (Some(&s), Some(&Some(d))) => {
                        i64::checked_add(s, d).ok_or_else(out_of_range)?
                    }
                    _ => {
                        return Err(decode(
                            "Period without start after a Period without duration",
                        ))
                    }
                },
            };
            starts.push(start);
            durations.push(duration);
        }
        for (i, p) in nodes.iter().enumerate() {
            let start_us = starts.get(i).copied().unwrap_or(0);
            let duration = durations.get(i).copied().flatten();
            let end_us = match (starts.get(i + 1), duration, mpd.duration_us) {
                (Some(&next), _, _) => Some(next),
                (None, Some(d), _) => start_us.checked_add(d),
                // (a dynamic MPD gets a duration once the event has ended)
                (None, None, Some(total)) => Some(total),
                _ => None,
            };
            if end_us.is_some_and(|e| e < start_us) {
                return Err(decode("Period ends before it starts"));
            }
            mpd.periods.push(PeriodCtx {
                node: *p,
                base: with_base_url(&mpd.base, *p)?,
                info: Period {
                    id: p.attribute("id").map(String::from),
                    start_us,
                    duration_us: end_us.map(|e| e - start_us),
                },
                end_us,
            });
        }
        Ok(mpd)
    }

    fn build(mut self) -> Result<Presentation, Error> {
        let mut chains: Vec<Chain> = Vec::new();
        // Chains by key, in creation order: the n-th set with a key in a period continues the
        // n-th chain with that key.
        let mut by_key: HashMap<TrackKey, Vec<usize>> = HashMap::new();
        let mut members = 0usize;
        for p in 0..self.periods.len() {
            let mut taken: HashMap<TrackKey, usize> = HashMap::new();
            let Some(period) = self.periods.get(p) else {
                continue;
            };
            let (period_node, period_base) = (period.node, period.base.clone());
            let previous_id = p
                .checked_sub(1)
                .and_then(|q| self.periods.get(q))
                .and_then(|q| q.info.id.clone());
            for set in elements(period_node, "AdaptationSet") {
                let track = self.adaptation_set(p, period_node, &period_base, set)?;
                let Some(track) = track else { continue };
                let nth = taken.entry(track.key.clone()).or_insert(0);
                let found = by_key.get(&track.key).and_then(|v| v.get(*nth)).copied();
                match found.and_then(|c| chains.get_mut(c)) {
                    Some(chain) => {
                        *nth += 1;
                        let continuous = previous_id.is_some()
                            && track.continues_from.is_some()
                            && track.continues_from == previous_id;
                        if !continuous {
                            chain.discontinuity += 1;
                        }
                        chain.extend(track, p, &mut self.ignored)?;
                    }
                    None => {
                        *nth += 1;
                        members += track.reps.len();
                        if members > MAX_STREAMS {
                            return Err(Error::new(
                                ErrorKind::Limit,
                                format!("more than {MAX_STREAMS} representations"),
                            ));
                        }
                        by_key
                            .entry(track.key.clone())
                            .or_default()
                            .push(chains.len());
                        chains.push(Chain::new(track)?);
                    }
                }
            }
        }
        self.finish(chains)
    }

    fn finish(self, chains: Vec<Chain>) -> Result<Presentation, Error> {
        let mut variants = Vec::new();
        let mut audio = Vec::new();
        let mut text = Vec::new();
        let mut images = Vec::new();
        let (mut audio_tracks, mut text_tracks) = (0usize, 0usize);
        let mut longest = 0i64;
        for chain in chains {
            let kind = chain.key.kind;
            let track_name = match kind {
                Content::Audio => {
                    audio_tracks += 1;
                    format!("audio-{}", audio_tracks - 1)
                }
                Content::Text => {
                    text_tracks += 1;
                    format!("text-{}", text_tracks - 1)
                }
                Content::Video | Content::Image => String::new(),
            };
            for m in chain.members {
                let media = m.media.into_media_ref();
                if let MediaRef::Segments(list) = &media {
                    longest = longest.max(list.target_duration_us);
                }
                let r = m.rep;
                match kind {
                    Content::Image => {
                        // Thumbnails are single images addressed by a template or a list;
                        // a `SegmentBase` (one indexed file) cannot hold them.
                        let MediaRef::Segments(list) = media else {
                            continue;
                        };
                        let (columns, rows) = r.tiles.unwrap_or((1, 1));
                        images.push(ImageTrack {
                            id: r.id,
                            bandwidth: r.bandwidth,
                            width: r.width.unwrap_or(0),
                            height: r.height.unwrap_or(0),
                            columns,
                            rows,
                            mime: r.mime,
                            list,
                        });
                    }
                    Content::Video => variants.push(Variant {
                        id: r.id,
                        bandwidth: r.bandwidth,
                        average_bandwidth: None,
                        width: r.width,
                        height: r.height,
                        frame_rate: r.frame_rate,
                        codecs: r.codecs,
                        audio_group: None,
                        text_group: None,
                        media,
                    }),
                    Content::Audio | Content::Text => {
                        let rendition = Rendition {
                            name: chain
                                .label
                                .clone()
                                .or_else(|| chain.key.language.clone())
                                .unwrap_or_else(|| r.id.clone()),
                            id: r.id,
                            kind: if kind == Content::Audio {
                                RenditionKind::Audio
                            } else {
                                RenditionKind::Text
                            },
                            track: track_name.clone(),
                            language: chain.key.language.clone(),
                            default: chain.main,
                            autoselect: true,
                            forced: chain.forced,
                            group: None,
                            codecs: r.codecs,
                            bandwidth: Some(r.bandwidth),
                            channels: r.channels,
                            media: Some(media),
                        };
                        if kind == Content::Audio {
                            audio.push(rendition);
                        } else {
                            text.push(rendition);
                        }
                    }
                }
            }
        }
        variants.sort_by_key(|v| v.bandwidth);
        let duration_us = match (self.duration_us, self.dynamic) {
            (Some(d), _) => Some(d),
            (None, false) => self.periods.last().and_then(|p| p.end_us),
            (None, true) => None,
        };
        let live_info = if self.dynamic {
            let max_segment = self.max_segment_us.unwrap_or(longest).max(longest);
            let delay = duration_attr(self.node, "suggestedPresentationDelay")?;
            let update = duration_attr(self.node, "minimumUpdatePeriod")?;
            Some(LiveInfo {
                hold_back_us: delay.unwrap_or_else(|| max_segment.saturating_mul(3)),
                refresh_us: update,
                dash: Some(DashLive {
                    availability_start_time_ms: self.ast_ms,
                    publish_time_ms: self
                        .node
                        .attribute("publishTime")
                        .map(|v| date_time_ms(v).map_err(|_| bad_attr("publishTime", v)))
                        .transpose()?,
                    minimum_update_period_us: update,
                    time_shift_buffer_depth_us: self.tsbd_us,
                    suggested_presentation_delay_us: delay,
                    min_buffer_time_us: duration_attr(self.node, "minBufferTime")?,
                    now_ms: self.now_ms,
                    live_edge_us: self.edge_us,
                    location: element(self.node, "Location")
                        .and_then(text_of)
                        .map(|l| join(&self.base, l).map(String::from))
                        .transpose()?,
                    utc_timing: elements(self.node, "UTCTiming")
                        .take(16)
                        .map(|u| UtcTiming {
                            scheme: u.attribute("schemeIdUri").unwrap_or_default().into(),
                            value: u.attribute("value").unwrap_or_default().into(),
                        })
                        .collect(),
                }),
            })
        } else {
            None
        };
        Ok(Presentation {
            live: self.dynamic,
            duration_us,
            variants,
            audio,
            text,
            images,
            live_info,
            periods: self.periods.into_iter().map(|p| p.info).collect(),
            ignored: self.ignored,
            variables: None,
        })
    }

    /// One AdaptationSet of period `p` → a track with one entry per Representation.
    fn adaptation_set(
        &mut self,
        p: usize,
        period: Node<'a, 'i>,
        period_base: &Url,
        set: Node<'a, 'i>,
    ) -> Result<Option<Track>, Error> {
        if set.has_attribute(("http://www.w3.org/1999/xlink", "href")) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "remote AdaptationSet (xlink:href)",
            ));
        }
        let reps: Vec<Node<'a, 'i>> = elements(set, "Representation")
            .take(MAX_STREAMS + 1)
            .collect();
        if reps.len() > MAX_STREAMS {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("more than {MAX_STREAMS} representations"),
            ));
        }
        let Some(&first) = reps.first() else {
            return Ok(None);
        };
        let kind = match content_kind(set, first) {
            Ok(k) => k,
            Err(other) => {
                if self.ignored.len() < MAX_STREAMS {
                    self.ignored.push(Ignored::AdaptationSet {
                        period: p,
                        content_type: other,
                    });
                }
                return Ok(None);
            }
        };
        let set_base = with_base_url(period_base, set)?;
        let set_protected = element(set, "ContentProtection").is_some();
        let roles: Vec<&str> = elements(set, "Role")
            .filter_map(|r| r.attribute("value"))
            .collect();
        let language = set
            .attribute("lang")
            .or_else(|| first.attribute("lang"))
            .map(String::from);
        let continues_from = elements(set, "SupplementalProperty")
            .chain(elements(set, "EssentialProperty"))
            .find(|d| d.attribute("schemeIdUri") == Some("urn:mpeg:dash:period-continuity:2015"))
            .and_then(|d| d.attribute("value"))
            .map(String::from);
        let mut out = Vec::with_capacity(reps.len());
        for (r, rep) in reps.iter().enumerate() {
            let id = rep
                .attribute("id")
                .map(String::from)
                .unwrap_or_else(|| format!("p{p}r{r}"));
            // Mandatory in the schema, but shaka-packager leaves it out of text
            // Representations and dash.js and Shaka play them: 0 (lowest, picked first).
            let bandwidth = u64_attr(*rep, "bandwidth")?.unwrap_or(0);
            let inherited = |name: &str| rep.attribute(name).or_else(|| set.attribute(name));
            let dim = |name: &str| -> Result<Option<u32>, Error> {
                inherited(name)
                    .map(|v| {
                        parse_u64(name, v)
                            .and_then(|n| u32::try_from(n).map_err(|_| bad_attr(name, v)))
                    })
                    .transpose()
            };
            let rep_ctx = RepCtx {
                id: &id,
                bandwidth,
                base: with_base_url(&set_base, *rep)?,
                period: p,
                encrypted: set_protected || element(*rep, "ContentProtection").is_some(),
            };
            let levels = [*rep, set, period];
            let media = self.media(&rep_ctx, &levels)?;
            out.push(RepOut {
                rep: RepInfo {
                    width: dim("width")?,
                    height: dim("height")?,
                    frame_rate: inherited("frameRate").map(frame_rate).transpose()?,
                    codecs: codec_list(inherited("codecs")),
                    channels: channels(*rep).or_else(|| channels(set)),
                    tiles: tiles(*rep).or_else(|| tiles(set)),
                    mime: inherited("mimeType").unwrap_or_default().to_string(),
                    id,
                    bandwidth,
                },
                media,
            });
        }
        Ok(Some(Track {
            key: TrackKey { kind, language },
            label: element(set, "Label")
                .or_else(|| element(first, "Label"))
                .and_then(text_of)
                .map(String::from),
            main: roles.contains(&"main"),
            forced: roles.contains(&"forced-subtitle"),
            continues_from,
            reps: out,
        }))
    }

    /// The segments of one representation in one period. `levels`: Representation,
    /// AdaptationSet, Period (the order in which segment information is inherited).
    fn media(
        &mut self,
        rep: &RepCtx<'_>,
        levels: &[Node<'a, 'i>; 3],
    ) -> Result<PeriodMedia, Error> {
        let period = self
            .periods
            .get(rep.period)
            .ok_or_else(|| decode("period index"))?;
        let (start_us, end_us) = (period.info.start_us, period.end_us);
        let find = |name: &'static str| -> Inherit<'a, 'i> {
            Inherit(levels.iter().filter_map(|n| element(*n, name)).collect())
        };
        let template = find("SegmentTemplate");
        let list = find("SegmentList");
        let base = find("SegmentBase");
        let span = PeriodSpan { start_us, end_us };
        if !template.0.is_empty() {
            return self.expand(rep, &template, span, Addressing::Template);
        }
        if !list.0.is_empty() {
            return self.expand(rep, &list, span, Addressing::List);
        }
        let scale = Scale::new(base.u64("timescale")?)?;
        let pto_us = scale.us(base.presentation_time_offset()?)?;
        let init_element = base.child("Initialization");
        let init_range = init_element
            .and_then(|i| i.attribute("range"))
            .map(|r| byte_range("Initialization@range", r))
            .transpose()?;
        let init_url: String = match init_element.and_then(|i| i.attribute("sourceURL")) {
            Some(u) => join(&rep.base, u)?.into(),
            None => rep.base.to_string(),
        };
        let separate_init = init_element.is_some_and(|i| i.has_attribute("sourceURL"));
        if let Some(index) = base.attr("indexRange") {
            let index_range = byte_range("indexRange", index)?;
            let init = match (init_range, separate_init) {
                (Some(range), _) => Some(InitSegment {
                    url: init_url,
                    range: Some(range),
                    encryption: Encryption::Clear,
                }),
                (None, true) => Some(InitSegment {
                    url: init_url,
                    range: None,
                    encryption: Encryption::Clear,
                }),
                // No Initialization: the bytes before the index.
                (None, false) => (index_range.start > 0).then_some(InitSegment {
                    url: init_url,
                    range: Some(ByteSpan {
                        start: 0,
                        len: index_range.start,
                    }),
                    encryption: Encryption::Clear,
                }),
            };
            return Ok(PeriodMedia::Indexed(IndexedMedia {
                url: rep.base.to_string(),
                index_range,
                init,
                period: rep.period,
                period_start_us: start_us,
                period_end_us: end_us,
                presentation_time_offset_us: pto_us,
                discontinuity: 0,
                encrypted: rep.encrypted,
            }));
        }
        // No index: the whole resource is one segment spanning the period.
        self.count_segments(1)?;
        let mut list = self.new_list(0);
        let init = (init_range.is_some() || separate_init).then(|| {
            list.inits.push(InitSegment {
                url: init_url,
                range: init_range,
                encryption: Encryption::Clear,
            });
            0
        });
        let duration_us = end_us.map(|e| e - start_us).unwrap_or(0);
        list.target_duration_us = duration_us;
        list.media_sequence = 1;
        list.segments.push(Segment {
            number: 1,
            start_us,
            duration_us,
            url: rep.base.to_string(),
            range: None,
            init,
            discontinuity: 0,
            period: rep.period,
            encryption: Encryption::dash(rep.encrypted),
            gap: false,
            program_date_time_ms: None,
        });
        Ok(PeriodMedia::Segments(list))
    }

    fn new_list(&self, target_duration_us: i64) -> SegmentList {
        let mut list = SegmentList::empty(target_duration_us);
        list.end_list = !self.dynamic;
        list.playlist_type = if self.dynamic {
            PlaylistType::Unspecified
        } else {
            PlaylistType::Vod
        };
        list
    }

    fn count_entries(&mut self, n: usize) -> Result<(), Error> {
        self.entries_read = self.entries_read.saturating_add(n);
        if self.entries_read > MAX_ENTRIES_READ {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("MPD needs more than {MAX_ENTRIES_READ} timeline entries read"),
            ));
        }
        Ok(())
    }

    fn count_segments(&mut self, n: usize) -> Result<(), Error> {
        self.total_segments = self.total_segments.saturating_add(n);
        if self.total_segments > MAX_TOTAL_SEGMENTS {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("MPD expands to more than {MAX_TOTAL_SEGMENTS} segments"),
            ));
        }
        Ok(())
    }

    /// SegmentTemplate or SegmentList: runs of equal-duration segments from the timeline (or
    /// `@duration`), cut to the period and, when dynamic, to the availability window, then
    /// listed.
    fn expand(
        &mut self,
        rep: &RepCtx<'_>,
        info: &Inherit<'a, 'i>,
        span: PeriodSpan,
        addressing: Addressing,
    ) -> Result<PeriodMedia, Error> {
        let scale = Scale::new(info.u64("timescale")?)?;
        let pto = info.presentation_time_offset()?;
        let start_number = info.u64("startNumber")?.unwrap_or(1);
        // Media-timeline ticks of a presentation time (µs).
        let ticks = |us: i64, up: bool| -> Result<i128, Error> {
            let rel = us.checked_sub(span.start_us).ok_or_else(out_of_range)?;
            scale
                .ticks(rel, up)?
                .checked_add(pto)
                .ok_or_else(out_of_range)
        };
        let period_end = span.end_us.map(|e| ticks(e, true)).transpose()?;
        let (available_end, window_start) = if self.dynamic {
            let ato_us = match info.attr("availabilityTimeOffset") {
                Some(v) if v.trim() != "INF" => super::time::decimal_seconds_us(v.trim())
                    .map_err(|_| bad_attr("availabilityTimeOffset", v))?,
                _ => 0,
            };
            let edge = self.edge_us.checked_add(ato_us).ok_or_else(out_of_range)?;
            let window = self
                .tsbd_us
                .map(|d| ticks(self.edge_us.saturating_sub(d), true))
                .transpose()?;
            (Some(ticks(edge, false)?), window)
        } else {
            (None, None)
        };
        let urls: Vec<Node<'a, 'i>> = match addressing {
            Addressing::List => info.children("SegmentURL"),
            Addressing::Template => Vec::new(),
        };
        self.count_entries(urls.len())?;
        let mut runs = Vec::new();
        if let Some(timeline) = info.child("SegmentTimeline") {
            let ss: Vec<Node<'a, 'i>> = elements(timeline, "S").collect();
            self.count_entries(ss.len())?;
            let mut next_t: i128 = 0;
            let mut number = start_number;
            for (i, s) in ss.iter().enumerate() {
                let t = u64_attr(*s, "t")?.map_or(next_t, i128::from);
                let d = i128::from(u64_attr(*s, "d")?.ok_or_else(|| decode("S without d"))?);
                if d == 0 {
                    return Err(decode("S@d of 0"));
                }
                let r: i64 = match s.attribute("r") {
                    Some(v) => v.trim().parse().map_err(|_| bad_attr("r", v))?,
                    None => 0,
                };
                if let Some(n) = u64_attr(*s, "n")? {
                    number = n;
                }
                let count = if r >= 0 {
                    i128::from(r) + 1
                } else {
                    let next_start = ss
                        .get(i + 1)
                        .map(|n| u64_attr(*n, "t"))
                        .transpose()?
                        .flatten()
                        .map(i128::from);
                    let end = next_start
                        .or(period_end)
                        .or(available_end)
                        .ok_or_else(|| decode("S@r=-1 with no end (no next S@t, no period end)"))?;
                    ceil_div(end.saturating_sub(t), d).max(0)
                };
                runs.push(Run {
                    t,
                    d,
                    count,
                    number,
                });
                next_t = count
                    .checked_mul(d)
                    .and_then(|v| v.checked_add(t))
                    .ok_or_else(out_of_range)?;
                number = u64::try_from(count)
                    .ok()
                    .and_then(|c| number.checked_add(c))
                    .ok_or_else(out_of_range)?;
            }
        } else {
            let d = i128::from(info.u64("duration")?.unwrap_or(0));
            let count = match addressing {
                Addressing::List if d == 0 && urls.len() == 1 => {
                    // One segment without a duration: it spans the period.
                    let d_us = span.end_us.map(|e| e - span.start_us).unwrap_or(0).max(1);
                    let d = scale.ticks(d_us, true)?.max(1);
                    runs.push(Run {
                        t: pto,
                        d,
                        count: 1,
                        number: start_number,
                    });
                    None
                }
                _ if d == 0 => {
                    return Err(decode(
                        "SegmentTemplate/SegmentList without duration or SegmentTimeline",
                    ))
                }
                Addressing::List => Some(urls.len() as i128),
                Addressing::Template => match (period_end, self.dynamic) {
                    (Some(end), _) => Some(ceil_div(end.saturating_sub(pto), d).max(0)),
                    (None, true) => Some(i128::from(u64::MAX)),
                    (None, false) => {
                        return Err(decode(
                            "SegmentTemplate@duration in a period of unknown length",
                        ))
                    }
                },
            };
            if let Some(count) = count {
                runs.push(Run {
                    t: pto,
                    d,
                    count,
                    number: start_number,
                });
            }
        }
        if let Some(end_number) = info.u64("endNumber")? {
            for run in &mut runs {
                let allowed = i128::from(end_number) - i128::from(run.number) + 1;
                run.count = run.count.min(allowed.max(0));
            }
        }
        // Cut each run to [lo, hi): inside the period, available, inside the time-shift window.
        let mut cuts = Vec::with_capacity(runs.len());
        let mut index = 0i128; // position in the full list (SegmentList: which SegmentURL)
        for run in &runs {
            let mut lo = 0i128;
            let mut hi = run.count;
            if addressing == Addressing::List {
                hi = hi.min((urls.len() as i128).saturating_sub(index).max(0));
            }
            if let Some(end) = period_end {
                hi = hi.min(ceil_div(end.saturating_sub(run.t), run.d).max(0));
            }
            if let Some(avail) = available_end {
                hi = hi.min(avail.saturating_sub(run.t).div_euclid(run.d));
            }
            if let Some(w) = window_start {
                lo = lo.max(ceil_div(w.saturating_sub(run.t), run.d).saturating_sub(1));
            }
            lo = lo.max(0);
            hi = hi.max(lo);
            cuts.push((lo, hi, index));
            index = index.saturating_add(run.count);
        }
        let total: i128 = cuts
            .iter()
            .fold(0i128, |acc, (lo, hi, _)| acc.saturating_add(hi - lo));
        if total > MAX_SEGMENTS as i128 {
            if !self.dynamic {
                return Err(too_many_segments());
            }
            // A live window longer than the limit: keep the newest segments.
            let mut drop = total - MAX_SEGMENTS as i128;
            for (lo, hi, _) in &mut cuts {
                let d = drop.min(*hi - *lo);
                *lo += d;
                drop -= d;
            }
            self.ignored.push(Ignored::WindowClamped {
                dropped: u64::try_from(total - MAX_SEGMENTS as i128).unwrap_or(u64::MAX),
            });
        }
        let total = usize::try_from(total.min(MAX_SEGMENTS as i128)).unwrap_or(MAX_SEGMENTS);
        self.count_segments(total)?;

        let mut list = self.new_list(self.max_segment_us.unwrap_or(0));
        let (media_template, init) = match addressing {
            Addressing::Template => {
                let media = info
                    .attr("media")
                    .ok_or_else(|| decode("SegmentTemplate without media"))?;
                let init = match info.attr("initialization") {
                    Some(t) => Some(Template::compile(t)?.fill(rep, None, None)?),
                    None => info
                        .child("Initialization")
                        .and_then(|i| i.attribute("sourceURL"))
                        .map(String::from),
                };
                (Some(Template::compile(media)?), init)
            }
            Addressing::List => (
                None,
                info.child("Initialization")
                    .and_then(|i| i.attribute("sourceURL"))
                    .map(String::from),
            ),
        };
        let init_range = info
            .child("Initialization")
            .and_then(|i| i.attribute("range"))
            .map(|r| byte_range("Initialization@range", r))
            .transpose()?;
        let init = match (init, init_range) {
            (Some(u), range) => Some(InitSegment {
                url: join(&rep.base, &u)?.into(),
                range,
                encryption: Encryption::Clear,
            }),
            (None, Some(range)) => Some(InitSegment {
                url: rep.base.to_string(),
                range: Some(range),
                encryption: Encryption::Clear,
            }),
            (None, None) => None,
        };
        let init_index = init.map(|i| {
            list.inits.push(i);
            0
        });
        list.segments.reserve(total);
        for (run, (lo, hi, index)) in runs.iter().zip(cuts) {
            for k in lo..hi {
                let time = run
                    .d
                    .checked_mul(k)
                    .and_then(|v| v.checked_add(run.t))
                    .ok_or_else(out_of_range)?;
                let number = u64::try_from(k)
                    .ok()
                    .and_then(|k| run.number.checked_add(k))
                    .ok_or_else(out_of_range)?;
                let start = scale
                    .us(time.checked_sub(pto).ok_or_else(out_of_range)?)?
                    .checked_add(span.start_us)
                    .ok_or_else(out_of_range)?;
                let end_ticks = time
                    .checked_add(run.d)
                    .and_then(|t| t.checked_sub(pto))
                    .ok_or_else(out_of_range)?;
                let mut end = scale
                    .us(end_ticks)?
                    .checked_add(span.start_us)
                    .ok_or_else(out_of_range)?
                    .max(start);
                if let Some(e) = span.end_us {
                    end = end.min(e).max(start);
                }
                let (url, range) = match &media_template {
                    Some(t) => (
                        join(&rep.base, &t.fill(rep, Some(number), Some(time))?)?,
                        None,
                    ),
                    None => {
                        let u = usize::try_from(index + k)
                            .ok()
                            .and_then(|i| urls.get(i))
                            .ok_or_else(|| decode("SegmentURL index"))?;
                        let url = match u.attribute("media") {
                            Some(m) => join(&rep.base, m)?,
                            None => rep.base.clone(),
                        };
                        let range = u
                            .attribute("mediaRange")
                            .map(|r| byte_range("mediaRange", r))
                            .transpose()?;
                        (url, range)
                    }
                };
                list.target_duration_us = list.target_duration_us.max(end - start);
                list.segments.push(Segment {
                    number,
                    start_us: start,
                    duration_us: end - start,
                    url: url.into(),
                    range,
                    init: init_index,
                    discontinuity: 0,
                    period: rep.period,
                    encryption: Encryption::dash(rep.encrypted),
                    gap: false,
                    program_date_time_ms: None,
                });
            }
        }
        list.media_sequence = list.segments.first().map_or(start_number, |s| s.number);
        Ok(PeriodMedia::Segments(list))
    }
}

#[derive(Clone, Copy)]
struct PeriodSpan {
    start_us: i64,
    end_us: Option<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Addressing {
    Template,
    List,
}

/// `count` segments of `d` ticks from `t`, numbered from `number`.
struct Run {
    t: i128,
    d: i128,
    count: i128,
    number: u64,
}

/// One kind of segment information element at each level where it appears, deepest first
/// (Representation, AdaptationSet, Period): attributes and children are inherited.
struct Inherit<'a, 'i>(Vec<Node<'a, 'i>>);

impl<'a, 'i> Inherit<'a, 'i> {
    fn attr(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find_map(|n| n.attribute(name))
    }

    fn u64(&self, name: &str) -> Result<Option<u64>, Error> {
        self.attr(name).map(|v| parse_u64(name, v)).transpose()
    }

    /// `presentationTimeOffset` in ticks, 0 when absent; may be negative.
    fn presentation_time_offset(&self) -> Result<i128, Error> {
        const NAME: &str = "presentationTimeOffset";
        Ok(self
            .attr(NAME)
            .map(|v| parse_signed(NAME, v))
            .transpose()?
            .unwrap_or(0))
    }

    fn child(&self, name: &'static str) -> Option<Node<'a, 'i>> {
        self.0.iter().find_map(|n| element(*n, name))
    }

    /// All `name` children of the deepest level that has any.
    fn children(&self, name: &'static str) -> Vec<Node<'a, 'i>> {
        self.0
            .iter()
            .map(|n| elements(*n, name).collect::<Vec<_>>())
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    }
}

struct RepCtx<'r> {
    id: &'r str,
    bandwidth: u64,
    base: Url,
    period: usize,
    encrypted: bool,
}

/// A compiled `$…$` URL template.
struct Template(Vec<Piece>);

enum Piece {
    Text(String),
    RepresentationId,
    Number(usize),
    Bandwidth(usize),
    Time(usize),
}

impl Template {
    fn compile(s: &str) -> Result<Template, Error> {
        let bad = || bad_attr("template", s);
        let mut pieces = Vec::new();
        let mut rest = s;
        let mut text = String::new();
        while let Some(open) = rest.find('$') {
            text.push_str(rest.get(..open).ok_or_else(bad)?);
            let after = rest.get(open + 1..).ok_or_else(bad)?;
            let close = after.find('$').ok_or_else(bad)?;
            let ident = after.get(..close).ok_or_else(bad)?;
            rest = after.get(close + 1..).ok_or_else(bad)?;
            if ident.is_empty() {
                text.push('$');
                continue;
            }
            let (name, width) = match ident.split_once('%') {
                Some((name, format)) => {
                    let digits = format
                        .strip_suffix('d')
                        .ok_or_else(bad)?
                        .trim_start_matches('0');
                    let width = if digits.is_empty() {
                        0
                    } else {
                        parse_u64("template width", digits)?
                    };
                    if width > 32 {
                        return Err(bad());
                    }
                    (name, width as usize)
                }
                None => (ident, 0),
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(match name {
                "RepresentationID" if width == 0 && !ident.contains('%') => Piece::RepresentationId,
                "Number" => Piece::Number(width),
                "Bandwidth" => Piece::Bandwidth(width),
                "Time" => Piece::Time(width),
                "SubNumber" => {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "$SubNumber$ segment templates",
                    ))
                }
                _ => return Err(bad()),
            });
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    fn fill(
        &self,
        rep: &RepCtx<'_>,
        number: Option<u64>,
        time: Option<i128>,
    ) -> Result<String, Error> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::RepresentationId => out.push_str(rep.id),
                Piece::Bandwidth(w) => out.push_str(&format!("{:0w$}", rep.bandwidth, w = *w)),
                Piece::Number(w) => {
                    let n =
                        number.ok_or_else(|| decode("$Number$ in an initialization template"))?;
                    out.push_str(&format!("{n:0w$}", w = *w));
                }
                Piece::Time(w) => {
                    let t = time.ok_or_else(|| decode("$Time$ in an initialization template"))?;
                    out.push_str(&format!("{t:0w$}", w = *w));
                }
            }
        }
        Ok(out)
    }
}

/// The DASH-IF thumbnail grid of an image Representation or set: `EssentialProperty` (or
/// `SupplementalProperty`) `http://dashif.org/guidelines/thumbnail_tile` (also written
/// `http://dashif.org/thumbnail_tile`) with value `"CxR"`, each 1..=1024; `None` without one
/// or with a value that is not a grid (then each image is one thumbnail).
fn tiles(node: Node<'_, '_>) -> Option<(u32, u32)> {
    const SCHEMES: [&str; 2] = [
        "http://dashif.org/guidelines/thumbnail_tile",
        "http://dashif.org/thumbnail_tile",
    ];
    let value = elements(node, "EssentialProperty")
        .chain(elements(node, "SupplementalProperty"))
        .find(|d| {
            d.attribute("schemeIdUri")
                .is_some_and(|s| SCHEMES.contains(&s))
        })?
        .attribute("value")?;
    let (c, r) = value.trim().split_once(['x', 'X'])?;
    let n = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1024).contains(n))
    };
    Some((n(c)?, n(r)?))
}

/// What an AdaptationSet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Content {
    Video,
    Audio,
    Text,
    /// Thumbnail images (`contentType="image"`, `image/*`).
    Image,
}

/// The content type of an AdaptationSet, or (as `Err`) the type it has that is not carried.
fn content_kind(set: Node<'_, '_>, first: Node<'_, '_>) -> Result<Content, String> {
    let content_type = set
        .attribute("contentType")
        .or_else(|| element(set, "ContentComponent").and_then(|c| c.attribute("contentType")));
    let mime = set
        .attribute("mimeType")
        .or_else(|| first.attribute("mimeType"))
        .unwrap_or_default();
    let codecs = codec_list(
        set.attribute("codecs")
            .or_else(|| first.attribute("codecs")),
    );
    let text_mime = matches!(
        mime,
        "text/vtt" | "application/ttml+xml" | "text/wvtt" | "application/x-subrip"
    ) || (mime == "application/mp4" && codecs.iter().any(|c| is_text_codec(c)));
    match content_type {
        Some("video") => return Ok(Content::Video),
        Some("audio") => return Ok(Content::Audio),
        Some("text") => return Ok(Content::Text),
        Some("image") if mime.is_empty() || mime.starts_with("image/") => {
            return Ok(Content::Image)
        }
        _ => {}
    }
    if mime.starts_with("video/") {
        Ok(Content::Video)
    } else if mime.starts_with("audio/") {
        Ok(Content::Audio)
    } else if text_mime {
        Ok(Content::Text)
    } else if mime.starts_with("image/") && content_type.is_none() {
        Ok(Content::Image)
    } else if !codecs.is_empty() && codecs.iter().all(|c| is_audio_codec(c)) {
        Ok(Content::Audio)
    } else if !codecs.is_empty() && codecs.iter().all(|c| is_text_codec(c)) {
        Ok(Content::Text)
    } else if content_type.is_none() && mime.is_empty() && !codecs.is_empty() {
        Ok(Content::Video)
    } else {
        Err(content_type
            .map(String::from)
            .unwrap_or_else(|| mime.to_string()))
    }
}

/// Channel count from an `AudioChannelConfiguration` child.
fn channels(node: Node<'_, '_>) -> Option<u32> {
    let c = element(node, "AudioChannelConfiguration")?;
    let value = c.attribute("value")?.trim();
    match c.attribute("schemeIdUri")? {
        "urn:mpeg:dash:23003:3:audio_channel_configuration:2011" => value.parse().ok(),
        "urn:mpeg:mpegB:cicp:ChannelConfiguration" => match value.parse::<u32>().ok()? {
            n @ 1..=6 => Some(n),
            7 | 14 => Some(8),
            9 => Some(3),
            10 => Some(4),
            11 => Some(7),
            12 => Some(8),
            13 => Some(24),
            _ => None,
        },
        _ => None,
    }
}

/// A representation's attributes, from the first period it appears in.
struct RepInfo {
    id: String,
    /// Image sets: the thumbnail grid (columns, rows).
    tiles: Option<(u32, u32)>,
    /// `@mimeType` of the Representation or its set.
    mime: String,
    bandwidth: u64,
    width: Option<u32>,
    height: Option<u32>,
    frame_rate: Option<f64>,
    codecs: Vec<String>,
    channels: Option<u32>,
}

/// The segments of one representation in one period.
enum PeriodMedia {
    Segments(SegmentList),
    Indexed(IndexedMedia),
}

struct RepOut {
    rep: RepInfo,
    media: PeriodMedia,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TrackKey {
    kind: Content,
    language: Option<String>,
}

/// One AdaptationSet in one period.
struct Track {
    key: TrackKey,
    label: Option<String>,
    main: bool,
    forced: bool,
    /// `period-continuity` descriptor: the id of the period this set continues seamlessly.
    continues_from: Option<String>,
    reps: Vec<RepOut>,
}

/// An AdaptationSet followed over the periods (matched by content type and language).
struct Chain {
    key: TrackKey,
    label: Option<String>,
    main: bool,
    forced: bool,
    discontinuity: u64,
    members: Vec<Member>,
}

/// One variant / rendition being assembled over the periods.
struct Member {
    rep: RepInfo,
    media: ChainMedia,
}

enum ChainMedia {
    Segments(SegmentList),
    Indexed(Vec<IndexedMedia>),
}

impl ChainMedia {
    fn into_media_ref(self) -> MediaRef {
        match self {
            ChainMedia::Segments(l) => MediaRef::Segments(l),
            ChainMedia::Indexed(v) => MediaRef::Indexed(v),
        }
    }

    fn push(&mut self, media: PeriodMedia, discontinuity: u64) -> Result<(), Error> {
        match (self, media) {
            (ChainMedia::Segments(list), PeriodMedia::Segments(mut next)) => {
                for s in &mut next.segments {
                    s.discontinuity = discontinuity;
                }
                next.discontinuity_sequence = discontinuity;
                list.append(next)
            }
            (ChainMedia::Indexed(parts), PeriodMedia::Indexed(mut next)) => {
                next.discontinuity = discontinuity;
                parts.push(next);
                Ok(())
            }
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                "a representation switching between SegmentBase and segment lists across periods",
            )),
        }
    }
}

impl Chain {
    fn new(track: Track) -> Result<Chain, Error> {
        let mut members = Vec::with_capacity(track.reps.len());
        for r in track.reps {
            let media = match r.media {
                PeriodMedia::Segments(l) => ChainMedia::Segments(l),
                PeriodMedia::Indexed(i) => ChainMedia::Indexed(vec![i]),
            };
            members.push(Member { rep: r.rep, media });
        }
        members.sort_by_key(|m| m.rep.bandwidth);
        Ok(Chain {
            key: track.key,
            label: track.label,
            main: track.main,
            forced: track.forced,
            discontinuity: 0,
            members,
        })
    }

    /// Continues every member with the Representation of `track` (period `p`) that has its
    /// id, else the one at the same rank by bandwidth.
    fn extend(&mut self, track: Track, p: usize, ignored: &mut Vec<Ignored>) -> Result<(), Error> {
        let mut reps: Vec<Option<RepOut>> = track.reps.into_iter().map(Some).collect();
        reps.sort_by_key(|r| r.as_ref().map_or(0, |r| r.rep.bandwidth));
        let ids: HashMap<String, usize> = reps
            .iter()
            .enumerate()
            .filter_map(|(j, r)| r.as_ref().map(|r| (r.rep.id.clone(), j)))
            .collect();
        let n_members = self.members.len();
        let n_reps = reps.len();
        let picks: Vec<Option<usize>> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let by_rank = (n_reps > 0).then(|| {
                    if n_members <= 1 {
                        0
                    } else {
                        (i * (n_reps - 1) + (n_members - 1) / 2) / (n_members - 1)
                    }
                });
                ids.get(&m.rep.id).copied().or(by_rank)
            })
            .collect();
        let mut uses = vec![0usize; n_reps];
        for j in picks.iter().flatten() {
            if let Some(u) = uses.get_mut(*j) {
                *u += 1;
            }
        }
        for (m, pick) in self.members.iter_mut().zip(&picks) {
            let Some(j) = *pick else { continue };
            let left = uses.get_mut(j).map(|u| {
                *u = u.saturating_sub(1);
                *u
            });
            // A representation picked by several members is shared: the last one takes it.
            let media = match reps.get_mut(j) {
                Some(slot) if left.unwrap_or(0) > 0 => slot.as_ref().map(|r| match &r.media {
                    PeriodMedia::Segments(l) => PeriodMedia::Segments(l.clone()),
                    PeriodMedia::Indexed(i) => PeriodMedia::Indexed(i.clone()),
                }),
                Some(slot) => slot.take().map(|r| r.media),
                None => None,
            };
            if let Some(media) = media {
                m.media.push(media, self.discontinuity)?;
            }
        }
        for r in reps.into_iter().flatten() {
            // Still in its slot: no member picked it.
            if ignored.len() < MAX_STREAMS {
                ignored.push(Ignored::UnmatchedRepresentation {
                    period: p,
                    id: r.rep.id,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep() -> RepCtx<'static> {
        RepCtx {
            id: "v1",
            bandwidth: 800_000,
            base: Url::parse("http://a/").unwrap(),
            period: 0,
            encrypted: false,
        }
    }

    #[test]
    fn templates() {
        let t =
            Template::compile("$RepresentationID$/$Number%05d$-$Time$-$Bandwidth$$$.m4s").unwrap();
        assert_eq!(
            t.fill(&rep(), Some(42), Some(90000)).unwrap(),
            "v1/00042-90000-800000$.m4s"
        );
        let t = Template::compile("seg_$Number%d$.ts").unwrap();
        assert_eq!(t.fill(&rep(), Some(7), None).unwrap(), "seg_7.ts");
        for bad in [
            "$Number",
            "$Foo$",
            "$Number%05x$",
            "$Number%099d$",
            "$RepresentationID%02d$",
        ] {
            assert!(Template::compile(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Template::compile("$SubNumber$").err().unwrap().kind,
            ErrorKind::Unsupported
        );
        assert!(Template::compile("init.mp4")
            .unwrap()
            .fill(&rep(), None, None)
            .is_ok());
        assert!(Template::compile("$Number$")
            .unwrap()
            .fill(&rep(), None, None)
            .is_err());
    }

    #[test]
    fn ranges_and_rates() {
        assert_eq!(
            byte_range("r", "809-482825").unwrap(),
            ByteSpan {
                start: 809,
                len: 482_017
            }
        );
        assert!(byte_range("r", "10-9").is_err() && byte_range("r", "10").is_err());
        assert!((frame_rate("30000/1001").unwrap() - 29.97).abs() < 0.001);
        assert!(frame_rate("30/0").is_err());
        assert_eq!(frame_rate("30.0").unwrap(), 30.0);
        assert_eq!(frame_rate("25").unwrap(), 25.0);
        for bad in ["30.", ".5", "1e3", "-1", "3.0.0", "30/1.5", "+30"] {
            assert!(frame_rate(bad).is_err(), "{bad}");
        }
    }
}
