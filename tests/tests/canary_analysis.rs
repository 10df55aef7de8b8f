//! Issue 14: the traffic gate's metric analysis of a canary's production traffic shift, against
//! moto server: an Application Load Balancer whose listener forwards to the old and the new
//! target group (DescribeTargetGroups answers with their `LoadBalancerArns`), and each group's
//! `AWS/ApplicationELB` datapoints put with PutMetricData in the last minutes (GetMetricStatistics
//! sums them; moto computes no percentiles, so p99 latency is not compared, and the gate says so).
//!
//! moto cannot create a service with the CANARY strategy, so the gate's one ECS call,
//! DescribeServices, is answered by an `aws-smithy-mocks` client, shaped as the Amazon ECS API
//! reference gives a service with ECS-native blue/green: `deploymentConfiguration.strategy` and
//! `canaryConfiguration`, and a load balancer whose `targetGroupArn` serves production and whose
//! `advancedConfiguration.alternateTargetGroupArn` takes the new revision.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::types::{
    AdvancedConfiguration, CanaryConfiguration, DeploymentConfiguration, DeploymentStrategy, LoadBalancer, Service, Tag,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, LoadBalancerTypeEnum, ProtocolEnum, TargetGroupTuple,
};
use aws_smithy_mocks::{Rule, mock, mock_client};
use deckhand::adapters::aws::ecs::SdkEcs;
use deckhand::config::{FromEnv, GateConfig};
use deckhand::usecase::traffic_gate::TrafficGate;
use deckhand::wiring;
use deckhand_integration_tests::{ACCOUNT, HealthServer, Local, REGION, Reply, document, sample_event};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// The production target group (old revision) and the alternate (new revision), behind one ALB.
struct Shift {
    local: Local,
    old: String,
    new: String,
    load_balancer: String,
}

impl Shift {
    async fn start() -> Self {
        let local = Local::start().await;
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&local.sdk);
        let subnets = default_subnets(&local.moto.endpoint);
        let balancer = elb
            .create_load_balancer()
            .name("shop")
            .r#type(LoadBalancerTypeEnum::Application)
            .set_subnets(Some(subnets))
            .send()
            .await
            .unwrap();
        let load_balancer = balancer.load_balancers.unwrap()[0].load_balancer_arn.clone().unwrap();
        let old = local.aws.target_group("web-blue", 2).await;
        let new = local.aws.target_group("web-green", 2).await;
        // The production listener mid-shift: ECS weighs the two groups on one forward action.
        let weighted = |arn: &str, weight| TargetGroupTuple::builder().target_group_arn(arn).weight(weight).build();
        let forward = ForwardActionConfig::builder().target_groups(weighted(&old, 90)).target_groups(weighted(&new, 10)).build();
        let action = Action::builder().r#type(ActionTypeEnum::Forward).forward_config(forward).build();
        elb.create_listener()
            .load_balancer_arn(&load_balancer)
            .protocol(ProtocolEnum::Http)
            .port(80)
            .default_actions(action)
            .send()
            .await
            .unwrap();
        Self { local, old, new, load_balancer }
    }

    /// `group`'s load over the last two minutes: requests, 5xx and response times (seconds).
    async fn traffic(&self, group: &str, requests: f64, errors: f64, seconds: f64) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let target_group = group.rsplit_once(':').unwrap().1;
        let load_balancer = self.load_balancer.split_once(":loadbalancer/").unwrap().1;
        let mut data = Vec::new();
        for ago in [120, 60] {
            for (metric, value) in
                [("RequestCount", requests / 2.0), ("HTTPCode_Target_5XX_Count", errors / 2.0), ("TargetResponseTime", seconds)]
            {
                let datum = MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("TargetGroup").value(target_group).build())
                    .dimensions(Dimension::builder().name("LoadBalancer").value(load_balancer).build())
                    .value(value)
                    .timestamp(DateTime::from_secs(now - ago))
                    .build();
                data.push(datum);
            }
        }
        self.local.aws.cloudwatch.put_metric_data().namespace("AWS/ApplicationELB").set_metric_data(Some(data)).send().await.unwrap();
    }

    /// The gate's ECS hook at PRODUCTION_TRAFFIC_SHIFT, called back until it decides: the last
    /// reply.
    async fn production_traffic_shift(&self, probe_url: &str) -> Value {
        let topic = self.local.topic.clone();
        let config = GateConfig::from_lookup(|var| match var {
            "NOTIFY_TOPIC_ARN" => Some(topic.clone()),
            "GATE_INTERVAL_MS" => Some("20".into()),
            "GATE_MAX_PROBES" => Some("4".into()),
            _ => None,
        })
        .unwrap();
        let rule = canary_service(&self.old, &self.new, probe_url);
        let mut ports = wiring::gate_ports(&config, &self.local.sdk);
        ports.ecs = SdkEcs::new(mock_client!(aws_sdk_ecs, [&rule]), aws_sdk_resourcegroupstagging::Client::new(&self.local.sdk));
        let gate = TrafficGate::new(config, ports);
        let mut event = sample_event("ecs-hook-production-traffic-shift.json");
        loop {
            let reply = json!(gate.handle(event.clone()).await.unwrap());
            if reply["hookStatus"] != "IN_PROGRESS" {
                return reply;
            }
            event["hookDetails"] = reply["hookDetails"].clone();
        }
    }
}

