//! `POST /.search` at the root (RFC 7644 §3.4.3): one query over Users and
//! Groups. A resource type whose schemas lack an attribute the filter
//! names simply has no matches (RFC 7644 §3.4.2.2: an unknown attribute in
//! one type is no error when another type has it); only a filter no type
//! understands is `invalidFilter`.
//!
//! Order: with `sortBy`, both types merged by the sort key then id (a type
//! lacking the attribute sorts as "no value"); without it, users in
//! creation order, then groups. Index paging only: a cursor would have to
//! hold a position in two tables at once, so cursors are offered on each
//! resource type's endpoint instead.

use entity::{group, user};
use sea_orm::{
    Condition, DatabaseTransaction, EntityTrait, FromQueryResult, PaginatorTrait, Select,
    TransactionTrait,
};

use super::list::ResourcePage;
use super::render::ResourceView;
use super::{Ctx, ServiceError, Services};
use crate::scim::ScimError;
use crate::scim::filter::{AttrPath, Filter};
use crate::scim::list::{ListParams, PageInfo, Paging};
use crate::scim::resource::ResourceKind;
use crate::store::query::filter_condition;
use crate::store::query::page::{self, Keyed, Position, Sort, Start, compare_positions};
use crate::store::{groups as group_store, users as user_store};

/// One resource type's part of the search.
struct Part {
    cond: Condition,
    sort: Sort,
    total: u64,
}

enum Row {
    User(user::Model),
    Group(group::Model),
}

