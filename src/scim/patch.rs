//! The PATCH engine (RFC 7644 §3.5.2): applies operations to a resource's
//! document in memory, so that a request whose third operation fails has
//! written nothing. Group members are not in the document: operations on
//! `members` become a [`MemberPlan`] that the store runs as set operations,
//! so a change of k members costs O(k) whatever the group's size.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::ScimError;
use super::filter::{
    AttrPath, CompValue, CompareOp, Filter, PatchPath, parse_attr_path, parse_patch_path,
};
use super::group::{MemberRef, member_refs};
use super::idp_dialect::{Dialect, applied};
use super::schema::{AttrType, AttributeDef, Mutability, PATCH_OP_URN, SchemaRegistry};
use super::value_filter::{get_ci, matches};

/// More operations than any IdP sends in one request; bounds the work.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Parses a PatchOp body. Keywords are matched case-insensitively because
/// Microsoft Entra sends `"Add"`, `"Replace"` and `"Remove"`.
pub fn parse_request(body: Value, dialect: &Dialect) -> Result<Vec<Operation>, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "a PATCH body must be a JSON object",
        ));
    };
    if let Some(schemas) = get_key(&body, "schemas") {
        let ok = schemas.as_array().is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_URN))
            })
        });
        if !ok {
            return Err(ScimError::invalid_syntax(format!(
                "'schemas' must contain {PATCH_OP_URN}"
            )));
        }
    }
    let Some(Value::Array(ops)) = get_key(&body, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "'Operations' must be an array of operations",
        ));
    };
    if ops.is_empty() || ops.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_syntax(format!(
            "'Operations' must hold between 1 and {MAX_OPERATIONS} operations"
        )));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            parse_operation(op, dialect).map_err(|e| e.context(format!("Operations[{i}]")))
        })
        .collect()
}

fn get_key<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn parse_operation(op: &Value, dialect: &Dialect) -> Result<Operation, ScimError> {
    let Value::Object(fields) = op else {
        return Err(ScimError::invalid_syntax(
            "an operation must be a JSON object",
        ));
    };
    let name = get_key(fields, "op").and_then(Value::as_str);
    let kind = name.and_then(|n| op_kind(n, dialect)).ok_or_else(|| {
        ScimError::invalid_syntax(format!(
            "'op' must be add, replace or remove, got {}",
            name.map_or("nothing".to_owned(), |s| format!("{s:?}"))
        ))
    })?;
    let path = match get_key(fields, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            Some(parse_patch_path(s.trim()).map_err(|e| ScimError::invalid_path(e.detail))?)
        }
        Some(_) => return Err(ScimError::invalid_path("'path' must be a string")),
    };
    let value = get_key(fields, "value").filter(|v| !v.is_null()).cloned();
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => Err(ScimError::no_target("remove needs a 'path'")),
        (OpKind::Add | OpKind::Replace, None, Some(Value::Object(_))) => Ok(()),
        (OpKind::Add | OpKind::Replace, None, _) => Err(ScimError::invalid_value(
            "without a 'path', 'value' must be an object of attributes",
        )),
        (OpKind::Add, Some(_), None) => Err(ScimError::invalid_value("add needs a 'value'")),
        _ => Ok(()),
    }?;
    Ok(Operation {
        op: kind,
        path,
        value,
    })
}

fn op_kind(name: &str, dialect: &Dialect) -> Option<OpKind> {
    let kind = match name.to_ascii_lowercase().as_str() {
        "add" => OpKind::Add,
        "replace" => OpKind::Replace,
        "remove" => OpKind::Remove,
        _ => return None,
    };
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        if !dialect.case_insensitive_ops {
            return None;
        }
        applied("case_insensitive_ops", name);
    }
    Some(kind)
}

/// Membership changes gathered from a request, in request order: a later
/// operation on the same member wins over an earlier one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberPlan {
    /// Remove every member before adding.
    pub clear: bool,
    pub add: Vec<MemberRef>,
    pub remove: BTreeSet<String>,
}

impl MemberPlan {
    pub fn is_empty(&self) -> bool {
        !self.clear && self.add.is_empty() && self.remove.is_empty()
    }

    fn clear_all(&mut self) {
        *self = Self {
            clear: true,
            ..Self::default()
        };
    }

