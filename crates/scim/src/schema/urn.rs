//! The URNs of RFC 7643 and RFC 7644: schemas, and the messages of the
//! protocol.

/// RFC 7643 §4.1.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// RFC 7643 §4.2.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// RFC 7643 §4.3.
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// RFC 7644 §3.4.2.
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// RFC 7644 §3.12.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// RFC 7644 §3.5.2.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// RFC 7644 §3.7.
pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// RFC 7644 §3.7.
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// RFC 7644 §3.4.3.
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// RFC 7643 §5.
pub const SERVICE_PROVIDER_CONFIG_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// RFC 7643 §6.
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// RFC 7643 §7.
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// URNs an extension may never take, because clients already read them as
/// something else.
pub(super) const RESERVED_URNS: [&str; 12] = [
    USER_URN,
    GROUP_URN,
    ENTERPRISE_USER_URN,
    LIST_RESPONSE_URN,
    ERROR_URN,
    PATCH_OP_URN,
    BULK_REQUEST_URN,
    BULK_RESPONSE_URN,
    SEARCH_REQUEST_URN,
    SERVICE_PROVIDER_CONFIG_URN,
    RESOURCE_TYPE_URN,
    SCHEMA_URN,
];
