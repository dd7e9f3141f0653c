//! The SCIM schemas this server enforces and publishes (RFC 7643 §7, §8.7),
//! operator extensions to them, and the discovery documents built from them.
//!
//! Everything that validates, filters, patches, sorts or projects attributes
//! asks [`SchemaRegistry`], so the schemas served at `/Schemas` are the rules
//! the server actually applies.

use std::error::Error;
use std::fmt;

use scim_v2::models::scim_schema::get_schemas;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

/// RFC 7643 §4.1.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// RFC 7643 §4.2.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// RFC 7643 §4.3.
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// RFC 7644 §3.4.2.
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// RFC 7644 §3.12.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// RFC 7644 §3.5.2.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// RFC 7644 §3.7.
pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// RFC 7644 §3.7.
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// RFC 7644 §3.4.3.
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// RFC 7643 §5.
pub const SERVICE_PROVIDER_CONFIG_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// RFC 7643 §6.
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// RFC 7643 §7.
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// URNs an extension may never take, because clients already read them as
/// something else.
const RESERVED_URNS: [&str; 12] = [
    USER_URN,
    GROUP_URN,
    ENTERPRISE_USER_URN,
    LIST_RESPONSE_URN,
    ERROR_URN,
    PATCH_OP_URN,
    BULK_REQUEST_URN,
    BULK_RESPONSE_URN,
    SEARCH_REQUEST_URN,
    SERVICE_PROVIDER_CONFIG_URN,
    RESOURCE_TYPE_URN,
    SCHEMA_URN,
];

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    /// RFC 7643 §2.2 default.
    #[default]
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    /// The wire spelling, identical to the serde one.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// Who may write an attribute (RFC 7643 §7 "mutability").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    /// RFC 7643 §2.2 default.
    #[default]
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    /// The wire spelling, identical to the serde one.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in a response (RFC 7643 §7 "returned").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    /// RFC 7643 §2.2 default.
    #[default]
    Default,
    Request,
}

impl Returned {
    /// The wire spelling, identical to the serde one.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// The scope in which a value must be unique (RFC 7643 §7 "uniqueness").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// RFC 7643 §2.2 default.
    #[default]
    None,
    Server,
    Global,
}

impl Uniqueness {
    /// The wire spelling, identical to the serde one.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute or sub-attribute definition, in the RFC 7643 §7 shape.
///
/// Absent characteristics take the RFC 7643 §2.2 defaults; `multiValued`
/// defaults to `false`, the only reading under which an omission is harmless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDef {
    pub name: String,
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub attr_type: AttrType,
    #[serde(default, deserialize_with = "null_as_default")]
    pub multi_valued: bool,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub required: bool,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub canonical_values: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub case_exact: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mutability: Mutability,
    #[serde(default, deserialize_with = "null_as_default")]
    pub returned: Returned,
    #[serde(default, deserialize_with = "null_as_default")]
    pub uniqueness: Uniqueness,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub reference_types: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sub_attributes: Vec<AttributeDef>,
}

impl AttributeDef {
    /// The sub-attribute called `name`, compared case-insensitively as
    /// RFC 7643 §2.1 requires of attribute names.
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        find_attribute(&self.sub_attributes, name)
    }
}

/// RFC 7643 §2.5 makes `null` mean "unassigned", and schema documents
/// exported by other providers do contain `"canonicalValues": null`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A schema (RFC 7643 §7), as served at `/Schemas/{id}` minus `schemas`
/// and `meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaDef {
    pub id: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    pub attributes: Vec<AttributeDef>,
}

/// One entry of a resource type's `schemaExtensions` (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaExtension {
    pub schema: String,
    pub required: bool,
}

/// A resource type (RFC 7643 §6), as served at `/ResourceTypes/{id}` minus
/// `schemas` and `meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTypeDef {
    pub id: String,
    pub name: String,
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub schema: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_extensions: Vec<SchemaExtension>,
}

/// Why an operator-supplied extension schema was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// The resource type named by the operator is not registered.
    UnknownResourceType(String),
    /// The extension's URN is already taken (compared case-insensitively).
    DuplicateSchema(String),
    /// The JSON does not have the shape of a `/Schemas` entry.
    Malformed(String),
    /// The JSON has the right shape but breaks an RFC 7643 rule.
    Invalid { schema: String, reason: String },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownResourceType(name) => {
                write!(
                    f,
                    "cannot add schema extension: unknown resource type `{name}`"
                )
            }
            Self::DuplicateSchema(urn) => write!(
                f,
                "cannot add schema extension `{urn}`: that schema URN is already in use"
            ),
            Self::Malformed(reason) => {
                write!(
                    f,
                    "schema extension is not a valid SCIM schema document: {reason}"
                )
            }
            Self::Invalid { schema, reason } => {
                write!(f, "schema extension `{schema}` is invalid: {reason}")
            }
        }
    }
}

impl Error for SchemaError {}

/// An attribute reference resolved against a resource type's schemas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedAttr<'a> {
    /// The schema that defines the attribute, spelled as registered. The
    /// common attributes (`id`, `externalId`, `meta`) report the core schema,
    /// since they sit at the top level of the resource just like its
    /// attributes.
    pub schema_urn: &'a str,
    pub attr: &'a AttributeDef,
    pub sub: Option<&'a AttributeDef>,
    /// `false` when the value lives under the extension's URN key in the
    /// resource JSON.
    pub is_core_schema: bool,
}

impl ResolvedAttr<'_> {
    /// The definition of the leaf: the sub-attribute if present, else the
    /// attribute.
    pub fn leaf(&self) -> &AttributeDef {
        self.sub.unwrap_or(self.attr)
    }
}

/// The schemas and resource types this server serves.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaRegistry {
    schemas: Vec<SchemaDef>,
    resource_types: Vec<ResourceTypeDef>,
    /// RFC 7643 §3.1 attributes, which no schema lists but every resource has.
    common: Vec<AttributeDef>,
}

