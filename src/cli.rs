//! The `roster` command line. Flags win over their environment variables,
//! which win over the config file.

mod admin;
mod backup;
mod open;
mod receiver;
mod tenant;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

use crate::config::{
    AuthOverrides, Config, DatabaseOverrides, GRANT_TYPES, JwtOverrides, LogFormat, Overrides,
    ServerOverrides, TlsOverrides,
};
use crate::oauth::{self, NewClient};
use crate::service::{DEFAULT_TENANT, tokens};
use crate::startup::auth::{key_retention, sealing_key};
use crate::startup::{self, Application, StartupError};

#[derive(Debug, Parser)]
#[command(name = "roster", version, about = "A SCIM 2.0 provisioning server")]
pub struct Cli {
    #[command(flatten)]
    pub opts: Opts,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Opts {
    /// Config file [default: config/default.toml, if present]
    #[arg(long, env = "ROSTER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// sqlite://path?mode=rwc or mysql://user:pass@host:port/db
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to listen on, e.g. 127.0.0.1:5000
    #[arg(long, env = "ROSTER_BIND", global = true)]
    pub bind: Option<String>,
    /// Path prefix of the SCIM API, e.g. /scim/v2
    #[arg(long, env = "ROSTER_BASE_PATH", global = true)]
    pub base_path: Option<String>,
    /// Second address serving only /healthz, /readyz and /metrics, e.g. 127.0.0.1:9000
    #[arg(long, env = "ROSTER_MANAGEMENT_BIND", global = true)]
    pub management_bind: Option<String>,
    /// Log lines as `text` or `json` [default: log.format]
    #[arg(long, env = "ROSTER_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    /// Static bearer token(s), comma-separated
    #[arg(
        long,
        env = "ROSTER_BEARER_TOKEN",
        global = true,
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub bearer_token: Option<Vec<String>>,
    /// Basic credentials user:password, comma-separated
    #[arg(
        long,
        env = "ROSTER_BASIC_AUTH",
        global = true,
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub basic_auth: Option<Vec<String>>,
    #[command(flatten)]
    pub jwt: JwtOpts,
    #[command(flatten)]
    pub serve: ServeOpts,
}

/// How `serve` listens and stops.
#[derive(Debug, Args)]
pub struct ServeOpts {
    /// PEM certificate chain for HTTPS (with --tls-key)
    #[arg(long, env = "ROSTER_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (RSA, ECDSA or Ed25519)
    #[arg(long, env = "ROSTER_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Seconds in-flight requests may take to finish after SIGTERM or SIGINT [default: 30]
    #[arg(long, env = "ROSTER_SHUTDOWN_TIMEOUT", global = true)]
    pub shutdown_timeout: Option<u64>,
}

/// The external issuer whose JWTs are accepted.
#[derive(Debug, Args)]
pub struct JwtOpts {
    /// Expected `iss` of bearer JWTs
    #[arg(long, env = "ROSTER_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    /// Accepted `aud` values, comma-separated
    #[arg(
        long,
        env = "ROSTER_JWT_AUDIENCE",
        global = true,
        value_delimiter = ','
    )]
    pub jwt_audience: Option<Vec<String>>,
    /// URL of the issuer's JWKS (https, or http on loopback)
    #[arg(long, env = "ROSTER_JWT_JWKS_URL", global = true)]
    pub jwt_jwks_url: Option<String>,
    /// A JWKS or PEM public key file
    #[arg(long, env = "ROSTER_JWT_JWKS_FILE", global = true)]
    pub jwt_jwks_file: Option<PathBuf>,
    /// Shared secret for HS256 tokens (at least 32 bytes)
    #[arg(
        long,
        env = "ROSTER_JWT_HS256_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_hs256_secret: Option<String>,
    /// Scope a token must carry
    #[arg(long, env = "ROSTER_JWT_REQUIRED_SCOPE", global = true)]
    pub jwt_required_scope: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Manage tenants: directories held apart on one server
    Tenant {
        #[command(subcommand)]
        command: tenant::TenantCommand,
    },
    /// Manage static bearer tokens kept in the database
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage clients of the built-in OAuth2 authorization server
    OauthClient {
        #[command(subcommand)]
        command: OAuthClientCommand,
    },
    /// Manage the built-in authorization server's signing keys
    OauthKey {
        #[command(subcommand)]
        command: OAuthKeyCommand,
    },
    /// Manage the console's admin accounts
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Print the Argon2 hash of a secret read from standard input, for the config file
    HashSecret,
    /// Exit 0 when a running server answers ready at /readyz, else 1
    Healthcheck {
        /// URL to probe [default: /readyz on the management or main bind address]
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage receivers of events (RFC 8935 push, RFC 8936 poll, JSON webhooks)
    Receiver {
        #[command(subcommand)]
        command: receiver::ReceiverCommand,
    },
    /// Copy a SQLite database while the server runs (MySQL/MariaDB: prints the dump command)
    Backup {
        /// The copy to write (a new file, mode 0600)
        #[arg(long)]
        out: PathBuf,
        /// Overwrite FILE if it exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token and print it once
    Create {
        #[arg(long, default_value = "cli")]
        name: String,
        /// The tenant the token reaches [default: default]
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List tokens (never their values)
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by id
    Revoke {
        id: Uuid,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OAuthClientCommand {
    /// Add a client of the built-in authorization server; prints its secret once
    Add {
        client_id: String,
        /// Exact redirect URI (repeatable), e.g. Okta's callback URL
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Allowed grant types (repeatable or comma-separated)
        #[arg(
            long = "grant-type",
            value_delimiter = ',',
            default_values_t = ["authorization_code".to_owned(), "refresh_token".to_owned()],
            value_parser = clap::builder::PossibleValuesParser::new(GRANT_TYPES)
        )]
        grant_types: Vec<String>,
        /// Scopes the client may ask for [default: oauth.scope]
        #[arg(long = "scope", value_delimiter = ',')]
        scopes: Vec<String>,
        /// Accept authorization requests without PKCE (for clients that cannot send it)
        #[arg(long)]
        no_pkce: bool,
        /// The tenant the client's tokens reach [default: default]
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List clients kept in the database (never their secrets)
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Remove a client and revoke its refresh tokens
    Remove {
        client_id: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OAuthKeyCommand {
    /// Sign with a new key from now on; old keys stay published until their tokens expire
    Rotate,
    /// List signing keys (never the private parts)
    List,
}

impl Opts {
    fn overrides(&self) -> Overrides {
        let server = (self.bind.is_some()
            || self.base_path.is_some()
            || self.management_bind.is_some()
            || self.serve.shutdown_timeout.is_some())
        .then(|| ServerOverrides {
            bind: self.bind.clone(),
            base_path: self.base_path.clone(),
            management_bind: self.management_bind.clone(),
            shutdown_timeout_secs: self.serve.shutdown_timeout,
        });
        let tls =
            (self.serve.tls_cert.is_some() || self.serve.tls_key.is_some()).then(|| TlsOverrides {
                cert: self.serve.tls_cert.clone(),
                key: self.serve.tls_key.clone(),
            });
        let database = self
            .database_url
            .clone()
            .map(|url| DatabaseOverrides { url: Some(url) });
        let auth =
            (self.bearer_token.is_some() || self.basic_auth.is_some()).then(|| AuthOverrides {
                bearer_tokens: self.bearer_token.clone(),
                basic: self.basic_auth.clone(),
                jwt: None,
            });
        let auth = match (auth, self.jwt.overrides()) {
            (auth, None) => auth,
            (auth, Some(jwt)) => Some(AuthOverrides {
                jwt: Some(jwt),
                ..auth.unwrap_or_default()
            }),
        };
        Overrides {
            server,
            database,
            auth,
            tls,
        }
    }
}

impl JwtOpts {
    fn overrides(&self) -> Option<JwtOverrides> {
        let jwt = JwtOverrides {
            issuer: self.jwt_issuer.clone(),
            // "a,,b" or a trailing comma must not add an empty audience.
            audience: self
                .jwt_audience
                .clone()
                .map(|a| a.into_iter().filter(|s| !s.is_empty()).collect()),
            jwks_url: self.jwt_jwks_url.clone(),
            jwks_file: self.jwt_jwks_file.clone(),
            hs256_secret: self.jwt_hs256_secret.clone(),
            required_scope: self.jwt_required_scope.clone(),
        };
        let any = jwt.issuer.is_some()
            || jwt.audience.is_some()
            || jwt.jwks_url.is_some()
            || jwt.jwks_file.is_some()
            || jwt.hs256_secret.is_some()
            || jwt.required_scope.is_some();
        any.then_some(jwt)
    }
}

pub async fn run(cli: Cli) -> Result<(), StartupError> {
    let config = Config::load(cli.opts.config.as_deref(), &cli.opts.overrides())?;
    crate::observe::logging::init(cli.opts.log_format.unwrap_or(config.log.format), &config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            let db = startup::connect(&config).await?;
            startup::migrate(&config, &db).await?;
            println!("migrations applied to {}", config.database.url);
            Ok(())
        }
        Command::Tenant { command } => tenant::run(&config, command).await,
        Command::Token { command } => token_command(&config, command).await,
        Command::OauthClient { command } => oauth_client_command(&config, command).await,
        Command::OauthKey { command } => oauth_key_command(&config, command).await,
        Command::Admin { command } => admin::run(&config, command).await,
        Command::HashSecret => hash_secret_command(),
        Command::Healthcheck { url } => {
            crate::observe::healthcheck::run(&config, url.as_deref()).map_err(StartupError::Cli)
        }
        Command::Backup { out, force } => backup::run(&config, &out, force).await,
        Command::Receiver { command } => receiver::run(&config, command).await,
    }
}

async fn token_command(config: &Config, command: TokenCommand) -> Result<(), StartupError> {
    let db = open::current(config).await?;
    match command {
        TokenCommand::Create { name, tenant } => {
            let tenant = tenant::id_of(&db, tenant.as_deref()).await?;
            let t = tokens::create(&db, tenant, &name).await?;
            println!("{}", t.token);
            eprintln!(
                "token '{}' created with id {} (shown only this once)",
                t.name, t.id
            );
        }
        TokenCommand::List { tenant } => {
            let tenant = tenant::id_of(&db, tenant.as_deref()).await?;
            for t in tokens::list(&db, tenant).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    crate::time::format_ms(t.created_at),
                    state
                );
            }
        }
        TokenCommand::Revoke { id, tenant } => {
            let tenant = tenant::id_of(&db, tenant.as_deref()).await?;
            if tokens::revoke(&db, tenant, id).await? {
                println!("token {id} revoked");
            } else {
                println!("no active token with id {id}");
            }
        }
    }
    Ok(())
}

async fn oauth_client_command(
    config: &Config,
    command: OAuthClientCommand,
) -> Result<(), StartupError> {
    let db = open::current(config).await?;
    match command {
        OAuthClientCommand::Add {
            client_id,
            redirect_uris,
            grant_types,
            scopes,
            no_pkce,
            tenant,
        } => {
            let tenant = tenant::id_of(&db, tenant.as_deref()).await?;
            if config
                .oauth
                .clients
                .iter()
                .any(|c| c.client_id == client_id)
            {
                return Err(StartupError::Cli(format!(
                    "client {client_id:?} is already configured in the config file"
                )));
            }
            let new = NewClient {
                client_id: client_id.clone(),
                redirect_uris,
                grant_types,
                scopes,
                require_pkce: !no_pkce,
            };
            let secret = oauth::add_client(&db, tenant, new).await?;
            println!("{secret}");
            eprintln!(
                "client {client_id:?} added; its secret is shown only this once. \
                 Restart Roster to enable the authorization server if this is the first client."
            );
        }
        OAuthClientCommand::List { tenant } => {
            let tenant = tenant::id_of(&db, tenant.as_deref()).await?;
            for c in oauth::list_clients(&db, tenant).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    c.client_id,
                    c.grant_types,
                    c.redirect_uris,
                    crate::time::format_ms(c.created_at)
                );
            }
        }
        OAuthClientCommand::Remove { client_id, tenant } => {
            let tenant = tenant::id_of(&db, tenant.as_deref()).await?;
            if oauth::remove_client(&db, tenant, &client_id).await? {
                println!("client {client_id:?} removed and its refresh tokens revoked");
            } else {
                println!("no stored client {client_id:?}");
            }
        }
    }
    Ok(())
}

