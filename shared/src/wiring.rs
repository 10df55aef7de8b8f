//! The six SDK compositions: each function's handler built from the AWS adapters. With the
//! adapters, the only code that names an SDK type; each `main` takes its handler from here.

use crate::adapters::aws::cloudwatch::SdkCloudWatch;
use crate::adapters::aws::codedeploy::SdkCodeDeploy;
use crate::adapters::aws::ecr::SdkEcr;
use crate::adapters::aws::ecs::SdkEcs;
use crate::adapters::aws::elb::SdkElb;
use crate::adapters::aws::route53::SdkRoute53;
use crate::adapters::aws::sns::SdkSns;
use crate::adapters::http_probe::HttpProber;
use crate::config::{BuildFinishedConfig, DeployEventsConfig, FailoverConfig, GateConfig, ImagePushedConfig, ScalerConfig};
use crate::runtime::{Clock, system_clock};
use crate::usecase::build_finished::BuildFinished;
use crate::usecase::deploy_events::DeployEvents;
use crate::usecase::image_pushed::ImagePushed;
use crate::usecase::image_pushed::rollout::Rollout;
use crate::usecase::region_failover::{RegionFailover, RegionPorts};
use crate::usecase::scaler::Scaler;
use crate::usecase::traffic_gate::{GatePorts, TrafficGate};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

pub type SdkRollout = Rollout<SdkEcs, SdkCodeDeploy, SdkSns, SdkEcr>;
pub type SdkImagePushed = ImagePushed<SdkEcs, SdkCodeDeploy, SdkSns, SdkEcr>;
pub type SdkBuildFinished = BuildFinished<SdkEcs, SdkCodeDeploy, SdkSns, SdkEcr>;
pub type SdkDeployEvents = DeployEvents<SdkEcs, SdkCodeDeploy, SdkSns>;
pub type SdkScaler = Scaler<SdkCloudWatch, SdkEcs, SdkCodeDeploy, SdkSns>;
pub type SdkTrafficGate = TrafficGate<SdkCodeDeploy, SdkCodeDeploy, SdkEcs, SdkElb, SdkCloudWatch, HttpProber, SdkSns>;
pub type SdkRegionFailover = RegionFailover<SdkEcs, SdkCloudWatch, SdkEcr, SdkRoute53, SdkSns>;

/// SDK configuration from the standard sources (including `AWS_ENDPOINT_URL`), with the SDK's
/// own retry (standard mode: throttling and transient errors, exponential backoff with jitter)
/// and bounded timeouts so a stuck call cannot hold a deployment until the Lambda times out.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5).with_max_backoff(Duration::from_secs(5)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

/// ECS, with the tag index (Resource Groups Tagging API) it finds tracked services through.
pub fn ecs(sdk: &SdkConfig) -> SdkEcs {
    SdkEcs::new(aws_sdk_ecs::Client::new(sdk), aws_sdk_resourcegroupstagging::Client::new(sdk))
}

fn notifier(sdk: &SdkConfig, topic_arn: &str) -> SdkSns {
    SdkSns::new(aws_sdk_sns::Client::new(sdk), topic_arn.to_owned())
}

pub fn rollout(clusters: Vec<String>, notifier: SdkSns, sdk: &SdkConfig) -> SdkRollout {
    let ecs = ecs(sdk);
    Rollout::new(
        clusters,
        ecs,
        SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)),
        notifier,
        SdkEcr::new(aws_sdk_ecr::Client::new(sdk)),
    )
}

pub fn image_pushed(config: ImagePushedConfig, sdk: &SdkConfig) -> SdkImagePushed {
    ImagePushed::new(rollout(config.clusters, notifier(sdk, &config.notify_topic_arn), sdk))
}

