//! Building the application from configuration: database, migrations,
//! credentials, shared state, and the HTTP server.

use std::io::Write as _;
use std::sync::Arc;

use actix_web::{App, HttpServer, middleware, web};
use sea_orm::{DatabaseConnection, DbErr};

use crate::auth::Verifier;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::scim::cursor::CursorKey;
use crate::scim::list::PageLimits;
use crate::scim::schema::{AuthScheme, Capabilities, Pagination, SchemaRegistry};
use crate::service::{self, CursorSettings, DEFAULT_TENANT, Services, Settings};
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: DbErr },
    #[error("cannot migrate the database: {0}")]
    Migration(DbErr),
    #[error("invalid schema extension: {0}")]
    Schema(String),
    #[error("invalid credentials in the configuration: {0}")]
    Credentials(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Service(#[from] service::ServiceError),
}

pub async fn connect(config: &Config) -> Result<DatabaseConnection, StartupError> {
    store::connect(&config.database.url, config.database.max_connections)
        .await
        .map_err(|source| StartupError::Database {
            url: config.database.url.to_string(),
            source,
        })
}

/// Applies pending migrations, then computes the search columns of rows
/// written before those columns existed (or before the schemas changed).
pub async fn migrate(config: &Config, db: &DatabaseConnection) -> Result<(), StartupError> {
    store::migrate(db).await.map_err(StartupError::Migration)?;
    reindex(config, db).await
}

/// Computes missing search columns (see `service::reindex`); also needed
/// when migrations are applied by `roster migrate` from elsewhere.
pub async fn reindex(config: &Config, db: &DatabaseConnection) -> Result<(), StartupError> {
    let filled = service::reindex::reindex(db, &registry(config)?)
        .await
        .map_err(StartupError::Migration)?;
    if filled > 0 {
        log::info!("computed search columns for {filled} resources");
    }
    Ok(())
}

/// The RFC schemas plus the operator's extensions from the configuration.
pub fn registry(config: &Config) -> Result<SchemaRegistry, StartupError> {
    let mut registry = SchemaRegistry::rfc();
    for ext in &config.scim.schema_extensions {
        let shown = ext.file.display();
        let text = std::fs::read_to_string(&ext.file)
            .map_err(|e| StartupError::Schema(format!("cannot read {shown}: {e}")))?;
        let json = serde_json::from_str(&text)
            .map_err(|e| StartupError::Schema(format!("{shown} is not JSON: {e}")))?;
        registry
            .add_extension(&ext.resource_type, json, ext.required)
            .map_err(|e| StartupError::Schema(format!("{shown}: {e}")))?;
    }
    Ok(registry)
}

/// The shared state handlers run on, and the auth guard's verifier.
pub fn app_state(
    config: &Config,
    db: DatabaseConnection,
) -> Result<(AppState, Arc<Verifier>), StartupError> {
    let verifier = Verifier::new(&config.auth.bearer_tokens, &config.auth.basic, db.clone())
        .map_err(|e| StartupError::Credentials(e.to_string()))?;
    let limits = PageLimits {
        default_count: config.scim.default_page_size,
        max_count: config.scim.max_page_size,
    };
    let services = Services {
        db,
        registry: Arc::new(registry(config)?),
        settings: Settings {
            page_limits: limits,
            store_password_hashes: config.scim.store_password_hashes,
            cursor: CursorSettings {
                key: cursor_key(config)?,
                timeout_secs: config.scim.cursor_timeout_secs,
            },
        },
    };
    let state = AppState {
        services,
        base_path: config.server.base_path.clone(),
        public_url: config.server.public_url.clone(),
        capabilities: Arc::new(capabilities(
            limits,
            verifier.basic_enabled(),
            config.scim.cursor_timeout_secs,
        )),
        max_body_bytes: config.server.max_body_bytes,
        group_patch_no_content: config.scim.group_patch_no_content,
    };
    Ok((state, Arc::new(verifier)))
}

/// The configured cursor secret, or a random key: cursors then stop
/// working when the process restarts, and only this process accepts them.
fn cursor_key(config: &Config) -> Result<CursorKey, StartupError> {
    match &config.scim.cursor_secret {
        Some(secret) => Ok(CursorKey::from_secret(secret.expose())),
        None => CursorKey::random().map_err(StartupError::Credentials),
    }
}

/// What ServiceProviderConfig advertises: exactly what this build does.
fn capabilities(limits: PageLimits, basic: bool, cursor_timeout: u32) -> Capabilities {
    let mut schemes = vec![AuthScheme {
        scheme_type: "oauthbearertoken".to_owned(),
        name: "Bearer token".to_owned(),
        description: "A static bearer token in the Authorization header".to_owned(),
        spec_uri: Some("https://www.rfc-editor.org/rfc/rfc6750".to_owned()),
        documentation_uri: None,
        primary: true,
    }];
    if basic {
        schemes.push(AuthScheme {
            scheme_type: "httpbasic".to_owned(),
            name: "HTTP Basic".to_owned(),
            description: "HTTP Basic authentication with configured credentials".to_owned(),
            spec_uri: Some("https://www.rfc-editor.org/rfc/rfc7617".to_owned()),
            documentation_uri: None,
            primary: false,
        });
    }
    Capabilities {
        documentation_uri: None,
        patch: true,
        bulk: None,
        filter_max_results: limits.max_count,
        change_password: false,
        sort: true,
        etag: false,
        pagination: Some(Pagination {
            cursor: true,
            index: true,
            // Clients written before RFC 9865 only know startIndex.
            default_pagination_method: "index".to_owned(),
            default_page_size: limits.default_count,
            max_page_size: limits.max_count,
            cursor_timeout: Some(cursor_timeout),
        }),
        authentication_schemes: schemes,
    }
}

/// `roster serve`: runs until the process is stopped.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let db = connect(&config).await?;
    if config.database.migrate_on_start {
        migrate(&config, &db).await?;
    } else {
        reindex(&config, &db).await?;
    }
    let (state, verifier) = app_state(&config, db.clone())?;
    if !verifier.has_configured_credentials()
        && let Some(minted) = service::tokens::ensure_bootstrap(&db, DEFAULT_TENANT).await?
    {
        // Printed, not logged: it must reach the operator once and no log file.
        // A closed stdout (a wrapper that stopped reading after the token)
        // must not take the server down: println! would panic on EPIPE.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "Roster generated an API token (shown only this once; only its hash is stored):\n    {}\n\
             Send it as 'Authorization: Bearer <token>'; mint more with 'roster token create'.",
            minted.token
        );
    }
    let mut modes = vec!["bearer token"];
    if verifier.basic_enabled() {
        modes.push("HTTP basic");
    }
    log::info!(
        "Roster serving SCIM 2.0 at http://{}{} (database: {}, auth: {})",
        config.server.bind,
        config.server.base_path,
        config.database.url.kind(),
        modes.join(", ")
    );
    let addr = config.server.bind.clone();
    let mut server = HttpServer::new(move || {
        let (state, verifier) = (state.clone(), verifier.clone());
        App::new()
            .wrap(middleware::Compress::default())
            .wrap(middleware::Logger::new(r#"%a "%r" %s %b %Dms"#))
            .configure(move |cfg| http::configure(cfg, state, verifier))
            .default_service(web::to(http::error::unknown_route))
    });
    if config.server.workers > 0 {
        server = server.workers(config.server.workers);
    }
    server
        .bind(&addr)
        .map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?
        .run()
        .await
        .map_err(|source| StartupError::Bind { addr, source })
}
