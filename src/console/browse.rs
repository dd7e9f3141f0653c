//! The users and groups browsers: search with a SCIM filter, page with
//! RFC 9865 cursors through the service layer's list, and read one
//! resource with its groups or its members, a keyset page at a time.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::layout::{self, Section};
use super::{Console, ConsoleError, Signed};
use crate::http::AppState;
use crate::scim::list::{ListParams, PageInfo};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::service::console_sessions::Session;
use crate::service::{Ctx, PageItem};

/// Rows on one page of a list, and members on one page of a group.
const PAGE: u32 = 50;
const MEMBERS_PAGE: u64 = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/users",
        web::get().to(|s, c, r, q, g| list(ResourceKind::User, s, c, r, q, g)),
    )
    .route(
        "/groups",
        web::get().to(|s, c, r, q, g| list(ResourceKind::Group, s, c, r, q, g)),
    )
    .route("/users/{id}", web::get().to(user))
    .route("/groups/{id}", web::get().to(group));
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    filter: Option<String>,
    cursor: Option<String>,
}

/// The service layer's context for a console read.
pub fn ctx(state: &AppState, req: &HttpRequest, session: &Session) -> Ctx {
    let mut ctx = state.ctx(req);
    ctx.tenant = session.tenant;
    ctx.principal = Some(Arc::from(format!("console:{}", session.admin)));
    ctx
}

async fn list(
    kind: ResourceKind,
    signed: Signed,
    console: web::Data<Console>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let filter = query.filter.as_deref().map(str::trim).unwrap_or_default();
    let columns = match kind {
        ResourceKind::User => "userName,displayName,active,externalId",
        ResourceKind::Group => "displayName,externalId",
    };
    let mut pairs = vec![
        (
            "cursor".to_owned(),
            query.cursor.clone().unwrap_or_default(),
        ),
        ("count".to_owned(), PAGE.to_string()),
        ("attributes".to_owned(), columns.to_owned()),
    ];
    if !filter.is_empty() {
        pairs.push(("filter".to_owned(), filter.to_owned()));
    }
    let limits = state.services.settings.page_limits;
    let (section, title, base) = match kind {
        ResourceKind::User => (Section::Users, "Users", console.at("/users")),
        ResourceKind::Group => (Section::Groups, "Groups", console.at("/groups")),
    };
    let ctx = ctx(&state, &req, &signed.session);
    let listed = match ListParams::from_pairs(&pairs, limits) {
        Ok(params) => state
            .services
            .list(&ctx, kind, &params)
            .await
            .map_err(ConsoleError::from),
        Err(e) => Err(ConsoleError::BadInput(e.detail)),
    };
    let (rows, total, page, problem) = match listed {
        Ok(page) => (docs(page.resources), Some(page.total), page.page, None),
        Err(ConsoleError::BadInput(detail)) => (Vec::new(), None, PageInfo::first(), Some(detail)),
        Err(e) => return Err(e),
    };
    let picker = super::tenant::picker(&console, &signed.session, &base).await?;
    let main = html! {
        h1 { (title) }
        (picker)
        form.search method="get" action=(base) role="search" {
            label for="filter" { "SCIM filter" }
            input #filter name="filter" value=(filter) placeholder=(placeholder(kind)) spellcheck="false";
            button type="submit" { "Search" }
            @if !filter.is_empty() { a href=(base) { "Clear" } }
        }
        @if let Some(problem) = &problem {
            p.error role="alert" { "The filter cannot be used: " (problem) }
        }
        @if let Some(total) = total {
            p.count { (total) " " (if total == 1 { "result" } else { "results" }) }
        }
        (table(kind, &console, &rows))
        (pager(&base, filter, &page))
    };
    Ok(layout::page(
        &console,
        &signed.session,
        section,
        title,
        main,
    ))
}

fn placeholder(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "userName sw \"a\"",
        ResourceKind::Group => "displayName co \"eng\"",
    }
}

/// The page's resources as JSON documents.
fn docs(items: Vec<PageItem>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| match item {
            PageItem::Written(bytes) => serde_json::from_slice(&bytes).ok(),
            PageItem::View(view) => Some(Value::Object(view.body)),
        })
        .collect()
}

fn text<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn table(kind: ResourceKind, console: &Console, rows: &[Value]) -> Markup {
    if rows.is_empty() {
        return html! { p.empty { "Nothing found." } };
    }
    html! {
        div.scroll {
            table {
                thead {
                    tr {
                        @match kind {
                            ResourceKind::User => { th scope="col" { "User name" } th scope="col" { "Display name" } th scope="col" { "Active" } }
                            ResourceKind::Group => { th scope="col" { "Display name" } }
                        }
                        th scope="col" { "External id" }
                    }
                }
                tbody {
                    @for doc in rows {
                        tr {
                            @let link = console.at(&format!("/{}/{}", segment(kind), text(doc, "id")));
                            @match kind {
                                ResourceKind::User => {
                                    td { a href=(link) { (text(doc, "userName")) } }
                                    td { (text(doc, "displayName")) }
                                    td { (yes_no(doc.get("active"))) }
                                }
                                ResourceKind::Group => {
                                    td { a href=(link) { (text(doc, "displayName")) } }
                                }
                            }
                            td { (text(doc, "externalId")) }
                        }
                    }
                }
            }
        }
    }
}

