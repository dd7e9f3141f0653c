//! Prometheus metrics through `prometheus-client`. Label values are
//! static strings, route templates (never raw paths) and credential names
//! (capped, see `Principals`), so the number of series stays bounded.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::{HttpRequest, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::auth::{AuthError, Principal};
use crate::service::{Change, ChangeHook, WriteOperation};
use crate::store::exec::Db;

/// What `Content-Type` the rendered text is.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Seconds; from a cached point read to a slow bulk request.
const DURATION_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Distinct credential names with a series of their own; later ones share
/// `other`. Names come from configured users, stored tokens and token
/// subjects, which an attacker cannot mint, but a cap keeps a misbehaving
/// issuer from growing the series without end.
const MAX_PRINCIPALS: usize = 32;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    scheme: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    resource: &'static str,
    operation: &'static str,
    outcome: &'static str,
    principal: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// What the event delivery reports (see `events`); clones share values.
#[derive(Clone, Default)]
pub struct EventInstruments {
    /// Events a push receiver confirmed or a poll receiver acknowledged.
    pub delivered: Counter,
    /// Events parked: refused for good, or undelivered past their time.
    pub parked: Counter,
    /// Push receivers whose last attempt failed.
    pub failing_receivers: Gauge,
    /// Batches sent to push receivers, each one progress write.
    pub push_batches: Counter,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<(RouteLabels, StatusLabels), Counter>,
    durations: DurationFamily,
    in_flight: Gauge,
    auth_failures: Family<AuthLabels, Counter>,
    operations: Family<OperationLabels, Counter>,
    pool: Family<StateLabels, Gauge>,
    write_queue: Gauge,
    /// Request log entries dropped because its buffer was full, and
    /// written.
    pub audit_dropped: Counter,
    pub audit_written: Counter,
    events: EventInstruments,
    principals: Principals,
    /// Read at each scrape for the pool and write-queue gauges.
    db: OnceLock<Db>,
    /// Tells this server's entries in a thread's `HANDLES` from another's
    /// (tests run several servers in one process).
    id: u64,
}

/// Each `Metrics` gets its own id; an address could be reused.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Entries a worker thread keeps before it starts afresh: routes,
/// methods and statuses are few, so only many servers in one process
/// (tests) come near it.
const MAX_HANDLES: usize = 1024;

#[derive(Hash, PartialEq, Eq)]
struct HandleKey {
    metrics: u64,
    method: &'static str,
    status: u16,
    route: String,
}

thread_local! {
    /// A worker thread's counter and histogram for each label set it has
    /// seen, so that a request takes neither family's lock nor hashes its
    /// labels twice; both handles share their values with the families.
    static HANDLES: RefCell<HashMap<HandleKey, (Counter, Histogram)>> =
        RefCell::new(HashMap::new());
}

