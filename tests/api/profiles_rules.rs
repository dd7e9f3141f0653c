//! Each profile's rules with the JSON the IdP (or a strict RFC client)
//! sends: `okta` and `entra` read what those IdPs send, `strict` holds
//! clients to RFC 7644 and the SCIM interoperability profile, and single
//! rules stay switchable over a profile.

use roster::scim::idp_dialect::Overrides;
use roster::scim::profile::{INTEROP_PROFILE_URI, Profile};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::profiles::with_profile;

on_both_databases!(
    strict_patch_without_path_is_400,
    strict_unknown_extension_is_400,
    strict_rejects_entra_and_okta_habits,
    strict_delete_deletes_and_spc_says_so,
    okta_and_entra_read_what_they_send,
    a_rule_switched_over_a_profile,
);

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

fn ops(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Okta's deactivation: a replace whose value is an object, no path.
fn okta_deactivate() -> Value {
    ops(json!([{"op": "replace", "value": {"active": false}}]))
}

async fn strict_patch_without_path_is_400(default: TestApp) {
    let app = with_profile(&default, Profile::Strict).await;
    let id = app.create_user("strict@example.com").await;
    let path = format!("/Users/{id}");
    app.patch(&path, &okta_deactivate())
        .await
        .assert_scim_error(400, Some("invalidPath"));
    // Okta's group rename, path-less too.
    let gid = app.create_group("Strict", &[]).await;
    let rename = ops(json!([{"op": "replace", "value": {"id": gid, "displayName": "New"}}]));
    app.patch(&format!("/Groups/{gid}"), &rename)
        .await
        .assert_scim_error(400, Some("invalidPath"));
    // Nothing was written, and the same edit with a path is fine.
    assert_eq!(app.get(&path).await.body["active"], true);
    assert_eq!(app.get(&path).await.body["meta"]["version"], "W/\"1\"");
    app.patch(
        &path,
        &ops(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await
    .assert_status(200);
    assert_eq!(app.get(&path).await.body["active"], false);
}

/// A user carrying an extension object the server has not loaded.
fn with_unknown_extension(user_name: &str) -> Value {
    json!({
        "schemas": [USER, ACME],
        "userName": user_name,
        ACME: {"badge": "7"}
    })
}

async fn strict_unknown_extension_is_400(default: TestApp) {
    let strict = with_profile(&default, Profile::Strict).await;
    strict
        .post("/Users", &with_unknown_extension("x@example.com"))
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
    assert_eq!(strict.get("/Users").await.body["totalResults"], 0);
    // An unknown core attribute is 400 in every profile.
    let shoe = json!({"schemas": [USER], "userName": "y@example.com", "shoeSize": 9});
    strict
        .post("/Users", &shoe)
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
    default
        .post("/Users", &shoe)
        .await
        .assert_scim_error(400, Some("invalidSyntax"));
    // The okta profile keeps the extension as sent.
    let kept = default
        .post("/Users", &with_unknown_extension("x@example.com"))
        .await;
    kept.assert_status(201);
    assert_eq!(kept.body[ACME]["badge"], "7");
}

async fn strict_rejects_entra_and_okta_habits(default: TestApp) {
    let app = with_profile(&default, Profile::Strict).await;
    let id = app.create_user("habits@example.com").await;
    let path = format!("/Users/{id}");
    let cases = [
        // Entra: capitalized op, string boolean.
        (
            json!([{"op": "Replace", "path": "active", "value": false}]),
            "invalidSyntax",
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "False"}]),
            "invalidValue",
        ),
    ];
    for (body, scim_type) in cases {
        app.patch(&path, &ops(body.clone()))
            .await
            .assert_scim_error(400, Some(scim_type));
    }
    // Entra's legacy member removal clears the attribute, as RFC 7644
    // §3.5.2.2 reads it.
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let gid = app.create_group("Legacy", &[&a, &b]).await;
    app.patch(
        &format!("/Groups/{gid}"),
        &ops(json!([{"op": "remove", "path": "members", "value": [{"value": a}]}])),
    )
    .await
    .assert_status(200);
    assert!(app.member_ids(&gid).await.is_empty());
}

