//! The `group_members` table, in both directions: the members of groups
//! (for `members`) and the groups of members (for a user's `groups`).

use std::sync::LazyLock;

use entity::{group, group_member, user};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, SqliteQueryBuilder,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbBackend, DbErr, EntityTrait, JsonValue as Json,
    QueryFilter, QueryTrait, Statement,
};
use uuid::Uuid;

use super::exec::{Decode, Row, Source, Template, Write};

pub async fn add_members<C: Write>(
    c: &C,
    tenant: Uuid,
    group_id: Uuid,
    members: &[(Uuid, &'static str)],
) -> Result<(), DbErr> {
    for chunk in members.chunks(super::CHUNK) {
        let models = chunk.iter().map(|(id, kind)| group_member::ActiveModel {
            tenant_id: Set(tenant),
            group_id: Set(group_id),
            member_id: Set(*id),
            member_type: Set((*kind).to_owned()),
        });
        let insert = group_member::Entity::insert_many(models).on_conflict_do_nothing();
        c.exec(insert.build(c.backend())).await?;
    }
    Ok(())
}

pub async fn remove_members<C: Write>(
    c: &C,
    tenant: Uuid,
    group_id: Uuid,
    ids: &[Uuid],
) -> Result<(), DbErr> {
    for chunk in ids.chunks(super::CHUNK) {
        let delete = group_member::Entity::delete_many()
            .filter(group_member::Column::TenantId.eq(tenant))
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::MemberId.is_in(chunk.iter().copied()));
        c.exec(delete.build(c.backend())).await?;
    }
    Ok(())
}

pub async fn clear_members<C: Write>(c: &C, tenant: Uuid, group_id: Uuid) -> Result<(), DbErr> {
    let delete = group_member::Entity::delete_many()
        .filter(group_member::Column::TenantId.eq(tenant))
        .filter(group_member::Column::GroupId.eq(group_id));
    c.exec(delete.build(c.backend())).await.map(|_| ())
}

/// Removes a deleted user or group from every group it belonged to.
pub async fn remove_from_all_groups<C: Write>(
    c: &C,
    tenant: Uuid,
    member_id: Uuid,
) -> Result<(), DbErr> {
    let delete = group_member::Entity::delete_many()
        .filter(group_member::Column::TenantId.eq(tenant))
        .filter(group_member::Column::MemberId.eq(member_id));
    c.exec(delete.build(c.backend())).await.map(|_| ())
}

/// A member with what it needs for `display`.
#[derive(Debug)]
pub struct MemberRow {
    pub group_id: Uuid,
    pub member_id: Uuid,
    pub member_type: String,
    pub user_name: Option<String>,
    pub user_display_name: Option<String>,
    pub group_display_name: Option<String>,
}

impl MemberRow {
    /// A user's displayName, else its userName; a group's displayName.
    pub fn display(&self) -> Option<&str> {
        self.user_display_name
            .as_deref()
            .or(self.user_name.as_deref())
            .or(self.group_display_name.as_deref())
    }
}

impl Decode for MemberRow {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            group_id: row.uuid("group_id")?,
            member_id: row.uuid("member_id")?,
            member_type: row.string("member_type")?,
            user_name: row.string_opt("user_name")?,
            user_display_name: row.string_opt("user_display_name")?,
            group_display_name: row.string_opt("group_display_name")?,
        })
    }
}

/// Members of the given groups in one query (no query per group or member).
pub async fn members_of<S: Source>(
    c: &S,
    tenant: Uuid,
    group_ids: &[Uuid],
) -> Result<Vec<MemberRow>, DbErr> {
    let mut rows = Vec::new();
    for chunk in group_ids.chunks(super::CHUNK) {
        let stmt = members_query(tenant, chunk);
        rows.extend(c.rows::<MemberRow>(c.backend().build(&stmt)).await?);
    }
    Ok(rows)
}

