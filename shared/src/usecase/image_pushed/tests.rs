//! image-pushed on the fakes: which pushes deploy what, and what ECS, CodeDeploy and SNS hold afterwards.
//! `rollout`, `web_task_definition` and `tracking` also build the world of the build-finished tests.

use super::*;
use crate::fakes::{ACCOUNT, FakeAws, FakeCodeDeploy, FakeDeployment, FakeEcr, FakeEcs, FakeService, FakeSns, Fault};
use crate::outcome::ResourceResult;
use crate::ports::Controller;
use crate::tags;
use serde_json::json;
use std::time::Duration;

pub(crate) const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub(crate) const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";
pub(crate) const OLDER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
/// The write calls a rollout makes; an ignored or unchanged push makes none of them.
const WRITES: [&str; 4] = ["ecs:RegisterTaskDefinition", "ecs:UpdateService", "codedeploy:CreateDeployment", "sns:Publish"];

/// The rollout to the cluster `prod`, waiting 1 ms (twice) for a busy CodeDeploy group.
pub(crate) fn rollout(aws: &FakeAws) -> Rollout<FakeEcs, FakeCodeDeploy, FakeSns, FakeEcr> {
    Rollout::new(vec!["prod".into()], aws.ecs.clone(), aws.codedeploy.clone(), aws.sns.clone(), aws.ecr.clone()).with_busy_waits(vec![
        Duration::from_millis(
            1
        );
        2
    ])
}

/// `shop/web:v1`'s digest.
pub(crate) const V1: &str = "sha256:5eed000000000000000000000000000000000000000000000000000000000000";
/// When `DIGEST` was pushed (2023-11-14T22:13:20Z); `OLDER` an hour before, `V1` two.
pub(crate) const PUSHED_AT: u64 = 1_700_000_000;

/// ECR's `shop/web`, pushed in this order: `V1` (`v1`), `OLDER` (`v1.4.1`), `DIGEST` (`v1.4.2`).
pub(crate) fn pushed_images(aws: &FakeAws) {
    for (digest, tag, at) in [(V1, "v1", PUSHED_AT - 7200), (OLDER, "v1.4.1", PUSHED_AT - 3600), (DIGEST, "v1.4.2", PUSHED_AT)] {
        aws.ecr.push(ACCOUNT, "shop/web", digest, &[tag], at);
    }
}

/// Revision 1 of `family`: container `web` on `shop/web:v1` beside an nginx sidecar; its ARN.
/// ECR holds `pushed_images`.
pub(crate) fn web_task_definition(aws: &FakeAws, family: &str) -> String {
    pushed_images(aws);
    aws.ecs.add_task_definition(family, &[("web", &format!("{REGISTRY}/shop/web:v1")), ("proxy", "public.ecr.aws/nginx/nginx:1.27")])
}

/// A service of `prod` running `task_definition`, deployed by ECS, tracking `semver:^1.4`.
pub(crate) fn tracking(name: &str, task_definition: &str) -> FakeService {
    FakeService::new("prod", name, task_definition).tag(tags::TRACK, "semver:^1.4")
}

/// A tracking service deployed blue/green by CodeDeploy application `shop`, group `web-bg`.
pub(crate) fn blue_green(name: &str, task_definition: &str) -> FakeService {
    tracking(name, task_definition)
        .controller(Controller::CodeDeploy)
        .tag(tags::CODEDEPLOY_APP, "shop")
        .tag(tags::CODEDEPLOY_GROUP, "web-bg")
        .tag(tags::TRAFFIC, "CodeDeployDefault.ECSCanary10Percent5Minutes")
        .load_balancer("web", 8080)
}

/// A deployment of `task_definition` under way in group `web-bg`.
pub(crate) fn active_deployment(id: &str, task_definition: &str) -> FakeDeployment {
    FakeDeployment {
        id: id.into(),
        application: "shop".into(),
        group: "web-bg".into(),
        task_definition: Some(task_definition.into()),
        status: "Created".into(),
        deployment_config: None,
        error: None,
    }
}

pub(crate) fn pinned(digest: &str) -> String {
    format!("{REGISTRY}/shop/web@{digest}")
}

