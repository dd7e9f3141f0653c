//! Group members for responses that carry them, read a batch at a time.
//!
//! A page of groups reads the start of its members with the page (one
//! statement per chunk of groups, at most `member_batch` rows). When that
//! is all of them, the page renders as any other. When it is not (some
//! group is large), the response streams: each group's remaining members
//! are read `member_batch` at a time along the primary key while the body
//! is written, so a response naming a 100,000-member group holds one batch,
//! not the group, and sixteen such responses at once stay within a few MB.
//!
//! Batches after the first are read outside the page's transaction, each a
//! committed state of its own: a member added or removed while a large
//! group streams may or may not appear, but a member present throughout is
//! listed exactly once (keyset reads never skip or repeat a key).

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use uuid::Uuid;

use super::render::member_json;
use super::{Ctx, ServiceError};
use crate::scim::projection::ElementProjection;
use crate::store::CHUNK;
use crate::store::groups::{self as group_store, MemberRow};

/// What is known of one group's members after the first read.
enum Read {
    /// All of them (possibly none).
    Whole(Vec<MemberRow>),
    /// The first of them; more may follow the last.
    Start(Vec<MemberRow>),
    /// None yet.
    Unread,
}

/// The members of a page's groups, handed out group by group.
pub struct MemberFeed {
    db: DatabaseConnection,
    ctx: Ctx,
    shape: ElementProjection,
    batch: u64,
    groups: HashMap<Uuid, Read>,
}

/// Where one group's members stand while its resource is written.
pub struct GroupMembers {
    read: Vec<MemberRow>,
    /// Read on after this member (`Some(None)`: from the first), or stop.
    next: Option<Option<Uuid>>,
}

impl MemberFeed {
    /// Reads the start of the members of `group_ids`, in the caller's
    /// transaction so that it agrees with the page.
    pub(super) async fn start<C: ConnectionTrait>(
        c: &C,
        db: &DatabaseConnection,
        ctx: &Ctx,
        group_ids: &[Uuid],
        shape: ElementProjection,
        batch: u64,
    ) -> Result<Self, ServiceError> {
        let mut groups = HashMap::with_capacity(group_ids.len());
        for chunk in group_ids.chunks(CHUNK) {
            let rows = group_store::first_members(c, ctx.tenant, chunk, batch).await?;
            let ended = (rows.len() as u64) < batch;
            let by_group = split_by_group(rows);
            let last = by_group.last().map(|(g, _)| *g);
            for gid in chunk {
                groups.insert(
                    *gid,
                    if ended {
                        Read::Whole(Vec::new())
                    } else {
                        Read::Unread
                    },
                );
            }
            for (gid, rows) in by_group {
                let read = if !ended && Some(gid) == last {
                    Read::Start(rows)
                } else {
                    Read::Whole(rows)
                };
                groups.insert(gid, read);
            }
        }
        Ok(Self {
            db: db.clone(),
            ctx: ctx.clone(),
            shape,
            batch,
            groups,
        })
    }

    /// Whether every member was read with the page, so that they render
    /// with it and nothing streams.
    pub(super) fn all_read(&self) -> bool {
        self.groups.values().all(|r| matches!(r, Read::Whole(_)))
    }

    /// The members read with the page, by group.
    pub(super) fn into_read(self) -> HashMap<Uuid, Vec<MemberRow>> {
        self.groups
            .into_iter()
            .map(|(gid, read)| match read {
                Read::Whole(rows) | Read::Start(rows) => (gid, rows),
                Read::Unread => (gid, Vec::new()),
            })
            .collect()
    }

    /// The members of resource `id`, or `None` when it is not one of the
    /// feed's groups (a user on a mixed page).
    pub fn take(&mut self, id: Uuid) -> Option<GroupMembers> {
        Some(match self.groups.remove(&id)? {
            Read::Whole(read) => GroupMembers { read, next: None },
            Read::Start(read) => {
                let after = read.last().map(|r| r.member_id);
                GroupMembers {
                    read,
                    next: Some(after),
                }
            }
            Read::Unread => GroupMembers {
                read: Vec::new(),
                next: Some(None),
            },
        })
    }

    /// The group's next members as the response shows them; `None` once
    /// all are out. A batch may be empty when the projection leaves its
    /// members out.
    pub async fn next(
        &self,
        group: Uuid,
        members: &mut GroupMembers,
    ) -> Result<Option<Vec<Value>>, ServiceError> {
        if members.read.is_empty() {
            let Some(after) = members.next else {
                return Ok(None);
            };
            let rows =
                group_store::members_after(&self.db, self.ctx.tenant, group, after, self.batch)
                    .await?;
            members.next = match rows.last() {
                Some(last) if rows.len() as u64 == self.batch => Some(Some(last.member_id)),
                _ => None,
            };
            if rows.is_empty() {
                return Ok(None);
            }
            members.read = rows;
        }
        Ok(Some(
            std::mem::take(&mut members.read)
                .iter()
                .filter_map(|r| self.shape.apply(member_json(&self.ctx, r)))
                .collect(),
        ))
    }
}

/// Rows in (group, member) order, cut into one run per group.
fn split_by_group(rows: Vec<MemberRow>) -> Vec<(Uuid, Vec<MemberRow>)> {
    let mut runs: Vec<(Uuid, Vec<MemberRow>)> = Vec::new();
    for row in rows {
        match runs.last_mut() {
            Some((gid, run)) if *gid == row.group_id => run.push(row),
            _ => runs.push((row.group_id, vec![row])),
        }
    }
    runs
}
