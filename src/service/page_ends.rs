//! Index paging at depth. An IdP's full import reads `startIndex=1`, then
//! 201, 401, … with `count=200`, to the last user; `OFFSET n` reads and
//! drops n rows, so each page costs more than the one before. Instead,
//! the position a page ended at is remembered (in memory, a bounded
//! number of them), and the page that starts there seeks to it through
//! the `(tenant, created_at, id)` index, as a cursor page does.
//!
//! What is kept: a resumed page is exactly the page `OFFSET` would have
//! read in the same transaction, whatever was written in between, on this
//! node or on another one sharing the database. Only unfiltered lists in
//! the default order are resumed. There a resource's place never moves:
//! the order is `(created_at, id)`, which no write changes, and no write
//! but a create or a delete adds a row or takes one away. A remembered
//! end says that `n` rows lie up to position `P` in the snapshot it was
//! read in; it still holds in a later snapshot if no row at or before `P`
//! was created or deleted since. The per-tenant counts (`store::counts`),
//! read in each snapshot, tell:
//!
//! * equal tallies: nothing was created or deleted, the end holds;
//! * a delete since (`removed` grew): the end is dropped, the page is read
//!   by `OFFSET`;
//! * only creates (`live` grew by k): the end holds if all k new rows lie
//!   after the last row the earlier snapshot had, which reading at most
//!   k + 1 rows after that row tells; else the page is read by `OFFSET`.
//!
//! A client that sees a different answer than it would have without this
//! is a bug, not a trade-off.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

use super::ServiceError;
use super::list::Listed;
use crate::scim::resource::ResourceKind;
use crate::store::counts::Tally;
use crate::store::exec::Source;
use crate::store::query::page;
use crate::store::query::sort::{Position, Sort, Start};

/// Page ends remembered, all tenants and kinds together: with pages of
/// 200, enough for several concurrent imports of a million resources to
/// find the end of the page before theirs.
const CAPACITY: usize = 8192;

/// Creates since an end was remembered past which it is not checked (the
/// check reads that many rows) and the page is read by `OFFSET`.
const CREATES_CHECKED: u64 = 1000;

/// Where recent index-paged pages of unfiltered lists ended.
#[derive(Default)]
pub struct PageEnds {
    inner: Mutex<Ends>,
}

