//! A stored document written out as an answer without first being built
//! as a `serde_json::Value`. Reading a user's document into a `Value`,
//! copying it into the answer, trimming and writing that out was a large
//! share of the work of a GET by id.
//!
//! Here the document's top-level fields are found in its text, and each
//! one the projection keeps unchanged is copied out as text. The rest,
//! and the fields the server adds, go through the same rules as `Value`s
//! (`Projection::keep_field`), so the answer is the one `render`, then
//! `Projection::apply`, gives; the tests compare the two byte for byte.

use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::etag::etag;
use super::projection::{FieldRule, Projection};
use super::resource::{ResourceKind, Stored, location, meta, schemas};
use crate::time::format_ms;

/// The top-level fields of a JSON object, as text, in order.
pub struct Fields<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'a> Fields<'a> {
    /// `None` unless `text` is an object whose field names are unique and
    /// hold no escapes; such documents go the `Value` way.
    pub fn parse(text: &'a str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(&'de str, &'de RawValue)> = Vec::with_capacity(16);
        while let Some(key) = map.next_key::<&'de str>()? {
            // A `Value` keeps the last of two; rare enough to leave to it.
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom("a field named twice"));
            }
            fields.push((key, map.next_value()?));
        }
        Ok(Fields(fields))
    }
}

/// One field of the answer.
enum Piece<'a> {
    Text(&'a RawValue),
    /// Written out already.
    Written(Vec<u8>),
    Value(Value),
}

/// `render(kind, doc, stored, base_url)`, then each of `extra` (fields the
/// server adds, written out as JSON) inserted, then `projection.apply`, written
/// out as JSON. An added field follows the rule of a stored one, so it is
/// copied as text when the projection keeps it whole. `None` when `doc`
/// has a field the server sets itself (`schemas`, `id`, `meta`, one of
/// `extra`), whose rendering replaces it where it stands, or when an added
/// field is not JSON: such a resource goes the `Value` way.
pub fn resource<'a>(
    kind: ResourceKind,
    doc: &Fields<'a>,
    stored: &Stored,
    base_url: &str,
    extra: &'a [(&'static str, Vec<u8>)],
    projection: &Projection<'_>,
) -> Option<Vec<u8>> {
    let set_by_server =
        |k: &str| matches!(k, "schemas" | "id" | "meta") || extra.iter().any(|(e, _)| *e == k);
    if doc.0.iter().any(|(k, _)| set_by_server(k)) {
        return None;
    }
    let mut kept: Vec<(&'a str, Piece<'a>)> = Vec::with_capacity(doc.0.len() + 2 + extra.len());
    let keep = |kept: &mut Vec<(&'a str, Piece<'a>)>, key: &'a str, mut value: Value| {
        if projection.keep_field(key, &mut value) {
            kept.push((key, Piece::Value(value)));
        }
    };
    keep(&mut kept, "id", Value::String(stored.id.clone()));
    for &(key, raw) in &doc.0 {
        match projection.field_rule(key, raw) {
            FieldRule::Drop => {}
            FieldRule::Keep => kept.push((key, Piece::Text(raw))),
            FieldRule::Parse => keep(&mut kept, key, serde_json::from_str(raw.get()).ok()?),
        }
    }
    if meta_kept_whole(projection) {
        kept.push(("meta", Piece::Written(meta_text(kind, stored, base_url))));
    } else {
        keep(&mut kept, "meta", meta(kind, stored, base_url));
    }
    for (key, json) in extra {
        let raw: &'a RawValue = serde_json::from_slice(json).ok()?;
        match projection.field_rule(key, raw) {
            FieldRule::Drop => {}
            FieldRule::Keep => kept.push((key, Piece::Text(raw))),
            FieldRule::Parse => keep(&mut kept, key, serde_json::from_str(raw.get()).ok()?),
        }
    }
    let mut schemas = schemas(kind, doc.0.iter().map(|(k, _)| *k));
    if let Value::Array(list) = &mut schemas {
        let present: Vec<&str> = kept
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| k.contains(':'))
            .collect();
        projection.keep_schemas(list, &present);
    }
    Some(write(&schemas, &kept))
}

