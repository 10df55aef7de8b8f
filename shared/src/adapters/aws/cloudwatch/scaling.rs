//! The scaler's reads of CloudWatch: alarms with what they watch, and a metric's current value.

use super::metrics::statistic_value;
use super::{SdkCloudWatch, latest_datapoint};
use crate::adapters::aws::aws_error;
use crate::ports::{AwsResult, MetricQuery, ScalingAlarm, ScalingAlarms, Watched};
use aws_sdk_cloudwatch::types as cw;
use std::collections::BTreeMap;

/// The scaler's view: alarms with what they watch (composite ones included, so that the scaler
/// can say why it does not act on one), and a metric's current value.
impl ScalingAlarms for SdkCloudWatch {
    async fn scaling_alarms(&self, names: &[String]) -> AwsResult<Vec<ScalingAlarm>> {
        let (metric, composite) = self.describe_named(names).await?;
        Ok(scaling_alarms_of(&metric, &composite))
    }

    async fn scaling_alarms_in_alarm(&self, prefix: &str) -> AwsResult<Vec<ScalingAlarm>> {
        let pages: Vec<_> = self
            .client
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .state_value(cw::StateValue::Alarm)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|err| aws_error("cloudwatch:DescribeAlarms", err))?;
        Ok(pages.iter().flat_map(|page| scaling_alarms_of(page.metric_alarms(), page.composite_alarms())).collect())
    }

    async fn latest_value(&self, metric: &MetricQuery, now: u64) -> AwsResult<Option<f64>> {
        let period = metric.period.max(1);
        // Metrics arrive a minute or two late: look back a few periods, at least five minutes.
        let window = (i64::from(period) * LOOKBACK_PERIODS).max(LOOKBACK_MIN_SECONDS);
        let end = i64::try_from(now).unwrap_or(i64::MAX);
        let points = self.datapoints(metric, end - window, end, period).await?;
        let newest = points.iter().filter(|point| point.timestamp().is_some()).max_by_key(|point| point.timestamp().copied());
        Ok(newest.and_then(|point| statistic_value(point, &metric.statistic)))
    }
}

const LOOKBACK_PERIODS: i64 = 5;
const LOOKBACK_MIN_SECONDS: i64 = 300;

fn scaling_alarms_of(metric_alarms: &[cw::MetricAlarm], composite_alarms: &[cw::CompositeAlarm]) -> Vec<ScalingAlarm> {
    let composite = composite_alarms.iter().map(|alarm| ScalingAlarm {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        state: alarm.state_value().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        comparison: None,
        threshold: None,
        watched: Watched::Composite { rule: alarm.alarm_rule().unwrap_or_default().to_owned() },
        reason_datapoint: None,
    });
    metric_alarms.iter().map(scaling_alarm).chain(composite).collect()
}

fn scaling_alarm(alarm: &cw::MetricAlarm) -> ScalingAlarm {
    let watched = match alarm.metric_name() {
        Some(name) => Watched::Metric(MetricQuery {
            namespace: alarm.namespace().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            dimensions: dimension_map(alarm.dimensions()),
            period: alarm.period().unwrap_or(60),
            statistic: match (alarm.statistic(), alarm.extended_statistic()) {
                (Some(statistic), _) => statistic.as_str().to_owned(),
                (None, Some(extended)) => extended.to_owned(),
                (None, None) => cw::Statistic::Average.as_str().to_owned(),
            },
        }),
        // No single metric: the alarm evaluates `Metrics`, a metric-math expression over them.
        None => {
            let queries = alarm.metrics();
            let expression = queries.iter().find(|q| q.return_data().unwrap_or(false)).and_then(|q| q.expression()).map(str::to_owned);
            let services = queries
                .iter()
                .filter_map(|q| q.metric_stat()?.metric())
                .map(|metric| dimension_map(metric.dimensions()))
                .filter_map(|d| Some(format!("{}/{}", d.get("ClusterName")?, d.get("ServiceName")?)))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            Watched::MetricMath { expression, services }
        }
    };
    ScalingAlarm {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        state: alarm.state_value().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        comparison: alarm.comparison_operator().map(|c| c.as_str().to_owned()),
        threshold: alarm.threshold(),
        watched,
        reason_datapoint: alarm.state_reason_data().and_then(latest_datapoint),
    }
}

fn dimension_map(dimensions: &[cw::Dimension]) -> BTreeMap<String, String> {
    dimensions.iter().filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimension(name: &str, value: &str) -> cw::Dimension {
        cw::Dimension::builder().name(name).value(value).build()
    }

    #[test]
    fn a_metric_alarm_names_its_metric_period_and_statistic() {
        let alarm = cw::MetricAlarm::builder()
            .alarm_name("deckhand-scale-prod-web-cpu-high")
            .state_value(cw::StateValue::Alarm)
            .namespace("AWS/ECS")
            .metric_name("CPUUtilization")
            .dimensions(dimension("ClusterName", "prod"))
            .dimensions(dimension("ServiceName", "web"))
            .period(60)
            .extended_statistic("p90")
            .threshold(70.0)
            .state_reason_data(r#"{"recentDatapoints":[85.0,91.2]}"#)
            .build();
        let read = scaling_alarm(&alarm);
        let Watched::Metric(metric) = &read.watched else { panic!("{read:?}") };
        assert_eq!((metric.namespace.as_str(), metric.period, metric.statistic.as_str()), ("AWS/ECS", 60, "p90"));
        assert_eq!(metric.dimensions.get("ServiceName").map(String::as_str), Some("web"));
        assert_eq!((read.state.as_str(), read.threshold, read.reason_datapoint), ("ALARM", Some(70.0), Some(91.2)));
    }

    #[test]
    fn a_metric_math_alarm_names_its_expression_and_services() {
        let query = |id: &str, metric: &str| {
            let metric = cw::Metric::builder()
                .namespace("AWS/ECS")
                .metric_name(metric)
                .dimensions(dimension("ClusterName", "prod"))
                .dimensions(dimension("ServiceName", "web"))
                .build();
            let stat = cw::MetricStat::builder().metric(metric).period(60).stat("Average").build();
            cw::MetricDataQuery::builder().id(id).metric_stat(stat).return_data(false).build()
        };
        let alarm = cw::MetricAlarm::builder()
            .alarm_name("deckhand-scale-prod-web-busy")
            .metrics(query("m1", "CPUUtilization"))
            .metrics(query("m2", "MemoryUtilization"))
            .metrics(cw::MetricDataQuery::builder().id("e1").expression("MAX([m1, m2])").return_data(true).build())
            .build();
        let expected = Watched::MetricMath { expression: Some("MAX([m1, m2])".into()), services: vec!["prod/web".into()] };
        assert_eq!(scaling_alarm(&alarm).watched, expected);
    }
}
