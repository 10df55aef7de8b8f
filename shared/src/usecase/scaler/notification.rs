//! Scaling notifications: what changed and why, and a service stuck at its maximum.

use super::marker::Step;
use super::plan::{Direction, ScalingPolicy};
use crate::notify::{Notification, Severity};
use crate::ports::{Capacity, ScalingAlarm};
use crate::tags;
use serde_json::{Value, json};

/// Why the scaler acted: the alarm, and the value of its metric it went by.
pub struct Cause<'a> {
    pub alarm: &'a ScalingAlarm,
    pub value: Option<f64>,
}

impl Cause<'_> {
    fn line(&self) -> String {
        let metric = self.alarm.metric_name().unwrap_or("metric");
        let value = self.value.map_or_else(|| "no recent datapoint".to_owned(), |v| format!("{v:.1}"));
        let threshold = self.alarm.threshold.map_or_else(String::new, |t| format!(" (threshold {t:.1})"));
        format!("{metric} {value}{threshold}, alarm {}", self.alarm.name)
    }

    fn details(&self) -> Value {
        json!({"alarm": self.alarm.name, "metric": self.alarm.metric_name(), "value": self.value, "threshold": self.alarm.threshold})
    }
}

/// The step `from -> to` intended at `at`: a retry that announces it again (its first Publish
/// failed, or its answer was lost) sends the same deduplication id.
pub fn scaled_notification(
    cause: &Cause<'_>,
    capacity: &Capacity,
    policy: &ScalingPolicy,
    direction: Direction,
    at: u64,
    step: Step,
) -> Notification {
    let Step { from, to } = step;
    let cluster = capacity.cluster_arn.rsplit('/').next().unwrap_or_default();
    let limit = if to == policy.max {
        " (maximum)"
    } else if to == policy.min {
        " (minimum)"
    } else {
        ""
    };
    Notification {
        event: if direction == Direction::Out { "scaling.out" } else { "scaling.in" },
        severity: Severity::Info,
        subject: format!("Scaled {} {cluster}/{}: {from} -> {to} tasks", direction.as_str(), capacity.name),
        text: format!(
            "Deckhand scaled {cluster}/{} {} from {from} to {to} tasks{limit}.\n\nCause:     {}\nPolicy:    {}-{} tasks, cooldown {} s out / {} s in\nRunning:   {} tasks\n",
            capacity.name,
            direction.as_str(),
            cause.line(),
            policy.min,
            policy.max,
            policy.out_cooldown,
            policy.in_cooldown,
            capacity.running,
        ),
        details: with(cause.details(), json!({"direction": direction, "from": from, "to": to, "policy": policy})),
        cluster: Some(cluster.to_owned()),
        service: Some(capacity.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:{}:{at}:{from}->{to}", capacity.arn, direction.as_str())),
    }
}

/// The warning for the alarm event `event_id` (a retry sends it with the same deduplication id).
pub fn at_max_notification(cause: &Cause<'_>, capacity: &Capacity, desired: i32, limit: i32, event_id: Option<&str>) -> Notification {
    let cluster = capacity.cluster_arn.rsplit('/').next().unwrap_or_default();
    Notification {
        event: "scaling.at_max",
        severity: Severity::Warning,
        subject: format!("At maximum capacity: {cluster}/{} ({desired} tasks) still in alarm", capacity.name),
        text: format!(
            "{cluster}/{} runs {desired} tasks, its maximum is {limit}, and it is still in alarm.\n\nCause:     {}\nRaise {} to let Deckhand add tasks.\n",
            capacity.name,
            cause.line(),
            tags::SCALE_MAX,
        ),
        details: with(cause.details(), json!({"desired": desired, "max": limit})),
        cluster: Some(cluster.to_owned()),
        service: Some(capacity.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:at-max:{}", capacity.arn, event_id.unwrap_or(&cause.alarm.name))),
    }
}

/// `base` with the fields of `more` added.
fn with(mut base: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (base.as_object_mut(), more) {
        base.extend(more);
    }
    base
}
