//! A second push while a CodeDeploy deployment of an older image is active: the newest image
//! wins. ECS (revisions) is moto server; CodeDeploy is `aws-smithy-mocks` for every call here,
//! because moto implements neither StopDeployment nor a group that stays busy while it stops.

use aws_sdk_codedeploy::operation::create_deployment::{CreateDeploymentError, CreateDeploymentOutput};
use aws_sdk_codedeploy::operation::get_deployment::GetDeploymentOutput;
use aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsOutput;
use aws_sdk_codedeploy::operation::stop_deployment::StopDeploymentOutput;
use aws_sdk_codedeploy::types::error::DeploymentLimitExceededException;
use aws_sdk_codedeploy::types::{AppSpecContent, DeploymentInfo, RevisionLocation, StopStatus};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use deckhand::adapters::aws::codedeploy::SdkCodeDeploy;
use deckhand::adapters::aws::ecr::SdkEcr;
use deckhand::adapters::aws::ecs::SdkEcs;
use deckhand::adapters::aws::sns::SdkSns;
use deckhand::event::ecr;
use deckhand::outcome::ResourceResult;
use deckhand::usecase::image_pushed::plan::ImagePush;
use deckhand::usecase::image_pushed::rollout::Rollout;
use deckhand::wiring;
use deckhand_integration_tests::{DIGEST, Local, REGISTRY, push_event};
use std::time::Duration;

const CANARY: &str = "CodeDeployDefault.ECSCanary10Percent5Minutes";

/// A CODE_DEPLOY service whose group is busy deploying its current (older) revision; ECR holds
/// the pushed image.
async fn busy_group() -> (Local, String) {
    let local = Local::start().await;
    local.aws.push_image_as("shop/web", "release-42", DIGEST).await;
    local.aws.create_cluster("prod").await;
    let older = local.aws.register_web_task_definition("web", "release-41").await;
    let tags = [
        ("deckhand:track", "release-*"),
        ("deckhand:codedeploy-app", "shop"),
        ("deckhand:codedeploy-group", "web-bg"),
        ("deckhand:traffic", CANARY),
    ];
    local.aws.create_service("prod", "web", &older, &tags, true).await;
    (local, older)
}

fn active_deployment_rules(older: &str) -> (Rule, Rule, Rule) {
    let list = mock!(aws_sdk_codedeploy::Client::list_deployments)
        .match_requests(|req| req.application_name() == Some("shop") && req.deployment_group_name() == Some("web-bg"))
        .then_output(|| ListDeploymentsOutput::builder().deployments("d-OLDER").build());
    let appspec = format!(
        r#"{{"version":0.0,"Resources":[{{"TargetService":{{"Type":"AWS::ECS::Service","Properties":{{"TaskDefinition":"{older}"}}}}}}]}}"#
    );
    let get = mock!(aws_sdk_codedeploy::Client::get_deployment).match_requests(|req| req.deployment_id() == Some("d-OLDER")).then_output(
        move || {
            let revision = RevisionLocation::builder().app_spec_content(AppSpecContent::builder().content(appspec.clone()).build()).build();
            GetDeploymentOutput::builder()
                .deployment_info(DeploymentInfo::builder().deployment_id("d-OLDER").revision(revision).build())
                .build()
        },
    );
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .match_requests(|req| req.deployment_id() == Some("d-OLDER") && req.auto_rollback_enabled() == Some(true))
        .then_output(|| StopDeploymentOutput::builder().status(StopStatus::Pending).build());
    (list, get, stop)
}

fn busy() -> CreateDeploymentError {
    CreateDeploymentError::DeploymentLimitExceededException(
        DeploymentLimitExceededException::builder().message("one active deployment per group").build(),
    )
}

fn rollout(local: &Local, rules: &[&Rule]) -> Rollout<SdkEcs, SdkCodeDeploy, SdkSns, SdkEcr> {
    let codedeploy = SdkCodeDeploy::new(mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, rules));
    let ecs = wiring::ecs(&local.sdk);
    let sns = SdkSns::new(aws_sdk_sns::Client::new(&local.sdk), local.topic.clone());
    Rollout::new(vec!["prod".into()], ecs, codedeploy, sns, SdkEcr::new(aws_sdk_ecr::Client::new(&local.sdk)))
        .with_busy_waits(vec![Duration::from_millis(10); 3])
}

#[tokio::test]
async fn the_newest_image_stops_the_older_deployment_and_deploys() {
    let (local, older) = busy_group().await;
    let (list, get, stop) = active_deployment_rules(&older);
    // Busy while the stopped deployment rolls back, then free.
    let create = mock!(aws_sdk_codedeploy::Client::create_deployment)
        .match_requests(|req| {
            let appspec = req.revision().and_then(|r| r.app_spec_content()).and_then(|a| a.content()).unwrap_or_default();
            req.deployment_config_name() == Some(CANARY) && appspec.contains("task-definition/web:2")
        })
        .sequence()
        .error(busy)
        .output(|| CreateDeploymentOutput::builder().deployment_id("d-NEWEST").build())
        .build();
    let push = ImagePush::from(ecr::decode(push_event("shop/web", Some("release-42"), DIGEST)).unwrap());

    let outcome = rollout(&local, &[&list, &get, &stop, &create]).deploy("image-pushed", &push).await;

    let ResourceResult::Deployed { deployment_id, superseded, task_definition, .. } = &outcome.resources[0].result else {
        panic!("{outcome:?}")
    };
    assert_eq!((deployment_id.as_str(), superseded.as_deref()), ("d-NEWEST", Some("d-OLDER")));
    assert_eq!((stop.num_calls(), create.num_calls()), (1, 2), "stopped once, created after one busy answer");
    let newest = local.aws.task_definition(task_definition).await;
    assert_eq!(newest.container_definitions()[0].image.as_deref(), Some(format!("{REGISTRY}/shop/web@{DIGEST}").as_str()));
    let messages = local.messages().await;
    assert!(messages[0]["Message"].as_str().unwrap().contains("Supersedes:  d-OLDER"), "{}", messages[0]);
}

#[tokio::test]
async fn a_group_that_stays_busy_fails_the_service_loudly_for_a_retry() {
    let (local, older) = busy_group().await;
    let (list, get, stop) = active_deployment_rules(&older);
    let create = mock!(aws_sdk_codedeploy::Client::create_deployment).sequence().error(busy).repeatedly().build();
    let push = ImagePush::from(ecr::decode(push_event("shop/web", Some("release-42"), DIGEST)).unwrap());

    let outcome = rollout(&local, &[&list, &get, &stop, &create]).deploy("image-pushed", &push).await;

    assert!(matches!(&outcome.resources[0].result, ResourceResult::Failed { error } if error.contains("busy")), "{outcome:?}");
    assert_eq!(create.num_calls(), 4, "the first try and three waits");
    let err = outcome.into_result().unwrap_err().to_string();
    assert!(err.contains("prod/web") && err.contains("DeploymentLimitExceeded"), "{err}");
}
