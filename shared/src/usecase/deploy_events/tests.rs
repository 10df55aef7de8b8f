//! deploy-events: notifications from ECS and CodeDeploy state changes.

use super::*;
use crate::event::deployment::{CodeDeployChange, EcsDeploymentChange};
use crate::notify::Severity;
use crate::ports::{DeploymentDetails, EcsDeployment};

fn ecs_change(name: &str, reason: Option<&str>) -> EcsDeploymentChange {
    EcsDeploymentChange {
        event_id: Some("e1".into()),
        name: name.into(),
        deployment_id: "ecs-svc/2".into(),
        reason: reason.map(str::to_owned),
        service_arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
    }
}

fn deployments() -> Vec<EcsDeployment> {
    let td = |n| format!("arn:aws:ecs:us-east-1:123456789012:task-definition/web:{n}");
    vec![
        EcsDeployment { id: "ecs-svc/2".into(), status: "PRIMARY".into(), task_definition: td(8) },
        EcsDeployment { id: "ecs-svc/1".into(), status: "ACTIVE".into(), task_definition: td(7) },
    ]
}

#[test]
fn ecs_failure_with_rollback_is_critical_and_says_why() {
    let n = ecs_notification(
        &ecs_change("SERVICE_DEPLOYMENT_FAILED", Some("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.")),
        &deployments(),
    );
    assert_eq!((n.event, n.severity), ("deployment.rolled_back", Severity::Critical));
    assert_eq!(n.sns_subject(), "Deployment FAILED, rolling back: prod/web (web:8)");
    assert!(n.text.contains("Previous:   web:7") && n.text.contains("circuit breaker"), "{}", n.text);
}

#[test]
fn ecs_progress_without_the_deployment_listed_still_reads_well() {
    let n = ecs_notification(&ecs_change("SERVICE_DEPLOYMENT_COMPLETED", None), &[]);
    assert_eq!((n.event, n.severity, n.sns_subject().as_str()), ("deployment.succeeded", Severity::Info, "Deployed: prod/web"));
    assert!(n.text.contains("Revision:   unknown"));
}

#[test]
fn codedeploy_failure_names_the_error_and_the_service() {
    let change = CodeDeployChange {
        event_id: None,
        state: "FAILURE".into(),
        deployment_id: "d-1".into(),
        application: "shop".into(),
        deployment_group: "web-bg".into(),
    };
    let details = DeploymentDetails {
        task_definition: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:9".into()),
        error: Some("ALARM_ACTIVE: alarm web-5xx is in ALARM".into()),
        rollback: Some("rolled back by d-2".into()),
        ..DeploymentDetails::default()
    };
    let n = codedeploy_notification(&change, &details, &[("prod".into(), "web".into())]);
    assert_eq!((n.event, n.severity), ("deployment.failed", Severity::Critical));
    assert_eq!(n.sns_subject(), "Blue/green deployment FAILED: prod/web (web:9)");
    assert!(n.text.contains("ALARM_ACTIVE") && n.text.contains("rolled back by d-2"), "{}", n.text);
    let unknown = codedeploy_notification(&change, &DeploymentDetails::default(), &[]);
    assert_eq!(unknown.sns_subject(), "Blue/green deployment FAILED: shop/web-bg");
}
