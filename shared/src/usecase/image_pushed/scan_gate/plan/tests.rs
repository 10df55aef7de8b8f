use super::*;

const D: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";
const OTHER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
const NOW: u64 = 1_795_000_000;

fn policy(value: &str) -> ScanPolicy {
    ScanPolicy::parse(value).unwrap_or_else(|err| panic!("{value}: {err}"))
}

#[test]
fn policies_read_the_tag_safe_syntax() {
    let cases = [
        ("critical", 0, 30, OnMissing::Block),
        ("HIGH", 1, 30, OnMissing::Block),
        ("medium deadline=45m", 2, 45, OnMissing::Block),
        ("low missing=deploy", 3, 30, OnMissing::Deploy),
        ("  deadline=2h   informational missing=BLOCK ", 4, 120, OnMissing::Block),
        ("critical deadline=5", 0, 5, OnMissing::Block),
    ];
    for (value, block_at, deadline_minutes, missing) in cases {
        assert_eq!(policy(value), ScanPolicy { block_at, deadline_minutes, missing }, "{value}");
    }
}

#[test]
fn invalid_policies_say_why() {
    let cases = [
        ("", "name the severity"),
        ("deadline=30m", "name the severity"),
        ("severe", "\"severe\" is not a severity"),
        ("critical high", "the severity is given twice"),
        ("critical deadline=0", "not 1 minute to a day"),
        ("critical deadline=2d", "not 1 minute to a day"),
        ("critical deadline=25h", "not 1 minute to a day"),
        ("critical deadline=30m deadline=1h", "deadline is given twice"),
        ("critical missing=allow", "neither deploy nor block"),
        ("critical timeout=5m", "unknown setting \"timeout=5m\""),
    ];
    for (value, wanted) in cases {
        let err = ScanPolicy::parse(value).unwrap_err();
        assert!(err.starts_with("deckhand:scan ") && err.contains(wanted), "{value}: {err}");
    }
}

fn counted(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(severity, count)| (severity.to_string(), *count)).collect()
}

#[test]
fn blocking_findings_are_those_at_the_policy_or_worse() {
    let found = counted(&[("MEDIUM", 4), ("CRITICAL", 1), ("HIGH", 0), ("UNDEFINED", 7), ("UNTRIAGED", 2), ("LOW", 9)]);
    assert_eq!(policy("critical").blocking(&found), [("CRITICAL".to_string(), 1)]);
    assert_eq!(policy("high").blocking(&found), [("CRITICAL".to_string(), 1)], "a zero count blocks nothing");
    assert_eq!(policy("medium").blocking(&found), [("CRITICAL".to_string(), 1), ("MEDIUM".to_string(), 4)]);
    assert_eq!(policy("informational").blocking(&found).len(), 3, "UNDEFINED and UNTRIAGED never block");
    assert_eq!(counts(&found), "CRITICAL 1, MEDIUM 4, LOW 9, UNDEFINED 7, UNTRIAGED 2");
    assert_eq!(counts(&BTreeMap::new()), "no findings");
}

#[test]
fn the_pending_marker_round_trips_and_rejects_what_is_not_ours() {
    let pending = Pending { digest: D.into(), since: NOW };
    assert_eq!(Pending::parse(&pending.value()), Some(pending.clone()));
    assert!(pending.value().len() <= 256, "an ECS tag value");
    for bad in ["", "sha256:abc:1", &format!("{D}:soon"), D, "latest:1795000000"] {
        assert_eq!(Pending::parse(bad), None, "{bad}");
    }
}

fn report(status: &str, pairs: &[(&str, u64)]) -> ScanReport {
    ScanReport { status: status.into(), severity_counts: counted(pairs), worst: Vec::new() }
}

