use super::*;
use crate::schema::discovery::attribute_json;

#[test]
fn schema_json_has_envelope_and_no_nulls() {
    let mut reg = registry();
    reg.add_extension("User", acme_extension(), false).unwrap();
    for schema in reg.schemas() {
        let doc = reg.schema_json(schema, "https://scim.example.com/v2/");
        assert_no_nulls(&doc, &schema.id);
        assert_eq!(doc["schemas"], json!([SCHEMA_URN]));
        assert_eq!(doc["id"], json!(schema.id));
        assert_eq!(doc["meta"]["resourceType"], "Schema");
        assert_eq!(
            doc["meta"]["location"],
            json!(format!("{BASE}/Schemas/{}", schema.id))
        );
        assert_eq!(
            doc["attributes"].as_array().map(Vec::len),
            Some(schema.attributes.len())
        );
    }
    let user_doc = reg.schema_json(reg.schema(USER_URN).unwrap(), BASE);
    let emails = user_doc["attributes"]
        .as_array()
        .and_then(|attrs| attrs.iter().find(|a| a["name"] == "emails"))
        .unwrap();
    assert_eq!(emails["multiValued"], true);
    assert_eq!(emails["subAttributes"][0]["caseExact"], false);
    assert_eq!(
        emails["subAttributes"][2]["canonicalValues"],
        json!(["work", "home", "other"])
    );
}

#[test]
fn schema_json_attributes_match_the_serde_representation() {
    let reg = registry();
    for schema in reg.schemas() {
        for attr in &schema.attributes {
            assert_eq!(
                attribute_json(attr),
                serde_json::to_value(attr).unwrap(),
                "{}",
                attr.name
            );
        }
    }
    for attr in &reg.common {
        assert_eq!(
            attribute_json(attr),
            serde_json::to_value(attr).unwrap(),
            "{}",
            attr.name
        );
    }
}

#[test]
fn resource_type_json_shape() {
    let reg = registry();
    let user_doc = reg.resource_type_json(reg.resource_type("User").unwrap(), BASE);
    assert_no_nulls(&user_doc, "User");
    assert_eq!(
        user_doc,
        json!({
            "schemas": [RESOURCE_TYPE_URN],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": USER_URN,
            "schemaExtensions": [{"schema": ENTERPRISE_USER_URN, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/User")}
        })
    );
    let group_doc = reg.resource_type_json(reg.resource_type("Group").unwrap(), BASE);
    assert_no_nulls(&group_doc, "Group");
    assert!(group_doc.get("schemaExtensions").is_none());
}

#[test]
fn service_provider_config_full_shape() {
    let doc = service_provider_config_json(&full_capabilities(), BASE);
    assert_no_nulls(&doc, "spc");
    assert_eq!(
        doc,
        json!({
            "schemas": [SERVICE_PROVIDER_CONFIG_URN],
            "documentationUri": "https://docs.example.com/scim",
            "patch": {"supported": true},
            "bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1_048_576},
            "filter": {"supported": true, "maxResults": 200},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "pagination": {
                "cursor": true, "index": true, "defaultPaginationMethod": "index",
                "defaultPageSize": 100, "maxPageSize": 500, "cursorTimeout": 3600
            },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication scheme using the OAuth Bearer Token Standard",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{BASE}/ServiceProviderConfig")}
        })
    );
}

#[test]
fn service_provider_config_minimal_omits_optional_members() {
    let caps = Capabilities {
        documentation_uri: None,
        bulk: None,
        pagination: None,
        authentication_schemes: vec![AuthScheme {
            scheme_type: "httpbasic".into(),
            name: "HTTP Basic".into(),
            description: "Basic".into(),
            spec_uri: None,
            documentation_uri: None,
            primary: false,
        }],
        ..full_capabilities()
    };
    let doc = service_provider_config_json(&caps, "https://scim.example.com/v2/");
    assert_no_nulls(&doc, "spc");
    assert_eq!(
        doc["bulk"],
        json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0})
    );
    assert!(doc.get("pagination").is_none() && doc.get("documentationUri").is_none());
    assert_eq!(
        doc["authenticationSchemes"],
        json!([{"type": "httpbasic", "name": "HTTP Basic", "description": "Basic"}])
    );
    assert_eq!(
        doc["meta"]["location"],
        json!(format!("{BASE}/ServiceProviderConfig"))
    );

    let no_timeout = Pagination {
        cursor_timeout: None,
        ..full_capabilities().pagination.unwrap()
    };
    let caps = Capabilities {
        pagination: Some(no_timeout),
        ..full_capabilities()
    };
    let doc = service_provider_config_json(&caps, BASE);
    assert!(doc["pagination"].get("cursorTimeout").is_none());
}
