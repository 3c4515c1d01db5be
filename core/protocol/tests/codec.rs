//! The byte encoding round-trips every variant of every message of the protocol, and rejects
//! truncated or malformed buffers with an error (never a panic or a huge allocation).
//!
//! "Every variant" is checked, not assumed: `event_variant`, `app_variant`, `command_variant`
//! and `player_event_variant` are exhaustive matches (no wildcard arm), so a variant added to
//! the protocol does not compile here until it has a number, and the tests assert that the
//! samples below cover every number.

use std::collections::BTreeSet;
use std::time::Duration;

use kinema_protocol::codec::{self, DecodeError};
use kinema_protocol::controls::{
    ControlButton, ControlId, ControlTarget, ControlsView, MenuItem, MenuKind, MenuView,
};
use kinema_protocol::message::*;
use kinema_protocol::text::{SubtitleCue, TextAlign, TextRun, TextTrackKind, Vertical};
use kinema_protocol::{Action, Error, ErrorKind, InputEvent, Key, PlaybackState};

/// Numbers the variants of [`HostEvent`] (`App` counts once per request, see `app_variant`).
fn event_variant(e: &HostEvent) -> usize {
    match e {
        HostEvent::App(_) => 0,
        HostEvent::Tick => 1,
        HostEvent::AudioDeviceReady { .. } => 2,
        HostEvent::AudioDeviceUnavailable { .. } => 3,
        HostEvent::AudioProgress { .. } => 4,
        HostEvent::FetchResponse { .. } => 5,
        HostEvent::FetchData { .. } => 6,
        HostEvent::FetchEnd { .. } => 7,
        HostEvent::FetchFailed { .. } => 8,
        HostEvent::Input(_) => 9,
        HostEvent::WallClock { .. } => 10,
        HostEvent::VideoFrameDecoded { .. } => 11,
        HostEvent::VideoDecoderFlushed { .. } => 12,
        HostEvent::VideoDecoderError { .. } => 13,
        HostEvent::AudioDecoded { .. } => 14,
        HostEvent::AudioDecoderFlushed { .. } => 15,
        HostEvent::AudioDecoderError { .. } => 16,
        HostEvent::VideoDecoderDepth { .. } => 17,
        HostEvent::VideoPresentLead { .. } => 18,
    }
}
const EVENT_VARIANTS: usize = 19;

fn app_variant(a: &AppRequest) -> usize {
    match a {
        AppRequest::Load { .. } => 0,
        AppRequest::Play => 1,
        AppRequest::Pause => 2,
        AppRequest::Seek { .. } => 3,
        AppRequest::SetVolume(_) => 4,
        AppRequest::SetMuted(_) => 5,
        AppRequest::SetRate(_) => 6,
        AppRequest::SetLoop(_) => 7,
        AppRequest::Unload => 8,
        AppRequest::SelectQuality(_) => 9,
        AppRequest::SetMaxVideoHeight(_) => 10,
        AppRequest::SelectAudioTrack(_) => 11,
        AppRequest::AddTextTrack { .. } => 12,
        AppRequest::SelectTextTrack(_) => 13,
        AppRequest::SetControls(_) => 14,
        AppRequest::ControlsActivate(_) => 15,
        AppRequest::ControlsPoke => 16,
        AppRequest::Suspend => 17,
        AppRequest::Resume => 18,
        AppRequest::BindKey { .. } => 19,
        AppRequest::SetMemoryBudget(_) => 20,
    }
}
const APP_VARIANTS: usize = 21;

