//! A push to ECS-native services (BLUE_GREEN, LINEAR, CANARY): the deployment carries the
//! service's own configuration with `deckhand:shift` over it, and the newest image wins over an
//! advancing deployment of an older one. ECS is `aws-smithy-mocks` for every call here, its
//! responses shaped as the ECS API reference documents them (DescribeServices,
//! DescribeTaskDefinition, RegisterTaskDefinition, ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment, UpdateService,
//! TagResource): moto server can neither create a service with a native strategy nor answer the
//! service-deployment calls; the tag index (GetResources) is mocked beside it. SNS is moto
//! server: the notices are read from the SQS queue behind the topic.

use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::describe_service_revisions::DescribeServiceRevisionsOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::list_service_deployments::ListServiceDeploymentsOutput;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
use aws_sdk_ecs::operation::stop_service_deployment::StopServiceDeploymentOutput;
use aws_sdk_ecs::operation::tag_resource::TagResourceOutput;
use aws_sdk_ecs::operation::update_service::{UpdateServiceInput, UpdateServiceOutput};
use aws_sdk_ecs::types::{
    AdvancedConfiguration, CanaryConfiguration, ContainerDefinition, Deployment, DeploymentConfiguration, DeploymentController,
    DeploymentControllerType, DeploymentStrategy, LinearConfiguration, LoadBalancer, Service, ServiceDeployment, ServiceDeploymentBrief,
    ServiceDeploymentLifecycleStage, ServiceDeploymentStatus, ServiceRevision, ServiceRevisionSummary, StopServiceDeploymentStopType, Tag,
    TaskDefinition,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use deckhand::adapters::aws::codedeploy::SdkCodeDeploy;
use deckhand::adapters::aws::ecr::SdkEcr;
use deckhand::adapters::aws::ecs::SdkEcs;
use deckhand::adapters::aws::sns::SdkSns;
use deckhand::event::ecr;
use deckhand::outcome::{Outcome, ResourceResult};
use deckhand::usecase::image_pushed::plan::ImagePush;
use deckhand::usecase::image_pushed::rollout::Rollout;
use deckhand_integration_tests::{ACCOUNT, DIGEST, Local, REGION, REGISTRY, document, index_listing, push_event};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const OLDER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
const STOPPED: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/older";

fn service_arn(name: &str) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/{name}")
}

fn revision_arn(revision: i32) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:{revision}")
}

