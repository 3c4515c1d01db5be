//! Exact text-to-time parsers: decimal seconds (HLS), `xs:duration` and ISO 8601 / `xs:dateTime`.
//!
//! Written here rather than taken from a crate because they are a few dozen lines each, must be
//! exact to the microsecond (`f64` seconds are not: 0.1 + 0.2 ≠ 0.3) and must reject every
//! overflow instead of wrapping; `chrono`/`iso8601` would add size to the Wasm build for that.

use crate::error::{Error, ErrorKind};

const US_PER_S: i64 = 1_000_000;

fn bad(what: &str, text: &str) -> Error {
    let shown: String = text.chars().take(64).collect();
    Error::new(ErrorKind::Decode, format!("invalid {what}: {shown:?}"))
}

/// Parses a non-negative decimal number of seconds (`10`, `9.97663`, `.5`) to microseconds,
/// rounding to the nearest microsecond. At most 12 integer digits (about 31,700 years).
pub fn decimal_seconds_us(text: &str) -> Result<i64, Error> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty())
        || !digits(int)
        || !digits(frac)
        || int.len() > 12
        || frac.len() > 64
    {
        return Err(bad("decimal seconds", text));
    }
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad("decimal seconds", text))?
    };
    Ok(whole * US_PER_S + fraction_us(frac))
}

/// Microseconds of the fractional digits `frac` (the part after the point), rounded half up.
fn fraction_us(frac: &str) -> i64 {
    let mut us = 0i64;
    let mut scale = 100_000i64;
    for b in frac.bytes().take(6) {
        us += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    if frac.as_bytes().get(6).is_some_and(|&b| b >= b'5') {
        us += 1;
    }
    us
}

/// Parses an `xs:duration` (`PT4.0S`, `P1DT2H`, `PT0.2S`) to microseconds. Years count 365
/// days and months 30 (what DASH players use; MPD durations rarely have them). Negative
/// durations are rejected: no DASH attribute allows them.
pub fn xs_duration_us(text: &str) -> Result<i64, Error> {
    let err = || bad("xs:duration", text);
    let rest = text.trim().strip_prefix('P').ok_or_else(err)?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return Err(err());
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    const DAY: i64 = 86_400 * US_PER_S;
    let mut total = 0i64;
    let mut any = false;
    let mut add = |n: i64, unit: i64| -> Result<(), Error> {
        any = true;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        Ok(())
    };
    for (number, unit) in components(date).ok_or_else(err)? {
        let n = integer(number).ok_or_else(err)?;
        match unit {
            'Y' => add(n, 365 * DAY)?,
            'M' => add(n, 30 * DAY)?,
            'W' => add(n, 7 * DAY)?,
            'D' => add(n, DAY)?,
            _ => return Err(err()),
        }
    }
    if let Some(time) = time {
        let mut seen_any = false;
        for (number, unit) in components(time).ok_or_else(err)? {
            seen_any = true;
            match unit {
                'H' => add(integer(number).ok_or_else(err)?, 3600 * US_PER_S)?,
                'M' => add(integer(number).ok_or_else(err)?, 60 * US_PER_S)?,
                'S' => add(decimal_seconds_us(number).map_err(|_| err())?, 1)?,
                _ => return Err(err()),
            }
        }
        if !seen_any {
            return Err(err());
        }
    }
    if !any {
        return Err(err());
    }
    Ok(total)
}

/// Splits `1D2H` into `[("1", 'D'), ("2", 'H')]`; `None` on anything else.
fn components(s: &str) -> Option<Vec<(&str, char)>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c.is_ascii_digit() || c == '.' {
            continue;
        }
        if !c.is_ascii_uppercase() || i == start {
            return None;
        }
        out.push((s.get(start..i)?, c));
        start = i + c.len_utf8();
    }
    if start != s.len() || out.len() > 8 {
        return None;
    }
    Some(out)
}