/// An ECR event: `action` on `shop/web` with digest `DIGEST`, tagged `tag` when given.
fn ecr_event(action: &str, tag: Option<&str>) -> Value {
    let mut detail = json!({"result": "SUCCESS", "repository-name": "shop/web", "image-digest": DIGEST, "action-type": action});
    if let Some(tag) = tag {
        detail["image-tag"] = json!(tag);
    }
    json!({
        "version": "0", "id": "e1", "detail-type": "ECR Image Action", "source": "aws.ecr", "account": "123456789012",
        "time": "2026-11-22T10:15:30Z", "region": "us-east-1", "resources": [], "detail": detail
    })
}

pub(crate) fn push(tag: &str) -> Value {
    ecr_event("PUSH", Some(tag))
}

pub(crate) async fn handle(aws: &FakeAws, event: Value) -> Result<Outcome, HandlerError> {
    ImagePushed::new(rollout(aws)).handle(event).await
}

fn assert_no_writes(aws: &FakeAws) {
    for write in WRITES {
        assert_eq!(aws.faults.count(write), 0, "{write} in {:?}", aws.faults.calls());
    }
}

#[tokio::test]
async fn pushes_that_concern_no_service_change_nothing() {
    type Build = fn(&str) -> FakeService;
    let opted_in: Build = |td| tracking("web", td);
    let not_opted_in: Build = |td| FakeService::new("prod", "web", td);
    let external: Build = |td| tracking("web", td).controller(Controller::External);
    let cases: [(&str, Build, Value, &str); 5] = [
        ("a DELETE", opted_in, ecr_event("DELETE", Some("v1.4.2")), "action-type is \\\"DELETE\\\""),
        ("an untagged push", opted_in, ecr_event("PUSH", None), "untagged push"),
        ("a tag outside deckhand:track", opted_in, push("v2.0.0"), "does not satisfy deckhand:track"),
        ("the EXTERNAL controller", external, push("v1.4.2"), "deployment controller EXTERNAL"),
        ("no deckhand:track tag", not_opted_in, push("v1.4.2"), "no service in prod tracks shop/web:v1.4.2"),
    ];
    for (case, service, event, reason) in cases {
        let aws = FakeAws::new();
        let td = web_task_definition(&aws, "web");
        aws.ecs.add_service(service(&td));
        let before = aws.ecs.service("prod", "web");

        let outcome = handle(&aws, event).await.unwrap_or_else(|err| panic!("{case}: {err}"));

        assert!(outcome.ignored.is_some(), "{case}: {outcome:?}");
        assert!(json!(outcome).to_string().contains(reason), "{case}: {outcome:?}");
        assert_eq!(aws.ecs.service("prod", "web"), before, "{case}");
        assert_eq!(aws.ecs.revisions("web").len(), 1, "{case}");
        assert_no_writes(&aws);
    }
}

#[tokio::test]
async fn delete_is_ignored_before_any_call() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    handle(&aws, ecr_event("DELETE", Some("v1.4.2"))).await.unwrap();
    assert_eq!(aws.faults.calls(), Vec::<&str>::new());
}

#[tokio::test]
async fn ecs_rolling_pins_the_digest_moves_the_service_and_notifies() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    let revisions = aws.ecs.revisions("web");
    assert_eq!(revisions.len(), 2);
    let (new, pushed_tag) = &revisions[1];
    let images: Vec<(&str, &str)> = new.containers.iter().map(|c| (c.name.as_str(), c.image.as_str())).collect();
    assert_eq!(images, [("web", pinned(DIGEST).as_str()), ("proxy", "public.ecr.aws/nginx/nginx:1.27")]);
    assert_eq!(pushed_tag.as_deref(), Some("v1.4.2"));
    let service = aws.ecs.service("prod", "web");
    assert_eq!(service.task_definition, new.arn);
    assert_eq!((service.deployments[0].status.as_str(), service.deployments[0].task_definition.as_str()), ("PRIMARY", new.arn.as_str()));
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    assert_eq!((published[0].event, published[0].service.as_deref()), ("image.deployed", Some("web")));
    assert_eq!((published[0].details["revision"].clone(), published[0].details["controller"].clone()), (json!(2), json!("ECS")));
    assert!(matches!(&outcome.resources[0].result, ResourceResult::Deployed { revision: 2, .. }), "{outcome:?}");
    assert_eq!(aws.faults.count("codedeploy:CreateDeployment"), 0);
}

