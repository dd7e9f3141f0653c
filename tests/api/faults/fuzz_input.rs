//! The fuzzer's values: query parameters, filters, bodies and headers,
//! each a valid SCIM value at heart, mutated.

use rand::Rng;
use serde_json::{Map, Value, json};

use super::fuzz_gen::{ATTRS, ENTERPRISE, GROUP, Gen, OPS, PATCH_OP, Req, USER};
use crate::helpers::{BASIC_PASSWORD, BASIC_USER, TOKEN, url_encode};

impl Gen {
    // ---- query parameters -------------------------------------------------

    pub(super) fn query(&mut self) -> String {
        let mut parts = Vec::new();
        for (key, p) in [
            ("filter", 40),
            ("sortBy", 15),
            ("sortOrder", 10),
            ("startIndex", 15),
            ("count", 20),
            ("cursor", 8),
            ("attributes", 15),
            ("excludedAttributes", 10),
        ] {
            if self.pct(p) {
                let value = match key {
                    "filter" => self.filter(3),
                    "sortBy" | "attributes" | "excludedAttributes" => self.attr_list(),
                    "sortOrder" => self.pick(&["ascending", "descending", "x"]).to_string(),
                    "startIndex" | "count" => self.number_text(),
                    _ => self.cursor(),
                };
                let key = if self.pct(5) {
                    key.to_uppercase()
                } else {
                    key.to_owned()
                };
                parts.push(format!("{key}={}", url_encode(&value)));
            }
        }
        if self.pct(5) {
            parts.push(
                self.pick(&[
                    "filter",
                    "count=",
                    "=x",
                    "%zz=1",
                    "filter=%E0%A4%A",
                    "a=%00",
                ])
                .to_string(),
            );
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    pub(super) fn cursor(&mut self) -> String {
        match self.rng.random_range(0..3) {
            0 => String::new(),
            1 => "eyJhIjoxfQ".to_owned(),
            _ => self.weird_string(),
        }
    }

    pub(super) fn attr_list(&mut self) -> String {
        let n = self.rng.random_range(1..4);
        let items: Vec<String> = (0..n).map(|_| self.pick(ATTRS).to_string()).collect();
        items.join(if self.pct(90) { "," } else { " , ;" })
    }

    pub(super) fn number_text(&mut self) -> String {
        self.pick(&[
            "1",
            "0",
            "-1",
            "10",
            "200",
            "1000000",
            "2147483648",
            "9223372036854775807",
            "99999999999999999999999",
            "1.5",
            "1e3",
            "abc",
            "",
            " 5",
            "0x10",
            "-0",
            "NaN",
        ])
        .to_string()
    }

    pub(super) fn number(&mut self) -> Value {
        match self.rng.random_range(0..6) {
            0 => json!(self.rng.random::<i64>()),
            1 => json!(self.rng.random_range(-2..300)),
            2 => json!(self.rng.random::<f64>() * 1e300),
            3 => json!(self.number_text()),
            4 => json!(true),
            _ => Value::Null,
        }
    }

    // ---- filters ---------------------------------------------------------

    pub fn filter(&mut self, depth: u32) -> String {
        let f = self.filter_expr(depth);
        if self.pct(15) { self.mutate_text(f) } else { f }
    }

    pub(super) fn filter_expr(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.pct(40);
        if leaf {
            let attr = self.pick(ATTRS).to_string();
            return if self.pct(10) {
                format!("{attr} pr")
            } else {
                let op = self.pick(OPS).to_string();
                format!("{attr} {op} {}", self.filter_value())
            };
        }
        match self.rng.random_range(0..5) {
            0 => format!(
                "{} and {}",
                self.filter_expr(depth - 1),
                self.filter_expr(depth - 1)
            ),
            1 => format!(
                "{} or {}",
                self.filter_expr(depth - 1),
                self.filter_expr(depth - 1)
            ),
            2 => format!("not ({})", self.filter_expr(depth - 1)),
            3 => format!("({})", self.filter_expr(depth - 1)),
            _ => {
                let attr = self
                    .pick(&["emails", "members", "groups", "addresses", "x", "name"])
                    .to_string();
                format!("{attr}[{}]", self.filter_expr(depth - 1))
            }
        }
    }

    pub(super) fn filter_value(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 => "true".into(),
            1 => "null".into(),
            2 => self.number_text(),
            3 => "\"2011-05-13T04:42:34Z\"".into(),
            4 => format!("\"{}\"", uuid::Uuid::from_u128(self.rng.random())),
            5 => "\"unterminated".into(),
            6 => format!("{:?}", self.weird_string()),
            _ => format!(
                "\"{}\"",
                self.pick(&[
                    "bjensen", "a\\\"b", "\\u00e9", "😀", "%", "_", "\\\\", "work"
                ])
            ),
        }
    }

    // ---- bodies ----------------------------------------------------------

    pub(super) fn user(&mut self) -> Value {
        self.n += 1;
        let name = format!("fuzz{}-{}", self.n, self.rng.random::<u16>());
        let mut u = json!({
            "schemas": [USER],
            "userName": name,
            "name": {"givenName": "Fuzz", "familyName": "User"},
            "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
            "active": true,
        });
        if self.pct(30) {
            u["schemas"] = json!([USER, ENTERPRISE]);
            u[ENTERPRISE] = json!({"employeeNumber": "7", "manager": {"value": self.id("Users")}});
        }
        if self.pct(20) {
            u["password"] = json!("pw");
        }
        if self.rng.random_range(0..1_000) < 4 {
            // Thousands of values of a multi-valued attribute, still well
            // within the body limit.
            let n = self.rng.random_range(4_200..6_500);
            let emails: Vec<Value> = (0..n)
                .map(|i| json!({"value": format!("{name}.{i}@example.com")}))
                .collect();
            u["emails"] = Value::Array(emails);
        }
        if self.pct(40) {
            self.mutate(&mut u, 3);
        }
        u
    }

    pub(super) fn group(&mut self) -> Value {
        self.n += 1;
        let n = self.rng.random_range(0..4);
        let members: Vec<Value> = (0..n)
            .map(|_| {
                let kind = if self.pct(85) { "Users" } else { "Groups" };
                json!({"value": self.id(kind)})
            })
            .collect();
        let mut g = json!({"schemas": [GROUP], "displayName": format!("group{}", self.n), "members": members});
        if self.pct(40) {
            self.mutate(&mut g, 3);
        }
        g
    }

    pub(super) fn patch_doc(&mut self, kind: &str) -> Value {
        let n = self.rng.random_range(0..4);
        let ops: Vec<Value> = (0..n).map(|_| self.patch_op(kind)).collect();
        let mut doc = json!({"schemas": [PATCH_OP], "Operations": ops});
        if self.pct(20) {
            self.mutate(&mut doc, 4);
        }
        doc
    }

    pub(super) fn patch_op(&mut self, kind: &str) -> Value {
        let op = *self.pick(&["add", "replace", "remove", "Add", "REPLACE", "move", ""]);
        let mut o = json!({"op": op});
        let path = match self.rng.random_range(0..6) {
            0 => None,
            1 => Some(format!("members[value eq \"{}\"]", self.id("Users"))),
            2 => Some(format!("emails[{}].value", self.filter_expr(1))),
            3 => Some(
                self.pick(&[
                    "members",
                    "displayName",
                    "userName",
                    "active",
                    "emails",
                    "name.givenName",
                    ENTERPRISE,
                ])
                .to_string(),
            ),
            4 => Some(self.pick(ATTRS).to_string()),
            _ => Some(self.filter(1)),
        };
        if let Some(p) = path {
            o["path"] = Value::String(p);
        }
        if self.pct(85) {
            o["value"] = match self.rng.random_range(0..5) {
                0 if kind == "Groups" => json!([{"value": self.id("Users")}]),
                1 => json!({"displayName": "renamed", "active": false}),
                2 => self.weird_value(2),
                3 => json!(self.weird_string()),
                _ => json!("value"),
            };
        }
        o
    }

    /// Random edits of a valid document: values of the wrong type, keys
    /// removed, added or renamed.
    pub(super) fn mutate(&mut self, v: &mut Value, depth: u32) {
        match v {
            Value::Object(map) if !map.is_empty() => {
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = keys[self.rng.random_range(0..keys.len())].clone();
                match self.rng.random_range(0..5) {
                    0 => {
                        map.remove(&key);
                    }
                    1 => {
                        let w = self.weird_value(2);
                        map.insert(key, w);
                    }
                    2 => {
                        let w = self.weird_value(1);
                        map.insert(self.pick(ATTRS).to_string(), w);
                    }
                    3 => {
                        if let Some(value) = map.remove(&key) {
                            map.insert(key.to_uppercase(), value);
                        }
                    }
                    _ if depth > 0 => {
                        if let Some(inner) = map.get_mut(&key) {
                            self.mutate(inner, depth - 1);
                        }
                    }
                    _ => {}
                }
            }
            Value::Array(items) if !items.is_empty() && depth > 0 => {
                let i = self.rng.random_range(0..items.len());
                self.mutate(&mut items[i], depth - 1);
            }
            _ => *v = self.weird_value(1),
        }
    }

    pub(super) fn weird_value(&mut self, depth: u32) -> Value {
        match self.rng.random_range(0..10) {
            0 => Value::Null,
            1 => json!(self.rng.random::<bool>()),
            2 => self.number(),
            3 => json!(self.weird_string()),
            4 if depth > 0 => Value::Array(
                (0..self.rng.random_range(0..4))
                    .map(|_| self.weird_value(depth - 1))
                    .collect(),
            ),
            5 if depth > 0 => {
                let mut m = Map::new();
                for _ in 0..self.rng.random_range(0..4) {
                    let w = self.weird_value(depth - 1);
                    m.insert(self.pick(ATTRS).to_string(), w);
                }
                Value::Object(m)
            }
            6 => json!(format!("__RAW{}__", self.rng.random_range(0..RAW.len()))),
            _ => json!("plain"),
        }
    }

    pub(super) fn weird_string(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0 => String::new(),
            1 => "\u{0}\u{1}\u{1f}\u{7f}".into(),
            2 => "é日本語😀\u{202e}\u{feff}".into(),
            3 => "x".repeat(self.rng.random_range(100..70_000)),
            4 => "\\\"'`;--/*".into(),
            5 => "../../etc/passwd".into(),
            6 => "\u{10ffff}\u{d7ff}\u{e000}".into(),
            7 => " ".repeat(self.rng.random_range(1..50)),
            8 => "%s%n%x{}{{}}$(id)".into(),
            _ => (0..self.rng.random_range(1..40))
                .map(|_| char::from_u32(self.rng.random_range(1..0x3000)).unwrap_or('?'))
                .collect(),
        }
    }

