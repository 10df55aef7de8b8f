//! Scaling notifications: what changed and why, and a service stuck at its maximum.

use super::marker::Step;
use super::plan::{Direction, ScalingPolicy};
use crate::notify::{Notification, Severity};
use crate::ports::{Alarm, Capacity};
use crate::tags;
use serde_json::json;

fn metric_line(alarm: &Alarm) -> String {
    let metric = alarm.metric_name.as_deref().unwrap_or("metric");
    let value = alarm.latest_datapoint.map_or_else(|| "no recent datapoint".to_owned(), |v| format!("{v:.1}"));
    let threshold = alarm.threshold.map_or_else(String::new, |t| format!(" (threshold {t:.1})"));
    format!("{metric} {value}{threshold}, alarm {}", alarm.name)
}

/// The step `from -> to` intended at `at`: a retry that announces it again (its first Publish
/// failed, or its answer was lost) sends the same deduplication id.
pub fn scaled_notification(
    alarm: &Alarm,
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
            metric_line(alarm),
            policy.min,
            policy.max,
            policy.out_cooldown,
            policy.in_cooldown,
            capacity.running,
        ),
        details: json!({"alarm": alarm.name, "metric": alarm.metric_name, "value": alarm.latest_datapoint, "threshold": alarm.threshold,
                        "direction": direction, "from": from, "to": to, "policy": policy}),
        cluster: Some(cluster.to_owned()),
        service: Some(capacity.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:{}:{at}:{from}->{to}", capacity.arn, direction.as_str())),
    }
}

pub fn at_max_notification(alarm: &Alarm, capacity: &Capacity, desired: i32, limit: i32) -> Notification {
    let cluster = capacity.cluster_arn.rsplit('/').next().unwrap_or_default();
    Notification {
        event: "scaling.at_max",
        severity: Severity::Warning,
        subject: format!("At maximum capacity: {cluster}/{} ({desired} tasks) still in alarm", capacity.name),
        text: format!(
            "{cluster}/{} runs {desired} tasks, its maximum is {limit}, and it is still in alarm.\n\nCause:     {}\nRaise {} to let Deckhand add tasks.\n",
            capacity.name,
            metric_line(alarm),
            tags::SCALE_MAX,
        ),
        details: json!({"alarm": alarm.name, "metric": alarm.metric_name, "value": alarm.latest_datapoint, "threshold": alarm.threshold, "desired": desired, "max": limit}),
        cluster: Some(cluster.to_owned()),
        service: Some(capacity.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:at-max:{}", capacity.arn, alarm.name)),
    }
}
