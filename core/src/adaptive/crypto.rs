//! HLS AES-128 (RFC 8216 sections 4.3.2.4 and 5.2): the key, the per-load key cache, and the
//! decryption of a whole segment (or initialization segment, or byte range as delivered):
//! AES-128-CBC with PKCS7 padding, CBC restarted at each resource with its IV.
//!
//! Pure functions and data: the adaptive source fetches keys through the request service
//! (`RequestKind::Key`, see `source::requests`) and calls [`decrypt`] on each body before it
//! is parsed. The cipher is RustCrypto's `aes` + `cbc` (pure Rust, constant-time software AES
//! where the CPU has no AES instructions, and the same code on wasm32); the PKCS7 check is
//! here, so the raw CBC path is tested against the NIST vectors.
//!
//! Key bytes never leave [`Key`]: its `Debug` prints no byte, and no error built here or by
//! the source quotes one (they name the key's URL and lengths only).

use std::collections::{HashMap, VecDeque};
use std::fmt;

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, KeyIvInit};

use crate::error::{Error, ErrorKind};

/// Bytes of an AES-128 key, an IV, and a cipher block.
pub const BLOCK: usize = 16;

/// Most keys one load keeps ([`KeyCache`]): a live stream that rotates its key every segment
/// keeps the last few hundred; an older one is fetched again if it is ever needed.
pub const MAX_KEYS: usize = 256;

/// A 16-byte AES-128 key. Cloned and compared, never shown: `Debug` prints `Key(…)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; BLOCK]);

impl Key {
    /// The key a key server answered for `url`: exactly 16 bytes (RFC 8216 section 5.2: the
    /// key file holds the key as binary), else an [`ErrorKind::Decode`] error that says how
    /// many bytes came, not which.
    pub fn from_response(bytes: &[u8], url: &str) -> Result<Key, Error> {
        <[u8; BLOCK]>::try_from(bytes).map(Key).map_err(|_| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "the AES-128 key {url} is {} bytes, not 16 bytes",
                    bytes.len()
                ),
            )
        })
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

/// Decrypts `data`, a whole resource (segment, initialization segment, or a byte range as
/// delivered) encrypted with AES-128-CBC under `key` and `iv` with PKCS7 padding, in place.
/// [`ErrorKind::Decode`] when its length is not a positive multiple of 16 or the padding is
/// not PKCS7 (a wrong key or IV, or damaged bytes).
pub fn decrypt(key: &Key, iv: [u8; BLOCK], mut data: Vec<u8>) -> Result<Vec<u8>, Error> {
    let len = decrypt_blocks(key, iv, &mut data)?;
    let pad = usize::from(data.get(len.wrapping_sub(1)).copied().unwrap_or(0));
    let padding = data.get(len.saturating_sub(pad)..len).unwrap_or_default();
    if pad == 0 || pad > BLOCK || pad > len || padding.iter().any(|&b| usize::from(b) != pad) {
        return Err(Error::new(
            ErrorKind::Decode,
            "AES-128: the decrypted bytes do not end in PKCS7 padding (a wrong key or IV, or \
             damaged data)",
        ));
    }
    data.truncate(len - pad);
    Ok(data)
}

