//! Computes the search columns (`doc_search`, `display_name_norm`,
//! `user_emails.type_norm`) of rows that lack them, in batches, through the
//! same code writes use. Runs after migrations, before the server takes
//! requests; a database without such rows costs one query per table.

use sea_orm::{DatabaseConnection, DbErr};
use serde_json::{Map, Value};

use crate::scim::schema::SchemaRegistry;
use crate::scim::search_doc::search_document;
use crate::scim::user::UserSearch;
use crate::store::{self, reindex, users as user_store};

const BATCH: u64 = 500;

/// Returns how many rows were filled.
pub async fn reindex(db: &DatabaseConnection, registry: &SchemaRegistry) -> Result<u64, DbErr> {
    let mut done = 0;
    loop {
        let txn = store::begin_write(db).await?;
        let rows = reindex::pending_users(&txn, BATCH).await?;
        for row in &rows {
            let search = UserSearch::of(registry, &doc_map(&row.doc));
            reindex::set_user_search(
                &txn,
                row.tenant_id,
                row.id,
                search.display_name_norm,
                search.doc_search,
            )
            .await?;
            user_store::replace_emails(&txn, row.tenant_id, row.id, &search.emails).await?;
        }
        txn.commit().await?;
        done += rows.len() as u64;
        if (rows.len() as u64) < BATCH {
            break;
        }
        log::info!("search columns computed for {done} users so far");
    }
    loop {
        let txn = store::begin_write(db).await?;
        let rows = reindex::pending_groups(&txn, BATCH).await?;
        for row in &rows {
            let doc_search = search_document(registry, "Group", &doc_map(&row.doc));
            reindex::set_group_search(&txn, row.tenant_id, row.id, doc_search).await?;
        }
        txn.commit().await?;
        done += rows.len() as u64;
        if (rows.len() as u64) < BATCH {
            break;
        }
    }
    Ok(done)
}

fn doc_map(doc: &Value) -> Map<String, Value> {
    doc.as_object().cloned().unwrap_or_default()
}
