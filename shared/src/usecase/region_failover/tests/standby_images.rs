//! Issue 15: failing over into a region whose services run an older image, or whose registry
//! lacks the primary's (replication not done). `status` and a dry run show it; a failover moves
//! anyway and says so (`warn`, the default), or moves nothing (`refuse`); a check that cannot be
//! made never blocks under `warn`, and is never silent.

use super::*;
use crate::config::StandbyImageCheck;

const EAST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub(super) const NEW: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
pub(super) const OLD: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
/// The calls the check makes on a failover of `prod/web`, after the observation's: each region's
/// DescribeServices (its deployments) and DescribeTaskDefinition, the standby's DescribeImages.
const CHECK_CALLS: [(&str, usize); 5] = [
    ("ecs:DescribeServices", 3),
    ("ecs:DescribeTaskDefinition", 1),
    ("ecs:DescribeServices", 4),
    ("ecs:DescribeTaskDefinition", 2),
    ("ecr:DescribeImages", 1),
];

/// `prod/web` in `ecs` deploys `shop/web@digest` (a new revision, its PRIMARY deployment).
pub(super) fn deploy(ecs: &FakeEcs, digest: &str) {
    let arn = ecs.add_task_definition("web", &[("web", &format!("{EAST}/shop/web@{digest}")), ("otel", "public.ecr.aws/otel:v1")]);
    ecs.update_service("prod", "web", |s| {
        s.task_definition = arn.clone();
        s.deployments[0].task_definition = arn.clone();
    });
}

/// The primary on `NEW`, the standby on `standby`; the standby's registry has `replicated`.
fn world(primary_ok: bool, standby: &str, replicated: &[&str]) -> World {
    let world = World::new(primary_ok, true);
    deploy(&world.east, NEW);
    deploy(&world.west, standby);
    for (i, digest) in replicated.iter().enumerate() {
        world.west_ecr.push(ACCOUNT, "shop/web", digest, &[], NOW - 3600 + i as u64);
    }
    world
}

fn refusing() -> FailoverConfig {
    FailoverConfig { image_check: StandbyImageCheck::Refuse, ..failover_config() }
}

fn texts(world: &World) -> Vec<String> {
    world.aws.sns.published().iter().map(|n| n.text.clone()).collect()
}

#[tokio::test]
async fn status_shows_drift_and_an_image_missing_from_the_standby_registry() {
    let world = world(true, OLD, &[OLD]);
    let outcome = world.handle(sample_event("failover-status.json")).await.unwrap();

    let images = &outcome.details.as_ref().unwrap()["observed"]["standby_images"];
    let web = &images["services"][0]["containers"][0];
    assert_eq!(
        (web["primary"].as_str(), web["standby"].as_str(), web["drift"].as_bool(), web["in_standby_registry"].as_bool()),
        (Some(format!("{EAST}/shop/web@{NEW}").as_str()), Some(format!("{EAST}/shop/web@{OLD}").as_str()), Some(true), Some(false)),
        "{images}"
    );
    assert_eq!(images["services"][0]["containers"][1]["drift"], json!(false), "the sidecar is the same: {images}");
    assert_eq!(
        images["findings"],
        json!([
            "prod/web web: the standby runs shop/web@sha256:111111111111, the primary shop/web@sha256:222222222222",
            "prod/web web: shop/web@sha256:222222222222 is not in us-west-2's registry (replication not done?)",
        ])
    );
    assert_eq!(world.writes(), 0);
    assert!(world.published().is_empty());
}

#[tokio::test]
async fn a_dry_run_plans_the_move_with_its_warnings_and_changes_nothing() {
    let world = world(false, OLD, &[OLD]);
    let outcome = world.handle(sample_event("failover-dry-run.json")).await.unwrap();

    let details = outcome.details.as_ref().unwrap();
    assert_eq!(details["plan"]["plan"], "move", "{details}");
    assert_eq!(details["plan"]["warnings"], details["observed"]["standby_images"]["findings"], "{details}");
    assert_eq!(details["plan"]["warnings"].as_array().map(Vec::len), Some(2), "{details}");
    assert_eq!((world.writes(), world.aws.dns.changes().len(), world.published().len()), (0, 0, 0));

    let refused = world.function_with(refusing()).handle(sample_event("failover-dry-run.json")).await.unwrap();
    let plan = &refused.details.as_ref().unwrap()["plan"];
    assert_eq!(plan["plan"], "alert", "{plan}");
    assert!(plan["reason"].as_str().unwrap().contains("the standby runs shop/web@sha256:111111111111"), "{plan}");
    assert_eq!((world.writes(), world.published().len()), (0, 0));
}

#[tokio::test]
async fn under_warn_a_failover_moves_and_its_notice_names_the_service_the_digests_and_the_missing_image() {
    let world = world(false, OLD, &[OLD]);
    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby), "{outcome:?}");
    assert_eq!(world.published(), ["failover.failed_over"]);
    let text = &texts(&world)[0];
    assert!(text.contains("Images:   not all in order in the standby (STANDBY_IMAGE_CHECK=warn)"), "{text}");
    assert!(text.contains("prod/web web: the standby runs shop/web@sha256:111111111111, the primary shop/web@sha256:222222222222"));
    assert!(text.contains("shop/web@sha256:222222222222 is not in us-west-2's registry"), "{text}");
}