/// At most `limit` members of the given groups (no more than `CHUNK`), in
/// (group, member) order: the start of what `members_of` reads, for a
/// caller that reads the rest with `members_after`.
pub async fn first_members<S: Source>(
    c: &S,
    tenant: Uuid,
    group_ids: &[Uuid],
    limit: u64,
) -> Result<Vec<MemberRow>, DbErr> {
    let stmt = members_query(tenant, group_ids).limit(limit).to_owned();
    c.rows(c.backend().build(&stmt)).await
}

/// The next `limit` members of one group in member order, after `after`
/// (from the first when `None`): a keyset read along the primary key, as
/// cheap deep in a large group as at its start.
pub async fn members_after<S: Source>(
    c: &S,
    tenant: Uuid,
    group_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<MemberRow>, DbErr> {
    let mut stmt = members_query(tenant, &[group_id]);
    if let Some(after) = after {
        stmt.and_where(Expr::col((group_member::Entity, group_member::Column::MemberId)).gt(after));
    }
    let stmt = stmt.limit(limit).to_owned();
    c.rows(c.backend().build(&stmt)).await
}

fn members_query(tenant: Uuid, group_ids: &[Uuid]) -> SelectStatement {
    let (gm, mu, mg) = (group_member::Entity, Alias::new("mu"), Alias::new("mg"));
    Query::select()
        .column((gm, group_member::Column::GroupId))
        .column((gm, group_member::Column::MemberId))
        .column((gm, group_member::Column::MemberType))
        .expr_as(
            Expr::col((mu.clone(), user::Column::UserName)),
            Alias::new("user_name"),
        )
        .expr_as(
            Expr::col((mu.clone(), user::Column::DisplayName)),
            Alias::new("user_display_name"),
        )
        .expr_as(
            Expr::col((mg.clone(), group::Column::DisplayName)),
            Alias::new("group_display_name"),
        )
        .from(gm)
        .join_as(
            JoinType::LeftJoin,
            user::Entity,
            mu.clone(),
            Condition::all()
                .add(
                    Expr::col((mu.clone(), user::Column::TenantId))
                        .equals((gm, group_member::Column::TenantId)),
                )
                .add(
                    Expr::col((mu, user::Column::Id)).equals((gm, group_member::Column::MemberId)),
                ),
        )
        .join_as(
            JoinType::LeftJoin,
            group::Entity,
            mg.clone(),
            Condition::all()
                .add(
                    Expr::col((mg.clone(), group::Column::TenantId))
                        .equals((gm, group_member::Column::TenantId)),
                )
                .add(
                    Expr::col((mg, group::Column::Id)).equals((gm, group_member::Column::MemberId)),
                ),
        )
        .and_where(Expr::col((gm, group_member::Column::TenantId)).eq(tenant))
        .and_where(Expr::col((gm, group_member::Column::GroupId)).is_in(group_ids.iter().copied()))
        .order_by((gm, group_member::Column::GroupId), sea_orm::Order::Asc)
        .order_by((gm, group_member::Column::MemberId), sea_orm::Order::Asc)
        .to_owned()
}

/// A group that a user (or group) belongs to, for the read-only `groups`.
#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub member_id: Uuid,
    pub group_id: Uuid,
    pub display_name: String,
}

impl Decode for MembershipRow {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            member_id: row.uuid("member_id")?,
            group_id: row.uuid("group_id")?,
            display_name: row.string("display_name")?,
        })
    }
}

/// The direct groups of the given members, in one query per chunk.
pub async fn groups_of<S: Source>(
    c: &S,
    tenant: Uuid,
    member_ids: &[Uuid],
) -> Result<Vec<MembershipRow>, DbErr> {
    static GROUPS_OF: Template = Template::new(groups_of_statement);
    let mut rows = Vec::new();
    for chunk in member_ids.chunks(super::CHUNK) {
        let keys: Vec<Uuid> = std::iter::once(tenant)
            .chain(chunk.iter().copied())
            .collect();
        let found: Vec<MembershipRow> = c.rows(GROUPS_OF.statement(c.backend(), &keys)).await?;
        rows.extend(found);
    }
    sort_memberships(&mut rows);
    Ok(rows)
}

