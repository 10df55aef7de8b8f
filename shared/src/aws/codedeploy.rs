//! CodeDeploy blue/green deployments of ECS services through the SDK.

use super::{ActiveDeployment, AwsResult, BlueGreenRequest, CodeDeployments, DeploymentDetails};
use crate::error::{HandlerError, aws_error};
use crate::rollout::task_definition_in_appspec;
use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{AppSpecContent, DeploymentStatus, RevisionLocation, RevisionLocationType};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct SdkCodeDeploy {
    client: Client,
}

impl SdkCodeDeploy {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// The statuses of a deployment that has not ended.
fn active_statuses() -> Vec<DeploymentStatus> {
    vec![
        DeploymentStatus::Created,
        DeploymentStatus::Queued,
        DeploymentStatus::InProgress,
        DeploymentStatus::Baking,
        DeploymentStatus::Ready,
    ]
}

/// The AppSpec of an ECS blue/green deployment.
pub fn appspec(request: &BlueGreenRequest<'_>) -> String {
    json!({
        "version": 0.0,
        "Resources": [{
            "TargetService": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "TaskDefinition": request.task_definition,
                    "LoadBalancerInfo": {"ContainerName": request.container_name, "ContainerPort": request.container_port},
                },
            },
        }],
    })
    .to_string()
}

impl CodeDeployments for SdkCodeDeploy {
    async fn deployment(&self, id: &str) -> AwsResult<DeploymentDetails> {
        let output =
            self.client.get_deployment().deployment_id(id).send().await.map_err(|err| aws_error("codedeploy:GetDeployment", err))?;
        let Some(info) = output.deployment_info else { return Ok(DeploymentDetails::default()) };
        let content = info.revision.and_then(|r| r.app_spec_content).and_then(|spec| spec.content);
        let error = info.error_information.map(|e| {
            let code = e.code.map(|c| c.as_str().to_owned()).unwrap_or_default();
            format!("{code}: {}", e.message.unwrap_or_default()).trim_start_matches(": ").to_owned()
        });
        Ok(DeploymentDetails {
            task_definition: content.as_deref().and_then(task_definition_in_appspec).map(str::to_owned),
            error,
            rollback: info.rollback_info.and_then(|r| r.rollback_message),
        })
    }

    async fn group_services(&self, application: &str, group: &str) -> AwsResult<Vec<(String, String)>> {
        let output = self
            .client
            .get_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
            .map_err(|err| aws_error("codedeploy:GetDeploymentGroup", err))?;
        let services = output.deployment_group_info.and_then(|g| g.ecs_services).unwrap_or_default();
        Ok(services.into_iter().filter_map(|s| Some((s.cluster_name?, s.service_name?))).collect())
    }

    async fn active_deployment(&self, application: &str, group: &str) -> AwsResult<Option<ActiveDeployment>> {
        let listed = self
            .client
            .list_deployments()
            .application_name(application)
            .deployment_group_name(group)
            .set_include_only_statuses(Some(active_statuses()))
            .send()
            .await
            .map_err(|err| aws_error("codedeploy:ListDeployments", err))?;
        // CodeDeploy allows one active deployment per group.
        let Some(id) = listed.deployments.unwrap_or_default().into_iter().next() else { return Ok(None) };
        let info = self
            .client
            .get_deployment()
            .deployment_id(&id)
            .send()
            .await
            .map_err(|err| aws_error("codedeploy:GetDeployment", err))?
            .deployment_info;
        let content = info.and_then(|info| info.revision).and_then(|revision| revision.app_spec_content).and_then(|spec| spec.content);
        let task_definition = content.as_deref().and_then(task_definition_in_appspec).map(str::to_owned);
        Ok(Some(ActiveDeployment { id, task_definition }))
    }

    async fn create_deployment(&self, request: &BlueGreenRequest<'_>) -> AwsResult<String> {
        let revision = RevisionLocation::builder()
            .revision_type(RevisionLocationType::AppSpecContent)
            .app_spec_content(AppSpecContent::builder().content(appspec(request)).build())
            .build();
        let output = self
            .client
            .create_deployment()
            .application_name(request.application)
            .deployment_group_name(request.deployment_group)
            .revision(revision)
            .description(&request.description)
            .send()
            .await
            .map_err(|err| aws_error("codedeploy:CreateDeployment", err))?;
        output
            .deployment_id
            .ok_or(HandlerError::Aws { operation: "codedeploy:CreateDeployment", message: "the response names no deployment".into() })
    }
}
