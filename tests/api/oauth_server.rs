//! The built-in authorization server, driven by the `oauth2` crate as Okta
//! (Authorization Code + PKCE, refresh) and Entra (client credentials)
//! would drive it, down to the HTML sign-in page.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use awc::http::StatusCode;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use roster::auth::http_client::oauth2_send;
use roster::config::{Config, OAuthClientConfig, Secret};
use roster::oauth::{NewClient, add_client, rotate_key};
use roster::secrets::hash_secret;
use roster::service::DEFAULT_TENANT;

use crate::each_database;
use crate::helpers::{Db, Resp, TOKEN, TestApp, read};
use crate::issuer::{advertised_schemes, assert_invalid_token, call_with_bearer, unsigned};

each_database!(
    metadata_and_keys_are_published,
    authorization_code_flow_with_pkce_as_okta,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    authorization_errors_follow_rfc6749,
    client_credentials_with_basic_and_post_authentication,
    clients_added_with_the_cli_enable_the_server,
    signing_key_rotation_keeps_old_tokens_valid_until_they_expire,
    failed_client_authentication_is_rate_limited,
    server_is_off_without_clients,
);

const OKTA_CALLBACK: &str = "https://system-admin.okta.example/admin/app/cpc/roster/oauth/callback";
const OKTA_SECRET: &str = "okta-client-secret";
const ENTRA_SECRET: &str = "entra-client-secret";
const ADMIN: (&str, &str) = ("admin", "admin-password");

fn clients(c: &mut Config) {
    let okta_hash = hash_secret(OKTA_SECRET).expect("hash");
    c.oauth.admins = vec![Secret::new(format!("{}:{}", ADMIN.0, ADMIN.1))];
    c.oauth.clients = vec![
        OAuthClientConfig {
            client_id: "okta".to_owned(),
            client_secret: Secret::new(okta_hash),
            redirect_uris: vec![OKTA_CALLBACK.to_owned()],
            grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
            scopes: vec![],
            require_pkce: true,
        },
        OAuthClientConfig {
            client_id: "entra".to_owned(),
            client_secret: Secret::new(ENTRA_SECRET),
            redirect_uris: vec![],
            grant_types: vec!["client_credentials".to_owned()],
            scopes: vec!["scim".to_owned()],
            require_pkce: true,
        },
    ];
}

async fn spawn(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(db, |c| {
        clients(c);
        adjust(c);
    })
    .await
}

fn origin(app: &TestApp) -> String {
    app.base.trim_end_matches("/scim/v2").to_owned()
}

