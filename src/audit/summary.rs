//! One line per request in an IdP administrator's terms: "created user
//! alice@example.com", "deactivated bob@example.com", "added 3 members to
//! Engineering", "rejected: userName 'x' is already taken", "refused: the
//! bearer token is not valid".

use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::Value;

use super::changes::ChangeNote;
use super::redact::clipped;
use super::scan::{Literal, top_level};
use crate::scim::resource::ResourceKind;
use crate::service::change::WriteOperation;

/// The top-level fields of a body that the summary reads, picked out of
/// the text (see `scan`): a body cut off at the size limit still names
/// what it holds before the cut.
#[derive(Default)]
pub struct Glance {
    /// The first of `detail`, `error_description` and `error` that is text.
    reason: Option<String>,
    scim_type: Option<String>,
    user_name: Option<String>,
    display_name: Option<String>,
    total_results: Option<u64>,
    filter: Option<String>,
    /// Bulk answers only: how many operations failed.
    failed_operations: usize,
}

impl Glance {
    /// Every field the summary may read.
    pub fn of(text: &str) -> Self {
        Self::until(text, None)
    }

    /// The fields up to `last`, where the scan stops (`answer_key`): a
    /// user's name comes before the rest of its document, a page's count
    /// before its resources.
    pub fn until(text: &str, last: Option<&str>) -> Self {
        let mut glance = Self::default();
        let mut reasons: [Option<String>; 3] = Default::default();
        top_level(text, |key, value| {
            let flow = match last {
                Some(last) if key == last => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            };
            let slot = match key {
                "detail" => &mut reasons[0],
                "error_description" => &mut reasons[1],
                "error" => &mut reasons[2],
                "scimType" => &mut glance.scim_type,
                "userName" => &mut glance.user_name,
                "displayName" => &mut glance.display_name,
                "filter" => &mut glance.filter,
                "totalResults" => {
                    if let Literal::Number(n) = value {
                        glance.total_results = glance.total_results.or(n.parse().ok());
                    }
                    return flow;
                }
                _ => return flow,
            };
            if let (None, Literal::Text(t)) = (&slot, value) {
                *slot = Some(t.into_owned());
            }
            flow
        });
        glance.reason = reasons.into_iter().flatten().next();
        glance
    }

    /// A Bulk answer: also counts its failed operations, which sit a level
    /// down (the body is parsed whole: Bulk requests are rare).
    pub fn of_bulk(text: &str) -> Self {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "Operations", default)]
            operations: Vec<Operation>,
        }
        #[derive(Deserialize)]
        struct Operation {
            status: Option<Value>,
        }
        let failed = serde_json::from_str::<Answer>(text).map_or(0, |a| {
            a.operations
                .iter()
                .filter_map(|op| match op.status.as_ref()? {
                    Value::String(s) => s.parse::<u16>().ok(),
                    Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                    _ => None,
                })
                .filter(|status| *status >= 400)
                .count()
        });
        Self {
            failed_operations: failed,
            ..Self::of(text)
        }
    }

    pub fn scim_type(&self) -> Option<&str> {
        self.scim_type.as_deref()
    }
}

/// What the summary reads of one request.
pub struct Seen<'a> {
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub request: Option<&'a Glance>,
    pub response: Option<&'a Glance>,
    pub notes: &'a [ChangeNote],
    /// The request's query string, redacted.
    pub query: Option<&'a str>,
}

pub fn summarize(seen: &Seen<'_>) -> String {
    let detail = seen
        .response
        .and_then(|r| r.reason.as_deref())
        .map(|d| clipped(d, 200).to_owned());
    match seen.status {
        401 | 403 | 429 => {
            let reason = detail.unwrap_or_else(|| "no valid credentials".to_owned());
            let reason = ["authentication required: ", "forbidden: "]
                .iter()
                .find_map(|p| reason.strip_prefix(p))
                .map_or(reason.clone(), str::to_owned);
            return format!("refused: {reason}");
        }
        400.. => {
            return format!(
                "rejected: {}",
                detail.unwrap_or_else(|| format!("status {}", seen.status))
            );
        }
        _ => {}
    }
    if !seen.notes.is_empty() {
        return changes(seen);
    }
    unchanged(seen)
}

fn changes(seen: &Seen<'_>) -> String {
    let mut lines: Vec<String> = seen.notes.iter().map(note).collect();
    if seen.route.ends_with("/Bulk") {
        let failed = seen.response.map_or(0, |r| r.failed_operations);
        let shown = lines.len().min(3);
        let more = lines.len() - shown;
        lines.truncate(shown);
        let mut out = format!("bulk: {}", lines.join("; "));
        if more > 0 {
            out.push_str(&format!(" and {more} more"));
        }
        if failed > 0 {
            out.push_str(&format!("; {failed} failed"));
        }
        return out;
    }
    lines.join("; ")
}

