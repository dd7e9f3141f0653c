//! The fuzzer's generator: requests to every endpoint, most of them
//! mutations of valid SCIM requests (bodies, filters, query parameters and
//! headers), some random bytes. Everything comes from one seeded `StdRng`,
//! so a seed replays the same sequence.

use awc::http::Method;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::url_encode;

pub const BASE: &str = "/scim/v2";
pub(super) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(super) const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

pub(super) const ATTRS: &[&str] = &[
    "userName",
    "displayName",
    "name.givenName",
    "name.familyName",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "active",
    "externalId",
    "id",
    "meta.created",
    "meta.lastModified",
    "meta.version",
    "members",
    "members.value",
    "members.display",
    "groups",
    "groups.value",
    "title",
    "nickName",
    "phoneNumbers.value",
    "addresses.locality",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "x",
    "",
    "name.",
    ".",
    "emails..value",
    "meta",
    "schemas",
    "password",
    "ünïcödé",
    "a.b.c.d",
];
pub(super) const OPS: &[&str] = &[
    "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co", "xx", "=",
];

/// One request as the fuzzer sends it.
#[derive(Clone)]
pub struct Req {
    pub method: Method,
    pub uri: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Req {
    /// Enough to send it again by hand.
    pub fn describe(&self) -> String {
        // A gzipped body is shown inflated, as the server read it.
        let mut inflated = Vec::new();
        let gzipped = {
            use std::io::Read;
            self.body.starts_with(&[0x1f, 0x8b])
                && flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut inflated)
                    .is_ok()
        };
        let shown = if gzipped { &inflated } else { &self.body };
        let body = String::from_utf8_lossy(&shown[..shown.len().min(2_000)]).into_owned();
        let note = if gzipped { ", shown inflated" } else { "" };
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v)))
            .collect();
        format!(
            "{} {}\n{}\n\n{body:?} ({} bytes{note})",
            self.method,
            self.uri,
            headers.join("\n"),
            shown.len()
        )
    }
}

pub struct Gen {
    pub(super) rng: StdRng,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub(super) n: u64,
}

