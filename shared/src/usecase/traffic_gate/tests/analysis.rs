//! Issue 14: metric analysis while production traffic shifts. A canary's new target group is
//! compared with the old one's over the same window; worse fails the hook with both groups'
//! numbers, too little traffic keeps it pending until the checks run out, and a read that fails
//! fails the gate, never passes it.

use super::*;
use crate::fakes::Fault;
use crate::ports::Strategy;
use crate::usecase::traffic_gate::plan::analysis::{metric_queries, target_group_dimension};
use serde_json::json;

const NEW_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/0123456789abcdef";
const OLD_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/fedcba9876543210";
const ALB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188";
const NLB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/shop/50dc6c495c0c9188";

/// `prod/web` under `strategy`: production target group `OLD_TG`, alternate `NEW_TG` (2 healthy
/// targets), both behind `ALB`; the probes pass.
fn shifting(strategy: Strategy, tags: &[(&str, &str)]) -> World {
    let world = World::new(tags, HEALTHY);
    world.aws.ecs.update_service("prod", "web", |service| {
        service.service.strategy = strategy;
        service.target_group = Some(OLD_TG.into());
        service.alternate_target_group = Some(NEW_TG.into());
        service.tags.remove(tags::GATE_TARGET_GROUP);
    });
    let healthy = |id: &str| Target { id: id.into(), state: "healthy".into(), reason: None };
    world.aws.elb.set_targets(NEW_TG, vec![healthy("10.0.1.7"), healthy("10.0.2.9")]);
    for group in [NEW_TG, OLD_TG] {
        world.aws.elb.set_load_balancers(group, &[ALB]);
    }
    world
}

/// `group`'s traffic over the default window: requests, 5xx, p99 seconds (`None`: no datapoint).
fn traffic(world: &World, group: &str, requests: f64, errors: Option<f64>, p99: Option<f64>) {
    let [r, e, l] = metric_queries(&target_group_dimension(group).unwrap(), "app/shop/50dc6c495c0c9188", 300);
    for (metric, value) in [(r, Some(requests)), (e, errors), (l, p99)] {
        world.aws.cloudwatch.set_metric(&metric, value);
    }
}

fn at(stage: &str, details: Option<&Value>) -> Value {
    let mut event: Value = serde_json::from_str(ECS_HOOK).unwrap();
    event["lifecycleStage"] = json!(stage);
    if let Some(details) = details {
        event["hookDetails"] = details.clone();
    }
    event
}

fn verdict_reasons(reply: &Value) -> String {
    reply["hookDetails"]["verdict"]["reasons"].to_string()
}

#[tokio::test]
async fn a_canary_with_a_worse_5xx_share_fails_naming_both_shares() {
    let world = shifting(Strategy::Canary, &[]);
    traffic(&world, NEW_TG, 1000.0, Some(30.0), Some(0.2));
    traffic(&world, OLD_TG, 9000.0, Some(90.0), Some(0.2));
    let reply = world.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;

    assert_eq!(reply["hookStatus"], "FAILED", "{reply}");
    let why = verdict_reasons(&reply);
    assert!(why.contains("analysis: 5xx share of the new target group web-green is 3.00% (30 of 1000 requests)"), "{why}");
    assert!(why.contains("against the old target group web-blue's 1.00% (90 of 9000 requests)"), "{why}");
    let analysis = &reply["hookDetails"]["evidence"]["analysis"];
    assert_eq!(
        (analysis["result"].as_str(), analysis["new"]["errors"].as_u64(), analysis["old"]["requests"].as_u64()),
        (Some("worse"), Some(30), Some(9000))
    );
    let text = &world.aws.sns.published()[0].text;
    assert!(text.contains("Traffic:  new web-green: 1000 requests, 3.00% 5xx, p99 200.0 ms in 5 min"), "{text}");
    assert!(text.contains("Traffic:  old web-blue: 9000 requests, 1.00% 5xx"), "{text}");
    assert_eq!(world.aws.faults.count("cloudwatch:GetMetricStatistics"), 6, "three metrics of each group");
    assert_eq!(world.aws.faults.count("elasticloadbalancing:DescribeTargetGroups"), 1, "both groups in one call");
}

