//! The isolation matrix: tenant B's credential against tenant A's
//! resources, endpoint by endpoint. Each attempt must find nothing, change
//! nothing and count nothing; A's rows are compared before and after.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::tenants::{Caller, default_caller, dump, tenant_with_token};

on_both_databases!(
    tenant_b_cannot_read_find_or_count_tenant_a,
    tenant_b_cannot_modify_or_reference_tenant_a,
    cursors_and_etags_are_bound_to_their_tenant,
    the_url_may_name_the_tenant_and_must_agree,
);

struct Two<'a> {
    a: Caller<'a>,
    b: Caller<'a>,
    a_id: uuid::Uuid,
    alice: String,
    bob: String,
    eng: String,
}

/// Tenants `acme` (A: alice, bob, group eng) and `beta` (B: its own
/// alice), and the default tenant's own alice.
async fn two_tenants(app: &TestApp) -> Two<'_> {
    let (a_id, a_token) = tenant_with_token(&app.db, "acme").await;
    let (_, b_token) = tenant_with_token(&app.db, "beta").await;
    let a = Caller::bearer(app, &a_token);
    let b = Caller::bearer(app, &b_token);
    let alice = a.create_user("alice@example.com").await;
    let bob = a.create_user("bob@example.com").await;
    let eng = a.create_group("eng", &[&alice]).await;
    // The same userName in every tenant: uniqueness is per tenant.
    b.create_user("alice@example.com").await;
    default_caller(app).create_user("alice@example.com").await;
    Two {
        a,
        b,
        a_id,
        alice,
        bob,
        eng,
    }
}

fn total(r: &crate::helpers::Resp) -> u64 {
    r.assert_status(200);
    r.body["totalResults"].as_u64().expect("totalResults")
}

async fn tenant_b_cannot_read_find_or_count_tenant_a(app: TestApp) {
    let t = two_tenants(&app).await;
    let before = dump(&app.db, t.a_id).await;
    for path in [
        format!("/Users/{}", t.alice),
        format!("/Users/{}", t.bob),
        format!("/Groups/{}", t.eng),
        format!("/Groups/{}?attributes=members", t.eng),
    ] {
        t.b.get(&path).await.assert_scim_error(404, None);
        t.a.get(&path).await.assert_status(200);
    }
    // Filters, on every path to the rows: by userName, by id, by member.
    assert_eq!(
        total(
            &t.b.filter("Users", r#"userName eq "bob@example.com""#)
                .await
        ),
        0
    );
    assert_eq!(
        total(&t.b.filter("Users", &format!(r#"id eq "{}""#, t.bob)).await),
        0
    );
    assert_eq!(
        total(&t.b.filter("Groups", r#"displayName eq "eng""#).await),
        0
    );
    let by_member = format!(r#"members.value eq "{}""#, t.alice);
    assert_eq!(total(&t.b.filter("Groups", &by_member).await), 0);
    assert_eq!(total(&t.a.filter("Groups", &by_member).await), 1);
    let by_group = format!(r#"groups.value eq "{}""#, t.eng);
    assert_eq!(total(&t.b.filter("Users", &by_group).await), 0);
    // The one alice B sees is its own.
    let found =
        t.b.filter("Users", r#"userName eq "alice@example.com""#)
            .await;
    assert_eq!(total(&found), 1);
    assert_ne!(found.body["Resources"][0]["id"], t.alice.as_str());
    // Counts.
    assert_eq!(total(&t.b.get("/Users").await), 1);
    assert_eq!(total(&t.b.get("/Groups").await), 0);
    assert_eq!(total(&t.a.get("/Users").await), 2);
    assert_eq!(total(&t.b.get("/Users?count=0").await), 1);
    // POST /.search, at the root and per endpoint.
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName sw \"bob\"",
    });
    assert_eq!(total(&t.b.post("/.search", &search).await), 0);
    assert_eq!(total(&t.b.post("/Users/.search", &search).await), 0);
    assert_eq!(total(&t.a.post("/.search", &search).await), 1);
    let everything = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    assert_eq!(total(&t.b.post("/.search", &everything).await), 1);
    // Discovery answers every tenant alike and names no resource.
    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
        let r = t.b.get(path).await;
        r.assert_status(200);
        assert!(!r.text.contains(&t.alice), "{path}");
    }
    assert_eq!(dump(&app.db, t.a_id).await, before);
}

async fn tenant_b_cannot_modify_or_reference_tenant_a(app: TestApp) {
    let t = two_tenants(&app).await;
    let before = dump(&app.db, t.a_id).await;
    let user = crate::helpers::user_body("taken@example.com");
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    });
    let add_member = |id: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}],
        })
    };
    let alice = format!("/Users/{}", t.alice);
    let eng = format!("/Groups/{}", t.eng);
    t.b.send(Method::PUT, &alice, Some(&user))
        .await
        .assert_scim_error(404, None);
    t.b.send(Method::PATCH, &alice, Some(&patch))
        .await
        .assert_scim_error(404, None);
    t.b.send(Method::DELETE, &alice, None)
        .await
        .assert_scim_error(404, None);
    t.b.send(Method::PATCH, &eng, Some(&add_member(&t.alice)))
        .await
        .assert_scim_error(404, None);
    t.b.send(Method::DELETE, &eng, None)
        .await
        .assert_scim_error(404, None);
    // A member `value` (and the `$ref` beside it) naming A's user is no
    // member B can have, in a new group or a PATCH of its own.
    let stray = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "stray",
        "members": [{"value": t.alice, "$ref": t.a.url(&alice)}],
    });
    t.b.post("/Groups", &stray)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let own = t.b.create_group("own", &[]).await;
    t.b.send(
        Method::PATCH,
        &format!("/Groups/{own}"),
        Some(&add_member(&t.bob)),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    // Bulk: A's ids are not B's, bulkIds resolve within the request only.
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "DELETE", "path": alice},
            {"method": "PATCH", "path": eng, "data": add_member(&t.alice)},
            {"method": "PUT", "path": format!("/Users/{}", t.bob), "data": user},
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                      "displayName": "bulk", "members": [{"value": t.bob}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u",
             "data": crate::helpers::user_body("bulk@example.com")},
            {"method": "POST", "path": "/Groups", "bulkId": "g2",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                      "displayName": "bulk-ok", "members": [{"value": "bulkId:u"}]}},
        ],
    });
    let r = t.b.post("/Bulk", &bulk).await;
    r.assert_status(200);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| o["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        ["404", "404", "404", "400", "201", "201"],
        "{}",
        r.text
    );
    assert_eq!(dump(&app.db, t.a_id).await, before);
    // A still sees exactly what it had.
    let group = t.a.get(&eng).await;
    assert_eq!(
        crate::helpers::member_values(&group.body),
        std::slice::from_ref(&t.alice)
    );
    assert_eq!(total(&t.a.get("/Users").await), 2);
}

