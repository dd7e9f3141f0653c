//! Cross-site request forgery: a state-changing form must come from a
//! console page, which means it carries the session's token and, where the
//! browser says so, was sent from this origin.

use actix_web::HttpRequest;
use subtle::ConstantTimeEq;

use super::ConsoleError;
use crate::http::console_session::same_origin;

/// Refuses `req` unless it came from this site and `presented` is the
/// `expected` token.
pub fn check(
    req: &HttpRequest,
    expected: &str,
    presented: Option<&str>,
) -> Result<(), ConsoleError> {
    if !same_origin(req) {
        return Err(ConsoleError::Forbidden(
            "This form was sent from another site and was refused.".to_owned(),
        ));
    }
    let matches = presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())));
    if !matches {
        return Err(ConsoleError::Forbidden(
            "This form is out of date or did not come from the console. Reload the page and try again."
                .to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn only_this_origin_and_the_token_pass() {
        let req = |headers: &[(&str, &str)]| {
            let mut r = TestRequest::post().insert_header(("host", "roster.example:5000"));
            for h in headers {
                r = r.insert_header(*h);
            }
            r.to_http_request()
        };
        let ok = req(&[
            ("origin", "https://roster.example:5000"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(check(&ok, "t", Some("t")).is_ok());
        assert!(check(&ok, "t", Some("u")).is_err());
        assert!(check(&ok, "t", None).is_err());
        assert!(check(&req(&[("origin", "https://evil.example")]), "t", Some("t")).is_err());
        assert!(check(&req(&[("sec-fetch-site", "cross-site")]), "t", Some("t")).is_err());
        assert!(check(&req(&[]), "t", Some("t")).is_ok());
    }
}
