//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which
//! parts of a resource a response carries, honouring each attribute's
//! `returned` characteristic (RFC 7643 §7):
//!
//! * `always` (e.g. `id`) is returned even when not asked for and cannot be
//!   excluded; `never` (e.g. `password`) is never returned;
//! * `default` is returned unless `attributes` names others or
//!   `excludedAttributes` names it; `request` only when `attributes` names it.
//!
//! Names may be sub-attributes (`name.givenName`), URN-qualified
//! (`urn:…:enterprise:2.0:User:employeeNumber`), a whole extension (its
//! schema URN), or value paths (`emails[type eq "work"]`, optionally with
//! `.value`), which keep (or drop) only the matching values.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::ScimError;
use super::filter::{AttrPath, Filter, PatchPath, parse_patch_path};
use super::schema::{AttrType, AttributeDef, Returned, SchemaRegistry};
use super::value_filter;

/// What a response keeps of each resource.
#[derive(Debug, Clone)]
pub struct Projection<'r> {
    registry: &'r SchemaRegistry,
    resource_type: String,
    core_urn: String,
    /// `attributes` given: only these (and `always`).
    only: bool,
    selectors: Vec<Selector>,
}

/// What a projection does to one top-level field, told from its JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// Left out.
    Drop,
    /// Kept as it is.
    Keep,
    /// Only `keep_field` on the parsed value can tell.
    Parse,
}

/// One entry of `attributes` / `excludedAttributes`, resolved.
#[derive(Debug, Clone)]
struct Selector {
    /// `None`: a core (or common) attribute; otherwise the extension URN,
    /// spelled as registered.
    schema: Option<String>,
    /// `None`: every attribute of `schema` (a bare schema URN).
    attr: Option<String>,
    sub: Option<String>,
    filter: Option<Filter>,
}

impl Selector {
    fn is_whole(&self) -> bool {
        self.sub.is_none() && self.filter.is_none()
    }
}

impl<'r> Projection<'r> {
    /// Resolves the two lists (already split on commas) against the
    /// schemas of `resource_type`. Names the server does not know select
    /// nothing: a client asking for an attribute of an extension this
    /// server lacks gets the resource without it, as it would anyway.
    pub fn new(
        registry: &'r SchemaRegistry,
        resource_type: &str,
        attributes: &[String],
        excluded: &[String],
    ) -> Result<Self, ScimError> {
        let only = !attributes.is_empty();
        let names = if only { attributes } else { excluded };
        let core_urn = registry
            .resource_type(resource_type)
            .map(|rt| rt.schema.clone())
            .unwrap_or_default();
        let mut projection = Self {
            registry,
            resource_type: resource_type.to_owned(),
            core_urn,
            only,
            selectors: Vec::new(),
        };
        for name in names {
            if let Some(selector) = projection.selector(name)? {
                projection.selectors.push(selector);
            }
        }
        Ok(projection)
    }

    fn selector(&self, name: &str) -> Result<Option<Selector>, ScimError> {
        let urns = self.registry.schema_urns_for(&self.resource_type);
        // A bare schema URN: the facade would split it at its last colon.
        if let Some(urn) = urns.iter().find(|u| u.eq_ignore_ascii_case(name.trim())) {
            let schema = (!urn.eq_ignore_ascii_case(&self.core_urn)).then(|| (*urn).to_owned());
            return Ok(Some(Selector {
                schema,
                attr: None,
                sub: None,
                filter: None,
            }));
        }
        let parsed = parse_patch_path(name).map_err(|e| {
            ScimError::invalid_value(format!("attributes / excludedAttributes: {}", e.detail))
        })?;
        let (path, filter, extra_sub) = match parsed {
            PatchPath::Attr(path) => (path, None, None),
            PatchPath::ValuePath {
                attr,
                filter,
                sub_attr,
            } => (attr, Some(filter), sub_attr),
        };
        let sub = match (&path.sub_attr, extra_sub) {
            (Some(_), Some(_)) => {
                return Err(ScimError::invalid_value(format!(
                    "attributes / excludedAttributes: '{name}' names two sub-attributes"
                )));
            }
            (s, extra) => s.clone().or(extra),
        };
        let AttrPath {
            uri, name: attr, ..
        } = path;
        let Some(r) =
            self.registry
                .resolve(&self.resource_type, uri.as_deref(), &attr, sub.as_deref())
        else {
            return Ok(None);
        };
        Ok(Some(Selector {
            schema: (!r.is_core_schema).then(|| r.schema_urn.to_owned()),
            attr: Some(r.attr.name.clone()),
            sub: r.sub.map(|s| s.name.clone()),
            filter,
        }))
    }

