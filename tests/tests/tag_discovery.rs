//! `image-pushed` finding its services through the tag index (GetResources) against moto server:
//! what a push asks of AWS in a cluster of many services, a tracked service outside `CLUSTERS`
//! left alone, and task-definition revisions read once per process.

use aws_sdk_ecs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use deckhand::adapters::aws::{codedeploy::SdkCodeDeploy, ecr::SdkEcr, ecs::SdkEcs, sns::SdkSns};
use deckhand::outcome::{Outcome, ResourceResult};
use deckhand::usecase::image_pushed::ImagePushed;
use deckhand::usecase::image_pushed::rollout::Rollout;
use deckhand_integration_tests::{DIGEST, Local, push_event};
use serde_json::Value;
use std::sync::{Arc, Mutex};

const NEWER: &str = "sha256:9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Function = ImagePushed<SdkEcs, SdkCodeDeploy, SdkSns, SdkEcr>;

/// The ECS and tag-index calls of the clients it is put on, in order: the operation (from
/// `X-Amz-Target`), with the revision asked for when it is DescribeTaskDefinition.
#[derive(Debug, Clone, Default)]
struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    /// The calls since the last `take`.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or("?");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        let body: Option<Value> = request.body().bytes().and_then(|body| serde_json::from_slice(body).ok());
        let call = match body.as_ref().and_then(|b| b["taskDefinition"].as_str()) {
            Some(revision) if operation == "DescribeTaskDefinition" => format!("{operation} {revision}"),
            _ => operation,
        };
        self.0.lock().unwrap().push(call);
        Ok(())
    }
}

/// `image-pushed` for `clusters`, as wired for Lambda, its ECS and tag-index calls logged.
fn function(local: &Local, clusters: &[&str], log: &CallLog) -> Function {
    let sdk = &local.sdk;
    let ecs = aws_sdk_ecs::Client::from_conf(aws_sdk_ecs::config::Builder::from(sdk).interceptor(log.clone()).build());
    let index = aws_sdk_resourcegroupstagging::Client::from_conf(
        aws_sdk_resourcegroupstagging::config::Builder::from(sdk).interceptor(log.clone()).build(),
    );
    let rollout = Rollout::new(
        clusters.iter().map(|c| c.to_string()).collect(),
        SdkEcs::new(ecs, index),
        SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)),
        SdkSns::new(aws_sdk_sns::Client::new(sdk), local.topic.clone()),
        SdkEcr::new(aws_sdk_ecr::Client::new(sdk)),
    );
    ImagePushed::new(rollout)
}

/// A local AWS with `DIGEST` (`v1.4.2`) and then `NEWER` (`v1.4.3`) in ECR's `shop/web`, and
/// `clusters`; `web`'s first revision runs `shop/web:v1.4.1`.
async fn local(clusters: &[&str]) -> (Local, String) {
    let local = Local::start().await;
    local.aws.push_image_as("shop/web", "v1.4.2", DIGEST).await;
    local.aws.push_image_as("shop/web", "v1.4.3", NEWER).await;
    for cluster in clusters {
        local.aws.create_cluster(cluster).await;
    }
    let td = local.aws.register_web_task_definition("web", "v1.4.1").await;
    (local, td)
}

fn deployed(outcome: &Outcome) -> Vec<&str> {
    let deployed = outcome.resources.iter().filter(|r| matches!(r.result, ResourceResult::Deployed { .. }));
    deployed.map(|r| r.resource.as_str()).collect()
}

fn count(calls: &[String], operation: &str) -> usize {
    calls.iter().filter(|call| call.split(' ').next() == Some(operation)).count()
}

