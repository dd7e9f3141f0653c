//! Where a read runs: any SeaORM connection or transaction, or SQLite on
//! the calling thread (`inline`). Store functions that serve hot reads
//! take a `Source`, so one query builder serves both.

use std::future::Future;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::deadline::bounded;
use super::inline::InlineReads;
use super::kept::KeptConnections;
use super::limit::written_out;
use super::row::Decode;

pub trait Source {
    fn backend(&self) -> DbBackend;

    /// Every row `stmt` returns.
    fn rows<T: Decode>(&self, stmt: Statement) -> impl Future<Output = Result<Vec<T>, DbErr>>;

    /// The first row `stmt` returns: for a select by a primary or unique
    /// key. Not `Select::one`, whose bound `LIMIT ?` SQLite plans around,
    /// recompiling the cached statement at every execution (as `by_key`).
    fn first<T: Decode>(&self, stmt: Statement) -> impl Future<Output = Result<Option<T>, DbErr>> {
        async move { Ok(self.rows(stmt).await?.into_iter().next()) }
    }
}

impl<C: ConnectionTrait> Source for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn rows<T: Decode>(&self, stmt: Statement) -> Result<Vec<T>, DbErr> {
        let stmt = written_out(stmt);
        let rows = bounded(self.get_database_backend(), self.query_all_raw(stmt)).await?;
        rows.iter().map(|row| T::decode(row)).collect()
    }
}

/// Reads outside a transaction: on the calling thread where the database
/// allows it and the statement is cheap, on the pool otherwise.
#[derive(Clone, Copy)]
pub struct Reads<'a> {
    pub pool: &'a DatabaseConnection,
    pub inline: Option<&'a InlineReads>,
    pub kept: Option<&'a KeptConnections>,
    /// Inline reads stop at their budget (a request's thread); off, they
    /// run to their end (a thread that serves no requests).
    pub budgeted: bool,
}

