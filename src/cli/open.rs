//! How management commands reach the database: an existing one only, with
//! its schema current. Creating or migrating a database is what `serve`
//! (with `migrate_on_start`) and `roster migrate` do; a command typed in
//! the wrong folder must say so instead of creating an empty database.

use std::collections::HashSet;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::config::Config;
use crate::startup::{self, StartupError};
use crate::store::exec::sqlite_file;

/// The configured database, which must exist; its schema may be behind.
pub async fn existing(config: &Config) -> Result<DatabaseConnection, StartupError> {
    if let Some(path) = sqlite_file(&config.database.url)
        && !path.exists()
    {
        return Err(StartupError::Cli(format!(
            "no database at {} (run this command where 'roster serve' runs, or set \
             --database-url; 'roster migrate' creates a new one)",
            path.display()
        )));
    }
    startup::connect(config).await
}

/// The configured database, which must exist with every migration applied.
pub async fn current(config: &Config) -> Result<DatabaseConnection, StartupError> {
    let db = existing(config).await?;
    let missing = pending_migrations(&db).await;
    if !missing.is_empty() {
        return Err(StartupError::Cli(format!(
            "the database {} is not a current Roster database ({} migration(s) not applied); \
             run 'roster migrate' first",
            config.database.url,
            missing.len()
        )));
    }
    Ok(db)
}

/// Names of migrations not applied, read without writing anything: every
/// one when the migrations table does not exist.
async fn pending_migrations(db: &DatabaseConnection) -> Vec<String> {
    let select = Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM seaql_migrations",
    );
    let applied: HashSet<String> = match db.query_all_raw(select).await {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "version").ok())
            .collect(),
        Err(_) => HashSet::new(),
    };
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .filter(|name| !applied.contains(name))
        .collect()
}
