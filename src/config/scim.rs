//! `[scim]`: protocol behaviour, paging, bulk limits and schema extensions.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, invalid};
use crate::scim::idp_dialect::{Dialect, Overrides};
use crate::scim::profile::Profile;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// Keep an Argon2 hash of the `password` clients send. Off by default:
    /// IdPs send passwords even when the application signs users in by SSO,
    /// and a hash that is never used is only a liability.
    pub store_password_hashes: bool,
    /// Answer a successful group PATCH with 204 and no body. Microsoft
    /// recommends it for large groups; Okta accepts either.
    pub group_patch_no_content: bool,
    /// The default tenant's set of dialect rules: `okta` (the default),
    /// `entra` or `strict` (see `scim::profile`).
    pub profile: Profile,
    /// Rules switched one by one over the profile's.
    pub dialect: Overrides,
    pub bulk: BulkConfig,
    /// Signs RFC 9865 cursors. Unset: a random key per process, so cursors
    /// do not survive a restart and only the instance that issued them
    /// accepts them. Set it (the same on every instance) behind a load
    /// balancer.
    pub cursor_secret: Option<Secret>,
    /// How long a cursor stays valid, in seconds (advertised as
    /// `cursorTimeout`).
    pub cursor_timeout_secs: u32,
    /// Operator schema extensions (`/Schemas` entries in JSON files),
    /// stored, validated, filterable, sortable and returned like the RFC
    /// ones.
    pub schema_extensions: Vec<SchemaExtensionConfig>,
    /// Group members read per statement. A response carrying more members
    /// than this streams them, a batch at a time, so that its memory stays
    /// bounded however large the group.
    pub member_batch: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkConfig {
    /// Most operations in one bulk request (413 tooLarge beyond).
    pub max_operations: usize,
    /// Largest bulk request body in bytes (413 tooLarge beyond).
    pub max_payload_bytes: usize,
}

impl Default for BulkConfig {
    fn default() -> Self {
        Self {
            max_operations: 1000,
            max_payload_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One extension schema and the resource type it extends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaExtensionConfig {
    /// `User` or `Group`.
    pub resource_type: String,
    /// A JSON file with one schema, shaped like a `/Schemas` entry; a
    /// relative path is read from the working directory.
    pub file: PathBuf,
    /// Whether every resource of the type must carry the extension.
    #[serde(default)]
    pub required: bool,
}

impl Default for ScimConfig {
    fn default() -> Self {
        Self {
            default_page_size: 100,
            max_page_size: 1000,
            store_password_hashes: false,
            group_patch_no_content: false,
            profile: Profile::default(),
            dialect: Overrides::default(),
            bulk: BulkConfig::default(),
            cursor_secret: None,
            cursor_timeout_secs: 3600,
            schema_extensions: Vec::new(),
            member_batch: 1000,
        }
    }
}

impl ScimConfig {
    /// The default tenant's rules in force.
    pub fn rules(&self) -> Dialect {
        self.profile.dialect(&self.dialect)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.cursor_timeout_secs == 0 {
            return Err(invalid("scim.cursor_timeout_secs must be > 0"));
        }
        if self.member_batch == 0 {
            return Err(invalid("scim.member_batch must be > 0"));
        }
        if self.max_page_size == 0 || self.default_page_size > self.max_page_size {
            return Err(invalid(
                "scim.default_page_size must not exceed scim.max_page_size, which must be > 0",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;

    fn load(text: &str) -> Result<ScimConfig, String> {
        Figment::from(Toml::string(text))
            .extract()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_profile_and_rules_over_it() {
        let c = load("profile = \"strict\"\n[dialect]\npathless_patch = true\n").expect("valid");
        let rules = c.rules();
        assert!(rules.pathless_patch && !rules.string_booleans && !rules.unique_group_names);
        // No new key: the rules as before profiles, every leniency on.
        let old = load("[dialect]\nstring_booleans = false\n").expect("valid");
        assert_eq!(old.profile, Profile::Okta);
        assert_eq!(
            old.rules(),
            Dialect {
                string_booleans: false,
                ..Dialect::lenient()
            }
        );
        assert!(load("profile = \"lenient\"").is_err());
        assert!(load("[dialect]\nno_such_rule = true\n").is_err());
    }
}
