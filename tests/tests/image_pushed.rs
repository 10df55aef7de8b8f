//! `image-pushed` against moto server: every assertion reads the resulting AWS state.

use aws_sdk_ecs::types::TaskDefinition;
use deckhand::config::ImagePushedConfig;
use deckhand::outcome::ResourceResult;
use deckhand::wiring::{self, SdkImagePushed};
use deckhand_integration_tests::{ACCOUNT, DIGEST, Local, REGION, REGISTRY, attribute, push_event, sample_event};
use serde_json::{Value, json};

struct World {
    local: Local,
    function: SdkImagePushed,
}

/// A local AWS with clusters, a topic with a queue subscribed, `DIGEST` pushed to ECR's
/// `shop/web`, and the function configured for them.
async fn world(clusters: &[&str]) -> World {
    let local = Local::start().await;
    local.aws.push_image_as("shop/web", "v1.4.2", DIGEST).await;
    for cluster in clusters {
        local.aws.create_cluster(cluster).await;
    }
    let settings = ImagePushedConfig { clusters: clusters.iter().map(|c| c.to_string()).collect(), notify_topic_arn: local.topic.clone() };
    World { function: wiring::image_pushed(settings, &local.sdk), local }
}

fn pinned() -> String {
    format!("{REGISTRY}/shop/web@{DIGEST}")
}

/// The task definition with what a new revision may change blanked out.
fn comparable(td: &TaskDefinition) -> TaskDefinition {
    let mut td = td.clone();
    td.task_definition_arn = None;
    td.revision = 0;
    td.registered_at = None;
    td.registered_by = None;
    td
}

#[tokio::test]
async fn push_registers_a_pinned_revision_and_rolls_the_service() {
    let w = world(&["prod"]).await;
    let old = w.local.aws.register_web_task_definition("web", "v1.4.1").await;
    w.local.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;

    let outcome = w.function.handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap();

    assert_eq!(outcome.resources.len(), 1);
    let ResourceResult::Deployed { task_definition, revision, deployment_id, controller, .. } = &outcome.resources[0].result else {
        panic!("expected a deployment: {outcome:?}")
    };
    assert_eq!((*revision, *controller), (2, "ECS"));
    assert!(!deployment_id.is_empty());

    // The service now runs the new revision.
    let service = w.local.aws.service("prod", "web").await;
    assert_eq!(service.task_definition.as_deref(), Some(task_definition.as_str()));
    let breaker = service.deployment_configuration.unwrap().deployment_circuit_breaker.unwrap();
    assert!(breaker.enable && breaker.rollback, "circuit breaker with rollback");

    // The new revision pins the digest, records the tag, and changes nothing else.
    let before = w.local.aws.task_definition(&old).await;
    let after = w.local.aws.task_definition(task_definition).await;
    let web = &after.container_definitions()[0];
    assert_eq!(web.image.as_deref(), Some(pinned().as_str()));
    assert_eq!(web.docker_labels.as_ref().unwrap().get("deckhand.image-tag").map(String::as_str), Some("v1.4.2"));
    let mut expected = comparable(&before);
    let expected_web = &mut expected.container_definitions.as_mut().unwrap()[0];
    expected_web.image = Some(pinned());
    expected_web.docker_labels.as_mut().unwrap().insert("deckhand.image-tag".into(), "v1.4.2".into());
    assert_eq!(comparable(&after), expected);

    // The notification reached the queue subscribed to the topic.
    let messages = w.local.messages().await;
    assert_eq!(messages.len(), 1);
    let envelope = &messages[0];
    assert_eq!(envelope["Subject"], "Deploying shop/web:v1.4.2 to prod/web (rev 2)");
    assert_eq!(envelope["MessageAttributes"]["event"]["Value"], "image.deployed");
    assert_eq!(envelope["MessageAttributes"]["cluster"]["Value"], "prod");
    assert_eq!(envelope["MessageAttributes"]["service"]["Value"], "web");
    assert_eq!(envelope["MessageAttributes"]["severity"]["Value"], "info");
    let document: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(document["details"]["task_definition"], json!(task_definition));
    assert_eq!(document["details"]["deployment_id"], json!(deployment_id));
    let text = document["text"].as_str().unwrap();
    assert!(text.contains("prod/web") && text.contains(&format!("{REGISTRY}/shop/web:v1.4.1")) && text.contains(&pinned()), "{text}");
    assert!(!envelope.to_string().contains("hunter2"), "environment values never appear in notifications");
}

