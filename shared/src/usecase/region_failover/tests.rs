//! region-failover against the fakes: two regions' ECS and CloudWatch on one fault script,
//! Route 53's failover records, SNS, and a clock the tests move.

use super::*;
use crate::fakes::{FakeAws, FakeClock, FakeCloudWatch, FakeDns, FakeEcs, FakeService, FakeSns, Fault, failover_config, sample_event};
use crate::ports::Alarm;
use crate::tags;

type FakeFailover = RegionFailover<FakeEcs, FakeCloudWatch, FakeDns, FakeSns>;

const NOW: u64 = 1_795_000_000;
const PRIMARY_ALARM: &str = "deckhand-health-us-east-1";
const STANDBY_ALARM: &str = "deckhand-health-us-west-2";
/// The calls that change something.
const WRITES: [&str; 4] = ["ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "route53:ChangeResourceRecordSets"];

/// Primary `prod/web` with 6 tasks in us-east-1, standby `prod/web` with 2 (scale-min 2) in
/// us-west-2, DNS on the primary, the clock at `NOW`.
struct World {
    aws: FakeAws,
    west: FakeEcs,
    west_alarms: FakeCloudWatch,
    clock: FakeClock,
}

impl World {
    fn new(primary_ok: bool, standby_ok: bool) -> Self {
        let aws = FakeAws::new();
        let west = FakeEcs::new(&aws.faults, "us-west-2");
        let west_alarms = FakeCloudWatch::new(&aws.faults);
        let image = [("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v7")];
        aws.ecs.add_service(FakeService::new("prod", "web", &aws.ecs.add_task_definition("web", &image)).tasks(6, 6));
        west.add_service(FakeService::new("prod", "web", &west.add_task_definition("web", &image)).tag(tags::SCALE_MIN, "2"));
        let world = Self { aws, west, west_alarms, clock: FakeClock::at(NOW) };
        world.health(Side::Primary, primary_ok);
        world.health(Side::Standby, standby_ok);
        world
    }

    /// The side's health alarm enters OK (or ALARM) now.
    fn health(&self, side: Side, ok: bool) {
        let (alarms, name) = match side {
            Side::Primary => (&self.aws.cloudwatch, PRIMARY_ALARM),
            Side::Standby => (&self.west_alarms, STANDBY_ALARM),
        };
        alarms.put_alarm(Alarm {
            name: name.into(),
            state: if ok { "OK" } else { "ALARM" }.into(),
            comparison: None,
            threshold: None,
            metric_name: None,
            dimensions: Default::default(),
            latest_datapoint: None,
            since: Some((self.clock.clock())()),
        });
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }

    fn function(&self) -> FakeFailover {
        RegionFailover::new(
            failover_config(),
            RegionPorts { ecs: self.aws.ecs.clone(), alarms: self.aws.cloudwatch.clone() },
            RegionPorts { ecs: self.west.clone(), alarms: self.west_alarms.clone() },
            self.aws.dns.clone(),
            self.aws.sns.clone(),
            self.clock.clock(),
        )
        .with_poll(Duration::from_millis(1))
    }

    async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        self.function().handle(event).await
    }

    fn primary(&self) -> FakeService {
        self.aws.ecs.service("prod", "web")
    }

    fn standby(&self) -> FakeService {
        self.west.service("prod", "web")
    }

    fn writes(&self) -> usize {
        WRITES.iter().map(|op| self.aws.faults.count(op)).sum()
    }

    fn published(&self) -> Vec<&'static str> {
        self.aws.sns.published().iter().map(|n| n.event).collect()
    }
}

/// Each step carried out, by name, with its status.
fn steps(outcome: &Outcome) -> Vec<(String, &'static str)> {
    let step = |result: &ResourceResult| match result {
        ResourceResult::Step { step, status, .. } => (json!(step)["step"].as_str().unwrap_or_default().to_owned(), *status),
        other => panic!("not a step: {other:?}"),
    };
    outcome.resources.iter().map(|r| step(&r.result)).collect()
}

fn named(steps: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    steps.iter().map(|(name, status)| (name.to_string(), *status)).collect()
}

#[tokio::test]
async fn primary_alarm_with_healthy_standby_fails_over_fully() {
    let world = World::new(false, true);
    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    let expected = [("scale", "done"), ("move_dns", "done"), ("freeze", "done"), ("record_flip", "done")];
    assert_eq!(steps(&outcome), named(&expected));
    let standby = world.standby();
    assert_eq!((standby.desired, standby.running), (6, 6), "pre-scaled to the primary's count");
    assert_eq!(world.aws.dns.changes(), [Side::Standby]);
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby));
    let primary = world.primary();
    assert!(primary.tags.get(tags::FREEZE).is_some_and(|v| v.starts_with("failover to us-west-2")), "{:?}", primary.tags);
    assert!(!standby.tags.contains_key(tags::FREEZE), "the region now serving stays deployable");
    let flip = format!("standby:{NOW}");
    assert_eq!((primary.tags.get(tags::LAST_FLIP), standby.tags.get(tags::LAST_FLIP)), (Some(&flip), Some(&flip)));
    assert_eq!(world.published(), ["failover.failed_over"]);
}

#[tokio::test]
async fn the_same_alarm_again_changes_nothing_more() {
    let world = World::new(false, true);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    let (writes, standby) = (world.writes(), world.standby());
    world.advance(30);
    let again = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert!(steps(&again).is_empty(), "{again:?}");
    assert_eq!(world.writes(), writes, "{:?}", world.aws.faults.calls());
    assert_eq!(world.aws.dns.changes(), [Side::Standby]);
    assert_eq!(world.standby(), standby);
    assert_eq!(world.published(), ["failover.failed_over"], "nothing new to say");
}

