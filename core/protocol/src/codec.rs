//! The byte encoding of [`HostEvent`] and [`HostCommand`] across a module boundary (the
//! set-top ABI, specified in `device-shims/settop/ABI.md`).
//!
//! Every variant of every message is encoded: the encoders are exhaustive matches (no
//! wildcard arm), so a variant added to the protocol does not compile until it has a tag here,
//! and the round-trip test in this file lists one sample of each variant, checked by another
//! exhaustive match.
//!
//! Hand-written on purpose: the bulky payloads (fetched body bytes, PCM, compressed video
//! chunks) must cross as raw little-endian bytes, not as JSON arrays of numbers; a serde
//! format (postcard, bincode) would need `serde` derives on every protocol type and would
//! still not let the ABI say exactly what sits at which byte. The format is small:
//! a one-byte tag per variant, fixed-width little-endian numbers, `u32`-length-prefixed
//! strings/bytes/`f32` arrays, and a presence byte before optional fields. Every length
//! is checked against the bytes left before anything is allocated, so a hostile buffer
//! can only produce a [`DecodeError`].
//!
//! One file of ~1,400 lines on purpose: every message's encoder and decoder are written side by
//! side in tag order with the shared field helpers, so a reviewer checks a tag table in one
//! place; split by direction, the two halves of each table would drift apart.

use std::time::Duration;

use crate::controls::{
    ControlButton, ControlId, ControlTarget, ControlsView, MenuItem, MenuKind, MenuView,
};
use crate::error::{Error, ErrorKind};
use crate::input::{Action, InputEvent, Key};
use crate::message::{
    AppRequest, AudioDecoderConfig, ByteRange, EncodedChunk, FetchErrorKind, FrameId, HostCommand,
    HostEvent, MediaInfo, PlayerEvent, RequestId, RequestKind, SeekMode, VideoDecoderConfig,
};
use crate::state::PlaybackState;
use crate::text::{Rgba, SubtitleCue, TextAlign, TextRun, TextTrackKind, Vertical};

/// Why a buffer is not a valid message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The buffer ends inside a field.
    Truncated,
    /// A tag byte names no variant.
    BadTag(&'static str, u8),
    /// A string is not UTF-8.
    BadUtf8,
    /// Bytes are left after the message.
    Trailing(usize),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("message truncated"),
            DecodeError::BadTag(what, t) => write!(f, "unknown {what} tag {t}"),
            DecodeError::BadUtf8 => f.write_str("string is not UTF-8"),
            DecodeError::Trailing(n) => write!(f, "{n} bytes after the message"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Appends little-endian fields to a buffer.
#[derive(Debug, Default)]
struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// Lengths above `u32::MAX` cannot occur in a 32-bit module; saturate rather than wrap.
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.0.extend_from_slice(v);
    }
    fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    fn f32s(&mut self, v: &[f32]) {
        self.len(v.len());
        self.0.reserve(v.len() * 4);
        for s in v {
            self.f32(*s);
        }
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.u32(v);
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.u64(v);
        }
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.f64(v);
        }
    }
    fn opt_str(&mut self, v: Option<&str>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.str(v);
        }
    }
    fn opt_bytes(&mut self, v: Option<&[u8]>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.bytes(v);
        }
    }
    fn opt_index(&mut self, v: Option<usize>) {
        self.opt_u32(v.map(index));
    }
}

fn index(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Reads little-endian fields from a buffer, bounds-checked.
struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.arr::<1>()?[0])
    }
    fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError::BadTag("bool", t)),
        }
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_le_bytes(self.arr()?))
    }
    fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.arr()?))
    }
    fn usize(&mut self) -> Result<usize, DecodeError> {
        Ok(self.u32()? as usize)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.usize()?;
        Ok(self.take(n)?.to_vec())
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?).map_err(|_| DecodeError::BadUtf8)
    }
    fn f32s(&mut self) -> Result<Vec<f32>, DecodeError> {
        let n = self.usize()?;
        let raw = self.take(n.checked_mul(4).ok_or(DecodeError::Truncated)?)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    /// A count of items each at least `min` bytes long: bounds the allocation by the input.
    fn count(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = self.usize()?;
        if n.saturating_mul(min) > self.0.len() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }
    fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.bool()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }
    fn opt_index(&mut self) -> Result<Option<usize>, DecodeError> {
        self.opt(|r| r.usize())
    }
    fn end(self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing(self.0.len()))
        }
    }
}

// ---- shared pieces ----------------------------------------------------------------------

/// Decoding order of the key tags (`KEYS[tag]`); [`key_tag`] is the encoding.
const KEYS: [Key; 24] = [
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
];
/// Key tag of `Digit(n)` (followed by `n`).
const KEY_DIGIT: u8 = 100;

