//! `POST /.search` at the root (RFC 7644 §3.4.3): one query over Users and
//! Groups. A term naming an attribute a resource type lacks matches
//! nothing of that type, per term (RFC 7644 §3.4.2.2: an unknown attribute
//! in one type is no error when another type has it), so `userName eq "a"
//! or displayName eq "b"` finds both users and groups; only an attribute
//! no type has is `invalidFilter`.
//!
//! Order: with `sortBy`, both types merged by the sort key then id (a type
//! lacking the attribute sorts as "no value"); without it, users in
//! creation order, then groups. Index paging only: a cursor would have to
//! hold a position in two tables at once, so cursors are offered on each
//! resource type's endpoint instead.

use entity::{group, user};
use sea_orm::{Condition, DatabaseTransaction};

use super::list::{Listed, Rendered, ResourcePage};
use super::{Ctx, ServiceError, Services};
use crate::scim::ScimError;
use crate::scim::filter::{AttrPath, Filter};
use crate::scim::list::{ListParams, PageInfo, Paging};
use crate::scim::resource::ResourceKind;
use crate::store::query::filter_condition;
use crate::store::query::page;
use crate::store::query::sort::{Position, Sort, Start, compare_positions};
use crate::store::users::UserRow;

/// One resource type's part of the search.
struct Part {
    cond: Condition,
    sort: Sort,
    total: u64,
}

/// A filter as one resource type reads it.
enum Within {
    /// Matches every resource of the type.
    Always,
    /// Matches none.
    Never,
    Filter(Filter),
}

impl Within {
    fn known(f: &Filter, known: bool) -> Self {
        if known {
            Self::Filter(f.clone())
        } else {
            Self::Never
        }
    }

    /// `and` (`all`) or `or` of the operands, the constant ones folded.
    fn join(operands: impl Iterator<Item = Self>, all: bool) -> Self {
        let (absorbing, neutral) = if all {
            (Self::Never, Self::Always)
        } else {
            (Self::Always, Self::Never)
        };
        let mut kept = Vec::new();
        for op in operands {
            match op {
                Self::Filter(f) => kept.push(f),
                Self::Always if all => {}
                Self::Never if !all => {}
                _ => return absorbing,
            }
        }
        match kept.len() {
            0 => neutral,
            1 => Self::Filter(kept.remove(0)),
            _ if all => Self::Filter(Filter::And(kept)),
            _ => Self::Filter(Filter::Or(kept)),
        }
    }
}

