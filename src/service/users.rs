//! Users: what the write path does for them beside the row (emails, the
//! password hash) and how they are read.

use entity::user;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{DbErr, TryIntoModel};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::answer::Written;
use super::render::{Encoded, user_encoded, user_view};
use super::resource::ResourceType;
use super::{Ctx, ServiceError, Services, parse_id};
use crate::scim::ScimError;
use crate::scim::patch::MemberPlan;
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::scim::user::UserRecord;
use crate::store::exec::WriteTxn;
use crate::store::memberships::{self, MembershipRow};
use crate::store::{self, users as user_store};

const KIND: ResourceKind = ResourceKind::User;

/// The user kind of the write path.
pub(super) struct Users;

impl ResourceType for Users {
    type Table = user::Entity;
    type Record = UserRecord;
    /// The new password's hash, if the write sets one.
    type Side = Option<String>;
    /// The row as written and the user's groups: a user's answer is
    /// rendered from what was written rather than read back, a statement
    /// less per write.
    type Kept = (user::Model, Vec<MembershipRow>);
    const HAS_MEMBERS: bool = false;

    fn parse(s: &Services, doc: Value) -> Result<UserRecord, ServiceError> {
        Ok(UserRecord::from_json(
            &s.registry,
            &s.settings.dialect,
            doc,
        )?)
    }

    fn record_doc(record: &UserRecord) -> &Map<String, Value> {
        &record.doc
    }

    fn stored_doc(model: &user::Model) -> &Value {
        &model.doc
    }

    fn columns(
        record: &UserRecord,
        hash: &Option<String>,
        now: i64,
        version: i64,
    ) -> user::ActiveModel {
        let mut row = columns(record, now, version);
        if let Some(hash) = hash {
            row.password_hash = Set(Some(hash.clone()));
        }
        row
    }

    fn new_row(
        ctx: &Ctx,
        id: Uuid,
        record: &UserRecord,
        hash: &Option<String>,
        now: i64,
    ) -> user::ActiveModel {
        new_user_row(ctx.tenant, id, record, now, hash.clone())
    }

    fn sets_password(record: &UserRecord) -> bool {
        record.password.is_some()
    }

    fn unique_violation(e: DbErr, record: &UserRecord) -> ServiceError {
        if store::exec::is_unique_violation(&e) {
            return ScimError::uniqueness(format!(
                "userName '{}' is already taken (userName is case-insensitive)",
                record.user_name
            ))
            .into();
        }
        e.into()
    }

    async fn created(s: &Services, record: &UserRecord) -> Result<Option<String>, ServiceError> {
        s.hash_password(record.password.clone()).await
    }

    /// A password left out of a PUT is kept: it is write-only, so clients
    /// cannot echo it.
    async fn replaced(s: &Services, record: &UserRecord) -> Result<Option<String>, ServiceError> {
        s.hash_password(record.password.clone()).await
    }

    async fn patched(
        s: &Services,
        record: &UserRecord,
        _members: MemberPlan,
    ) -> Result<Option<String>, ServiceError> {
        s.hash_password(record.password.clone()).await
    }

    async fn insert_side(
        _s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        id: Uuid,
        record: &UserRecord,
        _hash: &Option<String>,
    ) -> Result<(), ServiceError> {
        Ok(user_store::insert_emails(txn, ctx.tenant, id, &record.emails).await?)
    }

    async fn update_side(
        _s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        current: &user::Model,
        record: &UserRecord,
        _hash: &Option<String>,
    ) -> Result<(), ServiceError> {
        // The email rows are computed from the document's emails alone.
        if current.doc.get("emails") != record.doc.get("emails") {
            user_store::replace_emails(txn, ctx.tenant, current.id, &record.emails).await?;
        }
        Ok(())
    }

    async fn delete_side(txn: &WriteTxn, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        memberships::remove_from_all_groups(txn, ctx.tenant, id).await?;
        Ok(user_store::delete_emails(txn, ctx.tenant, id).await?)
    }

    async fn keep(
        _s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        current: Option<&user::Model>,
        row: user::ActiveModel,
    ) -> Result<Self::Kept, ServiceError> {
        let Some(current) = current else {
            return Ok((written_row(row)?, Vec::new()));
        };
        let groups = memberships::groups_of(txn, ctx.tenant, &[current.id]).await?;
        Ok((written_row(merged(current, row))?, groups))
    }

    async fn answer(
        _s: &Services,
        ctx: &Ctx,
        _id: &str,
        (row, groups): Self::Kept,
        projection: &Projection<'_>,
    ) -> Result<Written, ServiceError> {
        let mut view = user_view(ctx, &row, &groups.iter().collect::<Vec<_>>());
        projection.apply(&mut view.body);
        Ok(Written::Shown(view, None))
    }
}

impl Services {
    pub async fn get_user(
        &self,
        ctx: &Ctx,
        id: &str,
        projection: &Projection<'_>,
    ) -> Result<Encoded, ServiceError> {
        let uid = parse_id(KIND, id)?;
        let (row, groups) = user_store::find_with_groups(&self.db.reads(), ctx.tenant, uid)
            .await?
            .ok_or_else(|| ServiceError::not_found(KIND, id))?;
        let groups: Vec<_> = groups.iter().collect();
        Ok(user_encoded(ctx, &row, &groups, projection)?)
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
/// read back.
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