/// The tag of a key (for a digit, [`KEY_DIGIT`]; else its index in [`KEYS`]).
fn key_tag(key: Key) -> u8 {
    match key {
        Key::Up => 0,
        Key::Down => 1,
        Key::Left => 2,
        Key::Right => 3,
        Key::Ok => 4,
        Key::Back => 5,
        Key::Play => 6,
        Key::Pause => 7,
        Key::PlayPause => 8,
        Key::Stop => 9,
        Key::Rewind => 10,
        Key::FastForward => 11,
        Key::Next => 12,
        Key::Previous => 13,
        Key::Red => 14,
        Key::Green => 15,
        Key::Yellow => 16,
        Key::Blue => 17,
        Key::Info => 18,
        Key::Subtitle => 19,
        Key::Audio => 20,
        Key::Mute => 21,
        Key::VolumeUp => 22,
        Key::VolumeDown => 23,
        Key::Digit(_) => KEY_DIGIT,
    }
}

fn put_key(w: &mut W, key: Key) {
    w.u8(key_tag(key));
    if let Key::Digit(n) = key {
        w.u8(n);
    }
}

fn get_key(r: &mut R<'_>) -> Result<Key, DecodeError> {
    match r.u8()? {
        KEY_DIGIT => Ok(Key::Digit(r.u8()?)),
        t => pick(&KEYS, "key", t),
    }
}

fn put_action(w: &mut W, a: Option<Action>) {
    match a {
        None => w.u8(0),
        Some(Action::TogglePlay) => w.u8(1),
        Some(Action::Play) => w.u8(2),
        Some(Action::Pause) => w.u8(3),
        Some(Action::SeekBy(v)) => {
            w.u8(4);
            w.f64(v);
        }
        Some(Action::VolumeBy(v)) => {
            w.u8(5);
            w.f64(v);
        }
        Some(Action::ToggleMute) => w.u8(6),
        Some(Action::Stop) => w.u8(7),
        Some(Action::SeekToFraction(v)) => {
            w.u8(8);
            w.f64(v);
        }
    }
}

fn get_action(r: &mut R<'_>) -> Result<Option<Action>, DecodeError> {
    Ok(Some(match r.u8()? {
        0 => return Ok(None),
        1 => Action::TogglePlay,
        2 => Action::Play,
        3 => Action::Pause,
        4 => Action::SeekBy(r.f64()?),
        5 => Action::VolumeBy(r.f64()?),
        6 => Action::ToggleMute,
        7 => Action::Stop,
        8 => Action::SeekToFraction(r.f64()?),
        t => return Err(DecodeError::BadTag("action", t)),
    }))
}

/// Decoding order of the control buttons; [`control_tag`] is the encoding.
const CONTROLS: [ControlId; 6] = [
    ControlId::Rewind,
    ControlId::PlayPause,
    ControlId::FastForward,
    ControlId::Audio,
    ControlId::Subtitles,
    ControlId::Quality,
];

fn control_tag(id: ControlId) -> u8 {
    match id {
        ControlId::Rewind => 0,
        ControlId::PlayPause => 1,
        ControlId::FastForward => 2,
        ControlId::Audio => 3,
        ControlId::Subtitles => 4,
        ControlId::Quality => 5,
    }
}

/// Decoding order of the menus; [`menu_tag`] is the encoding.
const MENUS: [MenuKind; 3] = [MenuKind::Audio, MenuKind::Subtitles, MenuKind::Quality];

fn menu_tag(kind: MenuKind) -> u8 {
    match kind {
        MenuKind::Audio => 0,
        MenuKind::Subtitles => 1,
        MenuKind::Quality => 2,
    }
}

fn put_target(w: &mut W, t: ControlTarget) {
    match t {
        ControlTarget::Button(id) => {
            w.u8(0);
            w.u8(control_tag(id));
        }
        ControlTarget::Item(n) => {
            w.u8(1);
            w.u32(index(n));
        }
    }
}

fn get_target(r: &mut R<'_>) -> Result<ControlTarget, DecodeError> {
    Ok(match r.u8()? {
        0 => ControlTarget::Button(pick(&CONTROLS, "control", r.u8()?)?),
        1 => ControlTarget::Item(r.usize()?),
        t => return Err(DecodeError::BadTag("control target", t)),
    })
}

fn put_controls(w: &mut W, v: &ControlsView) {
    w.bool(v.visible);
    w.bool(v.paused);
    w.len(v.buttons.len());
    for b in &v.buttons {
        w.u8(control_tag(b.id));
        w.str(&b.label);
        w.bool(b.focused);
        w.bool(b.enabled);
    }
    w.bool(v.menu.is_some());
    if let Some(m) = &v.menu {
        w.u8(menu_tag(m.kind));
        w.str(&m.title);
        w.len(m.items.len());
        for i in &m.items {
            w.str(&i.label);
            w.bool(i.selected);
            w.bool(i.focused);
        }
    }
}

