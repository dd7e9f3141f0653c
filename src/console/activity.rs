//! The activity page: the request log newest first, narrowed by status
//! class, principal, resource, operation, time and tenant, paged by key (`before`,
//! the last entry's sequence number) so that a page deep in millions of
//! rows costs what the first does, and kept current by server-sent events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_ENCODING, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::layout::{self, Section, short_time, urlencoded};
use super::{Console, ConsoleError, Signed};
use crate::audit::query::{self, Activity, ActivityFilter, KeyWindow, QueryError};
use crate::service::tenants::Tenant;
use uuid::Uuid;

/// Entries on one page.
const PAGE: u64 = 50;
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/activity", web::get().to(show))
        .route("/activity/stream", web::get().to(stream));
}

/// The page's filter form, as the browser sends it.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct Filters {
    status: String,
    principal: String,
    resource: String,
    operation: String,
    /// `datetime-local` values, read as UTC.
    since: String,
    until: String,
    /// A tenant's name.
    tenant: String,
    before: Option<i64>,
}

impl Filters {
    fn query(&self) -> ActivityFilter {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        ActivityFilter {
            limit: Some(PAGE),
            before: self.before,
            status: some(&self.status),
            principal: some(&self.principal),
            resource: some(&self.resource),
            operation: some(&self.operation),
            since: some(&self.since).map(|t| utc(&t)),
            until: some(&self.until).map(|t| utc(&t)),
            request_id: None,
            tenant: some(&self.tenant),
        }
    }

    /// The filters as a query string, without the page.
    fn encoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &self.status)
            .append_pair("principal", &self.principal)
            .append_pair("resource", &self.resource)
            .append_pair("operation", &self.operation)
            .append_pair("since", &self.since)
            .append_pair("until", &self.until)
            .append_pair("tenant", &self.tenant)
            .finish()
    }

    /// Whether a new entry belongs on the page as filtered, its time
    /// within `window` and of `tenant` (the filter's own, read once).
    fn admits(&self, a: &Activity, window: &KeyWindow, tenant: Option<Uuid>) -> bool {
        let class_ok = status_admits(&self.status, a.status);
        let eq = |want: &str, have: Option<&str>| {
            let want = want.trim();
            want.is_empty() || have.is_some_and(|h| h.eq_ignore_ascii_case(want))
        };
        class_ok
            && eq(&self.principal, a.principal.as_deref())
            && eq(&self.resource, a.resource.as_deref())
            && eq(&self.operation, a.operation.as_deref())
            && window.holds(a.seq)
            && tenant.is_none_or(|t| a.tenant_id == t)
    }
}

/// `2xx`, `2`, or one status code, as the query reads them.
fn status_admits(filter: &str, status: u16) -> bool {
    let f = filter.trim();
    let class = (status / 100).to_string();
    match f.strip_suffix("xx") {
        _ if f.is_empty() => true,
        Some(c) => c == class,
        None if f.len() == 1 => f == class,
        None => f == status.to_string(),
    }
}

/// A `datetime-local` value (`2026-12-05T10:30`) as RFC 3339 in UTC.
fn utc(local: &str) -> String {
    match local.len() {
        16 => format!("{local}:00Z"),
        19 => format!("{local}Z"),
        _ => local.to_owned(),
    }
}

async fn show(
    signed: Signed,
    console: web::Data<Console>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ConsoleError> {
    let filters = filters.into_inner();
    let (page, problem) = match query::activity(&console.audit_dbs(), &filters.query()).await {
        Ok(page) => (Some(page), None),
        Err(QueryError::BadFilter(detail)) => (None, Some(detail)),
        Err(QueryError::Db(e)) => return Err(e.into()),
    };
    let here = console.at("/activity");
    let live = filters.before.is_none() && problem.is_none();
    let tenants = super::tenant::all(&console).await?;
    // With one tenant, which one is no news.
    let names = (tenants.len() > 1).then(|| super::tenant::names(&tenants));
    let main = html! {
        h1 { "Activity" }
        (filter_form(&here, &filters, names.is_some().then_some(&tenants[..])))
        @if let Some(problem) = &problem { p.error role="alert" { "The filter cannot be used: " (problem) } }
        @if live {
            p.live #live-state role="status" data-stream=(format!("{here}/stream?{}", filters.encoded())) { "Live: new requests appear at the top." }
        }
        div.scroll {
            table #activity data-tenants[names.is_some()] {
                thead { tr {
                    th scope="col" { "Time (UTC)" }
                    @if names.is_some() { th scope="col" { "Tenant" } }
                    th scope="col" { "Status" } th scope="col" { "Principal" }
                    th scope="col" { "Request" } th scope="col" { "Summary" }
                } }
                tbody {
                    @for a in page.iter().flat_map(|p| &p.entries) { (row(&console, a, names.as_ref())) }
                }
            }
        }
        @if page.as_ref().is_some_and(|p| p.entries.is_empty() && p.next_before.is_none()) { p.empty { "No request matches." } }
        @if let Some(until) = page.as_ref().and_then(searched_on) {
            p.empty #searched {
                "Each page looks through " (query::SCAN_WINDOW) " entries at most; this one stopped at "
                (short_time(&until)) ". Older → searches on."
            }
        }
        nav.pager aria-label="Pages" {
            @if filters.before.is_some() { a href=(format!("{here}?{}", filters.encoded())) { "← Newest" } }
            @if let Some(next) = page.as_ref().and_then(|p| p.next_before) {
                a rel="next" href=(format!("{here}?{}&before={next}", filters.encoded())) { "Older →" }
            }
        }
    };
    Ok(layout::page(
        &console,
        &signed.session,
        Section::Activity,
        "Activity",
        main,
    ))
}

