//! HLS AES-128 (RFC 8216 sections 4.3.2.4 and 5.2: whole segments in AES-128-CBC with PKCS7
//! padding) against the simulated host, on `streams/hls-aes/` (`scripts/streams.sh`): each
//! encrypted variant plays exactly what its clear twin plays, keys go through the request
//! service (fetched once, alongside the segment that needs them, retried like a playlist),
//! and every failure is a typed error or the handling a corrupt clear segment gets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kinema_core::adaptive::crypto::{decrypt, Key};
use kinema_core::adaptive::source::StreamStats;
use kinema_core::sim::{Fault, SimHost};
use kinema_core::stream::hls::{self, Parsed};
use kinema_core::stream::Encryption;
use kinema_core::{AppRequest, ErrorKind, PlaybackState, PlayerConfig, PlayerEvent};
use kinema_testkit::{fixture_dir, serve_under, wait, BASE};

const DIR: &str = "hls-aes";

/// A host serving `streams/hls-aes/` at `BASE + hls-aes/…`, whose audio decoder outputs the
/// media time of each sample (so equal output is equal audio at equal times).
fn host() -> SimHost {
    let mut h = SimHost::new(PlayerConfig::default(), 48_000);
    h.audio_ramp = true;
    serve_under(&mut h, &fixture_dir("streams"), DIR, |_| false);
    h
}

fn url(path: &str) -> String {
    format!("{BASE}{DIR}/{path}")
}

fn file(path: &str) -> Vec<u8> {
    std::fs::read(fixture_dir("streams").join(DIR).join(path)).unwrap()
}

/// What one playback showed and played.
struct Run {
    /// Presentation timestamps of the pictures shown, in order.
    frames: Vec<i64>,
    /// The device's output.
    audio: Vec<f32>,
    stats: StreamStats,
    error: Option<kinema_core::Error>,
    fetches: Vec<String>,
}

impl Run {
    fn requests_of(&self, path: &str) -> usize {
        let u = url(path);
        self.fetches.iter().filter(|f| **f == u).count()
    }
}

/// Loads `path` on `h`, plays it until it ends or fails (at most 60 s of sim time). The run
/// holds what happened from the load on.
fn play_on(mut h: SimHost, path: &str) -> (SimHost, Run) {
    let (events, frames, audio, fetches) = (
        h.events.len(),
        h.video.presented.len(),
        h.played().len(),
        h.fetch_log.len(),
    );
    h.app(AppRequest::Load { url: url(path) });
    h.app(AppRequest::Play);
    wait(&mut h, 60, "ended or failed", |h| {
        matches!(
            h.player.state(),
            PlaybackState::Ended | PlaybackState::Error
        )
    });
    let run = Run {
        frames: h.video.presented[frames..].iter().map(|p| p.1).collect(),
        audio: h.played()[audio..].to_vec(),
        stats: h.player.stream_stats().unwrap_or_default(),
        error: h.events[events..].iter().rev().find_map(|e| match e {
            PlayerEvent::Error(e) => Some(e.clone()),
            _ => None,
        }),
        fetches: h.fetch_log[fetches..]
            .iter()
            .map(|(u, _)| u.clone())
            .collect(),
    };
    (h, run)
}

fn play(path: &str) -> Run {
    play_on(host(), path).1
}

/// `run` ended without an error and showed and played what `twin` did.
fn same_as(run: &Run, twin: &Run, what: &str) {
    assert_eq!(run.error, None, "{what}");
    assert_eq!(twin.error, None, "{what}: the clear twin");
    assert!(
        twin.frames.len() > 150,
        "{what}: {} frames",
        twin.frames.len()
    );
    assert_eq!(run.frames, twin.frames, "{what}: the frames shown");
    assert!(
        twin.audio.iter().any(|s| s.abs() > 0.05),
        "{what}: the twin played sound"
    );
    assert_eq!(
        run.audio.len(),
        twin.audio.len(),
        "{what}: audio samples played"
    );
    assert!(run.audio == twin.audio, "{what}: the audio played differs");
    assert_eq!(run.stats.skipped, 0, "{what}: {:?}", run.stats);
    assert_eq!(run.stats.segments, twin.stats.segments, "{what}");
}