impl SchemaRegistry {
    /// User (with the `EnterpriseUser` extension, not required) and Group,
    /// from `scim_v2`'s copy of the RFC 7643 §8.7.1 definitions, with the
    /// definitions' known contradictions of the RFC prose corrected.
    pub fn rfc() -> Self {
        let mut schemas = rfc_schemas();
        apply_rfc_corrections(&mut schemas);
        Self {
            schemas,
            resource_types: rfc_resource_types(),
            common: common_attributes(),
        }
    }

    /// Adds an operator-supplied extension schema (a `/Schemas` entry) to a
    /// resource type.
    ///
    /// # Errors
    ///
    /// [`SchemaError::UnknownResourceType`], [`SchemaError::Malformed`],
    /// [`SchemaError::Invalid`] or [`SchemaError::DuplicateSchema`]; the
    /// registry is unchanged on error.
    pub fn add_extension(
        &mut self,
        resource_type: &str,
        schema_json: Value,
        required: bool,
    ) -> Result<(), SchemaError> {
        let index = self
            .resource_type_index(resource_type)
            .ok_or_else(|| SchemaError::UnknownResourceType(resource_type.to_owned()))?;
        let schema: SchemaDef = serde_json::from_value(schema_json)
            .map_err(|e| SchemaError::Malformed(e.to_string()))?;
        validate_extension(&schema)?;
        if self.urn_taken(&schema.id) {
            return Err(SchemaError::DuplicateSchema(schema.id));
        }
        self.resource_types[index]
            .schema_extensions
            .push(SchemaExtension {
                schema: schema.id.clone(),
                required,
            });
        self.schemas.push(schema);
        Ok(())
    }

    /// The schema with this URN, compared case-insensitively.
    pub fn schema(&self, urn: &str) -> Option<&SchemaDef> {
        // The exact spelling first: it is how the server looks up its own
        // URNs, on every attribute of every answer, and URNs share long
        // prefixes that a case-insensitive comparison walks byte by byte.
        let exact = self.schemas.iter().find(|schema| schema.id == urn);
        exact.or_else(|| {
            self.schemas
                .iter()
                .find(|schema| schema.id.eq_ignore_ascii_case(urn))
        })
    }

    /// Every registered schema: the RFC ones, then operator extensions in
    /// the order they were added.
    pub fn schemas(&self) -> &[SchemaDef] {
        &self.schemas
    }

    /// The resource type whose id or name is `name`, compared
    /// case-insensitively.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceTypeDef> {
        self.resource_type_index(name)
            .map(|index| &self.resource_types[index])
    }

    /// Every registered resource type.
    pub fn resource_types(&self) -> &[ResourceTypeDef] {
        &self.resource_types
    }

    /// All schema URNs a resource of this type may carry: the core schema,
    /// then its extensions. Empty for an unknown resource type.
    pub fn schema_urns_for(&self, resource_type: &str) -> Vec<&str> {
        self.resource_type(resource_type)
            .map(|rt| {
                std::iter::once(rt.schema.as_str())
                    .chain(rt.schema_extensions.iter().map(|ext| ext.schema.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Resolves an attribute reference as it appears in a filter, a PATCH
    /// path, `sortBy` or `attributes=`: an optional schema URN, an attribute
    /// name and an optional sub-attribute, all case-insensitive.
    ///
    /// Without a URN the common attributes win, then the core schema, then
    /// the extensions in registration order.
    pub fn resolve(
        &self,
        resource_type: &str,
        uri: Option<&str>,
        name: &str,
        sub_attr: Option<&str>,
    ) -> Option<ResolvedAttr<'_>> {
        let rt = self.resource_type(resource_type)?;
        let (schema_urn, attr) = match uri {
            Some(uri) => self.find_qualified(rt, uri, name)?,
            None => self.find_unqualified(rt, name)?,
        };
        let sub = match sub_attr {
            Some(sub_name) => Some(attr.sub_attribute(sub_name)?),
            None => None,
        };
        Some(ResolvedAttr {
            schema_urn,
            attr,
            sub,
            is_core_schema: schema_urn == rt.schema,
        })
    }

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

    fn resource_type_index(&self, name: &str) -> Option<usize> {
        self.resource_types
            .iter()
            .position(|rt| rt.id.eq_ignore_ascii_case(name) || rt.name.eq_ignore_ascii_case(name))
    }

    fn urn_taken(&self, urn: &str) -> bool {
        self.schema(urn).is_some() || RESERVED_URNS.iter().any(|r| r.eq_ignore_ascii_case(urn))
    }

    /// Common attributes only answer to the core URN: RFC 7643 §3.1 places
    /// them beside the core attributes, never inside an extension.
    fn find_qualified<'a>(
        &'a self,
        rt: &'a ResourceTypeDef,
        uri: &str,
        name: &str,
    ) -> Option<(&'a str, &'a AttributeDef)> {
        if rt.schema.eq_ignore_ascii_case(uri) {
            return self.find_core(rt, name);
        }
        let extension = rt
            .schema_extensions
            .iter()
            .find(|ext| ext.schema.eq_ignore_ascii_case(uri))?;
        self.find_in_schema(&extension.schema, name)
    }

    fn find_unqualified<'a>(
        &'a self,
        rt: &'a ResourceTypeDef,
        name: &str,
    ) -> Option<(&'a str, &'a AttributeDef)> {
        self.find_core(rt, name).or_else(|| {
            rt.schema_extensions
                .iter()
                .find_map(|ext| self.find_in_schema(&ext.schema, name))
        })
    }

    /// The common attributes are checked first so that an extension or a
    /// non-RFC core schema declaring, say, `id` cannot change what `id` means.
    fn find_core<'a>(
        &'a self,
        rt: &'a ResourceTypeDef,
        name: &str,
    ) -> Option<(&'a str, &'a AttributeDef)> {
        find_attribute(&self.common, name)
            .map(|attr| (rt.schema.as_str(), attr))
            .or_else(|| self.find_in_schema(&rt.schema, name))
    }

    fn find_in_schema(&self, urn: &str, name: &str) -> Option<(&str, &AttributeDef)> {
        let schema = self.schema(urn)?;
        find_attribute(&schema.attributes, name).map(|attr| (schema.id.as_str(), attr))
    }
}

