//! Sorted pages: `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3) with `id` as the
//! tiebreak of every order, by offset (index paging) or by seeking past a
//! position (cursor paging, RFC 9865).
//!
//! RFC 7644 sorts resources without a value last when ascending and first
//! when descending. Both databases put NULL first, and an expression such
//! as `k IS NULL` in `ORDER BY` defeats the index. So a nullable key is
//! read in two segments, each in index order: the rows with a value, by
//! `(key, id)`, and the rows without, by `id`. A seek then costs the same
//! at any depth: the database starts reading the `(tenant, key, id)` index
//! at the position, never counting its way there.

use entity::{group, user};
use sea_orm::sea_query::extension::mysql::{IndexHintScope, MySqlSelectStatementExt};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    Condition, DbBackend, DbErr, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};
use serde_json::Value as Json;
use uuid::Uuid;

use super::dialect::{self, JsonPath};
use super::target::{Collection, KeyColumn, Origin, Resolver, Scalar, Target, Ty, Unresolved};
use crate::scim::ScimError;
use crate::scim::filter::AttrPath;
use crate::scim::resource::ResourceKind;
use crate::store::exec::select_list;
use crate::store::exec::{Decode, Row, Source};
use crate::store::users::{JoinedUserRow, UserRow};

/// What a page is ordered by. `key: None` orders by id alone.
#[derive(Debug, Clone)]
pub struct Sort {
    pub key: Option<SortKey>,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub scalar: Scalar,
    pub nullable: bool,
    /// No two rows share a value (`userName`, `id`), so the key alone is a
    /// total order. The id tiebreak is then left out: MariaDB does not see
    /// that a unique index also orders by id, and would sort the whole
    /// table instead of reading the index.
    pub unique: bool,
}

/// A row's place in the order: its sort key (as JSON, `null` for none)
/// and its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub key: Json,
    pub id: Uuid,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// Skip this many rows (index paging; 0 is also a cursor's first page).
    Offset(u64),
    /// The rows after this one.
    After(Position),
    /// The rows before this one (a `previousCursor`), returned in order.
    Before(Position),
}

impl Resolver<'_> {
    /// The order for `sortBy` (`None`: creation order, the default, which
    /// keeps new resources on the last page).
    pub fn sort(&self, by: Option<&AttrPath>, descending: bool) -> Result<Sort, ScimError> {
        let Some(path) = by else {
            let created = self.column(KeyColumn::Created, "meta.created".to_owned());
            return Ok(Sort {
                key: Some(SortKey {
                    scalar: created,
                    nullable: false,
                    unique: false,
                }),
                descending: false,
            });
        };
        let invalid = |why: String| ScimError::invalid_value(format!("sortBy: {why}"));
        let unresolved = |e: Unresolved| match e {
            Unresolved::Unknown(name) => invalid(format!("unknown attribute '{name}'")),
            Unresolved::NotSearchable(why) => invalid(why),
        };
        let scalar = match self.resolve(path, true).map_err(unresolved)? {
            Target::Scalar(s) => s,
            // Equal for every row: the order is the tiebreak's.
            Target::Constant { .. } => {
                return Ok(Sort {
                    key: None,
                    descending,
                });
            }
            // RFC 7644 §3.4.2.3: by the primary value, else the first; the
            // search document keeps the primary value first.
            Target::Many { coll, sub } => self
                .first_value(&coll, sub.as_deref())
                .map_err(unresolved)?,
        };
        let (nullable, unique) = match &scalar.origin {
            Origin::Column(c) => (c.nullable(self.kind), c.unique(self.kind)),
            Origin::Json(_) => (true, false),
            Origin::Computed => {
                return Err(invalid(format!("'{path}' cannot be sorted on")));
            }
        };
        if scalar.ty == Ty::Complex {
            return Err(invalid(format!(
                "'{path}' is complex: sort by one of its sub-attributes"
            )));
        }
        Ok(Sort {
            key: Some(SortKey {
                scalar,
                nullable,
                unique,
            }),
            descending,
        })
    }

    fn first_value(&self, coll: &Collection<'_>, sub: Option<&str>) -> Result<Scalar, Unresolved> {
        let (path, def) = match coll {
            Collection::Emails(def) => (JsonPath::root().key("emails"), *def),
            Collection::Json { path, def } => (Some(path.clone()), *def),
            Collection::UserGroups | Collection::Members | Collection::Object { .. } => {
                return Err(Unresolved::NotSearchable(
                    "memberships cannot be sorted on".to_owned(),
                ));
            }
        };
        let unsafe_name =
            || Unresolved::NotSearchable(format!("'{}' cannot be sorted on", def.name));
        let first = path.ok_or_else(unsafe_name)?.index(0);
        let (path, leaf) = match sub {
            Some(name) => {
                let sub_def = def
                    .sub_attribute(name)
                    .ok_or_else(|| Unresolved::Unknown(format!("{}.{name}", def.name)))?;
                (first.key(&sub_def.name).ok_or_else(unsafe_name)?, sub_def)
            }
            None => (first, def),
        };
        let ty = Ty::of(leaf);
        Ok(Scalar {
            expr: dialect::json_scalar(
                self.backend,
                super::target::search_doc(self.kind),
                &path,
                ty.is_numeric(),
            ),
            ty,
            name: def.name.clone(),
            origin: Origin::Json(path),
        })
    }
}

