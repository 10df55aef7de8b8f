//! `build-finished` and `deploy-events` against moto server: what lands in the SQS queue
//! subscribed to the topic, and what a build's exported image does to the fleet.

use deckhand::config::{BuildFinishedConfig, DeployEventsConfig, ImagePushedConfig};
use deckhand::outcome::ResourceResult;
use deckhand::wiring::{self, SdkBuildFinished, SdkDeployEvents, SdkImagePushed};
use deckhand_integration_tests::{ACCOUNT, DIGEST, Local, REGION, REGISTRY, attribute, document, sample_event};
use serde_json::{Value, json};

/// The CodeBuild project of the `codebuild-*.json` samples.
const PROJECT: &str = "shop-web";

async fn world() -> Local {
    Local::start().await
}

/// The functions under test, configured for the local AWS.
trait Functions {
    fn builds(&self, clusters: &[&str], rollout_projects: &[&str], notify_started: bool) -> SdkBuildFinished;
    fn deploy_events(&self, clusters: &[&str]) -> SdkDeployEvents;
    fn pushes(&self, clusters: &[&str]) -> SdkImagePushed;
    async fn checked_messages(&self) -> Vec<Value>;
}

impl Functions for Local {
    fn builds(&self, clusters: &[&str], rollout_projects: &[&str], notify_started: bool) -> SdkBuildFinished {
        let config = BuildFinishedConfig {
            notify_topic_arn: self.topic.clone(),
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
            notify_build_started: notify_started,
            rollout_projects: rollout_projects.iter().map(|p| p.to_string()).collect(),
        };
        wiring::build_finished(config, &self.sdk)
    }

    fn deploy_events(&self, clusters: &[&str]) -> SdkDeployEvents {
        let config =
            DeployEventsConfig { notify_topic_arn: self.topic.clone(), clusters: clusters.iter().map(|c| c.to_string()).collect() };
        wiring::deploy_events(config, &self.sdk)
    }

    fn pushes(&self, clusters: &[&str]) -> SdkImagePushed {
        let config = ImagePushedConfig { clusters: clusters.iter().map(|c| c.to_string()).collect(), notify_topic_arn: self.topic.clone() };
        wiring::image_pushed(config, &self.sdk)
    }

    /// Messages now in the queue, each checked for secrets.
    async fn checked_messages(&self) -> Vec<Value> {
        let messages = self.messages().await;
        for message in &messages {
            let raw = message.to_string();
            for secret in ["npm_s3cr3tValue", "NPM_TOKEN", "ci/registry:password", "hunter2"] {
                assert!(!raw.contains(secret), "{secret} leaked into {raw}");
            }
        }
        messages
    }
}

#[tokio::test]
async fn every_build_status_lands_rendered_and_filterable() {
    let w = world().await;
    let builds = w.builds(&[], &[], false);
    let cases = [
        ("codebuild-failed.json", "Build FAILED: shop-web #55 in BUILD", "warning", "build.failed", "exit status 2"),
        (
            "codebuild-stopped.json",
            "Build STOPPED: shop-web #55 in BUILD",
            "warning",
            "build.stopped",
            "Initiator:  codepipeline/shop-web-pipeline",
        ),
        ("codebuild-timed-out.json", "Build TIMED_OUT: shop-web #55 in BUILD", "warning", "build.timed_out", "BUILD_TIMED_OUT"),
        ("codebuild-succeeded.json", "Build succeeded: shop-web #55", "info", "build.succeeded", "Exported:   IMAGE_TAG=v1.4.2"),
    ];
    for (sample, subject, severity, event, in_text) in cases {
        let outcome = builds.handle(sample_event(sample)).await.unwrap();
        assert_eq!(outcome.notification.as_ref().map(|n| n.subject.as_str()), Some(subject), "{sample}");
        let messages = w.checked_messages().await;
        assert_eq!(messages.len(), 1, "{sample}");
        let envelope = &messages[0];
        assert_eq!(envelope["Subject"], subject);
        assert_eq!(
            (attribute(envelope, "severity"), attribute(envelope, "event"), attribute(envelope, "project")),
            (severity, event, "shop-web")
        );
        let doc = document(envelope);
        let text = doc["text"].as_str().unwrap();
        assert!(text.contains(in_text) && text.contains("3f2a9c1e7b4d"), "{sample}: {text}");
        assert!(text.contains("codebuild/123456789012/projects/shop-web/build/shop-web%3A8745a7a9"), "console link: {text}");
        assert!(text.contains("logEvent:group=/aws/codebuild/shop-web"), "logs link: {text}");
        assert_eq!(doc["details"]["build_number"], 55);
        assert_eq!(doc["severity"], severity);
    }

    // A build that starts is quiet unless asked for.
    assert!(builds.handle(sample_event("codebuild-in-progress.json")).await.unwrap().ignored.unwrap().contains("NOTIFY_BUILD_STARTED"));
    assert!(w.checked_messages().await.is_empty());
    w.builds(&[], &[], true).handle(sample_event("codebuild-in-progress.json")).await.unwrap();
    let started = w.checked_messages().await;
    assert_eq!((started[0]["Subject"].as_str(), attribute(&started[0], "severity")), (Some("Build started: shop-web #55"), "info"));
}

