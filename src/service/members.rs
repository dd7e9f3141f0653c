//! Group members for responses that carry them, read a batch at a time.
//!
//! A page of groups reads the start of its members with the page (one
//! statement per chunk of groups, at most `member_batch` rows). When that
//! is all of them, the page renders as any other. When it is not (some
//! group is large), the response streams: while the body is written, a
//! large group's members are read `member_batch` at a time along the
//! primary key, and the groups not reached by the first read are read
//! together when the first of them comes up. A response naming a
//! 100,000-member group thus holds about one batch, not the group.
//!
//! Reads after the first run outside the page's transaction, each a
//! committed state of its own: a member added or removed while a large
//! group streams may or may not appear, but a member present throughout is
//! listed exactly once (keyset reads never skip or repeat a key).

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::render::member_json;
use super::{Ctx, ServiceError};
use crate::scim::projection::ElementProjection;
use crate::store::CHUNK;
use crate::store::exec::{Db, Source};
use crate::store::memberships::{self, MemberRow};

/// What is known of one group's members.
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
    db: Db,
    ctx: Ctx,
    shape: ElementProjection,
    batch: u64,
    /// The groups in page order.
    order: Vec<Uuid>,
    groups: HashMap<Uuid, Read>,
}

/// Where one group's members stand while its resource is written.
pub struct GroupMembers {
    group: Uuid,
    read: Vec<MemberRow>,
    next: Next,
    /// Whether any member was read, shown or not.
    any: bool,
}

impl GroupMembers {
    /// The group these members belong to.
    pub fn group(&self) -> Uuid {
        self.group
    }

    /// Whether the group has no members at all (known once `next` has
    /// answered `None`).
    pub fn none(&self) -> bool {
        !self.any
    }
}

enum Next {
    Done,
    /// Read on along the key after this member (from the first: `None`).
    After(Option<Uuid>),
    /// Read with the other unread groups, which are mostly small.
    Unread,
}

impl MemberFeed {
    /// Reads the start of the members of `group_ids`, in the caller's
    /// transaction so that it agrees with the page.
    pub(super) async fn start<S: Source>(
        c: &S,
        db: &Db,
        ctx: &Ctx,
        group_ids: &[Uuid],
        shape: ElementProjection,
        batch: u64,
    ) -> Result<Self, ServiceError> {
        let mut feed = Self {
            db: db.clone(),
            ctx: ctx.clone(),
            shape,
            batch,
            order: group_ids.to_vec(),
            groups: HashMap::with_capacity(group_ids.len()),
        };
        for chunk in group_ids.chunks(CHUNK) {
            feed.read_together(c, chunk).await?;
        }
        Ok(feed)
    }

    /// One statement for the members of several groups, at most a batch:
    /// the groups it ends within are read whole, the one it stops in has
    /// a start, any after that stay unread.
    async fn read_together<S: Source>(
        &mut self,
        c: &S,
        group_ids: &[Uuid],
    ) -> Result<(), ServiceError> {
        let rows = memberships::first_members(c, self.ctx.tenant, group_ids, self.batch).await?;
        let ended = (rows.len() as u64) < self.batch;
        let runs = split_by_group(rows);
        let last = runs.last().map(|(g, _)| *g);
        for gid in group_ids {
            let read = if ended {
                Read::Whole(Vec::new())
            } else {
                Read::Unread
            };
            self.groups.insert(*gid, read);
        }
        for (gid, rows) in runs {
            let read = if !ended && Some(gid) == last {
                Read::Start(rows)
            } else {
                Read::Whole(rows)
            };
            self.groups.insert(gid, read);
        }
        Ok(())
    }

    /// Whether a group without members answers `"members": []` rather
    /// than leaving the attribute out.
    pub fn lists_none(&self) -> bool {
        self.ctx.dialect.empty_members
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
            Read::Whole(read) => GroupMembers {
                group: id,
                read,
                next: Next::Done,
                any: false,
            },
            Read::Start(read) => {
                let after = read.last().map(|r| r.member_id);
                GroupMembers {
                    group: id,
                    read,
                    next: Next::After(after),
                    any: false,
                }
            }
            Read::Unread => GroupMembers {
                group: id,
                read: Vec::new(),
                next: Next::Unread,
                any: false,
            },
        })
    }

    /// The group's next members as the response shows them; `None` once
    /// all are out. A batch may be empty when the projection leaves its
    /// members out.
    pub async fn next(
        &mut self,
        members: &mut GroupMembers,
    ) -> Result<Option<Vec<Value>>, ServiceError> {
        let group = members.group;
        while members.read.is_empty() {
            match members.next {
                Next::Done => return Ok(None),
                Next::Unread => {
                    self.read_ahead(group).await?;
                    // Still unread: the statement filled up with groups
                    // that sort before it; read it on its own.
                    *members = self.take(group).unwrap_or(GroupMembers {
                        group,
                        read: Vec::new(),
                        next: Next::After(None),
                        any: false,
                    });
                    if matches!(members.next, Next::Unread) {
                        members.next = Next::After(None);
                    }
                }
                Next::After(after) => {
                    let (tenant, batch) = (self.ctx.tenant, self.batch);
                    let rows =
                        memberships::members_after(self.db.scans(), tenant, group, after, batch)
                            .await?;
                    members.next = match rows.last() {
                        Some(last) if rows.len() as u64 == batch => {
                            Next::After(Some(last.member_id))
                        }
                        _ => Next::Done,
                    };
                    members.read = rows;
                }
            }
        }
        members.any = true;
        Ok(Some(
            std::mem::take(&mut members.read)
                .iter()
                .filter_map(|r| self.shape.apply(member_json(&self.ctx, r)))
                .collect(),
        ))
    }

    /// Reads `group` together with the unread groups after it on the page,
    /// unless what is already held would grow past a batch.
    async fn read_ahead(&mut self, group: Uuid) -> Result<(), ServiceError> {
        let held: usize = self
            .groups
            .values()
            .map(|r| match r {
                Read::Whole(rows) | Read::Start(rows) => rows.len(),
                Read::Unread => 0,
            })
            .sum();
        let mut ids = vec![group];
        if (held as u64) < self.batch {
            let after = self.order.iter().skip_while(|g| **g != group).skip(1);
            let unread = after.filter(|g| matches!(self.groups.get(*g), Some(Read::Unread)));
            ids.extend(unread.take(CHUNK - 1));
        }
        let db = self.db.clone();
        self.read_together(db.scans(), &ids).await
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
