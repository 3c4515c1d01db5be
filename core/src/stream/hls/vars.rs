//! HLS variable substitution (RFC 8216bis section 4.3, `EXT-X-DEFINE`): one pass over the
//! playlist text before the line parser reads it. The rules and failures are listed at
//! [`super::parse_with_imports`].

use std::borrow::Cow;
use std::collections::HashMap;

use ::url::Url;

use super::{attrs, bad_line, Value, MAX_SUBSTITUTED_BYTES, MAX_VARIABLES};
use crate::error::{Error, ErrorKind};
use crate::stream::model::Variables;

/// Variable substitution (RFC 8216bis section 4.3) over the whole playlist, in one pass: each
/// `EXT-X-DEFINE` applies to the lines after it. Returns the text unchanged (borrowed) when it
/// has neither a definition nor a reference.
pub(super) fn substitute<'t>(
    text: &'t str,
    base: &Url,
    imports: Option<&Variables>,
) -> Result<(Cow<'t, str>, Variables), Error> {
    let mut vars = Variables::default();
    if !text.contains("{$") && !text.contains("#EXT-X-DEFINE") {
        return Ok((Cow::Borrowed(text), vars));
    }
    let mut values: HashMap<String, String> = HashMap::new();
    let mut budget = MAX_SUBSTITUTED_BYTES;
    let mut out = String::with_capacity(text.len());
    for raw in text.split('\n') {
        let line = raw.trim();
        if let Some(value) = line.strip_prefix("#EXT-X-DEFINE:") {
            let (name, v) = define(value, line, base, imports)?;
            if values.len() >= MAX_VARIABLES {
                return Err(Error::new(
                    ErrorKind::Limit,
                    format!("more than {MAX_VARIABLES} EXT-X-DEFINE variables"),
                ));
            }
            if values.contains_key(&name) || !vars.define(&name, &v) {
                return Err(bad_line("EXT-X-DEFINE of a name already defined", line));
            }
            values.insert(name, v);
            out.push_str(line);
        } else if line.starts_with("#EXT") {
            // Quoted strings are the odd pieces between '"'.
            for (i, piece) in line.split('"').enumerate() {
                if i > 0 {
                    out.push('"');
                }
                if i % 2 == 1 {
                    expand(piece, &values, &mut budget, line, &mut out)?;
                } else {
                    out.push_str(piece);
                }
            }
        } else if line.is_empty() || line.starts_with('#') {
            out.push_str(line);
        } else {
            let start = out.len();
            expand(line, &values, &mut budget, line, &mut out)?;
            let uri = out.get(start..).unwrap_or_default().trim();
            if uri.is_empty() || uri.starts_with('#') {
                return Err(bad_line(
                    "variable substitution turns a URI line into a blank or tag line",
                    line,
                ));
            }
        }
        out.push('\n');
    }
    Ok((Cow::Owned(out), vars))
}

/// One `EXT-X-DEFINE` attribute list → the name and value it defines.
fn define(
    value: &str,
    line: &str,
    base: &Url,
    imports: Option<&Variables>,
) -> Result<(String, String), Error> {
    let a = attrs(value, line)?;
    let quoted = |name: &str| match a.get(name) {
        Some(Value::Quoted(s)) => Ok(Some(s)),
        Some(Value::Plain(_)) => Err(bad_line(&format!("EXT-X-DEFINE {name} not quoted"), line)),
        None => Ok(None),
    };
    let checked = |name: &str| {
        if !name.is_empty() && name.bytes().all(is_name_byte) {
            Ok(name.to_string())
        } else {
            Err(bad_line("EXT-X-DEFINE with an invalid variable name", line))
        }
    };
    match (quoted("NAME")?, quoted("IMPORT")?, quoted("QUERYPARAM")?) {
        (Some(name), None, None) => {
            let value = quoted("VALUE")?
                .ok_or_else(|| bad_line("EXT-X-DEFINE NAME without VALUE", line))?;
            Ok((checked(name)?, value.to_string()))
        }
        (None, Some(name), None) => {
            let imports = imports.ok_or_else(|| {
                bad_line(
                    "EXT-X-DEFINE IMPORT in a playlist not loaded from a multivariant playlist",
                    line,
                )
            })?;
            let value = imports
                .get(name)
                .ok_or_else(|| bad_line("EXT-X-DEFINE IMPORT of an undefined name", line))?;
            Ok((checked(name)?, value.to_string()))
        }
        (None, None, Some(name)) => {
            let name = checked(name)?;
            let value = base
                .query_pairs()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| bad_line("EXT-X-DEFINE QUERYPARAM not in the playlist URL", line))?;
            if value.contains(['"', '\r', '\n']) {
                return Err(bad_line(
                    "EXT-X-DEFINE QUERYPARAM value not allowed in a quoted string",
                    line,
                ));
            }
            Ok((name, value))
        }
        _ => Err(bad_line(
            "EXT-X-DEFINE needs exactly one of NAME, IMPORT and QUERYPARAM",
            line,
        )),
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `s` with every `{$name}` replaced by its value, appended to `out`. `{$` not followed by a
/// name and `}` is text; a name with no value is the RFC's failure. `budget`: bytes still
/// allowed to be inserted.
fn expand(
    s: &str,
    values: &HashMap<String, String>,
    budget: &mut usize,
    line: &str,
    out: &mut String,
) -> Result<(), Error> {
    let mut rest = s;
    while let Some(open) = rest.find("{$") {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        let after = tail.get(2..).unwrap_or_default();
        let len = after.bytes().take_while(|&b| is_name_byte(b)).count();
        match (after.get(..len), after.get(len..)) {
            (Some(name), Some(close)) if len > 0 && close.starts_with('}') => {
                let value = values.get(name).ok_or_else(|| {
                    bad_line("variable reference without a preceding EXT-X-DEFINE", line)
                })?;
                *budget = budget.checked_sub(value.len()).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Limit,
                        format!(
                            "variable substitution adds more than {MAX_SUBSTITUTED_BYTES} bytes"
                        ),
                    )
                })?;
                out.push_str(value);
                rest = close.get(1..).unwrap_or_default();
            }
            _ => {
                out.push_str("{$");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(())
}
