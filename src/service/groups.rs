use std::collections::HashSet;

use entity::group;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::TransactionTrait;
use serde_json::Value;
use uuid::Uuid;

use super::list::Rendered;
use super::members::MemberFeed;
use super::render::{ResourceView, group_view};
use super::retry::with_retry;
use super::{Ctx, ServiceError, Services, parse_id};
use crate::scim::ScimError;
use crate::scim::group::{GroupRecord, MemberRef};
use crate::scim::patch::{self, MemberPlan, PatchContext};
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::scim::validate::check_immutable;
use crate::store::source::Source;
use crate::store::write::WriteTxn;
use crate::store::{groups as group_store, users as user_store};
use crate::time::now_ms;

const KIND: ResourceKind = ResourceKind::Group;

/// What a write returns: the group (with its members to stream when they
/// are many), or only that it succeeded when the caller does not want a
/// body (large groups answered with 204).
pub enum GroupWrite {
    View(ResourceView, Option<Box<MemberFeed>>),
    Done,
}

/// How much of the group a write answers with. Members are the expensive
/// part: a caller that will not show them must not pay for loading them.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'p> {
    Nothing,
    WithoutMembers,
    /// As the request's `attributes` / `excludedAttributes` shape it.
    Shaped(&'p Projection<'p>),
}

impl Services {
    /// Validation runs here; the lane gets the transaction (as for users).
    pub async fn create_group(
        &self,
        ctx: &Ctx,
        input: Value,
    ) -> Result<ResourceView, ServiceError> {
        let record = GroupRecord::from_json(&self.registry, &self.settings.dialect, input)?;
        let id = Uuid::new_v4();
        let now = now_ms();
        let model = group::ActiveModel {
            tenant_id: Set(ctx.tenant),
            id: Set(id),
            created_at: Set(now),
            ..columns(&record, now, 1)
        };
        self.on_lane(ctx, move |s, ctx| async move {
            s.insert_group(&ctx, id, model, &record).await
        })
        .await
    }

    async fn insert_group(
        &self,
        ctx: &Ctx,
        id: Uuid,
        model: group::ActiveModel,
        record: &GroupRecord,
    ) -> Result<ResourceView, ServiceError> {
        let txn = self.begin_write().await?;
        group_store::insert(&txn, model).await?;
        if let Some(members) = &record.members {
            let resolved = self.resolve_members(&txn, ctx, id, members).await?;
            group_store::add_members(&txn, ctx.tenant, id, &resolved).await?;
        }
        let view = self.load_group(&txn, ctx, id).await?;
        txn.commit().await?;
        Ok(view)
    }

    /// The group without its members, for answers that do not show them.
    async fn group_without_members(
        &self,
        ctx: &Ctx,
        id: &str,
    ) -> Result<ResourceView, ServiceError> {
        let gid = parse_id(KIND, id)?;
        let row = self.find_group(&self.reads(), ctx, gid, id).await?;
        Ok(group_view(ctx, &row, None))
    }

    /// A group as GET shows it, shaped by the request's projection; a large
    /// group's members follow as a feed (see `members`).
    pub async fn read_group(
        &self,
        ctx: &Ctx,
        id: &str,
        projection: &Projection<'_>,
    ) -> Result<(ResourceView, Option<MemberFeed>), ServiceError> {
        let gid = parse_id(KIND, id)?;
        // Only the members need a transaction to agree with the row.
        let rendered = if projection.element("members").is_some() {
            let txn = self.db.begin().await?;
            let rendered = self.group_alone(&txn, ctx, gid, id, projection).await?;
            txn.commit().await?;
            rendered
        } else {
            self.group_alone(&self.reads(), ctx, gid, id, projection)
                .await?
        };
        let view = rendered.resources.into_iter().next();
        let view = view.ok_or_else(|| ServiceError::not_found(KIND, id))?;
        Ok((view, rendered.members))
    }

    async fn group_alone<S: Source>(
        &self,
        c: &S,
        ctx: &Ctx,
        gid: Uuid,
        id: &str,
        projection: &Projection<'_>,
    ) -> Result<Rendered<ResourceView>, ServiceError> {
        let row = self.find_group(c, ctx, gid, id).await?;
        self.group_views(c, ctx, &[row], projection).await
    }

