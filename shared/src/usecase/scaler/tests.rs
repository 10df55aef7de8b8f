//! scaler: alarm state changes and the schedule's re-check, against the fakes.

use super::*;
use crate::config::DEFAULT_SCALING_ALARM_PREFIX;
use crate::fakes::{FakeAws, FakeClock, FakeCloudWatch, FakeCodeDeploy, FakeEcs, FakeService, FakeSns, Fault, sample_event};
use crate::ports::{EcsDeployment, MetricQuery};

mod at_max;
mod current_load;
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
async fn failed_update_service_fails_the_invocation_and_the_retry_scales() {
    let w = World::new(high(), |s| s);
    w.aws.faults.fail_nth("ecs:UpdateService", 1, Fault::Error);
    let err = w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
    assert!(matches!(&err, HandlerError::Incomplete { failed: 1, total: 1, .. }), "{err}");
    assert!(err.to_string().contains("InternalFailure"), "{err}");
    // Only the intent is recorded: it does not hold the retry, which finishes it.
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (2, Some(format!("out:{T0}:2:3")), vec![]));

    w.advance(10);
    let retry = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(retry, ResourceResult::Scaled { from: 2, to: 3, .. }), "{retry:?}");
    // Finished as recorded, at the intent's time.
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, Some(format!("out:{T0}")), vec!["scaling.out"]));
}

#[tokio::test]
async fn invocations_finishing_one_intent_announce_it_with_one_id() {
    // The intent of a step whose UpdateService failed. Lambda's retry of the alarm's event and the
    // schedule's re-check both read it, before either writes.
    let intent = format!("out:{T0}:2:3");
    let w = World::new(high(), |s| s.tag(tags::LAST_SCALE, &intent));
    w.advance(10);
    let retry = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(retry, ResourceResult::Scaled { from: 2, to: 3, .. }), "{retry:?}");
    assert_eq!(w.aws.faults.count("ecs:TagResource"), 1, "the intent is recorded already: only the done marker is written");
    // The re-check, on the service as it read it.
    w.aws.ecs.update_service("prod", "web", |s| {
        s.desired = 2;
        s.tags.insert(tags::LAST_SCALE.into(), intent.clone());
    });
    w.advance(10);
    let recheck = w.handle_one("scheduled-recheck.json").await;
    assert!(matches!(recheck, ResourceResult::Scaled { from: 2, to: 3, .. }), "{recheck:?}");
    let ids: Vec<_> = w.aws.sns.published().into_iter().map(|n| n.dedup_key).collect();
    assert_eq!(ids, vec![Some(format!("{}:out:{T0}:2->3", w.web().arn)); 2]);
    assert_eq!((w.web().desired, w.last_scale()), (3, Some(format!("out:{T0}"))));
}

#[tokio::test]
async fn an_unannounced_step_is_announced_by_an_alarm_of_its_direction_only() {
    let w = World::new(low(), |s| s.tasks(3, 3));
    w.aws.faults.fail_nth("sns:Publish", 1, Fault::Error);
    w.handle(sample_event("cloudwatch-alarm-scale-in.json")).await.unwrap_err();
    assert_eq!((w.web().desired, w.last_scale()), (2, Some(format!("in:{T0}:3:2"))));

    // The high alarm's event, the alarm read back OK (it flapped): not the step's cause.
    w.aws.cloudwatch.put_scaling_alarm(ScalingAlarm { state: "OK".into(), ..high() });
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(&result, ResourceResult::Ignored { reason } if reason.contains("OK")), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (2, Some(format!("in:{T0}:3:2")), vec![]));

    // Lambda's retry of the low alarm's event announces it, citing the low alarm.
    let retry = w.handle_one("cloudwatch-alarm-scale-in.json").await;
    assert!(matches!(retry, ResourceResult::Scaled { direction: Direction::In, from: 3, to: 2, .. }), "{retry:?}");
    assert_eq!((w.last_scale(), w.published()), (Some(format!("in:{T0}")), vec!["scaling.in"]));
    assert!(w.aws.sns.published()[0].text.contains(LOW), "{:?}", w.aws.sns.published()[0].text);
}

#[tokio::test]
async fn a_count_a_person_set_is_not_announced_by_the_opposite_alarm() {
    // An out intent 2 -> 3 whose UpdateService failed, and then a person set 3 tasks.
    let w = World::new(low(), |s| s.tasks(3, 3).tag(tags::LAST_SCALE, &format!("out:{T0}:2:3")));
    w.advance(10);
    let result = w.handle_one("cloudwatch-alarm-scale-in.json").await;
    assert!(is_held(&result, Decision::Cooldown { remaining_seconds: 290 }), "{result:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, Some(format!("out:{T0}:2:3")), vec![]));
}

#[tokio::test]
async fn lost_update_service_answer_is_announced_by_the_retry_without_a_second_step() {
    let w = World::new(high(), |s| s);
    w.aws.faults.fail_nth("ecs:UpdateService", 1, Fault::LostResponse);
    w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
    assert_eq!((w.web().desired, w.published()), (3, vec![]));

    let retry = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(retry, ResourceResult::Scaled { from: 2, to: 3, .. }), "{retry:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, Some(format!("out:{T0}")), vec!["scaling.out"]));
    assert_eq!(w.aws.faults.count("ecs:UpdateService"), 1);
}

#[tokio::test]
async fn failed_publish_fails_the_invocation_and_the_retry_sends_it_though_the_alarm_is_ok() {
    let w = World::new(high(), |s| s);
    w.aws.faults.fail_nth("sns:Publish", 1, Fault::Error);
    let err = w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
    assert!(err.to_string().contains("sns:Publish"), "{err}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, Some(format!("out:{T0}:2:3")), vec![]));

    // The load is gone by the time Lambda retries: the step is announced all the same.
    w.aws.cloudwatch.put_scaling_alarm(ScalingAlarm { state: "OK".into(), ..high() });
    let retry = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(retry, ResourceResult::Scaled { from: 2, to: 3, .. }), "{retry:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (3, Some(format!("out:{T0}")), vec!["scaling.out"]));
    let dedup = w.aws.sns.published()[0].dedup_key.clone();
    assert_eq!(dedup, Some(format!("{}:out:{T0}:2->3", w.web().arn)));
}

#[tokio::test]
async fn failed_marker_write_after_the_notice_repeats_it_with_its_id_and_scales_once() {
    let w = World::new(high(), |s| s);
    w.aws.faults.fail_nth("ecs:TagResource", 2, Fault::Error);
    w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
    w.handle_one("cloudwatch-alarm-scale-out.json").await;
    let published = w.aws.sns.published();
    assert_eq!((published.len(), &published[0].dedup_key), (2, &published[1].dedup_key));
    assert_eq!((w.web().desired, w.last_scale()), (3, Some(format!("out:{T0}"))));
}

#[tokio::test]
async fn failed_at_max_warning_fails_the_invocation_and_the_retry_sends_it() {
    let w = World::new(high(), |s| s.tasks(4, 4));
    w.aws.faults.fail_nth("sns:Publish", 1, Fault::Throttled);
    w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
    let retry = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(retry, ResourceResult::Held { notified: true, .. }), "{retry:?}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (4, None, vec!["scaling.at_max"]));
}

#[tokio::test]
async fn clusters_given_as_arns_still_scale() {
    let w = World::in_clusters(&["arn:aws:ecs:us-east-1:123456789012:cluster/prod"], high(), |s| s);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 2, to: 3, .. }), "{result:?}");
    assert_eq!(w.web().desired, 3);
}
