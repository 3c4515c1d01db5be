//! URL resolution for manifests: relative references joined onto a base (the `url` crate).
//!
//! Host names must be ASCII (punycode, `xn--…`): the `url` crate's IDNA back end is pinned to
//! its stub (`idna_adapter` 1.0, see the workspace Cargo.toml: its Unicode tables were 48 KB
//! of the gzipped web package), so a URL in a manifest with a non-ASCII host name is refused
//! with a typed error. The web host resolves the URL passed to `load` with the browser's own
//! parser first, which turns such a host into punycode.

use url::Url;

use crate::error::{Error, ErrorKind};

/// Longest URL accepted from a manifest, in bytes.
pub const MAX_URL_BYTES: usize = 8192;

/// Parses an absolute URL (the address a manifest was fetched from).
pub fn parse_base(base: &str) -> Result<Url, Error> {
    if base.len() > MAX_URL_BYTES {
        return Err(Error::new(ErrorKind::Limit, "base URL too long"));
    }
    Url::parse(base).map_err(|e| {
        Error::new(
            ErrorKind::InvalidState,
            format!("the manifest URL must be absolute: {e}"),
        )
    })
}

/// Joins `reference` (relative or absolute) onto `base` as a browser does.
pub fn join(base: &Url, reference: &str) -> Result<Url, Error> {
    let reference = reference.trim();
    if reference.len() > MAX_URL_BYTES {
        return Err(Error::new(ErrorKind::Limit, "URL in manifest too long"));
    }
    base.join(reference).map_err(|e| {
        let shown: String = reference.chars().take(80).collect();
        Error::new(
            ErrorKind::Decode,
            format!("bad URL {shown:?} in manifest: {e}"),
        )
    })
}

/// Resolves `reference` against the absolute URL `base` and returns the absolute URL.
pub fn resolve(base: &str, reference: &str) -> Result<String, Error> {
    Ok(join(&parse_base(base)?, reference)?.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_examples() {
        // RFC 3986 section 5.4.1 normal examples, base http://a/b/c/d;p?q.
        let base = "http://a/b/c/d;p?q";
        for (r, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("../g", "http://a/b/g"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("https://cdn.example/x.ts", "https://cdn.example/x.ts"),
        ] {
            assert_eq!(resolve(base, r).unwrap(), want, "{r}");
        }
        assert_eq!(
            resolve("relative/only.m3u8", "x").unwrap_err().kind,
            ErrorKind::InvalidState
        );
    }

    #[test]
    fn host_names_must_be_ascii() {
        // Punycode and upper-case ASCII hosts resolve as a browser resolves them.
        let base = "https://CDN.Example/live/index.m3u8";
        assert_eq!(
            resolve(base, "https://xn--bcher-kva.example/a.ts").unwrap(),
            "https://xn--bcher-kva.example/a.ts"
        );
        assert_eq!(
            resolve(base, "a.ts").unwrap(),
            "https://cdn.example/live/a.ts"
        );
        // A Unicode host is refused, typed (no IDNA tables in the build), never mangled.
        let e = resolve(base, "https://bücher.example/a.ts").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode, "{e}");
        assert_eq!(
            parse_base("https://bücher.example/index.m3u8")
                .unwrap_err()
                .kind,
            ErrorKind::InvalidState
        );
    }
}
