//! The change records: written by a change hook inside each write's own
//! transaction, so a change never commits without its record and a
//! rolled-back one leaves none. Once committed, a short note per change
//! waits for the request log to describe the request in the IdP's terms.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use std::sync::LazyLock;

use futures_util::future::BoxFuture;
use sea_orm::{DbBackend, DbErr, Statement, Value};

use super::diff::{active_switched, detail, label, operation_name};
use super::ids::next_seq;
use crate::scim::resource::ResourceKind;
use crate::service::change::{Change, ChangeHook, WriteOperation};
use crate::store::exec::{InsertSql, Source, Write, WriteTxn};
use crate::time::now_ms;

/// What a request's summary needs of one committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNote {
    pub kind: ResourceKind,
    pub operation: WriteOperation,
    pub label: Option<String>,
    /// `Some(false)`: the write deactivated the user.
    pub active: Option<bool>,
    pub members_added: usize,
    pub members_removed: usize,
}

/// Notes of committed changes, by request id, until the request's log
/// entry takes them.
#[derive(Default)]
pub struct ChangeNotes(Mutex<HashMap<Arc<str>, Vec<ChangeNote>>>);

/// Beyond this many requests' notes, the oldest are of no use: forget all.
const NOTES_MAX: usize = 10_000;

impl ChangeNotes {
    fn add(&self, request_id: Arc<str>, note: ChangeNote) {
        let mut notes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if notes.len() >= NOTES_MAX {
            notes.clear();
        }
        notes.entry(request_id).or_default().push(note);
    }

    pub fn take(&self, request_id: &str) -> Vec<ChangeNote> {
        let mut notes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        notes.remove(request_id).unwrap_or_default()
    }
}

pub struct AuditHook {
    pub notes: Arc<ChangeNotes>,
}

impl ChangeHook for AuditHook {
    fn in_transaction<'a>(
        &'a self,
        txn: &'a WriteTxn,
        change: &'a Change,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        // Last in the transaction: on MariaDB/MySQL it goes with the commit.
        Box::pin(txn.exec_at_commit(record(change, txn.backend()), Some(new_key)))
    }

    fn committed(&self, change: &Change) {
        let Some(request_id) = change.request_id.clone() else {
            return;
        };
        let docs = change.documents.as_deref();
        let members = docs.and_then(|d| d.members.as_ref());
        self.notes.add(
            request_id,
            ChangeNote {
                kind: change.kind,
                operation: change.operation,
                label: label(docs),
                active: active_switched(change),
                members_added: members.map_or(0, |m| m.added.len()),
                members_removed: members.map_or(0, |m| m.removed.len()),
            },
        );
    }

    fn wants_documents(&self) -> bool {
        true
    }
}

/// The change's record as an insert. Its SQL is made once per database
/// and its values straight from the change: the record is written inside
/// every write, where the query builder cost more than the insert itself.
fn record(change: &Change, backend: DbBackend) -> Statement {
    static SQL: LazyLock<InsertSql<1>> =
        LazyLock::new(|| InsertSql::new("audit_changes", &COLUMNS));
    let values = vec![
        Value::from(next_seq()),
        Value::from(change.tenant),
        Value::from(now_ms()),
        Value::from(change.request_id.as_deref().map(str::to_owned)),
        Value::from(change.principal.as_deref().map(str::to_owned)),
        Value::from(change.kind.name().to_owned()),
        Value::from(change.id),
        Value::from(operation_name(change.operation).to_owned()),
        Value::from(change.version_before),
        Value::from(change.version_after),
        Value::from(label(change.documents.as_deref())),
        Value::from(detail(change)),
    ];
    Statement::from_sql_and_values(backend, SQL.get(backend, 1), values)
}

/// Keys are microseconds, unique within one process only: two servers on
/// one MariaDB can take the same one. The duplicate fails the statement,
/// not the transaction, and the record goes again with a later key.
fn new_key(stmt: &mut Statement) {
    if let Some(seq) = stmt.values.as_mut().and_then(|v| v.0.first_mut()) {
        *seq = Value::from(next_seq());
    }
}

/// The table's columns, in the entity's order (a test holds them together).
pub(super) const COLUMNS: [&str; 12] = [
    "seq",
    "tenant_id",
    "at",
    "request_id",
    "principal",
    "kind",
    "resource_id",
    "operation",
    "version_before",
    "version_after",
    "label",
    "detail",
];