async fn cursors_and_etags_are_bound_to_their_tenant(app: TestApp) {
    let t = two_tenants(&app).await;
    t.b.create_user("carol@example.com").await;
    let page = t.a.get("/Users?cursor&count=1&sortBy=userName").await;
    page.assert_status(200);
    let cursor = page.body["nextCursor"]
        .as_str()
        .expect("nextCursor")
        .to_owned();
    let next = format!("/Users?cursor={cursor}&count=1&sortBy=userName");
    t.b.get(&next)
        .await
        .assert_scim_error(400, Some("invalidCursor"));
    let second = t.a.get(&next).await;
    second.assert_status(200);
    assert_eq!(second.body["Resources"][0]["id"], t.bob.as_str());
    // An ETag of A's resource is no way to learn of it or change it in B.
    let alice = format!("/Users/{}", t.alice);
    let etag =
        t.a.get(&alice)
            .await
            .header("etag")
            .expect("etag")
            .to_owned();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    });
    t.b.send_with(Method::PATCH, &alice, Some(&patch), Some(&etag))
        .await
        .assert_scim_error(404, None);
    let mut req = awc::Client::default()
        .get(t.b.url(&alice))
        .insert_header(("Authorization", t.b.authorization.as_str()))
        .insert_header(("If-None-Match", etag.as_str()));
    req = req.insert_header(("Accept", "application/scim+json"));
    let r = crate::helpers::read(req.send().await.expect("send")).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(t.a.get(&alice).await.body["active"], Value::Bool(true));
}

async fn the_url_may_name_the_tenant_and_must_agree(app: TestApp) {
    let t = two_tenants(&app).await;
    let alice = format!("/Users/{}", t.alice);
    let named = t.a.under("acme");
    let r = named.get(&alice).await;
    r.assert_status(200);
    let location = r.body["meta"]["location"].as_str().expect("location");
    assert_eq!(location, named.url(&alice));
    assert!(location.contains("/t/acme/scim/v2/Users/"), "{location}");
    // Created under the URL form: Location and $ref carry the form too.
    let created = named
        .post("/Users", &crate::helpers::user_body("dan@example.com"))
        .await;
    created.assert_status(201);
    let dan = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        Some(named.url(&format!("/Users/{dan}")).as_str())
    );
    let g = named
        .post(
            "/Groups",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": "named", "members": [{"value": dan}]}),
        )
        .await;
    g.assert_status(201);
    assert_eq!(
        g.body["members"][0]["$ref"],
        named.url(&format!("/Users/{dan}")).as_str()
    );
    // The plain form keeps the plain location.
    let plain = t.a.get(&alice).await;
    assert_eq!(plain.body["meta"]["location"], t.a.url(&alice).as_str());
    // A URL naming another tenant, or none, is a path with nothing there.
    for other in ["beta", "default", "nosuch"] {
        let r = t.a.under(other).get(&alice).await;
        r.assert_scim_error(404, None);
        t.a.under(other)
            .get("/Users")
            .await
            .assert_scim_error(404, None);
        t.a.under(other)
            .get("/ServiceProviderConfig")
            .await
            .assert_scim_error(404, None);
    }
    t.b.under("acme")
        .get("/Users")
        .await
        .assert_scim_error(404, None);
    assert_eq!(total(&t.b.under("beta").get("/Users").await), 1);
    // The default tenant's credentials name `default`.
    let d = default_caller(&app);
    assert_eq!(total(&d.under("default").get("/Users").await), 1);
    d.under("acme")
        .get("/Users")
        .await
        .assert_scim_error(404, None);
    // Still 401 without a credential, whatever the URL names.
    let r = crate::helpers::read(
        awc::Client::default()
            .get(t.a.under("acme").url("/Users"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 401);
}
