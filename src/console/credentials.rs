//! Bearer tokens and OAuth clients: listed, created with the secret shown
//! once on the page that created it, and revoked.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::layout::{self, Section, csrf_field, urlencoded};
use super::{Console, ConsoleError, Signed, csrf};
use crate::config::GRANT_TYPES;
use crate::oauth::{self, NewClient, ServerError};
use crate::service::console_sessions::Session;
use crate::service::tokens;
use crate::time::format_ms;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/credentials", web::get().to(show))
        .route("/credentials/tokens", web::post().to(create_token))
        .route(
            "/credentials/tokens/{id}/revoke",
            web::post().to(revoke_token),
        )
        .route("/credentials/clients", web::post().to(create_client))
        .route(
            "/credentials/clients/{id}/remove",
            web::post().to(remove_client),
        );
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewToken {
    csrf: Option<String>,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClientForm {
    csrf: Option<String>,
    client_id: String,
    redirect_uris: String,
    authorization_code: Option<String>,
    refresh_token: Option<String>,
    client_credentials: Option<String>,
}

/// A secret just made, shown on this one page and never again.
struct Fresh<'a> {
    what: &'a str,
    name: &'a str,
    secret: &'a str,
}

async fn show(signed: Signed, console: web::Data<Console>) -> Result<HttpResponse, ConsoleError> {
    page(&console, &signed.session, StatusCode::OK, None, None).await
}

async fn create_token(
    req: HttpRequest,
    signed: Signed,
    console: web::Data<Console>,
    form: web::Form<NewToken>,
) -> Result<HttpResponse, ConsoleError> {
    csrf::check(&req, &signed.session.csrf_token, form.csrf.as_deref())?;
    let name = form.name.trim();
    let session = &signed.session;
    if name.is_empty() || name.chars().count() > 200 {
        let problem = "A token needs a name of 1 to 200 characters.";
        return page(
            &console,
            session,
            StatusCode::BAD_REQUEST,
            None,
            Some(problem),
        )
        .await;
    }
    let minted = tokens::create(&console.db, session.tenant, name).await?;
    log::info!(
        "console: {} created bearer token {:?}",
        session.admin,
        minted.name
    );
    let fresh = Fresh {
        what: "bearer token",
        name: &minted.name,
        secret: &minted.token,
    };
    page(&console, session, StatusCode::CREATED, Some(fresh), None).await
}

