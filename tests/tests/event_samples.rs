//! The samples of `events/` (AWS's documented shapes, see the README's sample table) decode with
//! the decoder of the function they are meant for, into what the sample says.

use deckhand::event::deployment::DeploymentEvent;
use deckhand::event::ecr_scan::{ScanEvent, Scanner};
use deckhand::event::hook::HookInvocation;
use deckhand::event::{alarm, codebuild, deployment, ecr, ecr_scan, hook, service_action};
use deckhand_integration_tests::sample_event;

#[test]
fn ecr_samples_decode() {
    let cases = [
        ("ecr-push-tagged.json", "PUSH", "SUCCESS", Some("v1.4.2")),
        ("ecr-push-untagged.json", "PUSH", "SUCCESS", None),
        ("ecr-delete.json", "DELETE", "SUCCESS", Some("v1.4.2")),
    ];
    for (name, action, result, tag) in cases {
        let push = ecr::decode(sample_event(name)).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!((push.action.as_str(), push.result.as_str(), push.tag.as_deref()), (action, result, tag), "{name}");
        assert_eq!((push.repository.as_str(), push.account.as_str()), ("shop/web", "123456789012"), "{name}");
    }
}

/// Scan results (the ECR User Guide's "Amazon ECR events and EventBridge" and "EventBridge events
/// sent for enhanced scanning"): the image, and its counts without Inspector's TOTAL.
#[test]
fn scan_samples_decode() {
    let cases = [
        ("ecr-image-scan.json", Scanner::Basic, "COMPLETE", &["v1.4.2"][..], &[("CRITICAL", 1), ("MEDIUM", 9)][..]),
        (
            "inspector2-scan.json",
            Scanner::Enhanced,
            "INITIAL_SCAN_COMPLETE",
            &["v1.4.2", "latest"][..],
            &[("CRITICAL", 0), ("HIGH", 2), ("MEDIUM", 5)][..],
        ),
    ];
    for (name, scanner, status, tags, counts) in cases {
        let Ok(ScanEvent::Image(scan)) = ecr_scan::decode(sample_event(name)) else { panic!("{name}: not an image scan") };
        assert_eq!((scan.scanner, scan.status.as_str()), (scanner, status), "{name}");
        assert_eq!(scan.tags, tags, "{name}");
        assert_eq!(
            (scan.account.as_str(), scan.region.as_str(), scan.repository.as_str()),
            ("123456789012", "us-east-1", "shop/web"),
            "{name}"
        );
        assert!(scan.digest.starts_with("sha256:4f1c6e2d9b8a"), "{name}");
        let counted: Vec<(&str, u64)> = scan.severity_counts.iter().map(|(severity, count)| (severity.as_str(), *count)).collect();
        let mut wanted = counts.to_vec();
        wanted.sort();
        assert_eq!(counted, wanted, "{name}");
    }
}

#[test]
fn codebuild_samples_decode() {
    let cases = [
        ("codebuild-succeeded.json", "SUCCEEDED", Some("COMPLETED")),
        ("codebuild-failed.json", "FAILED", Some("COMPLETED")),
        ("codebuild-stopped.json", "STOPPED", Some("COMPLETED")),
        ("codebuild-timed-out.json", "TIMED_OUT", Some("COMPLETED")),
        ("codebuild-in-progress.json", "IN_PROGRESS", Some("SUBMITTED")),
    ];
    for (name, status, phase) in cases {
        let build = codebuild::decode(sample_event(name)).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!((build.status.as_str(), build.current_phase.as_deref()), (status, phase), "{name}");
        assert_eq!((build.project.as_str(), build.build_number), ("shop-web", Some(55)), "{name}");
    }
    // A failed build runs POST_BUILD and the rest after the failed phase; the first phase that
    // did not succeed is the one to report.
    let failed = codebuild::decode(sample_event("codebuild-failed.json")).unwrap();
    let first_failed = failed.phases.iter().find(|p| p.status.as_deref().is_some_and(|s| s != "SUCCEEDED")).unwrap();
    assert_eq!(first_failed.kind, "BUILD");
    assert!(failed.phases.iter().any(|p| p.kind == "POST_BUILD"));
}

