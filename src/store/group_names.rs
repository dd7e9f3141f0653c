//! `groups.display_name_key`: the case-folded name of a group whose name
//! is unique in its tenant, NULL for one whose is not. The unique index
//! over `(tenant_id, display_name_key)` decides between concurrent writers
//! (see the migration `profiles_group_names`).

use entity::group;
use sea_orm::DbErr;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use uuid::Uuid;

use super::exec::Write;

/// Sets the key of group `id`: `Some(folded name)` claims the name (a
/// unique violation when another group of the tenant holds it), `None`
/// leaves it free.
pub async fn set_key<C: Write>(
    c: &C,
    tenant: Uuid,
    id: Uuid,
    key: Option<&str>,
) -> Result<(), DbErr> {
    let stmt = Query::update()
        .table(group::Entity)
        .value(Alias::new("display_name_key"), key.map(str::to_owned))
        .and_where(Expr::col(group::Column::TenantId).eq(tenant))
        .and_where(Expr::col(group::Column::Id).eq(id))
        .to_owned();
    c.exec(c.backend().build(&stmt)).await.map(|_| ())
}
