//! The byte encoding round-trips every event and command of the protocol, and rejects
//! truncated or malformed buffers with an error (never a panic or a huge allocation).

use std::time::Duration;

use kinema_abi::codec::{self, Command, DecodeError};
use kinema_abi::registry::{status, Registry};
use kinema_core::host::*;
use kinema_core::input::{InputEvent, Key};
use kinema_core::subtitles::{SubtitleCue, TextRun, TextTrackKind};
use kinema_core::text::webvtt::{TextAlign, Vertical};
use kinema_core::{Error, ErrorKind, PlaybackState};

fn events() -> Vec<HostEvent> {
    vec![
        HostEvent::App(AppRequest::Load {
            url: "http://h/a.mp4".into(),
        }),
        HostEvent::App(AppRequest::Play),
        HostEvent::App(AppRequest::Pause),
        HostEvent::App(AppRequest::Seek {
            position: 4.5,
            mode: SeekMode::Fast,
        }),
        HostEvent::App(AppRequest::SetVolume(0.25)),
        HostEvent::App(AppRequest::SetMuted(true)),
        HostEvent::App(AppRequest::SetRate(1.5)),
        HostEvent::App(AppRequest::SetLoop(true)),
        HostEvent::App(AppRequest::Unload),
        HostEvent::App(AppRequest::SelectQuality(Some(2))),
        HostEvent::App(AppRequest::SetMaxVideoHeight(None)),
        HostEvent::App(AppRequest::SelectAudioTrack(1)),
        HostEvent::App(AppRequest::AddTextTrack {
            url: "s.vtt".into(),
            language: Some("de".into()),
            name: "Deutsch".into(),
            kind: TextTrackKind::Captions,
        }),
        HostEvent::App(AppRequest::SelectTextTrack(None)),
        HostEvent::Tick,
        HostEvent::AudioDeviceReady {
            sample_rate: 48_000,
            channels: 2,
        },
        HostEvent::AudioDeviceUnavailable {
            reason: "none".into(),
        },
        HostEvent::AudioProgress {
            epoch: 3,
            frames_played: 1 << 40,
        },
        HostEvent::FetchResponse {
            request: RequestId(7),
            status: 206,
            content_length: Some(10),
            content_range: Some("bytes 0-9/100".into()),
        },
        HostEvent::FetchData {
            request: RequestId(7),
            data: (0..=255).collect(),
        },
        HostEvent::FetchEnd {
            request: RequestId(7),
        },
        HostEvent::FetchFailed {
            request: RequestId(8),
            kind: FetchErrorKind::Timeout,
            message: "slow".into(),
        },
        HostEvent::Input(InputEvent::KeyDown {
            key: Key::PlayPause,
            repeat: true,
        }),
        HostEvent::Input(InputEvent::KeyUp { key: Key::Digit(7) }),
        HostEvent::WallClock { unix_ms: -5 },
        HostEvent::VideoFrameDecoded {
            generation: 2,
            frame: FrameId(9),
            timestamp_us: -33_333,
            duration_us: 33_333,
            width: 320,
            height: 180,
        },
        HostEvent::VideoDecoderFlushed { generation: 2 },
        HostEvent::VideoDecoderError {
            generation: 2,
            unsupported: true,
            message: "hevc".into(),
        },
        HostEvent::AudioDecoded {
            generation: 1,
            timestamp_us: 20_000,
            sample_rate: 48_000,
            channels: 2,
            samples: vec![0.5, -0.25, f32::MIN_POSITIVE],
        },
        HostEvent::AudioDecoderFlushed { generation: 1 },
        HostEvent::AudioDecoderError {
            generation: 1,
            unsupported: false,
            message: "x".into(),
        },
    ]
}

