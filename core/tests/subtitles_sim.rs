//! Subtitles against the simulated host on the real fixtures of `scripts/streams.sh`: HLS
//! `SUBTITLES` renditions (2 s WebVTT segments with `X-TIMESTAMP-MAP`, fMP4 and MPEG-TS
//! timelines), DASH side-car `text/vtt`, a side-loaded file over a plain MP4; track switches,
//! failures. The fixture's cue n runs from 2n−1 s to 2n+1 s (n = 1..15) and reads
//! "Cue n …" ("Untertitel n …" in German), so the cue on screen is known at every instant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::time::Duration;

use kinema_core::sim::SimHost;
use kinema_core::subtitles::TextTrackKind;
use kinema_core::text::webvtt::Vertical;
use kinema_core::{AppRequest, ErrorKind, PlaybackState, PlayerConfig, PlayerEvent, SeekMode};

use kinema_testkit::{expected_cue, fixture, gen_dir, serve_under, shown, wait, BASE};

// Local: URLs keep the folder's path under gen/ (stream_sim.rs's `serve` is relative to streams/).
fn serve(h: &mut SimHost, dir: &str) {
    serve_under(h, &gen_dir(), dir, |_| false);
}

// Local: serves all of streams/ (stream_sim.rs's `host` serves one package).
fn host() -> SimHost {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    serve(&mut h, "streams");
    h
}

/// Plays until `until` seconds of media, checking every 10 ms step that the cue on screen is
/// the fixture's cue for the clock (allowing one 50 ms refill period around boundaries).
/// Returns how many steps were checked.
fn follows_the_clock(h: &mut SimHost, word: &str, until: f64) -> usize {
    let mut checked = 0;
    let mut seen = std::collections::BTreeSet::new();
    let first = expected_cue(h.player.current_time() + 0.1).max(1);
    while h.player.current_time() < until {
        h.step();
        assert_eq!(h.last_error(), None);
        if h.player.state() != PlaybackState::Playing {
            continue;
        }
        let t = h.player.current_time();
        let near = |b: f64| (t - b).abs() < 0.07;
        if (1..=31).step_by(2).any(|b| near(b as f64)) {
            continue;
        }
        let want = expected_cue(t);
        let got = shown(h, word);
        if want == 0 {
            assert!(got.is_empty(), "at {t:.3}s: {got:?} shown, none expected");
        } else {
            assert_eq!(got, vec![want], "at {t:.3}s");
            seen.insert(want);
        }
        checked += 1;
        assert!(h.now < Duration::from_secs(120), "playback too slow");
    }
    let last = expected_cue(until - 0.1);
    assert_eq!(
        seen.iter().copied().collect::<Vec<_>>(),
        (first..=last).collect::<Vec<_>>(),
        "every cue shown in turn"
    );
    checked
}

// Local: waits for metadata only (video_sim.rs's `load` waits for the paused state).
fn load(h: &mut SimHost, url: &str) {
    h.app(AppRequest::Load {
        url: format!("{BASE}{url}"),
    });
    wait(h, 20, "metadata", |h| h.player.media_info().is_some());
}

#[test]
fn hls_fmp4_default_subtitles_follow_the_clock() {
    let mut h = host();
    load(&mut h, "streams/hls-fmp4/master.m3u8");
    let tracks = h.player.text_tracks();
    assert_eq!(
        tracks
            .iter()
            .map(|t| (t.language.as_deref(), t.default))
            .collect::<Vec<_>>(),
        vec![(Some("en"), true), (Some("de"), false)]
    );
    // DEFAULT=YES is shown without being asked for, as the playlist says.
    assert_eq!(h.player.text_track(), Some(0));
    assert!(h.saw(|e| matches!(e, PlayerEvent::TextTrackChanged(Some(0)))));
    h.app(AppRequest::Play);
    let n = follows_the_clock(&mut h, "Cue", 12.0);
    assert!(n > 900, "{n} steps checked");
    // Fetched ahead, not all at once from the start: segments are 2 s.
    let fetched = h
        .fetch_log
        .iter()
        .filter(|(u, _)| u.contains("subs-en/seg"))
        .count();
    assert!(
        (6..=15).contains(&fetched),
        "{fetched} subtitle segments fetched"
    );
    // Layout: one line, centred, at the bottom of the picture.
    let c = &h.player.active_cues()[0];
    assert_eq!(c.lines.len(), 1);
    assert!(c.y + c.height > 90.0 && c.y + c.height <= 100.0, "{c:?}");
    assert!((c.x + c.width / 2.0 - 50.0).abs() < 0.5, "{c:?}");
    assert!((c.font_size - 5.0).abs() < 1e-9);
}

