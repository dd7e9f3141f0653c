//! Page selects whose column list is written into the SQL after the
//! statement is built, from text made once per backend.
//!
//! A page of users names every column answers show and, on SQLite, a
//! groups subquery. Copying that select and writing its column list out
//! again for every request was a sizeable part of a `userName eq`
//! lookup's instructions, and the list is the same for every page.
//! So a page select names one stand-in column, and `splice` puts the
//! list's text in its place. Only the list is spliced: conditions, order
//! and limits are still built, and bound, by sea-query.

use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, DbErr, EntityTrait, QuerySelect, QueryTrait, Select, Statement};

/// Not a column name any table has, nor SQL any builder writes.
const STAND_IN: &str = "__roster_select_list__";

const SELECT: &str = "SELECT ";

/// Every backend, in `slot` order.
pub const BACKENDS: [DbBackend; 3] = [DbBackend::Sqlite, DbBackend::MySql, DbBackend::Postgres];

/// Where `backend`'s text is in an array made from `BACKENDS`.
pub fn slot(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => 0,
        DbBackend::MySql => 1,
        // Postgres, and any backend SeaORM adds; Roster runs on neither.
        _ => 2,
    }
}

/// `E`'s table with the stand-in as its only column.
pub fn stand_in<E: EntityTrait>() -> Select<E> {
    E::find().select_only().expr(Expr::cust(STAND_IN))
}

/// The column list of `full` (a select with no conditions) as `backend`
/// writes it.
pub fn text<E: EntityTrait>(full: &Select<E>, backend: DbBackend) -> String {
    let sql = full.clone().build(backend).sql;
    // The table's own FROM is the last one: a subquery in the list has its
    // FROM inside the list.
    let list = sql
        .strip_prefix(SELECT)
        .and_then(|rest| rest.rfind(" FROM ").map(|end| &rest[..end]));
    list.unwrap_or_default().to_owned()
}

/// `stmt`, built from a `stand_in` select, with `list` in the stand-in's
/// place.
pub fn splice(mut stmt: Statement, list: &str) -> Result<Statement, DbErr> {
    let rest = stmt
        .sql
        .strip_prefix(SELECT)
        .and_then(|rest| rest.strip_prefix(STAND_IN))
        .ok_or_else(|| DbErr::Custom(format!("no column list to fill in: {}", stmt.sql)))?;
    let mut sql = String::with_capacity(SELECT.len() + list.len() + rest.len());
    sql.push_str(SELECT);
    sql.push_str(list);
    sql.push_str(rest);
    stmt.sql = sql;
    Ok(stmt)
}

/// Asserts that `stand_in` with `list` spliced in is `whole`, once both
/// ask what a page asks beyond the column list: a filter, an order, and
/// an offset and limit, whose values must stay bound in the same order.
#[cfg(test)]
pub fn assert_splices_as_whole<E: EntityTrait>(
    backend: DbBackend,
    stand_in: Select<E>,
    whole: Select<E>,
    list: &str,
    id: E::Column,
) {
    use sea_orm::sea_query::ExprTrait;
    use sea_orm::{ColumnTrait, Condition, Order, QueryFilter, QueryOrder};

    let page = |select: Select<E>| {
        let filter = Condition::any()
            .add(id.eq(uuid::Uuid::from_u128(3)))
            .add(Expr::cust("1").eq(2));
        select
            .filter(filter)
            .order_by(id, Order::Desc)
            .offset(5)
            .limit(7)
            .build(backend)
    };
    let spliced = splice(page(stand_in), list).expect("spliced");
    let whole = page(whole);
    assert_eq!(spliced.sql, whole.sql);
    assert_eq!(spliced.values, whole.values);
    assert!(!spliced.sql.contains(STAND_IN));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_without_the_stand_in_is_an_error() {
        let stmt = Statement::from_string(DbBackend::Sqlite, "SELECT 1");
        assert!(matches!(splice(stmt, "a"), Err(DbErr::Custom(_))));
    }
}
