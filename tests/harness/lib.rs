//! Test harness: a real local AWS (moto server) on a free loopback port, one per test so tests
//! run in parallel without sharing state, stopped when the test ends; plus seeding helpers.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentController, DeploymentControllerType, KeyValuePair, LoadBalancer, LogConfiguration, LogDriver,
    NetworkMode, PortMapping, Secret, Tag, Volume,
};
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_resourcegroupstagging::types::ResourceTagMapping;
pub use deckhand::fakes::{FakeClock as TestClock, failover_config, sample_event};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

/// A moto server process; killed on drop.
pub struct Moto {
    pub endpoint: String,
    child: Child,
}

impl Moto {
    pub fn start() -> Moto {
        let binary = std::env::var_os("MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv/bin/moto_server"));
        assert!(binary.exists(), "{} not found: run `make test` (it creates .venv with moto[server])", binary.display());
        // Port 0: the server binds a port itself and says which. A port picked here and handed
        // over could be taken by a parallel test's server in between; that test's server would
        // then answer this one's requests and vanish with it.
        let mut child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto_server starts");
        let (sender, announced) = std::sync::mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
        // Keeps reading after the announcement: the server logs every request there.
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(port) = line.split("Running on http://127.0.0.1:").nth(1) {
                    let _ = sender.send(port.trim().to_string());
                }
            }
        });
        let port = announced.recv_timeout(Duration::from_secs(30)).expect("moto_server announces its port within 30 s");
        Moto { endpoint: format!("http://127.0.0.1:{port}"), child }
    }

    /// The SDK configuration a function gets in Lambda, pointed at this server as
    /// `AWS_ENDPOINT_URL` would (set here per test, since tests share one process environment).
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_in(REGION).await
    }

    /// The same server, as another region: moto keeps each region's resources apart.
    pub async fn sdk_config_in(&self, region: &'static str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_ecs::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// An ECR push event for `repository:tag` with `digest`.
pub fn push_event(repository: &str, tag: Option<&str>, digest: &str) -> Value {
    let mut event = sample_event("ecr-push-tagged.json");
    event["detail"]["repository-name"] = json!(repository);
    event["detail"]["image-digest"] = json!(digest);
    match tag {
        Some(tag) => event["detail"]["image-tag"] = json!(tag),
        None => {
            event["detail"].as_object_mut().unwrap().remove("image-tag");
        }
    }
    event
}

/// A local AWS with an SNS topic and an SQS queue subscribed to it: what every function test needs.
pub struct Local {
    pub sdk: SdkConfig,
    pub aws: Aws,
    pub topic: String,
    pub queue: String,
    pub moto: Moto,
}

impl Local {
    pub async fn start() -> Self {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let aws = Aws::new(&sdk);
        let (topic, queue) = aws.topic_with_queue("deckhand").await;
        Self { sdk, aws, topic, queue, moto }
    }

    /// Messages now in the queue (SNS envelopes), removed from it.
    pub async fn messages(&self) -> Vec<Value> {
        self.aws.drain(&self.queue).await
    }
}

/// The value of a message attribute in an SNS envelope received from SQS.
pub fn attribute<'a>(envelope: &'a Value, name: &str) -> &'a str {
    envelope["MessageAttributes"][name]["Value"].as_str().unwrap_or_default()
}

/// The JSON document `sqs` subscribers receive, from an SNS envelope.
pub fn document(envelope: &Value) -> Value {
    serde_json::from_str(envelope["Message"].as_str().expect("a Message")).expect("the sqs rendering is JSON")
}

/// What the tag index (GetResources) answers for these ECS services, each with its tags: for a
/// test that scripts ECS (services moto cannot create) to script the index beside it.
pub fn index_listing(services: &[aws_sdk_ecs::types::Service]) -> GetResourcesOutput {
    let mapping = |service: &aws_sdk_ecs::types::Service| {
        let tags = service.tags().iter().map(|t| {
            let tag = aws_sdk_resourcegroupstagging::types::Tag::builder().key(t.key().unwrap_or_default());
            tag.value(t.value().unwrap_or_default()).build().expect("key and value")
        });
        ResourceTagMapping::builder().set_resource_arn(service.service_arn.clone()).set_tags(Some(tags.collect())).build()
    };
    GetResourcesOutput::builder().set_resource_tag_mapping_list(Some(services.iter().map(mapping).collect())).build()
}

