//! `deploy-events`: ECS deployment state changes and CodeDeploy deployment state changes →
//! notifications naming the service, the revisions, the outcome and, on failure, the reason.

use crate::aws::codedeploy::SdkCodeDeploy;
use crate::aws::ecs::SdkEcs;
use crate::aws::sns::SdkSns;
use crate::aws::{CodeDeployments, DeploymentDetails, EcsDeployment, Notifier, ServiceDeployments};
use crate::config::DeployEventsConfig;
use crate::error::HandlerError;
use crate::event::deployment::{self, CodeDeployChange, DeploymentEvent, EcsDeploymentChange};
use crate::notify::{Notification, Severity};
use crate::outcome::{Outcome, Sent};
use crate::recent::RecentEvents;
use serde_json::{Value, json};
use tracing::info;

pub const FUNCTION: &str = "deploy-events";

pub struct DeployEvents<E, C, N> {
    config: DeployEventsConfig,
    ecs: E,
    codedeploy: C,
    notifier: N,
    recent: RecentEvents,
}

impl DeployEvents<SdkEcs, SdkCodeDeploy, SdkSns> {
    pub fn from_sdk(config: DeployEventsConfig, sdk: &aws_config::SdkConfig) -> Self {
        let notifier = SdkSns::new(aws_sdk_sns::Client::new(sdk), config.notify_topic_arn.clone());
        let ecs = SdkEcs::new(aws_sdk_ecs::Client::new(sdk));
        let codedeploy = SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk));
        Self { config, ecs, codedeploy, notifier, recent: RecentEvents::default() }
    }
}

impl<E: ServiceDeployments, C: CodeDeployments, N: Notifier> DeployEvents<E, C, N> {
    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let event = deployment::decode(event)?;
        let event_id = match &event {
            DeploymentEvent::Ecs(change) => change.event_id.clone(),
            DeploymentEvent::CodeDeploy(change) => change.event_id.clone(),
        };
        if event_id.as_deref().is_some_and(|id| self.recent.contains(id)) {
            return Ok(Outcome::ignored(FUNCTION, event_id, "duplicate delivery: this event was already reported"));
        }
        let notification = match &event {
            DeploymentEvent::Ecs(change) => {
                let (cluster, service) = change.cluster_and_service();
                if !self.watches(cluster) {
                    return Ok(self.ignored(event_id, format!("cluster {cluster} is not in CLUSTERS")));
                }
                let deployments = self.ecs.deployments_of(cluster, service).await?;
                ecs_notification(change, &deployments)
            }
            DeploymentEvent::CodeDeploy(change) => {
                let services = self.codedeploy.deployment_group(&change.application, &change.deployment_group).await?.services;
                if !services.is_empty() && !services.iter().any(|(cluster, _)| self.watches(cluster)) {
                    return Ok(
                        self.ignored(event_id, format!("deployment group {} deploys no service in CLUSTERS", change.deployment_group))
                    );
                }
                let details = self.codedeploy.deployment(&change.deployment_id).await?;
                codedeploy_notification(change, &details, &services)
            }
        };
        let message_id = self.notifier.publish(&notification).await?;
        if let Some(id) = &event_id {
            self.recent.remember(id);
        }
        let mut outcome = Outcome::new(FUNCTION, event_id);
        outcome.notification = Some(Sent::of(&notification, message_id));
        info!(outcome = %json!(outcome), "reported");
        Ok(outcome)
    }

    fn watches(&self, cluster: &str) -> bool {
        self.config.clusters.is_empty() || self.config.clusters.iter().any(|c| c == cluster || c.ends_with(&format!(":cluster/{cluster}")))
    }

    fn ignored(&self, event_id: Option<String>, reason: String) -> Outcome {
        info!(reason, "ignored");
        Outcome::ignored(FUNCTION, event_id, reason)
    }
}

/// `arn:…:task-definition/web:8` → `web:8`.
fn revision_name(arn: &str) -> &str {
    arn.rsplit_once("task-definition/").map_or(arn, |(_, name)| name)
}

pub fn ecs_notification(change: &EcsDeploymentChange, deployments: &[EcsDeployment]) -> Notification {
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
    text.push_str(&format!("Revision:   {}\n", target.unwrap_or("unknown (the service no longer lists this deployment)")));
    if let Some(previous) = previous {
        text.push_str(&format!("Previous:   {previous}\n"));
    }
    if !reason.is_empty() {
        text.push_str(&format!("Reason:     {reason}\n"));
    }
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
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.to_owned()),
        project: None,
        dedup_key: change.event_id.clone(),
    }
}

pub fn codedeploy_notification(change: &CodeDeployChange, details: &DeploymentDetails, services: &[(String, String)]) -> Notification {
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
        }),
        cluster,
        service,
        project: None,
        dedup_key: change.event_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecs_change(name: &str, reason: Option<&str>) -> EcsDeploymentChange {
        EcsDeploymentChange {
            event_id: Some("e1".into()),
            name: name.into(),
            deployment_id: "ecs-svc/2".into(),
            reason: reason.map(str::to_owned),
            service_arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
        }
    }

    fn deployments() -> Vec<EcsDeployment> {
        let td = |n| format!("arn:aws:ecs:us-east-1:123456789012:task-definition/web:{n}");
        vec![
            EcsDeployment { id: "ecs-svc/2".into(), status: "PRIMARY".into(), task_definition: td(8) },
            EcsDeployment { id: "ecs-svc/1".into(), status: "ACTIVE".into(), task_definition: td(7) },
        ]
    }

    #[test]
    fn ecs_failure_with_rollback_is_critical_and_says_why() {
        let n = ecs_notification(
            &ecs_change("SERVICE_DEPLOYMENT_FAILED", Some("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.")),
            &deployments(),
        );
        assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
        assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web (web:8)");
        assert!(n.text.contains("Previous:   web:7") && n.text.contains("circuit breaker"), "{}", n.text);
    }

    #[test]
    fn ecs_progress_without_the_deployment_listed_still_reads_well() {
        let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_COMPLETED", None), &[]);
        assert_eq!((n.event, n.severity, n.sns_subject().as_str()), ("deployment.succeeded", Severity::Info, "Deployed: prod/web"));
        assert!(n.text.contains("Revision:   unknown"));
    }

    #[test]
    fn codedeploy_failure_names_the_error_and_the_service() {
        let change = CodeDeployChange {
            event_id: None,
            state: "FAILURE".into(),
            deployment_id: "d-1".into(),
            application: "shop".into(),
            deployment_group: "web-bg".into(),
        };
        let details = DeploymentDetails {
            task_definition: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:9".into()),
            error: Some("ALARM_ACTIVE: alarm web-5xx is in ALARM".into()),
            rollback: Some("rolled back by d-2".into()),
            ..DeploymentDetails::default()
        };
        let n = codedeploy_notification(&change, &details, &[("prod".into(), "web".into())]);
        assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
        assert_eq!(n.sns_subject(), "Blue/green deployment FAILED: prod/web (web:9)");
        assert!(n.text.contains("ALARM_ACTIVE") && n.text.contains("rolled back by d-2"), "{}", n.text);
        let unknown = codedeploy_notification(&change, &DeploymentDetails::default(), &[]);
        assert_eq!(unknown.sns_subject(), "Blue/green deployment FAILED: shop/web-bg");
    }
}