fn command_variant(c: &HostCommand) -> usize {
    match c {
        HostCommand::Fetch { .. } => 0,
        HostCommand::CancelFetch { .. } => 1,
        HostCommand::QueueAudio { .. } => 2,
        HostCommand::StartAudio => 3,
        HostCommand::PauseAudio => 4,
        HostCommand::FlushAudio { .. } => 5,
        HostCommand::SetAudioGain(_) => 6,
        HostCommand::WakeAt { .. } => 7,
        HostCommand::Emit(_) => 8,
        HostCommand::ConfigureVideoDecoder { .. } => 9,
        HostCommand::DecodeVideo { .. } => 10,
        HostCommand::FlushVideoDecoder { .. } => 11,
        HostCommand::CloseVideoDecoder => 12,
        HostCommand::PresentFrame { .. } => 13,
        HostCommand::ReleaseFrame { .. } => 14,
        HostCommand::ClearVideo => 15,
        HostCommand::ConfigureAudioDecoder { .. } => 16,
        HostCommand::DecodeAudio { .. } => 17,
        HostCommand::FlushAudioDecoder { .. } => 18,
        HostCommand::CloseAudioDecoder => 19,
        HostCommand::ShowSubtitles { .. } => 20,
        HostCommand::ShowControls(_) => 21,
    }
}
const COMMAND_VARIANTS: usize = 22;

fn player_event_variant(e: &PlayerEvent) -> usize {
    match e {
        PlayerEvent::StateChanged(_) => 0,
        PlayerEvent::LoadStart { .. } => 1,
        PlayerEvent::LoadedMetadata(_) => 2,
        PlayerEvent::DurationChanged(_) => 3,
        PlayerEvent::TimeUpdate(_) => 4,
        PlayerEvent::Play => 5,
        PlayerEvent::Pause => 6,
        PlayerEvent::Playing => 7,
        PlayerEvent::Waiting => 8,
        PlayerEvent::Seeking(_) => 9,
        PlayerEvent::Seeked(_) => 10,
        PlayerEvent::Ended => 11,
        PlayerEvent::Error(_) => 12,
        PlayerEvent::VolumeChanged { .. } => 13,
        PlayerEvent::RateChanged(_) => 14,
        PlayerEvent::AudioTrackChanged(_) => 15,
        PlayerEvent::TextTracksChanged => 16,
        PlayerEvent::TextTrackChanged(_) => 17,
        PlayerEvent::TextTrackError { .. } => 18,
        PlayerEvent::Resize { .. } => 19,
        PlayerEvent::UnhandledKey(_) => 20,
        PlayerEvent::Suspended { .. } => 21,
        PlayerEvent::Resumed(_) => 22,
        PlayerEvent::Progress { .. } => 23,
        PlayerEvent::Warning(_) => 24,
    }
}
const PLAYER_EVENT_VARIANTS: usize = 25;

/// Every value of the small enums the messages carry.
const ALL_KEYS: [Key; 34] = [
    Key::Up,
    Key::Down,
    Key::Left,
    Key::Right,
    Key::Ok,
    Key::Back,
    Key::Play,
    Key::Pause,
    Key::PlayPause,
    Key::Stop,
    Key::Rewind,
    Key::FastForward,
    Key::Next,
    Key::Previous,
    Key::Red,
    Key::Green,
    Key::Yellow,
    Key::Blue,
    Key::Info,
    Key::Subtitle,
    Key::Audio,
    Key::Mute,
    Key::VolumeUp,
    Key::VolumeDown,
    Key::Digit(0),
    Key::Digit(1),
    Key::Digit(2),
    Key::Digit(3),
    Key::Digit(4),
    Key::Digit(5),
    Key::Digit(6),
    Key::Digit(7),
    Key::Digit(8),
    Key::Digit(9),
];

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
        HostEvent::App(AppRequest::SetControls(true)),
        HostEvent::App(AppRequest::ControlsActivate(ControlTarget::Button(
            ControlId::Quality,
        ))),
        HostEvent::App(AppRequest::ControlsActivate(ControlTarget::Item(3))),
        HostEvent::App(AppRequest::ControlsPoke),
        HostEvent::App(AppRequest::Suspend),
        HostEvent::App(AppRequest::Resume),
        HostEvent::App(AppRequest::BindKey {
            key: Key::Red,
            action: Some(Action::SeekBy(-5.5)),
        }),
        HostEvent::App(AppRequest::BindKey {
            key: Key::Digit(3),
            action: None,
        }),
        HostEvent::App(AppRequest::SetMemoryBudget(Some(64 << 20))),
        HostEvent::App(AppRequest::SetMemoryBudget(None)),
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
        HostEvent::VideoDecoderDepth { chunks: Some(16) },
        HostEvent::VideoDecoderDepth { chunks: None },
        HostEvent::VideoPresentLead { micros: 41_500 },
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
                rotation: 270,
                flip: true,
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
        HostCommand::ShowControls(ControlsView {
            visible: true,
            paused: false,
            buttons: vec![
                ControlButton {
                    id: ControlId::PlayPause,
                    label: "Pause".into(),
                    focused: true,
                    enabled: true,
                },
                ControlButton {
                    id: ControlId::Quality,
                    label: "Quality".into(),
                    focused: false,
                    enabled: false,
                },
            ],
            menu: Some(MenuView {
                kind: MenuKind::Subtitles,
                title: "Subtitles".into(),
                items: vec![MenuItem {
                    label: "Off".into(),
                    selected: true,
                    focused: false,
                }],
            }),
        }),
        HostCommand::ShowControls(ControlsView {
            visible: false,
            paused: true,
            buttons: vec![],
            menu: None,
        }),
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
        PlayerEvent::TextTrackError {
            track: 0,
            error: error.clone(),
        },
        PlayerEvent::Warning(error),
        PlayerEvent::Resize {
            width: 3,
            height: 4,
        },
        PlayerEvent::Progress {
            buffered_bytes: 5,
            total_bytes: None,
        },
        PlayerEvent::UnhandledKey(Key::Back),
        PlayerEvent::Suspended { position: 12.5 },
        PlayerEvent::Resumed(12.5),
    ] {
        out.push(HostCommand::Emit(e));
    }
    out
}

