//! Discovery JSON: the bodies of `/Schemas`, `/ResourceTypes` and
//! `/ServiceProviderConfig` (RFC 7643 §5–§7, RFC 9865 §4).
//!
//! Built by hand rather than with `serde_json::to_value`, which is fallible
//! by signature: this way the output is null-free by construction and no
//! error path has to be invented. A test pins it to the serde derive output.

use serde_json::{Map, Value, json};

use super::SchemaRegistry;
use super::attribute::{AttributeDef, ResourceTypeDef, SchemaDef, SchemaExtension};
use super::urn::{RESOURCE_TYPE_URN, SCHEMA_URN, SERVICE_PROVIDER_CONFIG_URN};

impl SchemaRegistry {
    /// The body of `GET /Schemas/{id}`.
    pub fn schema_json(&self, schema: &SchemaDef, base_url: &str) -> Value {
        let mut obj = Map::new();
        obj.insert("schemas".into(), json!([SCHEMA_URN]));
        obj.insert("id".into(), Value::from(schema.id.as_str()));
        insert_non_empty(&mut obj, "name", &schema.name);
        insert_non_empty(&mut obj, "description", &schema.description);
        obj.insert("attributes".into(), attributes_json(&schema.attributes));
        let location = format!("{}/Schemas/{}", trim_base(base_url), schema.id);
        obj.insert("meta".into(), meta_json("Schema", &location));
        Value::Object(obj)
    }

    /// The body of `GET /ResourceTypes/{id}`.
    pub fn resource_type_json(&self, rt: &ResourceTypeDef, base_url: &str) -> Value {
        let mut obj = Map::new();
        obj.insert("schemas".into(), json!([RESOURCE_TYPE_URN]));
        obj.insert("id".into(), Value::from(rt.id.as_str()));
        obj.insert("name".into(), Value::from(rt.name.as_str()));
        obj.insert("endpoint".into(), Value::from(rt.endpoint.as_str()));
        insert_non_empty(&mut obj, "description", &rt.description);
        obj.insert("schema".into(), Value::from(rt.schema.as_str()));
        if !rt.schema_extensions.is_empty() {
            let extensions = rt.schema_extensions.iter().map(extension_json).collect();
            obj.insert("schemaExtensions".into(), Value::Array(extensions));
        }
        let location = format!("{}/ResourceTypes/{}", trim_base(base_url), rt.id);
        obj.insert("meta".into(), meta_json("ResourceType", &location));
        Value::Object(obj)
    }
}

fn attributes_json(attributes: &[AttributeDef]) -> Value {
    Value::Array(attributes.iter().map(attribute_json).collect())
}

pub(super) fn attribute_json(attr: &AttributeDef) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), Value::from(attr.name.as_str()));
    obj.insert("type".into(), Value::from(attr.attr_type.as_str()));
    obj.insert("multiValued".into(), Value::from(attr.multi_valued));
    insert_non_empty(&mut obj, "description", &attr.description);
    obj.insert("required".into(), Value::from(attr.required));
    insert_non_empty_list(&mut obj, "canonicalValues", &attr.canonical_values);
    obj.insert("caseExact".into(), Value::from(attr.case_exact));
    obj.insert("mutability".into(), Value::from(attr.mutability.as_str()));
    obj.insert("returned".into(), Value::from(attr.returned.as_str()));
    obj.insert("uniqueness".into(), Value::from(attr.uniqueness.as_str()));
    insert_non_empty_list(&mut obj, "referenceTypes", &attr.reference_types);
    if !attr.sub_attributes.is_empty() {
        obj.insert(
            "subAttributes".into(),
            attributes_json(&attr.sub_attributes),
        );
    }
    Value::Object(obj)
}

fn extension_json(extension: &SchemaExtension) -> Value {
    json!({ "schema": extension.schema, "required": extension.required })
}

fn meta_json(resource_type: &str, location: &str) -> Value {
    json!({ "resourceType": resource_type, "location": location })
}

fn insert_non_empty(obj: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        obj.insert(key.into(), Value::from(value));
    }
}

fn insert_non_empty_list(obj: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        obj.insert(key.into(), Value::from(values));
    }
}

fn insert_some(obj: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        obj.insert(key.into(), Value::from(value));
    }
}

/// Lets operators configure the base URL with or without a trailing slash.
fn trim_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// What the server supports, from which `/ServiceProviderConfig` is built so
/// that the document cannot drift from the implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub documentation_uri: Option<String>,
    pub patch: bool,
    /// `None` when bulk is unsupported.
    pub bulk: Option<BulkLimits>,
    pub filter_max_results: u32,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
    /// RFC 9865; `None` leaves the attribute out for pre-9865 clients.
    pub pagination: Option<Pagination>,
    pub authentication_schemes: Vec<AuthScheme>,
    /// RFC 9967 `securityEvents`: the event URIs the server emits; `None`
    /// leaves the attribute out.
    pub security_events: Option<Vec<String>>,
}

