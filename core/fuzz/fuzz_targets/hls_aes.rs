//! HLS AES-128 on arbitrary bytes: keys of any length, decryption of any body with any IV
//! (whole blocks or not, padded or not), and the same bytes as `EXT-X-KEY` attributes and as
//! an `IV` in a playlist (with an `EXT-X-MAP` under the key), whose keys then decrypt the
//! body. Only typed errors, never a panic; a key's bytes never show in its `Debug`.
#![no_main]

use kinema_core::adaptive::crypto::{decrypt, Key};
use kinema_core::stream::hls::{self, Parsed};
use kinema_core::stream::Encryption;
use kinema_core::ErrorKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    // A key of `first % 20` bytes (16 is the only right length), an IV, then the body.
    let (key_bytes, rest) = rest.split_at(usize::from(first % 20).min(rest.len()));
    let (iv_bytes, body) = rest.split_at(rest.len().min(16));
    let mut iv = [0u8; 16];
    for (to, from) in iv.iter_mut().zip(iv_bytes) {
        *to = *from;
    }
    match Key::from_response(key_bytes, "https://keys.example.com/k") {
        Ok(key) => {
            assert_eq!(format!("{key:?}"), "Key(…)");
            match decrypt(&key, iv, body.to_vec()) {
                Ok(clear) => assert!(clear.len() < body.len() && body.len() - clear.len() <= 16),
                Err(e) => assert_eq!(e.kind, ErrorKind::Decode),
            }
        }
        Err(e) => assert!(e.kind == ErrorKind::Decode && key_bytes.len() != 16),
    }
    let text = String::from_utf8_lossy(data);
    let playlist = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n#EXT-X-KEY:{text}\n\
         #EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2,\ns.ts\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"k.bin\",IV={text}\n#EXTINF:2,\nt.ts\n"
    );
    let Ok(Parsed::Media(list)) =
        hls::parse(playlist.as_bytes(), "https://example.com/a/index.m3u8")
    else {
        return;
    };
    let keys = list
        .segments
        .iter()
        .map(|s| (&s.encryption, s.number))
        .chain(list.inits.iter().map(|i| (&i.encryption, 0)));
    for (encryption, number) in keys {
        if let Encryption::Aes128(k) = encryption {
            let iv = k.iv.bytes(number);
            if let Ok(key) = Key::from_response(&iv, &k.url) {
                let _ = decrypt(&key, iv, body.to_vec());
            }
        }
    }
});
