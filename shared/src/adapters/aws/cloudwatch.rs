//! CloudWatch alarms through the SDK: metric and composite alarms by name, scaling alarms by prefix.

mod scaling;

use super::aws_error;
use crate::ports::{Alarm, Alarms, AwsResult};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm, StateValue};

#[derive(Debug, Clone)]
pub struct SdkCloudWatch {
    client: Client,
}

impl SdkCloudWatch {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Alarms for SdkCloudWatch {
    /// Both kinds: without `AlarmTypes`, DescribeAlarms returns metric alarms only, and a composite
    /// alarm named by a user (a region's health, a gate's alarm) would read as missing.
    async fn named(&self, names: &[String]) -> AwsResult<Vec<Alarm>> {
        let pages = self
            .client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|err| aws_error("cloudwatch:DescribeAlarms", err))?;
        let mut alarms = Vec::new();
        for page in pages {
            alarms.extend(page.metric_alarms.unwrap_or_default().into_iter().map(alarm_from_sdk));
            alarms.extend(page.composite_alarms.unwrap_or_default().into_iter().map(composite_from_sdk));
        }
        Ok(alarms)
    }

    async fn in_alarm_with_prefix(&self, prefix: &str) -> AwsResult<Vec<Alarm>> {
        let alarms: Vec<MetricAlarm> = self
            .client
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .state_value(StateValue::Alarm)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|err| aws_error("cloudwatch:DescribeAlarms", err))?
            .into_iter()
            .flat_map(|page| page.metric_alarms.unwrap_or_default())
            .collect();
        Ok(alarms.into_iter().map(alarm_from_sdk).collect())
    }
}

fn alarm_from_sdk(alarm: MetricAlarm) -> Alarm {
    let dimensions = alarm.dimensions.unwrap_or_default().into_iter().filter_map(|d| Some((d.name?, d.value?))).collect();
    Alarm {
        name: alarm.alarm_name.unwrap_or_default(),
        state: alarm.state_value.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        comparison: alarm.comparison_operator.map(|c| c.as_str().to_owned()),
        threshold: alarm.threshold,
        metric_name: alarm.metric_name,
        dimensions,
        latest_datapoint: alarm.state_reason_data.as_deref().and_then(latest_datapoint),
        since: since(alarm.state_transitioned_timestamp, alarm.state_updated_timestamp),
    }
}

fn composite_from_sdk(alarm: CompositeAlarm) -> Alarm {
    let state = alarm.state_value.map(|s| s.as_str().to_owned()).unwrap_or_default();
    Alarm::composite(alarm.alarm_name.unwrap_or_default(), state, since(alarm.state_transitioned_timestamp, alarm.state_updated_timestamp))
}

/// When the alarm entered its state: `StateTransitionedTimestamp` (the last change of its state
/// value); `StateUpdatedTimestamp` also moves on updates that keep the state, so it is only the
/// fallback for answers without the former (moto's).
fn since(transitioned: Option<DateTime>, updated: Option<DateTime>) -> Option<u64> {
    transitioned.or(updated).map(|t| t.secs().max(0) as u64)
}

/// The newest of `recentDatapoints` in an alarm's state reason data.
pub fn latest_datapoint(reason_data: &str) -> Option<f64> {
    let data: serde_json::Value = serde_json::from_str(reason_data).ok()?;
    data.get("recentDatapoints")?.as_array()?.iter().rev().find_map(serde_json::Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_newest_datapoint() {
        assert_eq!(latest_datapoint(r#"{"version":"1.0","recentDatapoints":[71.5,88.25],"threshold":70.0}"#), Some(88.25));
        assert_eq!(latest_datapoint(r#"{"recentDatapoints":[]}"#), None);
        assert_eq!(latest_datapoint("{}"), None);
        assert_eq!(latest_datapoint("not json"), None);
    }
}
