//! The SCIM schemas this server enforces and publishes (RFC 7643 §7, §8.7),
//! operator extensions to them, and the discovery documents built from them.
//!
//! Everything that validates, filters, patches, sorts or projects attributes
//! asks [`SchemaRegistry`], so the schemas served at `/Schemas` are the rules
//! the server actually applies.

use serde_json::Value;

mod attribute;
mod discovery;
mod extension;
mod rfc;
#[cfg(test)]
mod tests;
mod urn;

pub use attribute::{
    AttrType, AttributeDef, Mutability, ResourceTypeDef, Returned, SchemaDef, SchemaExtension,
    Uniqueness,
};
pub use discovery::{
    AuthScheme, BulkLimits, Capabilities, Pagination, service_provider_config_json,
};
pub use urn::*;

use attribute::find_attribute;
use extension::validate_extension;
use rfc::{apply_rfc_corrections, common_attributes, rfc_resource_types, rfc_schemas};
use urn::RESERVED_URNS;

/// Why the schemas could not be set up: an operator-supplied extension
/// schema was refused, or the built-in ones did not convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The resource type named by the operator is not registered.
    #[error("cannot add schema extension: unknown resource type `{0}`")]
    UnknownResourceType(String),
    /// The extension's URN is already taken (compared case-insensitively).
    #[error("cannot add schema extension `{0}`: that schema URN is already in use")]
    DuplicateSchema(String),
    /// The JSON does not have the shape of a `/Schemas` entry.
    #[error("schema extension is not a valid SCIM schema document: {0}")]
    Malformed(String),
    /// The JSON has the right shape but breaks an RFC 7643 rule.
    #[error("schema extension `{schema}` is invalid: {reason}")]
    Invalid { schema: String, reason: String },
    /// `scim_v2`'s embedded RFC 7643 §8.7.1 definitions did not convert.
    #[error("the built-in RFC 7643 schemas cannot be read: {0}")]
    Builtin(String),
}

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
    ///
    /// # Errors
    ///
    /// [`SchemaError::Builtin`] if `scim_v2`'s embedded definitions do not
    /// convert. They are compiled in, so this happens on every run or on
    /// none, and the tests run this exact path: it is a build defect that
    /// start-up reports, not a condition to handle.
    pub fn rfc() -> Result<Self, SchemaError> {
        let mut schemas = rfc_schemas()?;
        apply_rfc_corrections(&mut schemas);
        Ok(Self {
            schemas,
            resource_types: rfc_resource_types(),
            common: common_attributes(),
        })
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