#[tokio::test]
async fn duplicate_delivery_adds_nothing() {
    let w = world(&["prod"]).await;
    let old = w.local.aws.register_web_task_definition("web", "latest").await;
    w.local.aws.create_service("prod", "web", &old, &[("deckhand:track", "latest")], false).await;
    let event = push_event("shop/web", Some("latest"), DIGEST);

    w.function.handle(event.clone()).await.unwrap();
    let running = w.local.aws.service("prod", "web").await.task_definition;
    let again = w.function.handle(event.clone()).await.unwrap();

    assert!(matches!(&again.resources[0].result, ResourceResult::Unchanged { reason } if reason.contains("already runs")), "{again:?}");
    assert_eq!(w.local.aws.revisions("web").await.len(), 2, "one revision for two deliveries");
    assert_eq!(w.local.aws.service("prod", "web").await.task_definition, running);
    assert_eq!(w.local.messages().await.len(), 1, "one notification for two deliveries");

    // The same digest pushed under another tag (one event per tag) is the same image: unchanged.
    let other_tag = push_event("shop/web", Some("latest"), DIGEST);
    assert!(matches!(w.function.handle(other_tag).await.unwrap().resources[0].result, ResourceResult::Unchanged { .. }));
}

#[tokio::test]
async fn codedeploy_service_gets_a_blue_green_deployment_once() {
    let w = world(&["prod"]).await;
    w.local.aws.create_codedeploy_group("shop", "web-bg", ("prod", "web")).await;
    let old = w.local.aws.register_web_task_definition("web", "release-41").await;
    let tags = [("deckhand:track", "release-*"), ("deckhand:codedeploy-app", "shop"), ("deckhand:codedeploy-group", "web-bg")];
    w.local.aws.create_service("prod", "web", &old, &tags, true).await;
    let event = push_event("shop/web", Some("release-42"), DIGEST);

    let outcome = w.function.handle(event.clone()).await.unwrap();

    let ResourceResult::Deployed { task_definition, deployment_id, controller, .. } = &outcome.resources[0].result else {
        panic!("{outcome:?}")
    };
    assert_eq!(*controller, "CODE_DEPLOY");
    assert_eq!(w.local.aws.deployments("shop", "web-bg").await, [deployment_id.as_str()]);
    let deployment = w.local.aws.codedeploy.get_deployment().deployment_id(deployment_id).send().await.unwrap().deployment_info.unwrap();
    let appspec: Value = serde_json::from_str(&deployment.revision.unwrap().app_spec_content.unwrap().content.unwrap()).unwrap();
    let properties = &appspec["Resources"][0]["TargetService"]["Properties"];
    assert_eq!(properties["TaskDefinition"], json!(task_definition));
    assert_eq!(properties["LoadBalancerInfo"], json!({"ContainerName": "web", "ContainerPort": 8080}));
    assert_eq!(w.local.aws.task_definition(task_definition).await.container_definitions()[0].image.as_deref(), Some(pinned().as_str()));
    // CodeDeploy, not Deckhand, moves the service to the new revision.
    assert_eq!(w.local.aws.service("prod", "web").await.task_definition.as_deref(), Some(old.as_str()));

    let again = w.function.handle(event).await.unwrap();
    assert!(matches!(&again.resources[0].result, ResourceResult::Unchanged { reason } if reason.contains(deployment_id)), "{again:?}");
    assert_eq!(w.local.aws.deployments("shop", "web-bg").await.len(), 1, "still one deployment");
    assert_eq!(w.local.aws.revisions("web").await.len(), 2, "still one new revision");
}

