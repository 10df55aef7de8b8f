//! Deployment notifications: the service, the revisions, the outcome and, on failure, the reason.

use crate::error::HandlerError;
use crate::event::deployment::{CodeDeployChange, EcsDeploymentChange};
use crate::notify::{Notification, Severity, field};
use crate::ports::{DeploymentDetails, EcsDeployment};
use crate::quote::clip;
use serde::Serialize;
use serde_json::json;

/// Longest reason quoted for a detail that could not be read (errors are one line already).
const REASON_MAX: usize = 200;

/// Details a message lacks because their lookup failed: what, and why (one short line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unread {
    pub what: &'static str,
    pub why: String,
}

impl Unread {
    /// The lookup's value; or, when it failed, `None` and a note of `what` it would have told.
    pub fn note<T>(lookup: Result<T, HandlerError>, what: &'static str, unread: &mut Vec<Unread>) -> Option<T> {
        lookup.map_err(|err| unread.push(Unread { what, why: clip(&err.to_string(), REASON_MAX) })).ok()
    }

    pub(super) fn line(&self) -> String {
        format!("Not read:   {}: {}\n", self.what, self.why)
    }
}

/// `arn:…:task-definition/web:8` → `web:8`.
pub(super) fn revision_name(arn: &str) -> &str {
    arn.rsplit_once("task-definition/").map_or(arn, |(_, name)| name)
}

/// What an ECS deployment state change reports. AWS documents a circuit-breaker failure as two
/// events: `SERVICE_DEPLOYMENT_FAILED` (`ECS deployment circuit breaker: task failed to start.`),
/// which says nothing of a rollback, and, when rollback is on, a `SERVICE_DEPLOYMENT_IN_PROGRESS`
/// of the rollback deployment whose reason reads `ECS deployment circuit breaker: rolling back to
/// deploymentId ecs-svc/…`. The first is the failure, the second the rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcsState<'a> {
    Started,
    /// A rollback deployment starting; `to`: the deployment it returns to, when the reason names it.
    RollingBack {
        to: Option<&'a str>,
    },
    Succeeded,
    Failed,
    Other,
}

impl<'a> EcsState<'a> {
    pub fn of(name: &str, reason: Option<&'a str>) -> Self {
        let rolling_back = reason.is_some_and(|r| r.to_ascii_lowercase().contains("rolling back"));
        match name {
            "SERVICE_DEPLOYMENT_IN_PROGRESS" if rolling_back => EcsState::RollingBack { to: reason.and_then(rollback_target) },
            "SERVICE_DEPLOYMENT_IN_PROGRESS" => EcsState::Started,
            "SERVICE_DEPLOYMENT_COMPLETED" => EcsState::Succeeded,
            "SERVICE_DEPLOYMENT_FAILED" => EcsState::Failed,
            _ => EcsState::Other,
        }
    }

    /// The `event` attribute, the severity and the verb of the subject.
    pub fn reported_as(self) -> (&'static str, Severity, &'static str) {
        match self {
            EcsState::Started => ("deployment.started", Severity::Info, "Deploying"),
            EcsState::RollingBack { .. } => ("deployment.rolled_back", Severity::Critical, "Deployment FAILED, rolling back"),
            EcsState::Succeeded => ("deployment.succeeded", Severity::Info, "Deployed"),
            EcsState::Failed => ("deployment.failed", Severity::Critical, "Deployment FAILED"),
            EcsState::Other => ("deployment.changed", Severity::Info, "Deployment changed"),
        }
    }
}

/// `… rolling back to deploymentId ecs-svc/1734528347392783921.` → `ecs-svc/1734528347392783921`.
fn rollback_target(reason: &str) -> Option<&str> {
    const MARKER: &str = "rolling back to deploymentid";
    // ASCII lowercasing keeps every byte offset: the marker's end is one in `reason` too.
    let start = reason.to_ascii_lowercase().find(MARKER)? + MARKER.len();
    let id = reason[start..].split_whitespace().next()?.trim_end_matches(['.', ',', ';']);
    (!id.is_empty()).then_some(id)
}

