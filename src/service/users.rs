use entity::user;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::TryIntoModel;
use serde_json::Value;
use uuid::Uuid;

use super::render::{Encoded, ResourceView, user_encoded, user_view};
use super::retry::with_retry;
use super::{Ctx, ServiceError, Services, parse_id};
use crate::scim::ScimError;
use crate::scim::patch::{self, Target};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::scim::user::UserRecord;
use crate::scim::validate::check_immutable;
use crate::store::write::WriteTxn;
use crate::store::{self, groups as group_store, users as user_store};
use crate::time::now_ms;

const KIND: ResourceKind = ResourceKind::User;

impl Services {
    /// Validation and rendering run here, on the request's worker: on
    /// SQLite the lane runs one write at a time, so it gets only the
    /// transaction.
    pub async fn create_user(&self, ctx: &Ctx, input: Value) -> Result<ResourceView, ServiceError> {
        let record = UserRecord::from_json(&self.registry, &self.settings.dialect, input)?;
        let password_hash = self.hash_password(record.password.clone()).await?;
        let id = Uuid::new_v4();
        let model = new_user_row(ctx.tenant, id, &record, now_ms(), password_hash);
        let row = written_row(model.clone())?;
        self.on_lane(ctx, move |s, ctx| async move {
            s.insert_user(&ctx, id, model, &record).await
        })
        .await?;
        Ok(user_view(ctx, &row, &[]))
    }

    pub async fn replace_user(
        &self,
        ctx: &Ctx,
        id: &str,
        input: Value,
    ) -> Result<ResourceView, ServiceError> {
        let uid = parse_id(KIND, id)?;
        let id = id.to_owned();
        let record = UserRecord::from_json(&self.registry, &self.settings.dialect, input)?;
        let password_hash = self.hash_password(record.password.clone()).await?;
        self.on_lane(ctx, move |s, ctx| async move {
            s.put_user(&ctx, uid, &id, &record, password_hash).await
        })
        .await
    }

