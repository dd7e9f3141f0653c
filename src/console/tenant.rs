//! Which tenant's users, groups and credentials the console shows: each
//! session has one (`default` at sign-in), switched with a picker on those
//! pages. The activity pages show every tenant's requests, each marked.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::{self, csrf_field};
use super::{Console, ConsoleError, Signed, csrf};
use crate::service::console_sessions::{self, Session};
use crate::service::tenants::{self, Tenant, TenantError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tenant", web::post().to(switch));
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Switch {
    csrf: Option<String>,
    /// The tenant's name.
    tenant: String,
    /// The console page to go back to.
    back: String,
}

async fn switch(
    req: HttpRequest,
    signed: Signed,
    console: web::Data<Console>,
    form: web::Form<Switch>,
) -> Result<HttpResponse, ConsoleError> {
    csrf::check(&req, &signed.session.csrf_token, form.csrf.as_deref())?;
    let name = form.tenant.trim();
    let chosen = tenants::find(&console.db, name)
        .await
        .map_err(|e| match e {
            TenantError::Db(e) => e.into(),
            _ => ConsoleError::BadInput(format!("No tenant {name:?} exists.")),
        })?;
    console_sessions::switch_tenant(&console.db, &signed.token, chosen.id).await?;
    log::info!(
        "console: {} now shows tenant {}",
        signed.session.admin,
        chosen.name
    );
    Ok(layout::see_other(&back_to(&console.path, &form.back)))
}

/// `back` when it is one of the pages of the console at `root`, else the
/// users page: the form must not send the browser anywhere else.
fn back_to(root: &str, back: &str) -> String {
    let inside = back
        .strip_prefix(root)
        .is_some_and(|rest| rest.starts_with('/') && !rest.starts_with("//"));
    if inside && !back.contains('\\') {
        back.to_owned()
    } else {
        format!("{root}/users")
    }
}

pub async fn all(console: &Console) -> Result<Vec<Tenant>, ConsoleError> {
    tenants::list(&console.db).await.map_err(|e| match e {
        TenantError::Db(e) => e.into(),
        other => ConsoleError::Internal(other.to_string()),
    })
}

/// Tenants' names by id.
pub fn names(tenants: &[Tenant]) -> HashMap<Uuid, Arc<str>> {
    tenants.iter().map(|t| (t.id, t.name.clone())).collect()
}

/// A tenant's name, or its id when it is gone (removed since).
pub fn name_of(names: &HashMap<Uuid, Arc<str>>, id: Uuid) -> String {
    names
        .get(&id)
        .map_or_else(|| id.to_string(), |n| n.to_string())
}

/// The session's tenant and, where there are others, a form to switch to
/// one of them and come back to `back`.
pub async fn picker(
    console: &Console,
    session: &Session,
    back: &str,
) -> Result<Markup, ConsoleError> {
    let tenants = all(console).await?;
    if tenants.len() < 2 {
        return Ok(html! {});
    }
    Ok(html! {
        form.stack.inline.tenant method="post" action=(console.at("/tenant")) {
            (csrf_field(session))
            input type="hidden" name="back" value=(back);
            label for="tenant" { "Tenant" }
            select #tenant name="tenant" {
                @for t in &tenants {
                    option value=(t.name) selected[t.id == session.tenant] { (t.name) }
                }
            }
            button type="submit" { "Show" }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_consoles_own_pages_are_gone_back_to() {
        for kept in [
            "/console/users",
            "/console/groups?filter=x",
            "/console/credentials",
        ] {
            assert_eq!(back_to("/console", kept), kept);
        }
        for refused in [
            "https://evil.example/console/users",
            "//evil.example/",
            "/console//evil.example",
            "/consolex/users",
            "/console\\evil",
            "",
        ] {
            assert_eq!(back_to("/console", refused), "/console/users", "{refused}");
        }
    }
}
