//! Lifecycle hook invocations: CodeDeploy (`{"DeploymentId", "LifecycleEventHookExecutionId"}`)
//! and ECS native blue/green (`{"executionDetails", "executionId", "lifecycleStage", "hookDetails"?}`).

use super::limits::{ARN_MAX, CODEDEPLOY_DEPLOYMENT_ID_MAX, HOOK_EXECUTION_ID_MAX, STATE_MAX, at_most};
use super::{EventError, decode_at, describe};
use crate::quote::quote;
use aws_lambda_events::event::codedeploy::CodeDeployLifecycleEvent;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum HookInvocation {
    CodeDeploy { deployment_id: String, execution_id: String },
    Ecs(EcsHook),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EcsHook {
    pub execution_id: String,
    /// As ECS sent it; the traffic gate reads it strictly (`traffic_gate::plan::ecs_stage`): an
    /// unknown stage fails the hook.
    pub stage: String,
    pub service_arn: String,
    pub target_revision: Option<String>,
    /// What this gate returned on its previous call for the same execution; from outside, so the
    /// gate decodes it strictly (`traffic_gate::carried`).
    pub hook_details: Option<Value>,
}

/// What a stage lets a reader of the hook know. The gate itself decides from
/// `traffic_gate::plan::ECS_STAGES`, which a test keeps these in line with; an unknown stage is
/// none of these.
impl EcsHook {
    /// Stages where test traffic (not production) reaches the new revision.
    pub fn is_test_stage(&self) -> bool {
        matches!(self.stage.as_str(), "TEST_TRAFFIC_SHIFT" | "POST_TEST_TRAFFIC_SHIFT" | "PRE_PRODUCTION_TRAFFIC_SHIFT")
    }

    pub fn is_production_stage(&self) -> bool {
        matches!(self.stage.as_str(), "PRODUCTION_TRAFFIC_SHIFT" | "POST_PRODUCTION_TRAFFIC_SHIFT")
    }

    /// After scale-up: the new revision's tasks exist.
    pub fn has_new_tasks(&self) -> bool {
        self.is_test_stage() || self.is_production_stage() || self.stage == "POST_SCALE_UP"
    }
}

#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    expecting = "an ECS lifecycle hook: an object with executionId, lifecycleStage, executionDetails and optional hookDetails"
)]
struct RawEcsHook {
    execution_id: String,
    lifecycle_stage: String,
    execution_details: ExecutionDetails,
    #[serde(default)]
    hook_details: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object with serviceArn and optional targetServiceRevisionArn")]
struct ExecutionDetails {
    service_arn: String,
    #[serde(default)]
    target_service_revision_arn: Option<String>,
}

pub fn decode(event: Value) -> Result<HookInvocation, EventError> {
    if event.get("LifecycleEventHookExecutionId").is_some() || event.get("DeploymentId").is_some() {
        let hook: CodeDeployLifecycleEvent = decode_at(event, "")?;
        at_most("DeploymentId", &hook.deployment_id, CODEDEPLOY_DEPLOYMENT_ID_MAX)?;
        at_most("LifecycleEventHookExecutionId", &hook.lifecycle_event_hook_execution_id, HOOK_EXECUTION_ID_MAX)?;
        return Ok(HookInvocation::CodeDeploy { deployment_id: hook.deployment_id, execution_id: hook.lifecycle_event_hook_execution_id });
    }
    if event.get("lifecycleStage").is_some() || event.get("executionDetails").is_some() {
        let hook: RawEcsHook = decode_at(event, "")?;
        at_most("executionId", &hook.execution_id, HOOK_EXECUTION_ID_MAX)?;
        at_most("lifecycleStage", &hook.lifecycle_stage, STATE_MAX)?;
        at_most("executionDetails.serviceArn", &hook.execution_details.service_arn, ARN_MAX)?;
        if let Some(revision) = &hook.execution_details.target_service_revision_arn {
            at_most("executionDetails.targetServiceRevisionArn", revision, ARN_MAX)?;
        }
        if !hook.execution_details.service_arn.contains(":service/") {
            let got = quote(&hook.execution_details.service_arn);
            return Err(EventError::field("executionDetails.serviceArn", format!("the ARN of an ECS service, got {got}")));
        }
        return Ok(HookInvocation::Ecs(EcsHook {
            execution_id: hook.execution_id,
            stage: hook.lifecycle_stage,
            service_arn: hook.execution_details.service_arn,
            target_revision: hook.execution_details.target_service_revision_arn,
            hook_details: hook.hook_details,
        }));
    }
    let got = if event.is_object() {
        "an object with neither".to_owned()
    } else {
        format!("{}: the event is not a JSON object", describe(&event))
    };
    Err(EventError::field(
        "(event)",
        format!(
            "a CodeDeploy hook {{DeploymentId, LifecycleEventHookExecutionId}} or an ECS lifecycle hook {{executionId, lifecycleStage, executionDetails}}, got {got}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_both_shapes() {
        let codedeploy = decode(json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "e-1"})).unwrap();
        assert_eq!(codedeploy, HookInvocation::CodeDeploy { deployment_id: "d-1".into(), execution_id: "e-1".into() });
        let ecs = decode(json!({
            "executionDetails": {"serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web", "targetServiceRevisionArn": "arn:r"},
            "executionId": "x-1", "lifecycleStage": "TEST_TRAFFIC_SHIFT", "hookDetails": {"probes": []}
        }))
        .unwrap();
        let HookInvocation::Ecs(hook) = ecs else { panic!() };
        assert!(hook.is_test_stage() && !hook.is_production_stage());
        assert_eq!(hook.hook_details, Some(json!({"probes": []})));
    }

    #[test]
    fn malformed_hooks_name_the_field() {
        let err = decode(json!({"DeploymentId": "d-1"})).unwrap_err().to_string();
        assert!(err.contains("LifecycleEventHookExecutionId"), "{err}");
        let err =
            decode(json!({"executionId": "x", "lifecycleStage": "TEST_TRAFFIC_SHIFT", "executionDetails": {}})).unwrap_err().to_string();
        assert!(err.contains("serviceArn"), "{err}");
        let err = decode(json!({"hello": 1})).unwrap_err().to_string();
        assert!(err.contains("CodeDeploy hook") && err.contains("ECS lifecycle hook"), "{err}");
    }

    #[test]
    fn ids_longer_than_aws_issues_are_refused_short() {
        let huge = "x".repeat(1 << 20);
        let ecs = |mutate: &dyn Fn(&mut Value)| {
            let mut event = serde_json::from_str(include_str!("../../../events/ecs-hook-test-traffic.json")).unwrap();
            mutate(&mut event);
            decode(event)
        };
        let cases = [
            ("DeploymentId", decode(json!({"DeploymentId": huge, "LifecycleEventHookExecutionId": "e-1"}))),
            ("DeploymentId", decode(json!({"DeploymentId": "d".repeat(65), "LifecycleEventHookExecutionId": "e-1"}))),
            ("LifecycleEventHookExecutionId", decode(json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": huge}))),
            ("executionId", ecs(&|e| e["executionId"] = json!(huge))),
            ("lifecycleStage", ecs(&|e| e["lifecycleStage"] = json!(huge))),
            (
                "executionDetails.serviceArn",
                ecs(&|e| e["executionDetails"]["serviceArn"] = json!(format!("arn:aws:ecs:r:1:service/{huge}"))),
            ),
            ("executionDetails.targetServiceRevisionArn", ecs(&|e| e["executionDetails"]["targetServiceRevisionArn"] = json!(huge))),
        ];
        for (field, decoded) in cases {
            let message = decoded.unwrap_err().to_string();
            assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
            assert!(message.chars().count() <= super::super::EVENT_ERROR_MAX, "{message:.300}");
        }
        // The real samples pass.
        assert!(ecs(&|_| {}).is_ok());
        assert!(decode(serde_json::from_str(include_str!("../../../events/codedeploy-hook.json")).unwrap()).is_ok());
    }
}