    /// The group `gid`, or 404 naming it as the client wrote it (`id`).
    async fn find_group<S: Source>(
        &self,
        c: &S,
        ctx: &Ctx,
        gid: Uuid,
        id: &str,
    ) -> Result<group::Model, ServiceError> {
        group_store::find(c, ctx.tenant, gid)
            .await?
            .ok_or_else(|| ServiceError::not_found(KIND, id))
    }

    /// PUT replaces the group, members included: members left out are
    /// removed (RFC 7644 §3.5.1), as Okta's custom apps expect.
    pub async fn replace_group(
        &self,
        ctx: &Ctx,
        id: &str,
        input: Value,
        answer: Answer<'_>,
    ) -> Result<GroupWrite, ServiceError> {
        let gid = parse_id(KIND, id)?;
        let owned = id.to_owned();
        let record = GroupRecord::from_json(&self.registry, &self.settings.dialect, input)?;
        self.on_lane(ctx, move |s, ctx| async move {
            s.put_group(&ctx, gid, &owned, &record).await
        })
        .await?;
        self.answer(ctx, id, answer).await
    }

    async fn put_group(
        &self,
        ctx: &Ctx,
        gid: Uuid,
        id: &str,
        record: &GroupRecord,
    ) -> Result<(), ServiceError> {
        let plan = MemberPlan {
            clear: true,
            add: record.members.clone().unwrap_or_default(),
            remove: Default::default(),
        };
        with_retry(|| async {
            let txn = self.begin_write().await?;
            let current = self.lock_group(&txn, ctx, gid, id).await?;
            self.write_group(txn, ctx, &current, record, &plan).await
        })
        .await
    }

    pub async fn patch_group(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
        answer: Answer<'_>,
    ) -> Result<GroupWrite, ServiceError> {
        let owned = id.to_owned();
        self.on_lane(ctx, |s, ctx| async move {
            s.apply_group_patch(&ctx, &owned, body).await
        })
        .await?;
        self.answer(ctx, id, answer).await
    }

