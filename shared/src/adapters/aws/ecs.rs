//! ECS through the SDK: services (found through the tag index, `tag_index`), their capacity and
//! tags, rolling updates. Task definitions are in `task_definitions`.

use super::{Remembered, aws_error};
use crate::error::HandlerError;
use crate::ports::{
    AwsResult, Capacity, Controller, EcsDeployment, EcsServices, IndexedService, LoadBalancer, Service, ServiceCapacity,
    ServiceDeployments, Shift, Strategy,
};
use crate::tags;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentControllerType, DeploymentStrategy,
    LinearConfiguration, ServiceField,
};
use std::sync::Arc;

/// Documents kept per adapter: enough for the services and revisions of one busy event.
const REMEMBERED: usize = 512;

#[derive(Debug, Clone)]
pub struct SdkEcs {
    pub(super) client: Client,
    /// The tag index (`tag_index`): which services carry a tag, without listing every cluster.
    pub(super) index: aws_sdk_resourcegroupstagging::Client,
    /// Each service's deployment configuration as last described, carried into `UpdateService`.
    deployment_configurations: Arc<Remembered<DeploymentConfiguration>>,
    /// Task-definition revisions as described or registered, with their tags: a revision never
    /// changes, so the process's later invocations read it from here (`task_definitions`).
    pub(super) task_definitions: Arc<Remembered<super::task_definitions::Described>>,
}

impl SdkEcs {
    pub fn new(client: Client, index: aws_sdk_resourcegroupstagging::Client) -> Self {
        Self {
            client,
            index,
            deployment_configurations: Arc::new(Remembered::new(REMEMBERED)),
            task_definitions: Arc::new(Remembered::new(REMEMBERED)),
        }
    }
}

/// DescribeServices takes at most 10 services a call.
const DESCRIBE_BATCH: usize = 10;

impl EcsServices for SdkEcs {
    async fn services_tagged(&self, key: &str) -> AwsResult<Vec<IndexedService>> {
        self.indexed_services(key).await
    }

    async fn tracked_services(&self, cluster: &str, services: &[String]) -> AwsResult<Vec<Service>> {
        let mut tracked = Vec::new();
        for batch in services.chunks(DESCRIBE_BATCH) {
            let output = self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .include(ServiceField::Tags)
                .send()
                .await
                .map_err(|err| aws_error("ecs:DescribeServices", err))?;
            // A service that does not exist comes back as a failure, a deleted one INACTIVE: neither is tracked.
            for found in output.services.unwrap_or_default().into_iter().filter(|s| s.status.as_deref() != Some("INACTIVE")) {
                if let (Some(arn), Some(configuration)) = (&found.service_arn, &found.deployment_configuration) {
                    self.deployment_configurations.keep(arn, configuration.clone());
                }
                tracked.extend(service_from_sdk(found));
            }
        }
        Ok(tracked)
    }

    async fn roll_out(&self, service: &Service, task_definition: &str, shift: Option<&Shift>) -> AwsResult<String> {
        let breaker = DeploymentCircuitBreaker::builder().enable(true).rollback(true).build();
        // Keep the service's own strategy, bake time, hooks, percentages and alarms; the circuit
        // breaker is ours, and `shift` (the service's `deckhand:shift` tag) goes over the rest.
        let mut configuration =
            self.deployment_configurations.get(&service.arn).unwrap_or_else(|| DeploymentConfiguration::builder().build());
        configuration.deployment_circuit_breaker = Some(breaker);
        if let Some(shift) = shift {
            apply_shift(&mut configuration, shift);
        }
        let output = self
            .client
            .update_service()
            .cluster(&service.cluster_arn)
            .service(&service.arn)
            .task_definition(task_definition)
            .deployment_configuration(configuration)
            .send()
            .await
            .map_err(|err| aws_error("ecs:UpdateService", err))?;
        let deployments = output.service.and_then(|s| s.deployments).unwrap_or_default();
        let id = deployments
            .iter()
            .find(|d| d.task_definition.as_deref() == Some(task_definition))
            .or_else(|| deployments.iter().find(|d| d.status.as_deref() == Some("PRIMARY")))
            .and_then(|d| d.id.clone());
        id.ok_or(HandlerError::Aws { operation: "ecs:UpdateService", message: "the response names no deployment".into() })
    }
}

impl SdkEcs {
    /// One service, with its tags; `None` when DescribeServices lists none.
    async fn describe_service(&self, cluster: &str, service: &str) -> AwsResult<Option<aws_sdk_ecs::types::Service>> {
        let output = self
            .client
            .describe_services()
            .cluster(cluster)
            .services(service)
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|err| aws_error("ecs:DescribeServices", err))?;
        Ok(output.services.unwrap_or_default().into_iter().next())
    }
}

impl ServiceDeployments for SdkEcs {
    async fn deployments_of(&self, cluster: &str, service: &str) -> AwsResult<Vec<EcsDeployment>> {
        let deployments = self.describe_service(cluster, service).await?.and_then(|s| s.deployments).unwrap_or_default();
        Ok(deployments
            .into_iter()
            .filter_map(|d| Some(EcsDeployment { id: d.id?, status: d.status.unwrap_or_default(), task_definition: d.task_definition? }))
            .collect())
    }
}

