//! deploy-events: notifications from ECS and CodeDeploy state changes.

use super::*;
use crate::event::deployment::{CodeDeployChange, EcsDeploymentChange};
use crate::fakes::{FakeAws, FakeCodeDeploy, FakeDeployment, FakeEcs, FakeService, FakeSns, Fault, sample_event};
use crate::notify::Severity;
use crate::ports::{DeploymentDetails, DeploymentGroup, EcsDeployment};

mod fault_matrix;

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

#[test]
fn ecs_failure_with_rollback_is_critical_and_says_why() {
    let n = ecs_notification(
        &ecs_change("SERVICE_DEPLOYMENT_FAILED", Some("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.")),
        &deployments(),
        &[],
    );
    assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web (web:8)");
    assert!(n.text.contains("Previous:   web:7") && n.text.contains("circuit breaker"), "{}", n.text);
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
    assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web (web:8)");
    assert!(n.text.contains("Revision:   web:8") && n.text.contains("Previous:   web:7"), "{}", n.text);
    assert_eq!(outcome.notification.map(|sent| sent.message_id), Some("msg-1".to_owned()));
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

// Enrichment lookups that fail: the alert goes out with what the event carries.

#[test]
fn details_not_read_are_one_short_line_each() {
    let why = format!("AWS ecs:DescribeServices failed: AccessDeniedException: {}\nsecond line", "x".repeat(400));
    let mut unread = Vec::new();
    let read = Unread::note::<()>(Err(HandlerError::Misconfigured(why)), "revisions", &mut unread);
    assert_eq!((read, unread.len()), (None, 1));
    let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_FAILED", None), &[], &unread);
    let line = n.text.lines().find(|l| l.starts_with("Not read:")).expect("a line for what was not read");
    assert!(line.starts_with("Not read:   revisions: misconfigured: AWS ecs:DescribeServices failed: AccessDeniedException"), "{line}");
    assert!(line.chars().count() < 240 && line.ends_with('…') && !n.text.contains("second line"), "{}", n.text);
    assert!(n.text.contains("Revision:   unknown\n"), "{}", n.text);
    assert_eq!(n.details["unread"][0]["what"], "revisions");
}

#[test]
fn sdk_errors_say_each_part_once() {
    let sdk = "AWS ecs:DescribeServices failed: service error: ClusterNotFoundException: Cluster not found.: \
               ClusterNotFoundException: Cluster not found. (ServiceError(ServiceError { source: ClusterNotFoundException { .. } }))";
    let mut unread = Vec::new();
    Unread::note::<()>(Err(HandlerError::Misconfigured(sdk.into())), "revisions", &mut unread);
    assert_eq!(unread[0].why, "misconfigured: AWS ecs:DescribeServices failed: ClusterNotFoundException: Cluster not found.");
}

#[tokio::test]
async fn ecs_failure_is_alerted_when_the_service_cannot_be_read() {
    let aws = fake_aws();
    aws.faults.fail_always("ecs:DescribeServices", Fault::Error);
    let outcome = deploy_events(&aws, &[]).handle(ecs_failed()).await.expect("the alert is published: the invocation succeeds");
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web");
    assert!(n.text.contains("Not read:   revisions: AWS ecs:DescribeServices failed: InternalFailure"), "{}", n.text);
    assert!(n.text.contains("circuit breaker"), "{}", n.text);
    assert_eq!(outcome.details.unwrap()["unread"][0]["what"], "revisions");
}

#[tokio::test]
async fn codedeploy_failure_is_alerted_when_its_group_was_deleted() {
    let aws = FakeAws::new();
    deploy_events(&aws, &["prod"]).handle(sample_event("codedeploy-failure.json")).await.expect("the alert is published");
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Blue/green deployment FAILED: shop/web-bg");
    let not_read: Vec<&str> = n.text.lines().filter(|l| l.starts_with("Not read:")).collect();
    assert_eq!(not_read.len(), 2, "{}", n.text);
    assert!(
        not_read[0].starts_with("Not read:   service (from the deployment group): ") && not_read[0].contains("DeploymentGroupDoesNotExist")
    );
    assert!(not_read[1].starts_with("Not read:   revision and error: ") && not_read[1].contains("DeploymentDoesNotExist"), "{}", n.text);
}

/// The rule matches every CodeDeploy group: a start whose group cannot be read may not be ours,
/// so it is retried rather than reported.
#[tokio::test]
async fn a_codedeploy_start_whose_group_cannot_be_read_is_retried_not_reported() {
    let aws = FakeAws::new();
    let err = deploy_events(&aws, &["prod"]).handle(sample_event("codedeploy-start.json")).await.unwrap_err();
    assert!(err.to_string().contains("DeploymentGroupDoesNotExist"), "{err}");
    assert!(aws.sns.published().is_empty());
}

#[tokio::test]
async fn failed_publish_of_a_partial_alert_still_fails_the_invocation() {
    let aws = fake_aws();
    let handler = deploy_events(&aws, &[]);
    aws.faults.fail_nth("codedeploy:GetDeployment", 1, Fault::Throttled);
    aws.faults.fail_nth("sns:Publish", 1, Fault::Error);
    handler.handle(sample_event("codedeploy-failure.json")).await.unwrap_err();
    handler.handle(sample_event("codedeploy-failure.json")).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    assert!(published[0].text.contains(&format!("Reason:     {BLUE_GREEN_ERROR}")), "the retry reads what it can: {}", published[0].text);
}
