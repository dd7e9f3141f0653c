//! The few SQL forms that differ between SQLite and MySQL/MariaDB. Every
//! other part of query building is shared; these leaves are all that a new
//! backend would need.
//!
//! JSON is read from `doc_search`, whose values are already in comparison
//! form (see `scim::search_doc`), so every comparison here is a plain
//! binary one: SQLite compares text with BINARY, and MariaDB's JSON
//! functions return `utf8mb4_bin` strings.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, LikeExpr, Query};
use sea_orm::{DbBackend, Value};
use uuid::Uuid;

// The table of array positions that MySQL-family servers enumerate JSON
// arrays with: at least as long as the longest stored array
// (`store::positions`).
use migration::JSON_POSITIONS_TABLE as POSITIONS_TABLE;

/// A JSON path into the search document, e.g. `$."name"."familyName"`.
///
/// Paths are written into the SQL text, so that the JSON functions of
/// every engine see a constant path. They are built only from registered
/// schema names, and [`JsonPath::key`] refuses the characters that could
/// end the quoted key or the SQL literal around it.
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

/// How a JSON scalar is compared: as text, as a number, or as a boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Text,
    Number,
    Boolean,
}

/// The scalar at `path` in the JSON document `src`: text, a number or a
/// boolean (as 1/0 on both engines), or NULL when absent.
pub fn json_scalar(backend: DbBackend, src: Expr, path: &JsonPath, ty: JsonType) -> Expr {
    match backend {
        DbBackend::MySql => mysql_scalar(src, Expr::cust(path.literal()), ty),
        _ => Expr::cust_with_exprs(format!("json_extract(?, {})", path.literal()), [src]),
    }
}

/// `JSON_VALUE` would be shorter, but MySQL has it only from 8.0.21 and
/// TiDB not at all; `JSON_UNQUOTE(JSON_EXTRACT(…))` reads the same scalar
/// everywhere. A JSON boolean unquotes to `true`/`false` and a number to
/// its text, so both are converted to what SQLite's `json_extract` gives.
fn mysql_scalar(src: Expr, path: Expr, ty: JsonType) -> Expr {
    let text = Expr::cust_with_exprs("JSON_UNQUOTE(JSON_EXTRACT(?, ?))", [src, path]);
    match ty {
        JsonType::Text => text,
        JsonType::Number => Expr::cust_with_exprs("(? + 0e0)", [text]),
        JsonType::Boolean => Expr::cust_with_exprs("(? = 'true')", [text]),
    }
}

/// Anything at `path`, as JSON text or a scalar; NULL only when absent.
/// The search document holds no JSON nulls, so this is a presence test.
pub fn json_any_value(src: Expr, path: &JsonPath) -> Expr {
    Expr::cust_with_exprs(format!("json_extract(?, {})", path.literal()), [src])
}

/// `EXISTS` an element of the JSON array at `path` in the search document
/// of the current row of `table` for which `cond` holds; `cond` reads the
/// element through [`element`].
///
/// SQLite walks the array with `json_each`. `JSON_TABLE` is missing from
/// MariaDB before 10.6 and from TiDB, so on MySQL-family servers the
/// positions of the array are joined from [`POSITIONS_TABLE`], bounded by
/// its `JSON_LENGTH`. The bound reads the document of a copy of the row
/// joined by its key, not the outer row: a bound from a table earlier in
/// the same join is one the optimizer re-plans per row as an index range
/// ("range checked for each record"), so a row visits only as many
/// positions as its array has.
pub fn any_element(backend: DbBackend, table: &'static str, path: &JsonPath, cond: Expr) -> Expr {
    match backend {
        DbBackend::MySql => mysql_any_element(table, path, cond),
        _ => {
            let src = Expr::col((Alias::new(table), Alias::new("doc_search")));
            let sql = format!(
                "EXISTS (SELECT 1 FROM json_each(?, {}) AS je WHERE ?)",
                path.literal()
            );
            Expr::cust_with_exprs(sql, [src, cond])
        }
    }
}

/// The JSON array at `path` in the current row of `table` has an element
/// (`emails pr`), read off the row itself: through [`any_element`] MariaDB
/// may materialize the positions join for every row of the table first.
/// Absent (NULL) counts as empty, so that `not (emails pr)` matches rows
/// without the attribute.
pub fn array_not_empty(backend: DbBackend, table: &'static str, path: &JsonPath) -> Expr {
    let src = Expr::col((Alias::new(table), Alias::new("doc_search")));
    let length = match backend {
        DbBackend::MySql => format!("COALESCE(JSON_LENGTH(?, {}), 0)", path.literal()),
        _ => format!("COALESCE(json_array_length(?, {}), 0)", path.literal()),
    };
    Expr::cust_with_exprs(length, [src]).gt(0)
}

