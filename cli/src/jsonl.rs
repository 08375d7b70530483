//! The dump format: JSON Lines, one document per line.
//!
//! ```text
//! {"id":1,"json":{"name":"Ada"}}         a document that is JSON, embedded as its exact bytes
//! {"id":2,"base64":"AAEC/w=="}           any other document (binary, empty, pretty-printed JSON)
//! {"db":"users","id":1,"json":...}        with the database's name, when dumping a whole store
//! ```
//! A document is embedded as `json` only if its bytes are one JSON value with no surrounding
//! whitespace and no line break, so that the text between `"json":` and the closing brace
//! is exactly the document and a load gives back the same bytes.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::base64;

/// Whether `doc` can be embedded as-is: valid JSON, byte-exact, on one line.
fn embeddable(doc: &[u8]) -> Option<&str> {
    if doc.contains(&b'\n') || doc.contains(&b'\r') {
        return None;
    }
    let raw: &RawValue = serde_json::from_slice(doc).ok()?;
    (raw.get().len() == doc.len()).then(|| raw.get())
}

/// Appends the dump line of document `id` (with a trailing newline) to `out`.
pub fn write_line(out: &mut Vec<u8>, db: Option<&str>, id: u64, doc: &[u8]) {
    out.push(b'{');
    if let Some(db) = db {
        out.extend_from_slice(b"\"db\":");
        out.extend_from_slice(serde_json::to_string(db).unwrap_or_default().as_bytes());
        out.push(b',');
    }
    out.extend_from_slice(format!("\"id\":{id},").as_bytes());
    match embeddable(doc) {
        Some(json) => {
            out.extend_from_slice(b"\"json\":");
            out.extend_from_slice(json.as_bytes());
        }
        None => {
            out.extend_from_slice(b"\"base64\":\"");
            out.extend_from_slice(base64::encode(doc).as_bytes());
            out.push(b'"');
        }
    }
    out.extend_from_slice(b"}\n");
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(default)]
    db: Option<String>,
    id: u64,
    #[serde(borrow, default, deserialize_with = "present")]
    json: Option<&'a RawValue>,
    #[serde(default)]
    base64: Option<String>,
}

/// A present `json` field, whatever its value: `"json":null` is the document `null`, not a
/// missing field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// One parsed dump line.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub db: Option<String>,
    pub id: u64,
    pub doc: Vec<u8>,
}

/// Parses one line (without its newline). The error says what is wrong, without the
/// line number (the caller adds it).
pub fn parse_line(line: &str) -> Result<Entry, String> {
    let l: Line<'_> = serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        match msg.rsplit_once(" at line ") {
            Some((what, _)) => format!("{what} (column {})", e.column()),
            None => msg,
        }
    })?;
    let doc = match (l.json, l.base64) {
        (Some(raw), None) => raw.get().as_bytes().to_vec(),
        (None, Some(b)) => base64::decode(&b).map_err(|e| format!("invalid base64: {e}"))?,
        _ => return Err("expected exactly one of \"json\" and \"base64\"".into()),
    };
    Ok(Entry {
        db: l.db,
        id: l.id,
        doc,
    })
}

/// Indents a JSON text by two spaces per level, keeping every token (key order, number
/// spelling, escapes) exactly as written.
pub fn pretty(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(doc: &[u8], db: Option<&str>) -> String {
        let mut out = Vec::new();
        write_line(&mut out, db, 42, doc);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with('\n') && text.matches('\n').count() == 1,
            "{text:?}"
        );
        let e = parse_line(text.trim_end_matches('\n')).unwrap();
        assert_eq!((e.id, e.db.as_deref(), e.doc.as_slice()), (42, db, doc));
        text
    }

    #[test]
    fn every_kind_of_document_round_trips_byte_exactly() {
        assert_eq!(
            round_trip(br#"{"a":[1,2.50,"x"]}"#, None),
            "{\"id\":42,\"json\":{\"a\":[1,2.50,\"x\"]}}\n"
        );
        assert_eq!(
            round_trip(b"", Some("users")),
            "{\"db\":\"users\",\"id\":42,\"base64\":\"\"}\n"
        );
        for doc in [
            &b"\x00\xff\x10binary"[..],
            b" {\"padded\":true}",
            b"{\n  \"pretty\": 1\n}",
            b"{\"a\":1} trailing",
            b"\"\\u00e9t\xc3\xa9\"",
            b"12345678901234567890123456789",
            b"null",
            b"\xc3\x28",
        ] {
            round_trip(doc, None);
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for (line, want) in [
            ("", "EOF"),
            ("{\"id\":1}", "exactly one"),
            ("{\"id\":1,\"json\":1,\"base64\":\"\"}", "exactly one"),
            ("{\"id\":-1,\"json\":1}", "invalid value"),
            ("{\"json\":1}", "missing field `id`"),
            ("{\"id\":1,\"base64\":\"@@@@\"}", "invalid base64"),
            ("{\"id\":1,\"json\":1,\"extra\":2}", "unknown field"),
            ("{\"id\":1,\"json\":{]}", "column"),
        ] {
            let err = parse_line(line).unwrap_err();
            assert!(err.contains(want), "{line:?}: {err}");
        }
    }

    #[test]
    fn pretty_keeps_every_token() {
        assert_eq!(
            pretty(r#"{"b":1,"a":[1.50,{},[]],"s":"x,{\"y\":[]}"}"#),
            "{\n  \"b\": 1,\n  \"a\": [\n    1.50,\n    {},\n    []\n  ],\n  \"s\": \"x,{\\\"y\\\":[]}\"\n}"
        );
    }
}
