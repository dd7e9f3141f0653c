//! What a committed write changed, and the hooks that see it. Every write
//! of every resource kind goes through `service::resource`, which builds
//! one `Change` per write and hands it to each hook: inside the write's
//! transaction (rows a hook writes there commit or roll back with the
//! change itself), and again once the transaction has committed.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use sea_orm::DbErr;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::scim::resource::ResourceKind;
use crate::store::exec::WriteTxn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOperation {
    Create,
    Replace,
    Patch,
    Delete,
}

/// One committed write to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub tenant: Uuid,
    pub kind: ResourceKind,
    pub id: Uuid,
    pub operation: WriteOperation,
    /// `None` for a create.
    pub version_before: Option<i64>,
    /// `None` for a delete.
    pub version_after: Option<i64>,
    /// The name of the credential that made the write.
    pub principal: Option<Arc<str>>,
    /// The request's `X-Request-Id`, when it sent one.
    pub request_id: Option<Arc<str>>,
    /// The resource's attributes before and after the write, present only
    /// when a hook asked for them (`ChangeHook::wants_documents`).
    pub documents: Option<Arc<Documents>>,
}

/// A resource's attributes as stored, around one write: the SCIM document
/// without `meta`, and without a group's members (those are `members`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Documents {
    /// `None` for a create.
    pub before: Option<Map<String, Value>>,
    /// `None` for a delete.
    pub after: Option<Map<String, Value>>,
    /// What the write asked of a group's members; `None` when it named
    /// none (and always for users).
    pub members: Option<MemberChange>,
    /// The write set a password, which is never in the documents.
    pub password_set: bool,
}

/// The member operations a group write carried out, as the request named
/// them: ids added that were already members, or removed that were not,
/// change nothing in the table but are listed here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberChange {
    /// Every member was removed first (a PUT, or a PATCH replacing
    /// `members`).
    pub cleared: bool,
    pub added: Vec<Uuid>,
    pub removed: Vec<Uuid>,
}

/// Something that wants to know about every write: an audit trail, an
/// event outbox, metrics.
pub trait ChangeHook: Send + Sync + 'static {
    /// Runs inside the write's transaction, after every statement of the
    /// write itself. An error rolls the whole write back.
    fn in_transaction<'a>(
        &'a self,
        txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        let _ = (txn, change);
        Box::pin(async { Ok(()) })
    }

    /// Runs once the write has committed; never for one rolled back.
    fn committed(&self, change: &Change) {
        let _ = change;
    }

    /// Whether this hook reads `Change::documents`; copying them costs
    /// the write path a little, so only hooks that need them ask.
    fn wants_documents(&self) -> bool {
        false
    }
}

/// The hooks a server runs, in the order they were added.
#[derive(Clone, Default)]
pub struct ChangeHooks(Arc<Vec<Arc<dyn ChangeHook>>>);

impl ChangeHooks {
    pub fn new(hooks: Vec<Arc<dyn ChangeHook>>) -> Self {
        Self(Arc::new(hooks))
    }

    /// These hooks, then `hook`.
    pub fn with(&self, hook: Arc<dyn ChangeHook>) -> Self {
        let mut hooks = self.0.as_ref().clone();
        hooks.push(hook);
        Self::new(hooks)
    }

    /// `hook`, then these hooks.
    pub fn before(&self, hook: Arc<dyn ChangeHook>) -> Self {
        let mut hooks = vec![hook];
        hooks.extend(self.0.iter().cloned());
        Self::new(hooks)
    }

    pub(super) fn want_documents(&self) -> bool {
        self.0.iter().any(|hook| hook.wants_documents())
    }

    pub(super) async fn in_transaction(
        &self,
        txn: &WriteTxn,
        change: &Change,
    ) -> Result<(), DbErr> {
        for hook in self.0.iter() {
            hook.in_transaction(txn, change).await?;
        }
        Ok(())
    }

    pub(super) fn committed(&self, change: &Change) {
        for hook in self.0.iter() {
            hook.committed(change);
        }
    }
}
