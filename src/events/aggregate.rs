//! RFC 9967 §5 advises against a SET per change for groups under a stream
//! of PATCHes, and to aggregate them: consecutive `prov:patch:notice`
//! events of one group within a delivery go out as one notice, naming
//! every attribute any of them changed, with the last one's version,
//! `jti`, `txn` and time. Delivering it settles all of them; a failure
//! holds them all back, as one event's would.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::store::StoredEvent;

const PATCH_NOTICE: &str = "prov:patch:notice";

/// What is sent for some of a resource's events, and their sequence
/// numbers.
pub struct Outgoing<'a> {
    pub event: Cow<'a, StoredEvent>,
    pub covers: Vec<i64>,
}

/// One resource's events, in order, as they are to be sent: each alone,
/// or, with `merge` on, runs of a group's patch notices as one.
pub fn outgoing<'a>(events: &[&'a StoredEvent], merge: bool) -> Vec<Outgoing<'a>> {
    let mut out = Vec::new();
    let mut rest = events;
    while let Some(first) = rest.first() {
        let run = match merge && mergeable(first) {
            true => rest.iter().take_while(|e| mergeable(e)).count(),
            false => 1,
        };
        let (taken, after) = rest.split_at(run);
        out.extend(one(taken));
        rest = after;
    }
    out
}

/// A run of events as one: the last, naming every attribute of the run.
fn one<'a>(run: &[&'a StoredEvent]) -> Option<Outgoing<'a>> {
    let event = match run {
        [] => return None,
        [only] => Cow::Borrowed(*only),
        [.., last] => {
            let mut merged = (*last).clone();
            merged.attributes = Some(union(run));
            Cow::Owned(merged)
        }
    };
    let covers = run.iter().map(|e| e.seq).collect();
    Some(Outgoing { event, covers })
}

fn mergeable(e: &StoredEvent) -> bool {
    e.event == PATCH_NOTICE && e.resource_type == "Group"
}

/// Every attribute name the run's events list, sorted, as a JSON array.
fn union(run: &[&StoredEvent]) -> String {
    let all: BTreeSet<String> = run
        .iter()
        .filter_map(|e| e.attributes.as_deref())
        .flat_map(|a| serde_json::from_str::<Vec<String>>(a).unwrap_or_default())
        .collect();
    serde_json::Value::from(all.into_iter().collect::<Vec<_>>()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn event(seq: i64, kind: &str, event: &str, attributes: &str) -> StoredEvent {
        StoredEvent {
            seq,
            tenant: Uuid::nil(),
            id: Uuid::from_u128(seq as u128),
            resource_type: kind.to_owned(),
            resource_id: Uuid::nil(),
            event: event.to_owned(),
            txn: Some(format!("request-{seq}")),
            external_id: None,
            version: seq,
            attributes: Some(attributes.to_owned()),
            created_at: seq * 1000,
        }
    }

    #[test]
    fn a_groups_consecutive_patch_notices_go_as_one() {
        let events = [
            event(1, "Group", "prov:patch:notice", r#"["members"]"#),
            event(2, "Group", "prov:patch:notice", r#"["displayName"]"#),
            event(3, "Group", "prov:patch:notice", r#"["members"]"#),
            event(4, "Group", "prov:put:notice", r#"["members"]"#),
            event(5, "Group", "prov:patch:notice", r#"["members"]"#),
        ];
        let refs: Vec<&StoredEvent> = events.iter().collect();
        let out = outgoing(&refs, true);
        let covers: Vec<Vec<i64>> = out.iter().map(|o| o.covers.clone()).collect();
        assert_eq!(covers, [vec![1, 2, 3], vec![4], vec![5]]);
        let merged = &out[0].event;
        assert_eq!(
            merged.attributes.as_deref(),
            Some(r#"["displayName","members"]"#)
        );
        assert_eq!(
            (merged.seq, merged.version, merged.id),
            (3, 3, events[2].id)
        );
        assert_eq!(merged.txn.as_deref(), Some("request-3"));
        assert!(matches!(out[1].event, Cow::Borrowed(_)));
    }

    #[test]
    fn users_and_merging_off_keep_every_event() {
        let users = [
            event(1, "User", "prov:patch:notice", r#"["name"]"#),
            event(2, "User", "prov:patch:notice", r#"["emails"]"#),
        ];
        let refs: Vec<&StoredEvent> = users.iter().collect();
        assert_eq!(outgoing(&refs, true).len(), 2);
        let groups = [
            event(1, "Group", "prov:patch:notice", r#"["members"]"#),
            event(2, "Group", "prov:patch:notice", r#"["members"]"#),
        ];
        let refs: Vec<&StoredEvent> = groups.iter().collect();
        assert_eq!(outgoing(&refs, false).len(), 2);
    }
}
