//! Groups with more members than one read (`scim.member_batch`): their
//! members are streamed after the page, and must come out exactly as a
//! small group's would. The batch is 3 here so that a handful of members
//! takes the streaming path.

use std::collections::BTreeSet;
use std::io::Read;

use awc::http::Method;
use flate2::read::GzDecoder;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, displays, url_encode};
use crate::on_both_databases;

on_both_databases!(
    large_groups_list_every_member_once,
    streamed_members_honour_the_projection,
    lookups_and_root_search_stream_only_groups,
    writes_answer_with_streamed_members,
    streamed_members_arrive_whole_through_gzip,
);

const BATCH: u64 = 3;

/// Groups by name with the ids of their members.
struct Fixture {
    app: TestApp,
    groups: Vec<(&'static str, String, Vec<String>)>,
}

/// Seven users in "big", five in "mid", none in "empty", and two users
/// plus the group "empty" in "mixed" (three members: exactly one batch).
async fn fixture(default: TestApp) -> Fixture {
    let app = TestApp::spawn_with(default.kind, |c| c.scim.member_batch = BATCH).await;
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(app.create_user(&format!("member{i}@example.com")).await);
    }
    let refs = |range: std::ops::Range<usize>| -> Vec<&str> {
        users[range].iter().map(String::as_str).collect()
    };
    let big = app.create_group("big", &refs(0..7)).await;
    let empty = app.create_group("empty", &[]).await;
    let mut mixed_members = refs(6..8);
    mixed_members.push(&empty);
    let mixed = app.create_group("mixed", &mixed_members).await;
    let mid = app.create_group("mid", &refs(2..7)).await;
    let owned = |m: Vec<&str>| m.into_iter().map(str::to_owned).collect();
    let groups = vec![
        ("big", big, owned(refs(0..7))),
        ("empty", empty.clone(), Vec::new()),
        ("mixed", mixed, owned(mixed_members.clone())),
        ("mid", mid, owned(refs(2..7))),
    ];
    Fixture { app, groups }
}

fn is_streamed(r: &Resp) -> bool {
    r.header("transfer-encoding") == Some("chunked") && r.header("content-length").is_none()
}

fn resource<'a>(r: &'a Resp, name: &str) -> &'a Value {
    let all = r.body["Resources"].as_array().expect("Resources");
    all.iter()
        .find(|g| g["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} is listed: {}", r.text))
}

fn member_ids(group: &Value) -> Vec<String> {
    group["members"].as_array().map_or_else(Vec::new, |ms| {
        ms.iter()
            .map(|m| m["value"].as_str().expect("value").to_owned())
            .collect()
    })
}

async fn large_groups_list_every_member_once(default: TestApp) {
    let f = fixture(default).await;
    let r = f.app.get("/Groups?count=10").await;
    r.assert_status(200);
    assert!(is_streamed(&r), "members beyond one batch stream");
    assert_eq!(r.body["totalResults"], 4, "{}", r.text);
    assert_eq!(r.body["itemsPerPage"], 4);
    assert_eq!(r.body["Resources"].as_array().map(Vec::len), Some(4));
    for (name, id, members) in &f.groups {
        let g = resource(&r, name);
        assert_eq!(&g["id"], id);
        let listed = member_ids(g);
        let unique: BTreeSet<&String> = listed.iter().collect();
        assert_eq!(unique.len(), listed.len(), "{name}: a member listed twice");
        let expected: BTreeSet<&String> = members.iter().collect();
        assert_eq!(unique, expected, "{name}");
        if members.is_empty() {
            // The okta profile (the default) lists no members as `[]`.
            assert_eq!(g["members"], json!([]), "{name}: an empty members list");
        }
        for m in g["members"].as_array().into_iter().flatten() {
            let value = m["value"].as_str().expect("value");
            let kind = if value == f.groups[1].1 {
                "Group"
            } else {
                "User"
            };
            assert_eq!(m["type"], kind);
            let location = f.app.url(&format!("/{kind}s/{value}"));
            assert_eq!(m["$ref"], location.as_str());
            assert!(m["display"].is_string(), "returned by default");
        }
        assert_eq!(g["meta"]["resourceType"], "Group");
    }
    // Each group read on its own agrees with the page, streamed or not.
    for (name, id, members) in &f.groups {
        let one = f.app.get(&format!("/Groups/{id}")).await;
        one.assert_status(200);
        assert_eq!(&one.body, resource(&r, name), "{name}");
        let batches = members.len() as u64 >= BATCH;
        assert_eq!(is_streamed(&one), batches, "{name}");
        let etag = one.header("etag").expect("ETag").to_owned();
        let again = f
            .app
            .send(
                f.app
                    .request(awc::http::Method::GET, &format!("/Groups/{id}"))
                    .insert_header(("If-None-Match", etag)),
                None,
            )
            .await;
        again.assert_status(304);
    }
}

