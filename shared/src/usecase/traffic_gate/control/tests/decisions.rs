//! The pure decisions, table by table.

use super::*;
use crate::event::hook_state;
use crate::ports::{HookAction, LifecycleHook};
use crate::usecase::traffic_gate::control::plan::*;
use crate::usecase::traffic_gate::control::request::{Action, ControlRequest};
use std::collections::BTreeMap;

fn deployment(status: &str, hooks: Vec<LifecycleHook>) -> NativeDeployment {
    let mut d = World::new(&[]).deployment();
    d.status = status.into();
    d.hooks = hooks;
    d
}

fn hook(status: &str) -> LifecycleHook {
    LifecycleHook { status: status.into(), ..pause_hook(HOOK, NOW + 600) }
}

/// Tag pairs, as a case table writes them.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn tags_of(pairs: Pairs<'_>) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn a_pause_hooks_step_follows_what_ecs_shows() {
    let change = hook_state::decode(hook_event()).unwrap();
    let approval = [(tags::APPROVAL, "person")];
    let announced = [(tags::PAUSE_ANNOUNCED, HOOK)];
    let cases: Vec<(&str, Option<NativeDeployment>, Pairs<'_>, &str)> = vec![
        ("unknown deployment", None, &[], "ignore"),
        ("no such hook", Some(deployment("IN_PROGRESS", vec![])), &[], "ignore"),
        ("awaiting", Some(deployment("IN_PROGRESS", vec![hook("AWAITING_ACTION")])), &[], "decide"),
        ("awaiting, a person answers", Some(deployment("IN_PROGRESS", vec![hook("AWAITING_ACTION")])), &approval, "ask_approval"),
        ("approval tag false", Some(deployment("IN_PROGRESS", vec![hook("AWAITING_ACTION")])), &[(tags::APPROVAL, "false")], "decide"),
        ("announced before", Some(deployment("IN_PROGRESS", vec![hook("AWAITING_ACTION")])), &announced, "done"),
        ("continued, notice owed", Some(deployment("IN_PROGRESS", vec![hook("SUCCEEDED")])), &[], "announce"),
        ("answered by a person", Some(deployment("IN_PROGRESS", vec![hook("SUCCEEDED")])), &approval, "ignore"),
        ("timed out", Some(deployment("ROLLBACK_IN_PROGRESS", vec![hook("TIMED_OUT")])), &[], "ignore"),
    ];
    for (name, deployment, pairs, expected) in cases {
        let step = pause_step(&change, deployment.as_ref(), &tags_of(pairs));
        assert_eq!(json!(step)["step"], expected, "{name}: {step:?}");
    }
    let rolled_back = deployment("ROLLBACK_REQUESTED", vec![hook("FAILED")]);
    assert_eq!(pause_step(&change, Some(&rolled_back), &BTreeMap::new()), PauseStep::Announce { rolled_back: true });
    let done = deployment("SUCCESSFUL", vec![hook("SUCCEEDED")]);
    assert_eq!(pause_step(&change, Some(&done), &BTreeMap::new()), PauseStep::Announce { rolled_back: false });
}

