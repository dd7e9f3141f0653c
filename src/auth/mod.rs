//! Who may call the SCIM API: Basic credentials, static bearer tokens
//! (configured or minted into the database), bearer JWTs from configured
//! issuers (the built-in authorization server, `crate::oauth`, among them),
//! and opaque tokens checked by introspection. The HTTP guard reads the
//! credentials from requests and answers refusals; nothing here knows HTTP
//! statuses or headers.

pub mod admins;
pub mod credential_use;
pub mod credentials;
pub mod http_client;
mod introspection;
pub mod jwt;
pub mod passwords;
pub mod principal;
pub mod rate_limit;
pub mod remembered;
pub mod tenancy;
pub mod verifier;
pub mod verify_keys;

pub use principal::{AuthError, Principal};
pub use tenancy::{Authenticated, TenantBindings};
pub use verifier::{Modes, Verifier};