fn write(schemas: &Value, kept: &[(&str, Piece<'_>)]) -> Vec<u8> {
    let text: usize = kept
        .iter()
        .map(|(k, p)| match p {
            Piece::Text(raw) => k.len() + raw.get().len() + 4,
            Piece::Written(text) => k.len() + text.len() + 4,
            Piece::Value(_) => k.len() + 64,
        })
        .sum();
    let mut out = Vec::with_capacity(text + 128);
    out.extend_from_slice(br#"{"schemas":"#);
    write_json(&mut out, schemas);
    for (key, piece) in kept {
        out.push(b',');
        write_json(&mut out, key);
        out.push(b':');
        match piece {
            Piece::Text(raw) => out.extend_from_slice(raw.get().as_bytes()),
            Piece::Written(text) => out.extend_from_slice(text),
            Piece::Value(v) => write_json(&mut out, v),
        }
    }
    out.push(b'}');
    out
}

/// Whether `projection` keeps the server's `meta` as it is: the rule for a
/// stored field, asked of a stand-in `meta` (any non-empty object).
fn meta_kept_whole(projection: &Projection<'_>) -> bool {
    serde_json::from_str::<&RawValue>(r#"{"resourceType":""}"#)
        .is_ok_and(|probe| projection.field_rule("meta", probe) == FieldRule::Keep)
}

/// `meta(kind, stored, base_url)` written out, without building it as a
/// `Value` first, which is a measurable part of every GET by id.
fn meta_text(kind: ResourceKind, stored: &Stored, base_url: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(base_url.len() + 192);
    let fields = [
        ("resourceType", kind.name().to_owned()),
        ("created", format_ms(stored.created_ms)),
        ("lastModified", format_ms(stored.modified_ms)),
        ("location", location(base_url, kind, &stored.id)),
        ("version", etag(stored.version)),
    ];
    for (i, (key, value)) in fields.iter().enumerate() {
        out.push(if i == 0 { b'{' } else { b',' });
        write_json(&mut out, key);
        out.push(b':');
        write_json(&mut out, value);
    }
    out.push(b'}');
    out
}

/// Appends `value` as JSON.
pub fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    // Writing a string or a `Value` into memory cannot fail: map keys are
    // strings and a Vec takes any length.
    if let Err(e) = serde_json::to_writer(&mut *out, value) {
        log::error!("serializing a response: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::render;
    use crate::schema::{ENTERPRISE_USER_URN, SchemaRegistry};
    use serde_json::json;

    const BASE: &str = "https://scim.example/scim/v2";

    fn stored() -> Stored {
        Stored {
            id: "2819c223-7f76-453a-919d-413861904646".to_owned(),
            created_ms: 1_700_000_000_000,
            modified_ms: 1_700_000_123_456,
            version: 3,
        }
    }

    fn groups() -> Vec<(&'static str, Vec<u8>)> {
        let list = json!([
            {"value": "g1", "$ref": format!("{BASE}/Groups/g1"), "display": "Admins", "type": "direct"},
            {"value": "g2", "$ref": format!("{BASE}/Groups/g2"), "display": "\"Ops\" \\ \u{e9}", "type": "direct"}
        ]);
        vec![("groups", list.to_string().into_bytes())]
    }

    fn members() -> Vec<(&'static str, Vec<u8>)> {
        let list = json!([{"value": "u1", "$ref": format!("{BASE}/Users/u1"), "display": "Babs", "type": "User"}]);
        vec![("members", list.to_string().into_bytes())]
    }

    fn users() -> Vec<Value> {
        vec![
            json!({
                "externalId": "x1",
                "userName": "bjensen@example.com",
                "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen, III"},
                "displayName": "Babs \"B\" Jensen \u{e9}",
                "active": true,
                "emails": [
                    {"value": "b@work.example", "type": "work", "primary": true},
                    {"value": "b@home.example", "type": "home"}
                ],
                "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
                "password": "never shown",
                "somethingUnknown": {"kept": [1, 2.5, -3e-7]}
            }),
            json!({
                "userName": "ext",
                ENTERPRISE_USER_URN: {"employeeNumber": "7", "manager": {"value": "m1", "displayName": "Boss"}},
                "urn:example:unknown:1.0:Thing": {"a": 1}
            }),
            json!({
                "userName": "empties",
                "nickName": null,
                "title": "",
                "emails": [],
                "addresses": [{}],
                "phoneNumbers": [{"value": "1"}, {}, null],
                "name": {},
                "ims": [{"value": "x", "type": "aim", "display": null}],
                ENTERPRISE_USER_URN: {}
            }),
        ]
    }

    fn reference(
        kind: ResourceKind,
        doc: &Value,
        extra: &[(&'static str, Vec<u8>)],
        projection: &Projection<'_>,
    ) -> Vec<u8> {
        let Value::Object(doc) = doc else {
            panic!("documents are objects")
        };
        let mut body = render(kind, doc, &stored(), BASE);
        for (k, json) in extra {
            let value = serde_json::from_slice(json).expect("added fields are JSON");
            body.insert((*k).to_owned(), value);
        }
        projection.apply(&mut body);
        serde_json::to_vec(&Value::Object(body)).expect("serializes")
    }

    fn encoded(
        kind: ResourceKind,
        text: &str,
        extra: &[(&'static str, Vec<u8>)],
        projection: &Projection<'_>,
    ) -> Option<Vec<u8>> {
        let fields = Fields::parse(text)?;
        resource(kind, &fields, &stored(), BASE, extra, projection)
    }

    const USER_LISTS: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["userName"], &[]),
        (&["emails.value", "name.givenName"], &[]),
        (&["emails[type eq \"work\"].value"], &[]),
        (&[ENTERPRISE_USER_URN], &[]),
        (&["groups.display", "urn:example:unknown:1.0:Thing"], &[]),
        (&[], &["emails"]),
        (&[], &["name.givenName", "groups"]),
        (&[], &[ENTERPRISE_USER_URN]),
        (
            &[],
            &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"],
        ),
        (&[], &["emails[type eq \"home\"]", "meta", "id"]),
        (&["meta.lastModified", "userName"], &[]),
        (&[], &["meta.version", "meta.location"]),
        (&["groups"], &[]),
        (&[], &["groups.display"]),
    ];

    fn projection<'r>(
        reg: &'r SchemaRegistry,
        kind: ResourceKind,
        (attributes, excluded): (&[&str], &[&str]),
    ) -> Projection<'r> {
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Projection::new(reg, kind, &owned(attributes), &owned(excluded))
            .expect("a valid projection")
    }

    #[test]
    fn a_user_comes_out_byte_for_byte_as_rendered_and_projected() {
        let reg = SchemaRegistry::rfc().unwrap();
        for doc in users() {
            let text = serde_json::to_string(&doc).expect("serializes");
            for &lists in USER_LISTS {
                let p = projection(&reg, ResourceKind::User, lists);
                for extra in [Vec::new(), groups()] {
                    let want = reference(ResourceKind::User, &doc, &extra, &p);
                    let got = encoded(ResourceKind::User, &text, &extra, &p)
                        .unwrap_or_else(|| panic!("{text} is read as text"));
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&want),
                        "{text} with {lists:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_group_hides_member_display_as_rendered_and_projected() {
        let reg = SchemaRegistry::rfc().unwrap();
        let doc = json!({"displayName": "Admins", "externalId": "e1"});
        let text = serde_json::to_string(&doc).expect("serializes");
        let lists: &[(&[&str], &[&str])] = &[
            (&[], &[]),
            (&["members.display"], &[]),
            (&["displayName"], &[]),
            (&[], &["members"]),
        ];
        // A document that holds its members (none does today) is trimmed
        // like the members the server adds.
        let members_value: Value = serde_json::from_slice(&members()[0].1).expect("JSON");
        let holding = json!({"displayName": "Admins", "members": members_value});
        let holding_text = serde_json::to_string(&holding).expect("serializes");
        for &lists in lists {
            let p = projection(&reg, ResourceKind::Group, lists);
            let want = reference(ResourceKind::Group, &doc, &members(), &p);
            let got = encoded(ResourceKind::Group, &text, &members(), &p).expect("read as text");
            assert_eq!(got, want, "{lists:?}");
            let want = reference(ResourceKind::Group, &holding, &[], &p);
            let got = encoded(ResourceKind::Group, &holding_text, &[], &p).expect("read as text");
            assert_eq!(got, want, "{lists:?}");
        }
    }

    #[test]
    fn meta_is_written_out_as_serialized_and_only_when_kept_whole() {
        let base = "https://scim.example/a \"quoted\" \\ base";
        for kind in [ResourceKind::User, ResourceKind::Group] {
            let want = serde_json::to_vec(&meta(kind, &stored(), base)).expect("serializes");
            assert_eq!(meta_text(kind, &stored(), base), want);
        }
        let reg = SchemaRegistry::rfc().unwrap();
        let whole = |lists| meta_kept_whole(&projection(&reg, ResourceKind::User, lists));
        assert!(whole((&[], &[])));
        assert!(whole((&[], &["emails"])));
        assert!(!whole((&["userName"], &[])));
        assert!(!whole((&["meta.created"], &[])));
        assert!(!whole((&[], &["meta.version"])));
        assert!(!whole((&[], &["meta"])));
    }

    #[test]
    fn spacing_in_the_stored_text_keeps_the_same_answer() {
        let reg = SchemaRegistry::rfc().unwrap();
        let p = projection(&reg, ResourceKind::User, (&[], &[]));
        let text = r#" { "userName" : "s" , "emails" : [ { } , { "value" : "a@b" } ] ,
            "name" : { } , "nickName" : null , "phoneNumbers" : [ ] } "#;
        let doc: Value = serde_json::from_str(text).expect("json");
        let want: Value =
            serde_json::from_slice(&reference(ResourceKind::User, &doc, &[], &p)).expect("json");
        let got = encoded(ResourceKind::User, text, &[], &p).expect("read as text");
        let got: Value = serde_json::from_slice(&got).expect("json");
        assert_eq!(got, want);
        assert!(got.get("name").is_none() && got.get("phoneNumbers").is_none());
        assert_eq!(got["emails"], json!([{"value": "a@b"}]));
    }

    #[test]
    fn documents_with_fields_the_server_sets_or_odd_names_go_the_value_way() {
        let reg = SchemaRegistry::rfc().unwrap();
        let p = projection(&reg, ResourceKind::User, (&[], &[]));
        for text in [
            r#"{"userName": "a", "id": "forged"}"#,
            r#"{"userName": "a", "meta": {}}"#,
            r#"{"schemas": [], "userName": "a"}"#,
            r#"{"userName": "a", "groups": []}"#,
            r#"{"userName": "a", "userName": "b"}"#,
            r#"{"user\u004eame": "a"}"#,
            r#"["not", "an", "object"]"#,
        ] {
            assert_eq!(
                encoded(ResourceKind::User, text, &groups(), &p),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn common_fields_are_copied_as_text() {
        let reg = SchemaRegistry::rfc().unwrap();
        let p = projection(&reg, ResourceKind::User, (&[], &[]));
        let text = serde_json::to_string(&users()[0]).expect("serializes");
        let fields = Fields::parse(&text).expect("an object");
        for (key, raw) in &fields.0 {
            let want = if *key == "password" {
                FieldRule::Drop
            } else {
                FieldRule::Keep
            };
            assert_eq!(p.field_rule(key, raw), want, "{key}");
        }
        // The groups the server adds too.
        let (key, json) = &groups()[0];
        let raw: &RawValue = serde_json::from_slice(json).expect("JSON");
        assert_eq!(p.field_rule(key, raw), FieldRule::Keep);
    }
}