fn get_controls(r: &mut R<'_>) -> Result<ControlsView, DecodeError> {
    let visible = r.bool()?;
    let paused = r.bool()?;
    let n = r.count(7)?;
    let mut buttons = Vec::with_capacity(n);
    for _ in 0..n {
        buttons.push(ControlButton {
            id: pick(&CONTROLS, "control", r.u8()?)?,
            label: r.str()?,
            focused: r.bool()?,
            enabled: r.bool()?,
        });
    }
    let menu = r.opt(|r| {
        let kind = pick(&MENUS, "menu", r.u8()?)?;
        let title = r.str()?;
        let n = r.count(6)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(MenuItem {
                label: r.str()?,
                selected: r.bool()?,
                focused: r.bool()?,
            });
        }
        Ok(MenuView { kind, title, items })
    })?;
    Ok(ControlsView {
        visible,
        paused,
        buttons,
        menu,
    })
}

const ERROR_KINDS: [ErrorKind; 7] = [
    ErrorKind::Network,
    ErrorKind::Decode,
    ErrorKind::Unsupported,
    ErrorKind::Limit,
    ErrorKind::Aborted,
    ErrorKind::AudioOutput,
    ErrorKind::InvalidState,
];

fn put_error(w: &mut W, e: &Error) {
    w.u8(match e.kind {
        ErrorKind::Network => 0,
        ErrorKind::Decode => 1,
        ErrorKind::Unsupported => 2,
        ErrorKind::Limit => 3,
        ErrorKind::Aborted => 4,
        ErrorKind::AudioOutput => 5,
        ErrorKind::InvalidState => 6,
    });
    w.str(&e.message);
}

fn get_error(r: &mut R<'_>) -> Result<Error, DecodeError> {
    let t = r.u8()?;
    let kind = ERROR_KINDS
        .get(usize::from(t))
        .copied()
        .ok_or(DecodeError::BadTag("error kind", t))?;
    Ok(Error::new(kind, r.str()?))
}

const STATES: [PlaybackState; 7] = [
    PlaybackState::Idle,
    PlaybackState::Loading,
    PlaybackState::Paused,
    PlaybackState::Playing,
    PlaybackState::Buffering,
    PlaybackState::Ended,
    PlaybackState::Error,
];

const VERTICALS: [Vertical; 3] = [
    Vertical::Horizontal,
    Vertical::GrowingLeft,
    Vertical::GrowingRight,
];

/// A colour as one `u32`, `0xRRGGBBAA`.
fn rgba_u32(c: Rgba) -> u32 {
    u32::from_be_bytes(c)
}

const ALIGNS: [TextAlign; 5] = [
    TextAlign::Start,
    TextAlign::Center,
    TextAlign::End,
    TextAlign::Left,
    TextAlign::Right,
];

fn state_tag(s: PlaybackState) -> u8 {
    match s {
        PlaybackState::Idle => 0,
        PlaybackState::Loading => 1,
        PlaybackState::Paused => 2,
        PlaybackState::Playing => 3,
        PlaybackState::Buffering => 4,
        PlaybackState::Ended => 5,
        PlaybackState::Error => 6,
    }
}

fn vertical_tag(v: Vertical) -> u8 {
    match v {
        Vertical::Horizontal => 0,
        Vertical::GrowingLeft => 1,
        Vertical::GrowingRight => 2,
    }
}

fn align_tag(a: TextAlign) -> u8 {
    match a {
        TextAlign::Start => 0,
        TextAlign::Center => 1,
        TextAlign::End => 2,
        TextAlign::Left => 3,
        TextAlign::Right => 4,
    }
}

fn fetch_error_tag(k: FetchErrorKind) -> u8 {
    match k {
        FetchErrorKind::Network => 0,
        FetchErrorKind::Timeout => 1,
        FetchErrorKind::Aborted => 2,
        FetchErrorKind::Refused => 3,
    }
}

/// The tag of a request kind: its index in [`RequestKind::ALL`].
fn request_kind_tag(k: RequestKind) -> u8 {
    match k {
        RequestKind::Media => 0,
        RequestKind::Manifest => 1,
        RequestKind::Playlist => 2,
        RequestKind::Index => 3,
        RequestKind::Init => 4,
        RequestKind::Segment => 5,
        RequestKind::Text => 6,
        RequestKind::Key => 7,
    }
}

fn pick<T: Copy>(all: &[T], what: &'static str, t: u8) -> Result<T, DecodeError> {
    all.get(usize::from(t))
        .copied()
        .ok_or(DecodeError::BadTag(what, t))
}

fn put_chunk(w: &mut W, c: &EncodedChunk) {
    w.i64(c.timestamp_us);
    w.i64(c.duration_us);
    w.bool(c.key);
    w.bytes(&c.data);
}

fn get_chunk(r: &mut R<'_>) -> Result<EncodedChunk, DecodeError> {
    Ok(EncodedChunk {
        timestamp_us: r.i64()?,
        duration_us: r.i64()?,
        key: r.bool()?,
        data: r.bytes()?,
    })
}

