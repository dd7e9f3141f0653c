//! The few SQL forms that differ between SQLite and MySQL/MariaDB. Every
//! other part of query building is shared; these leaves are all that a new
//! backend would need.
//!
//! JSON is read from `doc_search`, whose values are already in comparison
//! form (see `scim::search_doc`), so every comparison here is a plain
//! binary one: SQLite compares text with BINARY, and MariaDB's JSON
//! functions return `utf8mb4_bin` strings.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{DbBackend, Value};
use uuid::Uuid;

/// A JSON path into the search document, e.g. `$."name"."familyName"`.
///
/// MariaDB's `JSON_TABLE` takes its path only as a literal, so paths are
/// written into the SQL text. They are built only from registered schema
/// names, and [`JsonPath::key`] refuses the characters that could end the
/// quoted key or the SQL literal around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    pub fn root() -> Self {
        Self {
            text: "$".to_owned(),
            steps: Vec::new(),
        }
    }

    /// `self."name"`, or `None` when `name` cannot be written safely.
    pub fn key(&self, name: &str) -> Option<Self> {
        let safe = !name.is_empty()
            && name
                .chars()
                .all(|c| !c.is_control() && !matches!(c, '"' | '\'' | '\\' | '?'));
        safe.then(|| self.with(format!(".\"{name}\""), Step::Key(name.to_owned())))
    }

    /// `self[i]`.
    pub fn index(&self, i: usize) -> Self {
        self.with(format!("[{i}]"), Step::Index(i))
    }

    /// What the database reads at this path, read in Rust from the same
    /// document (for the sort key a cursor carries).
    pub fn read<'v>(&self, doc: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.steps.iter().try_fold(doc, |v, step| match step {
            Step::Key(k) => v.get(k),
            Step::Index(i) => v.get(i),
        })
    }

    fn with(&self, text: String, step: Step) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        Self {
            text: format!("{}{text}", self.text),
            steps,
        }
    }

    fn literal(&self) -> String {
        format!("'{}'", self.text)
    }
}

/// The scalar at `path` in the JSON document `src`: text, a number or a
/// boolean (as 1/0 on both engines), or NULL when absent.
pub fn json_scalar(backend: DbBackend, src: Expr, path: &JsonPath, numeric: bool) -> Expr {
    match backend {
        DbBackend::MySql => {
            let value = Expr::cust_with_exprs(format!("JSON_VALUE(?, {})", path.literal()), [src]);
            if numeric {
                Expr::cust_with_exprs("CAST(? AS DOUBLE)", [value])
            } else {
                value
            }
        }
        _ => Expr::cust_with_exprs(format!("json_extract(?, {})", path.literal()), [src]),
    }
}

/// Anything at `path`, as JSON text or a scalar; NULL only when absent.
/// The search document holds no JSON nulls, so this is a presence test.
pub fn json_any_value(src: Expr, path: &JsonPath) -> Expr {
    Expr::cust_with_exprs(format!("json_extract(?, {})", path.literal()), [src])
}

/// `EXISTS` an element of the JSON array at `path` in `src` for which
/// `cond` holds; `cond` reads the element through [`element`].
pub fn any_element(backend: DbBackend, src: Expr, path: &JsonPath, cond: Expr) -> Expr {
    let sql = match backend {
        DbBackend::MySql => format!(
            "EXISTS (SELECT 1 FROM JSON_TABLE(?, '{}[*]' COLUMNS (v JSON PATH '$')) AS je WHERE ?)",
            path.text
        ),
        _ => format!(
            "EXISTS (SELECT 1 FROM json_each(?, {}) AS je WHERE ?)",
            path.literal()
        ),
    };
    Expr::cust_with_exprs(sql, [src, cond])
}

/// Inside [`any_element`]: the element itself (`sub` = `None`) or the
/// scalar at `sub` within it.
pub fn element(backend: DbBackend, sub: Option<&JsonPath>, numeric: bool) -> Expr {
    match (backend, sub) {
        (DbBackend::MySql, sub) => {
            let root = JsonPath::root();
            json_scalar(backend, Expr::cust("je.v"), sub.unwrap_or(&root), numeric)
        }
        // json_each already unwraps a scalar element into `value`.
        (_, None) => Expr::cust("je.value"),
        (_, Some(path)) => json_scalar(backend, Expr::cust("je.value"), path, numeric),
    }
}

