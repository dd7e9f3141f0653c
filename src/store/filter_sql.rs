//! Compiles a SCIM filter into a SQL condition, so the database does the
//! filtering (with its indexes) and nothing is filtered in memory.
//!
//! Attributes with a projected column are supported; the rest of the
//! grammar's attributes answer `invalidFilter` naming the attribute.

use entity::{group, group_member, user, user_email};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::scim::ScimError;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::normalize::fold_case;
use crate::scim::schema::SchemaRegistry;
use crate::time::parse_datetime_ms;

/// How a string column compares.
#[derive(Clone, Copy)]
enum Case {
    /// The column holds `fold_case` of the value; fold the operand too.
    Folded,
    Exact,
}

/// A filterable attribute and the column behind it.
#[derive(Clone, Copy)]
enum Column {
    Str(SimpleExprFn, Case),
    Id(SimpleExprFn),
    Bool(SimpleExprFn),
    Time(SimpleExprFn),
}

type SimpleExprFn = fn() -> SimpleExpr;

pub fn user_condition(filter: &Filter, registry: &SchemaRegistry) -> Result<Condition, ScimError> {
    compile(
        filter,
        &|path| user_column(path, registry),
        &|attr, inner| user_value_path(attr, inner),
    )
}

pub fn group_condition(filter: &Filter, registry: &SchemaRegistry) -> Result<Condition, ScimError> {
    compile(
        filter,
        &|path| group_column(path, registry),
        &|attr, inner| group_value_path(attr, inner),
    )
}

type ColumnOf<'a> = dyn Fn(&AttrPath) -> Result<Leaf, ScimError> + 'a;
type ValuePathOf<'a> = dyn Fn(&AttrPath, &Filter) -> Result<Condition, ScimError> + 'a;

/// A path resolves to a column of the resource row, or to a condition on a
/// side table (e.g. `emails.value`).
enum Leaf {
    Column(Column),
    Related(fn(Condition) -> Condition, Column),
}

fn compile(
    f: &Filter,
    column_of: &ColumnOf<'_>,
    value_path: &ValuePathOf<'_>,
) -> Result<Condition, ScimError> {
    Ok(match f {
        Filter::And(all) => all.iter().try_fold(Condition::all(), |c, f| {
            Ok::<_, ScimError>(c.add(compile(f, column_of, value_path)?))
        })?,
        Filter::Or(any) => any.iter().try_fold(Condition::any(), |c, f| {
            Ok::<_, ScimError>(c.add(compile(f, column_of, value_path)?))
        })?,
        Filter::Not(inner) => compile(inner, column_of, value_path)?.not(),
        Filter::Present(path) => leaf_condition(column_of(path)?, present),
        Filter::Compare { path, op, value } => {
            let leaf = column_of(path)?;
            let name = path_name(path);
            match leaf {
                Leaf::Column(col) => compare(col, *op, value, &name)?,
                Leaf::Related(wrap, col) => wrap(compare(col, *op, value, &name)?),
            }
        }
        Filter::ValuePath { attr, filter } => value_path(attr, filter)?,
    })
}

fn leaf_condition(leaf: Leaf, f: impl Fn(Column) -> Condition) -> Condition {
    match leaf {
        Leaf::Column(c) => f(c),
        Leaf::Related(wrap, c) => wrap(f(c)),
    }
}

fn path_name(p: &AttrPath) -> String {
    match &p.sub_attr {
        Some(s) => format!("{}.{s}", p.name),
        None => p.name.clone(),
    }
}

fn unsupported(p: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("filtering on '{}' is not supported", path_name(p)))
}

fn unknown(p: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!("unknown attribute '{}'", path_name(p)))
}

/// The canonical `name` / `name.sub` of a path, checked against the schema.
fn canonical(registry: &SchemaRegistry, rt: &str, p: &AttrPath) -> Result<String, ScimError> {
    let r = registry
        .resolve(rt, p.uri.as_deref(), &p.name, p.sub_attr.as_deref())
        .ok_or_else(|| unknown(p))?;
    let mut s = if r.is_core_schema {
        String::new()
    } else {
        format!("{}:", r.schema_urn)
    };
    s.push_str(&r.attr.name);
    if let Some(sub) = r.sub {
        s.push('.');
        s.push_str(&sub.name);
    }
    Ok(s)
}

fn col<C: ColumnTrait>(c: C) -> SimpleExpr {
    Expr::col(c)
}

