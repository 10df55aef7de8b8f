//! The scan gate on the fakes: blocked on a CRITICAL finding, deployed on a clean scan, deferred
//! until the scan's event, decided by the policy after the deadline, nothing twice on redelivery.
//! `fault_matrix`: a fault at every call, followed by the redelivery.

use super::*;
use crate::fakes::matrix;
use crate::fakes::{ACCOUNT, FakeAws, FakeClock};
use crate::ports::{ScanFinding, ScanReport};
use crate::usecase::image_pushed::ImagePushed;
use crate::usecase::image_pushed::tests::{DIGEST, OLDER, PUSHED_AT, pinned, push, rollout, tracking, web_task_definition};
use serde_json::Value;
use std::collections::BTreeMap;

/// Ten minutes after `DIGEST`'s push.
const NOW: u64 = PUSHED_AT + 600;

struct Gated {
    aws: FakeAws,
    clock: FakeClock,
}

/// `prod/web` on `shop/web:v1`, tracking `semver:^1.4`, with `deckhand:scan` = `policy`; the
/// repository scans on push.
fn gated(policy: &str) -> Gated {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")).tag(tags::SCAN, policy));
    aws.ecr.set_scan_on_push(ACCOUNT, "shop/web", true);
    Gated { aws, clock: FakeClock::at(NOW) }
}

impl Gated {
    async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        ImagePushed::new(rollout(&self.aws).with_clock(self.clock.clock())).handle(event).await
    }

    fn scanned(&self, digest: &str, status: &str, found: &[(&str, u64)]) {
        let worst = found
            .iter()
            .map(|(severity, _)| ScanFinding {
                id: format!("CVE-2026-{severity}"),
                package: Some("openssl".into()),
                severity: severity.to_string(),
            })
            .collect();
        let severity_counts = found.iter().map(|(severity, count)| (severity.to_string(), *count)).collect();
        self.aws.ecr.set_scan(ACCOUNT, "shop/web", digest, ScanReport { status: status.into(), severity_counts, worst });
    }

    fn tag(&self, key: &str) -> Option<String> {
        self.aws.ecs.service("prod", "web").tags.get(key).cloned()
    }

    fn runs(&self) -> String {
        let task_definition = self.aws.ecs.service("prod", "web").task_definition.clone();
        self.aws.ecs.revisions("web").into_iter().find(|(td, _)| td.arn == task_definition).unwrap().0.containers[0].image.clone()
    }

    fn events(&self) -> Vec<&'static str> {
        self.aws.sns.published().iter().map(|n| n.event).collect()
    }
}

fn scan_event(detail_type: &str, counts: Value) -> Value {
    let (source, repository, status) = match detail_type {
        "Inspector2 Scan" => ("aws.inspector2", "arn:aws:ecr:us-east-1:123456789012:repository/shop/web", "INITIAL_SCAN_COMPLETE"),
        _ => ("aws.ecr", "shop/web", "COMPLETE"),
    };
    serde_json::json!({
        "version": "0", "id": "scan-1", "detail-type": detail_type, "source": source, "account": ACCOUNT,
        "time": "2023-11-14T22:20:00Z", "region": "us-east-1", "resources": [],
        "detail": {"scan-status": status, "repository-name": repository, "image-digest": DIGEST, "image-tags": ["v1.4.2"],
                   "finding-severity-counts": counts}
    })
}

fn schedule() -> Value {
    crate::fakes::sample_event("scheduled-recheck.json")
}

fn reason(outcome: &Outcome) -> String {
    match &outcome.resources[..] {
        [one] => match &one.result {
            ResourceResult::Unchanged { reason } | ResourceResult::Ignored { reason } => reason.clone(),
            other => panic!("not held: {other:?}"),
        },
        other => panic!("one resource expected: {other:?}"),
    }
}

fn deployed(outcome: &Outcome) -> bool {
    matches!(&outcome.resources[..], [one] if matches!(one.result, ResourceResult::Deployed { .. }))
}

