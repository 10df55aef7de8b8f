//! Stuck deployments on the schedule: one critical alert per deployment, a rollback first where
//! the service opted in, whatever fails on the way.

use super::*;
use crate::fakes::{Faults, matrix};
use std::collections::BTreeSet;

fn schedule() -> Value {
    sample_event("scheduled-recheck.json")
}

/// `World` with its deployment started `minutes` ago and no hook.
fn started(extra_tags: &[(&str, &str)], minutes: u64) -> World {
    let world = World::new(extra_tags);
    world.aws.ecs.update_service("prod", "web", |s| {
        s.native[0].started_at = Some(NOW - minutes * 60);
        s.native[0].hooks.clear();
    });
    world
}

#[tokio::test]
async fn a_deployment_past_its_deadline_is_alerted_once() {
    let world = started(&[], 61);
    let outcome = world.handle(schedule()).await.unwrap();
    assert_eq!(world.published(), [("native.stuck", Some("stuck:d1".into()))]);
    let alert = &world.aws.sns.published()[0];
    assert_eq!(alert.severity, crate::notify::Severity::Critical);
    assert!(alert.text.contains("in flight for 61 minutes, past its progress deadline of 60 minutes"), "{}", alert.text);
    assert!(alert.text.contains(tags::STUCK_ROLLBACK), "says how to opt in: {}", alert.text);
    assert_eq!(world.deployment().status, "IN_PROGRESS", "not opted in: not rolled back");
    assert_eq!(world.tag(tags::STUCK_ALERTED).as_deref(), Some("d1"));
    assert_eq!(outcome.details.as_ref().unwrap()["stuck"][0]["check"]["check"], "alert");

    world.clock.advance(300);
    world.handle(schedule()).await.unwrap();
    assert_eq!(world.published().len(), 1, "the next run sends nothing");
}

#[tokio::test]
async fn an_opted_in_service_is_rolled_back_before_the_alert() {
    let world = started(&[(tags::STUCK_ROLLBACK, "true"), (tags::PROGRESS_DEADLINE, "30m")], 31);
    world.handle(schedule()).await.unwrap();
    assert_eq!(world.deployment().status, "ROLLBACK_REQUESTED");
    let calls = world.aws.faults.calls();
    let at = |op: &str| calls.iter().position(|c| *c == op).unwrap();
    assert!(at("ecs:StopServiceDeployment") < at("sns:Publish") && at("sns:Publish") < at("ecs:TagResource"), "{calls:?}");
    assert!(world.aws.sns.published()[0].text.contains("Deckhand requested its rollback"));
}

#[tokio::test]
async fn young_or_untracked_or_unwatched_deployments_are_left_alone() {
    let young = started(&[], 59);
    young.handle(schedule()).await.unwrap();
    assert!(young.published().is_empty());

    let untracked = started(&[], 90);
    untracked.aws.ecs.update_service("prod", "web", |s| drop(s.tags.remove(tags::TRACK)));
    untracked.handle(schedule()).await.unwrap();
    assert!(untracked.published().is_empty());

    let mut unwatched = started(&[], 90);
    unwatched.config = GateConfig { control: Default::default(), ..unwatched.config.clone() };
    let outcome = unwatched.handle(schedule()).await.unwrap();
    assert!(outcome.ignored.as_deref().is_some_and(|r| r.contains("CLUSTERS is unset")), "{outcome:?}");
    assert!(unwatched.aws.faults.calls().is_empty());
}

#[tokio::test]
async fn a_hook_past_its_expiry_is_stuck() {
    let world = World::new(&[]);
    world.clock.advance(601);
    world.handle(schedule()).await.unwrap();
    assert_eq!(world.published(), [("native.stuck", Some("stuck:d1".into()))]);
    assert!(world.aws.sns.published()[0].text.contains("still awaits action past its expiry"));
}

/// A stuck deployment on a service that opted in to rollback, checked with a fault at each call.
struct Stuck(World);

#[derive(Debug, PartialEq)]
struct Left {
    status: String,
    announced: BTreeSet<String>,
    marker: Option<String>,
}

impl matrix::World for Stuck {
    type State = Left;

    fn faults(&self) -> &Faults {
        &self.0.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.0.handle(schedule()).await.map(drop)
    }

    fn state(&self) -> Left {
        Left {
            status: self.0.deployment().status,
            announced: self.0.aws.sns.published().into_iter().filter_map(|n| n.dedup_key).collect(),
            marker: self.0.tag(tags::STUCK_ALERTED),
        }
    }
}

#[tokio::test]
async fn stuck_alerts_converge_whatever_fails() {
    let rolled_back = matrix::run("stuck, rolled back", || Stuck(started(&[(tags::STUCK_ROLLBACK, "true")], 90))).await;
    let alerted = matrix::run("stuck, alerted", || Stuck(started(&[], 90))).await;
    // GetResources (the tag index), DescribeServices, DescribeServiceDeployments,
    // (StopServiceDeployment,) Publish, TagResource.
    assert_eq!((rolled_back, alerted), (18, 15));
}

#[tokio::test]
async fn a_rollback_that_ended_before_its_alert_still_gets_it() {
    let world = started(&[(tags::STUCK_ROLLBACK, "true")], 90);
    world.aws.faults.fail_nth("sns:Publish", 1, crate::fakes::Fault::Error);
    assert!(world.handle(schedule()).await.is_err(), "a failed alert fails the run");
    // The rollback finishes before the next run.
    world.aws.ecs.update_service("prod", "web", |s| {
        s.native[0].status = "ROLLBACK_SUCCESSFUL".into();
        s.native[0].finished_at = Some(NOW + 60);
    });
    world.clock.advance(300);
    world.handle(schedule()).await.unwrap();
    assert_eq!(world.published(), [("native.stuck", Some("stuck:d1".into()))]);
    assert_eq!(world.tag(tags::STUCK_ALERTED).as_deref(), Some("d1"));
}
