//! Tests of the filter grammar, its leniencies, Display, and the error
//! messages.

use super::*;

mod display;
mod errors;
mod filters;
mod paths;

fn parse(input: &str) -> Filter {
    parse_filter(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn detail(input: &str) -> String {
    match parse_filter(input) {
        Ok(f) => panic!("{input:?} should be rejected, got {f:?}"),
        Err(e) => e.detail,
    }
}

fn path_detail(input: &str) -> String {
    match parse_patch_path(input) {
        Ok(p) => panic!("{input:?} should be rejected, got {p:?}"),
        Err(e) => e.detail,
    }
}

fn attr(name: &str) -> AttrPath {
    AttrPath {
        uri: None,
        name: name.to_owned(),
        sub_attr: None,
    }
}

fn sub(name: &str, sub_attr: &str) -> AttrPath {
    AttrPath {
        sub_attr: Some(sub_attr.to_owned()),
        ..attr(name)
    }
}

fn urn(uri: &str, name: &str, sub_attr: Option<&str>) -> AttrPath {
    AttrPath {
        uri: Some(uri.to_owned()),
        name: name.to_owned(),
        sub_attr: sub_attr.map(str::to_owned),
    }
}

fn eq(path: AttrPath, value: &str) -> Filter {
    Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::Str(value.to_owned()),
    }
}

fn pr(name: &str) -> Filter {
    Filter::Present(attr(name))
}

fn number(n: &str) -> CompValue {
    CompValue::Number(serde_json::from_str(n).unwrap())
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
