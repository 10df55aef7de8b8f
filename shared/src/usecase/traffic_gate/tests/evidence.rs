//! Issue 13, items 5, 6, 7 and 10: what the gate may trust and what it must see. Tampered
//! `hookDetails` and unknown lifecycle stages fail the hook naming the field, before anything is
//! read or probed; each ECS stage looks at its own evidence; a stage that learns nothing about
//! the new revision fails (or, when allowed, passes saying so); probes go only to allowed hosts.

use super::*;
use crate::config::ProbeHosts;
use crate::notify::Severity;

const PROD_URL: &str = "http://web.internal:80";

/// The sample ECS hook (`prod/web`, POST_TEST_TRAFFIC_SHIFT) at `stage`, carrying `details`.
fn ecs_event(stage: &str, details: Option<Value>) -> Value {
    let mut event: Value = serde_json::from_str(ECS_HOOK).unwrap();
    event["lifecycleStage"] = json!(stage);
    if let Some(details) = details {
        event["hookDetails"] = details;
    }
    event
}

/// The FAILED reply's reasons, joined.
fn failed(reply: &Value) -> String {
    assert_eq!(reply["hookStatus"], "FAILED", "{reply}");
    reply["hookDetails"]["verdict"]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>().join("; ")
}

/// Removes tags from `prod/web`.
async fn untag(world: &World, keys: &[&str]) {
    let arn = world.aws.ecs.capacity("prod", "web").await.unwrap().unwrap().arn;
    for key in keys {
        world.aws.ecs.untag_service(&arn, key).await.unwrap();
    }
}

/// Item 5: `"checks": 4294967295` panicked in a debug build ("attempt to add with overflow") and
/// wrapped to 0 in release, restarting the GATE_MAX_PROBES budget.
#[tokio::test]
async fn an_ecs_hook_with_an_overflowing_budget_fails_naming_the_field_and_probes_nothing() {
    let world = World::new(&[], HEALTHY);
    let reply = world.ecs_hook(ecs_event("POST_TEST_TRAFFIC_SHIFT", Some(json!({"checks": 4294967295u64, "probes": []})))).await;

    let why = failed(&reply);
    assert!(why.contains("field `hookDetails.checks`") && why.contains("got 4294967295"), "{why}");
    assert!(reply.get("callBackDelay").is_none(), "decided: ECS calls no more");
    assert!(world.prober.urls().is_empty(), "nothing probed");
    assert_eq!(world.aws.faults.count("ecs:DescribeServices"), 0, "nothing read");
    let published = world.aws.sns.published();
    assert_eq!(published.len(), 1);
    assert_eq!((published[0].event, published[0].subject.as_str()), ("gate.failed", "Traffic gate FAILED: prod/web"));
    assert!(published[0].text.contains("Reason:   field `hookDetails.checks`"), "{}", published[0].text);
}

/// Item 5: what ECS hands back is checked, not believed: forged successes, unknown fields and a
/// spent budget fail the hook.
#[tokio::test]
async fn forged_or_foreign_hook_details_fail_the_hook() {
    let forged = json!({"checks": 1, "probes": [{"ok": true, "detail": "HTTP 200"}, {"ok": true, "detail": "HTTP 200"}]});
    let cases = [
        (forged, "field `hookDetails.probes`: expected at most one probe per check (1), got 2"),
        (json!({"checks": 1, "probes": [], "dryRun": true}), "field `hookDetails`: unknown field \"dryRun\""),
        (json!({"checks": 4}), "field `hookDetails.checks`: expected a whole number below GATE_MAX_PROBES (4), got 4"),
        (json!({"checks": -1}), "got -1"),
        (json!("checks=1"), "field `hookDetails`: expected an object"),
    ];
    for (details, expected) in cases {
        let world = World::new(&[], HEALTHY);
        let reply = world.ecs_hook(ecs_event("POST_TEST_TRAFFIC_SHIFT", Some(details.clone()))).await;
        assert!(failed(&reply).contains(expected), "{details}: {reply}");
        assert!(world.prober.urls().is_empty(), "{details}");
    }
}

