//! deploy-events: notifications from ECS and CodeDeploy state changes.

use super::*;
use crate::event::deployment::{CodeDeployChange, EcsDeploymentChange};
use crate::fakes::{FakeAws, FakeCodeDeploy, FakeDeployment, FakeEcs, FakeService, FakeSns, Fault, sample_event};
use crate::notify::Severity;
use crate::ports::{DeploymentDetails, DeploymentGroup, EcsDeployment};

mod bounds;
mod failed_lookups;
mod fault_matrix;
mod native;

fn ecs_change(name: &str, reason: Option<&str>) -> EcsDeploymentChange {
    EcsDeploymentChange {
        event_id: Some("e1".into()),
        name: name.into(),
        deployment_id: "ecs-svc/2".into(),
        reason: reason.map(str::to_owned),
        service_arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
    }
}

fn deployments() -> Vec<EcsDeployment> {
    let td = |n| format!("arn:aws:ecs:us-east-1:123456789012:task-definition/web:{n}");
    vec![
        EcsDeployment { id: "ecs-svc/2".into(), status: "PRIMARY".into(), task_definition: td(8) },
        EcsDeployment { id: "ecs-svc/1".into(), status: "ACTIVE".into(), task_definition: td(7) },
    ]
}

/// AWS's reasons ("Amazon ECS service deployment state change events"): the circuit breaker's
/// failure, then the rollback deployment's start naming the deployment it returns to.
const DOCUMENTED_FAILURE: &str = "ECS deployment circuit breaker: task failed to start.";
const DOCUMENTED_ROLLBACK: &str = "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.";

#[test]
fn ecs_states_by_event_name_and_reason() {
    use EcsState::*;
    let table: [(&str, Option<&str>, EcsState, &str, Severity); 10] = [
        ("SERVICE_DEPLOYMENT_IN_PROGRESS", Some("ECS deployment ecs-svc/2 in progress."), Started, "deployment.started", Severity::Info),
        ("SERVICE_DEPLOYMENT_IN_PROGRESS", None, Started, "deployment.started", Severity::Info),
        (
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            Some(DOCUMENTED_ROLLBACK),
            RollingBack { to: Some("ecs-svc/1") },
            "deployment.rolled_back",
            Severity::Critical,
        ),
        // Not AWS's wording: another cause, another case, no final period.
        (
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            Some("ECS deployment alarms: Rolling back to deploymentId ecs-svc/1734528347392783921"),
            RollingBack { to: Some("ecs-svc/1734528347392783921") },
            "deployment.rolled_back",
            Severity::Critical,
        ),
        (
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            Some("ECS deployment circuit breaker: rolling back."),
            RollingBack { to: None },
            "deployment.rolled_back",
            Severity::Critical,
        ),
        ("SERVICE_DEPLOYMENT_COMPLETED", Some("ECS deployment ecs-svc/2 completed."), Succeeded, "deployment.succeeded", Severity::Info),
        ("SERVICE_DEPLOYMENT_FAILED", Some(DOCUMENTED_FAILURE), Failed, "deployment.failed", Severity::Critical),
        ("SERVICE_DEPLOYMENT_FAILED", None, Failed, "deployment.failed", Severity::Critical),
        // Deckhand's older sample text: the failure is a failure; ECS announces the rollback itself.
        (
            "SERVICE_DEPLOYMENT_FAILED",
            Some("ECS deployment circuit breaker: tasks failed to start. Rolling back to deploymentId ecs-svc/1."),
            Failed,
            "deployment.failed",
            Severity::Critical,
        ),
        ("SERVICE_DEPLOYMENT_PAUSED", Some(DOCUMENTED_ROLLBACK), Other, "deployment.changed", Severity::Info),
    ];
    for (name, reason, state, event, severity) in table {
        assert_eq!(EcsState::of(name, reason), state, "{name} {reason:?}");
        assert_eq!(state.reported_as().0, event, "{name} {reason:?}");
        assert_eq!(state.reported_as().1, severity, "{name} {reason:?}");
    }
}

#[test]
fn ecs_documented_failure_is_critical_and_says_why() {
    let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_FAILED", Some(DOCUMENTED_FAILURE)), &deployments(), &[]);
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED: prod/web (web:8)");
    assert!(
        n.text.contains("Previous:   web:7") && n.text.contains("Reason:     ECS deployment circuit breaker: task failed"),
        "{}",
        n.text
    );
    assert!(!n.text.contains("Rollback:"), "{}", n.text);
    // A failure whose reason mentions a rollback is still the failure: the rollback is reported
    // from its own IN_PROGRESS event, once.
    let older = "ECS deployment circuit breaker: tasks failed to start. Rolling back to deploymentId ecs-svc/1.";
    let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_FAILED", Some(older)), &deployments(), &[]);
    assert_eq!(
        (n.event, n.severity, n.sns_subject().as_str()),
        ("deployment.failed", Severity::Critical, "Deployment FAILED: prod/web (web:8)")
    );
    assert!(!n.text.contains("Rollback:"), "{}", n.text);
}