#[test]
fn hls_ts_subtitles_map_through_the_mpegts_timestamps() {
    // TS segments start at PTS 1.4 s; X-TIMESTAMP-MAP names that PTS, so cue times land on
    // presentation time exactly as with fMP4.
    let mut h = host();
    load(&mut h, "streams/hls-ts/master.m3u8");
    assert_eq!(h.player.text_track(), Some(0));
    h.app(AppRequest::Play);
    follows_the_clock(&mut h, "Cue", 8.0);
}

#[test]
fn dash_side_car_vtt_is_listed_off_and_shows_when_selected() {
    let mut h = host();
    load(&mut h, "streams/dash-timeline/manifest.mpd");
    let tracks = h.player.text_tracks();
    assert_eq!(tracks.len(), 2, "{tracks:?}");
    assert_eq!(h.player.text_track(), None, "no Role main: off by default");
    h.app(AppRequest::SelectTextTrack(Some(1)));
    h.app(AppRequest::Play);
    follows_the_clock(&mut h, "Untertitel", 7.0);
    // One file for the whole period, fetched once.
    let fetched = h
        .fetch_log
        .iter()
        .filter(|(u, _)| u.ends_with(".vtt"))
        .count();
    assert_eq!(fetched, 1);
}

#[test]
fn dash_wvtt_in_mp4_segments_follow_the_clock_in_both_languages() {
    // The same cues as WebVTT in fragmented MP4 (`wvtt` samples, 2 s segments, each cue
    // split at the segment boundary it crosses).
    let mut h = host();
    load(&mut h, "streams/dash-number/manifest-wvtt.mpd");
    let tracks = h.player.text_tracks();
    assert_eq!(
        tracks
            .iter()
            .map(|t| t.language.as_deref())
            .collect::<Vec<_>>(),
        vec![Some("en"), Some("de")]
    );
    h.app(AppRequest::SelectTextTrack(Some(0)));
    h.app(AppRequest::Play);
    let n = follows_the_clock(&mut h, "Cue", 8.0);
    assert!(n > 600, "{n} steps checked");
    h.app(AppRequest::SelectTextTrack(Some(1)));
    wait(&mut h, 5, "German cues", |h| {
        h.player.active_cues().first().is_some_and(|c| {
            c.lines[0]
                .first()
                .is_some_and(|r| r.text.starts_with("Untertitel"))
        })
    });
    follows_the_clock(&mut h, "Untertitel", 14.0);
    let count = |part: &str| h.fetch_log.iter().filter(|(u, _)| u.contains(part)).count();
    assert_eq!(count("wvtt-en/init.mp4"), 1, "the init segment once");
    assert_eq!(count("wvtt-de/init.mp4"), 1, "the init segment once");
    assert!(count("wvtt-en/seg-") >= 4, "English segments fetched");
    assert!(count("wvtt-de/seg-") >= 4, "German segments fetched");
    assert_eq!(h.last_error(), None);
}

#[test]
fn switching_language_and_off_mid_playback() {
    let mut h = host();
    load(&mut h, "streams/hls-fmp4/master.m3u8");
    h.app(AppRequest::Play);
    follows_the_clock(&mut h, "Cue", 4.0);
    h.app(AppRequest::SelectTextTrack(Some(1)));
    assert!(h.player.active_cues().is_empty());
    // The German segments around the playhead arrive within a few steps.
    wait(&mut h, 2, "German cue", |h| {
        !h.player.active_cues().is_empty()
    });
    let t = h.player.current_time();
    assert!(t < 4.6, "German subtitles only at {t:.2}s");
    follows_the_clock(&mut h, "Untertitel", 8.0);
    h.app(AppRequest::SelectTextTrack(None));
    assert!(h.player.active_cues().is_empty());
    assert_eq!(h.subtitles.last().map(|(_, c)| c.len()), Some(0));
    h.run_for(Duration::from_secs(1));
    assert!(h.player.active_cues().is_empty());
    assert_eq!(h.player.state(), PlaybackState::Playing);
}

