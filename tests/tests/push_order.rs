//! Never an older image on an event (issue 15), against the local AWS (moto server): images
//! pushed to its ECR more than a second apart carry their own `imagePushedAt` (whole seconds),
//! and the older push delivered after the newer one changes nothing and says why. CodeDeploy is
//! `aws-smithy-mocks` (moto keeps no deployment active), as in `superseding.rs`.

use aws_sdk_codedeploy::operation::create_deployment::CreateDeploymentOutput;
use aws_sdk_codedeploy::operation::get_deployment::GetDeploymentOutput;
use aws_sdk_codedeploy::operation::list_deployments::ListDeploymentsOutput;
use aws_sdk_codedeploy::operation::stop_deployment::StopDeploymentOutput;
use aws_sdk_codedeploy::types::{AppSpecContent, DeploymentInfo, RevisionLocation, StopStatus};
use aws_sdk_ecs::types::ContainerDefinition;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use deckhand::adapters::aws::codedeploy::SdkCodeDeploy;
use deckhand::adapters::aws::ecr::SdkEcr;
use deckhand::adapters::aws::sns::SdkSns;
use deckhand::config::ImagePushedConfig;
use deckhand::event::ecr;
use deckhand::outcome::{Outcome, ResourceResult};
use deckhand::runtime::rfc3339;
use deckhand::usecase::image_pushed::plan::{ImagePush, short_digest};
use deckhand::usecase::image_pushed::rollout::Rollout;
use deckhand::wiring;
use deckhand_integration_tests::{Local, REGISTRY, document, push_event};
use std::time::Duration;

/// ECR's `shop/web` with two images pushed more than a second apart: (older, newer) digests.
async fn two_pushes(local: &Local, (older_tag, newer_tag): (&str, &str)) -> (String, String) {
    local.aws.create_repository("shop/web", false).await;
    let older = local.aws.push_image("shop/web", older_tag, "41").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let newer = local.aws.push_image("shop/web", newer_tag, "42").await;
    (older, newer)
}

/// `imagePushedAt` of `digest`, as the local ECR stamped it.
async fn pushed_at(local: &Local, digest: &str) -> String {
    let id = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(digest).build();
    let described = local.aws.ecr.describe_images().repository_name("shop/web").image_ids(id).send().await.unwrap();
    rfc3339(described.image_details()[0].image_pushed_at().expect("a push time").secs() as u64)
}

