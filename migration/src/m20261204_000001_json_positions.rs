//! MySQL family only: `json_positions`, the numbers `0..n`.
//!
//! A filter on an element of a JSON array (`phoneNumbers[type eq "work"]`)
//! needs the array's elements as rows. SQLite has `json_each`; MariaDB has
//! `JSON_TABLE` only from 10.6 and TiDB not at all, so the MySQL-family
//! query joins the positions of the array from this table instead (see
//! `store::query::sql_dialect`). It starts with `JSON_POSITIONS` rows, as
//! many as stored arrays may already need, and a write whose document
//! holds a longer array adds more (`store::positions`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

use crate::util::create_table;

pub const JSON_POSITIONS_TABLE: &str = "json_positions";
/// The first rows: three decimal digits' worth, and the size of each block
/// of positions added later.
pub const JSON_POSITIONS: u32 = 1000;

/// Adds the positions of `blocks` blocks past the first, made from the
/// first block. `INSERT IGNORE`: positions already there stay.
pub fn extend_json_positions(blocks: u64) -> String {
    format!(
        "INSERT IGNORE INTO {JSON_POSITIONS_TABLE} (n) \
         SELECT low.n + {JSON_POSITIONS} * high.n \
         FROM {JSON_POSITIONS_TABLE} AS low CROSS JOIN {JSON_POSITIONS_TABLE} AS high \
         WHERE low.n < {JSON_POSITIONS} AND high.n BETWEEN 1 AND {blocks}"
    )
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        let table = Table::create()
            .table(Alias::new(JSON_POSITIONS_TABLE))
            .col(
                ColumnDef::new(Alias::new("n"))
                    .integer()
                    .not_null()
                    .primary_key(),
            )
            .to_owned();
        create_table(manager, table).await?;
        let db = manager.get_connection();
        let digit = "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                     UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 \
                     UNION ALL SELECT 8 UNION ALL SELECT 9)";
        // IGNORE: a run that stopped halfway leaves rows to keep.
        db.execute_unprepared(&format!(
            "INSERT IGNORE INTO {JSON_POSITIONS_TABLE} (n) SELECT a.d + 10 * b.d + 100 * c.d \
             FROM {digit} AS a CROSS JOIN {digit} AS b CROSS JOIN {digit} AS c"
        ))
        .await?;
        // Documents stored before this table existed: an array holds at
        // most one element per two characters of its document.
        let longest = "SELECT CAST(COALESCE(MAX(LENGTH(doc_search)), 0) DIV 2 AS SIGNED) AS n \
                       FROM users UNION ALL \
                       SELECT CAST(COALESCE(MAX(LENGTH(doc_search)), 0) DIV 2 AS SIGNED) FROM `groups`";
        let rows = db
            .query_all_raw(Statement::from_string(DbBackend::MySql, longest))
            .await?;
        let mut elements = 0u64;
        for row in rows {
            elements = Ord::max(elements, row.try_get::<i64>("", "n")?.unsigned_abs());
        }
        let blocks = elements.saturating_sub(1) / u64::from(JSON_POSITIONS);
        if blocks > 0 {
            db.execute_unprepared(&extend_json_positions(blocks))
                .await?;
        }
        Ok(())
    }
}
