//! ECS-native deployments: lifecycle hook state changes (a pause awaiting action, a hook that
//! failed or timed out, a pause continued) and services whose tasks fail to start. AWS sends no
//! event per lifecycle stage or for bake time: the stage of a deployment shows in its hooks' events,
//! and the end of bake time in the deployment's `SERVICE_DEPLOYMENT_COMPLETED`.

use super::notification::{Unread, revision_name};
use crate::event::hook_state::HookStateChange;
use crate::event::operator::{continue_command, pause_answer};
use crate::event::service_action::{ServiceAction, TASK_START_IMPAIRED};
use crate::notify::{Notification, Severity, field};
use crate::ports::{EcsDeployment, HookAction};
use crate::quote::quote;
use crate::runtime::rfc3339;
use serde_json::{Value, json};

/// How a report is filed: its `event` attribute, its severity and the verb of its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    pub event: &'static str,
    pub severity: Severity,
    pub verb: &'static str,
}

const fn filed(event: &'static str, severity: Severity, verb: &'static str) -> Filed {
    Filed { event, severity, verb }
}

/// Why a Lambda hook's success is not reported.
const HOOK_FUNCTION_SUCCEEDED: &str = "a hook function succeeded: the function reports its own verdict (the traffic gate \
     publishes gate.passed), and a deployment passes one per hooked stage: a message each would double them";
/// Why a hook that started is not reported.
const HOOK_STARTED: &str =
    "a lifecycle hook started: what becomes of it (succeeded, failed, timed out, awaiting action) is reported when ECS sends it";

/// What a hook state change reports; `Err`: why it reports nothing.
pub fn hook_report(name: &str, hook_type: &str) -> Result<Filed, String> {
    let (failed, critical) = ("deployment.hook_failed", Severity::Critical);
    match (name, hook_type) {
        (HookStateChange::AWAITING_ACTION, _) => {
            Ok(filed("deployment.hook_awaiting_action", Severity::Warning, "Deployment paused, awaiting action"))
        }
        // Every failed hook rolls the deployment back (ECS's lifecycle hook documentation); a
        // pause fails when someone answers it ROLLBACK.
        ("HOOK_FAILED", "PAUSE") => Ok(filed(failed, critical, "Deployment ROLLED BACK at its pause")),
        ("HOOK_FAILED", _) => Ok(filed(failed, critical, "Deployment hook FAILED, rolling back")),
        ("HOOK_TIMED_OUT", _) => Ok(filed("deployment.hook_timed_out", critical, "Deployment hook TIMED OUT")),
        // Someone continued a paused deployment: the answer to its awaiting-action warning.
        ("HOOK_SUCCEEDED", "PAUSE") => Ok(filed("deployment.hook_succeeded", Severity::Info, "Deployment continued")),
        ("HOOK_SUCCEEDED", _) => Err(HOOK_FUNCTION_SUCCEEDED.into()),
        ("HOOK_IN_PROGRESS", _) => Err(HOOK_STARTED.into()),
        (other, _) => Err(format!("hook event {} is not one deploy-events reports", quote(other))),
    }
}

/// What an `ECS Service Action` reports; `Err`: why it reports nothing.
pub fn service_action_report(name: &str) -> Result<Filed, String> {
    match name {
        TASK_START_IMPAIRED => Ok(filed("deployment.tasks_failing_to_start", Severity::Critical, "Tasks FAILING TO START")),
        other => Err(format!("service action {} is not one deploy-events reports (only {TASK_START_IMPAIRED})", quote(other))),
    }
}

/// What the hook's state means for the deployment, in one sentence.
fn meaning(name: &str, pause: bool) -> &'static str {
    match (name, pause) {
        (HookStateChange::AWAITING_ACTION, true) => {
            "The deployment waits at this stage until it is continued or rolled back: the traffic gate answers from its \
             evidence, unless the service names a person in deckhand:approval (then the gate asks them)."
        }
        (HookStateChange::AWAITING_ACTION, false) => "The hook waits for ContinueServiceDeployment.",
        ("HOOK_FAILED", true) => "Someone rolled the deployment back at its pause (ContinueServiceDeployment with ROLLBACK).",
        ("HOOK_FAILED", false) => {
            "The hook returned FAILED or could not run: ECS rolls the deployment back to the last successful service revision."
        }
        ("HOOK_TIMED_OUT", true) => {
            "Nobody continued or rolled back the deployment before the pause expired: ECS applies the hook's timeout action, \
             ROLLBACK unless it was set to CONTINUE."
        }
        ("HOOK_TIMED_OUT", false) => "The hook did not finish before its timeout: ECS applies the timeout action.",
        _ => "Someone continued the deployment at its pause (ContinueServiceDeployment with CONTINUE).",
    }
}

/// The service's primary revision and the one it replaces (the first ACTIVE), as DescribeServices
/// lists them: during a deployment, the revision being deployed and the one serving before it.
fn revisions(deployments: &[EcsDeployment]) -> (Option<&str>, Option<&str>) {
    let of = |status: &str| deployments.iter().find(|d| d.status == status).map(|d| revision_name(&d.task_definition));
    (of("PRIMARY"), of("ACTIVE"))
}

