//! Deployment notifications: the service, the revisions, the outcome and, on failure, the reason.

use crate::error::HandlerError;
use crate::event::deployment::{CodeDeployChange, EcsDeploymentChange};
use crate::notify::{Notification, Severity};
use crate::ports::{DeploymentDetails, EcsDeployment};
use serde::Serialize;
use serde_json::json;

/// Longest reason quoted for a detail that could not be read: SDK errors carry their whole chain.
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
        lookup.map_err(|err| unread.push(Unread { what, why: one_line(&err.to_string()) })).ok()
    }

    fn line(&self) -> String {
        format!("Not read:   {}: {}\n", self.what, self.why)
    }
}

/// An error as one short line. The SDK's display repeats its cause down the chain and ends in a
/// debug dump (`… (ServiceError(…))`): each part is kept once, the dump dropped, the rest cut.
fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    let is_dump =
        |i: usize| first[i + 2..].split_once('(').is_some_and(|(name, _)| !name.is_empty() && name.chars().all(char::is_alphanumeric));
    let first = first.match_indices(" (").map(|(i, _)| i).find(|&i| is_dump(i)).map_or(first, |i| &first[..i]);
    let mut parts: Vec<&str> = Vec::new();
    for part in first.split(": ").map(str::trim) {
        if part != "service error" && !parts.contains(&part) {
            parts.push(part);
        }
    }
    let line = parts.join(": ");
    match line.char_indices().nth(REASON_MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// `arn:…:task-definition/web:8` → `web:8`.
fn revision_name(arn: &str) -> &str {
    arn.rsplit_once("task-definition/").map_or(arn, |(_, name)| name)
}

pub fn ecs_notification(change: &EcsDeploymentChange, deployments: &[EcsDeployment], unread: &[Unread]) -> Notification {
    let (cluster, service) = change.cluster_and_service();
    let target = deployments.iter().find(|d| d.id == change.deployment_id).map(|d| revision_name(&d.task_definition));
    let previous =
        deployments.iter().find(|d| d.id != change.deployment_id && d.status == "ACTIVE").map(|d| revision_name(&d.task_definition));
    let reason = change.reason.as_deref().unwrap_or("");
    let rolling_back = reason.to_ascii_lowercase().contains("rolling back") || reason.to_ascii_lowercase().contains("rollback");
    let (event, severity, verb) = match change.name.as_str() {
        "SERVICE_DEPLOYMENT_IN_PROGRESS" => ("deployment.started", Severity::Info, "Deploying"),
        "SERVICE_DEPLOYMENT_COMPLETED" => ("deployment.succeeded", Severity::Info, "Deployed"),
        "SERVICE_DEPLOYMENT_FAILED" if rolling_back => ("deployment.rolled_back", Severity::Critical, "Deployment FAILED, rolling back"),
        "SERVICE_DEPLOYMENT_FAILED" => ("deployment.failed", Severity::Critical, "Deployment FAILED"),
        _ => ("deployment.changed", Severity::Info, "Deployment changed"),
    };
    let revision = target.map(|t| format!(" ({t})")).unwrap_or_default();
    let mut text = format!("{verb}: ECS service {cluster}/{service}.\n\nDeployment: {} ({})\n", change.deployment_id, change.name);
    let unknown = if unread.is_empty() { "unknown (the service no longer lists this deployment)" } else { "unknown" };
    text.push_str(&format!("Revision:   {}\n", target.unwrap_or(unknown)));
    if let Some(previous) = previous {
        text.push_str(&format!("Previous:   {previous}\n"));
    }
    if !reason.is_empty() {
        text.push_str(&format!("Reason:     {reason}\n"));
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
        "{verb}: {target}.\n\nDeployment: {} ({})\nGroup:      {}/{}\nRevision:   {}\n",
        change.deployment_id,
        change.state,
        change.application,
        change.deployment_group,
        revision.unwrap_or("unknown")
    );
    if let Some(error) = &details.error {
        text.push_str(&format!("Reason:     {error}\n"));
    }
    if let Some(rollback) = &details.rollback {
        text.push_str(&format!("Rollback:   {rollback}\n"));
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
