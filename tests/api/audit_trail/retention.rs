//! What the trail keeps: retention by age, the row limit, bodies cut at
//! their limit, and nothing at all with the trail off.

use std::time::{Duration, Instant};

use entity::{audit_change, audit_request};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait};

use super::{logged, quick, stored_change, stored_request};
use crate::each_database;
use crate::helpers::{Db, TestApp};

async fn retention_prunes_old_rows(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.prune_interval_secs = 1;
    })
    .await;
    let day = 86_400_000;
    let now = roster::time::now_ms();
    // Request keys are their time in microseconds.
    let (old, kept) = ((now - 15 * day) * 1000, (now - 13 * day) * 1000);
    for seq in [old, kept] {
        stored_request(seq, seq / 1000)
            .insert(&app.request_log)
            .await
            .unwrap();
    }
    // So are change records'.
    let (old_change, kept_change) = ((now - 366 * day) * 1000, (now - 300 * day) * 1000);
    for seq in [old_change, kept_change] {
        stored_change(seq, seq / 1000)
            .insert(&app.db)
            .await
            .unwrap();
    }
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let requests = audit_request::Entity::find()
            .all(&app.request_log)
            .await
            .unwrap();
        let changes = audit_change::Entity::find().all(&app.db).await.unwrap();
        let gone =
            !requests.iter().any(|r| r.seq == old) && !changes.iter().any(|c| c.seq == old_change);
        if gone {
            assert!(
                requests.iter().any(|r| r.seq == kept),
                "13 days old is kept"
            );
            assert!(
                changes.iter().any(|c| c.seq == kept_change),
                "300 days old is kept"
            );
            break;
        }
        assert!(Instant::now() < until, "not pruned");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_row_limit_keeps_the_newest(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.prune_interval_secs = 1;
        c.audit.max_request_rows = 3;
    })
    .await;
    let now = roster::time::now_ms();
    for n in 1..=8 {
        stored_request(now * 1000 + n, now)
            .insert(&app.request_log)
            .await
            .unwrap();
    }
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let mut seqs: Vec<i64> = audit_request::Entity::find()
            .all(&app.request_log)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq - now * 1000)
            .collect();
        seqs.sort();
        if seqs == [6, 7, 8] {
            break;
        }
        assert!(Instant::now() < until, "{seqs:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bodies_are_cut_at_the_limit(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.max_body_bytes = 512;
    })
    .await;
    let members: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..40 {
            ids.push(app.create_user(&format!("member-{n:02}")).await);
        }
        ids
    };
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let group = app.create_group("Big", &refs).await;
    let got = app.get(&format!("/Groups/{group}")).await;
    got.assert_status(200);
    assert!(got.text.len() > 2048);
    let rows = logged(&app, 43).await;
    let row = rows
        .iter()
        .find(|r| r.method == "GET" && r.path.contains(&group))
        .expect("the GET");
    let body = row.response_body.as_deref().unwrap();
    assert!(body.len() < 512 + 64, "{}", body.len());
    assert!(
        body.ends_with(&format!("[{} bytes in all]", got.text.len())),
        "{body}"
    );
}

async fn audit_off_records_nothing(db: Db) {
    let app = TestApp::spawn_with(db, |c| {
        quick(c);
        c.audit.enabled = false;
    })
    .await;
    app.create_user("quiet").await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        audit_request::Entity::find()
            .count(&app.request_log)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        audit_change::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

each_database!(
    retention_prunes_old_rows,
    the_row_limit_keeps_the_newest,
    bodies_are_cut_at_the_limit,
    audit_off_records_nothing,
);
