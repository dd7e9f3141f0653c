//! The running application: what `roster serve`, the integration tests and
//! the benchmarks start, so that all of them serve through the same
//! middleware and routes.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, middleware, web};
use sea_orm::DatabaseConnection;

use super::auth::AuthStack;
use super::listener::{self, Transport};
use super::tls::Certificates;
use super::{StartupError, app_state, connect, events, migrate, reindex};
use crate::audit::{self, Audit, AuditCounters, AuditNotes};
use crate::auth::admins::AdminVerifier;
use crate::config::Config;
use crate::console::{self, Console};
use crate::http::console_api::ConsoleApi;
use crate::http::{self, AppState};
use crate::oauth;
use crate::observe::{self, Observe, metrics::Metrics};
use crate::service::{self, ChangeHooks, DEFAULT_TENANT};
use crate::store::exec::Db;
use crate::store::request_log::RequestLogStore;

/// How long queued writes may take to finish once the server has stopped.
const WRITES_DRAIN: Duration = Duration::from_secs(10);

/// Roster listening on its port, ready to run.
pub struct Application {
    port: u16,
    management_port: Option<u16>,
    addr: String,
    db: DatabaseConnection,
    server: Server,
    writes: Db,
    audit: Option<Arc<Audit>>,
    signals: bool,
}

impl Application {
    /// Connects to the database, migrates it as configured, builds the
    /// shared state and binds `server.bind`.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::builder(config).build().await
    }

    /// For what the configuration does not say: worker count, signal
    /// handling, a listener bound in advance, work on the database before
    /// the application starts.
    pub fn builder(config: Config) -> ApplicationBuilder {
        ApplicationBuilder {
            config,
            workers: None,
            signals: true,
            listener: None,
            hooks: ChangeHooks::default(),
            clock: None,
        }
    }

    /// The port it listens on; with port 0 in `server.bind`, the one the
    /// system chose. The first one where `server.bind` names several
    /// addresses.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The management listener's port, when `server.management_bind`
    /// names one.
    pub fn management_port(&self) -> Option<u16> {
        self.management_port
    }

    /// The database the application serves from.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Where the request log is read: its own file beside a SQLite file,
    /// else the main database.
    pub fn request_log(&self) -> &DatabaseConnection {
        self.audit.as_ref().map_or(&self.db, |a| a.log_reads())
    }

    /// Stops the server from elsewhere, gracefully or not.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped: by SIGINT or SIGTERM unless signals were
    /// disabled, or through `handle`; then lets queued writes finish.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let Self {
            addr,
            server,
            writes,
            audit,
            signals,
            ..
        } = self;
        if signals {
            listener::stop_on_signals(server.handle());
        }
        let served = server
            .await
            .map_err(|source| StartupError::Bind { addr, source });
        writes.finish_writes(WRITES_DRAIN).await;
        if let Some(audit) = audit {
            audit.finish(WRITES_DRAIN).await;
        }
        served
    }
}

/// How to start an [`Application`] beyond its configuration.
pub struct ApplicationBuilder {
    config: Config,
    workers: Option<usize>,
    signals: bool,
    listener: Option<TcpListener>,
    hooks: ChangeHooks,
    clock: Option<Arc<dyn crate::events::Clock>>,
}

impl ApplicationBuilder {
    /// Worker threads, instead of `server.workers`.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Leaves SIGINT and SIGTERM alone, for servers inside another program
    /// (a test) that stops them itself.
    pub fn disable_signals(mut self) -> Self {
        self.signals = false;
        self
    }

