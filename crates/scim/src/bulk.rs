//! Bulk requests (RFC 7644 §3.7): parsing, `bulkId` references, and the
//! BulkResponse envelope. Execution lives in the service layer.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::ScimError;
use super::resource::ResourceKind;
use super::schema::{BULK_REQUEST_URN, BULK_RESPONSE_URN};

const BULK_ID_PREFIX: &str = "bulkId:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BulkOp {
    pub method: Method,
    pub bulk_id: Option<String>,
    /// The ETag the client expects (`version`), for PUT/PATCH/DELETE.
    pub version: Option<String>,
    pub kind: ResourceKind,
    /// The target id (or `bulkId:x` reference) for PUT/PATCH/DELETE.
    pub target: Option<String>,
    pub data: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// Stop after this many errors; `None` means never stop.
    pub fail_on_errors: Option<u32>,
    pub ops: Vec<BulkOp>,
}

/// Parses a BulkRequest of at most `max_operations` operations (the body
/// size limit is enforced while reading it).
pub fn parse_request(body: Value, max_operations: usize) -> Result<BulkRequest, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "a bulk request must be a JSON object",
        ));
    };
    let schemas_ok = get(&body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(BULK_REQUEST_URN)));
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must contain {BULK_REQUEST_URN}"
        )));
    }
    let fail_on_errors = match get(&body, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n >= 1)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ScimError::invalid_value("'failOnErrors' must be a positive integer")
                })?,
        ),
    };
    let Some(Value::Array(ops)) = get(&body, "Operations") else {
        return Err(ScimError::invalid_syntax("'Operations' must be an array"));
    };
    if ops.len() > max_operations {
        return Err(ScimError::too_large(format!(
            "the bulk request has {} operations; at most {} are allowed",
            ops.len(),
            max_operations
        )));
    }
    let ops = ops
        .iter()
        .enumerate()
        .map(|(i, op)| parse_op(op).map_err(|e| e.context(format!("Operations[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    check_unique_bulk_ids(&ops)?;
    Ok(BulkRequest {
        fail_on_errors,
        ops,
    })
}

fn get<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn parse_op(op: &Value) -> Result<BulkOp, ScimError> {
    let Value::Object(op) = op else {
        return Err(ScimError::invalid_syntax(
            "an operation must be a JSON object",
        ));
    };
    let method = match get(op, "method")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        _ => {
            return Err(ScimError::invalid_syntax(
                "'method' must be POST, PUT, PATCH or DELETE",
            ));
        }
    };
    let text = |name: &str| get(op, name).and_then(Value::as_str).map(str::to_owned);
    let path = text("path").ok_or_else(|| ScimError::invalid_syntax("'path' is required"))?;
    let (kind, target) = parse_path(&path)?;
    match (method, &target) {
        (Method::Post, Some(_)) => {
            return Err(ScimError::invalid_path(
                "POST takes a resource type path such as /Users",
            ));
        }
        (Method::Put | Method::Patch | Method::Delete, None) => {
            return Err(ScimError::invalid_path(
                "PUT, PATCH and DELETE need a resource path such as /Users/{id}",
            ));
        }
        _ => {}
    }
    let bulk_id = text("bulkId");
    if method == Method::Post && bulk_id.as_deref().is_none_or(str::is_empty) {
        return Err(ScimError::invalid_syntax("POST operations need a 'bulkId'"));
    }
    let data = get(op, "data").filter(|d| !d.is_null()).cloned();
    if method != Method::Delete && data.is_none() {
        return Err(ScimError::invalid_syntax(
            "'data' is required for POST, PUT and PATCH",
        ));
    }
    Ok(BulkOp {
        method,
        bulk_id,
        version: text("version"),
        kind,
        target,
        data,
    })
}

/// `/Users`, `/Groups/{id}` or `/Groups/bulkId:x`.
fn parse_path(path: &str) -> Result<(ResourceKind, Option<String>), ScimError> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let kind = match parts.next() {
        Some(p) if p.eq_ignore_ascii_case("Users") => ResourceKind::User,
        Some(p) if p.eq_ignore_ascii_case("Groups") => ResourceKind::Group,
        _ => {
            return Err(ScimError::invalid_path(format!(
                "unsupported bulk path {path:?}"
            )));
        }
    };
    let target = parts.next().filter(|t| !t.is_empty()).map(str::to_owned);
    if target.as_deref().is_some_and(|t| t.contains('/')) {
        return Err(ScimError::invalid_path(format!(
            "unsupported bulk path {path:?}"
        )));
    }
    Ok((kind, target))
}

fn check_unique_bulk_ids(ops: &[BulkOp]) -> Result<(), ScimError> {
    let mut seen = HashSet::new();
    for id in ops.iter().filter_map(|o| o.bulk_id.as_deref()) {
        if !seen.insert(id) {
            return Err(ScimError::invalid_value(format!(
                "bulkId {id:?} is used twice"
            )));
        }
    }
    Ok(())
}

/// The `bulkId`s an operation refers to, in its path or anywhere in its data.
pub fn references(op: &BulkOp) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = op.target.as_deref().and_then(reference) {
        out.push(r.to_owned());
    }
    if let Some(data) = &op.data {
        collect_references(data, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

pub fn reference(s: &str) -> Option<&str> {
    s.strip_prefix(BULK_ID_PREFIX).filter(|r| !r.is_empty())
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.extend(reference(s).map(str::to_owned)),
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_references(i, out)),
        _ => {}
    }
}

/// Replaces every `bulkId:x` string whose target is known.
pub fn substitute(v: &mut Value, resolve: &impl Fn(&str) -> Option<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = reference(s).and_then(resolve) {
                *s = id;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, resolve)),
        Value::Object(map) => map.values_mut().for_each(|i| substitute(i, resolve)),
        _ => {}
    }
}

