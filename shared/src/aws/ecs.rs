//! ECS through the SDK: services, task definitions, rolling updates.

use super::{AwsResult, Controller, EcsServices, LoadBalancer, Registered, Service, TaskDefinition, TaskDefinitions};
use crate::error::{HandlerError, aws_error};
use crate::rollout::{Container, IMAGE_TAG_LABEL, ImageUpdate};
use crate::tags;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types::{
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentControllerType, ServiceField, TaskDefinitionField,
};

#[derive(Debug, Clone)]
pub struct SdkEcs {
    client: Client,
}

impl SdkEcs {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// DescribeServices takes at most 10 services a call.
const DESCRIBE_BATCH: usize = 10;

impl EcsServices for SdkEcs {
    async fn opted_in_services(&self, cluster: &str) -> AwsResult<Vec<Service>> {
        let arns: Vec<String> = self
            .client
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|err| aws_error("ecs:ListServices", err))?;
        let mut services = Vec::new();
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let output = self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .include(ServiceField::Tags)
                .send()
                .await
                .map_err(|err| aws_error("ecs:DescribeServices", err))?;
            services.extend(output.services.unwrap_or_default().into_iter().filter_map(service_from_sdk));
        }
        Ok(services)
    }

    async fn roll_out(&self, service: &Service, task_definition: &str) -> AwsResult<String> {
        let breaker = DeploymentCircuitBreaker::builder().enable(true).rollback(true).build();
        // Keep the service's own percentages and alarms; only the circuit breaker is ours.
        let configuration = service
            .deployment_configuration
            .clone()
            .map(|mut existing| {
                existing.deployment_circuit_breaker = Some(breaker.clone());
                existing
            })
            .unwrap_or_else(|| DeploymentConfiguration::builder().deployment_circuit_breaker(breaker).build());
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

fn service_from_sdk(service: aws_sdk_ecs::types::Service) -> Option<Service> {
    let tags: std::collections::BTreeMap<String, String> = service
        .tags
        .unwrap_or_default()
        .into_iter()
        .filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default())))
        .collect();
    if !tags.contains_key(tags::TRACK) {
        return None;
    }
    let controller = match service.deployment_controller.map(|c| c.r#type) {
        Some(DeploymentControllerType::CodeDeploy) => Controller::CodeDeploy,
        Some(DeploymentControllerType::External) => Controller::External,
        _ => Controller::Ecs,
    };
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
        tags,
        load_balancers,
        deployment_configuration: service.deployment_configuration,
    })
}

impl TaskDefinitions for SdkEcs {
    async fn describe(&self, arn: &str) -> AwsResult<TaskDefinition> {
        let output = self
            .client
            .describe_task_definition()
            .task_definition(arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|err| aws_error("ecs:DescribeTaskDefinition", err))?;
        let document = output.task_definition.ok_or(HandlerError::Aws {
            operation: "ecs:DescribeTaskDefinition",
            message: format!("no task definition in the response for {arn}"),
        })?;
        Ok(task_definition_from_sdk(document, output.tags.unwrap_or_default()))
    }

    async fn register_revision(&self, source: &TaskDefinition, updates: &[ImageUpdate], pushed_tag: Option<&str>) -> AwsResult<Registered> {
        let output = revised_copy(self.client.register_task_definition(), source, updates, pushed_tag)
            .send()
            .await
            .map_err(|err| aws_error("ecs:RegisterTaskDefinition", err))?;
        let registered = output.task_definition.and_then(|td| Some(Registered { arn: td.task_definition_arn?, revision: td.revision }));
        registered.ok_or(HandlerError::Aws { operation: "ecs:RegisterTaskDefinition", message: "the response names no task definition".into() })
    }
}

fn task_definition_from_sdk(document: aws_sdk_ecs::types::TaskDefinition, tags: Vec<aws_sdk_ecs::types::Tag>) -> TaskDefinition {
    let containers = document
        .container_definitions()
        .iter()
        .filter_map(|c| Some(Container { name: c.name.clone()?, image: c.image.clone()? }))
        .collect();
    TaskDefinition {
        arn: document.task_definition_arn.clone().unwrap_or_default(),
        revision: document.revision,
        containers,
        document,
        tags,
    }
}

/// RegisterTaskDefinition input that copies every field it accepts from `source`, with the
/// updated images and the pushed tag as a docker label. Pure: nothing is sent.
/// (Inference accelerators are not carried over: Elastic Inference is retired and ECS rejects them.)
pub fn revised_copy(
    request: RegisterTaskDefinitionFluentBuilder,
    source: &TaskDefinition,
    updates: &[ImageUpdate],
    pushed_tag: Option<&str>,
) -> RegisterTaskDefinitionFluentBuilder {
    let td = &source.document;
    let containers = td
        .container_definitions
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|mut container| {
            if let Some(update) = updates.iter().find(|u| container.name.as_deref() == Some(u.container.as_str())) {
                container.image = Some(update.to.clone());
                let labels = container.docker_labels.get_or_insert_with(Default::default);
                match pushed_tag {
                    Some(tag) => labels.insert(IMAGE_TAG_LABEL.to_owned(), tag.to_owned()),
                    None => labels.remove(IMAGE_TAG_LABEL),
                };
            }
            container
        })
        .collect();
    // Tags with the reserved `aws:` prefix (e.g. CloudFormation's) cannot be set by callers.
    let tags: Vec<_> = source.tags.iter().filter(|t| !t.key().is_some_and(|k| k.to_ascii_lowercase().starts_with("aws:"))).cloned().collect();
    request
        .set_family(td.family.clone())
        .set_task_role_arn(td.task_role_arn.clone())
        .set_execution_role_arn(td.execution_role_arn.clone())
        .set_network_mode(td.network_mode.clone())
        .set_container_definitions(Some(containers))
        .set_volumes(td.volumes.clone())
        .set_placement_constraints(td.placement_constraints.clone())
        .set_requires_compatibilities(td.requires_compatibilities.clone())
        .set_cpu(td.cpu.clone())
        .set_memory(td.memory.clone())
        .set_tags((!tags.is_empty()).then_some(tags))
        .set_pid_mode(td.pid_mode.clone())
        .set_ipc_mode(td.ipc_mode.clone())
        .set_proxy_configuration(td.proxy_configuration.clone())
        .set_ephemeral_storage(td.ephemeral_storage.clone())
        .set_runtime_platform(td.runtime_platform.clone())
        .set_enable_fault_injection(td.enable_fault_injection)
}