/// A stored row, as far as ordering is concerned.
pub trait Keyed {
    fn id(&self) -> Uuid;
    fn column(&self, column: KeyColumn) -> Json;
    fn search_doc(&self) -> Option<&Json>;
}

impl Keyed for UserRow {
    fn id(&self) -> Uuid {
        self.doc.id
    }
    fn column(&self, column: KeyColumn) -> Json {
        match column {
            KeyColumn::Id => Json::from(self.doc.id.to_string()),
            KeyColumn::UserName => Json::from(self.user_name_norm.as_str()),
            KeyColumn::ExternalId => Json::from(self.external_id.clone()),
            KeyColumn::DisplayName => Json::from(self.display_name_norm.clone()),
            KeyColumn::Active => Json::from(self.active),
            KeyColumn::Created => Json::from(self.doc.created_at),
            KeyColumn::Modified => Json::from(self.doc.modified_at),
        }
    }
    fn search_doc(&self) -> Option<&Json> {
        self.doc_search.as_ref()
    }
}

impl Keyed for group::Model {
    fn id(&self) -> Uuid {
        self.id
    }
    fn column(&self, column: KeyColumn) -> Json {
        match column {
            KeyColumn::Id => Json::from(self.id.to_string()),
            KeyColumn::ExternalId => Json::from(self.external_id.clone()),
            KeyColumn::Created => Json::from(self.created_at),
            KeyColumn::Modified => Json::from(self.modified_at),
            KeyColumn::DisplayName | KeyColumn::UserName | KeyColumn::Active => {
                Json::from(self.display_name_norm.as_str())
            }
        }
    }
    fn search_doc(&self) -> Option<&Json> {
        self.doc_search.as_ref()
    }
}

impl Sort {
    /// Whether a row's position in this order is read from its search
    /// document (see `position`), which a page must then read.
    fn reads_search_doc(&self) -> bool {
        matches!(
            self.key.as_ref().map(|k| &k.scalar.origin),
            Some(Origin::Json(_))
        )
    }

    /// The position of `row` in this order, for a cursor.
    pub fn position<R: Keyed>(&self, row: &R) -> Position {
        let key = match self.key.as_ref().map(|k| &k.scalar.origin) {
            Some(Origin::Column(c)) => row.column(*c),
            Some(Origin::Json(path)) => row
                .search_doc()
                .and_then(|doc| path.read(doc))
                .filter(|v| !v.is_object() && !v.is_array())
                .cloned()
                .unwrap_or(Json::Null),
            Some(Origin::Computed) | None => Json::Null,
        };
        Position { key, id: row.id() }
    }
}

