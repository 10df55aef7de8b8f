//! Never an older image on an event (issue 15): an older push delivered after a newer one, on
//! every controller, changes nothing and says why; what ECR cannot tell does not block; a failed
//! ECR call fails the service and the retry converges.

use super::{
    ACCOUNT, DIGEST, OLDER, PUSHED_AT, REGISTRY, active_deployment, blue_green, handle, pinned, push, tracking, web_task_definition,
};
use crate::fakes::{FakeAws, Fault, native_deployment};
use crate::outcome::{Outcome, ResourceResult};
use crate::ports::Strategy;
use crate::tags;
use serde_json::{Value, json};

/// Pushed a minute after `DIGEST`, tagged `v1.4.0`.
const NEWEST: &str = "sha256:9999999999990000000000000000000000000000000000000000000000000000";
/// The calls that would move a service or announce it.
const WRITES: [&str; 6] = [
    "ecs:RegisterTaskDefinition",
    "ecs:UpdateService",
    "ecs:StopServiceDeployment",
    "codedeploy:StopDeployment",
    "codedeploy:CreateDeployment",
    "sns:Publish",
];

/// The push of `digest` tagged `tag` to `shop/web`.
fn push_of(digest: &str, tag: &str) -> Value {
    let mut event = push(tag);
    event["detail"]["image-digest"] = json!(digest);
    event
}

fn ignored(outcome: &Outcome) -> &str {
    match &outcome.resources[0].result {
        ResourceResult::Ignored { reason } => reason,
        other => panic!("{other:?}"),
    }
}

fn no_writes_since(aws: &FakeAws, before: &[usize]) {
    let now: Vec<usize> = WRITES.iter().map(|w| aws.faults.count(w)).collect();
    assert_eq!(now, before, "{:?}", aws.faults.calls());
}

fn writes(aws: &FakeAws) -> Vec<usize> {
    WRITES.iter().map(|w| aws.faults.count(w)).collect()
}

#[tokio::test]
async fn an_older_push_delivered_after_a_newer_one_changes_nothing_and_says_why() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    handle(&aws, push("v1.4.2")).await.unwrap();
    let (service, revisions, before) = (aws.ecs.service("prod", "web"), aws.ecs.revisions("web"), writes(&aws));

    // The older push, redelivered late, twice: the same answer, nothing moved.
    for _ in 0..2 {
        let outcome = handle(&aws, push_of(OLDER, "v1.4.1")).await.unwrap();

        let reason = ignored(&outcome);
        assert!(
            reason.starts_with(
                "older than what runs: sha256:000000000000 was pushed 2023-11-14T21:13:20Z, sha256:4f1c6e2d9b8a (running) was pushed \
                 2023-11-14T22:13:20Z; "
            ) && reason.contains("an operator's explicit rollback"),
            "{reason}"
        );
        assert_eq!((aws.ecs.service("prod", "web"), aws.ecs.revisions("web")), (service.clone(), revisions.clone()));
        no_writes_since(&aws, &before);
    }
}

#[tokio::test]
async fn a_codedeploy_group_deploying_a_newer_image_is_left_to_it() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let newer = aws.ecs.add_task_definition("web", &[("web", &pinned(DIGEST))]);
    aws.ecs.add_service(blue_green("web", &v1));
    aws.codedeploy.add_deployment(active_deployment("d-NEWER", &newer));

    let outcome = handle(&aws, push_of(OLDER, "v1.4.1")).await.unwrap();

    let reason = ignored(&outcome);
    assert!(
        reason.starts_with("older than what is deploying: sha256:000000000000 was pushed 2023-11-14T21:13:20Z, sha256:4f1c6e2d9b8a (deploying in CodeDeploy deployment d-NEWER) was pushed 2023-11-14T22:13:20Z"),
        "{reason}"
    );
    assert_eq!(aws.codedeploy.deployments(), [active_deployment("d-NEWER", &newer)]);
    assert_eq!(aws.ecs.revisions("web").len(), 2);
    no_writes_since(&aws, &[0; 6]);
}

#[tokio::test]
async fn an_advancing_native_deployment_of_a_newer_image_is_not_stopped() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let newer = aws.ecs.add_task_definition("web", &[("web", &pinned(DIGEST))]);
    let mut service = tracking("web", &v1).strategy(Strategy::Canary).load_balancer("web", 8080);
    service.native.push(native_deployment(&service, 0, &v1, &newer));
    aws.ecs.add_service(service);

    let outcome = handle(&aws, push_of(OLDER, "v1.4.1")).await.unwrap();

    assert!(ignored(&outcome).starts_with("older than what is deploying"), "{outcome:?}");
    assert_eq!(aws.ecs.service("prod", "web").native[0].status, "IN_PROGRESS");
    no_writes_since(&aws, &[0; 6]);
}

