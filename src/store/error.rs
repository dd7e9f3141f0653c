//! What a database error means for the client, decided once for every
//! path (the sqlx pools, the SQLite write lane and inline reads): "not
//! now" (the server is down, paused or restarting, a row or the file is
//! locked), "no space left", or a fault that retrying will not cure.
//!
//! Also the episodes that keep an outage to one log line: a paused
//! database fails every request, and a line per request would bury the
//! cause.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::mysql::MySqlDatabaseError;
use sea_orm::{DbErr, RuntimeErr};

use crate::config::DatabaseUrl;

/// How a database error reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database cannot be reached or does not answer in time.
    Unavailable,
    /// A lock or write conflict outlasted the retries.
    Busy,
    /// The disk or a table is full; reads still work.
    StorageFull,
    /// Anything else: a fault in Roster or in the data.
    Other,
}

/// How a statement that ran past the statement timeout reads.
pub(crate) const TIMED_OUT: &str = "the database did not answer within";

pub fn classify(e: &DbErr) -> Fault {
    match e {
        DbErr::ConnectionAcquire(_) => Fault::Unavailable,
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => sqlx_fault(s),
        DbErr::Conn(RuntimeErr::Internal(text)) if text.starts_with(TIMED_OUT) => {
            Fault::Unavailable
        }
        // The write lane and inline reads carry rusqlite's messages.
        DbErr::Custom(text) => sqlite_text_fault(text),
        _ => Fault::Other,
    }
}

fn sqlx_fault(e: &sea_orm::sqlx::Error) -> Fault {
    use sea_orm::sqlx::Error;
    match e {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::BeginFailed => Fault::Unavailable,
        Error::Database(db) => match db.try_downcast_ref::<MySqlDatabaseError>() {
            Some(mysql) => mysql_fault(mysql.number(), mysql.message()),
            None => sqlite_code_fault(db.code().as_deref(), db.message()),
        },
        _ => Fault::Other,
    }
}

/// MySQL/MariaDB error numbers (the server's `ER_*`).
fn mysql_fault(number: u16, message: &str) -> Fault {
    match number {
        // Deadlock, lock wait timeout, TiDB write conflict.
        1205 | 1213 | 9007 => Fault::Busy,
        // Too many connections, shutdown in progress, the query or the
        // connection killed, statement time limits (MariaDB, MySQL), a
        // Galera node not ready, read-only during a failover.
        1040 | 1053 | 1317 | 1927 | 1969 | 3024 | 1047 | 1290 | 1836 | 4031 => Fault::Unavailable,
        // Disk full, table full.
        1021 | 1114 => Fault::StorageFull,
        // "Error writing file" and "Got error from storage engine" carry
        // the OS error: 28 is ENOSPC.
        3 | 1030 if message.contains("28") || message.contains("No space left") => {
            Fault::StorageFull
        }
        _ => Fault::Other,
    }
}

/// SQLite's extended result codes, as sqlx reports them.
fn sqlite_code_fault(code: Option<&str>, message: &str) -> Fault {
    let primary = code.and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
    match primary {
        // SQLITE_BUSY, SQLITE_LOCKED.
        Some(5 | 6) => Fault::Busy,
        // SQLITE_FULL.
        Some(13) => Fault::StorageFull,
        _ => sqlite_text_fault(message),
    }
}

/// SQLite's messages for the same codes (`sqlite3_errstr`).
fn sqlite_text_fault(text: &str) -> Fault {
    if text.contains("database is locked") || text.contains("database table is locked") {
        Fault::Busy
    } else if text.contains("database or disk is full") {
        Fault::StorageFull
    } else {
        Fault::Other
    }
}

/// The error for a statement that ran past `limit`.
pub(crate) fn timed_out(limit: Duration) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(format!(
        "{TIMED_OUT} {} ms",
        limit.as_millis()
    )))
}

/// A short cause for a failed connection, for the one line start-up
/// ends with: the operating system's words where there are some
/// ("connection refused"), with the URL's password taken out of whatever
/// the driver quoted.
pub fn connect_cause(e: &DbErr, url: &DatabaseUrl) -> String {
    let cause = match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => match s.as_ref() {
            sea_orm::sqlx::Error::Io(io) => io_words(io),
            sea_orm::sqlx::Error::Database(db) => db.message().to_owned(),
            sea_orm::sqlx::Error::Configuration(e) => format!("invalid URL: {e}"),
            other => other.to_string(),
        },
        DbErr::Conn(RuntimeErr::Internal(text)) => text.clone(),
        DbErr::ConnectionAcquire(_) => "no connection within the connect timeout".to_owned(),
        other => other.to_string(),
    };
    scrub(&cause, url)
}

