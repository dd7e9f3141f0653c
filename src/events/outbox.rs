//! The transactional outbox: each write's events are rows written in the
//! write's own transaction, so a committed write always has its events
//! and a rolled-back one never does. Only tenants with a receiver record
//! events (the set is refreshed by the delivery worker); a receiver starts
//! with the events recorded after it was added.

use std::collections::HashSet;
use std::sync::RwLock;

use futures_util::future::BoxFuture;
use sea_orm::DbErr;
use serde_json::Map;
use tokio::sync::Notify;
use uuid::Uuid;

use super::EventType;
use super::store::{self, NewEvent};
use crate::service::change::Documents;
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

    /// The changed attributes, `externalId` and `active` come from the
    /// documents: asked for only while some tenant has a receiver.
    fn wants_documents(&self) -> bool {
        self.any()
    }

    fn committed(&self, change: &Change) {
        if self.records(change.tenant) {
            self.recorded.notify_waiters();
        }
    }
}

/// The events one change makes: the operation's notice (or the delete),
/// and `prov:activate` / `prov:deactivate` when a write changes `active`.
/// A group's member changes are in its notice (`members` among the
/// attributes), never an event per member.
pub fn events_of(change: &Change, now: i64) -> Vec<NewEvent> {
    let documents = change.documents.as_deref();
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
    let external_id = documents.and_then(|d| {
        let doc = d.after.as_ref().or(d.before.as_ref())?;
        doc.get("externalId")?.as_str().map(str::to_owned)
    });
    let attributes = match change.operation {
        WriteOperation::Delete => None,
        _ => documents.map(|d| serde_json::Value::from(changed_attributes(d)).to_string()),
    };
    let txn = change.request_id.as_deref().map(str::to_owned);
    let event = |kind: EventType, attributes: Option<String>| NewEvent {
        tenant: change.tenant,
        id: Uuid::new_v4(),
        resource_type: change.kind.name(),
        resource_id: change.id,
        event: kind.short(),
        txn: txn.clone(),
        external_id: external_id.clone(),
        version,
        attributes,
        created_at: now,
    };
    let mut events = vec![event(main, attributes)];
    if let Some(toggle) = documents.and_then(active_toggle) {
        events.push(event(toggle, None));
    }
    events
}

/// The top-level attributes whose values differ before and after, with
/// `members` when the write named members and `password` when it set one.
pub fn changed_attributes(d: &Documents) -> Vec<String> {
    let empty = Map::new();
    let before = d.before.as_ref().unwrap_or(&empty);
    let after = d.after.as_ref().unwrap_or(&empty);
    let mut names: Vec<String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(before.keys().filter(|k| !after.contains_key(*k)).cloned())
        .filter(|k| k != "id" && k != "meta" && k != "schemas")
        .collect();
    if d.members
        .as_ref()
        .is_some_and(|m| m.cleared || !m.added.is_empty() || !m.removed.is_empty())
    {
        names.push("members".to_owned());
    }
    if d.password_set {
        names.push("password".to_owned());
    }
    names.sort();
    names.dedup();
    names
}

/// `prov:deactivate` when a write makes `active` false, `prov:activate`
/// when it makes a deactivated resource active again.
fn active_toggle(d: &Documents) -> Option<EventType> {
    let active =
        |doc: &Option<Map<String, serde_json::Value>>| doc.as_ref()?.get("active")?.as_bool();
    d.before.as_ref()?;
    match (active(&d.before), active(&d.after)) {
        (was, Some(false)) if was != Some(false) => Some(EventType::Deactivate),
        (Some(false), Some(true)) => Some(EventType::Activate),
        _ => None,
    }
}