#[tokio::test]
async fn a_build_event_delivered_twice_publishes_once() {
    let w = world().await;
    let builds = w.builds(&[], &[], false);
    builds.handle(sample_event("codebuild-failed.json")).await.unwrap();
    let again = builds.handle(sample_event("codebuild-failed.json")).await.unwrap();
    assert!(again.ignored.unwrap().contains("duplicate"));
    assert_eq!(w.checked_messages().await.len(), 1);
}

#[tokio::test]
async fn an_exported_image_rolls_out_and_the_later_ecr_push_is_unchanged() {
    let w = world().await;
    // ECR holds the image the build exports: build-finished checks its claim there (issue 15).
    w.aws.push_image_as("shop/web", "v1.4.2", DIGEST).await;
    w.aws.create_cluster("prod").await;
    let old = w.aws.register_web_task_definition("web", "v1.4.1").await;
    w.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;

    let outcome = w.builds(&["prod"], &[PROJECT], false).handle(sample_event("codebuild-succeeded.json")).await.unwrap();

    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
    let running = w.aws.service("prod", "web").await.task_definition.unwrap();
    assert_eq!(
        w.aws.task_definition(&running).await.container_definitions()[0].image.as_deref(),
        Some(format!("{REGISTRY}/shop/web@{DIGEST}").as_str())
    );
    let messages = w.checked_messages().await;
    let events: Vec<&str> = messages.iter().map(|m| attribute(m, "event")).collect();
    assert_eq!(events, ["image.deployed", "build.succeeded"]);
    assert!(document(&messages[1])["text"].as_str().unwrap().contains("Deploying:  prod/web (rev 2"));

    // ECR's own push event for the same digest arrives later: nothing more happens.
    let push = w.pushes(&["prod"]).handle(sample_event("ecr-push-tagged.json")).await.unwrap();
    assert!(matches!(push.resources[0].result, ResourceResult::Unchanged { .. }), "{push:?}");
    assert_eq!(w.aws.revisions("web").await.len(), 2);
    assert!(w.checked_messages().await.is_empty());
}

/// Issue 12: only the projects in ROLLOUT_PROJECTS deploy what they export. Any other build of
/// the same image — another project, or none listed at all — is reported and changes nothing.
#[tokio::test]
async fn a_build_of_a_project_not_in_rollout_projects_deploys_nothing_and_is_still_reported() {
    let w = world().await;
    w.aws.create_cluster("prod").await;
    let old = w.aws.register_web_task_definition("web", "v1.4.1").await;
    w.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;
    let before = w.aws.service("prod", "web").await;

    for (projects, why) in [
        (&["billing"][..], "project shop-web is not in ROLLOUT_PROJECTS (billing)"),
        (&[][..], "project shop-web is not in ROLLOUT_PROJECTS (unset: builds only notify)"),
    ] {
        let outcome = w.builds(&["prod"], projects, false).handle(sample_event("codebuild-succeeded.json")).await.unwrap();

        assert_eq!(outcome.resources.len(), 1, "{outcome:?}");
        assert_eq!(outcome.resources[0].result, ResourceResult::Ignored { reason: why.into() });
        assert_eq!(w.aws.revisions("web").await, std::slice::from_ref(&old), "{projects:?}: no revision registered");
        let service = w.aws.service("prod", "web").await;
        assert_eq!((service.task_definition(), service.desired_count()), (Some(old.as_str()), before.desired_count()));
        assert_eq!(service.deployments().len(), before.deployments().len(), "{projects:?}: no deployment");
        let messages = w.checked_messages().await;
        assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["build.succeeded"], "{projects:?}");
        let text = document(&messages[0])["text"].as_str().unwrap().to_owned();
        assert!(text.contains(&format!("Not deployed: {why}")), "{text}");
    }
}

