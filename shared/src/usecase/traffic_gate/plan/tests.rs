//! The gate's verdicts, table-tested.

use super::*;

fn history(oks: &[bool]) -> Vec<ProbeOutcome> {
    oks.iter().map(|&ok| ProbeOutcome { ok, detail: if ok { "HTTP 200".into() } else { "HTTP 500".into() } }).collect()
}

#[test]
fn probe_states() {
    let rules = ProbeRules::default();
    assert_eq!(probe_state(&history(&[]), &rules), ProbeState::Pending);
    assert_eq!(probe_state(&history(&[true]), &rules), ProbeState::Pending);
    assert_eq!(probe_state(&history(&[true, true]), &rules), ProbeState::Healthy);
    assert_eq!(probe_state(&history(&[true, false, true]), &rules), ProbeState::Pending, "flapping is not healthy");
    assert_eq!(probe_state(&history(&[true, false, true, true]), &rules), ProbeState::Healthy);
    assert!(
        matches!(probe_state(&history(&[true, false, false]), &rules), ProbeState::Unhealthy { reason } if reason.contains("HTTP 500"))
    );
    let flapping: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
    assert!(matches!(probe_state(&history(&flapping), &rules), ProbeState::Unhealthy { reason } if reason.contains("flapping")));
    let strict = ProbeRules { unhealthy_threshold: 3, ..rules };
    assert_eq!(probe_state(&history(&[false, false]), &strict), ProbeState::Pending);
}

#[test]
fn verdicts() {
    let healthy_probes = Some((ProbeState::Healthy, 2));
    let pass = Evidence { probes: healthy_probes.clone(), ..Evidence::default() };
    assert_eq!(verdict(&pass, true), Verdict::Pass);
    assert_eq!(verdict(&Evidence::default(), true), Verdict::Pass, "nothing against it");

    let frozen = Evidence { freeze: Some("region failover to us-west-2".into()), probes: healthy_probes.clone(), ..Evidence::default() };
    assert!(matches!(verdict(&frozen, true), Verdict::Fail { reasons } if reasons[0].contains("frozen")));

    let alarmed = Evidence { alarms_in_alarm: vec!["web-5xx".into()], alarms_missing: vec!["web-p99".into()], ..Evidence::default() };
    assert!(matches!(verdict(&alarmed, true), Verdict::Fail { reasons } if reasons.len() == 2));

    let health =
        |healthy, unhealthy: Vec<String>| TargetHealth { target_group: "tg-green".into(), healthy, initial: 0, unhealthy, desired: 2 };
    let short = Evidence { target_health: Some(health(1, vec![])), ..Evidence::default() };
    assert!(matches!(verdict(&short, true), Verdict::Pending { reason } if reason.contains("wants 2")));
    let mut spent = short.clone();
    let pending = verdict(&short, true);
    assert!(matches!(final_verdict(&mut spent, pending, 10, true), Verdict::Fail { reasons } if reasons[0].contains("after 10 checks")));
    assert_eq!(final_verdict(&mut spent, Verdict::Pass, 3, true), Verdict::Pass);
    let sick = Evidence { target_health: Some(health(2, vec!["10.0.1.7: unhealthy (Target.Timeout)".into()])), ..Evidence::default() };
    assert!(matches!(verdict(&sick, true), Verdict::Fail { reasons } if reasons[0].contains("Target.Timeout")));

    let pending = Evidence { probes: Some((ProbeState::Pending, 1)), target_health: Some(health(2, vec![])), ..Evidence::default() };
    assert!(matches!(verdict(&pending, true), Verdict::Pending { .. }));
    let failing = Evidence { probes: Some((ProbeState::Unhealthy { reason: "connection refused".into() }, 2)), ..Evidence::default() };
    assert!(matches!(verdict(&failing, true), Verdict::Fail { reasons } if reasons[0].contains("connection refused")));
}

