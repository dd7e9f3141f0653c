//! ES256 compact JWS, signed with ring over a key parsed once. Signing
//! through `jsonwebtoken` parses the PKCS#8 key again for every token,
//! which derives its public key twice (two scalar multiplications), and
//! then signs in portable arithmetic: most of the cost of a token. Every
//! pushed event is one token, so that cost is paid per write.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde::Serialize;

/// A P-256 private key ready to sign. Cheap to clone.
#[derive(Clone)]
pub struct Es256Key(Arc<EcdsaKeyPair>);

impl Es256Key {
    /// From a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        use p256::pkcs8::DecodePrivateKey;
        let secret = p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
        let public = secret.public_key().to_encoded_point(false);
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &secret.to_bytes(),
            public.as_bytes(),
            &SystemRandom::new(),
        )
        .map_err(|e| e.to_string())?;
        Ok(Self(Arc::new(pair)))
    }

    /// `header` and `claims` as a compact JWS (RFC 7515), as
    /// `jsonwebtoken::encode` writes them: the signature is R || S.
    pub fn sign<T: Serialize>(&self, header: &Header, claims: &T) -> Result<String, String> {
        let part = |value: Vec<u8>| URL_SAFE_NO_PAD.encode(value);
        let header = serde_json::to_vec(header).map_err(|e| e.to_string())?;
        let claims = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
        let mut token = part(header);
        token.push('.');
        token.push_str(&part(claims));
        let signature = self
            .0
            .sign(&SystemRandom::new(), token.as_bytes())
            .map_err(|_| "ECDSA signing failed".to_owned())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    use super::*;

    #[test]
    fn tokens_verify_with_the_public_key() {
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let key = Es256Key::from_pem(&pem).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".to_owned());
        header.typ = Some("secevent+jwt".to_owned());
        let token = key
            .sign(
                &header,
                &serde_json::json!({"exp": 4_000_000_000u64, "sub": "x"}),
            )
            .unwrap();
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap();
        let mut v = Validation::new(Algorithm::ES256);
        v.required_spec_claims.clear();
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(decoded.claims["sub"], "x");
        assert_eq!(decoded.header.kid.as_deref(), Some("k1"));
        assert_eq!(decoded.header.typ.as_deref(), Some("secevent+jwt"));
        let tampered = token.replacen('.', ".e30", 1);
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(
                &tampered,
                &DecodingKey::from_jwk(&jwk).unwrap(),
                &v
            )
            .is_err()
        );
    }
}
