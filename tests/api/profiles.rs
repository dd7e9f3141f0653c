//! What Okta's SPEC suite and Entra's validator check of groups and
//! searches, with the JSON they send, under the default (`okta`) profile
//! and the ones that differ.

use futures_util::future::join_all;
use roster::scim::profile::Profile;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    okta_members_carry_display_from_current_data,
    okta_members_display_follows_renames_and_exclusion,
    okta_last_member_removed_leaves_empty_members,
    okta_put_with_no_members_answers_empty_members,
    entra_and_strict_leave_empty_members_out,
    entra_duplicate_group_name_is_409_uniqueness,
    racing_creates_of_one_group_name_yield_one_group,
    strict_allows_duplicate_group_names,
    root_search_or_across_types_finds_both,
);

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn ops(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

pub async fn with_profile(default: &TestApp, profile: Profile) -> TestApp {
    TestApp::spawn_with(default.kind, |c| c.scim.profile = profile).await
}

/// A user as Okta's SPEC suite creates it: no displayName, so `display`
/// is the userName.
async fn okta_user(app: &TestApp, user_name: &str) -> String {
    let r = app
        .post(
            "/Users",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "name": {"givenName": "Okta", "familyName": "Spec"},
                "emails": [{"primary": true, "value": user_name, "type": "work"}],
                "active": true
            }),
        )
        .await;
    r.assert_status(201);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn okta_members_carry_display_from_current_data(app: TestApp) {
    let uid = okta_user(&app, "spec.member@example.com").await;
    let named = app.create_user("named@example.com").await;
    let inner = app.create_group("Inner", &[]).await;
    // Okta's group push, with a display that is not the member's.
    let created = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": "Okta Display",
                "members": [{"value": uid, "display": "stale name"}]}),
        )
        .await;
    created.assert_status(201);
    let gid = created.body["id"].as_str().expect("id").to_owned();
    let got = app.get(&format!("/Groups/{gid}")).await;
    assert_eq!(got.body["members"][0]["display"], "spec.member@example.com");
    let add = ops(json!([{"op": "add", "path": "members",
        "value": [{"value": named, "display": "x"}, {"value": inner}]}]));
    app.patch(&format!("/Groups/{gid}"), &add)
        .await
        .assert_status(200);
    let got = app.get(&format!("/Groups/{gid}")).await;
    got.assert_status(200);
    let display = |id: &str| {
        got.body["members"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["value"] == id))
            .map(|m| m["display"].clone())
    };
    // A user's userName when it has no displayName, else its displayName;
    // a group's displayName.
    assert_eq!(display(&uid), Some(json!("spec.member@example.com")));
    assert_eq!(display(&named), Some(json!("Test User")));
    assert_eq!(display(&inner), Some(json!("Inner")));
    let list = app
        .get("/Groups?filter=displayName%20eq%20%22Okta%20Display%22")
        .await;
    assert_eq!(list.body["Resources"][0]["members"], got.body["members"]);
}

async fn okta_members_display_follows_renames_and_exclusion(app: TestApp) {
    let uid = okta_user(&app, "before@example.com").await;
    let gid = app.create_group("Renames", &[&uid]).await;
    let rename = ops(json!([{"op": "replace", "value": {"userName": "after@example.com"}}]));
    app.patch(&format!("/Users/{uid}"), &rename)
        .await
        .assert_status(200);
    let got = app.get(&format!("/Groups/{gid}")).await;
    assert_eq!(got.body["members"][0]["display"], "after@example.com");
    let excluded = app
        .get(&format!("/Groups/{gid}?excludedAttributes=members.display"))
        .await;
    assert!(excluded.body["members"][0].get("display").is_none());
    assert_eq!(excluded.body["members"][0]["value"], uid.as_str());
}

async fn okta_last_member_removed_leaves_empty_members(app: TestApp) {
    let uid = okta_user(&app, "last@example.com").await;
    let gid = app.create_group("Okta Last", &[&uid]).await;
    // Okta's SPEC suite: remove by value path, then expect an empty list.
    let r = app
        .patch(
            &format!("/Groups/{gid}"),
            &ops(json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}])),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["members"], json!([]), "{}", r.text);
    let got = app.get(&format!("/Groups/{gid}")).await;
    assert_eq!(got.body["members"], json!([]), "{}", got.text);
    let list = app.get("/Groups").await;
    assert_eq!(list.body["Resources"][0]["members"], json!([]));
    let excluded = app
        .get(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await;
    assert!(excluded.body.get("members").is_none(), "{}", excluded.text);
    let only_name = app
        .get(&format!("/Groups/{gid}?attributes=displayName"))
        .await;
    assert!(
        only_name.body.get("members").is_none(),
        "{}",
        only_name.text
    );
}

