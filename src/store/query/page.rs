//! Pages of a resource table: up to a limit of rows from an offset or a
//! cursor's position, in a `sort::Sort` order, and their count. Each table
//! says how its rows are selected (`Paged`) and read (`PageRow`).

use entity::{group, user};
use sea_orm::sea_query::extension::mysql::{IndexHintScope, MySqlSelectStatementExt};
use sea_orm::sea_query::{Alias, Expr};
use sea_orm::{
    Condition, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select, Statement,
};
use uuid::Uuid;

use super::sort::{Segment, Sort, Start, plan};
use crate::scim::ScimError;
use crate::scim::resource::ResourceKind;
use crate::store::exec::select_list;
use crate::store::exec::{Decode, Row, Source};

/// A resource table pages are read from.
pub trait Paged: EntityTrait {
    const KIND: ResourceKind;

    /// The rows of one tenant that satisfy `cond`, with a stand-in for
    /// the column list (`exec::select_list`).
    fn matching(tenant: Uuid, cond: Condition) -> Select<Self>;

    /// The text of the column list: the columns answers show and the
    /// extra ones `columns` asks for.
    fn select_list(backend: DbBackend, columns: Columns) -> &'static str;

    /// `select` once per group of each row, where this table's rows have
    /// groups to join (`fetch_with_groups`).
    fn join_groups(select: Select<Self>) -> Option<Select<Self>> {
        let _ = select;
        None
    }
}

/// A page's row, and the rows of a page read with `Paged::join_groups`.
pub trait PageRow: Decode {
    type Joined: Decode;

    /// The first `limit` rows made from `joined`, each from the run of
    /// joined rows that repeat it; `None` if `joined` may end before the
    /// last of them is whole (`cut`: the statement's LIMIT was reached).
    fn regroup(joined: Vec<Self::Joined>, limit: usize, cut: bool) -> Option<Vec<Self>>;

    /// Puts `joined` (read in no particular order) in `sort`'s order, one
    /// row's joined rows together; `false` where this is not done here.
    fn order_joined(joined: &mut [Self::Joined], sort: &Sort) -> bool {
        let _ = (joined, sort);
        false
    }
}

/// What a page's rows carry beyond the columns answers show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Columns {
    /// The search document, which a cursor over an attribute inside it
    /// needs.
    pub search: bool,
    /// A user's groups, aggregated by a correlated subquery (SQLite only);
    /// tables other than users ignore it.
    pub groups: bool,
}

/// Up to `limit` rows of one tenant that satisfy `cond` (the client's
/// filter), from `start`, in `sort` order; each row with what its place
/// in that order is read from, and, if `groups`, users with their groups
/// where that saves a statement: by a subquery on SQLite
/// (`Columns::groups`), by a join on MariaDB (`fetch_with_groups`).
pub async fn fetch<E, R, S>(
    c: &S,
    tenant: Uuid,
    cond: Condition,
    sort: &Sort,
    start: &Start,
    limit: u64,
    groups: bool,
) -> Result<Vec<R>, PageError>
where
    E: Paged,
    R: PageRow,
    S: Source,
{
    let backend = c.backend();
    let columns = Columns {
        search: sort.reads_search_doc(),
        groups: groups && backend == DbBackend::Sqlite,
    };
    let list = E::select_list(backend, columns);
    let base = E::matching(tenant, cond);
    let id = id_column(E::KIND);
    let (segments, mut skip, backwards) = match start {
        Start::Offset(n) => (plan(backend, &id, sort, false, None)?, *n, false),
        Start::After(p) => (plan(backend, &id, sort, false, Some(p))?, 0, false),
        Start::Resume(p, n) => (plan(backend, &id, sort, false, Some(p))?, *n, false),
        Start::Before(p) => (plan(backend, &id, sort, true, Some(p))?, 0, true),
    };
    // MariaDB: a second statement for the users' groups costs more than
    // joining them (see `fetch_with_groups`).
    if let ([segment], 0, true) = (&segments[..], skip, groups && backend == DbBackend::MySql) {
        let order = (!backwards).then_some(sort);
        let read = fetch_with_groups::<E, R, S>(c, base.clone(), segment, order, limit, list);
        if let Some(mut rows) = read.await? {
            if backwards {
                rows.reverse();
            }
            return Ok(rows);
        }
    }
    let mut rows = Vec::new();
    let last = segments.len().saturating_sub(1);
    // The last segment takes `base` itself: copying a select costs a good
    // part of what building its SQL does.
    let mut base = Some(base);
    for (i, seg) in segments.into_iter().enumerate() {
        let remaining = limit.saturating_sub(rows.len() as u64);
        let table = if i == last { base.take() } else { base.clone() };
        let Some(table) = table.filter(|_| remaining > 0) else {
            break;
        };
        let mut q = table.filter(seg.cond);
        if skip > 0 && i < last {
            // Only an offset into a later segment needs this segment's size.
            let size = count_rows(c, q.clone()).await?;
            if skip >= size {
                skip -= size;
                continue;
            }
        }
        for (e, o) in seg.order {
            q = q.order_by(e, o);
        }
        let stmt = select_list::splice(q.offset(skip).limit(remaining).build(backend), list)?;
        let found = c.rows(stmt).await?;
        skip = 0;
        rows.extend(found);
    }
    if backwards {
        rows.reverse();
    }
    Ok(rows)
}

