//! The attribute model of RFC 7643 §2 and §7: types, characteristics, and
//! the definitions of attributes, schemas and resource types.

use serde::{Deserialize, Deserializer, Serialize};

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

/// The attribute called `name` among `attributes`, compared
/// case-insensitively as RFC 7643 §2.1 requires of attribute names.
pub(super) fn find_attribute<'a>(
    attributes: &'a [AttributeDef],
    name: &str,
) -> Option<&'a AttributeDef> {
    attributes
        .iter()
        .find(|attr| attr.name.eq_ignore_ascii_case(name))
}
