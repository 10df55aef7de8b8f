use super::*;
use crate::usecase::region_failover::plan::{Intent, RegionState, ServiceState, Settings, plan, wants_image_check};

const EAST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const WEST: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[test]
fn images_are_the_same_by_digest_else_by_registry_account_repository_and_tag() {
    let cases = [
        (format!("{EAST}/shop/web@{A}"), format!("{WEST}/shop/web@{A}"), true, "one digest, replicated"),
        (format!("{EAST}/shop/web:v2@{A}"), format!("{EAST}/shop/web:v1@{A}"), true, "the digest decides, not the tag"),
        (format!("{EAST}/shop/web@{A}"), format!("{EAST}/shop/web@{B}"), false, "drift"),
        (format!("{EAST}/shop/web:v7"), format!("{WEST}/shop/web:v7"), true, "one tag, either region's registry"),
        (format!("{EAST}/shop/web:v7"), format!("{EAST}/shop/web:v6"), false, "another tag"),
        (format!("{EAST}/shop/web"), format!("{EAST}/shop/web:latest"), true, "no tag is latest"),
        (format!("{EAST}/shop/web:v7"), format!("{EAST}/shop/web@{A}"), false, "a tag cannot be told equal to a digest"),
        (format!("{EAST}/shop/web:v7"), "210987654321.dkr.ecr.us-east-1.amazonaws.com/shop/web:v7".into(), false, "another account"),
        ("public.ecr.aws/otel/collector:v1".into(), "public.ecr.aws/otel/collector:v1".into(), true, "another registry, same"),
        ("public.ecr.aws/otel/collector:v1".into(), "quay.io/otel/collector:v1".into(), false, "another registry"),
        ("".into(), "".into(), true, "unparsable: compared as text"),
    ];
    for (a, b, same, why) in cases {
        assert_eq!(same_image(&a, &b), same, "{why}: {a} vs {b}");
        assert_eq!(same_image(&b, &a), same, "{why}, either way round");
    }
}

#[test]
fn the_standby_registry_is_asked_for_ecr_images_by_digest_else_by_tag() {
    let lookup = |account: &str, digest: Option<&str>, tag: &str| {
        Some(Lookup { account: account.into(), repository: "shop/web".into(), digest: digest.map(Into::into), tag: tag.into() })
    };
    let cases = [
        (format!("{EAST}/shop/web@{A}"), lookup("123456789012", Some(A), "latest")),
        (format!("{EAST}/shop/web:v2@{A}"), lookup("123456789012", Some(A), "v2")),
        (format!("{WEST}/shop/web:v7"), lookup("123456789012", None, "v7")),
        (format!("{EAST}/shop/web"), lookup("123456789012", None, "latest")),
        ("public.ecr.aws/otel/collector:v1".into(), None),
        ("nginx:1.27".into(), None),
        ("not an image".into(), None),
    ];
    for (image, expected) in cases {
        assert_eq!(Lookup::of(&image), expected, "{image}");
    }
}

fn containers(images: &[(&str, &str)]) -> Vec<Container> {
    images.iter().map(|(name, image)| Container { name: name.to_string(), image: image.to_string() }).collect()
}

#[test]
fn containers_are_matched_by_name_and_drift_needs_both_sides() {
    let (a, b) = (format!("{EAST}/shop/web@{A}"), format!("{WEST}/shop/web@{B}"));
    let primary = containers(&[("web", &a), ("otel", "public.ecr.aws/otel/collector:v1")]);
    let standby = containers(&[("otel", "public.ecr.aws/otel/collector:v1"), ("web", &b), ("debug", "busybox")]);
    let drift = |row: &ServiceImages| row.containers.iter().map(|c| (c.container.clone(), c.drift)).collect::<Vec<_>>();
    let named = |pairs: &[(&str, Option<bool>)]| pairs.iter().map(|(n, d)| (n.to_string(), *d)).collect::<Vec<_>>();

    let both = ServiceImages::compare("prod/web".into(), Some(&primary), Some(&standby), Vec::new());
    assert_eq!(drift(&both), named(&[("web", Some(true)), ("otel", Some(false)), ("debug", Some(true))]));
    assert_eq!(both.containers[0].wanted(), Some(a.as_str()), "the primary's image is the one the standby's registry should have");
    assert_eq!(both.containers[2].wanted(), Some("busybox"));

    let primary_unknown = ServiceImages::compare("prod/web".into(), None, Some(&standby), vec!["us-east-1 could not be read".into()]);
    assert_eq!(drift(&primary_unknown), named(&[("otel", None), ("web", None), ("debug", None)]));
    assert_eq!(primary_unknown.containers[1].wanted(), Some(b.as_str()), "else the standby's own");

    let neither = ServiceImages::compare("prod/web".into(), None, None, Vec::new());
    assert!(neither.containers.is_empty());
}

