//! Compiles a SCIM filter into one SQL condition, so the database does the
//! filtering, with its indexes where the attribute has a column, and no row
//! is ever filtered in memory.
//!
//! Semantics (RFC 7644 §3.4.2.2) are those of the schema: `caseExact`
//! decides case-sensitivity, dateTimes compare as instants, `pr` means
//! present and non-empty, a multi-valued attribute matches when any of its
//! values does. An absent attribute fails every test except `ne` (it is not
//! equal to anything) and `eq null`; every leaf below is two-valued (never
//! SQL NULL), so `not (…)` is the exact complement of its operand.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{Condition, DbBackend, Value};
use uuid::Uuid;

use super::resolver::Resolver;
use super::sql_dialect::{self, Anchor, JsonPath};
use super::target::{
    Collection, Origin, Scalar, Target, Ty, Unresolved, json_collection, resource_table,
    search_doc, side_column, side_membership,
};
use crate::scim::ScimError;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::normalize::fold_case;
use crate::scim::resource::ResourceKind;
use crate::scim::schema::AttributeDef;
use crate::scim::value_filter;
use crate::time::{format_ms, parse_datetime_within_ms};

/// The SQL condition selecting the resources `filter` matches.
pub fn filter_condition(r: &Resolver<'_>, filter: &Filter) -> Result<Condition, ScimError> {
    logical(filter, &mut |leaf| top_leaf(r, leaf))
}

/// And/Or/Not are the same in every context; `leaf` compiles the rest.
fn logical(
    f: &Filter,
    leaf: &mut dyn FnMut(&Filter) -> Result<Condition, ScimError>,
) -> Result<Condition, ScimError> {
    match f {
        Filter::And(all) => all
            .iter()
            .try_fold(Condition::all(), |c, f| Ok(c.add(logical(f, leaf)?))),
        Filter::Or(any) => any
            .iter()
            .try_fold(Condition::any(), |c, f| Ok(c.add(logical(f, leaf)?))),
        Filter::Not(inner) => Ok(logical(inner, leaf)?.not()),
        other => leaf(other),
    }
}

fn top_leaf(r: &Resolver<'_>, f: &Filter) -> Result<Condition, ScimError> {
    let err = Unresolved::into_filter_error;
    match f {
        Filter::Present(path) => {
            match r.resolve(path, false).map_err(err)? {
                Target::Scalar(s) => Ok(present(&s)),
                Target::Constant { .. } => Ok(always()),
                Target::Many { coll, sub } => match (sub.as_deref(), json_collection(&coll)) {
                    (None, Some((path, _))) => Ok(Condition::all().add(
                        sql_dialect::array_not_empty(r.backend, resource_table(r.kind), &path),
                    )),
                    (sub, _) => any(r, &coll, &[sub], &|e| Ok(present(&e.scalar(sub)?))),
                },
            }
        }
        Filter::Compare { path, op, value } => match r.resolve(path, true).map_err(err)? {
            Target::Scalar(s) => compare(r.backend, &s, *op, value),
            Target::Constant { value: c, def } => Ok(constant(c, def, *op, value)),
            Target::Many { coll, sub } => many_compare(r, &coll, sub.as_deref(), *op, value),
        },
        Filter::ValuePath { attr, filter } => {
            let coll = r.collection(attr).map_err(err)?;
            let used = leaf_names(filter)?;
            any(r, &coll, &used, &|e| {
                logical(filter, &mut |leaf| element_leaf(e, leaf))
            })
        }
        Filter::And(_) | Filter::Or(_) | Filter::Not(_) => logical(f, &mut |l| top_leaf(r, l)),
    }
}

/// `emails.value eq "x"`: some element's value is "x". `ne` also matches
/// when there is no element at all, as it does for an absent singular
/// attribute; `eq null` / `ne null` test absence / presence.
fn many_compare(
    r: &Resolver<'_>,
    coll: &Collection<'_>,
    sub: Option<&str>,
    op: CompareOp,
    value: &CompValue,
) -> Result<Condition, ScimError> {
    let has = |e: &Elem<'_>| Ok(present(&e.scalar(sub)?));
    match (op, value) {
        (CompareOp::Eq, CompValue::Null) => Ok(any(r, coll, &[sub], &has)?.not()),
        (CompareOp::Ne, CompValue::Null) => any(r, coll, &[sub], &has),
        _ => {
            let matched = any(r, coll, &[sub], &|e| {
                compare(r.backend, &e.scalar(sub)?, op, value)
            })?;
            if op != CompareOp::Ne {
                return Ok(matched);
            }
            let none = any(r, coll, &[], &|_| Ok(always()))?.not();
            Ok(Condition::any().add(matched).add(none))
        }
    }
}

