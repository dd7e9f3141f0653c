//! The `roster` command line. Flags win over their environment variables,
//! which win over the config file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

use crate::config::{AuthOverrides, Config, DatabaseOverrides, Overrides, ServerOverrides};
use crate::service::{DEFAULT_TENANT, tokens};
use crate::startup::{self, StartupError};

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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Manage static bearer tokens kept in the database
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token and print it once
    Create {
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List tokens (never their values)
    List,
    /// Revoke a token by id
    Revoke { id: Uuid },
}

impl Opts {
    fn overrides(&self) -> Overrides {
        let server = (self.bind.is_some() || self.base_path.is_some()).then(|| ServerOverrides {
            bind: self.bind.clone(),
            base_path: self.base_path.clone(),
        });
        let database = self
            .database_url
            .clone()
            .map(|url| DatabaseOverrides { url: Some(url) });
        let auth =
            (self.bearer_token.is_some() || self.basic_auth.is_some()).then(|| AuthOverrides {
                bearer_tokens: self.bearer_token.clone(),
                basic: self.basic_auth.clone(),
            });
        Overrides {
            server,
            database,
            auth,
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), StartupError> {
    let config = Config::load(cli.opts.config.as_deref(), &cli.opts.overrides())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(config).await,
        Command::Migrate => {
            let db = startup::connect(&config).await?;
            startup::migrate(&config, &db).await?;
            println!("migrations applied to {}", config.database.url);
            Ok(())
        }
        Command::Token { command } => token_command(&config, command).await,
    }
}

async fn token_command(config: &Config, command: TokenCommand) -> Result<(), StartupError> {
    let db = startup::connect(config).await?;
    startup::migrate(config, &db).await?;
    match command {
        TokenCommand::Create { name } => {
            let t = tokens::create(&db, DEFAULT_TENANT, &name).await?;
            println!("{}", t.token);
            eprintln!(
                "token '{}' created with id {} (shown only this once)",
                t.name, t.id
            );
        }
        TokenCommand::List => {
            for t in tokens::list(&db, DEFAULT_TENANT).await? {
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
        TokenCommand::Revoke { id } => {
            if tokens::revoke(&db, DEFAULT_TENANT, id).await? {
                println!("token {id} revoked");
            } else {
                println!("no active token with id {id}");
            }
        }
    }
    Ok(())
}
