//! build-finished: exported images, build messages; the handler on the fakes.

use super::*;
use crate::event::codebuild::Phase;
use crate::fakes::{FakeAws, FakeCodeDeploy, FakeEcr, FakeEcs, FakeSns, Fault};
use crate::notify::Severity;
use crate::outcome::ResourceResult;
use crate::usecase::image_pushed::tests::{REGISTRY, rollout, tracking, web_task_definition};

mod bounds;
mod claims;
mod fault_matrix;

const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";
const ACCOUNT: &str = "123456789012";

fn build(status: &str, exported: &[(&str, &str)]) -> BuildStateChange {
    BuildStateChange {
        event_id: Some("e1".into()),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        status: status.into(),
        project: "shop-web".into(),
        build_id: "arn:aws:codebuild:us-east-1:123456789012:build/shop-web:8745a7a9".into(),
        build_number: Some(55),
        initiator: None,
        source_version: Some("3f2a9c1".into()),
        logs_link: None,
        phases: vec![
            Phase { kind: "PROVISIONING".into(), status: Some("SUCCEEDED".into()), context: vec![], seconds: Some(36.0) },
            Phase {
                kind: "BUILD".into(),
                status: Some(if status == "SUCCEEDED" { "SUCCEEDED" } else { "FAILED" }.into()),
                context: vec!["COMMAND_EXECUTION_ERROR: Error while executing command: make test. Reason: exit status 2".into()],
                seconds: Some(90.0),
            },
        ],
        current_phase: None,
        exported: exported.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
    }
}

#[test]
fn failure_names_the_phase_its_context_and_the_links() {
    let b = build("FAILED", &[]);
    let n = build_notification(&b, BuildKind::Failed, &Outcome::new(FUNCTION, None), None);
    assert_eq!(n.sns_subject(), "Build FAILED: shop-web #55 in BUILD");
    assert_eq!((n.event, n.severity), ("build.failed", Severity::Warning));
    assert!(n.text.contains("exit status 2") && n.text.contains("2m 6s") && n.text.contains("3f2a9c1"), "{}", n.text);
    assert!(n.text.contains("build/shop-web%3A8745a7a9/?region=us-east-1"), "{}", n.text);
    assert_eq!(n.attributes().iter().find(|(k, _)| *k == "project").map(|(_, v)| v.as_str()), Some("shop-web"));
}

#[test]
fn missing_optional_fields_leave_their_lines_out() {
    let mut b = build("STOPPED", &[]);
    (b.build_number, b.source_version, b.phases) = (None, None, vec![]);
    let n = build_notification(&b, BuildKind::Stopped, &Outcome::new(FUNCTION, None), None);
    assert_eq!(n.sns_subject(), "Build STOPPED: shop-web");
    assert!(!n.text.contains("Source:") && !n.text.contains("Duration:") && !n.text.contains("Phase:"), "{}", n.text);
}

#[test]
fn only_known_safe_exports_show_their_values() {
    let b = build(
        "SUCCEEDED",
        &[
            ("IMAGE_TAG", "v1"),
            ("COMMIT_SHA", "3f2a9c1"),
            ("NPM_TOKEN", "npm_abc123"),
            ("db_password", "hunter2"),
            // Names no denylist of secret-looking words catches.
            ("DATABASE_URL", "postgres://app:canary-db-url@db:5432/shop"),
            ("DB_PASS", "canary-db-pass"),
            ("GITHUB_PAT", "ghp_canary"),
            // An allowed name in another case is another variable.
            ("image_tag", "canary-lower"),
        ],
    );
    let n = build_notification(&b, BuildKind::Succeeded, &Outcome::new(FUNCTION, None), None);
    let everything = n.sns_message();
    assert!(everything.contains("IMAGE_TAG=v1") && everything.contains("COMMIT_SHA=3f2a9c1"), "{everything}");
    for secret in ["npm_abc123", "hunter2", "canary-db-url", "canary-db-pass", "ghp_canary", "canary-lower"] {
        assert!(!everything.contains(secret), "{secret} leaked: {everything}");
    }
    for name in ["NPM_TOKEN", "DATABASE_URL", "GITHUB_PAT"] {
        assert!(!everything.contains(name), "{name} named: {everything}");
    }
    assert!(n.text.contains("Not shown:  6 other exported variables"), "{}", n.text);
    assert_eq!(n.details["exported_not_shown"], 6);
}

