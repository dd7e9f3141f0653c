//! Keeping secrets out of the request log. Bodies are scanned as JSON
//! tokens, so a body cut off at the size limit is redacted as well as a
//! whole one: the string value of a secret-named key becomes `"***"`, and
//! so does a PATCH operation's `value` when its `path` names a password.
//! Tokens Roster mints and JWTs are replaced wherever they appear.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::scan::{next_token, string_end, unquote};

use crate::secrets::TOKEN_PREFIX;

pub const MASK: &str = "***";

/// Keys (compared without case) whose values are secrets wherever they are.
const SECRET_KEYS: &[&str] = &[
    "password",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "secret",
];

/// Request headers never recorded; the rest are kept.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

pub fn is_secret_key(key: &str) -> bool {
    // An extension's attributes are named by their schema URN.
    let key = match key.bytes().rposition(|b| b == b':') {
        Some(at) => &key[at + 1..],
        None => key,
    };
    // Checked for every string a body holds: most names fail on length.
    if !matches!(key.len(), 4 | 5 | 6 | 8 | 9 | 12 | 13 | 16) {
        return false;
    }
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// A query string or form body with secret-named values masked.
pub fn form(text: &str) -> String {
    let masked: Vec<String> = text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_key(&percent_decoded(key)) => format!("{key}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect();
    tokens(&masked.join("&")).into_owned()
}

/// A path with its query string redacted.
pub fn path_and_query(path: &str) -> String {
    match path.split_once('?') {
        Some((path, query)) => format!("{path}?{}", form(query)),
        None => tokens(path).into_owned(),
    }
}

fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` may hold something to mask: a secret key's name (or the
/// part of it every secret key shares with some other), a JSON escape that
/// could spell one, one of Roster's tokens or the start of a JWT, in any
/// case. Most bodies hold none of these, and these searches over them cost
/// a fraction of the scan that reads their keys.
fn may_hold_secrets(text: &str) -> bool {
    static NEEDLES: LazyLock<Vec<Finder<'static>>> = LazyLock::new(|| {
        [
            "password",
            "secret",
            "token",
            "code",
            "assertion",
            "\\u",
            TOKEN_PREFIX,
            "eyj",
        ]
        .into_iter()
        .map(Finder::new)
        .collect()
    });
    let lower = text.to_ascii_lowercase();
    NEEDLES.iter().any(|n| n.find(lower.as_bytes()).is_some())
}

/// A JSON text, whole or cut off, with secret values masked; the text
/// itself, not a copy, when it holds none.
pub fn json(text: String) -> String {
    if !may_hold_secrets(&text) {
        return text;
    }
    let masked = match mask_json(&text) {
        Cow::Borrowed(_) => None,
        Cow::Owned(masked) => Some(masked),
    };
    let masked = masked.unwrap_or(text);
    let cleaned = match tokens(&masked) {
        Cow::Borrowed(_) => None,
        Cow::Owned(out) => Some(out),
    };
    cleaned.unwrap_or(masked)
}

/// The scan behind [`json`]. It allocates nothing until it masks
/// something: the request log runs it over every body, so it must cost
/// little more than reading the text.
fn mask_json(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` before this index are already in `out`.
    let mut copied = 0;
    // The key whose value comes next, when the last string was a key.
    let mut key: Option<(usize, usize)> = None;
    // A PATCH operation's `path` named a password: mask its `value`.
    let mut password_path = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let end = string_end(bytes, i);
                if next_token(bytes, end) == Some(b':') {
                    key = Some((i, end));
                } else if let Some((from, to)) = key.take() {
                    let name = unquote(&text[from..to]);
                    let secret = is_secret_key(&name)
                        || (password_path && name.eq_ignore_ascii_case("value"));
                    if name.eq_ignore_ascii_case("path")
                        && unquote(&text[i..end])
                            .to_ascii_lowercase()
                            .contains("password")
                    {
                        password_path = true;
                    }
                    if secret {
                        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                        o.push_str(&text[copied..i]);
                        o.push('"');
                        o.push_str(MASK);
                        o.push('"');
                        copied = end;
                    }
                }
                i = end;
            }
            b'{' => {
                password_path = false;
                i += 1;
            }
            b',' | b'}' | b'[' | b']' => {
                key = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Roster's own tokens and anything shaped like a JWT, wherever they are.
pub fn tokens(text: &str) -> Cow<'_, str> {
    if !text.contains(TOKEN_PREFIX) && !text.contains("eyJ") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let next = [rest.find(TOKEN_PREFIX), rest.find("eyJ")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let len = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(candidate.len());
        let word = &candidate[..len];
        let minted = word.starts_with(TOKEN_PREFIX) && len >= TOKEN_PREFIX.len() + 20;
        let jwt = word.starts_with("eyJ") && word.matches('.').count() >= 2 && len >= 20;
        if minted || jwt {
            out.push_str(MASK);
            rest = &candidate[len..];
        } else {
            let step = candidate.chars().next().map_or(1, char::len_utf8);
            out.push_str(&candidate[..step]);
            rest = &candidate[step..];
        }
    }
    Cow::Owned(out)
}

/// The first `chars` characters of `text` (the columns' limits count
/// characters).
pub fn clipped(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(end, _)| &text[..end])
}

