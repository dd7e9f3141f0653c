//! The Group resource. Members are not part of the stored document: they
//! live in their own table and are changed by set operations.

use serde_json::{Map, Value};

use super::ScimError;
use super::idp_dialect::Dialect;
use super::normalize::fold_case;
use super::resource::ResourceKind;
use super::schema::SchemaRegistry;
use super::search_doc::search_document;
use super::user::check_key_len;
use super::validate::normalize_resource;

#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub display_name: String,
    pub display_name_norm: String,
    pub external_id: Option<String>,
    /// `None` when the request did not mention `members` at all.
    pub members: Option<Vec<MemberRef>>,
    pub doc: Map<String, Value>,
    /// See [`search_document`]; members are never in it (own table).
    pub doc_search: Value,
}

/// A member as a client names it: an id, and optionally its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub value: String,
    pub member_type: Option<String>,
}

impl GroupRecord {
    pub fn from_json(
        registry: &SchemaRegistry,
        dialect: &Dialect,
        input: Value,
    ) -> Result<Self, ScimError> {
        let mut doc = normalize_resource(registry, dialect, ResourceKind::Group, input)?;
        let members = match doc.remove("members") {
            Some(v) => Some(member_refs(&v)?),
            None => None,
        };
        let display_name = match doc.get("displayName") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(ScimError::invalid_value(
                    "displayName is required and must not be empty",
                ));
            }
        };
        let display_name_norm = fold_case(&display_name);
        check_key_len("displayName", &display_name_norm)?;
        let external_id = doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(e) = &external_id {
            check_key_len("externalId", e)?;
        }
        let doc_search = search_document(registry, ResourceKind::Group, &doc);
        Ok(Self {
            display_name,
            display_name_norm,
            external_id,
            members,
            doc,
            doc_search,
        })
    }
}

/// Reads a `members` value (already type-checked by the schema): a list of
/// `{value, type?, display?, $ref?}`.
pub fn member_refs(value: &Value) -> Result<Vec<MemberRef>, ScimError> {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        Value::Null => &[],
        single => std::slice::from_ref(single),
    };
    items.iter().map(member_ref).collect()
}

fn member_ref(item: &Value) -> Result<MemberRef, ScimError> {
    let value = item
        .get("value")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ScimError::invalid_value("each member needs a 'value' with the member's id")
        })?;
    let member_type = item.get("type").and_then(Value::as_str).map(str::to_owned);
    Ok(MemberRef {
        value: value.to_owned(),
        member_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<GroupRecord, ScimError> {
        GroupRecord::from_json(&SchemaRegistry::rfc().unwrap(), &Dialect::lenient(), v)
    }

    #[test]
    fn entra_group_with_foreign_schema_urn() {
        let g = parse(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Group1DisplayName",
            "meta": {"resourceType": "Group"}
        }))
        .unwrap();
        assert_eq!(g.display_name_norm, "group1displayname");
        assert!(g.members.is_none());
    }

    #[test]
    fn members_and_their_errors() {
        let g = parse(json!({"displayName": "G", "members": [{"value": "u1", "display": "x"}, {"value": "u2", "type": "User"}]})).unwrap();
        let members = g.members.unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].member_type.as_deref(), Some("User"));
        assert!(parse(json!({"displayName": "G", "members": [{"display": "x"}]})).is_err());
        assert!(parse(json!({"members": []})).is_err());
    }
}
