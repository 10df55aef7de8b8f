//! GetMetricStatistics, shared by the scaler's newest value and the gate's window statistic.

use super::SdkCloudWatch;
use crate::adapters::aws::aws_error;
use crate::ports::{AwsResult, MetricQuery, MetricWindows};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types as cw;

impl SdkCloudWatch {
    /// `metric`'s datapoints from `start` to `end` (seconds since the epoch) in periods of
    /// `period` seconds, its statistic asked as `Statistics` or, for a percentile,
    /// `ExtendedStatistics`.
    pub(super) async fn datapoints(&self, metric: &MetricQuery, start: i64, end: i64, period: i32) -> AwsResult<Vec<cw::Datapoint>> {
        let dimensions = metric.dimensions.iter().map(|(name, value)| cw::Dimension::builder().name(name).value(value).build()).collect();
        let request = self
            .client
            .get_metric_statistics()
            .namespace(&metric.namespace)
            .metric_name(&metric.name)
            .set_dimensions(Some(dimensions))
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .period(period);
        let request = match standard_statistic(&metric.statistic) {
            Some(statistic) => request.statistics(statistic),
            None => request.extended_statistics(&metric.statistic),
        };
        let output = request.send().await.map_err(|err| aws_error("cloudwatch:GetMetricStatistics", err))?;
        Ok(output.datapoints.unwrap_or_default())
    }
}

impl MetricWindows for SdkCloudWatch {
    /// One period as long as the window, ending `now`. CloudWatch rounds the start down to the
    /// minute, so a second, partial period can come back: sums add up, and any other statistic
    /// takes the highest (for a p99 the cautious reading).
    async fn window_statistic(&self, metric: &MetricQuery, now: u64) -> AwsResult<Option<f64>> {
        let end = i64::try_from(now).unwrap_or(i64::MAX);
        let period = metric.period.max(60);
        let points = self.datapoints(metric, end - i64::from(period), end, period).await?;
        Ok(combined(points.iter().filter_map(|point| statistic_value(point, &metric.statistic)), &metric.statistic))
    }
}

/// Several periods' values of `statistic` as one.
fn combined(values: impl Iterator<Item = f64>, statistic: &str) -> Option<f64> {
    match statistic {
        "Sum" | "SampleCount" => values.reduce(|a, b| a + b),
        "Minimum" => values.reduce(f64::min),
        _ => values.reduce(f64::max),
    }
}

/// The statistics GetMetricStatistics takes as `Statistics`; any other (`p90`, `tm99`) is extended.
fn standard_statistic(statistic: &str) -> Option<cw::Statistic> {
    let standard = [cw::Statistic::Average, cw::Statistic::Maximum, cw::Statistic::Minimum, cw::Statistic::SampleCount, cw::Statistic::Sum];
    standard.into_iter().find(|s| s.as_str() == statistic)
}

pub(super) fn statistic_value(point: &cw::Datapoint, statistic: &str) -> Option<f64> {
    match standard_statistic(statistic) {
        Some(cw::Statistic::Average) => point.average(),
        Some(cw::Statistic::Maximum) => point.maximum(),
        Some(cw::Statistic::Minimum) => point.minimum(),
        Some(cw::Statistic::SampleCount) => point.sample_count(),
        Some(cw::Statistic::Sum) => point.sum(),
        _ => point.extended_statistics()?.get(statistic).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_of_the_alarms_statistic_is_read() {
        let point = cw::Datapoint::builder()
            .average(40.0)
            .maximum(95.0)
            .sum(120.0)
            .extended_statistics("p90", 88.0)
            .timestamp(DateTime::from_secs(1))
            .build();
        assert_eq!(statistic_value(&point, "Average"), Some(40.0));
        assert_eq!(statistic_value(&point, "Maximum"), Some(95.0));
        assert_eq!(statistic_value(&point, "p90"), Some(88.0));
        assert_eq!(statistic_value(&point, "p99"), None);
        assert!(standard_statistic("SampleCount").is_some() && standard_statistic("tm99").is_none());
    }

    #[test]
    fn periods_of_one_window_combine_by_statistic() {
        let table: [(&str, &[f64], Option<f64>); 5] = [
            ("Sum", &[120.0, 30.0], Some(150.0)),
            ("SampleCount", &[3.0, 4.0], Some(7.0)),
            ("Minimum", &[0.2, 0.1], Some(0.1)),
            ("p99", &[0.25, 0.41], Some(0.41)),
            ("Sum", &[], None),
        ];
        for (statistic, values, expected) in table {
            assert_eq!(combined(values.iter().copied(), statistic), expected, "{statistic} {values:?}");
        }
    }
}