impl ServiceCapacity for SdkEcs {
    async fn capacity(&self, cluster: &str, service: &str) -> AwsResult<Option<Capacity>> {
        let Some(found) = self.describe_service(cluster, service).await?.filter(|s| s.status.as_deref() == Some("ACTIVE")) else {
            return Ok(None);
        };
        Ok(Some(Capacity {
            arn: found.service_arn.unwrap_or_default(),
            cluster_arn: found.cluster_arn.unwrap_or_default(),
            name: found.service_name.unwrap_or_default(),
            desired: found.desired_count,
            running: found.running_count,
            controller: controller_of(found.deployment_controller.as_ref()),
            strategy: strategy_of(found.deployment_configuration.as_ref()),
            tags: tag_map(found.tags.unwrap_or_default()),
            deployments: found.deployments.map_or(0, |d| d.len()),
            task_sets: found.task_sets.map_or(0, |t| t.iter().filter(|t| t.status.as_deref() != Some("DRAINING")).count()),
            target_group: found.load_balancers.iter().flatten().find_map(|lb| lb.target_group_arn.clone()),
            alternate_target_group: found
                .load_balancers
                .unwrap_or_default()
                .into_iter()
                .find_map(|lb| lb.advanced_configuration.and_then(|c| c.alternate_target_group_arn)),
        }))
    }

    async fn tag_service(&self, service_arn: &str, key: &str, value: &str) -> AwsResult<()> {
        let tag = aws_sdk_ecs::types::Tag::builder().key(key).value(value).build();
        self.client.tag_resource().resource_arn(service_arn).tags(tag).send().await.map_err(|err| aws_error("ecs:TagResource", err))?;
        Ok(())
    }

    async fn untag_service(&self, service_arn: &str, key: &str) -> AwsResult<()> {
        self.client
            .untag_resource()
            .resource_arn(service_arn)
            .tag_keys(key)
            .send()
            .await
            .map_err(|err| aws_error("ecs:UntagResource", err))?;
        Ok(())
    }

    async fn set_desired_count(&self, cluster: &str, service: &str, desired: i32) -> AwsResult<()> {
        self.client
            .update_service()
            .cluster(cluster)
            .service(service)
            .desired_count(desired)
            .send()
            .await
            .map_err(|err| aws_error("ecs:UpdateService", err))?;
        Ok(())
    }
}

/// `shift` over a service's deployment configuration: the strategy, and the step or canary and
/// the bake times the strategy reads (ECS refuses a linear configuration on a canary).
fn apply_shift(configuration: &mut DeploymentConfiguration, shift: &Shift) {
    let strategy = shift.strategy.unwrap_or_else(|| strategy_of(Some(configuration)));
    configuration.strategy = Some(DeploymentStrategy::from(strategy.as_str()));
    if shift.bake_minutes.is_some() {
        configuration.bake_time_in_minutes = shift.bake_minutes;
    }
    match strategy {
        Strategy::Linear => {
            let current = configuration.linear_configuration.take();
            configuration.linear_configuration = Some(
                LinearConfiguration::builder()
                    .set_step_percent(shift.percent.or(current.as_ref().and_then(|c| c.step_percent)))
                    .set_step_bake_time_in_minutes(shift.step_bake_minutes.or(current.and_then(|c| c.step_bake_time_in_minutes)))
                    .build(),
            );
            configuration.canary_configuration = None;
        }
        Strategy::Canary => {
            let current = configuration.canary_configuration.take();
            configuration.canary_configuration = Some(
                CanaryConfiguration::builder()
                    .set_canary_percent(shift.percent.or(current.as_ref().and_then(|c| c.canary_percent)))
                    .set_canary_bake_time_in_minutes(shift.step_bake_minutes.or(current.and_then(|c| c.canary_bake_time_in_minutes)))
                    .build(),
            );
            configuration.linear_configuration = None;
        }
        Strategy::BlueGreen | Strategy::Rolling => {
            configuration.linear_configuration = None;
            configuration.canary_configuration = None;
        }
    }
}

/// A service's strategy; ROLLING when it names none (what ECS assumes).
fn strategy_of(configuration: Option<&DeploymentConfiguration>) -> Strategy {
    configuration.and_then(|c| c.strategy.as_ref()).and_then(|s| Strategy::from_ecs(s.as_str())).unwrap_or_default()
}

fn tag_map(tags: Vec<aws_sdk_ecs::types::Tag>) -> std::collections::BTreeMap<String, String> {
    tags.into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect()
}

fn controller_of(controller: Option<&aws_sdk_ecs::types::DeploymentController>) -> Controller {
    match controller.map(|c| &c.r#type) {
        Some(DeploymentControllerType::CodeDeploy) => Controller::CodeDeploy,
        Some(DeploymentControllerType::External) => Controller::External,
        _ => Controller::Ecs,
    }
}

fn service_from_sdk(service: aws_sdk_ecs::types::Service) -> Option<Service> {
    let tags = tag_map(service.tags.unwrap_or_default());
    if !tags.contains_key(tags::TRACK) {
        return None;
    }
    let controller = controller_of(service.deployment_controller.as_ref());
    let strategy = strategy_of(service.deployment_configuration.as_ref());
    let load_balancers = service
        .load_balancers
        .unwrap_or_default()
        .into_iter()
        .filter_map(|lb| Some(LoadBalancer { container_name: lb.container_name?, container_port: lb.container_port? }))
        .collect();
    Some(Service {
        arn: service.service_arn?,
        name: service.service_name?,
        cluster_arn: service.cluster_arn?,
        task_definition: service.task_definition?,
        controller,
        strategy,
        tags,
        load_balancers,
    })
}