#[tokio::test]
async fn both_regions_unhealthy_alerts_and_moves_nothing() {
    let world = World::new(false, false);
    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert!(steps(&outcome).is_empty());
    assert_eq!(outcome.details.as_ref().unwrap()["plan"]["plan"], "alert");
    assert_eq!(world.writes(), 0, "{:?}", world.aws.faults.calls());
    assert!(world.aws.dns.changes().is_empty());
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Primary));
    assert_eq!(world.published(), ["failover.alert"]);
}

#[tokio::test]
async fn dry_run_plans_the_move_and_changes_nothing() {
    let world = World::new(true, true);
    let outcome = world.handle(sample_event("failover-dry-run.json")).await.unwrap();

    let details = outcome.details.as_ref().unwrap();
    assert_eq!((details["dry_run"].clone(), details["plan"]["plan"].clone()), (json!(true), json!("move")), "{details}");
    assert_eq!(details["plan"]["steps"].as_array().map(Vec::len), Some(4), "{details}");
    assert!(steps(&outcome).is_empty());
    assert_eq!(world.writes(), 0, "{:?}", world.aws.faults.calls());
    assert_eq!((world.standby().desired, world.aws.dns.changes().len()), (2, 0));
    assert!(world.published().is_empty());
}

#[tokio::test]
async fn status_reports_both_regions_and_changes_nothing() {
    let world = World::new(false, true);
    let outcome = world.handle(sample_event("failover-status.json")).await.unwrap();

    let observed = &outcome.details.as_ref().unwrap()["observed"];
    assert_eq!((observed["primary"]["alarm_state"].clone(), observed["standby"]["alarm_state"].clone()), (json!("ALARM"), json!("OK")));
    assert_eq!(observed["standby"]["services"][0]["desired"], 2, "{observed}");
    assert!(outcome.details.as_ref().unwrap()["plan"].is_null());
    assert!(steps(&outcome).is_empty());
    assert_eq!(world.writes(), 0, "{:?}", world.aws.faults.calls());
    assert!(world.published().is_empty());
}

#[tokio::test]
async fn failback_within_the_stabilization_window_holds() {
    let world = World::new(false, true);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    world.advance(400);
    world.health(Side::Primary, true);
    world.advance(300);
    let held = world.handle(sample_event("failover-failback.json")).await.unwrap();

    let plan = &held.details.as_ref().unwrap()["plan"];
    assert!(plan["reason"].as_str().is_some_and(|r| r.contains("stabilization")), "{plan}");
    assert!(steps(&held).is_empty());
    assert_eq!(world.aws.dns.changes(), [Side::Standby]);
    assert!(world.primary().tags.contains_key(tags::FREEZE), "still frozen");

    world.advance(301);
    let moved = world.handle(sample_event("failover-failback.json")).await.unwrap();
    assert_eq!(steps(&moved), named(&[("move_dns", "done"), ("unfreeze", "done"), ("record_flip", "done")]));
    assert_eq!(world.aws.dns.changes(), [Side::Standby, Side::Primary], "past the window, failback moves");
    assert!(!world.primary().tags.contains_key(tags::FREEZE));
    assert_eq!(world.published(), ["failover.failed_over", "failover.failed_back"]);
}

#[tokio::test]
async fn unknown_operator_action_is_an_error() {
    let world = World::new(false, true);
    let err = world.handle(json!({"action": "evacuate"})).await.unwrap_err();

    assert!(matches!(err, HandlerError::MalformedEvent(_)), "{err:?}");
    assert!(err.to_string().contains("evacuate"), "{err}");
    assert!(world.aws.faults.calls().is_empty(), "{:?}", world.aws.faults.calls());
}

#[tokio::test]
async fn failed_dns_change_is_reported_and_the_rest_of_the_failover_still_happens() {
    let world = World::new(false, true);
    world.aws.faults.fail_always("route53:ChangeResourceRecordSets", Fault::Error);
    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    // Today: the invocation succeeds, the DNS step says `failed` and leaves DNS to the Route 53
    // health checks, and every other step (including the flip's record) is carried out.
    let expected = [("scale", "done"), ("move_dns", "failed"), ("freeze", "done"), ("record_flip", "done")];
    assert_eq!(steps(&outcome), named(&expected));
    assert!(world.aws.dns.changes().is_empty());
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Primary));
    assert_eq!(world.standby().desired, 6);
    assert!(world.primary().tags.contains_key(tags::FREEZE));
    assert_eq!(world.primary().tags.get(tags::LAST_FLIP), Some(&format!("standby:{NOW}")));
    assert_eq!(world.published(), ["failover.failed_over"]);

    // And a retry once Route 53 answers again is damped by the flip it recorded itself: DNS
    // stays on the unhealthy primary for the dwell time. The convergence issue will change
    // this test: a failed DNS move should not count as a flip (or should fail the invocation),
    // so that the next run completes the move.
    world.aws.faults.clear();
    world.advance(60);
    let retry = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    let plan = &retry.details.as_ref().unwrap()["plan"];
    assert!(plan["reason"].as_str().is_some_and(|r| r.contains("dwell")), "{plan}");
    assert!(world.aws.dns.changes().is_empty());
    assert_eq!(world.published(), ["failover.failed_over", "failover.held"]);
}