#[tokio::test]
async fn in_order_the_notice_says_nothing_of_images_and_a_hold_checks_nothing() {
    let world = world(true, NEW, &[NEW]);
    let held = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(held.details.as_ref().unwrap()["plan"]["plan"], "hold");
    let checked = ["ecs:DescribeTaskDefinition", "ecr:DescribeImages"].map(|op| world.aws.faults.count(op));
    assert_eq!(checked, [0, 0], "a run that moves nothing spends no call on images");

    world.health(Side::Primary, false);
    world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(world.published(), ["failover.failed_over"]);
    assert!(!texts(&world)[0].contains("Image"), "{}", texts(&world)[0]);
}

#[tokio::test]
async fn under_refuse_drift_moves_nothing_and_alerts_then_moves_once_the_standby_is_updated() {
    let world = world(false, OLD, &[OLD, NEW]);
    let function = world.function_with(refusing());
    let refused = function.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert_eq!(refused.details.as_ref().unwrap()["plan"]["plan"], "alert");
    assert_eq!((world.writes(), world.aws.dns.serving_now()), (0, Some(Side::Primary)));
    assert_eq!(world.published(), ["failover.alert"]);
    assert!(texts(&world)[0].contains("STANDBY_IMAGE_CHECK is refuse: nothing moved"), "{}", texts(&world)[0]);

    deploy(&world.west, NEW);
    function.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby));
}

#[tokio::test]
async fn a_check_that_fails_never_blocks_under_warn_and_is_said_in_the_notice() {
    for (operation, nth) in CHECK_CALLS {
        for fault in Fault::ALL {
            let cell = format!("{fault:?} at {operation} #{nth}");
            let world = world(false, NEW, &[NEW]);
            world.aws.faults.fail_nth(operation, nth, fault);
            world.handle(sample_event("failover-primary-alarm.json")).await.unwrap_or_else(|err| panic!("{cell}: {err}"));

            assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby), "{cell}");
            assert_eq!(world.published(), ["failover.failed_over"], "{cell}");
            assert!(texts(&world)[0].contains("prod/web: not checked: "), "{cell}: {}", texts(&world)[0]);
        }
    }
}

#[tokio::test]
async fn a_check_that_fails_under_refuse_moves_nothing_says_so_and_a_retry_moves() {
    for (operation, nth) in CHECK_CALLS {
        let world = world(false, NEW, &[NEW]);
        world.aws.faults.fail_nth(operation, nth, Fault::Throttled);
        let function = world.function_with(refusing());
        let err = function.handle(sample_event("failover-primary-alarm.json")).await.unwrap_err();

        assert!(err.to_string().contains("Throttling"), "{operation} #{nth}: {err}");
        assert_eq!((world.writes(), world.aws.dns.serving_now()), (0, Some(Side::Primary)), "{operation} #{nth}");
        assert_eq!(world.published(), ["failover.incomplete"]);
        let notice = &world.aws.sns.published()[0];
        assert!(notice.subject.contains("the standby's images could not be checked"), "{}", notice.subject);

        function.handle(sample_event("failover-primary-alarm.json")).await.unwrap();
        assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby), "{operation} #{nth}: the retry moves");
    }
}

#[tokio::test]
async fn with_the_primary_down_the_standby_own_images_are_checked_and_nothing_more_is_asked_of_the_primary() {
    let primary_faults = Faults::default();
    primary_faults.fail_always("ecs:DescribeServices", Fault::Error);
    let world = World::with_primary_faults(&primary_faults, false, true);
    deploy(&world.west, OLD);
    let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

    assert_eq!(world.aws.dns.serving_now(), Some(Side::Standby), "warn: the 3 a.m. failover is not held back: {outcome:?}");
    assert_eq!(primary_faults.count("ecs:DescribeServices"), 1, "only the observation's: {:?}", primary_faults.calls());
    let text = &texts(&world)[0];
    assert!(text.contains("prod/web: not checked: what it runs in us-east-1 is unknown"), "{text}");
    assert!(text.contains("prod/web web: shop/web@sha256:111111111111 is not in us-west-2's registry"), "{text}");

    let world = World::with_primary_faults(&primary_faults, false, true);
    let err = world.function_with(refusing()).handle(sample_event("failover-primary-alarm.json")).await.unwrap_err();
    assert!(err.to_string().contains("ecs:DescribeServices"), "the primary's read that failed: {err}");
    assert_eq!(world.aws.dns.serving_now(), Some(Side::Primary));
    let notice = &world.aws.sns.published()[0];
    assert_eq!(notice.event, "failover.incomplete");
    assert!(
        notice.text.contains("what it runs in us-east-1 is unknown") && notice.text.contains("STANDBY_IMAGE_CHECK is refuse"),
        "{}",
        notice.text
    );
}
