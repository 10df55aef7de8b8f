//! Issue 15 against moto server: what a build exports is a claim, checked with the local ECR
//! before anything deploys. Every assertion reads the resulting AWS state and the SQS queue
//! behind the topic.

use deckhand::config::BuildFinishedConfig;
use deckhand::outcome::{Outcome, ResourceResult};
use deckhand::wiring;
use deckhand_integration_tests::{DIGEST, Local, REGISTRY, attribute, document, sample_event};
use serde_json::{Value, json};

/// The local AWS: `shop/web` in ECR with `v1.4.1` and `v1.4.2` pushed, service `prod/web` on
/// `shop/web:v1.4.1` tracking `semver:^1.4`, and the queue behind the topic. Returns the digests
/// of `v1.4.1` and `v1.4.2` and the service's task definition.
async fn world() -> (Local, [String; 2], String) {
    let w = Local::start().await;
    // Digests given: moto derives one from the layers, the same for every image without any.
    let (v141, v142) = (format!("sha256:{:1<64}", "141"), format!("sha256:{:2<64}", "142"));
    w.aws.push_image_as("shop/web", "v1.4.1", &v141).await;
    w.aws.push_image_as("shop/web", "v1.4.2", &v142).await;
    w.aws.create_cluster("prod").await;
    let old = w.aws.register_web_task_definition("web", "v1.4.1").await;
    w.aws.create_service("prod", "web", &old, &[("deckhand:track", "semver:^1.4")], false).await;
    (w, [v141, v142], old)
}

/// `shop-web`'s successful build (a project in ROLLOUT_PROJECTS), exporting `exports`.
async fn build(w: &Local, exports: &[(&str, &str)]) -> Outcome {
    let config = BuildFinishedConfig {
        notify_topic_arn: w.topic.clone(),
        clusters: vec!["prod".into()],
        notify_build_started: false,
        rollout_projects: vec!["shop-web".into()],
    };
    let mut event = sample_event("codebuild-succeeded.json");
    event["detail"]["additional-information"]["exported-environment-variables"] =
        exports.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
    wiring::build_finished(config, &w.sdk).handle(event).await.unwrap()
}

/// Nothing deployed: the service still on `old`, no new revision, no deployment.
async fn nothing_deployed(w: &Local, old: &str) {
    assert_eq!(w.aws.revisions("web").await, [old.to_owned()], "no new revision");
    let service = w.aws.service("prod", "web").await;
    assert_eq!(service.task_definition(), Some(old));
    assert_eq!(service.deployments().len(), 1, "no deployment");
}

/// The one alert in the queue: its severity, and its text.
async fn the_alert(w: &Local) -> (String, String) {
    let messages = w.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["build.image_refused"]);
    let alert: &Value = &messages[0];
    assert_eq!(alert["Subject"], "Build image refused: shop-web #55");
    assert_eq!(attribute(alert, "project"), "shop-web");
    (attribute(alert, "severity").to_owned(), document(alert)["text"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_digest_not_in_the_repository_deploys_nothing_and_alerts() {
    let (w, [_, v142], old) = world().await;
    // The sample's digest: never pushed.
    let uri = format!("{REGISTRY}/shop/web:v1.4.2@{DIGEST}");

    let outcome = build(&w, &[("IMAGE_URI", &uri)]).await;

    nothing_deployed(&w, &old).await;
    let says = format!("\"shop/web\" has no image {DIGEST}; the tag \"v1.4.2\" points at {v142}");
    assert_eq!(outcome.resources.len(), 1, "{outcome:?}");
    assert_eq!(
        outcome.resources[0].result,
        ResourceResult::Ignored { reason: format!("ECR does not confirm the image the build exported: {says}") }
    );
    let (severity, text) = the_alert(&w).await;
    assert_eq!(severity, "critical");
    for line in [format!("Claimed:    shop/web:v1.4.2@{DIGEST}"), format!("ECR says:   {says}"), "build/shop-web%3A8745a7a9".into()] {
        assert!(text.contains(&line), "{line}: {text}");
    }
}

#[tokio::test]
async fn a_tag_that_does_not_point_at_the_digest_deploys_nothing_and_alerts() {
    let (w, [v141, v142], old) = world().await;
    // v1.4.1's image, claimed as v1.4.2.
    let uri = format!("{REGISTRY}/shop/web:v1.4.2@{v141}");

    let outcome = build(&w, &[("IMAGE_URI", &uri)]).await;

    nothing_deployed(&w, &old).await;
    assert!(matches!(&outcome.resources[0].result, ResourceResult::Ignored { reason } if reason.contains("points at")), "{outcome:?}");
    let (severity, text) = the_alert(&w).await;
    assert_eq!(severity, "critical");
    let says = format!("ECR says:   the tag \"v1.4.2\" points at {v142}, not at {v141} (which carries \"v1.4.1\")");
    assert!(text.contains(&says), "{text}");
}

#[tokio::test]
async fn a_tag_no_image_carries_deploys_nothing_and_warns() {
    let (w, _, old) = world().await;

    build(&w, &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1.4.7")]).await;

    nothing_deployed(&w, &old).await;
    let (severity, text) = the_alert(&w).await;
    assert_eq!(severity, "warning");
    assert!(text.contains("ECR says:   no image in \"shop/web\" carries the tag \"v1.4.7\""), "{text}");
}

#[tokio::test]
async fn a_tag_alone_deploys_the_digest_ecr_resolves_it_to() {
    let (w, [_, v142], old) = world().await;

    let outcome = build(&w, &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v1.4.2")]).await;

    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
    let running = w.aws.service("prod", "web").await.task_definition.unwrap();
    assert_ne!(running, old);
    assert_eq!(
        w.aws.task_definition(&running).await.container_definitions()[0].image.as_deref(),
        Some(format!("{REGISTRY}/shop/web@{v142}").as_str())
    );
    let messages = w.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["image.deployed", "build.succeeded"]);
    assert_eq!(attribute(&messages[1], "severity"), "info");
    let text = document(&messages[1])["text"].as_str().unwrap().to_owned();
    assert!(text.contains(&format!("Verified:   shop/web:v1.4.2 is {v142} (resolved with ECR)")), "{text}");
    assert!(text.contains("Deploying:  prod/web (rev 2"), "{text}");
}

#[tokio::test]
async fn a_digest_and_tag_ecr_confirms_deploys_it() {
    let (w, [_, v142], _) = world().await;
    let uri = format!("{REGISTRY}/shop/web:v1.4.2@{v142}");

    let outcome = build(&w, &[("IMAGE_URI", &uri)]).await;

    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
    let running = w.aws.service("prod", "web").await.task_definition.unwrap();
    assert_eq!(
        w.aws.task_definition(&running).await.container_definitions()[0].image.as_deref(),
        Some(format!("{REGISTRY}/shop/web@{v142}").as_str())
    );
    let messages = w.messages().await;
    let text = document(&messages[1])["text"].as_str().unwrap().to_owned();
    assert!(text.contains(&format!("Verified:   shop/web:v1.4.2@{v142} is {v142} (in ECR)")), "{text}");
}