enum Row {
    User(UserRow),
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
        if let Some(f) = &params.filter
            && self.known_nowhere(f)
        {
            // An attribute no type has: report it as for /Users.
            filter_condition(&self.resolver(ctx, ResourceKind::User), f)?;
        }
        let txn = self.db.snapshot().await?;
        let users = self.part::<user::Entity>(&txn, ctx, params).await?;
        let groups = self.part::<group::Entity>(&txn, ctx, params).await?;
        let total = users.as_ref().map_or(0, |p| p.total) + groups.as_ref().map_or(0, |p| p.total);
        let offset = start_index - 1;
        let count = u64::from(params.count);
        // A page past the end is empty: nothing to read, however far past.
        let rows = if count == 0 || offset >= total {
            Vec::new()
        } else if params.sort_by.is_some() {
            let window = (offset, count);
            self.merged(&txn, ctx, (&users, &groups), window, params.descending)
                .await?
        } else {
            self.concatenated(&txn, ctx, (&users, &groups), (offset, count))
                .await?
        };
        let rendered = self.render_rows(&txn, ctx, params, rows).await?;
        txn.commit().await?;
        Ok(ResourcePage {
            total,
            page: PageInfo {
                start_index: Some(start_index),
                ..PageInfo::default()
            },
            resources: rendered.resources,
            members: rendered.members,
        })
    }

    /// The type's condition, order and count; `None` when the filter names
    /// an attribute the type does not have.
    async fn part<E: Listed>(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        params: &ListParams,
    ) -> Result<Option<Part>, ServiceError> {
        let kind = E::KIND;
        let resolver = self.resolver(ctx, kind);
        let cond = match params.filter.as_ref().map(|f| self.within(kind, f)) {
            None | Some(Within::Always) => Condition::all(),
            Some(Within::Never) => return Ok(None),
            Some(Within::Filter(f)) => filter_condition(&resolver, &f)?,
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
        let filtered = params.filter.is_some();
        let total = page::count::<E, _>(txn, ctx.tenant, cond.clone(), filtered).await?;
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

    /// Whether some term of `f` names an attribute neither type has.
    fn known_nowhere(&self, f: &Filter) -> bool {
        let unknown = |p: &AttrPath| {
            !self.knows(ResourceKind::User, p) && !self.knows(ResourceKind::Group, p)
        };
        match f {
            Filter::Compare { path, .. } | Filter::Present(path) => unknown(path),
            Filter::ValuePath { attr, .. } => unknown(attr),
            Filter::Not(inner) => self.known_nowhere(inner),
            Filter::And(all) | Filter::Or(all) => all.iter().any(|f| self.known_nowhere(f)),
        }
    }

    /// `f` as it reads for `kind`: a term naming an attribute the type
    /// lacks is false there (an absent attribute equals nothing and is not
    /// present), so `userName eq "a" or displayName eq "b"` still finds
    /// groups by their displayName.
    fn within(&self, kind: ResourceKind, f: &Filter) -> Within {
        match f {
            Filter::Compare { path, .. } | Filter::Present(path) => {
                Within::known(f, self.knows(kind, path))
            }
            Filter::ValuePath { attr, .. } => Within::known(f, self.knows(kind, attr)),
            Filter::Not(inner) => match self.within(kind, inner) {
                Within::Never => Within::Always,
                Within::Always => Within::Never,
                Within::Filter(f) => Within::Filter(Filter::Not(Box::new(f))),
            },
            Filter::And(all) => Within::join(all.iter().map(|f| self.within(kind, f)), true),
            Filter::Or(any) => Within::join(any.iter().map(|f| self.within(kind, f)), false),
        }
    }

    /// Users then groups: each part pages in the database.
    async fn concatenated(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        (users, groups): (&Option<Part>, &Option<Part>),
        (offset, count): (u64, u64),
    ) -> Result<Vec<Row>, ServiceError> {
        let mut rows = Vec::new();
        let user_total = users.as_ref().map_or(0, |p| p.total);
        if let Some(p) = users.as_ref().filter(|_| offset < user_total) {
            let found = fetch::<user::Entity>(txn, ctx, p, offset, count).await?;
            rows.extend(found.into_iter().map(Row::User));
        }
        let left = count.saturating_sub(rows.len() as u64);
        if let Some(p) = groups.as_ref().filter(|_| left > 0) {
            let skip = offset.saturating_sub(user_total);
            let found = fetch::<group::Entity>(txn, ctx, p, skip, left).await?;
            rows.extend(found.into_iter().map(Row::Group));
        }
        Ok(rows)
    }

    /// Both parts in sort order, merged. Each part reads its first
    /// `offset + count` rows, so deep root-search pages cost more than
    /// per-type pages.
    async fn merged(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        (users, groups): (&Option<Part>, &Option<Part>),
        (offset, count): (u64, u64),
        descending: bool,
    ) -> Result<Vec<Row>, ServiceError> {
        // Within what the databases bind as a row count (i64).
        let window = offset.saturating_add(count).min(i64::MAX as u64);
        let mut keyed: Vec<(Position, Row)> = Vec::new();
        if let Some(p) = users {
            let found = fetch::<user::Entity>(txn, ctx, p, 0, window).await?;
            keyed.extend(
                found
                    .into_iter()
                    .map(|r| (p.sort.position(&r), Row::User(r))),
            );
        }
        if let Some(p) = groups {
            let found = fetch::<group::Entity>(txn, ctx, p, 0, window).await?;
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

    /// Rows of one type rendered with that type's projection.
    async fn views<E: Listed>(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        params: &ListParams,
        rows: &[E::Row],
    ) -> Result<Rendered, ServiceError> {
        let projection = params.projection(&self.registry, E::KIND)?;
        E::views(self, txn, ctx, rows, &projection).await
    }

    /// Renders the rows in their order, each type with its own projection.
    async fn render_rows(
        &self,
        txn: &DatabaseTransaction,
        ctx: &Ctx,
        params: &ListParams,
        rows: Vec<Row>,
    ) -> Result<Rendered, ServiceError> {
        let (mut users, mut groups) = (Vec::new(), Vec::new());
        for row in &rows {
            match row {
                Row::User(u) => users.push(u.clone()),
                Row::Group(g) => groups.push(g.clone()),
            }
        }
        let users = self.views::<user::Entity>(txn, ctx, params, &users).await?;
        let groups = self
            .views::<group::Entity>(txn, ctx, params, &groups)
            .await?;
        let (mut user_views, mut group_views) =
            (users.resources.into_iter(), groups.resources.into_iter());
        let resources = rows
            .iter()
            .filter_map(|row| match row {
                Row::User(_) => user_views.next(),
                Row::Group(_) => group_views.next(),
            })
            .collect();
        Ok(Rendered {
            resources,
            members: groups.members,
        })
    }
}

/// Up to `limit` rows of one part, from `offset`, in its order.
async fn fetch<E: Listed>(
    txn: &DatabaseTransaction,
    ctx: &Ctx,
    part: &Part,
    offset: u64,
    limit: u64,
) -> Result<Vec<E::Row>, ServiceError> {
    let start = Start::Offset(offset);
    // Groups are read for the page's users after the merge: a merged
    // page reads rows it then drops.
    let groups = false;
    page::fetch::<E, _, _>(
        txn,
        ctx.tenant,
        part.cond.clone(),
        &part.sort,
        &start,
        limit,
        groups,
    )
    .await
    .map_err(ServiceError::from)
}