#[test]
fn side_loaded_file_over_plain_mp4_and_seeks() {
    let mut h = host();
    h.add(&format!("{BASE}h264-aac.mp4"), fixture("h264-aac.mp4"));
    load(&mut h, "h264-aac.mp4");
    assert!(h.player.text_tracks().is_empty());
    h.app(AppRequest::AddTextTrack {
        url: format!("{BASE}streams/subs-en.vtt"),
        language: Some("en".into()),
        name: String::new(),
        kind: TextTrackKind::Captions,
    });
    let tracks = h.player.text_tracks();
    assert_eq!(tracks.len(), 1);
    assert!(tracks[0].side_loaded);
    assert_eq!(tracks[0].name, "en");
    assert_eq!(h.player.text_track(), None, "side-loaded tracks start off");
    h.app(AppRequest::SelectTextTrack(Some(0)));
    // Paused exact seeks: the cue of the target instant, either side of a boundary.
    for (t, want) in [(4.9, 2), (5.1, 3), (0.5, 0), (9.5, 5), (2.95, 1), (3.05, 2)] {
        h.app(AppRequest::Seek {
            position: t,
            mode: SeekMode::Exact,
        });
        wait(&mut h, 5, "seeked", |h| {
            h.player.state() == PlaybackState::Paused && !h.player.seeking()
        });
        h.run_for(Duration::from_millis(50));
        let got = shown(&h, "Cue");
        if want == 0 {
            assert!(got.is_empty(), "at {t}: {got:?}");
        } else {
            assert_eq!(got, vec![want], "at {t}");
        }
    }
    h.app(AppRequest::Play);
    follows_the_clock(&mut h, "Cue", 9.5);
    // A new load drops side-loaded tracks and clears the screen.
    load(&mut h, "h264-aac.mp4");
    assert!(h.player.text_tracks().is_empty());
    assert!(h.player.active_cues().is_empty());
}

#[test]
fn broken_text_tracks_report_and_playback_goes_on() {
    let mut h = host();
    h.add(
        &format!("{BASE}garbage.vtt"),
        b"\x00\x01not a webvtt file".to_vec(),
    );
    load(&mut h, "streams/hls-fmp4/master.m3u8");
    h.app(AppRequest::AddTextTrack {
        url: format!("{BASE}missing.vtt"),
        language: None,
        name: "missing".into(),
        kind: TextTrackKind::Subtitles,
    });
    h.app(AppRequest::AddTextTrack {
        url: format!("{BASE}garbage.vtt"),
        language: None,
        name: "garbage".into(),
        kind: TextTrackKind::Subtitles,
    });
    h.app(AppRequest::Play);
    h.app(AppRequest::SelectTextTrack(Some(2)));
    wait(&mut h, 10, "404 reported", |h| {
        h.saw(|e| matches!(e, PlayerEvent::TextTrackError { track: 2, .. }))
    });
    h.app(AppRequest::SelectTextTrack(Some(3)));
    wait(&mut h, 10, "garbage reported", |h| {
        h.saw(|e| matches!(e, PlayerEvent::TextTrackError { track: 3, error } if error.kind == ErrorKind::Decode))
    });
    assert_eq!(h.last_error(), None);
    assert!(!h.saw(|e| matches!(e, PlayerEvent::Error(_))));
    // Back to a good track: it shows again, and playback never stopped.
    h.app(AppRequest::SelectTextTrack(Some(0)));
    let t = h.player.current_time();
    follows_the_clock(&mut h, "Cue", t + 4.0);
}

#[test]
fn a_missing_hls_subtitle_segment_is_skipped() {
    // Serve the stream without subtitle segment 2 (4–6 s): cues 2 and 3 are also in
    // segments 1 and 3, so nothing is lost on screen.
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    serve_under(&mut h, &gen_dir(), "streams/hls-fmp4", |n| {
        n.ends_with("subs-en/seg2.vtt")
    });
    load(&mut h, "streams/hls-fmp4/master.m3u8");
    h.app(AppRequest::Play);
    follows_the_clock(&mut h, "Cue", 9.0);
    assert!(!h.saw(|e| matches!(e, PlayerEvent::TextTrackError { .. })));
    let tries = h
        .fetch_log
        .iter()
        .filter(|(u, _)| u.ends_with("subs-en/seg2.vtt"))
        .count();
    assert_eq!(tries, 1, "a 404 is not retried");
}

