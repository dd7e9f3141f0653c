//! Groups: what the write path does for them beside the row (member
//! plans) and how they are read.

use std::collections::HashSet;

use entity::{group, user};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::DbErr;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::answer::Written;
use super::change::MemberChange;
use super::list::Rendered;
use super::members::MemberFeed;
use super::render::ResourceView;
use super::resource::ResourceType;
use super::{Ctx, ServiceError, Services, parse_id};
use crate::scim::ScimError;
use crate::scim::group::{GroupRecord, MemberRef};
use crate::scim::patch::MemberPlan;
use crate::scim::projection::Projection;
use crate::scim::resource::ResourceKind;
use crate::store::exec::{Source, WriteTxn};
use crate::store::groups as group_store;
use crate::store::memberships;
use crate::store::resources::existing_ids;

const KIND: ResourceKind = ResourceKind::Group;

/// The group kind of the write path.
pub(super) struct Groups;

impl ResourceType for Groups {
    type Table = group::Entity;
    type Record = GroupRecord;
    type Side = MemberPlan;
    /// Nothing: a group's answer is read after the commit, since
    /// rendering a large group must not hold the write lock, and a retried
    /// write must not run again after a read fails.
    type Kept = ();
    const HAS_MEMBERS: bool = true;

    fn parse(s: &Services, doc: Value) -> Result<GroupRecord, ServiceError> {
        Ok(GroupRecord::from_json(
            &s.registry,
            &s.settings.dialect,
            doc,
        )?)
    }

    fn record_doc(record: &GroupRecord) -> &Map<String, Value> {
        &record.doc
    }

    fn stored_doc(model: &group::Model) -> &Value {
        &model.doc
    }

    fn columns(record: &GroupRecord, _: &MemberPlan, now: i64, version: i64) -> group::ActiveModel {
        columns(record, now, version)
    }

    fn new_row(
        ctx: &Ctx,
        id: Uuid,
        record: &GroupRecord,
        _: &MemberPlan,
        now: i64,
    ) -> group::ActiveModel {
        group::ActiveModel {
            tenant_id: Set(ctx.tenant),
            id: Set(id),
            created_at: Set(now),
            ..columns(record, now, 1)
        }
    }

    fn member_change(plan: &MemberPlan) -> Option<MemberChange> {
        if plan.is_empty() {
            return None;
        }
        // Values that are no uuid name nobody: the plan applies none.
        let ids = |values: &mut dyn Iterator<Item = &String>| {
            values.filter_map(|v| Uuid::parse_str(v).ok()).collect()
        };
        Some(MemberChange {
            cleared: plan.clear,
            added: ids(&mut plan.add.iter().map(|m| &m.value)),
            removed: ids(&mut plan.remove.iter()),
        })
    }

    fn unique_violation(e: DbErr, _: &GroupRecord) -> ServiceError {
        e.into()
    }

    async fn created(_: &Services, record: &GroupRecord) -> Result<MemberPlan, ServiceError> {
        Ok(MemberPlan {
            clear: false,
            add: record.members.clone().unwrap_or_default(),
            remove: Default::default(),
        })
    }

    /// PUT replaces the group, members included: members left out are
    /// removed (RFC 7644 §3.5.1), as Okta's custom apps expect.
    async fn replaced(_: &Services, record: &GroupRecord) -> Result<MemberPlan, ServiceError> {
        Ok(MemberPlan {
            clear: true,
            add: record.members.clone().unwrap_or_default(),
            remove: Default::default(),
        })
    }

    async fn patched(
        _: &Services,
        _: &GroupRecord,
        members: MemberPlan,
    ) -> Result<MemberPlan, ServiceError> {
        Ok(members)
    }

    async fn insert_side(
        s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        id: Uuid,
        _: &GroupRecord,
        plan: &MemberPlan,
    ) -> Result<(), ServiceError> {
        s.apply_member_plan(txn, ctx, id, plan).await
    }

    async fn update_side(
        s: &Services,
        txn: &WriteTxn,
        ctx: &Ctx,
        current: &group::Model,
        _: &GroupRecord,
        plan: &MemberPlan,
    ) -> Result<(), ServiceError> {
        s.apply_member_plan(txn, ctx, current.id, plan).await
    }

    async fn delete_side(txn: &WriteTxn, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        memberships::remove_from_all_groups(txn, ctx.tenant, id).await?;
        Ok(memberships::clear_members(txn, ctx.tenant, id).await?)
    }

    async fn keep(
        _: &Services,
        _: &WriteTxn,
        _: &Ctx,
        _: Option<&group::Model>,
        _: group::ActiveModel,
    ) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn answer(
        s: &Services,
        ctx: &Ctx,
        id: &str,
        (): (),
        projection: &Projection<'_>,
    ) -> Result<Written, ServiceError> {
        let (view, members) = s.read_group(ctx, id, projection).await?;
        Ok(Written::Shown(view, members.map(Box::new)))
    }
}

impl Services {
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
            let txn = self.db.snapshot().await?;
            let rendered = self.group_alone(&txn, ctx, gid, id, projection).await?;
            txn.commit().await?;
            rendered
        } else {
            self.group_alone(&self.db.reads(), ctx, gid, id, projection)
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
        let row = group_store::find(c, ctx.tenant, gid)
            .await?
            .ok_or_else(|| ServiceError::not_found(KIND, id))?;
        self.group_views(c, ctx, &[row], projection).await
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
            memberships::clear_members(txn, ctx.tenant, gid).await?;
        }
        // Removing an id that is no member, or no id at all, is a no-op.
        let remove: Vec<Uuid> = plan
            .remove
            .iter()
            .filter_map(|v| Uuid::parse_str(v).ok())
            .collect();
        memberships::remove_members(txn, ctx.tenant, gid, &remove).await?;
        let add = self.resolve_members(txn, ctx, gid, &plan.add).await?;
        memberships::add_members(txn, ctx.tenant, gid, &add).await?;
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
        let users: HashSet<Uuid> = existing_ids::<user::Entity, _>(txn, ctx.tenant, &ids)
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
            existing_ids::<group::Entity, _>(txn, ctx.tenant, &missing)
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