/// A tracked service of `prod` under the ECS controller, running `revision` of `web` behind a
/// load balancer with the advanced configuration traffic shifting needs.
fn service(name: &str, revision: i32, configuration: DeploymentConfiguration, tags: &[(&str, &str)]) -> Service {
    let load_balancer = LoadBalancer::builder()
        .target_group_arn(format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}-blue/1"))
        .container_name("web")
        .container_port(8080)
        .advanced_configuration(
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}-green/2"))
                .production_listener_rule(format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/shop/1/2/3"))
                .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure"))
                .build(),
        )
        .build();
    let tags = [("deckhand:track", "release-*")].iter().chain(tags).map(|(k, v)| Tag::builder().key(*k).value(*v).build());
    Service::builder()
        .service_arn(service_arn(name))
        .service_name(name)
        .cluster_arn(CLUSTER)
        .status("ACTIVE")
        .task_definition(revision_arn(revision))
        .deployment_controller(DeploymentController::builder().r#type(DeploymentControllerType::Ecs).build().unwrap())
        .deployment_configuration(configuration)
        .load_balancers(load_balancer)
        .set_tags(Some(tags.collect()))
        .build()
}

/// ECS scripted for one test: its rules, and what the writes were asked, in order.
struct Ecs {
    /// The tag index, listing the services.
    index: Rule,
    /// The reads, and TagResource.
    rules: Vec<Rule>,
    register: Rule,
    list_deployments: Rule,
    stop: Rule,
    update: Rule,
    /// `StopServiceDeployment ARN TYPE`, `UpdateService SERVICE TASK_DEFINITION`, in call order.
    writes: Arc<Mutex<Vec<String>>>,
    updates: Arc<Mutex<Vec<UpdateServiceInput>>>,
}

impl Ecs {
    /// `services` listed in `prod`; `images[n - 1]`: the image of revision n of `web`, the newest
    /// last; `deployments` listed for every service, with their revisions' task definitions.
    fn new(services: Vec<Service>, images: Vec<String>, deployments: Vec<ServiceDeployment>, revisions: Vec<ServiceRevision>) -> Self {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let updates = Arc::new(Mutex::new(Vec::new()));
        let listing = index_listing(&services);
        let index = mock!(aws_sdk_resourcegroupstagging::Client::get_resources).then_output(move || listing.clone());
        let describe_services = mock!(aws_sdk_ecs::Client::describe_services)
            .then_output(move || DescribeServicesOutput::builder().set_services(Some(services.clone())).build());
        let newest = images.len() as i32;
        let described = images.clone();
        let describe_task_definition = mock!(aws_sdk_ecs::Client::describe_task_definition).then_compute_output(move |req| {
            // A family alone names its newest revision.
            let asked = req.task_definition().unwrap_or_default();
            let revision = if asked == "web" { newest } else { asked.rsplit(':').next().unwrap().parse().unwrap() };
            DescribeTaskDefinitionOutput::builder().task_definition(task_definition(revision, &described[revision as usize - 1])).build()
        });
        let register = mock!(aws_sdk_ecs::Client::register_task_definition).then_compute_output(move |req| {
            let mut registered = task_definition(newest + 1, "");
            registered.container_definitions = Some(req.container_definitions().to_vec());
            RegisterTaskDefinitionOutput::builder().task_definition(registered).build()
        });
        let brief = |d: &ServiceDeployment| {
            ServiceDeploymentBrief::builder()
                .set_service_deployment_arn(d.service_deployment_arn.clone())
                .set_status(d.status.clone())
                .build()
        };
        let briefs: Vec<ServiceDeploymentBrief> = deployments.iter().map(brief).collect();
        let list_deployments = mock!(aws_sdk_ecs::Client::list_service_deployments)
            .match_requests(|req| req.cluster() == Some(CLUSTER) && req.max_results() == Some(10))
            .then_output(move || ListServiceDeploymentsOutput::builder().set_service_deployments(Some(briefs.clone())).build());
        let describe_deployments = mock!(aws_sdk_ecs::Client::describe_service_deployments)
            .then_output(move || DescribeServiceDeploymentsOutput::builder().set_service_deployments(Some(deployments.clone())).build());
        let describe_revisions = mock!(aws_sdk_ecs::Client::describe_service_revisions)
            .then_output(move || DescribeServiceRevisionsOutput::builder().set_service_revisions(Some(revisions.clone())).build());
        let stopping = writes.clone();
        let stop = mock!(aws_sdk_ecs::Client::stop_service_deployment).then_compute_output(move |req| {
            let stop_type = req.stop_type().map(StopServiceDeploymentStopType::as_str).unwrap_or("-");
            stopping.lock().unwrap().push(format!("StopServiceDeployment {} {stop_type}", req.service_deployment_arn().unwrap_or("-")));
            StopServiceDeploymentOutput::builder().set_service_deployment_arn(req.service_deployment_arn().map(str::to_owned)).build()
        });
        let (updating, asked) = (writes.clone(), updates.clone());
        let update = mock!(aws_sdk_ecs::Client::update_service).then_compute_output(move |req| {
            let task_definition = req.task_definition().unwrap_or_default();
            updating.lock().unwrap().push(format!("UpdateService {} {task_definition}", req.service().unwrap_or("-")));
            asked.lock().unwrap().push(req.clone());
            let deployment = Deployment::builder().id("ecs-svc/7001").status("PRIMARY").task_definition(task_definition).build();
            UpdateServiceOutput::builder().service(Service::builder().deployments(deployment).build()).build()
        });
        let tag = mock!(aws_sdk_ecs::Client::tag_resource).then_output(|| TagResourceOutput::builder().build());
        let rules = vec![describe_services, describe_task_definition, describe_deployments, describe_revisions, tag];
        Self { index, rules, register, list_deployments, stop, update, writes, updates }
    }

    fn rollout(&self, local: &Local) -> Rollout<SdkEcs, SdkCodeDeploy, SdkSns, SdkEcr> {
        let rules = self.rules.iter().chain([&self.register, &self.list_deployments, &self.stop, &self.update]);
        let ecs = SdkEcs::new(
            mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules),
            mock_client!(aws_sdk_resourcegroupstagging, RuleMode::MatchAny, [&self.index]),
        );
        let codedeploy = SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(&local.sdk));
        let sns = SdkSns::new(aws_sdk_sns::Client::new(&local.sdk), local.topic.clone());
        Rollout::new(vec!["prod".into()], ecs, codedeploy, sns, SdkEcr::new(aws_sdk_ecr::Client::new(&local.sdk)))
    }

    /// The UpdateService request for `name`.
    fn update_of(&self, name: &str) -> UpdateServiceInput {
        let updates = self.updates.lock().unwrap();
        updates.iter().find(|u| u.service() == Some(service_arn(name).as_str())).cloned().unwrap_or_else(|| panic!("no update of {name}"))
    }
}