/// Side-loads `vtt` as `NAME.vtt` over `h264-aac.mp4`, shows it, seeks to 2 s and waits for
/// `cues` active cues.
fn side_loaded_at_2s(name: &str, vtt: impl Into<Vec<u8>>, cues: usize) -> SimHost {
    let mut h = host();
    h.add(&format!("{BASE}h264-aac.mp4"), fixture("h264-aac.mp4"));
    h.add(&format!("{BASE}{name}.vtt"), vtt.into());
    load(&mut h, "h264-aac.mp4");
    h.app(AppRequest::AddTextTrack {
        url: format!("{BASE}{name}.vtt"),
        language: None,
        name: name.into(),
        kind: TextTrackKind::Subtitles,
    });
    h.app(AppRequest::SelectTextTrack(Some(0)));
    h.app(AppRequest::Seek {
        position: 2.0,
        mode: SeekMode::Exact,
    });
    wait(&mut h, 5, "cues", |h| h.player.active_cues().len() == cues);
    h
}

#[test]
fn cue_settings_position_and_stack_the_boxes() {
    let vtt = "WEBVTT\n\n\
        top\n00:01.000 --> 00:03.000 line:0\nAt the top\n\n\
        left\n00:01.000 --> 00:03.000 position:10% align:start size:40% line:40%\n<b>Left</b> <i>aligned</i> text that is long enough to wrap inside forty percent\n\n\
        a\n00:01.000 --> 00:03.000\nFirst bottom cue\n\n\
        b\n00:01.000 --> 00:03.000\nSecond bottom cue\n";
    let h = side_loaded_at_2s("settings", vtt, 4);
    let cues = h.player.active_cues();
    let by = |id: &str| cues.iter().find(|c| c.cue_id == id).unwrap().clone();
    let (top, left, a, b) = (by("top"), by("left"), by("a"), by("b"));
    println!("{top:?}\n{left:?}\n{a:?}\n{b:?}");
    // line:0 → the first line from the top.
    assert!(top.y.abs() < 1e-6, "{top:?}");
    // position/size/align: the box starts at 10 % and is 40 % wide, text aligned to its start.
    assert!((left.x - 10.0).abs() < 1e-6 && (left.width - 40.0).abs() < 1e-6);
    assert_eq!(left.align, kinema_core::text::webvtt::TextAlign::Start);
    // 40 % of a 16:9 picture at 2.5 % per character holds 28 characters: the text wraps.
    assert!(left.lines.len() >= 3, "{:?}", left.lines);
    assert!(left
        .lines
        .iter()
        .all(|l| l.iter().map(|r| r.text.chars().count()).sum::<usize>() <= 28));
    assert!(left.lines[0][0].bold && left.lines[0][0].text == "Left");
    assert!(left.lines[0].iter().any(|r| r.italic));
    // line:40% with the default line alignment: the box's top at 40 %.
    assert!((left.y - 40.0).abs() < 1e-6, "{left:?}");
    // Two auto-line cues: the first at the bottom, the second stacked just above it.
    assert!((a.y + a.height - 100.0).abs() < 1e-6, "{a:?}");
    assert!((b.y + b.height - a.y).abs() < 1e-6, "{b:?} above {a:?}");
}