impl Source for Reads<'_> {
    fn backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn rows<T: Decode>(&self, stmt: Statement) -> Result<Vec<T>, DbErr> {
        let stmt = written_out(stmt);
        // What the inline path leaves alone (past its budget, a bound type
        // it does not handle) the pool reads. What fails inline is an
        // error in every build: the pool reads the same database, and a
        // row the inline path decodes wrongly must not hide behind it.
        let inline = self.inline.map(|inline| {
            if self.budgeted {
                inline.all(&stmt, |row| T::decode(row))
            } else {
                inline.all_unbudgeted(&stmt, |row| T::decode(row))
            }
        });
        match inline {
            Some(Ok(Some(rows))) => return Ok(rows),
            Some(Ok(None)) => log::debug!("read on the pool, not inline: {}", stmt.sql),
            Some(Err(e)) => return Err(e),
            None => {}
        }
        if let Some(kept) = self.kept
            && let Some(rows) = bounded(self.backend(), kept.all(&stmt)).await?
        {
            crate::store::error::answered();
            return Ok(rows);
        }
        let rows = self.pool.rows(stmt).await?;
        crate::store::error::answered();
        Ok(rows)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Duration;

    use sea_orm::{DbBackend, JsonValue as Json, Statement, Value};
    use uuid::Uuid;

    use super::*;
    use crate::config::DatabaseUrl;
    use crate::store::exec::row::Row;

    #[derive(Debug, PartialEq)]
    struct Counted {
        c: i64,
    }

    impl Decode for Counted {
        fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
            Ok(Self { c: row.i64("c")? })
        }
    }

    /// A fresh SQLite file, its URL and a pool on it.
    async fn sqlite_file() -> (tempfile::TempDir, DatabaseUrl, sea_orm::DatabaseConnection) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::new(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("t.db").display()
        ));
        let pool = crate::store::connect(&url, 2, Duration::from_secs(5))
            .await
            .expect("pool");
        (dir, url, pool)
    }

    /// Counts from 1 to `n` in SQLite's VM: a statement whose work grows
    /// with `n` and touches no table.
    pub(in crate::store::exec) fn counting_to(n: u32) -> Statement {
        Statement::from_string(
            DbBackend::Sqlite,
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
                 SELECT count(*) AS c FROM n"
            ),
        )
    }

    #[actix_web::test]
    async fn what_the_inline_budget_stops_is_read_on_the_pool() {
        let (_dir, url, pool) = sqlite_file().await;
        let inline = InlineReads::for_url(&url).expect("a SQLite file");
        let inline_alone = inline.all(&counting_to(1_000_000), |row| Counted::decode(row));
        assert_eq!(inline_alone.expect("no error"), None);

        let reads = Reads {
            pool: &pool,
            inline: Some(&inline),
            kept: None,
            budgeted: true,
        };
        for n in [100, 1_000_000] {
            let counted: Vec<Counted> = reads.rows(counting_to(n)).await.expect("read");
            assert_eq!(counted, vec![Counted { c: i64::from(n) }]);
        }

        // A bound type the inline path leaves alone goes to the pool too.
        let tiny = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT ? AS c",
            [sea_orm::Value::TinyInt(Some(7))],
        );
        assert_eq!(
            inline
                .all(&tiny, |row| Counted::decode(row))
                .expect("no error"),
            None
        );
        let counted: Vec<Counted> = reads.rows(tiny).await.expect("read");
        assert_eq!(counted, vec![Counted { c: 7 }]);
    }

    /// A statement that fails inline (this one writes, and the inline
    /// connection is read-only) is an error, in release builds as in
    /// debug ones: the pool, where it would run, is not asked.
    #[actix_web::test]
    async fn what_fails_inline_is_an_error_and_not_run_on_the_pool() {
        let (_dir, url, pool) = sqlite_file().await;
        let create = Statement::from_string(DbBackend::Sqlite, "CREATE TABLE t (c INTEGER)");
        pool.execute_raw(create).await.expect("table");
        let inline = InlineReads::for_url(&url).expect("a SQLite file");
        let reads = Reads {
            pool: &pool,
            inline: Some(&inline),
            kept: None,
            budgeted: true,
        };

        let insert = "INSERT INTO t (c) VALUES (7) RETURNING c";
        let inserted: Result<Vec<Counted>, DbErr> = reads
            .rows(Statement::from_string(DbBackend::Sqlite, insert))
            .await;
        assert!(inserted.is_err(), "{inserted:?}");

        let count = Statement::from_string(DbBackend::Sqlite, "SELECT count(*) AS c FROM t");
        let counted: Vec<Counted> = pool.rows(count).await.expect("count");
        assert_eq!(counted, vec![Counted { c: 0 }]);
    }

    /// Every kind of column, as one decoding function reads it.
    #[derive(Debug, PartialEq)]
    struct Every {
        id: Uuid,
        none_id: Option<Uuid>,
        n: i64,
        b: bool,
        s: String,
        none_s: Option<String>,
        j: Json,
        none_j: Option<Json>,
        text: String,
    }

    impl Decode for Every {
        fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
            Ok(Self {
                id: row.uuid("id")?,
                none_id: row.uuid_opt("none_id")?,
                n: row.i64("n")?,
                b: row.bool("b")?,
                s: row.string("s")?,
                none_s: row.string_opt("none_s")?,
                j: row.json("j")?,
                none_j: row.json_opt("none_j")?,
                text: row.json_text("j")?,
            })
        }
    }

    #[actix_web::test]
    async fn a_row_written_by_sqlx_decodes_the_same_from_the_pool_and_inline() {
        let (_dir, url, pool) = sqlite_file().await;
        let sql = |sql: &str, values: Vec<Value>| {
            Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
        };
        let create = "CREATE TABLE t (id BLOB, none_id BLOB, n INTEGER, b BOOLEAN, s TEXT, \
                      none_s TEXT, j JSON, none_j JSON)";
        pool.execute_raw(sql(create, Vec::new()))
            .await
            .expect("table");
        let id = Uuid::new_v4();
        let doc = serde_json::json!({"a": [1, "b"]});
        let insert = "INSERT INTO t VALUES (?, NULL, ?, ?, ?, NULL, ?, NULL)";
        let values = vec![
            id.into(),
            7i64.into(),
            true.into(),
            "s".into(),
            doc.clone().into(),
        ];
        pool.execute_raw(sql(insert, values)).await.expect("row");

        let select = sql("SELECT * FROM t", Vec::new());
        let from_pool: Vec<Every> = pool.rows(select.clone()).await.expect("pool read");
        let inline = InlineReads::for_url(&url).expect("a SQLite file");
        let from_inline = inline.all(&select, |row| Every::decode(row));
        let expected = Every {
            id,
            none_id: None,
            n: 7,
            b: true,
            s: "s".to_owned(),
            none_s: None,
            j: doc.clone(),
            none_j: None,
            text: doc.to_string(),
        };
        assert_eq!(from_pool, [expected]);
        assert_eq!(from_inline.expect("no error"), Some(from_pool));
    }
}
