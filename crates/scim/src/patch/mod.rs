//! The PATCH engine (RFC 7644 §3.5.2): applies operations to a resource's
//! document in memory, so that a request whose third operation fails has
//! written nothing. Group members are not in the document: operations on
//! `members` become a [`MemberPlan`] that the store runs as set operations,
//! so a change of k members costs O(k) whatever the group's size.

use serde_json::{Map, Value};

use super::ScimError;
use super::filter::{AttrPath, PatchPath, parse_attr_path};
use super::idp_dialect::{Dialect, applied};
use super::resource::ResourceKind;
use super::schema::{AttributeDef, Mutability, SchemaRegistry};

mod members;
mod request;
#[cfg(test)]
mod tests;
mod value_path;
mod values;

pub use members::MemberPlan;
pub use request::{MAX_OPERATIONS, OpKind, Operation, parse_request};

use members::apply_members;
use value_path::apply_value_path;
use values::{add_value, remove_sub, replace_value, set_sub};

/// What a PATCH applies to: the resource type, its id (a client may echo the
/// read-only `id`), and for groups the plan that member operations feed.
pub struct PatchContext<'a> {
    pub registry: &'a SchemaRegistry,
    pub dialect: &'a Dialect,
    pub kind: ResourceKind,
    pub id: &'a str,
    pub members: Option<&'a mut MemberPlan>,
}

/// Applies all operations to `doc`; on error `doc` may be partly changed and
/// must be discarded by the caller.
pub fn apply(
    doc: &mut Map<String, Value>,
    ops: &[Operation],
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    for (i, op) in ops.iter().enumerate() {
        apply_one(doc, op, ctx).map_err(|e| e.context(format!("Operations[{i}]")))?;
    }
    Ok(())
}

fn apply_one(
    doc: &mut Map<String, Value>,
    op: &Operation,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    match (&op.path, &op.value) {
        (None, Some(Value::Object(fields))) => apply_pathless(doc, op.op, fields, ctx),
        (None, _) => Err(ScimError::invalid_value("'value' must be an object")),
        // The parser reads a bare schema URN as `uri:name`; it names the
        // whole extension object.
        (Some(PatchPath::Attr(path)), value) => match extension_urn(ctx, &path.to_string()) {
            Some(urn) => apply_extension(doc, op.op, &urn, value.as_ref(), ctx),
            None => apply_path(doc, op.op, path, value.clone(), ctx),
        },
        (
            Some(PatchPath::ValuePath {
                attr,
                filter,
                sub_attr,
            }),
            value,
        ) => apply_value_path(
            doc,
            op.op,
            attr,
            filter,
            sub_attr.as_deref(),
            value.clone(),
            ctx,
        ),
    }
}

/// A path-less add/replace: each key of the value is itself a path. Entra
/// sends dotted (`name.givenName`) and URN-qualified keys here.
fn apply_pathless(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    fields: &Map<String, Value>,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    for (key, value) in fields {
        if key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("meta") {
            continue;
        }
        if key.eq_ignore_ascii_case("id") {
            // Okta's group rename echoes the id; only a different id is a change.
            if ctx.dialect.echoed_id_in_value && value.as_str() == Some(ctx.id) {
                applied("echoed_id_in_value", ctx.id);
                continue;
            }
            return Err(ScimError::mutability("'id' is read-only"));
        }
        if let Some(urn) = extension_urn(ctx, key) {
            apply_extension_fields(doc, kind, &urn, value, ctx)?;
            continue;
        }
        let path = pathless_key(key, ctx.dialect)?;
        apply_path(doc, kind, &path, Some(value.clone()), ctx)?;
    }
    Ok(())
}

/// A key of a path-less value. The RFC makes it an attribute name; Entra
/// also sends sub-attribute paths and URN-qualified names.
fn pathless_key(key: &str, dialect: &Dialect) -> Result<AttrPath, ScimError> {
    let path = parse_attr_path(key).map_err(|e| ScimError::invalid_path(e.detail))?;
    if path.uri.is_some() || path.sub_attr.is_some() {
        if !dialect.path_keys_in_value {
            return Err(ScimError::invalid_value(format!(
                "'{key}' is not an attribute name; use it as the operation's 'path'"
            )));
        }
        applied("path_keys_in_value", key);
    }
    Ok(path)
}

