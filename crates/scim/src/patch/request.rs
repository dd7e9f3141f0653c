//! Reading a PatchOp body (RFC 7644 §3.5.2) into operations.

use serde_json::{Map, Value};

use crate::ScimError;
use crate::filter::{PatchPath, parse_patch_path};
use crate::idp_dialect::{Dialect, applied};
use crate::schema::PATCH_OP_URN;

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
        (_, None, _) if !dialect.pathless_patch => Err(ScimError::invalid_path(
            "every operation must name its target in 'path' (the SCIM interoperability profile)",
        )),
        (OpKind::Add | OpKind::Replace, None, Some(Value::Object(_))) => Ok(()),
        (OpKind::Add | OpKind::Replace, None, _) => Err(ScimError::invalid_value(
            "without a 'path', 'value' must be an object of attributes",
        )),
        // RFC 7644 §3.5.2.1 and §3.5.2.3: add and replace carry a value; a
        // replace without one must not be read as a remove.
        (OpKind::Add, Some(_), None) => Err(ScimError::invalid_value("add needs a 'value'")),
        (OpKind::Replace, Some(_), None) => {
            Err(ScimError::invalid_value("replace needs a 'value'"))
        }
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
