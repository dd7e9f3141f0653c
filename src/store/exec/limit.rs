//! A SQLite statement's trailing `LIMIT ?` (and `OFFSET ?`) written out.
//!
//! SQLite plans around a bound LIMIT's value: binding it marks the
//! prepared statement expired, so a cached statement is compiled again on
//! every execution (a page of ten users took twice as long, a group's
//! member list a quarter longer). With the numbers in the text the cached
//! statement is reused: one per page size and offset, and lookups and
//! member lists always read the first page. Every path that runs reads on
//! SQLite (on the request's thread, the pool, the write lane) writes them
//! out here.

use sea_orm::{DbBackend, Statement, Value};

/// `stmt` with a trailing `LIMIT ?` or `LIMIT ? OFFSET ?` written out as
/// numbers, on SQLite; any other statement as it is.
pub fn written_out(mut stmt: Statement) -> Statement {
    if stmt.db_backend != DbBackend::Sqlite {
        return stmt;
    }
    let sql = stmt.sql.trim_end();
    let (head, bound) = if let Some(head) = sql.strip_suffix(" LIMIT ? OFFSET ?") {
        (head, 2)
    } else if let Some(head) = sql.strip_suffix(" LIMIT ?") {
        (head, 1)
    } else {
        return stmt;
    };
    let Some(values) = stmt.values.as_mut() else {
        return stmt;
    };
    let Some(at) = values.0.len().checked_sub(bound) else {
        return stmt;
    };
    let numbers: Option<Vec<i128>> = values.0[at..].iter().map(integer).collect();
    let written = match numbers.as_deref() {
        Some([limit]) => format!("{head} LIMIT {limit}"),
        Some([limit, offset]) => format!("{head} LIMIT {limit} OFFSET {offset}"),
        _ => return stmt,
    };
    values.0.truncate(at);
    stmt.sql = written;
    stmt
}

/// An integer value's number; `None` for anything else (NULL included).
fn integer(value: &Value) -> Option<i128> {
    Some(match value {
        Value::TinyInt(Some(n)) => i128::from(*n),
        Value::SmallInt(Some(n)) => i128::from(*n),
        Value::Int(Some(n)) => i128::from(*n),
        Value::BigInt(Some(n)) => i128::from(*n),
        Value::TinyUnsigned(Some(n)) => i128::from(*n),
        Value::SmallUnsigned(Some(n)) => i128::from(*n),
        Value::Unsigned(Some(n)) => i128::from(*n),
        Value::BigUnsigned(Some(n)) => i128::from(*n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, StatementStatus};
    use sea_orm::{Values, sea_query::Query};

    use super::*;

    fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(backend, sql, values)
    }

    #[test]
    fn a_trailing_limit_and_offset_are_written_out() {
        let s = written_out(stmt(
            DbBackend::Sqlite,
            "SELECT x FROM t WHERE y = ? LIMIT ? OFFSET ? ",
            vec!["a".into(), 101u64.into(), 0u64.into()],
        ));
        assert_eq!(s.sql, "SELECT x FROM t WHERE y = ? LIMIT 101 OFFSET 0");
        assert_eq!(s.values, Some(Values(vec!["a".into()])));

        let s = written_out(stmt(
            DbBackend::Sqlite,
            "SELECT x FROM t WHERE y = ? LIMIT ?",
            vec![7i32.into(), 2i64.into()],
        ));
        assert_eq!(s.sql, "SELECT x FROM t WHERE y = ? LIMIT 2");
        assert_eq!(s.values, Some(Values(vec![7i32.into()])));
    }

    /// Only a SQLite statement ending in a bound integer LIMIT changes.
    #[test]
    fn anything_else_is_left_as_it_is() {
        let cases = [
            stmt(
                DbBackend::MySql,
                "SELECT x FROM t LIMIT ?",
                vec![2u64.into()],
            ),
            stmt(
                DbBackend::Sqlite,
                "SELECT x FROM t WHERE id = ?",
                vec![1i64.into()],
            ),
            stmt(
                DbBackend::Sqlite,
                "SELECT x FROM t LIMIT ?",
                vec!["2".into()],
            ),
            stmt(DbBackend::Sqlite, "SELECT x FROM t LIMIT ?", vec![]),
            stmt(
                DbBackend::Sqlite,
                "SELECT x FROM (SELECT x FROM t LIMIT ?) AS s WHERE x = ?",
                vec![2u64.into(), 1i64.into()],
            ),
        ];
        for case in cases {
            assert_eq!(written_out(case.clone()), case);
        }
    }

    /// What sea-query builds for a page ends as this module expects.
    #[test]
    fn the_query_builders_page_is_written_out() {
        let page = Query::select()
            .column("x")
            .from("t")
            .limit(10)
            .offset(20)
            .to_owned();
        let s = written_out(DbBackend::Sqlite.build(&page));
        assert!(s.sql.ends_with("LIMIT 10 OFFSET 20"), "{}", s.sql);
        assert_eq!(s.values, Some(Values(Vec::new())));
    }

    /// The reason for all this: a bound LIMIT has the cached statement
    /// compiled again at every execution, a written-out one does not.
    #[test]
    fn a_written_out_limit_keeps_the_statement_prepared() {
        let c = Connection::open_in_memory().expect("db");
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER); \
             CREATE INDEX t_n ON t (n); INSERT INTO t (n) VALUES (1), (2), (3);",
        )
        .expect("table");
        let reprepares = |sql: &str, bound: bool| {
            let mut s = c.prepare(sql).expect("prepare");
            for _ in 0..3 {
                let rows = if bound {
                    s.query_map([1, 2], |_| Ok(())).map(Iterator::count)
                } else {
                    s.query_map([1], |_| Ok(())).map(Iterator::count)
                };
                assert_eq!(rows.expect("rows"), 2);
            }
            s.get_status(StatementStatus::RePrepare)
        };
        let sql = "SELECT id FROM t WHERE n >= ? ORDER BY n LIMIT ?";
        let written = written_out(stmt(DbBackend::Sqlite, sql, vec![1i64.into(), 2u64.into()]));
        assert!(reprepares(sql, true) > 0);
        assert_eq!(reprepares(&written.sql, false), 0);
    }
}