    pub async fn patch_user(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<ResourceView, ServiceError> {
        let id = id.to_owned();
        self.on_lane(ctx, |s, ctx| async move {
            s.apply_user_patch(&ctx, &id, body).await
        })
        .await
    }

    pub async fn delete_user(&self, ctx: &Ctx, id: &str) -> Result<(), ServiceError> {
        let id = id.to_owned();
        self.on_lane(ctx, |s, ctx| async move { s.remove_user(&ctx, &id).await })
            .await
    }

    async fn insert_user(
        &self,
        ctx: &Ctx,
        id: Uuid,
        model: user::ActiveModel,
        record: &UserRecord,
    ) -> Result<(), ServiceError> {
        let txn = self.begin_write().await?;
        user_store::insert(&txn, model)
            .await
            .map_err(|e| unique_user_name(e, record))?;
        user_store::insert_emails(&txn, ctx.tenant, id, &record.emails).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn get_user(
        &self,
        ctx: &Ctx,
        id: &str,
        projection: &Projection<'_>,
    ) -> Result<Encoded, ServiceError> {
        let uid = parse_id(KIND, id)?;
        let (row, groups) = user_store::find_with_groups(&self.reads(), ctx.tenant, uid)
            .await?
            .ok_or_else(|| ServiceError::not_found(KIND, id))?;
        let groups: Vec<_> = groups.iter().collect();
        Ok(user_encoded(ctx, &row, &groups, projection)?)
    }

    /// PUT: replaces every writable attribute. Read-only ones the client
    /// echoes (`id`, `meta`, `groups`) are ignored; a password left out is
    /// kept, since it is write-only and clients cannot echo it.
    async fn put_user(
        &self,
        ctx: &Ctx,
        uid: Uuid,
        id: &str,
        record: &UserRecord,
        password_hash: Option<String>,
    ) -> Result<ResourceView, ServiceError> {
        with_retry(|| async {
            let txn = self.begin_write().await?;
            let current = self.lock_user(&txn, ctx, uid, id).await?;
            let mut model = columns(record, now_ms(), current.version + 1);
            if let Some(hash) = &password_hash {
                model.password_hash = Set(Some(hash.clone()));
            }
            self.write_user(txn, ctx, &current, model, record).await
        })
        .await
    }

    async fn apply_user_patch(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<ResourceView, ServiceError> {
        let uid = parse_id(KIND, id)?;
        let ops = patch::parse_request(body, &self.settings.dialect)?;
        with_retry(|| async {
            let txn = self.begin_write().await?;
            let current = self.lock_user(&txn, ctx, uid, id).await?;
            let mut doc = current.doc.as_object().cloned().unwrap_or_default();
            let mut target = Target {
                registry: &self.registry,
                dialect: &self.settings.dialect,
                resource_type: "User",
                id,
                members: None,
            };
            patch::apply(&mut doc, &ops, &mut target)?;
            let record =
                UserRecord::from_json(&self.registry, &self.settings.dialect, Value::Object(doc))?;
            let mut model = columns(&record, now_ms(), current.version + 1);
            if let Some(hash) = self.hash_password(record.password.clone()).await? {
                model.password_hash = Set(Some(hash));
            }
            self.write_user(txn, ctx, &current, model, &record).await
        })
        .await
    }

    async fn remove_user(&self, ctx: &Ctx, id: &str) -> Result<(), ServiceError> {
        let uid = parse_id(KIND, id)?;
        with_retry(|| async {
            let txn = self.begin_write().await?;
            self.lock_user(&txn, ctx, uid, id).await?;
            // Memberships first, so no group ever lists a missing user.
            group_store::remove_from_all_groups(&txn, ctx.tenant, uid).await?;
            if !user_store::delete(&txn, ctx.tenant, uid).await? {
                return Err(ServiceError::not_found(KIND, id));
            }
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    async fn lock_user(
        &self,
        txn: &WriteTxn,
        ctx: &Ctx,
        uid: Uuid,
        id: &str,
    ) -> Result<user::Model, ServiceError> {
        let current = user_store::find_for_update(txn, ctx.tenant, uid)
            .await?
            .ok_or_else(|| ServiceError::not_found(KIND, id))?;
        ctx.check_version(current.version)?;
        Ok(current)
    }

    async fn write_user(
        &self,
        txn: WriteTxn,
        ctx: &Ctx,
        current: &user::Model,
        model: user::ActiveModel,
        record: &UserRecord,
    ) -> Result<ResourceView, ServiceError> {
        let before = current.doc.as_object().cloned().unwrap_or_default();
        check_immutable(&self.registry, KIND.name(), &before, &record.doc)?;
        let row = written_row(merged(current, model.clone()))?;
        let written = user_store::update(&txn, model, ctx.tenant, current.id, current.version)
            .await
            .map_err(|e| unique_user_name(e, record))?;
        if !written {
            return Err(ServiceError::Internal(
                "user changed while locked".to_owned(),
            ));
        }
        // The email rows are computed from the document's emails alone.
        if current.doc.get("emails") != record.doc.get("emails") {
            user_store::replace_emails(&txn, ctx.tenant, current.id, &record.emails).await?;
        }
        let groups = group_store::groups_of(&txn, ctx.tenant, &[current.id]).await?;
        txn.commit().await?;
        Ok(user_view(ctx, &row, &groups.iter().collect::<Vec<_>>()))
    }

    /// Argon2 is deliberately slow, so it runs off the async workers.
    async fn hash_password(
        &self,
        password: Option<String>,
    ) -> Result<Option<String>, ServiceError> {
        let Some(password) = password.filter(|_| self.settings.store_password_hashes) else {
            return Ok(None);
        };
        let hash = tokio::task::spawn_blocking(move || crate::secrets::hash_secret(&password))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(ServiceError::Internal)?;
        Ok(Some(hash))
    }
}

/// The row of a new user. The benchmark seeders build their rows here too,
/// so that seeded data is exactly what the API would have written.
pub fn new_user_row(
    tenant: Uuid,
    id: Uuid,
    record: &UserRecord,
    created_ms: i64,
    password_hash: Option<String>,
) -> user::ActiveModel {
    user::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(id),
        created_at: Set(created_ms),
        password_hash: Set(password_hash),
        ..columns(record, created_ms, 1)
    }
}

/// The row as written, from the values sent to the database rather than
/// read back: a statement less per write.
fn written_row(model: user::ActiveModel) -> Result<user::Model, ServiceError> {
    model
        .try_into_model()
        .map_err(|e| ServiceError::Internal(format!("incomplete user row: {e}")))
}

/// An update's columns over the current row: what the row holds once the
/// update is written.
fn merged(current: &user::Model, mut model: user::ActiveModel) -> user::ActiveModel {
    model.tenant_id = Set(current.tenant_id);
    model.id = Set(current.id);
    model.created_at = Set(current.created_at);
    if !model.password_hash.is_set() {
        model.password_hash = Set(current.password_hash.clone());
    }
    model
}

/// The projected columns and document of a user record.
fn columns(record: &UserRecord, now: i64, version: i64) -> user::ActiveModel {
    user::ActiveModel {
        tenant_id: NotSet,
        id: NotSet,
        user_name: Set(record.user_name.clone()),
        user_name_norm: Set(record.user_name_norm.clone()),
        external_id: Set(record.external_id.clone()),
        display_name: Set(record.display_name.clone()),
        display_name_norm: Set(record.display_name_norm.clone()),
        active: Set(record.active),
        created_at: NotSet,
        modified_at: Set(now),
        version: Set(version),
        doc: Set(Value::Object(record.doc.clone())),
        doc_search: Set(Some(record.doc_search.clone())),
        password_hash: NotSet,
    }
}

fn unique_user_name(e: sea_orm::DbErr, record: &UserRecord) -> ServiceError {
    if store::is_unique_violation(&e) {
        return ScimError::uniqueness(format!(
            "userName '{}' is already taken (userName is case-insensitive)",
            record.user_name
        ))
        .into();
    }
    e.into()
}