impl Services {
    pub async fn search_all(
        &self,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<ResourcePage, ServiceError> {
        let Paging::Index { start_index } = params.paging else {
            return Err(ScimError::invalid_value(
                "cursor paging is offered per resource type (/Users/.search, \
                 /Groups/.search); the root search pages with startIndex and count",
            )
            .into());
        };
        let txn = self.db.begin().await?;
        let users = self
            .part(&txn, ctx, ResourceKind::User, params, |c| {
                user_store::matching(ctx.tenant, c)
            })
            .await?;
        let groups = self
            .part(&txn, ctx, ResourceKind::Group, params, |c| {
                group_store::matching(ctx.tenant, c)
            })
            .await?;
        if users.is_none() && groups.is_none() {
            // No type knows the attribute: report it as for /Users.
            let resolver = self.resolver(ctx, ResourceKind::User);
            if let Some(f) = &params.filter {
                filter_condition(&resolver, f)?;
            }
        }
        let total = users.as_ref().map_or(0, |p| p.total) + groups.as_ref().map_or(0, |p| p.total);
        let offset = start_index - 1;
        let count = u64::from(params.count);
        let rows = if count == 0 {
            Vec::new()
        } else if params.sort_by.is_some() {
            self.merged(&txn, ctx, &users, &groups, offset, count, params.descending)
                .await?
        } else {
            self.concatenated(&txn, ctx, &users, &groups, offset, count)
                .await?
        };
        let resources = self.render_rows(&txn, ctx, params, rows).await?;
        txn.commit().await?;
        Ok(ResourcePage {
            total,
            page: PageInfo {
                start_index: Some(start_index),
                ..PageInfo::default()
            },
            resources,
        })
    }

    /// The type's condition, order and count; `None` when the filter names
    /// an attribute the type does not have.
    async fn part<E>(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        kind: ResourceKind,
        params: &ListParams,
        select: impl Fn(Condition) -> Select<E>,
    ) -> Result<Option<Part>, ServiceError>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Sized + Send + Sync,
    {
        if let Some(f) = &params.filter
            && !self.knows_all(kind, f)
        {
            return Ok(None);
        }
        let resolver = self.resolver(ctx, kind);
        let cond = match &params.filter {
            Some(f) => filter_condition(&resolver, f)?,
            None => Condition::all(),
        };
        let sort_by = params.sort_by.as_ref().filter(|p| self.knows(kind, p));
        let sort = match (params.sort_by.is_some(), sort_by) {
            // The type lacks the sort attribute: all its rows have no value.
            (true, None) => Sort {
                key: None,
                descending: params.descending,
            },
            (_, by) => resolver.sort(by, params.descending)?,
        };
        let total = select(cond.clone()).count(txn).await?;
        Ok(Some(Part { cond, sort, total }))
    }

    fn knows(&self, kind: ResourceKind, p: &AttrPath) -> bool {
        self.registry
            .resolve(
                kind.name(),
                p.uri.as_deref(),
                &p.name,
                p.sub_attr.as_deref(),
            )
            .is_some()
    }

    fn knows_all(&self, kind: ResourceKind, f: &Filter) -> bool {
        match f {
            Filter::Compare { path, .. } | Filter::Present(path) => self.knows(kind, path),
            Filter::ValuePath { attr, .. } => self.knows(kind, attr),
            Filter::Not(inner) => self.knows_all(kind, inner),
            Filter::And(all) | Filter::Or(all) => all.iter().all(|f| self.knows_all(kind, f)),
        }
    }

    /// Users then groups: each part pages in the database.
    async fn concatenated(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        users: &Option<Part>,
        groups: &Option<Part>,
        offset: u64,
        count: u64,
    ) -> Result<Vec<Row>, ServiceError> {
        let mut rows = Vec::new();
        let user_total = users.as_ref().map_or(0, |p| p.total);
        if let Some(p) = users.as_ref().filter(|_| offset < user_total) {
            let found = fetch(
                txn,
                user_store::matching(ctx.tenant, p.cond.clone()),
                ResourceKind::User,
                &p.sort,
                offset,
                count,
            )
            .await?;
            rows.extend(found.into_iter().map(Row::User));
        }
        let left = count.saturating_sub(rows.len() as u64);
        if let Some(p) = groups.as_ref().filter(|_| left > 0) {
            let skip = offset.saturating_sub(user_total);
            let found = fetch(
                txn,
                group_store::matching(ctx.tenant, p.cond.clone()),
                ResourceKind::Group,
                &p.sort,
                skip,
                left,
            )
            .await?;
            rows.extend(found.into_iter().map(Row::Group));
        }
        Ok(rows)
    }

    /// Both parts in sort order, merged. Each part reads its first
    /// `offset + count` rows, so deep root-search pages cost more than
    /// per-type pages.
    #[allow(clippy::too_many_arguments)]
    async fn merged(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        users: &Option<Part>,
        groups: &Option<Part>,
        offset: u64,
        count: u64,
        descending: bool,
    ) -> Result<Vec<Row>, ServiceError> {
        let window = offset + count;
        let mut keyed: Vec<(Position, Row)> = Vec::new();
        if let Some(p) = users {
            let found = fetch(
                txn,
                user_store::matching(ctx.tenant, p.cond.clone()),
                ResourceKind::User,
                &p.sort,
                0,
                window,
            )
            .await?;
            keyed.extend(
                found
                    .into_iter()
                    .map(|r| (p.sort.position(&r), Row::User(r))),
            );
        }
        if let Some(p) = groups {
            let found = fetch(
                txn,
                group_store::matching(ctx.tenant, p.cond.clone()),
                ResourceKind::Group,
                &p.sort,
                0,
                window,
            )
            .await?;
            keyed.extend(
                found
                    .into_iter()
                    .map(|r| (p.sort.position(&r), Row::Group(r))),
            );
        }
        keyed.sort_by(|a, b| {
            let order = compare_positions(&a.0, &b.0);
            if descending { order.reverse() } else { order }
        });
        Ok(keyed
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(|(_, row)| row)
            .collect())
    }

    /// Renders the rows in their order, each type with its own projection.
    async fn render_rows(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        params: &ListParams,
        rows: Vec<Row>,
    ) -> Result<Vec<ResourceView>, ServiceError> {
        let (mut users, mut groups) = (Vec::new(), Vec::new());
        for row in &rows {
            match row {
                Row::User(u) => users.push(u.clone()),
                Row::Group(g) => groups.push(g.clone()),
            }
        }
        let user_projection = params.projection(&self.registry, ResourceKind::User.name())?;
        let group_projection = params.projection(&self.registry, ResourceKind::Group.name())?;
        let mut user_views = self
            .user_views(txn, ctx, &users, &user_projection)
            .await?
            .into_iter();
        let mut group_views = self
            .group_views(txn, ctx, &groups, &group_projection)
            .await?
            .into_iter();
        Ok(rows
            .iter()
            .filter_map(|row| match row {
                Row::User(_) => user_views.next(),
                Row::Group(_) => group_views.next(),
            })
            .collect())
    }
}

async fn fetch<E>(
    txn: &DatabaseTransaction,
    select: Select<E>,
    kind: ResourceKind,
    sort: &Sort,
    offset: u64,
    limit: u64,
) -> Result<Vec<E::Model>, ServiceError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Keyed + Sized + Send + Sync,
{
    page::fetch(
        txn,
        select,
        page::id_column(kind),
        sort,
        &Start::Offset(offset),
        limit,
    )
    .await
    .map_err(ServiceError::from)
}