/// Issue 11 against the local AWS: the topic does not exist yet, so both messages of a build
/// that deployed fail after the deployment. The invocation fails; the redelivery (once the topic
/// is there) sends the deployment notice it owes and the build message, and deploys nothing again.
#[tokio::test]
async fn a_build_whose_messages_failed_is_reported_by_the_retry_without_a_second_rollout() {
    let w = world().await;
    // ECR holds the image the build exports: build-finished checks its claim there (issue 15).
    w.aws.push_image_as("shop/web", "v1.4.2", DIGEST).await;
    w.aws.create_cluster("prod").await;
    let old = w.aws.register_web_task_definition("web", "v1.4.1").await;
    w.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;
    let config = BuildFinishedConfig {
        notify_topic_arn: format!("arn:aws:sns:{REGION}:{ACCOUNT}:late"),
        clusters: vec!["prod".into()],
        notify_build_started: false,
        rollout_projects: vec![PROJECT.into()],
    };
    let builds = wiring::build_finished(config, &w.sdk);

    let err = builds.handle(sample_event("codebuild-succeeded.json")).await.unwrap_err().to_string();

    assert!(err.contains("sns:Publish"), "{err}");
    let deployed = w.aws.service("prod", "web").await.task_definition.unwrap();
    assert_ne!(deployed, old, "the deployment stands");
    let (_, queue) = w.aws.topic_with_queue("late").await;
    builds.handle(sample_event("codebuild-succeeded.json")).await.unwrap();
    let events: Vec<String> = w.aws.drain(&queue).await.iter().map(|m| attribute(m, "event").to_owned()).collect();
    assert_eq!(events, ["image.deployed", "build.succeeded"]);
    assert_eq!(w.aws.revisions("web").await.len(), 2, "no second revision");
    assert_eq!(w.aws.service("prod", "web").await.task_definition.unwrap(), deployed);
}

#[tokio::test]
async fn an_ecr_push_first_makes_the_build_rollout_unchanged() {
    let w = world().await;
    // ECR holds the image the build exports: build-finished checks its claim there (issue 15).
    w.aws.push_image_as("shop/web", "v1.4.2", DIGEST).await;
    w.aws.create_cluster("prod").await;
    let old = w.aws.register_web_task_definition("web", "v1.4.1").await;
    w.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;

    w.pushes(&["prod"]).handle(sample_event("ecr-push-tagged.json")).await.unwrap();
    let outcome = w.builds(&["prod"], &[PROJECT], false).handle(sample_event("codebuild-succeeded.json")).await.unwrap();

    assert!(matches!(outcome.resources[0].result, ResourceResult::Unchanged { .. }), "{outcome:?}");
    assert_eq!(w.aws.revisions("web").await.len(), 2);
    let events: Vec<String> = w.checked_messages().await.iter().map(|m| attribute(m, "event").to_owned()).collect();
    assert_eq!(events, ["image.deployed", "build.succeeded"]);
}

#[tokio::test]
async fn ecs_deployment_states_name_service_revisions_and_reason() {
    let w = world().await;
    w.aws.create_cluster("prod").await;
    let td = w.aws.register_web_task_definition("web", "v1").await;
    w.aws.create_service("prod", "web", &td, &[], false).await;
    let deployment = w.aws.service("prod", "web").await.deployments.unwrap()[0].id.clone().unwrap();
    let events = w.deploy_events(&["prod"]);

    let cases = [
        ("ecs-deployment-in-progress.json", "Deploying: prod/web (web:1)", "info", "deployment.started"),
        ("ecs-deployment-completed.json", "Deployed: prod/web (web:1)", "info", "deployment.succeeded"),
        ("ecs-deployment-failed.json", "Deployment FAILED: prod/web (web:1)", "critical", "deployment.failed"),
    ];
    for (sample, subject, severity, event) in cases {
        let mut sample_json = sample_event(sample);
        sample_json["detail"]["deploymentId"] = json!(deployment);
        events.handle(sample_json).await.unwrap();
        let messages = w.checked_messages().await;
        assert_eq!(messages.len(), 1, "{sample}");
        let envelope = &messages[0];
        assert_eq!(envelope["Subject"], subject);
        assert_eq!((attribute(envelope, "severity"), attribute(envelope, "event")), (severity, event));
        assert_eq!((attribute(envelope, "cluster"), attribute(envelope, "service")), ("prod", "web"));
        let doc = document(envelope);
        assert_eq!(doc["details"]["task_definition"], "web:1");
        if severity == "critical" {
            assert!(doc["text"].as_str().unwrap().contains("task failed to start"), "{doc}");
        }
    }

    // Redelivery reports nothing new; another cluster is not ours.
    assert!(events.handle(sample_event("ecs-deployment-failed.json")).await.unwrap().ignored.unwrap().contains("duplicate"));
    assert!(
        w.deploy_events(&["staging"])
            .handle(sample_event("ecs-deployment-completed.json"))
            .await
            .unwrap()
            .ignored
            .unwrap()
            .contains("CLUSTERS")
    );
    assert!(w.checked_messages().await.is_empty());
}