fn segment(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "users",
        ResourceKind::Group => "groups",
    }
}

fn yes_no(v: Option<&Value>) -> &'static str {
    match v.and_then(Value::as_bool) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

fn pager(base: &str, filter: &str, page: &PageInfo) -> Markup {
    let href = |cursor: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", filter)
            .append_pair("cursor", cursor)
            .finish();
        format!("{base}?{query}")
    };
    html! {
        nav.pager aria-label="Pages" {
            @if let Some(prev) = &page.previous_cursor {
                a rel="prev" href=(href(prev)) { "← Previous page" }
            }
            @if let Some(next) = &page.next_cursor {
                a rel="next" href=(href(next)) { "Next page →" }
            }
        }
    }
}

async fn user(
    signed: Signed,
    console: web::Data<Console>,
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = ctx(&state, &req, &signed.session);
    let everything = Projection::new(&state.services.registry, ResourceKind::User, &[], &[])
        .map_err(|e| ConsoleError::Internal(e.detail))?;
    let encoded = state.services.get_user(&ctx, &id, &everything).await?;
    let doc: Value =
        serde_json::from_slice(&encoded.body).map_err(|e| ConsoleError::Internal(e.to_string()))?;
    let groups = doc
        .get("groups")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name = text(&doc, "userName");
    let history = super::history::history(&console, &id).await?;
    let main = html! {
        p.crumbs { a href=(console.at("/users")) { "Users" } " / " (name) }
        h1 { (name) }
        (facts(&doc, &["displayName", "externalId", "active", "id"]))
        h2 { "Groups" }
        @if groups.is_empty() {
            p.empty { "In no group." }
        } @else {
            ul.links {
                @for g in &groups {
                    li { a href=(console.at(&format!("/groups/{}", text(g, "value")))) { (text(g, "display")) } }
                }
            }
        }
        (history)
        h2 { "Document" }
        pre.json { (pretty(&doc)) }
    };
    Ok(layout::page(
        &console,
        &signed.session,
        Section::Users,
        name,
        main,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MembersQuery {
    after: Option<Uuid>,
}

async fn group(
    signed: Signed,
    console: web::Data<Console>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<MembersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = ctx(&state, &req, &signed.session);
    let excluded = ["members".to_owned()];
    let without_members = Projection::new(
        &state.services.registry,
        ResourceKind::Group,
        &[],
        &excluded,
    )
    .map_err(|e| ConsoleError::Internal(e.detail))?;
    let (view, _) = state
        .services
        .read_group(&ctx, &id, &without_members)
        .await?;
    let doc = Value::Object(view.body);
    let page = state
        .services
        .member_page(&ctx, &id, query.after, MEMBERS_PAGE)
        .await?;
    let name = text(&doc, "displayName");
    let history = super::history::history(&console, &id).await?;
    let here = console.at(&format!("/groups/{}", id.as_str()));
    let main = html! {
        p.crumbs { a href=(console.at("/groups")) { "Groups" } " / " (name) }
        h1 { (name) }
        (facts(&doc, &["externalId", "id"]))
        h2 { "Members" }
        @if page.members.is_empty() {
            p.empty { "No members" @if query.after.is_some() { " after these" } "." }
        } @else {
            div.scroll {
                table.members {
                    thead { tr { th scope="col" { "Member" } th scope="col" { "Type" } th scope="col" { "Id" } } }
                    tbody {
                        @for m in &page.members {
                            @let link = console.at(&format!("/{}/{}", if m.kind == "Group" { "groups" } else { "users" }, m.id));
                            tr {
                                td { a href=(link) { (m.display.as_deref().unwrap_or("(no name)")) } }
                                td { (m.kind) }
                                td.mono.member-id { (m.id) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Member pages" {
            @if query.after.is_some() { a href=(here) { "← First members" } }
            @if let Some(next) = page.next_after {
                a rel="next" href=(format!("{here}?after={next}")) { "Next members →" }
            }
        }
        (history)
        h2 { "Document" }
        pre.json { (pretty(&doc)) }
    };
    Ok(layout::page(
        &console,
        &signed.session,
        Section::Groups,
        name,
        main,
    ))
}

/// A few attributes as a definition list.
fn facts(doc: &Value, keys: &[&str]) -> Markup {
    html! {
        dl.facts {
            @for key in keys {
                @if let Some(v) = doc.get(*key) {
                    dt { (key) }
                    dd { (match v { Value::String(s) => s.clone(), other => other.to_string() }) }
                }
            }
            @if let Some(meta) = doc.get("meta") {
                dt { "Created" } dd { (text(meta, "created")) }
                dt { "Last modified" } dd { (text(meta, "lastModified")) }
            }
        }
    }
}

pub fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default()
}