/// `prod/web`'s container `web`: the primary on `A`, the standby on `standby`, the standby's
/// registry with the primary's image or not.
fn images(standby: &str, in_registry: Option<bool>, unchecked: &[&str]) -> StandbyImages {
    let primary = containers(&[("web", &format!("{EAST}/shop/web@{A}"))]);
    let standby = containers(&[("web", standby)]);
    let unchecked = unchecked.iter().map(|u| u.to_string()).collect();
    let mut row = ServiceImages::compare("prod/web".into(), Some(&primary), Some(&standby), unchecked);
    row.containers[0].in_standby_registry = in_registry;
    StandbyImages::new("us-west-2", vec![row])
}

#[test]
fn findings_name_the_service_the_two_digests_the_missing_image_and_what_was_not_checked() {
    let same = format!("{WEST}/shop/web@{A}");
    assert!(images(&same, Some(true), &[]).findings.is_empty(), "in order");
    assert_eq!(
        images(&format!("{WEST}/shop/web@{B}"), Some(false), &[]).findings,
        [
            "prod/web web: the standby runs shop/web@sha256:bbbbbbbbbbbb, the primary shop/web@sha256:aaaaaaaaaaaa",
            "prod/web web: shop/web@sha256:aaaaaaaaaaaa is not in us-west-2's registry (replication not done?)",
        ]
    );
    assert_eq!(
        images(&same, None, &["us-west-2's registry could not be read: ecr:DescribeImages: ThrottlingException"]).findings,
        ["prod/web: not checked: us-west-2's registry could not be read: ecr:DescribeImages: ThrottlingException"]
    );
}

#[test]
fn findings_are_bounded() {
    let long = "x".repeat(5000);
    let unchecked: Vec<&str> = std::iter::repeat_n(long.as_str(), 40).collect();
    let found = images(&format!("{WEST}/shop/web@{A}"), Some(true), &unchecked);
    assert_eq!(found.findings.len(), FINDINGS_MAX + 1);
    assert_eq!(found.findings.last().map(String::as_str), Some("… and 30 more"));
    assert!(found.findings.iter().all(|f| f.chars().count() <= FINDING_MAX + 40), "{:?}", found.findings[0].len());
}

/// The primary down (or healthy: an operator's failover), the standby healthy, DNS on the
/// primary, and what the check found.
fn seen(primary_readable: bool, images: Option<StandbyImages>) -> Observed {
    let service = |desired| ServiceState {
        cluster: "prod".into(),
        service: "web".into(),
        exists: true,
        desired,
        running: desired,
        min: None,
        max: None,
        frozen: None,
        last_flip: None,
        primary_desired: Some(6),
    };
    let region = |name: &str, healthy: bool, services: Option<Vec<ServiceState>>| RegionState {
        region: name.into(),
        healthy,
        alarm_state: if healthy { "OK".into() } else { "ALARM".into() },
        alarm_since: Some(0),
        unreadable: None,
        services,
    };
    Observed {
        primary: region("us-east-1", false, primary_readable.then(|| vec![service(6)])),
        standby: region("us-west-2", true, Some(vec![service(2)])),
        serving: Some(Side::Primary),
        last_flip: None,
        now: 1_795_000_000,
        standby_images: images,
    }
}

