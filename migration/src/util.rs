use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Longest indexed string, in characters. utf8mb4 keeps a 255-character key
/// column plus a tenant UUID well under InnoDB's 3072-byte index limit.
/// Every migration's key columns use it; changing it would change what
/// earlier migrations create.
pub const KEY_LEN: u32 = 255;

/// Creates a table unless it exists, with MySQL-only table options: sea-query
/// prints engine/charset clauses for every backend, and SQLite rejects them.
pub async fn create_table(
    manager: &SchemaManager<'_>,
    mut table: TableCreateStatement,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::MySql {
        // A server started without a config file defaults to latin1.
        table
            .engine("InnoDB")
            .character_set("utf8mb4")
            .collate("utf8mb4_unicode_ci");
    }
    manager.create_table(table.if_not_exists().to_owned()).await
}

/// Creates index `name` on `table` unless it exists. The MySQL builder
/// drops `IF NOT EXISTS`, so existence is checked first.
pub async fn create_index(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    mut index: IndexCreateStatement,
) -> Result<(), DbErr> {
    if manager.has_index(table, name).await? {
        return Ok(());
    }
    index.name(name).table(Alias::new(table));
    manager.create_index(index).await
}

/// A string column that compares byte-for-byte. Case-folded keys and
/// `caseExact` attributes must not meet MariaDB's case- and
/// accent-insensitive default collations.
pub fn binary_string(manager: &SchemaManager<'_>, col: impl IntoIden, len: u32) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.string_len(len);
    if manager.get_database_backend() == DbBackend::MySql {
        def.extra("COLLATE utf8mb4_bin");
    }
    def
}

/// Adds a column unless it exists: MySQL/MariaDB have no
/// `ADD COLUMN IF NOT EXISTS` that every engine shares, and SQLite alters
/// one column per statement.
pub async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
    mut def: ColumnDef,
) -> Result<(), DbErr> {
    if manager.has_column(table, column).await? {
        return Ok(());
    }
    let alter = Table::alter()
        .table(Alias::new(table))
        .add_column(&mut def)
        .to_owned();
    manager.alter_table(alter).await
}

/// Drops index `name` on `table` if it exists.
pub async fn drop_index(manager: &SchemaManager<'_>, table: &str, name: &str) -> Result<(), DbErr> {
    if !manager.has_index(table, name).await? {
        return Ok(());
    }
    let drop = Index::drop().name(name).table(Alias::new(table)).to_owned();
    manager.drop_index(drop).await
}