/// Reads one element of a collection inside the condition `any` builds.
struct Elem<'a> {
    backend: DbBackend,
    location: ElementLocation<'a>,
}

/// Where the elements of a collection are read from.
enum ElementLocation<'a> {
    /// A row of a side table (`user_emails`, `group_members`).
    Side(&'a Collection<'a>),
    /// An element of the array at `path` in the search document.
    Json {
        path: &'a JsonPath,
        def: &'a AttributeDef,
    },
    /// The object of a singular complex attribute.
    Object {
        kind: ResourceKind,
        path: &'a JsonPath,
        def: &'a AttributeDef,
    },
}

impl Elem<'_> {
    /// The element itself (`None`) or one of its sub-attributes.
    fn scalar(&self, sub: Option<&str>) -> Result<Scalar, ScimError> {
        let def = match &self.location {
            ElementLocation::Side(coll) => {
                return side_column(coll, sub)
                    .unwrap_or_else(|| Err(Unresolved::NotSearchable("no such column".into())))
                    .map_err(Unresolved::into_filter_error);
            }
            ElementLocation::Json { def, .. } | ElementLocation::Object { def, .. } => *def,
        };
        let sub_def = match sub {
            Some(name) => Some(def.sub_attribute(name).ok_or_else(|| {
                ScimError::invalid_filter(format!("unknown attribute '{}.{name}'", def.name))
            })?),
            None => None,
        };
        let leaf = sub_def.unwrap_or(def);
        let ty = Ty::of(leaf);
        let name = match sub_def {
            Some(s) => format!("{}.{}", def.name, s.name),
            None => def.name.clone(),
        };
        let unsafe_name = || ScimError::invalid_filter(format!("'{name}' cannot be searched on"));
        let expr = match (&self.location, sub_def) {
            // Within `any`, a complex element is there by definition.
            (ElementLocation::Json { .. }, None) if ty == Ty::Complex => Expr::val(1),
            (ElementLocation::Json { path, .. }, None) => {
                sql_dialect::element(self.backend, path, None, ty.json_type())
            }
            (ElementLocation::Json { path, .. }, Some(s)) => {
                let key = JsonPath::root().key(&s.name).ok_or_else(unsafe_name)?;
                sql_dialect::element(self.backend, path, Some(&key), ty.json_type())
            }
            (ElementLocation::Object { kind, path, .. }, Some(s)) => {
                let key = path.key(&s.name).ok_or_else(unsafe_name)?;
                sql_dialect::json_scalar(self.backend, search_doc(*kind), &key, ty.json_type())
            }
            (ElementLocation::Object { kind, path, .. }, None) => {
                sql_dialect::json_any_value(search_doc(*kind), path)
            }
            (ElementLocation::Side(_), _) => return Err(unsafe_name()),
        };
        Ok(Scalar {
            expr,
            ty,
            name,
            origin: Origin::Computed,
        })
    }
}

/// A test inside brackets: the names are sub-attributes of the element.
fn element_leaf(e: &Elem<'_>, f: &Filter) -> Result<Condition, ScimError> {
    match f {
        Filter::Present(path) => Ok(present(&e.scalar(Some(element_name(path)?))?)),
        Filter::Compare { path, op, value } => {
            compare(e.backend, &e.scalar(Some(element_name(path)?))?, *op, value)
        }
        Filter::ValuePath { attr, .. } => Err(ScimError::invalid_filter(format!(
            "'{attr}[…]' cannot be nested inside another value filter"
        ))),
        Filter::And(_) | Filter::Or(_) | Filter::Not(_) => logical(f, &mut |l| element_leaf(e, l)),
    }
}

fn element_name(path: &AttrPath) -> Result<&str, ScimError> {
    if path.uri.is_some() || path.sub_attr.is_some() {
        return Err(ScimError::invalid_filter(format!(
            "inside brackets, '{path}' must be a plain sub-attribute name"
        )));
    }
    Ok(&path.name)
}

/// The sub-attributes a bracketed filter reads.
fn leaf_names(f: &Filter) -> Result<Vec<Option<&str>>, ScimError> {
    let mut names = Vec::new();
    collect_names(f, &mut names)?;
    Ok(names)
}