/// Revision `revision` of family `web`: container `web` running `image`.
fn task_definition(revision: i32, image: &str) -> TaskDefinition {
    TaskDefinition::builder()
        .task_definition_arn(revision_arn(revision))
        .family("web")
        .revision(revision)
        .container_definitions(ContainerDefinition::builder().name("web").image(image).essential(true).build())
        .build()
}

fn configuration(strategy: DeploymentStrategy, bake: i32) -> aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder {
    DeploymentConfiguration::builder().strategy(strategy).bake_time_in_minutes(bake).maximum_percent(200).minimum_healthy_percent(100)
}

/// A canary of 5 % for 10 minutes, then a bake of 5.
fn canary_configuration() -> DeploymentConfiguration {
    let canary = CanaryConfiguration::builder().canary_percent(5.0).canary_bake_time_in_minutes(10).build();
    configuration(DeploymentStrategy::Canary, 5).canary_configuration(canary).build()
}

/// The push of `DIGEST` as `tag`, the image in ECR (moto) first.
async fn push(ecs: &Ecs, local: &Local, tag: &str) -> Outcome {
    local.aws.push_image_as("shop/web", tag, DIGEST).await;
    let push = ImagePush::from(ecr::decode(push_event("shop/web", Some(tag), DIGEST)).unwrap());
    ecs.rollout(local).deploy("image-pushed", &push).await
}

/// The notices in the queue, by service: their `sqs` documents.
async fn notices(local: &Local) -> BTreeMap<String, Value> {
    let documents = local.messages().await.iter().map(document).collect::<Vec<_>>();
    documents.into_iter().map(|d| (d["service"].as_str().unwrap().to_owned(), d)).collect()
}

#[tokio::test]
async fn each_native_strategy_deploys_the_pinned_revision_with_its_settings_and_the_shift_tag() {
    let local = Local::start().await;
    let services = vec![
        service("web-blue-green", 1, configuration(DeploymentStrategy::BlueGreen, 15).build(), &[]),
        service(
            "web-linear",
            1,
            configuration(DeploymentStrategy::Linear, 5)
                .linear_configuration(LinearConfiguration::builder().step_percent(10.0).step_bake_time_in_minutes(6).build())
                .build(),
            &[("deckhand:shift", "linear=20 step-bake=3 bake=10")],
        ),
        service("web-canary", 1, canary_configuration(), &[]),
    ];
    let ecs = Ecs::new(services, vec![format!("{REGISTRY}/shop/web:release-41")], Vec::new(), Vec::new());

    let outcome = push(&ecs, &local, "release-42").await;

    let results: Vec<(&str, Option<&str>, &str)> = outcome
        .resources
        .iter()
        .map(|r| match &r.result {
            ResourceResult::Deployed { controller: "ECS", strategy, task_definition, superseded: None, .. } => {
                (r.resource.as_str(), *strategy, task_definition.as_str())
            }
            other => panic!("{}: {other:?}", r.resource),
        })
        .collect();
    let new = revision_arn(2);
    assert_eq!(
        results,
        [
            ("prod/web-blue-green", Some("BLUE_GREEN"), new.as_str()),
            ("prod/web-linear", Some("LINEAR"), new.as_str()),
            ("prod/web-canary", Some("CANARY"), new.as_str())
        ]
    );
    assert_eq!((ecs.register.num_calls(), ecs.list_deployments.num_calls(), ecs.stop.num_calls(), ecs.update.num_calls()), (1, 3, 0, 3));
    // The service's own settings, the circuit breaker with rollback, and the shift tag over them.
    let shown = |name: &str| {
        let update = ecs.update_of(name);
        assert_eq!(update.task_definition(), Some(new.as_str()), "{name}");
        let c = update.deployment_configuration().unwrap().clone();
        let breaker = c.deployment_circuit_breaker.as_ref().map(|b| (b.enable, b.rollback));
        assert_eq!(breaker, Some((true, true)), "{name}");
        let linear = c.linear_configuration.map(|l| (l.step_percent, l.step_bake_time_in_minutes));
        let canary = c.canary_configuration.map(|l| (l.canary_percent, l.canary_bake_time_in_minutes));
        (c.strategy.map(|s| s.as_str().to_owned()), c.bake_time_in_minutes, linear, canary)
    };
    assert_eq!(shown("web-blue-green"), (Some("BLUE_GREEN".into()), Some(15), None, None));
    assert_eq!(shown("web-linear"), (Some("LINEAR".into()), Some(10), Some((Some(20.0), Some(3))), None));
    assert_eq!(shown("web-canary"), (Some("CANARY".into()), Some(5), None, Some((Some(5.0), Some(10)))));
    let notices = notices(&local).await;
    for (name, strategy) in [("web-blue-green", "BLUE_GREEN"), ("web-linear", "LINEAR"), ("web-canary", "CANARY")] {
        let notice = &notices[name];
        assert_eq!((notice["event"].clone(), notice["details"]["strategy"].clone()), (json!("image.deployed"), json!(strategy)));
        assert!(notice["text"].as_str().unwrap().contains(&format!("ECS {strategy}: traffic shifts")), "{notice}");
        assert_eq!(notice["details"]["images"][0]["to"], json!(format!("{REGISTRY}/shop/web@{DIGEST}")));
    }
}

