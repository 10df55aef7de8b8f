//! `image-pushed`: ECR image pushed → digest-pinned task-definition revision → deployment → notification.

#[cfg(test)]
mod convergence;
pub mod image;
pub mod notification;
pub mod plan;
pub mod rollout;
pub mod shift;
pub mod tag_policy;
#[cfg(test)]
pub(crate) mod tests;

use crate::error::HandlerError;
use crate::event::ecr;
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

    /// Handles one EventBridge event. Malformed events are errors that change nothing; events
    /// that are not ours are ignored with the reason.
    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let action = ecr::decode(event)?;
        if let Some(reason) = action.not_a_successful_push() {
            info!(event_id = action.event_id, repository = action.repository, reason, "ignored");
            return Ok(Outcome::ignored(FUNCTION, action.event_id, reason));
        }
        self.rollout.deploy(FUNCTION, &ImagePush::from(action)).await.into_result()
    }
}