type Client = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn okta_client(app: &TestApp) -> Client {
    let origin = origin(app);
    BasicClient::new(ClientId::new("okta".to_owned()))
        .set_client_secret(ClientSecret::new(OKTA_SECRET.to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{origin}/oauth2/authorize")).expect("url"))
        .set_token_uri(TokenUrl::new(format!("{origin}/oauth2/token")).expect("url"))
        .set_redirect_uri(RedirectUrl::new(OKTA_CALLBACK.to_owned()).expect("url"))
}

/// A browser that shows redirects instead of following them, so that the
/// test sees where the server sends it.
fn browser() -> awc::Client {
    awc::Client::builder().disable_redirects().finish()
}

async fn get(url: &str) -> Resp {
    read(browser().get(url).send().await.expect("send")).await
}

async fn post_form(url: &str, fields: &[(String, String)]) -> Resp {
    let body = serde_urlencoded::to_string(fields).expect("form");
    read(
        browser()
            .post(url)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .send_body(body)
            .await
            .expect("send"),
    )
    .await
}

/// The hidden fields of the sign-in form, as a browser would submit them.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input ")
        .skip(1)
        .filter(|tag| tag.starts_with(r#"type="hidden""#))
        .filter_map(|tag| Some((attr(tag, "name")?, unescape(&attr(tag, "value")?))))
        .collect()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Query parameters of a redirect the server sent the browser to.
fn redirect_params(r: &Resp) -> Vec<(String, String)> {
    assert_eq!(r.status, 302, "{}", r.text);
    let location = r.header("location").expect("Location");
    assert!(location.starts_with(OKTA_CALLBACK), "{location}");
    let url = url::Url::parse(location).expect("url");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The admin opens the authorize URL, signs in and approves; returns the
/// sign-in page's response and the redirect back to the client.
async fn approve(authorize_url: &str, user: &str, password: &str) -> (Resp, Resp) {
    let page = get(authorize_url).await;
    let mut fields = hidden_fields(&page.text);
    fields.push(("username".to_owned(), user.to_owned()));
    fields.push(("password".to_owned(), password.to_owned()));
    fields.push(("decision".to_owned(), "approve".to_owned()));
    let action = authorize_url.split('?').next().unwrap_or_default();
    let submitted = post_form(action, &fields).await;
    (page, submitted)
}

/// Okta's side of the flow up to the token response.
async fn okta_signs_in(app: &TestApp) -> (BasicTokenResponse, String) {
    let client = okta_client(app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("scim".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let (page, back) = approve(url.as_str(), ADMIN.0, ADMIN.1).await;
    page.assert_status(200);
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page.text.contains("<form") && page.text.contains("okta"));
    let params = redirect_params(&back);
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    let code = param(&params, "code").expect("code").to_owned();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&oauth2_send)
        .await
        .expect("token response");
    (tokens, code)
}

async fn metadata_and_keys_are_published(db: Db) {
    let app = spawn(db, |_| {}).await;
    let origin = origin(&app);
    let meta = get(&format!("{origin}/.well-known/oauth-authorization-server")).await;
    meta.assert_status(200);
    assert_eq!(meta.body["issuer"], origin);
    assert_eq!(
        meta.body["authorization_endpoint"],
        format!("{origin}/oauth2/authorize")
    );
    assert_eq!(
        meta.body["token_endpoint"],
        format!("{origin}/oauth2/token")
    );
    assert_eq!(meta.body["jwks_uri"], format!("{origin}/oauth2/jwks"));
    assert_eq!(
        meta.body["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let jwks = get(&format!("{origin}/oauth2/jwks")).await;
    jwks.assert_status(200);
    let keys = jwks.body["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "EC");
    assert!(keys[0].get("d").is_none(), "no private part");
    assert_eq!(app.count_rows("oauth_signing_keys").await, 1);
    let schemes = advertised_schemes(&app, &format!("Bearer {TOKEN}")).await;
    let names: Vec<&str> = schemes.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Bearer token",
            "HTTP Basic",
            "OAuth 2.0 (built-in authorization server)"
        ]
    );
}

async fn authorization_code_flow_with_pkce_as_okta(db: Db) {
    let app = spawn(db, |_| {}).await;
    let (tokens, code) = okta_signs_in(&app).await;
    assert!(tokens.refresh_token().is_some());
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(3600)));
    let access = tokens.access_token().secret();
    call_with_bearer(&app, access).await.assert_status(200);
    // Okta provisions with it.
    let r = app
        .send(
            awc::Client::default()
                .post(app.url("/Users"))
                .insert_header(("Authorization", format!("Bearer {access}"))),
            Some(&crate::helpers::user_body("okta.user@example.com")),
        )
        .await;
    r.assert_status(201);

    // The code is single use; using it again also revokes what it produced.
    let again = okta_client(&app)
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(again, BasicErrorResponseType::InvalidGrant);
    let refresh = tokens.refresh_token().expect("refresh").clone();
    let after = okta_client(&app)
        .exchange_refresh_token(&refresh)
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(after, BasicErrorResponseType::InvalidGrant);

    // A code is bound to its verifier.
    let client = okta_client(&app);
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let (_, back) = approve(url.as_str(), ADMIN.0, ADMIN.1).await;
    let code = param(&redirect_params(&back), "code")
        .expect("code")
        .to_owned();
    let (_, wrong_verifier) = PkceCodeChallenge::new_random_sha256();
    let r = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(wrong_verifier)
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(r, BasicErrorResponseType::InvalidGrant);
}

fn assert_oauth_error<T: std::fmt::Debug>(
    r: Result<
        T,
        RequestTokenError<roster::auth::http_client::HttpError, oauth2::basic::BasicErrorResponse>,
    >,
    expected: BasicErrorResponseType,
) {
    match r {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(*e.error(), expected, "{e:?}"),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_family(db: Db) {
    let app = spawn(db, |_| {}).await;
    let (tokens, _) = okta_signs_in(&app).await;
    let first: RefreshToken = tokens.refresh_token().expect("refresh").clone();
    let client = okta_client(&app);
    let second = client
        .exchange_refresh_token(&first)
        .request_async(&oauth2_send)
        .await
        .expect("refresh");
    let second_refresh = second.refresh_token().expect("rotated").clone();
    assert_ne!(second_refresh.secret(), first.secret());
    call_with_bearer(&app, second.access_token().secret())
        .await
        .assert_status(200);
    let third = client
        .exchange_refresh_token(&second_refresh)
        .request_async(&oauth2_send)
        .await
        .expect("refresh again");
    let third_refresh = third.refresh_token().expect("rotated").clone();

    // Someone replays the first token: refused, and the whole family dies,
    // including the newest token the legitimate client holds.
    let replay = client
        .exchange_refresh_token(&first)
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(replay, BasicErrorResponseType::InvalidGrant);
    let legit = client
        .exchange_refresh_token(&third_refresh)
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(legit, BasicErrorResponseType::InvalidGrant);
    // A new sign-in starts a new, working family.
    let (fresh, _) = okta_signs_in(&app).await;
    client
        .exchange_refresh_token(fresh.refresh_token().expect("refresh"))
        .request_async(&oauth2_send)
        .await
        .expect("new family refreshes");
    // Refresh tokens are not access tokens.
    assert_invalid_token(
        &call_with_bearer(&app, third_refresh.secret()).await,
        "refresh token as bearer",
    );
}

async fn authorization_errors_follow_rfc6749(db: Db) {
    let app = spawn(db, |_| {}).await;
    let origin = origin(&app);
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let good = [
        ("response_type", "code"),
        ("client_id", "okta"),
        ("redirect_uri", OKTA_CALLBACK),
        ("state", "st<\"&>"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let query = |pairs: &[(&str, &str)]| authorize_url(&origin, pairs);
    let replace = |name: &str, value: Option<&str>| {
        let mut pairs: Vec<(&str, &str)> =
            good.iter().filter(|(k, _)| *k != name).copied().collect();
        pairs.extend(value.map(|v| (name, v)));
        authorize_url(&origin, &pairs)
    };
    // Unknown client or redirect URI: an error page, never a redirect.
    for url in [
        replace("client_id", Some("nobody")),
        replace("client_id", None),
        replace("redirect_uri", Some("https://attacker.example/cb")),
        replace(
            "redirect_uri",
            Some("https://system-admin.okta.example/admin/app/cpc/roster/oauth/callback/"),
        ),
        replace("redirect_uri", None),
    ] {
        let r = get(&url).await;
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert!(r.header("location").is_none());
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/html"))
        );
    }
    // Everything else goes back to the client, with its state.
    for (url, error) in [
        (
            replace("response_type", Some("token")),
            "unsupported_response_type",
        ),
        (replace("code_challenge", None), "invalid_request"),
        (
            replace("code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (replace("code_challenge", Some("short")), "invalid_request"),
        (replace("scope", Some("scim admin")), "invalid_scope"),
    ] {
        let params = redirect_params(&get(&url).await);
        assert_eq!(param(&params, "error"), Some(error), "{url}");
        assert_eq!(param(&params, "state"), Some("st<\"&>"));
    }
    // The state round-trips through the page intact, and a denial is reported.
    let page = get(&query(&good)).await;
    let mut fields = hidden_fields(&page.text);
    assert!(
        fields.contains(&("state".to_owned(), "st<\"&>".to_owned())),
        "{fields:?}"
    );
    fields.push(("decision".to_owned(), "deny".to_owned()));
    let params = redirect_params(&post_form(&format!("{origin}/oauth2/authorize"), &fields).await);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    // A wrong password shows the page again, with no code.
    let (_, back) = approve(&query(&good), ADMIN.0, "wrong").await;
    assert_eq!(back.status, 401);
    assert!(back.header("location").is_none() && back.text.contains("<form"));
    // Client-credentials-only clients may not use the code flow.
    let entra = replace("client_id", Some("entra"));
    let r = get(&entra).await;
    assert_eq!(r.status, 400, "entra has no redirect URI registered");
    assert_eq!(app.count_rows("oauth_codes").await, 0, "no code was issued");
}

fn authorize_url(origin: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{origin}/oauth2/authorize")).expect("url");
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

fn entra_client(
    app: &TestApp,
    secret: &str,
    auth: AuthType,
) -> BasicClient<
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new("entra".to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_auth_type(auth)
        .set_token_uri(TokenUrl::new(format!("{}/oauth2/token", origin(app))).expect("url"))
}

async fn client_credentials_with_basic_and_post_authentication(db: Db) {
    let app = spawn(db, |_| {}).await;
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let tokens = entra_client(&app, ENTRA_SECRET, auth.clone())
            .exchange_client_credentials()
            .request_async(&oauth2_send)
            .await
            .expect("client credentials");
        assert!(tokens.refresh_token().is_none(), "RFC 6749 §4.4.3");
        let access = tokens.access_token().secret();
        call_with_bearer(&app, access).await.assert_status(200);
        assert_forgeries_fail(&app, access).await;
        let wrong = entra_client(&app, "wrong", auth)
            .exchange_client_credentials()
            .request_async(&oauth2_send)
            .await;
        assert_oauth_error(wrong, BasicErrorResponseType::InvalidClient);
    }
    let r = entra_client(&app, ENTRA_SECRET, AuthType::BasicAuth)
        .exchange_client_credentials()
        .add_scope(Scope::new("admin".to_owned()))
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(r, BasicErrorResponseType::InvalidScope);
    // The Okta client may not use this grant.
    let okta = BasicClient::new(ClientId::new("okta".to_owned()))
        .set_client_secret(ClientSecret::new(OKTA_SECRET.to_owned()))
        .set_token_uri(TokenUrl::new(format!("{}/oauth2/token", origin(&app))).expect("url"));
    let r = okta
        .exchange_client_credentials()
        .request_async(&oauth2_send)
        .await;
    assert_oauth_error(r, BasicErrorResponseType::UnauthorizedClient);
    // Raw protocol errors are RFC 6749 JSON, never SCIM or HTML.
    let token_url = format!("{}/oauth2/token", origin(&app));
    let r = post_form(
        &token_url,
        &[("grant_type".to_owned(), "password".to_owned())],
    )
    .await;
    assert_eq!(r.status, 401, "no client authentication: {}", r.text);
    assert_eq!(r.body["error"], "invalid_client");
    let r = read(
        awc::Client::default()
            .post(&token_url)
            .insert_header(("Content-Type", "application/json"))
            .send_body("{}")
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let big = vec![("x".to_owned(), "y".repeat(64 * 1024))];
    let r = post_form(&token_url, &big).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let r = read(
        awc::Client::default()
            .get(&token_url)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED.as_u16());
}

/// Our own issuer's tokens get no special trust: altered or unsigned
/// copies of a real one are refused.
async fn assert_forgeries_fail(app: &TestApp, genuine: &str) {
    let parts: Vec<&str> = genuine.split('.').collect();
    let payload = URL_SAFE_NO_PAD.decode(parts[1]).expect("payload");
    let mut claims: Value = serde_json::from_slice(&payload).expect("claims");
    let kid = jsonwebtoken::decode_header(genuine)
        .expect("header")
        .kid
        .expect("kid");
    assert_invalid_token(
        &call_with_bearer(app, &unsigned(&kid, &claims)).await,
        "alg none",
    );
    claims["scope"] = serde_json::json!("scim admin");
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_invalid_token(&call_with_bearer(app, &altered).await, "altered claims");
}

async fn clients_added_with_the_cli_enable_the_server(db: Db) {
    let secret = std::cell::RefCell::new(String::new());
    // The built-in server alone: no static credentials configured.
    let app = TestApp::spawn_prepared(
        db,
        |c| {
            c.auth.bearer_tokens.clear();
            c.auth.basic.clear();
        },
        async |conn| {
            let new = NewClient {
                client_id: "entra".to_owned(),
                redirect_uris: vec![],
                grant_types: vec!["client_credentials".to_owned()],
                scopes: vec![],
                require_pkce: true,
            };
            *secret.borrow_mut() = add_client(conn, DEFAULT_TENANT, new).await.expect("add");
        },
    )
    .await;
    let secret = secret.into_inner();
    assert!(secret.starts_with("roster_cs_"));
    let stored: String = {
        let rows = roster::oauth::list_clients(&app.db, DEFAULT_TENANT)
            .await
            .expect("list");
        rows[0].secret_hash.clone()
    };
    assert!(stored.starts_with("$argon2id$"), "only a hash is stored");
    let tokens = entra_client(&app, &secret, AuthType::BasicAuth)
        .exchange_client_credentials()
        .request_async(&oauth2_send)
        .await
        .expect("client credentials");
    let access = tokens.access_token().secret();
    call_with_bearer(&app, access).await.assert_status(200);
    let names: Vec<String> = advertised_schemes(&app, &format!("Bearer {access}"))
        .await
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        names,
        ["Bearer token", "OAuth 2.0 (built-in authorization server)"]
    );
}

async fn signing_key_rotation_keeps_old_tokens_valid_until_they_expire(db: Db) {
    let app = spawn(db, |c| {
        c.oauth.access_token_seconds = 2;
        c.oauth.key_reload_seconds = 0;
        c.auth.jwt.leeway_seconds = 0;
    })
    .await;
    let token = || async {
        entra_client(&app, ENTRA_SECRET, AuthType::BasicAuth)
            .exchange_client_credentials()
            .request_async(&oauth2_send)
            .await
            .expect("token")
            .access_token()
            .secret()
            .clone()
    };
    let kid = |t: &str| {
        jsonwebtoken::decode_header(t)
            .expect("header")
            .kid
            .expect("kid")
    };
    let old = token().await;
    let new_id = rotate_key(&app.db, DEFAULT_TENANT, Duration::from_secs(2), None)
        .await
        .expect("rotate");
    let new = token().await;
    assert_eq!(kid(&new), new_id.to_string());
    assert_ne!(kid(&old), kid(&new));
    let jwks = get(&format!("{}/oauth2/jwks", origin(&app))).await;
    assert_eq!(
        jwks.body["keys"].as_array().map(Vec::len),
        Some(2),
        "the old key stays published"
    );
    call_with_bearer(&app, &old).await.assert_status(200);
    call_with_bearer(&app, &new).await.assert_status(200);

    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    let jwks = get(&format!("{}/oauth2/jwks", origin(&app))).await;
    assert_eq!(
        jwks.body["keys"].as_array().map(Vec::len),
        Some(1),
        "gone once its tokens expired"
    );
    assert_invalid_token(
        &call_with_bearer(&app, &old).await,
        "expired token of a retired key",
    );
    call_with_bearer(&app, &token().await)
        .await
        .assert_status(200);
}

async fn failed_client_authentication_is_rate_limited(db: Db) {
    let app = spawn(db, |c| {
        c.auth.rate_limit.burst = 3;
        c.auth.rate_limit.per_minute = 1;
    })
    .await;
    for _ in 0..3 {
        let r = entra_client(&app, "guess", AuthType::BasicAuth)
            .exchange_client_credentials()
            .request_async(&oauth2_send)
            .await;
        assert_oauth_error(r, BasicErrorResponseType::InvalidClient);
    }
    let token_url = format!("{}/oauth2/token", origin(&app));
    let fields = [
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("client_id".to_owned(), "entra".to_owned()),
        ("client_secret".to_owned(), "guess".to_owned()),
    ];
    let r = post_form(&token_url, &fields).await;
    assert_eq!(r.status, 429, "{}", r.text);
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("integer Retry-After");
    assert!((1..=60).contains(&retry));
    // While refused, even the right secret is refused: guessing learns nothing.
    let mut right = fields.to_vec();
    right[2].1 = ENTRA_SECRET.to_owned();
    assert_eq!(post_form(&token_url, &right).await.status, 429);
    // The SCIM API shares the allowance per address.
    let r = call_with_bearer(&app, "guess").await;
    r.assert_scim_error(429, None);
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok())
    );
}

async fn server_is_off_without_clients(db: Db) {
    let app = TestApp::spawn(db).await;
    let origin = origin(&app);
    for path in [
        "/.well-known/oauth-authorization-server",
        "/oauth2/jwks",
        "/oauth2/authorize",
    ] {
        assert_eq!(get(&format!("{origin}{path}")).await.status, 404, "{path}");
    }
    assert_eq!(
        app.count_rows("oauth_signing_keys").await,
        0,
        "no key is made without a client"
    );
}
