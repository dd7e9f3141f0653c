//! The credentials an `Authorization` header presents. RFC 7235 §2.1 makes
//! the scheme name case-insensitive (`bearer`, `BASIC` and `Bearer` are one
//! scheme), so the header is read here rather than by parsers that expect
//! one spelling.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::principal::AuthError;

/// What a request presented, before anything is checked.
pub enum Presented {
    Bearer(String),
    Basic { user: String, password: String },
}

impl Presented {
    /// The Basic user name, if any: failures are also counted per name.
    pub fn basic_user(&self) -> Option<&str> {
        match self {
            Self::Basic { user, .. } => Some(user),
            Self::Bearer(_) => None,
        }
    }
}

/// Reads `Bearer <token>` or `Basic <base64 user:password>`, the scheme in
/// any case and separated from its credentials by spaces or tabs.
pub fn parse(header: &str) -> Result<Presented, AuthError> {
    let header = header.trim_matches([' ', '\t']);
    let (scheme, rest) = header.split_once([' ', '\t']).ok_or(AuthError::Malformed)?;
    let rest = rest.trim_matches([' ', '\t']);
    if rest.is_empty() {
        return Err(AuthError::Malformed);
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Presented::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        return basic(rest).ok_or(AuthError::BadBasic);
    }
    Err(AuthError::Malformed)
}

fn basic(encoded: &str) -> Option<Presented> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some(Presented::Basic {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(h: &str) -> Option<String> {
        match parse(h).ok()? {
            Presented::Bearer(t) => Some(t),
            Presented::Basic { .. } => None,
        }
    }

    fn basic_pair(h: &str) -> Option<(String, String)> {
        match parse(h).ok()? {
            Presented::Basic { user, password } => Some((user, password)),
            Presented::Bearer(_) => None,
        }
    }

    #[test]
    fn scheme_names_are_case_insensitive() {
        for h in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR  abc "] {
            assert_eq!(bearer(h).as_deref(), Some("abc"), "{h}");
        }
        let encoded = STANDARD.encode("u:p:w");
        for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
            assert_eq!(
                basic_pair(&format!("{scheme} {encoded}")),
                Some(("u".to_owned(), "p:w".to_owned())),
                "{scheme}"
            );
        }
        assert!(matches!(parse("Basicx abc"), Err(AuthError::Malformed)));
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert!(matches!(parse("Bearer"), Err(AuthError::Malformed)));
        assert!(matches!(parse("Bearer   "), Err(AuthError::Malformed)));
        assert!(matches!(parse("Digest abc"), Err(AuthError::Malformed)));
        assert!(matches!(parse("Basic !!!"), Err(AuthError::BadBasic)));
        let no_colon = STANDARD.encode("user");
        assert!(matches!(
            parse(&format!("Basic {no_colon}")),
            Err(AuthError::BadBasic)
        ));
    }
}
