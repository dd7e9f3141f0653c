//! Stored rows → SCIM resources.

use std::collections::HashMap;
use std::sync::LazyLock;

use entity::{group, user};
use sea_orm::DbErr;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Ctx;
use crate::scim::encode::{self, Fields};
use crate::scim::projection::Projection;
use crate::scim::resource::{ResourceKind, Stored, location, render};
use crate::store::memberships::{MemberRow, MembershipRow};
use crate::store::users::UserDoc;

/// A rendered resource plus what HTTP needs for `ETag` and `Location`.
#[derive(Debug, Clone)]
pub struct ResourceView {
    pub id: String,
    pub version: i64,
    pub location: String,
    pub body: Map<String, Value>,
}

/// The stored document's attributes, borrowed: `render` copies each one
/// once, into the answer, and checks that only read them copy none.
pub(super) fn doc_map(doc: &Value) -> &Map<String, Value> {
    static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    doc.as_object().unwrap_or(&EMPTY)
}

/// What the server keeps of a resource beside its document.
fn stored(id: Uuid, created_ms: i64, modified_ms: i64, version: i64) -> Stored {
    Stored {
        id: id.to_string(),
        created_ms,
        modified_ms,
        version,
    }
}

pub fn user_view(ctx: &Ctx, m: &user::Model, groups: &[&MembershipRow]) -> ResourceView {
    let stored = stored(m.id, m.created_at, m.modified_at, m.version);
    let mut body = render(ResourceKind::User, doc_map(&m.doc), &stored, &ctx.base_url);
    if let Some(list) = groups_json(ctx, groups) {
        body.insert(GROUPS.to_owned(), list);
    }
    view(ctx, ResourceKind::User, stored, body)
}

const GROUPS: &str = "groups";

/// One resource of a list page: written out already (users), or still a
/// map (groups, whose members may be streamed after it).
#[derive(Debug)]
pub enum PageItem {
    Written(Vec<u8>),
    View(ResourceView),
}

/// A single resource's answer, written out, and its version for `ETag`.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub version: i64,
    pub body: Vec<u8>,
}