fn user_column(p: &AttrPath, registry: &SchemaRegistry) -> Result<Leaf, ScimError> {
    Ok(match canonical(registry, "User", p)?.as_str() {
        "id" => Leaf::Column(Column::Id(|| col(user::Column::Id))),
        "userName" => Leaf::Column(Column::Str(
            || col(user::Column::UserNameNorm),
            Case::Folded,
        )),
        "externalId" => Leaf::Column(Column::Str(|| col(user::Column::ExternalId), Case::Exact)),
        "active" => Leaf::Column(Column::Bool(|| col(user::Column::Active))),
        "meta.created" => Leaf::Column(Column::Time(|| col(user::Column::CreatedAt))),
        "meta.lastModified" => Leaf::Column(Column::Time(|| col(user::Column::ModifiedAt))),
        "emails.value" | "emails" => Leaf::Related(
            crate::store::users::email_exists,
            Column::Str(|| col(user_email::Column::ValueNorm), Case::Folded),
        ),
        _ => return Err(unsupported(p)),
    })
}

fn email_column(p: &AttrPath) -> Result<Column, ScimError> {
    Ok(match p.name.to_ascii_lowercase().as_str() {
        "value" => Column::Str(|| col(user_email::Column::ValueNorm), Case::Folded),
        "type" => Column::Str(|| col(user_email::Column::EmailType), Case::Exact),
        "primary" => Column::Bool(|| col(user_email::Column::IsPrimary)),
        _ => return Err(unsupported(p)),
    })
}

/// `emails[type eq "work" and value co "@x"]`: one EXISTS over the emails
/// table, so both conditions hold for the same email.
fn user_value_path(attr: &AttrPath, inner: &Filter) -> Result<Condition, ScimError> {
    if !attr.name.eq_ignore_ascii_case("emails") || attr.uri.is_some() {
        return Err(unsupported(attr));
    }
    let cond = compile(inner, &|p| email_column(p).map(Leaf::Column), &|a, _| {
        Err(unsupported(a))
    })?;
    Ok(crate::store::users::email_exists(cond))
}

fn group_column(p: &AttrPath, registry: &SchemaRegistry) -> Result<Leaf, ScimError> {
    Ok(match canonical(registry, "Group", p)?.as_str() {
        "id" => Leaf::Column(Column::Id(|| col(group::Column::Id))),
        "displayName" => Leaf::Column(Column::Str(
            || col(group::Column::DisplayNameNorm),
            Case::Folded,
        )),
        "externalId" => Leaf::Column(Column::Str(|| col(group::Column::ExternalId), Case::Exact)),
        "meta.created" => Leaf::Column(Column::Time(|| col(group::Column::CreatedAt))),
        "meta.lastModified" => Leaf::Column(Column::Time(|| col(group::Column::ModifiedAt))),
        "members.value" | "members" => Leaf::Related(
            member_exists,
            Column::Id(|| col(group_member::Column::MemberId)),
        ),
        _ => return Err(unsupported(p)),
    })
}

fn group_value_path(attr: &AttrPath, inner: &Filter) -> Result<Condition, ScimError> {
    if !attr.name.eq_ignore_ascii_case("members") || attr.uri.is_some() {
        return Err(unsupported(attr));
    }
    let member_column = |p: &AttrPath| match p.name.to_ascii_lowercase().as_str() {
        "value" => Ok(Leaf::Column(Column::Id(|| {
            col(group_member::Column::MemberId)
        }))),
        _ => Err(unsupported(p)),
    };
    let cond = compile(inner, &member_column, &|a, _| Err(unsupported(a)))?;
    Ok(member_exists(cond))
}

fn member_exists(cond: Condition) -> Condition {
    let sub = Query::select()
        .expr(Expr::val(1))
        .from(group_member::Entity)
        .and_where(
            Expr::col((group_member::Entity, group_member::Column::TenantId))
                .equals((group::Entity, group::Column::TenantId)),
        )
        .and_where(
            Expr::col((group_member::Entity, group_member::Column::GroupId))
                .equals((group::Entity, group::Column::Id)),
        )
        .cond_where(cond)
        .to_owned();
    Condition::all().add(Expr::exists(sub))
}

fn present(c: Column) -> Condition {
    match c {
        Column::Str(e, _) => Condition::all().add(e().is_not_null()).add(e().ne("")),
        Column::Id(e) | Column::Bool(e) | Column::Time(e) => {
            Condition::all().add(e().is_not_null())
        }
    }
}