fn collect_names<'f>(f: &'f Filter, out: &mut Vec<Option<&'f str>>) -> Result<(), ScimError> {
    match f {
        Filter::Present(path) | Filter::Compare { path, .. } => {
            out.push(Some(element_name(path)?));
            Ok(())
        }
        Filter::Not(inner) => collect_names(inner, out),
        Filter::And(all) | Filter::Or(all) => all.iter().try_for_each(|f| collect_names(f, out)),
        Filter::ValuePath { .. } => Ok(()),
    }
}

/// Whether some element of `coll` satisfies `test`. A side table is used
/// when it has every sub-attribute `used` names (it is indexed); otherwise
/// the JSON copy of the attribute in the search document.
fn any(
    r: &Resolver<'_>,
    coll: &Collection<'_>,
    used: &[Option<&str>],
    test: &dyn Fn(&Elem<'_>) -> Result<Condition, ScimError>,
) -> Result<Condition, ScimError> {
    if let Collection::Object { path, def } = coll {
        return test(&Elem {
            backend: r.backend,
            location: ElementLocation::Object {
                kind: r.kind,
                path,
                def,
            },
        });
    }
    let mut covered = !matches!(coll, Collection::Json { .. });
    for sub in used {
        match side_column(coll, *sub) {
            Some(Err(e)) => return Err(e.into_filter_error()),
            Some(Ok(_)) => {}
            None => covered = false,
        }
    }
    if covered {
        let cond = test(&Elem {
            backend: r.backend,
            location: ElementLocation::Side(coll),
        })?;
        return Ok(side_membership(coll, r.tenant, cond));
    }
    let Some((path, def)) = json_collection(coll) else {
        return Err(ScimError::invalid_filter(
            "this attribute cannot be filtered on",
        ));
    };
    let cond = test(&Elem {
        backend: r.backend,
        location: ElementLocation::Json { path: &path, def },
    })?;
    Ok(Condition::all().add(sql_dialect::any_element(
        r.backend,
        resource_table(r.kind),
        &path,
        cond.into(),
    )))
}

fn always() -> Condition {
    Condition::all().add(Expr::val(1).eq(1))
}

fn never() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Present and non-empty.
fn present(s: &Scalar) -> Condition {
    let c = Condition::all().add(s.expr.clone().is_not_null());
    match s.ty {
        Ty::Str { .. } => c.add(s.expr.clone().ne("")),
        _ => c,
    }
}

/// Compared in Rust: the value is the same for every row.
fn constant(value: &str, def: &AttributeDef, op: CompareOp, operand: &CompValue) -> Condition {
    let element = serde_json::json!({ def.name.as_str(): value });
    let test = Filter::Compare {
        path: AttrPath {
            uri: None,
            name: def.name.clone(),
            sub_attr: None,
        },
        op,
        value: operand.clone(),
    };
    if value_filter::matches(&element, &test, std::slice::from_ref(def)) {
        always()
    } else {
        never()
    }
}

fn compare(
    backend: DbBackend,
    s: &Scalar,
    op: CompareOp,
    value: &CompValue,
) -> Result<Condition, ScimError> {
    let name = s.name.as_str();
    if matches!(value, CompValue::Null) {
        return match op {
            CompareOp::Eq => Ok(present(s).not()),
            CompareOp::Ne => Ok(present(s)),
            _ => Err(ScimError::invalid_filter(format!(
                "only eq and ne compare '{name}' with null"
            ))),
        };
    }
    let operand = match s.ty {
        Ty::Str { exact } => {
            let v = expect_str(value, name)?;
            let v = if exact { v.to_owned() } else { fold_case(v) };
            return Ok(string_compare(backend, &s.expr, op, v));
        }
        Ty::Id => {
            check_op(op, &[CompareOp::Eq, CompareOp::Ne], name)?;
            // A value that is no UUID names no resource.
            match Uuid::parse_str(expect_str(value, name)?) {
                Ok(id) => Value::from(id),
                Err(_) if op == CompareOp::Eq => return Ok(never()),
                Err(_) => return Ok(always()),
            }
        }
        Ty::Bool => {
            check_op(op, &[CompareOp::Eq, CompareOp::Ne], name)?;
            let CompValue::Bool(b) = value else {
                return Err(type_error(name, "true or false"));
            };
            Value::from(*b)
        }
        Ty::Num => {
            check_ordering_op(op, name)?;
            let CompValue::Number(n) = value else {
                return Err(type_error(name, "a number"));
            };
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Value::from(i),
                (None, Some(f)) => Value::from(f),
                (None, None) => return Err(type_error(name, "a number")),
            }
        }
        Ty::TimeMs | Ty::TimeText => {
            check_ordering_op(op, name)?;
            let text = expect_str(value, name)?;
            let (mut ms, inside) = parse_datetime_within_ms(text).ok_or_else(|| {
                ScimError::invalid_filter(format!(
                    "'{name}' needs an xsd:dateTime value, got {text:?}"
                ))
            })?;
            // Times are stored as whole milliseconds: a value inside one
            // equals none, and `ge`/`lt` it start at the next millisecond
            // (`gt`/`le` already hold for the one it is inside).
            if inside {
                match op {
                    CompareOp::Eq => return Ok(never()),
                    CompareOp::Ne => return Ok(always()),
                    CompareOp::Ge | CompareOp::Lt => ms += 1,
                    _ => {}
                }
            }
            if s.ty == Ty::TimeMs {
                Value::from(ms)
            } else {
                Value::from(format_ms(ms))
            }
        }
        Ty::Complex => {
            return Err(ScimError::invalid_filter(format!(
                "'{name}' is complex: name one of its sub-attributes, or test it with pr"
            )));
        }
    };
    Ok(ordered(&s.expr, op, operand))
}

