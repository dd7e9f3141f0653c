//! Insert statements written out once, for rows inserted on every write:
//! made through the query builder, their SQL cost as much as the insert.

use std::borrow::Cow;

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

/// Insert SQL for one to `N` rows of a table, written out once per
/// database: for statements made on every write.
pub struct InsertSql<const N: usize> {
    table: &'static str,
    columns: &'static [&'static str],
    sqlite: [String; N],
    mysql: [String; N],
}

impl<const N: usize> InsertSql<N> {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        let of = |backend| std::array::from_fn(|i| insert_sql(backend, table, columns, i + 1));
        Self {
            table,
            columns,
            sqlite: of(DbBackend::Sqlite),
            mysql: of(DbBackend::MySql),
        }
    }

    /// The SQL for `rows` rows (at least one); beyond `N`, written now.
    pub fn get(&self, backend: DbBackend, rows: usize) -> Cow<'_, str> {
        let written = match backend {
            DbBackend::MySql => &self.mysql,
            _ => &self.sqlite,
        };
        match rows.checked_sub(1).and_then(|i| written.get(i)) {
            Some(sql) => Cow::Borrowed(sql),
            None => Cow::Owned(insert_sql(backend, self.table, self.columns, rows)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_sql_is_the_sql_for_that_many_rows() {
        static COLUMNS: [&str; 2] = ["a", "b"];
        let sql = InsertSql::<2>::new("t", &COLUMNS);
        for backend in [DbBackend::Sqlite, DbBackend::MySql] {
            for rows in 1..=3 {
                let expected = insert_sql(backend, "t", &COLUMNS, rows);
                assert_eq!(sql.get(backend, rows), expected);
                assert_eq!(
                    matches!(sql.get(backend, rows), Cow::Borrowed(_)),
                    rows <= 2
                );
            }
        }
        assert_eq!(
            insert_sql(DbBackend::MySql, "t", &COLUMNS, 2),
            "INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?)"
        );
    }
}
