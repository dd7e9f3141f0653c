//! What the console's browsers read beyond lists and single resources: a
//! group's members one keyset page at a time, so that a group of 100,000
//! members costs a page's worth of reading however deep the page is.

use uuid::Uuid;

use super::{Ctx, ServiceError, Services};
use crate::scim::resource::ResourceKind;
use crate::store::memberships;

/// One member as a browser lists it.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    /// `User` or `Group`.
    pub kind: String,
    pub display: Option<String>,
}

/// A page of members and whether more follow it.
#[derive(Debug)]
pub struct MemberPage {
    pub members: Vec<Member>,
    /// The id to continue after, when more members follow.
    pub next_after: Option<Uuid>,
}

impl Services {
    /// Up to `limit` members of `group` in id order, after `after`.
    pub async fn member_page(
        &self,
        ctx: &Ctx,
        group: &str,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<MemberPage, ServiceError> {
        let gid = super::parse_id(ResourceKind::Group, group)?;
        // One row more than shown says whether another page exists.
        let rows =
            memberships::members_after(&self.db.reads(), ctx.tenant, gid, after, limit + 1).await?;
        let more = rows.len() as u64 > limit;
        let members: Vec<Member> = rows
            .iter()
            .take(limit as usize)
            .map(|r| Member {
                id: r.member_id,
                kind: r.member_type.clone(),
                display: r.display().map(str::to_owned),
            })
            .collect();
        let next_after = more.then(|| members.last().map(|m| m.id)).flatten();
        Ok(MemberPage {
            members,
            next_after,
        })
    }
}