#[test]
fn style_blocks_colour_the_runs_and_vertical_cues_get_columns() {
    let vtt = "WEBVTT\n\n\
        STYLE\n::cue(.hot) { color: #ff0000 }\n::cue(v[voice=\"Ann\"]) { background-color: rgba(0, 0, 255, 0.5) }\n::cue(#intro) { font-weight: bold }\n\n\
        intro\n00:01.000 --> 00:03.000\nplain <c.hot>hot</c> <v Ann>Ann speaks</v> <c.yellow>yellow</c>\n\n\
        tall\n00:01.000 --> 00:03.000 vertical:rl size:80% position:40%\n縦書きの字幕です\n\n\
        wide\n00:01.000 --> 00:03.000 vertical:lr size:50% line:3\nabcdefghijklmnop\n";
    let h = side_loaded_at_2s("styled", vtt, 3);
    // What reached the host, not only the getter.
    let (_, sent) = h.subtitles.last().unwrap().clone();
    assert_eq!(sent, h.player.active_cues());
    let by = |id: &str| sent.iter().find(|c| c.cue_id == id).unwrap().clone();
    let (intro, tall, wide) = (by("intro"), by("tall"), by("wide"));
    println!("{intro:?}\n{tall:?}\n{wide:?}");

    // STYLE: ::cue(.hot) colours its run red, the voice gets its background, ::cue(#id)
    // makes the whole cue bold. The sheet sets a text colour, so the default `yellow` class
    // is off (a browser, which has no such defaults, would draw it white too).
    assert_eq!(intro.vertical, Vertical::Horizontal);
    let runs = &intro.lines[0];
    let run = |t: &str| runs.iter().find(|r| r.text.trim() == t).unwrap().clone();
    assert_eq!(run("hot").color, Some([255, 0, 0, 255]));
    assert_eq!(run("hot").background, None);
    assert_eq!(run("Ann speaks").background, Some([0, 0, 255, 128]));
    assert_eq!(run("Ann speaks").color, None);
    assert!(runs.iter().all(|r| r.bold), "{runs:?}");
    assert_eq!(
        run("yellow").color,
        None,
        "the sheet sets colours: no class default"
    );
    assert_eq!(runs.iter().filter(|r| r.color.is_some()).count(), 1);

    // vertical:rl: one column, as tall as its size (kept off the bottom cue's full-width box,
    // which a full-height column would overlap: it would not show), at the left edge: the
    // auto line is the last line, and rl lines go right to left (as in browsers).
    assert_eq!(tall.vertical, Vertical::GrowingLeft);
    assert_eq!(tall.lines.len(), 1);
    assert!(
        (tall.height - 80.0).abs() < 1e-6 && tall.y.abs() < 1e-6,
        "{tall:?}"
    );
    assert!(tall.height > 5.0 * tall.width, "{tall:?}");
    assert!(tall.x.abs() < 1e-6, "{tall:?}");
    // A column is one 6 %-of-the-height line thick: 6 × 9/16 % of a 16:9 picture's width.
    assert!((tall.width - 6.0 * 9.0 / 16.0).abs() < 1e-6, "{tall:?}");
    // vertical:lr line:3: the fourth column from the left, half the height tall.
    assert_eq!(wide.vertical, Vertical::GrowingRight);
    assert!((wide.x - 3.0 * 3.375).abs() < 1e-6, "{wide:?}");
    assert!(
        (wide.height - 50.0).abs() < 1e-6 && (wide.y - 25.0).abs() < 1e-6,
        "{wide:?}"
    );
    let columns: Vec<String> = wide
        .lines
        .iter()
        .map(|l| l.iter().map(|r| r.text.as_str()).collect())
        .collect();
    assert_eq!(columns, vec!["abcdefghijklmnop"], "one word is never split");
    assert!((wide.width - 6.0 * 9.0 / 16.0).abs() < 1e-6, "{wide:?}");
}

#[test]
fn vertical_cues_wrap_into_columns_of_one_em_per_character() {
    // 50 % of the height at a 5 % font: 10 characters per column.
    let vtt = "WEBVTT\n\n00:01.000 --> 00:03.000 vertical:rl size:50%\nVERTICALLY SET TEXT\n";
    let h = side_loaded_at_2s("columns", vtt, 1);
    let c = h.player.active_cues()[0].clone();
    let columns: Vec<String> = c
        .lines
        .iter()
        .map(|l| l.iter().map(|r| r.text.as_str()).collect())
        .collect();
    assert_eq!(columns, vec!["VERTICALLY", "SET TEXT"]);
    // Two columns thick, half the picture tall.
    assert!((c.width - 2.0 * 3.375).abs() < 1e-6, "{c:?}");
    assert!((c.height - 50.0).abs() < 1e-6, "{c:?}");
    assert_eq!(c.vertical, Vertical::GrowingLeft);
}

