//! CodeDeploy blue/green deployments of ECS services through the SDK.

use super::aws_error;
use crate::error::HandlerError;
use crate::ports::{
    ActiveDeployment, AwsResult, BlueGreenRequest, CodeDeployments, DeploymentDetails, DeploymentGroup, HookReporter, Reported,
};
use crate::usecase::image_pushed::plan::task_definition_in_appspec;
use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{AppSpecContent, DeploymentStatus, LifecycleEventStatus, RevisionLocation, RevisionLocationType};
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
            application: info.application_name.unwrap_or_default(),
            deployment_group: info.deployment_group_name.unwrap_or_default(),
            task_definition: content.as_deref().and_then(task_definition_in_appspec).map(str::to_owned),
            error,
            rollback: info.rollback_info.and_then(|r| r.rollback_message),
        })
    }

    async fn deployment_group(&self, application: &str, group: &str) -> AwsResult<DeploymentGroup> {
        let output = self
            .client
            .get_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
            .map_err(|err| aws_error("codedeploy:GetDeploymentGroup", err))?;
        let Some(info) = output.deployment_group_info else { return Ok(DeploymentGroup::default()) };
        let services = info.ecs_services.unwrap_or_default().into_iter().filter_map(|s| Some((s.cluster_name?, s.service_name?))).collect();
        let pairs = info.load_balancer_info.and_then(|lb| lb.target_group_pair_info_list).unwrap_or_default();
        let listeners = |route: Option<aws_sdk_codedeploy::types::TrafficRoute>| route.and_then(|r| r.listener_arns).unwrap_or_default();
        let (mut production_listeners, mut test_listeners) = (Vec::new(), Vec::new());
        for pair in pairs {
            production_listeners.extend(listeners(pair.prod_traffic_route));
            test_listeners.extend(listeners(pair.test_traffic_route));
        }
        Ok(DeploymentGroup { services, production_listeners, test_listeners })
    }

    async fn stop_deployment(&self, id: &str) -> AwsResult<()> {
        self.client
            .stop_deployment()
            .deployment_id(id)
            .auto_rollback_enabled(true)
            .send()
            .await
            .map_err(|err| aws_error("codedeploy:StopDeployment", err))?;
        Ok(())
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
            .set_deployment_config_name(request.deployment_config.map(str::to_owned))
            .description(&request.description)
            .send()
            .await
            .map_err(|err| {
                // One active deployment per group: the caller may wait for the stopped one to end.
                let busy = err.as_service_error().is_some_and(|e| e.is_deployment_limit_exceeded_exception());
                let error = aws_error("codedeploy:CreateDeployment", err);
                if busy { HandlerError::Busy(Box::new(error)) } else { error }
            })?;
        output
            .deployment_id
            .ok_or(HandlerError::Aws { operation: "codedeploy:CreateDeployment", message: "the response names no deployment".into() })
    }
}

impl HookReporter for SdkCodeDeploy {
    async fn report(&self, deployment_id: &str, execution_id: &str, succeeded: bool) -> AwsResult<Reported> {
        let status = if succeeded { LifecycleEventStatus::Succeeded } else { LifecycleEventStatus::Failed };
        let sent = self
            .client
            .put_lifecycle_event_hook_execution_status()
            .deployment_id(deployment_id)
            .lifecycle_event_hook_execution_id(execution_id)
            .status(status)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Reported::Accepted),
            // A retry of a hook whose report arrived before: the hook is answered, so this is done.
            Err(err) if err.as_service_error().is_some_and(|e| e.is_lifecycle_event_already_completed_exception()) => {
                Ok(Reported::AlreadyCompleted)
            }
            Err(err) => Err(aws_error("codedeploy:PutLifecycleEventHookExecutionStatus", err)),
        }
    }
}
