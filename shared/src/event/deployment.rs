//! Deployment state changes: `ECS Deployment State Change` (source `aws.ecs`) and
//! `CodeDeploy Deployment State-change Notification` (source `aws.codedeploy`).

use super::{EventError, detail, detail_type, envelope};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentEvent {
    Ecs(EcsDeploymentChange),
    CodeDeploy(CodeDeployChange),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsDeploymentChange {
    pub event_id: Option<String>,
    /// SERVICE_DEPLOYMENT_IN_PROGRESS, SERVICE_DEPLOYMENT_COMPLETED or SERVICE_DEPLOYMENT_FAILED.
    pub name: String,
    pub deployment_id: String,
    pub reason: Option<String>,
    pub service_arn: String,
}

impl EcsDeploymentChange {
    /// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE` → (cluster, service).
    pub fn cluster_and_service(&self) -> (&str, &str) {
        let path = self.service_arn.split_once(":service/").map_or("", |(_, path)| path);
        path.split_once('/').unwrap_or(("", path))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDeployChange {
    pub event_id: Option<String>,
    /// START, SUCCESS, FAILURE, STOP, READY.
    pub state: String,
    pub deployment_id: String,
    pub application: String,
    pub deployment_group: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object with eventName, deploymentId and optional reason")]
struct EcsDetail {
    event_name: String,
    deployment_id: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object with state, deploymentId, application and deploymentGroup")]
struct CodeDeployDetail {
    state: String,
    deployment_id: String,
    application: String,
    deployment_group: String,
}

pub const ECS_DETAIL_TYPE: &str = "ECS Deployment State Change";
pub const CODEDEPLOY_DETAIL_TYPE: &str = "CodeDeploy Deployment State-change Notification";

pub fn decode(event: Value) -> Result<DeploymentEvent, EventError> {
    match detail_type(&event, &[ECS_DETAIL_TYPE, CODEDEPLOY_DETAIL_TYPE])? {
        ECS_DETAIL_TYPE => {
            let resources = event.get("resources").cloned();
            let envelope = envelope(event, "aws.ecs", ECS_DETAIL_TYPE)?;
            let detail: EcsDetail = detail(envelope.detail)?;
            let service_arn = resources
                .as_ref()
                .and_then(Value::as_array)
                .and_then(|r| r.iter().filter_map(Value::as_str).find(|arn| arn.contains(":service/")))
                .ok_or_else(|| EventError::field("resources", "the ARN of the ECS service (arn:aws:ecs:…:service/CLUSTER/SERVICE)"))?
                .to_owned();
            Ok(DeploymentEvent::Ecs(EcsDeploymentChange {
                event_id: envelope.id,
                name: detail.event_name,
                deployment_id: detail.deployment_id,
                reason: detail.reason,
                service_arn,
            }))
        }
        // The only other detail-type `detail_type` lets through.
        _ => {
            let envelope = envelope(event, "aws.codedeploy", CODEDEPLOY_DETAIL_TYPE)?;
            let detail: CodeDeployDetail = detail(envelope.detail)?;
            Ok(DeploymentEvent::CodeDeploy(CodeDeployChange {
                event_id: envelope.id,
                state: detail.state,
                deployment_id: detail.deployment_id,
                application: detail.application,
                deployment_group: detail.deployment_group,
            }))
        }
    }
}