#[tokio::test]
async fn a_critical_finding_blocks_the_push_with_one_warning() {
    let w = gated("critical");
    w.scanned(DIGEST, "COMPLETE", &[("CRITICAL", 2), ("HIGH", 1)]);

    let outcome = w.handle(push("v1.4.2")).await.unwrap();

    let held = reason(&outcome);
    assert!(held.starts_with(HELD) && held.contains("blocked") && held.contains("CRITICAL 2") && held.contains("warning sent"), "{held}");
    assert_eq!(w.aws.ecs.revisions("web").len(), 1, "nothing registered");
    assert!(w.runs().ends_with("shop/web:v1"));
    let warning = &w.aws.sns.published()[0];
    assert_eq!((warning.event, warning.severity.as_str()), ("image.blocked", "warning"));
    assert!(warning.subject.contains("2 CRITICAL") && warning.text.contains("CVE-2026-CRITICAL  openssl"), "{}", warning.text);
    assert_eq!(warning.details["severity_counts"]["HIGH"], 1);
    assert_eq!(w.tag(tags::SCAN_BLOCKED).as_deref(), Some(DIGEST));

    // Redelivered: blocked again, quietly.
    let again = w.handle(push("v1.4.2")).await.unwrap();
    assert!(reason(&again).contains("warned already"), "{again:?}");
    assert_eq!((w.events(), w.aws.faults.count("ecs:TagResource")), (vec!["image.blocked"], 1));
}

#[tokio::test]
async fn a_clean_scan_or_findings_below_the_policy_deploy_at_once() {
    for (policy, found) in [("critical", &[][..]), ("critical", &[("HIGH", 4)][..]), ("high", &[("MEDIUM", 9), ("UNDEFINED", 1)][..])] {
        let w = gated(policy);
        w.scanned(DIGEST, "COMPLETE", found);

        assert!(deployed(&w.handle(push("v1.4.2")).await.unwrap()), "{policy} {found:?}");

        assert_eq!(w.runs(), pinned(DIGEST));
        assert_eq!(w.events(), ["image.deployed"]);
        assert_eq!((w.tag(tags::SCAN_PENDING), w.aws.faults.count("ecr:DescribeRepositories")), (None, 0));
    }
}

#[tokio::test]
async fn a_service_without_the_tag_is_not_gated_and_costs_no_call() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    ImagePushed::new(rollout(&aws)).handle(push("v1.4.2")).await.unwrap();
    assert_eq!((aws.faults.count("ecr:DescribeImageScanFindings"), aws.faults.count("ecr:DescribeRepositories")), (0, 0));
}

#[tokio::test]
async fn an_invalid_policy_deploys_nothing_and_says_why() {
    let w = gated("severe");
    let held = reason(&w.handle(push("v1.4.2")).await.unwrap());
    assert!(held.contains("\"severe\" is not a severity") && held.ends_with("not deployed"), "{held}");
    assert_eq!((w.aws.ecs.revisions("web").len(), w.aws.faults.count("ecr:DescribeImageScanFindings")), (1, 0));
}

#[tokio::test]
async fn a_scan_still_to_come_defers_until_its_event_which_deploys_once() {
    let w = gated("critical");

    let held = reason(&w.handle(push("v1.4.2")).await.unwrap());

    assert!(held.contains("deferred until the scan of sha256:4f1c6e2d9b8a arrives") && held.contains("2023-11-14T22:53:20Z"), "{held}");
    let marker = format!("{DIGEST}:{NOW}");
    assert_eq!(w.tag(tags::SCAN_PENDING), Some(marker.clone()));
    assert_eq!((w.aws.ecs.revisions("web").len(), w.events().len()), (1, 0));

    // A redelivered push a minute later: still deferred, the deferral's time (and deadline) kept.
    w.clock.advance(60);
    w.handle(push("v1.4.2")).await.unwrap();
    assert_eq!((w.tag(tags::SCAN_PENDING), w.aws.faults.count("ecs:TagResource")), (Some(marker), 1));

    // The scan's event: clean, so the deferred image deploys and the deferral is settled.
    w.scanned(DIGEST, "COMPLETE", &[("LOW", 3)]);
    let outcome = w.handle(scan_event("ECR Image Scan", serde_json::json!({"LOW": 3}))).await.unwrap();
    assert!(deployed(&outcome), "{outcome:?}");
    assert_eq!(outcome.details.as_ref().unwrap()["severity_counts"]["LOW"], 3);
    assert_eq!((w.runs(), w.tag(tags::SCAN_PENDING)), (pinned(DIGEST), None));
    assert_eq!(w.events(), ["image.deployed"]);

    // Redelivered, or the push again: nothing more.
    let again = w.handle(scan_event("ECR Image Scan", serde_json::json!({"LOW": 3}))).await.unwrap();
    assert!(again.ignored.as_deref().is_some_and(|why| why.contains("no service waits for the scan of shop/web@")), "{again:?}");
    w.handle(push("v1.4.2")).await.unwrap();
    assert_eq!((w.aws.ecs.revisions("web").len(), w.events().len()), (2, 1));
}

