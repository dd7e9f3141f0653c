//! `[secrets]`: the key that seals secrets Roster keeps in its database
//! (the built-in authorization server's signing keys). Without one they
//! are stored in plain text, readable by whoever can read the database.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, invalid};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// The key text itself (`ROSTER_SECRETS__KEY`); at least 32 characters.
    pub key: Option<Secret>,
    /// A file holding the key text (`ROSTER_SECRETS__KEY_FILE`), mode 0600.
    pub key_file: Option<PathBuf>,
}

impl SecretsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.key.is_some() && self.key_file.is_some() {
            return Err(invalid("set secrets.key or secrets.key_file, not both"));
        }
        Ok(())
    }
}