/// An operation whose path is an extension's schema URN: remove drops the
/// extension object, replace swaps it, add merges into it.
fn apply_extension(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    urn: &str,
    value: Option<&Value>,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    let stored = doc.keys().find(|k| k.eq_ignore_ascii_case(urn)).cloned();
    if matches!(kind, OpKind::Remove | OpKind::Replace)
        && let Some(key) = stored
    {
        doc.remove(&key);
    }
    match (kind, value) {
        (OpKind::Remove, _) | (_, None) => Ok(()),
        (_, Some(v)) => apply_extension_fields(doc, OpKind::Add, urn, v, ctx),
    }
}

/// Each attribute of an extension object, applied as its own path.
fn apply_extension_fields(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    urn: &str,
    value: &Value,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    let Value::Object(ext) = value else {
        return Err(ScimError::invalid_value(format!(
            "'{urn}' must be an object"
        )));
    };
    // A client may send the extension as a whole resource object.
    for (name, v) in ext
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
    {
        let path = AttrPath {
            uri: Some(urn.to_owned()),
            name: name.clone(),
            sub_attr: None,
        };
        apply_path(doc, kind, &path, Some(v.clone()), ctx)?;
    }
    Ok(())
}

fn extension_urn(ctx: &PatchContext<'_>, key: &str) -> Option<String> {
    ctx.registry
        .schema_urns_for(ctx.kind.name())
        .into_iter()
        .find(|u| u.eq_ignore_ascii_case(key))
        .map(str::to_owned)
}

struct Resolved {
    /// `None` for the core schema (top level of the document).
    container: Option<String>,
    attr: AttributeDef,
    sub: Option<AttributeDef>,
}

fn resolve(ctx: &PatchContext<'_>, path: &AttrPath) -> Result<Resolved, ScimError> {
    let r = ctx
        .registry
        .resolve(
            ctx.kind.name(),
            path.uri.as_deref(),
            &path.name,
            path.sub_attr.as_deref(),
        )
        .ok_or_else(|| {
            ScimError::invalid_path(format!("unknown attribute '{}'", display_path(path)))
        })?;
    if r.attr.mutability == Mutability::ReadOnly
        || r.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::mutability(format!(
            "'{}' is read-only",
            display_path(path)
        )));
    }
    Ok(Resolved {
        container: (!r.is_core_schema).then(|| r.schema_urn.to_owned()),
        attr: r.attr.clone(),
        sub: r.sub.cloned(),
    })
}

fn display_path(p: &AttrPath) -> String {
    let mut s = p.uri.as_ref().map(|u| format!("{u}:")).unwrap_or_default();
    s.push_str(&p.name);
    if let Some(sub) = &p.sub_attr {
        s.push('.');
        s.push_str(sub);
    }
    s
}

fn is_members(ctx: &PatchContext<'_>, r: &Resolved) -> bool {
    ctx.members.is_some() && r.container.is_none() && r.attr.name == "members"
}

/// The object an attribute lives in: the document itself for the core
/// schema, or the extension's object.
fn container<'d>(
    doc: &'d mut Map<String, Value>,
    r: &Resolved,
) -> Result<&'d mut Map<String, Value>, ScimError> {
    let Some(urn) = &r.container else {
        return Ok(doc);
    };
    let slot = doc
        .entry(urn.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    slot.as_object_mut()
        .ok_or_else(|| ScimError::invalid_value(format!("'{urn}' is not an object")))
}

fn apply_path(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    path: &AttrPath,
    value: Option<Value>,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    let r = resolve(ctx, path)?;
    if is_members(ctx, &r) {
        return apply_members(kind, &r, value, ctx);
    }
    let obj = container(doc, &r)?;
    let name = r.attr.name.clone();
    match (kind, &r.sub, value) {
        (OpKind::Remove, None, _) | (OpKind::Replace, None, None) => {
            obj.remove(&name);
        }
        (OpKind::Remove, Some(sub), _) | (OpKind::Replace, Some(sub), None) => {
            remove_sub(obj, &name, &sub.name)
        }
        (_, Some(sub), Some(v)) => set_sub(obj, &r.attr, &sub.name, v)?,
        (OpKind::Add, None, Some(v)) => add_value(obj, &r.attr, v),
        (OpKind::Replace, None, Some(v)) => replace_value(obj, &r.attr, v),
        // Adding nothing (a null inside a path-less value) changes nothing.
        (OpKind::Add, _, None) => {}
    }
    prune_empty(doc, &r);
    Ok(())
}

/// Drops an extension object left empty, so `schemas` stays truthful.
fn prune_empty(doc: &mut Map<String, Value>, r: &Resolved) {
    if let Some(urn) = &r.container
        && doc
            .get(urn)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        doc.remove(urn);
    }
}
