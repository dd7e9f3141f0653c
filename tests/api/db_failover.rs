//! The MySQL-family server at start-up (its version is read and accepted)
//! and a `DATABASE_URL` naming several hosts: a dead first host is
//! skipped, and when the host in use goes away new connections go to the
//! next one. The second "host" here is the same MariaDB reached directly,
//! the first a TCP relay to it that the test can cut.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use roster::store::server::{self, Flavour};

use crate::helpers::{Db, TestApp};

#[actix_web::test]
async fn mariadb_the_suites_server_is_read_and_accepted() {
    let app = TestApp::spawn(Db::MariaDb).await;
    let found = server::check(&app.db)
        .await
        .expect("accepted")
        .expect("a MySQL-family server");
    assert_eq!(found.flavour, Flavour::MariaDb, "{found}");
    assert!(found.version >= (10, 4, 0), "{found}");
    // A MariaDB without a cluster is no Galera node: its writes send the
    // hooks' statements with the COMMIT.
    let galera = roster::store::galera::serves_cluster(&app.db).await;
    assert!(!galera.expect("read wsrep_on"));
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `mysql://u:p@127.0.0.1:PORT/db` → `mysql://u:p@127.0.0.1:FIRST,127.0.0.1:PORT/db`.
fn with_first_host(url: &str, first: u16) -> String {
    url.replacen("@127.0.0.1:", &format!("@127.0.0.1:{first},127.0.0.1:"), 1)
}

#[actix_web::test]
async fn mariadb_a_dead_first_host_is_skipped() {
    let dead = closed_port();
    let started = Instant::now();
    let app = TestApp::spawn_with(Db::MariaDb, |c| {
        let url = with_first_host(c.database.url.expose(), dead);
        c.database.url = roster::config::DatabaseUrl::new(url);
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let id = app.create_user("skipped@example.com").await;
    app.get(&format!("/Users/{id}")).await.assert_status(200);
}

/// Relays TCP connections to `target` until cut: then it closes every
/// relayed connection and stops listening, as a killed server would.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    accepted: Arc<AtomicUsize>,
}

impl Relay {
    fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (stop, streams, count) = (cut.clone(), open.clone(), accepted.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).ok();
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                            continue;
                        };
                        count.fetch_add(1, Ordering::SeqCst);
                        relay(client, server, &streams);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            cut,
            open,
            accepted,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().expect("lock").drain(..) {
            s.shutdown(Shutdown::Both).ok();
        }
    }
}

fn relay(client: TcpStream, server: TcpStream, open: &Mutex<Vec<TcpStream>>) {
    let mut open = open.lock().expect("lock");
    for s in [&client, &server] {
        open.push(s.try_clone().expect("clone"));
    }
    for (mut from, mut to) in [
        (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        ),
        (server, client),
    ] {
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            from.shutdown(Shutdown::Both).ok();
            to.shutdown(Shutdown::Both).ok();
        });
    }
}

#[actix_web::test]
async fn mariadb_when_the_host_in_use_goes_away_new_connections_go_to_the_next() {
    let relay_holder: Arc<Mutex<Option<Relay>>> = Arc::default();
    let holder = relay_holder.clone();
    let app = TestApp::spawn_with(Db::MariaDb, move |c| {
        let direct = c.database.url.expose().to_owned();
        let port: u16 = direct
            .rsplit_once("127.0.0.1:")
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .expect("the suite's MariaDB port");
        let relay = Relay::start(port);
        c.database.url = roster::config::DatabaseUrl::new(with_first_host(&direct, relay.port));
        *holder.lock().expect("lock") = Some(relay);
    })
    .await;
    let id = app.create_user("failover@example.com").await;
    let relay = relay_holder.lock().expect("lock").take().expect("relay");
    assert!(
        relay.accepted.load(Ordering::SeqCst) > 0,
        "the first host serves while it answers"
    );

    relay.cut();
    let cut_at = Instant::now();
    let mut statuses = Vec::new();
    let served = loop {
        let asked = Instant::now();
        let r = app.get(&format!("/Users/{id}")).await;
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "a request waited {:?} after the host went away",
            asked.elapsed()
        );
        statuses.push(r.status);
        if r.status == 200 {
            break cut_at.elapsed();
        }
        assert!(
            cut_at.elapsed() < Duration::from_secs(10),
            "not served again within 10 s: {statuses:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(served < Duration::from_secs(5), "{served:?} {statuses:?}");
    // And it stays on the host that answers.
    for _ in 0..5 {
        app.get(&format!("/Users/{id}")).await.assert_status(200);
    }
    app.create_user("after@example.com").await;
}
