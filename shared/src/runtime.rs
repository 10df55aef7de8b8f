//! What every function's `main` does once at cold start.

use std::time::{SystemTime, UNIX_EPOCH};

pub use serde_json::Value;

/// JSON logs when Lambda asks for them (`AWS_LAMBDA_LOG_FORMAT=JSON`), level from `AWS_LAMBDA_LOG_LEVEL`.
pub fn init_tracing() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Seconds since the epoch; injectable so tests can move time (cooldowns, failover windows).
pub type Clock = Box<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Box::new(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}
