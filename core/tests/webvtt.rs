//! WebVTT: the spec's examples, settings and markup edge cases, layout numbers, `wvtt`
//! samples, the cue store, ffmpeg-made files and HLS segments (`scripts/fixtures-vtt.sh`), and
//! a malformed corpus that must never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use kinema_core::text::webvtt::{
    self, layout, layout_with, markup, parse_timestamp, unwrap_mpegts, wvtt, Cue, CueBox,
    CueSettings, ElementKind, Limits, LineAlign, Node, PositionAlign, Region, Scroll, TextAlign,
    TimestampMap, Vertical, Viewport, MPEGTS_WRAP,
};
use kinema_core::text::{CueStore, Insert, StoreBudget, TimedText};
use kinema_core::ErrorKind;

const S: i64 = 1_000_000;

fn ms(v: i64) -> i64 {
    v * 1000
}

fn parse(text: &str) -> webvtt::VttFile {
    webvtt::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

/// The bytes of the generated `vtt/NAME` (scripts/fixtures-vtt.sh).
fn fixture(name: &str) -> Vec<u8> {
    kinema_testkit::fixture(&format!("vtt/{name}"))
}

// ---------------------------------------------------------------------------------------
// The spec's examples (§1, non-normative introduction), byte for byte.

const INTERVIEW: &str = "WEBVTT

00:11.000 --> 00:13.000
<v Roger Bingham>We are in New York City

00:13.000 --> 00:16.000
<v Roger Bingham>We're actually at the Lucern Hotel, just down the street

00:16.000 --> 00:18.000
<v Roger Bingham>from the American Museum of Natural History

00:18.000 --> 00:20.000
<v Roger Bingham>And with me is Neil deGrasse Tyson

00:20.000 --> 00:22.000
<v Roger Bingham>Astrophysicist, Director of the Hayden Planetarium

00:22.000 --> 00:24.000
<v Roger Bingham>at the AMNH.

00:24.000 --> 00:26.000
<v Roger Bingham>Thank you for walking down here.

00:27.000 --> 00:30.000
<v Roger Bingham>And I want to do a follow-up on the last conversation we did.

00:30.000 --> 00:31.500 align:right size:50%
<v Roger Bingham>When we e-mailed\u{2014}

00:30.500 --> 00:32.500 align:left size:50%
<v Neil deGrasse Tyson>Didn't we talk about enough in that conversation?

00:32.000 --> 00:35.500 align:right size:50%
<v Roger Bingham>No! No no no no; 'cos 'cos obviously 'cos

00:32.500 --> 00:33.500 align:left size:50%
<v Neil deGrasse Tyson><i>Laughs</i>

00:35.500 --> 00:38.000
<v Roger Bingham>You know I'm so excited my glasses are falling off here.
";

#[test]
fn spec_interview_example() {
    let f = parse(INTERVIEW);
    assert_eq!(f.cues.len(), 13);
    assert_eq!(f.header, "");
    assert_eq!(f.stats, Default::default());
    let c = &f.cues[0];
    assert_eq!((c.start_us, c.end_us), (11 * S, 13 * S));
    assert_eq!(c.id, "");
    assert_eq!(c.settings, CueSettings::default());
    assert_eq!(c.plain_text(), "We are in New York City");
    let c = &f.cues[8];
    assert_eq!((c.start_us, c.end_us), (30 * S, ms(31_500)));
    assert_eq!(c.settings.align, TextAlign::Right);
    assert_eq!(c.settings.size, 50.0);
    assert_eq!(c.plain_text(), "When we e-mailed\u{2014}");
    let laughs = &f.cues[11];
    assert_eq!(laughs.text, "<v Neil deGrasse Tyson><i>Laughs</i>");
    let nodes = laughs.nodes();
    let [Node::Element(v)] = nodes.as_slice() else {
        panic!("{nodes:?}")
    };
    assert_eq!(
        v.kind,
        ElementKind::Voice {
            name: "Neil deGrasse Tyson".into()
        }
    );
    let [Node::Element(i)] = v.children.as_slice() else {
        panic!("{v:?}")
    };
    assert_eq!(i.kind, ElementKind::Italic);
    assert_eq!(i.children, vec![Node::Text("Laughs".into())]);
    let spans = laughs.spans();
    assert_eq!(spans.len(), 1);
    assert!(spans[0].italic && !spans[0].bold);
    assert_eq!(spans[0].voice.as_deref(), Some("Neil deGrasse Tyson"));
}

#[test]
fn spec_style_blocks_and_comments() {
    let f = parse(
        "WEBVTT

STYLE
::cue {
  background-image: linear-gradient(to bottom, dimgray, lightgray);
  color: papayawhip;
}
/* Style blocks cannot use blank lines nor \"dash dash greater than\" */

NOTE comment blocks can be used between style blocks.

STYLE
::cue(b) {
  color: peachpuff;
}

hello
00:00:00.000 --> 00:00:10.000
Hello <b>world</b>.

NOTE style blocks cannot appear after the first cue.
",
    );
    assert_eq!(f.styles.len(), 2);
    assert!(f.styles[0].starts_with("::cue {\n  background-image"));
    assert!(f.styles[0].ends_with("\"dash dash greater than\" */"));
    assert_eq!(f.styles[1], "::cue(b) {\n  color: peachpuff;\n}");
    assert_eq!(f.stats.comments, 2);
    assert_eq!(f.cues.len(), 1);
    assert_eq!(f.cues[0].id, "hello");
    assert_eq!((f.cues[0].start_us, f.cues[0].end_us), (0, 10 * S));
    let spans = f.cues[0].spans();
    let texts: Vec<(&str, bool)> = spans.iter().map(|s| (s.text.as_str(), s.bold)).collect();
    assert_eq!(texts, [("Hello ", false), ("world", true), (".", false)]);
    // The blocks apply: papayawhip from `::cue`, peachpuff on `<b>`; the gradient (an
    // unsupported property) is ignored, not a failure.
    let sheet = f.style_sheet();
    assert_eq!(sheet.len(), 2);
    let colours: Vec<_> = f.cues[0]
        .styled_spans(&sheet)
        .into_iter()
        .map(|(s, r)| (s.text, r.color, r.background))
        .collect();
    let (papaya, peach) = (Some([255, 239, 213, 255]), Some([255, 218, 185, 255]));
    assert_eq!(
        colours,
        [
            ("Hello ".to_string(), papaya, None),
            ("world".to_string(), peach, None),
            (".".to_string(), papaya, None)
        ]
    );
}

#[test]
fn spec_identifiers_and_references() {
    let f = parse(
        "WEBVTT

test
00:00.000 --> 00:02.000
This is a test.

123
00:00.000 --> 00:02.000
That's an, an, that's an L!

cr\u{e9}dit de transcription
00:04.000 --> 00:05.000
Transcrit par C\u{e9}lestes&trade;
",
    );
    let ids: Vec<&str> = f.cues.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["test", "123", "cr\u{e9}dit de transcription"]);
    assert_eq!(
        f.cues[2].plain_text(),
        "Transcrit par C\u{e9}lestes\u{2122}"
    );
}

#[test]
fn spec_classes_and_language() {
    let f = parse(
        "WEBVTT

04:02.500 --> 04:05.000
J'ai commenc\u{e9} le basket \u{e0} l'\u{e2}ge de 13, 14 ans

04:05.001 --> 04:07.800
Sur les <i.foreignphrase><lang en>playground</lang></i>, ici \u{e0} Montpellier
",
    );
    assert_eq!(f.cues[0].start_us, ms(242_500));
    assert_eq!(f.cues[1].start_us, ms(245_001));
    let nodes = f.cues[1].nodes();
    let Node::Element(i) = &nodes[1] else {
        panic!("{nodes:?}")
    };
    assert_eq!(i.kind, ElementKind::Italic);
    assert_eq!(i.classes, ["foreignphrase"]);
    assert_eq!(i.lang, None);
    let Node::Element(lang) = &i.children[0] else {
        panic!("{i:?}")
    };
    assert_eq!(lang.kind, ElementKind::Lang);
    assert_eq!(lang.lang.as_deref(), Some("en"));
    let spans = f.cues[1].spans();
    let play = spans.iter().find(|s| s.text == "playground").unwrap();
    assert!(play.italic);
    assert_eq!(play.classes, ["foreignphrase"]);
    assert_eq!(play.lang.as_deref(), Some("en"));
    assert_eq!(spans.last().unwrap().lang, None);
    assert_eq!(
        f.cues[1].plain_text(),
        "Sur les playground, ici \u{e0} Montpellier"
    );
}