/// A page's rows read with their groups in one statement (one row per
/// group), for MariaDB, where every statement costs the server a good deal
/// of CPU. Only for a page that starts at the start of its one segment: an
/// offset would count joined rows, not page rows.
///
/// The join repeats each user's row once per group, so on a page of many
/// users it costs more than the second statement it saves. So the joined
/// rows are limited to `JOINED_ROWS`, enough for a lookup, and `None`
/// where that may cut the page short: the page is then read without its
/// groups, after a wasted short statement (a little more CPU on a page of
/// many filtered users, whose count costs far more). A `userName eq`
/// lookup, what this is for, is answered markedly more often per second.
///
/// `sort`, where the page is read forwards, lets a page filtered through
/// a subquery be read unordered (`fetch_unordered`).
async fn fetch_with_groups<E, R, S>(
    c: &S,
    table: Select<E>,
    segment: &Segment,
    sort: Option<&Sort>,
    limit: u64,
    list: &str,
) -> Result<Option<Vec<R>>, PageError>
where
    E: Paged,
    R: PageRow,
    S: Source,
{
    let Some(mut q) = E::join_groups(table.filter(segment.cond.clone())) else {
        return Ok(None);
    };
    for (e, o) in &segment.order {
        q = q.order_by(e.clone(), o.clone());
    }
    let stmt = select_list::splice(q.limit(JOINED_ROWS).build(c.backend()), list)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if let Some(sort) = sort
        && let Some(rows) = fetch_unordered::<R, S>(c, &stmt, sort, limit).await?
    {
        return Ok(Some(rows));
    }
    let joined: Vec<R::Joined> = c.rows(stmt).await?;
    let cut = joined.len() as u64 >= JOINED_ROWS;
    Ok(R::regroup(joined, limit, cut))
}

/// A filter on a multi-valued attribute (`emails[type eq "work"].value eq
/// …`) selects users `IN` a subquery. MariaDB reads the subquery's few
/// matches first, and then sorts the joined rows for `ORDER BY` through
/// a temporary table, which cost mysqld as much as the rest of the
/// lookup. Read without `ORDER BY`, the rows are sorted here instead
/// when all of them came back (fewer than the statement's limit); `None`
/// otherwise, and the page is read in order as before, at the cost of
/// this statement (short: it stops at its limit).
async fn fetch_unordered<R: PageRow, S: Source>(
    c: &S,
    ordered: &Statement,
    sort: &Sort,
    limit: usize,
) -> Result<Option<Vec<R>>, DbErr> {
    if !ordered.sql.contains(" IN (SELECT ") || !sort.compares_here() {
        return Ok(None);
    }
    let Some(sql) = without_order(&ordered.sql) else {
        return Ok(None);
    };
    let stmt = Statement {
        sql,
        values: ordered.values.clone(),
        db_backend: ordered.db_backend,
    };
    let mut joined: Vec<R::Joined> = c.rows(stmt).await?;
    if joined.len() as u64 >= JOINED_ROWS || !R::order_joined(&mut joined, sort) {
        return Ok(None);
    }
    Ok(R::regroup(joined, limit, false))
}

