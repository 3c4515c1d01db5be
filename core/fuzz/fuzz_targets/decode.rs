//! Any bytes through probe + demux + decode: typed errors only, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for ext in [None, Some("mp3"), Some("m4a"), Some("aac"), Some("wav"), Some("flac"), Some("ogg")] {
        let _ = kinema_core::audio::decoder::decode_all(data, ext);
    }
});
