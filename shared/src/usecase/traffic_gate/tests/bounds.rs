//! Issue 13, item 3: a gate reason of any size leaves a verdict message SNS accepts.

use super::*;
use crate::notify::limits::{SIZES, assert_sendable};

#[tokio::test]
async fn a_huge_gate_reason_is_cut_and_the_verdict_is_sent() {
    for size in SIZES {
        let world = World::new(&[], HEALTHY);
        let sick = Target { id: "10.0.1.7".into(), state: "unhealthy".into(), reason: Some("r".repeat(size)) };
        world.aws.elb.set_targets("tg-green", vec![sick]);

        let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

        assert!(reasons(gated(&outcome).1).contains("unhealthy targets in tg-green"), "{size}");
        assert_eq!(world.aws.codedeploy.hook_reports(), [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), false)]);
        assert_eq!(world.published(), ["gate.failed"], "{size}");
        let text = assert_sendable(&world.aws.sns.published()[0]);
        assert!(text.contains("Reason:   unhealthy targets in tg-green: 10.0.1.7: unhealthy (rrr"), "{size}: {text:.3000}");
        assert!(text.contains("Hook:     CodeDeploy deployment d-7HXW2M1KB"), "{size}: the lines after it stay");
    }
}

/// Issue 13, item 2: a hook whose ids are longer than AWS issues is refused in a short error,
/// before anything is read, reported or announced; none reaches the outcome or the log in full.
#[tokio::test]
async fn a_megabyte_id_in_a_hook_is_refused_short() {
    let huge = "d".repeat(1 << 20);
    let world = World::new(&[], HEALTHY);
    let codedeploy = [
        ("DeploymentId", json!({"DeploymentId": huge, "LifecycleEventHookExecutionId": EXECUTION})),
        ("LifecycleEventHookExecutionId", json!({"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": huge})),
    ];
    let mut ecs: Value = serde_json::from_str(ECS_HOOK).unwrap();
    ecs["executionId"] = json!(huge);
    for (field, event) in codedeploy.into_iter().chain([("executionId", ecs)]) {
        let message = world.gate().handle(event).await.expect_err("refused").to_string();
        assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
        assert!(message.len() <= crate::event::EVENT_ERROR_MAX, "{} bytes: {message:.300}", message.len());
    }
    assert_eq!(world.aws.codedeploy.hook_reports(), []);
    assert_eq!(world.published(), Vec::<&str>::new());
}
