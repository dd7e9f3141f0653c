//! HTTPS on the main listener, with certificates made here: the handshake
//! for each key type, TLS 1.2 and 1.3 only, a renewed certificate served
//! without a restart (files changed, or SIGHUP), a broken renewal that
//! keeps the old one, and a broken certificate that stops start-up.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber,
    SignatureAlgorithm,
};
use roster::config::{Config, DatabaseUrl, Secret};
use roster::startup::Application;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use crate::binary::{Running, free_port, roster};
use crate::helpers::{TOKEN, read};

/// A test CA and the server certificates it signs.
struct Pki {
    issuer: Issuer<'static, KeyPair>,
    ca: CertificateDer<'static>,
}

/// One server certificate on disk: its chain and key files.
struct Served {
    der: CertificateDer<'static>,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Roster test CA");
        let key = KeyPair::generate().expect("CA key");
        let ca = params.self_signed(&key).expect("CA").der().clone();
        Self {
            issuer: Issuer::new(params, key),
            ca,
        }
    }

    /// Writes a certificate for `localhost` with `serial`, its chain (with
    /// the CA) and its key into `cert` and `key`.
    fn issue(&self, key: &KeyPair, serial: u64, cert: &Path, key_file: &Path) -> Served {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params.serial_number = Some(SerialNumber::from(serial));
        params
            .distinguished_name
            .push(DnType::CommonName, format!("roster test {serial}"));
        let leaf = params.signed_by(key, &self.issuer).expect("sign");
        let ca_pem = pem_cert(&self.ca);
        std::fs::write(cert, format!("{}{ca_pem}", leaf.pem())).expect("write cert");
        std::fs::write(key_file, key.serialize_pem()).expect("write key");
        Served {
            der: leaf.der().clone(),
        }
    }

    fn client(&self, versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("root");
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(versions)
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        Arc::new(config)
    }
}

fn pem_cert(der: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn key(alg: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(alg).expect("key")
}

fn rsa_key() -> KeyPair {
    let pem = include_str!("fixtures/tls-rsa-test-key.pem");
    KeyPair::from_pem_and_sign_algo(pem, &rcgen::PKCS_RSA_SHA256).expect("RSA key")
}

/// The certificate the server at `port` presents, after a full handshake.
fn served_certificate(
    port: u16,
    config: Arc<ClientConfig>,
) -> Result<CertificateDer<'static>, String> {
    let name = ServerName::try_from("localhost").expect("name");
    let mut conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(5))).ok();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.clone().into_owned())
        .ok_or_else(|| "no certificate".to_owned())
}

/// `served_certificate` off the test's thread, which runs the server's
/// system (and the certificate watcher).
async fn served(port: u16, config: Arc<ClientConfig>) -> Result<CertificateDer<'static>, String> {
    actix_web::rt::task::spawn_blocking(move || served_certificate(port, config))
        .await
        .expect("handshake thread")
}

/// Waits until the server presents `expected`.
async fn await_certificate(port: u16, config: &Arc<ClientConfig>, expected: &CertificateDer<'_>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = served(port, config.clone()).await;
        if answer.as_ref().is_ok_and(|c| c == expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never served the expected certificate: {answer:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("dir"),
        }
    }
    fn cert(&self) -> PathBuf {
        self.dir.path().join("fullchain.pem")
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("privkey.pem")
    }
}

/// Starts the application over HTTPS on SQLite; returns its port.
async fn start(files: &Files, reload_secs: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut config = Config::default();
    config.server.bind = format!("127.0.0.1:{port}");
    let db = files.dir.path().join("roster.db");
    config.database.url = DatabaseUrl::new(format!("sqlite://{}?mode=rwc", db.display()));
    config.auth.bearer_tokens = vec![Secret::new(TOKEN)];
    config.tls.cert = Some(files.cert());
    config.tls.key = Some(files.key());
    config.tls.reload_interval_secs = reload_secs;
    let app = Application::builder(config)
        .workers(1)
        .disable_signals()
        .listener(listener)
        .build()
        .await
        .expect("start over https");
    actix_web::rt::spawn(app.run_until_stopped());
    port
}

#[actix_web::test]
async fn scim_answers_over_https_with_each_key_type() {
    let pki = Pki::new();
    for (serial, key) in [
        (1, key(&rcgen::PKCS_ECDSA_P256_SHA256)),
        (2, key(&rcgen::PKCS_ED25519)),
        (3, rsa_key()),
    ] {
        let files = Files::new();
        let issued = pki.issue(&key, serial, &files.cert(), &files.key());
        let port = start(&files, 5).await;
        let all = pki.client(rustls::ALL_VERSIONS);
        assert_eq!(
            served(port, all.clone()).await.expect("handshake"),
            issued.der
        );
        let tls12 = pki.client(&[&rustls::version::TLS12]);
        assert_eq!(served(port, tls12).await.expect("TLS 1.2"), issued.der);

        let client = awc::Client::builder()
            .connector(awc::Connector::new().rustls_0_23(all))
            .finish();
        let base = format!("https://localhost:{port}/scim/v2");
        let created = read(
            client
                .post(format!("{base}/Users"))
                .bearer_auth(TOKEN)
                .insert_header(("Content-Type", "application/scim+json"))
                .send_body(crate::helpers::user_body(&format!("tls{serial}")).to_string())
                .await
                .expect("POST over https"),
        )
        .await;
        created.assert_status(201);
        let location = created.header("location").expect("Location").to_owned();
        assert!(location.starts_with("https://"), "{location}");
        let got = read(
            client
                .get(location)
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("GET"),
        )
        .await;
        got.assert_status(200);
        assert_eq!(got.body["userName"], format!("tls{serial}"));
    }
}