/// Everything seeded in the local AWS.
pub struct Aws {
    pub ecs: aws_sdk_ecs::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub ecr: aws_sdk_ecr::Client,
    config: SdkConfig,
}

impl Aws {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            ecs: aws_sdk_ecs::Client::new(config),
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            ecr: aws_sdk_ecr::Client::new(config),
            config: config.clone(),
        }
    }

    /// A topic with an SQS queue subscribed to it: (topic ARN, queue URL).
    pub async fn topic_with_queue(&self, name: &str) -> (String, String) {
        let topic = self.sns.create_topic().name(name).send().await.unwrap().topic_arn.unwrap();
        let queue_url = self.sqs.create_queue().queue_name(format!("{name}-inbox")).send().await.unwrap().queue_url.unwrap();
        let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}-inbox");
        self.sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).send().await.unwrap();
        (topic, queue_url)
    }

    /// Every message waiting in the queue: the SNS envelopes, parsed.
    pub async fn drain(&self, queue_url: &str) -> Vec<Value> {
        let mut messages = Vec::new();
        loop {
            let received = self.sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
            let batch = received.messages.unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            for message in batch {
                self.sqs.delete_message().queue_url(queue_url).receipt_handle(message.receipt_handle.unwrap()).send().await.unwrap();
                messages.push(serde_json::from_str(&message.body.unwrap()).unwrap());
            }
        }
    }

    /// An ECR repository of this account, scanning on push or not.
    pub async fn create_repository(&self, name: &str, scan_on_push: bool) {
        let scanning = aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(scan_on_push).build();
        self.ecr.create_repository().repository_name(name).image_scanning_configuration(scanning).send().await.unwrap();
    }

    /// Pushes an image (a distinct manifest per `content`) tagged `tag`; its digest, as ECR
    /// computes it. ECR stamps `imagePushedAt` in whole seconds: push images meant to be told
    /// apart by push time at least a second apart.
    pub async fn push_image(&self, repository: &str, tag: &str, content: &str) -> String {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": format!("sha256:{content:0>64}")},
            // moto derives the image digest from the layers' digests: one per content.
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": format!("sha256:{content:0>64}")}],
        });
        let pushed =
            self.ecr.put_image().repository_name(repository).image_tag(tag).image_manifest(manifest.to_string()).send().await.unwrap();
        pushed.image.and_then(|image| image.image_id).and_then(|id| id.image_digest).expect("ECR names the digest")
    }

    /// An image with the given `digest` (moto takes it as given) pushed now, tagged `tag`, into
    /// `repository` (created when missing, not scanning): what a test's push event names.
    pub async fn push_image_as(&self, repository: &str, tag: &str, digest: &str) {
        let created = self.ecr.create_repository().repository_name(repository).send().await;
        if let Err(err) = created {
            let exists = err.as_service_error().is_some_and(|e| e.is_repository_already_exists_exception());
            assert!(exists, "CreateRepository {repository}: {err:?}");
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": digest},
            "layers": [],
        });
        let put = self.ecr.put_image().repository_name(repository).image_tag(tag).image_digest(digest);
        put.image_manifest(manifest.to_string()).send().await.unwrap();
    }

    pub async fn create_cluster(&self, name: &str) {
        self.ecs.create_cluster().cluster_name(name).send().await.unwrap();
    }

    /// A realistic Fargate task definition: the app container from `shop/web`, a sidecar from
    /// another registry, env, secrets, logs, a volume and tags. Returns its ARN.
    pub async fn register_web_task_definition(&self, family: &str, image_tag: &str) -> String {
        let web = ContainerDefinition::builder()
            .name("web")
            .image(format!("{REGISTRY}/shop/web:{image_tag}"))
            .essential(true)
            .cpu(128)
            .memory(256)
            .port_mappings(PortMapping::builder().container_port(8080).build())
            .environment(KeyValuePair::builder().name("DATABASE_PASSWORD").value("hunter2-not-for-logs").build())
            .secrets(
                Secret::builder().name("API_TOKEN").value_from("arn:aws:ssm:us-east-1:123456789012:parameter/web/token").build().unwrap(),
            )
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", "/ecs/web")
                    .options("awslogs-region", REGION)
                    .build()
                    .unwrap(),
            )
            .docker_labels("team", "shop")
            .build();
        let sidecar = ContainerDefinition::builder()
            .name("otel")
            .image("public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0")
            .essential(false)
            .memory(64)
            .build();
        self.ecs
            .register_task_definition()
            .family(family)
            .task_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{family}-task"))
            .execution_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{family}-exec"))
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(web)
            .container_definitions(sidecar)
            .volumes(Volume::builder().name("scratch").build())
            .tags(Tag::builder().key("team").value("shop").build())
            .send()
            .await
            .unwrap()
            .task_definition
            .unwrap()
            .task_definition_arn
            .unwrap()
    }

    /// A service with the given tags; `code_deploy` selects the CODE_DEPLOY controller (with a load balancer).
    pub async fn create_service(
        &self,
        cluster: &str,
        name: &str,
        task_definition: &str,
        tags: &[(&str, &str)],
        code_deploy: bool,
    ) -> String {
        let mut request = self.ecs.create_service().cluster(cluster).service_name(name).task_definition(task_definition).desired_count(2);
        for (key, value) in tags {
            request = request.tags(Tag::builder().key(*key).value(*value).build());
        }
        if code_deploy {
            request = request
                .deployment_controller(DeploymentController::builder().r#type(DeploymentControllerType::CodeDeploy).build().unwrap())
                .load_balancers(
                    LoadBalancer::builder()
                        .target_group_arn(format!(
                            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}-blue/0123456789abcdef"
                        ))
                        .container_name("web")
                        .container_port(8080)
                        .build(),
                );
        }
        request.send().await.unwrap().service.unwrap().service_arn.unwrap()
    }

    /// A CodeDeploy application and deployment group for the ECS service `cluster/service`.
    pub async fn create_codedeploy_group(&self, application: &str, group: &str, (cluster, service): (&str, &str)) {
        self.codedeploy
            .create_application()
            .application_name(application)
            .compute_platform(aws_sdk_codedeploy::types::ComputePlatform::Ecs)
            .send()
            .await
            .unwrap();
        self.codedeploy
            .create_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .service_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/codedeploy"))
            .ecs_services(aws_sdk_codedeploy::types::EcsService::builder().cluster_name(cluster).service_name(service).build())
            .send()
            .await
            .unwrap();
    }

    /// A CPU alarm on an ECS service, put in `state` with `latest` as its newest datapoint.
    pub async fn cpu_alarm(&self, name: &str, (cluster, service): (&str, &str), above: bool, threshold: f64, state: &str, latest: f64) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
        let operator = if above { ComparisonOperator::GreaterThanThreshold } else { ComparisonOperator::LessThanThreshold };
        self.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/ECS")
            .metric_name("CPUUtilization")
            .dimensions(Dimension::builder().name("ClusterName").value(cluster).build())
            .dimensions(Dimension::builder().name("ServiceName").value(service).build())
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(3)
            .threshold(threshold)
            .comparison_operator(operator)
            .send()
            .await
            .unwrap();
        let reason_data = json!({"version": "1.0", "recentDatapoints": [latest], "threshold": threshold}).to_string();
        self.cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(StateValue::from(state))
            .state_reason("test")
            .state_reason_data(reason_data)
            .send()
            .await
            .unwrap();
    }

    /// One datapoint of the service's `AWS/ECS` `CPUUtilization`, at `at` (seconds since the epoch).
    pub async fn put_cpu(&self, (cluster, service): (&str, &str), value: f64, at: u64) {
        use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
        let datum = MetricDatum::builder()
            .metric_name("CPUUtilization")
            .dimensions(Dimension::builder().name("ClusterName").value(cluster).build())
            .dimensions(Dimension::builder().name("ServiceName").value(service).build())
            .value(value)
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(at as i64))
            .build();
        self.cloudwatch.put_metric_data().namespace("AWS/ECS").metric_data(datum).send().await.unwrap();
    }

    /// A metric-math alarm in ALARM: the higher of the service's CPU and memory above `threshold`.
    pub async fn max_of_cpu_and_memory_alarm(&self, name: &str, (cluster, service): (&str, &str), threshold: f64) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat, StateValue};
        let query = |id: &str, metric: &str| {
            let metric = Metric::builder()
                .namespace("AWS/ECS")
                .metric_name(metric)
                .dimensions(Dimension::builder().name("ClusterName").value(cluster).build())
                .dimensions(Dimension::builder().name("ServiceName").value(service).build())
                .build();
            let stat = MetricStat::builder().metric(metric).period(60).stat("Average").build();
            MetricDataQuery::builder().id(id).metric_stat(stat).return_data(false).build()
        };
        let expression = MetricDataQuery::builder().id("e1").expression("MAX([m1, m2])").return_data(true).build();
        self.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .metrics(query("m1", "CPUUtilization"))
            .metrics(query("m2", "MemoryUtilization"))
            .metrics(expression)
            .evaluation_periods(3)
            .threshold(threshold)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .unwrap();
        self.cloudwatch.set_alarm_state().alarm_name(name).state_value(StateValue::Alarm).state_reason("test").send().await.unwrap();
    }

    /// A CodeDeploy deployment in `application`/`group` (moto keeps it `Created`, i.e. active); its id.
    pub async fn start_codedeploy_deployment(&self, application: &str, group: &str) -> String {
        let revision = aws_sdk_codedeploy::types::RevisionLocation::builder()
            .revision_type(aws_sdk_codedeploy::types::RevisionLocationType::AppSpecContent)
            .app_spec_content(aws_sdk_codedeploy::types::AppSpecContent::builder().content("{}").build())
            .build();
        let created =
            self.codedeploy.create_deployment().application_name(application).deployment_group_name(group).revision(revision).send();
        created.await.expect("CreateDeployment").deployment_id.expect("a deployment id")
    }

    pub async fn desired_count(&self, cluster: &str, name: &str) -> i32 {
        self.service(cluster, name).await.desired_count
    }

    pub async fn service(&self, cluster: &str, name: &str) -> aws_sdk_ecs::types::Service {
        let output = self.ecs.describe_services().cluster(cluster).services(name).send().await.unwrap();
        output.services.unwrap().into_iter().next().unwrap()
    }

    pub async fn task_definition(&self, arn: &str) -> aws_sdk_ecs::types::TaskDefinition {
        self.ecs.describe_task_definition().task_definition(arn).send().await.unwrap().task_definition.unwrap()
    }

    /// Every revision registered in a family.
    pub async fn revisions(&self, family: &str) -> Vec<String> {
        self.ecs.list_task_definitions().family_prefix(family).send().await.unwrap().task_definition_arns.unwrap_or_default()
    }

    pub async fn deployments(&self, application: &str, group: &str) -> Vec<String> {
        let output = self.codedeploy.list_deployments().application_name(application).deployment_group_name(group).send().await.unwrap();
        output.deployments.unwrap_or_default()
    }
}

