//! Enrichment lookups that fail: the alert goes out with what the event carries.

use super::*;

#[test]
fn details_not_read_are_one_short_line_each() {
    let why = format!("ecs:DescribeServices: AccessDeniedException: {}\nsecond line", "x".repeat(400));
    let mut unread = Vec::new();
    let read = Unread::note::<()>(Err(HandlerError::Misconfigured(why)), "revisions", &mut unread);
    assert_eq!((read, unread.len()), (None, 1));
    let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_FAILED", None), &[], &unread);
    let line = n.text.lines().find(|l| l.starts_with("Not read:")).expect("a line for what was not read");
    assert!(line.starts_with("Not read:   revisions: misconfigured: ecs:DescribeServices: AccessDeniedException: xxx"), "{line}");
    assert!(line.chars().count() < 240 && line.contains("x…(") && line.ends_with(" bytes)"), "{}", n.text);
    assert!(!n.text.contains("second line"), "{}", n.text);
    assert!(n.text.contains("Revision:   unknown\n"), "{}", n.text);
    assert_eq!(n.details["unread"][0]["what"], "revisions");
}

#[tokio::test]
async fn ecs_failure_is_alerted_when_the_service_cannot_be_read() {
    let aws = fake_aws();
    aws.faults.fail_always("ecs:DescribeServices", Fault::Error);
    let outcome = deploy_events(&aws, &[]).handle(ecs_failed()).await.expect("the alert is published: the invocation succeeds");
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    let n = &published[0];
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED: prod/web");
    assert!(n.text.contains("Not read:   revisions: ecs:DescribeServices: InternalFailure"), "{}", n.text);
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