/// `keys`: the tenant, then the members.
fn groups_of_statement(keys: &[Uuid], backend: DbBackend) -> Statement {
    let (gm, g) = (group_member::Entity, group::Entity);
    let (tenant, members) = (keys[0], &keys[1..]);
    let stmt = Query::select()
        .column((gm, group_member::Column::MemberId))
        .column((gm, group_member::Column::GroupId))
        .column((g, group::Column::DisplayName))
        .from(gm)
        .inner_join(g, membership_group())
        .and_where(Expr::col((gm, group_member::Column::TenantId)).eq(tenant))
        .and_where(Expr::col((gm, group_member::Column::MemberId)).is_in(members.iter().copied()))
        .to_owned();
    backend.build(&stmt)
}

/// The order `groups` is shown in: by display name, then id, compared as
/// Rust compares strings, so that both databases (whose collations differ)
/// and both ways of reading memberships give one order.
pub fn sort_memberships(rows: &mut [MembershipRow]) {
    rows.sort_by(|a, b| (&a.display_name, a.group_id).cmp(&(&b.display_name, b.group_id)));
}

/// Joins `groups` to the `group_members` rows naming it.
pub fn membership_group() -> Condition {
    let (gm, g) = (group_member::Entity, group::Entity);
    Condition::all()
        .add(Expr::col((g, group::Column::TenantId)).equals((gm, group_member::Column::TenantId)))
        .add(Expr::col((g, group::Column::Id)).equals((gm, group_member::Column::GroupId)))
}

/// The `group_members` rows whose member is the `users` row at hand.
pub fn user_memberships() -> Condition {
    let gm = group_member::Entity;
    Condition::all()
        .add(
            Expr::col((gm, group_member::Column::TenantId))
                .equals((user::Entity, user::Column::TenantId)),
        )
        .add(
            Expr::col((gm, group_member::Column::MemberId))
                .equals((user::Entity, user::Column::Id)),
        )
}

/// The correlated subquery that aggregates a user's groups as JSON
/// (SQLite), as text: it binds no values, and building a subquery's SQL
/// with every list page cost more than the second statement it saves.
pub fn groups_json() -> Expr {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let sub = groups_json_select();
        format!("({})", sub.to_string(SqliteQueryBuilder))
    });
    Expr::cust(SQL.as_str())
}

fn groups_json_select() -> SelectStatement {
    let (gm, g) = (group_member::Entity, group::Entity);
    let pair = Func::cust(Alias::new("json_array"))
        .arg(Func::cust(Alias::new("hex")).arg(Expr::col((gm, group_member::Column::GroupId))))
        .arg(Expr::col((g, group::Column::DisplayName)));
    Query::select()
        .expr(Func::cust(Alias::new("json_group_array")).arg(pair))
        .from(gm)
        .inner_join(g, membership_group())
        .cond_where(user_memberships())
        .to_owned()
}

/// The memberships of `member` from what `groups_json` made of them.
pub fn parse_groups_json(member: Uuid, groups: Option<&Json>) -> Result<Vec<MembershipRow>, DbErr> {
    let bad = || DbErr::Type("malformed groups_json".to_owned());
    let Some(Json::Array(pairs)) = groups else {
        return Ok(Vec::new());
    };
    pairs
        .iter()
        .map(|pair| {
            let (Some(hex), Some(name)) = (
                pair.get(0).and_then(Json::as_str),
                pair.get(1).and_then(Json::as_str),
            ) else {
                return Err(bad());
            };
            Ok(MembershipRow {
                member_id: member,
                group_id: Uuid::parse_str(hex).map_err(|_| bad())?,
                display_name: name.to_owned(),
            })
        })
        .collect()
}
