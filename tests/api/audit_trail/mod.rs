//! The audit trail: change records in the write's own transaction, the
//! request log (redacted, summarised, batched), retention, and the
//! console's JSON API over both.

mod activity;
mod records;
mod request_log;
mod retention;

use std::time::{Duration, Instant};

use entity::{audit_change, audit_request};
use roster::config::{Config, OAuthClientConfig, Secret};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};

use crate::audit_admins::{ADMIN, ADMIN_PASSWORD, basic};
use crate::helpers::TestApp;

const CLIENT_SECRET: &str = "entra-client-secret-0123456789";

fn quick(c: &mut Config) {
    c.audit.flush_interval_ms = 20;
}

fn with_oauth(c: &mut Config) {
    quick(c);
    c.oauth.clients = vec![OAuthClientConfig {
        client_id: "entra".to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".to_owned()],
        scopes: vec!["scim".to_owned()],
        require_pkce: true,
    }];
}

/// Waits until the request log holds at least `n` rows.
pub async fn logged(app: &TestApp, n: u64) -> Vec<audit_request::Model> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let count = audit_request::Entity::find()
            .count(&app.request_log)
            .await
            .unwrap();
        if count >= n || Instant::now() > until {
            let mut rows = audit_request::Entity::find()
                .all(&app.request_log)
                .await
                .unwrap();
            rows.sort_by_key(|r| r.seq);
            return rows;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn admin() -> String {
    basic(ADMIN, ADMIN_PASSWORD)
}

fn stored_request(seq: i64, at: i64) -> audit_request::ActiveModel {
    audit_request::ActiveModel {
        seq: Set(seq),
        tenant_id: Set(roster::service::DEFAULT_TENANT),
        at: Set(at),
        request_id: Set(format!("old-{seq}")),
        client_addr: Set(None),
        principal: Set(None),
        method: Set("GET".to_owned()),
        route: Set("/scim/v2/Users".to_owned()),
        path: Set("/scim/v2/Users".to_owned()),
        status: Set(200),
        latency_us: Set(1),
        scim_type: Set(None),
        resource_kind: Set(None),
        operation: Set(None),
        summary: Set("listed".to_owned()),
        request_headers: Set("{}".to_owned()),
        request_body: Set(None),
        response_body: Set(None),
    }
}

fn stored_change(seq: i64, at: i64) -> audit_change::ActiveModel {
    audit_change::ActiveModel {
        seq: Set(seq),
        tenant_id: Set(roster::service::DEFAULT_TENANT),
        at: Set(at),
        request_id: Set(None),
        principal: Set(None),
        kind: Set("User".to_owned()),
        resource_id: Set(uuid::Uuid::new_v4()),
        operation: Set("create".to_owned()),
        version_before: Set(None),
        version_after: Set(Some(1)),
        label: Set(None),
        detail: Set("{}".to_owned()),
    }
}
