//! Operator requests are read strictly, and told apart from hooks and AWS events.

use super::*;
use crate::usecase::traffic_gate::control::request::{Action, ControlRequest, decode, is_operator_request};
use crate::usecase::traffic_gate::control::{Input, input};

#[test]
fn decodes_the_documented_requests() {
    let request = decode(json!({"action": "continue", "cluster": "prod", "service": "web", "hookId": HOOK, "dryRun": true})).unwrap();
    assert_eq!(
        request,
        ControlRequest {
            action: Action::Continue,
            cluster: "prod".into(),
            service: "web".into(),
            hook_id: Some(HOOK.into()),
            reason: None,
            dry_run: true
        }
    );
    let freeze = decode(json!({"action": "freeze", "cluster": "prod", "service": "web", "reason": "incident 42: db failover"})).unwrap();
    assert_eq!((freeze.action, freeze.reason.as_deref(), freeze.dry_run), (Action::Freeze, Some("incident 42: db failover"), false));
    for action in ["status", "rollback", "unfreeze"] {
        assert_eq!(decode(json!({"action": action, "cluster": "prod", "service": "web"})).unwrap().action.as_str(), action);
    }
}

#[test]
fn wrong_or_unknown_fields_are_named_and_nothing_is_done() {
    let base = || json!({"action": "rollback", "cluster": "prod", "service": "web"});
    let with = |key: &str, value: Value| {
        let mut request = base();
        request[key] = value;
        request
    };
    let cases = [
        (with("dryrun", json!(true)), "field `dryrun`: expected only `action`, `cluster`, `service`, `hookId`, `reason` and `dryRun`"),
        (with("dryRun", json!("true")), "field `dryRun`"),
        (with("hookId", json!(HOOK)), "field `hookId`: expected no hookId with action rollback"),
        (with("reason", json!("x")), "field `reason`: expected no reason with action rollback"),
        (with("action", json!("Rollback")), "field `action`: expected status, rollback, continue, freeze or unfreeze"),
        (with("cluster", json!("arn:aws:ecs:us-east-1:123456789012:cluster/prod")), "field `cluster`: expected an ECS name"),
        (with("service", json!("")), "field `service`"),
        (with("service", json!("s".repeat(256))), "field `service`: expected at most 255"),
        (json!({"action": "status", "cluster": "prod"}), "field `service`"),
        (json!({"dryRun": true}), "field `action`"),
        (json!({"action": "freeze", "cluster": "prod", "service": "web", "reason": "a;b"}), "field `reason`: expected letters"),
        (json!({"action": "freeze", "cluster": "prod", "service": "web", "reason": "false"}), "field `reason`: expected a reason"),
        (json!({"action": "freeze", "cluster": "prod", "service": "web", "reason": "r".repeat(257)}), "field `reason`: expected at most"),
        (json!({"action": "continue", "cluster": "prod", "service": "web", "hookId": " "}), "field `hookId`"),
    ];
    for (request, says) in cases {
        let err = decode(request.clone()).unwrap_err().to_string();
        assert!(err.contains(says), "{request}: {err}");
        assert!(err.len() < 600, "{} bytes", err.len());
    }
}

#[tokio::test]
async fn a_misspelt_dry_run_changes_nothing() {
    let world = World::new(&[]);
    let err = world.handle(json!({"action": "rollback", "cluster": "prod", "service": "web", "dryrun": true})).await.unwrap_err();
    assert!(err.to_string().contains("`dryrun`") && err.to_string().contains("nothing was done"), "{err}");
    assert!(world.aws.faults.calls().is_empty(), "nothing read, nothing changed: {:?}", world.aws.faults.calls());
}

#[test]
fn inputs_are_told_apart() {
    let cases = [
        (sample_event("scheduled-recheck.json"), Some(Input::Schedule)),
        (json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}), Some(Input::Schedule)),
        (hook_event(), Some(Input::HookState)),
        (json!({"action": "status", "cluster": "prod", "service": "web"}), Some(Input::Operator)),
        (json!({"dryRun": true}), Some(Input::Operator)),
        (sample_event("ecs-hook-test-traffic.json"), None),
        (sample_event("codedeploy-hook.json"), None),
        (sample_event("ecs-deployment-failed.json"), None),
        (json!({"action": "x", "source": "aws.ecs"}), None),
        (json!({"executionId": "x", "action": "status"}), None),
        (json!("status"), None),
    ];
    for (event, expected) in cases {
        assert_eq!(input(&event), expected, "{event}");
    }
    assert!(!is_operator_request(&json!({})));
}
