//! Roster's schema migrations. Each step is small and idempotent because
//! MySQL/MariaDB DDL commits implicitly: a step that fails halfway must be
//! safe to run again.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261125_000001_oauth;
mod m20261125_000002_search_projections;
mod m20261125_000003_sqlite_planner_stats;
mod m20261204_000001_json_positions;
mod m20261205_000001_audit_admins;
mod m20261205_000001_console;
mod m20261205_000001_profiles_group_names;
mod m20261205_000001_scale_counts;
mod m20261205_000001_tenants;
mod m20261205_000002_audit_log;
mod m20261205_000002_console_token_use;
mod m20261205_000041_events;
mod m20261205_000051_fewer_write_indexes;
mod m20261205_000052_change_record_indexes;
mod m20261205_000053_outbox_keys;
mod util;

pub use m20261204_000001_json_positions::{
    JSON_POSITIONS, JSON_POSITIONS_TABLE, extend_json_positions,
};
pub use m20261205_000002_audit_log::request_log_sqlite;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261125_000001_oauth::Migration),
            Box::new(m20261125_000002_search_projections::Migration),
            Box::new(m20261125_000003_sqlite_planner_stats::Migration),
            Box::new(m20261204_000001_json_positions::Migration),
            Box::new(m20261205_000001_tenants::Migration),
            Box::new(m20261205_000001_profiles_group_names::Migration),
            Box::new(m20261205_000001_scale_counts::Migration),
            Box::new(m20261205_000001_audit_admins::Migration),
            Box::new(m20261205_000002_audit_log::Migration),
            Box::new(m20261205_000001_console::Migration),
            Box::new(m20261205_000002_console_token_use::Migration),
            Box::new(m20261205_000041_events::Migration),
            Box::new(m20261205_000051_fewer_write_indexes::Migration),
            Box::new(m20261205_000052_change_record_indexes::Migration),
            Box::new(m20261205_000053_outbox_keys::Migration),
        ]
    }
}