#[test]
fn reads_the_exported_image() {
    let uri = format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v2@{DIGEST}");
    let claim = exported_image(&build("SUCCEEDED", &[("IMAGE_URI", &uri)])).unwrap().unwrap();
    assert_eq!(
        (claim.region.as_str(), claim.repository.as_str(), claim.tag.as_deref(), claim.digest.as_deref()),
        ("us-east-1", "shop/web", Some("v2"), Some(DIGEST))
    );
    assert_eq!(claim.to_string(), format!("shop/web:v2@{DIGEST}"));

    let split = build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v3"), ("IMAGE_DIGEST", DIGEST)]);
    let claim = exported_image(&split).unwrap().unwrap();
    assert_eq!((claim.account.as_str(), claim.region.as_str(), claim.tag.as_deref()), ("123456789012", "us-east-1", Some("v3")));

    // A tag alone is a claim too: ECR resolves it.
    let claim = exported_image(&build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v3")])).unwrap().unwrap();
    assert_eq!((claim.tag.as_deref(), claim.digest), (Some("v3"), None));

    assert_eq!(exported_image(&build("SUCCEEDED", &[("OTHER", "x")])), Ok(None));
}

#[test]
fn durations_read_naturally() {
    assert_eq!(
        (notification::duration(42.0), notification::duration(125.4), notification::duration(3725.0)),
        ("42s".into(), "2m 5s".into(), "1h 2m 5s".into())
    );
}

const SUCCEEDED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/codebuild-succeeded.json"));
const FAILED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/codebuild-failed.json"));
const IN_PROGRESS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/codebuild-in-progress.json"));

fn sample(json: &str) -> Value {
    serde_json::from_str(json).expect("a sample event")
}

/// Cluster `prod` with service `web` tracking `semver:^1.4` (the succeeded sample exports
/// shop/web:v1.4.2 pinned by digest, which ECR holds), and the handler rolling out to it.
/// The samples' project, `shop-web`, is in `ROLLOUT_PROJECTS`.
fn world(notify_build_started: bool) -> (FakeAws, BuildFinished<FakeEcs, FakeCodeDeploy, FakeSns, FakeEcr>) {
    world_rolling_out(notify_build_started, &["shop-web"])
}

fn world_rolling_out(notify_build_started: bool, projects: &[&str]) -> (FakeAws, BuildFinished<FakeEcs, FakeCodeDeploy, FakeSns, FakeEcr>) {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    aws.ecr.push(ACCOUNT, "shop/web", DIGEST, &["v1.4.2"], 1_700_000_000);
    let config = BuildFinishedConfig {
        notify_topic_arn: "arn:aws:sns:us-east-1:123456789012:deckhand".into(),
        clusters: vec!["prod".into()],
        notify_build_started,
        rollout_projects: projects.iter().map(|p| p.to_string()).collect(),
    };
    let handler = BuildFinished::new(config, aws.sns.clone(), Some(rollout(&aws)));
    (aws, handler)
}

#[tokio::test]
async fn build_start_is_ignored_when_start_messages_are_off() {
    let (aws, handler) = world(false);
    let outcome = handler.handle(sample(IN_PROGRESS)).await.unwrap();
    assert!(outcome.ignored.as_deref().is_some_and(|r| r.contains("NOTIFY_BUILD_STARTED")), "{outcome:?}");
    assert_eq!(aws.faults.calls(), Vec::<&str>::new());
}

#[tokio::test]
async fn unknown_build_status_is_ignored() {
    let (aws, handler) = world(true);
    let mut event = sample(FAILED);
    event["detail"]["build-status"] = json!("SUSPENDED");
    let outcome = handler.handle(event).await.unwrap();
    assert!(outcome.ignored.as_deref().is_some_and(|r| r.contains("SUSPENDED")), "{outcome:?}");
    assert_eq!(aws.faults.calls(), Vec::<&str>::new());
}

#[tokio::test]
async fn failed_build_publishes_one_build_failed_message_and_deploys_nothing() {
    let (aws, handler) = world(false);
    let outcome = handler.handle(sample(FAILED)).await.unwrap();
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| (n.event, n.severity)).collect::<Vec<_>>(), [("build.failed", Severity::Warning)]);
    assert_eq!(published[0].project.as_deref(), Some("shop-web"));
    assert_eq!(outcome.notification.map(|sent| sent.event), Some("build.failed"));
    assert_eq!(aws.faults.calls(), ["sns:Publish"]);
}

#[tokio::test]
async fn succeeded_build_deploys_its_exported_image_and_says_where() {
    let (aws, handler) = world(false);
    let outcome = handler.handle(sample(SUCCEEDED)).await.unwrap();

    let revisions = aws.ecs.revisions("web");
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[1].0.containers[0].image, format!("{REGISTRY}/shop/web@{DIGEST}"));
    assert_eq!(aws.ecs.service("prod", "web").task_definition.clone(), revisions[1].0.arn);
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| n.event).collect::<Vec<_>>(), ["image.deployed", "build.succeeded"]);
    assert!(published[1].text.contains("Deploying:  prod/web (rev 2, ecs-svc/1)"), "{}", published[1].text);
    assert!(!published[1].text.contains("npm_s3cr3tValue"), "{}", published[1].text);
    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
}

#[tokio::test]
async fn redelivered_build_event_publishes_and_deploys_nothing_new() {
    let (aws, handler) = world(false);
    handler.handle(sample(SUCCEEDED)).await.unwrap();
    let calls = aws.faults.calls().len();

    let again = handler.handle(sample(SUCCEEDED)).await.unwrap();

    assert!(again.ignored.as_deref().is_some_and(|r| r.contains("duplicate delivery")), "{again:?}");
    assert_eq!(aws.sns.published().len(), 2);
    assert_eq!(aws.ecs.revisions("web").len(), 2);
    assert_eq!(aws.faults.calls().len(), calls, "{:?}", aws.faults.calls());
}

