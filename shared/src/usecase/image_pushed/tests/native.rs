//! image-pushed on ECS-native services (BLUE_GREEN, LINEAR, CANARY): the deployment carries
//! `deckhand:shift`, and the newest image wins over an advancing deployment of an older one.

use super::{DIGEST, OLDER, handle, pinned, push, tracking, web_task_definition};
use crate::fakes::{FakeAws, FakeService, Fault, native_deployment};
use crate::outcome::ResourceResult;
use crate::ports::{ImageUpdate, NativeDeployment, Shift, Strategy, TaskDefinitions};
use crate::tags;
use serde_json::json;

/// A tracking service of `prod` running `task_definition`, deployed by ECS with `strategy`.
fn native_service(task_definition: &str, strategy: Strategy) -> FakeService {
    tracking("web", task_definition).strategy(strategy).load_balancer("web", 8080)
}

/// `service` with a deployment of `to` under way (`IN_PROGRESS`).
fn deploying(mut service: FakeService, to: &str) -> FakeService {
    let deployment = native_deployment(&service, 0, &service.task_definition, to);
    service.native.push(deployment);
    service
}

fn deployed(outcome: &crate::outcome::Outcome) -> (Option<&'static str>, Option<String>) {
    match &outcome.resources[0].result {
        ResourceResult::Deployed { controller: "ECS", strategy, superseded, .. } => (*strategy, superseded.clone()),
        other => panic!("{other:?}"),
    }
}

/// The service's native deployments, newest first: (status, target task definition).
fn natives(aws: &FakeAws) -> Vec<(String, Option<String>)> {
    let service = aws.ecs.service("prod", "web");
    service.native.iter().map(|d| (d.status.clone(), d.target_task_definition().map(str::to_owned))).collect()
}

#[tokio::test]
async fn each_native_strategy_deploys_the_new_revision_with_the_services_shift() {
    use Strategy::{BlueGreen, Canary, Linear};
    let canary = Shift { strategy: Some(Canary), percent: Some(10.0), step_bake_minutes: Some(5), bake_minutes: Some(15) };
    let linear = Shift { strategy: Some(Linear), percent: Some(20.0), step_bake_minutes: Some(3), bake_minutes: Some(10) };
    let cases = [
        (BlueGreen, None, None, "BLUE_GREEN"),
        (Linear, Some("linear=20 step-bake=3 bake=10"), Some(linear), "LINEAR"),
        (Canary, Some("canary=10 step-bake=5m bake=15m"), Some(canary), "CANARY"),
        (BlueGreen, Some("canary=10 step-bake=5m bake=15m"), Some(canary), "CANARY"),
    ];
    for (strategy, tag, shift, shown) in cases {
        let aws = FakeAws::new();
        let mut service = native_service(&web_task_definition(&aws, "web"), strategy);
        if let Some(tag) = tag {
            service = service.tag(tags::SHIFT, tag);
        }
        aws.ecs.add_service(service);

        let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

        assert_eq!(deployed(&outcome), (Some(shown), None), "{strategy:?}");
        let new = aws.ecs.revisions("web")[1].0.clone();
        assert_eq!(new.containers[0].image, pinned(DIGEST));
        assert_eq!(natives(&aws), [("IN_PROGRESS".to_owned(), Some(new.arn.clone()))], "{strategy:?}");
        assert_eq!(aws.ecs.service("prod", "web").shifts, [shift], "{strategy:?}");
        let published = aws.sns.published();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].details["strategy"], json!(shown));
        assert!(published[0].text.contains(&format!("ECS {shown}: traffic shifts")), "{}", published[0].text);
        assert_eq!((aws.faults.count("ecs:ListServiceDeployments"), aws.faults.count("ecs:StopServiceDeployment")), (1, 0));
    }
}

#[tokio::test]
async fn a_rolling_service_looks_up_no_service_deployments() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert!(matches!(&outcome.resources[0].result, ResourceResult::Deployed { strategy: None, .. }), "{outcome:?}");
    assert_eq!(aws.faults.count("ecs:ListServiceDeployments"), 0);
    assert!(!json!(outcome).to_string().contains("strategy"), "{}", json!(outcome));
}

#[tokio::test]
async fn misplaced_or_bad_shift_tags_leave_the_service_alone_with_the_reason() {
    let cases = [
        (Strategy::Rolling, "canary=10", "this one is ROLLING"),
        (Strategy::Canary, "canary=10 quickly", "unknown word \\\"quickly\\\""),
        (Strategy::BlueGreen, "step-bake=5", "applies to linear and canary"),
    ];
    for (strategy, tag, reason) in cases {
        let aws = FakeAws::new();
        aws.ecs.add_service(native_service(&web_task_definition(&aws, "web"), strategy).tag(tags::SHIFT, tag));

        let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

        assert!(matches!(&outcome.resources[0].result, ResourceResult::Ignored { .. }), "{tag}: {outcome:?}");
        assert!(json!(outcome).to_string().contains(reason), "{tag}: {}", json!(outcome));
        for call in ["ecs:ListServiceDeployments", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "sns:Publish"] {
            assert_eq!(aws.faults.count(call), 0, "{tag}: {call}");
        }
    }
}

