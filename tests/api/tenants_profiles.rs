//! Each tenant's requests follow its own profile: the same PATCH or group
//! name is accepted for one tenant and refused for another, and a rule
//! switched on the tenant row wins over its profile.

use awc::http::Method;
use roster::scim::profile::Profile;
use roster::service::{tenants, tokens};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::tenants::{Caller, default_caller};

on_both_databases!(each_tenant_follows_its_own_profile);

async fn caller_of<'a>(
    app: &'a TestApp,
    name: &str,
    profile: Profile,
    rules: &[&str],
) -> Caller<'a> {
    let rules: Vec<String> = rules.iter().map(|r| (*r).to_owned()).collect();
    let overrides = tenants::overrides_from_pairs(&rules).expect("rules");
    let t = tenants::add(&app.db, name, profile, overrides)
        .await
        .expect("add tenant");
    let token = tokens::create(&app.db, t.id, &format!("{name}-token"))
        .await
        .expect("token");
    Caller::bearer(app, &token.token)
}

async fn each_tenant_follows_its_own_profile(app: TestApp) {
    let okta = default_caller(&app);
    let strict = caller_of(&app, "strictco", Profile::Strict, &[]).await;
    let entra_open = caller_of(&app, "entraco", Profile::Entra, &["unique_group_names=off"]).await;

    // A PATCH operation without a path: Okta's and Entra's habit, which
    // the strict profile refuses.
    let pathless = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "value": {"active": false}}]});
    for (caller, status) in [(&okta, 200), (&strict, 400)] {
        let id = caller.create_user("pat@example.com").await;
        let r = caller
            .send(Method::PATCH, &format!("/Users/{id}"), Some(&pathless))
            .await;
        assert_eq!(r.status, status, "{}", r.text);
    }

    // Group names: unique for okta (the default), repeatable where the
    // tenant switched the rule off and in strict.
    for (caller, second) in [(&okta, 409), (&entra_open, 201), (&strict, 201)] {
        caller.create_group("Engineering", &[]).await;
        let again = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                           "displayName": "engineering"});
        let r = caller.post("/Groups", &again).await;
        assert_eq!(r.status, second, "{}", r.text);
    }

    // An empty group: `members: []` in okta, left out in entra.
    let empty = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                       "displayName": "Empty"});
    let r = okta.post("/Groups", &empty).await;
    assert_eq!(r.body["members"], json!([]), "{}", r.text);
    let r = entra_open.post("/Groups", &empty).await;
    assert!(r.body.get("members").is_none(), "{}", r.text);
}
