//! CloudWatch alarms through the SDK: metric and composite alarms by name; the scaler's reads in
//! `scaling`; GetMetricStatistics, for the scaler and the gate's window statistics, in `metrics`.

mod metrics;
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

    /// The alarms of these names, both kinds: without `AlarmTypes`, DescribeAlarms returns metric
    /// alarms only, and a composite alarm a user names would read as missing.
    async fn describe_named(&self, names: &[String]) -> AwsResult<(Vec<MetricAlarm>, Vec<CompositeAlarm>)> {
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
        let (mut metric, mut composite) = (Vec::new(), Vec::new());
        for page in pages {
            metric.extend(page.metric_alarms.unwrap_or_default());
            composite.extend(page.composite_alarms.unwrap_or_default());
        }
        Ok((metric, composite))
    }
}

impl Alarms for SdkCloudWatch {
    async fn named(&self, names: &[String]) -> AwsResult<Vec<Alarm>> {
        let (metric, composite) = self.describe_named(names).await?;
        let metric =
            metric.into_iter().map(|a| alarm(a.alarm_name, a.state_value, a.state_transitioned_timestamp, a.state_updated_timestamp));
        let composite =
            composite.into_iter().map(|a| alarm(a.alarm_name, a.state_value, a.state_transitioned_timestamp, a.state_updated_timestamp));
        Ok(metric.chain(composite).collect())
    }
}

/// The fields both kinds of alarm share, as the port's [`Alarm`].
fn alarm(name: Option<String>, state: Option<StateValue>, transitioned: Option<DateTime>, updated: Option<DateTime>) -> Alarm {
    Alarm::new(name.unwrap_or_default(), state.map(|s| s.as_str().to_owned()).unwrap_or_default(), since(transitioned, updated))
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
