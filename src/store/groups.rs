//! The `groups` table: a group by id, and the shapes pages read. Its
//! members are in `memberships`.

use std::sync::LazyLock;

use entity::group;
use sea_orm::JsonValue as Json;
use sea_orm::{
    ColumnTrait, Condition, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, Select,
};
use uuid::Uuid;

use super::exec::select_list;
use super::exec::{Decode, Row, Source, Template};
use super::query::page::{Columns, PageRow, Paged};
use super::query::sort::Keyed;
use super::query::target::KeyColumn;
use crate::scim::resource::ResourceKind;

pub async fn find<S: Source>(c: &S, tenant: Uuid, id: Uuid) -> Result<Option<group::Model>, DbErr> {
    static BY_ID: Template =
        Template::new(|keys, backend| group::Entity::find_by_id((keys[0], keys[1])).build(backend));
    c.first(BY_ID.statement(c.backend(), &[tenant, id])).await
}

/// The rows of one tenant that satisfy `cond`, to be counted or paged
/// (see `query::page`), with the stand-in for `select_list`.
fn matching(tenant: Uuid, cond: Condition) -> Select<group::Entity> {
    static STAND_IN: LazyLock<Select<group::Entity>> = LazyLock::new(select_list::stand_in);
    STAND_IN
        .clone()
        .filter(group::Column::TenantId.eq(tenant))
        .filter(cond)
}

/// The text of `full(keep_search)`'s column list, for `select_list::splice`.
fn select_list(backend: DbBackend, keep_search: bool) -> &'static str {
    static LISTS: LazyLock<[[String; 2]; 3]> = LazyLock::new(|| {
        select_list::BACKENDS
            .map(|backend| [false, true].map(|keep| select_list::text(&full(keep), backend)))
    });
    &LISTS[select_list::slot(backend)][usize::from(keep_search)]
}

/// Every group with the columns answers show (`shown_columns`).
fn full(keep_search: bool) -> Select<group::Entity> {
    super::shown_columns(group::Entity::find(), keep_search)
}

impl Decode for group::Model {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            tenant_id: row.uuid("tenant_id")?,
            id: row.uuid("id")?,
            display_name: row.string("display_name")?,
            display_name_norm: row.string("display_name_norm")?,
            external_id: row.string_opt("external_id")?,
            created_at: row.i64("created_at")?,
            modified_at: row.i64("modified_at")?,
            version: row.i64("version")?,
            doc: row.json("doc")?,
            doc_search: row.json_opt("doc_search")?,
        })
    }
}

impl Paged for group::Entity {
    const KIND: ResourceKind = ResourceKind::Group;

    fn matching(tenant: Uuid, cond: Condition) -> Select<Self> {
        matching(tenant, cond)
    }

    fn select_list(backend: DbBackend, columns: Columns) -> &'static str {
        select_list(backend, columns.search)
    }
}

/// Groups have no groups to join.
impl PageRow for group::Model {
    type Joined = Self;

    fn regroup(_: Vec<Self>, _: usize, _: bool) -> Option<Vec<Self>> {
        None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_page_of_groups_is_the_page_built_whole() {
        let tenant = Uuid::from_u128(1);
        for backend in select_list::BACKENDS {
            for search in [false, true] {
                select_list::assert_splices_as_whole(
                    backend,
                    matching(tenant, Condition::all()),
                    full(search).filter(group::Column::TenantId.eq(tenant)),
                    select_list(backend, search),
                    group::Column::Id,
                );
            }
        }
    }
}