fn put_cue(w: &mut W, c: &SubtitleCue) {
    w.u64(c.id);
    w.str(&c.cue_id);
    w.f64(c.start);
    w.f64(c.end);
    w.str(&c.text);
    for v in [c.x, c.y, c.width, c.height, c.line_height, c.font_size] {
        w.f64(v);
    }
    w.u8(align_tag(c.align));
    w.bool(c.rtl);
    w.u8(vertical_tag(c.vertical));
    w.len(c.lines.len());
    for line in &c.lines {
        w.len(line.len());
        for run in line {
            w.str(&run.text);
            w.bool(run.bold);
            w.bool(run.italic);
            w.bool(run.underline);
            w.opt_u32(run.color.map(rgba_u32));
            w.opt_u32(run.background.map(rgba_u32));
        }
    }
}

fn get_cue(r: &mut R<'_>) -> Result<SubtitleCue, DecodeError> {
    let id = r.u64()?;
    let cue_id = r.str()?;
    let start = r.f64()?;
    let end = r.f64()?;
    let text = r.str()?;
    let (x, y, width, height) = (r.f64()?, r.f64()?, r.f64()?, r.f64()?);
    let (line_height, font_size) = (r.f64()?, r.f64()?);
    let align = pick(&ALIGNS, "align", r.u8()?)?;
    let rtl = r.bool()?;
    let vertical = pick(&VERTICALS, "vertical", r.u8()?)?;
    let n = r.count(4)?;
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        let m = r.count(9)?;
        let mut line = Vec::with_capacity(m);
        for _ in 0..m {
            line.push(TextRun {
                text: r.str()?,
                bold: r.bool()?,
                italic: r.bool()?,
                underline: r.bool()?,
                color: r.opt(|r| r.u32())?.map(u32::to_be_bytes),
                background: r.opt(|r| r.u32())?.map(u32::to_be_bytes),
            });
        }
        lines.push(line);
    }
    Ok(SubtitleCue {
        id,
        cue_id,
        start,
        end,
        text,
        x,
        y,
        width,
        height,
        line_height,
        font_size,
        align,
        rtl,
        vertical,
        lines,
    })
}

const FETCH_ERRORS: [FetchErrorKind; 4] = [
    FetchErrorKind::Network,
    FetchErrorKind::Timeout,
    FetchErrorKind::Aborted,
    FetchErrorKind::Refused,
];

// ---- events (host → core) ---------------------------------------------------------------

/// Encodes one event.
pub fn encode_event(e: &HostEvent) -> Vec<u8> {
    let mut w = W::default();
    match e {
        HostEvent::App(a) => {
            w.u8(0x01);
            put_app(&mut w, a);
        }
        HostEvent::Tick => w.u8(0x02),
        HostEvent::AudioDeviceReady {
            sample_rate,
            channels,
        } => {
            w.u8(0x03);
            w.u32(*sample_rate);
            w.u16(*channels);
        }
        HostEvent::AudioDeviceUnavailable { reason } => {
            w.u8(0x04);
            w.str(reason);
        }
        HostEvent::AudioProgress {
            epoch,
            frames_played,
        } => {
            w.u8(0x05);
            w.u32(*epoch);
            w.u64(*frames_played);
        }
        HostEvent::FetchResponse {
            request,
            status,
            content_length,
            content_range,
        } => {
            w.u8(0x06);
            w.u64(request.0);
            w.u16(*status);
            w.opt_u64(*content_length);
            w.opt_str(content_range.as_deref());
        }
        HostEvent::FetchData { request, data } => {
            w.u8(0x07);
            w.u64(request.0);
            w.bytes(data);
        }
        HostEvent::FetchEnd { request } => {
            w.u8(0x08);
            w.u64(request.0);
        }
        HostEvent::FetchFailed {
            request,
            kind,
            message,
        } => {
            w.u8(0x09);
            w.u64(request.0);
            w.u8(fetch_error_tag(*kind));
            w.str(message);
        }
        HostEvent::Input(i) => {
            w.u8(0x0A);
            match i {
                InputEvent::KeyDown { key, repeat } => {
                    w.u8(0);
                    put_key(&mut w, *key);
                    w.bool(*repeat);
                }
                InputEvent::KeyUp { key } => {
                    w.u8(1);
                    put_key(&mut w, *key);
                }
            }
        }
        HostEvent::WallClock { unix_ms } => {
            w.u8(0x0B);
            w.i64(*unix_ms);
        }
        HostEvent::VideoFrameDecoded {
            generation,
            frame,
            timestamp_us,
            duration_us,
            width,
            height,
        } => {
            w.u8(0x0C);
            w.u32(*generation);
            w.u64(frame.0);
            w.i64(*timestamp_us);
            w.i64(*duration_us);
            w.u32(*width);
            w.u32(*height);
        }
        HostEvent::VideoDecoderFlushed { generation } => {
            w.u8(0x0D);
            w.u32(*generation);
        }
        HostEvent::VideoDecoderError {
            generation,
            unsupported,
            message,
        } => {
            w.u8(0x0E);
            w.u32(*generation);
            w.bool(*unsupported);
            w.str(message);
        }
        HostEvent::AudioDecoded {
            generation,
            timestamp_us,
            sample_rate,
            channels,
            samples,
        } => {
            w.u8(0x0F);
            w.u32(*generation);
            w.i64(*timestamp_us);
            w.u32(*sample_rate);
            w.u16(*channels);
            w.f32s(samples);
        }
        HostEvent::AudioDecoderFlushed { generation } => {
            w.u8(0x10);
            w.u32(*generation);
        }
        HostEvent::AudioDecoderError {
            generation,
            unsupported,
            message,
        } => {
            w.u8(0x11);
            w.u32(*generation);
            w.bool(*unsupported);
            w.str(message);
        }
        HostEvent::VideoDecoderDepth { chunks } => {
            w.u8(0x12);
            w.opt_u32(*chunks);
        }
        HostEvent::VideoPresentLead { micros } => {
            w.u8(0x13);
            w.u32(*micros);
        }
    }
    w.0
}

