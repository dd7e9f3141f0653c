//! What a write answers with. The write path (`resource`) decides how much
//! of the resource to read for it; `http::resources` turns it into one
//! response the same way for every kind.

use uuid::Uuid;

use super::members::MemberFeed;
use super::render::ResourceView;
use crate::scim::projection::Projection;
use crate::scim::resource::{ResourceKind, location};

/// How much of the resource a write answers with.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'p> {
    /// No body (bulk operations, a 204): the write alone.
    Nothing,
    /// As the request's `attributes` / `excludedAttributes` shape it.
    Shaped(&'p Projection<'p>),
}

/// What a write answers with.
pub enum Written {
    /// The resource as written, without a body.
    Done {
        id: String,
        version: i64,
        location: String,
    },
    /// The resource as the answer shows it; a large group's members
    /// follow as a feed.
    Shown(ResourceView, Option<Box<MemberFeed>>),
}

impl Written {
    pub fn id(&self) -> &str {
        match self {
            Self::Done { id, .. } => id,
            Self::Shown(view, _) => &view.id,
        }
    }

    pub fn version(&self) -> i64 {
        match self {
            Self::Done { version, .. } => *version,
            Self::Shown(view, _) => view.version,
        }
    }

    pub fn location(&self) -> &str {
        match self {
            Self::Done { location, .. } => location,
            Self::Shown(view, _) => &view.location,
        }
    }

    pub(super) fn done(base_url: &str, kind: ResourceKind, id: Uuid, version: i64) -> Self {
        let id = id.to_string();
        Self::Done {
            location: location(base_url, kind, &id),
            id,
            version,
        }
    }
}
