//! The User resource: from client JSON to what is stored, and back.

use serde_json::{Map, Value};

use super::ScimError;
use super::idp_dialect::Dialect;
use super::normalize::fold_case;
use super::resource::ResourceKind;
use super::schema::SchemaRegistry;
use super::search_doc::search_document;
use super::validate::normalize_resource;

/// Longest value of an indexed column, in characters (see the migration).
pub const MAX_KEY_CHARS: usize = 255;

/// A validated User, split into the projected columns and the document.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user_name: String,
    pub user_name_norm: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub display_name_norm: Option<String>,
    pub active: bool,
    pub emails: Vec<EmailRow>,
    /// Write-only: taken out of the document, never stored in it.
    pub password: Option<String>,
    pub doc: Map<String, Value>,
    pub doc_search: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmailRow {
    pub value: String,
    pub value_norm: String,
    pub email_type: Option<String>,
    pub type_norm: Option<String>,
    pub primary: bool,
}

/// The search columns of a stored user document: everything a filter or a
/// sort reads besides the columns a write sets directly. Writes and the
/// start-up re-projection of old rows both come through here, so the two
/// can never disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSearch {
    pub display_name_norm: Option<String>,
    pub doc_search: Value,
    pub emails: Vec<EmailRow>,
}

impl UserSearch {
    pub fn of(registry: &SchemaRegistry, doc: &Map<String, Value>) -> Self {
        Self {
            display_name_norm: string_field(doc, "displayName")
                .filter(|d| !d.is_empty())
                .map(|d| fold_case(&d)),
            doc_search: search_document(registry, ResourceKind::User, doc),
            emails: email_rows(doc),
        }
    }
}

impl UserRecord {
    pub fn from_json(
        registry: &SchemaRegistry,
        dialect: &Dialect,
        input: Value,
    ) -> Result<Self, ScimError> {
        let mut doc = normalize_resource(registry, dialect, ResourceKind::User, input)?;
        let password = match doc.remove("password") {
            Some(Value::String(p)) => Some(p),
            _ => None,
        };
        let user_name = match doc.get("userName") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(ScimError::invalid_value(
                    "userName is required and must not be empty",
                ));
            }
        };
        let user_name_norm = fold_case(&user_name);
        check_key_len("userName", &user_name_norm)?;
        let external_id = string_field(&doc, "externalId");
        let display_name = string_field(&doc, "displayName");
        for (name, v) in [("externalId", &external_id), ("displayName", &display_name)] {
            if let Some(v) = v {
                check_key_len(name, v)?;
            }
        }
        // Absent means active: a user an IdP creates is meant to sign in.
        // The document keeps what the client sent, so a PATCH that removes
        // `active` removes it (the column still says the user may sign in).
        let active = doc.get("active").and_then(Value::as_bool).unwrap_or(true);
        let search = UserSearch::of(registry, &doc);
        for email in &search.emails {
            check_key_len("emails.value", &email.value)?;
            if let Some(t) = &email.email_type {
                check_key_len("emails.type", t)?;
            }
        }
        Ok(Self {
            user_name,
            user_name_norm,
            external_id,
            display_name,
            display_name_norm: search.display_name_norm,
            active,
            emails: search.emails,
            password,
            doc,
            doc_search: search.doc_search,
        })
    }
}

pub fn check_key_len(name: &str, value: &str) -> Result<(), ScimError> {
    if value.chars().count() > MAX_KEY_CHARS {
        return Err(ScimError::invalid_value(format!(
            "{name} is longer than {MAX_KEY_CHARS} characters"
        )));
    }
    Ok(())
}

fn string_field(doc: &Map<String, Value>, name: &str) -> Option<String> {
    doc.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn email_rows(doc: &Map<String, Value>) -> Vec<EmailRow> {
    let Some(Value::Array(items)) = doc.get("emails") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            // An email without a value has nothing to search on.
            let value = item.get("value").and_then(Value::as_str)?;
            let email_type = item.get("type").and_then(Value::as_str).map(str::to_owned);
            Some(EmailRow {
                value: value.to_owned(),
                value_norm: fold_case(value),
                type_norm: email_type.as_deref().map(fold_case),
                email_type,
                primary: item
                    .get("primary")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<UserRecord, ScimError> {
        UserRecord::from_json(&SchemaRegistry::rfc().unwrap(), &Dialect::lenient(), v)
    }

    #[test]
    fn okta_create_body() {
        let u = parse(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "Test.User@Okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": "1mz050nq", "active": true
        }))
        .unwrap();
        assert_eq!(u.user_name_norm, "test.user@okta.local");
        assert_eq!(u.password.as_deref(), Some("1mz050nq"));
        assert!(!u.doc.contains_key("password"));
        assert_eq!(u.emails[0].email_type.as_deref(), Some("work"));
        assert!(u.emails[0].primary);
        assert_eq!(u.doc["locale"], "en-US");
    }

    #[test]
    fn requires_a_user_name_of_sane_length() {
        assert!(parse(json!({"displayName": "x"})).is_err());
        assert!(parse(json!({"userName": "   "})).is_err());
        assert!(parse(json!({"userName": "a".repeat(256)})).is_err());
        assert!(parse(json!({"userName": "山".repeat(255)})).is_ok());
    }

    #[test]
    fn defaults_to_active() {
        assert!(parse(json!({"userName": "a"})).unwrap().active);
    }
}
