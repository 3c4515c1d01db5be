//! Debug aid: parses an init + media segment pair and prints the samples found.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (Some(init), Some(media)) = (a.get(1), a.get(2)) else {
        eprintln!("usage: probe_segment INIT MEDIA");
        return;
    };
    let (Ok(init), Ok(media)) = (std::fs::read(init), std::fs::read(media)) else {
        eprintln!("cannot read the files");
        return;
    };
    match kinema_core::adaptive::segments::parse_segment(&init, &media, None) {
        Ok((seg, _)) => {
            for (t, s) in seg.tracks.iter().zip(&seg.samples) {
                let first = s.first().map(|s| s.pts_us);
                let last = s.last().map(|s| s.pts_us);
                println!(
                    "{} {:?}: {} samples, pts {first:?}..{last:?}",
                    t.codec,
                    t.kind,
                    s.len()
                );
            }
        }
        Err(e) => println!("error: {e:?}"),
    }
}
