//! Secrets Roster must read back (the authorization server's private
//! signing keys) sealed before they reach the database: ChaCha20-Poly1305
//! under a key the operator configures, so that a copy of the database or
//! of a backup does not hand out the power to mint tokens.
//!
//! Key derivation: the configured key text (at least 32 characters, e.g.
//! `openssl rand -base64 32`) is hashed with SHA-256 behind a fixed label;
//! the text must carry the entropy, as a random key does. A sealed value
//! is `roster-sealed:v1:` and the base64url of a random 96-bit nonce
//! followed by the ciphertext and tag; the value's context (the signing
//! key's id) is authenticated with it, so that a sealed value cannot be
//! moved to another row.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

const PREFIX: &str = "roster-sealed:v1:";
const LABEL: &[u8] = b"roster secrets at rest v1\0";
const NONCE_BYTES: usize = 12;
/// The shortest key text accepted.
pub const MIN_KEY_CHARS: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the secrets key must be at least {MIN_KEY_CHARS} characters")]
    WeakKey,
    #[error("no randomness available")]
    NoRandomness,
    #[error(
        "cannot decrypt: the configured secrets key is not the one it was sealed with, or the value is damaged"
    )]
    WrongKey,
    #[error("a sealed value is malformed")]
    Malformed,
}

/// The key that seals and opens secrets at rest. `Debug` never shows it.
#[derive(Clone)]
pub struct SealingKey(ChaCha20Poly1305);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

impl SealingKey {
    pub fn from_text(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        if text.chars().count() < MIN_KEY_CHARS {
            return Err(SealError::WeakKey);
        }
        let mut hasher = Sha256::new();
        hasher.update(LABEL);
        hasher.update(text.as_bytes());
        let bytes: [u8; 32] = hasher.finalize().into();
        Ok(Self(ChaCha20Poly1305::new(&Key::from(bytes))))
    }

    pub fn seal(&self, plaintext: &str, context: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|_| SealError::NoRandomness)?;
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context,
        };
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), payload)
            .map_err(|_| SealError::Malformed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<String, SealError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let mut fixed = [0u8; NONCE_BYTES];
        fixed.copy_from_slice(nonce);
        let payload = Payload {
            msg: ciphertext,
            aad: context,
        };
        let plain = self
            .0
            .decrypt(&Nonce::from(fixed), payload)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn sealed_values_open_with_their_key_and_context_only() {
        let key = SealingKey::from_text(KEY).unwrap();
        let sealed = key.seal("-----BEGIN PRIVATE KEY-----", b"id-1").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("BEGIN"));
        assert_ne!(
            sealed,
            key.seal("-----BEGIN PRIVATE KEY-----", b"id-1").unwrap()
        );
        assert_eq!(
            key.open(&sealed, b"id-1").unwrap(),
            "-----BEGIN PRIVATE KEY-----"
        );
        assert_eq!(key.open(&sealed, b"id-2"), Err(SealError::WrongKey));
        let other = SealingKey::from_text("another key of at least 32 characters").unwrap();
        assert_eq!(other.open(&sealed, b"id-1"), Err(SealError::WrongKey));
        assert_eq!(
            key.open("roster-sealed:v1:!!", b"id-1"),
            Err(SealError::Malformed)
        );
        assert_eq!(
            SealingKey::from_text("short").unwrap_err(),
            SealError::WeakKey
        );
        assert_eq!(format!("{key:?}"), "SealingKey(***)");
    }
}
