//! The one write path. Create, replace, patch and delete of every
//! resource kind run here, in this order: validate (on the request's
//! worker), then on the write thread under the retry rule: lock the row,
//! check If-Match, apply the edit, check immutability, write the row
//! versioned (a unique key becomes 409 `uniqueness`), write the side
//! tables, describe the change to the hooks, commit. What differs between
//! kinds (emails and password hashes, member plans, how the answer is
//! read) is each kind's `ResourceType` in `users` and `groups`.

use std::future::Future;
use std::sync::Arc;

use sea_orm::{ActiveModelTrait, DbErr, EntityTrait};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::answer::{Answer, Written};
use super::change::{Change, Documents, MemberChange, WriteOperation};
use super::render::doc_map;
use super::retry::with_retry;
use super::{Ctx, ServiceError, Services, parse_id};
use crate::scim::patch::{self, MemberPlan, PatchContext};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::scim::validate::{check_declared_schemas, check_immutable};
use crate::store::exec::WriteTxn;
use crate::store::resources::{self, ResourceTable};
use crate::time::now_ms;

type Model<K> = <<K as ResourceType>::Table as EntityTrait>::Model;
type Row<K> = <<K as ResourceType>::Table as EntityTrait>::ActiveModel;

/// What one resource kind adds to the write path.
pub(super) trait ResourceType: Send + Sync + 'static {
    type Table: ResourceTable<ActiveModel: ActiveModelTrait<Entity = Self::Table> + Send + Sync>;
    /// A validated resource, ready to be written.
    type Record: Send + Sync + 'static;
    /// What a write changes beside the resource's row: a user's password
    /// hash, a group's member plan.
    type Side: Send + Sync + 'static;
    /// What the answer needs from inside the transaction.
    type Kept: Send + 'static;
    /// Whether a PATCH may change members (kept in their own table).
    const HAS_MEMBERS: bool;

    fn parse(s: &Services, doc: Value) -> Result<Self::Record, ServiceError>;
    fn record_doc(record: &Self::Record) -> &Map<String, Value>;
    fn stored_doc(model: &Model<Self>) -> &Value;

    /// The row a write sets: the record's columns at `version`.
    fn columns(record: &Self::Record, side: &Self::Side, now: i64, version: i64) -> Row<Self>;
    /// A new resource's row.
    fn new_row(
        ctx: &Ctx,
        id: Uuid,
        record: &Self::Record,
        side: &Self::Side,
        now: i64,
    ) -> Row<Self>;
    /// Whether the record sets a secret kept outside its document.
    fn sets_password(record: &Self::Record) -> bool {
        let _ = record;
        false
    }

    /// What a write's side does to members, for the change hooks.
    fn member_change(side: &Self::Side) -> Option<MemberChange> {
        let _ = side;
        None
    }

    /// The error a unique key violation of this kind's row means.
    fn unique_violation(e: DbErr, record: &Self::Record) -> ServiceError;

    /// The side of a create, of a PUT, and of a PATCH (which also yields
    /// the member operations it named).
    fn created(
        s: &Services,
        record: &Self::Record,
    ) -> impl Future<Output = Result<Self::Side, ServiceError>> + Send;
    fn replaced(
        s: &Services,
        record: &Self::Record,
    ) -> impl Future<Output = Result<Self::Side, ServiceError>> + Send;
    fn patched(
        s: &Services,
        record: &Self::Record,
        members: MemberPlan,
    ) -> impl Future<Output = Result<Self::Side, ServiceError>> + Send;

    fn insert_side(
        s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        id: Uuid,
        record: &Self::Record,
        side: &Self::Side,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    fn update_side(
        s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        current: &Model<Self>,
        record: &Self::Record,
        side: &Self::Side,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// Removes what refers to the resource before its row goes, so that
    /// nothing ever refers to a missing resource.
    fn delete_side(
        txn: &WriteTxn,
        ctx: &Ctx,
        id: Uuid,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// What the answer needs of the transaction, when it shows a body:
    /// `row` as written over `current` (`None` for a create).
    fn keep(
        s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        current: Option<&Model<Self>>,
        row: Row<Self>,
    ) -> impl Future<Output = Result<Self::Kept, ServiceError>> + Send;

    /// The answer, after the commit.
    fn answer(
        s: &Services,
        ctx: &Ctx,
        id: &str,
        kept: Self::Kept,
        projection: &Projection<'_>,
    ) -> impl Future<Output = Result<Written, ServiceError>>;
}

/// A replacement or a PATCH of an existing resource.
enum Edit<K: ResourceType> {
    Replace(K::Record, K::Side),
    Patch(Vec<patch::Operation>),
}

impl Services {
    pub(super) async fn create_as<K: ResourceType>(
        &self,
        ctx: &Ctx,
        input: Value,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        check_declared_schemas(&self.registry, kind::<K>(), &input)?;
        let record = K::parse(self, input)?;
        let side = K::created(self, &record).await?;
        let (id, now) = (Uuid::new_v4(), now_ms());
        let wanted = matches!(answer, Answer::Shaped(_));
        let (s, owned) = (self.clone(), ctx.clone());
        // The write's futures are boxed where they are made, so that handing
        // them to the write thread and to the retry loop moves a pointer
        // rather than their whole state.
        // Built here, off the write thread, and again only for a retry: a
        // row is a copy of the whole document.
        let mut first = Some(K::new_row(ctx, id, &record, &side, now));
        let (change, kept) = self
            .db
            .writing(Box::pin(async move {
                with_retry(|| {
                    let row = first
                        .take()
                        .unwrap_or_else(|| K::new_row(&owned, id, &record, &side, now));
                    Box::pin(s.insert_txn::<K>(&owned, id, &record, &side, row, wanted))
                })
                .await
            }))
            .await?;
        self.finish::<K>(ctx, change, kept, answer).await
    }

    async fn insert_txn<K: ResourceType>(
        &self,
        ctx: &Ctx,
        id: Uuid,
        record: &K::Record,
        side: &K::Side,
        row: Row<K>,
        wanted: bool,
    ) -> Result<(Change, Option<K::Kept>), ServiceError> {
        let txn = self.db.begin_write().await?;
        let answered = wanted.then(|| row.clone());
        resources::insert::<K::Table, _>(&txn, row)
            .await
            .map_err(|e| K::unique_violation(e, record))?;
        K::insert_side(self, &txn, ctx, id, record, side).await?;
        let kept = match answered {
            Some(row) => Some(K::keep(self, &txn, ctx, None, row).await?),
            None => None,
        };
        let mut change = ctx.change(kind::<K>(), id, WriteOperation::Create, None, Some(1));
        if self.hooks.want_documents() {
            change.documents = Some(Arc::new(Documents {
                before: None,
                after: Some(K::record_doc(record).clone()),
                members: K::member_change(side),
                password_set: K::sets_password(record),
            }));
        }
        self.commit(txn, change, kept).await
    }

    pub(super) async fn replace_as<K: ResourceType>(
        &self,
        ctx: &Ctx,
        id: &str,
        input: Value,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        let uid = parse_id(kind::<K>(), id)?;
        check_declared_schemas(&self.registry, kind::<K>(), &input)?;
        let record = K::parse(self, input)?;
        let side = K::replaced(self, &record).await?;
        self.update_as::<K>(ctx, uid, id, Edit::Replace(record, side), answer)
            .await
    }

    pub(super) async fn patch_as<K: ResourceType>(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        let uid = parse_id(kind::<K>(), id)?;
        let ops = patch::parse_request(body, &self.settings.dialect)?;
        self.update_as::<K>(ctx, uid, id, Edit::Patch(ops), answer)
            .await
    }

    async fn update_as<K: ResourceType>(
        &self,
        ctx: &Ctx,
        uid: Uuid,
        id: &str,
        edit: Edit<K>,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        let wanted = matches!(answer, Answer::Shaped(_));
        let (s, owned, id) = (self.clone(), ctx.clone(), id.to_owned());
        let (change, kept) = self
            .db
            .writing(Box::pin(async move {
                with_retry(|| Box::pin(s.update_txn::<K>(&owned, (uid, &id), &edit, wanted))).await
            }))
            .await?;
        self.finish::<K>(ctx, change, kept, answer).await
    }

    async fn update_txn<K: ResourceType>(
        &self,
        ctx: &Ctx,
        (uid, id): (Uuid, &str),
        edit: &Edit<K>,
        wanted: bool,
    ) -> Result<(Change, Option<K::Kept>), ServiceError> {
        let txn = self.db.begin_write().await?;
        let current = self.lock::<K>(&txn, ctx, uid, id).await?;
        let patched;
        let (record, side, operation) = match edit {
            Edit::Replace(record, side) => (record, side, WriteOperation::Replace),
            Edit::Patch(ops) => {
                patched = self.patched::<K>(&current, id, ops).await?;
                (&patched.0, &patched.1, WriteOperation::Patch)
            }
        };
        let before = doc_map(K::stored_doc(&current));
        check_immutable(&self.registry, kind::<K>(), before, K::record_doc(record))?;
        let version = K::Table::key(&current).1;
        let row = K::columns(record, side, now_ms(), version + 1);
        let answered = wanted.then(|| row.clone());
        let written = resources::update::<K::Table, _>(&txn, row, ctx.tenant, uid, version)
            .await
            .map_err(|e| K::unique_violation(e, record))?;
        if !written {
            let kind = kind::<K>().name();
            return Err(ServiceError::Internal(format!(
                "{kind} changed while locked"
            )));
        }
        K::update_side(self, &txn, ctx, &current, record, side).await?;
        let kept = match answered {
            Some(row) => Some(K::keep(self, &txn, ctx, Some(&current), row).await?),
            None => None,
        };
        let mut change = ctx.change(
            kind::<K>(),
            uid,
            operation,
            Some(version),
            Some(version + 1),
        );
        if self.hooks.want_documents() {
            change.documents = Some(Arc::new(Documents {
                before: Some(before.clone()),
                after: Some(K::record_doc(record).clone()),
                members: K::member_change(side),
                password_set: K::sets_password(record),
            }));
        }
        self.commit(txn, change, kept).await
    }

    /// The record and side a PATCH makes of the current resource.
    async fn patched<K: ResourceType>(
        &self,
        current: &Model<K>,
        id: &str,
        ops: &[patch::Operation],
    ) -> Result<(K::Record, K::Side), ServiceError> {
        let mut doc = K::stored_doc(current)
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut plan = MemberPlan::default();
        let mut patch_ctx = PatchContext {
            registry: &self.registry,
            dialect: &self.settings.dialect,
            kind: kind::<K>(),
            id,
            members: K::HAS_MEMBERS.then_some(&mut plan),
        };
        patch::apply(&mut doc, ops, &mut patch_ctx)?;
        let record = K::parse(self, Value::Object(doc))?;
        let side = K::patched(self, &record, plan).await?;
        Ok((record, side))
    }

    pub(super) async fn delete_as<K: ResourceType>(
        &self,
        ctx: &Ctx,
        id: &str,
    ) -> Result<(), ServiceError> {
        let uid = parse_id(kind::<K>(), id)?;
        let (s, owned, id) = (self.clone(), ctx.clone(), id.to_owned());
        let (change, ()) = self
            .db
            .writing(Box::pin(async move {
                with_retry(|| Box::pin(s.delete_txn::<K>(&owned, uid, &id))).await
            }))
            .await?;
        self.hooks.committed(&change);
        Ok(())
    }

    async fn delete_txn<K: ResourceType>(
        &self,
        ctx: &Ctx,
        uid: Uuid,
        id: &str,
    ) -> Result<(Change, ()), ServiceError> {
        let txn = self.db.begin_write().await?;
        let current = self.lock::<K>(&txn, ctx, uid, id).await?;
        K::delete_side(&txn, ctx, uid).await?;
        if !resources::delete::<K::Table, _>(&txn, ctx.tenant, uid).await? {
            return Err(ServiceError::not_found(kind::<K>(), id));
        }
        let version = K::Table::key(&current).1;
        let mut change = ctx.change(
            kind::<K>(),
            uid,
            WriteOperation::Delete,
            Some(version),
            None,
        );
        if self.hooks.want_documents() {
            change.documents = Some(Arc::new(Documents {
                before: Some(doc_map(K::stored_doc(&current)).clone()),
                after: None,
                members: None,
                password_set: false,
            }));
        }
        self.commit(txn, change, ()).await
    }

    /// The resource's row, locked until the transaction ends, if the
    /// request's If-Match allows the write.
    async fn lock<K: ResourceType>(
        &self,
        txn: &WriteTxn,
        ctx: &Ctx,
        uid: Uuid,
        id: &str,
    ) -> Result<Model<K>, ServiceError> {
        let current = resources::find_for_update::<K::Table, _>(txn, ctx.tenant, uid)
            .await?
            .ok_or_else(|| ServiceError::not_found(kind::<K>(), id))?;
        ctx.check_version(K::Table::key(&current).1)?;
        Ok(current)
    }

    /// Shows the change to the hooks inside the transaction, then commits.
    async fn commit<T>(
        &self,
        txn: WriteTxn,
        change: Change,
        kept: T,
    ) -> Result<(Change, T), ServiceError> {
        self.hooks.in_transaction(&txn, &change).await?;
        txn.commit().await?;
        Ok((change, kept))
    }

    /// After the commit: the hooks, then the answer.
    async fn finish<K: ResourceType>(
        &self,
        ctx: &Ctx,
        change: Change,
        kept: Option<K::Kept>,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        self.hooks.committed(&change);
        let version = change.version_after.unwrap_or_default();
        match (answer, kept) {
            (Answer::Shaped(projection), Some(kept)) => {
                K::answer(self, ctx, &change.id.to_string(), kept, projection).await
            }
            _ => Ok(Written::done(
                &ctx.base_url,
                kind::<K>(),
                change.id,
                version,
            )),
        }
    }
}

fn kind<K: ResourceType>() -> ResourceKind {
    K::Table::KIND
}

impl Ctx {
    fn change(
        &self,
        kind: ResourceKind,
        id: Uuid,
        operation: WriteOperation,
        version_before: Option<i64>,
        version_after: Option<i64>,
    ) -> Change {
        Change {
            tenant: self.tenant,
            kind,
            id,
            operation,
            version_before,
            version_after,
            principal: self.principal.clone(),
            request_id: self.request_id.clone(),
            documents: None,
        }
    }
}