fn commands() -> Vec<HostCommand> {
    let cue = SubtitleCue {
        id: 4,
        cue_id: "c".into(),
        start: 1.0,
        end: 2.0,
        text: "Hallo\nWelt".into(),
        x: 10.0,
        y: 80.0,
        width: 80.0,
        height: 10.0,
        line_height: 5.0,
        font_size: 4.5,
        align: TextAlign::Right,
        rtl: true,
        vertical: Vertical::GrowingLeft,
        lines: vec![
            vec![TextRun {
                text: "Hallo".into(),
                bold: true,
                italic: false,
                underline: true,
                color: Some([255, 0, 0, 255]),
                background: None,
            }],
            vec![TextRun {
                text: "Welt".into(),
                background: Some([0, 0, 255, 128]),
                ..TextRun::default()
            }],
            vec![],
        ],
    };
    let chunk = EncodedChunk {
        timestamp_us: 5,
        duration_us: 6,
        key: true,
        data: vec![1, 2, 3],
    };
    let mut out = vec![
        HostCommand::Fetch {
            request: RequestId(1),
            url: "u".into(),
            range: Some(ByteRange {
                start: 5,
                end: None,
            }),
            kind: RequestKind::Segment,
        },
        HostCommand::Fetch {
            request: RequestId(2),
            url: "u".into(),
            range: None,
            kind: RequestKind::Text,
        },
        HostCommand::CancelFetch {
            request: RequestId(1),
        },
        HostCommand::QueueAudio {
            epoch: 1,
            samples: vec![0.1; 9],
        },
        HostCommand::StartAudio,
        HostCommand::PauseAudio,
        HostCommand::FlushAudio { epoch: 2 },
        HostCommand::SetAudioGain(0.5),
        HostCommand::WakeAt {
            at: Duration::from_micros(1_234_567),
        },
        HostCommand::ConfigureVideoDecoder {
            generation: 1,
            config: VideoDecoderConfig {
                codec: "avc1.64000d".into(),
                description: Some(vec![1, 100]),
                coded_width: 320,
                coded_height: 180,
                display_width: 320,
                display_height: 180,
            },
        },
        HostCommand::DecodeVideo {
            generation: 1,
            chunk: chunk.clone(),
        },
        HostCommand::FlushVideoDecoder { generation: 1 },
        HostCommand::CloseVideoDecoder,
        HostCommand::PresentFrame { frame: FrameId(3) },
        HostCommand::ReleaseFrame { frame: FrameId(3) },
        HostCommand::ClearVideo,
        HostCommand::ConfigureAudioDecoder {
            generation: 1,
            config: AudioDecoderConfig {
                codec: "opus".into(),
                description: None,
                sample_rate: 48_000,
                channels: 2,
            },
        },
        HostCommand::DecodeAudio {
            generation: 1,
            chunk,
        },
        HostCommand::FlushAudioDecoder { generation: 1 },
        HostCommand::CloseAudioDecoder,
        HostCommand::ShowSubtitles {
            cues: vec![cue.clone(), cue],
        },
    ];
    let error = Error::new(ErrorKind::Network, "gone");
    for e in [
        PlayerEvent::StateChanged(PlaybackState::Buffering),
        PlayerEvent::LoadStart { url: "u".into() },
        PlayerEvent::LoadedMetadata(MediaInfo {
            container: "isomp4".into(),
            audio_codec: "mp4a.40.2".into(),
            video_codec: Some("avc1".into()),
            width: 1,
            height: 2,
            frame_rate: 30.0,
            sample_rate: 48_000,
            channels: 2,
            duration: Some(10.0),
        }),
        PlayerEvent::DurationChanged(10.0),
        PlayerEvent::TimeUpdate(1.0),
        PlayerEvent::Play,
        PlayerEvent::Pause,
        PlayerEvent::Playing,
        PlayerEvent::Waiting,
        PlayerEvent::Seeking(3.0),
        PlayerEvent::Seeked(3.0),
        PlayerEvent::Ended,
        PlayerEvent::Error(error.clone()),
        PlayerEvent::VolumeChanged {
            volume: 0.5,
            muted: false,
        },
        PlayerEvent::RateChanged(2.0),
        PlayerEvent::AudioTrackChanged(1),
        PlayerEvent::TextTracksChanged,
        PlayerEvent::TextTrackChanged(Some(0)),
        PlayerEvent::TextTrackError { track: 0, error },
        PlayerEvent::Resize {
            width: 3,
            height: 4,
        },
        PlayerEvent::Progress {
            buffered_bytes: 5,
            total_bytes: None,
        },
    ] {
        out.push(HostCommand::Emit(e));
    }
    out
}