/// prod/web after the circuit breaker failed ecs-svc/2 (web:8): ECS rolls back with a new
/// deployment, ecs-svc/3, of the revision of ecs-svc/1 (web:7).
fn rolling_back() -> Vec<EcsDeployment> {
    let td = |n| format!("arn:aws:ecs:us-east-1:123456789012:task-definition/web:{n}");
    vec![
        EcsDeployment { id: "ecs-svc/3".into(), status: "PRIMARY".into(), task_definition: td(7) },
        EcsDeployment { id: "ecs-svc/2".into(), status: "ACTIVE".into(), task_definition: td(8) },
    ]
}

#[test]
fn ecs_documented_rollback_is_critical_and_names_the_deployment_it_returns_to() {
    let change = EcsDeploymentChange {
        deployment_id: "ecs-svc/3".into(),
        ..ecs_change("SERVICE_DEPLOYMENT_IN_PROGRESS", Some(DOCUMENTED_ROLLBACK))
    };
    let n = ecs_notification(&change, &rolling_back(), &[]);
    assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web (to web:7)");
    assert!(n.text.contains("Revision:   web:7\nPrevious:   web:8\nRollback:   to deployment ecs-svc/1\n"), "{}", n.text);
    assert_eq!(n.details["rollback_to"], "ecs-svc/1");
    // The rollback deployment not listed yet: the revision is that of the deployment it returns to.
    let n = ecs_notification(&change, &deployments(), &[]);
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web (to web:7)");
    assert!(n.text.contains("Revision:   web:7\n"), "{}", n.text);
}

#[test]
fn ecs_progress_without_the_deployment_listed_still_reads_well() {
    let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_COMPLETED", None), &[], &[]);
    assert_eq!((n.event, n.severity, n.sns_subject().as_str()), ("deployment.succeeded", Severity::Info, "Deployed: prod/web"));
    assert!(n.text.contains("Revision:   unknown"));
}

#[test]
fn codedeploy_failure_names_the_error_and_the_service() {
    let change = CodeDeployChange {
        event_id: None,
        state: "FAILURE".into(),
        deployment_id: "d-1".into(),
        application: "shop".into(),
        deployment_group: "web-bg".into(),
    };
    let details = DeploymentDetails {
        task_definition: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:9".into()),
        error: Some("ALARM_ACTIVE: alarm web-5xx is in ALARM".into()),
        rollback: Some("rolled back by d-2".into()),
        ..DeploymentDetails::default()
    };
    let n = codedeploy_notification(&change, &details, &[("prod".into(), "web".into())], &[]);
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Blue/green deployment FAILED: prod/web (web:9)");
    assert!(n.text.contains("ALARM_ACTIVE") && n.text.contains("rolled back by d-2"), "{}", n.text);
    let unknown = codedeploy_notification(&change, &DeploymentDetails::default(), &[], &[]);
    assert_eq!(unknown.sns_subject(), "Blue/green deployment FAILED: shop/web-bg");
}

// The use case against the fakes, with the sample events of `events/`.

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:deckhand";
const BLUE_GREEN_REVISION: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:9";
const BLUE_GREEN_ERROR: &str =
    "ALARM_ACTIVE: One or more alarms have been activated according to the Amazon CloudWatch metrics you selected";

/// `ecs-deployment-failed.json`, about the deployment `deployments()` lists as PRIMARY.
fn ecs_failed() -> Value {
    let mut event = sample_event("ecs-deployment-failed.json");
    event["detail"]["deploymentId"] = json!("ecs-svc/2");
    event
}

/// prod/web rolling from web:7 to web:8; the shop/web-bg group deploying it, whose deployment
/// d-7HXW2M1KB (the CodeDeploy samples') failed.
fn fake_aws() -> FakeAws {
    let aws = FakeAws::new();
    let mut web = FakeService::new("prod", "web", &deployments()[0].task_definition);
    web.deployments = deployments();
    aws.ecs.add_service(web);
    let group = DeploymentGroup { services: vec![("prod".into(), "web".into())], ..DeploymentGroup::default() };
    aws.codedeploy.add_group("shop", "web-bg", group);
    aws.codedeploy.add_deployment(FakeDeployment {
        id: "d-7HXW2M1KB".into(),
        application: "shop".into(),
        group: "web-bg".into(),
        task_definition: Some(BLUE_GREEN_REVISION.into()),
        status: "Failed".into(),
        deployment_config: None,
        error: Some(BLUE_GREEN_ERROR.into()),
    });
    aws
}

fn deploy_events(aws: &FakeAws, clusters: &[&str]) -> DeployEvents<FakeEcs, FakeCodeDeploy, FakeSns> {
    let config = DeployEventsConfig { notify_topic_arn: TOPIC.into(), clusters: clusters.iter().map(|c| c.to_string()).collect() };
    DeployEvents::new(config, aws.ecs.clone(), aws.codedeploy.clone(), aws.sns.clone())
}