/// DescribeServices for `prod/web`, a CANARY service mid-deployment (10% canary), whose gate
/// probes `probe_url` (the production listener).
fn canary_service(old: &str, new: &str, probe_url: &str) -> Rule {
    let (old, new, probe_url) = (old.to_owned(), new.to_owned(), probe_url.to_owned());
    let service = move || {
        let canary = CanaryConfiguration::builder().canary_percent(10.0).canary_bake_time_in_minutes(5).build();
        let deployment = DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::Canary)
            .canary_configuration(canary)
            .bake_time_in_minutes(10)
            .build();
        let advanced = AdvancedConfiguration::builder()
            .alternate_target_group_arn(&new)
            .production_listener_rule(format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/shop/1/2/3"))
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure"))
            .build();
        let balancer = LoadBalancer::builder()
            .target_group_arn(&old)
            .container_name("web")
            .container_port(8080)
            .advanced_configuration(advanced)
            .build();
        Service::builder()
            .service_arn(format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web"))
            .service_name("web")
            .cluster_arn(format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod"))
            .status("ACTIVE")
            .desired_count(2)
            .running_count(2)
            .deployment_configuration(deployment)
            .load_balancers(balancer)
            .tags(Tag::builder().key("deckhand:gate-url").value(&probe_url).build())
            .build()
    };
    mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|req| req.cluster() == Some("prod") && req.services() == ["web"])
        .sequence()
        .output(move || DescribeServicesOutput::builder().services(service()).build())
        .repeatedly()
        .build()
}

/// The default VPC's subnets, which moto creates with the region (an ALB needs some). One
/// unsigned EC2 DescribeSubnets call, as the workspace carries no EC2 SDK for this alone.
fn default_subnets(endpoint: &str) -> Vec<String> {
    let address = endpoint.trim_start_matches("http://");
    let body = "Action=DescribeSubnets&Version=2016-11-15";
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let subnets: Vec<String> =
        answer.split("<subnetId>").skip(1).filter_map(|rest| rest.split_once("</subnetId>")).map(|(id, _)| id.to_owned()).take(2).collect();
    assert_eq!(subnets.len(), 2, "moto's default subnets: {answer}");
    subnets
}

#[tokio::test]
async fn a_canary_whose_new_target_group_serves_more_5xx_fails_the_shift() {
    let shift = Shift::start().await;
    shift.traffic(&shift.new, 1000.0, 50.0, 0.2).await;
    shift.traffic(&shift.old, 9000.0, 90.0, 0.2).await;
    let server = HealthServer::start(vec![Reply::Status(200)]);

    let reply = shift.production_traffic_shift(&server.url).await;

    assert_eq!(reply["hookStatus"], "FAILED", "{reply}");
    let why = reply["hookDetails"]["verdict"]["reasons"].to_string();
    assert!(why.contains("5xx share of the new target group web-green is 5.00% (50 of 1000 requests)"), "{why}");
    assert!(why.contains("against the old target group web-blue's 1.00% (90 of 9000 requests)"), "{why}");
    let caveats = reply["hookDetails"]["caveats"].to_string();
    assert!(caveats.contains("latency not compared"), "moto computes no p99: {caveats}");
    let published: Vec<Value> = shift.local.messages().await.iter().map(document).collect();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["event"], "gate.failed");
}

#[tokio::test]
async fn a_canary_whose_new_target_group_serves_as_well_as_the_old_passes() {
    let shift = Shift::start().await;
    shift.traffic(&shift.new, 1000.0, 10.0, 0.2).await;
    shift.traffic(&shift.old, 9000.0, 90.0, 0.2).await;
    let server = HealthServer::start(vec![Reply::Status(200)]);

    let reply = shift.production_traffic_shift(&server.url).await;

    assert_eq!(reply["hookStatus"], "SUCCEEDED", "{reply}");
    let analysis = &reply["hookDetails"]["evidence"]["analysis"];
    assert_eq!(analysis["result"], "passed", "{reply}");
    assert_eq!((analysis["new"]["requests"].as_u64(), analysis["new"]["errors"].as_u64()), (Some(1000), Some(10)), "{analysis}");
    assert_eq!((analysis["old"]["requests"].as_u64(), analysis["old"]["errors"].as_u64()), (Some(9000), Some(90)), "{analysis}");
    assert_eq!(server.requests(), 2, "the probes ran beside the analysis");
}
