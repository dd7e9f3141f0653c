//! Runs a bulk request: each operation is its own transaction (RFC 7644
//! §3.7 does not make a bulk request atomic), in request order except that
//! an operation waits for the `bulkId`s it refers to.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::{Value, json};

use super::answer::Answer;
use super::{Ctx, ServiceError, Services};
use crate::scim::ScimError;
use crate::scim::bulk::{
    BulkOp, BulkRequest, Method, reference, references, substitute, take_unresolved_members,
};
use crate::scim::etag::Precondition;
use crate::scim::resource::{ResourceKind, location};

/// What one operation did.
pub struct BulkOutcome {
    pub method: Method,
    pub bulk_id: Option<String>,
    pub result: Result<Done, ServiceError>,
}

pub struct Done {
    pub id: String,
    pub status: u16,
    pub location: String,
    pub version: Option<i64>,
}

/// Bookkeeping while a bulk request runs.
#[derive(Default)]
struct Run {
    /// bulkId → index of the POST that defines it.
    defined: HashMap<String, usize>,
    /// bulkId → id of the resource its POST created.
    resolved: HashMap<String, String>,
    outcomes: HashMap<usize, BulkOutcome>,
    /// Operations being prepared, innermost last: a reference back into
    /// this stack is a cycle.
    stack: Vec<usize>,
    errors: u32,
    /// Groups created without some members, to add once those exist.
    deferred: Vec<Deferred>,
}

struct Deferred {
    index: usize,
    group_id: String,
    members: Vec<String>,
}

type Step<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