/// How the stand-in for a new revision answers one health request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Accept the request and answer nothing for this long.
    Hang(Duration),
}

/// A real HTTP server on 127.0.0.1 playing the new revision: it answers requests with `script`
/// in order, repeating the last reply; stops when dropped.
pub struct HealthServer {
    pub url: String,
    served: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

impl HealthServer {
    pub fn start(script: Vec<Reply>) -> Self {
        use std::io::{Read, Write};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        assert!(!script.is_empty(), "a script of at least one reply");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (served_by_server, stop_server) = (served.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_server.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let n = served_by_server.fetch_add(1, Ordering::SeqCst);
                let reply = script[n.min(script.len() - 1)];
                std::thread::spawn(move || {
                    let mut request = [0u8; 2048];
                    let _ = stream.read(&mut request);
                    match reply {
                        Reply::Status(code) => {
                            let _ = write!(stream, "HTTP/1.1 {code} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                        }
                        Reply::Hang(duration) => std::thread::sleep(duration),
                    }
                });
            }
        });
        Self { url: format!("http://127.0.0.1:{port}"), served, stop, port }
    }

    /// Requests answered (or hung) so far.
    pub fn requests(&self) -> usize {
        self.served.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A loopback URL where nothing listens (connection refused).
pub fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    format!("http://127.0.0.1:{port}")
}

impl Aws {
    /// A target group (Lambda targets need no VPC in moto) with `healthy` registered targets.
    pub async fn target_group(&self, name: &str, healthy: usize) -> String {
        use aws_sdk_elasticloadbalancingv2::types::{TargetDescription, TargetTypeEnum};
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&self.config);
        let group = elb.create_target_group().name(name).target_type(TargetTypeEnum::Lambda).send().await.unwrap();
        let arn = group.target_groups.unwrap()[0].target_group_arn.clone().unwrap();
        for i in 0..healthy {
            let target = TargetDescription::builder().id(format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:green-{i}")).build();
            elb.register_targets().target_group_arn(&arn).targets(target).send().await.unwrap();
        }
        arn
    }
}

impl Aws {
    /// A service with `desired` tasks that moto reports running (it sets the running count on UpdateService).
    pub async fn running_service(&self, cluster: &str, name: &str, desired: i32, tags: &[(&str, &str)]) -> String {
        self.create_cluster(cluster).await;
        let td = self.register_web_task_definition(name, "v1").await;
        let arn = self.create_service(cluster, name, &td, tags, false).await;
        self.ecs.update_service().cluster(cluster).service(name).desired_count(desired).send().await.unwrap();
        arn
    }

