//! Tenants held apart on one server: what tenant B's credential can do to
//! tenant A's resources through every endpoint (nothing), the URL form
//! that names the tenant, and removing a tenant. Shared helpers for the
//! other `tenants_*` files.

use awc::http::Method;
use roster::scim::profile::Profile;
use roster::service::tenants;
use roster::service::tokens;
use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult, JsonValue, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Resp, TOKEN, TestApp, read, url_encode, user_body};

/// A credential of one tenant, calling through the plain base path or the
/// `/t/{tenant}` form.
pub struct Caller<'a> {
    pub app: &'a TestApp,
    pub authorization: String,
    /// `/t/{name}` for the URL form, else empty.
    pub prefix: String,
}

impl<'a> Caller<'a> {
    pub fn bearer(app: &'a TestApp, token: &str) -> Self {
        Self {
            app,
            authorization: format!("Bearer {token}"),
            prefix: String::new(),
        }
    }

    /// The same credential through `/t/{tenant}/…`.
    pub fn under(&self, tenant: &str) -> Self {
        Self {
            app: self.app,
            authorization: self.authorization.clone(),
            prefix: format!("/t/{tenant}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        let base_path = self.app.base.strip_prefix(&self.app.root).unwrap_or("");
        format!("{}{}{base_path}{path}", self.app.root, self.prefix)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        self.send_with(method, path, body, None).await
    }

    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Resp {
        let mut req = awc::Client::default()
            .request(method, self.url(path))
            .insert_header(("Authorization", self.authorization.as_str()))
            .insert_header(("Accept", "application/scim+json"));
        if let Some(etag) = if_match {
            req = req.insert_header(("If-Match", etag));
        }
        let sent = match body {
            Some(b) => {
                req.insert_header(("Content-Type", "application/scim+json"))
                    .send_body(b.to_string())
                    .await
            }
            None => req.send().await,
        };
        read(sent.expect("request reaches the server")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn filter(&self, endpoint: &str, filter: &str) -> Resp {
        self.get(&format!("/{endpoint}?filter={}", url_encode(filter)))
            .await
    }

    pub async fn create_user(&self, user_name: &str) -> String {
        let r = self.post("/Users", &user_body(user_name)).await;
        r.assert_status(201);
        r.body["id"].as_str().expect("id").to_owned()
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "members": members,
        });
        let r = self.post("/Groups", &body).await;
        r.assert_status(201);
        r.body["id"].as_str().expect("id").to_owned()
    }
}

/// Adds tenant `name` and a bearer token of its own.
pub async fn tenant_with_token(db: &DatabaseConnection, name: &str) -> (Uuid, String) {
    let t = tenants::add(db, name, Profile::Okta, None)
        .await
        .expect("add tenant");
    let token = tokens::create(db, t.id, &format!("{name}-token"))
        .await
        .expect("token");
    (t.id, token.token)
}

pub fn default_caller(app: &TestApp) -> Caller<'_> {
    Caller::bearer(app, TOKEN)
}

/// Every row of every tenant-keyed table that belongs to `tenant`, as
/// sorted JSON lines: what "unchanged" is compared by.
pub async fn dump(db: &DatabaseConnection, tenant: Uuid) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut lines = Vec::new();
    for table in roster::store::tenants::TENANT_TABLES {
        let stmt = Statement::from_sql_and_values(
            backend,
            format!("SELECT * FROM {table} WHERE tenant_id = ?"),
            [tenant.into()],
        );
        let rows = JsonValue::find_by_statement(stmt)
            .all(db)
            .await
            .expect("dump");
        let mut rows: Vec<String> = rows.iter().map(|r| format!("{table} {r}")).collect();
        rows.sort();
        lines.extend(rows);
    }
    lines
}

/// The rows of `table` with this tenant id.
pub async fn rows_of(db: &DatabaseConnection, table: &str, tenant: Uuid) -> i64 {
    let stmt = Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = ?"),
        [tenant.into()],
    );
    let row = db.query_one_raw(stmt).await.expect("count").expect("row");
    row.try_get::<i64>("", "n").expect("n")
}
