//! Building the application from configuration: database, migrations,
//! credentials, shared state, and the HTTP server. [`Application`] is the
//! one way to start Roster, for `roster serve` and the tests alike; the
//! functions here also serve the CLI's maintenance commands.

mod application;
pub mod auth;
mod capabilities;
mod console;
pub mod events;
mod listener;
mod tenants;
mod tls;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};

pub use self::application::{Application, ApplicationBuilder, Connected, Routes, app};
use self::auth::{AuthStack, SetupError};
use self::capabilities::capabilities;
use crate::config::Config;
use crate::http::AppState;
use crate::oauth;
use crate::scim::cursor::CursorKey;
use crate::scim::list::PageLimits;
use crate::scim::schema::SchemaRegistry;
use crate::service::{self, ChangeHooks, CursorSettings, DEFAULT_TENANT, Services, Settings};
use crate::store;
use crate::store::exec::{Db, OpenError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot connect to the database at {url}: {cause}")]
    Database { url: String, cause: String },
    #[error("cannot migrate the database: {0}")]
    Migration(DbErr),
    #[error("invalid authentication settings: {0}")]
    Auth(#[from] SetupError),
    #[error("invalid schema extension: {0}")]
    Schema(String),
    #[error("cannot create a cursor key: {0}")]
    Credentials(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Service(#[from] service::ServiceError),
    #[error("{0}")]
    OAuth(#[from] oauth::ServerError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Cli(String),
    #[error("{0}")]
    Open(#[from] OpenError),
    /// Names the file and what is wrong with it.
    #[error("{0}")]
    Tls(String),
    /// Asked of a database that cannot do it; exits 2, not 1.
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Server(#[from] store::server::CheckError),
}

impl StartupError {
    /// The process's exit status: 2 for a request the configured database
    /// cannot serve, 1 for every failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Unsupported(_) => 2,
            _ => 1,
        }
    }
}

pub async fn connect(config: &Config) -> Result<DatabaseConnection, StartupError> {
    let database = &config.database;
    store::exec::set_statement_timeout(database.statement_timeout());
    let db = store::connect_with(
        &database.url,
        database.max_connections,
        database.connect_timeout(),
        database.acquire_timeout(),
    )
    .await
    .map_err(|source| StartupError::Database {
        url: database.url.to_string(),
        cause: store::error::connect_cause(&source, &database.url),
    })?;
    if let Some(server) = store::server::check(&db).await? {
        store::buffer_pool::report(&db, server.flavour).await;
    }
    Ok(db)
}

fn connect_timeout(config: &Config) -> std::time::Duration {
    config.database.connect_timeout()
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
    let mut registry = SchemaRegistry::rfc().map_err(|e| StartupError::Schema(e.to_string()))?;
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

/// The shared state handlers run on, and authentication: the guard and,
/// when a client is configured, the built-in authorization server.
async fn app_state(
    config: &Config,
    hooks: ChangeHooks,
    db: DatabaseConnection,
) -> Result<(AppState, AuthStack), StartupError> {
    let (tenants, bindings) = tenants::load(config, &db).await?;
    let auth = auth::build(config, db.clone(), DEFAULT_TENANT, bindings).await?;
    let limits = PageLimits {
        default_count: config.scim.default_page_size,
        max_count: config.scim.max_page_size,
    };
    let db = Db::open(&config.database.url, db, connect_timeout(config)).await?;
    let services = Services {
        db,
        hooks: service::with_counts(&hooks),
        page_ends: Arc::default(),
        registry: Arc::new(registry(config)?),
        settings: Settings {
            page_limits: limits,
            store_password_hashes: config.scim.store_password_hashes,
            cursor: CursorSettings {
                key: cursor_key(config)?,
                timeout_secs: config.scim.cursor_timeout_secs,
            },
            member_batch: config.scim.member_batch,
        },
    };
    let oauth_metadata = auth
        .server
        .as_ref()
        .map(|s| format!("{}{}", s.settings.issuer, oauth::METADATA_PATH));
    let state = AppState {
        emits_events: None,
        services,
        base_path: config.server.base_path.clone(),
        public_url: config.server.public_url.clone(),
        capabilities: Arc::new(capabilities(
            limits,
            config.scim.bulk,
            auth.verifier.modes(),
            oauth_metadata,
            config.scim.cursor_timeout_secs,
        )),
        max_body_bytes: config.server.max_body_bytes,
        bulk: config.scim.bulk,
        group_patch_no_content: config.scim.group_patch_no_content,
        tenants,
        profile: config.scim.profile,
        dialect: config.scim.rules(),
    };
    Ok((state, auth))
}

/// The configured cursor secret, or a random key: cursors then stop
/// working when the process restarts, and only this process accepts them.
fn cursor_key(config: &Config) -> Result<CursorKey, StartupError> {
    match &config.scim.cursor_secret {
        Some(secret) => Ok(CursorKey::from_secret(secret.expose())),
        None => CursorKey::random().map_err(StartupError::Credentials),
    }
}