    fn add_members(&mut self, refs: Vec<MemberRef>) {
        for r in refs {
            self.remove.remove(&r.value);
            if !self.add.iter().any(|a| a.value == r.value) {
                self.add.push(r);
            }
        }
    }

    fn remove_members(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            self.add.retain(|a| a.value != id);
            self.remove.insert(id);
        }
    }
}

/// What a PATCH applies to: the resource type, its id (a client may echo the
/// read-only `id`), and for groups the plan that member operations feed.
pub struct Target<'a> {
    pub registry: &'a SchemaRegistry,
    pub dialect: &'a Dialect,
    pub resource_type: &'a str,
    pub id: &'a str,
    pub members: Option<&'a mut MemberPlan>,
}

/// Applies all operations to `doc`; on error `doc` may be partly changed and
/// must be discarded by the caller.
pub fn apply(
    doc: &mut Map<String, Value>,
    ops: &[Operation],
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    for (i, op) in ops.iter().enumerate() {
        apply_one(doc, op, target).map_err(|e| e.context(format!("Operations[{i}]")))?;
    }
    Ok(())
}

fn apply_one(
    doc: &mut Map<String, Value>,
    op: &Operation,
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    match (&op.path, &op.value) {
        (None, Some(Value::Object(fields))) => apply_pathless(doc, op.op, fields, target),
        (None, _) => Err(ScimError::invalid_value("'value' must be an object")),
        // The parser reads a bare schema URN as `uri:name`; it names the
        // whole extension object.
        (Some(PatchPath::Attr(path)), value) => match extension_urn(target, &path.to_string()) {
            Some(urn) => apply_extension(doc, op.op, &urn, value.as_ref(), target),
            None => apply_path(doc, op.op, path, value.clone(), target),
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
            target,
        ),
    }
}

/// A path-less add/replace: each key of the value is itself a path. Entra
/// sends dotted (`name.givenName`) and URN-qualified keys here.
fn apply_pathless(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    fields: &Map<String, Value>,
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    for (key, value) in fields {
        if key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("meta") {
            continue;
        }
        if key.eq_ignore_ascii_case("id") {
            // Okta's group rename echoes the id; only a different id is a change.
            if target.dialect.echoed_id_in_value && value.as_str() == Some(target.id) {
                applied("echoed_id_in_value", target.id);
                continue;
            }
            return Err(ScimError::mutability("'id' is read-only"));
        }
        if let Some(urn) = extension_urn(target, key) {
            apply_extension_fields(doc, kind, &urn, value, target)?;
            continue;
        }
        let path = pathless_key(key, target.dialect)?;
        apply_path(doc, kind, &path, Some(value.clone()), target)?;
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
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    let stored = doc.keys().find(|k| k.eq_ignore_ascii_case(urn)).cloned();
    if matches!(kind, OpKind::Remove | OpKind::Replace)
        && let Some(key) = stored
    {
        doc.remove(&key);
    }
    match (kind, value) {
        (OpKind::Remove, _) | (_, None) => Ok(()),
        (_, Some(v)) => apply_extension_fields(doc, OpKind::Add, urn, v, target),
    }
}

/// Each attribute of an extension object, applied as its own path.
fn apply_extension_fields(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    urn: &str,
    value: &Value,
    target: &mut Target<'_>,
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
        apply_path(doc, kind, &path, Some(v.clone()), target)?;
    }
    Ok(())
}

