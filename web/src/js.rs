//! Small JS interop helpers the host modules share: setting a property on a plain object and
//! a readable message from a thrown value. No state, no other crate module.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `o[k] = v`, ignoring failure (plain objects only).
pub fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// A thrown value as text: an `Error`'s message, a string as is, anything else debug-printed.
pub fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