async fn streamed_members_honour_the_projection(default: TestApp) {
    let f = fixture(default).await;
    let r = f.app.get("/Groups?attributes=members.value").await;
    r.assert_status(200);
    assert!(is_streamed(&r));
    let big = resource_by_id(&r, &f.groups[0].1);
    assert_eq!(member_ids(big).len(), 7);
    for m in big["members"].as_array().expect("members") {
        assert_eq!(m.as_object().map(|o| o.len()), Some(1), "only value: {m}");
    }
    assert!(big.get("displayName").is_none());

    let only_groups = url_encode(r#"members[type eq "Group"]"#);
    let r = f
        .app
        .get(&format!("/Groups?attributes={only_groups}"))
        .await;
    r.assert_status(200);
    let with_members: Vec<&Value> = r.body["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .filter(|g| g["members"].as_array().is_some_and(|m| !m.is_empty()))
        .collect();
    assert_eq!(with_members.len(), 1, "{}", r.text);
    // The group without members lists none (the okta profile's `[]`).
    let empty = r.body["Resources"]
        .as_array()
        .and_then(|all| all.iter().find(|g| g["id"] == f.groups[1].1));
    assert_eq!(empty.map(|g| &g["members"]), Some(&json!([])), "{}", r.text);
    assert_eq!(with_members[0]["id"], f.groups[2].1);
    assert_eq!(member_ids(with_members[0]), vec![f.groups[1].1.clone()]);

    let r = f.app.get("/Groups?excludedAttributes=members.type").await;
    let mid = resource(&r, "mid");
    assert_eq!(member_ids(mid).len(), 5);
    assert!(mid["members"][0].get("type").is_none());

    let r = f
        .app
        .get("/Groups?attributes=displayName,members.display")
        .await;
    let mixed = resource(&r, "mixed");
    let shown: BTreeSet<&str> = displays(&mixed["members"]).into_iter().collect();
    assert_eq!(shown, BTreeSet::from(["Test User", "empty"]), "{mixed}");
    assert_eq!(mixed["members"].as_array().map(Vec::len), Some(3));

    let r = f.app.get("/Groups?excludedAttributes=members").await;
    r.assert_status(200);
    assert!(!is_streamed(&r), "nothing to stream without members");
    assert!(r.text.find("\"members\"").is_none());
}

fn resource_by_id<'a>(r: &'a Resp, id: &str) -> &'a Value {
    let all = r.body["Resources"].as_array().expect("Resources");
    all.iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("{id} is listed: {}", r.text))
}

async fn lookups_and_root_search_stream_only_groups(default: TestApp) {
    let f = fixture(default).await;
    // Exactly one batch: the first read cannot tell it has them all.
    let r = f.app.filter("/Groups", r#"displayName eq "mixed""#).await;
    r.assert_status(200);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(member_ids(resource(&r, "mixed")).len(), 3);
    // Fewer than a batch: rendered whole, with a length.
    f.app.create_group("small", &[&f.groups[0].2[0]]).await;
    let r = f.app.filter("/Groups", r#"displayName eq "small""#).await;
    assert!(!is_streamed(&r));
    assert_eq!(
        member_ids(resource(&r, "small")),
        vec![f.groups[0].2[0].clone()]
    );

    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "count": 100
    });
    let r = f.app.post("/.search", &search).await;
    r.assert_status(200);
    assert!(is_streamed(&r));
    let all = r.body["Resources"].as_array().expect("Resources");
    assert_eq!(all.len(), 8 + 5, "{}", r.text);
    for res in all {
        let is_group = res["schemas"][0] == "urn:ietf:params:scim:schemas:core:2.0:Group";
        if !is_group {
            assert!(res.get("members").is_none());
            continue;
        }
        let id = res["id"].as_str().expect("id");
        let expected = f
            .groups
            .iter()
            .find(|(_, gid, _)| gid == id)
            .map_or(1, |(_, _, m)| m.len());
        assert_eq!(member_ids(res).len(), expected, "{}", res["displayName"]);
    }
}

