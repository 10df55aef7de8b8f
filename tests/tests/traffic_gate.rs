//! `traffic-gate` with a real HTTP server on 127.0.0.1 as the new revision, alarms and target
//! health from moto server. moto does not implement CodeDeploy's
//! PutLifecycleEventHookExecutionStatus, so that one call goes to an `aws-smithy-mocks` client
//! whose rule asserts the deployment id, hook execution id and status sent, or answers as
//! CodeDeploy answers a hook execution that already has its status. moto has no composite alarms:
//! the test of one reads DescribeAlarms from `cloudwatch_like_aws`.

mod cloudwatch_like_aws;

use aws_sdk_codedeploy::operation::put_lifecycle_event_hook_execution_status::PutLifecycleEventHookExecutionStatusOutput;
use aws_sdk_codedeploy::types::LifecycleEventStatus;
use aws_smithy_mocks::{Rule, mock, mock_client};
use cloudwatch_like_aws::CloudWatchLikeAws;
use deckhand::adapters::aws::cloudwatch::SdkCloudWatch;
use deckhand::adapters::aws::codedeploy::SdkCodeDeploy;
use deckhand::config::{GateConfig, ProbeHosts};
use deckhand::usecase::traffic_gate::TrafficGate;
use deckhand::wiring;
use deckhand_integration_tests::{HealthServer, Local, Reply, attribute, document, refused_url, sample_event};
use serde_json::{Value, json};
use std::time::Duration;

const EXECUTION: &str = "exec-1";

fn config(topic: &str) -> GateConfig {
    GateConfig {
        notify_topic_arn: topic.into(),
        path: "/health".into(),
        timeout_ms: 300,
        interval_ms: 20,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
        max_probes: 6,
        expected_status: vec![200],
        alarms: vec![],
        require_evidence: true,
        probe_hosts: ProbeHosts::Any,
        analysis: Default::default(),
        control: Default::default(),
    }
}

/// Cluster `prod`, service `web` (2 tasks) whose gate probes `url`, a target group with
/// `healthy` targets, and a CodeDeploy group for it with one deployment: (local, deployment id).
async fn world(url: &str, healthy: usize, extra_tags: &[(&str, &str)]) -> (Local, String) {
    let local = Local::start().await;
    let aws = &local.aws;
    aws.create_cluster("prod").await;
    aws.create_codedeploy_group("shop", "web-bg", ("prod", "web")).await;
    let group = aws.target_group("web-green", healthy).await;
    let td = aws.register_web_task_definition("web", "v1").await;
    let mut tags = vec![("deckhand:gate-test-url", url), ("deckhand:gate-target-group", group.as_str())];
    tags.extend_from_slice(extra_tags);
    aws.create_service("prod", "web", &td, &tags, true).await;
    let deployment = aws.start_codedeploy_deployment("shop", "web-bg").await;
    (local, deployment)
}

/// A rule that accepts exactly this report.
fn report_rule(deployment_id: &str, status: LifecycleEventStatus) -> Rule {
    let deployment_id = deployment_id.to_owned();
    mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .match_requests(move |req| {
            req.deployment_id() == Some(deployment_id.as_str())
                && req.lifecycle_event_hook_execution_id() == Some(EXECUTION)
                && req.status() == Some(&status)
        })
        .then_output(|| PutLifecycleEventHookExecutionStatusOutput::builder().lifecycle_event_hook_execution_id(EXECUTION).build())
}

/// CodeDeploy's answer to a report for a hook execution that already has a status (an earlier
/// attempt's report arrived, its answer was lost), as the API reference gives the error: HTTP 400,
/// error type `LifecycleEventAlreadyCompletedException`.
fn already_completed_rule(deployment_id: &str) -> Rule {
    let deployment_id = deployment_id.to_owned();
    let body = r#"{"__type":"LifecycleEventAlreadyCompletedException","message":"The lifecycle event has already completed."}"#;
    mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
        .match_requests(move |req| {
            req.deployment_id() == Some(deployment_id.as_str()) && req.lifecycle_event_hook_execution_id() == Some(EXECUTION)
        })
        .sequence()
        .http_status(400, Some(body.to_owned()))
        .build()
}

