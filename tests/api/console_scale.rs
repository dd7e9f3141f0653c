//! The console on a group of 100,000 members: its pages read members by
//! keyset, so a page deep in the group costs what the first one does.

use std::time::{Duration, Instant};

use entity::group_member;
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::audit_admins::app_with_admin;
use crate::console_client::ConsoleClient;
use crate::each_database;
use crate::helpers::Db;

each_database!(a_group_of_100_000_members_pages_quickly);

const MEMBERS: usize = 100_000;

async fn a_group_of_100_000_members_pages_quickly(db: Db) {
    let app = app_with_admin(db).await;
    let group = app.create_group("Everyone at scale", &[]).await;
    let gid = Uuid::parse_str(&group).unwrap();
    let mut ids: Vec<Uuid> = (0..MEMBERS).map(|_| Uuid::new_v4()).collect();
    ids.sort();
    let txn = app.db.begin().await.unwrap();
    for chunk in ids.chunks(2_000) {
        let rows = chunk.iter().map(|id| group_member::ActiveModel {
            tenant_id: Set(Uuid::nil()),
            group_id: Set(gid),
            member_id: Set(*id),
            member_type: Set("User".to_owned()),
        });
        group_member::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    let console = ConsoleClient::new(&app);
    console.sign_in().await;
    let timed = async |path: String| {
        let started = Instant::now();
        let page = console.get(&path).await;
        page.assert_status(200);
        (page, started.elapsed())
    };
    let (first, first_took) = timed(format!("/console/groups/{group}")).await;
    assert_eq!(
        first.text.matches("<td class=\"mono member-id\">").count(),
        100
    );
    assert!(
        first.text.contains(&format!("?after={}", ids[99])),
        "the next page starts after the 100th"
    );
    let deep_after = ids[MEMBERS - 101];
    let (deep, deep_took) = timed(format!("/console/groups/{group}?after={deep_after}")).await;
    assert_eq!(
        deep.text.matches("<td class=\"mono member-id\">").count(),
        100
    );
    assert!(deep.text.contains(&ids[MEMBERS - 1].to_string()));
    assert!(!deep.text.contains("rel=\"next\""), "the last page");
    let (list, list_took) = timed("/console/groups".to_owned()).await;
    assert!(list.text.contains("Everyone at scale"));
    eprintln!(
        "console, {MEMBERS}-member group on {db:?}: first page {first_took:?}, last page {deep_took:?}, groups list {list_took:?}"
    );
    let bound = Duration::from_secs(5);
    assert!(first_took < bound && deep_took < bound && list_took < bound);
}