/// Splits `members` entries that still refer to unresolved bulkIds out of
/// a group's data, so a reference cycle can be broken: the group is created
/// without them and they are added once their targets exist.
pub fn take_unresolved_members(data: &mut Value) -> Vec<String> {
    let Some(Value::Array(members)) = data.as_object_mut().and_then(|d| {
        d.iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case("members"))
            .map(|(_, v)| v)
    }) else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    members.retain(
        |m| match m.get("value").and_then(Value::as_str).and_then(reference) {
            Some(r) => {
                taken.push(r.to_owned());
                false
            }
            None => true,
        },
    );
    taken
}

/// One entry of a BulkResponse. `status` is a string, as in RFC 7644 §3.7.3.
pub fn response_entry(
    method: Method,
    bulk_id: Option<&str>,
    location: Option<&str>,
    version: Option<&str>,
    status: u16,
    error: Option<Value>,
) -> Value {
    let mut e = Map::new();
    e.insert("method".to_owned(), json!(method.as_str()));
    if let Some(b) = bulk_id {
        e.insert("bulkId".to_owned(), json!(b));
    }
    if let Some(v) = version {
        e.insert("version".to_owned(), json!(v));
    }
    if let Some(l) = location {
        e.insert("location".to_owned(), json!(l));
    }
    e.insert("status".to_owned(), json!(status.to_string()));
    if let Some(err) = error {
        e.insert("response".to_owned(), err);
    }
    Value::Object(e)
}

pub fn response(entries: Vec<Value>) -> Value {
    json!({"schemas": [BULK_RESPONSE_URN], "Operations": entries})
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: usize = 3;

    fn req(ops: Value) -> Result<BulkRequest, ScimError> {
        parse_request(
            json!({"schemas": [BULK_REQUEST_URN], "Operations": ops}),
            LIMITS,
        )
    }

    #[test]
    fn parses_operations_and_references() {
        let r = req(json!([
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"userName": "a"}},
            {"method": "post", "path": "/Groups", "bulkId": "g1", "data": {"displayName": "G", "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}},
            {"method": "DELETE", "path": "/Users/bulkId:u1", "version": "W/\"1\""}
        ]))
        .unwrap();
        assert_eq!(r.ops[1].kind, ResourceKind::Group);
        assert_eq!(references(&r.ops[1]), vec!["u1", "u2"]);
        assert_eq!(references(&r.ops[2]), vec!["u1"]);
        let mut data = r.ops[1].data.clone().unwrap();
        substitute(&mut data, &|b| (b == "u1").then(|| "id-1".to_owned()));
        assert_eq!(data["members"][0]["value"], "id-1");
        assert_eq!(take_unresolved_members(&mut data), vec!["u2"]);
        assert_eq!(data["members"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn rejects_malformed_requests() {
        let bad = [
            json!([{"method": "GET", "path": "/Users"}]),
            json!([{"method": "POST", "path": "/Users", "data": {}}]),
            json!([{"method": "POST", "path": "/Users/x", "bulkId": "b", "data": {}}]),
            json!([{"method": "DELETE", "path": "/Users"}]),
            json!([{"method": "PATCH", "path": "/Users/x"}]),
            json!([{"method": "DELETE", "path": "/Things/x"}]),
            json!([{"method": "POST", "path": "/Users", "bulkId": "b", "data": {}}, {"method": "POST", "path": "/Users", "bulkId": "b", "data": {}}]),
        ];
        for ops in bad {
            assert!(req(ops.clone()).is_err(), "{ops}");
        }
        let e = req(json!([{"method": "DELETE", "path": "/Users/a"}, {"method": "DELETE", "path": "/Users/b"}, {"method": "DELETE", "path": "/Users/c"}, {"method": "DELETE", "path": "/Users/d"}])).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type),
            (413, Some(crate::ScimType::TooLarge))
        );
        assert!(parse_request(json!({"Operations": []}), LIMITS).is_err());
    }
}
