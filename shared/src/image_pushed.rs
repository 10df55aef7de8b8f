//! `image-pushed`: ECR image pushed → digest-pinned task-definition revision → deployment → notification.

use crate::aws::sns::SdkSns;
use crate::config::ImagePushedConfig;
use crate::deployer::SdkDeployer;
use crate::error::HandlerError;
use crate::event::ecr;
use crate::outcome::Outcome;
use serde_json::Value;
use tracing::info;

pub const FUNCTION: &str = "image-pushed";

pub struct ImagePushed {
    deployer: SdkDeployer,
}

impl ImagePushed {
    pub fn from_sdk(config: ImagePushedConfig, sdk: &aws_config::SdkConfig) -> Self {
        let notifier = SdkSns::new(aws_sdk_sns::Client::new(sdk), config.notify_topic_arn);
        Self { deployer: SdkDeployer::from_sdk(config.clusters, notifier, sdk) }
    }

    /// Handles one EventBridge event. Malformed events are errors that change nothing; events
    /// that are not ours are ignored with the reason.
    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let push = ecr::decode(event)?;
        if let Some(reason) = push.not_a_successful_push() {
            info!(event_id = push.event_id, repository = push.repository, reason, "ignored");
            return Ok(Outcome::ignored(FUNCTION, push.event_id, reason));
        }
        self.deployer.deploy(FUNCTION, &push).await.into_result()
    }
}