/// Issue 12: ECS announces a circuit-breaker rollback with the IN_PROGRESS event of the rollback
/// deployment (`ecs-deployment-rollback.json`, AWS's documented shape), not in the FAILED event.
/// It used to go out as `deployment.started` (info); it is the rollback alert.
#[tokio::test]
async fn a_circuit_breaker_rollback_lands_as_a_rollback_naming_where_it_returns() {
    let w = world().await;
    w.aws.create_cluster("prod").await;
    let td = w.aws.register_web_task_definition("web", "v1").await;
    w.aws.create_service("prod", "web", &td, &[], false).await;
    let rollback_deployment = w.aws.service("prod", "web").await.deployments.unwrap()[0].id.clone().unwrap();

    let mut rollback = sample_event("ecs-deployment-rollback.json");
    rollback["detail"]["deploymentId"] = json!(rollback_deployment);
    let outcome = w.deploy_events(&["prod"]).handle(rollback).await.unwrap();
    assert!(outcome.notification.is_some(), "{outcome:?}");

    let messages = w.checked_messages().await;
    assert_eq!(messages.len(), 1);
    let envelope = &messages[0];
    assert_eq!(envelope["Subject"], "Deployment FAILED, rolling back: prod/web (to web:1)");
    assert_eq!((attribute(envelope, "severity"), attribute(envelope, "event")), ("critical", "deployment.rolled_back"));
    assert_eq!((attribute(envelope, "cluster"), attribute(envelope, "service")), ("prod", "web"));
    let doc = document(envelope);
    assert_eq!(doc["details"]["rollback_to"], "ecs-svc/1734528347392783921");
    assert_eq!(doc["details"]["task_definition"], "web:1");
    let text = doc["text"].as_str().unwrap();
    assert!(text.contains("Rollback:   to deployment ecs-svc/1734528347392783921\n"), "{text}");
    assert!(
        text.contains("Reason:     ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1734528347392783921."),
        "{text}"
    );
}

#[tokio::test]
async fn codedeploy_states_name_the_service_and_revision() {
    let w = world().await;
    w.aws.create_cluster("prod").await;
    w.aws.create_codedeploy_group("shop", "web-bg", ("prod", "web")).await;
    let old = w.aws.register_web_task_definition("web", "release-41").await;
    let tags = [("deckhand:track", "release-*"), ("deckhand:codedeploy-app", "shop"), ("deckhand:codedeploy-group", "web-bg")];
    w.aws.create_service("prod", "web", &old, &tags, true).await;
    let mut push = sample_event("ecr-push-tagged.json");
    push["detail"]["image-tag"] = json!("release-42");
    // What the push names is in the local ECR, as after a real push (the rollout asks ECR).
    let pushed = push["detail"]["image-digest"].as_str().unwrap().to_owned();
    w.aws.push_image_as(push["detail"]["repository-name"].as_str().unwrap(), "release-42", &pushed).await;
    w.pushes(&["prod"]).handle(push).await.unwrap();
    let deployment_id = w.aws.deployments("shop", "web-bg").await.remove(0);
    w.checked_messages().await;

    let events = w.deploy_events(&[]);
    for (sample, subject, severity) in [
        ("codedeploy-start.json", "Blue/green deployment started: prod/web (web:2)", "info"),
        ("codedeploy-success.json", "Blue/green deployment succeeded: prod/web (web:2)", "info"),
        ("codedeploy-failure.json", "Blue/green deployment FAILED: prod/web (web:2)", "critical"),
        ("codedeploy-stop.json", "Blue/green deployment stopped: prod/web (web:2)", "warning"),
    ] {
        let mut event = sample_event(sample);
        event["detail"]["deploymentId"] = json!(deployment_id);
        events.handle(event).await.unwrap();
        let messages = w.checked_messages().await;
        assert_eq!(messages.len(), 1, "{sample}");
        assert_eq!(messages[0]["Subject"], subject);
        assert_eq!(attribute(&messages[0], "severity"), severity);
        assert_eq!(document(&messages[0])["details"]["deployment_id"], json!(deployment_id));
    }
}