fn put_app(w: &mut W, a: &AppRequest) {
    match a {
        AppRequest::Load { url } => {
            w.u8(1);
            w.str(url);
        }
        AppRequest::Play => w.u8(2),
        AppRequest::Pause => w.u8(3),
        AppRequest::Seek { position, mode } => {
            w.u8(4);
            w.f64(*position);
            w.u8(u8::from(*mode == SeekMode::Fast));
        }
        AppRequest::SetVolume(v) => {
            w.u8(5);
            w.f64(*v);
        }
        AppRequest::SetMuted(v) => {
            w.u8(6);
            w.bool(*v);
        }
        AppRequest::SetRate(v) => {
            w.u8(7);
            w.f64(*v);
        }
        AppRequest::SetLoop(v) => {
            w.u8(8);
            w.bool(*v);
        }
        AppRequest::Unload => w.u8(9),
        AppRequest::SelectQuality(v) => {
            w.u8(10);
            w.opt_index(*v);
        }
        AppRequest::SetMaxVideoHeight(v) => {
            w.u8(11);
            w.opt_u32(*v);
        }
        AppRequest::SelectAudioTrack(v) => {
            w.u8(12);
            w.u32(index(*v));
        }
        AppRequest::AddTextTrack {
            url,
            language,
            name,
            kind,
        } => {
            w.u8(13);
            w.str(url);
            w.opt_str(language.as_deref());
            w.str(name);
            w.u8(u8::from(*kind == TextTrackKind::Captions));
        }
        AppRequest::SelectTextTrack(v) => {
            w.u8(14);
            w.opt_index(*v);
        }
        AppRequest::SetControls(v) => {
            w.u8(15);
            w.bool(*v);
        }
        AppRequest::ControlsActivate(t) => {
            w.u8(16);
            put_target(w, *t);
        }
        AppRequest::ControlsPoke => w.u8(17),
        AppRequest::Suspend => w.u8(18),
        AppRequest::Resume => w.u8(19),
        AppRequest::BindKey { key, action } => {
            w.u8(20);
            put_key(w, *key);
            put_action(w, *action);
        }
        AppRequest::SetMemoryBudget(v) => {
            w.u8(21);
            w.opt_u64(*v);
        }
    }
}

fn get_app(r: &mut R<'_>) -> Result<AppRequest, DecodeError> {
    Ok(match r.u8()? {
        1 => AppRequest::Load { url: r.str()? },
        2 => AppRequest::Play,
        3 => AppRequest::Pause,
        4 => AppRequest::Seek {
            position: r.f64()?,
            mode: match r.u8()? {
                0 => SeekMode::Exact,
                1 => SeekMode::Fast,
                t => return Err(DecodeError::BadTag("seek mode", t)),
            },
        },
        5 => AppRequest::SetVolume(r.f64()?),
        6 => AppRequest::SetMuted(r.bool()?),
        7 => AppRequest::SetRate(r.f64()?),
        8 => AppRequest::SetLoop(r.bool()?),
        9 => AppRequest::Unload,
        10 => AppRequest::SelectQuality(r.opt_index()?),
        11 => AppRequest::SetMaxVideoHeight(r.opt(|r| r.u32())?),
        12 => AppRequest::SelectAudioTrack(r.usize()?),
        13 => AppRequest::AddTextTrack {
            url: r.str()?,
            language: r.opt(|r| r.str())?,
            name: r.str()?,
            kind: match r.u8()? {
                0 => TextTrackKind::Subtitles,
                1 => TextTrackKind::Captions,
                t => return Err(DecodeError::BadTag("text track kind", t)),
            },
        },
        14 => AppRequest::SelectTextTrack(r.opt_index()?),
        15 => AppRequest::SetControls(r.bool()?),
        16 => AppRequest::ControlsActivate(get_target(r)?),
        17 => AppRequest::ControlsPoke,
        18 => AppRequest::Suspend,
        19 => AppRequest::Resume,
        20 => AppRequest::BindKey {
            key: get_key(r)?,
            action: get_action(r)?,
        },
        21 => AppRequest::SetMemoryBudget(r.opt(|r| r.u64())?),
        t => return Err(DecodeError::BadTag("app request", t)),
    })
}

