//! One line per request in an IdP administrator's terms: "created user
//! alice@example.com", "deactivated bob@example.com", "added 3 members to
//! Engineering", "rejected: userName 'x' is already taken", "refused: the
//! bearer token is not valid".

use serde_json::Value;

use super::changes::ChangeNote;
use crate::scim::resource::ResourceKind;
use crate::service::change::WriteOperation;

/// What the summary reads of one request.
pub struct Seen<'a> {
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub request: Option<&'a Value>,
    pub response: Option<&'a Value>,
    pub notes: &'a [ChangeNote],
    /// The request's query string, redacted.
    pub query: Option<&'a str>,
}

pub fn summarize(seen: &Seen<'_>) -> String {
    let detail = seen
        .response
        .and_then(|r| {
            r.get("detail")
                .or_else(|| r.get("error_description"))
                .or_else(|| r.get("error"))
        })
        .and_then(Value::as_str)
        .map(|d| d.chars().take(200).collect::<String>());
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
        let failed = seen
            .response
            .and_then(|r| r.get("Operations"))
            .and_then(Value::as_array)
            .map_or(0, |ops| {
                ops.iter()
                    .filter(|op| {
                        op.get("status")
                            .and_then(|s| {
                                s.as_str()
                                    .map(str::to_owned)
                                    .or_else(|| Some(s.to_string()))
                            })
                            .and_then(|s| s.parse::<u16>().ok())
                            .is_some_and(|s| s >= 400)
                    })
                    .count()
            });
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

/// A request that changed nothing: a read, a search, a token.
fn unchanged(seen: &Seen<'_>) -> String {
    let route = seen.route;
    let endpoint = route
        .rsplit('/')
        .find(|s| !s.is_empty() && !s.starts_with('{'))
        .unwrap_or(route);
    let response = seen.response;
    let text = |key: &str| response.and_then(|r| r.get(key)).and_then(Value::as_str);
    if route.ends_with("/oauth2/token") {
        return "issued an access token".to_owned();
    }
    match (seen.method, endpoint) {
        ("GET", "Users") | ("GET", "Groups") if route.ends_with('}') => {
            let name = text("userName")
                .or_else(|| text("displayName"))
                .unwrap_or("");
            format!("read {} {name}", singular(endpoint))
                .trim_end()
                .to_owned()
        }
        ("GET", "Users" | "Groups") | ("POST", ".search") => {
            let found = response
                .and_then(|r| r.get("totalResults"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let filter = seen
                .query
                .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("filter=")))
                .map(|f| format!(" where {}", percent_decode(f)))
                .or_else(|| {
                    seen.request
                        .and_then(|r| r.get("filter"))
                        .and_then(Value::as_str)
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
        ("PATCH" | "PUT", _) => "changed nothing".to_owned(),
        ("GET", e) => format!("read {e}"),
        (m, _) => format!("{m} {route}"),
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
        let body = serde_json::json!({"detail": "userName 'a' is already taken"});
        let mut s = seen("POST", "/scim/v2/Users", 409, &[]);
        s.response = Some(&body);
        assert_eq!(summarize(&s), "rejected: userName 'a' is already taken");
        let body =
            serde_json::json!({"detail": "authentication required: the bearer token is not valid"});
        let mut s = seen("GET", "/scim/v2/Users", 401, &[]);
        s.response = Some(&body);
        assert_eq!(summarize(&s), "refused: the bearer token is not valid");
    }
}
