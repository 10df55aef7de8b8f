//! `image-pushed`: ECR image pushed → digest-pinned task-definition revision → deployment → notification.

#[cfg(test)]
mod convergence;
pub mod discovery;
pub mod image;
pub mod notification;
pub mod plan;
pub mod push_order;
pub mod rollout;
pub mod scan_gate;
pub mod shift;
pub mod tag_policy;
#[cfg(test)]
pub(crate) mod tests;
pub mod tracked_index;

use crate::error::HandlerError;
use crate::event::ecr_scan::{self, ScanEvent};
use crate::event::limits::{EVENT_ID_MAX, at_most};
use crate::event::{alarm, detail_type, ecr};
use crate::outcome::Outcome;
use crate::ports::{CodeDeployments, EcsServices, NativeDeployments, Notifier, Registry, ServiceCapacity, TaskDefinitions};
use plan::ImagePush;
use rollout::Rollout;
use serde_json::Value;
use tracing::info;

pub const FUNCTION: &str = "image-pushed";

pub struct ImagePushed<E, C, N, G> {
    rollout: Rollout<E, C, N, G>,
}

impl<E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments, C: CodeDeployments, N: Notifier, G: Registry>
    ImagePushed<E, C, N, G>
{
    pub fn new(rollout: Rollout<E, C, N, G>) -> Self {
        Self { rollout }
    }

    /// Handles one EventBridge event: an ECR push, an image's scan result (`ECR Image Scan`,
    /// `Inspector2 Scan`) or the scan gate's scheduled re-check. Malformed events are errors that
    /// change nothing; events that are not ours are ignored with the reason.
    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        if alarm::is_schedule(&event) {
            let id = event.get("id").and_then(Value::as_str).map(str::to_owned);
            at_most("id", id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
            return scan_gate::recheck(&self.rollout, FUNCTION, id).await.into_result();
        }
        let kinds = [ecr::DETAIL_TYPE, ecr_scan::BASIC_DETAIL_TYPE, ecr_scan::ENHANCED_DETAIL_TYPE];
        if detail_type(&event, &kinds)? != ecr::DETAIL_TYPE {
            return match ecr_scan::decode(event)? {
                ScanEvent::Image(scan) => scan_gate::scan_arrived(&self.rollout, FUNCTION, &scan).await.into_result(),
                ScanEvent::NotAnImage { event_id, reason } => {
                    info!(event_id, reason, "ignored");
                    Ok(Outcome::ignored(FUNCTION, event_id, reason))
                }
            };
        }
        let action = ecr::decode(event)?;
        if let Some(reason) = action.not_a_successful_push() {
            info!(event_id = action.event_id, repository = action.repository, reason, "ignored");
            return Ok(Outcome::ignored(FUNCTION, action.event_id, reason));
        }
        self.rollout.deploy(FUNCTION, &ImagePush::from(action)).await.into_result()
    }
}