fn integer(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 15 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an ISO 8601 / `xs:dateTime` instant (`2021-06-03T13:00:00Z`,
/// `2026-12-01T19:22:35.872+0000`, `2010-02-19T14:54:23.031+08:00`) to milliseconds since the
/// Unix epoch, rounding to the nearest millisecond. Without a zone the time is taken as UTC
/// (what DASH-IF guidelines recommend).
pub fn date_time_ms(text: &str) -> Result<i64, Error> {
    let err = || bad("date-time", text);
    let t = text.trim();
    let b = t.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(range)?;
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return Err(err());
    }
    let year = num(0..4).ok_or_else(err)?;
    let month = num(5..7).ok_or_else(err)?;
    let day = num(8..10).ok_or_else(err)?;
    let hour = num(11..13).ok_or_else(err)?;
    let minute = num(14..16).ok_or_else(err)?;
    let second = num(17..19).ok_or_else(err)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(err());
    }
    let mut i = 19;
    let mut frac_us = 0;
    if sep(i, b".,") {
        let start = i + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start || end - start > 64 {
            return Err(err());
        }
        frac_us = fraction_us(t.get(start..end).ok_or_else(err)?);
        i = end;
    }
    let zone = t.get(i..).ok_or_else(err)?;
    let offset_min = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(err()),
            };
            let z = zone.get(1..).ok_or_else(err)?;
            let (h, m) = match z.len() {
                2 => (z, "00"),
                4 => (z.get(..2).ok_or_else(err)?, z.get(2..).ok_or_else(err)?),
                5 if z.as_bytes().get(2) == Some(&b':') => {
                    (z.get(..2).ok_or_else(err)?, z.get(3..).ok_or_else(err)?)
                }
                _ => return Err(err()),
            };
            let h = integer(h).filter(|h| *h <= 23).ok_or_else(err)?;
            let m = integer(m).filter(|m| *m <= 59).ok_or_else(err)?;
            sign * (h * 60 + m)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Ok(seconds * 1000 + (frac_us + 500) / 1000)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds() {
        assert_eq!(decimal_seconds_us("10").unwrap(), 10_000_000);
        assert_eq!(decimal_seconds_us("9.97663").unwrap(), 9_976_630);
        assert_eq!(decimal_seconds_us("3.3366667").unwrap(), 3_336_667);
        assert_eq!(decimal_seconds_us(".5").unwrap(), 500_000);
        assert_eq!(decimal_seconds_us("2.").unwrap(), 2_000_000);
        for bad in ["", ".", "-1", "1e3", "abc", "1.2.3", "9999999999999"] {
            assert!(decimal_seconds_us(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(xs_duration_us("PT7.0S").unwrap(), 7_000_000);
        assert_eq!(xs_duration_us("PT0H10M54.00S").unwrap(), 654_000_000);
        assert_eq!(xs_duration_us("P1DT1H").unwrap(), 90_000_000_000);
        assert_eq!(xs_duration_us("PT1M0.5S").unwrap(), 60_500_000);
        assert_eq!(xs_duration_us("P0Y0M0DT0H3M30.000S").unwrap(), 210_000_000);
        for bad in [
            "",
            "P",
            "PT",
            "T1S",
            "-PT1S",
            "PT1.5M",
            "P1S",
            "PT1X",
            "PTS",
            "P99999999999999Y",
        ] {
            assert!(xs_duration_us(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_times() {
        assert_eq!(date_time_ms("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            date_time_ms("2000-03-01T00:00:00Z").unwrap(),
            951_868_800_000
        );
        assert_eq!(
            date_time_ms("2010-02-19T14:54:23.031+08:00").unwrap(),
            1_266_562_463_031
        );
        assert_eq!(
            date_time_ms("2026-12-01T19:22:35.872+0000").unwrap(),
            date_time_ms("2026-12-01T19:22:35.872Z").unwrap()
        );
        assert_eq!(
            date_time_ms("2021-06-03T13:00:00").unwrap(),
            1_622_725_200_000
        );
        for bad in [
            "2021-02-29T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-06-03",
            "x",
            "2021-06-03T25:00:00Z",
            "2021-06-03T13:00:00+5",
        ] {
            assert!(date_time_ms(bad).is_err(), "{bad}");
        }
    }
}