/// What a plan is, by name, with its warnings' count.
fn kind(plan: &Plan) -> (&'static str, usize) {
    match plan {
        Plan::Move { warnings, .. } => ("move", warnings.len()),
        Plan::Hold { .. } => ("hold", 0),
        Plan::Alert { .. } => ("alert", 0),
        Plan::Retry { .. } => ("retry", 0),
    }
}

#[test]
fn warn_moves_anyway_naming_what_is_wrong_and_refuse_moves_no_traffic() {
    use StandbyImageCheck::{Refuse, Warn};
    let (same, other) = (format!("{WEST}/shop/web@{A}"), format!("{WEST}/shop/web@{B}"));
    let ok = images(&same, Some(true), &[]);
    let drift = images(&other, Some(true), &[]);
    let missing = images(&same, Some(false), &[]);
    let broken = images(&same, None, &["us-west-2's registry could not be read: ecr:DescribeImages: InternalFailure"]);
    let primary_down = StandbyImages::new("us-west-2", {
        let standby = containers(&[("web", &same)]);
        let mut row = ServiceImages::compare("prod/web".into(), None, Some(&standby), vec!["us-east-1 could not be read".into()]);
        row.containers[0].in_standby_registry = Some(true);
        vec![row]
    });
    let cases = [
        (Warn, true, Some(ok.clone()), ("move", 0), "in order"),
        (Refuse, true, Some(ok), ("move", 0), "in order, refuse"),
        (Warn, true, None, ("move", 0), "not checked (yet): the plan as it was"),
        (Warn, true, Some(drift.clone()), ("move", 1), "drift: moves, says so"),
        (Warn, true, Some(missing.clone()), ("move", 1), "missing: moves, says so"),
        (Warn, true, Some(broken.clone()), ("move", 1), "a broken check never blocks under warn"),
        (Warn, false, Some(primary_down.clone()), ("move", 1), "the primary down (the 3 a.m. case): moves"),
        (Refuse, true, Some(drift), ("alert", 0), "drift: refused"),
        (Refuse, true, Some(missing), ("alert", 0), "missing: refused"),
        (Refuse, true, Some(broken), ("retry", 0), "a broken check: nothing moves, retried"),
        (Refuse, false, Some(primary_down), ("retry", 0), "the primary cannot be compared: nothing moves, retried"),
    ];
    for (check, primary_readable, found, expected, why) in cases {
        let o = seen(primary_readable, found);
        let planned = plan(&o, Intent::Failover, &Settings { image_check: check, ..Settings::default() });
        assert_eq!(kind(&planned), expected, "{why}: {planned:?}");
        match planned {
            Plan::Alert { reason } | Plan::Retry { reason, .. } => {
                assert!(reason.contains("STANDBY_IMAGE_CHECK is refuse: nothing moved"), "{why}: {reason}");
            }
            Plan::Move { steps, .. } => assert!(steps.contains(&Step::MoveDns { to: Side::Standby }), "{why}"),
            Plan::Hold { .. } => panic!("{why}: held"),
        }
    }
}

#[test]
fn refuse_leaves_a_move_whose_dns_already_moved_to_finish_and_failback_unchecked() {
    let drift = images(&format!("{WEST}/shop/web@{B}"), Some(true), &[]);
    let refuse = Settings { image_check: StandbyImageCheck::Refuse, ..Settings::default() };
    // DNS on the standby, the flip not recorded yet: what is left is finished, with the warning.
    let mut o = seen(true, Some(drift.clone()));
    o.serving = Some(Side::Standby);
    let planned = plan(&o, Intent::Failover, &refuse);
    assert!(
        matches!(&planned, Plan::Move { steps, warnings, .. } if !steps.contains(&Step::MoveDns { to: Side::Standby }) && warnings.len() == 1),
        "{planned:?}"
    );
    assert!(wants_image_check(&planned, &o), "its notice is owed, and names the drift");
    // A failback is not the standby's images' business.
    o.primary.healthy = true;
    o.primary.alarm_since = Some(0);
    let back = plan(&o, Intent::Failback, &refuse);
    assert!(matches!(&back, Plan::Move { to: Side::Primary, warnings, .. } if warnings.is_empty()), "{back:?}");
    assert!(!wants_image_check(&back, &o));
}