async fn revoke_token(
    req: HttpRequest,
    signed: Signed,
    console: web::Data<Console>,
    id: web::Path<Uuid>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, ConsoleError> {
    csrf::check(&req, &signed.session.csrf_token, form.csrf.as_deref())?;
    if tokens::revoke(&console.db, signed.session.tenant, *id).await? {
        log::info!(
            "console: {} revoked bearer token {id}",
            signed.session.admin
        );
    }
    Ok(layout::see_other(&console.at("/credentials")))
}

async fn create_client(
    req: HttpRequest,
    signed: Signed,
    console: web::Data<Console>,
    form: web::Form<ClientForm>,
) -> Result<HttpResponse, ConsoleError> {
    csrf::check(&req, &signed.session.csrf_token, form.csrf.as_deref())?;
    let session = &signed.session;
    let chosen = [
        &form.authorization_code,
        &form.refresh_token,
        &form.client_credentials,
    ];
    let grant_types: Vec<String> = GRANT_TYPES
        .iter()
        .zip(chosen)
        .filter(|(_, on)| on.is_some())
        .map(|(g, _)| (*g).to_owned())
        .collect();
    let new = NewClient {
        client_id: form.client_id.trim().to_owned(),
        redirect_uris: form
            .redirect_uris
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        grant_types,
        scopes: Vec::new(),
        require_pkce: true,
    };
    let client_id = new.client_id.clone();
    match oauth::add_client(&console.db, session.tenant, new).await {
        Ok(secret) => {
            log::info!(
                "console: {} added OAuth client {client_id:?}",
                session.admin
            );
            let fresh = Fresh {
                what: "OAuth client secret",
                name: &client_id,
                secret: &secret,
            };
            page(&console, session, StatusCode::CREATED, Some(fresh), None).await
        }
        Err(ServerError::Db(e)) => Err(e.into()),
        Err(ServerError::Internal(e)) => Err(ConsoleError::Internal(e)),
        Err(refused) => {
            let problem = format!("The client was not added: {refused}");
            page(
                &console,
                session,
                StatusCode::BAD_REQUEST,
                None,
                Some(&problem),
            )
            .await
        }
    }
}

async fn remove_client(
    req: HttpRequest,
    signed: Signed,
    console: web::Data<Console>,
    client_id: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, ConsoleError> {
    csrf::check(&req, &signed.session.csrf_token, form.csrf.as_deref())?;
    if oauth::remove_client(&console.db, signed.session.tenant, &client_id).await? {
        log::info!(
            "console: {} removed OAuth client {:?}",
            signed.session.admin,
            client_id.as_str()
        );
    }
    Ok(layout::see_other(&console.at("/credentials")))
}

async fn page(
    console: &Console,
    session: &Session,
    status: StatusCode,
    fresh: Option<Fresh<'_>>,
    problem: Option<&str>,
) -> Result<HttpResponse, ConsoleError> {
    let tokens = tokens::list(&console.db, session.tenant).await?;
    let used = tokens::last_used(&console.db, session.tenant).await?;
    let clients = oauth::list_clients(&console.db, session.tenant).await?;
    let picker = super::tenant::picker(console, session, &console.at("/credentials")).await?;
    let main = html! {
        h1 { "Credentials" }
        (picker)
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        @if let Some(f) = &fresh { (fresh_secret(f)) }
        h2 #tokens { "Bearer tokens" }
        div.scroll {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" } th scope="col" { span.sr { "Actions" } } } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td { (t.name) }
                            td { (format_ms(t.created_at)) }
                            td { (last_use(&used, t.id)) }
                            @match t.revoked_at {
                                Some(at) => { td { "revoked " (format_ms(at)) } td {} }
                                None => {
                                    td { "active" }
                                    td { (post_button(console, session, &format!("/credentials/tokens/{}/revoke", t.id), "Revoke", &format!("Revoke the token {}? Clients using it stop working.", t.name))) }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.stack.inline method="post" action=(console.at("/credentials/tokens")) {
            (csrf_field(session))
            label for="token-name" { "New token's name" }
            input #token-name name="name" required maxlength="200" placeholder="okta-production";
            button type="submit" { "Create token" }
        }
        h2 #clients { "OAuth clients" }
        @if clients.is_empty() {
            p.empty { "No client is stored. Clients from the configuration file are not listed here." }
        } @else {
            div.scroll {
                table {
                    thead { tr { th scope="col" { "Client id" } th scope="col" { "Grant types" } th scope="col" { "Redirect URIs" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { span.sr { "Actions" } } } }
                    tbody {
                        @for c in &clients {
                            tr {
                                td.mono { (c.client_id) }
                                td { (c.grant_types) }
                                td.mono { (redirect_list(&c.redirect_uris)) }
                                td { (format_ms(c.created_at)) }
                                td { (last_use(&used, c.id)) }
                                td { (post_button(console, session, &format!("/credentials/clients/{}/remove", urlencoded(&c.client_id)), "Remove", &format!("Remove the client {}?", c.client_id))) }
                            }
                        }
                    }
                }
            }
        }
        @if !console.facts.oauth_server {
            p.empty #clients-later {
                "The built-in authorization server is not running: it starts with Roster when a client exists. "
                "A client added here gets tokens after the next restart."
            }
        }
        (client_form(console, session))
    };
    let mut resp = layout::page(console, session, Section::Credentials, "Credentials", main);
    *resp.status_mut() = status;
    Ok(resp)
}

fn fresh_secret(f: &Fresh<'_>) -> Markup {
    html! {
        section.fresh role="status" aria-labelledby="fresh-title" {
            h2 #fresh-title { "New " (f.what) " for " (f.name) }
            p { "Copy it now: it is shown only this once, and only its hash is stored." }
            div.copy {
                input #fresh-secret readonly value=(f.secret) aria-label="The new secret";
                button type="button" data-copy="fresh-secret" { "Copy" }
            }
        }
    }
}

fn client_form(console: &Console, session: &Session) -> Markup {
    html! {
        form.stack method="post" action=(console.at("/credentials/clients")) {
            (csrf_field(session))
            h3 { "Add a client" }
            label for="client-id" { "Client id" }
            input #client-id name="client_id" required maxlength="255";
            label for="redirect-uris" { "Redirect URIs, one per line" }
            textarea #redirect-uris name="redirect_uris" rows="2" {}
            fieldset {
                legend { "Grant types" }
                @for g in GRANT_TYPES {
                    label.check { input type="checkbox" name=(g) value="on" checked[g == "client_credentials"]; " " (g) }
                }
            }
            button type="submit" { "Add client" }
        }
    }
}

/// A one-button form that changes state, confirmed in the browser first.
fn post_button(
    console: &Console,
    session: &Session,
    suffix: &str,
    label: &str,
    confirm: &str,
) -> Markup {
    html! {
        form.button method="post" action=(console.at(suffix)) data-confirm=(confirm) {
            (csrf_field(session))
            button.danger type="submit" { (label) }
        }
    }
}

/// When a token was last presented, or a client last authenticated at the
/// token endpoint.
fn last_use(used: &HashMap<Uuid, i64>, id: Uuid) -> String {
    used.get(&id)
        .map_or_else(|| "never".to_owned(), |at| format_ms(*at))
}

fn redirect_list(json: &str) -> String {
    serde_json::from_str::<Vec<String>>(json)
        .map(|uris| uris.join(" "))
        .unwrap_or_default()
}