#[tokio::test]
async fn redelivered_push_registers_deploys_and_notifies_once() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    aws.ecs.add_service(blue_green("web-bg", &web_task_definition(&aws, "web-bg")));

    handle(&aws, push("v1.4.2")).await.unwrap();
    let again = handle(&aws, push("v1.4.2")).await.unwrap();

    let reasons: Vec<String> = again
        .resources
        .iter()
        .map(|r| match &r.result {
            ResourceResult::Unchanged { reason } => reason.clone(),
            other => panic!("{}: {other:?}", r.resource),
        })
        .collect();
    assert!(reasons[0].contains("already runs") && reasons[1].contains("already deploying"), "{reasons:?}");
    assert_eq!((aws.ecs.revisions("web").len(), aws.ecs.revisions("web-bg").len()), (2, 2));
    assert_eq!(aws.codedeploy.deployments().len(), 1);
    for (write, once_per_service) in [("ecs:RegisterTaskDefinition", 2), ("ecs:UpdateService", 1), ("codedeploy:CreateDeployment", 1)] {
        assert_eq!(aws.faults.count(write), once_per_service, "{write}");
    }
    assert_eq!(aws.sns.published().len(), 2);
}

#[tokio::test]
async fn codedeploy_service_gets_a_blue_green_deployment_of_the_new_revision() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(blue_green("web", &td));

    handle(&aws, push("v1.4.2")).await.unwrap();

    let new = aws.ecs.revisions("web")[1].0.arn.clone();
    let deployments = aws.codedeploy.deployments();
    assert_eq!(deployments.len(), 1);
    let created = &deployments[0];
    assert_eq!((created.application.as_str(), created.group.as_str(), created.status.as_str()), ("shop", "web-bg", "Created"));
    assert_eq!(created.task_definition.as_deref(), Some(new.as_str()));
    assert_eq!(created.deployment_config.as_deref(), Some("CodeDeployDefault.ECSCanary10Percent5Minutes"));
    // CodeDeploy, not Deckhand, moves the service once green takes the traffic.
    assert_eq!((aws.ecs.service("prod", "web").task_definition.clone(), aws.faults.count("ecs:UpdateService")), (td, 0));
    let published = aws.sns.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        (published[0].details["controller"].clone(), published[0].details["deployment_id"].clone()),
        (json!("CODE_DEPLOY"), json!(created.id))
    );
}

#[tokio::test]
async fn active_deployment_of_an_older_image_is_stopped_and_superseded() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    aws.ecs.add_service(blue_green("web", &td));
    aws.codedeploy.add_deployment(active_deployment("d-OLDER", &older));

    handle(&aws, push("v1.4.2")).await.unwrap();

    let deployments = aws.codedeploy.deployments();
    assert_eq!(deployments.len(), 2);
    assert_eq!((deployments[0].id.as_str(), deployments[0].status.as_str()), ("d-OLDER", "Stopped"));
    let new = &aws.ecs.revisions("web")[2].0;
    assert_eq!(new.containers[0].image, pinned(DIGEST));
    assert_eq!((deployments[1].status.as_str(), deployments[1].task_definition.as_deref()), ("Created", Some(new.arn.as_str())));
    let calls = aws.faults.calls();
    let at = |op| calls.iter().position(|c| *c == op).unwrap_or_else(|| panic!("no {op} in {calls:?}"));
    assert!(at("codedeploy:StopDeployment") < at("codedeploy:CreateDeployment"), "{calls:?}");
    assert_eq!(aws.sns.published()[0].details["superseded"], json!("d-OLDER"));
}

