//! region-failover's fault matrix: its main scenarios with a fault at every AWS call of the clean
//! run, then the same event delivered again, as Lambda retries it.

use super::*;
use crate::fakes::matrix;
use std::collections::{BTreeMap, BTreeSet};

/// What a scenario leaves behind: each region's service (counts and every tag: freeze,
/// last-flip, the remembered count), where DNS points and how often it changed, and the messages
/// that report the outcome, by event and deduplication id (a retry may repeat one, never lose
/// one). Not compared: the `failover.incomplete` notices, which a failed attempt sends on purpose
/// and a clean run never does.
#[derive(Debug, PartialEq)]
struct Left {
    services: [(i32, i32, BTreeMap<String, String>); 2],
    serving: Option<Side>,
    dns_changes: usize,
    notices: BTreeSet<(&'static str, Option<String>)>,
}

fn left(world: &World) -> Left {
    let service = |s: FakeService| (s.desired, s.running, s.tags.clone());
    Left {
        services: [service(world.primary()), service(world.standby())],
        serving: world.aws.dns.serving_now(),
        dns_changes: world.aws.dns.changes().len(),
        notices: world
            .aws
            .sns
            .published()
            .into_iter()
            .filter(|n| n.event != "failover.incomplete")
            .map(|n| (n.event, n.dedup_key))
            .collect(),
    }
}

/// A world set up for a scenario, the event the scenario delivers, and the function's settings.
struct Delivery(World, &'static str, FailoverConfig);

impl matrix::World for Delivery {
    type State = Left;

    fn faults(&self) -> &Faults {
        &self.0.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.0.function_with(self.2.clone()).handle(sample_event(self.1)).await.map(drop)
    }

    fn state(&self) -> Left {
        left(&self.0)
    }
}

/// The primary's health alarm goes off while the standby is healthy: a full failover.
fn primary_alarm() -> Delivery {
    Delivery(World::new(false, true), "failover-primary-alarm.json", failover_config())
}

/// An operator's failback once the primary has been healthy past the stabilization window, after
/// a complete failover (set up in the fakes directly, so that the matrix counts only its calls).
fn operator_failback() -> Delivery {
    let world = World::new(true, true);
    let flip = format!("standby:{NOW}");
    world.east.update_service("prod", "web", |s| {
        s.tags.insert(tags::FREEZE.into(), "failover to us-west-2 at 2026-11-18T08:26:40Z".into());
        s.tags.insert(tags::LAST_FLIP.into(), flip.clone());
    });
    world.west.update_service("prod", "web", |s| {
        (s.desired, s.running) = (6, 6);
        s.tags.insert(tags::LAST_FLIP.into(), flip.clone());
    });
    world.aws.dns.set_serving(Some(Side::Standby));
    world.advance(900);
    Delivery(world, "failover-failback.json", failover_config())
}

/// The primary's alarm goes off and its ECS API does not answer (a region down, on its own fault
/// script, which the matrix does not touch): the standby is raised to the remembered count.
fn primary_down() -> Delivery {
    let primary_faults = Faults::default();
    primary_faults.fail_always("ecs:DescribeServices", Fault::Error);
    Delivery(World::with_primary_faults(&primary_faults, false, true), "failover-primary-alarm.json", failover_config())
}

/// The primary's alarm goes off; the standby runs an older image and its registry lacks the
/// primary's: under `warn`, a full failover whose notice says so.
fn standby_image_behind() -> Delivery {
    let world = World::new(false, true);
    standby_images::deploy(&world.east, standby_images::NEW);
    standby_images::deploy(&world.west, standby_images::OLD);
    Delivery(world, "failover-primary-alarm.json", failover_config())
}

/// The primary's alarm goes off under `STANDBY_IMAGE_CHECK=refuse`, the standby's images in
/// order: a check that fails moves nothing and is retried.
fn refuse_images_in_order() -> Delivery {
    let config = FailoverConfig { image_check: crate::config::StandbyImageCheck::Refuse, ..failover_config() };
    Delivery(World::new(false, true), "failover-primary-alarm.json", config)
}

#[tokio::test]
async fn fault_matrix() {
    let cells = [
        matrix::run("region-failover: a primary alarm fails over fully", primary_alarm).await,
        matrix::run("region-failover: an operator's failback after stabilization", operator_failback).await,
        matrix::run("region-failover: a primary alarm while the primary's ECS is down", primary_down).await,
        matrix::run("region-failover: a primary alarm, the standby's image behind (warn)", standby_image_behind).await,
        matrix::run("region-failover: a primary alarm under refuse, the standby's images in order", refuse_images_in_order).await,
    ];
    println!("fault matrix region-failover: {} scenarios, {} cells", cells.len(), cells.iter().sum::<usize>());
}
