//! The status page: what this node runs and whether it is ready.

use actix_web::{HttpResponse, web};
use maud::html;

use super::layout::{self, Section};
use super::{Console, ConsoleError, Signed};
use crate::http::AppState;
use crate::observe::Observe;

/// What start-up knows about the server and the page shows.
pub struct StatusFacts {
    pub version: &'static str,
    /// `SQLite` or `MySQL`.
    pub database: String,
    pub base_path: String,
    /// The enabled ways to authenticate to the SCIM API.
    pub auth_modes: Vec<String>,
    /// Each IdP dialect rule and whether it is on.
    pub dialect: Vec<(String, bool)>,
    /// Whether the built-in authorization server runs: start-up decides,
    /// from the clients there are then.
    pub oauth_server: bool,
}

pub async fn show(
    signed: Signed,
    console: web::Data<Console>,
    observe: web::Data<Observe>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let facts = &console.facts;
    let ready = observe.ready().await;
    let (idle, in_use) = state.services.db.pool_connections();
    let queued = state.services.db.write_queue_depth();
    let main = html! {
        h1 { "Status" }
        @match &ready {
            Ok(()) => p.ok role="status" { "Ready: the database answers and its migrations are current." },
            Err(reason) => p.error role="alert" { "Not ready: " (reason) },
        }
        dl.facts {
            dt { "Version" } dd { (facts.version) }
            dt { "Database" } dd { (facts.database) }
            dt { "Connections in use / idle" } dd { (in_use) " / " (idle) }
            @if let Some(q) = queued { dt { "Writes queued" } dd { (q) } }
            dt { "SCIM base path" } dd.mono { (facts.base_path) }
        }
        h2 { "Authentication modes" }
        ul { @for m in &facts.auth_modes { li { (m) } } }
        h2 { "IdP dialect rules" }
        div.scroll {
            table {
                thead { tr { th scope="col" { "Rule" } th scope="col" { "State" } } }
                tbody {
                    @for (rule, on) in &facts.dialect {
                        tr { td.mono { (rule) } td { (if *on { "on" } else { "off" }) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &console,
        &signed.session,
        Section::Status,
        "Status",
        main,
    ))
}
