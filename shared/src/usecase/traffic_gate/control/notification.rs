//! What the gate's control of ECS-native deployments tells people: an approval request for a
//! paused deployment, the gate's answer to a pause hook, a stuck deployment, an operator's action.
//! Inputs go through `notify::field`; each message has a deduplication key naming what it is about.

use super::plan::{OperatorPlan, deployment_id};
use super::request::ControlRequest;
use crate::event::hook_state::HookStateChange;
use crate::event::operator::{continue_command, pause_answer};
use crate::notify::{Notification, Severity, field};
use crate::ports::{HookAction, NativeDeployment};
use crate::runtime::rfc3339;
use crate::tags;
use serde_json::{Value, json};

/// `aws lambda invoke` of the gate with `payload`; `function` is the gate's name when known.
pub fn invoke(function: Option<&str>, payload: &str) -> String {
    format!(
        "aws lambda invoke --function-name {} --cli-binary-format raw-in-base64-out --payload '{payload}' out.json",
        function.unwrap_or("<TrafficGateFunctionName>")
    )
}

fn base(
    event: &'static str,
    severity: Severity,
    subject: String,
    text: String,
    details: Value,
    cluster: &str,
    service: &str,
) -> Notification {
    Notification {
        event,
        severity,
        subject,
        text,
        details,
        cluster: Some(cluster.to_owned()),
        service: Some(service.to_owned()),
        project: None,
        dedup_key: None,
    }
}

/// A person answers this service's pause hooks: what to invoke to continue or roll back.
pub fn approval_request(change: &HookStateChange, approver: &str, function: Option<&str>) -> Notification {
    let (cluster, service) = change.cluster_and_service();
    let payload = |hook: Option<&str>| pause_answer(hook, cluster, service);
    let ecs = |action: HookAction| {
        continue_command(change, action).unwrap_or_else(|| "(no command shown: the ids hold characters a shell would interpret)".into())
    };
    let expiry = change.expires_at.map_or_else(|| "not given".to_owned(), rfc3339);
    let text = format!(
        "Deployment {} of {cluster}/{service} is paused at {} and waits for {} ({}).\n\n\
         Continue:   {}\nRoll back:  {}\nOr in ECS:  {}\n            {}\n\n\
         Expires:    {expiry} (then ECS applies the hook's timeout action, ROLLBACK by default)\nHook:       {}\n",
        field(change.deployment_id()),
        field(&change.stage),
        field(approver),
        tags::APPROVAL,
        invoke(function, &payload(Some(&change.hook_id))),
        invoke(function, &payload(None)),
        ecs(HookAction::Continue),
        ecs(HookAction::Rollback),
        field(&change.hook_id),
    );
    let details = json!({"deployment": change.deployment_arn, "hook_id": change.hook_id, "stage": change.stage,
                         "approver": approver, "expires_at": change.expires_at});
    let subject = format!("Approval needed: {cluster}/{service} paused at {}", change.stage);
    Notification {
        dedup_key: Some(format!("pause:{}", change.hook_id)),
        ..base("native.approval_requested", Severity::Warning, subject, text, details, cluster, service)
    }
}

/// The gate's answer to a pause hook, told again by a retry that found it answered: which way
/// ECS shows it went. The same deduplication key as the answer's own notice (`gate:HOOK`).
pub fn pause_answered_again(change: &HookStateChange, rolled_back: bool) -> Notification {
    let (cluster, service) = change.cluster_and_service();
    let action = if rolled_back { HookAction::Rollback } else { HookAction::Continue };
    let text = format!(
        "Pause hook {} of deployment {} ({cluster}/{service}, {}) was answered {}.\n\
         Repeat:  sent by a retry, after the first notice of the answer failed; the answer is read back from ECS.\n",
        field(&change.hook_id),
        field(change.deployment_id()),
        field(&change.stage),
        action.as_str(),
    );
    let (event, severity) = if rolled_back { ("gate.failed", Severity::Warning) } else { ("gate.passed", Severity::Info) };
    let subject = format!("Traffic gate answered {} at {}: {cluster}/{service}", action.as_str(), change.stage);
    let details = json!({"deployment": change.deployment_arn, "hook_id": change.hook_id, "action": action, "repeat": true});
    Notification { dedup_key: Some(format!("gate:{}", change.hook_id)), ..base(event, severity, subject, text, details, cluster, service) }
}

