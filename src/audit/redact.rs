//! Keeping secrets out of the request log. Bodies are scanned as JSON
//! tokens, so a body cut off at the size limit is redacted as well as a
//! whole one: the string value of a secret-named key becomes `"***"`, and
//! so does a PATCH operation's `value` when its `path` names a password.
//! Tokens Roster mints and JWTs are replaced wherever they appear.

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
    let key = key.rsplit(':').next().unwrap_or(key);
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
    tokens(&masked.join("&"))
}

/// A path with its query string redacted.
pub fn path_and_query(path: &str) -> String {
    match path.split_once('?') {
        Some((path, query)) => format!("{path}?{}", form(query)),
        None => tokens(path),
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

/// A JSON text, whole or cut off, with secret values masked.
pub fn json(text: &str) -> String {
    tokens(&JsonMasker::default().run(text))
}

/// What the scanner remembers between tokens.
#[derive(Default)]
struct JsonMasker {
    out: String,
    /// The key whose value comes next, when the last string was a key.
    key: Option<String>,
    /// A PATCH operation's `path` named a password: mask its `value`.
    password_path: bool,
}

impl JsonMasker {
    fn run(mut self, text: &str) -> String {
        self.out.reserve(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if c == '"' {
                let (literal, after) = split_string(rest);
                self.string(literal, after);
                rest = after;
            } else {
                match c {
                    '{' => self.password_path = false,
                    ',' | '}' | '[' | ']' => self.key = None,
                    _ => {}
                }
                self.out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        self.out
    }

    /// One string literal (quotes included), followed by `after`.
    fn string(&mut self, literal: &str, after: &str) {
        let is_key = after.trim_start().starts_with(':');
        if is_key {
            self.key = Some(unquote(literal));
            self.out.push_str(literal);
            return;
        }
        let key = self.key.take();
        let secret = key.as_deref().is_some_and(|k| {
            is_secret_key(k) || (k.eq_ignore_ascii_case("value") && self.password_path)
        });
        if key
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("path"))
            && unquote(literal).to_ascii_lowercase().contains("password")
        {
            self.password_path = true;
        }
        if secret {
            self.out.push('"');
            self.out.push_str(MASK);
            self.out.push('"');
        } else {
            self.out.push_str(literal);
        }
    }
}

/// The string literal at the start of `s` and what follows it; a literal
/// cut off by truncation runs to the end.
fn split_string(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return s.split_at(i + 1),
            _ => i += 1,
        }
    }
    (s, "")
}

fn unquote(literal: &str) -> String {
    serde_json::from_str::<String>(literal).unwrap_or_else(|_| literal.trim_matches('"').to_owned())
}

/// Roster's own tokens and anything shaped like a JWT, wherever they are.
pub fn tokens(text: &str) -> String {
    if !text.contains(TOKEN_PREFIX) && !text.contains("eyJ") {
        return text.to_owned();
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
    out
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

    #[test]
    fn masks_secret_values_in_whole_and_cut_off_json() {
        let body = r#"{"userName":"a","password":"hunter2","x":{"client_secret":"s3"}}"#;
        let out = json(body);
        assert!(!out.contains("hunter2") && !out.contains("s3\""), "{out}");
        assert!(out.contains(r#""userName":"a""#), "{out}");
        let cut = json(r#"{"userName":"a","password":"hunt"#);
        assert!(!cut.contains("hunt"), "{cut}");
    }

    #[test]
    fn masks_a_patch_value_whose_path_is_a_password() {
        let body = r#"{"Operations":[{"op":"replace","path":"password","value":"p@ss"},{"op":"replace","path":"active","value":false},{"op":"add","value":{"password":"q"}}]}"#;
        let out = json(body);
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
    fn cuts_at_a_character_boundary() {
        assert_eq!(truncated_text("aé".as_bytes(), 2), "a");
    }
}
