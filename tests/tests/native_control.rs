//! `traffic-gate` steering ECS-native deployments: a pause hook answered from evidence, and a
//! stuck deployment alerted once across two scheduled runs. SNS, SQS, CloudWatch alarms and
//! target health come from moto server; the new revision is a real HTTP server on 127.0.0.1.
//!
//! moto implements none of ECS's service-deployment API, and cannot create a LINEAR service, so
//! ECS is an `aws-smithy-mocks` client whose rules answer DescribeServices,
//! ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
//! ContinueServiceDeployment, StopServiceDeployment and TagResource from one shared state, with
//! the fields and values the ECS API reference documents for them (`ServiceDeployment`,
//! `DeploymentLifecycleHookDetail`, `ServiceRevision`, …), and record what was asked of them; the
//! tag index (GetResources) is a mocked Resource Groups Tagging API client listing the service.

use aws_sdk_ecs::operation::continue_service_deployment::ContinueServiceDeploymentOutput;
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::describe_service_revisions::DescribeServiceRevisionsOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::list_service_deployments::ListServiceDeploymentsOutput;
use aws_sdk_ecs::operation::stop_service_deployment::StopServiceDeploymentOutput;
use aws_sdk_ecs::operation::tag_resource::TagResourceOutput;
use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentController, DeploymentControllerType, DeploymentLifecycleHookAction, DeploymentLifecycleHookDetail,
    DeploymentLifecycleHookStatus, DeploymentLifecycleHookTargetType, DeploymentStrategy, Service, ServiceDeployment,
    ServiceDeploymentBrief, ServiceDeploymentLifecycleStage, ServiceDeploymentStatus, ServiceRevision, ServiceRevisionSummary,
    StopServiceDeploymentStopType, Tag,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use deckhand::adapters::aws::ecs::SdkEcs;
use deckhand::config::{FromEnv, GateConfig};
use deckhand::usecase::traffic_gate::TrafficGate;
use deckhand::wiring;
use deckhand_integration_tests::{HealthServer, Local, Reply, TestClock, attribute, document, index_listing, sample_event};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const NOW: u64 = 1_772_726_081;
const CLUSTER_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
const DEPLOYMENT_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/0EYSiB0qap8xf0N76FsbE";
const HOOK: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";
const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2";

/// What the mocked ECS holds, and what was asked of it.
#[derive(Debug)]
struct EcsState {
    tags: BTreeMap<String, String>,
    status: &'static str,
    hook: Option<&'static str>,
    started_at: u64,
    continued: Vec<DeploymentLifecycleHookAction>,
    stopped: Vec<StopServiceDeploymentStopType>,
}

type Shared = Arc<Mutex<EcsState>>;

fn revision_arn(n: u32) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/{n}")
}