fn find_attribute<'a>(attributes: &'a [AttributeDef], name: &str) -> Option<&'a AttributeDef> {
    attributes
        .iter()
        .find(|attr| attr.name.eq_ignore_ascii_case(name))
}

// ---------------------------------------------------------------------------
// The RFC definitions

fn rfc_schemas() -> Vec<SchemaDef> {
    // The only `expect` outside tests: these definitions are compiled into
    // scim_v2, so they convert on every run or on none, and the tests run
    // this exact path. A failure is a build defect, not a condition a caller
    // could handle at run time.
    published_rfc_schemas().expect("scim_v2's embedded RFC 7643 §8.7.1 schemas convert")
}

/// Going through JSON gives the RFC definitions exactly the §2.2 defaults an
/// operator extension gets, instead of a second hand-written mapping from
/// `scim_v2`'s string-typed characteristics.
fn published_rfc_schemas() -> Result<Vec<SchemaDef>, Box<dyn Error>> {
    get_schemas(vec!["user", "group", "enterprise_user"])?
        .iter()
        .map(|published| Ok(serde_json::from_value(serde_json::to_value(published)?)?))
        .collect()
}

/// RFC 7643 §8.6.
fn rfc_resource_types() -> Vec<ResourceTypeDef> {
    vec![
        ResourceTypeDef {
            id: "User".into(),
            name: "User".into(),
            endpoint: "/Users".into(),
            description: "User Account".into(),
            schema: USER_URN.into(),
            schema_extensions: vec![SchemaExtension {
                schema: ENTERPRISE_USER_URN.into(),
                required: false,
            }],
        },
        ResourceTypeDef {
            id: "Group".into(),
            name: "Group".into(),
            endpoint: "/Groups".into(),
            description: "Group".into(),
            schema: GROUP_URN.into(),
            schema_extensions: Vec::new(),
        },
    ]
}

/// The §8.7.1 definitions disagree with the normative prose in places;
/// the prose wins, because that is what clients are written against.
/// Corrections that merely restate the published value are kept so that a
/// future `scim_v2` release cannot silently loosen them.
fn apply_rfc_corrections(schemas: &mut [SchemaDef]) {
    // §4.2: displayName is "REQUIRED"; the definition says false.
    if let Some(display_name) = attribute_mut(schemas, GROUP_URN, "displayName") {
        display_name.required = true;
    }
    // §4.1.2: group membership changes only through the Group resource.
    if let Some(groups) = attribute_mut(schemas, USER_URN, "groups") {
        make_read_only(groups);
        restrict_groups_ref(groups);
    }
    // §4.1.1: a password must never leave the server.
    if let Some(password) = attribute_mut(schemas, USER_URN, "password") {
        password.mutability = Mutability::WriteOnly;
        password.returned = Returned::Never;
    }
    if let Some(members) = attribute_mut(schemas, GROUP_URN, "members") {
        add_member_display(members);
    }
    add_missing_primary(schemas);
    mark_id_values_case_exact(schemas);
    for schema in schemas.iter_mut() {
        for_each_attribute_mut(&mut schema.attributes, &mut apply_type_case_exactness);
    }
}

fn attribute_mut<'a>(
    schemas: &'a mut [SchemaDef],
    urn: &str,
    name: &str,
) -> Option<&'a mut AttributeDef> {
    schemas
        .iter_mut()
        .find(|schema| schema.id == urn)?
        .attributes
        .iter_mut()
        .find(|attr| attr.name == name)
}

fn make_read_only(attr: &mut AttributeDef) {
    for_each_attribute_mut(std::slice::from_mut(attr), &mut |a| {
        a.mutability = Mutability::ReadOnly;
    });
}

/// §4.1.2 describes `groups.$ref` as the URI of a Group; the definition
/// also allows User, which a user's group list can never point to.
fn restrict_groups_ref(groups: &mut AttributeDef) {
    if let Some(reference) = groups.sub_attributes.iter_mut().find(|a| a.name == "$ref") {
        reference.reference_types = vec!["Group".into()];
    }
}

/// The §8.4 example, `scim_v2`'s own `Member` model and identity providers
/// such as Okta all send `members[].display`, but the §8.7.1 definition
/// omits it, so a strict server would reject ordinary membership updates.
fn add_member_display(members: &mut AttributeDef) {
    if members.sub_attribute("display").is_some() {
        return;
    }
    members.sub_attributes.push(AttributeDef {
        description: "A human-readable name, primarily used for display purposes.".into(),
        // The server derives it from the member (its displayName, else its
        // userName) on every read, so what a client sends is ignored; and it
        // costs a join per member, so it is returned only when asked for
        // (`attributes=members.display`).
        mutability: Mutability::ReadOnly,
        returned: Returned::Request,
        ..simple_attribute("display", AttrType::String)
    });
}

/// §2.4 names `primary` a default sub-attribute of multi-valued attributes,
/// and the §4.1.2 `addresses` example uses it, but the §8.7.1 definition of
/// `addresses` omits it. Every User list an IdP may mark primary gets it.
fn add_missing_primary(schemas: &mut [SchemaDef]) {
    let Some(user) = schemas.iter_mut().find(|s| s.id == USER_URN) else {
        return;
    };
    let lists = user.attributes.iter_mut().filter(|a| {
        a.multi_valued && a.attr_type == AttrType::Complex && a.mutability != Mutability::ReadOnly
    });
    for attr in lists {
        if attr.sub_attribute("primary").is_none() {
            attr.sub_attributes.push(AttributeDef {
                description:
                    "A Boolean value indicating the 'primary' or preferred attribute value.".into(),
                ..simple_attribute("primary", AttrType::Boolean)
            });
        }
    }
}