    /// Whether the response may contain `attr` (a core attribute) at all,
    /// so that expensive ones (a group's members) are not even loaded.
    pub fn includes(&self, attr: &str) -> bool {
        let Some(r) = self.registry.resolve(&self.resource_type, None, attr, None) else {
            return false;
        };
        let def = r.attr;
        match def.returned {
            Returned::Never => return false,
            Returned::Always => return true,
            Returned::Default | Returned::Request => {}
        }
        let named: Vec<&Selector> = self.matching(None, &def.name).collect();
        if self.only {
            !named.is_empty()
        } else {
            def.returned == Returned::Default && !named.iter().any(|s| s.is_whole())
        }
    }

    /// Trims a rendered resource in place.
    pub fn apply(&self, body: &mut Map<String, Value>) {
        body.retain(|key, value| self.keep_field(key, value));
        self.fix_schemas(body);
    }

    /// Whether a resource keeps its top-level field `key`, trimming the
    /// value in place: `apply`'s rule for one field, which does not depend
    /// on the others.
    pub fn keep_field(&self, key: &str, value: &mut Value) -> bool {
        match key {
            "schemas" => true,
            k if k.contains(':') => self.extension(k, value),
            k => self.core_attribute(k, value),
        }
    }

    /// What `keep_field` does to `key` with the JSON text `raw`, decided
    /// from the text where that is certain, so the common field of a
    /// stored document is copied out unparsed. `Parse` where the value
    /// must be read to tell.
    pub fn field_rule(&self, key: &str, raw: &RawValue) -> FieldRule {
        if key == "schemas" {
            return FieldRule::Keep;
        }
        if key.contains(':') {
            return FieldRule::Parse;
        }
        let Some(r) = self.registry.resolve(&self.resource_type, None, key, None) else {
            return if self.only {
                FieldRule::Drop
            } else {
                FieldRule::Keep
            };
        };
        let def = r.attr;
        match def.returned {
            Returned::Never => return FieldRule::Drop,
            Returned::Always => return FieldRule::Keep,
            Returned::Default | Returned::Request => {}
        }
        if self.matching(None, &def.name).next().is_some() {
            return FieldRule::Parse;
        }
        if self.only || def.returned == Returned::Request || raw_is_empty(raw.get()) {
            return FieldRule::Drop;
        }
        // What `strip_unrequested_subs` would change: hidden sub-attributes,
        // and empty values in a complex array.
        if def.attr_type != AttrType::Complex {
            return FieldRule::Keep;
        }
        if hides_some(def) || (raw.get().starts_with('[') && !no_empty_items(raw)) {
            return FieldRule::Parse;
        }
        FieldRule::Keep
    }

    fn core_attribute(&self, key: &str, value: &mut Value) -> bool {
        match self.registry.resolve(&self.resource_type, None, key, None) {
            Some(r) => self.attribute(None, r.attr, value),
            // Not in any schema (nothing the server renders): keep it
            // unless the client asked for specific attributes.
            None => !self.only,
        }
    }

    fn extension(&self, urn: &str, value: &mut Value) -> bool {
        let known = self
            .registry
            .schema_urns_for(&self.resource_type)
            .into_iter()
            .find(|u| u.eq_ignore_ascii_case(urn))
            .and_then(|u| self.registry.schema(u));
        let Some(schema) = known else {
            return !self.only;
        };
        let whole = self
            .selectors
            .iter()
            .any(|s| s.attr.is_none() && s.schema.as_deref() == Some(schema.id.as_str()));
        let Value::Object(fields) = value else {
            return false;
        };
        if whole {
            if !self.only {
                return false;
            }
            strip_never(&schema.attributes, fields);
            return !fields.is_empty();
        }
        fields.retain(
            |name, v| match super::validate::find(&schema.attributes, name) {
                Some(def) => self.attribute(Some(&schema.id), def, v),
                None => !self.only,
            },
        );
        !fields.is_empty()
    }

