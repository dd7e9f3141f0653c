//! Unique group names per tenant, where the tenant's profile asks for them.
//!
//! `groups.display_name_key` holds the case-folded `displayName` of a group
//! whose name is protected, NULL otherwise; a unique index over
//! `(tenant_id, display_name_key)` makes the database the judge, so two
//! concurrent creates of one name cannot both win (NULLs never collide, so
//! unprotected groups may share names). Roster sets the key on every create
//! and rename under a profile with `unique_group_names` (`okta`, `entra`).
//!
//! Existing rows get their key here. A database may already hold groups
//! that share a name; nothing is renamed or deleted: in each such set the
//! oldest group (by creation, then id) takes the name and the others keep
//! no key. They go on working (reads, member changes, deletes), and a
//! rename gives them a key like any other group; only a new group or a
//! rename to the taken name is refused. `SELECT … GROUP BY tenant_id,
//! display_name_norm HAVING COUNT(*) > 1` lists them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::util::{KEY_LEN, add_column, binary_string, create_index};

const INDEX: &str = "ux_groups_display_name_key";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = binary_string(manager, Alias::new("display_name_key"), KEY_LEN);
        key.null();
        add_column(manager, "groups", "display_name_key", key).await?;
        // Once the index exists the keys were filled (a rerun after a
        // failure later in this step must not fill them again).
        if !manager.has_index("groups", INDEX).await? {
            fill_keys(manager).await?;
        }
        let index = Index::create()
            .unique()
            .col(Alias::new("tenant_id"))
            .col(Alias::new("display_name_key"))
            .to_owned();
        create_index(manager, "groups", INDEX, index).await
    }
}

/// Every group's name becomes its key, except where a tenant already has
/// the name: then only the oldest group of that name keeps it.
async fn fill_keys(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let (groups, key, norm) = (
        Alias::new("groups"),
        Alias::new("display_name_key"),
        Alias::new("display_name_norm"),
    );
    let all = Query::update()
        .table(groups.clone())
        .value(key.clone(), Expr::col(norm.clone()))
        .to_owned();
    db.execute(&all).await?;
    let (tenant, id, created) = (
        Alias::new("tenant_id"),
        Alias::new("id"),
        Alias::new("created_at"),
    );
    let shared = Query::select()
        .column(tenant.clone())
        .column(norm.clone())
        .from(groups.clone())
        .group_by_col(tenant.clone())
        .group_by_col(norm.clone())
        .and_having(Expr::col(id.clone()).count().gt(1))
        .to_owned();
    for row in db.query_all(&shared).await? {
        let t: Vec<u8> = row.try_get("", "tenant_id")?;
        let n: String = row.try_get("", "display_name_norm")?;
        let same = Query::select()
            .column(id.clone())
            .from(groups.clone())
            .and_where(Expr::col(tenant.clone()).eq(t.clone()))
            .and_where(Expr::col(norm.clone()).eq(n.clone()))
            .order_by(created.clone(), Order::Asc)
            .order_by(id.clone(), Order::Asc)
            .to_owned();
        let ids = db.query_all(&same).await?;
        for later in ids.iter().skip(1) {
            let later: Vec<u8> = later.try_get("", "id")?;
            let clear = Query::update()
                .table(groups.clone())
                .value(key.clone(), Option::<String>::None)
                .and_where(Expr::col(tenant.clone()).eq(t.clone()))
                .and_where(Expr::col(id.clone()).eq(later))
                .to_owned();
            db.execute(&clear).await?;
        }
    }
    Ok(())
}