#[tokio::test]
async fn an_enhanced_scan_with_a_critical_finding_blocks_the_deferred_image() {
    let w = gated("high deadline=10m");
    w.handle(push("v1.4.2")).await.unwrap();
    w.scanned(DIGEST, "ACTIVE", &[("CRITICAL", 1)]);

    let outcome = w.handle(scan_event("Inspector2 Scan", serde_json::json!({"CRITICAL": 1, "HIGH": 0, "TOTAL": 1}))).await.unwrap();

    assert!(reason(&outcome).contains("blocked"), "{outcome:?}");
    assert_eq!((w.tag(tags::SCAN_PENDING), w.tag(tags::SCAN_BLOCKED).as_deref()), (None, Some(DIGEST)));
    assert_eq!(w.events(), ["image.blocked"]);
    // The re-check finds nothing to wait for.
    assert!(w.handle(schedule()).await.unwrap().ignored.is_some());
    assert_eq!(w.events().len(), 1);
}

/// The newest push wins a deferral too: a late (or redelivered) push of an older image while a
/// newer one waits for its scan changes nothing.
#[tokio::test]
async fn an_older_push_never_displaces_a_newer_image_waiting_for_its_scan() {
    let w = gated("critical");
    w.handle(push("v1.4.2")).await.unwrap();
    let marker = w.tag(tags::SCAN_PENDING);
    assert!(marker.as_deref().is_some_and(|marker| marker.starts_with(DIGEST)), "{marker:?}");

    let mut older = push("v1.4.1");
    older["detail"]["image-digest"] = serde_json::json!(OLDER);
    let held = reason(&w.handle(older).await.unwrap());

    assert!(held.starts_with("older than the image waiting for its scan: sha256:"), "{held}");
    assert_eq!((w.tag(tags::SCAN_PENDING), w.aws.ecs.revisions("web").len(), w.events().len()), (marker, 1, 0));
}

#[tokio::test]
async fn a_scan_event_deploys_nothing_that_no_deferral_waits_for() {
    // A rescan of an image the service never deferred (e.g. an older one): not a deployment.
    let w = gated("critical");
    w.scanned(DIGEST, "COMPLETE", &[]);
    let outcome = w.handle(scan_event("ECR Image Scan", serde_json::json!({}))).await.unwrap();
    assert!(outcome.ignored.is_some(), "{outcome:?}");
    assert_eq!(w.aws.ecs.revisions("web").len(), 1);
}

#[tokio::test]
async fn no_scan_by_the_deadline_blocks_by_default_or_deploys_when_told() {
    for (policy, deploys) in [("critical", false), ("critical missing=deploy deadline=45m", true)] {
        let w = gated(policy);
        w.handle(push("v1.4.2")).await.unwrap();
        let calls = w.aws.faults.calls().len();

        // Before the deadline the re-check waits, writing nothing.
        w.clock.advance(29 * 60);
        let waiting = w.handle(schedule()).await.unwrap();
        assert!(reason(&waiting).contains("deferred until the scan"), "{policy}: {waiting:?}");
        let since: Vec<_> = w.aws.faults.calls()[calls..].to_vec();
        assert!(!since.iter().any(|call| matrix::MUTATING.contains(call)), "{policy}: {since:?}");

        w.clock.advance(if deploys { 16 * 60 } else { 60 });
        let decided = w.handle(schedule()).await.unwrap();

        assert_eq!(deployed(&decided), deploys, "{policy}: {decided:?}");
        assert_eq!(w.tag(tags::SCAN_PENDING), None, "{policy}: settled");
        let warning = if deploys { "image.deployed" } else { "image.blocked" };
        assert_eq!(w.events(), [warning], "{policy}");
        if !deploys {
            assert!(w.aws.sns.published()[0].text.contains("no scan result within the deadline (30 minutes)"));
            assert!(w.runs().ends_with("shop/web:v1"), "fail closed");
        }
        assert!(w.handle(schedule()).await.unwrap().ignored.is_some(), "{policy}: nothing waits any more");
        assert_eq!(w.events().len(), 1, "{policy}");
    }
}

