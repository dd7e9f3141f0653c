//! Operations on a group's `members`, which are not in the document: they
//! become a [`MemberPlan`] that the store runs as set operations.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{OpKind, PatchContext, Resolved};
use crate::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::group::{MemberRef, member_refs};
use crate::idp_dialect::applied;
use crate::validate::check_attribute;

/// Membership changes gathered from a request, in request order: a later
/// operation on the same member wins over an earlier one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberPlan {
    /// Remove every member before adding.
    pub clear: bool,
    pub add: Vec<MemberRef>,
    pub remove: BTreeSet<String>,
}

impl MemberPlan {
    pub fn is_empty(&self) -> bool {
        !self.clear && self.add.is_empty() && self.remove.is_empty()
    }

    fn clear_all(&mut self) {
        *self = Self {
            clear: true,
            ..Self::default()
        };
    }

    fn add_members(&mut self, refs: Vec<MemberRef>) {
        for r in refs {
            self.remove.remove(&r.value);
            if !self.add.iter().any(|a| a.value == r.value) {
                self.add.push(r);
            }
        }
    }

    fn remove_members(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            self.add.retain(|a| a.value != id);
            self.remove.insert(id);
        }
    }
}

pub(super) fn apply_members(
    kind: OpKind,
    r: &Resolved,
    value: Option<Value>,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    if r.sub.is_some() {
        return Err(ScimError::invalid_path(
            "change members with 'members' or 'members[value eq \"id\"]'",
        ));
    }
    let refs = match &value {
        Some(v) => checked_refs(ctx, r, v)?,
        None => Vec::new(),
    };
    let Some(plan) = ctx.members.as_deref_mut() else {
        return Ok(());
    };
    match (kind, value.is_some()) {
        (OpKind::Add, _) => plan.add_members(refs),
        (OpKind::Replace, _) => {
            // Okta's "push now" on an empty group sends `"value": []`.
            plan.clear_all();
            plan.add_members(refs);
        }
        // Entra's remove names the members in `value`; removing only those
        // (not the whole attribute) is what it means and what keeps groups.
        (OpKind::Remove, true) if ctx.dialect.remove_members_by_value => {
            applied("remove_members_by_value", refs.len());
            plan.remove_members(refs.into_iter().map(|m| m.value));
        }
        (OpKind::Remove, _) => plan.clear_all(),
    }
    Ok(())
}

/// The members a value names, checked as a create checks them (types,
/// `type` among User and Group). A lone member is read as a list of one.
fn checked_refs(
    ctx: &PatchContext<'_>,
    r: &Resolved,
    value: &Value,
) -> Result<Vec<MemberRef>, ScimError> {
    let list = match value {
        Value::Array(_) => value.clone(),
        single => Value::Array(vec![single.clone()]),
    };
    match check_attribute(ctx.dialect, &r.attr, list, &r.attr.name)? {
        Some(checked) => member_refs(&checked),
        None => Ok(Vec::new()),
    }
}

pub(super) fn remove_filtered_members(
    kind: OpKind,
    filter: &Filter,
    sub: Option<&str>,
    ctx: &mut PatchContext<'_>,
) -> Result<(), ScimError> {
    let Some(plan) = ctx.members.as_deref_mut() else {
        return Ok(());
    };
    if kind != OpKind::Remove || sub.is_some() {
        return Err(ScimError::invalid_path(
            "a filtered 'members' path supports only remove, e.g. members[value eq \"id\"]",
        ));
    }
    let mut ids = Vec::new();
    if !member_ids(filter, &mut ids) {
        return Err(ScimError::invalid_filter(format!(
            "members can be selected by value only, e.g. members[value eq \"id\"], got [{filter}]"
        )));
    }
    plan.remove_members(ids);
    Ok(())
}

/// `value eq "a"`, `value eq "a" or value eq "b"`, and an `and` in which one
/// side names the value (`display eq "x" and value eq "a"`).
fn member_ids(filter: &Filter, out: &mut Vec<String>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.name.eq_ignore_ascii_case("value") && path.sub_attr.is_none() => {
            out.push(id.clone());
            true
        }
        Filter::Or(any) => any.iter().all(|f| member_ids(f, out)),
        Filter::And(all) => all.iter().any(|f| member_ids(f, out)),
        _ => false,
    }
}
