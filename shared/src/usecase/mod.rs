//! One folder per function's use case: `mod.rs` decodes the event, observes AWS through the
//! ports, asks the pure decision in `plan.rs`, acts through the ports, notifies (rendered in
//! `notification.rs`) and returns one `Outcome`.

pub mod build_finished;
pub mod deploy_events;
pub mod image_pushed;
pub mod region_failover;
pub mod scaler;
pub mod traffic_gate;

use crate::notify::Notification;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{EcsServices, Notifier, Service};

/// The services of `clusters` that track pushes (`deckhand:track`). A cluster that cannot be
/// listed is recorded in `outcome` as failed (`CLUSTER/*`); the others still count.
pub async fn tracked_services<E: EcsServices>(ecs: &E, clusters: &[String], outcome: &mut Outcome) -> Vec<Service> {
    let mut tracked = Vec::new();
    for cluster in clusters {
        match ecs.opted_in_services(cluster).await {
            Ok(services) => tracked.extend(services),
            Err(err) => {
                tracing::warn!(cluster, error = %err, "cannot list services");
                outcome.resources.push(ResourceOutcome::service(cluster, "*", ResourceResult::Failed { error: err.to_string() }));
            }
        }
    }
    tracked
}

/// Publishes a notification whose failure must not fail the invocation (the ECS gate's verdict,
/// which ECS would roll back; failover's best-effort `incomplete` notice, sent before the error
/// it announces is returned). A notice lost that way is logged at ERROR, the one trace left of it.
pub async fn publish_or_log<N: Notifier>(notifier: &N, notification: &Notification) {
    if let Err(err) = notifier.publish(notification).await {
        tracing::error!(event = notification.event, subject = notification.subject, error = %err, "notification NOT sent");
    }
}