#[test]
fn spec_voices() {
    let f = parse(
        "WEBVTT

00:00.000 --> 00:02.000
<v.first.loud Esme>It's a blue apple tree!

00:02.000 --> 00:04.000
<v Mary>No way!

00:04.000 --> 00:06.000
<v Esme>Hee!</v> <i>laughter</i>

00:06.000 --> 00:08.000
<v.loud Mary>That's awesome!
",
    );
    let first = f.cues[0].spans();
    assert_eq!(first[0].voice.as_deref(), Some("Esme"));
    assert_eq!(first[0].classes, ["first", "loud"]);
    let third = f.cues[2].spans();
    let summary: Vec<(&str, Option<&str>, bool)> = third
        .iter()
        .map(|s| (s.text.as_str(), s.voice.as_deref(), s.italic))
        .collect();
    assert_eq!(
        summary,
        [
            ("Hee!", Some("Esme"), false),
            (" ", None, false),
            ("laughter", None, true)
        ]
    );
}

const POSITIONS: &str = "WEBVTT

00:00:00.000 --> 00:00:04.000 position:10%,line-left align:left size:35%
Where did he go?

00:00:03.000 --> 00:00:06.500 position:90% align:right size:35%
I think he went down this lane.

00:00:04.000 --> 00:00:06.500 position:45%,line-right align:center size:35%
What are you waiting for?
";

#[test]
fn spec_positions_example_and_its_boxes() {
    let f = parse(POSITIONS);
    let s = &f.cues[0].settings;
    assert_eq!(s.position, Some(10.0));
    assert_eq!(s.position_align, PositionAlign::LineLeft);
    assert_eq!(s.align, TextAlign::Left);
    assert_eq!(s.size, 35.0);
    assert_eq!(f.cues[1].settings.position_align, PositionAlign::Auto);
    assert_eq!(
        f.cues[1].settings.computed_position_align(false),
        PositionAlign::LineRight
    );
    let vp = Viewport {
        line_height: 5.0,
        ..Viewport::new(1920.0, 1080.0)
    };
    // The spec's prose: the first box spans 10%..45%, the second is right-aligned at 90%
    // (same as position:55%,line-left), the third shares the first's box.
    let boxes = layout(&f.cues.iter().collect::<Vec<_>>(), &vp);
    let xs: Vec<(f64, f64)> = boxes.iter().map(|b| (b.x, b.width)).collect();
    assert_eq!(xs, [(10.0, 35.0), (55.0, 35.0), (10.0, 35.0)]);
    // All three are active at 4.0 s: the third would overlap the first, so it moves up a line.
    let ys: Vec<f64> = boxes.iter().map(|b| b.y).collect();
    assert_eq!(ys, [95.0, 95.0, 90.0]);
}

const REGIONS: &str = "WEBVTT

REGION
id:fred
width:40%
lines:3
regionanchor:0%,100%
viewportanchor:10%,90%
scroll:up

REGION
id:bill
width:40%
lines:3
regionanchor:100%,100%
viewportanchor:90%,90%
scroll:up

00:00:00.000 --> 00:00:20.000 region:fred align:left
<v Fred>Hi, my name is Fred

00:00:02.500 --> 00:00:22.500 region:bill align:right
<v Bill>Hi, I'm Bill

00:00:05.000 --> 00:00:25.000 region:fred align:left
<v Fred>Would you like to get a coffee?

00:00:07.500 --> 00:00:27.500 region:bill align:right
<v Bill>Sure! I've only had one today.

00:00:10.000 --> 00:00:30.000 region:fred align:left
<v Fred>This is my fourth!

00:00:12.500 --> 00:00:32.500 region:fred align:left
<v Fred>OK, let's go.
";