/// Issue 13 item 7: a stage that looks at the new revision and learns nothing about it fails
/// when evidence is required (the default), and passes with visible caveats when not.
#[test]
fn missing_evidence_fails_when_required_and_is_a_caveat_when_not() {
    let nothing =
        Evidence { missing: vec!["target health: no target group known".into(), "HTTP probes: no URL".into()], ..Evidence::default() };
    assert!(nothing.lacks_evidence());
    let Verdict::Fail { reasons } = verdict(&nothing, true) else { panic!("required evidence is missing") };
    assert!(reasons[0].starts_with("no evidence about the new revision: target health: no target group known; HTTP probes: no URL"));
    assert_eq!(verdict(&nothing, false), Verdict::Pass);
    assert_eq!(nothing.caveats(), ["not checked: target health: no target group known", "not checked: HTTP probes: no URL"]);

    // Some evidence: what is missing is a caveat, not a failure.
    let health = TargetHealth { target_group: "tg-green".into(), healthy: 2, initial: 0, unhealthy: vec![], desired: 2 };
    let partial = Evidence { target_health: Some(health), missing: vec!["HTTP probes: no URL".into()], ..Evidence::default() };
    assert!(!partial.lacks_evidence());
    assert_eq!(verdict(&partial, true), Verdict::Pass);
    assert_eq!(partial.caveats(), ["not checked: HTTP probes: no URL"]);

    // A stage with nothing to look at (PRE_SCALE_UP) misses nothing: it passes, saying so.
    let before = Evidence { notes: vec!["PRE_SCALE_UP: no new tasks yet".into()], ..Evidence::default() };
    assert_eq!((verdict(&before, true), before.caveats()), (Verdict::Pass, vec!["PRE_SCALE_UP: no new tasks yet".to_owned()]));
}

/// Issue 14: a worse new target group fails, too few requests where the stage waits keep the
/// verdict pending, and the numbers count as evidence about the new revision.
#[test]
fn the_traffic_analysis_weighs_in() {
    use analysis::{GroupTraffic, analyse};
    let group = |name: &str, requests, errors| GroupTraffic { target_group: name.into(), requests, errors, p99_us: None };
    let rules = AnalysisRules::default();
    let table = [
        ((1000, 50), Rigor::Required, "fail"),
        ((1000, 10), Rigor::Required, "pass"),
        ((10, 10), Rigor::Required, "pending"),
        ((10, 10), Rigor::IfTraffic, "pass"),
    ];
    for ((requests, errors), rigor, expected) in table {
        let analysis = analyse(group("new", requests, errors), group("old", 9000, 90), &rules, rigor);
        let evidence = Evidence { analysis: Some(analysis), missing: vec!["HTTP probes: no URL".into()], ..Evidence::default() };
        assert!(!evidence.lacks_evidence());
        let found = match verdict(&evidence, true) {
            Verdict::Fail { reasons } if reasons[0].starts_with("analysis: 5xx share") => "fail",
            Verdict::Pending { reason } if reason.starts_with("analysis: the new target group new served 10") => "pending",
            Verdict::Pass => "pass",
            other => panic!("{other:?}"),
        };
        assert_eq!(found, expected, "{requests} {errors} {rigor:?}");
    }
}

/// Checks spent while the analysis still waits for requests: it judges nothing and the other
/// evidence decides (a quiet canary passes on its health, saying so); ECS is asked to call
/// back no sooner than the load balancer's next datapoint.
#[test]
fn an_analysis_short_of_traffic_when_the_checks_run_out_judges_nothing() {
    use analysis::{GroupTraffic, analyse};
    let group = |name: &str, requests| GroupTraffic { target_group: name.into(), requests, errors: 0, p99_us: None };
    let quiet = analyse(group("new", 3), group("old", 900), &AnalysisRules::default(), Rigor::Required);
    let health = TargetHealth { target_group: "tg-green".into(), healthy: 2, initial: 0, unhealthy: vec![], desired: 2 };
    let mut evidence = Evidence { analysis: Some(quiet), target_health: Some(health), ..Evidence::default() };
    let pending = verdict(&evidence, true);
    assert!(matches!(&pending, Verdict::Pending { reason } if reason.starts_with("analysis:")), "{pending:?}");
    assert_eq!((call_back_delay(&evidence, 5000), call_back_delay(&Evidence::default(), 5000)), (60, 5));
    assert_eq!(final_verdict(&mut evidence, pending, 10, true), Verdict::Pass);
    let caveats = evidence.caveats();
    assert!(caveats.iter().any(|c| c.starts_with("traffic analysis: not judged:") && c.ends_with("after 10 checks")), "{caveats:?}");
}

#[test]
fn a_refused_probe_url_fails() {
    let refused = Evidence { probe_refused: Some("probe host \"evil.example\" is not in GATE_PROBE_HOSTS".into()), ..Evidence::default() };
    assert!(matches!(verdict(&refused, false), Verdict::Fail { reasons } if reasons[0].contains("evil.example")));
}