    /// Serves on a listener bound in advance instead of binding
    /// `server.bind`. URLs derived from `server.bind` (the default OAuth
    /// issuer) still come from the configuration, so set it to this
    /// listener's address.
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// What sees every committed write, beside what the configuration
    /// turns on (see `service::change`).
    pub fn hooks(mut self, hooks: ChangeHooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// The clock event delivery decides retries and parking by, instead
    /// of the system's (a test lets hours pass in seconds).
    pub fn event_clock(mut self, clock: Arc<dyn crate::events::Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Connects to the database and migrates it (or, with
    /// `database.migrate_on_start` off, only computes missing search
    /// columns). Nothing serves yet.
    pub async fn connect(self) -> Result<Connected, StartupError> {
        let config = &self.config;
        let db = connect(config).await?;
        if config.database.migrate_on_start {
            migrate(config, &db).await?;
        } else {
            reindex(config, &db).await?;
        }
        Ok(Connected { builder: self, db })
    }

    pub async fn build(self) -> Result<Application, StartupError> {
        self.connect().await?.build().await
    }
}

/// An application whose database is ready and which does not serve yet:
/// the moment to store what start-up reads.
pub struct Connected {
    builder: ApplicationBuilder,
    db: DatabaseConnection,
}

impl Connected {
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Builds the shared state and authentication, mints the first API
    /// token when nothing else can get in, and binds.
    pub async fn build(self) -> Result<Application, StartupError> {
        let (builder, db, routes) = self.prepare().await?;
        let certificates = Certificates::load(&builder.config.tls)?;
        let addr = builder.config.server.bind.clone();
        let management = routes.observe.management_slot();
        let (writes, signals) = (routes.state.services.db.clone(), builder.signals);
        let audit = routes.console_api.audit.clone();
        let reload_every = Duration::from_secs(builder.config.tls.reload_interval_secs);
        let tls = match &certificates {
            Some(certs) => Some(certs.server_config()?),
            None => None,
        };
        if let Some(events) = &routes.events {
            events.start_worker();
        }
        // Before the server takes connections, so that SIGHUP reloads from
        // the first one on.
        if let Some(certs) = certificates {
            certs.watch(reload_every);
        }
        let (server, port) = bind(builder, routes, tls).map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let management_port = management
            .as_ref()
            .and_then(|slot| slot.get()?.first().map(SocketAddr::port));
        Ok(Application {
            port,
            management_port,
            addr,
            db,
            server,
            writes,
            audit,
            signals,
        })
    }

    /// What `build` serves, without a listener: for driving the
    /// application in-process (`actix_web::test`) through [`app`].
    pub async fn routes(self) -> Result<Routes, StartupError> {
        Ok(self.prepare().await?.2)
    }

    async fn prepare(
        self,
    ) -> Result<(ApplicationBuilder, DatabaseConnection, Routes), StartupError> {
        let Self { builder, db } = self;
        let metrics = builder
            .config
            .metrics
            .enabled
            .then(|| Arc::new(Metrics::new()));
        let hooks = match &metrics {
            Some(m) => builder.hooks.with(m.clone()),
            None => builder.hooks.clone(),
        };
        let notes = builder.config.audit.enabled.then(AuditNotes::default);
        let hooks = match &notes {
            Some(n) => hooks.with(n.hook()),
            None => hooks,
        };
        let (outbox, hooks) = events::outbox(&builder.config, hooks);
        let (mut state, auth) = app_state(&builder.config, hooks, db.clone()).await?;
        let events = match outbox {
            Some(outbox) => {
                let clock = builder.clock.clone().unwrap_or_else(events::default_clock);
                let instruments = metrics.as_ref().map(|m| m.events()).unwrap_or_default();
                let writes = &state.services.db;
                let events = events::state(
                    &builder.config,
                    (&db, writes),
                    &auth,
                    outbox,
                    (clock, instruments),
                )
                .await?;
                let mut caps = (*state.capabilities).clone();
                caps.security_events = Some(crate::events::emitted_uris());
                state.capabilities = Arc::new(caps);
                let recording = events.outbox.clone();
                state.emits_events = Some(Arc::new(move |tenant| recording.records(tenant)));
                Some(events)
            }
            None => None,
        };
        if let Some(m) = &metrics {
            m.attach(state.services.db.clone());
        }
        let log = match notes.is_some() {
            true => {
                let config = &builder.config;
                let file = config.audit.request_log_file.as_deref();
                Some(RequestLogStore::open(&config.database.url, &db, file).await?)
            }
            false => None,
        };
        let audit = notes.zip(log).map(|(notes, log)| {
            let config = &builder.config;
            let counters =
                metrics
                    .as_ref()
                    .map_or_else(AuditCounters::default, |m| AuditCounters {
                        dropped: m.audit_dropped.clone(),
                        written: m.audit_written.clone(),
                    });
            let paths = (
                config.server.base_path.as_str(),
                config.console.path.as_str(),
            );
            Audit::start(
                &config.audit,
                paths,
                notes,
                (state.services.db.clone(), log),
                counters,
            )
        });
        let observe = Arc::new(Observe::new(&builder.config, metrics, db.clone()));
        if !auth.verifier.has_configured_credentials()
            && let Some(minted) = service::tokens::ensure_bootstrap(&db, DEFAULT_TENANT).await?
        {
            print_bootstrap_token(&minted.token);
        }
        announce(&builder.config, &auth);
        let body_limits = http::body_limit::BodyLimits::new(&builder.config.server);
        let console_api = ConsoleApi {
            path: builder.config.console.path.clone(),
            admins: AdminVerifier::new(db.clone(), &builder.config.auth.rate_limit),
            audit,
            db: db.clone(),
        };
        let console = super::console::build(&builder.config, &auth, &console_api);
        let routes = Routes {
            state,
            auth,
            observe,
            body_limits,
            console_api,
            console,
            events,
        };
        Ok((builder, db, routes))
    }
}

/// The shared state, authentication and instruments every worker's [`app`]
/// serves.
#[derive(Clone)]
pub struct Routes {
    state: AppState,
    auth: AuthStack,
    observe: Arc<Observe>,
    body_limits: http::body_limit::BodyLimits,
    console_api: ConsoleApi,
    console: Option<Arc<Console>>,
    events: Option<Arc<crate::events::EventsState>>,
}

/// One worker's application: middleware, every route, and the SCIM 404
/// for the rest. The server and in-process tests build it the same way.
pub fn app(
    routes: Routes,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let Routes {
        state,
        auth,
        observe,
        body_limits,
        console_api,
        console,
        events,
    } = routes;
    App::new()
        .app_data(body_limits)
        .wrap(middleware::from_fn(audit::capture::record))
        .wrap(middleware::from_fn(http::connection::close_unauthenticated))
        .wrap(middleware::Compress::default())
        .wrap(middleware::from_fn(observe::request::observe))
        .configure(move |cfg| configure(cfg, state, auth, observe, console_api, console, events))
        .default_service(web::to(http::error::unknown_route))
}

/// The HTTP server with its middleware, bound and ready to run, and the
/// port it listens on.
fn bind(
    builder: ApplicationBuilder,
    routes: Routes,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<(Server, u16)> {
    let ApplicationBuilder {
        config,
        workers,
        listener,
        ..
    } = builder;
    let management = routes.observe.management_slot();
    let transport = Transport::new(&config, workers);
    let server = HttpServer::new(move || app(routes.clone()));
    // Signals are handled by `run_until_stopped`: actix stops at once on SIGINT.
    let server = server
        .workers(transport.workers)
        .max_connections(transport.connections_per_worker)
        .backlog(transport.backlog)
        .client_request_timeout(transport.header_timeout)
        .keep_alive(transport.keep_alive)
        .shutdown_timeout(transport.shutdown_timeout_secs)
        .disable_signals();
    let mut server = match (listener, tls) {
        (Some(listener), None) => server.listen(listener)?,
        (Some(listener), Some(tls)) => server.listen_rustls_0_23(listener, tls)?,
        (None, None) => server.bind(&config.server.bind)?,
        (None, Some(tls)) => server.bind_rustls_0_23(&config.server.bind, tls)?,
    };
    if let (Some(addr), Some(slot)) = (&config.server.management_bind, management) {
        let main = server.addrs().len();
        server = server.bind(addr).map_err(|e| {
            std::io::Error::new(e.kind(), format!("management listener {addr}: {e}"))
        })?;
        // Set once, before any worker starts.
        let _ = slot.set(server.addrs()[main..].to_vec());
    }
    let port = server.addrs().first().map_or(0, SocketAddr::port);
    Ok((server.run(), port))
}

/// Every route the application serves. The authorization server's come
/// first: the SCIM scope would otherwise claim every path when the base
/// path is "/".
fn configure(
    cfg: &mut web::ServiceConfig,
    state: AppState,
    auth: AuthStack,
    observe: Arc<Observe>,
    console_api: ConsoleApi,
    console: Option<Arc<Console>>,
    events: Option<Arc<crate::events::EventsState>>,
) {
    observe::routes(cfg, observe);
    if let Some(events) = events {
        crate::events::routes(cfg, events, auth.server.is_none());
    }
    // The API's scope before the pages': the pages' would claim its paths.
    http::console_api::routes(cfg, console_api);
    if let Some(server) = auth.server {
        oauth::routes(cfg, server);
    }
    if let Some(console) = console {
        console::routes(cfg, console);
    }
    http::configure(cfg, state, auth.verifier, auth.limiter);
}

/// Logs what is about to serve.
fn announce(config: &Config, auth: &AuthStack) {
    let mut modes = vec!["bearer token"];
    let enabled = auth.verifier.modes();
    for (on, name) in [
        (enabled.basic, "HTTP basic"),
        (enabled.jwt, "JWT"),
        (enabled.introspection, "introspection"),
    ] {
        if on {
            modes.push(name);
        }
    }
    if let Some(server) = &auth.server {
        log::info!(
            "built-in OAuth2 authorization server at {}{}",
            server.settings.issuer,
            oauth::METADATA_PATH
        );
    }
    log::info!(
        "Roster serving SCIM 2.0 at {}://{}{} (database: {}, auth: {})",
        config.scheme(),
        config.server.bind,
        config.server.base_path,
        config.database.url.kind(),
        modes.join(", ")
    );
}

/// Printed, not logged: the token must reach the operator once and no log
/// file. One write, so that a reader sees the whole banner or none of it;
/// and a closed stdout (a reader that stopped after the token) must not
/// panic the server, which `println!` would.
fn print_bootstrap_token(token: &str) {
    use std::io::Write;
    let banner = format!(
        "Roster generated an API token (shown only this once; only its hash is stored):\n    \
         {token}\nSend it as 'Authorization: Bearer <token>'; mint more with 'roster token create'.\n"
    );
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(banner.as_bytes()).and_then(|()| out.flush()) {
        log::warn!(
            "cannot print the generated API token ({e}); mint one with 'roster token create'"
        );
    }
}
