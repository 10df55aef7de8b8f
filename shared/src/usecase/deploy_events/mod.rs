//! `deploy-events`: ECS deployment state changes, the lifecycle hooks of ECS-native deployments,
//! services whose tasks fail to start, and CodeDeploy deployment state changes → notifications
//! naming the service, the revisions, the outcome and, on failure, the reason.

mod native;
mod notification;
#[cfg(test)]
mod tests;

pub use native::{Filed, hook_notification, hook_report, service_action_notification, service_action_report};
pub use notification::{EcsState, Unread, codedeploy_notification, ecs_notification};

use crate::config::DeployEventsConfig;
use crate::error::HandlerError;
use crate::event::deployment::{self, DeploymentEvent};
use crate::outcome::{Outcome, Sent};
use crate::ports::{CodeDeployments, EcsDeployment, Notifier, ServiceDeployments};
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

impl<E: ServiceDeployments, C: CodeDeployments, N: Notifier> DeployEvents<E, C, N> {
    pub fn new(config: DeployEventsConfig, ecs: E, codedeploy: C, notifier: N) -> Self {
        Self { config, ecs, codedeploy, notifier, recent: RecentEvents::default() }
    }

    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let event = deployment::decode(event)?;
        let event_id = event.event_id().map(str::to_owned);
        if event_id.as_deref().is_some_and(|id| self.recent.contains(id)) {
            return Ok(Outcome::ignored(FUNCTION, event_id, "duplicate delivery: this event was already reported"));
        }
        if let Some((cluster, _)) = event.ecs_service()
            && !self.watches(cluster)
        {
            return Ok(self.ignored(event_id, format!("cluster {cluster} is not in CLUSTERS")));
        }
        // The lookups only enrich the message: one that fails (a cluster or group deleted since,
        // access denied, throttling) leaves its details out and says so, and the alert goes out
        // with what the event carries. Failing the invocation instead would lose the alert:
        // every retry would fail the same way.
        let mut unread = Vec::new();
        let notification = match &event {
            DeploymentEvent::Ecs(change) => {
                let (cluster, service) = change.cluster_and_service();
                ecs_notification(change, &self.revisions(cluster, service, &mut unread).await, &unread)
            }
            DeploymentEvent::CodeDeploy(change) => {
                // The group says whether the event is ours at all (the rule matches every CodeDeploy
                // group): without it only a failure is worth an alert; anything else is retried.
                let group = match self.codedeploy.deployment_group(&change.application, &change.deployment_group).await {
                    Err(err) if !matches!(change.state.as_str(), "FAILURE" | "STOP") => return Err(err),
                    group => group,
                };
                let services =
                    Unread::note(group, "service (from the deployment group)", &mut unread).map(|g| g.services).unwrap_or_default();
                // A group that cannot be read may deploy a watched service: report it.
                if !services.is_empty() && !services.iter().any(|(cluster, _)| self.watches(cluster)) {
                    return Ok(
                        self.ignored(event_id, format!("deployment group {} deploys no service in CLUSTERS", change.deployment_group))
                    );
                }
                let details = Unread::note(self.codedeploy.deployment(&change.deployment_id).await, "revision and error", &mut unread);
                codedeploy_notification(change, &details.unwrap_or_default(), &services, &unread)
            }
            // Whether a native event is reported is decided from the event alone, before any call.
            DeploymentEvent::Hook(change) => {
                let filed = match hook_report(&change.name, &change.hook_type) {
                    Ok(filed) => filed,
                    Err(why) => return Ok(self.ignored(event_id, why)),
                };
                let (cluster, service) = change.cluster_and_service();
                hook_notification(change, filed, &self.revisions(cluster, service, &mut unread).await, &unread)
            }
            DeploymentEvent::ServiceAction(action) => {
                let filed = match service_action_report(&action.name) {
                    Ok(filed) => filed,
                    Err(why) => return Ok(self.ignored(event_id, why)),
                };
                let (cluster, service) = action.cluster_and_service();
                service_action_notification(action, filed, &self.revisions(cluster, service, &mut unread).await, &unread)
            }
        };
        let message_id = self.notifier.publish(&notification).await?;
        if let Some(id) = &event_id {
            self.recent.remember(id);
        }
        let mut outcome = Outcome::new(FUNCTION, event_id);
        outcome.notification = Some(Sent::of(&notification, message_id));
        if !unread.is_empty() {
            outcome.details = Some(json!({ "unread": unread }));
        }
        info!(outcome = %json!(outcome), "reported");
        Ok(outcome)
    }

    /// The service's deployments and their revisions; none, noted in `unread`, when they cannot be read.
    async fn revisions(&self, cluster: &str, service: &str, unread: &mut Vec<Unread>) -> Vec<EcsDeployment> {
        Unread::note(self.ecs.deployments_of(cluster, service).await, "revisions", unread).unwrap_or_default()
    }

    fn watches(&self, cluster: &str) -> bool {
        crate::config::cluster_listed(&self.config.clusters, cluster)
    }

    fn ignored(&self, event_id: Option<String>, reason: String) -> Outcome {
        info!(reason, "ignored");
        Outcome::ignored(FUNCTION, event_id, reason)
    }
}