#[tokio::test]
async fn a_newer_push_stops_the_advancing_deployment_with_rollback_then_deploys_the_newest_image() {
    let local = Local::start().await;
    let configuration = canary_configuration();
    // The older image's deployment moved the service to revision 2 and is shifting traffic to it.
    let web = service("web", 2, configuration.clone(), &[("deckhand:shift", "canary=10 step-bake=5m bake=15m")]);
    let revision = |n: i32| format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/prod/web/{n}");
    let deploying = ServiceDeployment::builder()
        .service_deployment_arn(STOPPED)
        .service_arn(service_arn("web"))
        .cluster_arn(CLUSTER)
        .status(ServiceDeploymentStatus::InProgress)
        .lifecycle_stage(ServiceDeploymentLifecycleStage::ProductionTrafficShift)
        .deployment_configuration(configuration)
        .source_service_revisions(ServiceRevisionSummary::builder().arn(revision(1)).requested_production_traffic_weight(90.0).build())
        .target_service_revision(ServiceRevisionSummary::builder().arn(revision(2)).requested_production_traffic_weight(10.0).build())
        .build();
    let revisions = (1..=2).map(|n| ServiceRevision::builder().service_revision_arn(revision(n)).task_definition(revision_arn(n)).build());
    let images = vec![format!("{REGISTRY}/shop/web:release-41"), format!("{REGISTRY}/shop/web@{OLDER}")];
    let ecs = Ecs::new(vec![web], images, vec![deploying], revisions.collect());

    let outcome = push(&ecs, &local, "release-43").await;

    let ResourceResult::Deployed { strategy, superseded, task_definition, .. } = &outcome.resources[0].result else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (strategy.as_deref(), superseded.as_deref(), task_definition.as_str()),
        (Some("CANARY"), Some(STOPPED), revision_arn(3).as_str())
    );
    let writes = ecs.writes.lock().unwrap().clone();
    assert_eq!(
        writes,
        [format!("StopServiceDeployment {STOPPED} ROLLBACK"), format!("UpdateService {} {}", service_arn("web"), revision_arn(3))]
    );
    assert_eq!((ecs.stop.num_calls(), ecs.update.num_calls()), (1, 1));
    let c = ecs.update_of("web").deployment_configuration().unwrap().clone();
    let canary = c.canary_configuration.map(|c| (c.canary_percent, c.canary_bake_time_in_minutes));
    assert_eq!(
        (c.strategy.map(|s| s.as_str().to_owned()), c.bake_time_in_minutes, canary),
        (Some("CANARY".into()), Some(15), Some((Some(10.0), Some(5))))
    );
    let notice = &notices(&local).await["web"];
    assert_eq!(notice["details"]["superseded"], json!(STOPPED));
    assert!(notice["text"].as_str().unwrap().contains(&format!("Supersedes:  {STOPPED}")), "{notice}");
}