const STATUSES: [(&str, &str); 4] = [
    ("", "any"),
    ("2xx", "2xx success"),
    ("4xx", "4xx refused"),
    ("5xx", "5xx failed"),
];
const RESOURCES: [&str; 5] = ["", "User", "Group", "Bulk", "OAuth"];
const OPERATIONS: [&str; 9] = [
    "", "create", "replace", "patch", "delete", "read", "search", "bulk", "token",
];

/// Where a narrowed page stopped looking, when it stopped before filling.
fn searched_on(page: &query::ActivityPage) -> Option<String> {
    let short = (page.entries.len() as u64) < PAGE;
    let next = page.next_before.filter(|_| short)?;
    // The key is microseconds since the epoch.
    Some(crate::time::format_ms(next / 1000))
}

/// The filters; a tenant choice when there is more than one `tenants`.
fn filter_form(action: &str, f: &Filters, tenants: Option<&[Tenant]>) -> Markup {
    html! {
        form.filters method="get" action=(action) {
            label { "Status"
                select name="status" { @for (v, l) in STATUSES { option value=(v) selected[f.status == v] { (l) } } }
            }
            label { "Principal" input name="principal" value=(f.principal) size="16"; }
            label { "Resource"
                select name="resource" { @for v in RESOURCES { option value=(v) selected[f.resource == v] { (if v.is_empty() { "any" } else { v }) } } }
            }
            label { "Operation"
                select name="operation" { @for v in OPERATIONS { option value=(v) selected[f.operation == v] { (if v.is_empty() { "any" } else { v }) } } }
            }
            label { "From (UTC)" input type="datetime-local" name="since" value=(f.since); }
            label { "To (UTC)" input type="datetime-local" name="until" value=(f.until); }
            @if let Some(tenants) = tenants {
                label { "Tenant"
                    select name="tenant" {
                        option value="" { "any" }
                        @for t in tenants { option value=(t.name) selected[f.tenant == *t.name] { (t.name) } }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

/// One table row, with its tenant's name when `names` are given; the
/// script builds the same shape for live entries.
fn row(console: &Console, a: &Activity, names: Option<&HashMap<Uuid, Arc<str>>>) -> Markup {
    let detail = console.at(&format!("/requests/{}", urlencoded(&a.request_id)));
    html! {
        tr data-seq=(a.seq) {
            td.mono.time { time datetime=(a.time) { (short_time(&a.time)) } }
            @if let Some(names) = names { td { (super::tenant::name_of(names, a.tenant_id)) } }
            td class=(format!("status-{}", a.status / 100)) { (a.status) }
            td { (a.principal.as_deref().unwrap_or("–")) }
            td.mono { a href=(detail) { (a.method) " " (a.path) } }
            td { (a.summary) }
        }
    }
}

/// New entries as server-sent events (`event: activity`, the entry as
/// JSON plus the link to its page), filtered as the page is.
async fn stream(
    _signed: Signed,
    console: web::Data<Console>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ConsoleError> {
    let audit = console
        .audit
        .clone()
        .ok_or_else(|| ConsoleError::NotFound("The audit trail is off.".into()))?;
    let filters = filters.into_inner();
    let bad = |e| match e {
        QueryError::BadFilter(d) => ConsoleError::BadInput(d),
        QueryError::Db(e) => e.into(),
    };
    let window = KeyWindow::of(&filters.query()).map_err(bad)?;
    let tenant = query::tenant_id(&console.db, Some(&filters.tenant))
        .await
        .map_err(bad)?;
    let names = super::tenant::names(&super::tenant::all(&console).await?);
    let feed = Feed {
        events: audit.subscribe(),
        filters,
        window,
        tenant,
        names,
        requests: console.at("/requests/"),
    };
    let body = futures_util::stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next().await?;
        Some((Ok::<_, actix_web::Error>(chunk), feed))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // Compression would hold events back until a block fills.
        .insert_header((CONTENT_ENCODING, HeaderValue::from_static("identity")))
        .streaming(body))
}

struct Feed {
    events: broadcast::Receiver<Arc<Activity>>,
    filters: Filters,
    window: KeyWindow,
    tenant: Option<Uuid>,
    /// Tenants' names by id, as they were when the feed opened.
    names: HashMap<Uuid, Arc<str>>,
    requests: String,
}

impl Feed {
    /// The next chunk to send: an admitted entry or a keep-alive comment;
    /// `None` when the server stops.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            let received = tokio::time::timeout(KEEP_ALIVE, self.events.recv()).await;
            match received {
                Err(_) => return Some(Bytes::from_static(b": keep-alive\n\n")),
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                Ok(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    let note = format!("event: lagged\ndata: {missed}\n\n");
                    return Some(Bytes::from(note));
                }
                Ok(Ok(entry)) if self.filters.admits(&entry, &self.window, self.tenant) => {
                    let link = format!("{}{}", self.requests, urlencoded(&entry.request_id));
                    let mut json = serde_json::to_value(&*entry).unwrap_or_default();
                    json["link"] = serde_json::Value::String(link);
                    let tenant = super::tenant::name_of(&self.names, entry.tenant_id);
                    json["tenant"] = serde_json::Value::String(tenant);
                    return Some(Bytes::from(format!("event: activity\ndata: {json}\n\n")));
                }
                Ok(Ok(_)) => {}
            }
        }
    }
}
