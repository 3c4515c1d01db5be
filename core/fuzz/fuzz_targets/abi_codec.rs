//! The set-top ABI's byte encoding (`kinema-protocol`'s codec) over arbitrary bytes: both
//! decoders; whatever decodes must encode back to the same bytes.
#![no_main]

use kinema_protocol::codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = codec::decode_event(data) {
        assert_eq!(codec::encode_event(&e), data);
    }
    if let Ok(c) = codec::decode_command(data) {
        assert_eq!(codec::encode_command(&c), data);
    }
});
