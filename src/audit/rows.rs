//! The request log's inserts where the log is a table of the main
//! database (its own SQLite file binds each row in place, see
//! `store::request_log`). Rows go in statements of 1, 2, 4 … 64
//! rows, so that the log uses a handful of statement texts, each prepared
//! once per connection, where a statement per batch size would be parsed
//! anew for nearly every batch. The SQL and its values are made here,
//! straight from the rows: building them through the query builder cost
//! as much as the database's own insert.

use entity::audit_request::Model;
use sea_orm::{DbBackend, Statement, Value};

use super::ids::next_seq;
use crate::store::exec::insert_sql;

/// The most rows one statement inserts.
pub const MAX_ROWS: usize = 64;

/// The table's columns, in the order of the entity's fields (a test holds
/// the two together), which is the order `push_values` gives them in.
const COLUMNS: [&str; 18] = [
    "seq",
    "tenant_id",
    "at",
    "request_id",
    "client_addr",
    "principal",
    "method",
    "route",
    "path",
    "status",
    "latency_us",
    "scim_type",
    "resource_kind",
    "operation",
    "summary",
    "request_headers",
    "request_body",
    "response_body",
];

/// Statements that insert `rows`, in order. A key another server took
/// (two servers' keys can meet, rarely) fails its statement; `rekey`
/// gives the rows new ones.
pub fn inserts(backend: DbBackend, rows: Vec<Model>) -> Vec<Statement> {
    let mut left = rows.len();
    let mut rows = rows.into_iter();
    let mut statements = Vec::new();
    while left > 0 {
        let n = 1 << left.min(MAX_ROWS).ilog2();
        let mut values = Vec::with_capacity(n * COLUMNS.len());
        rows.by_ref()
            .take(n)
            .for_each(|row| push_values(row, &mut values));
        let stmt = Statement::from_sql_and_values(backend, sql(backend, n), values);
        statements.push(stmt);
        left -= n;
    }
    statements
}

fn sql(backend: DbBackend, rows: usize) -> String {
    insert_sql(backend, "audit_requests", &COLUMNS, rows)
}

/// Gives every row of `statements` (made by `inserts`) a new key; the
/// keys, in the rows' order.
pub fn rekey(statements: &mut [Statement]) -> Vec<i64> {
    let mut keys = Vec::new();
    for stmt in statements {
        let Some(values) = stmt.values.as_mut() else {
            continue;
        };
        for row in values.0.chunks_mut(COLUMNS.len()) {
            let key = next_seq();
            row[0] = Value::from(key);
            keys.push(key);
        }
    }
    keys
}

fn push_values(row: Model, values: &mut Vec<Value>) {
    let Model {
        seq,
        tenant_id,
        at,
        request_id,
        client_addr,
        principal,
        method,
        route,
        path,
        status,
        latency_us,
        scim_type,
        resource_kind,
        operation,
        summary,
        request_headers,
        request_body,
        response_body,
    } = row;
    values.extend([
        Value::from(seq),
        Value::from(tenant_id),
        Value::from(at),
        Value::from(request_id),
        Value::from(client_addr),
        Value::from(principal),
        Value::from(method),
        Value::from(route),
        Value::from(path),
        Value::from(status),
        Value::from(latency_us),
        Value::from(scim_type),
        Value::from(resource_kind),
        Value::from(operation),
        Value::from(summary),
        Value::from(request_headers),
        Value::from(request_body),
        Value::from(response_body),
    ]);
}

#[cfg(test)]
mod tests {
    use entity::audit_change;
    use entity::audit_request::Column;
    use sea_orm::{IdenStatic, Iterable};

    use super::*;

    #[test]
    fn columns_follow_the_entities() {
        let names = |columns: Vec<&str>| columns.into_iter().map(str::to_owned).collect::<Vec<_>>();
        let requests = Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(names(requests), COLUMNS);
        let changes = audit_change::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(names(changes), super::super::changes::COLUMNS);
    }

    #[test]
    fn rows_go_in_statements_of_powers_of_two() {
        let row = |seq| Model {
            seq,
            tenant_id: uuid::Uuid::nil(),
            at: 0,
            request_id: String::new(),
            client_addr: None,
            principal: None,
            method: "GET".to_owned(),
            route: String::new(),
            path: String::new(),
            status: 200,
            latency_us: 0,
            scim_type: None,
            resource_kind: None,
            operation: None,
            summary: String::new(),
            request_headers: "{}".to_owned(),
            request_body: None,
            response_body: None,
        };
        let statements = inserts(DbBackend::Sqlite, (0..100).map(row).collect());
        let values = |stmt: &Statement| stmt.values.as_ref().map_or(0, |v| v.0.len());
        let sizes: Vec<usize> = statements
            .iter()
            .map(|stmt| values(stmt) / COLUMNS.len())
            .collect();
        assert_eq!(sizes, [64, 32, 4]);
        for stmt in &statements {
            assert_eq!(stmt.sql.matches('?').count(), values(stmt));
        }
        let last = &statements[2];
        let first_of_last = last.values.as_ref().map(|v| v.0[0].clone());
        assert_eq!(first_of_last, Some(Value::from(96i64)));
        assert_eq!(last.sql.matches('?').count(), 4 * COLUMNS.len());
    }
}
