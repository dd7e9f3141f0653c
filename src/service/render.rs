//! Stored rows → SCIM resources.

use std::collections::HashMap;
use std::sync::LazyLock;

use entity::{group, user};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Ctx;
use crate::scim::resource::{ResourceKind, Stored, location, render};
use crate::store::groups::{MemberRow, MembershipRow};

/// A rendered resource plus what HTTP needs for `ETag` and `Location`.
#[derive(Debug, Clone)]
pub struct ResourceView {
    pub id: String,
    pub version: i64,
    pub location: String,
    pub body: Map<String, Value>,
}

/// The stored document's attributes, borrowed: `render` copies each one
/// once, into the answer.
fn doc_map(doc: &Value) -> &Map<String, Value> {
    static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    doc.as_object().unwrap_or(&EMPTY)
}

pub fn user_view(ctx: &Ctx, m: &user::Model, groups: &[&MembershipRow]) -> ResourceView {
    let stored = Stored {
        id: m.id.to_string(),
        created_ms: m.created_at,
        modified_ms: m.modified_at,
        version: m.version,
    };
    let mut body = render(ResourceKind::User, doc_map(&m.doc), &stored, &ctx.base_url);
    if !groups.is_empty() {
        let list: Vec<Value> = groups
            .iter()
            .map(|g| {
                let id = g.group_id.to_string();
                json!({
                    "value": id,
                    "$ref": location(&ctx.base_url, ResourceKind::Group, &id),
                    "display": g.display_name,
                    "type": "direct",
                })
            })
            .collect();
        body.insert("groups".to_owned(), Value::Array(list));
    }
    view(ctx, ResourceKind::User, stored, body)
}

/// `members` is `None` when the caller asked not to load them.
pub fn group_view(ctx: &Ctx, m: &group::Model, members: Option<&[&MemberRow]>) -> ResourceView {
    let stored = Stored {
        id: m.id.to_string(),
        created_ms: m.created_at,
        modified_ms: m.modified_at,
        version: m.version,
    };
    let mut body = render(ResourceKind::Group, doc_map(&m.doc), &stored, &ctx.base_url);
    if let Some(members) = members.filter(|m| !m.is_empty()) {
        let list: Vec<Value> = members.iter().map(|r| member_json(ctx, r)).collect();
        body.insert("members".to_owned(), Value::Array(list));
    }
    view(ctx, ResourceKind::Group, stored, body)
}

pub(super) fn member_json(ctx: &Ctx, r: &MemberRow) -> Value {
    let id = r.member_id.to_string();
    let kind = if r.member_type == "Group" {
        ResourceKind::Group
    } else {
        ResourceKind::User
    };
    let mut m = Map::new();
    m.insert("value".to_owned(), Value::String(id.clone()));
    m.insert(
        "$ref".to_owned(),
        Value::String(location(&ctx.base_url, kind, &id)),
    );
    if let Some(d) = r.display() {
        m.insert("display".to_owned(), Value::String(d.to_owned()));
    }
    m.insert("type".to_owned(), Value::String(r.member_type.clone()));
    Value::Object(m)
}

fn view(ctx: &Ctx, kind: ResourceKind, stored: Stored, body: Map<String, Value>) -> ResourceView {
    ResourceView {
        location: location(&ctx.base_url, kind, &stored.id),
        id: stored.id,
        version: stored.version,
        body,
    }
}

/// Groups rows by a key, so a page's related rows load in one query and
/// are handed out per resource without rescanning.
pub fn group_by<R>(rows: &[R], key: impl Fn(&R) -> Uuid) -> HashMap<Uuid, Vec<&R>> {
    let mut map: HashMap<Uuid, Vec<&R>> = HashMap::new();
    for r in rows {
        map.entry(key(r)).or_default().push(r);
    }
    map
}
