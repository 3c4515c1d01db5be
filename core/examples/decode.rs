//! Decodes a file with the core's pipeline and writes interleaved f32le to stdout (for comparing
//! against ffmpeg by hand): `cargo run -p kinema-core --example decode -- FILE > out.f32`.

use std::io::Write;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: decode FILE");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let ext = kinema_core::audio::decoder::extension_hint(&path);
    match kinema_core::audio::decoder::decode_all(&bytes, ext.as_deref()) {
        Ok((info, pcm)) => {
            eprintln!(
                "{info:?}: {} frames",
                pcm.len() / info.channels.max(1) as usize
            );
            let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
            if std::io::stdout().write_all(&bytes).is_err() {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
