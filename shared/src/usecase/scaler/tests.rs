//! scaler: alarm state changes and the schedule's re-check, against the fakes.

use super::*;
use crate::config::DEFAULT_SCALING_ALARM_PREFIX;
use crate::fakes::{FakeAws, FakeClock, FakeCloudWatch, FakeCodeDeploy, FakeEcs, FakeService, FakeSns, Fault, sample_event};
use crate::ports::{EcsDeployment, MetricQuery};

mod at_max;
mod current_load;
mod failed_steps;
mod fault_matrix;

const HIGH: &str = "deckhand-scale-prod-web-cpu-high";
const LOW: &str = "deckhand-scale-prod-web-cpu-low";
const T0: u64 = 1_795_000_000;

/// prod/web's average CPU, by the minute.
fn cpu() -> MetricQuery {
    MetricQuery {
        namespace: "AWS/ECS".into(),
        name: "CPUUtilization".into(),
        dimensions: [("ClusterName", "prod"), ("ServiceName", "web")].map(|(k, v)| (k.to_owned(), v.to_owned())).into(),
        period: 60,
        statistic: "Average".into(),
    }
}

/// A CPU alarm on prod/web in ALARM, as DescribeAlarms returns it; `latest` is the newest
/// datapoint of its state reason data (the metric itself has none unless a test sets it).
fn cpu_alarm(name: &str, comparison: &str, threshold: f64, latest: f64) -> ScalingAlarm {
    ScalingAlarm {
        name: name.into(),
        state: "ALARM".into(),
        comparison: Some(comparison.into()),
        threshold: Some(threshold),
        watched: Watched::Metric(cpu()),
        reason_datapoint: Some(latest),
    }
}

/// The alarm of `cloudwatch-alarm-scale-out.json`: 91.2 % against 70 %.
fn high() -> ScalingAlarm {
    cpu_alarm(HIGH, "GreaterThanThreshold", 70.0, 91.2)
}

/// The alarm of `cloudwatch-alarm-scale-in.json`: 10.8 % against 30 %.
fn low() -> ScalingAlarm {
    cpu_alarm(LOW, "LessThanThreshold", 30.0, 10.8)
}

struct World {
    aws: FakeAws,
    clock: FakeClock,
    scaler: Scaler<FakeCloudWatch, FakeEcs, FakeCodeDeploy, FakeSns>,
}

impl World {
    /// prod/web opted in with 2 tasks (then shaped by `service`), `alarm` in CloudWatch, the clock at T0.
    fn new(alarm: ScalingAlarm, service: impl FnOnce(FakeService) -> FakeService) -> Self {
        Self::in_clusters(&["prod"], alarm, service)
    }

    fn in_clusters(clusters: &[&str], alarm: ScalingAlarm, service: impl FnOnce(FakeService) -> FakeService) -> Self {
        let aws = FakeAws::new();
        let td = aws.ecs.add_task_definition("web", &[("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1")]);
        aws.ecs.add_service(service(FakeService::new("prod", "web", &td).tag(tags::SCALE, "true")));
        aws.cloudwatch.put_scaling_alarm(alarm);
        let clock = FakeClock::at(T0);
        let config = ScalerConfig {
            notify_topic_arn: "arn:aws:sns:us-east-1:123456789012:deckhand".into(),
            alarm_prefix: DEFAULT_SCALING_ALARM_PREFIX.into(),
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
        };
        let (cloudwatch, ecs, codedeploy, sns) = (aws.cloudwatch.clone(), aws.ecs.clone(), aws.codedeploy.clone(), aws.sns.clone());
        let scaler = Scaler::new(config, cloudwatch, ecs, codedeploy, sns, clock.clock());
        Self { aws, clock, scaler }
    }

    async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        self.scaler.handle(event).await
    }

    /// The result for the one service the event concerned.
    async fn handle_one(&self, event: &str) -> ResourceResult {
        let outcome = self.handle(sample_event(event)).await.expect("handled");
        assert_eq!(outcome.resources.len(), 1, "{outcome:?}");
        outcome.resources[0].result.clone()
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }

    fn web(&self) -> FakeService {
        self.aws.ecs.service("prod", "web")
    }

    fn last_scale(&self) -> Option<String> {
        self.web().tags.get(tags::LAST_SCALE).cloned()
    }

    fn published(&self) -> Vec<&'static str> {
        self.aws.sns.published().iter().map(|n| n.event).collect()
    }
}

fn is_held(result: &ResourceResult, decision: Decision) -> bool {
    matches!(result, ResourceResult::Held { decision: held, .. } if *held == decision)
}

#[tokio::test]
async fn alarm_without_the_prefix_is_ignored_without_a_call() {
    let w = World::new(high(), |s| s);
    let mut event = sample_event("cloudwatch-alarm-scale-out.json");
    event["detail"]["alarmName"] = json!("prod-web-cpu-high");
    let outcome = w.handle(event).await.unwrap();
    assert!(outcome.ignored.as_deref().unwrap_or_default().contains("not a scaling alarm"), "{outcome:?}");
    assert_eq!((w.aws.faults.calls(), w.web().desired, w.published()), (vec![], 2, vec![]));
}

