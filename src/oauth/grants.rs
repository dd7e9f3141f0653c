//! The grants: authorization codes (single use, bound to client, redirect
//! URI and PKCE verifier), rotating refresh tokens with reuse detection, and
//! client credentials. Codes and refresh tokens are stored as digests only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::{oauth_code, oauth_refresh_token};
use oauth2::basic::{BasicErrorResponseType, BasicTokenResponse, BasicTokenType};
use oauth2::{AccessToken, EmptyExtraTokenFields, RefreshToken, Scope};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use serde::Serialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::clients::Client;
use super::{AuthServer, ServerError, millis};
use crate::auth::credentials::Presented;
use crate::auth::tenancy;
use crate::secrets::{random_secret, sha256, sha256_hex};
use crate::store::{self, oauth as oauth_store};
use crate::time::now_ms;

/// Expired codes linger this long before they are swept, so that a late
/// replay is still recognised as one.
const CODE_SWEEP_AFTER_MS: i64 = 3_600_000;

/// An authorization request that passed validation and may be approved;
/// the code issued for it carries its client, redirect URI, scope and
/// PKCE challenge.
pub struct Valid {
    pub client: Client,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// Stores a code for an approved request and returns it.
pub async fn issue_code(
    server: &AuthServer,
    valid: &Valid,
    subject: &str,
) -> Result<String, ServerError> {
    let code = random_secret("").map_err(ServerError::Internal)?;
    let now = now_ms();
    let model = oauth_code::ActiveModel {
        tenant_id: Set(valid.client.tenant),
        id: Set(Uuid::new_v4()),
        code_hash: Set(sha256_hex(code.as_bytes())),
        client_id: Set(valid.client.client_id.clone()),
        redirect_uri: Set(valid.redirect_uri.clone()),
        code_challenge: Set(valid.code_challenge.clone()),
        scope: Set(valid.scope.clone()),
        subject: Set(subject.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + millis(server.settings.code_ttl)),
        used_at: Set(None),
    };
    oauth_store::insert(&server.db, model).await?;
    oauth_store::delete_codes_expired_before(
        &server.db,
        valid.client.tenant,
        now - CODE_SWEEP_AFTER_MS,
    )
    .await?;
    Ok(code)
}

/// What the token endpoint received, minus client authentication.
pub struct Grant<'a> {
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
    pub scope: Option<&'a str>,
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, ServerError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ServerError::invalid_request(format!("{name} is required")))
}

fn check_allowed(client: &Client, grant_type: &str) -> Result<(), ServerError> {
    if client.allows(grant_type) {
        return Ok(());
    }
    Err(ServerError::new(
        BasicErrorResponseType::UnauthorizedClient,
        format!("this client may not use the {grant_type} grant"),
    ))
}

pub async fn authorization_code(
    server: &AuthServer,
    client: &Client,
    grant: &Grant<'_>,
) -> Result<BasicTokenResponse, ServerError> {
    check_allowed(client, "authorization_code")?;
    let code = required(grant.code, "code")?;
    let hash = sha256_hex(code.as_bytes());
    let row = oauth_store::find_code(&server.db, client.tenant, &hash)
        .await?
        .filter(|r| r.client_id == client.client_id)
        .ok_or_else(|| ServerError::invalid_grant("unknown authorization code"))?;
    if row.used_at.is_some() {
        return Err(replayed(server, client, row.id, "authorization code").await);
    }
    if row.expires_at < now_ms() {
        return Err(ServerError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if grant.redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(ServerError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    check_pkce(row.code_challenge.as_deref(), grant.code_verifier)?;
    let access = sign_access(server, client, &row.subject, &row.scope).await?;
    let txn = store::begin_write(&server.db).await?;
    if !oauth_store::use_code(&txn, client.tenant, row.id, now_ms()).await? {
        drop(txn);
        return Err(replayed(server, client, row.id, "authorization code").await);
    }
    let refresh = match client.allows("refresh_token") {
        true => Some(insert_refresh(&txn, server, client, &row.subject, &row.scope, row.id).await?),
        false => None,
    };
    txn.commit().await?;
    Ok(response(server, access, refresh, &row.scope))
}

pub async fn refresh_token(
    server: &AuthServer,
    client: &Client,
    grant: &Grant<'_>,
) -> Result<BasicTokenResponse, ServerError> {
    check_allowed(client, "refresh_token")?;
    let presented = required(grant.refresh_token, "refresh_token")?;
    let hash = sha256_hex(presented.as_bytes());
    let row = oauth_store::find_refresh(&server.db, client.tenant, &hash)
        .await?
        .filter(|r| r.client_id == client.client_id)
        .ok_or_else(|| ServerError::invalid_grant("unknown refresh token"))?;
    if row.revoked_at.is_some() {
        return Err(ServerError::invalid_grant("the refresh token was revoked"));
    }
    if row.used_at.is_some() {
        return Err(replayed(server, client, row.family_id, "refresh token").await);
    }
    if row.expires_at < now_ms() {
        return Err(ServerError::invalid_grant("the refresh token has expired"));
    }
    let scope = narrowed_scope(&row.scope, grant.scope)?;
    let access = sign_access(server, client, &row.subject, &scope).await?;
    let txn = store::begin_write(&server.db).await?;
    if !oauth_store::use_refresh(&txn, client.tenant, row.id, now_ms()).await? {
        drop(txn);
        return Err(replayed(server, client, row.family_id, "refresh token").await);
    }
    let next = insert_refresh(
        &txn,
        server,
        client,
        &row.subject,
        &row.scope,
        row.family_id,
    )
    .await?;
    txn.commit().await?;
    oauth_store::delete_refresh_expired_before(&server.db, client.tenant, now_ms()).await?;
    Ok(response(server, access, Some(next), &scope))
}

pub async fn client_credentials(
    server: &AuthServer,
    client: &Client,
    grant: &Grant<'_>,
) -> Result<BasicTokenResponse, ServerError> {
    check_allowed(client, "client_credentials")?;
    let scope = client.grant_scope(grant.scope)?;
    let access = sign_access(server, client, &client.client_id, &scope).await?;
    // RFC 6749 §4.4.3: no refresh token; the client can simply ask again.
    Ok(response(server, access, None, &scope))
}

/// A used code or refresh token came back: someone holds a copy. Everything
/// issued from the same authorization is revoked (RFC 6749 §4.1.2, OAuth
/// 2.0 Security BCP §4.14.2).
async fn replayed(server: &AuthServer, client: &Client, family: Uuid, what: &str) -> ServerError {
    log::warn!("a used {what} was presented again; revoking its token family {family}");
    let family_members = Condition::all().add(oauth_refresh_token::Column::FamilyId.eq(family));
    if let Err(e) =
        oauth_store::revoke_refresh(&server.db, client.tenant, family_members, now_ms()).await
    {
        return ServerError::Db(e);
    }
    ServerError::invalid_grant(format!("the {what} was already used"))
}

/// RFC 7636 §4.6. A verifier without a challenge is refused too: it means
/// the code was not the one the client asked for.
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), ServerError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
            match bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                true => Ok(()),
                false => Err(ServerError::invalid_grant("code_verifier does not match")),
            }
        }
        (Some(_), None) => Err(ServerError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => Err(ServerError::invalid_grant(
            "code_verifier sent, but the authorization request had no code_challenge",
        )),
    }
}

