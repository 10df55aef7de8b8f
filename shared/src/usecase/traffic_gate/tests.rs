//! traffic-gate against the fakes: both hook shapes, the evidence that fails a shift, and the
//! status CodeDeploy is told.

mod analysis;
mod bounds;
mod evidence;
mod fault_matrix;
mod redelivery;

use super::*;
use crate::config::ProbeHosts;
use crate::fakes::{FakeAws, FakeCloudWatch, FakeCodeDeploy, FakeDeployment, FakeEcs, FakeElb, FakeProber, FakeService, FakeSns, Fault};
use crate::outcome::{Outcome, ResourceResult};
use crate::ports::{Alarm, DeploymentGroup, Target};

pub(super) type FakeGate = TrafficGate<FakeCodeDeploy, FakeCodeDeploy, FakeEcs, FakeElb, FakeCloudWatch, FakeProber, FakeSns>;

/// The gate on the fake AWS, probing with `prober`.
pub(super) fn fake_gate(aws: &FakeAws, prober: &FakeProber, config: GateConfig) -> FakeGate {
    let ports = GatePorts {
        codedeploy: aws.codedeploy.clone(),
        reporter: aws.codedeploy.clone(),
        ecs: aws.ecs.clone(),
        elb: aws.elb.clone(),
        alarms: aws.cloudwatch.clone(),
        prober: prober.clone(),
        notifier: aws.sns.clone(),
    };
    TrafficGate::new(config, ports)
}

const DEPLOYMENT: &str = "d-7HXW2M1KB";
const EXECUTION: &str = "exec-1";
const TEST_URL: &str = "http://web-test.internal:8080";
const ECS_HOOK: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/ecs-hook-test-traffic.json"));

const HEALTHY: [(bool, &str); 2] = [(true, "HTTP 200 in 3 ms"), (true, "HTTP 200 in 2 ms")];
const FAILING: [(bool, &str); 2] = [(false, "HTTP 500 in 4 ms"), (false, "HTTP 500 in 3 ms")];

fn config() -> GateConfig {
    GateConfig {
        notify_topic_arn: "arn:aws:sns:us-east-1:123456789012:deckhand".into(),
        path: "/health".into(),
        timeout_ms: 100,
        interval_ms: 1,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
        max_probes: 4,
        expected_status: vec![200],
        alarms: vec![],
        require_evidence: true,
        probe_hosts: ProbeHosts::parse(".internal").unwrap(),
        analysis: Default::default(),
        control: Default::default(),
    }
}

/// Service `prod/web` (2 tasks) whose gate probes `TEST_URL` and reads target group `tg-green`
/// (2 healthy targets), in CodeDeploy group `shop/web-bg` with deployment `DEPLOYMENT` under
/// way; the prober answers `probes`, then healthy.
struct World {
    aws: FakeAws,
    prober: FakeProber,
}