#[tokio::test]
async fn equal_shares_and_latency_pass_the_analysis() {
    for stage in ["PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"] {
        let world = shifting(Strategy::Linear, &[]);
        traffic(&world, NEW_TG, 1000.0, Some(10.0), Some(0.2));
        traffic(&world, OLD_TG, 9000.0, Some(90.0), Some(0.2));
        let reply = world.ecs_hook(at(stage, None)).await;

        assert_eq!(reply["hookStatus"], "SUCCEEDED", "{stage}: {reply}");
        assert_eq!(reply["hookDetails"]["evidence"]["analysis"]["result"], "passed", "{stage}");
    }
}

/// A step that never gathers enough requests waits (ECS calls back a minute later, when the load
/// balancer has published again) until the checks run out; then the analysis judges nothing and
/// the rest of the evidence decides, saying so: a quiet service must not fail every deployment
/// for want of traffic.
#[tokio::test]
async fn too_few_requests_keep_a_step_pending_until_the_checks_run_out_then_judge_nothing() {
    let world = shifting(Strategy::Canary, &[]);
    traffic(&world, NEW_TG, 12.0, None, None);
    traffic(&world, OLD_TG, 9000.0, None, Some(0.2));
    let mut reply = world.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;
    assert_eq!((&reply["hookStatus"], &reply["callBackDelay"]), (&json!("IN_PROGRESS"), &json!(60)), "{reply}");
    assert!(
        reply["hookDetails"]["verdict"]["reason"].as_str().unwrap().contains("served 12 requests in the last 5 min, fewer than the 50")
    );
    while reply["hookStatus"] == "IN_PROGRESS" {
        reply = world.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", Some(&reply["hookDetails"]))).await;
    }
    assert_eq!(reply["hookStatus"], "SUCCEEDED", "{reply}");
    assert_eq!(reply["hookDetails"]["evidence"]["analysis"]["result"], "not_judged", "{reply}");
    let caveats = reply["hookDetails"]["caveats"].to_string();
    assert!(caveats.contains("not judged: the new target group web-green served 12") && caveats.contains("after 4 checks"), "{caveats}");
}

/// Where the stage only judges what traffic there is, too little is a caveat, not a wait.
#[tokio::test]
async fn thin_traffic_is_noted_where_the_stage_does_not_wait_for_it() {
    for (strategy, stage) in [(Strategy::BlueGreen, "POST_PRODUCTION_TRAFFIC_SHIFT"), (Strategy::Canary, "PRE_PRODUCTION_TRAFFIC_SHIFT")] {
        let world = shifting(strategy, &[]);
        traffic(&world, NEW_TG, 3.0, Some(3.0), None);
        traffic(&world, OLD_TG, 9000.0, None, None);
        let reply = world.ecs_hook(at(stage, None)).await;
        // PRE_PRODUCTION probes the test URL: two probes to pass.
        let reply = match reply["hookStatus"].as_str() {
            Some("IN_PROGRESS") => world.ecs_hook(at(stage, Some(&reply["hookDetails"]))).await,
            _ => reply,
        };
        assert_eq!(reply["hookStatus"], "SUCCEEDED", "{stage}: {reply}");
        assert!(
            reply["hookDetails"]["caveats"].to_string().contains("traffic analysis: not judged: the new target group web-green served 3"),
            "{reply}"
        );
    }
}

#[tokio::test]
async fn stages_and_strategies_without_analysis_read_no_metrics() {
    let cases = [
        (Strategy::Canary, "POST_TEST_TRAFFIC_SHIFT"),
        (Strategy::BlueGreen, "PRODUCTION_TRAFFIC_SHIFT"),
        (Strategy::Rolling, "POST_PRODUCTION_TRAFFIC_SHIFT"),
    ];
    for (strategy, stage) in cases {
        let world = shifting(strategy, &[]);
        let reply = world.ecs_hook(at(stage, None)).await;
        assert!(reply["hookDetails"]["evidence"]["analysis"].is_null(), "{strategy:?} {stage}: {reply}");
        assert_eq!(world.aws.faults.count("cloudwatch:GetMetricStatistics"), 0, "{strategy:?} {stage}");
    }
}

