//! Task definitions through the SDK: describe one, and register a digest-pinned copy of it.

use super::aws_error;
use super::ecs::SdkEcs;
use crate::error::HandlerError;
use crate::ports::{AwsResult, Container, ImageUpdate, Registered, TaskDefinition, TaskDefinitions};
use crate::tags;
use crate::usecase::image_pushed::plan::IMAGE_TAG_LABEL;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types::{Tag, TaskDefinitionField};

/// A task definition as DescribeTaskDefinition returned it, with its tags.
#[derive(Debug, Clone)]
pub struct Described {
    pub document: aws_sdk_ecs::types::TaskDefinition,
    pub tags: Vec<Tag>,
}

impl SdkEcs {
    async fn described(&self, arn: &str) -> AwsResult<Described> {
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
        // Kept under the ARN the document names, which is what `register_revision` is given.
        let described = Described { document, tags: output.tags.unwrap_or_default() };
        self.task_definitions.keep(described.document.task_definition_arn.as_deref().unwrap_or(arn), described.clone());
        Ok(described)
    }
}

impl TaskDefinitions for SdkEcs {
    /// A revision never changes (only its tags can, and those read here are the ones it had when
    /// first seen): one this process described or registered before is not asked for again.
    async fn describe(&self, arn: &str) -> AwsResult<TaskDefinition> {
        if let Some(known) = self.task_definitions.get(arn) {
            return Ok(task_definition_of(&known));
        }
        Ok(task_definition_of(&self.described(arn).await?))
    }

    async fn latest_revision(&self, family: &str) -> AwsResult<TaskDefinition> {
        // A family name alone names its newest ACTIVE revision.
        Ok(task_definition_of(&self.described(family).await?))
    }

    async fn register_revision(&self, source: &TaskDefinition, updates: &[ImageUpdate], pushed_tag: Option<&str>) -> AwsResult<Registered> {
        let described = match self.task_definitions.get(&source.arn) {
            Some(described) => described,
            None => self.described(&source.arn).await?,
        };
        let request = revised_copy(self.client.register_task_definition(), &described, updates, pushed_tag);
        let tags = request.as_input().get_tags().clone().unwrap_or_default();
        let output = request.send().await.map_err(|err| aws_error("ecs:RegisterTaskDefinition", err))?;
        let no_revision =
            || HandlerError::Aws { operation: "ecs:RegisterTaskDefinition", message: "the response names no task definition".into() };
        let document = output.task_definition.ok_or_else(no_revision)?;
        let registered = Registered { arn: document.task_definition_arn.clone().ok_or_else(no_revision)?, revision: document.revision };
        // The service's next push starts from this revision: known, it is not described again.
        self.task_definitions.keep(&registered.arn, Described { document, tags });
        Ok(registered)
    }
}

fn task_definition_of(described: &Described) -> TaskDefinition {
    let document = &described.document;
    let containers = document
        .container_definitions()
        .iter()
        .filter_map(|c| Some(Container { name: c.name.clone()?, image: c.image.clone()? }))
        .collect();
    let revised_from = described.tags.iter().find(|t| t.key() == Some(tags::REVISED_FROM)).and_then(|t| t.value.clone());
    TaskDefinition { arn: document.task_definition_arn.clone().unwrap_or_default(), revision: document.revision, containers, revised_from }
}

/// RegisterTaskDefinition input that copies every field it accepts from `source`, with the
/// updated images and the pushed tag as a docker label. Pure: nothing is sent.
/// (Inference accelerators are not carried over: Elastic Inference is retired and ECS rejects them.)
pub fn revised_copy(
    request: RegisterTaskDefinitionFluentBuilder,
    source: &Described,
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
    let mut copied_tags: Vec<_> = source
        .tags
        .iter()
        .filter(|t| !t.key().is_some_and(|k| k.to_ascii_lowercase().starts_with("aws:") || k == tags::REVISED_FROM))
        .cloned()
        .collect();
    if let Some(arn) = &td.task_definition_arn {
        copied_tags.push(Tag::builder().key(tags::REVISED_FROM).value(arn).build());
    }
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
        .set_tags((!copied_tags.is_empty()).then_some(copied_tags))
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
    use aws_sdk_ecs::Client;
    use aws_sdk_ecs::config::{BehaviorVersion, Region};
    use aws_sdk_ecs::types::{
        Compatibility, ContainerDefinition, CpuArchitecture, EphemeralStorage, HealthCheck, IpcMode, KeyValuePair, LogConfiguration,
        LogDriver, NetworkMode, OsFamily, PidMode, ProxyConfiguration, RuntimePlatform, Secret, TaskDefinitionPlacementConstraint,
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

    fn source() -> Described {
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
        Described { document, tags }
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

        let tags: Vec<_> = input.get_tags().as_ref().unwrap().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
        let source_arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
        assert_eq!(tags, [("team", "shop"), (tags::REVISED_FROM, source_arn)], "reserved aws: tags are not copied");
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