    pub async fn service_tags(&self, cluster: &str, name: &str) -> std::collections::BTreeMap<String, String> {
        let output = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(name)
            .include(aws_sdk_ecs::types::ServiceField::Tags)
            .send()
            .await
            .unwrap();
        let service = output.services.unwrap().into_iter().next().unwrap();
        service.tags.unwrap_or_default().into_iter().filter_map(|t| Some((t.key?, t.value.unwrap_or_default()))).collect()
    }

    /// A hosted zone with failover records for `name`: us-east-1 PRIMARY, us-west-2 SECONDARY. The zone id.
    pub async fn failover_records(&self, name: &str) -> String {
        use aws_sdk_route53::types::{
            Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType,
        };
        let route53 = aws_sdk_route53::Client::new(&self.config);
        let zone = route53.create_hosted_zone().name("example.com").caller_reference(name).send().await.unwrap().hosted_zone.unwrap().id;
        let record = |id: &str, role, ip: &str| {
            let set = ResourceRecordSet::builder()
                .name(name)
                .r#type(RrType::A)
                .set_identifier(id)
                .failover(role)
                .ttl(60)
                .resource_records(ResourceRecord::builder().value(ip).build().unwrap())
                .build()
                .unwrap();
            Change::builder().action(ChangeAction::Create).resource_record_set(set).build().unwrap()
        };
        let batch = ChangeBatch::builder()
            .changes(record("us-east-1", ResourceRecordSetFailover::Primary, "192.0.2.10"))
            .changes(record("us-west-2", ResourceRecordSetFailover::Secondary, "198.51.100.20"))
            .build()
            .unwrap();
        route53.change_resource_record_sets().hosted_zone_id(&zone).change_batch(batch).send().await.unwrap();
        zone
    }

    /// The set identifier of the record that is PRIMARY for `name`, with its value.
    pub async fn primary_record(&self, zone: &str, name: &str) -> (String, String) {
        let route53 = aws_sdk_route53::Client::new(&self.config);
        let output = route53.list_resource_record_sets().hosted_zone_id(zone).send().await.unwrap();
        let primary = output
            .resource_record_sets
            .into_iter()
            .find(|r| {
                r.name.trim_end_matches('.') == name.trim_end_matches('.')
                    && r.failover == Some(aws_sdk_route53::types::ResourceRecordSetFailover::Primary)
            })
            .expect("a PRIMARY record");
        (primary.set_identifier.unwrap_or_default(), primary.resource_records.unwrap_or_default()[0].value.clone())
    }
}