/// Decodes one event.
pub fn decode_event(buf: &[u8]) -> Result<HostEvent, DecodeError> {
    let mut r = R(buf);
    let e = match r.u8()? {
        0x01 => HostEvent::App(get_app(&mut r)?),
        0x02 => HostEvent::Tick,
        0x03 => HostEvent::AudioDeviceReady {
            sample_rate: r.u32()?,
            channels: r.u16()?,
        },
        0x04 => HostEvent::AudioDeviceUnavailable { reason: r.str()? },
        0x05 => HostEvent::AudioProgress {
            epoch: r.u32()?,
            frames_played: r.u64()?,
        },
        0x06 => HostEvent::FetchResponse {
            request: RequestId(r.u64()?),
            status: r.u16()?,
            content_length: r.opt(|r| r.u64())?,
            content_range: r.opt(|r| r.str())?,
        },
        0x07 => HostEvent::FetchData {
            request: RequestId(r.u64()?),
            data: r.bytes()?,
        },
        0x08 => HostEvent::FetchEnd {
            request: RequestId(r.u64()?),
        },
        0x09 => HostEvent::FetchFailed {
            request: RequestId(r.u64()?),
            kind: pick(&FETCH_ERRORS, "fetch error", r.u8()?)?,
            message: r.str()?,
        },
        0x0A => HostEvent::Input(match r.u8()? {
            0 => InputEvent::KeyDown {
                key: get_key(&mut r)?,
                repeat: r.bool()?,
            },
            1 => InputEvent::KeyUp {
                key: get_key(&mut r)?,
            },
            t => return Err(DecodeError::BadTag("input", t)),
        }),
        0x0B => HostEvent::WallClock { unix_ms: r.i64()? },
        0x0C => HostEvent::VideoFrameDecoded {
            generation: r.u32()?,
            frame: FrameId(r.u64()?),
            timestamp_us: r.i64()?,
            duration_us: r.i64()?,
            width: r.u32()?,
            height: r.u32()?,
        },
        0x0D => HostEvent::VideoDecoderFlushed {
            generation: r.u32()?,
        },
        0x0E => HostEvent::VideoDecoderError {
            generation: r.u32()?,
            unsupported: r.bool()?,
            message: r.str()?,
        },
        0x0F => HostEvent::AudioDecoded {
            generation: r.u32()?,
            timestamp_us: r.i64()?,
            sample_rate: r.u32()?,
            channels: r.u16()?,
            samples: r.f32s()?,
        },
        0x10 => HostEvent::AudioDecoderFlushed {
            generation: r.u32()?,
        },
        0x11 => HostEvent::AudioDecoderError {
            generation: r.u32()?,
            unsupported: r.bool()?,
            message: r.str()?,
        },
        0x12 => HostEvent::VideoDecoderDepth {
            chunks: r.opt(|r| r.u32())?,
        },
        0x13 => HostEvent::VideoPresentLead { micros: r.u32()? },
        t => return Err(DecodeError::BadTag("event", t)),
    };
    r.end()?;
    Ok(e)
}

// ---- commands (core → host) -------------------------------------------------------------

/// Encodes one command.
pub fn encode_command(c: &HostCommand) -> Vec<u8> {
    let mut w = W::default();
    match c {
        HostCommand::Fetch {
            request,
            url,
            range,
            kind,
        } => {
            w.u8(0x01);
            w.u64(request.0);
            w.str(url);
            w.bool(range.is_some());
            if let Some(r) = range {
                w.u64(r.start);
                w.opt_u64(r.end);
            }
            w.u8(request_kind_tag(*kind));
        }
        HostCommand::CancelFetch { request } => {
            w.u8(0x02);
            w.u64(request.0);
        }
        HostCommand::QueueAudio { epoch, samples } => {
            w.u8(0x03);
            w.u32(*epoch);
            w.f32s(samples);
        }
        HostCommand::StartAudio => w.u8(0x04),
        HostCommand::PauseAudio => w.u8(0x05),
        HostCommand::FlushAudio { epoch } => {
            w.u8(0x06);
            w.u32(*epoch);
        }
        HostCommand::SetAudioGain(g) => {
            w.u8(0x07);
            w.f32(*g);
        }
        HostCommand::WakeAt { at } => {
            w.u8(0x08);
            w.u64(u64::try_from(at.as_micros()).unwrap_or(u64::MAX));
        }
        HostCommand::Emit(e) => {
            w.u8(0x09);
            put_player_event(&mut w, e);
        }
        HostCommand::ConfigureVideoDecoder { generation, config } => {
            w.u8(0x0A);
            w.u32(*generation);
            w.str(&config.codec);
            w.opt_bytes(config.description.as_deref());
            w.u32(config.coded_width);
            w.u32(config.coded_height);
            w.u32(config.display_width);
            w.u32(config.display_height);
            w.u16(config.rotation);
            w.bool(config.flip);
        }
        HostCommand::DecodeVideo { generation, chunk } => {
            w.u8(0x0B);
            w.u32(*generation);
            put_chunk(&mut w, chunk);
        }
        HostCommand::FlushVideoDecoder { generation } => {
            w.u8(0x0C);
            w.u32(*generation);
        }
        HostCommand::CloseVideoDecoder => w.u8(0x0D),
        HostCommand::PresentFrame { frame } => {
            w.u8(0x0E);
            w.u64(frame.0);
        }
        HostCommand::ReleaseFrame { frame } => {
            w.u8(0x0F);
            w.u64(frame.0);
        }
        HostCommand::ClearVideo => w.u8(0x10),
        HostCommand::ConfigureAudioDecoder { generation, config } => {
            w.u8(0x11);
            w.u32(*generation);
            w.str(&config.codec);
            w.opt_bytes(config.description.as_deref());
            w.u32(config.sample_rate);
            w.u16(config.channels);
        }
        HostCommand::DecodeAudio { generation, chunk } => {
            w.u8(0x12);
            w.u32(*generation);
            put_chunk(&mut w, chunk);
        }
        HostCommand::FlushAudioDecoder { generation } => {
            w.u8(0x13);
            w.u32(*generation);
        }
        HostCommand::CloseAudioDecoder => w.u8(0x14),
        HostCommand::ShowSubtitles { cues } => {
            w.u8(0x15);
            w.len(cues.len());
            for cue in cues {
                put_cue(&mut w, cue);
            }
        }
        HostCommand::ShowControls(view) => {
            w.u8(0x16);
            put_controls(&mut w, view);
        }
    }
    w.0
}

