//! image-pushed finding its services through the tag index: only what the push matches is
//! described, CLUSTERS bounds the index's answer, and the index's lag is told.

use super::{handle, push, tracking, web_task_definition};
use crate::fakes::{ACCOUNT, FakeAws, FakeService, REGION};
use crate::outcome::ResourceResult;
use crate::tags;
use serde_json::json;

fn deployed(outcome: &crate::outcome::Outcome) -> Vec<&str> {
    let deployed = outcome.resources.iter().filter(|r| matches!(r.result, ResourceResult::Deployed { .. }));
    deployed.map(|r| r.resource.as_str()).collect()
}

#[tokio::test]
async fn a_push_describes_only_the_services_whose_policy_it_satisfies() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &td));
    for i in 0..25 {
        aws.ecs.add_service(FakeService::new("prod", &format!("other-{i}"), &td).tag(tags::TRACK, "prefix:release-"));
        aws.ecs.add_service(FakeService::new("prod", &format!("untracked-{i}"), &td));
    }

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert_eq!(deployed(&outcome), ["prod/web"]);
    assert_eq!(outcome.resources.len(), 1, "services the push is not for are not listed: {outcome:?}");
    assert_eq!((aws.faults.count("tag:GetResources"), aws.faults.count("ecs:DescribeServices")), (1, 1));
    assert_eq!(aws.ecs.service("prod", "other-0").task_definition, td);

    let aws_calls = aws.faults.calls().len();
    let nothing = handle(&aws, push("nightly")).await.unwrap();
    assert_eq!(&aws.faults.calls()[aws_calls..], ["tag:GetResources"], "a push nothing tracks costs the index alone");
    let reason = nothing.ignored.unwrap();
    assert!(reason.starts_with("no service in prod tracks shop/web:nightly (26 tracked: prod/web: tag"), "{reason}");
}

#[tokio::test]
async fn a_tracked_service_in_a_cluster_outside_clusters_is_left_alone() {
    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &td));
    aws.ecs.add_service(FakeService::new("staging", "web", &td).tag(tags::TRACK, "semver:^1.4"));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert_eq!(deployed(&outcome), ["prod/web"]);
    assert!(!json!(outcome).to_string().contains("staging"), "{outcome:?}");
    assert_eq!(aws.ecs.service("staging", "web").task_definition, td, "outside CLUSTERS: untouched");
    assert_eq!(aws.ecs.service("staging", "web").tags.get(tags::ANNOUNCED), None);
}

#[tokio::test]
async fn a_service_tagged_moments_ago_is_found_once_the_index_lists_it() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")).not_yet_indexed());

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();
    let reason = outcome.ignored.unwrap();
    assert!(reason.contains("one tagged moments ago may not be listed yet"), "{reason}");
    assert_eq!(aws.faults.count("ecs:RegisterTaskDefinition"), 0);

    // The index catches up; the push's redelivery (or the next push) deploys.
    aws.ecs.update_service("prod", "web", |s| s.indexed = true);
    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();
    assert_eq!(deployed(&outcome), ["prod/web"]);
}

#[tokio::test]
async fn a_service_whose_arn_names_no_cluster_is_found_in_its_cluster() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    // ECS's older ARN format: `service/NAME`, no cluster.
    aws.ecs.update_service("prod", "web", |s| s.arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/web"));

    let outcome = handle(&aws, push("v1.4.2")).await.unwrap();

    assert_eq!(deployed(&outcome), ["prod/web"]);
    assert_eq!(aws.ecs.service("prod", "web").deployments[0].status, "PRIMARY");
}

#[tokio::test]
async fn a_cluster_named_twice_in_clusters_deploys_its_service_once() {
    use crate::usecase::image_pushed::ImagePushed;
    use crate::usecase::image_pushed::rollout::Rollout;

    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    // ECS's older ARN format, asked in each cluster: CLUSTERS names `prod` by name and by ARN.
    aws.ecs.update_service("prod", "web", |s| s.arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/web"));
    let clusters = vec!["prod".to_owned(), format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod")];
    let rollout = Rollout::new(clusters, aws.ecs.clone(), aws.codedeploy.clone(), aws.sns.clone(), aws.ecr.clone());

    let outcome = ImagePushed::new(rollout).handle(push("v1.4.2")).await.unwrap();

    assert_eq!(deployed(&outcome), ["prod/web"], "{outcome:?}");
    assert_eq!(aws.faults.count("ecs:UpdateService"), 1);
}

#[tokio::test]
async fn an_unreadable_index_fails_each_cluster_and_changes_nothing() {
    let aws = FakeAws::new();
    aws.ecs.add_service(tracking("web", &web_task_definition(&aws, "web")));
    aws.faults.fail_always("tag:GetResources", crate::fakes::Fault::Throttled);

    let err = handle(&aws, push("v1.4.2")).await.unwrap_err().to_string();

    assert!(err.contains("prod/*") && err.contains("tag:GetResources: ThrottlingException"), "{err}");
    assert_eq!(aws.faults.count("ecs:RegisterTaskDefinition"), 0);
}

/// A warm function reads the index once per `INDEX_MEMORY_SECONDS`, not once per push; a read
/// that failed is not kept; a push that deploys nothing says how old the read was.
#[tokio::test]
async fn a_warm_function_reads_the_index_once_per_burst_not_once_a_push() {
    use crate::fakes::{FakeClock, Fault};
    use crate::usecase::image_pushed::ImagePushed;
    use crate::usecase::image_pushed::tests::rollout;
    use crate::usecase::image_pushed::tracked_index::INDEX_MEMORY_SECONDS;

    let aws = FakeAws::new();
    let td = web_task_definition(&aws, "web");
    aws.ecs.add_service(tracking("web", &td));
    let clock = FakeClock::at(1_800_000_000);
    let warm = ImagePushed::new(rollout(&aws).with_clock(clock.clock()));

    aws.faults.fail_nth("tag:GetResources", 1, Fault::Error);
    assert!(warm.handle(push("nightly")).await.is_err(), "an unreadable index fails the push (it is retried)");
    warm.handle(push("nightly")).await.unwrap();
    assert_eq!(aws.faults.count("tag:GetResources"), 2, "a failed read is not kept");

    clock.advance(INDEX_MEMORY_SECONDS - 1);
    let nothing = warm.handle(push("nightly")).await.unwrap();
    let reason = nothing.ignored.unwrap();
    assert!(reason.ends_with(&format!("; the tag index as read {} s ago)", INDEX_MEMORY_SECONDS - 1)), "{reason}");
    let outcome = warm.handle(push("v1.4.2")).await.unwrap();
    assert_eq!(deployed(&outcome), ["prod/web"]);
    assert_eq!(aws.faults.count("tag:GetResources"), 2, "answered from the last read");
    aws.ecs.add_service(FakeService::new("prod", "api", &td).tag(tags::TRACK, "semver:^1.4"));

    clock.advance(1);
    let later = warm.handle(push("v1.4.3")).await.unwrap();
    assert_eq!(aws.faults.count("tag:GetResources"), 3, "read again once the memory is INDEX_MEMORY_SECONDS old");
    assert!(deployed(&later).contains(&"prod/api"), "{later:?}");
}