/// The rows after position `(key, id)` in `(k, id)` order (before it when
/// `desc`): the seek of keyset paging.
pub fn seek(backend: DbBackend, k: Expr, id: Expr, key: Value, at: Uuid, desc: bool) -> Expr {
    match backend {
        // MariaDB's range optimizer turns this OR into one range of the
        // (tenant, k, id) index; it does not do that for row comparisons.
        DbBackend::MySql => {
            let (past_key, past_id) = if desc {
                (k.clone().lt(key.clone()), id.lt(at))
            } else {
                (k.clone().gt(key.clone()), id.gt(at))
            };
            past_key.or(k.eq(key).and(past_id))
        }
        // SQLite plans a row-value comparison as an index range, while it
        // would split the OR into two lookups and lose the index order.
        _ => {
            let row = Expr::tuple([k, id]);
            let position = Expr::tuple([Expr::val(key), Expr::val(at)]);
            if desc {
                row.lt(position)
            } else {
                row.gt(position)
            }
        }
    }
}

/// Where a substring must occur for `co` (anywhere) and `ew` (at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Anywhere,
    End,
}

/// A case-sensitive substring test. SQLite's `LIKE` ignores ASCII case,
/// so it gets `GLOB`; MariaDB's `LIKE` follows the binary collation of the
/// columns and JSON values it is used on.
pub fn contains(backend: DbBackend, e: Expr, needle: &str, anchor: Anchor) -> Expr {
    match backend {
        DbBackend::MySql => {
            let escaped = needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = match anchor {
                Anchor::Anywhere => format!("%{escaped}%"),
                Anchor::End => format!("%{escaped}"),
            };
            e.like(LikeExpr::new(pattern).escape('\\'))
        }
        _ => {
            // In GLOB a bracket expression matches its one character literally.
            let escaped: String = needle
                .chars()
                .map(|c| match c {
                    '*' | '?' | '[' => format!("[{c}]"),
                    c => c.to_string(),
                })
                .collect();
            let pattern = match anchor {
                Anchor::Anywhere => format!("*{escaped}*"),
                Anchor::End => format!("*{escaped}"),
            };
            Expr::cust_with_exprs("? GLOB ?", [e, Expr::val(pattern)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{MysqlQueryBuilder, Query, SqliteQueryBuilder};

    fn sql(backend: DbBackend, e: Expr) -> String {
        let q = Query::select().expr(e).to_owned();
        match backend {
            DbBackend::MySql => q.to_string(MysqlQueryBuilder),
            _ => q.to_string(SqliteQueryBuilder),
        }
    }

    #[test]
    fn paths_quote_every_key_and_refuse_unsafe_names() {
        let p = JsonPath::root()
            .key("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .and_then(|p| p.key("$ref"));
        assert_eq!(
            p.map(|p| p.text).as_deref(),
            Some(r#"$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"."$ref""#)
        );
        for bad in ["a\"b", "a'b", "a\\b", "a?b", ""] {
            assert!(JsonPath::root().key(bad).is_none(), "{bad:?}");
        }
        let first = JsonPath::root().key("emails").map(|p| p.index(0));
        let first = first.and_then(|p| p.key("value"));
        assert_eq!(
            first.as_ref().map(|p| p.text.as_str()),
            Some(r#"$."emails"[0]."value""#)
        );
        let doc = serde_json::json!({"emails": [{"value": "a"}, {"value": "b"}]});
        assert_eq!(first.and_then(|p| p.read(&doc).cloned()), Some("a".into()));
    }

    #[test]
    fn each_backend_gets_its_json_functions() {
        let doc = || Expr::cust("doc_search");
        let p = JsonPath::root().key("title").unwrap_or_else(JsonPath::root);
        assert_eq!(
            sql(
                DbBackend::Sqlite,
                json_scalar(DbBackend::Sqlite, doc(), &p, false)
            ),
            r#"SELECT json_extract(doc_search, '$."title"')"#
        );
        assert_eq!(
            sql(
                DbBackend::MySql,
                json_scalar(DbBackend::MySql, doc(), &p, true)
            ),
            r#"SELECT CAST(JSON_VALUE(doc_search, '$."title"') AS DOUBLE)"#
        );
        let cond = element(DbBackend::MySql, None, false).eq("x");
        assert_eq!(
            sql(
                DbBackend::MySql,
                any_element(DbBackend::MySql, doc(), &p, cond)
            ),
            "SELECT EXISTS (SELECT 1 FROM JSON_TABLE(doc_search, '$.\"title\"[*]' \
             COLUMNS (v JSON PATH '$')) AS je WHERE (JSON_VALUE(je.v, '$')) = 'x')"
        );
    }

    #[test]
    fn substring_patterns_escape_wildcards() {
        let e = || Expr::cust("c");
        assert_eq!(
            sql(
                DbBackend::Sqlite,
                contains(DbBackend::Sqlite, e(), "a*b?[c", Anchor::Anywhere)
            ),
            "SELECT c GLOB '*a[*]b[?][[]c*'"
        );
        assert_eq!(
            sql(
                DbBackend::MySql,
                contains(DbBackend::MySql, e(), "50%_x", Anchor::End)
            ),
            r"SELECT (c) LIKE '%50\\%\\_x' ESCAPE '\\'"
        );
    }
}
