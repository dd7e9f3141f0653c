//! HTTPS on the main listener, with a certificate that can be renewed while
//! serving: the handshake asks [`Certificates`] for the key in force, and a
//! watcher swaps in a new one when the files change (certbot and
//! cert-manager renew by rewriting them) or on SIGHUP. A renewal that does
//! not load keeps the certificate in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::StartupError;
use crate::config::TlsConfig;

/// The certificate in force and where it comes from.
#[derive(Debug)]
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    key: Arc<CertifiedKey>,
    /// The files' modification times when they were read.
    stamps: Stamps,
}

type Stamps = (Option<SystemTime>, Option<SystemTime>);

impl Certificates {
    /// Loads the configured files; `None` when TLS is off.
    pub fn load(config: &TlsConfig) -> Result<Option<Arc<Self>>, StartupError> {
        let Some((cert, key)) = config.files() else {
            return Ok(None);
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let stamps = stamps(cert, key);
        let loaded = certified_key(cert, key, &provider).map_err(StartupError::Tls)?;
        Ok(Some(Arc::new(Self {
            cert: cert.clone(),
            key: key.clone(),
            provider,
            current: RwLock::new(Loaded {
                key: Arc::new(loaded),
                stamps,
            }),
        })))
    }

    /// A rustls server configuration serving these certificates, TLS 1.2
    /// and 1.3 only.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, StartupError> {
        let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
        let config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| StartupError::Tls(format!("cannot set up TLS: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        Ok(config)
    }

    /// Reads the files again when they changed since they were read (or
    /// always, with `force`). A certificate that does not load is logged
    /// and the one in force stays.
    pub fn reload(&self, force: bool) {
        let stamps = stamps(&self.cert, &self.key);
        if !force && stamps == self.current().1 {
            return;
        }
        match certified_key(&self.cert, &self.key, &self.provider) {
            Ok(key) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Loaded {
                    key: Arc::new(key),
                    stamps,
                };
                log::info!("TLS certificate reloaded from {}", self.cert.display());
            }
            Err(e) => {
                // Remember the stamps: the same broken files are reported once.
                self.current
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .stamps = stamps;
                log::error!("{e}; still serving the previous certificate");
            }
        }
    }

    fn current(&self) -> (Arc<CertifiedKey>, Stamps) {
        let loaded = self.current.read().unwrap_or_else(PoisonError::into_inner);
        (loaded.key.clone(), loaded.stamps)
    }

    /// Checks the files every `interval`, and reloads on SIGHUP. Runs on
    /// the current actix system until the process ends.
    pub fn watch(self: &Arc<Self>, interval: Duration) {
        // Taken here, not in the task: until the task first ran, a SIGHUP
        // met its default action and ended a server already serving.
        let mut hangup = hangups();
        let this = self.clone();
        actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let force = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = next_hangup(&mut hangup) => true,
                };
                this.reload(force);
            }
        });
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current().0)
    }
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<()>;

#[cfg(unix)]
fn hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup())
        .inspect_err(|e| log::warn!("SIGHUP will not reload the TLS certificate: {e}"))
        .ok()
}

#[cfg(not(unix))]
fn hangups() -> Hangups {
    None
}

/// The next SIGHUP; never, where there is none to wait for.
async fn next_hangup(hangup: &mut Hangups) -> Option<()> {
    #[cfg(unix)]
    if let Some(signal) = hangup {
        return signal.recv().await;
    }
    let _ = hangup;
    std::future::pending().await
}

fn stamps(cert: &Path, key: &Path) -> Stamps {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(cert), modified(key))
}

/// The chain and key from their PEM files, checked to belong together.
fn certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let failed = |why: String| format!("cannot load TLS certificate {}: {why}", cert.display());
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| failed(e.to_string()))?;
    if chain.is_empty() {
        return Err(failed("no certificate in the file".to_owned()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| failed(format!("key {}: {e}", key.display())))?;
    CertifiedKey::from_der(chain, private, provider)
        .map_err(|e| failed(format!("key {}: {e}", key.display())))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// SIGHUP is taken once `watch` returns, before its task first runs:
    /// until then its default action would end the process (this test's).
    #[actix_web::test]
    async fn sighup_is_taken_before_the_watcher_first_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let made =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, made.cert.pem()).expect("cert file");
        std::fs::write(&key, made.signing_key.serialize_pem()).expect("key file");
        let config = TlsConfig {
            cert: Some(cert),
            key: Some(key),
            ..TlsConfig::default()
        };
        let certs = Certificates::load(&config).expect("loads").expect("TLS on");
        certs.watch(Duration::from_secs(3600));
        // No await since `watch`: its task has not run.
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &std::process::id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        // Still here after the signal has had time to land.
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}
