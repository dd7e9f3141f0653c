//! The sign-in and approval page, and the error page for requests that
//! cannot be sent back to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, REFERRER_POLICY,
    X_FRAME_OPTIONS,
};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// What the form carries back unchanged.
pub struct Carried<'a> {
    pub fields: [(&'static str, Option<&'a str>); 7],
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;\
padding:0 1rem;color:#222}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;\
box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.error{color:#b00020}\
code{background:#f3f3f3;padding:0 .2rem}";

pub fn sign_in(
    status: StatusCode,
    client_id: &str,
    scope: &str,
    carried: &Carried<'_>,
    error: Option<&str>,
) -> HttpResponse {
    let hidden: String = carried
        .fields
        .iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{name}" value="{}">"#,
                escape(value)
            )
        })
        .collect();
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Authorize {client} – Roster</title><style>{STYLE}</style></head><body>
<h1>Authorize access</h1>
<p>The application <code>{client}</code> asks for access to this Roster server's SCIM API
(scope <code>{scope}</code>). Sign in as an administrator to approve it.</p>
{error}<form method="post" action="{action}">{hidden}
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form></body></html>"#,
        client = escape(client_id),
        scope = escape(scope),
        action = super::AUTHORIZE_PATH,
    );
    html(status).body(body)
}

pub fn error(status: StatusCode, message: &str) -> HttpResponse {
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Authorization error – Roster</title><style>{STYLE}</style></head><body>
<h1>This authorization request cannot be completed</h1>
<p class="error">{}</p></body></html>"#,
        escape(message)
    );
    html(status).body(body)
}

/// The page may only be shown by itself (no framing, so no clickjacking of
/// the Approve button), never cached, and never leaks the URL onwards.
fn html(status: StatusCode) -> HttpResponseBuilder {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .insert_header((
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ))
        .insert_header((
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ));
    resp
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_leave_an_attribute() {
        assert_eq!(
            escape(r#""><script>x</script>&'"#),
            "&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;"
        );
    }
}
