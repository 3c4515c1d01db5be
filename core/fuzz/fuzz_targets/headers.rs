//! HTTP header values the host passes through raw.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = kinema_core::source::http::ContentRange::parse(s);
    }
});