/// The ascending order of two positions as the database orders them:
/// keys by value (strings by code point, which is what binary collations
/// compare), no value last, then ids. Used to merge sorted result sets
/// of different tables; reverse it for descending.
pub fn compare_positions(a: &Position, b: &Position) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let keys = match (&a.key, &b.key) {
        (Json::Null, Json::Null) => Ordering::Equal,
        (Json::Null, _) => Ordering::Greater,
        (_, Json::Null) => Ordering::Less,
        (Json::String(x), Json::String(y)) => x.cmp(y),
        (Json::Bool(x), Json::Bool(y)) => x.cmp(y),
        (Json::Number(x), Json::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        // Different types only meet when two schemas disagree on an
        // attribute's type; any fixed order will do.
        (x, y) => type_rank(x).cmp(&type_rank(y)),
    };
    keys.then_with(|| a.id.cmp(&b.id))
}

fn type_rank(v: &Json) -> u8 {
    match v {
        Json::Null => 0,
        Json::Bool(_) => 1,
        Json::Number(_) => 2,
        Json::String(_) => 3,
        Json::Array(_) => 4,
        Json::Object(_) => 5,
    }
}

/// One run of rows in index order; a page reads segments in turn.
struct Segment {
    cond: sea_orm::Condition,
    order: Vec<(Expr, Order)>,
}

/// The segments that make up the order, from `after` on (exclusive) or
/// from the start; `backwards` walks the order in reverse.
fn plan(
    backend: DbBackend,
    id: &Expr,
    sort: &Sort,
    backwards: bool,
    after: Option<&Position>,
) -> Result<Vec<Segment>, ScimError> {
    let desc = sort.descending != backwards;
    let dir = if desc { Order::Desc } else { Order::Asc };
    let id_past = |p: &Position| {
        if desc {
            id.clone().lt(p.id)
        } else {
            id.clone().gt(p.id)
        }
    };
    let all = sea_orm::Condition::all;
    let Some(key) = &sort.key else {
        let mut cond = all();
        if let Some(p) = after {
            cond = cond.add(id_past(p));
        }
        return Ok(vec![Segment {
            cond,
            order: vec![(id.clone(), dir)],
        }]);
    };
    let k = &key.scalar.expr;
    let by_key = if key.unique {
        vec![(k.clone(), dir.clone())]
    } else {
        vec![(k.clone(), dir.clone()), (id.clone(), dir.clone())]
    };
    let seek = |p: &Position| -> Result<Expr, ScimError> {
        let v = bind(key.scalar.ty, &p.key)?;
        Ok(match (key.unique, desc) {
            (true, false) => k.clone().gt(v),
            (true, true) => k.clone().lt(v),
            (false, _) => dialect::seek(backend, k.clone(), id.clone(), v, p.id, desc),
        })
    };
    if !key.nullable {
        let mut cond = all();
        if let Some(p) = after {
            cond = cond.add(seek(p)?);
        }
        return Ok(vec![Segment {
            cond,
            order: by_key,
        }]);
    }
    let values = |cond: sea_orm::Condition| Segment {
        cond: cond.add(k.clone().is_not_null()),
        order: by_key.clone(),
    };
    let nulls = |cond: sea_orm::Condition| Segment {
        cond: cond.add(k.clone().is_null()),
        order: vec![(id.clone(), dir.clone())],
    };
    // Ascending: values, then nulls; descending: the exact reverse.
    Ok(match (desc, after) {
        (false, None) => vec![values(all()), nulls(all())],
        (true, None) => vec![nulls(all()), values(all())],
        (false, Some(p)) if Json::is_null(&p.key) => vec![nulls(all().add(id_past(p)))],
        (false, Some(p)) => vec![values(all().add(seek(p)?)), nulls(all())],
        (true, Some(p)) if Json::is_null(&p.key) => {
            vec![nulls(all().add(id_past(p))), values(all())]
        }
        (true, Some(p)) => vec![values(all().add(seek(p)?))],
    })
}