impl World {
    fn new(extra_tags: &[(&str, &str)], probes: impl IntoIterator<Item = (bool, &'static str)>) -> Self {
        let aws = FakeAws::new();
        let td = aws.ecs.add_task_definition("web", &[("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2")]);
        let mut service = FakeService::new("prod", "web", &td).tag(tags::GATE_TEST_URL, TEST_URL).tag(tags::GATE_TARGET_GROUP, "tg-green");
        for (key, value) in extra_tags {
            service = service.tag(key, value);
        }
        aws.ecs.add_service(service);
        let healthy = |id: &str| Target { id: id.into(), state: "healthy".into(), reason: None };
        aws.elb.set_targets("tg-green", vec![healthy("10.0.1.7"), healthy("10.0.2.9")]);
        let group = DeploymentGroup { services: vec![("prod".into(), "web".into())], ..DeploymentGroup::default() };
        aws.codedeploy.add_group("shop", "web-bg", group);
        aws.codedeploy.add_deployment(FakeDeployment {
            id: DEPLOYMENT.into(),
            application: "shop".into(),
            group: "web-bg".into(),
            task_definition: Some(td),
            status: "Created".into(),
            deployment_config: None,
            error: None,
        });
        Self { aws, prober: FakeProber::answering(probes) }
    }

    fn gate(&self) -> FakeGate {
        self.gate_with(config())
    }

    /// The gate with `config` instead of the default one.
    pub(super) fn gate_with(&self, config: GateConfig) -> FakeGate {
        fake_gate(&self.aws, &self.prober, config)
    }

    /// A CodeDeploy hook invocation for `deployment_id`: the outcome, or the handler's error.
    async fn codedeploy_hook(&self, deployment_id: &str) -> Result<Outcome, HandlerError> {
        let event = json!({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": EXECUTION});
        match self.gate().handle(event).await? {
            GateReply::CodeDeploy(outcome) => Ok(outcome),
            other => panic!("a CodeDeploy hook got another reply: {other:?}"),
        }
    }

    /// An ECS hook invocation: the reply as ECS reads it.
    async fn ecs_hook(&self, event: Value) -> Value {
        match self.gate().handle(event).await.expect("an ECS hook always gets a reply") {
            GateReply::Ecs(reply) => serde_json::to_value(reply).unwrap(),
            other => panic!("an ECS hook got another reply: {other:?}"),
        }
    }

    fn published(&self) -> Vec<&'static str> {
        self.aws.sns.published().iter().map(|n| n.event).collect()
    }
}

fn alarm(name: &str, state: &str) -> Alarm {
    Alarm::new(name, state, None)
}

/// The test listener's health URL, probed `count` times.
fn probed(count: usize) -> Vec<String> {
    vec![format!("{TEST_URL}/health"); count]
}

/// The outcome's one resource: its name, verdict and checks.
fn gated(outcome: &Outcome) -> (&str, &Verdict, u32) {
    assert_eq!(outcome.resources.len(), 1, "{outcome:?}");
    match &outcome.resources[0].result {
        ResourceResult::Gated { verdict, checks, .. } => (outcome.resources[0].resource.as_str(), verdict, *checks),
        other => panic!("not a gate result: {other:?}"),
    }
}

/// The verdict's failure reasons, joined; panics when it did not fail.
fn reasons(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Fail { reasons } => reasons.join("; "),
        other => panic!("expected a failed verdict, got {other:?}"),
    }
}

#[tokio::test]
async fn codedeploy_hook_with_healthy_probes_reports_succeeded_and_passes() {
    let world = World::new(&[], HEALTHY);
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), true)]);
    assert_eq!(gated(&outcome), ("prod/web", &Verdict::Pass, 2));
    assert_eq!(world.prober.urls(), probed(2), "probed the test listener until healthy_threshold successes");
    assert_eq!(world.published(), ["gate.passed"]);
    assert_eq!(world.aws.faults.count("elasticloadbalancing:DescribeTargetHealth"), 2);
}

#[tokio::test]
async fn codedeploy_hook_with_failing_probes_reports_failed() {
    let world = World::new(&[], FAILING);
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
    let (_, verdict, checks) = gated(&outcome);
    assert!(reasons(verdict).contains("HTTP 500"), "{verdict:?}");
    assert_eq!(checks, 2, "stops at unhealthy_threshold, not max_probes");
    assert_eq!(world.published(), ["gate.failed"]);
}

#[tokio::test]
async fn codedeploy_hook_that_never_becomes_healthy_fails_after_max_probes() {
    let flapping = [(true, "HTTP 200"), (false, "HTTP 500"), (true, "HTTP 200"), (false, "HTTP 500")];
    let world = World::new(&[], flapping);
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.prober.urls().len(), 4, "max_probes");
    assert!(reasons(gated(&outcome).1).contains("flapping"), "{outcome:?}");
    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
}

#[tokio::test]
async fn frozen_service_fails_the_gate_without_probing() {
    let world = World::new(&[(tags::FREEZE, "failover to us-west-2")], HEALTHY);
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
    assert!(reasons(gated(&outcome).1).contains("frozen"), "{outcome:?}");
    assert!(world.prober.urls().is_empty(), "a frozen service is not probed: {:?}", world.prober.urls());
    assert_eq!(world.published(), ["gate.failed"]);
}

