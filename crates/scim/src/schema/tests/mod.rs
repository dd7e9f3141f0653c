//! The registry, its RFC definitions, extensions and discovery documents.

use serde_json::{Value, json};

use super::*;

mod attribute;
mod discovery;
mod extension;
mod resolve;
mod rfc;

const BASE: &str = "https://scim.example.com/v2";

fn registry() -> SchemaRegistry {
    SchemaRegistry::rfc().unwrap()
}

fn user(reg: &SchemaRegistry, name: &str, sub: Option<&str>) -> Option<AttributeDef> {
    reg.resolve("User", None, name, sub)
        .map(|r| r.leaf().clone())
}

fn assert_no_nulls(value: &Value, path: &str) {
    match value {
        Value::Null => panic!("null at {path}"),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_no_nulls(item, &format!("{path}[{i}]"));
            }
        }
        Value::Object(obj) => {
            for (key, item) in obj {
                assert_no_nulls(item, &format!("{path}.{key}"));
            }
        }
        _ => {}
    }
}

fn acme_extension() -> Value {
    json!({
        "id": "urn:example:scim:schemas:extension:acme:1.0:User",
        "name": "AcmeUser",
        "description": "Acme additions",
        "attributes": [
            {"name": "badgeNumber", "type": "integer", "multiValued": false, "uniqueness": "server"},
            {"name": "site", "type": "complex", "subAttributes": [
                {"name": "code", "caseExact": true},
                {"name": "$ref", "type": "reference", "referenceTypes": ["external"]}
            ]}
        ]
    })
}

fn invalid_reason(reg: &mut SchemaRegistry, schema: Value) -> String {
    match reg.add_extension("User", schema, false) {
        Err(SchemaError::Invalid { reason, .. }) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn full_capabilities() -> Capabilities {
    Capabilities {
        documentation_uri: Some("https://docs.example.com/scim".into()),
        patch: true,
        bulk: Some(BulkLimits {
            max_operations: 1000,
            max_payload_size: 1_048_576,
        }),
        filter_max_results: 200,
        change_password: false,
        sort: true,
        etag: true,
        pagination: Some(Pagination {
            cursor: true,
            index: true,
            default_pagination_method: "index".into(),
            default_page_size: 100,
            max_page_size: 500,
            cursor_timeout: Some(3600),
        }),
        authentication_schemes: vec![AuthScheme {
            scheme_type: "oauthbearertoken".into(),
            name: "OAuth Bearer Token".into(),
            description: "Authentication scheme using the OAuth Bearer Token Standard".into(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".into()),
            documentation_uri: None,
            primary: true,
        }],
        security_events: None,
    }
}
