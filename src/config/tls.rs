//! `[tls]`: HTTPS on the main listener.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, the server's certificate first.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: Option<PathBuf>,
    /// How often the files are checked for a renewed certificate; SIGHUP
    /// reloads at once.
    pub reload_interval_secs: u64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            reload_interval_secs: 5,
        }
    }
}

impl TlsConfig {
    /// Both files when TLS is on.
    pub fn files(&self) -> Option<(&PathBuf, &PathBuf)> {
        self.cert.as_ref().zip(self.key.as_ref())
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.cert.is_some() != self.key.is_some() {
            return Err(invalid(
                "tls.cert and tls.key (--tls-cert, --tls-key) must be set together",
            ));
        }
        if self.reload_interval_secs == 0 {
            return Err(invalid("tls.reload_interval_secs must be positive"));
        }
        Ok(())
    }
}
