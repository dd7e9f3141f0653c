//! The page shell every console page shares, and the headers that keep it
//! to itself: no framing, no inline script, nothing cached.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, LOCATION, REFERRER_POLICY,
    X_FRAME_OPTIONS,
};
use actix_web::{HttpResponse, HttpResponseBuilder};
use maud::{DOCTYPE, Markup, html};

use super::Console;
use super::assets;
use crate::service::console_sessions::Session;

/// Scripts and styles come only from the console's own embedded files;
/// nothing inline runs, whatever a value from an IdP holds.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's path, for pages built where no request is at hand (error
/// pages). Every application in a process serves the console at the path
/// its configuration names; error pages only use it for the stylesheet.
static PATH: OnceLock<String> = OnceLock::new();

pub fn remember_path(path: &str) {
    let _ = PATH.set(path.to_owned());
}

/// The sections the navigation bar offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Activity,
    Users,
    Groups,
    Credentials,
    Status,
}

const SECTIONS: [(Section, &str, &str); 5] = [
    (Section::Activity, "/activity", "Activity"),
    (Section::Users, "/users", "Users"),
    (Section::Groups, "/groups", "Groups"),
    (Section::Credentials, "/credentials", "Credentials"),
    (Section::Status, "/status", "Status"),
];

/// A signed-in page: navigation, the sign-out button, then `main`.
pub fn page(
    console: &Console,
    session: &Session,
    section: Section,
    title: &str,
    main: Markup,
) -> HttpResponse {
    let body = html! {
        a.skip href="#main" { "Skip to content" }
        header.top {
            nav aria-label="Console" {
                a.brand href=(console.at("")) { "Roster" }
                ul {
                    @for (s, suffix, name) in SECTIONS {
                        li {
                            @if s == section {
                                a href=(console.at(suffix)) aria-current="page" { (name) }
                            } @else {
                                a href=(console.at(suffix)) { (name) }
                            }
                        }
                    }
                }
            }
            form.signout method="post" action=(console.at("/logout")) {
                (csrf_field(session))
                span.who { "Signed in as " strong { (session.admin) } }
                button type="submit" { "Sign out" }
            }
        }
        main #main { (main) }
    };
    respond(StatusCode::OK, &console.path, title, body)
}

/// The hidden field that carries the session's CSRF token.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf_token); }
}

/// A whole document with the console's stylesheet and script.
pub fn respond(status: StatusCode, path: &str, title: &str, body: Markup) -> HttpResponse {
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " – Roster console" }
                link rel="stylesheet" href=(assets::url(path, "console.css"));
                script src=(assets::url(path, "console.js")) defer {}
            }
            body { (body) }
        }
    };
    html_response(status).body(doc.into_string())
}

/// A page for an error, linking back to the console.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let path = PATH.get().map_or("/console", String::as_str);
    let body = html! {
        main #main.narrow {
            h1 { (status.canonical_reason().unwrap_or("Error")) }
            p.error role="alert" { (message) }
            p { a href=(path) { "Back to the console" } }
        }
    };
    respond(status, path, "Error", body)
}

pub fn see_other(location: &str) -> HttpResponse {
    let mut resp = html_response(StatusCode::SEE_OTHER);
    resp.insert_header((LOCATION, location));
    resp.finish()
}

/// Headers of every console answer.
pub fn html_response(status: StatusCode) -> HttpResponseBuilder {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .insert_header((
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ));
    resp
}

/// `2026-12-05T01:34:13.257Z` as `2026-12-05 01:34:13`.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339.replacen('T', " ", 1).chars().take(19).collect()
}

/// A value made safe for one path segment or query value of a link.
pub fn urlencoded(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
