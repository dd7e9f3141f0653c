//! Signing in and out. Failed sign-ins count against the admin verifier's
//! failure limits (`auth::admins`), per address and per name, as the
//! console's API counts them.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde::Deserialize;

use super::session::{COOKIE, cookie, set_cookie};
use super::{Console, ConsoleError, Signed, csrf, layout};
use crate::auth::admins::AdminAuthError;
use crate::http::throttle::{client_addr, retry_after};
use crate::secrets::random_secret;
use crate::service::{DEFAULT_TENANT, console_sessions};

/// Console forms are small; this bounds them before any parsing.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Ties the sign-in form to the browser that loaded it (there is no
/// session yet whose token could).
const LOGIN_COOKIE: &str = "roster_console_login";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignIn {
    username: String,
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn show(
    console: web::Data<Console>,
    query: web::Query<Next>,
) -> Result<HttpResponse, ConsoleError> {
    form(&console, StatusCode::OK, "", query.next.as_deref(), None)
}

pub async fn submit(
    req: HttpRequest,
    console: web::Data<Console>,
    form_in: web::Form<SignIn>,
) -> Result<HttpResponse, ConsoleError> {
    let SignIn {
        username,
        password,
        csrf: presented,
        next,
    } = form_in.into_inner();
    let expected = cookie(&req, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() {
        return Err(ConsoleError::Forbidden(
            "The sign-in form expired or cookies are off. Reload the page and try again.".into(),
        ));
    }
    csrf::check(&req, &expected, presented.as_deref())?;
    let next = next.as_deref();
    let addr = client_addr(console.admins.limiter(), &req);
    match console.admins.verify(&username, &password, addr).await {
        Ok(()) => {}
        Err(AdminAuthError::Invalid) => {
            log::warn!(
                "failed console sign-in as {username:?} from {}",
                addr.map(|a| a.to_string()).unwrap_or_default()
            );
            let message = "Wrong user name or password.";
            return form(
                &console,
                StatusCode::UNAUTHORIZED,
                &username,
                next,
                Some(message),
            );
        }
        Err(AdminAuthError::TooMany(wait)) => return too_many(&console, &username, next, wait),
        Err(AdminAuthError::Unavailable) => {
            return Err(ConsoleError::Unavailable(
                "admin accounts could not be checked".into(),
            ));
        }
    }
    let opened =
        console_sessions::open(&console.db, DEFAULT_TENANT, &username, console.ttl_ms).await?;
    log::info!("console sign-in as {username:?}");
    let mut resp = layout::see_other(&landing(&console, next));
    let ttl_secs = console.ttl_ms / 1000;
    add_cookie(
        &mut resp,
        &set_cookie(&console, COOKIE, &opened.token, ttl_secs),
    );
    add_cookie(&mut resp, &set_cookie(&console, LOGIN_COOKIE, "", 0));
    Ok(resp)
}

pub async fn sign_out(
    req: HttpRequest,
    console: web::Data<Console>,
    signed: Signed,
    form_in: web::Form<CsrfOnly>,
) -> Result<HttpResponse, ConsoleError> {
    csrf::check(&req, &signed.session.csrf_token, form_in.csrf.as_deref())?;
    console_sessions::close(&console.db, &signed.token).await?;
    let mut resp = layout::see_other(&console.at("/login"));
    add_cookie(&mut resp, &set_cookie(&console, COOKIE, "", 0));
    Ok(resp)
}

/// Where a sign-in lands: the console page it was sent from, never
/// anywhere else.
fn landing(console: &Console, next: Option<&str>) -> String {
    let inside = |n: &&str| {
        n.starts_with(&format!("{}/", console.path))
            && !n.contains("//")
            && !n.contains('\\')
            && !n.starts_with(&console.at("/login"))
    };
    next.filter(inside)
        .map_or_else(|| console.at(""), str::to_owned)
}

fn too_many(
    console: &Console,
    username: &str,
    next: Option<&str>,
    wait: u64,
) -> Result<HttpResponse, ConsoleError> {
    let message = "Too many failed sign-ins. Wait a while and try again.";
    let mut resp = form(
        console,
        StatusCode::TOO_MANY_REQUESTS,
        username,
        next,
        Some(message),
    )?;
    let (name, value) = retry_after(wait);
    resp.headers_mut().insert(name, value);
    Ok(resp)
}

/// The sign-in page, with a fresh form token in its cookie and field.
fn form(
    console: &Console,
    status: StatusCode,
    username: &str,
    next: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, ConsoleError> {
    let token = random_secret("").map_err(ConsoleError::Internal)?;
    let body = html! {
        main #main.narrow {
            h1 { "Roster console" }
            p { "Sign in with an administrator account." }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form.stack method="post" action=(console.at("/login")) {
                input type="hidden" name="csrf" value=(token);
                @if let Some(next) = next {
                    input type="hidden" name="next" value=(next);
                }
                label for="username" { "User name" }
                input #username name="username" value=(username) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        }
    };
    let mut resp = layout::respond(status, &console.path, "Sign in", body);
    add_cookie(&mut resp, &set_cookie(console, LOGIN_COOKIE, &token, 3600));
    Ok(resp)
}

fn add_cookie(resp: &mut HttpResponse, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}
