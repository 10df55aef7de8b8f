//! CloudWatch as the use cases see it: alarms to act on, alarms and metrics to scale by, and
//! metrics over a window to compare target groups by.

use super::AwsResult;
use std::collections::BTreeMap;
use std::future::Future;

/// An alarm a user names (a region's health, a gate's alarm), as far as Deckhand reads it: its
/// state and since when it holds. Metric or composite alike; the scaler reads more, see
/// [`ScalingAlarm`].
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub name: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state: String,
    /// When the alarm entered its current state (seconds since the epoch).
    pub since: Option<u64>,
}

impl Alarm {
    pub fn new(name: impl Into<String>, state: impl Into<String>, since: Option<u64>) -> Self {
        Alarm { name: name.into(), state: state.into(), since }
    }
}

pub trait Alarms {
    /// The alarms of these names, of either kind (metric or composite), as a user may name either;
    /// a name that matches none is left out.
    fn named(&self, names: &[String]) -> impl Future<Output = AwsResult<Vec<Alarm>>> + Send;
}

/// A metric and how an alarm aggregates it: enough to read the metric's current value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    /// Seconds.
    pub period: i32,
    /// `Average`, `Maximum`, `Minimum`, `Sum`, `SampleCount`, or a percentile such as `p90`.
    pub statistic: String,
}

/// What an alarm watches, as far as scaling can size from it.
#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    /// One metric with one statistic.
    Metric(MetricQuery),
    /// A metric-math expression (or anomaly-detection band) over several metrics; the distinct
    /// `cluster/service` pairs its metrics name.
    MetricMath { expression: Option<String>, services: Vec<String> },
    /// A composite alarm: a rule over other alarms, no metric of its own.
    Composite { rule: String },
}

/// An alarm as the scaler reads it: a metric alarm or a composite one.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingAlarm {
    pub name: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state: String,
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    pub watched: Watched,
    /// The newest datapoint CloudWatch evaluated when the alarm last changed state (its state
    /// reason data). CloudWatch does not refresh it while the alarm stays in that state.
    pub reason_datapoint: Option<f64>,
}

impl ScalingAlarm {
    /// The metric's name, when the alarm watches one metric.
    pub fn metric_name(&self) -> Option<&str> {
        match &self.watched {
            Watched::Metric(metric) => Some(&metric.name),
            _ => None,
        }
    }
}

/// CloudWatch as the scaler reads it: alarms with what they watch, and metrics' current values.
pub trait ScalingAlarms {
    /// The named alarms, metric and composite; an alarm that does not exist is left out.
    fn scaling_alarms(&self, names: &[String]) -> impl Future<Output = AwsResult<Vec<ScalingAlarm>>> + Send;
    /// The metric alarms whose names start with `prefix` and that are in ALARM.
    fn scaling_alarms_in_alarm(&self, prefix: &str) -> impl Future<Output = AwsResult<Vec<ScalingAlarm>>> + Send;
    /// The newest datapoint of `metric` (its period and statistic) in the last few periods before
    /// `now` (seconds since the epoch); `None` when there is none.
    fn latest_value(&self, metric: &MetricQuery, now: u64) -> impl Future<Output = AwsResult<Option<f64>>> + Send;
}

/// CloudWatch metrics as the traffic gate compares target groups by: a statistic over the last
/// few minutes.
pub trait MetricWindows {
    /// `metric`'s statistic over the `metric.period` seconds up to `now` (seconds since the
    /// epoch) as one period: `Sum` adds up, a percentile is over the whole window; `None` when
    /// the window holds no datapoint.
    fn window_statistic(&self, metric: &MetricQuery, now: u64) -> impl Future<Output = AwsResult<Option<f64>>> + Send;
}
