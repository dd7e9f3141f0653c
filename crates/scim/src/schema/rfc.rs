//! The RFC 7643 §8.7.1 definitions of User, Group and EnterpriseUser, the
//! §8.6 resource types, the §3.1 common attributes, and the corrections
//! that make the definitions agree with the RFC's prose.

use std::error::Error;

use scim_v2::models::scim_schema::get_schemas;

use super::SchemaError;
use super::attribute::{
    AttrType, AttributeDef, Mutability, ResourceTypeDef, Returned, SchemaDef, SchemaExtension,
    Uniqueness,
};
use super::urn::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

pub(super) fn rfc_schemas() -> Result<Vec<SchemaDef>, SchemaError> {
    published_rfc_schemas().map_err(|e| SchemaError::Builtin(e.to_string()))
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
pub(super) fn rfc_resource_types() -> Vec<ResourceTypeDef> {
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
pub(super) fn apply_rfc_corrections(schemas: &mut [SchemaDef]) {
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
        // The server derives it from the member (a user's displayName, else
        // its userName; a group's displayName) on every read, so what a
        // client sends is ignored. Returned by default: Okta's SPEC suite
        // checks `members[0].display` against the member's userName (the
        // `strict` profile returns it only on request). It comes from the
        // join that reads the members anyway, so it costs nothing where
        // members are left out.
        mutability: Mutability::ReadOnly,
        returned: Returned::Default,
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
pub(super) fn simple_attribute(name: &str, attr_type: AttrType) -> AttributeDef {
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
pub(super) fn common_attributes() -> Vec<AttributeDef> {
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