async fn oauth_key_command(config: &Config, command: OAuthKeyCommand) -> Result<(), StartupError> {
    let db = open::current(config).await?;
    match command {
        OAuthKeyCommand::Rotate => {
            let sealing = sealing_key(config).map_err(StartupError::Auth)?;
            let retention = key_retention(config);
            let id = oauth::rotate_key(&db, DEFAULT_TENANT, retention, sealing.as_ref()).await?;
            println!("new signing key {id}; running servers switch to it within a minute");
        }
        OAuthKeyCommand::List => {
            for k in oauth::list_keys(&db, DEFAULT_TENANT).await? {
                let state = match k.retired_at {
                    Some(at) => format!("retired {}", crate::time::format_ms(at)),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{state}",
                    k.id,
                    k.algorithm,
                    crate::time::format_ms(k.created_at)
                );
            }
        }
    }
    Ok(())
}

fn hash_secret_command() -> Result<(), StartupError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| StartupError::Cli(format!("cannot read standard input: {e}")))?;
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(StartupError::Cli("no secret on standard input".to_owned()));
    }
    let hash = crate::secrets::hash_secret(secret).map_err(StartupError::Cli)?;
    println!("{hash}");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail dictates the error type
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn named_jwt_variables_reach_the_config() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ROSTER_JWT_ISSUER", "https://sts.windows.net/t/");
            jail.set_env(
                "ROSTER_JWT_AUDIENCE",
                "8adf8e6e-67b2-4cf2-a259-e3dc5476c621,api://roster,",
            );
            jail.set_env("ROSTER_JWT_JWKS_URL", "https://login.example/keys");
            jail.set_env(
                "ROSTER_JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            );
            jail.set_env("ROSTER_JWT_REQUIRED_SCOPE", "scim");
            let cli = Cli::try_parse_from(["roster"]).map_err(|e| e.to_string())?;
            let c = Config::load(None, &cli.opts.overrides()).map_err(|e| e.to_string())?;
            let jwt = &c.auth.jwt;
            assert_eq!(jwt.issuer.as_deref(), Some("https://sts.windows.net/t/"));
            assert_eq!(jwt.audience.len(), 2);
            assert_eq!(jwt.jwks_url.as_deref(), Some("https://login.example/keys"));
            assert!(jwt.hs256_secret.is_some());
            assert_eq!(jwt.required_scope.as_deref(), Some("scim"));
            Ok(())
        });
    }

    #[test]
    fn oauth_client_add_parses() {
        let cli = Cli::try_parse_from([
            "roster",
            "oauth-client",
            "add",
            "entra",
            "--grant-type",
            "client_credentials",
        ])
        .expect("parses");
        let Some(Command::OauthClient {
            command: OAuthClientCommand::Add { grant_types, .. },
        }) = cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(grant_types, ["client_credentials"]);
        assert!(
            Cli::try_parse_from([
                "roster",
                "oauth-client",
                "add",
                "x",
                "--grant-type",
                "password"
            ])
            .is_err()
        );
    }
}
