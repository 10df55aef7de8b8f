//! A real outage of the primary: its ECS API does not answer. The standby is pre-scaled from
//! what is known of the primary (the counts it remembers, else its own maximum), and the primary
//! is frozen by the first run that can read it again.

use super::*;

/// The primary's alarm in ALARM and its ECS failing every call, on its own fault script.
fn primary_down(primary_faults: &Faults) -> World {
    primary_faults.fail_always("ecs:DescribeServices", Fault::Error);
    World::with_primary_faults(primary_faults, false, true)
}

#[tokio::test]
async fn the_standby_is_raised_to_the_remembered_count_and_the_primary_frozen_once_it_answers() {
    let primary_faults = Faults::default();
    let world = primary_down(&primary_faults);
    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert_eq!(steps(&outcome), named(&[("scale", "done"), ("move_dns", "done"), ("record_flip", "done")]));
    assert_eq!(world.standby().desired, 6, "the primary's count, as remembered on the standby");
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby));
    assert_eq!(world.standby().tags.get(tags::LAST_FLIP), Some(&format!("standby:{NOW}")));
    assert!(!world.primary().tags.contains_key(tags::FREEZE));
    let notices = world.aws.sns.published();
    assert_eq!(world.published(), ["failover.failed_over"]);
    assert!(notices[0].text.contains("us-east-1 could not be read"), "{}", notices[0].text);

    primary_faults.clear();
    world.advance(60);
    let later = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(steps(&later), named(&[("freeze", "done"), ("record_flip", "done")]));
    let primary = world.primary();
    assert!(primary.tags.get(tags::FREEZE).is_some_and(|v| v.starts_with("failover to us-west-2")), "{:?}", primary.tags);
    assert_eq!(primary.tags.get(tags::LAST_FLIP), Some(&format!("standby:{NOW}")), "the flip's own time, not the later run's");
    assert_eq!(world.published(), ["failover.failed_over"], "the flip was announced once");
    assert_eq!(world.aws.dns.changes(), [Side::Standby]);
}

#[tokio::test]
async fn without_a_remembered_count_the_standby_is_raised_to_its_scale_max() {
    let primary_faults = Faults::default();
    let world = primary_down(&primary_faults);
    world.west.update_service("prod", "web", |s| {
        s.tags.remove(tags::PRIMARY_DESIRED);
        s.tags.insert(tags::SCALE_MAX.into(), "10".into());
    });
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert_eq!((world.standby().desired, world.aws.dns.serving_now()), (10, Some(Side::Standby)));
}

#[tokio::test]
async fn the_standby_remembers_the_primary_count_while_it_serves_and_writes_only_changes() {
    let world = World::new(true, true);
    world.west.update_service("prod", "web", |s| {
        s.tags.remove(tags::PRIMARY_DESIRED);
    });
    let recheck = || world.handle(sample_event("scheduled-recheck.json"));

    assert_eq!(steps(&recheck().await.unwrap()), named(&[("remember_primary_count", "done")]));
    assert_eq!(world.standby().tags.get(tags::PRIMARY_DESIRED).map(String::as_str), Some("6"));
    assert!(steps(&recheck().await.unwrap()).is_empty(), "unchanged: no call");
    assert_eq!(world.aws.faults.count("ecs:TagResource"), 1);

    world.east.update_service("prod", "web", |s| (s.desired, s.running) = (9, 9));
    recheck().await.unwrap();
    assert_eq!(world.standby().tags.get(tags::PRIMARY_DESIRED).map(String::as_str), Some("9"));
    assert!(world.published().is_empty());
}