/// A list: a tenant and a resource kind's name.
type ListKey = (Uuid, &'static str);

#[derive(Default)]
struct Ends {
    lists: HashMap<ListKey, List>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<(Uuid, &'static str, u64)>,
}

#[derive(Default)]
struct List {
    /// By the number of rows up to and including the end.
    ends: BTreeMap<u64, End>,
    /// The list's last row under a tally, so that it is read once per
    /// tally rather than once per page.
    tip: Option<(Tally, Option<Position>)>,
}

/// Where a page ended, and what the snapshot it was read in held.
#[derive(Clone)]
struct End {
    position: Position,
    tally: Tally,
    /// The last row of the list in that snapshot.
    last: Option<Position>,
}

impl PageEnds {
    /// Where an index page that skips `offset` rows can start instead of
    /// skipping them all: after the nearest remembered end at or before
    /// `offset` that still holds under `tally` (read in `c`'s snapshot).
    pub(super) async fn resume<E: Listed, S: Source>(
        &self,
        c: &S,
        tenant: Uuid,
        sort: &Sort,
        offset: u64,
        tally: Tally,
    ) -> Result<Start, ServiceError> {
        let Some((rows_before, end)) = self.nearest(tenant, E::KIND, offset) else {
            return Ok(Start::Offset(offset));
        };
        if !holds::<E, S>(c, tenant, sort, &end, tally).await? {
            self.forget(tenant, E::KIND, rows_before);
            return Ok(Start::Offset(offset));
        }
        if end.tally != tally {
            // Checked once: later pages compare with this tally.
            let tip = self.tip::<E, S>(c, tenant, sort, tally).await?;
            self.put(
                tenant,
                E::KIND,
                rows_before,
                end.position.clone(),
                tally,
                tip,
            );
        }
        Ok(Start::Resume(end.position, offset - rows_before))
    }

    /// Remembers that `rows_through` rows lie up to `last_row`, the last
    /// row of a page read under `tally`.
    pub(super) async fn remember<E: Listed, S: Source>(
        &self,
        c: &S,
        tenant: Uuid,
        sort: &Sort,
        rows_through: u64,
        last_row: Position,
        tally: Tally,
    ) -> Result<(), ServiceError> {
        let tip = self.tip::<E, S>(c, tenant, sort, tally).await?;
        self.put(tenant, E::KIND, rows_through, last_row, tally, tip);
        Ok(())
    }

    fn nearest(&self, tenant: Uuid, kind: ResourceKind, offset: u64) -> Option<(u64, End)> {
        let ends = self.lock();
        let list = ends.lists.get(&(tenant, kind.name()))?;
        let (n, end) = list.ends.range(..=offset).next_back()?;
        Some((*n, end.clone()))
    }

    fn forget(&self, tenant: Uuid, kind: ResourceKind, rows_through: u64) {
        if let Some(list) = self.lock().lists.get_mut(&(tenant, kind.name())) {
            list.ends.remove(&rows_through);
        }
    }

    fn put(
        &self,
        tenant: Uuid,
        kind: ResourceKind,
        rows_through: u64,
        position: Position,
        tally: Tally,
        last: Option<Position>,
    ) {
        let mut guard = self.lock();
        let ends = &mut *guard;
        let list = ends.lists.entry((tenant, kind.name())).or_default();
        let end = End {
            position,
            tally,
            last,
        };
        if list.ends.insert(rows_through, end).is_none() {
            ends.order.push_back((tenant, kind.name(), rows_through));
        }
        while ends.order.len() > CAPACITY {
            let Some((t, k, n)) = ends.order.pop_front() else {
                break;
            };
            if let Some(list) = ends.lists.get_mut(&(t, k)) {
                list.ends.remove(&n);
                if list.ends.is_empty() {
                    ends.lists.remove(&(t, k));
                }
            }
        }
    }

    /// The list's last row under `tally`, read in `c` unless known.
    async fn tip<E: Listed, S: Source>(
        &self,
        c: &S,
        tenant: Uuid,
        sort: &Sort,
        tally: Tally,
    ) -> Result<Option<Position>, ServiceError> {
        let known = {
            let ends = self.lock();
            let tip = ends
                .lists
                .get(&(tenant, E::KIND.name()))
                .and_then(|l| l.tip.clone());
            tip.filter(|(t, _)| *t == tally)
        };
        if let Some((_, last)) = known {
            return Ok(last);
        }
        let reversed = Sort {
            key: sort.key.clone(),
            descending: !sort.descending,
        };
        let none = sea_orm::Condition::all();
        let rows: Vec<E::Row> =
            page::fetch::<E, _, _>(c, tenant, none, &reversed, &Start::Offset(0), 1, false).await?;
        let last = rows.first().map(|r| sort.position(r));
        let mut ends = self.lock();
        ends.lists.entry((tenant, E::KIND.name())).or_default().tip = Some((tally, last.clone()));
        Ok(last)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ends> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether the rows up to `end.position` are the same under `tally` (in
/// `c`'s snapshot) as when the end was remembered (see the module's
/// account).
async fn holds<E: Listed, S: Source>(
    c: &S,
    tenant: Uuid,
    sort: &Sort,
    end: &End,
    tally: Tally,
) -> Result<bool, ServiceError> {
    if tally == end.tally {
        return Ok(true);
    }
    if tally.removed != end.tally.removed || tally.live < end.tally.live {
        return Ok(false);
    }
    let created = tally.live - end.tally.live;
    let Some(last) = end.last.clone().filter(|_| created <= CREATES_CHECKED) else {
        return Ok(false);
    };
    let none = sea_orm::Condition::all();
    let after: Vec<E::Row> = page::fetch::<E, _, _>(
        c,
        tenant,
        none,
        sort,
        &Start::After(last),
        created + 1,
        false,
    )
    .await?;
    Ok(after.len() as u64 == created)
}
