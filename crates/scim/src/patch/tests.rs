use serde_json::{Value, json};

use super::*;
use crate::ScimType;

fn run(
    doc: Value,
    ops: Value,
    dialect: &Dialect,
) -> Result<(Map<String, Value>, MemberPlan), ScimError> {
    let registry = SchemaRegistry::rfc().unwrap();
    let ops = parse_request(json!({"Operations": ops}), dialect)?;
    let mut doc = doc.as_object().cloned().unwrap_or_default();
    let mut plan = MemberPlan::default();
    let is_group = doc.contains_key("displayName") && !doc.contains_key("userName");
    let mut ctx = PatchContext {
        registry: &registry,
        dialect,
        kind: if is_group {
            ResourceKind::Group
        } else {
            ResourceKind::User
        },
        id: "the-id",
        members: is_group.then_some(&mut plan),
    };
    apply(&mut doc, &ops, &mut ctx)?;
    Ok((doc, plan))
}

fn user(ops: Value) -> Result<Map<String, Value>, ScimError> {
    let doc = json!({"userName": "u", "emails": [{"value": "a@x", "type": "work", "primary": true}],
                     "name": {"givenName": "A", "familyName": "B"}});
    run(doc, ops, &Dialect::lenient()).map(|(d, _)| d)
}

fn group(ops: Value) -> Result<MemberPlan, ScimError> {
    run(json!({"displayName": "G"}), ops, &Dialect::lenient()).map(|(_, p)| p)
}

#[test]
fn replace_on_a_complex_attribute_merges() {
    let d = user(json!([{"op": "replace", "path": "name", "value": {"givenName": "Z"}}])).unwrap();
    assert_eq!(d["name"], json!({"givenName": "Z", "familyName": "B"}));
}

#[test]
fn add_appends_without_duplicates_and_demotes_the_old_primary() {
    let d = user(json!([{"op": "add", "path": "emails", "value": [{"value": "b@x", "primary": true}, {"value": "a@x", "type": "work", "primary": true}]}])).unwrap();
    let emails = d["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3, "{emails:?}");
    assert_eq!(emails[0]["primary"], false);
    assert_eq!(emails[1]["primary"], true);
}

#[test]
fn value_path_filters_select_elements() {
    let d = user(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}])).unwrap();
    assert!(!d.contains_key("emails"));
    let d = user(
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@x"}]),
    )
    .unwrap();
    assert_eq!(d["emails"][0]["value"], "new@x");
    let d = user(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])).unwrap();
    assert_eq!(
        d["emails"].as_array().unwrap().len(),
        1,
        "removing nothing is fine"
    );
}

#[test]
fn sub_attribute_paths_and_urn_paths() {
    let d = user(json!([
        {"op": "replace", "path": "name.givenName", "value": "Q"},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
        {"op": "remove", "path": "name.familyName"}
    ]))
    .unwrap();
    assert_eq!(d["name"], json!({"givenName": "Q"}));
    assert_eq!(
        d["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "R&D"
    );
}

#[test]
fn errors_name_the_operation_and_the_problem() {
    let e = user(json!([{"op": "add", "path": "title", "value": "x"}, {"op": "replace", "path": "nope", "value": 1}])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    assert!(e.detail.starts_with("Operations[1]"), "{}", e.detail);
    let e = user(json!([{"op": "replace", "path": "meta.created", "value": "x"}])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
    let e = user(json!([{"op": "replace", "path": "emails.value", "value": "x"}])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    let e = user(json!([{"op": "replace", "path": "userName[value eq \"x\"]", "value": "x"}]))
        .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn member_operations_become_a_plan_in_request_order() {
    let plan = group(json!([
        {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
        {"op": "remove", "path": "members[value eq \"a\"]"},
        {"op": "add", "path": "members", "value": [{"value": "c"}]},
        {"op": "remove", "path": "members", "value": [{"value": "c"}]}
    ]))
    .unwrap();
    assert!(!plan.clear);
    assert_eq!(
        plan.add
            .iter()
            .map(|m| m.value.as_str())
            .collect::<Vec<_>>(),
        vec!["b"]
    );
    assert_eq!(
        plan.remove.iter().cloned().collect::<Vec<_>>(),
        vec!["a", "c"]
    );
    let plan =
        group(json!([{"op": "replace", "path": "members", "value": [{"value": "z"}]}])).unwrap();
    assert!(plan.clear);
    assert_eq!(plan.add.len(), 1);
    let plan = group(json!([{"op": "remove", "path": "members"}])).unwrap();
    assert!(plan.clear && plan.add.is_empty());
}

#[test]
fn member_filters_select_by_value_only() {
    let plan =
        group(json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}]))
            .unwrap();
    assert_eq!(plan.remove.len(), 2);
    let plan =
        group(json!([{"op": "remove", "path": "members[display eq \"x\" and value eq \"a\"]"}]))
            .unwrap();
    assert_eq!(plan.remove.iter().cloned().collect::<Vec<_>>(), vec!["a"]);
    let e = group(json!([{"op": "remove", "path": "members[display eq \"x\"]"}])).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    let e =
        group(json!([{"op": "add", "path": "members[value eq \"a\"]", "value": {"value": "a"}}]))
            .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn parse_rejects_malformed_requests() {
    let d = Dialect::lenient();
    assert!(parse_request(json!({"Operations": []}), &d).is_err());
    assert!(
        parse_request(
            json!({"operations": [{"op": "add", "path": "title", "value": "x"}]}),
            &d
        )
        .is_ok()
    );
    assert!(parse_request(json!({"Operations": [{"op": "add", "path": "title"}]}), &d).is_err());
    assert!(
        parse_request(
            json!({"Operations": [{"op": "Add", "path": "title", "value": 1}]}),
            &Dialect::strict()
        )
        .is_err()
    );
    let too_many: Vec<Value> = (0..=MAX_OPERATIONS)
        .map(|_| json!({"op": "remove", "path": "title"}))
        .collect();
    assert!(parse_request(json!({"Operations": too_many}), &d).is_err());
}
