//! region-failover against the fakes: two regions' ECS and CloudWatch on one fault script,
//! Route 53's failover records, SNS, and a clock the tests move.

mod bounds;
mod failed_steps;
mod fault_matrix;
mod out_of_band;
mod outage;
mod standby_images;

use super::*;
use crate::fakes::{
    FakeAws, FakeClock, FakeCloudWatch, FakeDns, FakeEcr, FakeEcs, FakeService, FakeSns, Fault, Faults, failover_config, sample_event,
};
use crate::ports::Alarm;
use crate::tags;

type FakeFailover = RegionFailover<FakeEcs, FakeCloudWatch, FakeEcr, FakeDns, FakeSns>;

const NOW: u64 = 1_795_000_000;
const ACCOUNT: &str = "123456789012";
const PRIMARY_ALARM: &str = "deckhand-health-us-east-1";
const STANDBY_ALARM: &str = "deckhand-health-us-west-2";
/// The calls that change something.
const WRITES: [&str; 4] = ["ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "route53:ChangeResourceRecordSets"];

/// Primary `prod/web` with 6 tasks in us-east-1, standby `prod/web` with 2 (scale-min 2, and the
/// primary's count of 6 remembered, as runs while the primary served left it) in us-west-2, DNS
/// on the primary, the clock at `NOW`.
struct World {
    aws: FakeAws,
    /// The primary's ECS: on the shared fault script, or on its own (a region that is down).
    east: FakeEcs,
    west: FakeEcs,
    west_alarms: FakeCloudWatch,
    /// The standby region's registry.
    west_ecr: FakeEcr,
    clock: FakeClock,
}

impl World {
    fn new(primary_ok: bool, standby_ok: bool) -> Self {
        let aws = FakeAws::new();
        let east = aws.ecs.clone();
        Self::with_primary_ecs(aws, east, primary_ok, standby_ok)
    }

    /// The primary's ECS answers from its own fault script, apart from every other call.
    fn with_primary_faults(primary_faults: &Faults, primary_ok: bool, standby_ok: bool) -> Self {
        Self::with_primary_ecs(FakeAws::new(), FakeEcs::new(primary_faults, "us-east-1"), primary_ok, standby_ok)
    }

    fn with_primary_ecs(aws: FakeAws, east: FakeEcs, primary_ok: bool, standby_ok: bool) -> Self {
        let west = FakeEcs::new(&aws.faults, "us-west-2");
        let west_alarms = FakeCloudWatch::new(&aws.faults);
        let west_ecr = FakeEcr::new(&aws.faults);
        // Replicated: the standby region's registry has the image both regions run.
        west_ecr.push(ACCOUNT, "web", "sha256:77", &["v7"], NOW - 86_400);
        let image = [("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v7")];
        east.add_service(FakeService::new("prod", "web", &east.add_task_definition("web", &image)).tasks(6, 6));
        let standby = FakeService::new("prod", "web", &west.add_task_definition("web", &image));
        west.add_service(standby.tag(tags::SCALE_MIN, "2").tag(tags::PRIMARY_DESIRED, "6"));
        let world = Self { aws, east, west, west_alarms, west_ecr, clock: FakeClock::at(NOW) };
        world.health(Side::Primary, primary_ok);
        world.health(Side::Standby, standby_ok);
        world
    }

    fn health(&self, side: Side, ok: bool) {
        let (alarms, name) = match side {
            Side::Primary => (&self.aws.cloudwatch, PRIMARY_ALARM),
            Side::Standby => (&self.west_alarms, STANDBY_ALARM),
        };
        alarms.put_alarm(Alarm::new(name, if ok { "OK" } else { "ALARM" }, Some((self.clock.clock())())));
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }

    fn function(&self) -> FakeFailover {
        self.function_with(failover_config())
    }

    fn function_with(&self, config: FailoverConfig) -> FakeFailover {
        RegionFailover::new(
            config,
            RegionPorts { ecs: self.east.clone(), alarms: self.aws.cloudwatch.clone() },
            RegionPorts { ecs: self.west.clone(), alarms: self.west_alarms.clone() },
            self.west_ecr.clone(),
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
        self.east.service("prod", "web")
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

/// Issue 12: regional health alarms that are composite alarms (the usual way to combine several
/// signals) are read like metric ones: the primary's in ALARM with the standby's OK fails over.
#[tokio::test]
async fn composite_health_alarms_fail_over_like_metric_ones() {
    let world = World::new(true, true);
    world.aws.cloudwatch.put_alarm(Alarm::new(PRIMARY_ALARM, "ALARM", Some(NOW)));
    world.west_alarms.put_alarm(Alarm::new(STANDBY_ALARM, "OK", Some(NOW - 3600)));

    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    let expected = [("scale", "done"), ("move_dns", "done"), ("freeze", "done"), ("record_flip", "done")];
    assert_eq!(steps(&outcome), named(&expected), "{outcome:?}");
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby));
    assert_eq!(world.published(), ["failover.failed_over"]);
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
async fn a_misspelt_dry_run_flag_is_an_error_and_changes_nothing() {
    // The primary is down: a real failover would move DNS at once.
    let world = World::new(false, true);
    for (payload, field) in [
        (json!({"action": "failover", "dryrun": true}), "dryrun"),
        (json!({"action": "failover", "dry_run": true}), "dry_run"),
        (json!({"action": "failover", "dryRun": "true"}), "dryRun"),
        (json!({"dryRun": true}), "action"),
    ] {
        let err = world.handle(payload.clone()).await.unwrap_err();

        assert!(matches!(err, HandlerError::MalformedEvent(_)), "{payload}: {err:?}");
        assert!(err.to_string().contains(&format!("field `{field}`")), "{payload}: {err}");
    }
    assert!(world.aws.faults.calls().is_empty(), "nothing read, nothing changed: {:?}", world.aws.faults.calls());
    assert!(world.aws.dns.changes().is_empty());
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Primary));
    assert!(world.published().is_empty());
}

/// An alarm state change of `alarm` (the sample's shape, another name).
fn alarm_event(alarm: &str) -> Value {
    let mut event = sample_event("failover-primary-alarm.json");
    event["detail"]["alarmName"] = alarm.into();
    event
}

#[tokio::test]
async fn a_standby_failing_within_the_dwell_sends_traffic_back_to_a_healthy_primary_at_once() {
    let world = World::new(false, true);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    world.advance(60);
    world.health(Side::Primary, true);
    world.advance(30);
    world.health(Side::Standby, false);
    let back = world.handle(alarm_event(STANDBY_ALARM)).await.unwrap();

    assert_eq!(steps(&back), named(&[("move_dns", "done"), ("unfreeze", "done"), ("record_flip", "done")]));
    assert_eq!(world.aws.dns.changes(), [Side::Standby, Side::Primary]);
    assert_eq!(world.published(), ["failover.failed_over", "failover.failed_back"]);
}

#[tokio::test]
async fn failback_leaves_a_freeze_a_person_set_before_the_failover() {
    let world = World::new(false, true);
    world.east.update_service("prod", "web", |s| {
        s.tags.insert(tags::FREEZE.into(), "release week (ops)".into());
    });
    let over = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(steps(&over), named(&[("scale", "done"), ("move_dns", "done"), ("record_flip", "done")]));

    world.health(Side::Primary, true);
    world.advance(601);
    let back = world.handle(sample_event("failover-failback.json")).await.unwrap();
    assert_eq!(steps(&back), named(&[("move_dns", "done"), ("record_flip", "done")]));
    assert_eq!(world.primary().tags.get(tags::FREEZE).map(String::as_str), Some("release week (ops)"));
}
