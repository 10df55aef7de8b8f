//! Issue 13, item 2: names and ids longer than AWS issues are refused in a short error; none
//! becomes an "ignored" reason, an outcome or an alert in full.

use super::*;

#[tokio::test]
async fn a_megabyte_cluster_group_or_deployment_id_is_refused_short() {
    let huge = "c".repeat(1 << 20);
    let mut cluster = sample_event("ecs-deployment-failed.json");
    cluster["resources"] = json!([format!("arn:aws:ecs:us-east-1:123456789012:service/{}/web", "c".repeat(256))]);
    let mut arn = sample_event("ecs-deployment-failed.json");
    arn["resources"] = json!([format!("arn:aws:ecs:us-east-1:123456789012:service/{huge}/web")]);
    let mut group = sample_event("codedeploy-start.json");
    group["detail"]["deploymentGroup"] = json!(huge);
    let mut deployment = sample_event("codedeploy-failure.json");
    deployment["detail"]["deploymentId"] = json!(huge);
    let aws = FakeAws::new();
    for (field, event) in [
        ("resources (the cluster's name)", cluster),
        ("resources", arn),
        ("detail.deploymentGroup", group),
        ("detail.deploymentId", deployment),
    ] {
        let message = deploy_events(&aws, &["prod"]).handle(event).await.expect_err("refused").to_string();
        assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
        assert!(message.len() <= crate::event::EVENT_ERROR_MAX, "{} bytes: {message:.300}", message.len());
    }
    assert!(aws.sns.published().is_empty());
}

/// The native events: a 1 MB id or name is refused short, and what a lookup returns (a 1 MB
/// revision) stays within the notification's bounds.
#[tokio::test]
async fn native_events_stay_bounded() {
    let huge = "h".repeat(1 << 20);
    let hook = |field: &str| {
        let mut event = sample_event("ecs-hook-awaiting-action.json");
        event["detail"][field] = json!(huge);
        event
    };
    let mut action = sample_event("ecs-service-task-start-impaired.json");
    action["detail"]["eventName"] = json!(huge);
    let mut resources = sample_event("ecs-service-task-start-impaired.json");
    resources["resources"] = json!([format!("arn:aws:ecs:us-east-1:123456789012:service/prod/{huge}")]);
    let aws = FakeAws::new();
    for (field, event) in [
        ("detail.hookId", hook("hookId")),
        ("detail.lifecycleStage", hook("lifecycleStage")),
        ("detail.eventName", action),
        ("resources", resources),
    ] {
        let message = deploy_events(&aws, &[]).handle(event).await.expect_err("refused").to_string();
        assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
        assert!(message.len() <= crate::event::EVENT_ERROR_MAX, "{} bytes: {message:.300}", message.len());
    }
    assert!(aws.sns.published().is_empty());

    let revision = format!("arn:aws:ecs:us-west-2:123456789012:task-definition/{huge}:8");
    let mut service = FakeService::new("my-cluster", "my-service", &revision);
    service.deployments[0].task_definition = revision.clone();
    aws.ecs.add_service(service);
    deploy_events(&aws, &[]).handle(sample_event("ecs-hook-awaiting-action.json")).await.unwrap();
    let n = &aws.sns.published()[0];
    let publication = n.publication();
    assert!(publication.size() <= crate::notify::PUBLISH_MAX, "{} bytes", publication.size());
    assert!(n.sns_subject().len() <= crate::notify::SUBJECT_MAX);
    let line = n.text.lines().find(|l| l.starts_with("Revision:")).expect("a revision line");
    assert!(line.len() < 3 * 1024 && line.ends_with(" bytes)"), "{:.200}", line);
}