fn note(n: &ChangeNote) -> String {
    let kind = match n.kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    };
    let name = n.label.clone().unwrap_or_else(|| format!("a {kind}"));
    let members = |count: usize| {
        if count == 1 {
            "1 member".to_owned()
        } else {
            format!("{count} members")
        }
    };
    match (n.operation, n.kind) {
        (WriteOperation::Create, ResourceKind::Group) if n.members_added > 0 => {
            format!("created group {name} with {}", members(n.members_added))
        }
        (WriteOperation::Create, _) => format!("created {kind} {name}"),
        (WriteOperation::Delete, _) => format!("deleted {kind} {name}"),
        (_, ResourceKind::User) => match n.active {
            Some(false) => format!("deactivated {name}"),
            Some(true) => format!("reactivated {name}"),
            None if n.operation == WriteOperation::Replace => format!("replaced user {name}"),
            None => format!("updated user {name}"),
        },
        (_, ResourceKind::Group) => match (n.members_added, n.members_removed) {
            (0, 0) if n.operation == WriteOperation::Replace => format!("replaced group {name}"),
            (0, 0) => format!("updated group {name}"),
            (added, 0) => format!("added {} to {name}", members(added)),
            (0, removed) => format!("removed {} from {name}", members(removed)),
            (added, removed) => format!(
                "added {} to and removed {} from {name}",
                members(added),
                members(removed)
            ),
        },
    }
}

/// What a request that changed nothing did, as its summary tells it.
enum Unchanged<'r> {
    Token,
    /// One resource, of the endpoint named.
    Read(&'r str),
    /// A list or a search (`.search`) of the endpoint named.
    Listed(&'r str),
    Other(&'r str),
}

fn unchanged_kind<'r>(method: &str, route: &'r str) -> Unchanged<'r> {
    let endpoint = route
        .rsplit('/')
        .find(|s| !s.is_empty() && !s.starts_with('{'))
        .unwrap_or(route);
    if route.ends_with("/oauth2/token") {
        return Unchanged::Token;
    }
    match (method, endpoint) {
        ("GET", "Users" | "Groups") if route.ends_with('}') => Unchanged::Read(endpoint),
        ("GET", "Users" | "Groups") | ("POST", ".search") => Unchanged::Listed(endpoint),
        _ => Unchanged::Other(endpoint),
    }
}

/// The last top-level key of a successful answer that the summary of a
/// request that changed nothing reads (`None`: it reads none), so that the
/// scan of a large document or page can stop there.
pub fn answer_key(method: &str, route: &str) -> Option<&'static str> {
    match unchanged_kind(method, route) {
        Unchanged::Read("Users") => Some("userName"),
        Unchanged::Read(_) => Some("displayName"),
        Unchanged::Listed(_) => Some("totalResults"),
        Unchanged::Token | Unchanged::Other(_) => None,
    }
}

/// A request that changed nothing: a read, a search, a token.
fn unchanged(seen: &Seen<'_>) -> String {
    let response = seen.response;
    match unchanged_kind(seen.method, seen.route) {
        Unchanged::Token => "issued an access token".to_owned(),
        Unchanged::Read(endpoint) => {
            let name = response
                .and_then(|r| r.user_name.as_deref().or(r.display_name.as_deref()))
                .unwrap_or("");
            format!("read {} {name}", singular(endpoint))
                .trim_end()
                .to_owned()
        }
        Unchanged::Listed(endpoint) => {
            let found = response.and_then(|r| r.total_results).unwrap_or(0);
            let filter = seen
                .query
                .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("filter=")))
                .map(|f| format!(" where {}", percent_decode(f)))
                .or_else(|| {
                    seen.request
                        .and_then(|r| r.filter.as_deref())
                        .map(|f| format!(" where {f}"))
                })
                .unwrap_or_default();
            let what = if endpoint == ".search" {
                "searched"
            } else {
                "listed"
            };
            format!("{what}{filter}: {found} found")
        }
        Unchanged::Other(endpoint) => match (seen.method, endpoint) {
            ("PATCH" | "PUT", _) => "changed nothing".to_owned(),
            ("GET", e) => format!("read {e}"),
            (m, _) => format!("{m} {}", seen.route),
        },
    }
}

fn singular(endpoint: &str) -> &str {
    match endpoint {
        "Users" => "user",
        "Groups" => "group",
        e => e,
    }
}