/// The first `limit` bytes of `body` as text, cut at a character boundary.
pub fn truncated_text(body: &[u8], limit: usize) -> String {
    let cut = &body[..body.len().min(limit)];
    match std::str::from_utf8(cut) {
        Ok(s) => s.to_owned(),
        Err(e) if e.error_len().is_none() => {
            String::from_utf8_lossy(&cut[..e.valid_up_to()]).into_owned()
        }
        Err(_) => String::from_utf8_lossy(cut).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits count characters, and a cut never splits one.
    #[test]
    fn clipped_counts_characters() {
        assert_eq!(clipped("abc", 5), "abc");
        assert_eq!(clipped("abc", 3), "abc");
        assert_eq!(clipped("abc", 2), "ab");
        assert_eq!(clipped("żółw", 2), "żó");
        assert_eq!(clipped("", 0), "");
    }

    #[test]
    fn masks_secret_values_in_whole_and_cut_off_json() {
        let body = r#"{"userName":"a","password":"hunter2","x":{"client_secret":"s3"}}"#;
        let out = json(body.to_owned());
        assert!(!out.contains("hunter2") && !out.contains("s3\""), "{out}");
        assert!(out.contains(r#""userName":"a""#), "{out}");
        let cut = json(r#"{"userName":"a","password":"hunt"#.to_owned());
        assert!(!cut.contains("hunt"), "{cut}");
    }

    #[test]
    fn masks_a_patch_value_whose_path_is_a_password() {
        let body = r#"{"Operations":[{"op":"replace","path":"password","value":"p@ss"},{"op":"replace","path":"active","value":false},{"op":"add","value":{"password":"q"}}]}"#;
        let out = json(body.to_owned());
        assert!(!out.contains("p@ss") && !out.contains("\"q\""), "{out}");
        assert!(out.contains(r#""value":false"#), "{out}");
    }

    #[test]
    fn masks_query_and_form_secrets_and_tokens() {
        let q = path_and_query("/scim/v2/Users?access_token=abc&filter=x");
        assert_eq!(q, "/scim/v2/Users?access_token=***&filter=x");
        let f = form("grant_type=client_credentials&client_secret=zz&client_id=c");
        assert_eq!(
            f,
            "grant_type=client_credentials&client_secret=***&client_id=c"
        );
        let t = tokens(
            "see roster_abcdefghijklmnopqrstuvwxyz0123 and eyJhbGciOi.eyJzdWIi.c2ln and eyJ",
        );
        assert_eq!(t, "see *** and *** and eyJ");
    }

    #[test]
    fn knows_every_secret_key_in_any_case_and_under_a_urn() {
        for key in SECRET_KEYS {
            assert!(is_secret_key(key), "{key}");
            assert!(is_secret_key(&key.to_ascii_uppercase()), "{key}");
            let urn = format!("urn:ietf:params:scim:schemas:extension:x:2.0:User:{key}");
            assert!(is_secret_key(&urn), "{urn}");
        }
        for key in ["userName", "value", "display", "codes", "passwords", ""] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn the_quick_check_sees_every_secret_key_and_token() {
        for key in SECRET_KEYS {
            assert!(
                may_hold_secrets(&format!(r#"{{"{}":"x"}}"#, key.to_ascii_uppercase())),
                "{key}"
            );
        }
        assert!(may_hold_secrets("a roster_abc token"));
        assert!(may_hold_secrets("eyJhbGciOi"));
        assert!(may_hold_secrets(r#"{"p\u0061ssword":"x"}"#));
        assert!(!may_hold_secrets(
            r#"{"userName":"a","emails":[{"value":"x@y"}]}"#
        ));
    }

    #[test]
    fn leaves_a_body_without_secrets_as_it_was() {
        let body = r#"{"userName":"a\"b","emails":[{"value":"x@y","type":"work"}],"n":1}"#;
        assert!(matches!(mask_json(body), Cow::Borrowed(b) if b == body));
        let escaped = r#"{"pass\u0077ord":"hunter2","path":"x"}"#;
        assert_eq!(
            json(escaped.to_owned()),
            r#"{"pass\u0077ord":"***","path":"x"}"#
        );
    }

    #[test]
    fn cuts_at_a_character_boundary() {
        assert_eq!(truncated_text("aé".as_bytes(), 2), "a");
    }
}