fn compare(
    c: Column,
    op: CompareOp,
    value: &CompValue,
    name: &str,
) -> Result<Condition, ScimError> {
    if matches!(value, CompValue::Null) {
        return null_compare(c, op, name);
    }
    match c {
        Column::Str(e, case) => string_compare(e, case, op, expect_str(value, name)?),
        Column::Id(e) => id_compare(e, op, expect_str(value, name)?, name),
        Column::Bool(e) => bool_compare(e, op, value, name),
        Column::Time(e) => time_compare(e, op, expect_str(value, name)?, name),
    }
}

fn expect_str<'v>(value: &'v CompValue, name: &str) -> Result<&'v str, ScimError> {
    match value {
        CompValue::Str(s) => Ok(s),
        _ => Err(ScimError::invalid_filter(format!(
            "'{name}' is compared with a string value"
        ))),
    }
}

/// `x eq null` is "x is absent", `x ne null` is "x is present".
fn null_compare(c: Column, op: CompareOp, name: &str) -> Result<Condition, ScimError> {
    match op {
        CompareOp::Eq => Ok(present(c).not()),
        CompareOp::Ne => Ok(present(c)),
        _ => Err(ScimError::invalid_filter(format!(
            "only eq and ne compare '{name}' with null"
        ))),
    }
}

fn string_compare(
    e: SimpleExprFn,
    case: Case,
    op: CompareOp,
    v: &str,
) -> Result<Condition, ScimError> {
    let v = match case {
        Case::Folded => fold_case(v),
        Case::Exact => v.to_owned(),
    };
    let cond = Condition::all();
    Ok(match op {
        CompareOp::Eq => cond.add(e().eq(v)),
        // RFC 7644: an absent attribute is "not equal" to any value.
        CompareOp::Ne => Condition::any().add(e().is_null()).add(e().ne(v)),
        CompareOp::Co => cond.add(e().like(like(&format!("%{}%", escape_like(&v))))),
        CompareOp::Sw => cond.add(e().like(like(&format!("{}%", escape_like(&v))))),
        CompareOp::Ew => cond.add(e().like(like(&format!("%{}", escape_like(&v))))),
        CompareOp::Gt => cond.add(e().gt(v)),
        CompareOp::Ge => cond.add(e().gte(v)),
        CompareOp::Lt => cond.add(e().lt(v)),
        CompareOp::Le => cond.add(e().lte(v)),
    })
}

fn like(pattern: &str) -> LikeExpr {
    LikeExpr::new(pattern).escape('\\')
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn id_compare(e: SimpleExprFn, op: CompareOp, v: &str, name: &str) -> Result<Condition, ScimError> {
    // A value that is no UUID names no resource.
    let id = Uuid::parse_str(v).ok();
    Ok(match (op, id) {
        (CompareOp::Eq, Some(id)) => Condition::all().add(e().eq(id)),
        (CompareOp::Eq, None) => Condition::all().add(Expr::val(1).eq(0)),
        (CompareOp::Ne, Some(id)) => Condition::all().add(e().ne(id)),
        (CompareOp::Ne, None) => Condition::all(),
        _ => {
            return Err(ScimError::invalid_filter(format!(
                "'{name}' supports only eq and ne"
            )));
        }
    })
}

fn bool_compare(
    e: SimpleExprFn,
    op: CompareOp,
    value: &CompValue,
    name: &str,
) -> Result<Condition, ScimError> {
    let CompValue::Bool(b) = value else {
        return Err(ScimError::invalid_filter(format!(
            "'{name}' is compared with true or false"
        )));
    };
    Ok(match op {
        CompareOp::Eq => Condition::all().add(e().eq(*b)),
        CompareOp::Ne => Condition::all().add(e().ne(*b)),
        _ => {
            return Err(ScimError::invalid_filter(format!(
                "'{name}' supports only eq and ne"
            )));
        }
    })
}

fn time_compare(
    e: SimpleExprFn,
    op: CompareOp,
    v: &str,
    name: &str,
) -> Result<Condition, ScimError> {
    let ms = parse_datetime_ms(v).ok_or_else(|| {
        ScimError::invalid_filter(format!("'{name}' needs an xsd:dateTime value, got {v:?}"))
    })?;
    let cond = Condition::all();
    Ok(match op {
        CompareOp::Eq => cond.add(e().eq(ms)),
        CompareOp::Ne => cond.add(e().ne(ms)),
        CompareOp::Gt => cond.add(e().gt(ms)),
        CompareOp::Ge => cond.add(e().gte(ms)),
        CompareOp::Lt => cond.add(e().lt(ms)),
        CompareOp::Le => cond.add(e().lte(ms)),
        _ => {
            return Err(ScimError::invalid_filter(format!(
                "'{name}' supports eq, ne, gt, ge, lt and le"
            )));
        }
    })
}
