//! The console's stylesheet and script, compiled into the binary: the
//! console works without any network beyond its own server.

use actix_web::http::header::{CACHE_CONTROL, HeaderName, HeaderValue};
use actix_web::{HttpResponse, web};

use super::ConsoleError;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// Where an asset is served. The version in the query makes a new build's
/// files replace what browsers cached.
pub fn url(console_path: &str, name: &str) -> String {
    format!(
        "{console_path}/assets/{name}?v={}",
        env!("CARGO_PKG_VERSION")
    )
}

pub async fn serve(name: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let (body, content_type) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return Err(ConsoleError::NotFound("No such file.".to_owned())),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ))
        .insert_header((
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .body(body))
}