#[test]
fn aes128_ts_plays_the_frames_and_audio_of_its_clear_twin() {
    let clear = play("clear/index.m3u8");
    let run = play("ts/index.m3u8");
    println!(
        "clear {} frames, {} samples; AES-128 {} frames, {} samples; {:?}",
        clear.frames.len(),
        clear.audio.len(),
        run.frames.len(),
        run.audio.len(),
        run.stats
    );
    same_as(&run, &clear, "ts");
    // Three segments share one key: it is fetched once.
    assert_eq!(run.requests_of("key1.bin"), 1, "{:?}", run.fetches);
    assert_eq!(run.requests_of("ts/seg1.ts"), 1, "{:?}", run.fetches);
}

#[test]
fn aes128_fmp4_with_an_encrypted_init_segment_plays_like_its_clear_twin() {
    let clear = play("fmp4-clear/index.m3u8");
    let run = play("fmp4/index.m3u8");
    same_as(&run, &clear, "fmp4");
    assert_eq!(run.requests_of("key1.bin"), 1, "{:?}", run.fetches);
    assert_eq!(run.requests_of("fmp4/init.mp4"), 1, "{:?}", run.fetches);
}

#[test]
fn without_an_iv_each_segment_s_media_sequence_number_is_its_iv() {
    // EXT-X-MEDIA-SEQUENCE:5 and no IV attribute: segment n decrypts with IV n. (A wrong IV
    // garbles only the first block, which both demuxers shrug off here: ffmpeg's TS segments
    // start with the SDT, its fMP4 segments with the `styp` box. The bytes are checked by
    // `every_variant_decrypts_to_its_clear_twin_byte_for_byte`.)
    for (twin, variant) in [
        ("clear/index.m3u8", "ts-seq/index.m3u8"),
        ("fmp4-clear/index.m3u8", "fmp4-seq/index.m3u8"),
    ] {
        let clear = play(twin);
        let run = play(variant);
        same_as(&run, &clear, variant);
    }
}

/// The file `url` names (under `BASE + hls-aes/`), the byte range when it has one.
fn bytes_at(url: &str, range: Option<kinema_core::stream::ByteSpan>) -> Vec<u8> {
    let all = file(url.strip_prefix(&format!("{BASE}{DIR}/")).unwrap());
    match range {
        Some(r) => all[r.start as usize..r.end() as usize].to_vec(),
        None => all,
    }
}

/// `bytes` decrypted as `encryption` says for the segment numbered `number`.
fn clear_bytes(encryption: &Encryption, number: u64, bytes: Vec<u8>) -> Vec<u8> {
    match encryption {
        Encryption::Clear => bytes,
        Encryption::Aes128(k) => {
            let key = Key::from_response(&bytes_at(&k.url, None), &k.url).unwrap();
            decrypt(&key, k.iv.bytes(number), bytes).unwrap()
        }
        Encryption::Unsupported(how) => panic!("{how}"),
    }
}

#[test]
fn every_variant_decrypts_to_its_clear_twin_byte_for_byte() {
    // The parser's keys and IVs with the decrypt helper, on every segment: exact bytes (the
    // playback tests cannot see a wrong IV, which garbles only a first block the demuxers
    // shrug off).
    for (variant, twin, ext, encrypted) in [
        ("ts", "clear", "ts", 3),
        ("ts-seq", "clear", "ts", 3),
        ("ts-rotate", "clear", "ts", 2),
        ("ts-byterange", "clear", "ts", 3),
        ("fmp4", "fmp4-clear", "m4s", 3),
        ("fmp4-seq", "fmp4-clear", "m4s", 3),
    ] {
        let playlist = url(&format!("{variant}/index.m3u8"));
        let Parsed::Media(list) = hls::parse(&bytes_at(&playlist, None), &playlist).unwrap() else {
            panic!("{variant}: a media playlist");
        };
        assert_eq!(list.segments.len(), 3, "{variant}");
        assert_eq!(
            list.segments.iter().filter(|s| s.encrypted()).count(),
            encrypted,
            "{variant}"
        );
        for (i, seg) in list.segments.iter().enumerate() {
            let got = clear_bytes(&seg.encryption, seg.number, bytes_at(&seg.url, seg.range));
            assert!(
                got == file(&format!("{twin}/seg{i}.{ext}")),
                "{variant}: segment {i} does not decrypt to {twin}'s"
            );
            if let Some(init) = list.init_of(seg) {
                let got = clear_bytes(&init.encryption, 0, bytes_at(&init.url, init.range));
                assert!(got == file("fmp4-clear/init.mp4"), "{variant}: init");
            }
        }
    }
}