/// `sql` without its `ORDER BY`, which binds no value (columns only), and
/// with its `LIMIT ?`.
fn without_order(sql: &str) -> Option<String> {
    const LIMIT: &str = " LIMIT ?";
    let head = sql.trim_end().strip_suffix(LIMIT)?;
    let at = head.rfind(" ORDER BY ")?;
    let order = &head[at..];
    if order.contains('?') || order.contains(')') {
        return None;
    }
    Some(format!("{}{LIMIT}", &head[..at]))
}

/// Enough for a lookup's user in many groups, or a few users in a few.
const JOINED_ROWS: u64 = 32;

/// The two ways a page can fail: the database, or a cursor that does not
/// fit the query.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Scim(#[from] ScimError),
}

/// How many of one tenant's rows satisfy `cond`. `filtered: false` means
/// `cond` selects all of them: MariaDB then counts through the clustered
/// primary key, reading every row with its documents, while the
/// creation-order index holds the same rows in a fraction of the pages
/// (and counts far faster), so it is named. SQLite ignores the hint and
/// already counts through a small index.
pub async fn count<E, S>(c: &S, tenant: Uuid, cond: Condition, filtered: bool) -> Result<u64, DbErr>
where
    E: Paged,
    S: Source,
{
    let mut select = E::matching(tenant, cond);
    if !filtered {
        let index = match E::KIND {
            ResourceKind::User => "ix_users_created_at",
            ResourceKind::Group => "ix_groups_created_at",
        };
        QueryTrait::query(&mut select).force_index(Alias::new(index), IndexHintScope::All);
    }
    count_rows(c, select).await
}

/// Not `PaginatorTrait::count`: it wraps the whole row (documents
/// included) in a derived table, which MariaDB materialises when the
/// filter has an `IN (SELECT …)`, copying every matching document.
async fn count_rows<E: EntityTrait, S: Source>(c: &S, select: Select<E>) -> Result<u64, DbErr> {
    let stmt = select
        .select_only()
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .build(c.backend());
    let counted: Vec<Counted> = c.rows(stmt).await?;
    Ok(counted
        .first()
        .map_or(0, |c| u64::try_from(c.n).unwrap_or(0)))
}

struct Counted {
    n: i64,
}

impl Decode for Counted {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self { n: row.i64("n")? })
    }
}

/// The id column of a resource table, for the tiebreak.
fn id_column(kind: ResourceKind) -> Expr {
    match kind {
        ResourceKind::User => Expr::col((user::Entity, user::Column::Id)),
        ResourceKind::Group => Expr::col((group::Entity, group::Column::Id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_by_of_a_statement_is_left_out_and_its_limit_kept() {
        let sql = "SELECT a FROM t WHERE t.id IN (SELECT u FROM e WHERE e.v = ?) \
                   ORDER BY `t`.`created_at` ASC, `t`.`id` ASC LIMIT ?";
        assert_eq!(
            without_order(sql).as_deref(),
            Some("SELECT a FROM t WHERE t.id IN (SELECT u FROM e WHERE e.v = ?) LIMIT ?")
        );
        // The subquery's own ORDER BY, or one that binds a value, stays.
        for kept in [
            "SELECT a FROM t WHERE t.id IN (SELECT u FROM e ORDER BY u) LIMIT ?",
            "SELECT a FROM t ORDER BY t.a = ? LIMIT ?",
            "SELECT a FROM t ORDER BY t.a",
        ] {
            assert_eq!(without_order(kept), None, "{kept}");
        }
    }
}
