//! Operator requests: report a service's ECS-native deployments, roll back, continue a paused
//! deployment, freeze and unfreeze — each observed first and planned (`plan::operator_plan`), so
//! that a repeated request finds the work done and changes nothing. `dryRun` returns the plan and
//! changes and sends nothing. A change is announced; a notice that fails after the change fails
//! the invocation, saying what was done.

use super::super::{FUNCTION, TrafficGate};
use super::notification::operator_done;
use super::plan::{OperatorPlan, approver, deployment_id, freeze, operator_plan};
use super::request::{self, ControlRequest};
use crate::config::cluster_listed;
use crate::error::HandlerError;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult, Sent};
use crate::ports::{Capacity, EcsServices, NativeDeployment, NativeDeployments, Notifier, RevisionShare, ServiceCapacity};
use crate::quote::clip;
use crate::runtime::rfc3339;
use crate::tags;
use serde_json::{Value, json};
use tracing::info;

/// The most of ECS's reason for a deployment's status that `status` quotes.
const REASON_MAX: usize = 512;

impl<C, R, E, L, A, P, N> TrafficGate<C, R, E, L, A, P, N>
where
    E: ServiceCapacity + NativeDeployments + EcsServices,
    N: Notifier,
{
    pub(in super::super) async fn operator(&self, event: Value) -> Result<Outcome, HandlerError> {
        let request = request::decode(event)?;
        let (cluster, service) = (request.cluster.as_str(), request.service.as_str());
        let refused = |reason: String| {
            HandlerError::Misconfigured(format!("{} {cluster}/{service}: {reason}; nothing was done", request.action.as_str()))
        };
        if !cluster_listed(&self.config.control.clusters, cluster) {
            return Err(refused("the cluster is not in CLUSTERS".into()));
        }
        let Some(capacity) = self.ports.ecs.capacity(cluster, service).await? else {
            return Err(refused("the service does not exist".into()));
        };
        let deployments = self.ports.ecs.recent_deployments(cluster, service).await?;
        let now = (self.now)();
        let default_freeze = format!("frozen by an operator at {}", rfc3339(now));
        let plan = operator_plan(&request, &deployments, &capacity.tags, &default_freeze).map_err(refused)?;
        info!(request = %json!(request), plan = %json!(plan), "operator request");
        let mut outcome = Outcome::new(FUNCTION, None);
        let mut details = json!({"request": request, "service": status_view(&capacity, &deployments), "plan": plan});
        if let OperatorPlan::Nothing { reason } = &plan {
            outcome.resources.push(ResourceOutcome::service(cluster, service, ResourceResult::Unchanged { reason: reason.clone() }));
        }
        if request.dry_run || !plan.changes() {
            outcome.details = Some(details);
            return Ok(outcome);
        }
        let done = self.carry_out(&request, &capacity, &plan).await?;
        let notification = operator_done(&request, &plan, now);
        let message_id = self.ports.notifier.publish(&notification).await.map_err(|err| HandlerError::Incomplete {
            failed: 1,
            total: 1,
            summary: format!("{cluster}/{service}: {done}, but its notice failed: {err}"),
        })?;
        details["done"] = json!(done);
        outcome.details = Some(details);
        outcome.notification = Some(Sent::of(&notification, message_id));
        Ok(outcome)
    }

    /// The plan's one change; what was done.
    async fn carry_out(&self, request: &ControlRequest, capacity: &Capacity, plan: &OperatorPlan) -> Result<String, HandlerError> {
        let ecs = &self.ports.ecs;
        match plan {
            OperatorPlan::StopWithRollback { deployment } => {
                ecs.stop_with_rollback(deployment).await?;
                Ok(format!("stopped deployment {} with rollback", deployment_id(deployment)))
            }
            OperatorPlan::AnswerHook { deployment, hook_id, action } => {
                ecs.continue_hook(deployment, hook_id, *action).await?;
                Ok(format!("answered hook {hook_id} of deployment {} {}", deployment_id(deployment), action.as_str()))
            }
            OperatorPlan::Redeploy { task_definition, .. } => {
                // Described as a tracked service: the adapter keeps its deployment configuration
                // (strategy, hooks, bake time) from it, and UpdateService keeps it.
                let services = ecs.tracked_services(&request.cluster, std::slice::from_ref(&capacity.arn)).await?;
                let Some(service) = services.iter().find(|s| s.arn == capacity.arn) else {
                    return Err(HandlerError::Misconfigured(format!(
                        "rollback {}/{}: nothing in flight, and redeploying the previous revision needs the service tracked ({}); nothing was done",
                        request.cluster,
                        request.service,
                        tags::TRACK
                    )));
                };
                let id = ecs.roll_out(service, task_definition, None).await?;
                Ok(format!("redeployed {task_definition} (deployment {id})"))
            }
            OperatorPlan::Freeze { value } => {
                ecs.tag_service(&capacity.arn, tags::FREEZE, value).await?;
                Ok(format!("froze deployments: {} = {value}", tags::FREEZE))
            }
            OperatorPlan::Unfreeze { value, failover } => {
                ecs.untag_service(&capacity.arn, tags::FREEZE).await?;
                let lifted = if *failover { " (region failover's freeze: the region traffic left may deploy again)" } else { "" };
                Ok(format!("lifted the freeze {value}{lifted}"))
            }
            OperatorPlan::Status | OperatorPlan::Nothing { .. } => Ok("nothing".into()),
        }
    }
}

/// What `status` reports: the strategy, the freeze, who approves pauses, and each deployment in
/// flight (then the newest finished one): status, stage, traffic split, hooks awaiting action,
/// bake time, task definitions from and to.
fn status_view(capacity: &Capacity, deployments: &[NativeDeployment]) -> Value {
    let finished = deployments.iter().find(|d| !d.in_flight());
    let shown = deployments.iter().filter(|d| d.in_flight()).chain(finished);
    let share = |r: &RevisionShare| {
        json!({"revision": deployment_id(&r.revision_arn), "task_definition": r.task_definition, "production": r.production_weight,
               "test": r.test_weight, "running": r.running, "requested": r.requested})
    };
    let deployments: Vec<Value> = shown
        .map(|d| {
            let awaiting: Vec<Value> = d
                .hooks
                .iter()
                .filter(|h| h.awaiting_action())
                .map(|h| json!({"hook_id": h.id, "expires_at": h.expires_at.map(rfc3339), "timeout_action": h.timeout_action}))
                .collect();
            json!({
                "id": deployment_id(&d.arn), "arn": d.arn, "status": d.status, "stage": d.stage, "strategy": d.strategy,
                "status_reason": d.status_reason.as_deref().map(|reason| clip(reason, REASON_MAX)),
                "started_at": d.started_at.or(d.created_at).map(rfc3339), "bake_minutes": d.bake_minutes,
                "traffic": {"target": d.target.as_ref().map(share), "sources": d.sources.iter().map(share).collect::<Vec<_>>()},
                "images": {"from": d.source_task_definition(), "to": d.target_task_definition()},
                "awaiting_action": awaiting,
            })
        })
        .collect();
    json!({
        "strategy": capacity.strategy, "desired": capacity.desired, "running": capacity.running,
        "freeze": freeze(&capacity.tags), "approval": approver(&capacity.tags), "deployments": deployments,
    })
}
