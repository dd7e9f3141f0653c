//! The write path's entry points: each resource kind to the type that
//! serves it in `resource`. Each kind's future is boxed: awaited in place,
//! a user's write would carry the larger state of a group's (whose answer
//! may stream members), and every move of it copies that state.

use serde_json::Value;

use super::answer::{Answer, Written};
use super::groups::Groups;
use super::users::Users;
use super::{Ctx, ServiceError, Services};
use crate::scim::resource::ResourceKind;

/// The write path's entry points, by resource kind.
impl Services {
    pub async fn create(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        input: Value,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        match kind {
            ResourceKind::User => Box::pin(self.create_as::<Users>(ctx, input, answer)).await,
            ResourceKind::Group => Box::pin(self.create_as::<Groups>(ctx, input, answer)).await,
        }
    }

    pub async fn replace(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        input: Value,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        match kind {
            ResourceKind::User => Box::pin(self.replace_as::<Users>(ctx, id, input, answer)).await,
            ResourceKind::Group => {
                Box::pin(self.replace_as::<Groups>(ctx, id, input, answer)).await
            }
        }
    }

    pub async fn patch(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: Value,
        answer: Answer<'_>,
    ) -> Result<Written, ServiceError> {
        match kind {
            ResourceKind::User => Box::pin(self.patch_as::<Users>(ctx, id, body, answer)).await,
            ResourceKind::Group => Box::pin(self.patch_as::<Groups>(ctx, id, body, answer)).await,
        }
    }

    pub async fn delete(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
    ) -> Result<(), ServiceError> {
        match kind {
            ResourceKind::User => Box::pin(self.delete_as::<Users>(ctx, id)).await,
            ResourceKind::Group => Box::pin(self.delete_as::<Groups>(ctx, id)).await,
        }
    }
}
