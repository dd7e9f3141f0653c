//! What every resource table shares: the row lock, the insert, the
//! versioned update, the delete and the existence check, written once for
//! users and groups. Their own files keep only what differs (emails,
//! member rows, the shapes lists and answers read).

use entity::{group, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use sea_orm::{DbErr, Value as SqlValue};
use uuid::Uuid;

use super::exec::{Decode, Row, Source, Template, Write};
use super::positions;
use crate::scim::resource::ResourceKind;

/// A table of resources keyed by `(tenant_id, id)` and versioned by a
/// `version` column that every write increments.
pub trait ResourceTable: EntityTrait<Model: Decode> {
    const KIND: ResourceKind;
    const TENANT: Self::Column;
    const ID: Self::Column;
    const VERSION: Self::Column;
    const DOC_SEARCH: Self::Column;
    const CREATED_AT: Self::Column;
    const MODIFIED_AT: Self::Column;

    /// The select that reads a row and locks it until the transaction
    /// ends (MySQL); built once per backend.
    fn locked() -> &'static Template;

    /// The row's id and version.
    fn key(model: &Self::Model) -> (Uuid, i64);
}

/// Both tables name their key and version columns alike.
macro_rules! resource_table {
    ($entity:ident, $kind:expr) => {
        impl ResourceTable for $entity::Entity {
            const KIND: ResourceKind = $kind;
            const TENANT: $entity::Column = $entity::Column::TenantId;
            const ID: $entity::Column = $entity::Column::Id;
            const VERSION: $entity::Column = $entity::Column::Version;
            const DOC_SEARCH: $entity::Column = $entity::Column::DocSearch;
            const CREATED_AT: $entity::Column = $entity::Column::CreatedAt;
            const MODIFIED_AT: $entity::Column = $entity::Column::ModifiedAt;

            fn locked() -> &'static Template {
                static LOCKED: Template = Template::new(|keys, backend| {
                    $entity::Entity::find_by_id((keys[0], keys[1]))
                        .lock_exclusive()
                        .build(backend)
                });
                &LOCKED
            }

            fn key(model: &$entity::Model) -> (Uuid, i64) {
                (model.id, model.version)
            }
        }
    };
}

resource_table!(user, ResourceKind::User);
resource_table!(group, ResourceKind::Group);

/// Reads a resource and locks its row until the transaction ends (MySQL);
/// on SQLite the IMMEDIATE transaction already serializes writers.
pub async fn find_for_update<E: ResourceTable, C: Write>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<E::Model>, DbErr> {
    c.first(E::locked().statement(c.backend(), &[tenant, id]))
        .await
}

pub async fn insert<E, C>(c: &C, model: E::ActiveModel) -> Result<(), DbErr>
where
    E: ResourceTable,
    E::ActiveModel: ActiveModelTrait<Entity = E>,
    C: Write,
{
    positions::cover(c, search_doc::<E>(&model).as_ref()).await?;
    c.exec(E::insert(model).build(c.backend()))
        .await
        .map(|_| ())
}

/// Writes a new state of a resource if its version is still
/// `expected_version`; returns whether a row was written.
pub async fn update<E, C>(
    c: &C,
    model: E::ActiveModel,
    tenant: Uuid,
    id: Uuid,
    expected_version: i64,
) -> Result<bool, DbErr>
where
    E: ResourceTable,
    E::ActiveModel: ActiveModelTrait<Entity = E>,
    C: Write,
{
    positions::cover(c, search_doc::<E>(&model).as_ref()).await?;
    let update = E::update_many()
        .set(model)
        .filter(E::TENANT.eq(tenant))
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(expected_version));
    Ok(c.exec(update.build(c.backend())).await? == 1)
}

/// The search document a write sets, if it sets one.
fn search_doc<E>(model: &E::ActiveModel) -> Option<serde_json::Value>
where
    E: ResourceTable,
    E::ActiveModel: ActiveModelTrait<Entity = E>,
{
    match model.get(E::DOC_SEARCH).into_value()? {
        SqlValue::Json(doc) => doc.map(|d| *d),
        _ => None,
    }
}

/// Deletes the resource's own row; its side rows are the caller's.
pub async fn delete<E: ResourceTable, C: Write>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
) -> Result<bool, DbErr> {
    let delete = E::delete_many()
        .filter(E::TENANT.eq(tenant))
        .filter(E::ID.eq(id));
    Ok(c.exec(delete.build(c.backend())).await? == 1)
}

/// Which of `ids` exist in the tenant.
pub async fn existing_ids<E: ResourceTable, S: Source>(
    c: &S,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    let mut found = Vec::new();
    for chunk in ids.chunks(super::CHUNK) {
        let select = E::find()
            .select_only()
            .column(E::ID)
            .filter(E::TENANT.eq(tenant))
            .filter(E::ID.is_in(chunk.iter().copied()));
        let rows: Vec<IdRow> = c.rows(select.build(c.backend())).await?;
        found.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(found)
}

/// The `id` column alone.
struct IdRow {
    id: Uuid,
}

impl Decode for IdRow {
    fn decode<R: Row>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            id: row.uuid("id")?,
        })
    }
}