fn extension_urn(target: &Target<'_>, key: &str) -> Option<String> {
    target
        .registry
        .schema_urns_for(target.resource_type)
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

fn resolve(target: &Target<'_>, path: &AttrPath) -> Result<Resolved, ScimError> {
    let r = target
        .registry
        .resolve(
            target.resource_type,
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

fn is_members(target: &Target<'_>, r: &Resolved) -> bool {
    target.members.is_some() && r.container.is_none() && r.attr.name == "members"
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
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    let r = resolve(target, path)?;
    if is_members(target, &r) {
        return apply_members(kind, &r, value, target);
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

fn remove_sub(obj: &mut Map<String, Value>, name: &str, sub: &str) {
    match obj.get_mut(name) {
        Some(Value::Object(o)) => {
            o.remove(sub);
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove(sub);
            }
        }
        _ => {}
    }
}

fn set_sub(
    obj: &mut Map<String, Value>,
    attr: &AttributeDef,
    sub: &str,
    v: Value,
) -> Result<(), ScimError> {
    if attr.multi_valued {
        return Err(ScimError::invalid_path(format!(
            "select the values of '{}' to change with a filter, e.g. {}[type eq \"work\"].{sub}",
            attr.name, attr.name
        )));
    }
    let slot = obj
        .entry(attr.name.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Some(o) = slot.as_object_mut() {
        o.insert(sub.to_owned(), v);
    }
    Ok(())
}

/// RFC 7644 §3.5.2.1: add appends to multi-valued attributes (skipping values
/// already there), merges into complex ones, and sets simple ones.
fn add_value(obj: &mut Map<String, Value>, attr: &AttributeDef, v: Value) {
    if !attr.multi_valued {
        return replace_value(obj, attr, v);
    }
    let new_items = match v {
        Value::Array(items) => items,
        single => vec![single],
    };
    let slot = obj
        .entry(attr.name.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    if let Some(items) = slot.as_array_mut() {
        if new_items.iter().any(is_primary) {
            demote_primaries(items);
        }
        for item in new_items {
            if !items.contains(&item) {
                items.push(item);
            }
        }
    }
}

/// RFC 7644 §3.5.2.3: replace merges into a complex attribute (unnamed
/// sub-attributes stay) and overwrites anything else.
fn replace_value(obj: &mut Map<String, Value>, attr: &AttributeDef, v: Value) {
    let merge = attr.attr_type == AttrType::Complex && !attr.multi_valued;
    match (merge, obj.get_mut(&attr.name), v) {
        (true, Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, val) in new {
                existing.insert(k, val);
            }
        }
        (_, _, v) => {
            obj.insert(attr.name.clone(), v);
        }
    }
}

fn is_primary(v: &Value) -> bool {
    get_ci(v, "primary").is_some_and(|p| {
        p == &Value::Bool(true) || p.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
    })
}

/// Only one value may be primary; a newly added primary value wins.
fn demote_primaries(items: &mut [Value]) {
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        if item.get("primary") == Some(&Value::Bool(true)) {
            item.insert("primary".to_owned(), Value::Bool(false));
        }
    }
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

fn apply_value_path(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    attr_path: &AttrPath,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    let path = AttrPath {
        sub_attr: None,
        ..attr_path.clone()
    };
    let r = resolve(target, &path)?;
    if !r.attr.multi_valued || r.attr.attr_type != AttrType::Complex {
        return Err(ScimError::invalid_path(format!(
            "'{}' is not a multi-valued complex attribute, so it takes no filter",
            r.attr.name
        )));
    }
    if is_members(target, &r) {
        return remove_filtered_members(kind, filter, sub, target);
    }
    let subs = r.attr.sub_attributes.clone();
    if let Some(s) = sub
        && !subs.iter().any(|d| d.name.eq_ignore_ascii_case(s))
    {
        return Err(ScimError::invalid_path(format!(
            "'{}' has no sub-attribute '{s}'",
            r.attr.name
        )));
    }
    let obj = container(doc, &r)?;
    let mut items = match obj.remove(&r.attr.name) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let hits: Vec<usize> = (0..items.len())
        .filter(|&i| matches(&items[i], filter, &subs))
        .collect();
    let result = edit_matches(&mut items, &hits, kind, filter, sub, value, target.dialect);
    if !items.is_empty() {
        obj.insert(r.attr.name.clone(), Value::Array(items));
    }
    prune_empty(doc, &r);
    result
}

fn edit_matches(
    items: &mut Vec<Value>,
    hits: &[usize],
    kind: OpKind,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
    dialect: &Dialect,
) -> Result<(), ScimError> {
    match (kind, sub, value) {
        (OpKind::Remove, None, _) | (OpKind::Replace, None, None) => {
            // Removing what is already gone is not an error: IdPs retry.
            for &i in hits.iter().rev() {
                items.remove(i);
            }
        }
        (OpKind::Remove, Some(s), _) | (OpKind::Replace, Some(s), None) => {
            for &i in hits {
                if let Some(o) = items[i].as_object_mut() {
                    o.remove(s);
                }
            }
        }
        (OpKind::Replace, _, Some(_))
            if hits.is_empty() && !dialect.create_on_unmatched_value_path =>
        {
            return Err(ScimError::no_target(format!("no value matches [{filter}]")));
        }
        (_, _, Some(v)) if hits.is_empty() => {
            if kind == OpKind::Replace {
                applied("create_on_unmatched_value_path", filter);
            }
            items.push(new_element(filter, sub, v)?);
        }
        (_, Some(s), Some(v)) => {
            for &i in hits {
                if let Some(o) = items[i].as_object_mut() {
                    o.insert(s.to_owned(), v.clone());
                }
            }
        }
        (_, None, Some(v)) => {
            for &i in hits {
                items[i] = v.clone();
            }
        }
        (OpKind::Add, _, None) => {}
    }
    Ok(())
}

/// Entra replaces `emails[type eq "work"].value` on users with no work email
/// and means "create it": build the element from the filter's equalities.
fn new_element(filter: &Filter, sub: Option<&str>, value: Value) -> Result<Value, ScimError> {
    let mut element = Map::new();
    if !collect_equalities(filter, &mut element) {
        return Err(ScimError::no_target("the filter matched no value"));
    }
    match (sub, value) {
        (Some(s), v) => {
            element.insert(s.to_owned(), v);
        }
        (None, Value::Object(fields)) => element.extend(fields),
        (None, _) => return Err(ScimError::invalid_value("'value' must be an object")),
    }
    Ok(Value::Object(element))
}

fn collect_equalities(filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub_attr.is_none() => {
            let v = match value {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return false,
            };
            out.insert(path.name.clone(), v);
            true
        }
        Filter::And(all) => all.iter().all(|f| collect_equalities(f, out)),
        _ => false,
    }
}

fn apply_members(
    kind: OpKind,
    r: &Resolved,
    value: Option<Value>,
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    let Some(plan) = target.members.as_deref_mut() else {
        return Ok(());
    };
    if r.sub.is_some() {
        return Err(ScimError::invalid_path(
            "change members with 'members' or 'members[value eq \"id\"]'",
        ));
    }
    let refs = match &value {
        Some(v) => member_refs(v)?,
        None => Vec::new(),
    };
    match (kind, value.is_some()) {
        (OpKind::Add, _) => plan.add_members(refs),
        (OpKind::Replace, _) => {
            // Okta's "push now" on an empty group sends `"value": []`.
            plan.clear_all();
            plan.add_members(refs);
        }
        // Entra's remove names the members in `value`; removing only those
        // (not the whole attribute) is what it means and what keeps groups.
        (OpKind::Remove, true) if target.dialect.remove_members_by_value => {
            applied("remove_members_by_value", refs.len());
            plan.remove_members(refs.into_iter().map(|m| m.value));
        }
        (OpKind::Remove, _) => plan.clear_all(),
    }
    Ok(())
}

fn remove_filtered_members(
    kind: OpKind,
    filter: &Filter,
    sub: Option<&str>,
    target: &mut Target<'_>,
) -> Result<(), ScimError> {
    let Some(plan) = target.members.as_deref_mut() else {
        return Ok(());
    };
    if kind != OpKind::Remove || sub.is_some() {
        return Err(ScimError::invalid_path(
            "a filtered 'members' path supports only remove, e.g. members[value eq \"id\"]",
        ));
    }
    let mut ids = Vec::new();
    if !member_ids(filter, &mut ids) {
        return Err(ScimError::invalid_filter(format!(
            "members can be selected by value only, e.g. members[value eq \"id\"], got [{filter}]"
        )));
    }
    plan.remove_members(ids);
    Ok(())
}

/// `value eq "a"`, `value eq "a" or value eq "b"`, and an `and` in which one
/// side names the value (`display eq "x" and value eq "a"`).
fn member_ids(filter: &Filter, out: &mut Vec<String>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.name.eq_ignore_ascii_case("value") && path.sub_attr.is_none() => {
            out.push(id.clone());
            true
        }
        Filter::Or(any) => any.iter().all(|f| member_ids(f, out)),
        Filter::And(all) => all.iter().any(|f| member_ids(f, out)),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
