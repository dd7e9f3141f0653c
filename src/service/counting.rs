//! Keeps `store::counts` in step with every create and delete: a change
//! hook, so the count commits or rolls back with the write that moved it.

use futures_util::future::BoxFuture;
use sea_orm::DbErr;

use super::change::{Change, ChangeHook, ChangeHooks, WriteOperation};
use crate::store::counts;
use crate::store::exec::WriteTxn;

struct CountHook;

impl ChangeHook for CountHook {
    fn in_transaction<'a>(
        &'a self,
        txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            let (live, removed) = match change.operation {
                WriteOperation::Create => (1, 0),
                WriteOperation::Delete => (-1, 1),
                WriteOperation::Replace | WriteOperation::Patch => return Ok(()),
            };
            counts::adjust(txn, change.tenant, change.kind, change.id, live, removed).await
        })
    }
}

/// The hook that keeps the counts, then `hooks`: every server runs it,
/// whatever other hooks it was given.
pub fn with_counts(hooks: &ChangeHooks) -> ChangeHooks {
    hooks.before(std::sync::Arc::new(CountHook))
}