    fn matching<'s>(
        &'s self,
        schema: Option<&'s str>,
        attr: &'s str,
    ) -> impl Iterator<Item = &'s Selector> + 's {
        self.selectors.iter().filter(move |s| {
            s.schema.as_deref() == schema
                && s.attr
                    .as_deref()
                    .is_none_or(|a| a.eq_ignore_ascii_case(attr))
        })
    }

    /// What this projection keeps of each value of the core multi-valued
    /// attribute `attr`, for values rendered one at a time (a group's
    /// members, streamed); `None` when the attribute is not returned.
    pub fn element(&self, attr: &str) -> Option<ElementProjection> {
        if !self.includes(attr) {
            return None;
        }
        let def = self
            .registry
            .resolve(&self.resource_type, None, attr, None)?
            .attr;
        Some(ElementProjection {
            def: def.clone(),
            only: self.only,
            selectors: self.matching(None, &def.name).cloned().collect(),
        })
    }

    /// Whether to keep one attribute, trimming its value in place.
    fn attribute(&self, schema: Option<&str>, def: &AttributeDef, value: &mut Value) -> bool {
        match def.returned {
            Returned::Never => return false,
            Returned::Always => return true,
            Returned::Default | Returned::Request => {}
        }
        let named: Vec<&Selector> = self.matching(schema, &def.name).collect();
        trim(self.only, def, &named, value)
    }

    /// `schemas` lists the core schema and the extensions still present.
    fn fix_schemas(&self, body: &mut Map<String, Value>) {
        let present: Vec<String> = body.keys().filter(|k| k.contains(':')).cloned().collect();
        if let Some(Value::Array(schemas)) = body.get_mut("schemas") {
            self.keep_schemas(schemas, &present);
        }
    }

    /// Keeps of `schemas` the core schema and those of the extension
    /// fields `present` (the fields left whose names hold a colon).
    pub fn keep_schemas<S: AsRef<str>>(&self, schemas: &mut Vec<Value>, present: &[S]) {
        schemas.retain(|s| {
            s.as_str().is_some_and(|s| {
                s.eq_ignore_ascii_case(&self.core_urn)
                    || self.core_urn.is_empty()
                    || present.iter().any(|p| p.as_ref().eq_ignore_ascii_case(s))
            })
        });
    }
}

/// A projection narrowed to the values of one multi-valued attribute
/// (see `Projection::element`). Every rule for such values applies to each
/// value on its own, so trimming them one at a time gives what trimming the
/// whole array would.
#[derive(Debug, Clone)]
pub struct ElementProjection {
    def: AttributeDef,
    only: bool,
    selectors: Vec<Selector>,
}

impl ElementProjection {
    /// The value as the response carries it, or `None` if it is left out.
    pub fn apply(&self, value: Value) -> Option<Value> {
        let named: Vec<&Selector> = self.selectors.iter().collect();
        let mut one = Value::Array(vec![value]);
        if !trim(self.only, &self.def, &named, &mut one) {
            return None;
        }
        match one {
            Value::Array(mut items) => items.pop(),
            _ => None,
        }
    }
}

/// Trims an attribute returned `default` or on `request` by the selectors
/// naming it; whether anything of it is left to return.
fn trim(only: bool, def: &AttributeDef, named: &[&Selector], value: &mut Value) -> bool {
    if only {
        if named.is_empty() {
            return false;
        }
        if !named.iter().any(|s| s.is_whole()) {
            keep_selected(def, value, named);
        }
    } else {
        if def.returned == Returned::Request || named.iter().any(|s| s.is_whole()) {
            return false;
        }
        drop_selected(def, value, named);
    }
    let requested: Vec<&str> = if only {
        named.iter().filter_map(|s| s.sub.as_deref()).collect()
    } else {
        Vec::new()
    };
    strip_unrequested_subs(def, value, &requested);
    !is_empty(value)
}

/// `attributes`: keep what some selector names (selectors here name a
/// sub-attribute, a value filter, or both).
fn keep_selected(def: &AttributeDef, value: &mut Value, selectors: &[&Selector]) {
    match value {
        Value::Array(items) if def.multi_valued => {
            items.retain_mut(|item| {
                let wanted: Vec<&&Selector> = selectors
                    .iter()
                    .filter(|s| element_matches(def, item, s.filter.as_ref()))
                    .collect();
                if wanted.is_empty() {
                    return false;
                }
                if !wanted.iter().any(|s| s.sub.is_none()) {
                    keep_subs(item, wanted.iter().filter_map(|s| s.sub.as_deref()));
                }
                !is_empty(item)
            });
        }
        Value::Object(_) => {
            if selectors.iter().any(|s| s.sub.is_none()) {
                return;
            }
            keep_subs(value, selectors.iter().filter_map(|s| s.sub.as_deref()));
        }
        _ => {}
    }
}