fn mysql_any_element(table: &'static str, path: &JsonPath, cond: Expr) -> Expr {
    let (row, position) = (Alias::new("je_row"), Alias::new("je"));
    let length = Expr::cust_with_exprs(
        format!("JSON_LENGTH(?, {})", path.literal()),
        [Expr::col((row.clone(), Alias::new("doc_search")))],
    );
    let key = |c: &str| {
        Expr::col((row.clone(), Alias::new(c))).eq(Expr::col((Alias::new(table), Alias::new(c))))
    };
    let rows = Query::select()
        .expr(Expr::val(1))
        .from_as(Alias::new(table), row.clone())
        .join_as(
            JoinType::InnerJoin,
            Alias::new(POSITIONS_TABLE),
            position.clone(),
            Expr::col((position, Alias::new("n"))).lt(length),
        )
        .and_where(key("tenant_id"))
        .and_where(key("id"))
        .and_where(cond)
        .to_owned();
    Expr::exists(rows)
}

/// Inside [`any_element`] over the array at `array`: the element itself
/// (`sub` = `None`) or the scalar at `sub` within it.
pub fn element(backend: DbBackend, array: &JsonPath, sub: Option<&JsonPath>, ty: JsonType) -> Expr {
    match (backend, sub) {
        (DbBackend::MySql, sub) => {
            // `sub` is relative: its text after the leading `$`.
            let rest = sub.map_or("", |p| &p.text[1..]);
            let path = Expr::cust(format!("CONCAT('{}[', je.n, ']{rest}')", array.text));
            mysql_scalar(Expr::cust("je_row.doc_search"), path, ty)
        }
        // json_each already unwraps a scalar element into `value`.
        (_, None) => Expr::cust("je.value"),
        (_, Some(path)) => json_scalar(backend, Expr::cust("je.value"), path, ty),
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
                json_scalar(DbBackend::Sqlite, doc(), &p, JsonType::Number)
            ),
            r#"SELECT json_extract(doc_search, '$."title"')"#
        );
        assert_eq!(
            sql(
                DbBackend::MySql,
                json_scalar(DbBackend::MySql, doc(), &p, JsonType::Number)
            ),
            r#"SELECT (JSON_UNQUOTE(JSON_EXTRACT(doc_search, '$."title"')) + 0e0)"#
        );
        assert_eq!(
            sql(
                DbBackend::MySql,
                json_scalar(DbBackend::MySql, doc(), &p, JsonType::Boolean)
            ),
            r#"SELECT (JSON_UNQUOTE(JSON_EXTRACT(doc_search, '$."title"')) = 'true')"#
        );
    }

    #[test]
    fn mysql_enumerates_array_elements_by_position() {
        let p = JsonPath::root().key("roles").unwrap_or_else(JsonPath::root);
        let value = JsonPath::root().key("value");
        let cond = element(DbBackend::MySql, &p, value.as_ref(), JsonType::Text).eq("x");
        assert_eq!(
            sql(
                DbBackend::MySql,
                any_element(DbBackend::MySql, "users", &p, cond)
            ),
            "SELECT EXISTS(SELECT 1 FROM `users` AS `je_row` \
             INNER JOIN `json_positions` AS `je` \
             ON `je`.`n` < (JSON_LENGTH(`je_row`.`doc_search`, '$.\"roles\"')) \
             WHERE `je_row`.`tenant_id` = `users`.`tenant_id` AND `je_row`.`id` = `users`.`id` \
             AND (JSON_UNQUOTE(JSON_EXTRACT(je_row.doc_search, \
             CONCAT('$.\"roles\"[', je.n, '].\"value\"')))) = 'x')"
        );
        let cond = element(DbBackend::Sqlite, &p, None, JsonType::Text).eq("x");
        assert_eq!(
            sql(
                DbBackend::Sqlite,
                any_element(DbBackend::Sqlite, "users", &p, cond)
            ),
            "SELECT EXISTS (SELECT 1 FROM json_each(\"users\".\"doc_search\", '$.\"roles\"') AS je \
             WHERE (je.value) = 'x')"
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