#[tokio::test]
async fn an_advancing_deployment_of_an_older_image_is_stopped_with_rollback_then_superseded() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    aws.ecs.add_service(deploying(native_service(&v1, Strategy::Canary), &older));
    let stopped = aws.ecs.service("prod", "web").native[0].arn.clone();

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert_eq!(deployed(&outcome), (Some("CANARY"), Some(stopped.clone())));
    let new = aws.ecs.revisions("web").last().unwrap().0.clone();
    assert_eq!(new.containers[0].image, pinned(DIGEST));
    assert_eq!(natives(&aws), [("IN_PROGRESS".into(), Some(new.arn.clone())), ("ROLLBACK_REQUESTED".into(), Some(older))]);
    let calls = aws.faults.calls();
    let at = |op| calls.iter().position(|c| *c == op).unwrap_or_else(|| panic!("no {op} in {calls:?}"));
    assert!(at("ecs:StopServiceDeployment") < at("ecs:UpdateService"), "{calls:?}");
    let published = aws.sns.published();
    assert_eq!(published[0].details["superseded"], json!(stopped));
    assert!(published[0].text.contains(&format!("Supersedes:  {stopped}")), "{}", published[0].text);
}

#[tokio::test]
async fn an_advancing_deployment_of_the_pushed_image_is_left_alone() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let pushed = aws.ecs.add_task_definition("web", &[("web", &pinned(DIGEST))]);
    aws.ecs.add_service(deploying(native_service(&v1, Strategy::Linear), &pushed));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    let ResourceResult::Unchanged { reason } = &outcome.resources[0].result else { panic!("{outcome:?}") };
    assert!(reason.contains("already deploying sha256:4f1c6e2d9b8a in service deployment"), "{reason}");
    assert_eq!(natives(&aws), [("IN_PROGRESS".to_owned(), Some(pushed))]);
    for call in ["ecs:StopServiceDeployment", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "sns:Publish"] {
        assert_eq!(aws.faults.count(call), 0, "{call}");
    }
}

#[tokio::test]
async fn the_owed_notice_of_a_deployment_still_advancing_is_sent_once() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let source = aws.ecs.describe(&v1).await.unwrap();
    let update = ImageUpdate { container: "web".into(), from: source.containers[0].image.clone(), to: pinned(DIGEST) };
    // An earlier delivery registered and deployed it; its notice did not go out.
    let pushed = aws.ecs.register_revision(&source, &[update], Some("v1.4.2")).await.unwrap().arn;
    aws.ecs.add_service(deploying(native_service(&v1, Strategy::BlueGreen), &pushed));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();
    handle(&aws, push("v1.4.2")).await.unwrap();

    let ResourceResult::Unchanged { reason } = &outcome.resources[0].result else { panic!("{outcome:?}") };
    assert!(reason.contains("in service deployment") && reason.contains("owed"), "{reason}");
    let published = aws.sns.published();
    assert_eq!(published.len(), 1, "announced once");
    assert_eq!(published[0].details["strategy"], json!("BLUE_GREEN"));
    assert_eq!(aws.faults.count("ecs:UpdateService"), 0);
}

#[tokio::test]
async fn a_deployment_already_rolling_back_is_not_stopped_again() {
    let aws = FakeAws::new();
    let v1 = web_task_definition(&aws, "web");
    let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
    let mut service = deploying(native_service(&v1, Strategy::Canary), &older);
    service.native[0] = NativeDeployment { status: "ROLLBACK_IN_PROGRESS".into(), ..service.native[0].clone() };
    aws.ecs.add_service(service);

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert_eq!(deployed(&outcome), (Some("CANARY"), None));
    assert_eq!(aws.faults.count("ecs:StopServiceDeployment"), 0);
    assert_eq!(natives(&aws)[0].0, "IN_PROGRESS");
}

#[tokio::test]
async fn a_failed_stop_fails_the_service_before_any_update_and_the_retry_converges() {
    for fault in Fault::ALL {
        let aws = FakeAws::new();
        let v1 = web_task_definition(&aws, "web");
        let older = aws.ecs.add_task_definition("web", &[("web", &pinned(OLDER))]);
        aws.ecs.add_service(deploying(native_service(&v1, Strategy::Canary), &older));
        aws.faults.fail_nth("ecs:StopServiceDeployment", 1, fault);

        let err = handle(&aws, push("v1.4.2")).await.unwrap_err().to_string();

        assert!(err.contains("prod/web") && err.contains("ecs:StopServiceDeployment"), "{fault:?}: {err}");
        assert_eq!((aws.faults.count("ecs:UpdateService"), aws.sns.published().len()), (0, 0), "{fault:?}");

        aws.faults.clear();
        handle(&aws, push("v1.4.2")).await.unwrap();
        let new = aws.ecs.revisions("web").last().unwrap().0.arn.clone();
        assert_eq!(natives(&aws), [("IN_PROGRESS".into(), Some(new)), ("ROLLBACK_REQUESTED".into(), Some(older))], "{fault:?}");
        assert_eq!((aws.faults.count("ecs:UpdateService"), aws.sns.published().len()), (1, 1), "{fault:?}");
    }
}