    async fn apply_group_patch(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<(), ServiceError> {
        let gid = parse_id(KIND, id)?;
        let ops = patch::parse_request(body, &self.settings.dialect)?;
        with_retry(|| async {
            let txn = self.begin_write().await?;
            let current = self.lock_group(&txn, ctx, gid, id).await?;
            let mut doc = current.doc.as_object().cloned().unwrap_or_default();
            let mut plan = MemberPlan::default();
            let mut patch_ctx = PatchContext {
                registry: &self.registry,
                dialect: &self.settings.dialect,
                kind: KIND,
                id,
                members: Some(&mut plan),
            };
            patch::apply(&mut doc, &ops, &mut patch_ctx)?;
            let record =
                GroupRecord::from_json(&self.registry, &self.settings.dialect, Value::Object(doc))?;
            self.write_group(txn, ctx, &current, &record, &plan).await
        })
        .await
    }

    /// The group as a write answers with it, read after the commit:
    /// rendering a large group must not hold the write lock, and a retried
    /// write must not re-run after a read fails.
    async fn answer(
        &self,
        ctx: &Ctx,
        id: &str,
        answer: Answer<'_>,
    ) -> Result<GroupWrite, ServiceError> {
        match answer {
            Answer::Nothing => Ok(GroupWrite::Done),
            Answer::WithoutMembers => Ok(GroupWrite::View(
                self.group_without_members(ctx, id).await?,
                None,
            )),
            Answer::Shaped(projection) => {
                let (view, members) = self.read_group(ctx, id, projection).await?;
                Ok(GroupWrite::View(view, members.map(Box::new)))
            }
        }
    }

    pub async fn delete_group(&self, ctx: &Ctx, id: &str) -> Result<(), ServiceError> {
        let owned = id.to_owned();
        self.on_lane(
            ctx,
            |s, ctx| async move { s.remove_group(&ctx, &owned).await },
        )
        .await
    }

    async fn remove_group(&self, ctx: &Ctx, id: &str) -> Result<(), ServiceError> {
        let gid = parse_id(KIND, id)?;
        with_retry(|| async {
            let txn = self.begin_write().await?;
            self.lock_group(&txn, ctx, gid, id).await?;
            group_store::remove_from_all_groups(&txn, ctx.tenant, gid).await?;
            if !group_store::delete(&txn, ctx.tenant, gid).await? {
                return Err(ServiceError::not_found(KIND, id));
            }
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    async fn lock_group(
        &self,
        txn: &WriteTxn,
        ctx: &Ctx,
        gid: Uuid,
        id: &str,
    ) -> Result<group::Model, ServiceError> {
        let current = group_store::find_for_update(txn, ctx.tenant, gid)
            .await?
            .ok_or_else(|| ServiceError::not_found(KIND, id))?;
        ctx.check_version(current.version)?;
        Ok(current)
    }

    async fn write_group(
        &self,
        txn: WriteTxn,
        ctx: &Ctx,
        current: &group::Model,
        record: &GroupRecord,
        plan: &MemberPlan,
    ) -> Result<(), ServiceError> {
        let before = current.doc.as_object().cloned().unwrap_or_default();
        check_immutable(&self.registry, KIND, &before, &record.doc)?;
        let model = columns(record, now_ms(), current.version + 1);
        if !group_store::update(&txn, model, ctx.tenant, current.id, current.version).await? {
            return Err(ServiceError::Internal(
                "group changed while locked".to_owned(),
            ));
        }
        self.apply_member_plan(&txn, ctx, current.id, plan).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Set operations in SQL: the cost follows the number of members named,
    /// never the size of the group.
    async fn apply_member_plan(
        &self,
        txn: &WriteTxn,
        ctx: &Ctx,
        gid: Uuid,
        plan: &MemberPlan,
    ) -> Result<(), ServiceError> {
        if plan.clear {
            group_store::clear_members(txn, ctx.tenant, gid).await?;
        }
        // Removing an id that is no member, or no id at all, is a no-op.
        let remove: Vec<Uuid> = plan
            .remove
            .iter()
            .filter_map(|v| Uuid::parse_str(v).ok())
            .collect();
        group_store::remove_members(txn, ctx.tenant, gid, &remove).await?;
        let add = self.resolve_members(txn, ctx, gid, &plan.add).await?;
        group_store::add_members(txn, ctx.tenant, gid, &add).await?;
        Ok(())
    }

    /// Checks that every named member exists and says what it is. Unknown
    /// ids fail the whole request: a group must never list a ghost.
    async fn resolve_members(
        &self,
        txn: &WriteTxn,
        ctx: &Ctx,
        gid: Uuid,
        members: &[MemberRef],
    ) -> Result<Vec<(Uuid, &'static str)>, ServiceError> {
        let mut ids = Vec::with_capacity(members.len());
        for m in members {
            let id = Uuid::parse_str(&m.value).map_err(|_| {
                ScimError::invalid_value(format!("member '{}' does not exist", m.value))
            })?;
            if id == gid {
                return Err(
                    ScimError::invalid_value("a group cannot be a member of itself").into(),
                );
            }
            ids.push(id);
        }
        let users: HashSet<Uuid> = user_store::existing_ids(txn, ctx.tenant, &ids)
            .await?
            .into_iter()
            .collect();
        let missing: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| !users.contains(id))
            .collect();
        let groups: HashSet<Uuid> = if missing.is_empty() {
            HashSet::new()
        } else {
            group_store::existing_ids(txn, ctx.tenant, &missing)
                .await?
                .into_iter()
                .collect()
        };
        ids.into_iter()
            .map(|id| {
                if users.contains(&id) {
                    Ok((id, "User"))
                } else if groups.contains(&id) {
                    Ok((id, "Group"))
                } else {
                    Err(ScimError::invalid_value(format!("member '{id}' does not exist")).into())
                }
            })
            .collect()
    }

    /// A created group with all its members, which the request named
    /// (so they are bounded by the request body).
    async fn load_group(
        &self,
        txn: &WriteTxn,
        ctx: &Ctx,
        gid: Uuid,
    ) -> Result<ResourceView, ServiceError> {
        let row = self.find_group(txn, ctx, gid, &gid.to_string()).await?;
        let members = group_store::members_of(txn, ctx.tenant, &[gid]).await?;
        let refs: Vec<_> = members.iter().collect();
        Ok(group_view(ctx, &row, Some(&refs)))
    }
}

fn columns(record: &GroupRecord, now: i64, version: i64) -> group::ActiveModel {
    group::ActiveModel {
        tenant_id: NotSet,
        id: NotSet,
        display_name: Set(record.display_name.clone()),
        display_name_norm: Set(record.display_name_norm.clone()),
        external_id: Set(record.external_id.clone()),
        created_at: NotSet,
        modified_at: Set(now),
        version: Set(version),
        doc: Set(Value::Object(record.doc.clone())),
        doc_search: Set(Some(record.doc_search.clone())),
    }
}
