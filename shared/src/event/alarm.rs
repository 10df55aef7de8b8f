//! `CloudWatch Alarm State Change` events (source `aws.cloudwatch`) and EventBridge
//! `Scheduled Event`s (source `aws.events`).

use super::{EventError, detail, envelope};
use serde::Deserialize;
use serde_json::Value;

pub const SOURCE: &str = "aws.cloudwatch";
pub const DETAIL_TYPE: &str = "CloudWatch Alarm State Change";
pub const SCHEDULE_DETAIL_TYPE: &str = "Scheduled Event";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmStateChange {
    pub event_id: Option<String>,
    pub region: String,
    pub alarm_name: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    alarm_name: String,
    state: State,
    #[serde(default)]
    previous_state: Option<State>,
}

#[derive(Deserialize)]
struct State {
    value: String,
    #[serde(default)]
    reason: Option<String>,
}

pub fn decode(event: Value) -> Result<AlarmStateChange, EventError> {
    let envelope = envelope(event, SOURCE, DETAIL_TYPE)?;
    let detail: Detail = detail(envelope.detail)?;
    Ok(AlarmStateChange {
        event_id: envelope.id,
        region: envelope.region,
        alarm_name: detail.alarm_name,
        state: detail.state.value,
        previous_state: detail.previous_state.map(|s| s.value),
        reason: detail.state.reason,
    })
}

/// An event that asks for a periodic re-check: an EventBridge schedule.
pub fn is_schedule(event: &Value) -> bool {
    event.get("source").and_then(Value::as_str) == Some("aws.events")
        && event.get("detail-type").and_then(Value::as_str) == Some(SCHEDULE_DETAIL_TYPE)
}