#[test]
fn spec_regions_example() {
    let f = parse(REGIONS);
    assert_eq!(f.regions.len(), 2);
    assert_eq!(
        f.regions[0],
        Region {
            id: "fred".into(),
            width: 40.0,
            lines: 3,
            region_anchor: (0.0, 100.0),
            viewport_anchor: (10.0, 90.0),
            scroll: Scroll::Up,
        }
    );
    assert_eq!(f.regions[1].region_anchor, (100.0, 100.0));
    assert_eq!(f.regions[1].viewport_anchor, (90.0, 90.0));
    let regions: Vec<&str> = f
        .cues
        .iter()
        .map(|c| c.region.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(regions, ["fred", "bill", "fred", "bill", "fred", "fred"]);

    // "Fred's first cue disappears at 12.5sec ... because its region is limited to 3 lines".
    let mut store = CueStore::default();
    store.extend(f.cues.iter().cloned());
    let active: Vec<&Cue> = store
        .active_at(ms(12_500))
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(active.len(), 6);
    let vp = Viewport {
        line_height: 6.0,
        ..Viewport::new(1920.0, 1080.0)
    };
    let boxes = layout(&active, &vp);
    let shown: Vec<(usize, &str, f64, f64, f64)> = boxes
        .iter()
        .map(|b| (b.cue, b.region.as_deref().unwrap(), b.x, b.y, b.width))
        .collect();
    // Fred's region: left 10, top 90 − 18 = 72; Bill's: left 90 − 40 = 50. Newest at the bottom.
    let expect = [
        (1, "bill", 50.0, 78.0, 40.0),
        (2, "fred", 10.0, 72.0, 40.0),
        (3, "bill", 50.0, 84.0, 40.0),
        (4, "fred", 10.0, 78.0, 40.0),
        (5, "fred", 10.0, 84.0, 40.0),
    ];
    assert_eq!(shown.len(), expect.len(), "{shown:?}");
    for (got, want) in shown.iter().zip(expect) {
        assert_eq!(got.0, want.0);
        assert_eq!(got.1, want.1);
        assert!((got.2 - want.2).abs() < 1e-9, "{got:?} vs {want:?}");
        assert!((got.3 - want.3).abs() < 1e-9, "{got:?} vs {want:?}");
        assert!((got.4 - want.4).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}

#[test]
fn spec_comments_chapters_and_metadata() {
    let f = parse(
        "WEBVTT

NOTE
This file was written by Jill. I hope
you enjoy reading it. Some things to
bear in mind:
- I was lip-reading, so the cues may
not be 100% accurate
- I didn't pay too close attention to
when the cues should start or end.

00:01.000 --> 00:04.000
Never drink liquid nitrogen.

NOTE check next cue

00:05.000 --> 00:09.000
\u{2014} It will perforate your stomach.
\u{2014} You could die.

NOTE end of file
",
    );
    assert_eq!(f.stats.comments, 3);
    assert_eq!(f.cues.len(), 2);
    assert_eq!(
        f.cues[1].text,
        "\u{2014} It will perforate your stomach.\n\u{2014} You could die."
    );
    let chapters = parse(
        "WEBVTT

NOTE
This is from a talk Silvia gave about WebVTT.

Slide 1
00:00:00.000 --> 00:00:10.700
Title Slide

Slide 2
00:00:10.700 --> 00:00:47.600
Introduction by Naomi Black

Slide 3
00:00:47.600 --> 00:01:50.100
Impact of Captions on the Web

Slide 4
00:01:50.100 --> 00:03:33.000
Requirements of a Video text format
",
    );
    let got: Vec<(&str, i64, i64, String)> = chapters
        .cues
        .iter()
        .map(|c| (c.id.as_str(), c.start_us, c.end_us, c.plain_text()))
        .collect();
    assert_eq!(
        got[3],
        (
            "Slide 4",
            ms(110_100),
            ms(213_000),
            "Requirements of a Video text format".into()
        )
    );
    assert_eq!(got[1].1, ms(10_700));
    let meta = parse("WEBVTT\n\n1\n00:00:00.100 --> 00:00:07.342\n{\n \"type\": \"LongLat\",\n \"lat\" : \"36.198269\"\n}\n");
    assert_eq!(
        meta.cues[0].text,
        "{\n \"type\": \"LongLat\",\n \"lat\" : \"36.198269\"\n}"
    );
}

// ---------------------------------------------------------------------------------------
// Parser rules.

#[test]
fn signature_and_header() {
    for bad in [
        "",
        "WEBVT",
        "webvtt\n",
        "WEBVTTX\n",
        "WEBVTT-\n",
        " WEBVTT\n",
        "\u{feff}\u{feff}WEBVTT",
    ] {
        let e = webvtt::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode, "{bad:?}");
    }
    for ok in [
        "WEBVTT",
        "WEBVTT\n",
        "WEBVTT \n",
        "WEBVTT\t- x",
        "\u{feff}WEBVTT\n\n",
    ] {
        assert!(parse(ok).cues.is_empty(), "{ok:?}");
    }
    let f = parse("WEBVTT - Title\nKind: captions\nLanguage: en\n\n00:01.000 --> 00:02.000\nx\n");
    assert_eq!(f.header, "- Title\nKind: captions\nLanguage: en");
    assert_eq!(f.cues.len(), 1);
    // A cue right after the signature line (no blank line) is still a cue.
    let f = parse("WEBVTT\n00:01.000 --> 00:02.000\nx\n");
    assert_eq!(f.cues.len(), 1);
    // CRLF, lone CR, NUL, invalid UTF-8.
    let f = webvtt::parse(b"WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\na\0b\r\rc\xff\n").unwrap();
    assert_eq!(f.cues.len(), 1);
    assert_eq!(f.cues[0].text, "a\u{fffd}b");
    assert_eq!(f.stats.other_blocks, 1);
}

#[test]
fn timestamps() {
    let cases: &[(&str, Option<i64>)] = &[
        ("00:00.000", Some(0)),
        ("01:02.003", Some(ms(62_003))),
        ("00:00:00.000", Some(0)),
        ("1:02:03.004", Some(ms(3_723_004))),
        ("123:00:00.000", Some(123 * 3600 * S)),
        ("59:59.999", Some(ms(3_599_999))),
        ("60:00.000", None),
        ("00:60.000", None),
        ("00:00:60.000", None),
        ("00:60:00.000", None),
        ("00:00.00", None),
        ("00:00.0000", None),
        ("00:00,000", None),
        ("0:00.000", None),
        ("00:0.000", None),
        ("00:00.000 ", None),
        ("-00:00.000", None),
        ("99999999999999999999:00:00.000", None),
        ("", None),
    ];
    for &(s, want) in cases {
        assert_eq!(parse_timestamp(s), want, "{s:?}");
    }
}

fn settings(s: &str) -> CueSettings {
    CueSettings::parse(s, &[]).0
}

#[test]
fn settings_valid_and_invalid_values() {
    let d = CueSettings::default();
    assert_eq!(settings(""), d);
    // Invalid values leave the default, valid ones apply.
    assert_eq!(settings("vertical:xx").vertical, Vertical::Horizontal);
    assert_eq!(settings("vertical:rl").vertical, Vertical::GrowingLeft);
    assert_eq!(settings("vertical:lr").vertical, Vertical::GrowingRight);
    let line = |s: &str| {
        let c = settings(s);
        (c.line, c.snap_to_lines, c.line_align)
    };
    assert_eq!(line("line:-1"), (Some(-1.0), true, LineAlign::Start));
    assert_eq!(line("line:0"), (Some(0.0), true, LineAlign::Start));
    assert_eq!(line("line:1.5"), (Some(1.5), true, LineAlign::Start));
    assert_eq!(line("line:50%"), (Some(50.0), false, LineAlign::Start));
    assert_eq!(line("line:0,end"), (Some(0.0), true, LineAlign::End));
    assert_eq!(
        line("line:10%,center"),
        (Some(10.0), false, LineAlign::Center)
    );
    for bad in [
        "line:1,bogus",
        "line:--1",
        "line:1-",
        "line:.5",
        "line:5.",
        "line:1.2.3",
        "line:101%",
        "line:-5%",
        "line:abc",
        "line:%",
        "line:",
        "line:5x",
        "line:1,",
        "line:+1",
    ] {
        assert_eq!(line(bad), (None, true, LineAlign::Start), "{bad}");
    }
    let pos = |s: &str| {
        let c = settings(s);
        (c.position, c.position_align)
    };
    assert_eq!(pos("position:10%"), (Some(10.0), PositionAlign::Auto));
    assert_eq!(
        pos("position:10%,line-left"),
        (Some(10.0), PositionAlign::LineLeft)
    );
    assert_eq!(
        pos("position:0%,center"),
        (Some(0.0), PositionAlign::Center)
    );
    assert_eq!(
        pos("position:100%,line-right"),
        (Some(100.0), PositionAlign::LineRight)
    );
    for bad in [
        "position:10",
        "position:10%,bogus",
        "position:-5%",
        "position:100.5%",
        "position:%",
        "position:1e1%",
    ] {
        assert_eq!(pos(bad), (None, PositionAlign::Auto), "{bad}");
    }
    assert_eq!(settings("size:50%").size, 50.0);
    assert_eq!(settings("size:0%").size, 0.0);
    for bad in ["size:150%", "size:50", "size:-1%", "size:5.%"] {
        assert_eq!(settings(bad).size, 100.0, "{bad}");
    }
    for (s, a) in [
        ("align:start", TextAlign::Start),
        ("align:center", TextAlign::Center),
        ("align:end", TextAlign::End),
        ("align:left", TextAlign::Left),
        ("align:right", TextAlign::Right),
        ("align:middle", TextAlign::Center),
        ("Align:left", TextAlign::Center),
        ("align:LEFT", TextAlign::Center),
        ("align:left align:right", TextAlign::Right),
        ("align:right align:bogus", TextAlign::Right),
    ] {
        assert_eq!(settings(s).align, a, "{s}");
    }
    // Tokens without a usable colon, unknown names: ignored; tabs separate too.
    assert_eq!(settings(":x y: novalue foo:bar"), d);
    let c = settings("size:20%\tposition:30%   line:2");
    assert_eq!((c.size, c.position, c.line), (20.0, Some(30.0), Some(2.0)));
}

#[test]
fn region_settings_and_cue_regions() {
    let r = Region::parse(
        "id:r1 width:50% lines:4 regionanchor:10%,20% viewportanchor:30%,40% scroll:up",
    );
    assert_eq!(
        r,
        Region {
            id: "r1".into(),
            width: 50.0,
            lines: 4,
            region_anchor: (10.0, 20.0),
            viewport_anchor: (30.0, 40.0),
            scroll: Scroll::Up
        }
    );
    let d = Region::parse(
        "width:101% lines:3.5 lines:-1 regionanchor:0% viewportanchor:5%,x scroll:down",
    );
    assert_eq!(d, Region::default());
    let regions = [
        r.clone(),
        Region {
            width: 70.0,
            ..r.clone()
        },
    ];
    let region = |s: &str| CueSettings::parse(s, &regions).1.map(|r| r.width);
    assert_eq!(
        region("region:r1"),
        Some(70.0),
        "the last region with the id wins"
    );
    assert_eq!(region("region:r2"), None);
    assert_eq!(region("region:r1 line:0"), None);
    assert_eq!(region("region:r1 size:50%"), None);
    assert_eq!(region("region:r1 size:100%"), Some(70.0));
    assert_eq!(region("region:r1 vertical:lr"), None);
    // The spec processes settings in order: a region given after the line is kept.
    assert_eq!(region("line:0 region:r1"), Some(70.0));
}

#[test]
fn blocks_cues_and_skipping() {
    let f = parse(
        "WEBVTT

00:01.000-->00:02.000
no spaces around the arrow

bad timing
00:01.000 --> 00:0x.000
dropped

id --> with arrow
00:03.000 --> 00:04.000
an identifier with an arrow fails as timings; the next line starts a new block

00:05.000 --> 00:06.000
text that stops
00:07.000 --> 00:08.000
here because an arrow line starts the next cue

STYLE
::cue { color: red }

REGION
id:late
",
    );
    let texts: Vec<&str> = f.cues.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "no spaces around the arrow",
            "an identifier with an arrow fails as timings; the next line starts a new block",
            "text that stops",
            "here because an arrow line starts the next cue"
        ]
    );
    assert_eq!(f.stats.invalid_cues, 2);
    assert!(
        f.styles.is_empty(),
        "STYLE after a cue is not a style sheet"
    );
    assert!(f.regions.is_empty(), "REGION after a cue is not a region");
    assert_eq!(f.cues[1].id, "");
    assert_eq!(f.stats.other_blocks, 3);
    // A cue with no text is a cue; a cue with end before start is kept (never active).
    let f = parse("WEBVTT\n\n00:01.000 --> 00:02.000\n\n00:05.000 --> 00:03.000\nx\n");
    assert_eq!(f.cues.len(), 2);
    assert_eq!(f.cues[0].text, "");
}

