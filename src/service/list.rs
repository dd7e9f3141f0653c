//! Listing resources of one type: filter, order and page (by index or by
//! cursor). A page that is counted is read in one transaction with its
//! count, so the two agree; a filtered page that ends the results is its
//! own count and is read without one. Users and groups differ only in what
//! they load besides the rows.

use std::marker::PhantomData;

use entity::{group, user};
use sea_orm::{Condition, ConnectionTrait};
use uuid::Uuid;

use super::members::MemberFeed;
use super::render::{PageItem, ResourceView, group_by, group_view, list_no_members, user_encoded};
use super::{Ctx, ServiceError, Services};
use crate::scim::ScimError;
use crate::scim::cursor::{Cursor, query_fingerprint};
use crate::scim::list::{ListParams, PageInfo, Paging};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::store::counts::{self, Tally};
use crate::store::exec::Source;
use crate::store::memberships::{self, MemberRow, MembershipRow};
use crate::store::query::filter_condition;
use crate::store::query::page::{self, PageError, PageRow, Paged};
use crate::store::query::sort::{Keyed, Position, Sort, Start};
use crate::store::users::UserRow;
use crate::time::now_ms;

/// A page of rows and where it sits in the result set.
pub struct Listing<M> {
    pub total: u64,
    pub rows: Vec<M>,
    pub page: PageInfo,
}

/// A page of rendered resources, ready for a ListResponse.
pub struct ResourcePage {
    pub total: u64,
    pub page: PageInfo,
    pub resources: Vec<PageItem>,
    /// Members still to be read for the page's groups, when too many to
    /// render at once; `resources` then carry none.
    pub members: Option<MemberFeed>,
}

/// Rows rendered for a response, and any members streamed after them.
pub(super) struct Rendered<T = PageItem> {
    pub resources: Vec<T>,
    pub members: Option<MemberFeed>,
}

impl<T> From<Vec<T>> for Rendered<T> {
    fn from(resources: Vec<T>) -> Self {
        Self {
            resources,
            members: None,
        }
    }
}

/// One list request, ready to run on a connection or in a transaction.
struct ListQuery<'p, E: Listed> {
    tenant: Uuid,
    /// The client's filter.
    cond: Condition,
    params: &'p ListParams,
    sort: Sort,
    start: Start,
    /// A cursor carries the total from the first page: counting again on
    /// every page would cost O(all rows) however deep the page is.
    carried_total: Option<u64>,
    limit: u64,
    /// Whether the answer shows users' groups, to be read with the page.
    groups: bool,
    entity: PhantomData<E>,
}

impl<E: Listed> ListQuery<'_, E> {
    async fn fetch<S: Source>(&self, c: &S) -> Result<Vec<E::Row>, ServiceError> {
        if self.params.count == 0 {
            return Ok(Vec::new());
        }
        let rows = page::fetch::<E, _, _>(
            c,
            self.tenant,
            self.cond.clone(),
            &self.sort,
            &self.start,
            self.limit,
            self.groups,
        );
        Ok(rows.await?)
    }

    /// The total, when the page shows it without a count: the page ends
    /// short of its limit, so the result set ends within it.
    fn total_from_page(&self, rows: &[E::Row]) -> Option<u64> {
        if let Some(total) = self.carried_total {
            return Some(total);
        }
        let Start::Offset(skipped) = self.start else {
            return None;
        };
        // An empty page past the start says only that fewer rows exist.
        let ends_here = (rows.len() as u64) < self.limit && (skipped == 0 || !rows.is_empty());
        (self.params.count > 0 && ends_here).then(|| skipped + rows.len() as u64)
    }

    /// The page and its total: from the page if it shows it, else from
    /// `tally` (an unfiltered list's count), else counted. In a
    /// transaction, the two agree.
    async fn rows<C: ConnectionTrait>(
        &self,
        services: &Services,
        c: &C,
        tally: Option<Tally>,
    ) -> Result<Listing<E::Row>, ServiceError> {
        let rows = self.fetch(c).await?;
        let total = match (self.total_from_page(&rows), tally) {
            (Some(total), _) => total,
            (None, Some(tally)) => tally.live,
            (None, None) => page::count::<E, _>(c, self.tenant, self.cond.clone(), true).await?,
        };
        Ok(self.finish(services, rows, total))
    }

    fn finish(&self, services: &Services, mut rows: Vec<E::Row>, total: u64) -> Listing<E::Row> {
        let page = match &self.params.paging {
            Paging::Index { start_index } => PageInfo {
                start_index: Some(*start_index),
                ..PageInfo::default()
            },
            Paging::Cursor(_) => {
                let query_id = fingerprint(self.tenant, E::KIND, self.params);
                let cursors = Cursors {
                    services,
                    sort: &self.sort,
                    query_id: &query_id,
                    total,
                };
                cursors.page(&self.start, &mut rows, u64::from(self.params.count))
            }
        };
        Listing { total, rows, page }
    }
}

