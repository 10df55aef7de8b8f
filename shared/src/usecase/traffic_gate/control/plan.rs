//! The pure decisions of the gate's control of ECS-native deployments: what a pause hook's event
//! asks, whether a deployment is stuck, and what an operator's request comes to. Each is computed
//! anew from what ECS shows, so a redelivery or a repeated request converges.

use super::request::{Action, ControlRequest};
use crate::config::minutes;
use crate::event::hook_state::HookStateChange;
use crate::ports::{HookAction, NativeDeployment};
use crate::quote::quote;
use crate::tags;
use serde::Serialize;
use std::collections::BTreeMap;

/// How long after it ended a stopped deployment may still be owed its stuck alert: a schedule run
/// that rolled it back and then failed to alert is retried, and re-run every few minutes, well
/// within it.
pub const OWED_HORIZON_SECONDS: u64 = 3600;

/// The service's `deckhand:freeze`, when it freezes (not blank, not `false`: as the gate reads it).
pub fn freeze(service_tags: &BTreeMap<String, String>) -> Option<&str> {
    service_tags.get(tags::FREEZE).map(String::as_str).filter(|v| !v.trim().is_empty() && v.trim() != "false")
}

/// Who answers the service's pause hooks (`deckhand:approval`), when a person does.
pub fn approver(service_tags: &BTreeMap<String, String>) -> Option<&str> {
    service_tags.get(tags::APPROVAL).map(String::as_str).filter(|v| !v.trim().is_empty() && v.trim() != "false")
}

pub use crate::event::hook_state::deployment_id;

/// What to do with a pause hook awaiting action, from what ECS shows of its deployment now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PauseStep {
    /// Not the gate's to answer: why.
    Ignore { reason: String },
    /// Answered and announced before: a redelivery.
    Done { reason: String },
    /// A person answers (`deckhand:approval`): ask them, and do nothing else.
    AskApproval { approver: String },
    /// Gather evidence at the hook's stage, then CONTINUE on a pass, ROLLBACK on a failure.
    Decide,
    /// The hook is answered but the gate's notice of it is owed: an earlier attempt answered it,
    /// then failed to announce. ECS shows which way it went.
    Announce { rolled_back: bool },
}

pub fn pause_step(change: &HookStateChange, deployment: Option<&NativeDeployment>, service_tags: &BTreeMap<String, String>) -> PauseStep {
    let ignore = |reason: String| PauseStep::Ignore { reason };
    let hook_id = quote(&change.hook_id);
    let Some(deployment) = deployment else {
        return ignore(format!("ECS does not know deployment {} (any more)", quote(&change.deployment_arn)));
    };
    let Some(hook) = deployment.hooks.iter().find(|hook| hook.id == change.hook_id) else {
        return ignore(format!("deployment {} lists no hook {hook_id}", quote(deployment_id(&deployment.arn))));
    };
    if service_tags.get(tags::PAUSE_ANNOUNCED) == Some(&hook.id) {
        return PauseStep::Done { reason: format!("hook {hook_id} was handled and announced (tag {})", tags::PAUSE_ANNOUNCED) };
    }
    match (hook.awaiting_action(), approver(service_tags)) {
        (true, Some(approver)) => PauseStep::AskApproval { approver: approver.to_owned() },
        (true, None) => PauseStep::Decide,
        (false, Some(_)) => ignore(format!("hook {hook_id} is {}: a person answers it ({})", hook.status, tags::APPROVAL)),
        (false, None) if matches!(hook.status.as_str(), "SUCCEEDED" | "FAILED") => {
            // The hook's own status tells the answer (ROLLBACK leaves it FAILED), not the
            // deployment's, which may since have been stopped or superseded.
            PauseStep::Announce { rolled_back: hook.status == "FAILED" }
        }
        (false, None) => ignore(format!("hook {hook_id} is {}, not awaiting action (deploy-events reports it)", hook.status)),
    }
}

/// The service's progress deadline in minutes (`deckhand:progress-deadline`, else `default`),
/// and why the tag was not used when it is invalid.
pub fn progress_deadline(service_tags: &BTreeMap<String, String>, default: u32) -> (u32, Option<String>) {
    match service_tags.get(tags::PROGRESS_DEADLINE).map(|value| minutes(value)) {
        None => (default, None),
        Some(Ok(minutes)) => (minutes, None),
        Some(Err(reason)) => (default, Some(format!("tag {}: {reason}; {default} minutes apply", tags::PROGRESS_DEADLINE))),
    }
}

