//! Unique group names arrive on databases that already hold groups sharing
//! a name: the migration keeps every group, the oldest holds the name, and
//! the others stay readable and writable.

use entity::group;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveValue::Set, Database, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Db, TestApp, mariadb_url};

/// The migrations before unique group names.
const BEFORE: u32 = 5;

mod existing_duplicates_survive_the_migration {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
        run(Db::Sqlite, url).await;
    }

    #[actix_web::test]
    async fn mariadb() {
        run(Db::MariaDb, mariadb_url().await).await;
    }
}

fn legacy_group(id: Uuid, name: &str, created_at: i64) -> group::ActiveModel {
    group::ActiveModel {
        tenant_id: Set(Uuid::nil()),
        id: Set(id),
        display_name: Set(name.to_owned()),
        display_name_norm: Set(name.to_lowercase()),
        external_id: Set(None),
        created_at: Set(created_at),
        modified_at: Set(created_at),
        version: Set(1),
        doc: Set(json!({"displayName": name})),
        doc_search: Set(None),
    }
}

async fn run(_: Db, url: String) {
    let (oldest, younger, alone) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    {
        let db = Database::connect(url.as_str()).await.expect("connect");
        Migrator::up(&db, Some(BEFORE))
            .await
            .expect("older migrations");
        let rows = [
            legacy_group(younger, "TEAM", 2_000),
            legacy_group(oldest, "Team", 1_000),
            legacy_group(alone, "Alone", 1_500),
        ];
        group::Entity::insert_many(rows)
            .exec(&db)
            .await
            .expect("legacy rows");
        db.close().await.ok();
    }
    let app = TestApp::spawn_on(url, |_| {}).await;
    assert_eq!(app.get("/Groups").await.body["totalResults"], 3);
    let user = app.create_user("member@example.com").await;
    // The younger duplicate keeps working: member changes, same-name PUT.
    let path = format!("/Groups/{younger}");
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}]});
    app.patch(&path, &add).await.assert_status(200);
    app.put(
        &path,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "TEAM", "members": [{"value": user}]}),
    )
    .await
    .assert_status(200);
    // The name is taken, by the oldest, and "Alone" by its group.
    let new = |name: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name});
    for name in ["team", "alone"] {
        app.post("/Groups", &new(name))
            .await
            .assert_scim_error(409, Some("uniqueness"));
    }
    // Renaming the younger one away gives it a key of its own.
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Team B"}]});
    app.patch(&path, &rename).await.assert_status(200);
    app.post("/Groups", &new("team b"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    // Deleting the oldest frees the name.
    app.delete(&format!("/Groups/{oldest}"))
        .await
        .assert_status(204);
    app.post("/Groups", &new("Team")).await.assert_status(201);
}