#[test]
fn a_deployment_is_stuck_past_its_deadline_or_its_hooks_expiry() {
    let at = |status: &str, started_minutes_ago: u64, finished_minutes_ago: Option<u64>, hooks: Vec<LifecycleHook>| {
        let mut d = deployment(status, hooks);
        d.started_at = Some(NOW - started_minutes_ago * 60);
        d.finished_at = finished_minutes_ago.map(|m| NOW - m * 60);
        d
    };
    let expired = LifecycleHook { expires_at: Some(NOW - 1), ..hook("AWAITING_ACTION") };
    let opt_in = [(tags::STUCK_ROLLBACK, "true")];
    let alerted = [(tags::STUCK_ALERTED, "d1")];
    // (case, deployment, tags) → (check, rollback)
    let cases: Vec<(&str, NativeDeployment, Pairs<'_>, &str, bool)> = vec![
        ("young", at("IN_PROGRESS", 59, None, vec![]), &[], "fine", false),
        ("past the deadline", at("IN_PROGRESS", 61, None, vec![]), &[], "alert", false),
        ("past it, opted in", at("IN_PROGRESS", 61, None, vec![]), &opt_in, "alert", true),
        ("opted in with TRUE", at("IN_PROGRESS", 61, None, vec![]), &[(tags::STUCK_ROLLBACK, "TRUE")], "alert", true),
        ("opted in with yes", at("IN_PROGRESS", 61, None, vec![]), &[(tags::STUCK_ROLLBACK, "yes")], "alert", false),
        ("rolling back, opted in", at("ROLLBACK_IN_PROGRESS", 61, None, vec![]), &opt_in, "alert", false),
        ("alerted before", at("IN_PROGRESS", 90, None, vec![]), &alerted, "alerted", false),
        ("hook past its expiry", at("IN_PROGRESS", 5, None, vec![expired.clone()]), &[], "alert", false),
        ("hook not yet expired", at("IN_PROGRESS", 5, None, vec![hook("AWAITING_ACTION")]), &[], "fine", false),
        // Waiting on purpose: a person's pause before its expiry, and bake time, however long.
        ("paused 3 h, not yet expired", at("IN_PROGRESS", 180, None, vec![hook("AWAITING_ACTION")]), &opt_in, "fine", false),
        ("paused 3 h, expired", at("IN_PROGRESS", 180, None, vec![expired.clone()]), &opt_in, "alert", true),
        (
            "baking for 3 h",
            NativeDeployment { stage: Some("BAKE_TIME".into()), ..at("IN_PROGRESS", 180, None, vec![]) },
            &opt_in,
            "fine",
            false,
        ),
        ("succeeded late", at("SUCCESSFUL", 90, Some(10), vec![]), &opt_in, "fine", false),
        ("stopped late, opted in: owed", at("ROLLBACK_SUCCESSFUL", 90, Some(10), vec![]), &opt_in, "alert", false),
        ("stopped late, not opted in", at("ROLLBACK_SUCCESSFUL", 90, Some(10), vec![]), &[], "fine", false),
        ("stopped late, long ago", at("ROLLBACK_SUCCESSFUL", 200, Some(61), vec![]), &opt_in, "fine", false),
        ("stopped in time", at("STOPPED", 50, Some(1), vec![]), &opt_in, "fine", false),
        ("tag deadline 2h", at("IN_PROGRESS", 61, None, vec![]), &[(tags::PROGRESS_DEADLINE, "2h")], "fine", false),
    ];
    for (name, d, pairs, expected, rollback) in cases {
        let service_tags = tags_of(pairs);
        let (deadline, _) = progress_deadline(&service_tags, 60);
        let check = stuck_check(std::slice::from_ref(&d), &service_tags, NOW, deadline);
        assert_eq!(json!(check)["check"], expected, "{name}: {check:?}");
        if let StuckCheck::Alert { rollback: r, .. } = check {
            assert_eq!(r, rollback, "{name}");
        }
    }
    let (deadline, note) = progress_deadline(&tags_of(&[(tags::PROGRESS_DEADLINE, "soon")]), 60);
    assert!(deadline == 60 && note.is_some_and(|n| n.contains("\"soon\"") && n.contains("60 minutes apply")));
}

fn request(action: Action, hook_id: Option<&str>) -> ControlRequest {
    ControlRequest {
        action,
        cluster: "prod".into(),
        service: "web".into(),
        hook_id: hook_id.map(str::to_owned),
        reason: None,
        dry_run: false,
    }
}

/// `to` deploys `target` in place of `source`, with `status`.
fn moving(status: &str, id: usize, source: &str, target: &str) -> NativeDeployment {
    let mut d = deployment(status, vec![]);
    d.arn = format!("{}/d{id}", d.arn.rsplit_once('/').unwrap().0);
    d.sources[0].task_definition = Some(source.into());
    d.target.as_mut().unwrap().task_definition = Some(target.into());
    d
}

