//! Bulk seeding. Going through the HTTP API would take hours for a million
//! users; the columns are computed by the same `UserRecord` code the API
//! uses, so the rows are indistinguishable from API-written ones.

use std::time::Instant;

use entity::{user, user_email};
use roster::config::{Config, DatabaseUrl};
use roster::scim::idp_dialect::Dialect;
use roster::scim::user::UserRecord;
use roster::service::DEFAULT_TENANT;
use roster::service::users::new_user_row;
use roster::store::users::email_rows;
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{external_id, user_name, work_email};

/// Rows per INSERT: well below SQLite's and MySQL's bind-parameter limits.
const ROWS_PER_INSERT: u64 = 1000;
/// INSERTs per transaction: few commits, bounded undo on MariaDB.
const INSERTS_PER_TXN: u64 = 20;
/// A fixed epoch keeps creation order = seed order across runs.
const BASE_MS: i64 = 1_735_689_600_000;

pub async fn run(url: &str, users: u64) -> Result<(), String> {
    let mut config = Config::default();
    config.database.url = DatabaseUrl::new(url);
    let db = roster::startup::connect(&config)
        .await
        .map_err(|e| e.to_string())?;
    roster::startup::migrate(&config, &db)
        .await
        .map_err(|e| e.to_string())?;
    let existing = user::Entity::find()
        .count(&db)
        .await
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        return Err(format!("the database already has {existing} users"));
    }
    let registry = roster::startup::registry(&config).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut next = 0;
    while next < users {
        let txn = db.begin().await.map_err(|e| e.to_string())?;
        for _ in 0..INSERTS_PER_TXN {
            if next >= users {
                break;
            }
            let end = (next + ROWS_PER_INSERT).min(users);
            let (rows, emails) = batch(&registry, next..end)?;
            user::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await
                .map_err(|e| e.to_string())?;
            user_email::Entity::insert_many(emails)
                .exec_without_returning(&txn)
                .await
                .map_err(|e| e.to_string())?;
            next = end;
        }
        txn.commit().await.map_err(|e| e.to_string())?;
        eprintln!(
            "seeded {next} users ({:.0}/s)",
            next as f64 / started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

type Batch = (Vec<user::ActiveModel>, Vec<user_email::ActiveModel>);

fn batch(
    registry: &roster::scim::schema::SchemaRegistry,
    range: std::ops::Range<u64>,
) -> Result<Batch, String> {
    let mut rows = Vec::with_capacity(range.clone().count());
    let mut emails = Vec::with_capacity(rows.capacity() * 2);
    for i in range {
        let record = UserRecord::from_json(registry, &Dialect::lenient(), document(i))
            .map_err(|e| e.to_string())?;
        let id = Uuid::new_v4();
        let at = BASE_MS + i64::try_from(i).unwrap_or(i64::MAX);
        emails.extend(email_rows(DEFAULT_TENANT, id, &record.emails));
        rows.push(new_user_row(DEFAULT_TENANT, id, &record, at, None));
    }
    Ok((rows, emails))
}

/// A user as an IdP would create it: core attributes, two emails, a phone
/// number and the enterprise extension.
fn document(i: u64) -> Value {
    let given = ["Ann", "Bob", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hana"][(i % 8) as usize];
    let family = format!("Family{:05}", i % 50_000);
    let title = ["Engineer", "Manager", "Analyst", "Designer"][(i % 4) as usize];
    let department = ["Sales", "R&D", "Support"][(i % 3) as usize];
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": user_name(i),
        "externalId": external_id(i),
        "displayName": format!("{given} {family}"),
        "name": {"givenName": given, "familyName": family},
        "title": title,
        "active": !i.is_multiple_of(10),
        "emails": [
            {"value": work_email(i), "type": "work", "primary": true},
            {"value": format!("u{i:07}@home.example.org"), "type": "home"}
        ],
        "phoneNumbers": [{"value": format!("+1 555 {:07}", i), "type": "work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": format!("{i}"),
            "department": department
        }
    })
}
