//! One folder per function's use case: `mod.rs` decodes the event, observes AWS through the
//! ports, asks the pure decision in `plan.rs`, acts through the ports, notifies (rendered in
//! `notification.rs`) and returns one `Outcome`.

pub mod build_finished;
pub mod deploy_events;
pub mod image_pushed;
pub mod region_failover;
pub mod scaler;
pub mod traffic_gate;

use crate::config::cluster_listed;
use crate::notify::Notification;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{AwsResult, EcsServices, IndexedService, Notifier, Service};

/// The services of `clusters` that carry the tag `key` (`deckhand:track`, or a marker only tracked
/// services carry), as the tag index lists them: one read, whatever else the clusters run.
pub async fn indexed_services<E: EcsServices>(ecs: &E, clusters: &[String], key: &str, outcome: &mut Outcome) -> Vec<IndexedService> {
    in_clusters(ecs.services_tagged(key).await, clusters, outcome)
}

/// The services of an index read that are in `clusters`. A service of ECS's older ARN format
/// names no cluster and is kept (`described` asks each cluster). An index that could not be read
/// is recorded in `outcome` as each cluster failed (`CLUSTER/*`).
pub fn in_clusters(read: AwsResult<Vec<IndexedService>>, clusters: &[String], outcome: &mut Outcome) -> Vec<IndexedService> {
    match read {
        Ok(services) => services.into_iter().filter(|s| s.cluster_name().is_none_or(|cluster| cluster_listed(clusters, cluster))).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the tag index");
            for cluster in clusters {
                outcome.resources.push(ResourceOutcome::service(cluster, "*", ResourceResult::Failed { error: err.to_string() }));
            }
            Vec::new()
        }
    }
}

/// `candidates` (from `indexed_services`) as ECS describes them now, cluster by cluster in the
/// order of `clusters`: those that still exist and track pushes, with their tags as they are
/// now. The services of a cluster that cannot be described are recorded in `outcome` as failed.
pub async fn described<E: EcsServices>(ecs: &E, clusters: &[String], candidates: &[IndexedService], outcome: &mut Outcome) -> Vec<Service> {
    let mut services = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for cluster in clusters {
        let listed = std::slice::from_ref(cluster);
        // The older ARN format names no cluster: asked in each, ECS finds it where it is.
        let in_cluster = |c: &&IndexedService| c.cluster_name().is_none_or(|name| cluster_listed(listed, name));
        let arns: Vec<String> = candidates.iter().filter(in_cluster).map(|c| c.arn.clone()).collect();
        if arns.is_empty() {
            continue;
        }
        match ecs.tracked_services(cluster, &arns).await {
            Ok(found) => {
                // A cluster CLUSTERS names twice (by name and by ARN) yields its services once.
                services.extend(found.into_iter().filter(|service| seen.insert(service.arn.clone())));
            }
            Err(err) => {
                tracing::warn!(cluster, error = %err, "cannot describe services");
                for candidate in candidates.iter().filter(in_cluster) {
                    let failed = ResourceResult::Failed { error: err.to_string() };
                    outcome.resources.push(ResourceOutcome::service(candidate.cluster_name().unwrap_or(cluster), candidate.name(), failed));
                }
            }
        }
    }
    services
}

/// Publishes a notification whose failure must not fail the invocation (the ECS gate's verdict,
/// which ECS would roll back; failover's best-effort `incomplete` notice, sent before the error
/// it announces is returned). A notice lost that way is logged at ERROR, the one trace left of it.
pub async fn publish_or_log<N: Notifier>(notifier: &N, notification: &Notification) {
    if let Err(err) = notifier.publish(notification).await {
        tracing::error!(event = notification.event, subject = notification.subject, error = %err, "notification NOT sent");
    }
}
