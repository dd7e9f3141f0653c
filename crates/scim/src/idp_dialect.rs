//! What real identity providers send that a strict RFC 7644 reading
//! rejects or misreads. Each rule is on by default, can be switched off in
//! `[scim.dialect]`, and logs at debug level when it changes the outcome.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dialect {
    /// Entra: PATCH ops written `"Add"`, `"Replace"`, `"Remove"`.
    pub case_insensitive_ops: bool,
    /// Entra: booleans sent as strings, `"False"`, `"true"`.
    pub string_booleans: bool,
    /// Entra: `{"op":"Remove","path":"members","value":[{"value":"id"}]}`
    /// removes only the listed members. Off, the RFC reading removes all.
    pub remove_members_by_value: bool,
    /// Entra: `"manager": "<id>"`, a bare string for a single complex
    /// attribute, means `manager.value`.
    pub bare_string_complex: bool,
    /// Entra: `replace emails[type eq "work"].value` on a user without a work
    /// email creates one instead of failing with noTarget.
    pub create_on_unmatched_value_path: bool,
    /// Entra (`aadOptscim062020`): a path-less value whose keys are paths,
    /// `name.givenName` or URN-qualified names.
    pub path_keys_in_value: bool,
    /// Okta: a group rename whose value echoes the read-only `id`.
    pub echoed_id_in_value: bool,
    /// Not an identity provider's habit but Roster's own strictness, on in
    /// both readings: a string attribute whose schema lists
    /// `canonicalValues` (e.g. `emails.type`: work, home, other) takes only
    /// those, compared as the attribute's `caseExact` says. RFC 7643 §2.3.1
    /// lets a provider accept others; switch off for a client that sends
    /// its own types.
    pub enforce_canonical_values: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Self::lenient()
    }
}

impl Dialect {
    /// Every rule on: what Okta and Entra need.
    pub const fn lenient() -> Self {
        Self {
            case_insensitive_ops: true,
            string_booleans: true,
            remove_members_by_value: true,
            bare_string_complex: true,
            create_on_unmatched_value_path: true,
            path_keys_in_value: true,
            echoed_id_in_value: true,
            enforce_canonical_values: true,
        }
    }

    /// Every rule off: the RFC as written.
    pub const fn strict() -> Self {
        Self {
            case_insensitive_ops: false,
            string_booleans: false,
            remove_members_by_value: false,
            bare_string_complex: false,
            create_on_unmatched_value_path: false,
            path_keys_in_value: false,
            echoed_id_in_value: false,
            enforce_canonical_values: true,
        }
    }
}

/// Records that a rule changed how a request was read.
pub fn applied(rule: &str, detail: impl std::fmt::Display) {
    log::debug!("dialect rule {rule} applied: {detail}");
}