pub fn build_finished(config: BuildFinishedConfig, sdk: &SdkConfig) -> SdkBuildFinished {
    let notifier = notifier(sdk, &config.notify_topic_arn);
    let rollout = (!config.clusters.is_empty()).then(|| rollout(config.clusters.clone(), notifier.clone(), sdk));
    BuildFinished::new(config, notifier, rollout)
}

pub fn deploy_events(config: DeployEventsConfig, sdk: &SdkConfig) -> SdkDeployEvents {
    let notifier = notifier(sdk, &config.notify_topic_arn);
    DeployEvents::new(config, ecs(sdk), SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)), notifier)
}

pub fn scaler(config: ScalerConfig, sdk: &SdkConfig) -> SdkScaler {
    scaler_at(config, sdk, system_clock())
}

/// The scaler on a clock of the caller's (tests move time through cooldowns).
pub fn scaler_at(config: ScalerConfig, sdk: &SdkConfig, now: Clock) -> SdkScaler {
    let notifier = notifier(sdk, &config.notify_topic_arn);
    let alarms = SdkCloudWatch::new(aws_sdk_cloudwatch::Client::new(sdk));
    let ecs = ecs(sdk);
    Scaler::new(config, alarms, ecs, SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)), notifier, now)
}

pub fn traffic_gate(config: GateConfig, sdk: &SdkConfig) -> SdkTrafficGate {
    let ports = gate_ports(&config, sdk);
    TrafficGate::new(config, ports)
}

pub type SdkGatePorts = GatePorts<SdkCodeDeploy, SdkCodeDeploy, SdkEcs, SdkElb, SdkCloudWatch, HttpProber, SdkSns>;

/// The gate's ports, for a test to replace one (moto lacks PutLifecycleEventHookExecutionStatus).
pub fn gate_ports(config: &GateConfig, sdk: &SdkConfig) -> SdkGatePorts {
    let codedeploy = SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk));
    GatePorts {
        reporter: codedeploy.clone(),
        codedeploy,
        ecs: ecs(sdk),
        elb: SdkElb::new(aws_sdk_elasticloadbalancingv2::Client::new(sdk)),
        alarms: SdkCloudWatch::new(aws_sdk_cloudwatch::Client::new(sdk)),
        prober: HttpProber::new(Duration::from_millis(config.timeout_ms)),
        notifier: notifier(sdk, &config.notify_topic_arn),
    }
}

pub fn region_failover(config: FailoverConfig, sdk: &SdkConfig) -> SdkRegionFailover {
    region_failover_at(config, sdk, system_clock())
}

/// Region failover on a clock of the caller's (tests move time through dwell and stabilization).
pub fn region_failover_at(config: FailoverConfig, sdk: &SdkConfig, now: Clock) -> SdkRegionFailover {
    region_failover_with(config, sdk, now, aws_sdk_cloudwatch::Client::new)
}

/// Region failover whose CloudWatch client in each region is `cloudwatch(that region's config)`:
/// for a test to replace it (moto has no composite alarms).
pub fn region_failover_with(
    config: FailoverConfig,
    sdk: &SdkConfig,
    now: Clock,
    cloudwatch: impl Fn(&SdkConfig) -> aws_sdk_cloudwatch::Client,
) -> SdkRegionFailover {
    let in_region = |region: &str| sdk.to_builder().region(Region::new(region.to_owned())).build();
    let ports = |sdk: &SdkConfig| RegionPorts { ecs: ecs(sdk), alarms: SdkCloudWatch::new(cloudwatch(sdk)) };
    let (primary, standby) = (in_region(&config.primary_region), in_region(&config.standby_region));
    // The standby region's registry: whether the images the standby is to run were replicated.
    let standby_registry = SdkEcr::new(aws_sdk_ecr::Client::new(&standby));
    let notifier = notifier(sdk, &config.notify_topic_arn);
    let dns = SdkRoute53::new(aws_sdk_route53::Client::new(sdk));
    RegionFailover::new(config, ports(&primary), ports(&standby), standby_registry, dns, notifier, now)
}