fn put_player_event(w: &mut W, e: &PlayerEvent) {
    match e {
        PlayerEvent::StateChanged(s) => {
            w.u8(1);
            w.u8(state_tag(*s));
        }
        PlayerEvent::LoadStart { url } => {
            w.u8(2);
            w.str(url);
        }
        PlayerEvent::LoadedMetadata(m) => {
            w.u8(3);
            w.str(&m.container);
            w.str(&m.audio_codec);
            w.opt_str(m.video_codec.as_deref());
            w.u32(m.width);
            w.u32(m.height);
            w.f64(m.frame_rate);
            w.u32(m.sample_rate);
            w.u16(m.channels);
            w.opt_f64(m.duration);
        }
        PlayerEvent::DurationChanged(v) => {
            w.u8(4);
            w.f64(*v);
        }
        PlayerEvent::TimeUpdate(v) => {
            w.u8(5);
            w.f64(*v);
        }
        PlayerEvent::Play => w.u8(6),
        PlayerEvent::Pause => w.u8(7),
        PlayerEvent::Playing => w.u8(8),
        PlayerEvent::Waiting => w.u8(9),
        PlayerEvent::Seeking(v) => {
            w.u8(10);
            w.f64(*v);
        }
        PlayerEvent::Seeked(v) => {
            w.u8(11);
            w.f64(*v);
        }
        PlayerEvent::Ended => w.u8(12),
        PlayerEvent::Error(e) => {
            w.u8(13);
            put_error(w, e);
        }
        PlayerEvent::VolumeChanged { volume, muted } => {
            w.u8(14);
            w.f64(*volume);
            w.bool(*muted);
        }
        PlayerEvent::RateChanged(v) => {
            w.u8(15);
            w.f64(*v);
        }
        PlayerEvent::AudioTrackChanged(v) => {
            w.u8(16);
            w.u32(index(*v));
        }
        PlayerEvent::TextTracksChanged => w.u8(17),
        PlayerEvent::TextTrackChanged(v) => {
            w.u8(18);
            w.opt_index(*v);
        }
        PlayerEvent::TextTrackError { track, error } => {
            w.u8(19);
            w.u32(index(*track));
            put_error(w, error);
        }
        PlayerEvent::Resize { width, height } => {
            w.u8(20);
            w.u32(*width);
            w.u32(*height);
        }
        PlayerEvent::Progress {
            buffered_bytes,
            total_bytes,
        } => {
            w.u8(21);
            w.u64(*buffered_bytes);
            w.opt_u64(*total_bytes);
        }
        PlayerEvent::UnhandledKey(key) => {
            w.u8(22);
            put_key(w, *key);
        }
        PlayerEvent::Suspended { position } => {
            w.u8(23);
            w.f64(*position);
        }
        PlayerEvent::Resumed(v) => {
            w.u8(24);
            w.f64(*v);
        }
        PlayerEvent::Warning(e) => {
            w.u8(25);
            put_error(w, e);
        }
    }
}