/// A refresh may ask for less than was granted, never more.
fn narrowed_scope(granted: &str, requested: Option<&str>) -> Result<String, ServerError> {
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(granted.to_owned());
    };
    let granted: Vec<&str> = granted.split_whitespace().collect();
    if let Some(extra) = requested.split_whitespace().find(|s| !granted.contains(s)) {
        return Err(ServerError::new(
            BasicErrorResponseType::InvalidScope,
            format!("scope {extra:?} was not granted"),
        ));
    }
    Ok(requested.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn insert_refresh<C: ConnectionTrait>(
    c: &C,
    server: &AuthServer,
    client: &Client,
    subject: &str,
    scope: &str,
    family: Uuid,
) -> Result<String, ServerError> {
    let token = random_secret("roster_rt_").map_err(ServerError::Internal)?;
    let now = now_ms();
    let model = oauth_refresh_token::ActiveModel {
        tenant_id: Set(client.tenant),
        id: Set(Uuid::new_v4()),
        token_hash: Set(sha256_hex(token.as_bytes())),
        family_id: Set(family),
        client_id: Set(client.client_id.clone()),
        scope: Set(scope.to_owned()),
        subject: Set(subject.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + millis(server.settings.refresh_ttl)),
        used_at: Set(None),
        revoked_at: Set(None),
    };
    oauth_store::insert(c, model).await?;
    Ok(token)
}

/// RFC 9068 claims of an access token.
#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    scope: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
    /// The client's tenant, which the SCIM guard reads back; absent for
    /// `default`, so its tokens stay as they were before tenants.
    #[serde(skip_serializing_if = "Option::is_none")]
    roster_tenant: Option<Uuid>,
}

async fn sign_access(
    server: &AuthServer,
    client: &Client,
    subject: &str,
    scope: &str,
) -> Result<String, ServerError> {
    let s = &server.settings;
    let now = u64::try_from(now_ms() / 1000).unwrap_or_default();
    let claims = AccessClaims {
        iss: &s.issuer,
        sub: subject,
        aud: &s.audience,
        client_id: &client.client_id,
        scope,
        iat: now,
        nbf: now,
        exp: now + s.access_ttl.as_secs(),
        jti: Uuid::new_v4().to_string(),
        roster_tenant: (client.tenant != tenancy::DEFAULT).then_some(client.tenant),
    };
    let token = server.keys.sign(&claims).await?;
    server.issued.insert(&Presented::Bearer(token.clone()));
    Ok(token)
}

fn response(
    server: &AuthServer,
    access: String,
    refresh: Option<String>,
    scope: &str,
) -> BasicTokenResponse {
    let mut resp = BasicTokenResponse::new(
        AccessToken::new(access),
        BasicTokenType::Bearer,
        EmptyExtraTokenFields {},
    );
    resp.set_expires_in(Some(&server.settings.access_ttl));
    resp.set_refresh_token(refresh.map(RefreshToken::new));
    resp.set_scopes(Some(
        scope
            .split_whitespace()
            .map(|s| Scope::new(s.to_owned()))
            .collect(),
    ));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_pkce(Some(challenge), Some(verifier)).is_ok());
        assert!(check_pkce(Some(challenge), Some("x")).is_err());
        assert!(check_pkce(Some(challenge), None).is_err());
        assert!(check_pkce(None, Some(verifier)).is_err());
        assert!(check_pkce(None, None).is_ok());
    }

    #[test]
    fn refresh_scope_can_only_narrow() {
        assert_eq!(narrowed_scope("scim read", None).unwrap(), "scim read");
        assert_eq!(narrowed_scope("scim read", Some("scim")).unwrap(), "scim");
        assert!(narrowed_scope("scim", Some("scim admin")).is_err());
    }
}
