//! One request in full: its summary, the headers it came with (credentials
//! were never stored), both bodies pretty-printed, and the changes it
//! caused as a diff with a link to each resource.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde_json::Value;

use super::layout::{self, Section};
use super::{Console, ConsoleError, Signed};
use crate::audit::query::{self, ChangeView, QueryError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/requests/{id}", web::get().to(show));
}

async fn show(
    signed: Signed,
    console: web::Data<Console>,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let found = query::activity_detail(&console.audit_dbs(), &id)
        .await
        .map_err(|e| match e {
            QueryError::BadFilter(d) => ConsoleError::BadInput(d),
            QueryError::Db(e) => e.into(),
        })?;
    let d = found.ok_or_else(|| {
        ConsoleError::NotFound(format!(
            "No request {} is recorded. Requests are kept for [audit] request_days, changes longer.",
            id.as_str()
        ))
    })?;
    let a = &d.activity;
    let changes = a.changes.as_deref().unwrap_or_default();
    let main = html! {
        p.crumbs { a href=(console.at("/activity")) { "Activity" } " / " (a.request_id) }
        h1 { (a.summary) }
        dl.facts {
            dt { "Time (UTC)" } dd { (a.time) }
            dt { "Request" } dd.mono { (a.method) " " (a.path) }
            dt { "Status" } dd class=(format!("status-{}", a.status / 100)) { (a.status) @if let Some(t) = &a.scim_type { " (" (t) ")" } }
            dt { "Principal" } dd { (a.principal.as_deref().unwrap_or("–")) }
            dt { "Client address" } dd { (a.client_addr.as_deref().unwrap_or("–")) }
            dt { "Latency" } dd { (format!("{:.1} ms", a.latency_ms)) }
            dt { "Request id" } dd.mono { (a.request_id) }
        }
        @if !changes.is_empty() {
            h2 { "Changes" }
            @for c in changes { (change(&console, c)) }
        }
        h2 { "Request headers" }
        (headers(&d.request_headers))
        h2 { "Request body" }
        (body(d.request_body.as_deref()))
        h2 { "Response body" }
        (body(d.response_body.as_deref()))
    };
    Ok(layout::page(
        &console,
        &signed.session,
        Section::Activity,
        &a.summary,
        main,
    ))
}

fn change(console: &Console, c: &ChangeView) -> Markup {
    let section = if c.kind == "Group" { "groups" } else { "users" };
    let link = console.at(&format!("/{section}/{}", c.id));
    let attributes = c
        .detail
        .get("attributes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let members = c.detail.get("members");
    let list = |key: &str| -> Vec<String> {
        members
            .and_then(|m| m.get(key))
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (added, removed) = (list("added"), list("removed"));
    html! {
        section.change {
            h3 {
                (c.operation) " " (c.kind) " "
                a href=(link) { (c.label.as_deref().unwrap_or(&c.id)) }
                @if let (Some(b), Some(a)) = (c.version_before, c.version_after) { " (version " (b) " → " (a) ")" }
            }
            @if !attributes.is_empty() {
                div.scroll {
                    table.diff {
                        thead { tr { th scope="col" { "Attribute" } th scope="col" { "Before" } th scope="col" { "After" } } }
                        tbody {
                            @for attr in &attributes {
                                tr {
                                    td.mono { (attr.get("path").and_then(Value::as_str).unwrap_or_default()) }
                                    td.mono { @if let Some(old) = attr.get("old").filter(|v| !v.is_null()) { del { (compact(old)) } } }
                                    td.mono { @if let Some(new) = attr.get("new").filter(|v| !v.is_null()) { ins { (compact(new)) } } }
                                }
                            }
                        }
                    }
                }
            }
            @if !added.is_empty() { p { "Members added: " @for (i, m) in added.iter().enumerate() { @if i > 0 { ", " } a.mono href=(console.at(&format!("/users/{m}"))) { (m) } } } }
            @if !removed.is_empty() { p { "Members removed: " @for (i, m) in removed.iter().enumerate() { @if i > 0 { ", " } span.mono { (m) } } } }
            @if members.and_then(|m| m.get("cleared")).and_then(Value::as_bool) == Some(true) { p { "All members were removed." } }
            @if c.detail.get("passwordSet").and_then(Value::as_bool) == Some(true) { p { "A password was set (not recorded)." } }
        }
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn headers(h: &Value) -> Markup {
    let Some(map) = h.as_object() else {
        return html! { p.empty { "None recorded." } };
    };
    html! {
        div.scroll {
            table {
                tbody {
                    @for (name, value) in map {
                        tr { th scope="row" { (name) } td.mono { (compact(value)) } }
                    }
                }
            }
        }
    }
}

/// A body as recorded: JSON pretty-printed, anything else as it came.
fn body(b: Option<&str>) -> Markup {
    let Some(text) = b.filter(|t| !t.is_empty()) else {
        return html! { p.empty { "Empty." } };
    };
    let shown = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned());
    html! { pre.json { (shown) } }
}