#[test]
fn limits_truncate_and_error() {
    let mut text = String::from("WEBVTT\n\n");
    for i in 0..50 {
        text.push_str(&format!(
            "00:{:02}.000 --> 00:{:02}.500\ncue {i} {}\n\n",
            i % 60,
            i % 60,
            "\u{e9}".repeat(20)
        ));
    }
    let limits = Limits {
        max_cues: 10,
        max_cue_text_bytes: 9,
        ..Limits::default()
    };
    let f = webvtt::parse_with(text.as_bytes(), &limits).unwrap();
    assert_eq!(f.cues.len(), 10);
    assert!(f.stats.cue_limit_reached);
    assert_eq!(
        f.cues[0].text, "cue 0 \u{e9}",
        "cut at a character boundary"
    );
    assert_eq!(f.stats.truncated_texts, 10);
    let e = webvtt::parse_with(
        text.as_bytes(),
        &Limits {
            max_input_bytes: 100,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    let mut big = b"WEBVTT\n\n".to_vec();
    big.resize(Limits::default().max_input_bytes + 1, b'x');
    assert_eq!(webvtt::parse(&big).unwrap_err().kind, ErrorKind::Limit);
}

// ---------------------------------------------------------------------------------------
// Cue text markup.

fn plain(s: &str) -> String {
    markup::plain_text(&markup::parse(s))
}

#[test]
fn character_references() {
    assert_eq!(
        plain("&amp; &lt; &gt; &lrm; &rlm; &nbsp;"),
        "& < > \u{200e} \u{200f} \u{a0}"
    );
    assert_eq!(plain("&amp &lt3 fish&chips"), "& <3 fish&chips");
    assert_eq!(
        plain("&unknown; & &; &#; &#x; &"),
        "&unknown; & &; &#; &#x; &"
    );
    assert_eq!(plain("&#65;&#x42;&#X43;&#x1F600;&#97"), "ABC\u{1F600}a");
    assert_eq!(
        plain("&#0;&#xD800;&#x110000;&#99999999999;"),
        "\u{fffd}".repeat(4)
    );
    assert_eq!(plain("&#x80;&#150;&#x81;"), "\u{20ac}\u{2013}\u{81}");
    assert_eq!(
        plain("&mdash;&hellip;&copy;&reg;&trade;&quot;&apos;"),
        "\u{2014}\u{2026}\u{a9}\u{ae}\u{2122}\"'"
    );
    assert_eq!(plain("&notanentity;&ampx"), "&notanentity;&x");
    // In a voice annotation too.
    let nodes = markup::parse("<v Tom &amp; Jerry>hi");
    let Node::Element(v) = &nodes[0] else {
        panic!()
    };
    assert_eq!(
        v.kind,
        ElementKind::Voice {
            name: "Tom & Jerry".into()
        }
    );
}

#[test]
fn tags_and_tree() {
    // Unclosed tags close at the end; a mismatched end tag is ignored.
    let spans = markup::spans(&markup::parse("<b>a</i>b<u>c"));
    let got: Vec<(&str, bool, bool)> = spans
        .iter()
        .map(|s| (s.text.as_str(), s.bold, s.underline))
        .collect();
    assert_eq!(
        got,
        [("a", true, false), ("b", true, false), ("c", true, true)]
    );
    // Classes (empty ones dropped), annotation whitespace collapsed.
    let nodes = markup::parse("<c.yellow..bg_blue>x</c><v.loud   Esme \t Who  >y");
    let Node::Element(c) = &nodes[0] else {
        panic!()
    };
    assert_eq!(
        (c.kind.clone(), c.classes.clone()),
        (ElementKind::Class, vec!["yellow".into(), "bg_blue".into()])
    );
    let Node::Element(v) = &nodes[1] else {
        panic!()
    };
    assert_eq!(
        v.kind,
        ElementKind::Voice {
            name: "Esme Who".into()
        }
    );
    assert_eq!(v.classes, ["loud"]);
    // Unknown tags are dropped, their text kept; `<>` and a lone `<` at the end too.
    assert_eq!(plain("<font color=red>red</font> <> x<"), "red  x");
    // Tag names are case-sensitive.
    assert!(markup::spans(&markup::parse("<B>x</B>"))
        .iter()
        .all(|s| !s.bold));
    // Line feeds are text.
    assert_eq!(plain("a\n<i>b\nc</i>"), "a\nb\nc");
}

#[test]
fn ruby_and_timestamps() {
    let nodes = markup::parse("<ruby>\u{6f22}<rt>kan</rt>\u{5b57}<rt>ji</ruby> after <rt>no</rt>");
    let Node::Element(ruby) = &nodes[0] else {
        panic!("{nodes:?}")
    };
    assert_eq!(ruby.kind, ElementKind::Ruby);
    let kinds: Vec<Option<ElementKind>> = ruby
        .children
        .iter()
        .map(|n| match n {
            Node::Element(e) => Some(e.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            None,
            Some(ElementKind::RubyText),
            None,
            Some(ElementKind::RubyText)
        ]
    );
    // `</ruby>` inside `<rt>` closes both; `<rt>` outside ruby is ignored.
    assert_eq!(nodes[1], Node::Text(" after ".into()));
    assert_eq!(nodes[2], Node::Text("no".into()));
    assert_eq!(plain("<ruby>\u{6f22}<rt>kan</rt></ruby>"), "\u{6f22}");
    let spans = markup::spans(&nodes);
    assert!(spans[0].ruby && !spans[0].ruby_text);
    assert!(spans[1].ruby_text && !spans[1].ruby);

    let nodes =
        markup::parse("Never <00:00:01.000>drink <00:01.500>liquid <00:02.000x>nitrogen<1:2>");
    assert_eq!(nodes[1], Node::Timestamp(S));
    assert_eq!(nodes[3], Node::Timestamp(ms(1500)));
    assert_eq!(nodes.len(), 6, "invalid timestamps are ignored: {nodes:?}");
    let spans = markup::spans(&nodes);
    let times: Vec<Option<i64>> = spans.iter().map(|s| s.timestamp_us).collect();
    assert_eq!(times, [None, Some(S), Some(ms(1500)), Some(ms(1500))]);
}

#[test]
fn nesting_is_bounded() {
    let deep = "<b>".repeat(10_000) + "x";
    let nodes = markup::parse(&deep);
    fn depth(n: &[Node]) -> usize {
        n.iter()
            .map(|n| match n {
                Node::Element(e) => 1 + depth(&e.children),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
    assert_eq!(depth(&nodes), markup::MAX_DEPTH);
    assert_eq!(markup::plain_text(&nodes), "x");
}

// ---------------------------------------------------------------------------------------
// Layout (§7.2 "apply WebVTT cue settings"), line height 5% so 20 lines fill the height.

fn cue(settings: &str, text: &str) -> Cue {
    let f = parse(&format!(
        "WEBVTT\n\n00:00.000 --> 00:10.000 {settings}\n{text}\n"
    ));
    f.cues.into_iter().next().unwrap()
}

fn vp() -> Viewport {
    Viewport {
        line_height: 5.0,
        ..Viewport::new(1920.0, 1080.0)
    }
}

// Local: laid-out cue boxes (manifests.rs's `boxes` walks MP4 boxes).
fn boxes(cues: &[Cue]) -> Vec<CueBox> {
    layout(&cues.iter().collect::<Vec<_>>(), &vp())
}

fn rect(b: &CueBox) -> (f64, f64, f64, f64) {
    let r = |v: f64| (v * 1e6).round() / 1e6;
    (r(b.x), r(b.y), r(b.width), r(b.height))
}

#[test]
fn layout_default_cues() {
    let b = &boxes(&[cue("", "one line")])[0];
    assert_eq!(rect(b), (0.0, 95.0, 100.0, 5.0));
    assert_eq!(
        (b.line, b.lines, b.align, b.rtl),
        (Some(-1), 1, TextAlign::Center, false)
    );
    let b = &boxes(&[cue("", "two\nlines")])[0];
    assert_eq!(rect(b), (0.0, 90.0, 100.0, 10.0));
    assert_eq!(b.line, Some(-2));
    assert!(boxes(&[cue("", "")]).is_empty(), "no line boxes, no box");
    assert!(boxes(&[cue("", "<b></b>")]).is_empty());
}

#[test]
fn layout_lines() {
    let y = |s: &str, t: &str| rect(&boxes(&[cue(s, t)])[0]).1;
    assert_eq!(y("line:0", "x"), 0.0);
    assert_eq!(y("line:3", "x"), 15.0);
    assert_eq!(y("line:-1", "x"), 95.0);
    assert_eq!(y("line:-2", "x"), 90.0);
    assert_eq!(y("line:-2", "a\nb"), 90.0);
    assert_eq!(y("line:-3", "a\nb"), 85.0);
    assert_eq!(y("line:2.5", "x"), 15.0, "rounded half up");
    // Past the last line: the cue comes back to the last line that fits.
    assert_eq!(y("line:40", "x"), 95.0);
    assert_eq!(y("line:-40", "x"), 0.0);
    assert_eq!(y("line:19", "a\nb"), 90.0);
    // Percentages, with line alignment.
    assert_eq!(y("line:50%", "x"), 50.0);
    assert_eq!(y("line:50%,center", "x"), 47.5);
    assert_eq!(y("line:50%,end", "a\nb"), 40.0);
    assert_eq!(y("line:100%", "x"), 95.0, "moved back inside the viewport");
    assert_eq!(boxes(&[cue("line:0", "x")])[0].line, Some(0));
    assert_eq!(boxes(&[cue("line:50%", "x")])[0].line, None);
}

#[test]
fn layout_position_size_align() {
    let r = |s: &str, t: &str| {
        let b = boxes(&[cue(s, t)]);
        let (x, _, w, _) = rect(&b[0]);
        (x, w)
    };
    assert_eq!(
        r("position:10%", "x"),
        (0.0, 20.0),
        "centred at 10%: at most 20% wide"
    );
    assert_eq!(r("position:10%,line-left", "x"), (10.0, 90.0));
    assert_eq!(r("position:10%,line-right", "x"), (0.0, 10.0));
    assert_eq!(r("position:70% size:40%", "x"), (50.0, 40.0));
    assert_eq!(r("size:50%", "x"), (25.0, 50.0));
    // start/end keep the automatic position at 50% (the spec's note), left/right move it.
    assert_eq!(r("align:start", "x"), (50.0, 50.0));
    assert_eq!(r("align:end", "x"), (0.0, 50.0));
    assert_eq!(r("align:left", "x"), (0.0, 100.0));
    assert_eq!(r("align:right", "x"), (0.0, 100.0));
    assert_eq!(r("align:left size:30%", "x"), (0.0, 30.0));
    assert_eq!(r("align:right size:30%", "x"), (70.0, 30.0));
    assert_eq!(r("align:start size:30%", "x"), (50.0, 30.0));
    assert_eq!(r("align:end size:30%", "x"), (20.0, 30.0));
    // Right-to-left text flips start and end.
    assert_eq!(
        r("align:start size:30%", "\u{5e9}\u{5dc}\u{5d5}\u{5dd}"),
        (20.0, 30.0)
    );
    assert_eq!(
        r(
            "align:end size:30%",
            "<i>\u{645}\u{631}\u{62d}\u{628}\u{627}</i>"
        ),
        (50.0, 30.0)
    );
    let b = &boxes(&[cue("align:start", "\u{5e9}\u{5dc}\u{5d5}\u{5dd}")])[0];
    assert!(b.rtl);
    assert_eq!(b.align, TextAlign::Start);
}

#[test]
fn layout_stacks_simultaneous_cues_bottom_up() {
    let three = [cue("", "first"), cue("", "second"), cue("", "third")];
    let ys: Vec<f64> = boxes(&three).iter().map(|b| rect(b).1).collect();
    assert_eq!(ys, [95.0, 90.0, 85.0]);
    let lines: Vec<Option<i64>> = boxes(&three).iter().map(|b| b.line).collect();
    assert_eq!(lines, [Some(-1), Some(-2), Some(-3)]);
    let mixed = [
        cue("", "two\nlines"),
        cue("", "one"),
        cue("", "three\nlines\nhere"),
    ];
    let got: Vec<(f64, f64)> = boxes(&mixed)
        .iter()
        .map(|b| (rect(b).1, rect(b).3))
        .collect();
    assert_eq!(got, [(90.0, 10.0), (85.0, 5.0), (70.0, 15.0)]);
    // From the top, cues stack downwards.
    let top = [
        cue("line:0", "a"),
        cue("line:0", "b\nc"),
        cue("line:0", "d"),
    ];
    let ys: Vec<f64> = boxes(&top).iter().map(|b| rect(b).1).collect();
    assert_eq!(ys, [0.0, 5.0, 15.0]);
    // Side by side boxes do not collide.
    let sides = [
        cue("position:25% size:50%", "left"),
        cue("position:75% size:50%", "right"),
    ];
    let ys: Vec<f64> = boxes(&sides).iter().map(|b| rect(b).1).collect();
    assert_eq!(ys, [95.0, 95.0]);
    // 25 one-line cues: 20 fit, the rest are not shown.
    let many: Vec<Cue> = (0..25).map(|i| cue("", &format!("cue {i}"))).collect();
    let b = boxes(&many);
    assert_eq!(b.len(), 20);
    assert_eq!(rect(b.last().unwrap()).1, 0.0);
    // Boxes already shown stay where they are and are avoided.
    let kept = boxes(&[cue("", "kept")]);
    let new = [cue("", "new")];
    let b = layout_with(&new.iter().collect::<Vec<_>>(), &kept, &vp(), |_, _| 1);
    assert_eq!((b[0].cue, rect(&b[0]).1), (0, 90.0));
    // Percentage cues that collide move to the nearest free place, the higher on a tie.
    let pct = [cue("line:90%", "a"), cue("line:90%", "b")];
    let ys: Vec<f64> = boxes(&pct).iter().map(|b| rect(b).1).collect();
    assert_eq!(ys, [90.0, 85.0]);
}

#[test]
fn layout_vertical_simplified() {
    // Square viewport: a column is as wide (5%) as a line is high.
    let sq = Viewport {
        line_height: 5.0,
        ..Viewport::new(1000.0, 1000.0)
    };
    let b = |s: &str| rect(&layout(&[&cue(s, "x")], &sq)[0]);
    assert_eq!(b("vertical:lr"), (95.0, 0.0, 5.0, 100.0));
    assert_eq!(b("vertical:rl"), (0.0, 0.0, 5.0, 100.0));
    assert_eq!(b("vertical:rl line:0"), (95.0, 0.0, 5.0, 100.0));
    assert_eq!(b("vertical:lr line:0"), (0.0, 0.0, 5.0, 100.0));
    assert_eq!(b("vertical:lr line:2 size:50%"), (10.0, 25.0, 5.0, 50.0));
    // 16:9: a 5%-of-height column is 2.8125% of the width.
    let b = rect(&layout(&[&cue("vertical:lr line:0", "x")], &vp())[0]);
    assert_eq!(b.2, 2.8125);
}

// ---------------------------------------------------------------------------------------
// ISO BMFF `wvtt` samples, built by hand.

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

#[test]
fn wvtt_samples() {
    let config = webvtt::parse(b"WEBVTT\n\nREGION\nid:r1\nwidth:50%\n").unwrap();
    let mut sample = bx(
        b"vttc",
        &[
            bx(b"iden", b"c1"),
            bx(b"sttg", b"line:0 align:start region:r1"),
            bx(b"payl", b"Hello <b>x</b>\r\nline 2"),
        ]
        .concat(),
    );
    sample.extend(bx(b"vtta", b"a comment"));
    sample.extend(bx(
        b"vttc",
        &[
            bx(b"vsid", &[0, 0, 0, 7]),
            bx(b"ctim", b"00:00:01.000"),
            bx(b"payl", b"Second"),
        ]
        .concat(),
    ));
    sample.extend(bx(b"free", &[0; 5]));
    let cues = wvtt::parse_sample(&sample, 10 * S, 2 * S, &config.regions).unwrap();
    assert_eq!(cues.len(), 2);
    assert_eq!(cues[0].id, "c1");
    assert_eq!((cues[0].start_us, cues[0].end_us), (10 * S, 12 * S));
    assert_eq!(cues[0].settings.line, Some(0.0));
    assert_eq!(cues[0].settings.align, TextAlign::Start);
    assert_eq!(
        cues[0].region.as_ref().map(|r| r.id.as_str()),
        Some("r1"),
        "region: after line: is kept"
    );
    assert_eq!(cues[0].text, "Hello <b>x</b>\nline 2");
    assert_eq!(cues[1].text, "Second");
    assert_eq!(cues[1].settings, CueSettings::default());
    let with_region = bx(
        b"vttc",
        &[bx(b"sttg", b"region:r1"), bx(b"payl", b"r")].concat(),
    );
    let c = wvtt::parse_sample(&with_region, 0, S, &config.regions).unwrap();
    assert_eq!(c[0].region.as_ref().map(|r| r.width), Some(50.0));
    let dropped = bx(
        b"vttc",
        &[bx(b"sttg", b"region:r1 size:50%"), bx(b"payl", b"r")].concat(),
    );
    assert_eq!(
        wvtt::parse_sample(&dropped, 0, S, &config.regions).unwrap()[0].region,
        None
    );
    // An empty cue box: no cue for the interval.
    assert!(wvtt::parse_sample(&bx(b"vtte", &[]), 0, S, &[])
        .unwrap()
        .is_empty());
    // size 0 = to the end of the sample; size 1 = 64-bit size.
    let mut to_end = 0u32.to_be_bytes().to_vec();
    to_end.extend_from_slice(b"vttc");
    to_end.extend(bx(b"payl", b"to end"));
    assert_eq!(
        wvtt::parse_sample(&to_end, 0, S, &[]).unwrap()[0].text,
        "to end"
    );
    let payl = bx(b"payl", b"large");
    let mut large = 1u32.to_be_bytes().to_vec();
    large.extend_from_slice(b"vttc");
    large.extend(((payl.len() + 16) as u64).to_be_bytes());
    large.extend(&payl);
    assert_eq!(
        wvtt::parse_sample(&large, 0, S, &[]).unwrap()[0].text,
        "large"
    );
    // Broken sizes are decode errors.
    let good = bx(b"vttc", &bx(b"payl", b"abc"));
    for bad in [
        &good[..good.len() - 1],
        &good[..5],
        &[0, 0, 0, 4, b'v', b't', b't', b'c'][..],
        &[0, 0, 0, 1, b'v', b't', b't', b'c', 0][..],
    ] {
        assert_eq!(
            wvtt::parse_sample(bad, 0, S, &[]).unwrap_err().kind,
            ErrorKind::Decode
        );
    }
    let mut inner_bad = good.clone();
    inner_bad[11] = 200; // payl claims more than its parent holds
    assert_eq!(
        wvtt::parse_sample(&inner_bad, 0, S, &[]).unwrap_err().kind,
        ErrorKind::Decode
    );
    assert_eq!(
        wvtt::parse_sample(&vec![0; wvtt::MAX_SAMPLE_BYTES + 1], 0, S, &[])
            .unwrap_err()
            .kind,
        ErrorKind::Limit
    );
    // Cues from consecutive samples repeating one cue deduplicate in the store.
    let mut store = CueStore::default();
    let a = wvtt::parse_sample(&good, 0, S, &[]).unwrap();
    let b = wvtt::parse_sample(&good, S, S, &[]).unwrap();
    store.extend(a.clone().into_iter().chain(a).chain(b));
    assert_eq!(store.len(), 2);
}

// ---------------------------------------------------------------------------------------
// The cue store.

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn timed(start: i64, end: i64, text: &str) -> Cue {
    Cue {
        id: String::new(),
        start_us: start,
        end_us: end,
        settings: CueSettings::default(),
        region: None,
        text: text.into(),
    }
}

fn active_ids(store: &CueStore<Cue>, t: i64) -> Vec<kinema_core::text::CueId> {
    store.active_at(t).iter().map(|(id, _)| *id).collect()
}

#[test]
fn store_dedup_active_changes_eviction() {
    let mut store = CueStore::default();
    let a = store.insert(timed(0, 2 * S, "a"));
    let Insert::Added(a) = a else { panic!() };
    assert_eq!(store.insert(timed(0, 2 * S, "a")), Insert::Duplicate(a));
    let Insert::Added(b) = store.insert(timed(0, 2 * S, "b")) else {
        panic!()
    };
    let Insert::Added(c) = store.insert(timed(S, 5 * S, "c")) else {
        panic!()
    };
    let Insert::Added(d) = store.insert(timed(ms(2200), ms(2300), "short")) else {
        panic!()
    };
    let Insert::Added(e) = store.insert(timed(0, 10 * S, "long")) else {
        panic!()
    };
    assert_eq!(store.len(), 5);
    // Cue order: start, then end descending.
    let order: Vec<&str> = store.iter().map(|(_, c)| c.text()).collect();
    assert_eq!(order, ["long", "a", "b", "c", "short"]);

    assert_eq!(active_ids(&store, -1), []);
    assert_eq!(active_ids(&store, 0), [e, a, b]);
    assert_eq!(active_ids(&store, ms(1500)), [e, a, b, c]);
    assert_eq!(active_ids(&store, 2 * S), [e, c], "end is exclusive");
    assert_eq!(active_ids(&store, 10 * S), []);
    let ch = store.changes(ms(1500), 3 * S);
    assert_eq!(ch.entered, []);
    assert_eq!(ch.exited, [a, b]);
    assert_eq!(ch.missed, [d]);
    let back = store.changes(3 * S, ms(1500));
    assert_eq!(
        (back.entered, back.exited, back.missed),
        (vec![a, b], vec![], vec![])
    );
    assert!(store.changes(ms(2400), ms(2900)).is_empty());
    assert_eq!(store.evict_before(2 * S), 2);
    assert_eq!(store.len(), 3);
    assert!(store.get(a).is_none() && store.get(c).is_some());
    assert_eq!(active_ids(&store, ms(2250)), [e, c, d]);
    assert_eq!(store.remove(e).map(|c| c.text), Some("long".into()));
    assert_eq!(
        store.bytes(),
        store.iter().map(|(_, c)| c.byte_size()).sum::<usize>()
    );
}

#[test]
fn store_matches_brute_force_and_keeps_its_budget() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut store = CueStore::default();
    let mut all = Vec::new();
    for i in 0..3000 {
        let start = (rng.next() % 3_600_000) as i64 * 1000;
        let len = if i % 100 == 0 {
            600 * S
        } else {
            (rng.next() % 8000) as i64 * 1000
        };
        let c = timed(start, start + len, &format!("c{i}"));
        all.push(c.clone());
        store.insert(c);
    }
    for _ in 0..2000 {
        let t = (rng.next() % 3_700_000) as i64 * 1000;
        let got: Vec<&str> = store.active_at(t).iter().map(|(_, c)| c.text()).collect();
        let mut want: Vec<&Cue> = all
            .iter()
            .filter(|c| c.start_us <= t && t < c.end_us)
            .collect();
        want.sort_by_key(|c| (c.start_us, std::cmp::Reverse(c.end_us)));
        let want: Vec<&str> = want.iter().map(|c| c.text()).collect();
        assert_eq!(got, want, "at {t}");
    }
    let budget = StoreBudget {
        max_cues: 100,
        max_bytes: usize::MAX,
    };
    store.set_budget(budget);
    assert_eq!(store.len(), 100);
    let min_end = store.iter().map(|(_, c)| c.end_us).min().unwrap();
    let evicted_max = all
        .iter()
        .map(|c| c.end_us)
        .filter(|&e| e < min_end)
        .count();
    assert_eq!(evicted_max, 2900, "the cues that end first were evicted");
    assert_eq!(store.insert(timed(0, 1, "ends first")), Insert::OverBudget);
    let mut small = CueStore::new(StoreBudget {
        max_cues: usize::MAX,
        max_bytes: 2000,
    });
    for i in 0..100 {
        small.insert(timed(i * S, (i + 1) * S, &"x".repeat(100)));
        assert!(small.bytes() <= 2000);
    }
    assert!(small.len() < 20 && small.active_at(ms(99_500)).len() == 1);
}

// ---------------------------------------------------------------------------------------
// ffmpeg-made files (scripts/fixtures-vtt.sh).

#[test]
fn ffmpeg_srt_conversion_matches_ffprobe() {
    let bytes = fixture("srt.vtt");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains("\n01:01:15.000 --> "),
        "cues past one hour use hh:mm:ss.ttt"
    );
    assert!(
        text.contains("\n00:02.600 --> "),
        "cues before use mm:ss.ttt"
    );
    let f = webvtt::parse(&bytes).unwrap();
    assert_eq!(f.stats, Default::default());
    let packets = String::from_utf8(fixture("srt.packets.csv")).unwrap();
    let want: Vec<(i64, i64)> = packets
        .lines()
        .map(|l| {
            let (pts, dur) = l.split_once(',').unwrap();
            let pts: i64 = pts.trim().parse().unwrap();
            (ms(pts), ms(pts + dur.trim().parse::<i64>().unwrap()))
        })
        .collect();
    let got: Vec<(i64, i64)> = f.cues.iter().map(|c| (c.start_us, c.end_us)).collect();
    assert_eq!(got.len(), 40);
    assert_eq!(got, want);
    // Text as the SRT wrote it, with the <font> tags ffmpeg removes.
    let srt = String::from_utf8(fixture("srt.srt")).unwrap();
    let srt_texts: Vec<String> = srt
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            b.splitn(3, '\n')
                .nth(2)
                .unwrap()
                .replace("<font color=\"#ffff00\">", "")
                .replace("</font>", "")
        })
        .collect();
    let texts: Vec<&str> = f.cues.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, srt_texts);
    assert_eq!(f.cues[4].plain_text(), "Fish & chips 4");
    let spans = f.cues[2].spans();
    assert!(spans[0].bold && spans[2].underline);
    assert!(f.cues[1].spans()[0].italic);
    // Cues 2 and 3 overlap (7.5 s – 8.4 s): a one-line cue at the bottom, the two-line one above.
    let mut store = CueStore::default();
    assert_eq!(store.extend(f.cues.iter().cloned()), 40);
    let active: Vec<&Cue> = store
        .active_at(ms(7_600))
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(active.len(), 2);
    let b = layout(&active, &vp());
    assert_eq!(
        b.iter().map(rect).collect::<Vec<_>>(),
        [(0.0, 95.0, 100.0, 5.0), (0.0, 85.0, 100.0, 10.0)]
    );
    assert_eq!(b[1].line, Some(-3));
}

#[test]
fn ffmpeg_hls_segments_and_timestamp_map() {
    let m3u8 = String::from_utf8(fixture("hls/index_vtt.m3u8")).unwrap();
    let segments: Vec<&str> = m3u8.lines().filter(|l| l.ends_with(".vtt")).collect();
    assert_eq!(segments, ["index0.vtt", "index1.vtt", "index2.vtt"]);
    let first_pts: i64 = String::from_utf8(fixture("hls/first-pts.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(first_pts, 126_000, "ffmpeg's MPEG-TS muxer starts at 1.4 s");
    let mut store = CueStore::default();
    let mut parsed = Vec::new();
    for name in &segments {
        let f = webvtt::parse(&fixture(&format!("hls/{name}"))).unwrap();
        // ffmpeg 5.1 writes no X-TIMESTAMP-MAP: by RFC 8216 the cue times then map to MPEG-2
        // timestamp 0, which misplaces them by the TS start (1.4 s) relative to the video.
        assert_eq!(f.timestamp_map, None);
        parsed.push(f);
    }
    for f in parsed.iter().chain(&parsed[..1]) {
        store.extend(f.cues.iter().cloned());
    }
    let got: Vec<(i64, i64, &str)> = store
        .iter()
        .map(|(_, c)| (c.start_us, c.end_us, c.text()))
        .collect();
    assert_eq!(
        got,
        [
            (ms(500), ms(2500), "First"),
            (3 * S, 5 * S, "Across the 4 s boundary"),
            (ms(6500), 8 * S, "Third"),
            (ms(8500), ms(11_500), "Last <i>one</i>")
        ],
        "segment 0 loaded twice is deduplicated"
    );
    // What a conforming segmenter writes for this stream (cue time 0 = the first video PTS):
    // the map brings the cue onto the video's 90 kHz timeline, the caller's origin (the first
    // PTS) back to media time.
    let seg = String::from_utf8(fixture("hls/index0.vtt"))
        .unwrap()
        .replacen(
            "WEBVTT\n",
            &format!("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{first_pts},LOCAL:00:00:00.000\n"),
            1,
        );
    let mut f = parse(&seg);
    let map = f.timestamp_map.unwrap();
    assert_eq!(
        map,
        TimestampMap {
            mpegts: 126_000,
            local_us: 0
        }
    );
    assert_eq!(f.cues.len(), 2);
    let origin_us = webvtt::ticks_to_us(first_pts);
    f.shift(map.offset_us(Some(first_pts)) - origin_us);
    assert_eq!((f.cues[0].start_us, f.cues[0].end_us), (ms(500), ms(2500)));
}

#[test]
fn timestamp_map_forms_and_wrap() {
    let map =
        |h: &str| parse(&format!("WEBVTT\n{h}\n\n00:01.000 --> 00:02.000\nx\n")).timestamp_map;
    assert_eq!(
        map("X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000"),
        Some(TimestampMap {
            mpegts: 900_000,
            local_us: 0
        })
    );
    assert_eq!(
        map("X-TIMESTAMP-MAP=LOCAL:00:00:10.000,MPEGTS:180000"),
        Some(TimestampMap {
            mpegts: 180_000,
            local_us: 10 * S
        })
    );
    assert_eq!(
        map("X-TIMESTAMP-MAP=MPEGTS:90000"),
        Some(TimestampMap {
            mpegts: 90_000,
            local_us: 0
        })
    );
    assert_eq!(map("X-TIMESTAMP-MAP=MPEGTS:x,LOCAL:00:00.000"), None);
    assert_eq!(map("X-TIMESTAMP-MAP=LOCAL:bad"), None);
    assert_eq!(map("Kind: captions"), None);
    let m = TimestampMap {
        mpegts: 900_000,
        local_us: 0,
    };
    assert_eq!(m.offset_us(None), 10 * S);
    let m = TimestampMap {
        mpegts: 180_000,
        local_us: 10 * S,
    };
    assert_eq!(m.offset_us(None), -8 * S);
    // 33-bit wrap: a segment just after the wrap, its video already unwrapped past 2^33.
    let after_wrap = TimestampMap {
        mpegts: 45_000,
        local_us: 0,
    };
    assert_eq!(
        after_wrap.offset_us(Some(MPEGTS_WRAP + 9_000)),
        webvtt::ticks_to_us(MPEGTS_WRAP + 45_000)
    );
    let before_wrap = TimestampMap {
        mpegts: (MPEGTS_WRAP - 90_000) as u64,
        local_us: 0,
    };
    assert_eq!(
        before_wrap.offset_us(Some(MPEGTS_WRAP + 9_000)),
        webvtt::ticks_to_us(MPEGTS_WRAP - 90_000)
    );
    assert_eq!(unwrap_mpegts(10, 3 * MPEGTS_WRAP), 3 * MPEGTS_WRAP + 10);
    assert_eq!(
        unwrap_mpegts(u64::MAX, 0),
        (u64::MAX % MPEGTS_WRAP as u64) as i64 - MPEGTS_WRAP
    );
    assert_eq!(webvtt::ticks_to_us(90_000), S);
    assert_eq!(webvtt::ticks_to_us(1), 11);
}

// ---------------------------------------------------------------------------------------
// Malformed corpus: truncations, bit flips, garbage. Never a panic; always bounded.

/// A file whose STYLE blocks use every selector and property form the style module reads.
const STYLED: &str = "WEBVTT

STYLE
::cue { color: rgba(255, 255, 255, 0.9); background: none }
::cue(.hot), ::cue(c.a.b) { color: #ff0000; background-color: #0008 !important }
::cue(v[voice=\"Esme\"]) { color: papayawhip; font-style: italic }
::cue(#\\31 23), ::cue(#intro) { font-weight: 700; text-decoration: underline }
::cue(lang[lang='en']) { opacity: 50% } /* comment */
@media screen { ::cue { color: blue } }

STYLE
::cue(b) { font-weight: normal; color: rgb(0 255 0 / 50%) } ::cue(u) { text-decoration: none }

intro
00:00.000 --> 00:02.000
<c.hot>hot</c> <c.a.b>ab</c> <v Esme>Esme</v> <lang en>en</lang> <b>b</b> <u>u</u> <c.yellow.bg_blue>y</c>

123
00:01.000 --> 00:03.000 vertical:rl
<b>vertical</b>
";

fn exercise(bytes: &[u8]) -> usize {
    let Ok(f) = webvtt::parse(bytes) else {
        return 0;
    };
    let sheet = f.style_sheet();
    let mut store = CueStore::new(StoreBudget {
        max_cues: 500,
        max_bytes: 1 << 20,
    });
    store.extend(f.cues.iter().cloned());
    for t in [0, S, 30 * S, 3600 * S, i64::MAX, i64::MIN] {
        let active: Vec<&Cue> = store.active_at(t).into_iter().map(|(_, c)| c).collect();
        for c in &active {
            let _ = c.spans();
            let _ = c.styled_spans(&sheet);
        }
        let _ = layout(&active, &vp());
        let _ = store.changes(t, t.saturating_add(S));
    }
    let all: Vec<&Cue> = f.cues.iter().take(40).collect();
    let _ = layout(
        &all,
        &Viewport {
            line_height: f64::NAN,
            width: 0.0,
            height: -1.0,
        },
    );
    f.cues.len()
}

#[test]
fn malformed_corpus_never_panics() {
    let mut seeds: Vec<Vec<u8>> = [INTERVIEW, POSITIONS, REGIONS]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    seeds.push(fixture("srt.vtt"));
    seeds.push(
        "WEBVTT\n\n00:00.000 --> 00:05.000 vertical:rl line:-3,end position:5%,line-right size:20% align:end\n<ruby>\u{6f22}<rt>kan</ruby><c.a.b><v X>&#x41;&amp<00:01.000>y\n\n00:01.000 --> 00:02.000 line:99999999999999999999 position:100%\nz\n"
            .as_bytes()
            .to_vec(),
    );
    // STYLE blocks: every selector and property form, then the mutations below break them.
    seeds.push(STYLED.as_bytes().to_vec());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0;
    let mut cues = 0;
    for seed in &seeds {
        for i in 1..20 {
            cues += exercise(&seed[..seed.len() * i / 20]);
            runs += 1;
        }
        for _ in 0..30 {
            let mut v = seed.clone();
            for _ in 0..(1 + rng.next() % 8) {
                let at = (rng.next() as usize) % v.len();
                v[at] ^= 1 << (rng.next() % 8);
            }
            cues += exercise(&v);
            runs += 1;
        }
        for _ in 0..10 {
            let mut v = seed[..seed.len().min(300)].to_vec();
            v.extend((0..2000).map(|_| match rng.next() % 6 {
                0 => b'\n',
                1 => b'<',
                2 => b'&',
                3 => b':',
                _ => rng.next() as u8,
            }));
            cues += exercise(&v);
            runs += 1;
        }
    }
    // Pathological shapes.
    let mut odd: Vec<String> = vec![
        format!(
            "WEBVTT\n\n00:00.000 --> 00:01.000\n{}",
            "<b>".repeat(50_000)
        ),
        format!(
            "WEBVTT\n\n00:00.000 --> 00:01.000\n{}",
            "&#x".repeat(20_000)
        ),
        format!("WEBVTT\n\n{}", "00:00.000 --> 00:01.000\n".repeat(5_000)),
        format!("WEBVTT\n\n{}", "\n".repeat(100_000)),
        format!(
            "WEBVTT\n\n00:00.000 --> 00:01.000 {}\nx",
            "line:1 ".repeat(10_000)
        ),
        format!("WEBVTT\n\nREGION\n{}", "id:x ".repeat(10_000)),
        format!(
            "WEBVTT\n\nSTYLE\n{}\n\n00:00.000 --> 00:01.000\n<c.a>x</c>",
            "::cue(.a){color:red}".repeat(3_000)
        ),
        format!(
            "WEBVTT\n\nSTYLE\n{}\n\n00:00.000 --> 00:01.000\n<c.a>x</c>",
            "{(\"[/*".repeat(5_000)
        ),
        format!(
            "WEBVTT\n\nSTYLE\n::cue(.a{}){{color:red}}\n\n00:00.000 --> 00:01.000\n<c.a>x</c>",
            ".b".repeat(10_000)
        ),
        format!(
            "WEBVTT\n\n{}",
            "REGION\nid:r lines:4294967296\n\n".repeat(200)
        ),
        format!(
            "WEBVTT\n\n00:00.000 --> 00:01.000\n{}",
            "a\n".repeat(10_000)
        ),
    ];
    odd.push(
        String::from_utf8_lossy(&(0..4000).map(|_| rng.next() as u8).collect::<Vec<_>>())
            .into_owned(),
    );
    for s in &odd {
        exercise(s.as_bytes());
        runs += 1;
    }
    // wvtt samples: the same mutations on a valid sample.
    let sample = bx(
        b"vttc",
        &[
            bx(b"iden", b"i"),
            bx(b"sttg", b"line:0"),
            bx(b"payl", b"<b>x</b>"),
        ]
        .concat(),
    );
    for i in 0..sample.len() {
        let _ = wvtt::parse_sample(&sample[..i], 0, S, &[]);
        let mut v = sample.clone();
        v[i] ^= 1 << (rng.next() % 8);
        if let Ok(c) = wvtt::parse_sample(&v, i64::MAX - 1, i64::MAX, &[]) {
            let _ = layout(&c.iter().collect::<Vec<_>>(), &vp());
        }
        runs += 1;
    }
    assert!(runs >= 300, "{runs} inputs");
    assert!(cues > 500, "most variants still hold cues: {cues}");
}

#[test]
fn line_minus_zero_is_plus_zero() {
    // The spec reads `line:-0` as the number 0; only a nonzero line counts from the end, so the
    // sign must not survive into the model (a host copying it into a VTTCue would see -0).
    for s in ["line:-0", "line:-0.0", "line:-0,end"] {
        let l = settings(s).line.unwrap();
        assert!(l == 0.0 && l.is_sign_positive(), "{s}: {l:?}");
    }
    assert_eq!(settings("line:-1").line, Some(-1.0));
    assert_eq!(settings("line:-0.5").line, Some(-0.5));
}

#[test]
fn region_lines_too_large_for_u32() {
    // W3C: "If value contains any characters other than ASCII digits, then jump to the step
    // labeled next setting. Interpret value as an integer, and let number be that number. Let
    // region's WebVTT region lines be number." No upper bound: a number past u32 is still a
    // (huge) line count, so it saturates; it neither wraps (2^32 → 0) nor is dropped (→ 3).
    for (v, want) in [
        ("4294967295", u32::MAX),
        ("4294967296", u32::MAX),
        ("99999999999999999999999999999999", u32::MAX),
        ("0000000000000000000000000000000004", 4),
        ("0", 0),
    ] {
        assert_eq!(Region::parse(&format!("lines:{v}")).lines, want, "{v}");
    }
}
