//! The running application: what `roster serve`, the integration tests and
//! the benchmarks start, so that all of them serve through the same
//! middleware and routes.

use std::net::{SocketAddr, TcpListener};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, middleware, web};
use sea_orm::DatabaseConnection;

use super::auth::AuthStack;
use super::{StartupError, app_state, connect, migrate, reindex};
use crate::config::Config;
use crate::http::{self, AppState};
use crate::oauth;
use crate::service::{self, ChangeHooks, DEFAULT_TENANT};

/// Roster listening on its port, ready to run.
pub struct Application {
    port: u16,
    addr: String,
    db: DatabaseConnection,
    server: Server,
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
        }
    }

    /// The port it listens on; with port 0 in `server.bind`, the one the
    /// system chose. The first one where `server.bind` names several
    /// addresses.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database the application serves from.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Stops the server from elsewhere, gracefully or not.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped: by SIGINT or SIGTERM unless signals were
    /// disabled, or through `handle`.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let addr = self.addr;
        self.server
            .await
            .map_err(|source| StartupError::Bind { addr, source })
    }
}

/// How to start an [`Application`] beyond its configuration.
pub struct ApplicationBuilder {
    config: Config,
    workers: Option<usize>,
    signals: bool,
    listener: Option<TcpListener>,
    hooks: ChangeHooks,
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
        let addr = builder.config.server.bind.clone();
        let (server, port) = bind(builder, routes).map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
        Ok(Application {
            port,
            addr,
            db,
            server,
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
        let hooks = builder.hooks.clone();
        let (state, auth) = app_state(&builder.config, hooks, db.clone()).await?;
        if !auth.verifier.has_configured_credentials()
            && let Some(minted) = service::tokens::ensure_bootstrap(&db, DEFAULT_TENANT).await?
        {
            print_bootstrap_token(&minted.token);
        }
        announce(&builder.config, &auth);
        Ok((builder, db, Routes { state, auth }))
    }
}

/// The shared state and authentication every worker's [`app`] serves.
#[derive(Clone)]
pub struct Routes {
    state: AppState,
    auth: AuthStack,
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
    let Routes { state, auth } = routes;
    App::new()
        .wrap(middleware::Compress::default())
        .wrap(middleware::Logger::new(r#"%a "%r" %s %b %Dms"#))
        .configure(move |cfg| configure(cfg, state, auth))
        .default_service(web::to(http::error::unknown_route))
}

/// The HTTP server with its middleware, bound and ready to run, and the
/// port it listens on.
fn bind(builder: ApplicationBuilder, routes: Routes) -> std::io::Result<(Server, u16)> {
    let ApplicationBuilder {
        config,
        workers,
        signals,
        listener,
        hooks: _,
    } = builder;
    let mut server = HttpServer::new(move || app(routes.clone()));
    let configured = Some(config.server.workers).filter(|&n| n > 0);
    if let Some(workers) = workers.or(configured) {
        server = server.workers(workers);
    }
    if !signals {
        server = server.disable_signals();
    }
    let server = match listener {
        Some(listener) => server.listen(listener)?,
        None => server.bind(&config.server.bind)?,
    };
    let port = server.addrs().first().map_or(0, SocketAddr::port);
    Ok((server.run(), port))
}

/// Every route the application serves. The authorization server's come
/// first: the SCIM scope would otherwise claim every path when the base
/// path is "/".
fn configure(cfg: &mut web::ServiceConfig, state: AppState, auth: AuthStack) {
    if let Some(server) = auth.server {
        oauth::routes(cfg, server);
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
        "Roster serving SCIM 2.0 at http://{}{} (database: {}, auth: {})",
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
