//! Clients of the authorization server, from the config file and from the
//! database (`roster oauth-client add`), and their authentication.

use entity::{oauth_client, oauth_refresh_token};
use oauth2::basic::BasicErrorResponseType;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr};
use uuid::Uuid;

use super::ServerError;
use crate::auth::credentials::Presented;
use crate::auth::passwords::{SecretChecker, StoredSecret};
use crate::auth::remembered::Remembered;
use crate::config::{OAuthClientConfig, Secret};
use crate::secrets::{hash_secret, random_secret};
use crate::store::oauth as store;
use crate::time::now_ms;

#[derive(Clone)]
pub struct Client {
    pub client_id: String,
    secret: StoredSecret,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub require_pkce: bool,
    /// The tenant whose data the client's tokens reach.
    pub tenant: Uuid,
    /// The stored client's key; none for a client of the configuration file.
    pub stored: Option<Uuid>,
}

impl Client {
    fn from_config(c: &OAuthClientConfig, default_scope: &str) -> Self {
        Self {
            client_id: c.client_id.clone(),
            secret: StoredSecret::parse(c.client_secret.expose()),
            redirect_uris: c.redirect_uris.clone(),
            grant_types: c.grant_types.clone(),
            scopes: scopes_or_default(c.scopes.clone(), default_scope),
            require_pkce: c.require_pkce,
            tenant: crate::auth::tenancy::DEFAULT,
            stored: None,
        }
    }

    fn from_row(row: oauth_client::Model, default_scope: &str) -> Self {
        let redirect_uris = serde_json::from_str(&row.redirect_uris).unwrap_or_else(|e| {
            log::error!("client {}: unreadable redirect URIs: {e}", row.client_id);
            Vec::new()
        });
        Self {
            secret: StoredSecret::parse(&row.secret_hash),
            redirect_uris,
            grant_types: words(&row.grant_types),
            scopes: scopes_or_default(words(&row.scopes), default_scope),
            require_pkce: row.require_pkce,
            tenant: row.tenant_id,
            stored: Some(row.id),
            client_id: row.client_id,
        }
    }

    pub fn allows(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Exact string comparison, as RFC 6749 §3.1.2.3 and OAuth 2.1 ask.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|u| u == uri)
    }

    /// The scope to grant: what was asked for if the client may have all of
    /// it, or everything it may have when nothing was asked for.
    pub fn grant_scope(&self, requested: Option<&str>) -> Result<String, ServerError> {
        let requested: Vec<&str> = requested
            .map(str::split_whitespace)
            .into_iter()
            .flatten()
            .collect();
        if requested.is_empty() {
            return Ok(self.scopes.join(" "));
        }
        match requested
            .iter()
            .find(|s| !self.scopes.iter().any(|a| a == *s))
        {
            Some(bad) => Err(ServerError::new(
                BasicErrorResponseType::InvalidScope,
                format!("scope {bad:?} is not available to this client"),
            )),
            None => Ok(requested.join(" ")),
        }
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn scopes_or_default(scopes: Vec<String>, default_scope: &str) -> Vec<String> {
    if scopes.is_empty() {
        vec![default_scope.to_owned()]
    } else {
        scopes
    }
}

pub struct ClientRegistry {
    configured: Vec<Client>,
    default_scope: String,
    db: DatabaseConnection,
    checker: SecretChecker,
    known: Remembered,
}

impl ClientRegistry {
    pub fn new(
        configured: &[OAuthClientConfig],
        default_scope: &str,
        db: DatabaseConnection,
    ) -> Self {
        Self {
            configured: configured
                .iter()
                .map(|c| Client::from_config(c, default_scope))
                .collect(),
            default_scope: default_scope.to_owned(),
            db,
            checker: SecretChecker::default(),
            known: Remembered::default(),
        }
    }

    /// Configured clients win over stored ones with the same id.
    pub async fn find(&self, client_id: &str) -> Result<Option<Client>, DbErr> {
        if let Some(c) = self.configured.iter().find(|c| c.client_id == client_id) {
            return Ok(Some(c.clone()));
        }
        // A client id is unique across tenants, so it names the tenant.
        let row = store::find_client_in_any_tenant(&self.db, client_id).await?;
        Ok(row.map(|r| Client::from_row(r, &self.default_scope)))
    }

    /// The client, when `secret` is its secret.
    pub async fn authenticate(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Client>, ServerError> {
        let Some(client) = self.find(client_id).await? else {
            return Ok(None);
        };
        let ok = self
            .checker
            .matches(client_id, secret, &client.secret)
            .await
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        if ok {
            self.known.insert(&presented(client_id, secret));
        }
        Ok(ok.then_some(client))
    }

    /// Whether this id and secret authenticated recently: such a client is
    /// checked even while its address's failures refuse unknown ones.
    pub fn remembers(&self, client_id: &str, secret: &str) -> bool {
        self.known.contains(&presented(client_id, secret))
    }
}

fn presented(client_id: &str, secret: &str) -> Presented {
    Presented::Basic {
        user: client_id.to_owned(),
        password: secret.to_owned(),
    }
}

/// What `roster oauth-client add` stores.
pub struct NewClient {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub require_pkce: bool,
}

/// Stores a client with a new random secret and returns the secret, the
/// only time it exists in plain text.
pub async fn add_client(
    db: &DatabaseConnection,
    tenant: Uuid,
    new: NewClient,
) -> Result<String, ServerError> {
    let secret = random_secret("roster_cs_").map_err(ServerError::Internal)?;
    let as_config = OAuthClientConfig {
        client_id: new.client_id.clone(),
        client_secret: Secret::new(secret.clone()),
        redirect_uris: new.redirect_uris.clone(),
        grant_types: new.grant_types.clone(),
        scopes: new.scopes.clone(),
        require_pkce: new.require_pkce,
    };
    as_config
        .validate()
        .map_err(|e| ServerError::invalid_request(e.to_string()))?;
    if store::find_client_in_any_tenant(db, &new.client_id)
        .await?
        .is_some()
    {
        return Err(ServerError::invalid_request(format!(
            "a client {:?} exists already",
            new.client_id
        )));
    }
    let redirect_uris = serde_json::to_string(&new.redirect_uris)
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let model = oauth_client::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(Uuid::new_v4()),
        client_id: Set(new.client_id),
        secret_hash: Set(hash_secret(&secret).map_err(ServerError::Internal)?),
        redirect_uris: Set(redirect_uris),
        grant_types: Set(new.grant_types.join(" ")),
        scopes: Set(new.scopes.join(" ")),
        require_pkce: Set(new.require_pkce),
        created_at: Set(now_ms()),
    };
    store::insert(db, model).await?;
    Ok(secret)
}

pub async fn list_clients(
    db: &DatabaseConnection,
    tenant: Uuid,
) -> Result<Vec<oauth_client::Model>, DbErr> {
    store::list_clients(db, tenant).await
}

/// Deletes a stored client and revokes its refresh tokens.
pub async fn remove_client(
    db: &DatabaseConnection,
    tenant: Uuid,
    client_id: &str,
) -> Result<bool, DbErr> {
    let removed = store::delete_client(db, tenant, client_id).await?;
    let theirs = Condition::all().add(oauth_refresh_token::Column::ClientId.eq(client_id));
    store::revoke_refresh(db, tenant, theirs, now_ms()).await?;
    Ok(removed)
}

/// Whether any tenant has a stored client: then the server is on.
pub async fn any_stored(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(store::count_all_clients(db).await? > 0)
}