/// What the schedule does about one service's deployments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum StuckCheck {
    /// Nothing in flight too long, no hook past its expiry.
    Fine,
    /// Stuck, and alerted before (`deckhand:stuck-alerted`).
    Alerted { deployment: String },
    /// Stuck: alert (critical), after a rollback when `rollback` (the service's opt-in, and the
    /// deployment still going forward).
    Alert { deployment: String, why: String, rollback: bool, status: String },
}

/// The first of the service's deployments (newest first) that is stuck — in flight longer than
/// `deadline` minutes, or with a hook awaiting action past its expiry — or that was stopped after
/// overrunning it within `OWED_HORIZON_SECONDS` on a service that opted in to rollback (a run that
/// rolled it back may have failed to alert).
pub fn stuck_check(deployments: &[NativeDeployment], service_tags: &BTreeMap<String, String>, now: u64, deadline: u32) -> StuckCheck {
    let opted_in = service_tags.get(tags::STUCK_ROLLBACK).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let deadline_seconds = u64::from(deadline) * 60;
    for deployment in deployments {
        let since = deployment.started_at.or(deployment.created_at);
        let ended_by_stop = matches!(deployment.status.as_str(), "STOPPED" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED");
        let why = if deployment.in_flight() {
            let expired = deployment.hooks.iter().find(|h| h.awaiting_action() && h.expires_at.is_some_and(|at| at < now));
            // Waiting on purpose is not being stuck: bake time (up to a day), and a pause hook
            // before its expiry (ECS applies its timeout action then; past it, it is stuck).
            let waiting = deployment.stage.as_deref() == Some("BAKE_TIME")
                || deployment.hooks.iter().any(|h| h.awaiting_action() && h.expires_at.is_none_or(|at| at >= now));
            match (since.map(|since| now.saturating_sub(since)).filter(|_| !waiting), expired) {
                (Some(ran), _) if ran > deadline_seconds => {
                    Some(format!("in flight for {} minutes, past its progress deadline of {deadline} minutes", ran / 60))
                }
                (_, Some(hook)) => Some(format!("hook {} still awaits action past its expiry", quote(&hook.id))),
                _ => None,
            }
        } else {
            match (since, deployment.finished_at) {
                (Some(since), Some(end))
                    if opted_in && ended_by_stop && end + OWED_HORIZON_SECONDS >= now && end.saturating_sub(since) > deadline_seconds =>
                {
                    Some(format!("ran {} minutes, past its progress deadline of {deadline} minutes", (end - since) / 60))
                }
                _ => None,
            }
        };
        let Some(why) = why else { continue };
        let id = deployment_id(&deployment.arn);
        if service_tags.get(tags::STUCK_ALERTED).is_some_and(|alerted| alerted == id) {
            return StuckCheck::Alerted { deployment: deployment.arn.clone() };
        }
        return StuckCheck::Alert {
            deployment: deployment.arn.clone(),
            why,
            rollback: opted_in && deployment.advancing(),
            status: deployment.status.clone(),
        };
    }
    StuckCheck::Fine
}

/// What an operator's request comes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum OperatorPlan {
    /// Report; change nothing.
    Status,
    /// StopServiceDeployment with rollback.
    StopWithRollback {
        deployment: String,
    },
    /// ContinueServiceDeployment on a paused hook.
    AnswerHook {
        deployment: String,
        hook_id: String,
        action: HookAction,
    },
    /// Nothing in flight: deploy the revision before the last successful deployment's.
    Redeploy {
        task_definition: String,
        replacing: Option<String>,
    },
    Freeze {
        value: String,
    },
    /// Lift the freeze; `failover`: region failover wrote it.
    Unfreeze {
        value: String,
        failover: bool,
    },
    /// Already as asked: why nothing is done.
    Nothing {
        reason: String,
    },
}

impl OperatorPlan {
    pub fn changes(&self) -> bool {
        !matches!(self, OperatorPlan::Status | OperatorPlan::Nothing { .. })
    }
}

/// The plan for `request`, from the service's deployments (newest first) and tags; an error says
/// why the request cannot be done as asked. `default_freeze` is the value a freeze without a
/// reason writes.
pub fn operator_plan(
    request: &ControlRequest,
    deployments: &[NativeDeployment],
    service_tags: &BTreeMap<String, String>,
    default_freeze: &str,
) -> Result<OperatorPlan, String> {
    let nothing = |reason: String| Ok(OperatorPlan::Nothing { reason });
    match request.action {
        Action::Status => Ok(OperatorPlan::Status),
        Action::Rollback => rollback(deployments),
        Action::Continue => continue_plan(deployments, request.hook_id.as_deref()),
        Action::Freeze => match freeze(service_tags) {
            Some(value) => nothing(format!("already frozen: {}", quote(value))),
            None => Ok(OperatorPlan::Freeze { value: request.reason.clone().unwrap_or_else(|| default_freeze.to_owned()) }),
        },
        Action::Unfreeze => match freeze(service_tags) {
            Some(value) => {
                Ok(OperatorPlan::Unfreeze { value: value.to_owned(), failover: value.starts_with(tags::FAILOVER_FREEZE_PREFIX) })
            }
            None => nothing("not frozen".into()),
        },
    }
}