#[tokio::test]
async fn a_push_reads_the_index_and_describes_only_the_service_it_matches() {
    let (local, td) = local(&["prod"]).await;
    local.aws.create_service("prod", "web", &td, &[("deckhand:track", "semver:^1.4")], false).await;
    // More tracked services than one page of the index holds, none tracking the pushed tag.
    for i in 0..120 {
        local.aws.create_service("prod", &format!("other-{i}"), &td, &[("deckhand:track", "prefix:release-")], false).await;
    }
    local.aws.create_service("prod", "untracked", &td, &[], false).await;
    let log = CallLog::default();
    let warm = function(&local, &["prod"], &log);

    let outcome = warm.handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap();

    assert_eq!(deployed(&outcome), ["prod/web"], "{outcome:?}");
    let calls = log.take();
    assert_eq!(count(&calls, "ListServices"), 0, "{calls:?}");
    assert_eq!(count(&calls, "GetResources"), 2, "121 tracked services: two pages of the index; {calls:?}");
    assert_eq!(count(&calls, "DescribeServices"), 1, "only the matching service is described: {calls:?}");

    let cold = function(&local, &["prod"], &log);
    let nothing = cold.handle(push_event("shop/web", Some("nightly"), DIGEST)).await.unwrap();
    let reason = nothing.ignored.unwrap();
    assert!(reason.starts_with("no service in prod tracks shop/web:nightly (121 tracked: "), "{reason}");
    assert_eq!(log.take(), ["GetResources", "GetResources"], "a push nothing tracks reads the index alone");
    cold.handle(push_event("shop/web", Some("nightly"), DIGEST)).await.unwrap();
    assert_eq!(log.take(), Vec::<String>::new(), "a warm function answers from its read of a moment ago");
}

#[tokio::test]
async fn a_tracked_service_in_a_cluster_outside_clusters_is_left_alone() {
    let (local, td) = local(&["prod", "staging"]).await;
    local.aws.create_service("prod", "web", &td, &[("deckhand:track", "semver:^1.4")], false).await;
    local.aws.create_service("staging", "web", &td, &[("deckhand:track", "semver:^1.4")], false).await;
    let log = CallLog::default();

    let outcome = function(&local, &["prod"], &log).handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap();

    assert_eq!(deployed(&outcome), ["prod/web"]);
    assert!(outcome.resources.iter().all(|r| !r.resource.starts_with("staging")), "{outcome:?}");
    assert_eq!(local.aws.service("staging", "web").await.task_definition.as_deref(), Some(td.as_str()), "untouched");
    assert_eq!(count(&log.take(), "DescribeServices"), 1, "staging's service is not even described");
    assert_eq!(local.aws.revisions("web").await.len(), 2);
}

#[tokio::test]
async fn a_warm_function_describes_no_revision_it_has_seen() {
    let (local, td) = local(&["prod"]).await;
    local.aws.create_service("prod", "web", &td, &[("deckhand:track", "semver:^1.4")], false).await;
    let log = CallLog::default();
    let function = function(&local, &["prod"], &log);

    let first = function.handle(push_event("shop/web", Some("v1.4.2"), DIGEST)).await.unwrap();
    assert_eq!(deployed(&first), ["prod/web"]);
    let cold = log.take();
    assert!(cold.contains(&format!("DescribeTaskDefinition {td}")), "cold: the running revision is described: {cold:?}");

    // The same push again (a redelivery), then a newer one: the service runs the revision this
    // process registered, which it knows; only the family's newest is asked (a revision an
    // earlier attempt may have registered).
    let mut again = push_event("shop/web", Some("v1.4.2"), DIGEST);
    again["id"] = "redelivered".into();
    let duplicate = function.handle(again).await.unwrap();
    assert!(matches!(duplicate.resources[0].result, ResourceResult::Unchanged { .. }), "{duplicate:?}");
    let newer = function.handle(push_event("shop/web", Some("v1.4.3"), NEWER)).await.unwrap();
    assert_eq!(deployed(&newer), ["prod/web"]);
    let warm = log.take();
    let described: Vec<&String> = warm.iter().filter(|call| call.starts_with("DescribeTaskDefinition")).collect();
    assert_eq!(described, ["DescribeTaskDefinition web"], "warm: no revision described again: {warm:?}");
}
