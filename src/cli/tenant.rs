//! `roster tenant …`: the tenants one server holds apart, and the
//! `--tenant NAME` that other management commands take.

use clap::Subcommand;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::open;
use crate::config::Config;
use crate::scim::profile::{Profile, UnknownProfile, rules_in_force};
use crate::service::DEFAULT_TENANT;
use crate::service::tenants::{self, Tenant, TenantError};
use crate::startup::StartupError;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a tenant: a directory of its own, reached by its own credentials
    Add {
        /// 1 to 63 lowercase letters, digits and '-'
        name: String,
        /// The IdP whose habits its rules follow
        #[arg(long, default_value = "okta", value_parser = ["okta", "entra", "strict"])]
        profile: String,
        /// Switch one rule of the profile: NAME=on or NAME=off (repeatable;
        /// `roster tenant show` lists the rules)
        #[arg(long = "rule", value_name = "NAME=on|off")]
        rules: Vec<String>,
    },
    /// List tenants
    List,
    /// Show a tenant
    Show { name: String },
    /// Remove a tenant with its users, groups, memberships and credentials
    Remove {
        name: String,
        /// Confirm: the tenant's data cannot be recovered
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(config: &Config, command: TenantCommand) -> Result<(), StartupError> {
    let db = open::current(config).await?;
    match command {
        TenantCommand::Add {
            name,
            profile,
            rules,
        } => {
            let profile: Profile = profile
                .parse()
                .map_err(|e: UnknownProfile| StartupError::Cli(e.to_string()))?;
            let overrides = tenants::overrides_from_pairs(&rules).map_err(cli_error)?;
            let t = tenants::add(&db, &name, profile, overrides)
                .await
                .map_err(cli_error)?;
            println!(
                "tenant {} added (profile {}, id {})",
                t.name, t.profile, t.id
            );
            eprintln!(
                "create its first credential with 'roster token create --tenant {}'",
                t.name
            );
        }
        TenantCommand::List => {
            for t in tenants::list(&db).await.map_err(cli_error)? {
                println!("{}\t{}\t{}", t.name, t.profile, t.id);
            }
        }
        TenantCommand::Show { name } => {
            let mut t = tenants::find(&db, &name).await.map_err(cli_error)?;
            if t.is_default() {
                // The default tenant follows the configuration file.
                t.profile = config.scim.profile;
                t.dialect = config.scim.rules();
            }
            print!("{}", shown(&t));
        }
        TenantCommand::Remove { name, yes } => remove(&db, &name, yes).await?,
    }
    Ok(())
}

async fn remove(db: &DatabaseConnection, name: &str, yes: bool) -> Result<(), StartupError> {
    if !yes {
        return Err(StartupError::Cli(format!(
            "removing tenant {name:?} deletes its users, groups and credentials for good; \
             add --yes to confirm"
        )));
    }
    let deleted = tenants::remove(db, name).await.map_err(cli_error)?;
    let rows: Vec<String> = deleted
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(table, n)| format!("{n} {table}"))
        .collect();
    let rows = match rows.is_empty() {
        true => "no rows".to_owned(),
        false => rows.join(", "),
    };
    println!("tenant {name} removed ({rows})");
    Ok(())
}

fn shown(t: &Tenant) -> String {
    let mut out = format!("name\t{}\nid\t{}\n", t.name, t.id);
    for (rule, value) in rules_in_force(t.profile, &t.dialect) {
        out.push_str(&format!("{rule}\t{value}\n"));
    }
    out
}

/// The id of the tenant `--tenant` names; `default` without the flag.
pub async fn id_of(db: &DatabaseConnection, name: Option<&str>) -> Result<Uuid, StartupError> {
    match name {
        None => Ok(DEFAULT_TENANT),
        Some(name) => Ok(tenants::find(db, name).await.map_err(cli_error)?.id),
    }
}

fn cli_error(e: TenantError) -> StartupError {
    StartupError::Cli(e.to_string())
}
