//! How long an identifier from an event may be: no longer than AWS issues it. A longer value is
//! not an id AWS sent, so the decoder rejects it (naming the field, quoting a short prefix) and
//! no 1 MB "name" reaches a log line, a reason, an outcome or a notification.

use super::EventError;
use crate::quote::quote;

/// CodeDeploy deployment ids: AWS issues `d-` and 9 characters (`d-7HXW2M1KB`; CodeDeploy API
/// reference, `DeploymentInfo.deploymentId`). The bound leaves room for a longer format (a UUID, as
/// the local AWS issues): refusing a real hook would fail a deployment, and 64 is still short.
pub const CODEDEPLOY_DEPLOYMENT_ID_MAX: usize = 64;
/// `LifecycleEventHookExecutionId` (CodeDeploy) and `executionId` (ECS): opaque tokens with no
/// documented maximum; seen at 88 (CodeDeploy, base64 of an encrypted blob) and 64 (ECS)
/// characters (`events/codedeploy-hook.json`, `events/ecs-hook-*.json`). Slack for growth.
pub const HOOK_EXECUTION_ID_MAX: usize = 1024;
/// ARNs: 1–2048 characters (IAM / ARN reference; ECS `serviceArn`, CodeBuild `build-id`).
pub const ARN_MAX: usize = 2048;
/// ECS cluster and service names: up to 255 letters, digits, hyphens and underscores
/// (ECS API reference, `CreateCluster.clusterName`, `CreateService.serviceName`).
pub const ECS_NAME_MAX: usize = 255;
/// ECS deployment ids (`ecs-svc/6920385393458432081`): no documented maximum; a name's bound.
pub const ECS_DEPLOYMENT_ID_MAX: usize = 255;
/// CodeDeploy application and deployment group names: 1–100 characters (CodeDeploy API
/// reference, `CreateApplication.applicationName`, `CreateDeploymentGroup.deploymentGroupName`).
pub const CODEDEPLOY_NAME_MAX: usize = 100;
/// CloudWatch alarm names: 1–255 characters (CloudWatch API reference, `PutMetricAlarm.AlarmName`).
pub const ALARM_NAME_MAX: usize = 255;
/// EventBridge event ids (a UUID, 36 characters; no documented maximum): generous slack.
pub const EVENT_ID_MAX: usize = 256;
/// ECR repository names: 2–256 characters (ECR API reference, `CreateRepository.repositoryName`).
pub const REPOSITORY_NAME_MAX: usize = 256;
/// ECR image tags: 1–300 characters (ECR API reference, `PutImage.imageTag`).
pub const IMAGE_TAG_MAX: usize = 300;
/// Image digests: `sha512:` and 128 hex digits at most (OCI image spec, registered algorithms).
pub const DIGEST_MAX: usize = 7 + 128;
/// CodeBuild project names: 2–255 characters (CodeBuild API reference, `CreateProject.name`).
pub const PROJECT_NAME_MAX: usize = 255;
/// States, statuses, stages and actions AWS sends from a short enumeration (`INSUFFICIENT_DATA`,
/// `SERVICE_DEPLOYMENT_IN_PROGRESS`, `PRE_PRODUCTION_TRAFFIC_SHIFT`: ≤ 32 characters).
pub const STATE_MAX: usize = 64;

/// `value`, found at `field`, if it is at most `max` characters; else an error naming the field
/// and the bound, with the value `quote`d (a short prefix and its size).
pub fn at_most(field: &str, value: &str, max: usize) -> Result<(), EventError> {
    // Bytes bound characters from above: count characters only when the bytes exceed.
    if value.len() <= max || value.chars().count() <= max {
        return Ok(());
    }
    Err(EventError::field(field, format!("at most {max} characters (as AWS issues it), got {}", quote(value))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_refused_short() {
        assert_eq!(at_most("DeploymentId", "d-7HXW2M1KB", CODEDEPLOY_DEPLOYMENT_ID_MAX), Ok(()));
        assert_eq!(at_most("name", &"é".repeat(10), 10), Ok(()), "characters, not bytes");
        let message = at_most("detail.alarmName", &"a".repeat(1 << 20), ALARM_NAME_MAX).unwrap_err().to_string();
        assert_eq!(
            message,
            format!(
                "malformed event: field `detail.alarmName`: expected at most 255 characters (as AWS issues it), got \"{}\"…(1048576 bytes)",
                "a".repeat(64)
            )
        );
    }
}