    /// The request body for `doc`: most often as JSON text with a few raw
    /// literals JSON values cannot hold, sometimes damaged as bytes.
    pub(super) fn body(&mut self, doc: Value) -> Vec<u8> {
        let mut text = serde_json::to_string(&doc).expect("json");
        for (i, raw) in RAW.iter().enumerate() {
            text = text.replace(&format!("\"__RAW{i}__\""), raw);
        }
        let mut bytes = text.into_bytes();
        match self.rng.random_range(0..100) {
            0..8 => {
                bytes = self
                    .mutate_text(String::from_utf8_lossy(&bytes).into_owned())
                    .into_bytes()
            }
            8..12 => {
                // Invalid UTF-8 inside a string.
                if let Some(at) = bytes.iter().position(|&b| b == b'"') {
                    let options: [&[u8]; 4] = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80"];
                    let bad = *self.pick(&options);
                    bytes.splice(at + 1..at + 1, bad.iter().copied());
                }
            }
            // A duplicated key.
            12..15 if bytes.first() == Some(&b'{') => {
                let options: [&[u8]; 3] = [
                    br#""schemas":[],"#,
                    br#""userName":"dup","#,
                    br#""Operations":{},"#,
                ];
                let dup = *self.pick(&options);
                bytes.splice(1..1, dup.iter().copied());
            }
            15..17 => bytes = deep_json(self.rng.random_range(100..20_000), self.pct(50)),
            17..19 => bytes.truncate(self.rng.random_range(0..bytes.len().max(1))),
            19..20 => bytes = Vec::new(),
            _ => {}
        }
        bytes
    }