#[test]
fn a_rollback_stops_answers_or_redeploys() {
    let plan = |deployments: Vec<NativeDeployment>| operator_plan(&request(Action::Rollback, None), &deployments, &BTreeMap::new(), "x");
    let paused = {
        let mut d = moving("IN_PROGRESS", 3, "web:2", "web:3");
        d.hooks.push(hook("AWAITING_ACTION"));
        d
    };
    let cases: Vec<(&str, Vec<NativeDeployment>, Result<&str, &str>)> = vec![
        ("in flight", vec![moving("IN_PROGRESS", 3, "web:2", "web:3")], Ok("stop_with_rollback")),
        ("paused", vec![paused], Ok("answer_hook")),
        ("rolling back", vec![moving("ROLLBACK_IN_PROGRESS", 3, "web:2", "web:3")], Ok("nothing")),
        ("done: redeploy the one before", vec![moving("SUCCESSFUL", 3, "web:2", "web:3")], Ok("redeploy")),
        (
            "a redeploy already under way",
            vec![moving("IN_PROGRESS", 4, "web:3", "web:2"), moving("SUCCESSFUL", 3, "web:2", "web:3")],
            Ok("nothing"),
        ),
        (
            "a redeploy done: not back again",
            vec![moving("SUCCESSFUL", 4, "web:3", "web:2"), moving("SUCCESSFUL", 3, "web:2", "web:3")],
            Ok("nothing"),
        ),
        ("nothing successful", vec![moving("ROLLBACK_SUCCESSFUL", 3, "web:2", "web:3")], Err("nothing to roll back")),
        ("no deployments", vec![], Err("nothing to roll back")),
    ];
    for (name, deployments, expected) in cases {
        match (plan(deployments), expected) {
            (Ok(plan), Ok(kind)) => assert_eq!(json!(plan)["do"], kind, "{name}: {plan:?}"),
            (Err(reason), Err(says)) => assert!(reason.contains(says), "{name}: {reason}"),
            (got, _) => panic!("{name}: {got:?}"),
        }
    }
    let redeploy = plan(vec![moving("SUCCESSFUL", 3, "web:2", "web:3")]).unwrap();
    assert_eq!(redeploy, OperatorPlan::Redeploy { task_definition: "web:2".into(), replacing: Some("web:3".into()) });
}

#[test]
fn a_continue_needs_exactly_the_hook_awaiting() {
    let with_hooks = |ids: &[&str]| {
        let mut d = moving("IN_PROGRESS", 3, "web:2", "web:3");
        d.hooks = ids.iter().map(|id| pause_hook(id, NOW + 60)).collect();
        vec![d]
    };
    let plan = |deployments: &[NativeDeployment], hook_id: Option<&str>| {
        operator_plan(&request(Action::Continue, hook_id), deployments, &BTreeMap::new(), "x")
    };
    let answer = |id: &str| {
        Ok(OperatorPlan::AnswerHook { deployment: with_hooks(&[])[0].arn.clone(), hook_id: id.into(), action: HookAction::Continue })
    };
    assert_eq!(plan(&with_hooks(&["h1"]), None), answer("h1"));
    assert_eq!(plan(&with_hooks(&["h1", "h2"]), Some("h2")), answer("h2"));
    let err = plan(&with_hooks(&["h1", "h2"]), None).unwrap_err();
    assert!(err.contains("2 hooks await action (\"h1\", \"h2\"): name one with hookId"), "{err}");
    assert!(plan(&with_hooks(&[]), None).unwrap_err().contains("no hook awaits action"));
    let err = plan(&with_hooks(&["h1"]), Some("h9")).unwrap_err();
    assert!(err.contains("no deployment in flight has hook \"h9\"; awaiting action: \"h1\""), "{err}");
    let mut answered = with_hooks(&["h1"]);
    answered[0].hooks[0].status = "SUCCEEDED".into();
    let nothing = plan(&answered, Some("h1")).unwrap();
    assert!(matches!(&nothing, OperatorPlan::Nothing { reason } if reason.contains("already answered")), "{nothing:?}");
}

#[test]
fn freezes_are_set_once_and_lifted_saying_whose() {
    let plan = |action: Action, pairs: &[(&str, &str)]| operator_plan(&request(action, None), &[], &tags_of(pairs), "frozen at T");
    assert_eq!(plan(Action::Freeze, &[]), Ok(OperatorPlan::Freeze { value: "frozen at T".into() }));
    assert_eq!(plan(Action::Freeze, &[(tags::FREEZE, "false")]), Ok(OperatorPlan::Freeze { value: "frozen at T".into() }));
    assert!(matches!(plan(Action::Freeze, &[(tags::FREEZE, "incident 7")]), Ok(OperatorPlan::Nothing { .. })));
    assert!(matches!(plan(Action::Unfreeze, &[]), Ok(OperatorPlan::Nothing { .. })));
    let failover = plan(Action::Unfreeze, &[(tags::FREEZE, "failover to us-west-2 at 2026-03-05T15:00:00Z")]).unwrap();
    assert!(matches!(failover, OperatorPlan::Unfreeze { failover: true, .. }), "{failover:?}");
    let person = plan(Action::Unfreeze, &[(tags::FREEZE, "incident 7")]).unwrap();
    assert_eq!(person, OperatorPlan::Unfreeze { value: "incident 7".into(), failover: false });
    assert_eq!(plan(Action::Status, &[]), Ok(OperatorPlan::Status));
}
