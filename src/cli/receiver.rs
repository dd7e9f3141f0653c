//! `roster receiver`: who receives a tenant's events. A poll receiver's
//! credential and a webhook's HMAC secret are printed once; only the
//! credential's hash is stored.

use clap::Subcommand;
use uuid::Uuid;

use super::open;
use crate::config::{Config, check_fetch_url};
use crate::events::receivers::{self, Format, Mode, NewReceiver, Receiver};
use crate::events::{EventType, store};
use crate::startup::StartupError;
use crate::startup::auth::sealing_key;
use crate::time::format_ms;
use sea_orm::DatabaseConnection;

#[derive(Debug, Subcommand)]
pub enum ReceiverCommand {
    /// Add a receiver; prints its poll credential or webhook secret once
    Add {
        name: String,
        /// The tenant whose events it receives (a tenant's name or id)
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Push each event to this URL (https; http only on loopback)
        #[arg(long, required_unless_present = "poll", conflicts_with = "poll")]
        push: Option<String>,
        /// Let the receiver poll for its events (RFC 8936)
        #[arg(long)]
        poll: bool,
        /// Events it wants, comma-separated short names or URIs [default: all]
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// `set` (signed Security Event Tokens) or `json` (HMAC-signed webhook)
        #[arg(long, default_value = "set")]
        format: String,
        /// The SETs' `aud` [default: the push URL, or urn:roster:receiver:NAME]
        #[arg(long)]
        audience: Option<String>,
    },
    /// List receivers
    List {
        /// Only this tenant's (a tenant's name or id)
        #[arg(long)]
        tenant: Option<String>,
    },
    /// A receiver's settings and delivery state, with its parked events
    Show {
        name: String,
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Remove a receiver (its undelivered events are no longer sent)
    Remove {
        name: String,
        #[arg(long, default_value = "default")]
        tenant: String,
    },
}

/// The tenant `name` names: a tenant's name, or its id.
async fn tenant_id(db: &DatabaseConnection, name: &str) -> Result<Uuid, StartupError> {
    if let Ok(id) = Uuid::parse_str(name) {
        return Ok(id);
    }
    super::tenant::id_of(db, Some(name)).await
}

fn cli_err(e: impl std::fmt::Display) -> StartupError {
    StartupError::Cli(e.to_string())
}

pub async fn run(config: &Config, command: ReceiverCommand) -> Result<(), StartupError> {
    let db = open::current(config).await?;
    match command {
        ReceiverCommand::Add {
            name,
            tenant,
            push,
            poll,
            events,
            format,
            audience,
        } => {
            let format = Format::parse(&format)
                .ok_or_else(|| cli_err(format!("--format is set or json, not {format:?}")))?;
            let mode = if poll { Mode::Poll } else { Mode::Push };
            if mode == Mode::Poll && format == Format::Json {
                return Err(cli_err("--format json is for push receivers (webhooks)"));
            }
            if let Some(url) = &push {
                check_fetch_url("--push", url).map_err(cli_err)?;
            }
            let events = events
                .iter()
                .filter(|e| !e.is_empty())
                .map(|e| EventType::parse(e).ok_or_else(|| cli_err(unknown_event(e))))
                .collect::<Result<Vec<_>, _>>()?;
            if format == Format::Set {
                crate::startup::events::key_ring(config, &db)
                    .ensure_signing_key()
                    .await?;
            }
            let new = NewReceiver {
                name: name.clone(),
                mode,
                format,
                url: push,
                audience,
                events,
            };
            let now = crate::time::now_ms();
            let sealing = sealing_key(config).map_err(StartupError::Auth)?;
            let tenant = tenant_id(&db, &tenant).await?;
            let added = receivers::add(&db, tenant, new, now, sealing.as_ref())
                .await
                .map_err(cli_err)?;
            if let Some(secret) = added.secret {
                println!("{secret}");
            }
            let what = match (mode, format) {
                (Mode::Poll, _) => "its poll credential is shown only this once",
                (Mode::Push, Format::Json) => "its webhook secret is shown only this once",
                (Mode::Push, Format::Set) => "SETs are signed with the keys at /oauth2/jwks",
            };
            eprintln!(
                "receiver {name:?} added with id {}; {what}. Running servers pick it up within \
                 events.refresh_ms.",
                added.id
            );
        }
        ReceiverCommand::List { tenant } => {
            let tenant = match tenant.as_deref() {
                Some(name) => Some(tenant_id(&db, name).await?),
                None => None,
            };
            for r in receivers::list(&db, tenant).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.name,
                    r.tenant,
                    r.mode.name(),
                    r.format.name(),
                    r.url.as_deref().unwrap_or("-")
                );
            }
        }
        ReceiverCommand::Show { name, tenant } => {
            let tenant = tenant_id(&db, &tenant).await?;
            let Some(r) = receivers::find(&db, tenant, &name).await? else {
                return Err(cli_err(format!("no receiver {name:?}")));
            };
            show(&db, &r).await?;
        }
        ReceiverCommand::Remove { name, tenant } => {
            if receivers::remove(&db, tenant_id(&db, &tenant).await?, &name).await? {
                println!("receiver {name:?} removed");
            } else {
                println!("no receiver {name:?}");
            }
        }
    }
    Ok(())
}

fn unknown_event(name: &str) -> String {
    let known: Vec<&str> = EventType::ALL.iter().map(|e| e.short()).collect();
    format!("unknown event {name:?} (known: {})", known.join(", "))
}

async fn show(db: &sea_orm::DatabaseConnection, r: &Receiver) -> Result<(), StartupError> {
    let pending = store::count_after(db, r.tenant, r.cursor_seq).await?;
    let (parked, parked_count) = store::parked(db, r.id, 20).await?;
    let events: Vec<&str> = r.events.iter().map(|e| e.short()).collect();
    let lines = [
        ("name", r.name.clone()),
        ("id", r.id.to_string()),
        ("tenant", r.tenant.to_string()),
        ("mode", r.mode.name().to_owned()),
        ("format", r.format.name().to_owned()),
        ("url", r.url.clone().unwrap_or_else(|| "-".to_owned())),
        ("audience", r.audience.clone()),
        (
            "events",
            if events.is_empty() {
                "all".to_owned()
            } else {
                events.join(",")
            },
        ),
        ("created", format_ms(r.created_at)),
        ("delivered", r.delivered.to_string()),
        ("pending", pending.to_string()),
        ("failed attempts", r.attempts.to_string()),
        (
            "failing since",
            r.failing_since.map_or("-".to_owned(), format_ms),
        ),
        (
            "next attempt",
            if r.next_attempt_at > 0 {
                format_ms(r.next_attempt_at)
            } else {
                "-".to_owned()
            },
        ),
        (
            "last error",
            r.last_error.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("parked", parked_count.to_string()),
    ];
    for (key, value) in lines {
        println!("{key}:\t{value}");
    }
    for p in parked {
        println!(
            "parked\t{}\t{}\t{}\t{}\t{}",
            p.seq,
            p.event_id.simple(),
            p.event,
            format_ms(p.parked_at),
            p.error
        );
    }
    Ok(())
}