/// These `value`s hold another resource's `id`, which §3.1 makes caseExact;
/// matching them case-insensitively could confuse two distinct resources.
fn mark_id_values_case_exact(schemas: &mut [SchemaDef]) {
    let id_holders = [
        (USER_URN, "groups"),
        (GROUP_URN, "members"),
        (ENTERPRISE_USER_URN, "manager"),
    ];
    for (urn, name) in id_holders {
        let value = attribute_mut(schemas, urn, name)
            .and_then(|attr| attr.sub_attributes.iter_mut().find(|a| a.name == "value"));
        if let Some(value) = value {
            value.case_exact = true;
        }
    }
}

/// §2.3.6 ("A binary is case exact") and §2.3.7 ("A reference is case
/// exact") fix caseExact by type; several definitions say false anyway.
fn apply_type_case_exactness(attr: &mut AttributeDef) {
    if matches!(attr.attr_type, AttrType::Binary | AttrType::Reference) {
        attr.case_exact = true;
    }
}

fn for_each_attribute_mut(attributes: &mut [AttributeDef], f: &mut impl FnMut(&mut AttributeDef)) {
    for attr in attributes {
        f(attr);
        for_each_attribute_mut(&mut attr.sub_attributes, f);
    }
}

/// An attribute with every characteristic at its RFC 7643 §2.2 default.
fn simple_attribute(name: &str, attr_type: AttrType) -> AttributeDef {
    AttributeDef {
        name: name.into(),
        attr_type,
        multi_valued: false,
        description: String::new(),
        required: false,
        canonical_values: Vec::new(),
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        reference_types: Vec::new(),
        sub_attributes: Vec::new(),
    }
}

/// RFC 7643 §3.1.
fn common_attributes() -> Vec<AttributeDef> {
    vec![
        AttributeDef {
            description: "A unique identifier for a SCIM resource as defined by the service provider."
                .into(),
            case_exact: true,
            mutability: Mutability::ReadOnly,
            returned: Returned::Always,
            // §3.1: unique "across the SCIM service provider's entire set of
            // resources". Not `required`: clients never send a readOnly
            // attribute, and responses always carry it (returned always).
            uniqueness: Uniqueness::Server,
            ..simple_attribute("id", AttrType::String)
        },
        AttributeDef {
            description: "A String that is an identifier for the resource as defined by the provisioning client."
                .into(),
            case_exact: true,
            ..simple_attribute("externalId", AttrType::String)
        },
        AttributeDef {
            description: "A complex attribute containing resource metadata.".into(),
            mutability: Mutability::ReadOnly,
            sub_attributes: meta_sub_attributes(),
            ..simple_attribute("meta", AttrType::Complex)
        },
    ]
}

/// §3.1: "All 'meta' sub-attributes are assigned by the service provider".
fn meta_sub_attributes() -> Vec<AttributeDef> {
    let read_only = |name, attr_type, description: &str| AttributeDef {
        description: description.into(),
        mutability: Mutability::ReadOnly,
        ..simple_attribute(name, attr_type)
    };
    vec![
        AttributeDef {
            case_exact: true,
            ..read_only(
                "resourceType",
                AttrType::String,
                "The name of the resource type of the resource.",
            )
        },
        read_only(
            "created",
            AttrType::DateTime,
            "The DateTime that the resource was added to the service provider.",
        ),
        read_only(
            "lastModified",
            AttrType::DateTime,
            "The most recent DateTime that the details of this resource were updated at the service provider.",
        ),
        AttributeDef {
            case_exact: true,
            reference_types: vec!["uri".into()],
            ..read_only(
                "location",
                AttrType::Reference,
                "The URI of the resource being returned.",
            )
        },
        AttributeDef {
            // An entity tag; RFC 7232 compares them octet by octet.
            case_exact: true,
            ..read_only(
                "version",
                AttrType::String,
                "The version of the resource being returned.",
            )
        },
    ]
}

// ---------------------------------------------------------------------------
// Extension validation

/// Shape errors are serde's; these are the RFC 7643 rules a well-shaped
/// document can still break, each of which would make some attribute
/// unaddressable by filters or PATCH paths.
fn validate_extension(schema: &SchemaDef) -> Result<(), SchemaError> {
    let invalid = |reason: String| SchemaError::Invalid {
        schema: schema.id.clone(),
        reason,
    };
    if !is_urn(&schema.id) {
        return Err(invalid(
            "`id` must be a URN (e.g. `urn:example:scim:schemas:extension:acme:1.0:User`), \
             because it prefixes attribute paths in filters and PATCH"
                .into(),
        ));
    }
    check_attributes(&schema.attributes, None).map_err(invalid)
}

fn is_urn(id: &str) -> bool {
    id.len() > "urn:".len()
        && id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        && !id.ends_with(':')
        && !id.contains(char::is_whitespace)
}

fn check_attributes(attributes: &[AttributeDef], parent: Option<&str>) -> Result<(), String> {
    for (index, attr) in attributes.iter().enumerate() {
        let path = match parent {
            Some(parent) => format!("{parent}.{}", attr.name),
            None => attr.name.clone(),
        };
        check_attribute(attr, parent.is_some())
            .map_err(|reason| format!("attribute `{path}`: {reason}"))?;
        let earlier = &attributes[..index];
        if find_attribute(earlier, &attr.name).is_some() {
            return Err(format!(
                "attribute `{path}` is declared twice (names are case-insensitive)"
            ));
        }
        check_attributes(&attr.sub_attributes, Some(&path))?;
    }
    Ok(())
}

fn check_attribute(attr: &AttributeDef, is_sub: bool) -> Result<(), &'static str> {
    if !is_valid_attribute_name(&attr.name, is_sub) {
        return Err(
            "name must match RFC 7643 §2.1 ATTRNAME (a letter, then letters, digits, '-' or '_')",
        );
    }
    if is_sub && attr.attr_type == AttrType::Complex {
        return Err("a sub-attribute cannot be complex (RFC 7643 §2.3.8)");
    }
    if attr.attr_type != AttrType::Complex && !attr.sub_attributes.is_empty() {
        return Err("only complex attributes may have subAttributes");
    }
    Ok(())
}

