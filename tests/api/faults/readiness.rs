//! Readiness follows the database: a killed MariaDB turns `/readyz` to 503
//! with Retry-After (liveness stays 200: restarting Roster would not help),
//! and its return turns it back to 200 without a restart.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

use super::victim::{Revive, Victim};
use crate::helpers::{Db, TestApp};

async fn probe(url: &str) -> (u16, Option<String>, String) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut resp = client.get(url).send().await.expect("the server answers");
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.body().await.expect("a body");
    (
        resp.status().as_u16(),
        retry,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[ignore = "faults stage"]
#[actix_web::test]
async fn readiness_turns_503_while_mariadb_is_down_and_200_when_it_returns() {
    let victim = Victim::from_env();
    let _revive = Revive(&victim);
    let url = victim.fresh_database().await;
    let app = TestApp::spawn_with(Db::MariaDb, |c| {
        c.database.url = roster::config::DatabaseUrl::new(url.clone());
        c.database.max_connections = 4;
    })
    .await;
    let (ready, health) = (
        format!("{}/readyz", app.root),
        format!("{}/healthz", app.root),
    );
    assert_eq!(probe(&ready).await.0, 200, "ready before the fault");

    victim.kill();
    let asked = Instant::now();
    let (status, retry, body) = probe(&ready).await;
    let took = asked.elapsed();
    assert_eq!(status, 503, "not ready while the database is down: {body}");
    assert!(retry.is_some(), "503 without Retry-After");
    assert!(body.contains("unavailable"), "no reason given: {body}");
    assert!(
        took < Duration::from_millis(2500),
        "readiness took {took:?}"
    );
    assert_eq!(
        probe(&health).await.0,
        200,
        "liveness must not follow the database"
    );

    actix_web::rt::task::spawn_blocking(|| Victim::from_env().restart())
        .await
        .expect("restart");
    let back = Instant::now();
    let mut last = (0, None, String::new());
    while back.elapsed() < Duration::from_secs(5) {
        last = probe(&ready).await;
        if last.0 == 200 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        last.0, 200,
        "not ready again after the database returned: {}",
        last.2
    );
    eprintln!("ready again {:?} after the restart", back.elapsed());

    // The same database answers the app's SCIM reads again, too.
    let check = Database::connect(url.as_str()).await.expect("connect");
    check.execute_unprepared("SELECT 1").await.expect("select");
    app.get("/Users?count=1").await.assert_status(200);
}
