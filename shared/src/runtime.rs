//! What every function's `main` does once at cold start.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use serde_json::Value;

/// JSON logs when Lambda asks for them (`AWS_LAMBDA_LOG_FORMAT=JSON`), level from `AWS_LAMBDA_LOG_LEVEL`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// SDK configuration from the standard sources (including `AWS_ENDPOINT_URL`), with the SDK's
/// own retry (standard mode: throttling and transient errors, exponential backoff with jitter)
/// and bounded timeouts so a stuck call cannot hold a deployment until the Lambda times out.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5).with_max_backoff(Duration::from_secs(5)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

/// Seconds since the epoch; injectable so tests can move time (cooldowns, failover windows).
pub type Clock = Box<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Box::new(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}