fn revision_lines(text: &mut String, (revision, previous): (Option<&str>, Option<&str>), unread: &[Unread]) {
    let unknown = if unread.is_empty() { "unknown (the service lists no primary deployment)" } else { "unknown" };
    text.push_str(&format!("Revision:   {}\n", field(revision.unwrap_or(unknown))));
    if let Some(previous) = previous {
        text.push_str(&format!("Previous:   {}\n", field(previous)));
    }
}

/// What continues a paused deployment, and what rolls it back: the traffic gate's operator
/// payloads, and the AWS CLI's own command.
fn how_to_answer(change: &HookStateChange, payloads: &[String; 2]) -> String {
    let command = |action: HookAction| match continue_command(change, action) {
        Some(command) => format!("  {command}\n"),
        None => "  (no command shown: the event's ids hold characters a shell would interpret)\n".to_owned(),
    };
    format!(
        "To continue, invoke the traffic-gate function (stack output TrafficGateFunctionArn) with\n  {}\nor run\n{}\
         To roll back, invoke it with\n  {}\nor run\n{}",
        payloads[0],
        command(HookAction::Continue),
        payloads[1],
        command(HookAction::Rollback)
    )
}

pub fn hook_notification(change: &HookStateChange, filed: Filed, deployments: &[EcsDeployment], unread: &[Unread]) -> Notification {
    let (cluster, service) = change.cluster_and_service();
    let pause = change.hook_type == "PAUSE";
    let awaiting = change.name == HookStateChange::AWAITING_ACTION;
    let expires_at = change.expires_at.map(rfc3339);
    let (revision, previous) = revisions(deployments);
    let payloads =
        (pause && awaiting).then(|| [pause_answer(Some(&change.hook_id), cluster, service), pause_answer(None, cluster, service)]);
    let payload_json = |i: usize| payloads.as_ref().and_then(|p| serde_json::from_str::<Value>(&p[i]).ok());
    let mut text = format!(
        "{}: ECS service {}/{}.\n\nStage:      {}\nHook:       {} ({})\n",
        filed.verb,
        field(cluster),
        field(service),
        field(&change.stage),
        field(&change.hook_id),
        field(&change.hook_type)
    );
    if let Some(at) = expires_at.as_deref().filter(|_| awaiting) {
        text.push_str(&format!("Expires:    {at}, then ECS applies the hook's timeout action\n"));
    }
    text.push_str(&format!("Deployment: {}\n", field(&change.deployment_arn)));
    revision_lines(&mut text, (revision, previous), unread);
    text.push_str(&format!("\n{}\n", meaning(&change.name, pause)));
    if let Some(payloads) = &payloads {
        text.push_str(&how_to_answer(change, payloads));
    }
    text.extend(unread.iter().map(Unread::line));
    Notification {
        event: filed.event,
        severity: filed.severity,
        subject: format!(
            "{}: {cluster}/{service}{} at {}",
            filed.verb,
            revision.map(|r| format!(" ({r})")).unwrap_or_default(),
            change.stage
        ),
        text,
        details: json!({
            "controller": "ECS",
            "event_name": change.name,
            "hook_id": change.hook_id,
            "hook_type": change.hook_type,
            "lifecycle_stage": change.stage,
            "expires_at": expires_at,
            "service_deployment_arn": change.deployment_arn,
            "service_arn": change.service_arn,
            "task_definition": revision,
            "previous_task_definition": previous,
            "continue": payload_json(0),
            "rollback": payload_json(1),
            "unread": unread,
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.to_owned()),
        project: None,
        dedup_key: change.event_id.clone(),
    }
}

pub fn service_action_notification(action: &ServiceAction, filed: Filed, deployments: &[EcsDeployment], unread: &[Unread]) -> Notification {
    let (cluster, service) = action.cluster_and_service();
    let (revision, previous) = revisions(deployments);
    let mut text = format!("{}: ECS service {}/{}.\n\nEvent:      {}\n", filed.verb, field(cluster), field(service), field(&action.name));
    revision_lines(&mut text, (revision, previous), unread);
    text.push_str(
        "\nECS cannot consistently start the service's tasks. Its events (DescribeServices) and its stopped tasks' reasons say \
         why: an image that cannot be pulled, a container that exits or fails its health check, no capacity. With the \
         deployment circuit breaker on, a deployment in progress fails once the breaker's threshold is reached.\n",
    );
    text.extend(unread.iter().map(Unread::line));
    Notification {
        event: filed.event,
        severity: filed.severity,
        subject: format!("{}: {cluster}/{service}{}", filed.verb, revision.map(|r| format!(" ({r})")).unwrap_or_default()),
        text,
        details: json!({
            "controller": "ECS",
            "event_name": action.name,
            "service_arn": action.service_arn,
            "task_definition": revision,
            "previous_task_definition": previous,
            "unread": unread,
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.to_owned()),
        project: None,
        dedup_key: action.event_id.clone(),
    }
}