fn service(state: &EcsState) -> Service {
    let tags = state.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
    Service::builder()
        .service_arn(SERVICE_ARN)
        .service_name("web")
        .cluster_arn(CLUSTER_ARN)
        .status("ACTIVE")
        .task_definition(NEW)
        .desired_count(2)
        .running_count(2)
        .deployment_controller(DeploymentController::builder().r#type(DeploymentControllerType::Ecs).build().unwrap())
        .deployment_configuration(DeploymentConfiguration::builder().strategy(DeploymentStrategy::Linear).bake_time_in_minutes(10).build())
        .set_tags(Some(tags.collect()))
        .build()
}

fn deployment(state: &EcsState) -> ServiceDeployment {
    let share = |n, weight| {
        ServiceRevisionSummary::builder()
            .arn(revision_arn(n))
            .requested_task_count(2)
            .running_task_count(2)
            .pending_task_count(0)
            .requested_production_traffic_weight(weight)
            .requested_test_traffic_weight(if n == 2 { 100.0 } else { 0.0 })
            .build()
    };
    let hooks = state.hook.map(|status| {
        DeploymentLifecycleHookDetail::builder()
            .hook_id(HOOK)
            .target_type(DeploymentLifecycleHookTargetType::from("PAUSE"))
            .status(DeploymentLifecycleHookStatus::from(status))
            .expires_at(DateTime::from_secs((state.started_at + 24 * 3600) as i64))
            .timeout_action(DeploymentLifecycleHookAction::Rollback)
            .build()
    });
    ServiceDeployment::builder()
        .service_deployment_arn(DEPLOYMENT_ARN)
        .service_arn(SERVICE_ARN)
        .cluster_arn(CLUSTER_ARN)
        .created_at(DateTime::from_secs(state.started_at as i64 - 5))
        .started_at(DateTime::from_secs(state.started_at as i64))
        .status(ServiceDeploymentStatus::from(state.status))
        .lifecycle_stage(ServiceDeploymentLifecycleStage::from("POST_TEST_TRAFFIC_SHIFT"))
        .source_service_revisions(share(1, 100.0))
        .target_service_revision(share(2, 0.0))
        .set_lifecycle_hook_details(hooks.map(|hook| vec![hook]))
        .deployment_configuration(DeploymentConfiguration::builder().strategy(DeploymentStrategy::Linear).bake_time_in_minutes(10).build())
        .build()
}

/// The mocked ECS: every rule answers from `state` and records what changed it.
fn ecs_rules(state: &Shared) -> Vec<Rule> {
    let at = |state: &Shared| state.clone();
    let (s1, s2, s3, s4, s5, s6) = (at(state), at(state), at(state), at(state), at(state), at(state));
    vec![
        mock!(aws_sdk_ecs::Client::describe_services)
            .then_compute_output(move |_| DescribeServicesOutput::builder().services(service(&s1.lock().unwrap())).build()),
        mock!(aws_sdk_ecs::Client::list_service_deployments).then_compute_output(move |req| {
            assert_eq!((req.cluster(), req.service()), (Some("prod"), Some("web")));
            let status = ServiceDeploymentStatus::from(s2.lock().unwrap().status);
            let brief =
                ServiceDeploymentBrief::builder().service_deployment_arn(DEPLOYMENT_ARN).service_arn(SERVICE_ARN).status(status).build();
            ListServiceDeploymentsOutput::builder().service_deployments(brief).build()
        }),
        mock!(aws_sdk_ecs::Client::describe_service_deployments).then_compute_output(move |req| {
            assert_eq!(req.service_deployment_arns(), [DEPLOYMENT_ARN.to_owned()]);
            DescribeServiceDeploymentsOutput::builder().service_deployments(deployment(&s3.lock().unwrap())).build()
        }),
        mock!(aws_sdk_ecs::Client::describe_service_revisions).then_compute_output(|req| {
            let revisions = req.service_revision_arns().iter().map(|arn| {
                let task_definition = if arn.ends_with("/1") { OLD } else { NEW };
                ServiceRevision::builder().service_revision_arn(arn).service_arn(SERVICE_ARN).task_definition(task_definition).build()
            });
            DescribeServiceRevisionsOutput::builder().set_service_revisions(Some(revisions.collect())).build()
        }),
        mock!(aws_sdk_ecs::Client::continue_service_deployment).then_compute_output(move |req| {
            assert_eq!((req.service_deployment_arn(), req.hook_id()), (Some(DEPLOYMENT_ARN), Some(HOOK)));
            let mut state = s4.lock().unwrap();
            let action = req.action().cloned().expect("an action");
            state.hook = Some("SUCCEEDED");
            if action == DeploymentLifecycleHookAction::Rollback {
                state.status = "ROLLBACK_REQUESTED";
            }
            state.continued.push(action);
            ContinueServiceDeploymentOutput::builder().service_deployment_arn(DEPLOYMENT_ARN).build()
        }),
        mock!(aws_sdk_ecs::Client::stop_service_deployment).then_compute_output(move |req| {
            assert_eq!(req.service_deployment_arn(), Some(DEPLOYMENT_ARN));
            let mut state = s5.lock().unwrap();
            state.status = "ROLLBACK_REQUESTED";
            state.stopped.push(req.stop_type().cloned().expect("a stop type"));
            StopServiceDeploymentOutput::builder().service_deployment_arn(DEPLOYMENT_ARN).build()
        }),
        mock!(aws_sdk_ecs::Client::tag_resource).then_compute_output(move |req| {
            assert_eq!(req.resource_arn(), Some(SERVICE_ARN));
            let mut state = s6.lock().unwrap();
            for tag in req.tags() {
                state.tags.insert(tag.key().unwrap_or_default().to_owned(), tag.value().unwrap_or_default().to_owned());
            }
            TagResourceOutput::builder().build()
        }),
    ]
}

/// The gate against the local AWS, its ECS mocked from `state`, at `clock`.
fn gate(local: &Local, state: &Shared, clock: &TestClock) -> wiring::SdkTrafficGate {
    let topic = local.topic.clone();
    let config = GateConfig::from_lookup(move |var| {
        let value = match var {
            "NOTIFY_TOPIC_ARN" => topic.as_str(),
            "CLUSTERS" => "prod",
            "GATE_TIMEOUT_MS" => "300",
            "GATE_INTERVAL_MS" => "20",
            "GATE_MAX_PROBES" => "6",
            "GATE_PROBE_HOSTS" => "127.0.0.1",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap();
    let mut ports = wiring::gate_ports(&config, &local.sdk);
    let listed = state.clone();
    let index = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
        .then_compute_output(move |_| index_listing(&[service(&listed.lock().unwrap())]));
    ports.ecs = SdkEcs::new(
        mock_client!(aws_sdk_ecs, RuleMode::MatchAny, &ecs_rules(state)),
        mock_client!(aws_sdk_resourcegroupstagging, [&index]),
    );
    TrafficGate::new(config, ports).with_clock(clock.clock())
}

fn state(tags: &[(&str, &str)], status: &'static str, hook: Option<&'static str>, started_at: u64) -> Shared {
    let mut all: BTreeMap<String, String> = [("deckhand:track", "latest")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Arc::new(Mutex::new(EcsState { tags: all, status, hook, started_at, continued: Vec::new(), stopped: Vec::new() }))
}

fn hook_event() -> Value {
    let mut event = sample_event("ecs-hook-awaiting-action.json");
    event["region"] = json!("us-east-1");
    event["detail"]["serviceArn"] = json!(SERVICE_ARN);
    event["detail"]["clusterArn"] = json!(CLUSTER_ARN);
    event["detail"]["serviceDeploymentArn"] = json!(DEPLOYMENT_ARN);
    event
}

/// A pause hook at POST_TEST_TRAFFIC_SHIFT of `prod/web`, whose new revision answers 200 behind
/// a target group with 2 healthy targets, and whose alarm `web-5xx` is in `alarm_state`.
async fn paused(alarm_state: &str) -> (Local, Shared, HealthServer, Value) {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let local = Local::start().await;
    local.aws.cpu_alarm("web-5xx", ("prod", "web"), true, 80.0, alarm_state, 10.0).await;
    let group = local.aws.target_group("green", 2).await;
    let tags =
        [("deckhand:gate-alarms", "web-5xx"), ("deckhand:gate-test-url", server.url.as_str()), ("deckhand:gate-target-group", &group)];
    let shared = state(&tags, "IN_PROGRESS", Some("AWAITING_ACTION"), NOW - 300);
    let outcome = json!(gate(&local, &shared, &TestClock::at(NOW)).handle(hook_event()).await.unwrap());
    (local, shared, server, outcome)
}

#[tokio::test]
async fn a_pause_hook_is_continued_when_the_evidence_passes() {
    let (local, shared, server, outcome) = paused("OK").await;
    assert_eq!(outcome["resources"][0]["verdict"], "pass", "{outcome}");
    assert_eq!(outcome["details"]["answer"], "CONTINUE");
    assert_eq!(shared.lock().unwrap().continued, [DeploymentLifecycleHookAction::Continue], "the request's action");
    assert_eq!(server.requests(), 2, "two consecutive successes");
    assert_eq!(shared.lock().unwrap().tags.get("deckhand:pause-announced").map(String::as_str), Some(HOOK));
    let messages = local.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "service")), ("gate.passed", "web"));
    assert!(document(&messages[0])["text"].as_str().unwrap().contains("ContinueServiceDeployment CONTINUE"));
}

#[tokio::test]
async fn a_pause_hook_is_rolled_back_when_an_alarm_is_in_alarm() {
    let (local, shared, server, outcome) = paused("ALARM").await;
    assert_eq!(outcome["resources"][0]["verdict"], "fail", "{outcome}");
    assert_eq!(shared.lock().unwrap().continued, [DeploymentLifecycleHookAction::Rollback], "the request's action");
    assert_eq!(server.requests(), 0, "the alarm decides before any probe");
    let messages = local.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("gate.failed", "warning"));
    assert!(document(&messages[0])["text"].as_str().unwrap().contains("web-5xx"));
}

#[tokio::test]
async fn a_deployment_past_its_deadline_raises_one_alert_across_two_runs() {
    let local = Local::start().await;
    let shared = state(&[("deckhand:progress-deadline", "45m")], "IN_PROGRESS", None, NOW - 50 * 60);
    let clock = TestClock::at(NOW);
    let schedule = sample_event("scheduled-recheck.json");

    let first = json!(gate(&local, &shared, &clock).handle(schedule.clone()).await.unwrap());
    clock.advance(300);
    let second = json!(gate(&local, &shared, &clock).handle(schedule).await.unwrap());

    assert_eq!(first["details"]["stuck"][0]["check"]["check"], "alert", "{first}");
    assert_eq!(second["details"]["stuck"][0]["check"]["check"], "alerted", "{second}");
    let messages = local.messages().await;
    assert_eq!(messages.len(), 1, "exactly one alert");
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("native.stuck", "critical"));
    let text = document(&messages[0])["text"].as_str().unwrap().to_owned();
    assert!(text.contains("in flight for 50 minutes, past its progress deadline of 45 minutes"), "{text}");
    let state = shared.lock().unwrap();
    assert_eq!(state.tags.get("deckhand:stuck-alerted").map(String::as_str), Some("0EYSiB0qap8xf0N76FsbE"));
    assert!(state.stopped.is_empty(), "not opted in to rollback");
}

#[tokio::test]
async fn an_opted_in_stuck_deployment_is_stopped_with_rollback_before_its_alert() {
    let local = Local::start().await;
    let shared = state(&[("deckhand:stuck-rollback", "true")], "IN_PROGRESS", None, NOW - 61 * 60);
    gate(&local, &shared, &TestClock::at(NOW)).handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(shared.lock().unwrap().stopped, [StopServiceDeploymentStopType::Rollback]);
    let messages = local.messages().await;
    assert!(document(&messages[0])["text"].as_str().unwrap().contains("Deckhand requested its rollback"));
}