fn get_player_event(r: &mut R<'_>) -> Result<PlayerEvent, DecodeError> {
    Ok(match r.u8()? {
        1 => PlayerEvent::StateChanged(pick(&STATES, "state", r.u8()?)?),
        2 => PlayerEvent::LoadStart { url: r.str()? },
        3 => PlayerEvent::LoadedMetadata(MediaInfo {
            container: r.str()?,
            audio_codec: r.str()?,
            video_codec: r.opt(|r| r.str())?,
            width: r.u32()?,
            height: r.u32()?,
            frame_rate: r.f64()?,
            sample_rate: r.u32()?,
            channels: r.u16()?,
            duration: r.opt(|r| r.f64())?,
        }),
        4 => PlayerEvent::DurationChanged(r.f64()?),
        5 => PlayerEvent::TimeUpdate(r.f64()?),
        6 => PlayerEvent::Play,
        7 => PlayerEvent::Pause,
        8 => PlayerEvent::Playing,
        9 => PlayerEvent::Waiting,
        10 => PlayerEvent::Seeking(r.f64()?),
        11 => PlayerEvent::Seeked(r.f64()?),
        12 => PlayerEvent::Ended,
        13 => PlayerEvent::Error(get_error(r)?),
        14 => PlayerEvent::VolumeChanged {
            volume: r.f64()?,
            muted: r.bool()?,
        },
        15 => PlayerEvent::RateChanged(r.f64()?),
        16 => PlayerEvent::AudioTrackChanged(r.usize()?),
        17 => PlayerEvent::TextTracksChanged,
        18 => PlayerEvent::TextTrackChanged(r.opt_index()?),
        19 => PlayerEvent::TextTrackError {
            track: r.usize()?,
            error: get_error(r)?,
        },
        20 => PlayerEvent::Resize {
            width: r.u32()?,
            height: r.u32()?,
        },
        21 => PlayerEvent::Progress {
            buffered_bytes: r.u64()?,
            total_bytes: r.opt(|r| r.u64())?,
        },
        22 => PlayerEvent::UnhandledKey(get_key(r)?),
        23 => PlayerEvent::Suspended { position: r.f64()? },
        24 => PlayerEvent::Resumed(r.f64()?),
        25 => PlayerEvent::Warning(get_error(r)?),
        t => return Err(DecodeError::BadTag("player event", t)),
    })
}

/// Decodes one command.
pub fn decode_command(buf: &[u8]) -> Result<HostCommand, DecodeError> {
    let mut r = R(buf);
    let c = match r.u8()? {
        0x01 => HostCommand::Fetch {
            request: RequestId(r.u64()?),
            url: r.str()?,
            range: r.opt(|r| {
                Ok(ByteRange {
                    start: r.u64()?,
                    end: r.opt(|r| r.u64())?,
                })
            })?,
            kind: pick(&RequestKind::ALL, "request kind", r.u8()?)?,
        },
        0x02 => HostCommand::CancelFetch {
            request: RequestId(r.u64()?),
        },
        0x03 => HostCommand::QueueAudio {
            epoch: r.u32()?,
            samples: r.f32s()?,
        },
        0x04 => HostCommand::StartAudio,
        0x05 => HostCommand::PauseAudio,
        0x06 => HostCommand::FlushAudio { epoch: r.u32()? },
        0x07 => HostCommand::SetAudioGain(r.f32()?),
        0x08 => HostCommand::WakeAt {
            at: Duration::from_micros(r.u64()?),
        },
        0x09 => HostCommand::Emit(get_player_event(&mut r)?),
        0x0A => HostCommand::ConfigureVideoDecoder {
            generation: r.u32()?,
            config: VideoDecoderConfig {
                codec: r.str()?,
                description: r.opt(|r| r.bytes())?,
                coded_width: r.u32()?,
                coded_height: r.u32()?,
                display_width: r.u32()?,
                display_height: r.u32()?,
                rotation: r.u16()?,
                flip: r.bool()?,
            },
        },
        0x0B => HostCommand::DecodeVideo {
            generation: r.u32()?,
            chunk: get_chunk(&mut r)?,
        },
        0x0C => HostCommand::FlushVideoDecoder {
            generation: r.u32()?,
        },
        0x0D => HostCommand::CloseVideoDecoder,
        0x0E => HostCommand::PresentFrame {
            frame: FrameId(r.u64()?),
        },
        0x0F => HostCommand::ReleaseFrame {
            frame: FrameId(r.u64()?),
        },
        0x10 => HostCommand::ClearVideo,
        0x11 => HostCommand::ConfigureAudioDecoder {
            generation: r.u32()?,
            config: AudioDecoderConfig {
                codec: r.str()?,
                description: r.opt(|r| r.bytes())?,
                sample_rate: r.u32()?,
                channels: r.u16()?,
            },
        },
        0x12 => HostCommand::DecodeAudio {
            generation: r.u32()?,
            chunk: get_chunk(&mut r)?,
        },
        0x13 => HostCommand::FlushAudioDecoder {
            generation: r.u32()?,
        },
        0x14 => HostCommand::CloseAudioDecoder,
        0x15 => {
            let n = r.count(8)?;
            let mut cues = Vec::with_capacity(n);
            for _ in 0..n {
                cues.push(get_cue(&mut r)?);
            }
            HostCommand::ShowSubtitles { cues }
        }
        0x16 => HostCommand::ShowControls(get_controls(&mut r)?),
        t => return Err(DecodeError::BadTag("command", t)),
    };
    r.end()?;
    Ok(c)
}
