//! Listing resources of one type: filter, order and page (by index or by
//! cursor) in one read transaction, so that the count and the page agree.
//! Users and groups differ only in what they load besides the rows.

use entity::{group, user};
use sea_orm::{
    Condition, DatabaseTransaction, EntityTrait, FromQueryResult, Select, TransactionTrait,
};
use uuid::Uuid;

use super::render::{ResourceView, group_by, group_view, user_view};
use super::{Ctx, ServiceError, Services};
use crate::scim::ScimError;
use crate::scim::cursor::{Cursor, query_fingerprint};
use crate::scim::list::{ListParams, PageInfo, Paging};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::store::query::filter_condition;
use crate::store::query::page::{self, Keyed, PageError, Position, Sort, Start};
use crate::store::{groups as group_store, users as user_store};
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
    pub resources: Vec<ResourceView>,
}

/// A resource table that can be listed.
pub(super) trait Listed:
    EntityTrait<Model: FromQueryResult + Keyed + Sized + Send + Sync>
{
    const KIND: ResourceKind;

    /// The rows of one tenant that satisfy `cond`.
    fn matching(tenant: Uuid, cond: Condition) -> Select<Self>;

    /// The rows as the response shows them, with what they need loaded.
    fn views<'a>(
        services: &'a Services,
        txn: &'a DatabaseTransaction,
        ctx: &'a Ctx,
        rows: &'a [Self::Model],
        projection: &'a Projection<'a>,
    ) -> impl Future<Output = Result<Vec<ResourceView>, ServiceError>> + 'a;
}

impl Listed for user::Entity {
    const KIND: ResourceKind = ResourceKind::User;

    fn matching(tenant: Uuid, cond: Condition) -> Select<Self> {
        user_store::matching(tenant, cond)
    }

    fn views<'a>(
        services: &'a Services,
        txn: &'a DatabaseTransaction,
        ctx: &'a Ctx,
        rows: &'a [user::Model],
        projection: &'a Projection<'a>,
    ) -> impl Future<Output = Result<Vec<ResourceView>, ServiceError>> + 'a {
        services.user_views(txn, ctx, rows, projection)
    }
}

impl Listed for group::Entity {
    const KIND: ResourceKind = ResourceKind::Group;

    fn matching(tenant: Uuid, cond: Condition) -> Select<Self> {
        group_store::matching(tenant, cond)
    }

    fn views<'a>(
        services: &'a Services,
        txn: &'a DatabaseTransaction,
        ctx: &'a Ctx,
        rows: &'a [group::Model],
        projection: &'a Projection<'a>,
    ) -> impl Future<Output = Result<Vec<ResourceView>, ServiceError>> + 'a {
        services.group_views(txn, ctx, rows, projection)
    }
}

