//! The data the benchmarks seed: users, groups, and who belongs where.
//!
//! Users come in two shapes, because each benchmark's recorded figures in
//! BENCHMARKS.md were measured on its own shape and must stay comparable
//! with the next run:
//! * [`Shape::Run`], `bench/run` and `bench/group-patch`: the user
//!   `bench/harness.py` also POSTs to the reference server. Keep
//!   [`Shape::Run`]'s user, [`group_body`] and [`group_plan`] in step with
//!   `user_body`, `group_body` and `group_plan` there.
//! * [`Shape::Query`], `bench/query`: a user as an identity provider
//!   provisions it (the enterprise extension, a phone number), looked up by
//!   [`user_name`], [`external_id`] and [`work_email`].

use clap::ValueEnum;
use serde_json::{Value, json};

/// Members of each group that is not one of the sized groups.
const SMALL_GROUP_MEMBERS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    /// `bench/run`'s users: the JSON its harness POSTs to the reference server.
    Run,
    /// `bench/query`'s users: IdP-shaped, with the enterprise extension.
    Query,
}

impl Shape {
    /// The `i`-th seeded user's document.
    pub fn user(self, i: usize) -> Value {
        match self {
            Self::Run => run_user(i),
            Self::Query => query_user(i as u64),
        }
    }
}

fn run_user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{i:07}@bench.example"),
        "externalId": format!("ext-{i:07}"),
        "name": {"givenName": format!("Given{i}"), "familyName": format!("Family{i}")},
        "displayName": format!("User {i}"),
        "active": true,
        "emails": [
            {"value": format!("u{i:07}@work.example"), "type": "work", "primary": true},
            {"value": format!("u{i:07}@home.example"), "type": "home"}
        ]
    })
}

fn query_user(i: u64) -> Value {
    let pick = |names: &[&'static str]| names[(i % names.len() as u64) as usize];
    let given = pick(&["Ann", "Bob", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hana"]);
    let family = format!("Family{:05}", i % 50_000);
    let title = pick(&["Engineer", "Manager", "Analyst", "Designer"]);
    let department = pick(&["Sales", "R&D", "Support"]);
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

/// The userName of the i-th [`Shape::Query`] user.
pub fn user_name(i: u64) -> String {
    format!("user{i:07}@example.com")
}

/// The externalId of the i-th [`Shape::Query`] user.
pub fn external_id(i: u64) -> String {
    format!("EXT-{i:07}")
}

/// The work email of the i-th [`Shape::Query`] user.
pub fn work_email(i: u64) -> String {
    format!("u{i:07}@work.example.com")
}

pub fn group_body(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
    })
}

/// The groups and the user indices they hold: the sized groups hold the
/// first `size` users (so users 0..99 belong to all of them), the others ten
/// users each.
pub fn group_plan(users: usize, groups: usize, sizes: &[usize]) -> Vec<(String, Vec<usize>)> {
    let mut plan: Vec<(String, Vec<usize>)> = sizes
        .iter()
        .map(|&s| (format!("bench-size-{s}"), (0..s).collect()))
        .collect();
    for g in 0..groups.saturating_sub(sizes.len()) {
        let members = (0..SMALL_GROUP_MEMBERS)
            .map(|k| (g * SMALL_GROUP_MEMBERS + k) % users.max(1))
            .collect();
        plan.push((format!("bench-group-{g:03}"), members));
    }
    plan
}
