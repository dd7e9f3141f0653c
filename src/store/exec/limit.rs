//! A SQLite statement's trailing `LIMIT ?` (and `OFFSET ?`) written out.
//!
//! SQLite plans around a bound LIMIT's value: binding it marks the
//! prepared statement expired, so a cached statement is compiled again on
//! every execution (a page of two users took twice as long, a group's
//! member list a third longer). With the number in the text the cached
//! statement is reused, one per page size. A bound OFFSET does not expire
//! it, and stays bound: an import paging by `startIndex` reuses one
//! statement for every page. Every path that runs reads on SQLite (on the
//! request's thread, the pool, the write lane) writes the LIMIT out here.

use sea_orm::{DbBackend, Statement, Value};

/// `stmt` with the value of a trailing `LIMIT ?` (or `LIMIT ? OFFSET ?`)
/// written out as a number, on SQLite; any other statement as it is.
pub fn written_out(mut stmt: Statement) -> Statement {
    if stmt.db_backend != DbBackend::Sqlite {
        return stmt;
    }
    let sql = stmt.sql.trim_end();
    // The LIMIT's value, counted from the last value.
    let (head, tail, from_end) = if let Some(head) = sql.strip_suffix(" LIMIT ? OFFSET ?") {
        (head, " OFFSET ?", 2)
    } else if let Some(head) = sql.strip_suffix(" LIMIT ?") {
        (head, "", 1)
    } else {
        return stmt;
    };
    let Some(values) = stmt.values.as_mut() else {
        return stmt;
    };
    let Some(at) = values.0.len().checked_sub(from_end) else {
        return stmt;
    };
    let Some(limit) = integer(&values.0[at]) else {
        return stmt;
    };
    let written = format!("{head} LIMIT {limit}{tail}");
    values.0.remove(at);
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
    fn a_trailing_limit_is_written_out_and_an_offset_stays_bound() {
        let s = written_out(stmt(
            DbBackend::Sqlite,
            "SELECT x FROM t WHERE y = ? LIMIT ? OFFSET ? ",
            vec!["a".into(), 101u64.into(), 40u64.into()],
        ));
        assert_eq!(s.sql, "SELECT x FROM t WHERE y = ? LIMIT 101 OFFSET ?");
        assert_eq!(s.values, Some(Values(vec!["a".into(), 40u64.into()])));

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
        assert!(s.sql.ends_with("LIMIT 10 OFFSET ?"), "{}", s.sql);
        assert_eq!(s.values, Some(Values(vec![20u64.into()])));
    }

    /// The reason for all this: a bound LIMIT has the cached statement
    /// compiled again at every execution; a written-out one, with its
    /// OFFSET bound to a different value each time, does not.
    #[test]
    fn a_written_out_limit_keeps_the_statement_prepared() {
        let c = Connection::open_in_memory().expect("db");
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER); \
             CREATE INDEX t_n ON t (n); INSERT INTO t (n) VALUES (1), (2), (3);",
        )
        .expect("table");
        // Each execution binds a different OFFSET; the bound statement binds
        // its LIMIT too.
        let reprepares = |sql: &str, limit_bound: bool| {
            let mut s = c.prepare(sql).expect("prepare");
            for offset in [0, 1, 0] {
                let rows = if limit_bound {
                    s.query_map([1, 2, offset], |_| Ok(())).map(Iterator::count)
                } else {
                    s.query_map([1, offset], |_| Ok(())).map(Iterator::count)
                };
                assert_eq!(rows.expect("rows"), 2);
            }
            s.get_status(StatementStatus::RePrepare)
        };
        let sql = "SELECT id FROM t WHERE n >= ? ORDER BY n LIMIT ? OFFSET ?";
        let values = vec![1i64.into(), 2u64.into(), 0u64.into()];
        let written = written_out(stmt(DbBackend::Sqlite, sql, values));
        assert!(written.sql.ends_with("LIMIT 2 OFFSET ?"));
        assert!(reprepares(sql, true) > 0);
        assert_eq!(reprepares(&written.sql, false), 0);
    }
}