fn rollback(deployments: &[NativeDeployment]) -> Result<OperatorPlan, String> {
    if let Some((at, advancing)) = deployments.iter().enumerate().find(|(_, d)| d.advancing()) {
        // A paused deployment is rolled back by answering its hook, as ECS documents.
        if let Some(hook) = advancing.hooks.iter().find(|h| h.awaiting_action()) {
            return Ok(OperatorPlan::AnswerHook {
                deployment: advancing.arn.clone(),
                hook_id: hook.id.clone(),
                action: HookAction::Rollback,
            });
        }
        if goes_back(advancing, &deployments[at + 1..]) {
            let to = advancing.target_task_definition().unwrap_or("?");
            return Ok(OperatorPlan::Nothing {
                reason: format!("deployment {} already takes the service back to {to}", deployment_id(&advancing.arn)),
            });
        }
        return Ok(OperatorPlan::StopWithRollback { deployment: advancing.arn.clone() });
    }
    if let Some(moving) = deployments.iter().find(|d| d.in_flight()) {
        return Ok(OperatorPlan::Nothing { reason: format!("deployment {} is already {}", deployment_id(&moving.arn), moving.status) });
    }
    let Some((at, last)) = deployments.iter().enumerate().find(|(_, d)| d.status == "SUCCESSFUL") else {
        return Err("nothing to roll back: no deployment in flight and none successful among the last ten".into());
    };
    if goes_back(last, &deployments[at + 1..]) {
        let reason = format!(
            "the last successful deployment, {}, already went back to {}: deploy an older revision yourself to go further",
            deployment_id(&last.arn),
            last.target_task_definition().unwrap_or("?")
        );
        return Ok(OperatorPlan::Nothing { reason });
    }
    match last.source_task_definition() {
        Some(previous) => {
            Ok(OperatorPlan::Redeploy { task_definition: previous.to_owned(), replacing: last.target_task_definition().map(str::to_owned) })
        }
        None => Err(format!("deployment {} names no revision it replaced: nothing to go back to", deployment_id(&last.arn))),
    }
}

/// Whether `deployment` undoes the successful deployment before it (among `older`): it deploys
/// what that one replaced, in place of what that one deployed. A rollback by redeployment looks
/// so; a repeated request must not roll the rollback back.
fn goes_back(deployment: &NativeDeployment, older: &[NativeDeployment]) -> bool {
    let Some(before) = older.iter().find(|d| d.status == "SUCCESSFUL") else { return false };
    deployment.target_task_definition().is_some()
        && deployment.target_task_definition() == before.source_task_definition()
        && deployment.source_task_definition() == before.target_task_definition()
}

fn continue_plan(deployments: &[NativeDeployment], hook_id: Option<&str>) -> Result<OperatorPlan, String> {
    let answer = |deployment: &NativeDeployment, id: &str| OperatorPlan::AnswerHook {
        deployment: deployment.arn.clone(),
        hook_id: id.to_owned(),
        action: HookAction::Continue,
    };
    let awaiting: Vec<(&NativeDeployment, &str)> = deployments
        .iter()
        .filter(|d| d.in_flight())
        .flat_map(|d| d.hooks.iter().filter(|h| h.awaiting_action()).map(move |h| (d, h.id.as_str())))
        .collect();
    let listed = || awaiting.iter().map(|(_, id)| quote(id)).collect::<Vec<_>>().join(", ");
    match hook_id {
        Some(wanted) => {
            if let Some((deployment, id)) = awaiting.iter().find(|(_, id)| *id == wanted) {
                return Ok(answer(deployment, id));
            }
            let answered = deployments.iter().flat_map(|d| d.hooks.iter()).find(|h| h.id == wanted);
            match answered {
                Some(hook) => Ok(OperatorPlan::Nothing { reason: format!("hook {} is {}: already answered", quote(wanted), hook.status) }),
                None if awaiting.is_empty() => Err(format!("no deployment in flight has hook {}, and none awaits action", quote(wanted))),
                None => Err(format!("no deployment in flight has hook {}; awaiting action: {}", quote(wanted), listed())),
            }
        }
        None => match awaiting.as_slice() {
            [] => Err("no hook awaits action: nothing to continue".into()),
            [(deployment, id)] => Ok(answer(deployment, id)),
            _ => Err(format!("{} hooks await action ({}): name one with hookId", awaiting.len(), listed())),
        },
    }
}