/// `excludedAttributes`: drop what the selectors name.
fn drop_selected(def: &AttributeDef, value: &mut Value, selectors: &[&Selector]) {
    for s in selectors {
        match value {
            Value::Array(items) if def.multi_valued => items.retain_mut(|item| {
                if !element_matches(def, item, s.filter.as_ref()) {
                    return true;
                }
                match (&s.sub, item) {
                    (Some(sub), Value::Object(fields)) => {
                        fields.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                        !fields.is_empty()
                    }
                    // A filter alone drops the matching values.
                    _ => false,
                }
            }),
            Value::Object(fields) => {
                if let Some(sub) = &s.sub {
                    fields.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
            _ => {}
        }
    }
}

fn element_matches(def: &AttributeDef, item: &Value, filter: Option<&Filter>) -> bool {
    filter.is_none_or(|f| value_filter::matches(item, f, &def.sub_attributes))
}

fn keep_subs<'a>(value: &mut Value, subs: impl Iterator<Item = &'a str>) {
    let subs: Vec<&str> = subs.collect();
    if let Value::Object(fields) = value {
        fields.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k)));
    }
}

/// Drops sub-attributes returned `never`, and those returned on `request`
/// that `requested` does not name.
fn strip_unrequested_subs(def: &AttributeDef, value: &mut Value, requested: &[&str]) {
    if def.attr_type != AttrType::Complex {
        return;
    }
    // Most complex attributes hide no sub-attribute: their fields need no
    // lookup each.
    let hides_some = hides_some(def);
    let keep = |name: &str| {
        super::validate::find(&def.sub_attributes, name).is_none_or(|d| match d.returned {
            Returned::Never => false,
            Returned::Request => requested.iter().any(|r| r.eq_ignore_ascii_case(name)),
            Returned::Always | Returned::Default => true,
        })
    };
    match value {
        Value::Array(items) => {
            if hides_some {
                for item in items.iter_mut() {
                    if let Value::Object(fields) = item {
                        fields.retain(|k, _| keep(k));
                    }
                }
            }
            items.retain(|i| !is_empty(i));
        }
        Value::Object(fields) if hides_some => fields.retain(|k, _| keep(k)),
        _ => {}
    }
}

/// Whether a complex attribute has sub-attributes a response leaves out
/// unless asked for.
fn hides_some(def: &AttributeDef) -> bool {
    def.sub_attributes
        .iter()
        .any(|d| matches!(d.returned, Returned::Never | Returned::Request))
}

/// `is_empty` read from JSON text: `null`, `[]` or `{}`.
fn raw_is_empty(text: &str) -> bool {
    let text = text.trim();
    if text == "null" {
        return true;
    }
    let inner = |open: char, close: char| {
        text.strip_prefix(open)
            .and_then(|t| t.strip_suffix(close))
            .is_some_and(|t| t.trim().is_empty())
    };
    inner('[', ']') || inner('{', '}')
}

/// Whether the JSON array `raw` holds no empty value; `false` when it
/// cannot be read as an array.
fn no_empty_items(raw: &RawValue) -> bool {
    serde_json::from_str::<Vec<&RawValue>>(raw.get())
        .is_ok_and(|items| !items.iter().any(|i| raw_is_empty(i.get())))
}