/// AES-128-CBC decryption of `data` in place, without removing padding; returns its length.
fn decrypt_blocks(key: &Key, iv: [u8; BLOCK], data: &mut [u8]) -> Result<usize, Error> {
    let len = data.len();
    if len == 0 || !len.is_multiple_of(BLOCK) {
        return Err(Error::new(
            ErrorKind::Decode,
            format!("AES-128: {len} bytes is not a whole number of 16-byte blocks"),
        ));
    }
    cbc::Decryptor::<aes::Aes128>::new(&key.0.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(data)
        .map(<[u8]>::len)
        .map_err(|_| Error::new(ErrorKind::Decode, "AES-128: not whole blocks"))
}

/// The keys of one load, by URL: each fetched once, at most [`MAX_KEYS`] kept (the oldest
/// goes first).
#[derive(Debug, Default)]
pub struct KeyCache {
    keys: HashMap<String, Key>,
    /// URLs in the order they were added.
    order: VecDeque<String>,
}

impl KeyCache {
    /// The key fetched from `url`, if it is here.
    pub fn get(&self, url: &str) -> Option<&Key> {
        self.keys.get(url)
    }

    /// Keeps `key` for `url`, dropping the oldest key when [`MAX_KEYS`] are kept.
    pub fn insert(&mut self, url: String, key: Key) {
        if let Some(kept) = self.keys.get_mut(&url) {
            *kept = key;
            return;
        }
        while self.keys.len() >= MAX_KEYS {
            match self.order.pop_front() {
                Some(old) => {
                    self.keys.remove(&old);
                }
                None => break,
            }
        }
        self.order.push_back(url.clone());
        self.keys.insert(url, key);
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No key is kept.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn key(s: &str) -> Key {
        Key::from_response(&hex(s), "k").unwrap()
    }

    fn iv(s: &str) -> [u8; 16] {
        hex(s).try_into().unwrap()
    }

    /// NIST SP 800-38A, F.2.2 CBC-AES128.Decrypt.
    const NIST_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const NIST_IV: &str = "000102030405060708090a0b0c0d0e0f";

    #[test]
    fn nist_sp800_38a_cbc_aes128_vectors() {
        let mut data = hex(concat!(
            "7649abac8119b246cee98e9b12e9197d",
            "5086cb9b507219ee95db113a917678b2",
            "73bed6b8e3c1743b7116e69e22229516",
            "3ff1caa1681fac09120eca307586e1a7"
        ));
        let n = decrypt_blocks(&key(NIST_KEY), iv(NIST_IV), &mut data).unwrap();
        assert_eq!(n, 64);
        assert_eq!(
            data,
            hex(concat!(
                "6bc1bee22e409f96e93d7e117393172a",
                "ae2d8a571e03ac9c9eb76fac45af8e51",
                "30c81c46a35ce411e5fbc1191a0a52ef",
                "f69f2445df4f9b17ad2b417be66c3710"
            ))
        );
        // RFC 3602 case 1: one block.
        let mut one = hex("e353779c1079aeb82708942dbe77181a");
        decrypt_blocks(
            &key("06a9214036b8a15b512e03d534120006"),
            iv("3dafba429d9eb430b422da802c9fac41"),
            &mut one,
        )
        .unwrap();
        assert_eq!(one, b"Single block msg");
    }

    #[test]
    fn pkcs7_padding_is_removed() {
        // `openssl enc -aes-128-cbc` with the NIST key and IV.
        let k = key(NIST_KEY);
        let data = hex("530153cb57e497b70fab203a5bbf970c1bf653b1724ca304a616c79461f3f5ac");
        assert_eq!(
            decrypt(&k, iv(NIST_IV), data).unwrap(),
            b"Kinema plays HLS AES-128."
        );
        // A whole block of padding after 16 bytes.
        let data = hex("64768548007aef9f3d258e5c34cdc21bde0a1268436e159434fc21de3696d928");
        assert_eq!(decrypt(&k, iv(NIST_IV), data).unwrap(), b"0123456789abcdef");
    }

    #[test]
    fn bad_padding_and_partial_blocks_are_decode_errors() {
        let k = key(NIST_KEY);
        let good = hex("530153cb57e497b70fab203a5bbf970c1bf653b1724ca304a616c79461f3f5ac");
        // The wrong IV changes only the first block: the padding still checks out.
        assert!(decrypt(&k, [0; 16], good.clone()).is_ok());
        // The wrong key: the last block is noise, its padding wrong.
        let e = decrypt(&key(&"00".repeat(16)), iv(NIST_IV), good.clone()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode);
        assert!(e.message.contains("PKCS7"), "{e:?}");
        // The NIST plaintext ends in 0x10, but not sixteen of them.
        let nist = hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
        assert_eq!(
            decrypt(&k, iv(NIST_IV), nist).unwrap_err().kind,
            ErrorKind::Decode
        );
        for len in [0usize, 1, 15, 17, 31, 33] {
            let e = decrypt(&k, iv(NIST_IV), vec![0; len]).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Decode, "{len}");
            assert!(e.message.contains("16-byte blocks"), "{len}: {e:?}");
        }
        // Every possible last byte: only valid padding passes, nothing panics. The original
        // (0xac) and the four whose last block happens to end in 0x01 (43, 49, 51, 206, as
        // `openssl enc -d -nopad` shows) pass.
        let passed: Vec<u8> = (0..=255u8)
            .filter(|&last| {
                let mut data = good.clone();
                data[31] = last;
                decrypt(&k, iv(NIST_IV), data).is_ok()
            })
            .collect();
        assert_eq!(passed, [43, 49, 51, 0xac, 206]);
    }

    #[test]
    fn keys_are_16_bytes_and_never_shown() {
        let bytes: Vec<u8> = (0xa0..0xb0).collect();
        let k = Key::from_response(&bytes, "https://keys/k").unwrap();
        let shown = format!("{k:?} {:?}", Some(k.clone()));
        assert_eq!(shown, "Key(…) Some(Key(…))");
        let mut cache = KeyCache::default();
        cache.insert("https://keys/k".into(), k);
        let shown = format!("{cache:?}");
        assert!(
            !shown.contains("160") && !shown.to_lowercase().contains("a0"),
            "{shown}"
        );
        for len in [0, 15, 17, 32] {
            let e = Key::from_response(&bytes.repeat(2)[..len], "https://keys/k").unwrap_err();
            assert_eq!(e.kind, ErrorKind::Decode);
            assert_eq!(
                e.message,
                format!("the AES-128 key https://keys/k is {len} bytes, not 16 bytes")
            );
        }
    }

    #[test]
    fn the_cache_keeps_at_most_max_keys_oldest_out_first() {
        let mut cache = KeyCache::default();
        let k = key(NIST_KEY);
        for i in 0..MAX_KEYS + 10 {
            cache.insert(format!("k{i}"), k.clone());
            // Inserting a URL again does not count twice.
            cache.insert(format!("k{i}"), k.clone());
        }
        assert_eq!(cache.len(), MAX_KEYS);
        assert!(cache.get("k9").is_none() && cache.get("k10").is_some());
        assert!(cache.get(&format!("k{}", MAX_KEYS + 9)).is_some());
    }
}