#[tokio::test]
async fn a_repository_that_does_not_scan_decides_at_once() {
    for (policy, deploys) in [("critical", false), ("critical missing=deploy", true)] {
        let w = gated(policy);
        w.aws.ecr.set_scan_on_push(ACCOUNT, "shop/web", false);
        let outcome = w.handle(push("v1.4.2")).await.unwrap();
        assert_eq!(deployed(&outcome), deploys, "{policy}: {outcome:?}");
        assert_eq!(w.tag(tags::SCAN_PENDING), None, "{policy}: nothing to wait for");
        if !deploys {
            assert!(w.aws.sns.published()[0].text.contains("does not scan on push"), "{policy}");
        }
    }
}

#[tokio::test]
async fn a_failed_scan_is_a_missing_one() {
    let w = gated("critical");
    w.scanned(DIGEST, "UNSUPPORTED_IMAGE", &[]);
    assert!(reason(&w.handle(push("v1.4.2")).await.unwrap()).contains("UNSUPPORTED_IMAGE"));
    assert_eq!(w.events(), ["image.blocked"]);
}

#[tokio::test]
async fn a_newer_push_replaces_a_deferral() {
    let w = gated("critical");
    let mut older = push("v1.4.1");
    older["detail"]["image-digest"] = serde_json::json!(OLDER);
    w.handle(older).await.unwrap();
    assert!(w.tag(tags::SCAN_PENDING).is_some_and(|marker| marker.starts_with(OLDER)));

    w.scanned(DIGEST, "COMPLETE", &[]);
    let outcome = w.handle(push("v1.4.2")).await.unwrap();

    assert!(deployed(&outcome), "{outcome:?}");
    assert_eq!(w.tag(tags::SCAN_PENDING), None, "the older image's deferral is superseded");
    assert!(w.handle(schedule()).await.unwrap().ignored.is_some());
    assert_eq!(w.runs(), pinned(DIGEST));
}

#[tokio::test]
async fn the_recheck_drops_a_deferral_whose_image_is_gone() {
    let w = gated("critical");
    let gone = "sha256:abcdef0000000000000000000000000000000000000000000000000000000000";
    w.aws.ecs.update_service("prod", "web", |s| drop(s.service.tags.insert(tags::SCAN_PENDING.into(), format!("{gone}:{NOW}"))));
    let outcome = w.handle(schedule()).await.unwrap();
    assert!(reason(&outcome).contains("in no repository the service's containers use"), "{outcome:?}");
    assert_eq!((w.tag(tags::SCAN_PENDING), w.aws.ecs.revisions("web").len()), (None, 1));
}

#[test]
fn worst_findings_and_counts_are_bounded_in_the_warning() {
    let w = gated("low");
    let report = ScanReport {
        status: "COMPLETE".into(),
        severity_counts: BTreeMap::from([("LOW".to_string(), 40)]),
        worst: (0..40)
            .map(|n| ScanFinding { id: format!("CVE-{n}-{}", "x".repeat(10_000)), package: None, severity: "LOW".into() })
            .collect(),
    };
    let service = w.aws.ecs.service("prod", "web").service.clone();
    let push = ImagePush {
        event_id: None,
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        repository: "shop/web".into(),
        digest: DIGEST.into(),
        tag: Some("v1.4.2".into()),
    };
    let blocked = plan::Blocked::Findings(vec![("LOW".into(), 40)]);
    let warning = notification::blocked_notification(&push, &service, "low", &blocked, Some(&report));
    assert_eq!(warning.details["worst"].as_array().unwrap().len(), notification::WORST_MAX);
    assert_eq!(warning.text.matches("CVE-").count(), notification::WORST_MAX);
    assert!(warning.text.len() < 6 * crate::notify::FIELD_MAX, "{}", warning.text.len());
}

mod fault_matrix;
