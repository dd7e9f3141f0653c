//! What real identity providers send that a strict RFC 7644 reading
//! rejects or misreads, and what they expect back. Each rule is a switch;
//! a profile (`profile`) sets them all, and overrides (`[scim.dialect]`,
//! or a tenant's own) change single ones. Rules that change how a request
//! is read log at debug level when they change the outcome.

use serde::{Deserialize, Serialize};

/// Declares the rules once: `Dialect` (every rule's value), `Overrides`
/// (the rules set explicitly) and the list of rules in force.
macro_rules! rules {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Dialect {
            $($(#[doc = $doc])* pub $name: bool,)*
        }

        /// Rules set one by one over a profile; unset ones keep the
        /// profile's value.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Overrides {
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $name: Option<bool>,
            )*
        }

        impl Dialect {
            /// `self` with the rules `overrides` sets.
            pub fn with(mut self, overrides: &Overrides) -> Self {
                $(if let Some(on) = overrides.$name {
                    self.$name = on;
                })*
                self
            }

            /// Every rule by name with its value, in declaration order.
            pub fn rules(&self) -> Vec<(&'static str, bool)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }

        impl From<Dialect> for Overrides {
            /// Every rule set, to the value it has in `d`.
            fn from(d: Dialect) -> Self {
                Self { $($name: Some(d.$name),)* }
            }
        }
    };
}

rules! {
    /// Entra: PATCH ops written `"Add"`, `"Replace"`, `"Remove"`.
    case_insensitive_ops,
    /// Entra: booleans sent as strings, `"False"`, `"true"`.
    string_booleans,
    /// Entra: `{"op":"Remove","path":"members","value":[{"value":"id"}]}`
    /// removes only the listed members. Off, the RFC reading removes all.
    remove_members_by_value,
    /// Entra: `"manager": "<id>"`, a bare string for a single complex
    /// attribute, means `manager.value`.
    bare_string_complex,
    /// Entra: `replace emails[type eq "work"].value` on a user without a work
    /// email creates one instead of failing with noTarget.
    create_on_unmatched_value_path,
    /// Entra (`aadOptscim062020`): a path-less value whose keys are paths,
    /// `name.givenName` or URN-qualified names.
    path_keys_in_value,
    /// Okta: a group rename whose value echoes the read-only `id`.
    echoed_id_in_value,
    /// Not an identity provider's habit but Roster's own strictness, on in
    /// every profile: a string attribute whose schema lists
    /// `canonicalValues` (e.g. `emails.type`: work, home, other) takes only
    /// those, compared as the attribute's `caseExact` says. RFC 7643 §2.3.1
    /// lets a provider accept others; switch off for a client that sends
    /// its own types.
    enforce_canonical_values,
    /// RFC 7644 §3.5.2.1/§3.5.2.3: an add or replace without a `path`
    /// (Okta's deactivation, Entra's renames). Off, as the interoperability
    /// profile asks, every operation must name its target (400 invalidPath).
    pathless_patch,
    /// An object keyed by an extension URN this server has not loaded is
    /// kept as sent, so it round-trips. Off: 400 invalidSyntax, as for any
    /// other unknown attribute.
    keep_unknown_extensions,
    /// Okta: a group without members answers `"members": []` rather than
    /// leaving the attribute out (its suite expects an empty list after the
    /// last member is removed). Never where a projection leaves members out.
    empty_members,
    /// Entra: group `displayName` unique per tenant, compared ignoring
    /// case; a second group of that name is 409 uniqueness.
    unique_group_names,
    /// Okta: every member carries `display` (its displayName, else its
    /// userName), which Okta's suite checks. Off: only on request
    /// (`attributes=members.display`), as RFC 7643 §8.7.1, which omits it,
    /// and clients comparing what they wrote with what they read expect.
    member_display,
}

impl Default for Dialect {
    fn default() -> Self {
        Self::lenient()
    }
}

impl Dialect {
    /// Every leniency on: what Okta and Entra need (the `okta` profile).
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
            pathless_patch: true,
            keep_unknown_extensions: true,
            empty_members: true,
            unique_group_names: true,
            member_display: true,
        }
    }

    /// Every leniency off: the RFC as written, nothing the RFC allows
    /// taken away (the `strict` profile goes further).
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
            pathless_patch: true,
            keep_unknown_extensions: true,
            empty_members: false,
            unique_group_names: false,
            member_display: false,
        }
    }
}

/// Records that a rule changed how a request was read.
pub fn applied(rule: &str, detail: impl std::fmt::Display) {
    log::debug!("dialect rule {rule} applied: {detail}");
}