#[test]
fn every_event_round_trips() {
    for e in events() {
        let bytes = codec::encode_event(&e).unwrap();
        assert_eq!(codec::decode_event(&bytes), Ok(e));
    }
}

#[test]
fn every_command_round_trips() {
    for c in commands() {
        let bytes = codec::encode_command(&c);
        assert_eq!(codec::decode_command(&bytes), Ok(Command::Known(c)));
    }
}

#[test]
fn bulk_payloads_are_raw_bytes() {
    // 64 KiB of body: 1 tag + 8 request id + 4 length + the bytes themselves.
    let e = HostEvent::FetchData {
        request: RequestId(1),
        data: vec![0xAB; 65_536],
    };
    assert_eq!(codec::encode_event(&e).unwrap().len(), 1 + 8 + 4 + 65_536);
    let c = HostCommand::QueueAudio {
        epoch: 1,
        samples: vec![0.0; 1000],
    };
    assert_eq!(codec::encode_command(&c).len(), 1 + 4 + 4 + 4000);
}

#[test]
fn every_prefix_and_corruption_is_an_error_not_a_panic() {
    for e in events() {
        let bytes = codec::encode_event(&e).unwrap();
        for n in 0..bytes.len() {
            assert!(
                codec::decode_event(&bytes[..n]).is_err(),
                "{e:?} cut at {n}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(codec::decode_event(&long), Err(DecodeError::Trailing(1)));
    }
    for c in commands() {
        let bytes = codec::encode_command(&c);
        for n in 0..bytes.len() {
            assert!(
                codec::decode_command(&bytes[..n]).is_err(),
                "{c:?} cut at {n}"
            );
        }
    }
    // A length field claiming 4 GiB allocates nothing: the bytes are not there.
    let mut huge = vec![0x07];
    huge.extend_from_slice(&1u64.to_le_bytes());
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(codec::decode_event(&huge), Err(DecodeError::Truncated));
    assert_eq!(
        codec::decode_event(&[0xEE]),
        Err(DecodeError::BadTag("event", 0xEE))
    );
}

#[test]
fn registry_rejects_bad_handles_and_buffers() {
    let mut r = Registry::default();
    let h = r.create();
    assert_ne!(h, 0);
    let at = r.alloc(16);
    assert_eq!(r.handle(h, 0, at, 17), status::BAD_BUFFER);
    assert_eq!(r.handle(h, 0, at + 1, 1), status::BAD_BUFFER);
    assert_eq!(r.handle(h + 1, 0, at, 0), status::BAD_EVENT);
    assert_eq!(r.poll(h + 1), i64::from(status::BAD_HANDLE));
    assert_eq!(r.free(at), status::OK);
    assert_eq!(r.free(at), status::BAD_BUFFER);
    assert_eq!(r.destroy(h), status::OK);
    assert_eq!(r.destroy(h), status::BAD_HANDLE);
}

#[test]
fn a_load_through_the_abi_asks_for_the_first_bytes() {
    let mut r = Registry::default();
    let h = r.create();
    let event = codec::encode_event(&HostEvent::App(AppRequest::Load {
        url: "http://h/a.mp4".into(),
    }))
    .unwrap();
    let at = r.alloc(event.len());
    // The host writes into the module's memory; natively, stand in through a fresh buffer.
    r.free(at);
    let at = r.alloc_with(&event);
    assert_eq!(r.handle(h, 0, at, event.len()), status::OK);
    let mut fetched = false;
    loop {
        let n = r.poll(h);
        assert!(n >= 0);
        if n == 0 {
            break;
        }
        if let Ok(Command::Known(HostCommand::Fetch { range, .. })) =
            codec::decode_command(r.last_command(h))
        {
            assert_eq!(range.map(|r| r.start), Some(0));
            fetched = true;
        }
    }
    assert!(fetched);
}

#[test]
fn key_names_cover_the_remote() {
    assert_eq!(codec::key_from_name("PlayPause"), Some(Key::PlayPause));
    assert_eq!(codec::key_from_name("FastForward"), Some(Key::FastForward));
    assert_eq!(codec::key_from_name("Digit9"), Some(Key::Digit(9)));
    assert_eq!(codec::key_from_name("Digit10"), None);
    assert_eq!(codec::key_from_name("Nope"), None);
}