#[tokio::test]
async fn failure_alerts_go_out_when_their_details_cannot_be_read() {
    let w = world().await;
    let events = w.deploy_events(&[]);

    // A service of a cluster deleted since: DescribeServices answers ClusterNotFoundException.
    let mut ecs = sample_event("ecs-deployment-failed.json");
    ecs["resources"] = json!(["arn:aws:ecs:us-east-1:123456789012:service/gone/web"]);
    let outcome = events.handle(ecs).await.expect("the alert is published: the invocation succeeds");
    assert!(outcome.notification.is_some(), "{outcome:?}");
    let messages = w.checked_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["Subject"], "Deployment FAILED: gone/web");
    assert_eq!((attribute(&messages[0], "severity"), attribute(&messages[0], "event")), ("critical", "deployment.failed"));
    let text = document(&messages[0])["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Not read:   revisions: ecs:DescribeServices: ClusterNotFoundException: "), "{text}");
    assert!(text.contains("task failed to start"), "what the event carries: {text}");

    // A blue/green deployment whose application and group were deleted.
    events.handle(sample_event("codedeploy-failure.json")).await.expect("the alert is published");
    let messages = w.checked_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["Subject"], "Blue/green deployment FAILED: shop/web-bg");
    assert_eq!(attribute(&messages[0], "severity"), "critical");
    let text = document(&messages[0])["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Not read:   service (from the deployment group): codedeploy:GetDeploymentGroup: "), "{text}");
    assert!(text.contains("Not read:   revision and error: codedeploy:GetDeployment: "), "{text}");
    for dump in ["ServiceError", "raw: Response", "SdkBody", "service error"] {
        assert!(!text.contains(dump), "one line per AWS error, no SDK dump: {text}");
    }
}

#[tokio::test]
async fn malformed_notification_events_are_errors_naming_the_field() {
    let w = world().await;
    let mut build = sample_event("codebuild-failed.json");
    build["detail"].as_object_mut().unwrap().remove("project-name");
    let err = w.builds(&[], &[], false).handle(build).await.unwrap_err().to_string();
    assert!(err.contains("`detail.project-name`"), "{err}");

    let mut deploy = sample_event("ecs-deployment-failed.json");
    deploy.as_object_mut().unwrap().remove("resources");
    let err = w.deploy_events(&[]).handle(deploy).await.unwrap_err().to_string();
    assert!(err.contains("`resources`"), "{err}");

    let err = w.deploy_events(&[]).handle(sample_event("ecr-push-tagged.json")).await.unwrap_err().to_string();
    assert!(err.contains("`detail-type`"), "{err}");
    assert!(w.checked_messages().await.is_empty());
}

/// Issue 13: a failed build whose phase context is one 1 MiB line. SNS refuses a Publish over
/// 256 KiB, so the alert used to be lost; now it arrives, its context cut with the marker.
#[tokio::test]
async fn a_build_alert_with_a_huge_phase_context_arrives_truncated() {
    let w = world().await;
    let size = 1024 * 1024;
    let mut event = sample_event("codebuild-failed.json");
    let phases = event["detail"]["additional-information"]["phases"].as_array_mut().unwrap();
    let failed = phases.iter_mut().find(|p| p["phase-status"] == "FAILED").unwrap();
    failed["phase-context"] = json!([format!("COMMAND_EXECUTION_ERROR: {}", "x".repeat(size - 25))]);

    let outcome = w.builds(&[], &[], false).handle(event).await.expect("the alert is published");

    assert!(outcome.notification.is_some(), "{outcome:?}");
    let messages = w.checked_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["Subject"], "Build FAILED: shop-web #55 in BUILD");
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "project")), ("build.failed", "shop-web"));
    assert!(messages[0]["Message"].as_str().unwrap().len() < 256 * 1024);
    let doc = document(&messages[0]);
    let text = doc["text"].as_str().unwrap();
    assert!(text.contains("COMMAND_EXECUTION_ERROR: xxx") && text.contains(&format!("…({size} bytes)")), "{text:.3000}");
    assert!(text.contains("logEvent:group=/aws/codebuild/shop-web"), "the links stay: {text:.5000}");
    let context = doc["details"]["failed_phase"]["context"][0].as_str().unwrap();
    assert!(context.len() <= 2048 && context.ends_with(&format!("…({size} bytes)")), "{context:.300}");
}