    pub(super) fn mutate_text(&mut self, mut text: String) -> String {
        if text.is_empty() {
            return self.weird_string();
        }
        let mut at = self.rng.random_range(0..text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match self.rng.random_range(0..4) {
            0 => text.truncate(at),
            1 => text.insert(
                at,
                *self.pick(&['(', ')', '"', '[', ']', '\\', '\0', ' ', '{', ',', 'é']),
            ),
            2 => text.insert_str(at, &self.weird_string()),
            _ => text = text.repeat(self.rng.random_range(2..50)),
        }
        text
    }

    // ---- headers ---------------------------------------------------------

    pub(super) fn headers(&mut self, req: &mut Req) {
        let auth = match self.rng.random_range(0..100) {
            0..82 => Some(format!("Bearer {TOKEN}")),
            82..86 => Some(format!(
                "Basic {}",
                base64_of(&format!("{BASIC_USER}:{BASIC_PASSWORD}"))
            )),
            86..89 => Some(format!("bearer {TOKEN}")),
            89..92 => Some(
                self.pick(&[
                    "Bearer",
                    "Bearer ",
                    "Basic !!!",
                    "Basic Og==",
                    "Negotiate x",
                    "Bearer a.b.c",
                ])
                .to_string(),
            ),
            92..94 => Some(format!("Bearer {}", self.weird_string())),
            _ => None,
        };
        if let Some(a) = auth {
            req.headers.push(("Authorization".into(), a.into_bytes()));
        }
        let has_type = req.headers.iter().any(|(k, _)| k == "Content-Type");
        if !has_type && !req.body.is_empty() || self.pct(5) {
            let ct = *self.pick(&[
                "application/scim+json",
                "application/scim+json",
                "application/json",
                "application/scim+json; charset=utf-8",
                "application/json;charset=latin1",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "",
                "*/*",
                "application/scim+json; q",
            ]);
            if !has_type {
                req.headers
                    .push(("Content-Type".into(), ct.as_bytes().to_vec()));
            }
        }
        if self.pct(8) {
            let tag = match self.rng.random_range(0..5) {
                0 => "*".to_owned(),
                1 => format!("W/\"{}\"", self.rng.random_range(0..5)),
                2 => "\"1\"".to_owned(),
                3 => "W/\"1\", W/\"2\"".to_owned(),
                _ => self.weird_string(),
            };
            let name = if self.pct(80) {
                "If-Match"
            } else {
                "If-None-Match"
            };
            req.headers.push((name.into(), tag.into_bytes()));
        }
        if self.pct(8) {
            let accept = *self.pick(&[
                "application/scim+json",
                "application/json",
                "text/html",
                "*/*",
                "application/xml",
                "",
                "application/scim+json;q=0",
            ]);
            req.headers
                .push(("Accept".into(), accept.as_bytes().to_vec()));
        }
        if self.pct(4) {
            let encoding = *self.pick(&[
                "gzip",
                "gzip",
                "deflate",
                "br",
                "identity",
                "x-unknown",
                "gzip, gzip",
            ]);
            if encoding == "gzip" && self.pct(70) {
                req.body = gzip(&req.body);
            }
            req.headers
                .push(("Content-Encoding".into(), encoding.as_bytes().to_vec()));
        }
        if self.pct(2) {
            req.headers
                .push(("Accept-Encoding".into(), b"gzip".to_vec()));
        }
    }
}

/// Literals JSON allows that a `Value` cannot hold, or holds differently.
const RAW: &[&str] = &[
    "1e999999",
    "-1e999999",
    "123456789012345678901234567890123456789",
    "-0",
    "0.0000000000000000000001",
    "18446744073709551616",
    "{\"a\":1,\"a\":2}",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "[]",
    "{}",
];

fn deep_json(depth: usize, objects: bool) -> Vec<u8> {
    let (open, close): (&[u8], &[u8]) = if objects {
        (b"{\"a\":", b"}")
    } else {
        (b"[", b"]")
    };
    let mut out = Vec::with_capacity(depth * (open.len() + close.len()) + 1);
    for _ in 0..depth {
        out.extend_from_slice(open);
    }
    out.push(b'1');
    for _ in 0..depth {
        out.extend_from_slice(close);
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
