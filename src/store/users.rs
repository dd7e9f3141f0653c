//! The `users` table and its `user_emails`: a user with its groups in one
//! statement, the shapes pages of users read, and the email rows.

use std::sync::LazyLock;

use entity::{group, group_member, user, user_email};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbBackend, DbErr, EntityTrait, JoinType,
    JsonValue as Json, QueryFilter, QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use super::exec::select_list;
use super::exec::{Decode, Row, Source, Template, Write};
use super::memberships::{
    self, MembershipRow, groups_json, membership_group, sort_memberships, user_memberships,
};
use super::query::page::{Columns, PageRow, Paged};
use super::query::sort::{Keyed, Sort};
use super::query::target::KeyColumn;
use crate::scim::resource::ResourceKind;
use crate::scim::user::EmailRow;

/// A user as answers show it, with its groups. The search copy of the
/// document and the password hash are left NULL: no answer contains them,
/// and decoding the search copy costs as much as the document.
///
/// One statement brings both: every statement is a round trip, the
/// largest cost of a GET. On SQLite (a hand-off to the connection's thread
/// and back) the groups come aggregated as JSON by a correlated subquery.
/// MariaDB runs that subquery slower than a second statement, but a join,
/// one row per group, faster than either, with less of the server's CPU
/// per GET.
pub async fn find_with_groups<S: Source>(
    c: &S,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<(UserDoc, Vec<MembershipRow>)>, DbErr> {
    static WITH_GROUPS: Template =
        Template::new(|keys, backend| with_groups(keys[0], keys[1]).build(backend));
    static JOINED: Template =
        Template::new(|keys, backend| joined(keys[0], keys[1]).build(backend));
    let backend = c.backend();
    if backend != DbBackend::Sqlite {
        let rows: Vec<Joined<UserDoc>> = c.rows(JOINED.statement(backend, &[tenant, id])).await?;
        return Ok(Joined::split(rows));
    }
    let found: Option<WithGroups> = c
        .first(WITH_GROUPS.statement(backend, &[tenant, id]))
        .await?;
    found.map(|f| f.split(id)).transpose()
}

/// What an answer shows of a user's row: its document still as text, for
/// `scim::encode` to copy out.
#[derive(Debug, Clone)]
pub struct UserDoc {
    pub id: Uuid,
    pub created_at: i64,
    pub modified_at: i64,
    pub version: i64,
    pub doc: String,
}

impl Decode for UserDoc {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            id: row.uuid("id")?,
            created_at: row.i64("created_at")?,
            modified_at: row.i64("modified_at")?,
            version: row.i64("version")?,
            doc: row.json_text("doc")?,
        })
    }
}

/// A user as a list shows it: its document as text (`UserDoc`) and the
/// columns a page may be ordered by, for its cursors (`query::page::Keyed`).
#[derive(Debug, Clone)]
pub struct UserRow {
    pub doc: UserDoc,
    pub user_name_norm: String,
    pub external_id: Option<String>,
    pub display_name_norm: Option<String>,
    pub active: bool,
    /// NULL unless the page is ordered by an attribute inside it.
    pub doc_search: Option<Json>,
    pub groups: ReadGroups,
}

/// A user's groups as its page read them, if it did.
#[derive(Debug, Clone)]
pub enum ReadGroups {
    NotRead,
    /// As `groups_json` holds them (SQLite, `query::page::Columns::groups`).
    Json(Json),
    /// From the rows of a join (MariaDB, `query::page::fetch_with_groups`).
    Rows(Vec<MembershipRow>),
}

impl ReadGroups {
    fn from_column(column: Option<Json>) -> Self {
        column.map_or(Self::NotRead, Self::Json)
    }
}

impl UserRow {
    /// The user's groups, if they were read with it.
    pub fn groups(&self) -> Result<Option<Vec<MembershipRow>>, DbErr> {
        match &self.groups {
            ReadGroups::NotRead => Ok(None),
            ReadGroups::Json(g) => memberships::parse_groups_json(self.doc.id, Some(g)).map(Some),
            ReadGroups::Rows(rows) => Ok(Some(rows.clone())),
        }
    }
}

impl Decode for UserRow {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            doc: UserDoc::decode(row)?,
            user_name_norm: row.string("user_name_norm")?,
            external_id: row.string_opt("external_id")?,
            display_name_norm: row.string_opt("display_name_norm")?,
            active: row.bool("active")?,
            doc_search: row.json_opt("doc_search")?,
            groups: ReadGroups::from_column(row.json_opt(GROUPS_JSON)?),
        })
    }
}

