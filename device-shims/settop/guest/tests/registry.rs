//! The registry behind the C ABI: bad handles and buffers are refused with a status, and a
//! load sent through it asks for the first bytes. (The byte encoding's own tests are in
//! `core/protocol/tests/codec.rs`.)

use kinema_abi::codec;
use kinema_abi::registry::{status, Registry};
use kinema_core::host::*;

#[test]
fn registry_rejects_bad_handles_and_buffers() {
    let mut r = Registry::default();
    let h = r.create();
    assert_ne!(h, 0);
    let at = r.alloc(16);
    assert_eq!(r.handle(h, 0, at, 17), status::BAD_BUFFER);
    assert_eq!(r.handle(h, 0, at + 1, 1), status::BAD_BUFFER);
    assert_eq!(r.handle(h + 1, 0, at, 0), status::BAD_EVENT);
    assert_eq!(r.poll(h + 1), i64::from(status::BAD_HANDLE));
    assert_eq!(r.free(at), status::OK);
    assert_eq!(r.free(at), status::BAD_BUFFER);
    assert_eq!(r.destroy(h), status::OK);
    assert_eq!(r.destroy(h), status::BAD_HANDLE);
}

#[test]
fn a_load_through_the_abi_asks_for_the_first_bytes() {
    let mut r = Registry::default();
    let h = r.create();
    let event = codec::encode_event(&HostEvent::App(AppRequest::Load {
        url: "http://h/a.mp4".into(),
    }));
    let at = r.alloc(event.len());
    // The host writes into the module's memory; natively, stand in through a fresh buffer.
    r.free(at);
    let at = r.alloc_with(&event);
    assert_eq!(r.handle(h, 0, at, event.len()), status::OK);
    let mut fetched = false;
    loop {
        let n = r.poll(h);
        assert!(n >= 0);
        if n == 0 {
            break;
        }
        if let Ok(HostCommand::Fetch { range, .. }) = codec::decode_command(r.last_command(h)) {
            assert_eq!(range.map(|r| r.start), Some(0));
            fetched = true;
        }
    }
    assert!(fetched);
}
