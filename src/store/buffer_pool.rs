//! Whether a MariaDB/MySQL server's InnoDB buffer pool holds Roster's
//! tables and indexes. A pool smaller than the data turns every lookup
//! into page reads (at 1,000,000 users an email lookup cost mysqld half
//! again as much CPU), and the servers' default of 128 MiB, XAMPP's too,
//! holds about 50,000 users: so start-up says how the two compare, and
//! warns when the data no longer fits.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::server::Flavour;

/// Reads the pool's size and the data's and logs how they compare.
/// Nothing to do on SQLite or TiDB (which has no InnoDB); a server that
/// will not say is passed over with a debug line, never an error.
pub async fn report(db: &DatabaseConnection, flavour: Flavour) {
    if flavour == Flavour::TiDb {
        return;
    }
    match sizes(db).await {
        Ok(Some((pool, data))) => match advice(pool, data) {
            Some(warning) => log::warn!("{warning}"),
            None => log::info!(
                "database: Roster's tables and indexes take {} of the server's {} InnoDB buffer pool",
                shown(data),
                shown(pool)
            ),
        },
        Ok(None) => {}
        Err(e) => log::debug!("cannot read the server's buffer pool size: {e}"),
    }
}

/// The buffer pool's size and the size of this database's tables and
/// indexes, in bytes (the server's own estimates).
async fn sizes(db: &DatabaseConnection) -> Result<Option<(u64, u64)>, DbErr> {
    const SQL: &str = "SELECT CAST(@@innodb_buffer_pool_size AS UNSIGNED) AS pool, \
        CAST(COALESCE((SELECT SUM(data_length + index_length) FROM information_schema.TABLES \
        WHERE table_schema = DATABASE()), 0) AS UNSIGNED) AS data";
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::MySql, SQL))
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.try_get("", "pool")?, row.try_get("", "data")?)))
}

/// A warning when `data` bytes do not fit a pool of `pool` bytes.
pub fn advice(pool: u64, data: u64) -> Option<String> {
    (data > pool).then(|| {
        format!(
            "database: Roster's tables and indexes take {}, more than the server's {} InnoDB \
             buffer pool: lookups will read pages from disk and cost the server more; raise \
             innodb_buffer_pool_size (README, \"Sizing the server's buffer pool\")",
            shown(data),
            shown(pool)
        )
    })
}

/// Bytes in MiB, or GiB from 1 GiB on.
fn shown(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB as f64)
    } else {
        format!("{} MiB", bytes.div_ceil(MIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_only_when_the_data_outgrows_the_pool() {
        let mib = 1 << 20;
        assert_eq!(advice(128 * mib, 25 * mib), None);
        assert_eq!(advice(128 * mib, 128 * mib), None);
        let warning = advice(128 * mib, 2_100 * mib).expect("a warning");
        assert!(
            warning.contains("2.1 GiB") && warning.contains("128 MiB"),
            "{warning}"
        );
        assert!(warning.contains("innodb_buffer_pool_size"), "{warning}");
    }

    #[test]
    fn sizes_are_shown_in_mib_or_gib() {
        assert_eq!(shown(0), "0 MiB");
        assert_eq!(shown(1), "1 MiB");
        assert_eq!(shown(128 << 20), "128 MiB");
        assert_eq!(shown(4 << 30), "4.0 GiB");
    }
}
