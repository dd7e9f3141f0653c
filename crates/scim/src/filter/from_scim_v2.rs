//! Mapping from `scim_v2`'s AST to Roster's, so that no other part of the
//! server names a `scim_v2` type.

use scim_v2::filter as scim;

use super::{AttrPath, CompValue, CompareOp, Filter, PatchPath};

pub(super) fn from_scim_filter(filter: scim::Filter) -> Filter {
    match filter {
        scim::Filter::Attr(exp) => from_scim_attr_exp(exp),
        scim::Filter::ValuePath(vp) => Filter::ValuePath {
            attr: from_scim_path(vp.attr),
            filter: Box::new(from_scim_val_filter(*vp.filter)),
        },
        scim::Filter::Not(inner) => Filter::Not(Box::new(from_scim_filter(*inner))),
        scim::Filter::And(items) => Filter::And(items.into_iter().map(from_scim_filter).collect()),
        scim::Filter::Or(items) => Filter::Or(items.into_iter().map(from_scim_filter).collect()),
    }
}

fn from_scim_val_filter(filter: scim::ValFilter) -> Filter {
    match filter {
        scim::ValFilter::Attr(exp) => from_scim_attr_exp(exp),
        scim::ValFilter::Not(inner) => Filter::Not(Box::new(from_scim_val_filter(*inner))),
        scim::ValFilter::And(items) => {
            Filter::And(items.into_iter().map(from_scim_val_filter).collect())
        }
        scim::ValFilter::Or(items) => {
            Filter::Or(items.into_iter().map(from_scim_val_filter).collect())
        }
    }
}

fn from_scim_attr_exp(exp: scim::AttrExp) -> Filter {
    match exp {
        scim::AttrExp::Present(path) => Filter::Present(from_scim_path(path)),
        scim::AttrExp::Comparison(path, op, value) => Filter::Compare {
            path: from_scim_path(path),
            op: from_scim_op(op),
            value: from_scim_value(value),
        },
    }
}

fn from_scim_path(path: scim::AttrPath) -> AttrPath {
    AttrPath {
        uri: path.uri,
        name: path.name,
        sub_attr: path.sub_attr,
    }
}

fn from_scim_op(op: scim::CompareOp) -> CompareOp {
    match op {
        scim::CompareOp::Eq => CompareOp::Eq,
        scim::CompareOp::Ne => CompareOp::Ne,
        scim::CompareOp::Co => CompareOp::Co,
        scim::CompareOp::Sw => CompareOp::Sw,
        scim::CompareOp::Ew => CompareOp::Ew,
        scim::CompareOp::Gt => CompareOp::Gt,
        scim::CompareOp::Lt => CompareOp::Lt,
        scim::CompareOp::Ge => CompareOp::Ge,
        scim::CompareOp::Le => CompareOp::Le,
    }
}

fn from_scim_value(value: scim::CompValue) -> CompValue {
    match value {
        scim::CompValue::False => CompValue::Bool(false),
        scim::CompValue::True => CompValue::Bool(true),
        scim::CompValue::Null => CompValue::Null,
        scim::CompValue::Number(n) => CompValue::Number(n),
        scim::CompValue::Str(s) => CompValue::Str(s),
    }
}

pub(super) fn from_scim_patch_path(path: scim::PatchPath) -> PatchPath {
    match path {
        scim::PatchPath::Attr(attr) => PatchPath::Attr(from_scim_path(attr)),
        scim::PatchPath::Value(vp) => PatchPath::ValuePath {
            attr: from_scim_path(vp.attr),
            filter: from_scim_val_filter(vp.filter),
            sub_attr: vp.sub_attr,
        },
    }
}