impl Metrics {
    /// The metrics of one server, empty until requests come.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("roster");
        let requests = Family::default();
        let durations: DurationFamily =
            Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS));
        let in_flight = Gauge::default();
        let auth_failures = Family::default();
        let operations = Family::default();
        let pool = Family::default();
        let write_queue = Gauge::default();
        let events = EventInstruments::default();
        registry.register(
            "events_delivered",
            "Events push receivers confirmed or poll receivers acknowledged",
            events.delivered.clone(),
        );
        registry.register(
            "events_parked",
            "Events parked: refused for good by a receiver, or undelivered past events.park_after_secs",
            events.parked.clone(),
        );
        registry.register(
            "events_push_batches",
            "Batches of events sent to push receivers (one progress write each)",
            events.push_batches.clone(),
        );
        registry.register(
            "event_receivers_failing",
            "Push receivers whose last delivery attempt failed",
            events.failing_receivers.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            durations.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled",
            in_flight.clone(),
        );
        registry.register(
            "auth_failures",
            "Refused credentials on the SCIM API, by scheme and reason",
            auth_failures.clone(),
        );
        registry.register(
            "scim_operations",
            "SCIM writes by resource, operation, outcome and credential name",
            operations.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            pool.clone(),
        );
        registry.register(
            "db_write_queue_depth",
            "SQLite write transactions queued or running on the write thread",
            write_queue.clone(),
        );
        let (audit_dropped, audit_written) = (Counter::default(), Counter::default());
        registry.register(
            "audit_dropped",
            "Request log entries dropped because the log's buffer was full",
            audit_dropped.clone(),
        );
        registry.register(
            "audit_written",
            "Request log entries written to the database",
            audit_written.clone(),
        );
        registry.register(
            "build",
            "The running build",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        Self {
            registry,
            requests,
            durations,
            in_flight,
            auth_failures,
            operations,
            pool,
            write_queue,
            audit_dropped,
            audit_written,
            events,
            principals: Principals::default(),
            db: OnceLock::new(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The database whose pool and write queue the gauges show; made after
    /// the metrics, whose hook it carries.
    pub fn attach(&self, db: Db) {
        // Err when attached already; the first stays.
        let _ = self.db.set(db);
    }

    /// The instruments event delivery reports to.
    pub fn events(&self) -> EventInstruments {
        self.events.clone()
    }

    /// Counts a request in flight until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// `route` is the template the request matched, moved in: the key and
    /// the labels are built from it without another copy on a thread that
    /// has seen it before.
    pub fn request(&self, method: &Method, route: String, status: u16, elapsed: Duration) {
        let key = HandleKey {
            metrics: self.id,
            method: method_label(method),
            status,
            route,
        };
        let seconds = elapsed.as_secs_f64();
        HANDLES.with(|cell| {
            let mut handles = cell.borrow_mut();
            if let Some((count, duration)) = handles.get(&key) {
                count.inc();
                duration.observe(seconds);
                return;
            }
            if handles.len() >= MAX_HANDLES {
                handles.clear();
            }
            let labels = (
                RouteLabels {
                    method: key.method,
                    route: key.route.clone(),
                },
                StatusLabels { status },
            );
            let count = (*self.requests.get_or_create(&labels)).clone();
            let duration = (*self.durations.get_or_create(&labels.0)).clone();
            count.inc();
            duration.observe(seconds);
            handles.insert(key, (count, duration));
        });
    }

    pub fn auth_failure(&self, scheme: &'static str, reason: &'static str) {
        self.auth_failures
            .get_or_create(&AuthLabels { scheme, reason })
            .inc();
    }

    /// A refused write to a resource (successes come from the change
    /// hook). Writes inside a Bulk request are not seen here.
    pub fn failed_write(
        &self,
        method: &Method,
        route: &str,
        status: u16,
        principal: Option<&Principal>,
    ) {
        if status < 400 {
            return;
        }
        let Some((resource, operation)) = write_of(method, route) else {
            return;
        };
        let outcome = if status >= 500 {
            "server_error"
        } else {
            "client_error"
        };
        let name = principal.map(Principal::name);
        self.operation(resource, operation, outcome, name.as_deref());
    }

    fn operation(
        &self,
        resource: &'static str,
        operation: &'static str,
        outcome: &'static str,
        principal: Option<&str>,
    ) {
        let labels = OperationLabels {
            resource,
            operation,
            outcome,
            principal: self.principals.label(principal),
        };
        self.operations.get_or_create(&labels).inc();
    }

    /// The text a scrape answers, with the database gauges read now.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        if let Some(db) = self.db.get() {
            let (idle, in_use) = db.pool_connections();
            let set = |state, n: u32| {
                self.pool
                    .get_or_create(&StateLabels { state })
                    .set(i64::from(n));
            };
            set("idle", idle);
            set("in_use", in_use);
            let depth = db.write_queue_depth().unwrap_or(0);
            self.write_queue
                .set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Successful writes, as the write path reports them.
impl ChangeHook for Metrics {
    fn committed(&self, change: &Change) {
        let operation = match change.operation {
            WriteOperation::Create => "create",
            WriteOperation::Replace => "replace",
            WriteOperation::Patch => "patch",
            WriteOperation::Delete => "delete",
        };
        self.operation(
            change.kind.name(),
            operation,
            "success",
            change.principal.as_deref(),
        );
    }
}

/// Counts a refused credential on the request's server, when it records
/// metrics; `reason` is `None` for a client refused for too many failures.
pub fn auth_failed(req: &HttpRequest, reason: Option<&AuthError>) {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>() else {
        return;
    };
    let scheme = scheme_of(req.headers().get(AUTHORIZATION));
    let reason = match reason {
        None => "rate_limited",
        Some(AuthError::Missing) => "missing",
        Some(AuthError::Malformed) => "malformed",
        Some(AuthError::BadToken) => "bad_token",
        Some(AuthError::BadBasic) => "bad_basic",
        Some(AuthError::InsufficientScope(_)) => "insufficient_scope",
        Some(AuthError::Unavailable) => "unavailable",
    };
    metrics.auth_failure(scheme, reason);
}

fn scheme_of(header: Option<&HeaderValue>) -> &'static str {
    let Some(text) = header.and_then(|h| h.to_str().ok()) else {
        return if header.is_some() { "other" } else { "none" };
    };
    let scheme = text.split_whitespace().next().unwrap_or_default();
    if scheme.eq_ignore_ascii_case("bearer") {
        "bearer"
    } else if scheme.eq_ignore_ascii_case("basic") {
        "basic"
    } else {
        "other"
    }
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The resource and operation a write route names.
fn write_of(method: &Method, route: &str) -> Option<(&'static str, &'static str)> {
    let (collection, member) = if let Some(rest) = route.strip_suffix("/{id}") {
        (rest, true)
    } else {
        (route, false)
    };
    let resource = if collection.ends_with("/Users") {
        "User"
    } else if collection.ends_with("/Groups") {
        "Group"
    } else {
        return None;
    };
    let operation = match (method_label(method), member) {
        ("POST", false) => "create",
        ("PUT", true) => "replace",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        _ => return None,
    };
    Some((resource, operation))
}

/// Credential names seen so far, up to `MAX_PRINCIPALS`.
#[derive(Default)]
struct Principals(RwLock<HashSet<Arc<str>>>);

impl Principals {
    fn label(&self, name: Option<&str>) -> Arc<str> {
        let Some(name) = name else {
            return "none".into();
        };
        if let Ok(known) = self.0.read()
            && let Some(label) = known.get(name)
        {
            return label.clone();
        }
        let Ok(mut known) = self.0.write() else {
            return "other".into();
        };
        if let Some(label) = known.get(name) {
            return label.clone();
        }
        if known.len() >= MAX_PRINCIPALS {
            return "other".into();
        }
        let label: Arc<str> = name.into();
        known.insert(label.clone());
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_routes_name_their_resource_and_operation() {
        let post = Method::POST;
        assert_eq!(write_of(&post, "/scim/v2/Users"), Some(("User", "create")));
        assert_eq!(
            write_of(&Method::PATCH, "/Groups/{id}"),
            Some(("Group", "patch"))
        );
        assert_eq!(write_of(&Method::GET, "/scim/v2/Users/{id}"), None);
        assert_eq!(write_of(&post, "/scim/v2/Bulk"), None);
    }

    #[test]
    fn principals_beyond_the_cap_share_one_label() {
        let p = Principals::default();
        for n in 0..MAX_PRINCIPALS {
            assert_eq!(&*p.label(Some(&format!("c{n}"))), format!("c{n}"));
        }
        assert_eq!(&*p.label(Some("late")), "other");
        assert_eq!(&*p.label(Some("c0")), "c0");
        assert_eq!(&*p.label(None), "none");
    }
}