/// A query value as a form encodes it: `+` is a space, `%XX` a byte.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(method: &'a str, route: &'a str, status: u16, notes: &'a [ChangeNote]) -> Seen<'a> {
        Seen {
            method,
            route,
            status,
            request: None,
            response: None,
            notes,
            query: None,
        }
    }

    fn note(kind: ResourceKind, operation: WriteOperation, label: &str) -> ChangeNote {
        ChangeNote {
            kind,
            operation,
            label: Some(label.to_owned()),
            active: None,
            members_added: 0,
            members_removed: 0,
        }
    }

    #[test]
    fn says_what_changed_in_the_idps_terms() {
        let created = [note(
            ResourceKind::User,
            WriteOperation::Create,
            "alice@example.com",
        )];
        assert_eq!(
            summarize(&seen("POST", "/scim/v2/Users", 201, &created)),
            "created user alice@example.com"
        );
        let mut off = note(ResourceKind::User, WriteOperation::Patch, "bob@example.com");
        off.active = Some(false);
        assert_eq!(
            summarize(&seen("PATCH", "/scim/v2/Users/{id}", 200, &[off])),
            "deactivated bob@example.com"
        );
        let mut added = note(ResourceKind::Group, WriteOperation::Patch, "Engineering");
        added.members_added = 3;
        assert_eq!(
            summarize(&seen("PATCH", "/scim/v2/Groups/{id}", 204, &[added])),
            "added 3 members to Engineering"
        );
    }

    #[test]
    fn says_why_a_request_failed() {
        let body = Glance::of(r#"{"detail": "userName 'a' is already taken", "status": "409"}"#);
        let mut s = seen("POST", "/scim/v2/Users", 409, &[]);
        s.response = Some(&body);
        assert_eq!(summarize(&s), "rejected: userName 'a' is already taken");
        let body =
            Glance::of(r#"{"detail": "authentication required: the bearer token is not valid"}"#);
        let mut s = seen("GET", "/scim/v2/Users", 401, &[]);
        s.response = Some(&body);
        assert_eq!(summarize(&s), "refused: the bearer token is not valid");
    }

    #[test]
    fn reads_names_counts_and_failed_bulk_operations_from_the_bodies() {
        let user = Glance::of(r#"{"id": "1", "userName": "alice", "emails": [{"value": "a@x"}]}"#);
        let mut s = seen("GET", "/scim/v2/Users/{id}", 200, &[]);
        s.response = Some(&user);
        assert_eq!(summarize(&s), "read user alice");
        let list = Glance::of(r#"{"totalResults": 3, "Resources": []}"#);
        let search = Glance::of(r#"{"filter": "userName eq \"a\""}"#);
        let mut s = seen("POST", "/scim/v2/Users/.search", 200, &[]);
        (s.response, s.request) = (Some(&list), Some(&search));
        assert_eq!(summarize(&s), "searched where userName eq \"a\": 3 found");
        let odd = Glance::of(r#"{"detail": 5, "error": "x"}"#);
        let mut s = seen("POST", "/scim/v2/Users", 400, &[]);
        s.response = Some(&odd);
        assert_eq!(summarize(&s), "rejected: x");
        let cut = Glance::of(r#"{"totalResults": 5000, "Resources": [{"id": "1", "userNa"#);
        let mut s = seen("GET", "/scim/v2/Users", 200, &[]);
        s.response = Some(&cut);
        assert_eq!(summarize(&s), "listed: 5000 found");
        let created = [note(ResourceKind::User, WriteOperation::Create, "a")];
        let bulk = Glance::of_bulk(
            r#"{"Operations": [{"status": "201"}, {"status": 409}, {"status": "400"}]}"#,
        );
        let mut s = seen("POST", "/scim/v2/Bulk", 200, &created);
        s.response = Some(&bulk);
        assert_eq!(summarize(&s), "bulk: created user a; 2 failed");
    }

    #[test]
    fn a_read_is_scanned_up_to_the_field_its_summary_names() {
        let key = |method, route| answer_key(method, route);
        assert_eq!(key("GET", "/scim/v2/Users/{id}"), Some("userName"));
        assert_eq!(key("GET", "/scim/v2/Groups/{id}"), Some("displayName"));
        assert_eq!(key("GET", "/scim/v2/Users"), Some("totalResults"));
        assert_eq!(key("POST", "/scim/v2/Groups/.search"), Some("totalResults"));
        assert_eq!(key("GET", "/scim/v2/Schemas"), None);
        assert_eq!(key("PATCH", "/scim/v2/Users/{id}"), None);
        assert_eq!(key("POST", "/oauth2/token"), None);
        // Past the key nothing is read: not even a later, different name.
        let user = Glance::until(
            r#"{"id": "1", "userName": "alice", "displayName": "Alice", "detail": "d"}"#,
            key("GET", "/scim/v2/Users/{id}"),
        );
        assert_eq!(user.user_name.as_deref(), Some("alice"));
        assert_eq!((&user.display_name, &user.reason), (&None, &None));
        let mut s = seen("GET", "/scim/v2/Users/{id}", 200, &[]);
        s.response = Some(&user);
        assert_eq!(summarize(&s), "read user alice");
        let group = Glance::until(
            r#"{"id": "2", "displayName": "Eng", "members": [{"value": "1"}], "totalResults": 9}"#,
            key("GET", "/scim/v2/Groups/{id}"),
        );
        assert_eq!(group.display_name.as_deref(), Some("Eng"));
        assert_eq!(group.total_results, None);
        let page = Glance::until(
            r#"{"totalResults": 7, "Resources": [], "userName": "x"}"#,
            key("GET", "/scim/v2/Users"),
        );
        assert_eq!((page.total_results, page.user_name), (Some(7), None));
    }
}
