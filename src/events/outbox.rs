//! The transactional outbox: each write's events are rows written in the
//! write's own transaction, so a committed write always has its events
//! and a rolled-back one never does. Only tenants with a receiver record
//! events (the set is refreshed by the delivery worker); a receiver starts
//! with the events recorded after it was added.

use std::collections::HashSet;
use std::sync::RwLock;

use futures_util::future::BoxFuture;
use sea_orm::DbErr;
use tokio::sync::Notify;
use uuid::Uuid;

use super::EventType;
use super::store::{self, NewEvent};
use crate::service::{Change, ChangeHook, WriteOperation};
use crate::store::exec::WriteTxn;

#[derive(Default)]
pub struct Outbox {
    tenants: RwLock<HashSet<Uuid>>,
    /// Woken after a write with events commits: long polls and the push
    /// worker wait on it.
    recorded: Notify,
}

impl Outbox {
    /// The tenants that have at least one receiver.
    pub fn set_tenants(&self, tenants: HashSet<Uuid>) {
        if let Ok(mut slot) = self.tenants.write() {
            *slot = tenants;
        }
    }

    /// Whether any tenant has a receiver.
    pub fn any(&self) -> bool {
        self.tenants.read().is_ok_and(|t| !t.is_empty())
    }

    pub fn records(&self, tenant: Uuid) -> bool {
        self.tenants.read().is_ok_and(|t| t.contains(&tenant))
    }

    pub fn recorded(&self) -> &Notify {
        &self.recorded
    }
}

impl ChangeHook for Outbox {
    fn in_transaction<'a>(
        &'a self,
        txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            if !self.records(change.tenant) {
                return Ok(());
            }
            store::insert_events(txn, &events_of(change, crate::time::now_ms())).await
        })
    }

    fn committed(&self, change: &Change) {
        if self.records(change.tenant) {
            self.recorded.notify_waiters();
        }
    }
}

/// The events one change makes.
pub fn events_of(change: &Change, now: i64) -> Vec<NewEvent> {
    let main = match change.operation {
        WriteOperation::Create => EventType::CreateNotice,
        WriteOperation::Replace => EventType::PutNotice,
        WriteOperation::Patch => EventType::PatchNotice,
        WriteOperation::Delete => EventType::Delete,
    };
    let version = change
        .version_after
        .or(change.version_before)
        .unwrap_or_default();
    let event = |kind: EventType| NewEvent {
        tenant: change.tenant,
        id: Uuid::new_v4(),
        resource_type: change.kind.name(),
        resource_id: change.id,
        event: kind.short(),
        txn: change.request_id.as_deref().map(str::to_owned),
        external_id: None,
        version,
        attributes: None,
        created_at: now,
    };
    vec![event(main)]
}
