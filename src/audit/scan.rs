//! Reading JSON text without building it: the request log looks at every
//! body (for secrets, and for the few fields its summary names), and a
//! parsed document per body cost as much as serving the request. These
//! work on text cut off at the size limit too.

use std::borrow::Cow;
use std::ops::ControlFlow;

/// The index just after the string literal that opens at `start`; a
/// literal cut off by truncation runs to the end.
pub fn string_end(bytes: &[u8], start: usize) -> usize {
    // A plain loop: the strings of a SCIM body are short, shorter than
    // what a vectorised search needs to pay off.
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index of the first byte at or after `i` that is not JSON
/// whitespace (the length when there is none).
fn skip_space(bytes: &[u8], i: usize) -> usize {
    bytes.get(i..).map_or(bytes.len(), |rest| {
        i + rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count()
    })
}

/// The first byte at or after `i` that is not JSON whitespace.
pub fn next_token(bytes: &[u8], i: usize) -> Option<u8> {
    bytes.get(skip_space(bytes, i)).copied()
}

/// A string literal's text: as it stands unless it holds an escape.
pub fn unquote(literal: &str) -> Cow<'_, str> {
    let inner = literal.strip_prefix('"').unwrap_or(literal);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    if !inner.bytes().any(|b| b == b'\\') {
        return Cow::Borrowed(inner);
    }
    serde_json::from_str::<String>(literal).map_or(Cow::Borrowed(inner), Cow::Owned)
}

/// A top-level member's value, as far as it is read.
#[derive(Debug, PartialEq)]
pub enum Literal<'t> {
    Text(Cow<'t, str>),
    /// A number, as written.
    Number(&'t str),
}

/// Calls `visit` with each top-level member of the object `text` holds
/// whose value is a string or a number, until it breaks; nested values are
/// stepped over.
pub fn top_level<'t>(text: &'t str, mut visit: impl FnMut(&str, Literal<'t>) -> ControlFlow<()>) {
    let bytes = text.as_bytes();
    if next_token(bytes, 0) != Some(b'{') {
        return;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let end = string_end(bytes, i);
                let is_key = depth == 1 && next_token(bytes, end) == Some(b':');
                let key = &text[i..end];
                i = end;
                if !is_key {
                    continue;
                }
                // Past the colon to the value.
                i = bytes[end..]
                    .iter()
                    .position(|&b| b == b':')
                    .map_or(bytes.len(), |at| end + at + 1);
                let start = skip_space(bytes, i);
                let Some(&first) = bytes.get(start) else {
                    return;
                };
                if first == b'"' {
                    let value_end = string_end(bytes, start);
                    let value = Literal::Text(unquote(&text[start..value_end]));
                    if visit(&unquote(key), value).is_break() {
                        return;
                    }
                    i = value_end;
                } else if first == b'-' || first.is_ascii_digit() {
                    let len = bytes[start..]
                        .iter()
                        .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .count();
                    let value = Literal::Number(&text[start..start + len]);
                    if visit(&unquote(key), value).is_break() {
                        return;
                    }
                    i = start + len;
                } else {
                    i = start;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Vec<(String, Literal<'_>)> {
        let mut out = Vec::new();
        top_level(text, |k, v| {
            out.push((k.to_owned(), v));
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn reads_top_level_strings_and_numbers_only() {
        let text = r#" {"userName" : "a\"b", "name": {"userName": "nested"}, "emails": [{"value": "x"}],
            "totalResults": 12, "active": true, "display\u004eame": "D"}"#;
        let got = members(text);
        assert_eq!(
            got,
            vec![
                (
                    "userName".to_owned(),
                    Literal::Text(Cow::Owned("a\"b".to_owned()))
                ),
                ("totalResults".to_owned(), Literal::Number("12")),
                ("displayName".to_owned(), Literal::Text(Cow::Borrowed("D"))),
            ]
        );
    }

    #[test]
    fn reads_what_a_cut_off_text_holds_and_nothing_from_other_texts() {
        let got = members(r#"{"totalResults": 5000, "Resources": [{"userName": "a"}, {"userNa"#);
        assert_eq!(
            got,
            vec![("totalResults".to_owned(), Literal::Number("5000"))]
        );
        assert!(members(r#"["userName", "a"]"#).is_empty());
        assert!(members("userName=a").is_empty());
        assert!(members("").is_empty());
        let cut = members(r#"{"detail": "no such us"#);
        assert_eq!(
            cut,
            vec![(
                "detail".to_owned(),
                Literal::Text(Cow::Borrowed("no such us"))
            )]
        );
    }
}
