//! Computes the search columns (`doc_search`, `display_name_norm`,
//! `user_emails.type_norm`) of rows that lack them, in batches, through the
//! same code writes use. Runs after migrations, before the server takes
//! requests.
//!
//! The columns depend on the schemas (which attributes exist, which are
//! caseExact or dateTime), so a fingerprint of the schemas is kept: when an
//! operator adds an extension schema, every row is recomputed once.
//!
//! The fingerprint is saved only once every row has its columns, and
//! every write computes them, so a start that finds its own fingerprint
//! has nothing to fill and skips the search. That search reads the whole
//! table (no index can find a NULL JSON column on MySQL): 1.8 s at
//! 175,000 users on MariaDB, at every start. A database from before the
//! search columns has no fingerprint. A change to which search columns
//! exist or how they are computed must change `SEARCH_COLUMNS`, so that
//! existing rows are recomputed.

use sea_orm::{DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

use super::render::doc_map;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::SchemaRegistry;
use crate::scim::search_doc::search_document;
use crate::scim::user::UserSearch;
use crate::store::{self, reindex, users as user_store};

const BATCH: u64 = 500;

/// Part of the fingerprint: the layout and rules of the search columns.
const SEARCH_COLUMNS: &str = "1";

/// Returns how many rows were filled.
pub async fn reindex(db: &DatabaseConnection, registry: &SchemaRegistry) -> Result<u64, DbErr> {
    let fingerprint = schema_fingerprint(registry);
    let stored = reindex::stored_fingerprint(db).await?;
    if stored.as_deref() == Some(fingerprint.as_str()) {
        return Ok(0);
    }
    if stored.is_some() {
        log::info!("the schemas changed: recomputing the search columns of every resource");
    }
    reindex::reset_all(db).await?;
    let done = fill(db, registry).await?;
    reindex::save_fingerprint(db, &fingerprint).await?;
    Ok(done)
}

async fn fill(db: &DatabaseConnection, registry: &SchemaRegistry) -> Result<u64, DbErr> {
    let mut done = 0;
    let mut after = None;
    loop {
        let txn = store::begin_write(db).await?;
        let rows = reindex::pending_users(&txn, after, BATCH).await?;
        for row in &rows {
            let search = UserSearch::of(registry, doc_map(&row.doc));
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
        after = next_batch(&rows, |r| (r.tenant_id, r.id));
        if after.is_none() {
            break;
        }
        log::info!("search columns computed for {done} users so far");
    }
    let mut after = None;
    loop {
        let txn = store::begin_write(db).await?;
        let rows = reindex::pending_groups(&txn, after, BATCH).await?;
        for row in &rows {
            let doc_search = search_document(registry, ResourceKind::Group, doc_map(&row.doc));
            reindex::set_group_search(&txn, row.tenant_id, row.id, doc_search).await?;
        }
        txn.commit().await?;
        done += rows.len() as u64;
        after = next_batch(&rows, |r| (r.tenant_id, r.id));
        if after.is_none() {
            break;
        }
    }
    Ok(done)
}

/// Where the batch after `rows` starts; `None` when `rows` was short of a
/// full batch, so none follows.
fn next_batch<T>(rows: &[T], key: impl Fn(&T) -> reindex::Key) -> Option<reindex::Key> {
    let last = rows.last().filter(|_| rows.len() as u64 == BATCH)?;
    Some(key(last))
}

/// Changes whenever a schema or resource type changes in any way.
fn schema_fingerprint(registry: &SchemaRegistry) -> String {
    let text = serde_json::to_vec(&(
        SEARCH_COLUMNS,
        registry.schemas(),
        registry.resource_types(),
    ))
    .unwrap_or_default();
    Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
