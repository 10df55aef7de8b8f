//! Lifecycle hook invocations: CodeDeploy (`{"DeploymentId", "LifecycleEventHookExecutionId"}`)
//! and ECS native blue/green (`{"executionDetails", "executionId", "lifecycleStage", "hookDetails"?}`).

use super::{EventError, decode_at};
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
    /// PRE_SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT,
    /// PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, RECONCILE_SERVICE.
    pub stage: String,
    pub service_arn: String,
    pub target_revision: Option<String>,
    /// What this gate returned on its previous call for the same execution.
    pub hook_details: Option<Value>,
}

impl EcsHook {
    /// Stages where test traffic (not production) reaches the new revision.
    pub fn is_test_stage(&self) -> bool {
        matches!(self.stage.as_str(), "TEST_TRAFFIC_SHIFT" | "POST_TEST_TRAFFIC_SHIFT")
    }

    pub fn is_production_stage(&self) -> bool {
        matches!(self.stage.as_str(), "PRODUCTION_TRAFFIC_SHIFT" | "POST_PRODUCTION_TRAFFIC_SHIFT")
    }

    /// Before scale-up there are no new tasks to look at.
    pub fn has_new_tasks(&self) -> bool {
        self.stage != "PRE_SCALE_UP"
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEcsHook {
    execution_id: String,
    lifecycle_stage: String,
    execution_details: ExecutionDetails,
    #[serde(default)]
    hook_details: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionDetails {
    service_arn: String,
    #[serde(default)]
    target_service_revision_arn: Option<String>,
}

pub fn decode(event: Value) -> Result<HookInvocation, EventError> {
    if event.get("LifecycleEventHookExecutionId").is_some() || event.get("DeploymentId").is_some() {
        let hook: CodeDeployLifecycleEvent = decode_at(event, "")?;
        return Ok(HookInvocation::CodeDeploy { deployment_id: hook.deployment_id, execution_id: hook.lifecycle_event_hook_execution_id });
    }
    if event.get("lifecycleStage").is_some() || event.get("executionDetails").is_some() {
        let hook: RawEcsHook = decode_at(event, "")?;
        if !hook.execution_details.service_arn.contains(":service/") {
            return Err(EventError::field("executionDetails.serviceArn", "the ARN of an ECS service"));
        }
        return Ok(HookInvocation::Ecs(EcsHook {
            execution_id: hook.execution_id,
            stage: hook.lifecycle_stage,
            service_arn: hook.execution_details.service_arn,
            target_revision: hook.execution_details.target_service_revision_arn,
            hook_details: hook.hook_details,
        }));
    }
    Err(EventError::field(
        "(event)",
        "a CodeDeploy hook {DeploymentId, LifecycleEventHookExecutionId} or an ECS lifecycle hook {executionId, lifecycleStage, executionDetails}",
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
}