impl<M> Listing<M> {
    fn into_page(self, rendered: Rendered) -> ResourcePage {
        ResourcePage {
            total: self.total,
            page: self.page,
            resources: rendered.resources,
            members: rendered.members,
        }
    }
}

/// A resource table that can be listed.
pub(super) trait Listed: Paged {
    /// A row as a page reads it.
    type Row: PageRow + Keyed + Clone;

    /// The rows as the response shows them, with what they need loaded.
    fn views<'a, S: Source>(
        services: &'a Services,
        c: &'a S,
        ctx: &'a Ctx,
        rows: &'a [Self::Row],
        projection: &'a Projection<'a>,
    ) -> impl Future<Output = Result<Rendered, ServiceError>> + 'a;
}

impl Listed for user::Entity {
    type Row = UserRow;

    async fn views<'a, S: Source>(
        services: &'a Services,
        c: &'a S,
        ctx: &'a Ctx,
        rows: &'a [UserRow],
        projection: &'a Projection<'a>,
    ) -> Result<Rendered, ServiceError> {
        Ok(services.user_items(c, ctx, rows, projection).await?.into())
    }
}

impl Listed for group::Entity {
    type Row = group::Model;

    async fn views<'a, S: Source>(
        services: &'a Services,
        c: &'a S,
        ctx: &'a Ctx,
        rows: &'a [group::Model],
        projection: &'a Projection<'a>,
    ) -> Result<Rendered, ServiceError> {
        let views = services.group_views(c, ctx, rows, projection).await?;
        Ok(Rendered {
            resources: views.resources.into_iter().map(PageItem::View).collect(),
            members: views.members,
        })
    }
}

impl Services {
    pub async fn list(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        params: &ListParams,
    ) -> Result<ResourcePage, ServiceError> {
        match kind {
            ResourceKind::User => self.list_of::<user::Entity>(ctx, params).await,
            ResourceKind::Group => self.list_of::<group::Entity>(ctx, params).await,
        }
    }

