//! ECS through the SDK: services, task definitions, rolling updates.

use super::{
    AwsResult, Capacity, Controller, EcsDeployment, EcsServices, LoadBalancer, Registered, Service, ServiceCapacity, ServiceDeployments,
    TaskDefinition, TaskDefinitions,
};
use crate::error::{HandlerError, aws_error};
use crate::rollout::{Container, IMAGE_TAG_LABEL, ImageUpdate};
use crate::tags;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types::{DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentControllerType, ServiceField, TaskDefinitionField};

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
            tags: tag_map(found.tags.unwrap_or_default()),
            deployments: found.deployments.map_or(0, |d| d.len()),
            task_sets: found.task_sets.map_or(0, |t| t.iter().filter(|t| t.status.as_deref() != Some("DRAINING")).count()),
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
        registered
            .ok_or(HandlerError::Aws { operation: "ecs:RegisterTaskDefinition", message: "the response names no task definition".into() })
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
    let tags: Vec<_> =
        source.tags.iter().filter(|t| !t.key().is_some_and(|k| k.to_ascii_lowercase().starts_with("aws:"))).cloned().collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::config::{BehaviorVersion, Region};
    use aws_sdk_ecs::types::{
        Compatibility, ContainerDefinition, CpuArchitecture, EphemeralStorage, HealthCheck, IpcMode, KeyValuePair, LogConfiguration,
        LogDriver, NetworkMode, OsFamily, PidMode, ProxyConfiguration, RuntimePlatform, Secret, Tag, TaskDefinitionPlacementConstraint,
        TaskDefinitionPlacementConstraintType, Volume,
    };

    const OLD: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1";
    const NEW: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:2222";

    /// A client that is never sent anything: only its request builders are used.
    fn offline_client() -> Client {
        Client::from_conf(
            aws_sdk_ecs::Config::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build(),
        )
    }

    fn container(name: &str, image: &str) -> ContainerDefinition {
        ContainerDefinition::builder()
            .name(name)
            .image(image)
            .essential(true)
            .environment(KeyValuePair::builder().name("MODE").value("prod").build())
            .secrets(
                Secret::builder()
                    .name("DB_PASSWORD")
                    .value_from("arn:aws:secretsmanager:us-east-1:123456789012:secret:db")
                    .build()
                    .unwrap(),
            )
            .log_configuration(
                LogConfiguration::builder().log_driver(LogDriver::Awslogs).options("awslogs-group", "/ecs/web").build().unwrap(),
            )
            .health_check(HealthCheck::builder().command("CMD-SHELL").command("curl -f localhost/health").build().unwrap())
            .docker_labels("team", "shop")
            .build()
    }

    fn source() -> TaskDefinition {
        let document = aws_sdk_ecs::types::TaskDefinition::builder()
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")
            .revision(7)
            .family("web")
            .task_role_arn("arn:aws:iam::123456789012:role/web-task")
            .execution_role_arn("arn:aws:iam::123456789012:role/web-exec")
            .network_mode(NetworkMode::Awsvpc)
            .container_definitions(container("web", OLD))
            .container_definitions(container("envoy", "public.ecr.aws/appmesh/aws-appmesh-envoy:v1"))
            .volumes(Volume::builder().name("data").build())
            .placement_constraints(
                TaskDefinitionPlacementConstraint::builder()
                    .r#type(TaskDefinitionPlacementConstraintType::MemberOf)
                    .expression("attribute:ecs.os-type == linux")
                    .build(),
            )
            .requires_compatibilities(Compatibility::Fargate)
            .compatibilities(Compatibility::Ec2)
            .cpu("256")
            .memory("512")
            .pid_mode(PidMode::Task)
            .ipc_mode(IpcMode::None)
            .proxy_configuration(ProxyConfiguration::builder().container_name("envoy").build().unwrap())
            .ephemeral_storage(EphemeralStorage::builder().size_in_gib(30).build())
            .runtime_platform(
                RuntimePlatform::builder().cpu_architecture(CpuArchitecture::Arm64).operating_system_family(OsFamily::Linux).build(),
            )
            .enable_fault_injection(true)
            .build();
        let tags = vec![
            Tag::builder().key("team").value("shop").build(),
            Tag::builder().key("aws:cloudformation:stack-name").value("web").build(),
        ];
        task_definition_from_sdk(document, tags)
    }

    fn update() -> ImageUpdate {
        ImageUpdate { container: "web".into(), from: OLD.into(), to: NEW.into() }
    }

    #[test]
    fn copy_carries_every_field_and_changes_only_the_image() {
        let source = source();
        let td = &source.document;
        let request = revised_copy(offline_client().register_task_definition(), &source, &[update()], Some("v2"));
        let input = request.as_input();
        assert_eq!(input.get_family(), &td.family);
        assert_eq!(input.get_task_role_arn(), &td.task_role_arn);
        assert_eq!(input.get_execution_role_arn(), &td.execution_role_arn);
        assert_eq!(input.get_network_mode(), &td.network_mode);
        assert_eq!(input.get_volumes(), &td.volumes);
        assert_eq!(input.get_placement_constraints(), &td.placement_constraints);
        assert_eq!(input.get_requires_compatibilities(), &td.requires_compatibilities);
        assert_eq!((input.get_cpu(), input.get_memory()), (&td.cpu, &td.memory));
        assert_eq!((input.get_pid_mode(), input.get_ipc_mode()), (&td.pid_mode, &td.ipc_mode));
        assert_eq!(input.get_proxy_configuration(), &td.proxy_configuration);
        assert_eq!(input.get_ephemeral_storage(), &td.ephemeral_storage);
        assert_eq!(input.get_runtime_platform(), &td.runtime_platform);
        assert_eq!(input.get_enable_fault_injection(), &Some(true));

        let containers = input.get_container_definitions().as_ref().unwrap();
        assert_eq!(containers.len(), 2);
        let mut expected_web = td.container_definitions()[0].clone();
        expected_web.image = Some(NEW.into());
        expected_web.docker_labels.as_mut().unwrap().insert(IMAGE_TAG_LABEL.into(), "v2".into());
        assert_eq!(containers[0], expected_web, "only the image and the tag label change");
        assert_eq!(containers[1], td.container_definitions()[1], "other containers are untouched");

        let tags: Vec<_> = input.get_tags().as_ref().unwrap().iter().map(|t| t.key().unwrap()).collect();
        assert_eq!(tags, ["team"], "reserved aws: tags are not copied");
    }

    #[test]
    fn untagged_push_drops_a_stale_tag_label() {
        let mut source = source();
        source.document.container_definitions.as_mut().unwrap()[0]
            .docker_labels
            .as_mut()
            .unwrap()
            .insert(IMAGE_TAG_LABEL.into(), "v1".into());
        let request = revised_copy(offline_client().register_task_definition(), &source, &[update()], None);
        let web = &request.as_input().get_container_definitions().as_ref().unwrap()[0];
        assert_eq!(web.docker_labels.as_ref().unwrap().get(IMAGE_TAG_LABEL), None);
        assert_eq!(web.image.as_deref(), Some(NEW));
    }
}
