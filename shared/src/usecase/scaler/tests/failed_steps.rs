//! A step interrupted by a failed call (UpdateService, the notice, the marker): the retry, or the
//! schedule's re-check, finishes it and announces it once, under one id.

use super::*;

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
