//! The set-top module's byte encoding (device-shims/settop/guest) over arbitrary bytes: both
//! decoders; whatever decodes must encode back to the same bytes.
#![no_main]

use kinema_abi::codec::{self, Command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = codec::decode_event(data) {
        assert_eq!(codec::encode_event(&e).as_deref(), Some(data));
    }
    if let Ok(Command::Known(c)) = codec::decode_command(data) {
        assert_eq!(codec::encode_command(&c), data);
    }
});