/// RFC 7643 §5 `bulk` limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: u32,
    /// In bytes.
    pub max_payload_size: u64,
}

/// RFC 9865 §4 `pagination`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination {
    pub cursor: bool,
    pub index: bool,
    /// `"cursor"` or `"index"`.
    pub default_pagination_method: String,
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// Seconds; `None` when cursors do not expire.
    pub cursor_timeout: Option<u32>,
}

/// RFC 7643 §5 `authenticationSchemes` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthScheme {
    /// `"httpbasic"` or `"oauthbearertoken"` (RFC 7643 §5).
    pub scheme_type: String,
    pub name: String,
    pub description: String,
    pub spec_uri: Option<String>,
    pub documentation_uri: Option<String>,
    pub primary: bool,
}

/// The body of `GET /ServiceProviderConfig` (RFC 7643 §5, RFC 9865 §4).
pub fn service_provider_config_json(caps: &Capabilities, base_url: &str) -> Value {
    let mut obj = Map::new();
    obj.insert("schemas".into(), json!([SERVICE_PROVIDER_CONFIG_URN]));
    insert_some(
        &mut obj,
        "documentationUri",
        caps.documentation_uri.as_deref(),
    );
    obj.insert("patch".into(), supported(caps.patch));
    obj.insert("bulk".into(), bulk_json(caps.bulk));
    obj.insert(
        "filter".into(),
        json!({ "supported": true, "maxResults": caps.filter_max_results }),
    );
    obj.insert("changePassword".into(), supported(caps.change_password));
    obj.insert("sort".into(), supported(caps.sort));
    obj.insert("etag".into(), supported(caps.etag));
    if let Some(pagination) = &caps.pagination {
        obj.insert("pagination".into(), pagination_json(pagination));
    }
    if let Some(uris) = &caps.security_events {
        obj.insert(
            "securityEvents".into(),
            json!({ "supported": true, "eventUris": uris, "asyncRequest": "none" }),
        );
    }
    let schemes = caps
        .authentication_schemes
        .iter()
        .map(auth_scheme_json)
        .collect();
    obj.insert("authenticationSchemes".into(), Value::Array(schemes));
    let location = format!("{}/ServiceProviderConfig", trim_base(base_url));
    obj.insert("meta".into(), meta_json("ServiceProviderConfig", &location));
    Value::Object(obj)
}

fn supported(flag: bool) -> Value {
    json!({ "supported": flag })
}

/// §5 makes maxOperations and maxPayloadSize REQUIRED even when bulk is off.
fn bulk_json(bulk: Option<BulkLimits>) -> Value {
    let limits = bulk.unwrap_or(BulkLimits {
        max_operations: 0,
        max_payload_size: 0,
    });
    json!({
        "supported": bulk.is_some(),
        "maxOperations": limits.max_operations,
        "maxPayloadSize": limits.max_payload_size,
    })
}

fn pagination_json(pagination: &Pagination) -> Value {
    let mut obj = Map::new();
    obj.insert("cursor".into(), Value::from(pagination.cursor));
    obj.insert("index".into(), Value::from(pagination.index));
    obj.insert(
        "defaultPaginationMethod".into(),
        Value::from(pagination.default_pagination_method.as_str()),
    );
    obj.insert(
        "defaultPageSize".into(),
        Value::from(pagination.default_page_size),
    );
    obj.insert("maxPageSize".into(), Value::from(pagination.max_page_size));
    if let Some(timeout) = pagination.cursor_timeout {
        obj.insert("cursorTimeout".into(), Value::from(timeout));
    }
    Value::Object(obj)
}

fn auth_scheme_json(scheme: &AuthScheme) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::from(scheme.scheme_type.as_str()));
    obj.insert("name".into(), Value::from(scheme.name.as_str()));
    obj.insert(
        "description".into(),
        Value::from(scheme.description.as_str()),
    );
    insert_some(&mut obj, "specUri", scheme.spec_uri.as_deref());
    insert_some(
        &mut obj,
        "documentationUri",
        scheme.documentation_uri.as_deref(),
    );
    // Not an RFC 7643 §5 sub-attribute, only used by its §8.5 example, so it
    // is written only when it says something.
    if scheme.primary {
        obj.insert("primary".into(), Value::from(true));
    }
    Value::Object(obj)
}