#[test]
fn a_key_rotation_and_method_none_play_through() {
    // Segment 0 with key1 and an explicit IV, 1 with key2 and the IV from its number, 2 clear.
    let clear = play("clear/index.m3u8");
    let run = play("ts-rotate/index.m3u8");
    same_as(&run, &clear, "ts-rotate");
    assert_eq!(run.requests_of("key1.bin"), 1, "{:?}", run.fetches);
    assert_eq!(run.requests_of("key2.bin"), 1, "{:?}", run.fetches);
}

#[test]
fn byte_range_segments_decrypt_as_delivered() {
    let clear = play("clear/index.m3u8");
    let run = play("ts-byterange/index.m3u8");
    same_as(&run, &clear, "ts-byterange");
}

static STALLED: AtomicBool = AtomicBool::new(false);

/// The first request of the key stalls after its headers (the service times it out).
fn stall_the_first_key_request(url: &str, _: u64) -> Fault {
    if url.ends_with("/key1.bin") && !STALLED.swap(true, Ordering::SeqCst) {
        Fault::Stall
    } else {
        Fault::None
    }
}

#[test]
fn a_segment_is_fetched_alongside_its_key_and_waits_for_it() {
    let mut h = host();
    h.request_fault = Some(stall_the_first_key_request);
    h.app(AppRequest::Load {
        url: url("ts/index.m3u8"),
    });
    h.app(AppRequest::Play);
    h.run_for(Duration::from_secs(1));
    let log: Vec<String> = h.fetch_log.iter().map(|(u, _)| u.clone()).collect();
    let key = log.iter().position(|u| *u == url("key1.bin"));
    let seg0 = log.iter().position(|u| *u == url("ts/seg0.ts"));
    assert!(
        key.is_some() && seg0.is_some(),
        "the key and segment 0 are both requested while the key stalls: {log:?}"
    );
    assert_ne!(h.player.state(), PlaybackState::Playing, "no key yet");
    // The stalled key times out, is fetched again, and the segment already there plays.
    wait(&mut h, 30, "playing", |h| {
        h.player.state() == PlaybackState::Playing
    });
    let keys = h
        .fetch_log
        .iter()
        .filter(|(u, _)| *u == url("key1.bin"))
        .count();
    let seg0s = h
        .fetch_log
        .iter()
        .filter(|(u, _)| *u == url("ts/seg0.ts"))
        .count();
    assert_eq!(keys, 2, "the stalled key was fetched again");
    assert_eq!(seg0s, 1, "segment 0 waited for its key, not fetched again");
    assert_eq!(h.last_error(), None);
}

#[test]
fn a_missing_key_is_retried_then_fails_with_a_network_error_and_a_new_load_plays() {
    let mut h = host();
    h.add_with_fault(&url("key1.bin"), file("key1.bin"), Fault::Status(404));
    let (h, run) = play_on(h, "ts/index.m3u8");
    let e = run.error.clone().expect("an error");
    println!("{e:?} after {} key requests", run.requests_of("key1.bin"));
    assert_eq!(e.kind, ErrorKind::Network, "{e:?}");
    assert!(e.message.contains("key1.bin"), "{e:?}");
    // The adaptive policy: 6 attempts.
    assert_eq!(run.requests_of("key1.bin"), 6, "{:?}", run.fetches);
    // The player is still usable.
    let (_, again) = play_on(h, "clear/index.m3u8");
    assert_eq!(again.error, None);
    assert!(again.frames.len() > 150);
}

#[test]
fn a_key_that_is_not_16_bytes_is_a_typed_error() {
    for len in [0usize, 15, 17, 32] {
        let mut h = host();
        let bytes: Vec<u8> = (0..len).map(|i| 0xA0 + i as u8).collect();
        h.add(&url("key1.bin"), bytes.clone());
        let (_, run) = play_on(h, "ts/index.m3u8");
        let e = run.error.clone().expect("an error");
        println!("{len} bytes: {e:?}");
        assert_eq!(e.kind, ErrorKind::Decode, "{len} bytes: {e:?}");
        assert!(e.message.contains("16 bytes"), "{e:?}");
        // The key's bytes never show, in any spelling.
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if len > 0 {
            assert!(!e.message.to_ascii_lowercase().contains(&hex[..4]), "{e:?}");
            assert!(!e.message.contains(&format!("{}", bytes[0])), "{e:?}");
        }
        assert_eq!(
            run.requests_of("key1.bin"),
            1,
            "not retried: the server answered"
        );
    }
}

