//! Which MySQL-family server Roster talks to, read once at start-up from
//! `SELECT VERSION()`, and whether it is new enough: Roster's statements
//! keep to what MariaDB 10.4+, MySQL 8.0+ and TiDB accept (see the
//! statement test in `tests/api/mysql_subset.rs`).

use std::fmt;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// The engines Roster tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    MariaDb,
    MySql,
    TiDb,
}

/// A server's flavour and version, as `VERSION()` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    pub flavour: Flavour,
    /// major, minor, patch; for TiDB its own release (`v7.5.0`), not the
    /// MySQL version it imitates.
    pub version: (u32, u32, u32),
    /// What the server said.
    pub reported: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    #[error("MySQL-family server {0} is too old: Roster needs MariaDB 10.4+, MySQL 8.0+ or TiDB")]
    TooOld(String),
    #[error("cannot read the MySQL-family server's version: {0}")]
    Unreadable(String),
}

impl ServerVersion {
    /// Reads `10.11.6-MariaDB-0+deb12u1`, `5.5.5-10.4.32-MariaDB` (the
    /// prefix old clients needed), `8.0.36`, `8.0.36-28` (Percona) and
    /// `8.0.11-TiDB-v7.5.0`.
    pub fn parse(reported: &str) -> Option<Self> {
        let text = reported.trim();
        let (flavour, version) = if let Some((_, tidb)) = text.split_once("-TiDB-") {
            (Flavour::TiDb, numbers(tidb.trim_start_matches(['v', 'V']))?)
        } else if text.to_ascii_lowercase().contains("mariadb") {
            let text = text.strip_prefix("5.5.5-").unwrap_or(text);
            (Flavour::MariaDb, numbers(text)?)
        } else {
            (Flavour::MySql, numbers(text)?)
        };
        Some(Self {
            flavour,
            version,
            reported: text.to_owned(),
        })
    }

    /// Whether Roster's statements run on this server.
    pub fn supported(&self) -> bool {
        match self.flavour {
            Flavour::MariaDb => self.version >= (10, 4, 0),
            Flavour::MySql => self.version >= (8, 0, 0),
            Flavour::TiDb => true,
        }
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.flavour {
            Flavour::MariaDb => "MariaDB",
            Flavour::MySql => "MySQL",
            Flavour::TiDb => "TiDB",
        };
        let (major, minor, patch) = self.version;
        write!(f, "{name} {major}.{minor}.{patch} ({})", self.reported)
    }
}

/// The leading `major.minor[.patch]` of `text`.
fn numbers(text: &str) -> Option<(u32, u32, u32)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let mut parts = text[..end].split('.').filter(|p| !p.is_empty());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    Some((major, minor, patch))
}

/// Reads the server's version, logs it once and refuses a server too old
/// for Roster's statements. Nothing to check on SQLite.
pub async fn check(db: &DatabaseConnection) -> Result<Option<ServerVersion>, CheckError> {
    let Some(reported) = reported_version(db).await? else {
        return Ok(None);
    };
    let server =
        ServerVersion::parse(&reported).ok_or_else(|| Unsupported::Unreadable(reported.clone()))?;
    if !server.supported() {
        return Err(Unsupported::TooOld(server.reported).into());
    }
    log::info!("database server: {server}");
    Ok(Some(server))
}

/// The server's flavour, without logging or judging its version; `None`
/// on SQLite or for a version it cannot read.
pub async fn flavour(db: &DatabaseConnection) -> Result<Option<Flavour>, DbErr> {
    let reported = reported_version(db).await?;
    Ok(reported
        .as_deref()
        .and_then(ServerVersion::parse)
        .map(|v| v.flavour))
}

async fn reported_version(db: &DatabaseConnection) -> Result<Option<String>, DbErr> {
    if db.get_database_backend() != DbBackend::MySql {
        return Ok(None);
    }
    let stmt = Statement::from_string(DbBackend::MySql, "SELECT VERSION() AS v");
    let row = db.query_one_raw(stmt).await?;
    match row {
        Some(row) => row.try_get("", "v").map(Some),
        None => Ok(Some(String::new())),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Unsupported(#[from] Unsupported),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (Flavour, (u32, u32, u32), bool) {
        let v = ServerVersion::parse(text).unwrap_or_else(|| panic!("{text} parses"));
        (v.flavour, v.version, v.supported())
    }

    #[test]
    fn flavours_and_versions_are_read_from_what_servers_report() {
        use Flavour::*;
        assert_eq!(
            parsed("10.11.6-MariaDB-0+deb12u1"),
            (MariaDb, (10, 11, 6), true)
        );
        assert_eq!(parsed("10.4.32-MariaDB"), (MariaDb, (10, 4, 32), true));
        assert_eq!(
            parsed("5.5.5-10.4.32-MariaDB"),
            (MariaDb, (10, 4, 32), true)
        );
        assert_eq!(parsed("10.3.39-MariaDB-log"), (MariaDb, (10, 3, 39), false));
        assert_eq!(parsed("8.0.36"), (MySql, (8, 0, 36), true));
        assert_eq!(parsed("8.4.3-0ubuntu0.24.04.1"), (MySql, (8, 4, 3), true));
        assert_eq!(parsed("8.0.36-28"), (MySql, (8, 0, 36), true));
        assert_eq!(parsed("5.7.44"), (MySql, (5, 7, 44), false));
        assert_eq!(parsed("5.7.44-log"), (MySql, (5, 7, 44), false));
        assert_eq!(parsed("8.0.11-TiDB-v7.5.0"), (TiDb, (7, 5, 0), true));
        assert_eq!(parsed("5.7.25-TiDB-v6.1.0"), (TiDb, (6, 1, 0), true));
        assert_eq!(parsed("11.4"), (MySql, (11, 4, 0), true));
        for bad in ["", "MariaDB", "x.y.z", "8"] {
            assert!(ServerVersion::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_refused_server_is_named_in_one_line() {
        let e = Unsupported::TooOld("5.7.44".to_owned());
        assert_eq!(
            e.to_string(),
            "MySQL-family server 5.7.44 is too old: Roster needs MariaDB 10.4+, MySQL 8.0+ or TiDB"
        );
    }
}
