//! A step that fails stops the plan there and fails the invocation; nothing records a flip that
//! did not happen, and the same event delivered again finishes the job from what it observes.

use super::*;

#[tokio::test]
async fn a_refused_dns_change_fails_the_invocation_records_no_flip_and_the_same_alarm_finishes_the_job() {
    let world = World::new(false, true);
    world.aws.faults.fail_always("route53:ChangeResourceRecordSets", Fault::Error);
    let err = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap_err();

    assert!(err.to_string().contains("route53:ChangeResourceRecordSets"), "{err}");
    assert_eq!((world.standby().desired, world.aws.dns.serving_now()), (6, Some(Side::Primary)), "pre-scaled, then stopped");
    assert!(!world.primary().tags.contains_key(tags::FREEZE), "the plan stopped at DNS");
    assert!(!world.primary().tags.contains_key(tags::LAST_FLIP) && !world.standby().tags.contains_key(tags::LAST_FLIP));
    let notices = world.aws.sns.published();
    assert_eq!(world.published(), ["failover.incomplete"]);
    assert!(notices[0].text.contains("move_dns failed") && notices[0].text.contains("health checks"), "{}", notices[0].text);

    world.aws.faults.clear();
    world.advance(60);
    let retry = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(steps(&retry), named(&[("move_dns", "done"), ("freeze", "done"), ("record_flip", "done")]), "no dwell hold");
    assert_eq!(world.aws.dns.changes(), [Side::Standby]);
    assert_eq!(world.standby().tags.get(tags::LAST_FLIP), Some(&format!("standby:{}", NOW + 60)));
    assert_eq!(world.published(), ["failover.incomplete", "failover.failed_over"]);
}

#[tokio::test]
async fn a_failed_pre_scale_stops_the_plan_before_traffic_moves() {
    let world = World::new(false, true);
    world.aws.faults.fail_nth("ecs:UpdateService", 1, Fault::Error);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap_err();

    assert_eq!(world.aws.dns.serving_now(), Some(Side::Primary), "no traffic onto a standby that was not scaled");
    assert!(world.aws.dns.changes().is_empty() && !world.primary().tags.contains_key(tags::FREEZE));

    let retry = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(steps(&retry), named(&[("scale", "done"), ("move_dns", "done"), ("freeze", "done"), ("record_flip", "done")]));
}

#[tokio::test]
async fn a_denied_freeze_fails_the_invocation_and_the_same_alarm_finishes_within_the_dwell() {
    let world = World::new(false, true);
    world.aws.faults.fail_nth("ecs:TagResource", 1, Fault::Error);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap_err();
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby));
    assert!(!world.standby().tags.contains_key(tags::LAST_FLIP));

    world.advance(30);
    let retry = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(steps(&retry), named(&[("freeze", "done"), ("record_flip", "done")]));
    assert!(world.primary().tags.contains_key(tags::FREEZE));
    assert_eq!(world.published(), ["failover.incomplete", "failover.failed_over"]);
}
