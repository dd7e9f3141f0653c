//! The operator console's shared state, from the configuration.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::StartupError;
use super::auth::{AuthStack, SetupError};
use crate::auth::passwords::CredentialList;
use crate::config::Config;
use crate::console::{Admins, Console, StatusFacts};

/// The console, unless `[console] enabled` is off.
pub(super) fn build(
    config: &Config,
    auth: &AuthStack,
    db: DatabaseConnection,
) -> Result<Option<Arc<Console>>, StartupError> {
    let c = &config.console;
    if !c.enabled {
        return Ok(None);
    }
    let admins = CredentialList::parse(&config.oauth.admins).map_err(SetupError::from)?;
    let secure_public = config
        .server
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    Ok(Some(Arc::new(Console {
        path: c.path.clone(),
        ttl_ms: i64::try_from(c.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        db,
        admins: Admins::new(admins),
        facts: facts(config, auth),
        secure_cookies: config.tls.files().is_some() || secure_public,
    })))
}

fn facts(config: &Config, auth: &AuthStack) -> StatusFacts {
    let modes = auth.verifier.modes();
    let mut auth_modes = vec!["Bearer tokens (stored)".to_owned()];
    for (on, name) in [
        (modes.basic, "HTTP Basic"),
        (modes.jwt, "JWT from a trusted issuer"),
        (modes.introspection, "Token introspection"),
        (auth.server.is_some(), "Built-in OAuth2 authorization server"),
    ] {
        if on {
            auth_modes.push(name.to_owned());
        }
    }
    let dialect = match serde_json::to_value(config.scim.dialect) {
        Ok(serde_json::Value::Object(rules)) => rules
            .into_iter()
            .map(|(rule, on)| (rule, on.as_bool().unwrap_or(false)))
            .collect(),
        _ => Vec::new(),
    };
    StatusFacts {
        version: env!("CARGO_PKG_VERSION"),
        database: config.database.url.kind().to_owned(),
        base_path: config.server.base_path.clone(),
        auth_modes,
        dialect,
    }
}