async fn writes_answer_with_streamed_members(default: TestApp) {
    let f = fixture(default).await;
    let (big, members) = (&f.groups[0].1, &f.groups[0].2);
    let extra = f.app.create_user("extra@example.com").await;
    let add = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": extra}]}]
    });
    let r = f.app.patch(&format!("/Groups/{big}"), &add).await;
    r.assert_status(200);
    assert!(is_streamed(&r));
    assert!(r.header("etag").is_some());
    let listed: BTreeSet<String> = member_ids(&r.body).into_iter().collect();
    let mut expected: BTreeSet<String> = members.iter().cloned().collect();
    expected.insert(extra.clone());
    assert_eq!(listed, expected);
    assert_eq!(member_ids(&r.body).len(), 8);

    let path = format!("/Groups/{big}?excludedAttributes=members");
    let r = f.app.patch(&path, &add).await;
    r.assert_status(200);
    assert!(!is_streamed(&r));
    assert!(r.body.get("members").is_none());

    let put = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "big",
        "members": members[..4].iter().map(|m| json!({"value": m})).collect::<Vec<_>>()
    });
    let r = f
        .app
        .put(&format!("/Groups/{big}?attributes=members.value"), &put)
        .await;
    r.assert_status(200);
    assert!(is_streamed(&r));
    assert_eq!(member_ids(&r.body).len(), 4);
    assert!(r.body.get("displayName").is_none(), "{}", r.text);
}

/// Members in the gzip test: their body runs past the stream's 64 KiB
/// chunks, so the encoder gets it in several pieces.
const GZIP_MEMBERS: usize = 700;

/// Compression sits in front of the streamed body: the client must get
/// one complete gzip stream of a complete document.
async fn streamed_members_arrive_whole_through_gzip(default: TestApp) {
    let app = TestApp::spawn_with(default.kind, |c| c.scim.member_batch = BATCH).await;
    let mut ops: Vec<Value> = (0..GZIP_MEMBERS)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("gzip{i}@example.com")}})
        })
        .collect();
    let members: Vec<Value> = (0..GZIP_MEMBERS)
        .map(|i| json!({"value": format!("bulkId:u{i}")}))
        .collect();
    ops.push(json!({"method": "POST", "path": "/Groups", "bulkId": "g",
                    "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "gzipped", "members": members}}));
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                      "Operations": ops});
    let r = app.post("/Bulk", &bulk).await;
    r.assert_status(200);
    let created = r.body["Operations"].as_array().expect("Operations");
    assert!(created.iter().all(|o| o["status"] == "201"), "{}", r.text);
    let id = created[GZIP_MEMBERS]["location"]
        .as_str()
        .and_then(|l| l.rsplit('/').next())
        .expect("group location");
    let path = format!("/Groups/{id}");
    let plain = app.get(&path).await;
    plain.assert_status(200);
    assert!(is_streamed(&plain), "more members than one batch stream");

    let mut resp = app
        .request(Method::GET, &path)
        .insert_header(("Accept-Encoding", "gzip"))
        .send()
        .await
        .expect("request reaches the server");
    assert_eq!(resp.status().as_u16(), 200);
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("content-encoding"), Some("gzip"));
    assert_eq!(header("content-type"), Some("application/scim+json"));
    assert_eq!(
        header("transfer-encoding"),
        Some("chunked"),
        "still streamed"
    );
    let compressed = resp.body().limit(64 * 1024 * 1024).await.expect("body");
    let mut text = String::new();
    GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .expect("one complete gzip stream");
    let body: Value = serde_json::from_str(&text).expect("complete JSON");
    assert_eq!(body, plain.body, "the same document as without gzip");
    let listed = member_ids(&body);
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(listed.len(), GZIP_MEMBERS, "every member, each once");
    assert_eq!(unique.len(), GZIP_MEMBERS);
    let expected: BTreeSet<String> = created[..GZIP_MEMBERS]
        .iter()
        .map(|o| {
            let location = o["location"].as_str().expect("user location");
            location.rsplit('/').next().expect("id").to_owned()
        })
        .collect();
    assert_eq!(unique, expected.iter().collect());
}
