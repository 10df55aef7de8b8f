//! ECS-native service deployments through the SDK: ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions (the task definitions of the revisions),
//! StopServiceDeployment and ContinueServiceDeployment.

use super::aws_error;
use super::ecs::SdkEcs;
use crate::ports::{AwsResult, HookAction, LifecycleHook, NativeDeployment, NativeDeployments, RevisionShare, Strategy};
use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{DeploymentLifecycleHookAction, ServiceDeployment, ServiceRevisionSummary, StopServiceDeploymentStopType};
use std::collections::HashMap;

/// How many deployments `recent_deployments` reads: enough for the in-flight ones (ECS allows
/// five at once) and the last finished one.
const RECENT: i32 = 10;

/// DescribeServiceRevisions takes at most 20 ARNs a call.
const REVISIONS_BATCH: usize = 20;

impl NativeDeployments for SdkEcs {
    async fn recent_deployments(&self, cluster: &str, service: &str) -> AwsResult<Vec<NativeDeployment>> {
        let listed = self
            .client
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .max_results(RECENT)
            .send()
            .await
            .map_err(|err| aws_error("ecs:ListServiceDeployments", err))?;
        let arns: Vec<String> =
            listed.service_deployments.unwrap_or_default().into_iter().filter_map(|d| d.service_deployment_arn).collect();
        let mut found = self.describe_deployments(arns.clone()).await?;
        // Newest first, as listed.
        found.sort_by_key(|d| arns.iter().position(|arn| *arn == d.arn));
        Ok(found)
    }

    async fn deployment(&self, arn: &str) -> AwsResult<Option<NativeDeployment>> {
        Ok(self.describe_deployments(vec![arn.to_owned()]).await?.into_iter().next())
    }

    async fn stop_with_rollback(&self, arn: &str) -> AwsResult<()> {
        self.client
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(|err| aws_error("ecs:StopServiceDeployment", err))?;
        Ok(())
    }

    async fn continue_hook(&self, arn: &str, hook_id: &str, action: HookAction) -> AwsResult<()> {
        let action = match action {
            HookAction::Continue => DeploymentLifecycleHookAction::Continue,
            HookAction::Rollback => DeploymentLifecycleHookAction::Rollback,
        };
        self.client
            .continue_service_deployment()
            .service_deployment_arn(arn)
            .hook_id(hook_id)
            .action(action)
            .send()
            .await
            .map_err(|err| aws_error("ecs:ContinueServiceDeployment", err))?;
        Ok(())
    }
}

impl SdkEcs {
    /// The deployments, each with the task definitions of its revisions.
    async fn describe_deployments(&self, arns: Vec<String>) -> AwsResult<Vec<NativeDeployment>> {
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let described = self
            .client
            .describe_service_deployments()
            .set_service_deployment_arns(Some(arns))
            .send()
            .await
            .map_err(|err| aws_error("ecs:DescribeServiceDeployments", err))?;
        let deployments = described.service_deployments.unwrap_or_default();
        let revisions: Vec<String> = deployments
            .iter()
            .flat_map(|d| d.target_service_revision.iter().chain(d.source_service_revisions.iter().flatten()))
            .filter_map(|r| r.arn.clone())
            .collect();
        let task_definitions = self.task_definitions_of(revisions).await?;
        Ok(deployments.into_iter().filter_map(|d| native_deployment(d, &task_definitions)).collect())
    }

    /// Service revision ARN → the task definition it runs.
    async fn task_definitions_of(&self, mut revisions: Vec<String>) -> AwsResult<HashMap<String, String>> {
        revisions.sort();
        revisions.dedup();
        let mut found = HashMap::new();
        for batch in revisions.chunks(REVISIONS_BATCH) {
            let output = self
                .client
                .describe_service_revisions()
                .set_service_revision_arns(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|err| aws_error("ecs:DescribeServiceRevisions", err))?;
            for revision in output.service_revisions.unwrap_or_default() {
                if let (Some(arn), Some(task_definition)) = (revision.service_revision_arn, revision.task_definition) {
                    found.insert(arn, task_definition);
                }
            }
        }
        Ok(found)
    }
}

fn seconds(time: Option<DateTime>) -> Option<u64> {
    time.map(|t| t.secs().max(0) as u64)
}

fn share(revision: ServiceRevisionSummary, task_definitions: &HashMap<String, String>) -> Option<RevisionShare> {
    let revision_arn = revision.arn?;
    Some(RevisionShare {
        task_definition: task_definitions.get(&revision_arn).cloned(),
        revision_arn,
        production_weight: revision.requested_production_traffic_weight,
        test_weight: revision.requested_test_traffic_weight,
        running: revision.running_task_count,
        requested: revision.requested_task_count,
    })
}

fn native_deployment(d: ServiceDeployment, task_definitions: &HashMap<String, String>) -> Option<NativeDeployment> {
    let configuration = d.deployment_configuration.as_ref();
    Some(NativeDeployment {
        arn: d.service_deployment_arn?,
        service_arn: d.service_arn.unwrap_or_default(),
        status: d.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        status_reason: d.status_reason,
        strategy: configuration.and_then(|c| c.strategy.as_ref()).and_then(|s| Strategy::from_ecs(s.as_str())),
        stage: d.lifecycle_stage.map(|s| s.as_str().to_owned()),
        created_at: seconds(d.created_at),
        started_at: seconds(d.started_at),
        finished_at: seconds(d.finished_at),
        bake_minutes: configuration.and_then(|c| c.bake_time_in_minutes),
        target: d.target_service_revision.and_then(|r| share(r, task_definitions)),
        sources: d.source_service_revisions.unwrap_or_default().into_iter().filter_map(|r| share(r, task_definitions)).collect(),
        hooks: d
            .lifecycle_hook_details
            .unwrap_or_default()
            .into_iter()
            .filter_map(|h| {
                Some(LifecycleHook {
                    id: h.hook_id?,
                    target_type: h.target_type.map(|t| t.as_str().to_owned()).unwrap_or_default(),
                    status: h.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    expires_at: seconds(h.expires_at),
                    timeout_action: h.timeout_action.map(|a| a.as_str().to_owned()),
                })
            })
            .collect(),
    })
}