#[tokio::test]
async fn semver_tracking_never_moves_to_a_lower_version_even_pushed_later() {
    for (track, lower_refused) in [("semver:^1.4", true), ("prefix:v1.", false)] {
        let aws = FakeAws::new();
        let v1 = web_task_definition(&aws, "web");
        aws.ecr.push(ACCOUNT, "shop/web", NEWEST, &["v1.4.0"], PUSHED_AT + 60);
        aws.ecs.add_service(tracking("web", &v1).tag(tags::TRACK, track));
        handle(&aws, push("v1.4.2")).await.unwrap();

        let outcome = handle(&aws, push_of(NEWEST, "v1.4.0")).await.unwrap();

        match &outcome.resources[0].result {
            ResourceResult::Ignored { reason } if lower_refused => assert!(
                reason
                    .starts_with("lower version than what runs: 1.4.0 (sha256:999999999999) is below 1.4.2, sha256:4f1c6e2d9b8a (running)"),
                "{reason}"
            ),
            ResourceResult::Deployed { .. } if !lower_refused => {}
            other => panic!("{track}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_push_whose_image_is_gone_from_ecr_is_ignored() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));

    let outcome = handle(&aws, push_of(NEWEST, "v1.4.3")).await.unwrap();

    assert!(ignored(&outcome).starts_with("ECR no longer has sha256:999999999999 in \"shop/web\": deleted since the push"), "{outcome:?}");
    no_writes_since(&aws, &[0; 6]);
    assert_eq!(aws.faults.count("ecr:DescribeImages"), 1, "nothing else looked up");
}

#[tokio::test]
async fn what_ecr_cannot_tell_does_not_block_and_the_notice_says_so() {
    let aws = FakeAws::new();
    // Running a tag ECR no longer has.
    let td = aws.ecs.add_task_definition("web", &[("web", &format!("{REGISTRY}/shop/web:v0"))]);
    web_task_definition(&aws, "other");
    aws.ecs.add_service(tracking("web", &td));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { .. }), "{outcome:?}");
    let published = aws.sns.published();
    let note = "ECR does not know \"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v0\" (deleted, or another registry): push \
                times not compared";
    assert!(published[0].text.contains(&format!("Not compared: {note}")), "{}", published[0].text);
    assert_eq!(published[0].details["not_compared"], json!([note]));
}

#[tokio::test]
async fn one_lookup_per_distinct_image_in_an_event() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &v1));
    aws.ecs.add_service(tracking("web-canary", &v1));
    aws.ecs.add_service(blue_green("web-bg", &v1));
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    aws.codedeploy.add_deployment(active_deployment("d-OLDER", &older));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert!(outcome.resources.iter().all(|r| matches!(r.result, ResourceResult::Deployed { .. })), "{outcome:?}");
    assert_eq!(aws.faults.count("ecr:DescribeImages"), 3, "the pushed digest, v1 and the digest d-OLDER deploys, once each");
    assert!(aws.sns.published().iter().all(|n| n.details.get("not_compared").is_none()));
}

#[tokio::test]
async fn a_failed_ecr_call_fails_the_service_before_anything_moves_and_the_retry_converges() {
    for (nth, fault) in [1, 2].into_iter().flat_map(|nth| Fault::ALL.map(|fault| (nth, fault))) {
        let aws = FakeAws::new();
        aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
        aws.faults.fail_nth("ecr:DescribeImages", nth, fault);

        let err = handle(&aws, push("v1.4.2")).await.unwrap_err().to_string();

        assert!(err.contains("prod/web") && err.contains("ecr:DescribeImages"), "{nth} {fault:?}: {err}");
        no_writes_since(&aws, &[0; 6]);
        aws.faults.clear();
        handle(&aws, push("v1.4.2")).await.unwrap();
        assert_eq!(aws.ecs.service("prod", "web").task_definition, aws.ecs.revisions("web")[1].0.arn, "{nth} {fault:?}");
        assert_eq!(aws.sns.published().len(), 1);
    }
}

#[tokio::test]
async fn images_the_caller_read_for_the_event_are_not_asked_for_again() {
    use crate::ports::Registry;
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    let known = aws.ecr.image_by_digest(ACCOUNT, "shop/web", DIGEST).await.unwrap();
    let push = crate::usecase::image_pushed::plan::ImagePush::from(crate::event::ecr::decode(push("v1.4.2")).unwrap());

    let outcome = super::rollout(&aws).deploy_knowing("build-finished", &push, known).await;

    assert!(matches!(outcome.resources[0].result, ResourceResult::Deployed { .. }), "{outcome:?}");
    assert_eq!(aws.faults.count("ecr:DescribeImages"), 2, "the caller's, then v1 once");
}
