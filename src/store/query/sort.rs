//! The order of a page: `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3) with
//! `id` as the tiebreak of every order, and a row's position in it, which
//! a cursor (RFC 9865) carries to seek past.
//!
//! RFC 7644 sorts resources without a value last when ascending and first
//! when descending. Both databases put NULL first, and an expression such
//! as `k IS NULL` in `ORDER BY` defeats the index. So a nullable key is
//! read in two segments, each in index order: the rows with a value, by
//! `(key, id)`, and the rows without, by `id`. A seek then costs the same
//! at any depth: the database starts reading the `(tenant, key, id)` index
//! at the position, never counting its way there.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{Condition, DbBackend, Order, Value};
use serde_json::Value as Json;
use uuid::Uuid;

use super::sql_dialect;
use super::target::{KeyColumn, Origin, Scalar, Ty};
use crate::scim::ScimError;

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
    /// The rows after this one, less the first so many: an index page
    /// resumed from where an earlier page ended (`service::page_ends`).
    Resume(Position, u64),
}

/// A stored row, as far as ordering is concerned.
pub trait Keyed {
    fn id(&self) -> Uuid;
    fn column(&self, column: KeyColumn) -> Json;
    fn search_doc(&self) -> Option<&Json>;
}

impl Sort {
    /// Whether a row's position in this order is read from its search
    /// document (see `position`), which a page must then read.
    pub(super) fn reads_search_doc(&self) -> bool {
        matches!(
            self.key.as_ref().map(|k| &k.scalar.origin),
            Some(Origin::Json(_))
        )
    }

    /// Whether `compare` orders rows exactly as the database does: by
    /// creation or modification time (numbers), or by id alone. Text
    /// keys are left to the database's collation.
    pub(crate) fn compares_here(&self) -> bool {
        match self.key.as_ref().map(|k| &k.scalar.origin) {
            None => true,
            Some(Origin::Column(c)) => matches!(c, KeyColumn::Created | KeyColumn::Modified),
            Some(_) => false,
        }
    }

    /// The order of two rows in this order (`compares_here` says where it
    /// is the database's).
    pub(crate) fn compare<R: Keyed>(&self, a: &R, b: &R) -> std::cmp::Ordering {
        let ascending = compare_positions(&self.position(a), &self.position(b));
        if self.descending {
            ascending.reverse()
        } else {
            ascending
        }
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
pub(super) struct Segment {
    pub(super) cond: Condition,
    pub(super) order: Vec<(Expr, Order)>,
}

/// The segments that make up the order, from `after` on (exclusive) or
/// from the start; `backwards` walks the order in reverse.
pub(super) fn plan(
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
            (false, _) => sql_dialect::seek(backend, k.clone(), id.clone(), v, p.id, desc),
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