    async fn list_of<E: Listed>(
        &self,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<ResourcePage, ServiceError> {
        let projection = params.projection(&self.registry, E::KIND)?;
        let query = self.list_query::<E>(ctx, params, &projection)?;
        // A filtered list is usually a lookup (`userName eq "…"`, the first
        // thing an IdP sends for every user) that ends within its page:
        // the page then gives the total, and with no count to agree with
        // it needs no transaction either. Three round trips fewer.
        if params.filter.is_some() {
            let reads = self.db.reads();
            let rows = query.fetch(&reads).await?;
            if let Some(total) = query.total_from_page(&rows) {
                let listing = query.finish(self, rows, total);
                let resources = E::views(self, &reads, ctx, &listing.rows, &projection).await?;
                return Ok(listing.into_page(resources));
            }
        }
        let txn = self.db.snapshot().await?;
        let listing = self.counted_rows(&txn, query).await?;
        let resources = E::views(self, &txn, ctx, &listing.rows, &projection).await?;
        txn.commit().await?;
        Ok(listing.into_page(resources))
    }

    /// A page and its total in one snapshot. An unfiltered list's total
    /// is its tenant's count (`store::counts`), and an index page of one
    /// in the default order starts where an earlier page ended when it can
    /// (`page_ends`), then is remembered for the page after it.
    async fn counted_rows<E: Listed, C: ConnectionTrait>(
        &self,
        c: &C,
        mut query: ListQuery<'_, E>,
    ) -> Result<Listing<E::Row>, ServiceError> {
        if query.params.filter.is_some() {
            return query.rows(self, c, None).await;
        }
        let tally = counts::tally(c, query.tenant, E::KIND).await?;
        let resumable =
            query.params.sort_by.is_none() && matches!(query.params.paging, Paging::Index { .. });
        let Start::Offset(offset) = query.start else {
            return query.rows(self, c, Some(tally)).await;
        };
        if !resumable {
            return query.rows(self, c, Some(tally)).await;
        }
        if offset > 0 {
            let ends = &self.page_ends;
            query.start = ends
                .resume::<E, _>(c, query.tenant, &query.sort, offset, tally)
                .await?;
        }
        let listing = query.rows(self, c, Some(tally)).await?;
        if let Some(last) = listing.rows.last() {
            let through = offset + listing.rows.len() as u64;
            let position = query.sort.position(last);
            self.page_ends
                .remember::<E, _>(c, query.tenant, &query.sort, through, position, tally)
                .await?;
        }
        Ok(listing)
    }

    /// Users as the response shows them, written out: their groups only
    /// if the response carries them, as read with the page or else in one
    /// query for the page.
    async fn user_items<S: Source>(
        &self,
        c: &S,
        ctx: &Ctx,
        rows: &[UserRow],
        projection: &Projection<'_>,
    ) -> Result<Vec<PageItem>, ServiceError> {
        let memberships = if projection.includes("groups") && !rows.is_empty() {
            page_groups(c, ctx, rows).await?
        } else {
            Vec::new()
        };
        let by_user = group_by(&memberships, |m| m.member_id);
        let item = |r: &UserRow| {
            let groups = by_user.get(&r.doc.id).map_or(&[][..], Vec::as_slice);
            let encoded = user_encoded(ctx, &r.doc, groups, projection)?;
            Ok(PageItem::Written(encoded.body))
        };
        rows.iter().map(item).collect()
    }

    /// Groups as the response shows them: members are read only if the
    /// response carries them, with the page when they are few, streamed
    /// after it when not (see `members`).
    pub(super) async fn group_views<S: Source>(
        &self,
        c: &S,
        ctx: &Ctx,
        rows: &[group::Model],
        projection: &Projection<'_>,
    ) -> Result<Rendered<ResourceView>, ServiceError> {
        let quiet;
        let projection = if ctx.dialect.member_display {
            projection
        } else {
            quiet = projection.also_excluding("members.display")?;
            &quiet
        };
        let render = |r: &group::Model, members: Option<&[&MemberRow]>| {
            let mut view = group_view(ctx, r, members);
            projection.apply(&mut view.body);
            if members.is_some_and(<[_]>::is_empty) {
                list_no_members(ctx, &mut view.body);
            }
            view
        };
        let shape = projection.element("members");
        let Some(shape) = shape.filter(|_| !rows.is_empty()) else {
            return Ok(rows
                .iter()
                .map(|r| render(r, None))
                .collect::<Vec<_>>()
                .into());
        };
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let batch = self.settings.member_batch;
        let feed = MemberFeed::start(c, &self.db, ctx, &ids, shape, batch).await?;
        if feed.all_read() {
            let by_group = feed.into_read();
            return Ok(rows
                .iter()
                .map(|r| {
                    let members: Vec<&MemberRow> = by_group
                        .get(&r.id)
                        .map(|m| m.iter().collect())
                        .unwrap_or_default();
                    render(r, Some(&members))
                })
                .collect::<Vec<_>>()
                .into());
        }
        Ok(Rendered {
            resources: rows.iter().map(|r| render(r, None)).collect(),
            members: Some(feed),
        })
    }

    /// What a list request asks the database for, worked out before any
    /// statement runs.
    fn list_query<'p, E: Listed>(
        &self,
        ctx: &Ctx,
        params: &'p ListParams,
        projection: &Projection<'_>,
    ) -> Result<ListQuery<'p, E>, ServiceError> {
        let kind = E::KIND;
        let resolver = self.resolver(ctx, kind);
        let cond = match &params.filter {
            Some(f) => filter_condition(&resolver, f)?,
            None => sea_orm::Condition::all(),
        };
        let sort = resolver.sort(params.sort_by.as_ref(), params.descending)?;
        let (start, carried_total) = match &params.paging {
            Paging::Index { start_index } => (Start::Offset(start_index - 1), None),
            Paging::Cursor(None) => (Start::Offset(0), None),
            Paging::Cursor(Some(text)) => {
                let c = self.open_cursor(text, &fingerprint(ctx.tenant, kind, params))?;
                (c.0, Some(c.1))
            }
        };
        let cursor_mode = matches!(params.paging, Paging::Cursor(_));
        Ok(ListQuery {
            tenant: ctx.tenant,
            cond,
            params,
            sort,
            start,
            carried_total,
            // One row more than asked tells whether another page follows.
            limit: u64::from(params.count) + u64::from(cursor_mode),
            groups: projection.includes("groups"),
            entity: PhantomData,
        })
    }

    /// The start a cursor names and the total it carries.
    fn open_cursor(&self, text: &str, query_id: &str) -> Result<(Start, u64), ScimError> {
        let cursor = &self.settings.cursor;
        let c = Cursor::decode(
            &cursor.key,
            text,
            query_id,
            now_ms() / 1000,
            cursor.timeout_secs,
        )?;
        let id = Uuid::parse_str(&c.id)
            .map_err(|_| ScimError::invalid_cursor("the cursor names no resource"))?;
        let position = Position { key: c.key, id };
        let start = if c.backwards {
            Start::Before(position)
        } else {
            Start::After(position)
        };
        Ok((start, c.total))
    }
}