/// The gate against the local AWS, reporting through `rule`'s mocked client.
async fn codedeploy_hook(local: &Local, deployment_id: &str, rule: &Rule) -> Value {
    let mut ports = wiring::gate_ports(&config(&local.topic), &local.sdk);
    ports.reporter = SdkCodeDeploy::new(mock_client!(aws_sdk_codedeploy, [rule]));
    let gate = TrafficGate::new(config(&local.topic), ports);
    json!(gate.handle(json!({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": EXECUTION})).await.unwrap())
}

/// The same, with DescribeAlarms answered by `cloudwatch` (composite alarms: moto has none).
async fn codedeploy_hook_reading(local: &Local, deployment_id: &str, rule: &Rule, cloudwatch: &CloudWatchLikeAws) -> Value {
    let mut ports = wiring::gate_ports(&config(&local.topic), &local.sdk);
    ports.reporter = SdkCodeDeploy::new(mock_client!(aws_sdk_codedeploy, [rule]));
    ports.alarms = SdkCloudWatch::new(cloudwatch.client(&local.sdk));
    let gate = TrafficGate::new(config(&local.topic), ports);
    json!(gate.handle(json!({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": EXECUTION})).await.unwrap())
}

/// The gate with `config`, reporting through `rule`'s mocked client.
async fn codedeploy_hook_with(local: &Local, deployment_id: &str, rule: &Rule, config: GateConfig) -> Value {
    let mut ports = wiring::gate_ports(&config, &local.sdk);
    ports.reporter = SdkCodeDeploy::new(mock_client!(aws_sdk_codedeploy, [rule]));
    let gate = TrafficGate::new(config, ports);
    json!(gate.handle(json!({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": EXECUTION})).await.unwrap())
}

fn reasons(outcome: &Value) -> String {
    outcome["resources"][0]["reasons"].to_string()
}

#[tokio::test]
async fn a_healthy_revision_passes_and_codedeploy_hears_succeeded() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Succeeded);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert_eq!(outcome["resources"][0]["verdict"], "pass", "{outcome}");
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(server.requests(), 2, "two consecutive successes are enough");
    assert_eq!(outcome["details"]["evidence"]["target_health"]["healthy"], 2);
    let messages = local.messages().await;
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("gate.passed", "info"));
    assert!(document(&messages[0])["text"].as_str().unwrap().contains("Probes:   2 of 2 passed"));
}

#[tokio::test]
async fn a_retry_that_finds_the_hook_already_answered_succeeds_and_announces_its_recheck() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = already_completed_rule(&deployment);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert_eq!(outcome["resources"][0]["verdict"], "pass", "{outcome}");
    assert_eq!(rule.num_calls(), 1, "already completed is done: no second report");
    let messages = local.messages().await;
    assert_eq!(messages.len(), 1, "the retry announces what it found");
    assert_eq!(attribute(&messages[0], "event"), "gate.passed");
    let message = document(&messages[0]);
    assert_eq!(message["subject"], "Traffic gate re-check passed: prod/web");
    assert!(message["text"].as_str().unwrap().contains("CodeDeploy already had this hook's status"), "{message}");
}

#[tokio::test]
async fn server_errors_fail_the_gate() {
    let server = HealthServer::start(vec![Reply::Status(500)]);
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert_eq!(outcome["resources"][0]["verdict"], "fail");
    assert!(reasons(&outcome).contains("HTTP 500"), "{outcome}");
    assert_eq!(rule.num_calls(), 1);
    let messages = local.messages().await;
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("gate.failed", "warning"));
    assert!(document(&messages[0])["text"].as_str().unwrap().contains("Probes:   0 of 2 passed"));
}

#[tokio::test]
async fn a_server_that_hangs_past_the_timeout_fails() {
    let server = HealthServer::start(vec![Reply::Hang(Duration::from_secs(3))]);
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert!(reasons(&outcome).contains("timed out after 300 ms"), "{outcome}");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn connection_refused_fails_with_a_clear_reason() {
    let (local, deployment) = world(&refused_url(), 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert!(reasons(&outcome).contains("connection refused"), "{outcome}");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn flapping_is_not_healthy_until_two_successes_in_a_row() {
    let server = HealthServer::start(vec![Reply::Status(200), Reply::Status(503), Reply::Status(200), Reply::Status(200)]);
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Succeeded);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert_eq!(outcome["resources"][0]["verdict"], "pass", "{outcome}");
    assert_eq!(server.requests(), 4, "ok, fail, ok is not healthy; the fourth probe makes two in a row");
}

#[tokio::test]
async fn alarms_freeze_and_missing_targets_fail_the_gate() {
    let server = HealthServer::start(vec![Reply::Status(200)]);

    // An alarm named for the service is in ALARM: no probe is even needed.
    let (local, deployment) = world(&server.url, 2, &[("deckhand:gate-alarms", "web-5xx web-latency")]).await;
    local.aws.cpu_alarm("web-5xx", ("prod", "web"), true, 5.0, "ALARM", 12.0).await;
    local.aws.cpu_alarm("web-latency", ("prod", "web"), true, 1.0, "OK", 0.2).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);
    let outcome = codedeploy_hook(&local, &deployment, &rule).await;
    assert!(reasons(&outcome).contains("alarms in ALARM: web-5xx"), "{outcome}");
    assert_eq!((rule.num_calls(), server.requests()), (1, 0));

    // A frozen service (e.g. by region failover) refuses every shift.
    let (local, deployment) = world(&server.url, 2, &[("deckhand:freeze", "failover to us-west-2")]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);
    let outcome = codedeploy_hook(&local, &deployment, &rule).await;
    assert!(reasons(&outcome).contains("frozen (deckhand:freeze = failover to us-west-2)"), "{outcome}");

    // One healthy target for a service that wants two.
    let (local, deployment) = world(&server.url, 1, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);
    let outcome = codedeploy_hook(&local, &deployment, &rule).await;
    assert!(reasons(&outcome).contains("1 healthy targets") && reasons(&outcome).contains("wants 2"), "{outcome}");
}

/// Issue 12: a composite alarm named for the gate was invisible (DescribeAlarms without
/// AlarmTypes returns metric alarms only), so it read as missing and blocked every shift. Read
/// beside a metric alarm: in ALARM it fails the gate, OK it lets the shift pass. DescribeAlarms
/// comes from `cloudwatch_like_aws` (moto has no composite alarms); the rest from moto.
#[tokio::test]
async fn a_composite_alarm_for_the_gate_fails_it_in_alarm_and_passes_it_when_ok() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let tags = [("deckhand:gate-alarms", "web-health web-5xx")];
    let cloudwatch = CloudWatchLikeAws::new("us-east-1");
    cloudwatch.put_composite_alarm("web-health", r#"ALARM("web-5xx") OR ALARM("web-latency")"#, "ALARM");
    cloudwatch.put_metric_alarm("web-5xx", "OK");

    let (local, deployment) = world(&server.url, 2, &tags).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);
    let outcome = codedeploy_hook_reading(&local, &deployment, &rule, &cloudwatch).await;

    assert!(reasons(&outcome).contains("alarms in ALARM: web-health"), "{outcome}");
    assert!(!reasons(&outcome).contains("not found") && !reasons(&outcome).contains("web-5xx"), "{outcome}");
    assert_eq!((rule.num_calls(), server.requests()), (1, 0), "CodeDeploy hears Failed; nothing probed");
    assert_eq!(attribute(&local.messages().await[0], "event"), "gate.failed");

    cloudwatch.put_composite_alarm("web-health", r#"ALARM("web-5xx") OR ALARM("web-latency")"#, "OK");
    let (local, deployment) = world(&server.url, 2, &tags).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Succeeded);
    let outcome = codedeploy_hook_reading(&local, &deployment, &rule, &cloudwatch).await;

    assert_eq!(outcome["resources"][0]["verdict"], "pass", "{outcome}");
    assert_eq!(rule.num_calls(), 1, "CodeDeploy hears Succeeded");
    assert_eq!(attribute(&local.messages().await[0], "event"), "gate.passed");
    assert!(cloudwatch.describe_calls() >= 2);
}

#[tokio::test]
async fn when_the_gate_cannot_gather_evidence_it_still_reports_failed() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let (local, _) = world(&server.url, 2, &[]).await;
    // A group whose service does not exist.
    local.aws.create_codedeploy_group("ghost", "ghost-bg", ("prod", "ghost")).await;
    let deployment = local.aws.start_codedeploy_deployment("ghost", "ghost-bg").await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert!(reasons(&outcome).contains("service prod/ghost does not exist"), "{outcome}");
    assert_eq!(rule.num_calls(), 1, "Failed is reported, so CodeDeploy rolls back at once");
}

#[tokio::test]
async fn the_ecs_hook_carries_its_probe_history_and_succeeds_only_after_the_threshold() {
    let server = HealthServer::start(vec![Reply::Status(200), Reply::Status(500), Reply::Status(200), Reply::Status(200)]);
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    let group = local.aws.target_group("web-green", 2).await;
    let td = local.aws.register_web_task_definition("web", "v1").await;
    local
        .aws
        .create_service(
            "prod",
            "web",
            &td,
            &[("deckhand:gate-test-url", server.url.as_str()), ("deckhand:gate-target-group", group.as_str())],
            false,
        )
        .await;
    let ports = wiring::gate_ports(&config(&local.topic), &local.sdk);
    let gate = TrafficGate::new(config(&local.topic), ports);

    let mut event = sample_event("ecs-hook-test-traffic.json");
    let mut statuses = Vec::new();
    loop {
        let response = json!(gate.handle(event.clone()).await.unwrap());
        let status = response["hookStatus"].as_str().unwrap().to_owned();
        statuses.push(status.clone());
        if status != "IN_PROGRESS" {
            break;
        }
        assert_eq!(response["callBackDelay"], 1);
        event["hookDetails"] = response["hookDetails"].clone();
        assert!(statuses.len() < 10, "the gate must decide");
    }

    assert_eq!(statuses, ["IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]);
    assert_eq!(server.requests(), 4, "one probe per call");
    let messages = local.messages().await;
    assert_eq!(messages.len(), 1, "the verdict is announced once, not every call");
    assert_eq!(attribute(&messages[0], "event"), "gate.passed");
}

#[tokio::test]
async fn the_ecs_hook_fails_when_the_service_is_frozen() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    let td = local.aws.register_web_task_definition("web", "v1").await;
    local
        .aws
        .create_service("prod", "web", &td, &[("deckhand:gate-test-url", server.url.as_str()), ("deckhand:freeze", "true")], false)
        .await;
    let gate = TrafficGate::new(config(&local.topic), wiring::gate_ports(&config(&local.topic), &local.sdk));

    let response = json!(gate.handle(sample_event("ecs-hook-test-traffic.json")).await.unwrap());

    assert_eq!(response["hookStatus"], "FAILED");
    assert!(response["hookDetails"]["verdict"]["reasons"].to_string().contains("frozen"), "{response}");
}

/// Issue 13 item 10: with `GATE_PROBE_HOSTS`, a probe URL from a tag reaches only an allowed
/// host. The host checked is the one the client connects to: `http://NAME@127.0.0.1:PORT` goes
/// to 127.0.0.1 whatever NAME says, and is refused unprobed; CodeDeploy hears Failed.
#[tokio::test]
async fn probes_reach_only_the_hosts_gate_probe_hosts_allows() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let disguised = server.url.replace("http://", "http://web.internal.example.com@");
    let (local, deployment) = world(&disguised, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);
    let only_internal = GateConfig { probe_hosts: ProbeHosts::parse(".internal.example.com").unwrap(), ..config(&local.topic) };

    let outcome = codedeploy_hook_with(&local, &deployment, &rule, only_internal).await;

    assert!(reasons(&outcome).contains(r#"probe host \"127.0.0.1\""#) && reasons(&outcome).contains("GATE_PROBE_HOSTS"), "{outcome}");
    assert_eq!((rule.num_calls(), server.requests()), (1, 0), "Failed reported, no request sent");
    let message = document(&local.messages().await[0]);
    assert!(message["text"].as_str().unwrap().contains("not allowed by GATE_PROBE_HOSTS"), "{message}");

    // Allowed by address: probed, and it passes with no note.
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Succeeded);
    let loopback = GateConfig { probe_hosts: ProbeHosts::parse("127.0.0.1").unwrap(), ..config(&local.topic) };
    let outcome = codedeploy_hook_with(&local, &deployment, &rule, loopback).await;
    assert_eq!((outcome["resources"][0]["verdict"].as_str(), rule.num_calls(), server.requests()), (Some("pass"), 1, 2), "{outcome}");
    assert!(outcome["resources"][0].get("caveats").is_none(), "{outcome}");

    // Unset: any host is probed, and the verdict says the host was not restricted.
    let (local, deployment) = world(&server.url, 2, &[]).await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Succeeded);
    let outcome = codedeploy_hook(&local, &deployment, &rule).await;
    assert_eq!(outcome["resources"][0]["caveats"], json!(["probe host \"127.0.0.1\" is not restricted: GATE_PROBE_HOSTS is unset"]));
    assert_eq!(server.requests(), 4);
}

/// Issue 13 items 5 and 6, against a real server: an overflowing budget in `hookDetails` (a
/// debug build panicked, a release build restarted the budget) and an unknown lifecycle stage
/// (it passed on target health alone) each fail the hook, naming the field, and send nothing.
#[tokio::test]
async fn the_ecs_hook_refuses_a_tampered_budget_and_an_unknown_stage_unprobed() {
    let server = HealthServer::start(vec![Reply::Status(200)]);
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    let group = local.aws.target_group("web-green", 2).await;
    let td = local.aws.register_web_task_definition("web", "v1").await;
    let tags = [("deckhand:gate-test-url", server.url.as_str()), ("deckhand:gate-target-group", group.as_str())];
    local.aws.create_service("prod", "web", &td, &tags, false).await;
    let gate = TrafficGate::new(config(&local.topic), wiring::gate_ports(&config(&local.topic), &local.sdk));

    let mut tampered = sample_event("ecs-hook-test-traffic.json");
    tampered["hookDetails"] = json!({"checks": 4294967295u64, "probes": []});
    let response = json!(gate.handle(tampered).await.unwrap());
    assert_eq!(response["hookStatus"], "FAILED", "{response}");
    assert!(response["hookDetails"]["verdict"]["reasons"][0].as_str().unwrap().starts_with("field `hookDetails.checks`"), "{response}");

    let mut misspelt = sample_event("ecs-hook-test-traffic.json");
    misspelt["lifecycleStage"] = json!("POST_TEST_TRAFFIC");
    let response = json!(gate.handle(misspelt).await.unwrap());
    assert_eq!(response["hookStatus"], "FAILED", "{response}");
    assert!(response["hookDetails"]["verdict"]["reasons"][0].as_str().unwrap().starts_with("field `lifecycleStage`"), "{response}");

    assert_eq!(server.requests(), 0, "nothing probed");
    let messages = local.messages().await;
    assert_eq!(messages.len(), 2, "each refusal is announced");
    assert!(messages.iter().all(|m| document(m)["subject"] == "Traffic gate FAILED: prod/web"), "{messages:?}");
}

/// Issue 13 item 7: a service with no URL and no target group is gated on nothing; by default
/// that fails (CodeDeploy hears Failed), the notice listing what was missing.
#[tokio::test]
async fn a_gate_with_nothing_to_check_fails_by_default() {
    let local = Local::start().await;
    let aws = &local.aws;
    aws.create_cluster("prod").await;
    aws.create_codedeploy_group("shop", "web-bg", ("prod", "web")).await;
    let td = aws.register_web_task_definition("web", "v1").await;
    aws.create_service("prod", "web", &td, &[], true).await;
    let deployment = aws.start_codedeploy_deployment("shop", "web-bg").await;
    let rule = report_rule(&deployment, LifecycleEventStatus::Failed);

    let outcome = codedeploy_hook(&local, &deployment, &rule).await;

    assert!(reasons(&outcome).contains("no evidence about the new revision"), "{outcome}");
    assert_eq!(rule.num_calls(), 1);
    let text = document(&local.messages().await[0])["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Missing:  target health") && text.contains("Missing:  HTTP probes"), "{text}");
}
