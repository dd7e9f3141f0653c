//! attributes / excludedAttributes (RFC 7644 §3.4.2.5, §3.9) on every read
//! and write response.

use serde_json::{Value, json};

use crate::helpers::{TestApp, displays, url_encode};
use crate::on_both_databases;

on_both_databases!(
    list_and_get_return_what_was_asked,
    value_paths_and_extensions_select_parts,
    write_responses_are_projected_too,
    always_and_never_returned_attributes_win,
    a_listed_user_is_what_get_answers,
    users_in_many_groups_are_listed_with_all_of_them,
);

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn full_user() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "bjensen@example.com",
        "externalId": "bj",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "emails": [
            {"value": "bj@work.example", "type": "work", "primary": true},
            {"value": "bj@home.example", "type": "home"}
        ],
        ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "m-1", "displayName": "Boss"}}
    })
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

async fn list_and_get_return_what_was_asked(app: TestApp) {
    let id = app.post("/Users", &full_user()).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let list = app.get("/Users?attributes=userName").await;
    list.assert_status(200);
    assert_eq!(
        keys(&list.body["Resources"][0]),
        ["id", "schemas", "userName"]
    );
    assert_eq!(list.body["Resources"][0]["schemas"], json!([USER]));
    let one = app
        .get(&format!(
            "/Users/{id}?attributes=name.givenName,displayName"
        ))
        .await;
    one.assert_status(200);
    assert_eq!(keys(&one.body), ["displayName", "id", "name", "schemas"]);
    assert_eq!(one.body["name"], json!({"givenName": "Barbara"}));
    let without = app
        .get(&format!(
            "/Users/{id}?excludedAttributes=emails,meta,name.familyName"
        ))
        .await;
    assert!(without.body.get("emails").is_none());
    assert!(without.body.get("meta").is_none());
    assert_eq!(without.body["name"], json!({"givenName": "Barbara"}));
    assert_eq!(without.body["userName"], "bjensen@example.com");
    // Entra's manager check asks for the id alone.
    let q = url_encode(&format!("id eq {id}"));
    let ids = app.get(&format!("/Users?filter={q}&attributes=id")).await;
    assert_eq!(keys(&ids.body["Resources"][0]), ["id", "schemas"]);
    // Unknown names select nothing rather than failing.
    let none = app.get(&format!("/Users/{id}?attributes=shoeSize")).await;
    none.assert_status(200);
    assert_eq!(keys(&none.body), ["id", "schemas"]);
    app.get(&format!("/Users/{id}?attributes=emails[type"))
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

async fn value_paths_and_extensions_select_parts(app: TestApp) {
    let id = app.post("/Users", &full_user()).await.body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let get = |q: String| {
        let app = &app;
        let id = id.clone();
        async move {
            let r = app.get(&format!("/Users/{id}?{q}")).await;
            r.assert_status(200);
            r.body
        }
    };
    let work = get(format!(
        "attributes={}",
        url_encode(r#"emails[type eq "work"]"#)
    ))
    .await;
    assert_eq!(
        work["emails"],
        json!([{"value": "bj@work.example", "type": "work", "primary": true}])
    );
    let values = get(format!(
        "attributes={}",
        url_encode(r#"emails[type eq "WORK" or type eq "home"].value,userName"#)
    ))
    .await;
    assert_eq!(
        values["emails"],
        json!([{"value": "bj@work.example"}, {"value": "bj@home.example"}])
    );
    assert_eq!(values["userName"], "bjensen@example.com");
    let ext = get(format!("attributes={ENTERPRISE}")).await;
    assert_eq!(ext["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(ext[ENTERPRISE]["employeeNumber"], "701984");
    assert!(ext.get("userName").is_none());
    let manager = get(format!("attributes={ENTERPRISE}:manager.value")).await;
    assert_eq!(manager[ENTERPRISE], json!({"manager": {"value": "m-1"}}));
    let no_ext = get(format!("excludedAttributes={ENTERPRISE}")).await;
    assert!(no_ext.get(ENTERPRISE).is_none());
    assert_eq!(no_ext["schemas"], json!([USER]));
    let home = get(format!(
        "excludedAttributes={}",
        url_encode(r#"emails[type eq "work"]"#)
    ))
    .await;
    assert_eq!(
        home["emails"],
        json!([{"value": "bj@home.example", "type": "home"}])
    );

    // Groups: members by sub-attribute or value path.
    let g = app.create_group("Team", &[&id]).await;
    let r = app
        .get(&format!("/Groups/{g}?attributes=members.value"))
        .await;
    assert_eq!(r.body["members"], json!([{"value": id}]));
    assert!(r.body.get("displayName").is_none());
    let r = app
        .get(&format!(
            "/Groups?attributes={}",
            url_encode(r#"displayName,members[type eq "User"]"#)
        ))
        .await;
    assert_eq!(r.body["Resources"][0]["members"][0]["value"], json!(id));
}

async fn write_responses_are_projected_too(app: TestApp) {
    let created = app.post("/Users?attributes=userName", &full_user()).await;
    created.assert_status(201);
    assert_eq!(keys(&created.body), ["id", "schemas", "userName"]);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(created.header("location").is_some_and(|l| l.ends_with(&id)));
    let mut replacement = full_user();
    replacement["displayName"] = json!("Barbara J");
    let put = app
        .put(
            &format!("/Users/{id}?excludedAttributes=emails,{ENTERPRISE}"),
            &replacement,
        )
        .await;
    put.assert_status(200);
    assert!(put.body.get("emails").is_none());
    assert!(put.body.get(ENTERPRISE).is_none());
    assert_eq!(put.body["displayName"], "Barbara J");
    let patch = app
        .patch(
            &format!("/Users/{id}?attributes=active"),
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": false}]
            }),
        )
        .await;
    patch.assert_status(200);
    assert_eq!(keys(&patch.body), ["active", "id", "schemas"]);
    assert_eq!(patch.body["active"], false);

    let group = app
        .post(
            "/Groups?excludedAttributes=members",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops", "members": [{"value": id}]}),
        )
        .await;
    group.assert_status(201);
    assert!(group.body.get("members").is_none());
    let gid = group.body["id"].as_str().expect("id").to_owned();
    assert_eq!(app.member_ids(&gid).await, vec![id.clone()]);
    let renamed = app
        .patch(
            &format!("/Groups/{gid}?attributes=displayName"),
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "displayName", "value": "Ops2"}]
            }),
        )
        .await;
    renamed.assert_status(200);
    assert_eq!(keys(&renamed.body), ["displayName", "id", "schemas"]);
    let put = app
        .put(
            &format!("/Groups/{gid}?attributes=members"),
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops3", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(keys(&put.body), ["id", "members", "schemas"]);
}

async fn always_and_never_returned_attributes_win(app: TestApp) {
    let mut body = full_user();
    body["password"] = json!("s3cret!");
    let r = app.post("/Users?attributes=password", &body).await;
    r.assert_status(201);
    assert_eq!(keys(&r.body), ["id", "schemas"]);
    let id = r.body["id"].as_str().expect("id");
    let r = app
        .get(&format!("/Users/{id}?excludedAttributes=id,userName"))
        .await;
    assert_eq!(r.body["id"], json!(id));
    assert!(r.body.get("userName").is_none());
}

/// Lists write users out on their own path (`PageItem::Written`), GET on
/// its own: the two must agree for every projection.
async fn a_listed_user_is_what_get_answers(app: TestApp) {
    let mut bare = crate::helpers::user_body("bare@example.com");
    bare["emails"] = json!([{"value": "b@x.example"}, {}]);
    let ids = [
        app.post("/Users", &full_user()).await.body["id"].clone(),
        app.post("/Users", &bare).await.body["id"].clone(),
    ];
    let id = |i: usize| ids[i].as_str().expect("id").to_owned();
    // Created out of name order: groups are shown by display name.
    for name in ["zeta", "mid", "admins"] {
        app.create_group(name, &[&id(0)]).await;
    }
    let projections = [
        "",
        "attributes=userName,groups.display",
        "excludedAttributes=emails,meta",
        &format!("attributes={ENTERPRISE}:manager.displayName,name.givenName"),
        "attributes=emails[type eq \"work\"].value",
    ];
    for projection in projections {
        let query = url_encode(projection).replace("%3D", "=");
        let list = app.get(&format!("/Users?{query}")).await;
        list.assert_status(200);
        let listed = list.body["Resources"].as_array().expect("Resources");
        assert_eq!(listed.len(), 2, "{}", list.text);
        for (i, user) in listed.iter().enumerate() {
            let one = app.get(&format!("/Users/{}?{query}", id(i))).await;
            one.assert_status(200);
            assert_eq!(user, &one.body, "{projection}");
        }
    }
    // The projections above are not all the same answer.
    let list = app.get("/Users").await;
    let shown = displays(&list.body["Resources"][0]["groups"]);
    assert_eq!(shown, ["admins", "mid", "zeta"]);
    let full = app.get(&format!("/Users/{}", id(0))).await;
    assert_eq!(full.body[ENTERPRISE]["employeeNumber"], "701984");
}

/// MariaDB reads a page's groups with its users by a join, which it
/// limits to 32 rows; a page whose users are in more groups than that is
/// read another way, never cut short.
async fn users_in_many_groups_are_listed_with_all_of_them(app: TestApp) {
    let mut ids = Vec::new();
    for name in ["a@example.com", "b@example.com", "c@example.com"] {
        let user = app.post("/Users", &crate::helpers::user_body(name)).await;
        ids.push(user.body["id"].as_str().expect("id").to_owned());
    }
    let members: Vec<&str> = ids.iter().map(String::as_str).collect();
    let names: Vec<String> = (0..12).map(|i| format!("g{i:02}")).collect();
    for name in names.iter().rev() {
        app.create_group(name, &members).await;
    }
    let pages = [
        // 12 joined rows: whole.
        ("filter=userName%20eq%20%22a@example.com%22", 1),
        ("count=1", 1),
        ("count=2", 2),
        // 36 joined rows, 32 read.
        ("count=3", 3),
        ("", 3),
    ];
    for (query, users) in pages {
        let list = app.get(&format!("/Users?{query}")).await;
        list.assert_status(200);
        let listed = list.body["Resources"].as_array().expect("Resources");
        assert_eq!(listed.len(), users, "{query}: {}", list.text);
        for user in listed {
            assert_eq!(displays(&user["groups"]), names, "{query}");
        }
    }
}
