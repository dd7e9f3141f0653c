//! `roster backup --out FILE`: a consistent copy of a SQLite database
//! taken while the server serves. `VACUUM INTO` reads one snapshot (WAL
//! readers never block the writer, nor it them) and writes a compact,
//! self-contained database file; the request log's own file is copied
//! beside it the same way. MySQL-family databases have their own
//! tool for this; the command prints how to run it.

use std::path::{Path, PathBuf};

use rusqlite::OpenFlags;
use sea_orm::{ConnectionTrait, Statement};

use super::open;
use crate::config::Config;
use crate::startup::StartupError;
use crate::store::file_mode::create_private;
use crate::store::request_log::{file_beside, own_file_path};

pub async fn run(config: &Config, out: &Path, force: bool) -> Result<(), StartupError> {
    if !config.database.url.is_sqlite() {
        println!("{}", dump_command(config.database.url.expose()));
        return Err(StartupError::Unsupported(
            "roster backup copies SQLite databases only; back up MySQL or MariaDB with the \
             command above (it asks for the password)"
                .to_owned(),
        ));
    }
    let db = open::existing(config).await?;
    let log = request_log_file(config);
    let log_out = log.as_ref().map(|_| file_beside(out));
    for target in std::iter::once(out).chain(log_out.as_deref()) {
        if target.exists() && !force {
            return Err(StartupError::Cli(format!(
                "{} exists; pass --force to overwrite it",
                target.display()
            )));
        }
    }
    empty_private(out)?;
    let target = out.to_string_lossy().into_owned();
    let vacuum =
        Statement::from_sql_and_values(db.get_database_backend(), "VACUUM INTO ?", [target.into()]);
    if let Err(e) = db.execute_raw(vacuum).await {
        std::fs::remove_file(out).ok();
        return Err(StartupError::Cli(format!(
            "cannot back up to {}: {e}",
            out.display()
        )));
    }
    db.close().await.ok();
    eprintln!("backed up {} to {}", config.database.url, out.display());
    match (log, log_out) {
        (Some(log), Some(target)) => back_up_request_log(&log, &target),
        _ => Ok(()),
    }
}

/// The request log's own file (`store::request_log`), where there is one.
fn request_log_file(config: &Config) -> Option<PathBuf> {
    let configured = config.audit.request_log_file.as_deref();
    let log = own_file_path(&config.database.url, configured)?;
    log.exists().then_some(log)
}

/// Copies the request log's file to `target`, beside the backup as it
/// sits beside the database.
fn back_up_request_log(log: &Path, target: &Path) -> Result<(), StartupError> {
    empty_private(target)?;
    let copied = rusqlite::Connection::open_with_flags(log, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.execute("VACUUM INTO ?1", [target.to_string_lossy()]));
    if let Err(e) = copied {
        std::fs::remove_file(target).ok();
        return Err(StartupError::Cli(format!(
            "cannot back up the request log to {}: {e}",
            target.display()
        )));
    }
    eprintln!(
        "backed up the request log {} to {}",
        log.display(),
        target.display()
    );
    Ok(())
}

/// Makes `out` a new empty file only its owner may read, in place of any
/// there: VACUUM INTO accepts an empty file and keeps its mode, so the
/// copy is private before SQLite writes into it.
fn empty_private(out: &Path) -> Result<(), StartupError> {
    if out.exists() {
        std::fs::remove_file(out).map_err(|e| cannot_write(out, &e))?;
    }
    create_private(out).map_err(|e| cannot_write(out, &e))
}

fn cannot_write(out: &Path, e: &std::io::Error) -> StartupError {
    StartupError::Cli(format!("cannot write {}: {e}", out.display()))
}

/// The `mariadb-dump` command for the database at `url`, never with its
/// password: `-p` prompts for it.
fn dump_command(url: &str) -> String {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned());
    let port = parsed.as_ref().and_then(url::Url::port).unwrap_or(3306);
    let user = parsed
        .as_ref()
        .map(|u| decode(u.username()))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".to_owned());
    let database = parsed
        .as_ref()
        .map(|u| decode(u.path().trim_start_matches('/')))
        .unwrap_or_default();
    format!(
        "mariadb-dump --single-transaction --routines --triggers --hex-blob \
         -h {} -P {port} -u {} -p {} > roster-backup.sql",
        shell_word(&host),
        shell_word(&user),
        shell_word(&database)
    )
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `s` as one shell word: bare when it is plainly safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dump_command_names_the_database_and_never_the_password() {
        let cmd =
            dump_command("mysql://scim:hunter2@db.example:3307/roster_prod?ssl-mode=required");
        assert_eq!(
            cmd,
            "mariadb-dump --single-transaction --routines --triggers --hex-blob \
             -h db.example -P 3307 -u scim -p roster_prod > roster-backup.sql"
        );
        let odd = dump_command("mysql://o%27neil:pw@localhost/my%20db");
        assert!(
            odd.contains("-u 'o'\\''neil'") && odd.contains("-P 3306"),
            "{odd}"
        );
        assert!(odd.contains("-p 'my db'"), "{odd}");
    }
}
