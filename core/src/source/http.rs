//! Parsing of the HTTP headers the core needs (hosts pass them through raw).

/// A parsed `Content-Range` header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes start-end/total` (total `None` for `*`).
    Bytes {
        /// First byte offset in the body.
        start: u64,
        /// Last byte offset in the body (inclusive).
        end: u64,
        /// Size of the whole resource, when the server knows it.
        total: Option<u64>,
    },
    /// `bytes */total`, sent with 416.
    Unsatisfied {
        /// Size of the whole resource.
        total: u64,
    },
}

impl ContentRange {
    /// Parses a `Content-Range` value; `None` if it is malformed or inconsistent.
    pub fn parse(value: &str) -> Option<ContentRange> {
        let rest = value.trim().strip_prefix("bytes")?.trim_start();
        let (range, total) = rest.split_once('/')?;
        let total = total.trim();
        let range = range.trim();
        if range == "*" {
            return Some(ContentRange::Unsatisfied {
                total: total.parse().ok()?,
            });
        }
        let (start, end) = range.split_once('-')?;
        let start: u64 = start.trim().parse().ok()?;
        let end: u64 = end.trim().parse().ok()?;
        let total = if total == "*" {
            None
        } else {
            Some(total.parse::<u64>().ok()?)
        };
        if end < start || total.is_some_and(|t| end >= t) {
            return None;
        }
        Some(ContentRange::Bytes { start, end, total })
    }
}

#[cfg(test)]
mod tests {
    use super::ContentRange;

    #[test]
    fn parses_valid_and_rejects_malformed() {
        assert_eq!(
            ContentRange::parse("bytes 0-99/1000"),
            Some(ContentRange::Bytes {
                start: 0,
                end: 99,
                total: Some(1000)
            })
        );
        assert_eq!(
            ContentRange::parse("bytes 5-9/*"),
            Some(ContentRange::Bytes {
                start: 5,
                end: 9,
                total: None
            })
        );
        assert_eq!(
            ContentRange::parse("bytes */42"),
            Some(ContentRange::Unsatisfied { total: 42 })
        );
        for bad in [
            "",
            "bytes",
            "bytes 9-5/10",
            "bytes 0-10/10",
            "items 0-1/2",
            "bytes a-b/c",
            "bytes 0-1",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }
}