#[tokio::test]
async fn alarm_in_alarm_named_by_the_service_tag_fails_the_gate() {
    let world = World::new(&[(tags::GATE_ALARMS, "web-5xx web-p99")], HEALTHY);
    world.aws.cloudwatch.put_alarm(alarm("web-5xx", "ALARM"));
    world.aws.cloudwatch.put_alarm(alarm("web-p99", "OK"));
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
    let why = reasons(gated(&outcome).1);
    assert!(why.contains("alarms in ALARM: web-5xx") && !why.contains("web-p99"), "{why}");
    assert!(world.prober.urls().is_empty());
    assert_eq!(world.published(), ["gate.failed"]);
}

/// Issue 12: a composite alarm (several signals in one) is named like any alarm; the port reads
/// both kinds (the SDK adapter asks DescribeAlarms for both, see tests/tests/traffic_gate.rs).
#[tokio::test]
async fn a_composite_alarm_in_alarm_fails_the_gate_and_one_that_is_ok_passes_it() {
    let world = World::new(&[(tags::GATE_ALARMS, "web-health web-5xx")], HEALTHY);
    world.aws.cloudwatch.put_alarm(Alarm::new("web-health", "ALARM", None));
    world.aws.cloudwatch.put_alarm(alarm("web-5xx", "OK"));
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();
    let why = reasons(gated(&outcome).1);
    assert!(why.contains("alarms in ALARM: web-health") && !why.contains("not found"), "{why}");
    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);

    let world = World::new(&[(tags::GATE_ALARMS, "web-health web-5xx")], HEALTHY);
    world.aws.cloudwatch.put_alarm(Alarm::new("web-health", "OK", None));
    world.aws.cloudwatch.put_alarm(alarm("web-5xx", "OK"));
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();
    assert_eq!(gated(&outcome).1, &Verdict::Pass, "{outcome:?}");
    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), true)]);
}

#[tokio::test]
async fn unknown_deployment_still_reports_failed() {
    let world = World::new(&[], HEALTHY);
    let outcome = world.codedeploy_hook("d-UNKNOWN").await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [("d-UNKNOWN".to_owned(), EXECUTION.to_owned(), false)]);
    let (resource, verdict, _) = gated(&outcome);
    assert_eq!(resource, "deployment d-UNKNOWN");
    assert!(reasons(verdict).contains("could not find what deployment \"d-UNKNOWN\" deploys"), "{verdict:?}");
    assert!(world.prober.urls().is_empty());
    assert_eq!(world.published(), ["gate.failed"]);
}

#[tokio::test]
async fn ecs_hook_calls_back_until_healthy_threshold_then_succeeds() {
    let world = World::new(&[], HEALTHY);
    let first_event: Value = serde_json::from_str(ECS_HOOK).unwrap();
    let first = world.ecs_hook(first_event.clone()).await;

    assert_eq!(first["hookStatus"], "IN_PROGRESS", "{first}");
    assert_eq!(first["callBackDelay"], 1, "interval_ms rounded up to whole seconds");
    assert_eq!((first["hookDetails"]["checks"].clone(), first["hookDetails"]["probes"].as_array().map(Vec::len)), (json!(1), Some(1)));
    assert!(world.published().is_empty(), "no message while in progress");

    let mut second_event = first_event;
    second_event["hookDetails"] = first["hookDetails"].clone();
    let second = world.ecs_hook(second_event).await;

    assert_eq!(second["hookStatus"], "SUCCEEDED", "{second}");
    assert!(second.get("callBackDelay").is_none(), "{second}");
    assert_eq!(second["hookDetails"]["checks"], 2);
    assert_eq!(second["hookDetails"]["probes"].as_array().map(Vec::len), Some(2), "the first call's probe was carried");
    assert_eq!(world.prober.urls(), probed(2));
    assert_eq!(world.published(), ["gate.passed"]);
    assert!(world.aws.codedeploy.hook_reports().is_empty(), "an ECS hook answers in its reply, not through CodeDeploy");
}