#[tokio::test]
async fn publish_failure_fails_the_event_and_the_retry_publishes_without_redeploying() {
    let (aws, handler) = world(false);
    aws.faults.fail_always("sns:Publish", Fault::Error);

    let err = handler.handle(sample(SUCCEEDED)).await.unwrap_err();

    assert!(err.to_string().contains("sns:Publish"), "{err}");
    assert_eq!(aws.sns.published().len(), 0);
    let deployed = aws.ecs.service("prod", "web").task_definition.clone();
    assert_eq!(deployed, aws.ecs.revisions("web")[1].0.arn, "the deployment stands");
    // Not remembered as handled: Lambda's retry sends the deployment notice it still owes and the
    // build message, and deploys nothing twice.
    aws.faults.clear();
    handler.handle(sample(SUCCEEDED)).await.unwrap();
    assert_eq!(aws.sns.published().iter().map(|n| n.event).collect::<Vec<_>>(), ["image.deployed", "build.succeeded"]);
    assert_eq!((aws.ecs.revisions("web").len(), aws.faults.count("ecs:UpdateService")), (2, 1));
}

#[tokio::test]
async fn published_build_message_is_not_an_ignored_outcome() {
    let (aws, handler) = world(false);
    aws.ecs.update_service("prod", "web", |s| {
        s.tags.insert(crate::tags::TRACK.into(), "latest".into());
    });

    let outcome = handler.handle(sample(SUCCEEDED)).await.unwrap();

    assert_eq!(aws.sns.published().iter().map(|n| n.event).collect::<Vec<_>>(), ["build.succeeded"]);
    assert_eq!(outcome.notification.as_ref().map(|sent| sent.event), Some("build.succeeded"));
    assert_eq!(outcome.ignored, None, "{outcome:?}");
    assert!(aws.sns.published()[0].text.contains("Not deployed: no service in prod tracks shop/web"), "{outcome:?}");
}

#[tokio::test]
async fn a_build_of_a_project_not_in_rollout_projects_is_reported_and_deploys_nothing() {
    for (projects, why) in [
        (&["billing", "shop-api"][..], "project shop-web is not in ROLLOUT_PROJECTS (billing, shop-api)"),
        (&[][..], "project shop-web is not in ROLLOUT_PROJECTS (unset: builds only notify)"),
    ] {
        let (aws, handler) = world_rolling_out(false, projects);

        let outcome = handler.handle(sample(SUCCEEDED)).await.unwrap();

        assert_eq!(aws.faults.calls(), ["sns:Publish"], "{projects:?}: nothing read, registered or deployed");
        assert_eq!(aws.ecs.revisions("web").len(), 1);
        assert_eq!(outcome.ignored, None, "{outcome:?}");
        assert_eq!(outcome.resources.len(), 1, "{outcome:?}");
        assert_eq!(outcome.resources[0].resource, format!("shop/web:v1.4.2@{DIGEST}"));
        assert_eq!(outcome.resources[0].result, ResourceResult::Ignored { reason: why.into() });
        let published = aws.sns.published();
        assert_eq!(published.iter().map(|n| n.event).collect::<Vec<_>>(), ["build.succeeded"]);
        assert!(published[0].text.contains(&format!("Not deployed: {why}")), "{}", published[0].text);
        assert_eq!(outcome.notification.map(|sent| sent.event), Some("build.succeeded"));
    }
}

#[tokio::test]
async fn an_unlisted_project_is_the_reason_even_when_its_export_could_not_be_pinned() {
    let (aws, handler) = world_rolling_out(false, &["billing"]);
    let mut event = sample(SUCCEEDED);
    let variables = event["detail"]["additional-information"]["exported-environment-variables"].as_array_mut().unwrap();
    variables.retain(|v| !["IMAGE_URI", "IMAGE_DIGEST", "IMAGE_TAG"].contains(&v["name"].as_str().unwrap()));
    variables.push(json!({"name": "IMAGE_REPO_NAME", "value": "shop/web"}));

    let outcome = handler.handle(event).await.unwrap();

    assert!(outcome.resources.is_empty(), "{outcome:?}");
    let text = &aws.sns.published()[0].text;
    assert!(text.contains("Not deployed: project shop-web is not in ROLLOUT_PROJECTS (billing)"), "{text}");
    assert!(!text.contains("without a tag or digest"), "{text}");
}

#[tokio::test]
async fn a_build_that_exported_no_image_says_nothing_about_rollouts() {
    let (aws, handler) = world_rolling_out(false, &[]);
    let mut event = sample(SUCCEEDED);
    event["detail"]["additional-information"]["exported-environment-variables"] = json!([]);

    let outcome = handler.handle(event).await.unwrap();

    assert!(outcome.resources.is_empty(), "{outcome:?}");
    assert!(!aws.sns.published()[0].text.contains("Not deployed"), "{}", aws.sns.published()[0].text);
}
