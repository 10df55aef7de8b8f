//! The gate's control of ECS-native deployments: its decisions table-tested, and pause hooks,
//! operator requests and stuck detection against the fakes, with a fault at every call.

mod decisions;
mod operator;
mod pause;
mod requests;
mod stuck;

use super::super::GateReply;
use crate::config::{FromEnv, GateConfig};
use crate::error::HandlerError;
use crate::fakes::{FakeAws, FakeClock, FakeProber, FakeService, native_deployment, pause_hook, sample_event};
use crate::outcome::Outcome;
use crate::ports::{Alarm, NativeDeployment, Target};
use crate::tags;
use serde_json::{Value, json};

use super::super::tests::{FakeGate, fake_gate};

/// The test's "now": 2026-03-05T15:54:41Z, when the sample hook event was sent.
const NOW: u64 = 1_772_726_081;
const HOOK: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:deckhand";

fn config(extra: &'static [(&'static str, &'static str)]) -> GateConfig {
    let defaults = [
        ("NOTIFY_TOPIC_ARN", TOPIC),
        ("GATE_INTERVAL_MS", "1"),
        ("GATE_MAX_PROBES", "4"),
        ("GATE_PROBE_HOSTS", ".internal"),
        ("CLUSTERS", "prod"),
        ("AWS_LAMBDA_FUNCTION_NAME", "deckhand-traffic-gate"),
    ];
    GateConfig::from_lookup(|var| extra.iter().chain(defaults.iter()).find(|(name, _)| *name == var).map(|(_, value)| value.to_string()))
        .expect("a valid configuration")
}

/// Service `prod/web`, tracked, on LINEAR, whose gate reads alarm `web-5xx` (OK), target group
/// `tg-green` (2 healthy targets) and probes the test URL; its deployment `d1` (web:1 → web:2)
/// started 5 minutes ago and is paused at POST_TEST_TRAFFIC_SHIFT on `HOOK`.
struct World {
    aws: FakeAws,
    clock: FakeClock,
    prober: FakeProber,
    config: GateConfig,
}

impl World {
    fn new(extra_tags: &[(&str, &str)]) -> Self {
        let aws = FakeAws::new();
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web";
        let old = aws.ecs.add_task_definition("web", &[("web", &format!("{image}:v1"))]);
        let new = aws.ecs.add_task_definition("web", &[("web", &format!("{image}:v2"))]);
        let mut service = FakeService::new("prod", "web", &new)
            .strategy(crate::ports::Strategy::Linear)
            .tag(tags::TRACK, "latest")
            .tag(tags::GATE_TEST_URL, "http://web-test.internal:8080")
            .tag(tags::GATE_TARGET_GROUP, "tg-green")
            .tag(tags::GATE_ALARMS, "web-5xx");
        for (key, value) in extra_tags {
            service = service.tag(key, value);
        }
        let mut deployment = native_deployment(&service, 1, &old, &new);
        deployment.stage = Some("POST_TEST_TRAFFIC_SHIFT".into());
        deployment.started_at = Some(NOW - 300);
        deployment.hooks.push(pause_hook(HOOK, NOW + 600));
        service.native.push(deployment);
        aws.ecs.add_service(service);
        aws.cloudwatch.put_alarm(Alarm::new("web-5xx", "OK", None));
        let healthy = |id: &str| Target { id: id.into(), state: "healthy".into(), reason: None };
        aws.elb.set_targets("tg-green", vec![healthy("10.0.1.7"), healthy("10.0.2.9")]);
        Self { aws, clock: FakeClock::at(NOW), prober: FakeProber::default(), config: config(&[]) }
    }

    fn gate(&self) -> FakeGate {
        fake_gate(&self.aws, &self.prober, self.config.clone()).with_clock(self.clock.clock())
    }

    async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        match self.gate().handle(event).await? {
            GateReply::Control(outcome) => Ok(outcome),
            other => panic!("a control input got a hook's reply: {other:?}"),
        }
    }

    /// The service's only deployment, as ECS shows it now.
    fn deployment(&self) -> NativeDeployment {
        self.aws.ecs.service("prod", "web").native[0].clone()
    }

    fn tag(&self, key: &str) -> Option<String> {
        self.aws.ecs.service("prod", "web").tags.get(key).cloned()
    }

    fn published(&self) -> Vec<(&'static str, Option<String>)> {
        self.aws.sns.published().into_iter().map(|n| (n.event, n.dedup_key)).collect()
    }
}

/// The sample `HOOK_AWAITING_ACTION` event, about `prod/web`'s deployment `d1`.
fn hook_event() -> Value {
    let mut event = sample_event("ecs-hook-awaiting-action.json");
    event["detail"]["serviceArn"] = json!("arn:aws:ecs:us-east-1:123456789012:service/prod/web");
    event["detail"]["serviceDeploymentArn"] = json!(deployment_arn());
    event
}

fn deployment_arn() -> String {
    "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/d1".into()
}
