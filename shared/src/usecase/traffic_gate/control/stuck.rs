//! Stuck deployments, on a schedule: for each tracked service (`deckhand:track`) of `CLUSTERS`
//! under the ECS controller, a deployment in flight past its progress deadline, or a hook awaiting
//! action past its expiry, raises one `critical` alert — after a rollback (StopServiceDeployment)
//! when the service opted in (`deckhand:stuck-rollback` = `true`).
//!
//! Once per deployment: the rollback, then the alert, then the marker `deckhand:stuck-alerted` =
//! the deployment's id. A failed step fails the invocation; the retry (or the next run) finds the
//! deployment still stuck (or, rolled back, within `plan::OWED_HORIZON_SECONDS`) and no marker,
//! and alerts; a run after the marker sends nothing.

use super::super::TrafficGate;
use super::notification::stuck_alert;
use super::plan::{StuckCheck, progress_deadline, stuck_check};
use crate::error::HandlerError;
use crate::notify::field;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{Controller, EcsServices, NativeDeployments, Notifier, Service, ServiceCapacity};
use crate::tags;
use crate::usecase::{described, indexed_services};
use serde_json::{Value, json};
use tracing::{info, warn};

impl<C, R, E, L, A, P, N> TrafficGate<C, R, E, L, A, P, N>
where
    E: ServiceCapacity + NativeDeployments + EcsServices,
    N: Notifier,
{
    pub(in super::super) async fn stuck_deployments(&self, event: &Value) -> Result<Outcome, HandlerError> {
        let event_id = event.get("id").and_then(Value::as_str).map(|id| field(id).into_owned());
        let clusters = &self.config.control.clusters;
        if clusters.is_empty() {
            let reason = "CLUSTERS is unset: no cluster to watch for stuck deployments";
            info!(reason, "schedule ignored");
            return Ok(Outcome::ignored(super::super::FUNCTION, event_id, reason));
        }
        let mut outcome = Outcome::new(super::super::FUNCTION, event_id);
        let mut alerts = Vec::new();
        // Every tracked service is this check's work: found through the tag index, not by listing
        // each cluster's every service; described (≤ 10 a call) for its controller and tags now.
        let tracked = indexed_services(&self.ports.ecs, clusters, tags::TRACK, &mut outcome).await;
        let services = described(&self.ports.ecs, clusters, &tracked, &mut outcome).await;
        // Only the ECS controller has service deployments (CodeDeploy's are CodeDeploy's).
        for service in services.iter().filter(|s| s.controller == Controller::Ecs) {
            match self.check_service(service).await {
                Ok(StuckCheck::Fine) => {}
                Ok(check) => {
                    alerts.push(json!({"service": format!("{}/{}", service.cluster_name(), service.name), "check": check}));
                    let reason = match &check {
                        StuckCheck::Alert { why, rollback: true, .. } => format!("stuck, {why}: rolled back and alerted"),
                        StuckCheck::Alert { why, .. } => format!("stuck, {why}: alerted"),
                        _ => "stuck, and alerted before".into(),
                    };
                    let result = ResourceResult::Unchanged { reason };
                    outcome.resources.push(ResourceOutcome::service(service.cluster_name(), &service.name, result));
                }
                Err(err) => {
                    warn!(service = %service.arn, error = %err, "stuck check failed");
                    let result = ResourceResult::Failed { error: err.to_string() };
                    outcome.resources.push(ResourceOutcome::service(service.cluster_name(), &service.name, result));
                }
            }
        }
        outcome.details = Some(json!({"stuck": alerts}));
        info!(outcome = %json!(outcome), "stuck deployments checked");
        outcome.into_result()
    }

    /// One service: its deployments against its deadline; the rollback and alert it is owed.
    async fn check_service(&self, service: &Service) -> Result<StuckCheck, HandlerError> {
        let cluster = service.cluster_name();
        let deployments = self.ports.ecs.recent_deployments(cluster, &service.name).await?;
        let (deadline, note) = progress_deadline(&service.tags, self.config.control.progress_deadline_minutes);
        let check = stuck_check(&deployments, &service.tags, (self.now)(), deadline);
        let StuckCheck::Alert { deployment: arn, why, rollback, .. } = &check else { return Ok(check) };
        if *rollback {
            self.ports.ecs.stop_with_rollback(arn).await?;
        }
        let Some(deployment) = deployments.iter().find(|d| d.arn == *arn) else { return Ok(check) };
        let why = match note {
            Some(note) => format!("{why} ({note})"),
            None => why.clone(),
        };
        let alert = stuck_alert(cluster, &service.name, deployment, &why, *rollback);
        self.ports.notifier.publish(&alert).await?;
        self.ports.ecs.tag_service(&service.arn, tags::STUCK_ALERTED, super::plan::deployment_id(arn)).await?;
        Ok(check)
    }
}
