//! Defect 9: the gate reports first, announces once CodeDeploy has the status, and takes a retry's
//! "already completed" as done; an ECS hook keeps its verdict when the announcement fails.

use super::*;

const REPORT: &str = "codedeploy:PutLifecycleEventHookExecutionStatus";
const PUBLISH: &str = "sns:Publish";

/// The one report CodeDeploy keeps for the hook.
fn kept(succeeded: bool) -> [(String, String, bool); 1] {
    [(DEPLOYMENT.to_owned(), EXECUTION.to_owned(), succeeded)]
}

/// The one announcement made: (event, subject, text); panics when there is not exactly one, or
/// when it lacks the hook's deduplication id.
fn announced_once(world: &World) -> (&'static str, String, String) {
    let published = world.aws.sns.published();
    assert_eq!(published.len(), 1, "{published:?}");
    let message = published.into_iter().next().unwrap();
    assert_eq!(message.dedup_key.as_deref(), Some("gate:exec-1"), "a retry's repeat must be recognisable");
    (message.event, message.subject, message.text)
}

#[tokio::test]
async fn failing_report_call_makes_handle_an_error() {
    let world = World::new(&[], HEALTHY);
    world.aws.faults.fail_nth(REPORT, 1, Fault::Error);
    let err = world.codedeploy_hook(DEPLOYMENT).await.unwrap_err();

    assert!(matches!(err, HandlerError::Aws { operation: REPORT, .. }), "{err}");
    assert!(world.aws.codedeploy.hook_reports().is_empty());
    assert!(world.published().is_empty(), "nothing is announced that CodeDeploy has not heard");

    world.codedeploy_hook(DEPLOYMENT).await.expect("Lambda's retry decides again, reports and announces");
    assert_eq!(world.aws.codedeploy.hook_reports(), kept(true));
    let (event, subject, _) = announced_once(&world);
    assert_eq!((event, subject.as_str()), ("gate.passed", "Traffic gate passed: prod/web"));
}

#[tokio::test]
async fn retry_after_a_lost_report_answer_finds_the_hook_answered_and_announces() {
    let world = World::new(&[], HEALTHY);
    world.aws.faults.fail_nth(REPORT, 1, Fault::LostResponse);
    world.codedeploy_hook(DEPLOYMENT).await.expect_err("the report's answer was lost");
    assert!(world.published().is_empty());

    let outcome = world.codedeploy_hook(DEPLOYMENT).await.expect("already completed is done");

    assert_eq!(gated(&outcome).1, &Verdict::Pass);
    assert_eq!(world.aws.codedeploy.hook_reports(), kept(true), "CodeDeploy keeps the first report");
    let (event, subject, text) = announced_once(&world);
    assert_eq!((event, subject.as_str()), ("gate.passed", "Traffic gate re-check passed: prod/web"));
    assert!(text.contains("acts on that one"), "{text}");
}

#[tokio::test]
async fn failed_announcement_fails_the_invocation_and_the_retry_announces() {
    let world = World::new(&[], HEALTHY);
    world.aws.faults.fail_nth(PUBLISH, 1, Fault::Error);
    let err = world.codedeploy_hook(DEPLOYMENT).await.unwrap_err();

    assert!(matches!(err, HandlerError::Aws { operation: PUBLISH, .. }), "{err}");
    assert_eq!(world.aws.codedeploy.hook_reports(), kept(true), "the report stands");
    assert!(world.published().is_empty());

    world.codedeploy_hook(DEPLOYMENT).await.expect("the retry announces");
    assert_eq!(world.aws.codedeploy.hook_reports(), kept(true), "and reports nothing new");
    assert_eq!(announced_once(&world).0, "gate.passed");
}

#[tokio::test]
async fn retry_whose_recheck_differs_says_codedeploy_keeps_the_first_status() {
    // Probes fail on the first attempt, pass on the retry's re-check.
    let world = World::new(&[], FAILING);
    world.aws.faults.fail_nth(PUBLISH, 1, Fault::Error);
    world.codedeploy_hook(DEPLOYMENT).await.expect_err("the announcement failed");

    let outcome = world.codedeploy_hook(DEPLOYMENT).await.unwrap();

    assert_eq!(gated(&outcome).1, &Verdict::Pass, "the re-check passes");
    assert_eq!(world.aws.codedeploy.hook_reports(), kept(false), "CodeDeploy acts on the first report: Failed");
    let (event, subject, text) = announced_once(&world);
    assert_eq!((event, subject.as_str()), ("gate.passed", "Traffic gate re-check passed: prod/web"));
    assert!(text.starts_with("Traffic gate re-check PASSED") && text.contains("which can differ from this re-check"), "{text}");
}

#[tokio::test]
async fn ecs_hook_keeps_its_verdict_when_the_announcement_fails() {
    let world = World::new(&[], HEALTHY);
    world.aws.faults.fail_always(PUBLISH, Fault::Error);
    let mut event: Value = serde_json::from_str(ECS_HOOK).unwrap();
    let first = world.ecs_hook(event.clone()).await;
    event["hookDetails"] = first["hookDetails"].clone();

    let last = world.ecs_hook(event).await;

    assert_eq!(last["hookStatus"], "SUCCEEDED", "a failed notification must not roll the deployment back: {last}");
    assert_eq!(world.aws.faults.count(PUBLISH), 1, "announced once, when decided");
    assert!(world.published().is_empty());
}