/// What the gate sees, in a table's terms: the report, whether the repository scans on push, the
/// pending marker (digest, minutes ago), the digest already warned about.
struct Seen {
    report: Option<ScanReport>,
    scans: Option<bool>,
    pending: Option<(&'static str, u64)>,
    blocked: Option<&'static str>,
}

const NOTHING: Seen = Seen { report: None, scans: None, pending: None, blocked: None };

fn decided(policy_value: &str, seen: &Seen) -> GateDecision {
    let pending = seen.pending.map(|(digest, minutes_ago)| Pending { digest: digest.into(), since: NOW - minutes_ago * 60 });
    let observation = Observation {
        digest: D,
        report: seen.report.as_ref(),
        scans_on_push: seen.scans,
        pending: pending.as_ref(),
        blocked: seen.blocked,
        now: NOW,
    };
    decide(&policy(policy_value), &observation)
}

fn deploys(decision: &GateDecision, wanted: &str) -> bool {
    matches!(decision, GateDecision::Deploy { reason } if reason.contains(wanted))
}

#[test]
fn a_finished_scan_decides_at_once() {
    let critical = Seen { report: Some(report("COMPLETE", &[("CRITICAL", 2), ("LOW", 1)])), ..NOTHING };
    let high = Seen { report: Some(report("ACTIVE", &[("HIGH", 3)])), ..NOTHING };
    let clean = Seen { report: Some(report("COMPLETE", &[])), ..NOTHING };
    let findings = |pairs: &[(&str, u64)]| Blocked::Findings(pairs.iter().map(|(s, c)| (s.to_string(), *c)).collect());

    assert_eq!(decided("critical", &critical), GateDecision::Block { blocked: findings(&[("CRITICAL", 2)]), warn: true });
    assert!(deploys(&decided("critical", &high), "scan ACTIVE: HIGH 3"));
    assert_eq!(decided("high", &high), GateDecision::Block { blocked: findings(&[("HIGH", 3)]), warn: true });
    assert!(deploys(&decided("critical", &clean), "scan COMPLETE: no findings"));
    // Already warned about this digest: blocked, quietly. Another digest's warning does not count.
    let warned = Seen { blocked: Some(D), ..critical };
    assert!(matches!(decided("critical", &warned), GateDecision::Block { warn: false, .. }));
    let other = Seen { blocked: Some(OTHER), report: Some(report("COMPLETE", &[("CRITICAL", 1)])), ..NOTHING };
    assert!(matches!(decided("critical", &other), GateDecision::Block { warn: true, .. }));
    // A finished scan decides whatever deferral is recorded, and needs no repository setting.
    let deferred = Seen { pending: Some((D, 1)), report: Some(report("COMPLETE", &[])), ..NOTHING };
    assert!(deploys(&decided("critical", &deferred), "no findings"));
}

#[test]
fn no_scan_yet_defers_until_the_deadline_then_the_policy_decides() {
    let in_progress = Seen { report: Some(report("IN_PROGRESS", &[])), ..NOTHING };
    let decide_at = NOW + 30 * 60;
    assert_eq!(decided("critical", &in_progress), GateDecision::Defer { mark: true, decide_at });
    assert_eq!(decided("critical", &NOTHING), GateDecision::AskRepository, "no report: the repository's setting decides");
    let scanning = Seen { scans: Some(true), ..NOTHING };
    assert_eq!(decided("critical deadline=10", &scanning), GateDecision::Defer { mark: true, decide_at: NOW + 600 });
    // A deferral of another digest is replaced: the newest push wins.
    let other = Seen { scans: Some(true), pending: Some((OTHER, 5)), ..NOTHING };
    assert!(matches!(decided("critical", &other), GateDecision::Defer { mark: true, .. }));

    // Recorded 20 minutes ago: still waiting (nothing to write), decided 10 minutes from now.
    let waiting = Seen { pending: Some((D, 20)), ..NOTHING };
    assert_eq!(decided("critical", &waiting), GateDecision::Defer { mark: false, decide_at: NOW + 600 });
    // Recorded 30 minutes ago, no result: fail closed by default, or deploy when told.
    let late = Seen { pending: Some((D, 30)), report: Some(report("PENDING", &[])), ..NOTHING };
    let deadline = Blocked::Missing(Missing::Deadline { since: NOW - 1800, minutes: 30 });
    assert_eq!(decided("critical", &late), GateDecision::Block { blocked: deadline, warn: true });
    assert!(deploys(&decided("critical missing=deploy", &late), "no scan result within the deadline (30 minutes); missing=deploy"));
    assert!(matches!(decided("critical deadline=45m", &late), GateDecision::Defer { mark: false, .. }), "its own deadline");
}

#[test]
fn a_scan_that_will_never_come_is_missing_now() {
    let failed = Seen { report: Some(report("UNSUPPORTED_IMAGE", &[])), pending: Some((D, 1)), ..NOTHING };
    let not_scanning = Seen { scans: Some(false), ..NOTHING };
    let failed_status = Missing::Failed { status: "UNSUPPORTED_IMAGE".into() };
    assert_eq!(decided("critical", &failed), GateDecision::Block { blocked: Blocked::Missing(failed_status), warn: true });
    assert_eq!(decided("critical", &not_scanning), GateDecision::Block { blocked: Blocked::Missing(Missing::NotScanning), warn: true });
    assert!(deploys(&decided("high missing=deploy", &not_scanning), "does not scan on push; missing=deploy"));
    let warned = Seen { blocked: Some(D), ..not_scanning };
    assert!(matches!(decided("critical", &warned), GateDecision::Block { warn: false, .. }));
}