impl Decode for user::Model {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            tenant_id: row.uuid("tenant_id")?,
            id: row.uuid("id")?,
            user_name: row.string("user_name")?,
            user_name_norm: row.string("user_name_norm")?,
            external_id: row.string_opt("external_id")?,
            display_name: row.string_opt("display_name")?,
            display_name_norm: row.string_opt("display_name_norm")?,
            active: row.bool("active")?,
            created_at: row.i64("created_at")?,
            modified_at: row.i64("modified_at")?,
            version: row.i64("version")?,
            doc: row.json("doc")?,
            doc_search: row.json_opt("doc_search")?,
            password_hash: row.string_opt("password_hash")?,
        })
    }
}

fn with_groups(tenant: Uuid, id: Uuid) -> Select<user::Entity> {
    shown(tenant, id).expr_as(groups_json(), GROUPS_JSON)
}

/// A user's row without the columns no answer shows (NULL in their place).
fn shown(tenant: Uuid, id: Uuid) -> Select<user::Entity> {
    super::shown_columns(user::Entity::find_by_id((tenant, id)), false)
}

const GROUPS_JSON: &str = "groups_json";

/// A user's row once per group it is in (once, with NULL groups, if none),
/// with only the columns `UserDoc` reads: MariaDB describes every column
/// of every result (a packet each, decoded by sqlx), and the row repeats
/// for each group.
fn joined(tenant: Uuid, id: Uuid) -> Select<user::Entity> {
    use user::Column;
    let doc = [
        Column::Id,
        Column::CreatedAt,
        Column::ModifiedAt,
        Column::Version,
        Column::Doc,
    ];
    join_groups(
        user::Entity::find_by_id((tenant, id))
            .select_only()
            .columns(doc),
    )
}

/// Each row of `select` once per group the user is in, with the group's
/// id and name (once, with NULLs, if none).
fn join_groups(mut select: Select<user::Entity>) -> Select<user::Entity> {
    let (gm, g) = (group_member::Entity, group::Entity);
    QueryTrait::query(&mut select)
        .join(JoinType::LeftJoin, gm, user_memberships())
        .join(JoinType::LeftJoin, g, membership_group())
        .expr_as(Expr::col((g, group::Column::Id)), MEMBER_GROUP_ID)
        .expr_as(
            Expr::col((g, group::Column::DisplayName)),
            MEMBER_GROUP_DISPLAY,
        );
    select
}

/// A row of `join_groups`: a user (`UserDoc` for one user, `UserRow` for
/// a page of them) and one of its groups, if it is in any.
pub struct Joined<U> {
    user: U,
    group: Option<(Uuid, String)>,
}

/// A row of a page of users read with `join_groups`.
pub type JoinedUserRow = Joined<UserRow>;

/// The id and name of a group, as a membership of `member_id`.
fn membership(member_id: Uuid, (group_id, display_name): (Uuid, String)) -> MembershipRow {
    MembershipRow {
        member_id,
        group_id,
        display_name,
    }
}

impl Joined<UserDoc> {
    /// The user (from the first row) and its groups, sorted as everywhere
    /// (`sort_memberships`); `None` if the user does not exist.
    fn split(rows: Vec<Self>) -> Option<(UserDoc, Vec<MembershipRow>)> {
        let mut groups = Vec::new();
        let mut user = None;
        for Self {
            user: row_user,
            group,
        } in rows
        {
            groups.extend(group.map(|g| membership(row_user.id, g)));
            user.get_or_insert(row_user);
        }
        sort_memberships(&mut groups);
        user.map(|u| (u, groups))
    }
}

impl Joined<UserRow> {
    /// The first `limit` users of `rows`, each with its groups. A page's
    /// order keeps one user's rows together, so a user's groups are all
    /// read once the next user's rows begin. `None` if that is not certain:
    /// `cut` (the statement's LIMIT was reached) before a user after the
    /// `limit`th began.
    pub fn regroup(rows: Vec<Self>, limit: usize, cut: bool) -> Option<Vec<UserRow>> {
        let mut users: Vec<UserRow> = Vec::new();
        for Self { mut user, group } in rows {
            if users.last().is_none_or(|u| u.doc.id != user.doc.id) {
                if users.len() == limit {
                    return Some(users);
                }
                user.groups = ReadGroups::Rows(Vec::new());
                users.push(user);
            }
            if let (Some(group), Some(last)) = (group, users.last_mut())
                && let ReadGroups::Rows(groups) = &mut last.groups
            {
                groups.push(membership(last.doc.id, group));
            }
        }
        (!cut).then_some(users)
    }
}

