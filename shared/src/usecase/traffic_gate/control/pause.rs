//! ECS pause hooks (`ECS Hook State Change`, `HOOK_AWAITING_ACTION`, `hookType: PAUSE`): the gate
//! gathers evidence at the hook's stage and answers CONTINUE or ROLLBACK, or — on a service
//! tagged `deckhand:approval` — asks a person to.
//!
//! At least once, never twice: the answer (ContinueServiceDeployment), then its notice, then the
//! marker `deckhand:pause-announced` = the hook's id. A failed step fails the invocation and
//! Lambda retries it; the retry finds the hook answered and no marker, so it sends the notice it
//! owes (which way the answer went, read back from ECS) and writes the marker; a redelivery after
//! the marker changes and sends nothing.

use super::super::notification::gate_notification;
use super::super::plan::{Evidence, Verdict, ecs_stage};
use super::super::target;
use super::super::{GateReport, TrafficGate, cannot_gather};
use super::notification::{approval_request, pause_answered_again};
use super::plan::{PauseStep, pause_step};
use crate::config::cluster_listed;
use crate::error::HandlerError;
use crate::event::hook::EcsHook;
use crate::event::hook_state::{self, HookStateChange};
use crate::notify::field;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult, Sent};
use crate::ports::{
    Alarms, CodeDeployments, EcsServices, HookAction, HookReporter, LoadBalancers, MetricWindows, NativeDeployments, Notifier, Prober,
    ServiceCapacity,
};
use crate::tags;
use serde_json::{Value, json};
use tracing::info;

impl<C, R, E, L, A, P, N> TrafficGate<C, R, E, L, A, P, N>
where
    C: CodeDeployments,
    R: HookReporter,
    E: ServiceCapacity + NativeDeployments + EcsServices,
    L: LoadBalancers,
    A: Alarms + MetricWindows,
    P: Prober,
    N: Notifier,
{
    pub(in super::super) async fn pause_hook(&self, event: Value) -> Result<Outcome, HandlerError> {
        let change = hook_state::decode(event)?;
        let ignored = |reason: String| {
            info!(hook_id = %field(&change.hook_id), reason, "pause hook ignored");
            Ok(Outcome::ignored(super::super::FUNCTION, change.event_id.clone(), reason))
        };
        if !change.is_pause_awaiting_action() {
            return ignored(format!(
                "{} of a {} hook: the gate answers pause hooks awaiting action; deploy-events reports the rest",
                field(&change.name),
                field(&change.hook_type)
            ));
        }
        let (cluster, service) = change.cluster_and_service();
        if !cluster_listed(&self.config.control.clusters, cluster) {
            return ignored(format!("cluster {cluster} is not in CLUSTERS"));
        }
        let deployment = self.ports.ecs.deployment(&change.deployment_arn).await?;
        let Some(capacity) = self.ports.ecs.capacity(cluster, service).await? else {
            return ignored(format!("service {cluster}/{service} does not exist"));
        };
        let step = pause_step(&change, deployment.as_ref(), &capacity.tags);
        info!(hook_id = %field(&change.hook_id), step = %json!(step), "pause hook");
        let resource = |result| ResourceOutcome::service(cluster, service, result);
        let mut outcome = Outcome::new(super::super::FUNCTION, change.event_id.clone());
        match step {
            PauseStep::Ignore { reason } => return ignored(reason),
            PauseStep::Done { reason } => outcome.resources.push(resource(ResourceResult::Unchanged { reason })),
            PauseStep::AskApproval { approver } => {
                let notification = approval_request(&change, &approver, self.config.control.function_name.as_deref());
                let message_id = self.ports.notifier.publish(&notification).await?;
                self.ports.ecs.tag_service(&capacity.arn, tags::PAUSE_ANNOUNCED, &change.hook_id).await?;
                outcome.notification = Some(Sent::of(&notification, message_id));
                let reason = format!("{approver} answers this hook ({}): asked", tags::APPROVAL);
                outcome.resources.push(resource(ResourceResult::Unchanged { reason }));
            }
            PauseStep::Announce { rolled_back } => {
                let notification = pause_answered_again(&change, rolled_back);
                let message_id = self.ports.notifier.publish(&notification).await?;
                self.ports.ecs.tag_service(&capacity.arn, tags::PAUSE_ANNOUNCED, &change.hook_id).await?;
                outcome.notification = Some(Sent::of(&notification, message_id));
                let reason = "answered by an earlier attempt; its notice is sent now".to_owned();
                outcome.resources.push(resource(ResourceResult::Unchanged { reason }));
            }
            PauseStep::Decide => {
                let report = self.decide_pause(&change).await;
                let action = if report.verdict == Verdict::Pass { HookAction::Continue } else { HookAction::Rollback };
                self.ports.ecs.continue_hook(&change.deployment_arn, &change.hook_id, action).await?;
                let mut notification = gate_notification(&report);
                notification.text.push_str(&format!(
                    "Answer:   ContinueServiceDeployment {} on deployment {}\n",
                    action.as_str(),
                    field(&change.deployment_arn)
                ));
                let message_id = self.ports.notifier.publish(&notification).await?;
                self.ports.ecs.tag_service(&capacity.arn, tags::PAUSE_ANNOUNCED, &change.hook_id).await?;
                let answered = report.outcome();
                outcome.resources = answered.resources;
                outcome.details = answered.details.map(|mut details| {
                    details["answer"] = json!(action);
                    details["deployment"] = json!(change.deployment_arn);
                    details
                });
                outcome.notification = Some(Sent::of(&notification, message_id));
            }
        }
        Ok(outcome)
    }

    /// Rounds of evidence at the hook's stage until decided (at most `GATE_MAX_PROBES`, in-process
    /// as for CodeDeploy: ECS waits for one answer). An unknown stage, or evidence that cannot be
    /// gathered, fails the gate, as it does a lifecycle hook.
    async fn decide_pause(&self, change: &HookStateChange) -> GateReport {
        let mut report = GateReport::new("ecs-pause", &change.hook_id, None);
        let (cluster, service) = change.cluster_and_service();
        report.service = Some((cluster.to_owned(), service.to_owned()));
        let stage = match ecs_stage(&change.stage) {
            Ok(stage) => stage,
            Err(reason) => {
                report.verdict = Verdict::Fail { reasons: vec![reason] };
                return report;
            }
        };
        let hook = EcsHook {
            execution_id: change.hook_id.clone(),
            stage: change.stage.clone(),
            service_arn: change.service_arn.clone(),
            target_revision: None,
            hook_details: None,
        };
        match target::ecs_target(&self.ports.ecs, &self.config, &hook, stage).await {
            Ok(target) => self.rounds(&target, &mut report).await,
            Err(err) => (report.evidence, report.verdict) = (Evidence::default(), cannot_gather(&err)),
        }
        report.caveats = report.evidence.caveats();
        report
    }
}