async fn strict_delete_deletes_and_spc_says_so(default: TestApp) {
    let app = with_profile(&default, Profile::Strict).await;
    let id = app.create_user("gone@example.com").await;
    app.delete(&format!("/Users/{id}")).await.assert_status(204);
    app.get(&format!("/Users/{id}"))
        .await
        .assert_scim_error(404, None);
    let found = app
        .filter("/Users", r#"userName eq "gone@example.com""#)
        .await;
    assert_eq!(found.body["totalResults"], 0);
    // The name is free again.
    app.create_user("gone@example.com").await;

    // ServiceProviderConfig names the interoperability profile, within
    // the RFC's own fields; the default profile's names nothing.
    let spc = app.get("/ServiceProviderConfig").await;
    spc.assert_status(200);
    assert_eq!(
        spc.body["documentationUri"], INTEROP_PROFILE_URI,
        "{}",
        spc.text
    );
    assert_eq!(
        spc.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    let okta = default.get("/ServiceProviderConfig").await;
    assert!(okta.body.get("documentationUri").is_none(), "{}", okta.text);

    // Members carry display only on request, as RFC 7643 defines them.
    let gid = app
        .create_group("Strict members", &[&id_again(&app).await])
        .await;
    let got = app.get(&format!("/Groups/{gid}")).await;
    assert!(
        got.body["members"][0].get("display").is_none(),
        "{}",
        got.text
    );
    let asked = app
        .get(&format!("/Groups/{gid}?attributes=members.display"))
        .await;
    assert_eq!(asked.body["members"][0]["display"], "Test User");
}

async fn id_again(app: &TestApp) -> String {
    let r = app
        .filter("/Users", r#"userName eq "gone@example.com""#)
        .await;
    r.body["Resources"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn okta_and_entra_read_what_they_send(default: TestApp) {
    let entra = with_profile(&default, Profile::Entra).await;
    for app in [&default, &entra] {
        let id = app.create_user("lenient@example.com").await;
        let path = format!("/Users/{id}");
        // Okta: path-less deactivation.
        app.patch(&path, &okta_deactivate())
            .await
            .assert_status(200);
        assert_eq!(app.get(&path).await.body["active"], false);
        // Entra: `"Replace"` with the string "True".
        app.patch(
            &path,
            &ops(json!([{"op": "Replace", "path": "active", "value": "True"}])),
        )
        .await
        .assert_status(200);
        assert_eq!(app.get(&path).await.body["active"], true);
        // Entra: legacy removal of only the listed member.
        let other = app.create_user("other@example.com").await;
        let gid = app.create_group("Lenient", &[&id, &other]).await;
        app.patch(
            &format!("/Groups/{gid}"),
            &ops(json!([{"op": "Remove", "path": "members",
                "value": [{"$ref": null, "value": id}]}])),
        )
        .await
        .assert_status(200);
        assert_eq!(app.member_ids(&gid).await, vec![other.clone()]);
    }
}

async fn a_rule_switched_over_a_profile(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| {
        c.scim.profile = Profile::Strict;
        c.scim.dialect = Overrides {
            pathless_patch: Some(true),
            ..Overrides::default()
        };
    })
    .await;
    let id = app.create_user("switched@example.com").await;
    let path = format!("/Users/{id}");
    app.patch(&path, &okta_deactivate())
        .await
        .assert_status(200);
    // The profile's other rules hold.
    app.patch(
        &path,
        &ops(json!([{"op": "replace", "path": "active", "value": "True"}])),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    // And the other way: unique names off in the okta profile.
    let free = TestApp::spawn_with(default.kind, |c| {
        c.scim.dialect.unique_group_names = Some(false);
    })
    .await;
    free.create_group("Same", &[]).await;
    free.create_group("Same", &[]).await;
}