/// A deployment stuck past its progress deadline (or at a hook past its expiry).
pub fn stuck_alert(cluster: &str, service: &str, deployment: &NativeDeployment, why: &str, rolled_back: bool) -> Notification {
    let id = deployment_id(&deployment.arn);
    let outcome = if rolled_back {
        format!("Deckhand requested its rollback (StopServiceDeployment; tag {} = true).", tags::STUCK_ROLLBACK)
    } else if deployment.advancing() {
        format!(
            "Nothing was changed: set tag {} = true to let Deckhand roll back stuck deployments, or roll back now with the gate's \
             {{\"action\": \"rollback\", \"cluster\": \"{cluster}\", \"service\": \"{service}\"}}.",
            tags::STUCK_ROLLBACK
        )
    } else {
        format!("It is {} already; nothing was changed.", deployment.status)
    };
    let stage = deployment.stage.as_deref().unwrap_or("?");
    let text = format!(
        "Deployment {} of {cluster}/{service} is stuck: {}.\n{outcome}\n\nStatus:   {} at {}\nImages:   {} -> {}\n",
        field(id),
        field(why),
        deployment.status,
        field(stage),
        field(deployment.source_task_definition().unwrap_or("?")),
        field(deployment.target_task_definition().unwrap_or("?")),
    );
    let details = json!({"deployment": deployment.arn, "why": why, "status": deployment.status, "stage": deployment.stage,
                         "rolled_back": rolled_back});
    let subject = format!("Deployment STUCK: {cluster}/{service}");
    Notification {
        dedup_key: Some(format!("stuck:{id}")),
        ..base("native.stuck", Severity::Critical, subject, text, details, cluster, service)
    }
}

/// What an operator's request changed.
pub fn operator_done(request: &ControlRequest, plan: &OperatorPlan, now: u64) -> Notification {
    let (cluster, service) = (request.cluster.as_str(), request.service.as_str());
    let (event, severity, what) = match plan {
        OperatorPlan::StopWithRollback { deployment } => {
            ("native.rolled_back", Severity::Warning, format!("stopped deployment {} with rollback", field(deployment_id(deployment))))
        }
        OperatorPlan::AnswerHook { deployment, hook_id, action } => {
            let event = if *action == HookAction::Rollback { "native.rolled_back" } else { "native.continued" };
            let what = format!("answered hook {} of deployment {} {}", field(hook_id), field(deployment_id(deployment)), action.as_str());
            (event, Severity::Warning, what)
        }
        OperatorPlan::Redeploy { task_definition, replacing } => {
            let replacing = replacing.as_deref().map(|td| format!(" in place of {}", field(td))).unwrap_or_default();
            ("native.rolled_back", Severity::Warning, format!("redeployed the previous revision {}{replacing}", field(task_definition)))
        }
        OperatorPlan::Freeze { value } => {
            ("native.frozen", Severity::Warning, format!("froze deployments ({} = {})", tags::FREEZE, field(value)))
        }
        OperatorPlan::Unfreeze { value, failover } => {
            let lifted = if *failover { ", lifting region failover's freeze" } else { "" };
            ("native.unfrozen", Severity::Warning, format!("lifted the freeze {}{lifted}", field(value)))
        }
        OperatorPlan::Status | OperatorPlan::Nothing { .. } => ("native.operator", Severity::Info, "changed nothing".to_owned()),
    };
    let text = format!("An operator {what} on {cluster}/{service} through the traffic gate ({}).\n", request.action.as_str());
    let subject = format!("Operator {}: {cluster}/{service}", request.action.as_str());
    let details = json!({"request": request, "plan": plan});
    Notification {
        dedup_key: Some(format!("operator:{}:{cluster}/{service}:{now}", request.action.as_str())),
        ..base(event, severity, subject, text, details, cluster, service)
    }
}