impl From<PageError> for ServiceError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::Db(e) => Self::Db(e),
            PageError::Scim(e) => Self::Scim(e),
        }
    }
}

/// Identifies what a cursor may continue: the tenant, endpoint, filter and
/// order; a cursor of one tenant is no cursor for another. `default`'s
/// fingerprint is what it was before tenants, so its cursors outlive an
/// upgrade. Worked out only for cursor paging: hashing it is a visible
/// share of an index-paged lookup's work.
fn fingerprint(tenant: Uuid, kind: ResourceKind, params: &ListParams) -> String {
    let filter = params.filter.as_ref().map(ToString::to_string);
    let sort_by = params.sort_by.as_ref().map(ToString::to_string);
    let tenant = (tenant != super::DEFAULT_TENANT).then(|| tenant.simple().to_string());
    let parts = [
        kind.name(),
        filter.as_deref().unwrap_or_default(),
        sort_by.as_deref().unwrap_or_default(),
        if params.descending { "d" } else { "a" },
    ];
    match &tenant {
        None => query_fingerprint(&parts),
        Some(t) => query_fingerprint(&[&parts[..], &[t.as_str()]].concat()),
    }
}

struct Cursors<'a> {
    services: &'a Services,
    sort: &'a Sort,
    query_id: &'a str,
    total: u64,
}

impl Cursors<'_> {
    /// Trims the look-ahead row and says which cursors the page has:
    /// `nextCursor` unless it is the last page, `previousCursor` unless it
    /// is the first.
    fn page<M: Keyed>(&self, start: &Start, rows: &mut Vec<M>, count: u64) -> PageInfo {
        let more = rows.len() as u64 > count;
        let backwards = matches!(start, Start::Before(_));
        if more {
            // The extra row is the one farthest from where the page starts.
            if backwards {
                rows.remove(0);
            } else {
                rows.pop();
            }
        }
        let (has_next, has_previous) = match start {
            Start::Before(_) => (true, more),
            Start::After(_) => (more, true),
            Start::Offset(_) | Start::Resume(..) => (more, false),
        };
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return PageInfo::default();
        };
        PageInfo {
            start_index: None,
            next_cursor: has_next.then(|| self.encode(last, false)),
            previous_cursor: has_previous.then(|| self.encode(first, true)),
        }
    }

    fn encode<M: Keyed>(&self, row: &M, backwards: bool) -> String {
        let position = self.sort.position(row);
        Cursor {
            query: self.query_id.to_owned(),
            key: position.key,
            id: position.id.to_string(),
            backwards,
            total: self.total,
            issued: now_ms() / 1000,
        }
        .encode(&self.services.settings.cursor.key)
    }
}

/// The groups of a page's users, sorted (`sort_memberships`): from the
/// rows when the page read them, else in one query.
async fn page_groups<S: Source>(
    c: &S,
    ctx: &Ctx,
    rows: &[UserRow],
) -> Result<Vec<MembershipRow>, ServiceError> {
    let mut read = Vec::new();
    for row in rows {
        match row.groups()? {
            Some(groups) => read.extend(groups),
            None => {
                let ids: Vec<Uuid> = rows.iter().map(|r| r.doc.id).collect();
                return Ok(memberships::groups_of(c, ctx.tenant, &ids).await?);
            }
        }
    }
    memberships::sort_memberships(&mut read);
    Ok(read)
}
