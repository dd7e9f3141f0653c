//! Insert statements written out once, for rows inserted on every write:
//! made through the query builder, their SQL cost as much as the insert.

use sea_orm::DbBackend;

/// `INSERT INTO table (columns) VALUES (?, …), …` for `rows` rows.
pub fn insert_sql(backend: DbBackend, table: &str, columns: &[&str], rows: usize) -> String {
    let quote = match backend {
        DbBackend::MySql => '`',
        _ => '"',
    };
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("{quote}{c}{quote}"))
        .collect();
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {quote}{table}{quote} ({}) VALUES {}",
        names.join(", "),
        vec![one; rows].join(", ")
    )
}
