//! Request bodies and response building.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::body_limit;
use super::content_type::SCIM_CONTENT_TYPE;
use super::error::ApiError;
use super::stream;
use crate::scim::ScimError;
use crate::scim::encode::write_json;
use crate::scim::etag::{Precondition, etag};
use crate::scim::list::{attribute_lists, list_envelope};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::service::{Encoded, MemberFeed, PageItem, ResourcePage, ResourceView};

/// The body size limit in force for a route, to name it in errors; set
/// beside the `PayloadConfig` that enforces it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body. Accepts `application/scim+json`, `application/json`
/// (Okta's create calls), any `+json` type, and no content type at all
/// (Entra's probes); refuses other media types with 415.
pub struct ScimJson(pub Value);

impl FromRequest for ScimJson {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            check_content_type(&req)?;
            let limit = req.app_data::<BodyLimit>().map_or(0, |l| l.0);
            let bytes = body_limit::read(&req, payload, limit).await?;
            if bytes.is_empty() {
                return Err(ScimError::invalid_syntax("the request body is empty").into());
            }
            serde_json::from_slice(&bytes).map(ScimJson).map_err(|e| {
                ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")).into()
            })
        })
    }
}

fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(ct) = req.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = ct
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence.is_empty()
        || essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Ok(());
    }
    Err(ScimError::unsupported_media_type(format!(
        "unsupported content type {essence:?}; send application/scim+json"
    ))
    .into())
}

pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(SCIM_CONTENT_TYPE)
        .body(json_bytes(body))
}

/// Not `Value::to_string`: `Display` writes through `fmt::Write`, a large
/// share of a GET by id (BENCHMARKS.md, "Measurement notes");
/// `to_vec` writes the bytes directly.
fn json_bytes(value: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its map keys are all strings.
    serde_json::to_vec(value).unwrap_or_default()
}

/// A ListResponse of one page of resources; streamed when its groups'
/// members are too many to hold at once.
pub fn page_response(page: ResourcePage) -> HttpResponse {
    let envelope = list_envelope(page.total, &page.page, page.resources.len());
    if let Some(members) = page.members {
        return stream::page(envelope, page.resources, members);
    }
    let mut body = stream::list_head(&envelope);
    for (i, item) in page.resources.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        match item {
            PageItem::Written(bytes) => body.extend_from_slice(bytes),
            PageItem::View(view) => write_json(&mut body, &view.body),
        }
    }
    body.extend_from_slice(b"]}");
    HttpResponse::Ok()
        .content_type(SCIM_CONTENT_TYPE)
        .body(body)
}

/// A single resource with its `ETag` (and `Location` when created).
pub fn resource_response(status: StatusCode, view: ResourceView) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type(SCIM_CONTENT_TYPE)
        .insert_header((ETAG, etag(view.version)));
    if status == StatusCode::CREATED {
        resp.insert_header((LOCATION, view.location.clone()));
    }
    resp.body(json_bytes(&Value::Object(view.body)))
}

/// A GET answer that honours `If-None-Match`: 304 when the client's copy
/// is current. `members` are those of a group still to read.
pub fn read_streamed(
    req: &HttpRequest,
    view: ResourceView,
    members: Option<MemberFeed>,
) -> HttpResponse {
    if let Some(unchanged) = not_modified(req, view.version) {
        return unchanged;
    }
    streamed_response(StatusCode::OK, view, members)
}

/// `read_streamed` for an answer already written out.
pub fn read_encoded(req: &HttpRequest, answer: Encoded) -> HttpResponse {
    if let Some(unchanged) = not_modified(req, answer.version) {
        return unchanged;
    }
    HttpResponse::Ok()
        .content_type(SCIM_CONTENT_TYPE)
        .insert_header((ETAG, etag(answer.version)))
        .body(answer.body)
}

/// 304 when the client's copy (`If-None-Match`) is at `version`.
fn not_modified(req: &HttpRequest, version: i64) -> Option<HttpResponse> {
    let if_none_match = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok());
    let precondition = Precondition::parse(if_none_match);
    (!precondition.is_none() && precondition.matches(version)).then(|| {
        HttpResponse::NotModified()
            .insert_header((ETAG, etag(version)))
            .finish()
    })
}

/// `resource_response` for a resource whose members may still be to read.
pub fn streamed_response(
    status: StatusCode,
    view: ResourceView,
    members: Option<MemberFeed>,
) -> HttpResponse {
    let Some(members) = members else {
        return resource_response(status, view);
    };
    let mut resp = HttpResponse::build(status);
    resp.insert_header((ETAG, etag(view.version)));
    if status == StatusCode::CREATED {
        resp.insert_header((LOCATION, view.location.clone()));
    }
    stream::resource(resp, view, members)
}

/// The request's `attributes` / `excludedAttributes` for one resource.
pub fn projection<'s>(
    state: &'s AppState,
    req: &HttpRequest,
    kind: ResourceKind,
) -> Result<Projection<'s>, ApiError> {
    let (attributes, excluded) = attribute_lists(&query_pairs(req)?);
    Ok(Projection::new(
        &state.services.registry,
        kind,
        &attributes,
        &excluded,
    )?)
}

/// Decoded query pairs; `+` and percent-encoding are undone here.
pub fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| {
            ScimError::invalid_syntax(format!("the query string is malformed: {e}")).into()
        })
}