#[tokio::test]
async fn one_push_deploys_opted_in_services_in_two_clusters() {
    let w = world(&["prod", "staging"]).await;
    let td = w.local.aws.register_web_task_definition("web", "v1").await;
    w.local.aws.create_service("prod", "web", &td, &[("deckhand:track", "prefix:v")], false).await;
    w.local.aws.create_service("staging", "web", &td, &[("deckhand:track", "v2")], false).await;
    w.local.aws.create_service("staging", "legacy", &td, &[], false).await; // not opted in

    let outcome = w.function.handle(push_event("shop/web", Some("v2"), DIGEST)).await.unwrap();

    let deployed: Vec<_> =
        outcome.resources.iter().filter(|s| matches!(s.result, ResourceResult::Deployed { .. })).map(|s| s.resource.as_str()).collect();
    assert_eq!(deployed, ["prod/web", "staging/web"]);
    let prod = w.local.aws.service("prod", "web").await.task_definition.unwrap();
    let staging = w.local.aws.service("staging", "web").await.task_definition.unwrap();
    assert_eq!(prod, staging, "services sharing a task definition share the new revision");
    assert_eq!(w.local.aws.task_definition(&prod).await.container_definitions()[0].image.as_deref(), Some(pinned().as_str()));
    assert_eq!(w.local.aws.service("staging", "legacy").await.task_definition.as_deref(), Some(td.as_str()), "not opted in: untouched");
    assert_eq!(w.local.aws.revisions("web").await.len(), 2);
    assert_eq!(w.local.messages().await.len(), 2, "one notification per service");
}

#[tokio::test]
async fn events_that_are_not_ours_change_nothing() {
    let w = world(&["prod"]).await;
    let td = w.local.aws.register_web_task_definition("web", "v1.4.1").await;
    w.local.aws.create_service("prod", "web", &td, &[("deckhand:track", "semver:^1.4")], false).await;
    let mut failed_push = push_event("shop/web", Some("v1.4.2"), DIGEST);
    failed_push["detail"]["result"] = json!("FAILURE");

    let cases = [
        ("delete", sample_event("ecr-delete.json"), "DELETE"),
        ("failed push", failed_push, "FAILURE"),
        ("untagged push", sample_event("ecr-push-untagged.json"), "untagged"),
        ("other repository", push_event("shop/api", Some("v1.4.2"), DIGEST), "no container uses"),
        ("untracked tag", push_event("shop/web", Some("v2.0.0"), DIGEST), "does not satisfy"),
    ];
    for (name, event, reason) in cases {
        let outcome = w.function.handle(event).await.unwrap();
        let explained = outcome.ignored.as_deref().is_some_and(|r| r.contains(reason))
            || outcome.resources.iter().any(|s| matches!(&s.result, ResourceResult::Ignored { reason: r } if r.contains(reason)));
        assert!(outcome.ignored.is_some() && explained, "{name}: {outcome:?}");
    }
    assert_eq!(w.local.aws.revisions("web").await, [td.as_str()]);
    assert_eq!(w.local.aws.service("prod", "web").await.task_definition.as_deref(), Some(td.as_str()));
    assert!(w.local.messages().await.is_empty());
}

