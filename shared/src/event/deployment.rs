//! What deploy-events receives, by detail-type: `ECS Deployment State Change`, `ECS Hook State
//! Change` and `ECS Service Action` (source `aws.ecs`), and `CodeDeploy Deployment State-change
//! Notification` (source `aws.codedeploy`).

use super::hook_state::{self, HookStateChange};
use super::limits::{
    ARN_MAX, CODEDEPLOY_DEPLOYMENT_ID_MAX, CODEDEPLOY_NAME_MAX, ECS_DEPLOYMENT_ID_MAX, ECS_NAME_MAX, EVENT_ID_MAX, STATE_MAX, at_most,
};
use super::service_action::{self, ServiceAction};
use super::{EventError, detail, detail_type, envelope};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentEvent {
    Ecs(EcsDeploymentChange),
    CodeDeploy(CodeDeployChange),
    /// A lifecycle hook of an ECS-native deployment moved.
    Hook(HookStateChange),
    /// The service scheduler's report on a service (tasks that fail to start, …).
    ServiceAction(ServiceAction),
}

impl DeploymentEvent {
    /// The EventBridge event id, which a redelivery repeats.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            DeploymentEvent::Ecs(change) => change.event_id.as_deref(),
            DeploymentEvent::CodeDeploy(change) => change.event_id.as_deref(),
            DeploymentEvent::Hook(change) => change.event_id.as_deref(),
            DeploymentEvent::ServiceAction(action) => action.event_id.as_deref(),
        }
    }

    /// The ECS service the event is about, (cluster, service); `None` for CodeDeploy, whose
    /// events name a deployment group.
    pub fn ecs_service(&self) -> Option<(&str, &str)> {
        match self {
            DeploymentEvent::Ecs(change) => Some(change.cluster_and_service()),
            DeploymentEvent::CodeDeploy(_) => None,
            DeploymentEvent::Hook(change) => Some(change.cluster_and_service()),
            DeploymentEvent::ServiceAction(action) => Some(action.cluster_and_service()),
        }
    }
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
    pub fn cluster_and_service(&self) -> (&str, &str) {
        service_names(&self.service_arn)
    }
}

/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE` → (cluster, service); the older
/// `…:service/SERVICE` is in the default cluster.
pub fn service_names(service_arn: &str) -> (&str, &str) {
    let path = service_arn.split_once(":service/").map_or("", |(_, path)| path);
    path.split_once('/').unwrap_or(("default", path))
}

/// The service ARN among an ECS event's `resources`, its names no longer than ECS allows.
pub(super) fn service_in_resources(resources: Option<&Value>) -> Result<String, EventError> {
    let service_arn = resources
        .and_then(Value::as_array)
        .and_then(|r| r.iter().filter_map(Value::as_str).find(|arn| arn.contains(":service/")))
        .ok_or_else(|| EventError::field("resources", "the ARN of the ECS service (arn:aws:ecs:…:service/CLUSTER/SERVICE)"))?;
    at_most("resources", service_arn, ARN_MAX)?;
    let (cluster, service) = service_names(service_arn);
    at_most("resources (the cluster's name)", cluster, ECS_NAME_MAX)?;
    at_most("resources (the service's name)", service, ECS_NAME_MAX)?;
    Ok(service_arn.to_owned())
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
    let kinds = [ECS_DETAIL_TYPE, CODEDEPLOY_DETAIL_TYPE, hook_state::DETAIL_TYPE, service_action::DETAIL_TYPE];
    match detail_type(&event, &kinds)? {
        hook_state::DETAIL_TYPE => hook_state::decode(event).map(DeploymentEvent::Hook),
        service_action::DETAIL_TYPE => service_action::decode(event).map(DeploymentEvent::ServiceAction),
        ECS_DETAIL_TYPE => {
            let resources = event.get("resources").cloned();
            let envelope = envelope(event, "aws.ecs", ECS_DETAIL_TYPE)?;
            let detail: EcsDetail = detail(envelope.detail)?;
            let service_arn = service_in_resources(resources.as_ref())?;
            at_most("detail.eventName", &detail.event_name, STATE_MAX)?;
            at_most("detail.deploymentId", &detail.deployment_id, ECS_DEPLOYMENT_ID_MAX)?;
            at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
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
            at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
            at_most("detail.state", &detail.state, STATE_MAX)?;
            at_most("detail.deploymentId", &detail.deployment_id, CODEDEPLOY_DEPLOYMENT_ID_MAX)?;
            at_most("detail.application", &detail.application, CODEDEPLOY_NAME_MAX)?;
            at_most("detail.deploymentGroup", &detail.deployment_group, CODEDEPLOY_NAME_MAX)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(text: &str) -> Value {
        serde_json::from_str(text).expect("a JSON sample")
    }

    #[test]
    fn ids_and_names_longer_than_aws_issues_are_refused_short() {
        let huge = "x".repeat(1 << 20);
        let ecs = || sample(include_str!("../../../events/ecs-deployment-failed.json"));
        let codedeploy = || sample(include_str!("../../../events/codedeploy-start.json"));
        let mut cases = Vec::new();
        let arn = |cluster: &str, service: &str| json!([format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{service}")]);
        for (field, path, value) in [
            ("resources (the cluster's name)", "resources", arn(&"c".repeat(256), "web")),
            ("resources (the service's name)", "resources", arn("prod", &"s".repeat(256))),
            ("resources", "resources", arn(&huge, "web")),
            ("detail.deploymentId", "detail.deploymentId", json!(huge)),
            ("detail.eventName", "detail.eventName", json!(huge)),
            ("id", "id", json!(huge)),
        ] {
            let mut event = ecs();
            match path.split_once('.') {
                Some((outer, inner)) => event[outer][inner] = value,
                None => event[path] = value,
            }
            cases.push((field.to_owned(), event));
        }
        for field in ["deploymentId", "deploymentGroup", "application", "state"] {
            let mut event = codedeploy();
            event["detail"][field] = json!(huge);
            cases.push((format!("detail.{field}"), event));
        }
        let mut event = codedeploy();
        event["detail"]["deploymentId"] = json!("d".repeat(65));
        cases.push(("detail.deploymentId".to_owned(), event));
        for (field, event) in cases {
            let message = decode(event).unwrap_err().to_string();
            assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
            assert!(message.chars().count() <= super::super::EVENT_ERROR_MAX, "{message:.300}");
        }
        // Names at AWS's limits pass.
        let mut event = ecs();
        event["resources"] = arn(&"c".repeat(255), &"s".repeat(255));
        assert!(decode(event).is_ok());
        assert!(decode(codedeploy()).is_ok());
    }
}