/// Item 6: a misspelt (or future) stage got SUCCEEDED on target health alone.
#[tokio::test]
async fn an_unknown_lifecycle_stage_fails_naming_the_field() {
    let world = World::new(&[], HEALTHY);
    let reply = world.ecs_hook(ecs_event("POST_TEST_TRAFFIC", None)).await;

    let why = failed(&reply);
    assert!(
        why.starts_with("field `lifecycleStage`: expected one of RECONCILE_SERVICE,") && why.contains("got \"POST_TEST_TRAFFIC\""),
        "{why}"
    );
    assert!(world.prober.urls().is_empty());
    assert_eq!(world.aws.faults.count("ecs:DescribeServices") + world.aws.faults.count("elasticloadbalancing:DescribeTargetHealth"), 0);
    assert_eq!(world.aws.sns.published()[0].subject, "Traffic gate FAILED: prod/web", "the service is named from the hook's ARN");
}

/// Item 6: each stage is handled on purpose. Before scale-up nothing of the new revision exists:
/// the freeze and alarms only, and the reply says so; after it, target health; with test traffic
/// the test URL, with production traffic the production URL.
#[tokio::test]
async fn each_ecs_stage_gathers_its_own_evidence() {
    // (stage, status of the first call, target health read, URL probed)
    let table = [
        ("RECONCILE_SERVICE", "SUCCEEDED", false, None),
        ("PRE_SCALE_UP", "SUCCEEDED", false, None),
        ("POST_SCALE_UP", "SUCCEEDED", true, None),
        ("TEST_TRAFFIC_SHIFT", "IN_PROGRESS", true, Some(TEST_URL)),
        ("POST_TEST_TRAFFIC_SHIFT", "IN_PROGRESS", true, Some(TEST_URL)),
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", true, Some(TEST_URL)),
        ("PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", true, Some(PROD_URL)),
        ("POST_PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS", true, Some(PROD_URL)),
    ];
    for (stage, status, reads_health, url) in table {
        let world = World::new(&[(tags::GATE_URL, PROD_URL), (tags::GATE_ALARMS, "web-5xx")], HEALTHY);
        world.aws.cloudwatch.put_alarm(alarm("web-5xx", "OK"));
        let reply = world.ecs_hook(ecs_event(stage, None)).await;

        assert_eq!(reply["hookStatus"], status, "{stage}: {reply}");
        assert_eq!(world.aws.faults.count("cloudwatch:DescribeAlarms"), 1, "{stage}: alarms are checked at every stage");
        let health_reads = world.aws.faults.count("elasticloadbalancing:DescribeTargetHealth");
        assert_eq!(health_reads, usize::from(reads_health), "{stage}");
        assert_eq!(world.prober.urls(), url.map(|u| vec![format!("{u}/health")]).unwrap_or_default(), "{stage}");
        assert_eq!(reply["hookDetails"]["evidence"]["missing"], json!([]), "{stage}: {reply}");
        if !reads_health {
            let caveats = reply["hookDetails"]["caveats"].to_string();
            assert!(caveats.contains(&format!("{stage}: no new tasks yet, so only the freeze and the alarms are checked")), "{caveats}");
        }
    }
    // A freeze refuses even the stages that have nothing else to look at.
    let world = World::new(&[(tags::FREEZE, "release freeze")], HEALTHY);
    assert!(failed(&world.ecs_hook(ecs_event("PRE_SCALE_UP", None)).await).contains("frozen"));
}

/// Item 7: a gate with no URL and no target group passed, noting "skipped". By default it fails,
/// saying what was missing; `GATE_REQUIRE_EVIDENCE=false` lets it pass, visibly.
#[tokio::test]
async fn a_codedeploy_hook_that_can_learn_nothing_fails_by_default() {
    let world = World::new(&[], HEALTHY);
    untag(&world, &[tags::GATE_TEST_URL, tags::GATE_TARGET_GROUP]).await;
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
    let why = reasons(gated(&outcome).1);
    assert!(why.starts_with("no evidence about the new revision: target health: no target group known"), "{why}");
    assert!(why.contains("HTTP probes: no URL") && why.contains("GATE_REQUIRE_EVIDENCE=false"), "{why}");
    let text = &world.aws.sns.published()[0].text;
    assert!(text.contains("Missing:  target health: no target group known") && text.contains("Missing:  HTTP probes: no URL"), "{text}");
}

