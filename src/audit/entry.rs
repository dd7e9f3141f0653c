//! A captured request made fit to keep: redacted, described, and shaped
//! as the table's row and the live view's entry.

use std::sync::Arc;

use entity::audit_request;

use super::capture::{BodyCopy, Captured};
use super::query::Activity;
use super::redact::{self, clipped, truncated_text};
use super::summary::{Glance, Seen, answer_key, summarize};

impl Captured {
    /// The table's row, and the live view's entry when `live` (someone
    /// is watching the activity stream).
    pub fn into_row(
        self,
        limit: usize,
        live: bool,
    ) -> (audit_request::Model, Option<Arc<Activity>>) {
        let form = self
            .request_content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let request_text = match (self.request_encoded, self.request_body.total) {
            (_, 0) => None,
            (true, n) => Some(format!("[{n} compressed bytes, not kept]")),
            (false, _) if form => Some(redact::form(&body_text(&self.request_body, limit))),
            (false, _) => Some(redact::json(body_text(&self.request_body, limit))),
        };
        let response_text = (self.response_body.total > 0)
            .then(|| redact::json(body_text(&self.response_body, limit)));
        let path = redact::path_and_query(&self.path);
        // Only what the summary will read is parsed: a change is described
        // by its notes, a failure by its error, a read by its answer up to
        // the name or count it gives, a search by its filter.
        let failed = self.status >= 400;
        let unchanged = !failed && self.notes.is_empty();
        let response = response_text.as_deref();
        let method = self.method.as_str();
        let response_json = if self.route.ends_with("/Bulk") {
            response.map(Glance::of_bulk)
        } else if failed {
            response.map(Glance::of)
        } else if unchanged {
            answer_key(method, &self.route)
                .zip(response)
                .map(|(key, text)| Glance::until(text, Some(key)))
        } else {
            None
        };
        let request_json = request_text
            .as_deref()
            .filter(|_| unchanged && self.route.ends_with("/.search"))
            .map(Glance::of);
        let query = path.split_once('?').map(|(_, q)| q);
        let summary = summarize(&Seen {
            method,
            route: &self.route,
            status: self.status,
            request: request_json.as_ref(),
            response: response_json.as_ref(),
            notes: &self.notes,
            query,
        });
        let scim_type: Option<String> = response_json
            .as_ref()
            .filter(|_| failed)
            .and_then(Glance::scim_type)
            .map(|t| clipped(t, 32).to_owned());
        let (resource, operation) = classify(method, &self.route);
        let headers = headers_json(self.header_pairs());
        let principal = self.principal.map(|p| clipped(&p.name(), 255).to_owned());
        let client_addr = self.client_addr.map(|a| a.to_string());
        let mut route = self.route;
        route.truncate(clipped(&route, 255).len());
        let activity = live.then(|| {
            Arc::new(Activity {
                seq: self.seq,
                tenant_id: self.tenant,
                time: crate::time::format_ms(self.at_ms),
                request_id: self.request_id.to_string(),
                client_addr: client_addr.clone(),
                principal: principal.clone(),
                method: method.to_owned(),
                route: route.clone(),
                path: path.clone(),
                status: self.status,
                latency_ms: self.latency_us as f64 / 1000.0,
                scim_type: scim_type.clone(),
                resource: resource.map(str::to_owned),
                operation: operation.map(str::to_owned),
                summary: summary.clone(),
                changes: None,
            })
        });
        let model = audit_request::Model {
            seq: self.seq,
            tenant_id: self.tenant,
            at: self.at_ms,
            request_id: self.request_id.to_string(),
            client_addr,
            principal,
            method: method.to_owned(),
            route,
            path,
            status: i32::from(self.status),
            latency_us: self.latency_us,
            scim_type,
            resource_kind: resource.map(str::to_owned),
            operation: operation.map(str::to_owned),
            summary,
            request_headers: headers,
            request_body: request_text,
            response_body: response_text,
        };
        (model, activity)
    }
}

/// The kept headers as a JSON object, tokens masked in their values.
fn headers_json<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = Vec::with_capacity(256);
    let pairs = headers.map(|(k, v)| (k, redact::tokens(v)));
    let mut serializer = serde_json::Serializer::new(&mut out);
    // Writing strings into a Vec cannot fail.
    if serde::Serializer::collect_map(&mut serializer, pairs).is_err() {
        return "{}".to_owned();
    }
    String::from_utf8(out).unwrap_or_else(|_| "{}".to_owned())
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
