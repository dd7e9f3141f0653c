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
use super::resource::ResourceKind;
use super::schema::{AttrType, AttributeDef, Returned, SchemaRegistry};
use super::validate::find;

#[cfg(test)]
mod tests;
mod trim;

use trim::{hides_some, no_empty_items, raw_is_empty, strip_never, trim};

/// What a response keeps of each resource.
#[derive(Debug, Clone)]
pub struct Projection<'r> {
    registry: &'r SchemaRegistry,
    kind: ResourceKind,
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
    /// schemas of `kind`. Names the server does not know select
    /// nothing: a client asking for an attribute of an extension this
    /// server lacks gets the resource without it, as it would anyway.
    pub fn new(
        registry: &'r SchemaRegistry,
        kind: ResourceKind,
        attributes: &[String],
        excluded: &[String],
    ) -> Result<Self, ScimError> {
        let only = !attributes.is_empty();
        let names = if only { attributes } else { excluded };
        let core_urn = registry
            .resource_type(kind.name())
            .map(|rt| rt.schema.clone())
            .unwrap_or_default();
        let mut projection = Self {
            registry,
            kind,
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

    /// `self`, also leaving out `name` unless the request listed
    /// `attributes` (which return only what they name anyway).
    pub fn also_excluding(&self, name: &str) -> Result<Self, ScimError> {
        let mut p = self.clone();
        if !p.only
            && let Some(selector) = p.selector(name)?
        {
            p.selectors.push(selector);
        }
        Ok(p)
    }

    fn selector(&self, name: &str) -> Result<Option<Selector>, ScimError> {
        let urns = self.registry.schema_urns_for(self.kind.name());
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
                .resolve(self.kind.name(), uri.as_deref(), &attr, sub.as_deref())
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
        let Some(r) = self.registry.resolve(self.kind.name(), None, attr, None) else {
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
        let Some(r) = self.registry.resolve(self.kind.name(), None, key, None) else {
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
        match self.registry.resolve(self.kind.name(), None, key, None) {
            Some(r) => self.attribute(None, r.attr, value),
            // Not in any schema (nothing the server renders): keep it
            // unless the client asked for specific attributes.
            None => !self.only,
        }
    }

    fn extension(&self, urn: &str, value: &mut Value) -> bool {
        let known = self
            .registry
            .schema_urns_for(self.kind.name())
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
        fields.retain(|name, v| match find(&schema.attributes, name) {
            Some(def) => self.attribute(Some(&schema.id), def, v),
            None => !self.only,
        });
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
            .resolve(self.kind.name(), None, attr, None)?
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