#[tokio::test]
async fn malformed_events_are_errors_that_change_nothing() {
    let w = world(&["prod"]).await;
    let td = w.local.aws.register_web_task_definition("web", "latest").await;
    w.local.aws.create_service("prod", "web", &td, &[("deckhand:track", "latest")], false).await;
    let good = push_event("shop/web", Some("latest"), DIGEST);
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut event = good.clone();
    event.as_object_mut().unwrap().remove("detail");
    cases.push((event, "`detail`"));
    let mut event = good.clone();
    event["detail"].as_object_mut().unwrap().remove("repository-name");
    cases.push((event, "`detail.repository-name`"));
    let mut event = good.clone();
    event["detail"].as_object_mut().unwrap().remove("image-digest");
    cases.push((event, "`detail.image-digest`"));
    let mut event = good.clone();
    // Not one of the kinds image-pushed takes (ECR Image Scan is one now: the scan gate's).
    event["detail-type"] = json!("ECR Replication Action");
    cases.push((event, "`detail-type`"));
    cases.push((json!(null), "JSON object"));

    for (event, field) in cases {
        let err = w.function.handle(event).await.unwrap_err().to_string();
        assert!(err.contains(field), "{err} should name {field}");
    }
    assert_eq!(w.local.aws.revisions("web").await, [td.as_str()]);
    assert_eq!(w.local.aws.service("prod", "web").await.task_definition.as_deref(), Some(td.as_str()));
    assert!(w.local.messages().await.is_empty());
}

/// The ECS adapter carries the service's own deployment settings (read when it listed the
/// services) into UpdateService; only the circuit breaker is Deckhand's.
#[tokio::test]
async fn a_rolling_update_keeps_the_services_own_deployment_settings() {
    let w = world(&["prod"]).await;
    let old = w.local.aws.register_web_task_definition("web", "v1.4.1").await;
    w.local.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;
    let own = aws_sdk_ecs::types::DeploymentConfiguration::builder().maximum_percent(150).minimum_healthy_percent(50).build();
    w.local.aws.ecs.update_service().cluster("prod").service("web").deployment_configuration(own).send().await.unwrap();

    w.function.handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap();

    let configuration = w.local.aws.service("prod", "web").await.deployment_configuration.unwrap();
    assert_eq!((configuration.maximum_percent, configuration.minimum_healthy_percent), (Some(150), Some(50)));
    let breaker = configuration.deployment_circuit_breaker.unwrap();
    assert!(breaker.enable && breaker.rollback, "circuit breaker with rollback");
}

/// Issue 11 against the local AWS: the topic does not exist yet when the push deploys, so
/// Publish fails after the deployment. The invocation fails; the redelivery (once the topic is
/// there) sends the notice it owes, and registers and deploys nothing again.
#[tokio::test]
async fn a_notice_that_failed_after_the_deployment_is_sent_by_the_retry() {
    let local = Local::start().await;
    local.aws.push_image_as("shop/web", "v1.4.2", DIGEST).await;
    local.aws.create_cluster("prod").await;
    let old = local.aws.register_web_task_definition("web", "v1.4.1").await;
    local.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;
    let late_topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:late");
    let function = wiring::image_pushed(ImagePushedConfig { clusters: vec!["prod".into()], notify_topic_arn: late_topic }, &local.sdk);

    let err = function.handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap_err().to_string();

    assert!(err.contains("sns:Publish"), "{err}");
    let deployed = local.aws.service("prod", "web").await.task_definition.unwrap();
    assert_ne!(deployed, old, "the deployment stands");
    assert!(!local.aws.service_tags("prod", "web").await.contains_key("deckhand:announced"));

    let (_, queue) = local.aws.topic_with_queue("late").await;
    function.handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap();

    let messages = local.aws.drain(&queue).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(attribute(&messages[0], "event"), "image.deployed");
    assert_eq!(local.aws.service_tags("prod", "web").await.get("deckhand:announced").map(String::as_str), Some(DIGEST));
    assert_eq!(local.aws.revisions("web").await.len(), 2, "no second revision");
    assert_eq!(local.aws.service("prod", "web").await.task_definition.unwrap(), deployed);
    // What lets a retry find the revision it registered: the tag naming its source.
    let described = local.aws.ecs.describe_task_definition().task_definition("web").include(aws_sdk_ecs::types::TaskDefinitionField::Tags);
    let tags = described.send().await.unwrap().tags.unwrap_or_default();
    assert!(tags.iter().any(|t| t.key() == Some("deckhand:revised-from") && t.value() == Some(old.as_str())), "{tags:?}");
}