impl Services {
    pub async fn list_users(
        &self,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<ResourcePage, ServiceError> {
        self.list::<user::Entity>(ctx, params).await
    }

    pub async fn list_groups(
        &self,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<ResourcePage, ServiceError> {
        self.list::<group::Entity>(ctx, params).await
    }

    async fn list<E: Listed>(
        &self,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<ResourcePage, ServiceError> {
        let projection = params.projection(&self.registry, E::KIND.name())?;
        let txn = self.db.begin().await?;
        let listing = self.list_rows::<E>(&txn, ctx, params).await?;
        let resources = E::views(self, &txn, ctx, &listing.rows, &projection).await?;
        txn.commit().await?;
        Ok(ResourcePage {
            total: listing.total,
            page: listing.page,
            resources,
        })
    }

    /// Users as the response shows them: their groups are read (in one
    /// query for the page) only if the response carries them.
    pub(super) async fn user_views(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        rows: &[user::Model],
        projection: &Projection<'_>,
    ) -> Result<Vec<ResourceView>, ServiceError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let memberships = if projection.includes("groups") && !ids.is_empty() {
            group_store::groups_of(txn, ctx.tenant, &ids).await?
        } else {
            Vec::new()
        };
        let by_user = group_by(&memberships, |m| m.member_id);
        Ok(rows
            .iter()
            .map(|r| {
                let groups = by_user.get(&r.id).map_or(&[][..], Vec::as_slice);
                let mut view = user_view(ctx, r, groups);
                projection.apply(&mut view.body);
                view
            })
            .collect())
    }

    /// Groups as the response shows them: members are read (in one query
    /// for the page) only if the response carries them.
    pub(super) async fn group_views(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        rows: &[group::Model],
        projection: &Projection<'_>,
    ) -> Result<Vec<ResourceView>, ServiceError> {
        let with_members = projection.includes("members");
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let members = if with_members && !ids.is_empty() {
            group_store::members_of(txn, ctx.tenant, &ids).await?
        } else {
            Vec::new()
        };
        let by_group = group_by(&members, |m| m.group_id);
        Ok(rows
            .iter()
            .map(|r| {
                let m = with_members.then(|| by_group.get(&r.id).map_or(&[][..], Vec::as_slice));
                let mut view = group_view(ctx, r, m);
                projection.apply(&mut view.body);
                view
            })
            .collect())
    }

    pub(super) async fn list_rows<E: Listed>(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<Listing<E::Model>, ServiceError> {
        let kind = E::KIND;
        let select = |cond| E::matching(ctx.tenant, cond);
        let resolver = self.resolver(ctx, kind);
        let cond = match &params.filter {
            Some(f) => filter_condition(&resolver, f)?,
            None => sea_orm::Condition::all(),
        };
        let sort = resolver.sort(params.sort_by.as_ref(), params.descending)?;
        let query_id = fingerprint(kind, params);
        let (start, carried_total) = match &params.paging {
            Paging::Index { start_index } => (Start::Offset(start_index - 1), None),
            Paging::Cursor(None) => (Start::Offset(0), None),
            Paging::Cursor(Some(text)) => {
                let c = self.open_cursor(text, &query_id)?;
                (c.0, Some(c.1))
            }
        };
        // A cursor carries the total from the first page: counting again
        // on every page would cost O(all rows) however deep the page is.
        let total = match carried_total {
            Some(n) => n,
            None => page::count(txn, select(cond.clone()), kind, params.filter.is_some()).await?,
        };
        let cursor_mode = matches!(params.paging, Paging::Cursor(_));
        // One row more than asked tells whether another page follows.
        let limit = u64::from(params.count) + u64::from(cursor_mode);
        let mut rows = if params.count == 0 {
            Vec::new()
        } else {
            page::fetch(
                txn,
                select(cond),
                page::id_column(kind),
                &sort,
                &start,
                limit,
            )
            .await
            .map_err(|e| match e {
                PageError::Db(e) => ServiceError::Db(e),
                PageError::Scim(e) => ServiceError::Scim(e),
            })?
        };
        let page = match &params.paging {
            Paging::Index { start_index } => PageInfo {
                start_index: Some(*start_index),
                ..PageInfo::default()
            },
            Paging::Cursor(_) => {
                let cursors = Cursors {
                    services: self,
                    sort: &sort,
                    query_id: &query_id,
                    total,
                };
                cursors.page(&start, &mut rows, u64::from(params.count))
            }
        };
        Ok(Listing { total, rows, page })
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

/// Identifies what a cursor may continue: the endpoint, filter and order.
fn fingerprint(kind: ResourceKind, params: &ListParams) -> String {
    let filter = params.filter.as_ref().map(ToString::to_string);
    let sort_by = params.sort_by.as_ref().map(ToString::to_string);
    query_fingerprint(&[
        kind.name(),
        filter.as_deref().unwrap_or_default(),
        sort_by.as_deref().unwrap_or_default(),
        if params.descending { "d" } else { "a" },
    ])
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
            Start::Offset(_) => (more, false),
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