#[test]
fn broken_style_blocks_never_lose_the_cues() {
    let junk: String = (0..400)
        .map(|i| format!("::cue(.c{i} {{ color: rgb(1,2 ; }}}} @media {{ ::cue {{ colour: \"\n"))
        .collect();
    let vtt = format!(
        "WEBVTT\n\nSTYLE\n{}\n\nSTYLE\n::cue(.a) {{ color: lime }}\n\n00:01.000 --> 00:03.000\n<c.a>still here</c>\n",
        junk.replace("\n\n", "\n")
    );
    let h = side_loaded_at_2s("junk", vtt, 1);
    let c = &h.player.active_cues()[0];
    assert_eq!(c.text, "still here");
    assert!(!h.saw(|e| matches!(e, PlayerEvent::TextTrackError { .. })));
    // The second block still styles the cue, whatever the first did.
    assert_eq!(c.lines[0][0].color, Some([0, 255, 0, 255]), "{c:?}");
}

/// AES-128-CBC with PKCS7 padding, as `openssl enc -aes-128-cbc` and packagers write it.
fn encrypt(key: &[u8; 16], iv: [u8; 16], plain: &[u8]) -> Vec<u8> {
    use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + 16, 0);
    let n = cbc::Encryptor::<aes::Aes128>::new(key.into(), &iv.into())
        .encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
        .unwrap()
        .len();
    buf.truncate(n);
    buf
}

/// `streams/hls-fmp4` with its English subtitle segments encrypted (HLS AES-128, no IV: the
/// media sequence number is the IV), the key served as `key_body`.
fn encrypted_subtitles(key_body: Vec<u8>) -> SimHost {
    let mut h = host();
    let key = [0x5a; 16];
    let dir = gen_dir().join("streams/hls-fmp4/subs-en");
    let base = format!("{BASE}streams/hls-fmp4/subs-en/");
    let playlist = std::fs::read_to_string(dir.join("index.m3u8")).unwrap();
    let playlist = playlist.replace(
        "#EXT-X-MEDIA-SEQUENCE:0\n",
        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-KEY:METHOD=AES-128,URI=\"../text.key\"\n",
    );
    assert!(playlist.contains("EXT-X-KEY"));
    h.add(&format!("{base}index.m3u8"), playlist.into_bytes());
    for n in 0..15u128 {
        let plain = std::fs::read(dir.join(format!("seg{n}.vtt"))).unwrap();
        h.add(
            &format!("{base}seg{n}.vtt"),
            encrypt(&key, n.to_be_bytes(), &plain),
        );
    }
    h.add(&format!("{BASE}streams/hls-fmp4/text.key"), key_body);
    h
}

#[test]
fn aes_128_encrypted_subtitle_segments_are_decrypted() {
    let mut h = encrypted_subtitles(vec![0x5a; 16]);
    load(&mut h, "streams/hls-fmp4/master.m3u8");
    h.app(AppRequest::Play);
    follows_the_clock(&mut h, "Cue", 8.0);
    assert!(!h.saw(|e| matches!(e, PlayerEvent::TextTrackError { .. })));
    let keys = h
        .fetch_log
        .iter()
        .filter(|(u, _)| u.ends_with("text.key"))
        .count();
    assert_eq!(keys, 1, "the key is fetched once");
}