/// `Connection refused (os error 111)` → `connection refused`.
fn io_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    let words = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// `text` with the password of `url` (as written, and percent-decoded)
/// replaced by `***`. Found by text, not by parsing: a URL too malformed
/// to parse is the one a driver quotes back.
pub fn scrub(text: &str, url: &DatabaseUrl) -> String {
    let Some(password) = password_of(url.expose()).filter(|p| !p.is_empty()) else {
        return text.to_owned();
    };
    let mut scrubbed = text.replace(password, "***");
    if let Ok(decoded) = percent_decode(password)
        && !decoded.is_empty()
    {
        scrubbed = scrubbed.replace(&decoded, "***");
    }
    scrubbed
}

fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

fn percent_decode(text: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
}

/// One kind of trouble, seen by many requests: the first occurrence
/// opens an episode and is logged; later ones are not, until the episode
/// is closed (the database answers again) or none has been seen for
/// `QUIET`. A full disk is only ever ended by `QUIET`: writes that still
/// fit in the WAL succeed while its checkpoints fail, so a success does
/// not mean there is room again.
pub struct Episode {
    /// Milliseconds since `START` (plus one) of the latest occurrence; 0
    /// while no episode is open.
    last: AtomicU64,
}

const QUIET: Duration = Duration::from_secs(60);

static START: OnceLock<Instant> = OnceLock::new();

/// The database did not answer.
pub static UNAVAILABLE: Episode = Episode::new();
/// Writes refused for want of space.
pub static STORAGE_FULL: Episode = Episode::new();

impl Episode {
    const fn new() -> Self {
        Self {
            last: AtomicU64::new(0),
        }
    }

    /// Records an occurrence; true if it opens an episode.
    pub fn opens(&self) -> bool {
        let start = START.get_or_init(Instant::now);
        let now = u64::try_from(start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let before = self.last.swap(now, Ordering::Relaxed);
        before == 0 || now.saturating_sub(before) > QUIET.as_millis() as u64
    }

    /// Ends the episode; true if one was open. A load first, so that the
    /// usual case (none open) writes nothing shared.
    pub fn close(&self) -> bool {
        self.last.load(Ordering::Relaxed) != 0 && self.last.swap(0, Ordering::Relaxed) != 0
    }
}

/// Logs an error classified `Unavailable`: in full when it opens an
/// outage, at debug level for every request the same outage fails after.
pub fn log_unavailable(e: &DbErr) {
    if UNAVAILABLE.opens() {
        log::error!("the database is unavailable, answering 503 until it is back: {e}");
    } else {
        log::debug!("database unavailable: {e}");
    }
}

/// A failed write off the request path (a checkpoint, the request log),
/// which retries every few milliseconds: a full disk or an unreachable
/// database is logged once per episode, shared with the requests it fails;
/// anything else as a warning.
pub fn log_background_failure(what: &str, e: &DbErr) {
    match classify(e) {
        Fault::StorageFull if STORAGE_FULL.opens() => {
            log::error!("the database has no space left, {what}: {e}");
        }
        Fault::StorageFull => log::debug!("{what}: {e}"),
        Fault::Unavailable => log_unavailable(e),
        Fault::Busy | Fault::Other => log::warn!("{what}: {e}"),
    }
}

/// A statement on the pool, or a commit, succeeded: the database answers.
pub fn answered() {
    if UNAVAILABLE.close() {
        log::warn!("the database answers again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_numbers_are_classified() {
        assert_eq!(mysql_fault(1213, "Deadlock found"), Fault::Busy);
        assert_eq!(
            mysql_fault(1927, "Connection was killed"),
            Fault::Unavailable
        );
        assert_eq!(
            mysql_fault(1114, "The table 'users' is full"),
            Fault::StorageFull
        );
        assert_eq!(
            mysql_fault(
                3,
                "Error writing file './x' (Errcode: 28 \"No space left on device\")"
            ),
            Fault::StorageFull
        );
        assert_eq!(mysql_fault(1062, "Duplicate entry"), Fault::Other);
    }

    #[test]
    fn rusqlite_messages_are_classified() {
        let custom = |t: &str| classify(&DbErr::Custom(format!("sqlite: {t}")));
        assert_eq!(custom("database or disk is full"), Fault::StorageFull);
        assert_eq!(custom("database is locked"), Fault::Busy);
        assert_eq!(custom("no such table: x"), Fault::Other);
        assert_eq!(
            classify(&timed_out(Duration::from_millis(5))),
            Fault::Unavailable
        );
    }

    #[test]
    fn passwords_are_scrubbed_as_written_and_decoded() {
        let url = DatabaseUrl::new("mysql://u:p%40ss@host:notaport/db");
        let text = "invalid port in mysql://u:p%40ss@host:notaport/db (p@ss)";
        let scrubbed = scrub(text, &url);
        assert!(
            !scrubbed.contains("p%40ss") && !scrubbed.contains("p@ss"),
            "{scrubbed}"
        );
        assert_eq!(
            scrub("no url here", &DatabaseUrl::new("sqlite://x.db")),
            "no url here"
        );
    }

    #[test]
    fn an_episode_is_opened_once_until_it_closes() {
        let episode = Episode::new();
        assert!(episode.opens());
        assert!(!episode.opens());
        assert!(episode.close());
        assert!(!episode.close());
        assert!(episode.opens());
    }
}
