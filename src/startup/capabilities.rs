//! What ServiceProviderConfig advertises, derived from the configuration
//! and the enabled authentication modes.

use crate::auth::Modes;
use crate::config::BulkConfig;
use crate::scim::list::PageLimits;
use crate::scim::schema::{AuthScheme, BulkLimits, Capabilities, Pagination};

/// What ServiceProviderConfig advertises: exactly the enabled modes.
/// Database bearer tokens are always accepted, so that scheme always leads.
pub(super) fn capabilities(
    limits: PageLimits,
    bulk: BulkConfig,
    modes: Modes,
    oauth_metadata: Option<String>,
    cursor_timeout: u32,
) -> Capabilities {
    let scheme = |scheme_type: &str, name: &str, description: &str, spec: &str| AuthScheme {
        scheme_type: scheme_type.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        spec_uri: Some(spec.to_owned()),
        documentation_uri: None,
        primary: false,
    };
    let mut schemes = vec![AuthScheme {
        primary: true,
        ..scheme(
            "oauthbearertoken",
            "Bearer token",
            "A static bearer token in the Authorization header",
            "https://www.rfc-editor.org/rfc/rfc6750",
        )
    }];
    if modes.basic {
        schemes.push(scheme(
            "httpbasic",
            "HTTP Basic",
            "HTTP Basic authentication with configured credentials",
            "https://www.rfc-editor.org/rfc/rfc7617",
        ));
    }
    if modes.jwt {
        schemes.push(scheme(
            "oauthbearertoken",
            "OAuth 2.0 bearer JWT",
            "An OAuth 2.0 access token (JWT) from a trusted issuer, validated against its keys",
            "https://www.rfc-editor.org/rfc/rfc9068",
        ));
    }
    if modes.introspection {
        schemes.push(scheme(
            "oauthbearertoken",
            "OAuth 2.0 introspected token",
            "An opaque OAuth 2.0 access token checked by token introspection",
            "https://www.rfc-editor.org/rfc/rfc7662",
        ));
    }
    if let Some(metadata) = oauth_metadata {
        schemes.push(AuthScheme {
            documentation_uri: Some(metadata),
            ..scheme(
                "oauth2",
                "OAuth 2.0 (built-in authorization server)",
                "Access tokens from this server's own authorization server",
                "https://www.rfc-editor.org/rfc/rfc6749",
            )
        });
    }
    Capabilities {
        documentation_uri: None,
        patch: true,
        bulk: Some(BulkLimits {
            max_operations: u32::try_from(bulk.max_operations).unwrap_or(u32::MAX),
            max_payload_size: bulk.max_payload_bytes as u64,
        }),
        filter_max_results: limits.max_count,
        change_password: false,
        sort: true,
        etag: true,
        pagination: Some(Pagination {
            cursor: true,
            index: true,
            // Clients written before RFC 9865 only know startIndex.
            default_pagination_method: "index".to_owned(),
            default_page_size: limits.default_count,
            max_page_size: limits.max_count,
            cursor_timeout: Some(cursor_timeout),
        }),
        authentication_schemes: schemes,
        security_events: None,
    }
}
