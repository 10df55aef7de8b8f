//! What people change by hand between runs — DNS moved, a configured service missing in one
//! region — and operators' requests that fail more than once.

use super::*;

#[tokio::test]
async fn a_failover_after_dns_was_moved_back_by_hand_is_announced_frozen_and_recorded() {
    let world = World::new(false, true);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    // The primary recovers; a person moves DNS back and lifts the freeze, leaving the record.
    world.health(Side::Primary, true);
    world.advance(3600);
    world.aws.dns.set_serving(Some(Side::Primary));
    world.east.update_service("prod", "web", |s| {
        s.tags.remove(tags::FREEZE);
    });

    let again = world.handle(json!({"action": "failover"})).await.unwrap();
    assert_eq!(steps(&again), named(&[("move_dns", "done"), ("freeze", "done"), ("record_flip", "done")]));
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby));
    assert!(world.primary().tags.contains_key(tags::FREEZE));
    let flip = format!("standby:{}", NOW + 3600);
    assert_eq!((world.primary().tags.get(tags::LAST_FLIP), world.standby().tags.get(tags::LAST_FLIP)), (Some(&flip), Some(&flip)));
    assert_eq!(world.published(), ["failover.failed_over", "failover.failed_over"]);
}

#[tokio::test]
async fn a_failback_after_dns_was_moved_by_hand_without_a_record_is_announced_and_recorded() {
    let world = World::new(true, true);
    world.aws.dns.set_serving(Some(Side::Standby));
    world.advance(3600);

    let back = world.handle(sample_event("failover-failback.json")).await.unwrap();
    assert_eq!(steps(&back), named(&[("move_dns", "done"), ("record_flip", "done")]));
    assert_eq!(world.primary().tags.get(tags::LAST_FLIP), Some(&format!("primary:{}", NOW + 3600)));
    assert_eq!(world.published(), ["failover.failed_back"]);
}

/// `prod/web` and `prod/jobs` configured; `prod/jobs` exists only on `side`.
fn with_jobs_only_on(world: &World, side: Side) -> FakeFailover {
    let ecs = if side == Side::Primary { &world.east } else { &world.west };
    let image = [("jobs", "123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs:v3")];
    ecs.add_service(FakeService::new("prod", "jobs", &ecs.add_task_definition("jobs", &image)).tasks(3, 3));
    let mut config = failover_config();
    config.services.push(("prod".into(), "jobs".into()));
    world.function_with(config)
}

#[tokio::test]
async fn a_service_missing_on_the_standby_does_not_fail_the_runs_that_remember_counts() {
    let world = World::new(true, true);
    world.east.update_service("prod", "web", |s| (s.desired, s.running) = (9, 9));
    let function = with_jobs_only_on(&world, Side::Primary);

    let outcome = function.handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(steps(&outcome), named(&[("remember_primary_count", "done")]), "web only");
    assert_eq!(world.standby().tags.get(tags::PRIMARY_DESIRED).map(String::as_str), Some("9"));
    assert!(steps(&function.handle(sample_event("scheduled-recheck.json")).await.unwrap()).is_empty());
}

#[tokio::test]
async fn remembering_counts_is_best_effort() {
    let world = World::new(true, true);
    world.east.update_service("prod", "web", |s| (s.desired, s.running) = (9, 9));
    world.aws.faults.fail_nth("ecs:TagResource", 1, Fault::Error);

    let outcome = world.handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(steps(&outcome), named(&[("remember_primary_count", "failed")]));
    let outcome = world.handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(steps(&outcome), named(&[("remember_primary_count", "done")]), "a later run remembers it");
    assert!(world.published().is_empty());
}

#[tokio::test]
async fn a_service_missing_on_the_primary_leaves_a_flip_done_once_recorded() {
    let world = World::new(false, true);
    let function = with_jobs_only_on(&world, Side::Standby);

    let over = function.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(steps(&over), named(&[("scale", "done"), ("move_dns", "done"), ("freeze", "done"), ("record_flip", "done")]));
    world.advance(60);
    let again = function.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert!(steps(&again).is_empty(), "{again:?}");
    assert_eq!(world.published(), ["failover.failed_over"]);
}

#[tokio::test]
async fn each_failed_operator_attempt_gets_its_own_notice() {
    let world = World::new(true, true);
    world.aws.faults.fail_always("route53:ChangeResourceRecordSets", Fault::Error);
    world.handle(json!({"action": "failover"})).await.unwrap_err();
    world.advance(60);
    world.handle(json!({"action": "failover"})).await.unwrap_err();

    let keys: Vec<_> = world.aws.sns.published().into_iter().map(|n| n.dedup_key).collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1], "{keys:?}");
    assert!(keys.iter().all(|k| k.as_deref().is_some_and(|k| k.contains("incomplete"))), "{keys:?}");
}
