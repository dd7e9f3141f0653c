//! Checking one attribute's value against its definition: its type, its
//! sub-attributes, `canonicalValues`, and at most one primary value.

use serde_json::{Map, Value};

use super::find;
use crate::ScimError;
use crate::idp_dialect::{Dialect, applied};
use crate::schema::{AttrType, AttributeDef, Mutability};

/// Checks one attribute's value. `Ok(None)` means "store nothing": the value
/// was empty, or the attribute is read-only and so ignored.
pub fn check_attribute(
    dialect: &Dialect,
    def: &AttributeDef,
    value: Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() || def.mutability == Mutability::ReadOnly {
        return Ok(None);
    }
    if !def.multi_valued {
        return check_single(dialect, def, value, path);
    }
    let Value::Array(items) = value else {
        return Err(type_error(path, "an array"));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = check_single(dialect, def, item, path)? {
            out.push(v);
        }
    }
    check_single_primary(&out, path)?;
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more
/// than once."
fn check_single_primary(values: &[Value], path: &str) -> Result<(), ScimError> {
    let primaries = values
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "at most one value of '{path}' may be primary"
        )));
    }
    Ok(())
}

fn check_single(
    dialect: &Dialect,
    def: &AttributeDef,
    value: Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    match def.attr_type {
        AttrType::Complex => check_complex(dialect, def, value, path),
        AttrType::String if dialect.enforce_canonical_values => {
            let value = coerce_string(value, path)?;
            check_canonical(def, &value, path)?;
            Ok(Some(value))
        }
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            coerce_string(value, path).map(Some)
        }
        AttrType::Boolean => coerce_bool(dialect, value, path).map(Some),
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(Value::Number(n))),
            _ => Err(type_error(path, "an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(n) => Ok(Some(Value::Number(n))),
            _ => Err(type_error(path, "a number")),
        },
        AttrType::DateTime => match value {
            Value::String(s) if crate::time::parse_datetime_ms(&s).is_some() => {
                Ok(Some(Value::String(s)))
            }
            _ => Err(type_error(path, "an xsd:dateTime string")),
        },
    }
}

fn check_complex(
    dialect: &Dialect,
    def: &AttributeDef,
    value: Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    let fields = match value {
        Value::Object(fields) => fields,
        // For multi-valued attributes a bare string is a client error.
        Value::String(s)
            if dialect.bare_string_complex
                && !def.multi_valued
                && find(&def.sub_attributes, "value").is_some() =>
        {
            applied("bare_string_complex", path);
            let mut m = Map::new();
            m.insert("value".to_owned(), Value::String(s));
            m
        }
        _ => return Err(type_error(path, "a JSON object")),
    };
    let mut out = Map::new();
    let mut had_read_only = false;
    for (name, v) in fields {
        let Some(sub) = find(&def.sub_attributes, &name) else {
            return Err(ScimError::invalid_syntax(format!(
                "unknown sub-attribute '{name}' of '{path}'"
            )));
        };
        had_read_only |= sub.mutability == Mutability::ReadOnly && !v.is_null();
        let sub_path = format!("{path}.{}", sub.name);
        if let Some(v) = check_attribute(dialect, sub, v, &sub_path)? {
            out.insert(sub.name.clone(), v);
        }
    }
    if let Some(sub) = def
        .sub_attributes
        .iter()
        .find(|d| d.required && d.mutability != Mutability::ReadOnly && !out.contains_key(&d.name))
    {
        return Err(ScimError::invalid_value(format!(
            "'{path}.{}' is required",
            sub.name
        )));
    }
    // A value that carried only read-only parts stays, empty, so that rules
    // about it still apply (a member without a `value` is an error, not
    // silently nothing).
    Ok((!out.is_empty() || had_read_only).then_some(Value::Object(out)))
}

/// A value outside the attribute's `canonicalValues`, when it lists any.
fn check_canonical(def: &AttributeDef, value: &Value, path: &str) -> Result<(), ScimError> {
    let (allowed, Some(s)) = (&def.canonical_values, value.as_str()) else {
        return Ok(());
    };
    let same = |c: &String| match def.case_exact {
        true => c == s,
        false => c.to_lowercase() == s.to_lowercase(),
    };
    if allowed.is_empty() || allowed.iter().any(same) {
        return Ok(());
    }
    Err(ScimError::invalid_value(format!(
        "'{path}' must be one of {}; got \"{s}\"",
        allowed
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

pub(super) fn coerce_string(value: Value, path: &str) -> Result<Value, ScimError> {
    match value {
        Value::String(s) => Ok(Value::String(s)),
        _ => Err(type_error(path, "a string")),
    }
}

fn coerce_bool(dialect: &Dialect, value: Value, path: &str) -> Result<Value, ScimError> {
    let parsed = match &value {
        Value::Bool(b) => return Ok(Value::Bool(*b)),
        Value::String(s) if dialect.string_booleans => parse_bool(s),
        _ => None,
    };
    let b = parsed.ok_or_else(|| type_error(path, "a boolean"))?;
    applied("string_booleans", path);
    Ok(Value::Bool(b))
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn type_error(path: &str, expected: &str) -> ScimError {
    ScimError::invalid_value(format!("'{path}' must be {expected}"))
}