/// `user_view` trimmed by `projection` and written out. The document is
/// copied out as text where it can be (`scim::encode`).
pub fn user_encoded(
    ctx: &Ctx,
    row: &UserDoc,
    groups: &[&MembershipRow],
    projection: &Projection<'_>,
) -> Result<Encoded, DbErr> {
    let stored = stored(row.id, row.created_at, row.modified_at, row.version);
    let extra: Vec<(&'static str, Vec<u8>)> = groups_written(ctx, groups)
        .map(|text| (GROUPS, text))
        .into_iter()
        .collect();
    let kind = ResourceKind::User;
    let fast = Fields::parse(&row.doc)
        .and_then(|doc| encode::resource(kind, &doc, &stored, &ctx.base_url, &extra, projection));
    let body = match fast {
        Some(body) => body,
        // The same answer through `Value`s, for documents `encode` leaves.
        None => {
            let doc: Value =
                serde_json::from_str(&row.doc).map_err(|e| DbErr::Json(e.to_string()))?;
            let mut body = render(kind, doc_map(&doc), &stored, &ctx.base_url);
            if let Some(list) = groups_json(ctx, groups) {
                body.insert(GROUPS.to_owned(), list);
            }
            projection.apply(&mut body);
            serde_json::to_vec(&body).map_err(|e| DbErr::Json(e.to_string()))?
        }
    };
    Ok(Encoded {
        version: row.version,
        body,
    })
}

/// `groups_json` written out as JSON, without building its `Value`s,
/// copying them into the answer and trimming them item by item, which a
/// GET by id pays for every group of the user.
fn groups_written(ctx: &Ctx, groups: &[&MembershipRow]) -> Option<Vec<u8>> {
    if groups.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(groups.len() * (ctx.base_url.len() + 128));
    let mut id = Uuid::encode_buffer();
    for (i, g) in groups.iter().enumerate() {
        let id: &str = g.group_id.hyphenated().encode_lower(&mut id);
        out.extend_from_slice(if i == 0 {
            b"[{\"value\":"
        } else {
            b",{\"value\":"
        });
        encode::write_json(&mut out, &id);
        out.extend_from_slice(b",\"$ref\":");
        encode::write_json(&mut out, &location(&ctx.base_url, ResourceKind::Group, id));
        out.extend_from_slice(b",\"display\":");
        encode::write_json(&mut out, &g.display_name);
        out.extend_from_slice(b",\"type\":\"direct\"}");
    }
    out.push(b']');
    Some(out)
}

fn groups_json(ctx: &Ctx, groups: &[&MembershipRow]) -> Option<Value> {
    if groups.is_empty() {
        return None;
    }
    let list = groups
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
    Some(Value::Array(list))
}

/// `members` is `None` when the caller asked not to load them.
pub fn group_view(ctx: &Ctx, m: &group::Model, members: Option<&[&MemberRow]>) -> ResourceView {
    let stored = stored(m.id, m.created_at, m.modified_at, m.version);
    let mut body = render(ResourceKind::Group, doc_map(&m.doc), &stored, &ctx.base_url);
    if let Some(members) = members.filter(|m| !m.is_empty()) {
        let list: Vec<Value> = members.iter().map(|r| member_json(ctx, r)).collect();
        body.insert("members".to_owned(), Value::Array(list));
    }
    view(ctx, ResourceKind::Group, stored, body)
}

/// A group without members, shown where its members would be, answers
/// `"members": []` where the dialect says so, instead of leaving the
/// attribute out. (A group whose members a projection filters away still
/// leaves it out: it has members.)
pub(super) fn list_no_members(ctx: &Ctx, body: &mut Map<String, Value>) {
    if ctx.dialect.empty_members && !body.contains_key("members") {
        body.insert("members".to_owned(), Value::Array(Vec::new()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::etag::Precondition;
    use crate::scim::schema::SchemaRegistry;

    fn ctx() -> Ctx {
        Ctx {
            tenant: Uuid::nil(),
            tenant_info: std::sync::Arc::new(crate::service::tenants::Tenant::default_tenant()),
            base_url: "https://scim.example/scim/v2".to_owned(),
            if_match: Precondition::None,
            principal: None,
            request_id: None,
            profile: crate::scim::profile::Profile::Okta,
            dialect: crate::scim::idp_dialect::Dialect::lenient(),
        }
    }

    fn row(doc: &str) -> UserDoc {
        UserDoc {
            id: Uuid::from_u128(7),
            created_at: 1_700_000_000_000,
            modified_at: 1_700_000_000_001,
            version: 2,
            doc: doc.to_owned(),
        }
    }

    fn answer(doc: &str, excluded: &[&str]) -> Result<Value, DbErr> {
        let reg = SchemaRegistry::rfc().unwrap();
        let excluded: Vec<String> = excluded.iter().map(|s| (*s).to_owned()).collect();
        let p = Projection::new(&reg, ResourceKind::User, &[], &excluded).expect("valid");
        let group = MembershipRow {
            member_id: Uuid::from_u128(7),
            group_id: Uuid::from_u128(9),
            display_name: "Admins".to_owned(),
        };
        let encoded = user_encoded(&ctx(), &row(doc), &[&group], &p)?;
        assert_eq!(encoded.version, 2);
        Ok(serde_json::from_slice(&encoded.body).expect("JSON"))
    }

    #[test]
    fn a_document_encode_leaves_gets_the_same_answer_through_values() {
        let plain = answer(
            r#"{"userName":"a","emails":[{"value":"a@x"},{}]}"#,
            &["name"],
        );
        // A field named twice is not read as text; `Value` keeps the last.
        let twice = answer(
            r#"{"userName":"z","emails":[{"value":"a@x"},{}],"userName":"a"}"#,
            &["name"],
        );
        let plain = plain.expect("answers");
        assert_eq!(plain, twice.expect("answers"));
        assert_eq!(plain["emails"], json!([{"value": "a@x"}]));
        assert_eq!(plain["groups"][0]["display"], "Admins");
        assert_eq!(plain["id"], Uuid::from_u128(7).to_string());
    }

    fn memberships(names: &[&str]) -> Vec<MembershipRow> {
        (0u128..)
            .zip(names)
            .map(|(i, name)| MembershipRow {
                member_id: Uuid::from_u128(7),
                group_id: Uuid::from_u128(100 + i),
                display_name: (*name).to_owned(),
            })
            .collect()
    }

    const NAMES: &[&str] = &["Admins", "\"Ops\" \\ \u{e9}", "", "tab\there"];

    #[test]
    fn groups_are_written_as_their_values_serialize() {
        let rows = memberships(NAMES);
        let refs: Vec<&MembershipRow> = rows.iter().collect();
        for n in 0..=refs.len() {
            let want = groups_json(&ctx(), &refs[..n]).map(|v| v.to_string().into_bytes());
            assert_eq!(groups_written(&ctx(), &refs[..n]), want, "{n} groups");
        }
    }

    /// The written groups against the `Value` way (`render`, `groups_json`,
    /// `apply`), byte for byte, under projections that keep, trim or drop them.
    #[test]
    fn a_user_with_groups_answers_as_through_values() {
        let reg = SchemaRegistry::rfc().unwrap();
        let doc = r#"{"userName":"a","emails":[{"value":"a@x","type":"work"}]}"#;
        let rows = memberships(NAMES);
        let lists: &[(&[&str], &[&str])] = &[
            (&[], &[]),
            (&["groups"], &[]),
            (&["groups.display"], &[]),
            (&["userName"], &[]),
            (&[], &["groups"]),
            (&[], &["groups.display", "groups.type"]),
        ];
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        for n in [1, 2, NAMES.len()] {
            let groups: Vec<&MembershipRow> = rows.iter().take(n).collect();
            for &(attributes, excluded) in lists {
                let p = Projection::new(
                    &reg,
                    ResourceKind::User,
                    &owned(attributes),
                    &owned(excluded),
                )
                .expect("valid");
                let got = user_encoded(&ctx(), &row(doc), &groups, &p).expect("answers");
                let stored = Stored {
                    id: Uuid::from_u128(7).to_string(),
                    created_ms: 1_700_000_000_000,
                    modified_ms: 1_700_000_000_001,
                    version: 2,
                };
                let value: Value = serde_json::from_str(doc).expect("JSON");
                let mut want = render(
                    ResourceKind::User,
                    doc_map(&value),
                    &stored,
                    &ctx().base_url,
                );
                if let Some(list) = groups_json(&ctx(), &groups) {
                    want.insert(GROUPS.to_owned(), list);
                }
                p.apply(&mut want);
                assert_eq!(
                    String::from_utf8_lossy(&got.body),
                    serde_json::to_string(&want).expect("serializes"),
                    "{n} groups, {attributes:?} / {excluded:?}"
                );
            }
        }
    }

    #[test]
    fn a_corrupt_document_is_an_error() {
        assert!(matches!(answer("{not json", &[]), Err(DbErr::Json(_))));
    }
}
