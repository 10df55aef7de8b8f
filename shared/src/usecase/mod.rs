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
use crate::ports::Notifier;

/// Publishes a notification about something already done, which its failure must not undo: the
/// failure is logged, not returned. Whether it was published.
pub async fn publish_or_log<N: Notifier>(notifier: &N, notification: &Notification) -> bool {
    match notifier.publish(notification).await {
        Ok(_) => true,
        Err(err) => {
            tracing::warn!(event = notification.event, subject = notification.subject, error = %err, "notification failed");
            false
        }
    }
}