/// A read the analysis needs that fails, however it fails, fails the gate with the reason.
#[tokio::test]
async fn a_failed_read_fails_the_gate_never_passes_it() {
    for operation in ["cloudwatch:GetMetricStatistics", "elasticloadbalancing:DescribeTargetGroups"] {
        for fault in Fault::ALL {
            for nth in [1, 2, 6] {
                let world = shifting(Strategy::Canary, &[]);
                traffic(&world, NEW_TG, 1000.0, None, Some(0.2));
                traffic(&world, OLD_TG, 9000.0, None, Some(0.2));
                world.aws.faults.fail_nth(operation, nth, fault);
                let reply = world.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;
                if world.aws.faults.count(operation) < nth {
                    continue;
                }
                assert_eq!(reply["hookStatus"], "FAILED", "{operation} #{nth} {fault:?}: {reply}");
                let why = verdict_reasons(&reply);
                assert!(why.contains("could not gather evidence") && why.contains(operation), "{why}");
            }
        }
    }
}

#[tokio::test]
async fn the_service_tag_sets_or_turns_off_the_analysis_and_a_bad_one_fails_naming_it() {
    let strict = shifting(Strategy::Canary, &[(tags::ANALYSIS, "errors=0 requests=10")]);
    traffic(&strict, NEW_TG, 100.0, Some(1.0), None);
    traffic(&strict, OLD_TG, 900.0, None, None);
    let reply = strict.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;
    assert!(verdict_reasons(&reply).contains("more than 0 percentage points worse"), "{reply}");

    let off = shifting(Strategy::Canary, &[(tags::ANALYSIS, "off")]);
    let reply = off.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;
    assert_eq!(reply["hookStatus"], "SUCCEEDED", "{reply}");
    assert!(reply["hookDetails"]["caveats"].to_string().contains("traffic analysis is off (deckhand:analysis / GATE_ANALYSIS)"));
    assert_eq!(off.aws.faults.count("cloudwatch:GetMetricStatistics"), 0);

    let bad = shifting(Strategy::Canary, &[(tags::ANALYSIS, "errors=2 window=2h")]);
    let reply = bad.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;
    assert_eq!(reply["hookStatus"], "FAILED");
    assert!(verdict_reasons(&reply).contains("tag deckhand:analysis is invalid: \\\"window=2h\\\""), "{reply}");
}

/// A change to the world a case makes.
type Change = fn(&World);

/// What the analysis cannot read is missing evidence, named; target health still decides.
#[tokio::test]
async fn a_comparison_that_cannot_be_made_is_named_as_missing() {
    let cases: [(&str, Change); 3] = [
        ("the new revision's target group", |w| {
            w.aws.ecs.update_service("prod", "web", |s| s.alternate_target_group = Some(OLD_TG.into()))
        }),
        ("is behind no load balancer", |w| w.aws.elb.set_load_balancers(OLD_TG, &[])),
        ("not an Application Load Balancer", |w| w.aws.elb.set_load_balancers(NEW_TG, &[NLB])),
    ];
    for (expected, change) in cases {
        let world = shifting(Strategy::Canary, &[]);
        let healthy = |id: &str| Target { id: id.into(), state: "healthy".into(), reason: None };
        world.aws.elb.set_targets(OLD_TG, vec![healthy("10.0.3.1"), healthy("10.0.3.2")]);
        change(&world);
        let reply = world.ecs_hook(at("PRODUCTION_TRAFFIC_SHIFT", None)).await;
        let caveats = reply["hookDetails"]["caveats"].to_string();
        assert!(caveats.contains("not checked: traffic analysis: ") && caveats.contains(expected), "{expected}: {reply}");
    }
}
