//! Small JS interop helpers the host modules share: setting a property on a plain object, a
//! readable message from a thrown value, callbacks whose lifetime JS decides. No state, no
//! other crate module.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::closure::WasmClosure;
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

/// Hands a callback to the JS garbage collector and returns its function.
///
/// A `Closure` that Rust drops while JS still holds its function makes JS's next call of it
/// throw "closure invoked recursively or after being dropped" — an uncaught page error. Some
/// callbacks are called after their Rust owner is gone: WebCodecs outputs queued before
/// `close()`, events of elements, ports and audio contexts that outlive the object listening
/// to them. Those are handed to JS instead: the function stays callable as long as JS holds
/// it, wasm-bindgen frees its Rust side once JS has collected it (its `FinalizationRegistry`),
/// and the callback itself checks that its owner still wants it (a `Weak`, a flag).
pub fn gc_callback<T: ?Sized + WasmClosure>(closure: Closure<T>) -> Function {
    closure.into_js_value().unchecked_into()
}