impl Services {
    /// Outcomes of the operations that ran, in request order. Operations run
    /// in request order; one that refers to a resource created later in the
    /// request runs that creation first, so the result is the one in-order
    /// processing would give (RFC 7644 §3.7). Stops after `failOnErrors`.
    pub async fn bulk(&self, ctx: &Ctx, req: BulkRequest) -> Vec<BulkOutcome> {
        let mut run = Run::default();
        for (i, op) in req.ops.iter().enumerate() {
            if let (Method::Post, Some(b)) = (op.method, &op.bulk_id) {
                run.defined.insert(b.clone(), i);
            }
        }
        for i in 0..req.ops.len() {
            if run.stopped(req.fail_on_errors) {
                break;
            }
            self.ensure(ctx, &req, i, &mut run).await;
        }
        let mut outcomes: Vec<(usize, BulkOutcome)> = run.outcomes.into_iter().collect();
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, o)| o).collect()
    }

    /// Runs operation `i` unless it already ran, first running the POSTs it
    /// refers to.
    fn ensure<'a>(
        &'a self,
        ctx: &'a Ctx,
        req: &'a BulkRequest,
        i: usize,
        run: &'a mut Run,
    ) -> Step<'a> {
        Box::pin(async move {
            if run.outcomes.contains_key(&i) || run.stopped(req.fail_on_errors) {
                return;
            }
            let op = &req.ops[i];
            run.stack.push(i);
            let mut held_back = Vec::new();
            let mut failure = None;
            for r in references(op) {
                if run.resolved.contains_key(&r) {
                    continue;
                }
                match run.defined.get(&r).copied() {
                    None => {
                        failure = Some(format!(
                            "bulkId {r:?} is not defined by a POST in this request"
                        ))
                    }
                    Some(j) if run.stack.contains(&j) => {
                        if breaks_cycle(op, &r) {
                            held_back.push(r);
                        } else {
                            failure = Some(format!(
                                "circular bulkId reference {r:?} cannot be resolved"
                            ));
                        }
                    }
                    Some(j) => {
                        self.ensure(ctx, req, j, run).await;
                        if !run.resolved.contains_key(&r) {
                            failure = Some(format!(
                                "bulkId {r:?} was not created, so it cannot be referred to"
                            ));
                        }
                    }
                }
                if failure.is_some() {
                    break;
                }
            }
            run.stack.pop();
            if let Some(detail) = failure {
                run.record(i, op, Err(ScimError::conflict(detail).into()));
                return;
            }
            self.run_with_held_back(ctx, op, i, held_back, run).await;
        })
    }

    async fn run_with_held_back(
        &self,
        ctx: &Ctx,
        op: &BulkOp,
        i: usize,
        held_back: Vec<String>,
        run: &mut Run,
    ) {
        let mut data = op.data.clone();
        let members = match data.as_mut() {
            Some(d) if !held_back.is_empty() => take_unresolved_members(d),
            _ => Vec::new(),
        };
        let result = self.run_op(ctx, op, &run.resolved, data).await;
        if let (Ok(done), false) = (&result, members.is_empty()) {
            run.deferred.push(Deferred {
                index: i,
                group_id: done.id.clone(),
                members,
            });
        }
        run.record(i, op, result);
        self.flush_deferred(ctx, run).await;
    }

    /// Adds the held-back members of groups whose members now all exist.
    async fn flush_deferred(&self, ctx: &Ctx, run: &mut Run) {
        let (ready, waiting): (Vec<Deferred>, Vec<Deferred>) = std::mem::take(&mut run.deferred)
            .into_iter()
            .partition(|d| d.members.iter().all(|m| run.resolved.contains_key(m)));
        run.deferred = waiting;
        for d in ready {
            let values: Vec<Value> = d
                .members
                .iter()
                .filter_map(|m| run.resolved.get(m))
                .map(|id| json!({"value": id}))
                .collect();
            let body = json!({"Operations": [{"op": "add", "path": "members", "value": values}]});
            let plain = Ctx {
                if_match: Precondition::None,
                ..ctx.clone()
            };
            let patched = self
                .patch(
                    &plain,
                    ResourceKind::Group,
                    &d.group_id,
                    body,
                    Answer::Nothing,
                )
                .await;
            match patched {
                Ok(written) => {
                    if let Some(Ok(done)) =
                        run.outcomes.get_mut(&d.index).map(|o| o.result.as_mut())
                    {
                        done.version = Some(written.version());
                    }
                }
                Err(e) => {
                    if let Some(o) = run.outcomes.get_mut(&d.index) {
                        o.result = Err(e);
                        run.errors += 1;
                    }
                }
            }
        }
    }

    async fn run_op(
        &self,
        ctx: &Ctx,
        op: &BulkOp,
        resolved: &HashMap<String, String>,
        data: Option<Value>,
    ) -> Result<Done, ServiceError> {
        let resolve = |b: &str| resolved.get(b).cloned();
        let mut data = data.unwrap_or(Value::Null);
        substitute(&mut data, &resolve);
        let target = op.target.as_deref().map(|t| {
            reference(t)
                .and_then(resolve)
                .unwrap_or_else(|| t.to_owned())
        });
        let ctx = Ctx {
            if_match: Precondition::parse(op.version.as_deref()),
            ..ctx.clone()
        };
        let id = target.unwrap_or_default();
        let (kind, nothing) = (op.kind, Answer::Nothing);
        let written = match op.method {
            Method::Post => self.create(&ctx, kind, data, nothing).await?,
            Method::Put => self.replace(&ctx, kind, &id, data, nothing).await?,
            Method::Patch => self.patch(&ctx, kind, &id, data, nothing).await?,
            Method::Delete => {
                self.delete(&ctx, kind, &id).await?;
                let location = location(&ctx.base_url, kind, &id);
                return Ok(Done {
                    id,
                    status: 204,
                    location,
                    version: None,
                });
            }
        };
        let status = if op.method == Method::Post { 201 } else { 200 };
        Ok(Done {
            id: written.id().to_owned(),
            status,
            location: written.location().to_owned(),
            version: Some(written.version()),
        })
    }
}

impl Run {
    fn stopped(&self, fail_on_errors: Option<u32>) -> bool {
        fail_on_errors.is_some_and(|limit| self.errors >= limit)
    }

    fn record(&mut self, index: usize, op: &BulkOp, result: Result<Done, ServiceError>) {
        if let (Ok(done), Some(b), Method::Post) = (&result, &op.bulk_id, op.method) {
            self.resolved.insert(b.clone(), done.id.clone());
        }
        if result.is_err() {
            self.errors += 1;
        }
        self.outcomes.insert(
            index,
            BulkOutcome {
                method: op.method,
                bulk_id: op.bulk_id.clone(),
                result,
            },
        );
    }
}

/// A cycle can be broken at a group POST whose reference is a member: the
/// group is created without that member, which is added afterwards.
fn breaks_cycle(op: &BulkOp, reference_id: &str) -> bool {
    if op.method != Method::Post || op.kind != ResourceKind::Group {
        return false;
    }
    let mut data = op.data.clone().unwrap_or(Value::Null);
    take_unresolved_members(&mut data)
        .iter()
        .any(|m| m == reference_id)
}
