//! The media type of SCIM bodies (RFC 7644 §3.1), in a leaf of its own so
//! that the response builders and the error mapping need not import each
//! other for it.

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