/// Plays `path` with `seg` replaced by `bytes`.
fn play_with(path: &str, seg: &str, bytes: Vec<u8>) -> Run {
    let mut h = host();
    h.add(&url(seg), bytes);
    play_on(h, path).1
}

#[test]
fn a_corrupt_encrypted_segment_is_skipped_like_a_corrupt_clear_segment() {
    // A clear segment that does not parse (TS packets whose payloads are scrambled: no
    // PAT/PMT) is skipped and playback goes on.
    let mut scrambled = file("clear/seg1.ts");
    for (i, b) in scrambled.iter_mut().enumerate() {
        if i % 188 >= 4 {
            *b ^= 0x5a;
        }
    }
    let clear = play_with("clear/index.m3u8", "clear/seg1.ts", scrambled);
    assert_eq!(clear.error, None);
    assert_eq!(clear.stats.skipped, 1, "{:?}", clear.stats);
    // Its length is not a multiple of 16.
    let mut short = file("ts/seg1.ts");
    short.truncate(short.len() - 5);
    // Its last block decrypts to bytes that end in 0x00: not PKCS7 padding. In CBC a block
    // decrypts to D(C) xor the block before it, so the first block again after a block X
    // made from the known plaintext of the clear twin gives any block we like.
    let iv: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];
    let plain = file("clear/seg1.ts");
    let mut bad_padding = file("ts/seg1.ts");
    let first: Vec<u8> = bad_padding[..16].to_vec();
    let wanted = [0x5a; 15].into_iter().chain([0x00]);
    let x: Vec<u8> = wanted
        .zip(plain.iter().zip(iv))
        .map(|(w, (p, v))| w ^ p ^ v)
        .collect();
    bad_padding.extend_from_slice(&x);
    bad_padding.extend_from_slice(&first);
    for (what, bytes) in [("short", short), ("bad padding", bad_padding)] {
        let run = play_with("ts/index.m3u8", "ts/seg1.ts", bytes);
        println!("{what}: {:?} {:?}", run.stats, run.error);
        assert_eq!(run.error, None, "{what}");
        assert_eq!(run.stats.skipped, 1, "{what}: {:?}", run.stats);
        assert_eq!(run.frames, clear.frames, "{what}: the frames shown");
    }
}

#[test]
fn an_init_segment_that_does_not_decrypt_is_a_decode_error() {
    // Every segment after it needs it: nothing to skip to.
    let mut init = file("fmp4/init.mp4");
    init.truncate(init.len() - 3);
    let run = play_with("fmp4/index.m3u8", "fmp4/init.mp4", init);
    let e = run.error.expect("an error");
    println!("{e:?}");
    assert_eq!(e.kind, ErrorKind::Decode, "{e:?}");
    assert!(
        e.message.contains("init.mp4") && e.message.contains("16-byte blocks"),
        "{e:?}"
    );
    assert!(run.frames.is_empty());
}

/// A media playlist over the clear twin's segments with `key` before the first one.
fn playlist_with_key(key: &str) -> Vec<u8> {
    let clear = String::from_utf8(file("clear/index.m3u8")).unwrap();
    let mut out = String::new();
    for line in clear.lines() {
        if line.starts_with("#EXTINF") && !out.contains("#EXT-X-KEY") {
            out.push_str(key);
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn sample_aes_and_drm_key_formats_are_refused_as_unsupported() {
    for (key, says) in [
        (
            r#"#EXT-X-KEY:METHOD=SAMPLE-AES,URI="../key1.bin",IV=0x00112233445566778899aabbccddeeff"#,
            "SAMPLE-AES",
        ),
        (
            r#"#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1""#,
            "com.apple.streamingkeydelivery",
        ),
        (
            r#"#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="data:text/plain;base64,AAAA",KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed""#,
            "SAMPLE-AES-CTR",
        ),
        (
            r#"#EXT-X-KEY:METHOD=AES-128,URI="../key1.bin",KEYFORMAT="com.example.drm""#,
            "com.example.drm",
        ),
    ] {
        let mut h = host();
        h.add(&url("clear/drm.m3u8"), playlist_with_key(key));
        let (_, run) = play_on(h, "clear/drm.m3u8");
        let e = run.error.clone().expect("an error");
        println!("{key}: {e:?}");
        assert_eq!(e.kind, ErrorKind::Unsupported, "{key}: {e:?}");
        assert!(e.message.contains(says), "{key}: {e:?}");
        assert!(e.message.contains("does not decrypt"), "{key}: {e:?}");
        assert!(run.frames.is_empty(), "nothing encrypted was played");
    }
}