const MEMBER_GROUP_ID: &str = "member_group_id";
const MEMBER_GROUP_DISPLAY: &str = "member_group_display";

impl<U: Decode> Decode for Joined<U> {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        let id = row.uuid_opt(MEMBER_GROUP_ID)?;
        let display = row.string_opt(MEMBER_GROUP_DISPLAY)?;
        Ok(Self {
            user: U::decode(row)?,
            group: id.zip(display),
        })
    }
}

struct WithGroups {
    user: UserDoc,
    /// `[[hex group id, display name], …]`; NULL or `[]` for none.
    groups: Option<Json>,
}

impl WithGroups {
    fn split(self, id: Uuid) -> Result<(UserDoc, Vec<MembershipRow>), DbErr> {
        let mut groups = memberships::parse_groups_json(id, self.groups.as_ref())?;
        sort_memberships(&mut groups);
        Ok((self.user, groups))
    }
}

impl Decode for WithGroups {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            user: UserDoc::decode(row)?,
            groups: row.json_opt(GROUPS_JSON)?,
        })
    }
}

pub async fn replace_emails<C: Write>(
    c: &C,
    tenant: Uuid,
    user_id: Uuid,
    rows: &[EmailRow],
) -> Result<(), DbErr> {
    delete_emails(c, tenant, user_id).await?;
    insert_emails(c, tenant, user_id, rows).await
}

pub async fn delete_emails<C: Write>(c: &C, tenant: Uuid, user_id: Uuid) -> Result<(), DbErr> {
    let delete = user_email::Entity::delete_many()
        .filter(user_email::Column::TenantId.eq(tenant))
        .filter(user_email::Column::UserId.eq(user_id));
    c.exec(delete.build(c.backend())).await.map(|_| ())
}

/// The email rows of a user that has none yet.
pub async fn insert_emails<C: Write>(
    c: &C,
    tenant: Uuid,
    user_id: Uuid,
    rows: &[EmailRow],
) -> Result<(), DbErr> {
    let models = email_rows(tenant, user_id, rows);
    for chunk in models.chunks(super::CHUNK) {
        let insert = user_email::Entity::insert_many(chunk.iter().cloned());
        c.exec(insert.build(c.backend())).await?;
    }
    Ok(())
}

/// The `user_emails` rows of a user's emails, in their order.
pub fn email_rows(tenant: Uuid, user_id: Uuid, rows: &[EmailRow]) -> Vec<user_email::ActiveModel> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| user_email::ActiveModel {
            tenant_id: Set(tenant),
            user_id: Set(user_id),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            value: Set(r.value.clone()),
            value_norm: Set(r.value_norm.clone()),
            email_type: Set(r.email_type.clone()),
            type_norm: Set(r.type_norm.clone()),
            is_primary: Set(r.primary),
        })
        .collect()
}

/// The rows of one tenant that satisfy `cond`, to be counted or paged
/// (see `query::page`), with the stand-in for `select_list`.
fn matching(tenant: Uuid, cond: Condition) -> Select<user::Entity> {
    static STAND_IN: LazyLock<Select<user::Entity>> = LazyLock::new(select_list::stand_in);
    STAND_IN
        .clone()
        .filter(user::Column::TenantId.eq(tenant))
        .filter(cond)
}

/// The text of `full(columns)`'s column list, for `select_list::splice`.
fn select_list(backend: DbBackend, columns: Columns) -> &'static str {
    static LISTS: LazyLock<[[[String; 2]; 2]; 3]> = LazyLock::new(|| {
        select_list::BACKENDS.map(|backend| {
            [false, true].map(|search| {
                [false, true]
                    .map(|groups| select_list::text(&full(Columns { search, groups }), backend))
            })
        })
    });
    &LISTS[select_list::slot(backend)][usize::from(columns.search)][usize::from(columns.groups)]
}

