//! SQLite files hold the password hashes and the authorization server's
//! signing keys: only the account Roster runs as may read them. SQLite
//! gives its `-wal` and `-shm` files the database file's own mode, so a
//! database created here 0600 keeps all three private whatever the umask.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::config::DatabaseUrl;

/// Owner read and write only.
pub const PRIVATE: u32 = 0o600;

static WARNED: Once = Once::new();

/// Creates the SQLite file of `url` with mode 0600 when it does not exist
/// yet (SQLite then opens the empty file as a new database), and warns once
/// per process when an existing one, or its `-wal`/`-shm`, is readable by
/// others. Nothing for other databases or in-memory SQLite.
pub fn prepare_sqlite_file(url: &DatabaseUrl) -> std::io::Result<()> {
    match super::exec::sqlite_file(url) {
        Some(path) => prepare_file(&path),
        None => Ok(()),
    }
}

/// `prepare_sqlite_file` for the SQLite file at `path`.
pub fn prepare_file(path: &Path) -> std::io::Result<()> {
    match create_private(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let loose: Vec<(PathBuf, u32)> = companions(path)
        .into_iter()
        .filter_map(|p| {
            let mode = std::fs::metadata(&p).ok()?.permissions().mode() & 0o777;
            (mode & 0o077 != 0).then_some((p, mode))
        })
        .collect();
    if !loose.is_empty() {
        WARNED.call_once(|| {
            for (p, mode) in &loose {
                log::warn!(
                    "database file {} has mode {mode:04o}: other users can read it; \
                     run 'chmod 600 {}'",
                    p.display(),
                    p.display()
                );
            }
        });
    }
    Ok(())
}

/// A new empty file that only its owner may read and write; fails with
/// `AlreadyExists` when there is one.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE)
        .open(path)?;
    // The umask may have taken bits away, never added them; set exactly.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE))
}

/// The database file and the files SQLite keeps beside it.
fn companions(path: &Path) -> Vec<PathBuf> {
    let mut all = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        all.push(PathBuf::from(name));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let url = DatabaseUrl::new(format!("sqlite://{}?mode=rwc", path.display()));
        prepare_sqlite_file(&url).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, PRIVATE);
        // An existing one is left as it is.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare_sqlite_file(&url).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
}