#[tokio::test]
async fn without_required_evidence_an_unchecked_gate_passes_and_says_so() {
    let world = World::new(&[], HEALTHY);
    untag(&world, &[tags::GATE_TEST_URL, tags::GATE_TARGET_GROUP]).await;
    let gate = world.gate_with(GateConfig { require_evidence: false, ..config() });
    let event = json!({"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION});
    let GateReply::CodeDeploy(outcome) = gate.handle(event).await.unwrap() else { panic!() };

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), true)]);
    let ResourceResult::Gated { verdict, caveats, .. } = &outcome.resources[0].result else { panic!() };
    assert_eq!(verdict, &Verdict::Pass);
    assert_eq!(
        caveats,
        &[
            format!("not checked: target health: no target group known (tag {})", tags::GATE_TARGET_GROUP),
            format!("not checked: HTTP probes: no URL (tags {} / {})", tags::GATE_TEST_URL, tags::GATE_URL),
        ]
    );
    let message = &world.aws.sns.published()[0];
    assert_eq!((message.subject.as_str(), message.severity), ("Traffic gate passed WITHOUT EVIDENCE: prod/web", Severity::Warning));
    assert!(
        message.text.starts_with("Traffic gate PASSED WITHOUT EVIDENCE") && message.text.contains("Missing:  HTTP probes"),
        "{}",
        message.text
    );
}

/// Item 7, ECS: POST_SCALE_UP looks at target health only; with no target group known (no tag, no
/// alternate target group) it has nothing to go on.
#[tokio::test]
async fn an_ecs_stage_with_no_evidence_fails_by_default() {
    let world = World::new(&[], HEALTHY);
    untag(&world, &[tags::GATE_TARGET_GROUP]).await;
    let why = failed(&world.ecs_hook(ecs_event("POST_SCALE_UP", None)).await);
    assert!(why.starts_with("no evidence about the new revision: target health: no target group known"), "{why}");
}

/// Item 10: a probe URL from a tag goes only to a host GATE_PROBE_HOSTS allows; any other fails
/// the gate, naming the host, without a request.
#[tokio::test]
async fn a_probe_host_outside_the_allowlist_fails_the_gate_unprobed() {
    let world = World::new(&[(tags::GATE_TEST_URL, "http://metadata.attacker.example:80")], HEALTHY);
    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
    let why = reasons(gated(&outcome).1);
    assert!(why.contains("probe host \"metadata.attacker.example\"") && why.contains("not allowed by GATE_PROBE_HOSTS"), "{why}");
    assert!(world.prober.urls().is_empty(), "no request left: {:?}", world.prober.urls());
    assert_eq!(world.aws.faults.count("elasticloadbalancing:DescribeTargetHealth"), 0, "refused with the standing facts");
}

#[tokio::test]
async fn with_no_allowlist_any_host_is_probed_and_the_verdict_notes_it() {
    let world = World::new(&[], HEALTHY);
    let gate = world.gate_with(GateConfig { probe_hosts: ProbeHosts::Any, ..config() });
    let event = json!({"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION});
    let GateReply::CodeDeploy(outcome) = gate.handle(event).await.unwrap() else { panic!() };

    let ResourceResult::Gated { verdict, caveats, .. } = &outcome.resources[0].result else { panic!() };
    assert_eq!(
        (verdict, caveats.as_slice()),
        (&Verdict::Pass, &["probe host \"web-test.internal\" is not restricted: GATE_PROBE_HOSTS is unset".to_owned()][..])
    );
    assert_eq!(world.prober.urls(), probed(2));
    assert!(world.aws.sns.published()[0].text.contains("Note:     probe host \"web-test.internal\" is not restricted"));
}