/// Every user with the columns `UserRow` reads (MariaDB describes each
/// column of each result, so fewer columns cost less to read): its search
/// document when `columns.search`, else NULL, and a `groups_json` column,
/// the user's groups when `columns.groups` (SQLite), else NULL.
fn full(columns: Columns) -> Select<user::Entity> {
    use user::Column;
    let read = [
        Column::Id,
        Column::UserNameNorm,
        Column::ExternalId,
        Column::DisplayNameNorm,
        Column::Active,
        Column::CreatedAt,
        Column::ModifiedAt,
        Column::Version,
        Column::Doc,
    ];
    let search = if columns.search {
        Expr::col((user::Entity, Column::DocSearch))
    } else {
        Expr::cust("NULL")
    };
    let groups = if columns.groups {
        groups_json()
    } else {
        Expr::cust("NULL")
    };
    user::Entity::find()
        .select_only()
        .columns(read)
        .expr_as(search, "doc_search")
        .expr_as(groups, GROUPS_JSON)
}

impl Paged for user::Entity {
    const KIND: ResourceKind = ResourceKind::User;

    fn matching(tenant: Uuid, cond: Condition) -> Select<Self> {
        matching(tenant, cond)
    }

    fn select_list(backend: DbBackend, columns: Columns) -> &'static str {
        select_list(backend, columns)
    }

    fn join_groups(select: Select<Self>) -> Option<Select<Self>> {
        Some(join_groups(select))
    }
}

impl PageRow for UserRow {
    type Joined = JoinedUserRow;

    fn regroup(joined: Vec<JoinedUserRow>, limit: usize, cut: bool) -> Option<Vec<Self>> {
        JoinedUserRow::regroup(joined, limit, cut)
    }

    /// A stable sort: a user's rows (one per group) stay in the order
    /// they came.
    fn order_joined(joined: &mut [JoinedUserRow], sort: &Sort) -> bool {
        if !sort.compares_here() {
            return false;
        }
        joined.sort_by(|a, b| sort.compare(&a.user, &b.user));
        true
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_page_of_users_is_the_page_built_whole() {
        let tenant = Uuid::from_u128(1);
        for backend in select_list::BACKENDS {
            for (search, groups) in [(false, false), (true, false), (false, true), (true, true)] {
                let columns = Columns { search, groups };
                select_list::assert_splices_as_whole(
                    backend,
                    matching(tenant, Condition::all()),
                    full(columns).filter(user::Column::TenantId.eq(tenant)),
                    select_list(backend, columns),
                    user::Column::Id,
                );
            }
        }
    }

    fn joined(user: u128, group: Option<u128>) -> JoinedUserRow {
        let doc = UserDoc {
            id: Uuid::from_u128(user),
            created_at: 0,
            modified_at: 0,
            version: 1,
            doc: "{}".to_owned(),
        };
        let row = UserRow {
            doc,
            user_name_norm: format!("u{user}"),
            external_id: None,
            display_name_norm: None,
            active: true,
            doc_search: None,
            groups: ReadGroups::NotRead,
        };
        let group = group.map(|g| (Uuid::from_u128(g), format!("g{g}")));
        Joined { user: row, group }
    }

    /// Users by number, each with its groups by number.
    fn shown(users: Option<Vec<UserRow>>) -> Option<Vec<(u128, Vec<u128>)>> {
        let groups = |u: &UserRow| match u.groups().expect("groups") {
            Some(list) => list.iter().map(|m| m.group_id.as_u128()).collect(),
            None => panic!("groups not read"),
        };
        users.map(|list| {
            list.iter()
                .map(|u| (u.doc.id.as_u128(), groups(u)))
                .collect()
        })
    }

    fn rows() -> Vec<JoinedUserRow> {
        vec![
            joined(1, Some(10)),
            joined(1, Some(11)),
            joined(2, None),
            joined(3, Some(12)),
        ]
    }

    #[test]
    fn joined_rows_become_users_with_their_groups() {
        let all = Some(vec![(1, vec![10, 11]), (2, vec![]), (3, vec![12])]);
        assert_eq!(shown(JoinedUserRow::regroup(rows(), 3, false)), all);
        assert_eq!(
            shown(JoinedUserRow::regroup(Vec::new(), 3, false)),
            Some(vec![])
        );
    }

    #[test]
    fn a_cut_statement_is_whole_up_to_the_user_it_may_have_cut() {
        let two = Some(vec![(1, vec![10, 11]), (2, vec![])]);
        // User 3 began after the first two: their groups were all read.
        assert_eq!(shown(JoinedUserRow::regroup(rows(), 2, true)), two);
        // User 3 is on the page and its rows may go on past the cut.
        assert_eq!(shown(JoinedUserRow::regroup(rows(), 3, true)), None);
        assert_eq!(shown(JoinedUserRow::regroup(rows(), 4, true)), None);
    }
}