/// `$ref` breaks the ATTRNAME grammar but is the RFC's own sub-attribute name.
fn is_valid_attribute_name(name: &str, is_sub: bool) -> bool {
    if is_sub && name == "$ref" {
        return true;
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

// ---------------------------------------------------------------------------
// Discovery JSON
//
// Built by hand rather than with `serde_json::to_value`, which is fallible
// by signature: this way the output is null-free by construction and no
// error path has to be invented. A test pins it to the serde derive output.

fn attributes_json(attributes: &[AttributeDef]) -> Value {
    Value::Array(attributes.iter().map(attribute_json).collect())
}

fn attribute_json(attr: &AttributeDef) -> Value {
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

// ---------------------------------------------------------------------------
// ServiceProviderConfig

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

#[cfg(test)]
mod tests {
    use super::*;
    use scim_v2::filter::PatchPath;

    const BASE: &str = "https://scim.example.com/v2";

    fn registry() -> SchemaRegistry {
        SchemaRegistry::rfc()
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
        }
    }

    #[test]
    fn urn_constants_match_scim_v2() {
        use scim_v2::schema_urns as urns;
        let pairs = [
            (USER_URN, urns::USER),
            (GROUP_URN, urns::GROUP),
            (ENTERPRISE_USER_URN, urns::ENTERPRISE_USER),
            (LIST_RESPONSE_URN, urns::LIST_RESPONSE),
            (ERROR_URN, urns::ERROR),
            (PATCH_OP_URN, urns::PATCH_OP),
            (BULK_REQUEST_URN, urns::BULK_REQUEST),
            (BULK_RESPONSE_URN, urns::BULK_RESPONSE),
            (SEARCH_REQUEST_URN, urns::SEARCH_REQUEST),
            (SERVICE_PROVIDER_CONFIG_URN, urns::SERVICE_PROVIDER_CONFIG),
            (RESOURCE_TYPE_URN, urns::RESOURCE_TYPE),
            (SCHEMA_URN, urns::SCHEMA),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn rfc_has_the_three_schemas_with_rfc_attribute_counts() {
        let reg = registry();
        let ids: Vec<&str> = reg.schemas().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [USER_URN, GROUP_URN, ENTERPRISE_USER_URN]);
        let count = |urn| reg.schema(urn).map(|s| s.attributes.len());
        assert_eq!(count(USER_URN), Some(21));
        assert_eq!(count(GROUP_URN), Some(2));
        assert_eq!(count(ENTERPRISE_USER_URN), Some(6));
        let user_schema = reg.schema(USER_URN).unwrap();
        assert_eq!(
            (user_schema.name.as_str(), user_schema.description.as_str()),
            ("User", "User Account")
        );
        assert!(reg.schema(&USER_URN.to_uppercase()).is_some());
        assert!(reg.schema("urn:example:nope").is_none());
    }

    #[test]
    fn rfc_resource_types_link_enterprise_user_as_optional() {
        let reg = registry();
        assert_eq!(reg.resource_types().len(), 2);
        let user_rt = reg.resource_type("user").unwrap();
        assert_eq!(
            (user_rt.endpoint.as_str(), user_rt.schema.as_str()),
            ("/Users", USER_URN)
        );
        assert_eq!(
            user_rt.schema_extensions,
            [SchemaExtension {
                schema: ENTERPRISE_USER_URN.into(),
                required: false
            }]
        );
        assert_eq!(reg.resource_type("GROUP").unwrap().endpoint, "/Groups");
        assert_eq!(reg.schema_urns_for("User"), [USER_URN, ENTERPRISE_USER_URN]);
        assert_eq!(reg.schema_urns_for("Group"), [GROUP_URN]);
        assert!(reg.schema_urns_for("Device").is_empty());
        assert!(reg.resource_type("Device").is_none());
    }

    #[test]
    fn rfc_descriptions_are_kept() {
        let user_name = user(&registry(), "userName", None).unwrap();
        assert!(
            user_name
                .description
                .starts_with("Unique identifier for the User")
        );
    }

    #[test]
    fn rfc_corrections_follow_the_prose() {
        let reg = registry();
        let display_name = reg.resolve("Group", None, "displayName", None).unwrap();
        assert!(display_name.attr.required);

        let groups = user(&reg, "groups", None).unwrap();
        assert_eq!(groups.mutability, Mutability::ReadOnly);
        assert!(
            groups
                .sub_attributes
                .iter()
                .all(|s| s.mutability == Mutability::ReadOnly)
        );
        assert_eq!(
            groups.sub_attribute("$ref").unwrap().reference_types,
            ["Group"]
        );

        let password = user(&reg, "password", None).unwrap();
        assert_eq!(
            (password.mutability, password.returned),
            (Mutability::WriteOnly, Returned::Never)
        );

        let display = reg
            .resolve("Group", None, "members", Some("display"))
            .unwrap();
        assert_eq!(display.leaf().mutability, Mutability::ReadOnly);
        assert_eq!(display.leaf().returned, Returned::Request);
    }

    #[test]
    fn rfc_references_binaries_and_id_values_are_case_exact() {
        let reg = registry();
        assert!(user(&reg, "profileUrl", None).unwrap().case_exact);
        assert!(
            user(&reg, "x509Certificates", Some("value"))
                .unwrap()
                .case_exact
        );
        assert!(user(&reg, "groups", Some("value")).unwrap().case_exact);
        assert!(
            reg.resolve("Group", None, "members", Some("$ref"))
                .unwrap()
                .leaf()
                .case_exact
        );
        assert!(!user(&reg, "emails", Some("value")).unwrap().case_exact);
    }

    #[test]
    fn enterprise_manager_has_value_ref_and_display_name() {
        let reg = registry();
        let manager = reg
            .resolve("User", Some(ENTERPRISE_USER_URN), "manager", None)
            .unwrap();
        let names: Vec<&str> = manager
            .attr
            .sub_attributes
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["value", "$ref", "displayName"]);
        let display_name = manager.attr.sub_attribute("displayName").unwrap();
        assert_eq!(display_name.mutability, Mutability::ReadOnly);
    }

    #[test]
    fn resolve_core_attributes_case_insensitively() {
        let reg = registry();
        for spelling in ["userName", "USERNAME", "username"] {
            let resolved = reg.resolve("User", None, spelling, None).unwrap();
            assert_eq!(resolved.attr.name, "userName");
            assert_eq!(resolved.schema_urn, USER_URN);
            assert!(resolved.is_core_schema && resolved.sub.is_none());
            assert!(resolved.attr.required);
            assert_eq!(resolved.attr.uniqueness, Uniqueness::Server);
        }
    }

    #[test]
    fn resolve_sub_attributes() {
        let reg = registry();
        let given = reg
            .resolve("User", None, "name", Some("givenName"))
            .unwrap();
        assert_eq!(
            (given.attr.name.as_str(), given.leaf().name.as_str()),
            ("name", "givenName")
        );
        let email = reg.resolve("User", None, "Emails", Some("VALUE")).unwrap();
        assert_eq!(email.leaf().name, "value");
        assert_eq!(email.leaf().attr_type, AttrType::String);
        assert!(email.attr.multi_valued);
    }

    #[test]
    fn resolve_urn_qualified_paths_parsed_by_scim_v2() {
        let reg = registry();
        let resolve_text = |text: &str| {
            let Ok(PatchPath::Attr(path)) = text.parse::<PatchPath>() else {
                panic!("scim_v2 did not parse {text}");
            };
            reg.resolve(
                "User",
                path.uri.as_deref(),
                &path.name,
                path.sub_attr.as_deref(),
            )
        };
        let manager_value = resolve_text(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(manager_value.schema_urn, ENTERPRISE_USER_URN);
        assert!(!manager_value.is_core_schema);
        assert_eq!(manager_value.leaf().name, "value");
        assert!(manager_value.leaf().case_exact);

        let user_name =
            resolve_text("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap();
        assert_eq!(
            (user_name.schema_urn, user_name.is_core_schema),
            (USER_URN, true)
        );

        let shouted = resolve_text("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME").unwrap();
        assert_eq!(shouted.attr.name, "userName");
    }

    #[test]
    fn resolve_finds_extension_attributes_without_urn() {
        let reg = registry();
        let resolved = reg.resolve("User", None, "employeeNumber", None).unwrap();
        assert_eq!(resolved.schema_urn, ENTERPRISE_USER_URN);
        assert!(!resolved.is_core_schema);
    }

    #[test]
    fn resolve_common_attributes() {
        let reg = registry();
        let id = reg.resolve("User", None, "id", None).unwrap();
        assert_eq!((id.schema_urn, id.is_core_schema), (USER_URN, true));
        assert_eq!(
            (id.attr.mutability, id.attr.returned),
            (Mutability::ReadOnly, Returned::Always)
        );
        assert!(id.attr.case_exact);

        let external_id = reg.resolve("Group", None, "externalId", None).unwrap();
        assert_eq!(external_id.schema_urn, GROUP_URN);
        assert_eq!(external_id.attr.mutability, Mutability::ReadWrite);
        assert!(external_id.attr.case_exact);

        let last_modified = reg
            .resolve("User", None, "meta", Some("lastModified"))
            .unwrap();
        assert_eq!(last_modified.leaf().attr_type, AttrType::DateTime);
        assert_eq!(last_modified.attr.attr_type, AttrType::Complex);
        assert_eq!(last_modified.leaf().mutability, Mutability::ReadOnly);

        let qualified = reg
            .resolve("User", Some(USER_URN), "meta", Some("version"))
            .unwrap();
        assert!(qualified.leaf().case_exact);
    }

    #[test]
    fn resolve_group_members_value() {
        let reg = registry();
        let resolved = reg
            .resolve("Group", None, "members", Some("value"))
            .unwrap();
        assert_eq!(resolved.schema_urn, GROUP_URN);
        assert_eq!(resolved.leaf().mutability, Mutability::Immutable);
        assert!(resolved.attr.multi_valued);
    }

    #[test]
    fn resolve_rejects_unknown_references() {
        let reg = registry();
        let none = |rt, uri, name, sub| reg.resolve(rt, uri, name, sub).is_none();
        assert!(none("User", None, "nickname2", None));
        assert!(none("User", None, "name", Some("nope")));
        assert!(
            none("User", None, "userName", Some("value")),
            "simple attrs have no subs"
        );
        assert!(none("User", Some(ENTERPRISE_USER_URN), "userName", None));
        assert!(none("User", Some(ENTERPRISE_USER_URN), "id", None));
        assert!(none("User", Some("urn:example:unknown"), "userName", None));
        assert!(none("User", Some(GROUP_URN), "displayName", None));
        assert!(none("Group", None, "userName", None));
        assert!(none("Group", None, "employeeNumber", None));
        assert!(none("Device", None, "id", None));
        assert!(none("User", None, "", None));
    }

    #[test]
    fn add_extension_registers_and_resolves() {
        let mut reg = registry();
        reg.add_extension("user", acme_extension(), true).unwrap();
        let urn = "urn:example:scim:schemas:extension:acme:1.0:User";
        assert_eq!(
            reg.schema_urns_for("User"),
            [USER_URN, ENTERPRISE_USER_URN, urn]
        );
        assert_eq!(reg.schema(&urn.to_uppercase()).unwrap().name, "AcmeUser");

        let badge = reg.resolve("User", None, "badgeNumber", None).unwrap();
        assert_eq!((badge.schema_urn, badge.is_core_schema), (urn, false));
        assert_eq!(badge.attr.attr_type, AttrType::Integer);
        let code = reg
            .resolve("User", Some(urn), "site", Some("code"))
            .unwrap();
        assert!(code.leaf().case_exact);
        assert_eq!(code.leaf().mutability, Mutability::ReadWrite);

        let rt = reg.resource_type_json(reg.resource_type("User").unwrap(), BASE);
        assert_eq!(
            rt["schemaExtensions"][1],
            json!({"schema": urn, "required": true})
        );
    }

    #[test]
    fn add_extension_accepts_what_schema_json_serves() {
        let source = registry();
        let mut served = source.schema_json(source.schema(ENTERPRISE_USER_URN).unwrap(), BASE);
        served["id"] = json!("urn:example:scim:schemas:extension:copy:1.0:User");
        let mut reg = registry();
        reg.add_extension("User", served, false).unwrap();
        let copy = reg
            .schema("urn:example:scim:schemas:extension:copy:1.0:User")
            .unwrap();
        assert_eq!(
            copy.attributes,
            source.schema(ENTERPRISE_USER_URN).unwrap().attributes
        );
    }

    #[test]
    fn add_extension_rejects_unknown_resource_type() {
        let mut reg = registry();
        let before = reg.clone();
        let err = reg
            .add_extension("Device", acme_extension(), false)
            .unwrap_err();
        assert_eq!(err, SchemaError::UnknownResourceType("Device".into()));
        assert!(err.to_string().contains("unknown resource type `Device`"));
        assert_eq!(reg, before);
    }

    #[test]
    fn add_extension_rejects_clashing_urns() {
        let mut reg = registry();
        let mut clash = acme_extension();
        clash["id"] = json!(ENTERPRISE_USER_URN.to_lowercase());
        let err = reg.add_extension("User", clash, false).unwrap_err();
        assert!(matches!(err, SchemaError::DuplicateSchema(_)), "{err:?}");
        assert!(err.to_string().contains("already in use"));

        let mut message_urn = acme_extension();
        message_urn["id"] = json!(PATCH_OP_URN);
        let err = reg.add_extension("Group", message_urn, false).unwrap_err();
        assert!(matches!(err, SchemaError::DuplicateSchema(_)), "{err:?}");

        reg.add_extension("User", acme_extension(), false).unwrap();
        let err = reg
            .add_extension("Group", acme_extension(), false)
            .unwrap_err();
        assert!(matches!(err, SchemaError::DuplicateSchema(_)), "{err:?}");
        assert!(reg.schema_urns_for("Group").len() == 1);
    }

    #[test]
    fn add_extension_rejects_malformed_json() {
        let mut reg = registry();
        let before = reg.clone();
        let cases = [
            json!("not an object"),
            json!({"name": "NoId", "attributes": []}),
            json!({"id": "urn:example:x"}),
            json!({"id": "urn:example:x", "attributes": [{"name": "a", "type": "str"}]}),
            json!({"id": "urn:example:x", "attributes": [{"type": "string"}]}),
            json!({"id": "urn:example:x", "attributes": [{"name": "a", "mutability": "sometimes"}]}),
        ];
        for case in cases {
            let err = reg.add_extension("User", case.clone(), false).unwrap_err();
            assert!(matches!(err, SchemaError::Malformed(_)), "{case}: {err:?}");
            assert!(
                err.to_string()
                    .starts_with("schema extension is not a valid SCIM schema document")
            );
        }
        assert_eq!(reg, before);
    }

    #[test]
    fn add_extension_rejects_rfc_violations() {
        let mut reg = registry();
        let with_attrs = |attrs: Value| json!({"id": "urn:example:x", "attributes": attrs});
        let reason = invalid_reason(&mut reg, json!({"id": "acme-user", "attributes": []}));
        assert!(reason.contains("must be a URN"));
        let reason = invalid_reason(&mut reg, with_attrs(json!([{"name": "2fa"}])));
        assert!(reason.contains("`2fa`") && reason.contains("ATTRNAME"));
        let reason = invalid_reason(&mut reg, with_attrs(json!([{"name": "$ref"}])));
        assert!(reason.contains("ATTRNAME"));
        let reason = invalid_reason(&mut reg, with_attrs(json!([{"name": "a"}, {"name": "A"}])));
        assert!(reason.contains("declared twice"));
        let nested = json!([{"name": "a", "type": "complex", "subAttributes": [
            {"name": "b", "type": "complex", "subAttributes": [{"name": "c"}]}
        ]}]);
        let reason = invalid_reason(&mut reg, with_attrs(nested));
        assert!(reason.contains("`a.b`") && reason.contains("cannot be complex"));
        let not_complex = json!([{"name": "a", "subAttributes": [{"name": "b"}]}]);
        let reason = invalid_reason(&mut reg, with_attrs(not_complex));
        assert!(reason.contains("only complex"));
        let err = reg
            .add_extension("User", json!({"id": "x", "attributes": []}), false)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("schema extension `x` is invalid: "),
            "{err}"
        );
    }

    #[test]
    fn schema_json_has_envelope_and_no_nulls() {
        let mut reg = registry();
        reg.add_extension("User", acme_extension(), false).unwrap();
        for schema in reg.schemas() {
            let doc = reg.schema_json(schema, "https://scim.example.com/v2/");
            assert_no_nulls(&doc, &schema.id);
            assert_eq!(doc["schemas"], json!([SCHEMA_URN]));
            assert_eq!(doc["id"], json!(schema.id));
            assert_eq!(doc["meta"]["resourceType"], "Schema");
            assert_eq!(
                doc["meta"]["location"],
                json!(format!("{BASE}/Schemas/{}", schema.id))
            );
            assert_eq!(
                doc["attributes"].as_array().map(Vec::len),
                Some(schema.attributes.len())
            );
        }
        let user_doc = reg.schema_json(reg.schema(USER_URN).unwrap(), BASE);
        let emails = user_doc["attributes"]
            .as_array()
            .and_then(|attrs| attrs.iter().find(|a| a["name"] == "emails"))
            .unwrap();
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["subAttributes"][0]["caseExact"], false);
        assert_eq!(
            emails["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
    }

    #[test]
    fn schema_json_attributes_match_the_serde_representation() {
        let reg = registry();
        for schema in reg.schemas() {
            for attr in &schema.attributes {
                assert_eq!(
                    attribute_json(attr),
                    serde_json::to_value(attr).unwrap(),
                    "{}",
                    attr.name
                );
            }
        }
        for attr in &reg.common {
            assert_eq!(
                attribute_json(attr),
                serde_json::to_value(attr).unwrap(),
                "{}",
                attr.name
            );
        }
    }

    #[test]
    fn resource_type_json_shape() {
        let reg = registry();
        let user_doc = reg.resource_type_json(reg.resource_type("User").unwrap(), BASE);
        assert_no_nulls(&user_doc, "User");
        assert_eq!(
            user_doc,
            json!({
                "schemas": [RESOURCE_TYPE_URN],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "User Account",
                "schema": USER_URN,
                "schemaExtensions": [{"schema": ENTERPRISE_USER_URN, "required": false}],
                "meta": {"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/User")}
            })
        );
        let group_doc = reg.resource_type_json(reg.resource_type("Group").unwrap(), BASE);
        assert_no_nulls(&group_doc, "Group");
        assert!(group_doc.get("schemaExtensions").is_none());
    }

    #[test]
    fn service_provider_config_full_shape() {
        let doc = service_provider_config_json(&full_capabilities(), BASE);
        assert_no_nulls(&doc, "spc");
        assert_eq!(
            doc,
            json!({
                "schemas": [SERVICE_PROVIDER_CONFIG_URN],
                "documentationUri": "https://docs.example.com/scim",
                "patch": {"supported": true},
                "bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1_048_576},
                "filter": {"supported": true, "maxResults": 200},
                "changePassword": {"supported": false},
                "sort": {"supported": true},
                "etag": {"supported": true},
                "pagination": {
                    "cursor": true, "index": true, "defaultPaginationMethod": "index",
                    "defaultPageSize": 100, "maxPageSize": 500, "cursorTimeout": 3600
                },
                "authenticationSchemes": [{
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "Authentication scheme using the OAuth Bearer Token Standard",
                    "specUri": "https://www.rfc-editor.org/info/rfc6750",
                    "primary": true
                }],
                "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{BASE}/ServiceProviderConfig")}
            })
        );
    }

    #[test]
    fn service_provider_config_minimal_omits_optional_members() {
        let caps = Capabilities {
            documentation_uri: None,
            bulk: None,
            pagination: None,
            authentication_schemes: vec![AuthScheme {
                scheme_type: "httpbasic".into(),
                name: "HTTP Basic".into(),
                description: "Basic".into(),
                spec_uri: None,
                documentation_uri: None,
                primary: false,
            }],
            ..full_capabilities()
        };
        let doc = service_provider_config_json(&caps, "https://scim.example.com/v2/");
        assert_no_nulls(&doc, "spc");
        assert_eq!(
            doc["bulk"],
            json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0})
        );
        assert!(doc.get("pagination").is_none() && doc.get("documentationUri").is_none());
        assert_eq!(
            doc["authenticationSchemes"],
            json!([{"type": "httpbasic", "name": "HTTP Basic", "description": "Basic"}])
        );
        assert_eq!(
            doc["meta"]["location"],
            json!(format!("{BASE}/ServiceProviderConfig"))
        );

        let no_timeout = Pagination {
            cursor_timeout: None,
            ..full_capabilities().pagination.unwrap()
        };
        let caps = Capabilities {
            pagination: Some(no_timeout),
            ..full_capabilities()
        };
        let doc = service_provider_config_json(&caps, BASE);
        assert!(doc["pagination"].get("cursorTimeout").is_none());
    }

    #[test]
    fn attribute_def_deserialization_applies_rfc_defaults() {
        let attr: AttributeDef = serde_json::from_value(json!({"name": "nickname"})).unwrap();
        assert_eq!(attr, simple_attribute("nickname", AttrType::String));
        assert_eq!(attr.mutability, Mutability::ReadWrite);
        assert_eq!(attr.returned, Returned::Default);
        assert_eq!(attr.uniqueness, Uniqueness::None);
        assert!(!attr.required && !attr.case_exact && !attr.multi_valued);

        let nulls = json!({"name": "n", "type": null, "description": null, "canonicalValues": null,
                           "mutability": null, "subAttributes": null});
        let attr: AttributeDef = serde_json::from_value(nulls).unwrap();
        assert_eq!(attr, simple_attribute("n", AttrType::String));
    }

    #[test]
    fn attribute_def_round_trips_in_camel_case() {
        let wire = json!({
            "name": "start", "type": "dateTime", "multiValued": true, "required": true,
            "caseExact": true, "mutability": "writeOnly", "returned": "request",
            "uniqueness": "global", "canonicalValues": ["a"], "referenceTypes": ["uri"]
        });
        let attr: AttributeDef = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(attr.attr_type, AttrType::DateTime);
        assert_eq!(attr.returned, Returned::Request);
        assert_eq!(serde_json::to_value(&attr).unwrap(), wire);
    }

    #[test]
    fn enum_wire_names_match_serde() {
        let wire = |v: Value| v.as_str().unwrap().to_owned();
        for t in [
            AttrType::String,
            AttrType::Boolean,
            AttrType::Decimal,
            AttrType::Integer,
            AttrType::DateTime,
            AttrType::Binary,
            AttrType::Reference,
            AttrType::Complex,
        ] {
            assert_eq!(t.as_str(), wire(serde_json::to_value(t).unwrap()));
        }
        for m in [
            Mutability::ReadOnly,
            Mutability::ReadWrite,
            Mutability::Immutable,
            Mutability::WriteOnly,
        ] {
            assert_eq!(m.as_str(), wire(serde_json::to_value(m).unwrap()));
        }
        for r in [
            Returned::Always,
            Returned::Never,
            Returned::Default,
            Returned::Request,
        ] {
            assert_eq!(r.as_str(), wire(serde_json::to_value(r).unwrap()));
        }
        for u in [Uniqueness::None, Uniqueness::Server, Uniqueness::Global] {
            assert_eq!(u.as_str(), wire(serde_json::to_value(u).unwrap()));
        }
    }

    #[test]
    fn schema_error_is_a_std_error() {
        let err: Box<dyn Error> = Box::new(SchemaError::Malformed("missing field `id`".into()));
        assert_eq!(
            err.to_string(),
            "schema extension is not a valid SCIM schema document: missing field `id`"
        );
    }
}