#[test]
fn deployment_samples_decode() {
    let ecs = [
        ("ecs-deployment-in-progress.json", "SERVICE_DEPLOYMENT_IN_PROGRESS"),
        ("ecs-deployment-completed.json", "SERVICE_DEPLOYMENT_COMPLETED"),
        ("ecs-deployment-failed.json", "SERVICE_DEPLOYMENT_FAILED"),
        ("ecs-deployment-rollback.json", "SERVICE_DEPLOYMENT_IN_PROGRESS"),
    ];
    for (name, event_name) in ecs {
        let Ok(DeploymentEvent::Ecs(change)) = deployment::decode(sample_event(name)) else {
            panic!("{name}: not an ECS deployment change")
        };
        assert_eq!((change.name.as_str(), change.cluster_and_service()), (event_name, ("prod", "web")), "{name}");
    }
    let rollback = deployment::decode(sample_event("ecs-deployment-rollback.json")).unwrap();
    let DeploymentEvent::Ecs(rollback) = rollback else { unreachable!() };
    assert!(rollback.reason.unwrap().contains("rolling back to deploymentId"));

    // ECS-native deployments: a pause awaiting action (AWS's example), tasks failing to start.
    let Ok(DeploymentEvent::Hook(hook)) = deployment::decode(sample_event("ecs-hook-awaiting-action.json")) else {
        panic!("ecs-hook-awaiting-action.json: not a hook state change")
    };
    assert_eq!(
        (hook.name.as_str(), hook.hook_type.as_str(), hook.stage.as_str(), hook.cluster_and_service()),
        ("HOOK_AWAITING_ACTION", "PAUSE", "POST_TEST_TRAFFIC_SHIFT", ("my-cluster", "my-service"))
    );
    let Ok(DeploymentEvent::ServiceAction(action)) = deployment::decode(sample_event("ecs-service-task-start-impaired.json")) else {
        panic!("ecs-service-task-start-impaired.json: not a service action")
    };
    assert_eq!((action.name.as_str(), action.cluster_and_service()), (service_action::TASK_START_IMPAIRED, ("prod", "web")));

    let codedeploy = [
        ("codedeploy-start.json", "START"),
        ("codedeploy-success.json", "SUCCESS"),
        ("codedeploy-ready.json", "READY"),
        ("codedeploy-failure.json", "FAILURE"),
        ("codedeploy-stop.json", "STOP"),
    ];
    for (name, state) in codedeploy {
        let Ok(DeploymentEvent::CodeDeploy(change)) = deployment::decode(sample_event(name)) else {
            panic!("{name}: not a CodeDeploy change")
        };
        assert_eq!(
            (change.state.as_str(), change.application.as_str(), change.deployment_group.as_str()),
            (state, "shop", "web-bg"),
            "{name}"
        );
    }
}

#[test]
fn alarm_samples_decode() {
    let cases = [
        ("cloudwatch-alarm-scale-out.json", "deckhand-scale-prod-web-cpu-high", "ALARM", "OK"),
        ("cloudwatch-alarm-scale-in.json", "deckhand-scale-prod-web-cpu-low", "ALARM", "OK"),
        ("cloudwatch-alarm-ok.json", "deckhand-scale-prod-web-cpu-high", "OK", "ALARM"),
        ("failover-primary-alarm.json", "deckhand-health-us-east-1", "ALARM", "OK"),
        ("failover-primary-recovered.json", "deckhand-health-us-east-1", "OK", "ALARM"),
    ];
    for (name, alarm_name, state, previous) in cases {
        let change = alarm::decode(sample_event(name)).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            (change.alarm_name.as_str(), change.state.as_str(), change.previous_state.as_deref()),
            (alarm_name, state, Some(previous)),
            "{name}"
        );
    }
}

#[test]
fn hook_samples_decode() {
    let Ok(HookInvocation::CodeDeploy { deployment_id, .. }) = hook::decode(sample_event("codedeploy-hook.json")) else {
        panic!("codedeploy-hook.json: not a CodeDeploy hook")
    };
    assert_eq!(deployment_id, "d-7HXW2M1KB");

    let stages = [
        ("ecs-hook-reconcile-service.json", "RECONCILE_SERVICE"),
        ("ecs-hook-pre-scale-up.json", "PRE_SCALE_UP"),
        ("ecs-hook-post-scale-up.json", "POST_SCALE_UP"),
        ("ecs-hook-test-traffic-shift.json", "TEST_TRAFFIC_SHIFT"),
        ("ecs-hook-test-traffic.json", "POST_TEST_TRAFFIC_SHIFT"),
        ("ecs-hook-production-traffic-shift.json", "PRODUCTION_TRAFFIC_SHIFT"),
        ("ecs-hook-post-production-traffic-shift.json", "POST_PRODUCTION_TRAFFIC_SHIFT"),
    ];
    for (name, stage) in stages {
        let Ok(HookInvocation::Ecs(hook)) = hook::decode(sample_event(name)) else { panic!("{name}: not an ECS lifecycle hook") };
        assert_eq!(
            (hook.stage.as_str(), hook.service_arn.as_str()),
            (stage, "arn:aws:ecs:us-east-1:123456789012:service/prod/web"),
            "{name}"
        );
        assert!(hook.target_revision.as_deref().is_some_and(|arn| arn.contains(":service-revision/prod/web/")), "{name}");
        assert_eq!(hook.hook_details, None, "{name}: a first invocation carries no hookDetails");
    }
}
