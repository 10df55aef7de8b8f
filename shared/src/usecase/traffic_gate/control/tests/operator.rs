//! Operator requests against the fakes: what each changes and announces, dry runs that change
//! and send nothing, and repeated requests that find the work done.

use super::*;
use crate::outcome::ResourceResult;

fn ask(action: &str, extra: Value) -> Value {
    let mut request = json!({"action": action, "cluster": "prod", "service": "web"});
    request.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    request
}

#[tokio::test]
async fn status_reports_the_deployment_and_changes_nothing() {
    let world = World::new(&[(tags::FREEZE, "incident 7")]);
    let outcome = world.handle(ask("status", json!({}))).await.unwrap();
    let service = &outcome.details.as_ref().unwrap()["service"];
    assert_eq!((service["strategy"].as_str(), service["freeze"].as_str()), (Some("LINEAR"), Some("incident 7")));
    let deployment = &service["deployments"][0];
    assert_eq!((deployment["id"].as_str(), deployment["stage"].as_str()), (Some("d1"), Some("POST_TEST_TRAFFIC_SHIFT")));
    assert_eq!(deployment["awaiting_action"][0]["hook_id"], HOOK);
    assert_eq!(deployment["awaiting_action"][0]["expires_at"], "2026-03-05T16:04:41Z");
    assert_eq!(deployment["traffic"]["sources"][0]["production"], 100.0);
    assert!(deployment["images"]["to"].as_str().unwrap().ends_with("task-definition/web:2"), "{deployment}");
    assert!(world.published().is_empty());
}

#[tokio::test]
async fn continue_answers_the_one_hook_awaiting_and_a_repeat_does_nothing() {
    let world = World::new(&[]);
    let dry = world.handle(ask("continue", json!({"dryRun": true}))).await.unwrap();
    assert_eq!(dry.details.as_ref().unwrap()["plan"]["do"], "answer_hook");
    assert_eq!((world.deployment().hooks[0].status.as_str(), world.published().len()), ("AWAITING_ACTION", 0), "a dry run");

    let outcome = world.handle(ask("continue", json!({}))).await.unwrap();
    assert_eq!(world.deployment().hooks[0].status, "SUCCEEDED");
    assert_eq!(world.published()[0].0, "native.continued");
    assert!(outcome.notification.is_some() && outcome.details.as_ref().unwrap()["done"].as_str().unwrap().contains("CONTINUE"));

    let again = world.handle(ask("continue", json!({"hookId": HOOK}))).await.unwrap();
    assert!(matches!(&again.resources[0].result, ResourceResult::Unchanged { reason } if reason.contains("already answered")));
    let err = world.handle(ask("continue", json!({}))).await.unwrap_err().to_string();
    assert!(err.contains("no hook awaits action") && err.contains("nothing was done"), "{err}");
    assert_eq!(world.published().len(), 1);
}

#[tokio::test]
async fn rollback_answers_a_paused_deployment_stops_a_moving_one_and_redeploys_a_finished_one() {
    let world = World::new(&[]);
    world.handle(ask("rollback", json!({}))).await.unwrap();
    assert_eq!(world.deployment().status, "ROLLBACK_REQUESTED", "answered ROLLBACK at its pause");
    assert_eq!(world.aws.faults.count("ecs:ContinueServiceDeployment"), 1);
    let again = world.handle(ask("rollback", json!({}))).await.unwrap();
    assert!(matches!(&again.resources[0].result, ResourceResult::Unchanged { reason } if reason.contains("already ROLLBACK_REQUESTED")));

    let moving = World::new(&[]);
    moving.aws.ecs.update_service("prod", "web", |s| s.native[0].hooks.clear());
    moving.handle(ask("rollback", json!({}))).await.unwrap();
    assert_eq!(moving.aws.faults.count("ecs:StopServiceDeployment"), 1);
    assert_eq!(moving.published()[0].0, "native.rolled_back");

    let finished = World::new(&[]);
    finished.aws.ecs.update_service("prod", "web", |s| {
        s.native[0].hooks.clear();
        s.native[0].status = "SUCCESSFUL".into();
    });
    let outcome = finished.handle(ask("rollback", json!({}))).await.unwrap();
    let service = finished.aws.ecs.service("prod", "web");
    assert!(service.task_definition.ends_with("task-definition/web:1"), "back to the revision before: {outcome:?}");
    assert_eq!(service.native.len(), 2, "one new deployment");
    finished.handle(ask("rollback", json!({}))).await.unwrap();
    assert_eq!(finished.aws.ecs.service("prod", "web").native.len(), 2, "a repeat does not roll the rollback back");
}

#[tokio::test]
async fn freeze_and_unfreeze_say_whose_freeze_they_lift() {
    let world = World::new(&[]);
    let dry = world.handle(ask("freeze", json!({"reason": "incident 7", "dryRun": true}))).await.unwrap();
    assert_eq!(dry.details.as_ref().unwrap()["plan"], json!({"do": "freeze", "value": "incident 7"}));
    assert_eq!(world.tag(tags::FREEZE), None);
    world.handle(ask("freeze", json!({}))).await.unwrap();
    assert_eq!(world.tag(tags::FREEZE).as_deref(), Some("frozen by an operator at 2026-03-05T15:54:41Z"));
    world.handle(ask("freeze", json!({"reason": "again"}))).await.unwrap();
    assert_eq!(world.published().len(), 1, "already frozen: nothing changed or sent");

    let failover = World::new(&[(tags::FREEZE, "failover to us-west-2 at 2026-03-05T15:00:00Z")]);
    let outcome = failover.handle(ask("unfreeze", json!({}))).await.unwrap();
    assert_eq!(failover.tag(tags::FREEZE), None);
    assert!(outcome.details.as_ref().unwrap()["done"].as_str().unwrap().contains("region failover's freeze"), "{outcome:?}");
    assert!(failover.aws.sns.published()[0].text.contains("lifting region failover's freeze"));
}

#[tokio::test]
async fn a_change_whose_notice_fails_fails_saying_what_was_done() {
    let world = World::new(&[]);
    world.aws.faults.fail_always("sns:Publish", crate::fakes::Fault::Error);
    let err = world.handle(ask("freeze", json!({}))).await.unwrap_err().to_string();
    assert!(err.contains("prod/web: froze deployments") && err.contains("its notice failed"), "{err}");
    assert!(world.tag(tags::FREEZE).is_some(), "the freeze itself was done");
    world.aws.faults.clear();
    let again = world.handle(ask("freeze", json!({}))).await.unwrap();
    assert!(matches!(&again.resources[0].result, ResourceResult::Unchanged { reason } if reason.contains("already frozen")));
}

#[tokio::test]
async fn a_cluster_outside_clusters_or_a_missing_service_is_refused() {
    let world = World::new(&[]);
    let err = world.handle(json!({"action": "status", "cluster": "staging", "service": "web"})).await.unwrap_err().to_string();
    assert!(err.contains("not in CLUSTERS"), "{err}");
    let err = world.handle(json!({"action": "freeze", "cluster": "prod", "service": "api"})).await.unwrap_err().to_string();
    assert!(err.contains("does not exist") && err.contains("nothing was done"), "{err}");
}
