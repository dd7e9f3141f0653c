//! The session cookie and the extractor that makes a page sign-in only.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};

use super::{Console, ConsoleError};
use crate::service::console_sessions::{self, Session};

pub use crate::http::console_session::{SESSION_COOKIE as COOKIE, cookie};

/// A request from a signed-in admin.
pub struct Signed {
    pub session: Session,
    /// The cookie's token, to close the session with.
    pub token: String,
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let console = req
                .app_data::<web::Data<Console>>()
                .cloned()
                .ok_or_else(|| ConsoleError::Internal("the console is not configured".into()))?;
            let signed_out = || ConsoleError::SignedOut {
                login: login_url(&console, &req),
            };
            let token = cookie(&req, COOKIE).ok_or_else(signed_out)?;
            let session = console_sessions::find(&console.db, &token)
                .await?
                .ok_or_else(signed_out)?;
            Ok(Self { session, token })
        })
    }
}

/// The sign-in page, coming back here afterwards when this was a page.
fn login_url(console: &Console, req: &HttpRequest) -> String {
    let login = console.at("/login");
    if req.method() != Method::GET {
        return login;
    }
    let here = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    format!("{login}?next={next}")
}

/// A `Set-Cookie` value for `name` under the console's path: never readable
/// by scripts, never sent by other sites, and over TLS only when the
/// console is served over TLS.
pub fn set_cookie(console: &Console, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if console.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path={}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}",
        console.path
    )
}
