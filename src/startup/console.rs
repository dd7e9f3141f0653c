//! The operator console's shared state, from the configuration.

use std::sync::Arc;

use super::auth::AuthStack;
use crate::config::Config;
use crate::console::{Console, StatusFacts};
use crate::http::console_api::ConsoleApi;

/// The console's pages, unless `[console] enabled` is off. They check
/// passwords with the same verifier, and so under the same failure limits,
/// as the console's API.
pub(super) fn build(config: &Config, auth: &AuthStack, api: &ConsoleApi) -> Option<Arc<Console>> {
    let c = &config.console;
    if !c.enabled {
        return None;
    }
    let secure_public = config
        .server
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    Some(Arc::new(Console {
        path: c.path.clone(),
        ttl_ms: i64::try_from(c.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        db: api.db.clone(),
        admins: api.admins.clone(),
        audit: api.audit.clone(),
        facts: facts(config, auth),
        secure_cookies: config.tls.files().is_some() || secure_public,
    }))
}

fn facts(config: &Config, auth: &AuthStack) -> StatusFacts {
    let modes = auth.verifier.modes();
    let mut auth_modes = vec!["Bearer tokens".to_owned()];
    for (on, name) in [
        (modes.basic, "HTTP Basic"),
        (modes.jwt, "JWT from a trusted issuer"),
        (modes.introspection, "Token introspection"),
        (
            auth.server.is_some(),
            "Built-in OAuth2 authorization server",
        ),
    ] {
        if on {
            auth_modes.push(name.to_owned());
        }
    }
    // The default tenant's rules: its profile's, with the file's overrides.
    let dialect = config
        .scim
        .rules()
        .rules()
        .into_iter()
        .map(|(rule, on)| (rule.to_owned(), on))
        .collect();
    StatusFacts {
        version: env!("CARGO_PKG_VERSION"),
        database: config.database.url.kind().to_owned(),
        base_path: config.server.base_path.clone(),
        auth_modes,
        dialect,
        oauth_server: auth.server.is_some(),
    }
}
