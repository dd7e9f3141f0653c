use serde_json::Value;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(discovery_endpoints_describe_the_server);

fn assert_no_nulls(v: &Value, at: &str) {
    match v {
        Value::Null => panic!("null value at {at}"),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_no_nulls(x, &format!("{at}[{i}]"))),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| assert_no_nulls(x, &format!("{at}.{k}"))),
        _ => {}
    }
}

async fn discovery_endpoints_describe_the_server(app: TestApp) {
    let spc = app.get("/ServiceProviderConfig").await;
    spc.assert_status(200);
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(
        spc.body["bulk"],
        serde_json::json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 4194304})
    );
    assert_eq!(spc.body["etag"]["supported"], true);
    assert_eq!(spc.body["filter"]["supported"], true);
    assert_eq!(spc.body["filter"]["maxResults"], 1000);
    let schemes: Vec<&str> = spc.body["authenticationSchemes"]
        .as_array()
        .expect("schemes")
        .iter()
        .filter_map(|s| s["type"].as_str())
        .collect();
    assert_eq!(schemes, vec!["oauthbearertoken", "httpbasic"]);
    assert_no_nulls(&spc.body, "spc");

    let rts = app.get("/ResourceTypes").await;
    rts.assert_status(200);
    assert_eq!(rts.body["totalResults"], 2);
    assert_no_nulls(&rts.body, "resourceTypes");
    let user_rt = app.get("/ResourceTypes/User").await;
    assert_eq!(user_rt.body["endpoint"], "/Users");

    let schemas = app.get("/Schemas").await;
    schemas.assert_status(200);
    assert_eq!(
        schemas.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(schemas.body["totalResults"], 3);
    assert_no_nulls(&schemas.body, "schemas");
    let user = app
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    user.assert_status(200);
    assert!(
        user.body["attributes"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["name"] == "userName"))
    );
    app.get("/Schemas/urn:nope")
        .await
        .assert_scim_error(404, None);
    app.get("/ResourceTypes/Nope")
        .await
        .assert_scim_error(404, None);
}
