//! The tenants as start-up reads them: the directory requests resolve
//! their tenant through, and the `[[tenant]]` bindings of configured
//! credentials with their names resolved to ids.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::StartupError;
use crate::auth::TenantBindings;
use crate::auth::tenancy::JwtTenant;
use crate::config::Config;
use crate::service::tenants::TenantDirectory;

pub async fn load(
    config: &Config,
    db: &DatabaseConnection,
) -> Result<(Arc<TenantDirectory>, TenantBindings), StartupError> {
    let directory = TenantDirectory::load(db.clone()).await?;
    let mut basic = HashMap::new();
    let mut jwt = Vec::new();
    for t in &config.tenant {
        let Some(id) = directory.id_of(&t.name).await? else {
            return Err(StartupError::Cli(format!(
                "[[tenant]] {:?} names no tenant; add it with 'roster tenant add {}'",
                t.name, t.name
            )));
        };
        basic.extend(t.basic_users.iter().map(|u| (u.clone(), id)));
        jwt.extend(t.jwt.iter().map(|j| JwtTenant {
            issuer: j.issuer.clone(),
            audience: j.audience.clone(),
            tenant: id,
        }));
    }
    Ok((Arc::new(directory), TenantBindings::new(basic, jwt)))
}
