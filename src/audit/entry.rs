//! A captured request made fit to keep: redacted, described, and shaped
//! as the table's row and the live view's entry.

use std::sync::Arc;

use entity::audit_request;
use sea_orm::ActiveValue::Set;
use serde_json::{Map, Value};

use super::capture::{BodyCopy, Captured};
use super::query::Activity;
use super::redact::{self, truncated_text};
use super::summary::{Seen, summarize};
use crate::service::DEFAULT_TENANT;

impl Captured {
    pub fn into_row(self, limit: usize) -> (audit_request::ActiveModel, Arc<Activity>) {
        let form = self
            .request_content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let request_text = match (self.request_encoded, self.request_body.total) {
            (_, 0) => None,
            (true, n) => Some(format!("[{n} compressed bytes, not kept]")),
            (false, _) if form => Some(redact::form(&body_text(&self.request_body, limit))),
            (false, _) => Some(redact::json(&body_text(&self.request_body, limit))),
        };
        let response_text = (self.response_body.total > 0)
            .then(|| redact::json(&body_text(&self.response_body, limit)));
        let path = redact::path_and_query(&self.path);
        let parse = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
        };
        let (request_json, response_json) = (parse(&request_text), parse(&response_text));
        let query = path.split_once('?').map(|(_, q)| q);
        let summary = summarize(&Seen {
            method: &self.method,
            route: &self.route,
            status: self.status,
            request: request_json.as_ref(),
            response: response_json.as_ref(),
            notes: &self.notes,
            query,
        });
        let scim_type = response_json
            .as_ref()
            .and_then(|r| r.get("scimType"))
            .and_then(Value::as_str)
            .map(|t| t.chars().take(32).collect());
        let (resource, operation) = classify(&self.method, &self.route);
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(redact::tokens(v))))
            .collect();
        let principal = self
            .principal
            .map(|p| p.chars().take(255).collect::<String>());
        let route: String = self.route.chars().take(255).collect();
        let activity = Activity {
            seq: self.seq,
            time: crate::time::format_ms(self.at_ms),
            request_id: self.request_id.to_string(),
            client_addr: self.client_addr.clone(),
            principal: principal.clone(),
            method: self.method.clone(),
            route: route.clone(),
            path: path.clone(),
            status: self.status,
            latency_ms: self.latency_us as f64 / 1000.0,
            scim_type: scim_type.clone(),
            resource: resource.map(str::to_owned),
            operation: operation.map(str::to_owned),
            summary: summary.clone(),
            changes: None,
        };
        let model = audit_request::ActiveModel {
            seq: Set(self.seq),
            tenant_id: Set(DEFAULT_TENANT),
            at: Set(self.at_ms),
            request_id: Set(self.request_id.to_string()),
            client_addr: Set(self.client_addr),
            principal: Set(principal),
            method: Set(self.method),
            route: Set(route),
            path: Set(path),
            status: Set(i32::from(self.status)),
            latency_us: Set(self.latency_us),
            scim_type: Set(scim_type),
            resource_kind: Set(resource.map(str::to_owned)),
            operation: Set(operation.map(str::to_owned)),
            summary: Set(summary),
            request_headers: Set(Value::Object(headers).to_string()),
            request_body: Set(request_text),
            response_body: Set(response_text),
        };
        (model, Arc::new(activity))
    }
}

/// The kept bytes as text, marked when cut off.
fn body_text(body: &BodyCopy, limit: usize) -> String {
    let mut text = truncated_text(&body.bytes, limit);
    if body.total > body.bytes.len() {
        text.push_str(&format!("…[{} bytes in all]", body.total));
    }
    text
}

/// The resource and operation a route and method name, for filters.
pub fn classify(method: &str, route: &str) -> (Option<&'static str>, Option<&'static str>) {
    let by_id = route.ends_with('}');
    let resource = if route.contains("/oauth2/") || route.contains("oauth-authorization-server") {
        Some("OAuth")
    } else if route.contains("/Users") {
        Some("User")
    } else if route.contains("/Groups") {
        Some("Group")
    } else if route.ends_with("/Bulk") {
        Some("Bulk")
    } else {
        None
    };
    let operation = match (method, by_id) {
        (_, _) if resource == Some("OAuth") => Some("token"),
        (_, _) if resource == Some("Bulk") => Some("bulk"),
        ("POST", _) if route.ends_with("/.search") => Some("search"),
        ("POST", _) => Some("create"),
        ("PUT", _) => Some("replace"),
        ("PATCH", _) => Some("patch"),
        ("DELETE", _) => Some("delete"),
        ("GET", true) => Some("read"),
        ("GET", false) => Some("search"),
        _ => None,
    };
    (resource, operation)
}