#[tokio::test]
async fn active_deployment_of_the_pushed_digest_is_left_alone() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    let deploying = aws.ecs.add_task_definition("web", &[("web", &pinned(DIGEST))]);
    aws.ecs.add_service(blue_green("web", &td));
    aws.codedeploy.add_deployment(active_deployment("d-SAME", &deploying));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert!(
        matches!(&outcome.resources[0].result, ResourceResult::Unchanged { reason } if reason.contains("already deploying")),
        "{outcome:?}"
    );
    assert_eq!(aws.codedeploy.deployments(), [active_deployment("d-SAME", &deploying)]);
    assert_eq!(aws.ecs.revisions("web").len(), 2);
    assert_eq!(aws.faults.count("codedeploy:StopDeployment"), 0);
    assert_no_writes(&aws);
}

#[tokio::test]
async fn group_still_busy_after_the_waits_fails_the_service_without_a_message() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    aws.ecs.add_service(blue_green("web", &td));
    // Stopping the first leaves the second active: CodeDeploy keeps refusing a new deployment.
    aws.codedeploy.add_deployment(active_deployment("d-OLDER", &older));
    aws.codedeploy.add_deployment(active_deployment("d-OTHER", &older));

    let err = handle(&aws, push("v1.4.2")).await.unwrap_err().to_string();

    assert!(err.contains("prod/web: busy") && err.contains("DeploymentLimitExceededException"), "{err}");
    assert_eq!(aws.faults.count("codedeploy:CreateDeployment"), 3, "one try and one after each of the two waits");
    assert_eq!(aws.codedeploy.deployments().len(), 2);
    assert_eq!(aws.sns.published().len(), 0);
}

#[tokio::test]
async fn services_sharing_a_task_definition_share_one_new_revision() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &td));
    aws.ecs.add_service(tracking("web-canary", &td));

    handle(&aws, push("v1.4.2")).await.unwrap();

    let revisions = aws.ecs.revisions("web");
    assert_eq!(revisions.len(), 2);
    for name in ["web", "web-canary"] {
        assert_eq!(aws.ecs.service("prod", name).task_definition, revisions[1].0.arn, "{name}");
    }
    assert_eq!((aws.faults.count("ecs:RegisterTaskDefinition"), aws.faults.count("ecs:UpdateService")), (1, 2));
    assert_eq!(aws.sns.published().len(), 2);
}

#[tokio::test]
async fn failed_update_of_one_service_fails_the_event_but_not_the_other_service() {
    let aws = FakeAws::new();
    let web = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &web));
    aws.ecs.add_service(tracking("api", &web_task_definition(&aws, "api")));
    aws.faults.fail_nth("ecs:UpdateService", 1, Fault::Error);

    let err = handle(&aws, push("v1.4.2")).await.unwrap_err().to_string();

    assert!(err.contains("1 of 2 services failed") && err.contains("prod/web:"), "{err}");
    assert!(!err.contains("prod/api"), "{err}");
    assert_eq!(aws.ecs.service("prod", "web").task_definition.clone(), web);
    assert_eq!(aws.ecs.service("prod", "api").task_definition.clone(), aws.ecs.revisions("api")[1].0.arn);
    let published = aws.sns.published();
    assert_eq!(published.iter().map(|n| n.service.as_deref()).collect::<Vec<_>>(), [Some("api")]);

    // Lambda's retry finishes the job: web moves, api is found done and not notified twice.
    handle(&aws, push("v1.4.2")).await.unwrap();
    assert_eq!(aws.ecs.service("prod", "web").task_definition.clone(), aws.ecs.revisions("web").last().unwrap().0.arn);
    assert_eq!(aws.sns.published().iter().map(|n| n.service.as_deref()).collect::<Vec<_>>(), [Some("api"), Some("web")]);
}

/// Issue 11, orphan revisions: the retry reuses the revision the first attempt registered.
#[tokio::test]
async fn services_sharing_a_task_definition_still_share_one_revision_after_a_retry() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &td));
    aws.ecs.add_service(tracking("web-canary", &td));
    aws.faults.fail_nth("ecs:UpdateService", 1, Fault::Error);

    handle(&aws, push("v1.4.2")).await.unwrap_err();
    handle(&aws, push("v1.4.2")).await.unwrap();

    let (web, canary) =
        (aws.ecs.service("prod", "web").task_definition.clone(), aws.ecs.service("prod", "web-canary").task_definition.clone());
    assert_eq!(web, canary);
    assert_eq!(aws.ecs.revisions("web").len(), 2);
}

mod discovery;
mod native;
mod push_order;
