//! A resource's recent changes, from the audit trail, under its page.

use maud::{Markup, html};
use serde_json::Value;
use uuid::Uuid;

use super::layout::{short_time, urlencoded};
use super::{Console, ConsoleError};
use crate::audit::query;

/// Changes shown under a resource.
const SHOWN: u64 = 20;

pub async fn history(console: &Console, id: &str) -> Result<Markup, ConsoleError> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(html! {});
    };
    let found = query::resource_history(&console.db, id, None, SHOWN).await?;
    let changes = &found.changes;
    // Where the search stopped at its window before the page filled.
    let stopped_at = found.next_before.filter(|_| (changes.len() as u64) < SHOWN);
    Ok(html! {
        h2 { "Recent changes" }
        @if changes.is_empty() && stopped_at.is_none() {
            p.empty { "None recorded." }
        }
        @if let Some(before) = stopped_at {
            p.empty #history-searched {
                "Only the newest " (query::SCAN_WINDOW) " change records were searched; "
                a href=(console.at(&format!("/api/resources/{id}/history?before={before}"))) { "older changes" }
                " (JSON)."
            }
        }
        @if !changes.is_empty() {
            div.scroll {
                table.history {
                    thead { tr { th scope="col" { "Time (UTC)" } th scope="col" { "Change" } th scope="col" { "By" } th scope="col" { "Attributes" } } }
                    tbody {
                        @for c in changes {
                            tr {
                                td.mono.time {
                                    @match &c.request_id {
                                        Some(r) => a href=(console.at(&format!("/requests/{}", urlencoded(r)))) title="The request that made this change" { (short_time(&c.time)) },
                                        None => (short_time(&c.time)),
                                    }
                                }
                                td { (c.operation) }
                                td { (c.principal.as_deref().unwrap_or("–")) }
                                td.mono { (paths(&c.detail)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The attributes a change touched, and its member operations.
fn paths(detail: &Value) -> String {
    let mut out: Vec<String> = detail
        .get("attributes")
        .and_then(Value::as_array)
        .map(|attrs| {
            attrs
                .iter()
                .filter_map(|a| a.get("path").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(members) = detail.get("members") {
        for (key, word) in [("added", "members added"), ("removed", "members removed")] {
            let n = members
                .get(key)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if n > 0 {
                out.push(format!("{n} {word}"));
            }
        }
    }
    out.join(", ")
}