/// A ClientHello offering TLS 1.1 at most gets a protocol_version alert.
#[actix_web::test]
async fn tls_1_1_is_refused() {
    let pki = Pki::new();
    let files = Files::new();
    pki.issue(
        &key(&rcgen::PKCS_ECDSA_P256_SHA256),
        1,
        &files.cert(),
        &files.key(),
    );
    let port = start(&files, 5).await;

    let mut hello = vec![0x03, 0x02]; // client_version: TLS 1.1
    hello.extend_from_slice(&[7u8; 32]); // random
    hello.push(0); // no session id
    // Suites rustls has, so that only the version is wrong.
    hello.extend_from_slice(&[0x00, 0x06, 0xc0, 0x2b, 0xc0, 0x2f, 0x13, 0x01]);
    hello.extend_from_slice(&[0x01, 0x00]); // null compression
    // signature_algorithms: ecdsa_secp256r1_sha256, which rustls requires
    // before it looks at the version.
    hello.extend_from_slice(&[0x00, 0x08, 0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03]);
    let mut handshake = vec![0x01, 0x00];
    handshake.extend_from_slice(&u16::try_from(hello.len()).expect("short").to_be_bytes());
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&u16::try_from(handshake.len()).expect("short").to_be_bytes());
    record.extend_from_slice(&handshake);

    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        sock.write_all(&record).expect("hello");
        let mut answer = [0u8; 7];
        sock.read_exact(&mut answer).expect("an answer");
        answer
    })
    .await
    .expect("hello thread");
    assert_eq!(answer[0], 0x15, "an alert, not a ServerHello: {answer:?}");
    assert_eq!(&answer[5..], &[2, 70], "fatal protocol_version: {answer:?}");
}

#[actix_web::test]
async fn a_renewed_certificate_is_served_and_a_broken_one_ignored() {
    let pki = Pki::new();
    let files = Files::new();
    let first = pki.issue(
        &key(&rcgen::PKCS_ECDSA_P256_SHA256),
        10,
        &files.cert(),
        &files.key(),
    );
    let port = start(&files, 1).await;
    let client = pki.client(rustls::ALL_VERSIONS);
    assert_eq!(
        served(port, client.clone()).await.expect("handshake"),
        first.der
    );

    // mtime granularity: make sure the files look changed.
    std::thread::sleep(Duration::from_millis(20));
    let renewed = pki.issue(&key(&rcgen::PKCS_ED25519), 11, &files.cert(), &files.key());
    await_certificate(port, &client, &renewed.der).await;

    std::fs::write(
        files.cert(),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .expect("break the certificate");
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        served(port, client.clone()).await.expect("still serving"),
        renewed.der
    );
    // A key that belongs to another certificate is refused too.
    pki.issue(
        &key(&rcgen::PKCS_ECDSA_P256_SHA256),
        12,
        &files.cert(),
        &files.dir.path().join("other.pem"),
    );
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        served(port, client).await.expect("still serving"),
        renewed.der
    );
}

#[actix_web::test]
async fn sighup_reloads_the_certificate() {
    let pki = Pki::new();
    let files = Files::new();
    let first = pki.issue(
        &key(&rcgen::PKCS_ECDSA_P256_SHA256),
        20,
        &files.cert(),
        &files.key(),
    );
    let port = free_port();
    let child = roster(files.dir.path())
        .env("ROSTER_TLS__RELOAD_INTERVAL_SECS", "3600")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args([
            "--database-url",
            "sqlite://roster.db?mode=rwc",
            "--bearer-token",
            TOKEN,
        ])
        .arg("--tls-cert")
        .arg(files.cert())
        .arg("--tls-key")
        .arg(files.key())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start roster");
    let running = Running(child);
    let client = pki.client(rustls::ALL_VERSIONS);
    await_certificate(port, &client, &first.der).await;

    let renewed = pki.issue(
        &key(&rcgen::PKCS_ECDSA_P256_SHA256),
        21,
        &files.cert(),
        &files.key(),
    );
    assert_eq!(
        served(port, client.clone()).await.expect("handshake"),
        first.der
    );
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &running.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    await_certificate(port, &client, &renewed.der).await;
}

#[test]
fn a_bad_certificate_stops_start_up_with_one_line() {
    let pki = Pki::new();
    let files = Files::new();
    pki.issue(
        &key(&rcgen::PKCS_ECDSA_P256_SHA256),
        30,
        &files.cert(),
        &files.key(),
    );
    let other_key = files.dir.path().join("other-key.pem");
    std::fs::write(&other_key, key(&rcgen::PKCS_ED25519).serialize_pem()).expect("write");
    let garbage = files.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").expect("write");
    let missing = files.dir.path().join("missing.pem");
    let cases = [
        (garbage.clone(), files.key()),
        (files.cert(), other_key),
        (missing, files.key()),
        (files.cert(), garbage),
    ];
    for (cert, key) in cases {
        let out = roster(files.dir.path())
            .args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
            .args([
                "--database-url",
                "sqlite://roster.db?mode=rwc",
                "--bearer-token",
                TOKEN,
            ])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .output()
            .expect("run roster");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cert:?} {key:?}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("roster: cannot load TLS certificate "),
            "{cert:?} {key:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