pub fn ecs_notification(change: &EcsDeploymentChange, deployments: &[EcsDeployment], unread: &[Unread]) -> Notification {
    let (cluster, service) = change.cluster_and_service();
    let state = EcsState::of(&change.name, change.reason.as_deref());
    let rollback_to = match state {
        EcsState::RollingBack { to } => to,
        _ => None,
    };
    let revision_of = |id: &str| deployments.iter().find(|d| d.id == id).map(|d| revision_name(&d.task_definition));
    // A rollback deployment runs the revision of the one it returns to.
    let target = revision_of(&change.deployment_id).or_else(|| rollback_to.and_then(revision_of));
    let previous = deployments
        .iter()
        .find(|d| d.id != change.deployment_id && Some(d.id.as_str()) != rollback_to && d.status == "ACTIVE")
        .map(|d| revision_name(&d.task_definition));
    let reason = change.reason.as_deref().unwrap_or("");
    let (event, severity, verb) = state.reported_as();
    let revision = match (target, state) {
        (Some(t), EcsState::RollingBack { .. }) => format!(" (to {t})"),
        (Some(t), _) => format!(" ({t})"),
        (None, _) => String::new(),
    };
    let mut text = format!(
        "{verb}: ECS service {}/{}.\n\nDeployment: {} ({})\n",
        field(cluster),
        field(service),
        field(&change.deployment_id),
        field(&change.name)
    );
    let unknown = if unread.is_empty() { "unknown (the service no longer lists this deployment)" } else { "unknown" };
    text.push_str(&format!("Revision:   {}\n", field(target.unwrap_or(unknown))));
    if let Some(previous) = previous {
        text.push_str(&format!("Previous:   {}\n", field(previous)));
    }
    if let Some(to) = rollback_to {
        text.push_str(&format!("Rollback:   to deployment {}\n", field(to)));
    }
    if !reason.is_empty() {
        text.push_str(&format!("Reason:     {}\n", field(reason)));
    }
    text.extend(unread.iter().map(Unread::line));
    Notification {
        event,
        severity,
        subject: format!("{verb}: {cluster}/{service}{revision}"),
        text,
        details: json!({
            "controller": "ECS",
            "deployment_id": change.deployment_id,
            "event_name": change.name,
            "task_definition": target,
            "previous_task_definition": previous,
            "reason": change.reason,
            "rollback_to": rollback_to,
            "service_arn": change.service_arn,
            "unread": unread,
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.to_owned()),
        project: None,
        dedup_key: change.event_id.clone(),
    }
}

pub fn codedeploy_notification(
    change: &CodeDeployChange,
    details: &DeploymentDetails,
    services: &[(String, String)],
    unread: &[Unread],
) -> Notification {
    let (event, severity, verb) = match change.state.as_str() {
        "START" => ("deployment.started", Severity::Info, "Blue/green deployment started"),
        "SUCCESS" => ("deployment.succeeded", Severity::Info, "Blue/green deployment succeeded"),
        "FAILURE" => ("deployment.failed", Severity::Critical, "Blue/green deployment FAILED"),
        "STOP" => ("deployment.stopped", Severity::Warning, "Blue/green deployment stopped"),
        "READY" => ("deployment.ready", Severity::Info, "Blue/green deployment ready for traffic"),
        _ => ("deployment.changed", Severity::Info, "Blue/green deployment changed"),
    };
    let (cluster, service) = services.first().map(|(c, s)| (Some(c.clone()), Some(s.clone()))).unwrap_or_default();
    let target = match (&cluster, &service) {
        (Some(c), Some(s)) => format!("{c}/{s}"),
        _ => format!("{}/{}", change.application, change.deployment_group),
    };
    let revision = details.task_definition.as_deref().map(revision_name);
    let mut text = format!(
        "{verb}: {}.\n\nDeployment: {} ({})\nGroup:      {}/{}\nRevision:   {}\n",
        field(&target),
        field(&change.deployment_id),
        field(&change.state),
        field(&change.application),
        field(&change.deployment_group),
        field(revision.unwrap_or("unknown"))
    );
    if let Some(error) = &details.error {
        text.push_str(&format!("Reason:     {}\n", field(error)));
    }
    if let Some(rollback) = &details.rollback {
        text.push_str(&format!("Rollback:   {}\n", field(rollback)));
    }
    text.extend(unread.iter().map(Unread::line));
    Notification {
        event,
        severity,
        subject: format!("{verb}: {target}{}", revision.map(|r| format!(" ({r})")).unwrap_or_default()),
        text,
        details: json!({
            "controller": "CODE_DEPLOY",
            "deployment_id": change.deployment_id,
            "state": change.state,
            "application": change.application,
            "deployment_group": change.deployment_group,
            "task_definition": details.task_definition,
            "error": details.error,
            "rollback": details.rollback,
            "unread": unread,
        }),
        cluster,
        service,
        project: None,
        dedup_key: change.event_id.clone(),
    }
}