/// eq, ne and the orderings, two-valued: an absent value fails all but ne.
fn ordered(e: &Expr, op: CompareOp, v: Value) -> Condition {
    let e = || e.clone();
    let test = match op {
        CompareOp::Ne => {
            return Condition::any().add(e().is_null()).add(e().ne(v));
        }
        CompareOp::Gt => e().gt(v),
        CompareOp::Ge => e().gte(v),
        CompareOp::Lt => e().lt(v),
        CompareOp::Le => e().lte(v),
        _ => e().eq(v),
    };
    Condition::all().add(e().is_not_null()).add(test)
}

fn string_compare(backend: DbBackend, e: &Expr, op: CompareOp, v: String) -> Condition {
    let guarded = |test: Expr| Condition::all().add(e.clone().is_not_null()).add(test);
    match op {
        CompareOp::Co => guarded(sql_dialect::contains(
            backend,
            e.clone(),
            &v,
            Anchor::Anywhere,
        )),
        CompareOp::Ew => guarded(sql_dialect::contains(backend, e.clone(), &v, Anchor::End)),
        // A range rather than LIKE, so that an index on the column serves it.
        CompareOp::Sw => match successor(&v) {
            Some(next) => guarded(e.clone().gte(v)).add(e.clone().lt(next)),
            None => guarded(e.clone().gte(v)),
        },
        _ => ordered(e, op, Value::from(v)),
    }
}

/// The least string greater than every string that starts with `prefix`,
/// in code point (= UTF-8 byte) order; `None` if there is none.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn expect_str<'v>(value: &'v CompValue, name: &str) -> Result<&'v str, ScimError> {
    match value {
        CompValue::Str(s) => Ok(s),
        _ => Err(type_error(name, "a string")),
    }
}

fn type_error(name: &str, expected: &str) -> ScimError {
    ScimError::invalid_filter(format!("'{name}' is compared with {expected}"))
}

fn check_op(op: CompareOp, allowed: &[CompareOp], name: &str) -> Result<(), ScimError> {
    if allowed.contains(&op) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    Err(ScimError::invalid_filter(format!(
        "'{name}' supports {} (and pr), not {op}",
        list.join(", ")
    )))
}

fn check_ordering_op(op: CompareOp, name: &str) -> Result<(), ScimError> {
    use CompareOp::{Eq, Ge, Gt, Le, Lt, Ne};
    check_op(op, &[Eq, Ne, Gt, Ge, Lt, Le], name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::AttrType;

    #[test]
    fn successor_bounds_a_prefix() {
        assert_eq!(successor("ab").as_deref(), Some("ac"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(successor(""), None);
        assert_eq!(successor("\u{10FFFF}"), None);
    }

    #[test]
    fn types_come_from_the_schema() {
        let def = |t| AttributeDef {
            name: "x".into(),
            attr_type: t,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: Vec::new(),
            case_exact: false,
            mutability: Default::default(),
            returned: Default::default(),
            uniqueness: Default::default(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        };
        assert_eq!(Ty::of(&def(AttrType::Reference)), Ty::Str { exact: false });
        assert_eq!(Ty::of(&def(AttrType::Decimal)), Ty::Num);
    }
}