/// A cursor's key back into a bound value of the key's type. Cursors are
/// signed, so a mismatch means a server-side change (a schema edit), which
/// the client can only answer by starting over.
fn bind(ty: Ty, key: &Json) -> Result<Value, ScimError> {
    let stale = || ScimError::invalid_cursor("the cursor no longer fits this sort; start over");
    Ok(match (ty, key) {
        (Ty::Str { .. } | Ty::TimeText, Json::String(s)) => Value::from(s.clone()),
        (Ty::Id, Json::String(s)) => Value::from(Uuid::parse_str(s).map_err(|_| stale())?),
        (Ty::TimeMs, Json::Number(n)) => Value::from(n.as_i64().ok_or_else(stale)?),
        (Ty::Num, Json::Number(n)) => Value::from(n.as_f64().ok_or_else(stale)?),
        (Ty::Bool, Json::Bool(b)) => Value::from(*b),
        _ => return Err(stale()),
    })
}

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

    /// The first `limit` rows made from `joined` (see
    /// `JoinedUserRow::regroup`); `None` if `joined` may end before the
    /// last of them is whole (`cut`: the statement's LIMIT was reached).
    fn regroup(joined: Vec<Self::Joined>, limit: usize, cut: bool) -> Option<Vec<Self>>;
}

impl PageRow for UserRow {
    type Joined = JoinedUserRow;

    fn regroup(joined: Vec<JoinedUserRow>, limit: usize, cut: bool) -> Option<Vec<Self>> {
        JoinedUserRow::regroup(joined, limit, cut)
    }
}

/// Groups have no groups to join.
impl PageRow for group::Model {
    type Joined = Self;

    fn regroup(_: Vec<Self>, _: usize, _: bool) -> Option<Vec<Self>> {
        None
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

impl Paged for user::Entity {
    const KIND: ResourceKind = ResourceKind::User;

    fn matching(tenant: Uuid, cond: Condition) -> Select<Self> {
        crate::store::users::matching(tenant, cond)
    }

    fn select_list(backend: DbBackend, columns: Columns) -> &'static str {
        crate::store::users::select_list(backend, columns)
    }

    fn join_groups(select: Select<Self>) -> Option<Select<Self>> {
        Some(crate::store::users::join_groups(select))
    }
}

impl Paged for group::Entity {
    const KIND: ResourceKind = ResourceKind::Group;

    fn matching(tenant: Uuid, cond: Condition) -> Select<Self> {
        crate::store::groups::matching(tenant, cond)
    }

    fn select_list(backend: DbBackend, columns: Columns) -> &'static str {
        crate::store::groups::select_list(backend, columns.search)
    }
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
        Start::Before(p) => (plan(backend, &id, sort, true, Some(p))?, 0, true),
    };
    // MariaDB: a second statement for the users' groups costs more than
    // joining them (see `fetch_with_groups`).
    if let ([segment], 0, true) = (&segments[..], skip, groups && backend == DbBackend::MySql) {
        let read = fetch_with_groups::<E, R, S>(c, base.clone(), segment, limit, list);
        if let Some(mut rows) = read.await? {
            if backwards {
                rows.reverse();
            }
            return Ok(rows);
        }
    }
    let mut rows = Vec::new();
    let last = segments.len().saturating_sub(1);
    // The last segment takes `base` itself: copying a select costs as much
    // as a third of building its SQL.
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
/// group), for MariaDB, where each statement costs its server 70 µs of CPU
/// or more. Only for a page that starts at the start of its one segment:
/// an offset would count joined rows, not page rows.
///
/// The join repeats each user's row once per group, so on a page of many
/// users it costs more than the second statement it saves (MariaDB, 100
/// users in 2 groups each: 23–26 ms joined, 17–19 ms apart). So the joined
/// rows are limited to `JOINED_ROWS`, enough for a lookup, and `None`
/// where that may cut the page short: the page is then read without its
/// groups, after a wasted short statement (5 % more Roster CPU on a page
/// of 100 filtered users, whose count costs far more). A `userName eq`
/// lookup went from 4,000–4,800 to 5,400–6,400 per second.
async fn fetch_with_groups<E, R, S>(
    c: &S,
    table: Select<E>,
    segment: &Segment,
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
    let joined: Vec<R::Joined> = c.rows(stmt).await?;
    let cut = joined.len() as u64 >= JOINED_ROWS;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(R::regroup(joined, limit, cut))
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
/// `cond` selects all of them: MariaDB then counts through the clustered primary
/// key, reading every row with its documents, while the creation-order
/// index holds the same rows in a fraction of the pages (20 times faster
/// measured at 100,000 users), so it is named. SQLite ignores the hint and
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
