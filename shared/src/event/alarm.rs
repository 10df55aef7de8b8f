//! `CloudWatch Alarm State Change` events (source `aws.cloudwatch`) and `Scheduled Event`s: from
//! EventBridge Scheduler (source `aws.scheduler`, what SAM's `ScheduleV2` delivers when it has no
//! `Input`) or in the shape of an EventBridge rule's schedule (source `aws.events`).

use super::limits::{ALARM_NAME_MAX, EVENT_ID_MAX, STATE_MAX, at_most};
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
    at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
    at_most("detail.alarmName", &detail.alarm_name, ALARM_NAME_MAX)?;
    at_most("detail.state.value", &detail.state.value, STATE_MAX)?;
    if let Some(previous) = &detail.previous_state {
        at_most("detail.previousState.value", &previous.value, STATE_MAX)?;
    }
    Ok(AlarmStateChange {
        event_id: envelope.id,
        region: envelope.region,
        alarm_name: detail.alarm_name,
        state: detail.state.value,
        previous_state: detail.previous_state.map(|s| s.value),
        reason: detail.state.reason,
    })
}

/// EventBridge Scheduler's default payload: `detail` is the string `"{}"`, `resources` the schedule.
pub const SCHEDULER_SOURCE: &str = "aws.scheduler";
/// An EventBridge rule's schedule (SAM `Schedule`); also the explicit `Input` the region-failover
/// re-check schedule sends.
pub const RULE_SCHEDULE_SOURCE: &str = "aws.events";

/// An event that asks for a periodic re-check: a `Scheduled Event` from EventBridge Scheduler or
/// in an EventBridge rule's shape. Nothing else in it matters (`detail` is a string in one, an
/// object in the other).
pub fn is_schedule(event: &Value) -> bool {
    let source = event.get("source").and_then(Value::as_str);
    matches!(source, Some(SCHEDULER_SOURCE | RULE_SCHEDULE_SOURCE))
        && event.get("detail-type").and_then(Value::as_str) == Some(SCHEDULE_DETAIL_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(text: &str) -> Value {
        serde_json::from_str(text).expect("a JSON sample")
    }

    #[test]
    fn schedules_of_both_kinds_ask_for_a_recheck() {
        let scheduler = sample(include_str!("../../../events/scheduled-recheck.json"));
        assert_eq!((scheduler["source"].as_str(), scheduler["detail"].as_str()), (Some("aws.scheduler"), Some("{}")));
        assert!(is_schedule(&scheduler));
        // The region-failover re-check's explicit Input (template.yaml).
        assert!(is_schedule(&json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})));
    }

    #[test]
    fn names_and_states_longer_than_aws_issues_are_refused_short() {
        let huge = json!("x".repeat(1 << 20));
        for (field, set) in [
            ("detail.alarmName", ["detail", "alarmName", ""]),
            ("detail.state.value", ["detail", "state", "value"]),
            ("detail.previousState.value", ["detail", "previousState", "value"]),
            ("id", ["id", "", ""]),
        ] {
            let mut event = sample(include_str!("../../../events/cloudwatch-alarm-scale-out.json"));
            let at = set.iter().filter(|key| !key.is_empty()).fold(&mut event, |at, key| &mut at[*key]);
            *at = huge.clone();
            let message = decode(event).unwrap_err().to_string();
            assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
            assert!(message.chars().count() <= super::super::EVENT_ERROR_MAX, "{message:.300}");
        }
        let mut event = sample(include_str!("../../../events/cloudwatch-alarm-scale-out.json"));
        event["detail"]["alarmName"] = json!("a".repeat(255));
        assert!(decode(event).is_ok(), "255 characters is AWS's limit");
    }

    #[test]
    fn other_events_are_not_schedules() {
        assert!(!is_schedule(&sample(include_str!("../../../events/cloudwatch-alarm-scale-out.json"))));
        assert!(!is_schedule(&json!({"source": "aws.scheduler", "detail-type": "Other", "detail": "{}"})));
        assert!(!is_schedule(&json!({"source": "my.app", "detail-type": "Scheduled Event", "detail": {}})));
        assert!(!is_schedule(&json!("Scheduled Event")));
    }
}