#[tokio::test]
async fn ecs_failure_publishes_one_critical_message_naming_both_revisions() {
    let aws = fake_aws();
    let outcome = deploy_events(&aws, &["prod"]).handle(ecs_failed()).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED: prod/web (web:8)");
    assert!(n.text.contains("Revision:   web:8") && n.text.contains("Previous:   web:7"), "{}", n.text);
    assert!(n.text.contains("Reason:     ECS deployment circuit breaker: task failed to start."), "{}", n.text);
    assert_eq!(outcome.notification.map(|sent| sent.message_id), Some("msg-1".to_owned()));
}

/// The documented pair, as ECS sends them: the failure of ecs-svc/2, then the rollback deployment
/// ecs-svc/3 (`ecs-deployment-rollback.json`). One failure alert, then one rollback alert.
#[tokio::test]
async fn ecs_documented_failure_then_rollback_are_a_failure_and_a_rollback() {
    let aws = FakeAws::new();
    let mut web = FakeService::new("prod", "web", &rolling_back()[0].task_definition);
    web.deployments = rolling_back();
    aws.ecs.add_service(web);
    let handler = deploy_events(&aws, &["prod"]);
    handler.handle(ecs_failed()).await.unwrap();
    let mut rollback = sample_event("ecs-deployment-rollback.json");
    rollback["detail"]["deploymentId"] = json!("ecs-svc/3");
    handler.handle(rollback).await.unwrap();

    let published = aws.sns.published();
    let reported: Vec<_> = published.iter().map(|n| (n.event, n.severity, n.sns_subject())).collect();
    assert_eq!(
        reported,
        [
            ("deployment.failed", Severity::Critical, "Deployment FAILED: prod/web (web:8)".to_owned()),
            ("deployment.rolled_back", Severity::Critical, "Deployment FAILED, rolling back: prod/web (to web:7)".to_owned()),
        ]
    );
    let rolled_back = &published[1];
    assert!(rolled_back.text.contains("Rollback:   to deployment ecs-svc/1734528347392783921\n"), "{}", rolled_back.text);
    assert!(rolled_back.text.contains("Previous:   web:8"), "the failed revision: {}", rolled_back.text);
    assert_eq!(rolled_back.details["rollback_to"], "ecs-svc/1734528347392783921");
}

/// The documented rollback still names the deployment it returns to when the service cannot be read.
#[tokio::test]
async fn ecs_rollback_is_alerted_when_the_service_cannot_be_read() {
    let aws = fake_aws();
    aws.faults.fail_always("ecs:DescribeServices", Fault::Error);
    deploy_events(&aws, &[]).handle(sample_event("ecs-deployment-rollback.json")).await.expect("the alert is published");
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web");
    assert!(n.text.contains("Rollback:   to deployment ecs-svc/1734528347392783921"), "{}", n.text);
    assert!(n.text.contains("Not read:   revisions: ecs:DescribeServices: InternalFailure"), "{}", n.text);
}

#[tokio::test]
async fn redelivered_event_publishes_nothing_more() {
    let aws = fake_aws();
    let handler = deploy_events(&aws, &[]);
    handler.handle(ecs_failed()).await.unwrap();
    let again = handler.handle(ecs_failed()).await.unwrap();
    assert!(again.ignored.as_deref().unwrap_or_default().contains("duplicate"), "{again:?}");
    assert_eq!(aws.sns.published().len(), 1);
    assert_eq!(aws.faults.count("ecs:DescribeServices"), 1);
}

#[tokio::test]
async fn cluster_outside_clusters_is_ignored_without_a_call() {
    let aws = fake_aws();
    let outcome = deploy_events(&aws, &["staging"]).handle(ecs_failed()).await.unwrap();
    assert_eq!(outcome.ignored.as_deref(), Some("cluster prod is not in CLUSTERS"));
    assert_eq!((aws.faults.calls(), aws.sns.published()), (vec![], vec![]));
}

#[tokio::test]
async fn codedeploy_failure_names_the_error_of_the_deployment() {
    let aws = fake_aws();
    deploy_events(&aws, &["prod"]).handle(sample_event("codedeploy-failure.json")).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Blue/green deployment FAILED: prod/web (web:9)");
    assert!(n.text.contains(&format!("Reason:     {BLUE_GREEN_ERROR}")), "{}", n.text);
    assert_eq!(aws.faults.calls(), ["codedeploy:GetDeploymentGroup", "codedeploy:GetDeployment", "sns:Publish"]);
}

#[tokio::test]
async fn failed_publish_fails_the_invocation_and_the_retry_reports() {
    let aws = fake_aws();
    let handler = deploy_events(&aws, &[]);
    aws.faults.fail_nth("sns:Publish", 1, Fault::Error);
    let err = handler.handle(ecs_failed()).await.unwrap_err();
    assert!(matches!(&err, HandlerError::Aws { operation: "sns:Publish", .. }), "{err}");
    assert!(aws.sns.published().is_empty());
    // Not remembered as reported: Lambda's retry publishes.
    handler.handle(ecs_failed()).await.unwrap();
    assert_eq!(aws.sns.published().len(), 1);
}