async fn okta_put_with_no_members_answers_empty_members(app: TestApp) {
    let uid = okta_user(&app, "put@example.com").await;
    let gid = app.create_group("Okta Put", &[&uid]).await;
    let r = app
        .put(
            &format!("/Groups/{gid}"),
            &json!({"schemas": [GROUP], "id": gid, "displayName": "Okta Put", "members": []}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["members"], json!([]), "{}", r.text);
    assert!(app.member_ids(&gid).await.is_empty());
}

async fn entra_and_strict_leave_empty_members_out(default: TestApp) {
    for profile in [Profile::Entra, Profile::Strict] {
        let app = with_profile(&default, profile).await;
        let gid = app.create_group("Empty", &[]).await;
        let got = app.get(&format!("/Groups/{gid}")).await;
        assert!(got.body.get("members").is_none(), "{profile}: {}", got.text);
    }
}

/// Entra's validator: `POST /Groups` twice with one displayName.
fn entra_group(name: &str) -> Value {
    json!({
        "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": uuid::Uuid::new_v4().to_string(),
        "displayName": name,
        "members": []
    })
}

async fn entra_duplicate_group_name_is_409_uniqueness(default: TestApp) {
    for profile in [Profile::Okta, Profile::Entra] {
        let app = with_profile(&default, profile).await;
        app.post("/Groups", &entra_group("Entra Validator Group"))
            .await
            .assert_status(201);
        app.post("/Groups", &entra_group("ENTRA validator group"))
            .await
            .assert_scim_error(409, Some("uniqueness"));
        // A rename onto a taken name is refused too, and changes nothing.
        let other = app.post("/Groups", &entra_group("Second")).await;
        let other = other.body["id"].as_str().expect("id").to_owned();
        let rename = ops(json!([{"op": "Replace", "path": "displayName",
            "value": "entra validator GROUP"}]));
        app.patch(&format!("/Groups/{other}"), &rename)
            .await
            .assert_scim_error(409, Some("uniqueness"));
        assert_eq!(
            app.get(&format!("/Groups/{other}")).await.body["displayName"],
            "Second"
        );
        // A freed name is free: rename the first away, then reuse it.
        let renamed = ops(json!([{"op": "Replace", "path": "displayName", "value": "Third"}]));
        app.patch(&format!("/Groups/{other}"), &renamed)
            .await
            .assert_status(200);
        app.post("/Groups", &entra_group("Second"))
            .await
            .assert_status(201);
        let total = app.get("/Groups").await.body["totalResults"].clone();
        assert_eq!(total, 3, "{profile}");
    }
}

async fn racing_creates_of_one_group_name_yield_one_group(app: TestApp) {
    let creates = (0..12).map(|i| {
        let name = if i % 2 == 0 {
            "Race Group"
        } else {
            "RACE GROUP"
        };
        let body = entra_group(name);
        let app = &app;
        async move { app.post("/Groups", &body).await.status }
    });
    let statuses = join_all(creates).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        11,
        "{statuses:?}"
    );
    assert_eq!(app.get("/Groups").await.body["totalResults"], 1);
}

async fn strict_allows_duplicate_group_names(default: TestApp) {
    let app = with_profile(&default, Profile::Strict).await;
    app.post("/Groups", &entra_group("Twice"))
        .await
        .assert_status(201);
    app.post("/Groups", &entra_group("twice"))
        .await
        .assert_status(201);
    assert_eq!(app.get("/Groups").await.body["totalResults"], 2);
}

async fn root_search_or_across_types_finds_both(app: TestApp) {
    app.post(
        "/Users",
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}),
    )
    .await
    .assert_status(201);
    app.create_user("b@example.com").await;
    app.create_group("b", &[]).await;
    app.create_group("c", &[]).await;
    let search = |filter: &str| {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": filter
        });
        let app = &app;
        async move { app.post("/.search", &body).await }
    };
    let r = search(r#"userName eq "a" or displayName eq "b""#).await;
    r.assert_status(200);
    assert_eq!(r.body["totalResults"], 2, "{}", r.text);
    let kinds: Vec<&str> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|res| res["meta"]["resourceType"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(kinds, ["User", "Group"], "{}", r.text);
    // A term a type lacks is false for it, inside and or not alike.
    let r = search(r#"userName eq "a" and displayName eq "b""#).await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.text);
    let r = search(r#"not (userName eq "a") and displayName eq "c""#).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    // An attribute no type has is still an error.
    search(r#"shoeSize eq "9" or displayName eq "b""#)
        .await
        .assert_scim_error(400, Some("invalidFilter"));
}