#[test]
fn a_bad_subtitle_key_is_a_typed_text_track_error_and_playback_goes_on() {
    // A key server answering 15 bytes: the track is unreadable and says so, once.
    let mut h = encrypted_subtitles(vec![0x5a; 15]);
    load(&mut h, "streams/hls-fmp4/master.m3u8");
    h.app(AppRequest::Play);
    wait(&mut h, 20, "6 s played", |h| h.player.current_time() > 6.0);
    assert_eq!(h.last_error(), None);
    assert!(shown(&h, "Cue").is_empty(), "nothing readable is shown");
    let errors: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            PlayerEvent::TextTrackError { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    println!("{errors:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors
            .iter()
            .all(|e| e.kind == ErrorKind::Decode && !e.message.contains("5a")),
        "{errors:?}"
    );
}

#[test]
fn a_text_only_dash_presentation_plays_its_text_on_a_silent_clock_to_the_end() {
    // Neither audio nor video: the text is the content, so a track (no default among them:
    // the first, en) shows without being asked for, on a clock silence drives to the MPD's 30 s.
    let mut h = host();
    load(&mut h, "streams/dash-thumbs/text-only.mpd");
    let info = h.player.media_info().unwrap();
    assert_eq!(
        (info.video_codec.as_deref(), info.duration),
        (None, Some(30.0))
    );
    assert_eq!(h.player.text_tracks().len(), 2);
    assert_eq!(h.player.text_track(), Some(0));
    // A paused exact seek completes and shows the cue there.
    h.app(AppRequest::Seek {
        position: 5.5,
        mode: SeekMode::Exact,
    });
    wait(&mut h, 5, "seeked", |h| {
        h.saw(|e| matches!(e, PlayerEvent::Seeked(_)))
    });
    wait(&mut h, 5, "cue 3", |h| shown(h, "Cue") == vec![3]);
    // Again, to where it is.
    h.app(AppRequest::Seek {
        position: 5.5,
        mode: SeekMode::Exact,
    });
    wait(&mut h, 5, "seeked again", |h| {
        h.events
            .iter()
            .filter(|e| matches!(e, PlayerEvent::Seeked(_)))
            .count()
            == 2
    });
    h.app(AppRequest::Seek {
        position: 0.0,
        mode: SeekMode::Exact,
    });
    h.app(AppRequest::Play);
    let n = follows_the_clock(&mut h, "Cue", 29.5);
    assert!(n > 2500, "{n} steps checked");
    wait(&mut h, 5, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert!((h.player.current_time() - 30.0).abs() < 0.05);
    // No media segment, no warning: only the manifest and the text file were fetched.
    assert!(
        h.fetch_log
            .iter()
            .all(|(u, _)| u.ends_with(".mpd") || u.ends_with("subs-en.vtt")),
        "{:?}",
        h.fetch_log
    );
    assert!(!h.saw(|e| matches!(e, PlayerEvent::Warning(_))));
    // The player is still usable: a presentation with video plays after it.
    load(&mut h, "streams/dash-thumbs/manifest.mpd");
    h.app(AppRequest::Play);
    wait(&mut h, 20, "playing", |h| {
        h.player.state() == PlaybackState::Playing && h.player.current_time() > 1.0
    });
}

#[test]
fn an_image_only_dash_presentation_plays_blank_with_a_warning_and_offers_thumbnails() {
    let mut h = host();
    load(&mut h, "streams/dash-thumbs/images-only.mpd");
    let warning = h
        .events
        .iter()
        .find_map(|e| match e {
            PlayerEvent::Warning(w) => Some(w.clone()),
            _ => None,
        })
        .expect("a warning: nothing to show is never silent");
    assert_eq!(warning.kind, ErrorKind::Unsupported);
    assert!(warning.message.contains("thumbnail"), "{}", warning.message);
    // Thumbnail k is second k: image ⌊k/10⌋+1, tile k mod 10 of its 5x2 grid of 256x144.
    let t = h.player.thumbnail(12.5, None).unwrap();
    assert!(t.url.ends_with("dash-thumbs/tiles/tile-2.jpg"), "{}", t.url);
    assert_eq!(
        (t.x, t.y, t.width, t.height, t.start_us, t.duration_us),
        (512, 0, 256, 144, 12_000_000, 1_000_000)
    );
    let t = h.player.thumbnail(27.0, Some(100)).unwrap();
    assert_eq!(
        (t.x, t.y),
        (512, 144),
        "the only track, though wider than asked"
    );
    h.app(AppRequest::Play);
    wait(&mut h, 40, "ended", |h| {
        h.player.state() == PlaybackState::Ended
    });
    assert_eq!(h.last_error(), None);
}

#[test]
fn thumbnails_beside_video_and_none_for_a_file() {
    let mut h = host();
    load(&mut h, "streams/dash-thumbs/manifest.mpd");
    assert!(!h.saw(|e| matches!(e, PlayerEvent::Warning(_))));
    let t = h.player.thumbnail(0.4, None).unwrap();
    assert!(t.url.ends_with("tiles/tile-1.jpg") && (t.x, t.y) == (0, 0));
    load(&mut h, "streams/src/v0.mp4");
    assert!(h.player.thumbnail(0.4, None).is_none());
}