#[test]
fn the_samples_cover_every_variant() {
    let events = events();
    let seen: BTreeSet<usize> = events.iter().map(event_variant).collect();
    assert_eq!(seen, (0..EVENT_VARIANTS).collect(), "HostEvent variants");
    let seen: BTreeSet<usize> = events
        .iter()
        .filter_map(|e| match e {
            HostEvent::App(a) => Some(app_variant(a)),
            _ => None,
        })
        .collect();
    assert_eq!(seen, (0..APP_VARIANTS).collect(), "AppRequest variants");
    let commands = commands();
    let seen: BTreeSet<usize> = commands.iter().map(command_variant).collect();
    assert_eq!(
        seen,
        (0..COMMAND_VARIANTS).collect(),
        "HostCommand variants"
    );
    let seen: BTreeSet<usize> = commands
        .iter()
        .filter_map(|c| match c {
            HostCommand::Emit(e) => Some(player_event_variant(e)),
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        (0..PLAYER_EVENT_VARIANTS).collect(),
        "PlayerEvent variants"
    );
}

#[test]
fn every_event_round_trips() {
    for e in events() {
        let bytes = codec::encode_event(&e);
        assert_eq!(codec::decode_event(&bytes), Ok(e));
    }
}

#[test]
fn every_command_round_trips() {
    for c in commands() {
        let bytes = codec::encode_command(&c);
        assert_eq!(codec::decode_command(&bytes), Ok(c));
    }
}

#[test]
fn every_value_of_the_small_enums_round_trips() {
    let mut events = Vec::new();
    for key in ALL_KEYS {
        events.push(HostEvent::Input(InputEvent::KeyDown { key, repeat: false }));
    }
    for kind in [
        FetchErrorKind::Network,
        FetchErrorKind::Timeout,
        FetchErrorKind::Aborted,
        FetchErrorKind::Refused,
    ] {
        events.push(HostEvent::FetchFailed {
            request: RequestId(1),
            kind,
            message: String::new(),
        });
    }
    for action in [
        Action::TogglePlay,
        Action::Play,
        Action::Pause,
        Action::SeekBy(1.0),
        Action::VolumeBy(-0.1),
        Action::ToggleMute,
        Action::Stop,
        Action::SeekToFraction(0.5),
    ] {
        events.push(HostEvent::App(AppRequest::BindKey {
            key: Key::Ok,
            action: Some(action),
        }));
    }
    for id in [
        ControlId::Rewind,
        ControlId::PlayPause,
        ControlId::FastForward,
        ControlId::Audio,
        ControlId::Subtitles,
        ControlId::Quality,
    ] {
        events.push(HostEvent::App(AppRequest::ControlsActivate(
            ControlTarget::Button(id),
        )));
    }
    for e in events {
        assert_eq!(codec::decode_event(&codec::encode_event(&e)), Ok(e));
    }
    let mut commands = Vec::new();
    // `RequestKind::ALL` lists every kind once, in tag order (the ABI's table): a kind added
    // to the enum fails to compile here until it is listed.
    let position = |k: RequestKind| match k {
        RequestKind::Media => 0,
        RequestKind::Manifest => 1,
        RequestKind::Playlist => 2,
        RequestKind::Index => 3,
        RequestKind::Init => 4,
        RequestKind::Segment => 5,
        RequestKind::Text => 6,
        RequestKind::Key => 7,
    };
    for (i, kind) in RequestKind::ALL.into_iter().enumerate() {
        assert_eq!(position(kind), i, "{kind:?}");
        // The kind's byte is the last of a Fetch without a range (tag, id, url, range, kind).
        let bytes = codec::encode_command(&HostCommand::Fetch {
            request: RequestId(1),
            url: String::new(),
            range: None,
            kind,
        });
        assert_eq!(bytes.last(), Some(&(i as u8)), "{kind:?}");
    }
    for kind in RequestKind::ALL {
        commands.push(HostCommand::Fetch {
            request: RequestId(1),
            url: String::new(),
            range: None,
            kind,
        });
    }
    for s in [
        PlaybackState::Idle,
        PlaybackState::Loading,
        PlaybackState::Paused,
        PlaybackState::Playing,
        PlaybackState::Buffering,
        PlaybackState::Ended,
        PlaybackState::Error,
    ] {
        commands.push(HostCommand::Emit(PlayerEvent::StateChanged(s)));
    }
    for kind in [
        ErrorKind::Network,
        ErrorKind::Decode,
        ErrorKind::Unsupported,
        ErrorKind::Limit,
        ErrorKind::Aborted,
        ErrorKind::AudioOutput,
        ErrorKind::InvalidState,
    ] {
        commands.push(HostCommand::Emit(PlayerEvent::Error(Error::new(kind, "m"))));
    }
    for key in ALL_KEYS {
        commands.push(HostCommand::Emit(PlayerEvent::UnhandledKey(key)));
    }
    for kind in [MenuKind::Audio, MenuKind::Subtitles, MenuKind::Quality] {
        commands.push(HostCommand::ShowControls(ControlsView {
            visible: true,
            paused: true,
            buttons: vec![],
            menu: Some(MenuView {
                kind,
                title: String::new(),
                items: vec![],
            }),
        }));
    }
    for (align, vertical) in [
        (TextAlign::Start, Vertical::Horizontal),
        (TextAlign::Center, Vertical::GrowingLeft),
        (TextAlign::End, Vertical::GrowingRight),
        (TextAlign::Left, Vertical::Horizontal),
        (TextAlign::Right, Vertical::Horizontal),
    ] {
        commands.push(HostCommand::ShowSubtitles {
            cues: vec![SubtitleCue {
                id: 1,
                cue_id: String::new(),
                start: 0.0,
                end: 1.0,
                text: String::new(),
                x: 0.0,
                y: 0.0,
                width: 1.0,
                height: 1.0,
                line_height: 1.0,
                font_size: 1.0,
                align,
                rtl: false,
                vertical,
                lines: vec![],
            }],
        });
    }
    for c in commands {
        assert_eq!(codec::decode_command(&codec::encode_command(&c)), Ok(c));
    }
}

#[test]
fn bulk_payloads_are_raw_bytes() {
    // 64 KiB of body: 1 tag + 8 request id + 4 length + the bytes themselves.
    let e = HostEvent::FetchData {
        request: RequestId(1),
        data: vec![0xAB; 65_536],
    };
    assert_eq!(codec::encode_event(&e).len(), 1 + 8 + 4 + 65_536);
    let c = HostCommand::QueueAudio {
        epoch: 1,
        samples: vec![0.0; 1000],
    };
    assert_eq!(codec::encode_command(&c).len(), 1 + 4 + 4 + 4000);
}

#[test]
fn every_prefix_and_corruption_is_an_error_not_a_panic() {
    for e in events() {
        let bytes = codec::encode_event(&e);
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
