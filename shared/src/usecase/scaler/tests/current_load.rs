//! What the scaler goes by: the scheduler's re-check, the metric's current value rather than the
//! alarm's frozen datapoints, and alarms it cannot size from, said as they are.

use super::*;

/// prod/web allowed up to 10 tasks: room for the stale reading to show.
fn up_to_ten(s: FakeService) -> FakeService {
    s.tag(tags::SCALE_MAX, "10")
}

#[tokio::test]
async fn the_schedulers_payload_is_a_recheck() {
    // What EventBridge Scheduler (the template's ScheduleV2, no Input) delivers: `detail` is a string.
    let event = sample_event("scheduled-recheck.json");
    assert_eq!((event["source"].as_str(), event["detail"].as_str()), (Some("aws.scheduler"), Some("{}")));
    let w = World::new(high(), |s| s);
    let result = w.handle_one("scheduled-recheck.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 2, to: 3, .. }), "{result:?}");
    assert_eq!(w.web().desired, 3);
}

#[tokio::test]
async fn a_recheck_sizes_from_the_metric_now_not_the_alarms_frozen_datapoints() {
    // 140 % on 2 tasks against 70 %: 4 tasks.
    let w = World::new(cpu_alarm(HIGH, "GreaterThanThreshold", 70.0, 140.0), up_to_ten);
    w.aws.cloudwatch.set_metric(&cpu(), Some(140.0));
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 2, to: 4, .. }), "{result:?}");

    // The load is down to 80 %; the alarm stays in ALARM, its reason data still says 140 %.
    w.aws.cloudwatch.set_metric(&cpu(), Some(80.0));
    w.advance(60);
    let result = w.handle_one("scheduled-recheck.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 4, to: 5, metric: Some(80.0), .. }), "not 8: {result:?}");
    assert_eq!(w.web().desired, 5);
    assert!(w.aws.sns.published()[1].text.contains("CPUUtilization 80.0 (threshold 70.0)"), "{}", w.aws.sns.published()[1].text);
}

#[tokio::test]
async fn without_a_datapoint_the_alarms_own_stand_in() {
    let w = World::new(cpu_alarm(HIGH, "GreaterThanThreshold", 70.0, 140.0), up_to_ten);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 2, to: 4, metric: Some(140.0), .. }), "{result:?}");
    assert_eq!(w.aws.faults.count("cloudwatch:GetMetricStatistics"), 1);
}

#[tokio::test]
async fn a_failed_metric_read_fails_the_invocation_and_changes_nothing() {
    let w = World::new(high(), |s| s);
    w.aws.faults.fail_nth("cloudwatch:GetMetricStatistics", 1, Fault::Throttled);
    let err = w.handle(sample_event("scheduled-recheck.json")).await.unwrap_err();
    assert!(err.to_string().contains("cloudwatch:GetMetricStatistics"), "{err}");
    assert_eq!((w.web().desired, w.last_scale(), w.published()), (2, None, vec![]));
}

#[tokio::test]
async fn a_composite_alarm_is_ignored_for_what_it_is() {
    let composite = ScalingAlarm {
        comparison: None,
        threshold: None,
        watched: Watched::Composite { rule: format!("ALARM(\"{HIGH}-cpu\") OR ALARM(\"{HIGH}-memory\")") },
        reason_datapoint: None,
        ..high()
    };
    let w = World::new(composite, |s| s);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(
        matches!(&result, ResourceResult::Ignored { reason } if reason.starts_with("composite alarms are not supported")),
        "{result:?}"
    );
    assert_eq!((w.web().desired, w.published()), (2, vec![]));
}

#[tokio::test]
async fn a_metric_math_alarm_is_ignored_for_what_it_is() {
    let math = ScalingAlarm {
        watched: Watched::MetricMath { expression: Some("MAX([m1, m2])".into()), services: vec!["prod/web".into()] },
        ..high()
    };
    let w = World::new(math, |s| s);
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    let ResourceResult::Ignored { reason } = &result else { panic!("{result:?}") };
    assert!(reason.starts_with("metric-math alarms are not supported"), "{reason}");
    assert!(reason.contains("MAX([m1, m2])") && reason.contains("prod/web"), "{reason}");
    assert!(!reason.contains("no ClusterName"), "{reason}");
}

#[tokio::test]
async fn an_alarm_gone_since_it_fired_is_named() {
    let w = World::new(ScalingAlarm { name: "deckhand-scale-other".into(), ..high() }, |s| s);
    let outcome = w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert_eq!(outcome.ignored.as_deref(), Some(format!("alarm {HIGH} does not exist (any more)").as_str()), "{outcome:?}");
}