impl Gen {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            users: Vec::new(),
            groups: Vec::new(),
            n: 0,
        }
    }

    pub(super) fn pct(&mut self, p: u32) -> bool {
        self.rng.random_range(0..100) < p
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    pub fn request(&mut self) -> Req {
        self.n += 1;
        let mut req = match self.rng.random_range(0..100) {
            0..18 => self.create(),
            18..30 => self.list(),
            30..40 => self.get_one(),
            40..50 => self.replace(),
            50..62 => self.patch(),
            62..66 => self.delete(),
            66..74 => self.search(),
            74..80 => self.bulk(),
            80..85 => self.discovery(),
            85..90 => self.oauth(),
            _ => self.random_request(),
        };
        // What HTTP/1 servers take as a request line; longer ones never
        // reach the application.
        req.uri.truncate(8_000);
        if req.uri.parse::<awc::http::Uri>().is_err() {
            req.uri = format!("{BASE}/Users");
        }
        self.headers(&mut req);
        req
    }

    fn new_req(method: Method, uri: String, body: Vec<u8>) -> Req {
        Req {
            method,
            uri,
            headers: Vec::new(),
            body,
        }
    }

    pub(super) fn kind(&mut self) -> &'static str {
        if self.pct(60) { "Users" } else { "Groups" }
    }

    pub(super) fn id(&mut self, kind: &str) -> String {
        let count = if kind == "Users" {
            self.users.len()
        } else {
            self.groups.len()
        };
        if count > 0 && self.pct(80) {
            let i = self.rng.random_range(0..count);
            return if kind == "Users" {
                self.users[i].clone()
            } else {
                self.groups[i].clone()
            };
        }
        match self.rng.random_range(0..6) {
            0 => uuid::Uuid::from_u128(self.rng.random()).to_string(),
            1 => url_encode(&self.weird_string()),
            2 => "00000000-0000-0000-0000-000000000000".to_owned(),
            3 => ".search".to_owned(),
            4 => "%00%ff%c0%af".to_owned(),
            _ => "x".repeat(self.rng.random_range(1..3_000)),
        }
    }

    fn create(&mut self) -> Req {
        let kind = self.kind();
        let doc = if kind == "Users" {
            self.user()
        } else {
            self.group()
        };
        let body = self.body(doc);
        Self::new_req(Method::POST, format!("{BASE}/{kind}"), body)
    }

    fn replace(&mut self) -> Req {
        let kind = self.kind();
        let id = self.id(kind);
        let doc = if kind == "Users" {
            self.user()
        } else {
            self.group()
        };
        let body = self.body(doc);
        Self::new_req(
            Method::PUT,
            format!("{BASE}/{kind}/{id}{}", self.query()),
            body,
        )
    }

    fn get_one(&mut self) -> Req {
        let kind = self.kind();
        let id = self.id(kind);
        Self::new_req(
            Method::GET,
            format!("{BASE}/{kind}/{id}{}", self.query()),
            Vec::new(),
        )
    }

    fn delete(&mut self) -> Req {
        let kind = self.kind();
        let id = self.id(kind);
        Self::new_req(Method::DELETE, format!("{BASE}/{kind}/{id}"), Vec::new())
    }

    fn list(&mut self) -> Req {
        let kind = self.kind();
        Self::new_req(
            Method::GET,
            format!("{BASE}/{kind}{}", self.query()),
            Vec::new(),
        )
    }

    fn patch(&mut self) -> Req {
        let kind = self.kind();
        let id = self.id(kind);
        let doc = self.patch_doc(kind);
        let body = self.body(doc);
        Self::new_req(
            Method::PATCH,
            format!("{BASE}/{kind}/{id}{}", self.query()),
            body,
        )
    }

    fn search(&mut self) -> Req {
        let path = self
            .pick(&[
                "/Users/.search",
                "/Groups/.search",
                "/.search",
                "/Users/.search/x",
            ])
            .to_string();
        let mut doc = json!({"schemas": [SEARCH]});
        for (key, p) in [
            ("filter", 80),
            ("attributes", 20),
            ("excludedAttributes", 20),
            ("sortBy", 30),
            ("sortOrder", 20),
            ("startIndex", 30),
            ("count", 40),
            ("cursor", 10),
        ] {
            if self.pct(p) {
                doc[key] = self.search_param(key);
            }
        }
        let body = self.body(doc);
        Self::new_req(Method::POST, format!("{BASE}{path}"), body)
    }

    fn search_param(&mut self, key: &str) -> Value {
        match key {
            "filter" => Value::String(self.filter(3)),
            "attributes" | "excludedAttributes" if self.pct(50) => {
                let n = self.rng.random_range(0..4);
                Value::Array(
                    (0..n)
                        .map(|_| Value::String(self.pick(ATTRS).to_string()))
                        .collect(),
                )
            }
            "attributes" | "excludedAttributes" | "sortBy" => Value::String(self.attr_list()),
            "sortOrder" => json!(self.pick(&["ascending", "descending", "up", "", "DESCENDING"])),
            "startIndex" | "count" => self.number(),
            _ => Value::String(self.weird_string()),
        }
    }

    fn bulk(&mut self) -> Req {
        let n = self.rng.random_range(0..6);
        let mut ops = Vec::new();
        for i in 0..n {
            let kind = self.kind();
            let method = *self.pick(&["POST", "PUT", "PATCH", "DELETE", "GET", "post", ""]);
            let mut op = json!({"method": method, "bulkId": format!("b{i}")});
            op["path"] = match method {
                "POST" | "post" => json!(format!("/{kind}")),
                _ if self.pct(20) => {
                    json!(format!("/{kind}/bulkId:b{}", self.rng.random_range(0..n)))
                }
                _ => json!(format!("/{kind}/{}", self.id(kind))),
            };
            op["data"] = match method {
                "PATCH" => self.patch_doc(kind),
                _ if kind == "Users" => self.user(),
                _ => self.group(),
            };
            if self.pct(10) {
                op["version"] = json!(self.pick(&["W/\"1\"", "*", "garbage"]));
            }
            ops.push(op);
        }
        let mut doc = json!({"schemas": [BULK], "Operations": ops});
        if self.pct(30) {
            doc["failOnErrors"] = self.number();
        }
        let body = self.body(doc);
        Self::new_req(Method::POST, format!("{BASE}/Bulk"), body)
    }

    fn discovery(&mut self) -> Req {
        let path = match self.rng.random_range(0..8) {
            0 => "/ServiceProviderConfig".to_owned(),
            1 => "/ResourceTypes".to_owned(),
            2 => format!(
                "/ResourceTypes/{}",
                self.pick(&["User", "Group", "user", "X", "%2e%2e"])
            ),
            3 => "/Schemas".to_owned(),
            4 => format!(
                "/Schemas/{}",
                self.pick(&[USER, GROUP, ENTERPRISE, "urn:x", "%00"])
            ),
            5 => "/Me".to_owned(),
            6 => "/Bulk".to_owned(),
            _ => format!("/{}", url_encode(&self.weird_string())),
        };
        let method = self.method();
        Self::new_req(method, format!("{BASE}{path}{}", self.query()), Vec::new())
    }

    fn oauth(&mut self) -> Req {
        let path = *self.pick(&[
            "/oauth2/token",
            "/oauth2/authorize",
            "/oauth2/jwks",
            "/.well-known/oauth-authorization-server",
            "/oauth2/x",
        ]);
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, values) in [
            (
                "grant_type",
                &[
                    "client_credentials",
                    "authorization_code",
                    "refresh_token",
                    "password",
                    "",
                ][..],
            ),
            ("client_id", &["fuzz", "other", ""][..]),
            ("client_secret", &["fuzz-secret-0123456789", "wrong"][..]),
            ("scope", &["scim", "scim other", ""][..]),
            ("response_type", &["code", "token"][..]),
            (
                "redirect_uri",
                &["https://idp.example/cb", "javascript:alert(1)"][..],
            ),
            ("code", &["abc"][..]),
            (
                "code_challenge",
                &["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"][..],
            ),
            ("code_challenge_method", &["S256", "plain"][..]),
            ("refresh_token", &["roster_rt_x"][..]),
            ("state", &["s"][..]),
        ] {
            if self.pct(40) {
                let v = if self.pct(10) {
                    self.weird_string()
                } else {
                    self.pick(values).to_string()
                };
                pairs.push((key.to_owned(), v));
            }
        }
        let form: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        let form = form.join("&");
        let method = if self.pct(60) {
            Method::POST
        } else {
            self.method()
        };
        if method == Method::POST {
            let mut req = Self::new_req(method, path.to_owned(), form.into_bytes());
            req.headers.push((
                "Content-Type".into(),
                b"application/x-www-form-urlencoded".to_vec(),
            ));
            req
        } else {
            Self::new_req(method, format!("{path}?{form}"), Vec::new())
        }
    }

    fn random_request(&mut self) -> Req {
        let method = self.method();
        let path = match self.rng.random_range(0..4) {
            0 => format!("{BASE}/{}", self.kind()),
            1 => format!("{BASE}/{}/{}", self.kind(), self.id("Users")),
            2 => format!("{BASE}/Bulk"),
            _ => format!("/{}", url_encode(&self.weird_string())),
        };
        let len = self.rng.random_range(0..512);
        let mut body = vec![0u8; len];
        self.rng.fill_bytes(&mut body);
        Self::new_req(method, path, body)
    }

    fn method(&mut self) -> Method {
        let m = *self.pick(&[
            "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FUZZ",
        ]);
        Method::from_bytes(m.as_bytes()).expect("a method")
    }
}
