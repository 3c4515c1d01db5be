//! Core `PlayerEvent`s as DOM `CustomEvent`s (`type` + `detail`).

use js_sys::{Object, Reflect};
use kinema_core::{MediaInfo, PlayerEvent};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

#[wasm_bindgen]
extern "C" {
    /// `EventTarget`, bound here for its listener methods with options.
    #[wasm_bindgen(js_name = EventTarget)]
    type Target;

    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    fn add(this: &Target, kind: &str, listener: &JsValue, options: &JsValue)
        -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    fn remove(
        this: &Target,
        kind: &str,
        listener: &JsValue,
        options: &JsValue,
    ) -> Result<(), JsValue>;
}

/// `target.addEventListener(kind, listener, options)` taking any listener (function or
/// `handleEvent` object) and options, exactly as the DOM does.
pub fn add_listener(
    target: &EventTarget,
    kind: &str,
    listener: &JsValue,
    options: &JsValue,
) -> Result<(), JsValue> {
    target
        .unchecked_ref::<Target>()
        .add(kind, listener, options)
}

/// `target.removeEventListener(kind, listener, options)`, likewise.
pub fn remove_listener(
    target: &EventTarget,
    kind: &str,
    listener: &JsValue,
    options: &JsValue,
) -> Result<(), JsValue> {
    target
        .unchecked_ref::<Target>()
        .remove(kind, listener, options)
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// `{container, audioCodec, videoCodec, width, height, frameRate, sampleRate, channels,
/// duration}`.
pub fn info_object(info: &MediaInfo) -> JsValue {
    object(&[
        ("container", info.container.as_str().into()),
        ("audioCodec", info.audio_codec.as_str().into()),
        (
            "videoCodec",
            info.video_codec
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        ),
        ("width", info.width.into()),
        ("height", info.height.into()),
        ("frameRate", info.frame_rate.into()),
        ("sampleRate", info.sample_rate.into()),
        ("channels", info.channels.into()),
        ("duration", info.duration.unwrap_or(f64::NAN).into()),
    ])
}

/// `{kind, message}` of an error.
pub fn error_object(e: &kinema_core::Error) -> JsValue {
    object(&[
        ("kind", e.kind.as_str().into()),
        ("message", e.message.as_str().into()),
    ])
}

/// The DOM event type and detail of a core event.
pub fn to_dom(event: &PlayerEvent) -> Option<(&'static str, JsValue)> {
    Some(match event {
        PlayerEvent::StateChanged(s) => ("statechange", s.as_str().into()),
        PlayerEvent::LoadStart { url } => ("loadstart", url.as_str().into()),
        PlayerEvent::LoadedMetadata(info) => ("loadedmetadata", info_object(info)),
        PlayerEvent::DurationChanged(d) => ("durationchange", (*d).into()),
        PlayerEvent::TimeUpdate(t) => ("timeupdate", (*t).into()),
        PlayerEvent::Play => ("play", JsValue::NULL),
        PlayerEvent::Pause => ("pause", JsValue::NULL),
        PlayerEvent::Playing => ("playing", JsValue::NULL),
        PlayerEvent::Waiting => ("waiting", JsValue::NULL),
        PlayerEvent::Seeking(t) => ("seeking", (*t).into()),
        PlayerEvent::Seeked(t) => ("seeked", (*t).into()),
        PlayerEvent::Ended => ("ended", JsValue::NULL),
        PlayerEvent::Error(e) => ("error", error_object(e)),
        PlayerEvent::Warning(e) => {
            let detail = error_object(e);
            let _ = js_sys::Reflect::set(&detail, &"fatal".into(), &false.into());
            ("warning", detail)
        }
        PlayerEvent::VolumeChanged { volume, muted } => (
            "volumechange",
            object(&[("volume", (*volume).into()), ("muted", (*muted).into())]),
        ),
        PlayerEvent::RateChanged(r) => ("ratechange", (*r).into()),
        PlayerEvent::AudioTrackChanged(i) => ("audiotrackchange", (*i as u32).into()),
        PlayerEvent::TextTracksChanged => ("texttrackschange", JsValue::NULL),
        PlayerEvent::TextTrackChanged(i) => {
            ("texttrackchange", i.map_or(-1.0, |i| i as f64).into())
        }
        PlayerEvent::TextTrackError { track, error } => {
            let detail = error_object(error);
            let _ = js_sys::Reflect::set(&detail, &"track".into(), &(*track as u32).into());
            ("texttrackerror", detail)
        }
        PlayerEvent::Resize { width, height } => (
            "resize",
            object(&[("width", (*width).into()), ("height", (*height).into())]),
        ),
        PlayerEvent::Progress {
            buffered_bytes,
            total_bytes,
        } => (
            "progress",
            object(&[
                ("bufferedBytes", (*buffered_bytes as f64).into()),
                (
                    "totalBytes",
                    total_bytes.map(|t| t as f64).unwrap_or(f64::NAN).into(),
                ),
            ]),
        ),
        PlayerEvent::UnhandledKey(k) => ("unhandledkey", k.name().into()),
        PlayerEvent::Suspended { position } => ("suspended", (*position).into()),
        PlayerEvent::Resumed(p) => ("resumed", (*p).into()),
    })
}

/// The `controlschange` detail: `{visible, paused, buttons: [{id, label, focused, enabled}],
/// menu: null | {kind, title, items: [{label, selected, focused}]}}`.
pub fn controls_object(view: &kinema_core::controls::ControlsView) -> JsValue {
    let buttons = js_sys::Array::new();
    for b in &view.buttons {
        buttons.push(&object(&[
            ("id", b.id.name().into()),
            ("label", b.label.as_str().into()),
            ("focused", b.focused.into()),
            ("enabled", b.enabled.into()),
        ]));
    }
    let menu = view.menu.as_ref().map_or(JsValue::NULL, |m| {
        let items = js_sys::Array::new();
        for i in &m.items {
            items.push(&object(&[
                ("label", i.label.as_str().into()),
                ("selected", i.selected.into()),
                ("focused", i.focused.into()),
            ]));
        }
        object(&[
            ("kind", m.kind.name().into()),
            ("title", m.title.as_str().into()),
            ("items", items.into()),
        ])
    });
    object(&[
        ("visible", view.visible.into()),
        ("paused", view.paused.into()),
        ("buttons", buttons.into()),
        ("menu", menu),
    ])
}

/// Dispatches `event` on `target` as a `CustomEvent`.
pub fn dispatch(target: &EventTarget, event: &PlayerEvent) {
    let Some((kind, detail)) = to_dom(event) else {
        return;
    };
    dispatch_raw(target, kind, &detail);
}

/// Dispatches a `CustomEvent` of type `kind` with `detail`.
pub fn dispatch_raw(target: &EventTarget, kind: &str, detail: &JsValue) {
    let init = CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(e) = CustomEvent::new_with_event_init_dict(kind, &init) {
        let _ = target.dispatch_event(&e);
    }
}
