//! `roster admin add|list|remove`: the console's admin accounts.

use clap::Subcommand;

use super::open;
use crate::config::Config;
use crate::service::admins;
use crate::startup::StartupError;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add a console admin; the password is read from standard input
    Add { name: String },
    /// List console admins (never their passwords)
    List,
    /// Remove a console admin
    Remove { name: String },
}

pub async fn run(config: &Config, command: AdminCommand) -> Result<(), StartupError> {
    let db = open::current(config).await?;
    match command {
        AdminCommand::Add { name } => {
            let password = read_password()?;
            admins::add(&db, &name, &password).await?;
            println!("admin {name:?} added");
        }
        AdminCommand::List => {
            for a in admins::list(&db).await? {
                println!("{}\t{}", a.name, crate::time::format_ms(a.created_at));
            }
        }
        AdminCommand::Remove { name } => {
            if admins::remove(&db, &name).await? {
                println!("admin {name:?} removed");
            } else {
                println!("no admin {name:?}");
            }
        }
    }
    Ok(())
}

/// One line of standard input, without its line ending.
fn read_password() -> Result<String, StartupError> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| StartupError::Cli(format!("cannot read standard input: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(StartupError::Cli(
            "no password on standard input (e.g. 'roster admin add NAME < password-file')"
                .to_owned(),
        ));
    }
    Ok(password.to_owned())
}
