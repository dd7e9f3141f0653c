//! Operations whose path selects values of a multi-valued attribute with a
//! filter (`emails[type eq "work"]`, optionally `.value`).

use serde_json::{Map, Value};

use super::members::remove_filtered_members;
use super::{OpKind, PatchContext, container, is_members, prune_empty, resolve};
use crate::ScimError;
use crate::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::idp_dialect::{Dialect, applied};
use crate::schema::AttrType;
use crate::value_filter::matches;

pub(super) fn apply_value_path(
    doc: &mut Map<String, Value>,
    kind: OpKind,
    attr_path: &AttrPath,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    let path = AttrPath {
        sub_attr: None,
        ..attr_path.clone()
    };
    let r = resolve(ctx, &path)?;
    if !r.attr.multi_valued || r.attr.attr_type != AttrType::Complex {
        return Err(ScimError::invalid_path(format!(
            "'{}' is not a multi-valued complex attribute, so it takes no filter",
            r.attr.name
        )));
    }
    if is_members(ctx, &r) {
        return remove_filtered_members(kind, filter, sub, ctx);
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
    let result = edit_matches(&mut items, &hits, kind, filter, sub, value, ctx.dialect);
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