fn strip_never(defs: &[AttributeDef], fields: &mut Map<String, Value>) {
    fields.retain(|k, _| {
        super::validate::find(defs, k).is_none_or(|d| d.returned != Returned::Never)
    });
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_URN, USER_URN};
    use serde_json::json;

    fn user() -> Map<String, Value> {
        let v = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "id": "u1",
            "externalId": "x",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [
                {"value": "b@work", "type": "work", "primary": true},
                {"value": "b@home", "type": "home"}
            ],
            ENTERPRISE_USER_URN: {"employeeNumber": "7", "manager": {"value": "m1", "displayName": "Boss"}},
            "meta": {"resourceType": "User"}
        });
        let Value::Object(m) = v else { unreachable!() };
        m
    }

    fn project(attributes: &[&str], excluded: &[&str]) -> Value {
        let reg = SchemaRegistry::rfc().unwrap();
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let p = Projection::new(&reg, "User", &owned(attributes), &owned(excluded)).unwrap();
        let mut body = user();
        p.apply(&mut body);
        Value::Object(body)
    }

    #[test]
    fn attributes_keep_only_what_is_named_plus_always() {
        assert_eq!(
            project(&["userName"], &[]),
            json!({"schemas": [USER_URN], "id": "u1", "userName": "bjensen"})
        );
        assert_eq!(
            project(
                &[
                    "NAME.givenName",
                    "urn:ietf:params:scim:schemas:core:2.0:User:externalId"
                ],
                &[]
            ),
            json!({"schemas": [USER_URN], "id": "u1", "externalId": "x", "name": {"givenName": "Barbara"}})
        );
    }

    #[test]
    fn value_paths_select_values() {
        assert_eq!(
            project(&[r#"emails[type eq "work"]"#], &[])["emails"],
            json!([{"value": "b@work", "type": "work", "primary": true}])
        );
        assert_eq!(
            project(&[r#"emails[type eq "HOME"].value"#], &[])["emails"],
            json!([{"value": "b@home"}])
        );
        assert_eq!(
            project(&["emails.type"], &[])["emails"],
            json!([{"type": "work"}, {"type": "home"}])
        );
        assert_eq!(
            project(&[], &[r#"emails[type eq "work"]"#])["emails"],
            json!([{"value": "b@home", "type": "home"}])
        );
    }

    #[test]
    fn extensions_whole_or_by_attribute() {
        let whole = project(&[ENTERPRISE_USER_URN], &[]);
        assert_eq!(whole["schemas"], json!([USER_URN, ENTERPRISE_USER_URN]));
        assert_eq!(whole[ENTERPRISE_USER_URN]["employeeNumber"], "7");
        let one = project(&[&format!("{ENTERPRISE_USER_URN}:manager.value")], &[]);
        assert_eq!(
            one[ENTERPRISE_USER_URN],
            json!({"manager": {"value": "m1"}})
        );
        assert_eq!(
            project(&["employeeNumber"], &[])[ENTERPRISE_USER_URN],
            json!({"employeeNumber": "7"})
        );
        let without = project(&[], &[ENTERPRISE_USER_URN]);
        assert!(without.get(ENTERPRISE_USER_URN).is_none());
        assert_eq!(without["schemas"], json!([USER_URN]));
    }

    #[test]
    fn excluded_attributes_cannot_remove_always_or_return_never() {
        let p = project(&[], &["id", "emails", "name.familyName", "meta"]);
        assert_eq!(p["id"], "u1");
        assert!(p.get("emails").is_none());
        assert!(p.get("meta").is_none());
        assert_eq!(p["name"], json!({"givenName": "Barbara"}));
        let mut body = user();
        body.insert("password".into(), json!("secret"));
        let reg = SchemaRegistry::rfc().unwrap();
        Projection::new(&reg, "User", &["password".to_owned()], &[])
            .unwrap()
            .apply(&mut body);
        assert!(body.get("password").is_none());
    }

    #[test]
    fn values_trimmed_one_at_a_time_match_the_whole_array() {
        let reg = SchemaRegistry::rfc().unwrap();
        let members = json!([
            {"value": "u1", "$ref": "https://x/Users/u1", "display": "Ann", "type": "User"},
            {"value": "g1", "$ref": "https://x/Groups/g1", "display": "Ops", "type": "Group"},
            {"value": "u2", "$ref": "https://x/Users/u2", "type": "User"}
        ]);
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &[]),
            (&["members"], &[]),
            (&["members.value"], &[]),
            (&["members.display", "members.type"], &[]),
            (&[r#"members[type eq "Group"]"#], &[]),
            (&[r#"members[type eq "User"].value"#], &[]),
            (&[], &["members.display"]),
            (&[], &[r#"members[type eq "User"]"#]),
            (&[], &[r#"members[value eq "u1"].display"#]),
            (&[], &["members"]),
            (&["displayName"], &[]),
        ];
        for (attributes, excluded) in cases {
            let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            let p = Projection::new(&reg, "Group", &owned(attributes), &owned(excluded)).unwrap();
            let mut body = Map::new();
            body.insert("id".into(), json!("g0"));
            body.insert("members".into(), members.clone());
            p.apply(&mut body);
            let whole = body.remove("members").unwrap_or_else(|| json!([]));
            let one_by_one: Vec<Value> = p.element("members").map_or_else(Vec::new, |e| {
                let items = members.as_array().unwrap().iter();
                items.filter_map(|m| e.apply(m.clone())).collect()
            });
            assert_eq!(
                Value::Array(one_by_one),
                whole,
                "{attributes:?} / {excluded:?}"
            );
        }
    }

    #[test]
    fn loading_decisions() {
        let reg = SchemaRegistry::rfc().unwrap();
        let p = |a: &[&str], e: &[&str]| {
            let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            Projection::new(&reg, "Group", &owned(a), &owned(e))
                .unwrap()
                .includes("members")
        };
        assert!(p(&[], &[]));
        assert!(!p(&[], &["members"]));
        assert!(p(&[], &["members.display"]));
        assert!(!p(&["displayName"], &[]));
        assert!(p(&["members.value"], &[]));
        assert!(p(&[r#"members[value eq "x"]"#], &[]));
        assert!(Projection::new(&reg, "Group", &["bad[".to_owned()], &[]).is_err());
    }
}