#[tokio::test]
async fn ok_state_is_ignored_without_a_call() {
    let w = World::new(high(), |s| s);
    let outcome = w.handle(sample_event("cloudwatch-alarm-ok.json")).await.unwrap();
    assert!(outcome.ignored.as_deref().unwrap_or_default().contains("only ALARM scales"), "{outcome:?}");
    assert_eq!((w.aws.faults.calls(), w.web().desired, w.published()), (vec![], 2, vec![]));
}

#[tokio::test]
async fn service_without_the_scale_tag_is_left_alone() {
    let w = World::new(high(), |mut s| {
        s.tags.remove(tags::SCALE);
        s
    });
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(&result, ResourceResult::Ignored { reason } if reason.contains("not opted in")), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (2, None, vec![]));
    assert_eq!(w.aws.faults.count("ecs:UpdateService") + w.aws.faults.count("ecs:TagResource"), 0);
}

#[tokio::test]
async fn scale_out_adds_a_task_records_the_cooldown_and_notifies() {
    let w = World::new(high(), |s| s);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(result, ResourceResult::Scaled { direction: Direction::Out, from: 2, to: 3, .. }), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale()), (3, Some(format!("out:{T0}"))));
    assert_eq!(w.published(), ["scaling.out"]);
    assert_eq!(w.aws.sns.published()[0].subject, "Scaled out prod/web: 2 -> 3 tasks");
}

#[tokio::test]
async fn alarm_again_within_the_out_cooldown_is_held() {
    let w = World::new(high(), |s| s);
    w.handle_one("cloudwatch-alarm-scale-out.json").await;
    w.advance(30);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(is_held(&result, Decision::Cooldown { remaining_seconds: 30 }), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, Some(format!("out:{T0}")), vec!["scaling.out"]));
}

#[tokio::test]
async fn recheck_scales_further_once_the_cooldown_passed_and_stays_quiet_at_the_maximum() {
    let w = World::new(high(), |s| s);
    w.handle_one("cloudwatch-alarm-scale-out.json").await;
    w.advance(59);
    let result = w.handle_one("scheduled-recheck.json").await;
    assert!(is_held(&result, Decision::Cooldown { remaining_seconds: 1 }), "{result:?}");
    assert_eq!(w.web().desired, 3);

    w.advance(1);
    let result = w.handle_one("scheduled-recheck.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 3, to: 4, .. }), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale()), (4, Some(format!("out:{}", T0 + 60))));
    assert_eq!(w.published(), ["scaling.out", "scaling.out"]);

    // Past the cooldown again, at the maximum: held, and no warning at a re-check.
    w.advance(120);
    let result = w.handle_one("scheduled-recheck.json").await;
    assert!(is_held(&result, Decision::AtLimit { desired: 4, limit: 4 }), "{result:?}");
    assert_eq!((w.web().desired, w.published().len()), (4, 2));
}

#[tokio::test]
async fn alarm_at_the_maximum_warns_and_changes_nothing() {
    let w = World::new(high(), |s| s.tasks(4, 4));
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(
        matches!(result, ResourceResult::Held { decision: Decision::AtLimit { desired: 4, limit: 4 }, notified: true, .. }),
        "{result:?}"
    );
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (4, None, vec!["scaling.at_max"]));
    assert_eq!(w.aws.sns.published()[0].severity, crate::notify::Severity::Warning);
    assert_eq!(w.aws.faults.count("ecs:UpdateService"), 0);
}

#[tokio::test]
async fn scale_in_waits_until_the_deployment_in_flight_ends() {
    let w = World::new(low(), |mut s| {
        let old = EcsDeployment { id: "ecs-svc/old".into(), status: "ACTIVE".into(), task_definition: s.task_definition.clone() };
        s.deployments.push(old);
        s.tasks(3, 3)
    });
    let result = w.handle_one("cloudwatch-alarm-scale-in.json").await;
    assert!(is_held(&result, Decision::DeploymentInFlight), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, None, vec![]));

    w.aws.ecs.update_service("prod", "web", |s| s.deployments.truncate(1));
    let result = w.handle_one("cloudwatch-alarm-scale-in.json").await;
    assert!(matches!(result, ResourceResult::Scaled { direction: Direction::In, from: 3, to: 2, .. }), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (2, Some(format!("in:{T0}")), vec!["scaling.in"]));
}

#[tokio::test]
async fn clusters_given_as_arns_still_scale() {
    let w = World::in_clusters(&["arn:aws:ecs:us-east-1:123456789012:cluster/prod"], high(), |s| s);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 2, to: 3, .. }), "{result:?}");
    assert_eq!(w.web().desired, 3);
}
