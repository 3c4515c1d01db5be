//! The MP4 edit-list reader over arbitrary `moov` payloads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kinema_core::audio::mp4_edit::parse_moov(data, 1, 48_000);
});