fn ignored(outcome: &Outcome) -> &str {
    match &outcome.resources[0].result {
        ResourceResult::Ignored { reason } => reason,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_older_push_delivered_after_a_newer_one_changes_nothing_and_says_why() {
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    let (older, newer) = two_pushes(&local, ("v1.4.1", "v1.4.2")).await;
    let td = local.aws.register_web_task_definition("web", "v1.4.0").await;
    local.aws.create_service("prod", "web", &td, &[("deckhand:track", "semver:^1.4")], false).await;
    let function =
        wiring::image_pushed(ImagePushedConfig { clusters: vec!["prod".into()], notify_topic_arn: local.topic.clone() }, &local.sdk);

    let first = function.handle(push_event("shop/web", Some("v1.4.2"), &newer)).await.unwrap();
    assert!(matches!(first.resources[0].result, ResourceResult::Deployed { .. }), "{first:?}");
    // ECR has no v1.4.0: the first rollout is not blocked, and its notice says what went uncompared.
    let notice = document(&local.messages().await[0]);
    assert!(
        notice["text"].as_str().unwrap().contains(&format!("Not compared: ECR does not know \"{REGISTRY}/shop/web:v1.4.0\"")),
        "{notice}"
    );
    let (service, revisions) = (local.aws.service("prod", "web").await.task_definition, local.aws.revisions("web").await);

    for _ in 0..2 {
        let late = function.handle(push_event("shop/web", Some("v1.4.1"), &older)).await.unwrap();

        let expected = format!(
            "older than what runs: {} was pushed {}, {} (running) was pushed {}; ",
            short_digest(&older),
            pushed_at(&local, &older).await,
            short_digest(&newer),
            pushed_at(&local, &newer).await
        );
        let reason = ignored(&late);
        assert!(reason.starts_with(&expected) && reason.contains("an operator's explicit rollback"), "{reason}\nwanted {expected}");
        assert_eq!(local.aws.service("prod", "web").await.task_definition, service);
        assert_eq!(local.aws.revisions("web").await, revisions);
        assert!(local.messages().await.is_empty(), "nothing announced");
    }
}

#[tokio::test]
async fn a_codedeploy_group_deploying_a_newer_image_is_left_to_it() {
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    let (older, newer) = two_pushes(&local, ("release-41", "release-42")).await;
    let running = local.aws.register_web_task_definition("web", "release-40").await;
    let deploying = ContainerDefinition::builder().name("web").image(format!("{REGISTRY}/shop/web@{newer}")).memory(256).build();
    let registered = local.aws.ecs.register_task_definition().family("web").container_definitions(deploying).send().await.unwrap();
    let deploying = registered.task_definition.and_then(|td| td.task_definition_arn).unwrap();
    let tags = [("deckhand:track", "release-*"), ("deckhand:codedeploy-app", "shop"), ("deckhand:codedeploy-group", "web-bg")];
    local.aws.create_service("prod", "web", &running, &tags, true).await;
    // The group is deploying the newer image.
    let list =
        mock!(aws_sdk_codedeploy::Client::list_deployments).then_output(|| ListDeploymentsOutput::builder().deployments("d-NEWER").build());
    let appspec = format!(
        r#"{{"version":0.0,"Resources":[{{"TargetService":{{"Type":"AWS::ECS::Service","Properties":{{"TaskDefinition":"{deploying}"}}}}}}]}}"#
    );
    let get = mock!(aws_sdk_codedeploy::Client::get_deployment).then_output(move || {
        let revision = RevisionLocation::builder().app_spec_content(AppSpecContent::builder().content(appspec.clone()).build()).build();
        GetDeploymentOutput::builder()
            .deployment_info(DeploymentInfo::builder().deployment_id("d-NEWER").revision(revision).build())
            .build()
    });
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment)
        .then_output(|| StopDeploymentOutput::builder().status(StopStatus::Pending).build());
    let create =
        mock!(aws_sdk_codedeploy::Client::create_deployment).then_output(|| CreateDeploymentOutput::builder().deployment_id("d-X").build());
    let codedeploy = SdkCodeDeploy::new(mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, [&list, &get, &stop, &create]));
    let ecs = wiring::ecs(&local.sdk);
    let sns = SdkSns::new(aws_sdk_sns::Client::new(&local.sdk), local.topic.clone());
    let rollout = Rollout::new(vec!["prod".into()], ecs, codedeploy, sns, SdkEcr::new(aws_sdk_ecr::Client::new(&local.sdk)));
    let push = ImagePush::from(ecr::decode(push_event("shop/web", Some("release-41"), &older)).unwrap());

    let outcome = rollout.deploy("image-pushed", &push).await;

    let expected = format!(
        "older than what is deploying: {} was pushed {}, {} (deploying in CodeDeploy deployment d-NEWER) was pushed {}; ",
        short_digest(&older),
        pushed_at(&local, &older).await,
        short_digest(&newer),
        pushed_at(&local, &newer).await
    );
    assert!(ignored(&outcome).starts_with(&expected), "{outcome:?}\nwanted {expected}");
    assert_eq!((get.num_calls(), stop.num_calls(), create.num_calls()), (1, 0, 0), "read, never stopped nor replaced");
    assert_eq!(local.aws.revisions("web").await, [running, deploying], "no revision registered");
    assert!(local.messages().await.is_empty());
}
