//! Evaluates a filter against one value of a multi-valued complex attribute,
//! as in `emails[type eq "work"]`. Used by the PATCH engine on the document
//! already in memory; list filters run in SQL instead.

use std::cmp::Ordering;

use serde_json::Value;

use super::filter::{CompValue, CompareOp, Filter};
use super::normalize::fold_case;
use super::schema::{AttrType, AttributeDef};
use super::validate::find;

/// Whether `element` satisfies `filter`, whose paths name sub-attributes of
/// the attribute described by `subs`.
pub fn matches(element: &Value, filter: &Filter, subs: &[AttributeDef]) -> bool {
    match filter {
        Filter::Compare { path, op, value } => {
            let def = find(subs, &path.name);
            compare(get_ci(element, &path.name), *op, value, def)
        }
        Filter::Present(path) => is_present(get_ci(element, &path.name)),
        Filter::Not(inner) => !matches(element, inner, subs),
        Filter::And(all) => all.iter().all(|f| matches(element, f, subs)),
        Filter::Or(any) => any.iter().any(|f| matches(element, f, subs)),
        Filter::ValuePath { .. } => false,
    }
}

/// A case-insensitive field lookup: attribute names are case-insensitive.
pub fn get_ci<'a>(element: &'a Value, name: &str) -> Option<&'a Value> {
    element
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn is_present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

fn compare(
    actual: Option<&Value>,
    op: CompareOp,
    expected: &CompValue,
    def: Option<&AttributeDef>,
) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    match (actual, expected) {
        (None, CompValue::Null) => op == CompareOp::Eq,
        (None, _) => op == CompareOp::Ne,
        (Some(_), CompValue::Null) => op == CompareOp::Ne,
        (Some(Value::String(a)), CompValue::Str(e)) => compare_strings(a, op, e, def),
        (Some(Value::Bool(a)), CompValue::Bool(e)) => match op {
            CompareOp::Eq => a == e,
            CompareOp::Ne => a != e,
            _ => false,
        },
        (Some(Value::Number(a)), CompValue::Number(e)) => {
            let (Some(a), Some(e)) = (a.as_f64(), e.as_f64()) else {
                return false;
            };
            ordering_holds(a.partial_cmp(&e), op)
        }
        _ => op == CompareOp::Ne,
    }
}

fn compare_strings(
    actual: &str,
    op: CompareOp,
    expected: &str,
    def: Option<&AttributeDef>,
) -> bool {
    if def.is_some_and(|d| d.attr_type == AttrType::DateTime) {
        let (a, e) = (
            crate::time::parse_datetime_ms(actual),
            crate::time::parse_datetime_ms(expected),
        );
        if let (Some(a), Some(e)) = (a, e) {
            return ordering_holds(Some(a.cmp(&e)), op);
        }
    }
    let case_exact = def.is_some_and(|d| d.case_exact);
    let (a, e) = if case_exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (fold_case(actual), fold_case(expected))
    };
    match op {
        CompareOp::Co => a.contains(&e),
        CompareOp::Sw => a.starts_with(&e),
        CompareOp::Ew => a.ends_with(&e),
        _ => ordering_holds(Some(a.cmp(&e)), op),
    }
}

fn ordering_holds(ord: Option<Ordering>, op: CompareOp) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;
    use crate::schema::SchemaRegistry;
    use serde_json::json;

    fn email_subs() -> Vec<AttributeDef> {
        let reg = SchemaRegistry::rfc().unwrap();
        let r = reg.resolve("User", None, "emails", None).unwrap();
        r.attr.sub_attributes.clone()
    }

    fn check(filter: &str, element: Value) -> bool {
        let f = parse_filter(filter).unwrap();
        matches(&element, &f, &email_subs())
    }

    #[test]
    fn evaluates_operators_with_schema_case_rules() {
        let e = json!({"value": "Bjensen@Example.com", "type": "work", "primary": true});
        assert!(check(r#"type eq "WORK""#, e.clone()));
        assert!(check(r#"value co "example""#, e.clone()));
        assert!(check(
            r#"value sw "bjensen" and primary eq true"#,
            e.clone()
        ));
        assert!(check(r#"value ew ".COM""#, e.clone()));
        assert!(check(r#"type ne "home""#, e.clone()));
        assert!(check(r#"display ne "x""#, e.clone()));
        assert!(!check(r#"display pr"#, e.clone()));
        assert!(check(r#"not (type eq "home") or value pr"#, e.clone()));
        assert!(!check(r#"type eq "home""#, e));
    }
}
