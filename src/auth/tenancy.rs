//! Which tenant a credential belongs to. A database token carries its
//! tenant in its row, a token of the built-in server in a claim its keys
//! sign; Basic users and external JWTs (issuer + audience) are bound by the
//! configuration. Everything else belongs to `default`.

use std::collections::HashMap;

use uuid::Uuid;

use super::principal::Principal;

/// The tenant every credential not bound elsewhere belongs to (the nil id).
pub const DEFAULT: Uuid = Uuid::nil();

/// A verified credential and the tenant its requests reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub principal: Principal,
    pub tenant: Uuid,
}

impl Authenticated {
    pub fn in_default(principal: Principal) -> Self {
        Self {
            principal,
            tenant: DEFAULT,
        }
    }
}

/// External JWTs from `issuer` for `audience` reach `tenant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtTenant {
    pub issuer: String,
    pub audience: String,
    pub tenant: Uuid,
}

/// The configured bindings, with tenant names already resolved to ids.
#[derive(Debug, Clone, Default)]
pub struct TenantBindings {
    basic: HashMap<String, Uuid>,
    jwt: Vec<JwtTenant>,
}

impl TenantBindings {
    pub fn new(basic: HashMap<String, Uuid>, jwt: Vec<JwtTenant>) -> Self {
        Self { basic, jwt }
    }

    pub fn of_basic(&self, user: &str) -> Uuid {
        self.basic.get(user).copied().unwrap_or(DEFAULT)
    }

    /// The tenant bound to `issuer` and one of the token's audiences.
    pub fn of_jwt(&self, issuer: &str, audiences: &[String]) -> Uuid {
        self.jwt
            .iter()
            .find(|b| b.issuer == issuer && audiences.contains(&b.audience))
            .map_or(DEFAULT, |b| b.tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbound_credentials_reach_default() {
        let acme = Uuid::from_u128(1);
        let b = TenantBindings::new(
            HashMap::from([("alice".to_owned(), acme)]),
            vec![JwtTenant {
                issuer: "https://idp".to_owned(),
                audience: "acme".to_owned(),
                tenant: acme,
            }],
        );
        assert_eq!(b.of_basic("alice"), acme);
        assert_eq!(b.of_basic("bob"), DEFAULT);
        assert_eq!(b.of_jwt("https://idp", &["x".into(), "acme".into()]), acme);
        assert_eq!(b.of_jwt("https://idp", &["x".into()]), DEFAULT);
        assert_eq!(b.of_jwt("https://other", &["acme".into()]), DEFAULT);
    }
}
