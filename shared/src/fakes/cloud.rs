//! Fakes of the smaller ports: SNS, CloudWatch alarms, load balancer health, Route 53 records,
//! and the HTTP prober.

use super::{Faults, lock};
use crate::error::HandlerError;
use crate::notify::Notification;
use crate::ports::{Alarm, Alarms, AwsResult, Dns, DnsRecords, LoadBalancers, Notifier, ProbeOutcome, Prober, Target};
use crate::ports::{MetricQuery, MetricWindows, ScalingAlarm, ScalingAlarms, Watched};
use crate::usecase::region_failover::plan::Side;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// SNS: what was published, in order.
#[derive(Debug, Clone, Default)]
pub struct FakeSns {
    published: Arc<Mutex<Vec<Notification>>>,
    faults: Faults,
}

impl FakeSns {
    pub fn new(faults: &Faults) -> Self {
        Self { published: Arc::default(), faults: faults.clone() }
    }

    pub fn published(&self) -> Vec<Notification> {
        lock(&self.published).clone()
    }
}

impl Notifier for FakeSns {
    async fn publish(&self, notification: &Notification) -> AwsResult<String> {
        self.faults.call("sns:Publish", || {
            // As SNS does: a Publish over 256 KiB is refused.
            let size = notification.publication().size();
            if size > crate::notify::PUBLISH_MAX {
                return Err(HandlerError::Aws {
                    operation: "sns:Publish",
                    message: format!("InvalidParameter: Message too long ({size} bytes)"),
                });
            }
            let mut published = lock(&self.published);
            published.push(notification.clone());
            Ok(format!("msg-{}", published.len()))
        })
    }
}

/// CloudWatch alarms, metric and composite (either built with [`Alarm::new`]): `named` finds either kind, as
/// the SDK adapter asks DescribeAlarms for both.
#[derive(Debug, Clone, Default)]
pub struct FakeCloudWatch {
    alarms: Arc<Mutex<Vec<Alarm>>>,
    /// The scaler's view of alarms (with what they watch), apart from `alarms`.
    scaling_alarms: Arc<Mutex<Vec<ScalingAlarm>>>,
    /// Each metric's value by namespace, name and dimensions: its newest datapoint for the scaler,
    /// its statistic over the window for the gate.
    metrics: Arc<Mutex<BTreeMap<MetricKey, f64>>>,
    faults: Faults,
}

type MetricKey = (String, String, BTreeMap<String, String>);

fn metric_key(metric: &MetricQuery) -> MetricKey {
    (metric.namespace.clone(), metric.name.clone(), metric.dimensions.clone())
}

impl FakeCloudWatch {
    pub fn new(faults: &Faults) -> Self {
        Self { faults: faults.clone(), ..Self::default() }
    }

    /// Adds the scaling alarm, or replaces the one of the same name.
    pub fn put_scaling_alarm(&self, alarm: ScalingAlarm) {
        let mut alarms = lock(&self.scaling_alarms);
        alarms.retain(|a| a.name != alarm.name);
        alarms.push(alarm);
    }

    /// The metric's value from now on, newest datapoint and window statistic alike (`None`: no
    /// datapoint in the window).
    pub fn set_metric(&self, metric: &MetricQuery, value: Option<f64>) {
        let mut metrics = lock(&self.metrics);
        match value {
            Some(value) => metrics.insert(metric_key(metric), value),
            None => metrics.remove(&metric_key(metric)),
        };
    }

    /// Adds the alarm, or replaces the one of the same name.
    pub fn put_alarm(&self, alarm: Alarm) {
        let mut alarms = lock(&self.alarms);
        alarms.retain(|a| a.name != alarm.name);
        alarms.push(alarm);
    }
}

impl Alarms for FakeCloudWatch {
    async fn named(&self, names: &[String]) -> AwsResult<Vec<Alarm>> {
        self.faults
            .call("cloudwatch:DescribeAlarms", || Ok(lock(&self.alarms).iter().filter(|a| names.contains(&a.name)).cloned().collect()))
    }
}

impl ScalingAlarms for FakeCloudWatch {
    async fn scaling_alarms(&self, names: &[String]) -> AwsResult<Vec<ScalingAlarm>> {
        self.faults.call("cloudwatch:DescribeAlarms", || {
            Ok(lock(&self.scaling_alarms).iter().filter(|a| names.contains(&a.name)).cloned().collect())
        })
    }

    async fn scaling_alarms_in_alarm(&self, prefix: &str) -> AwsResult<Vec<ScalingAlarm>> {
        self.faults.call("cloudwatch:DescribeAlarms", || {
            let alarms = lock(&self.scaling_alarms);
            let metric_alarm = |a: &&ScalingAlarm| !matches!(a.watched, Watched::Composite { .. });
            Ok(alarms.iter().filter(metric_alarm).filter(|a| a.name.starts_with(prefix) && a.state == "ALARM").cloned().collect())
        })
    }

    async fn latest_value(&self, metric: &MetricQuery, _now: u64) -> AwsResult<Option<f64>> {
        self.faults.call("cloudwatch:GetMetricStatistics", || Ok(lock(&self.metrics).get(&metric_key(metric)).copied()))
    }
}

impl MetricWindows for FakeCloudWatch {
    async fn window_statistic(&self, metric: &MetricQuery, _now: u64) -> AwsResult<Option<f64>> {
        self.faults.call("cloudwatch:GetMetricStatistics", || Ok(lock(&self.metrics).get(&metric_key(metric)).copied()))
    }
}

/// Target groups' health and load balancers, and which target group each listener forwards to.
#[derive(Debug, Clone, Default)]
pub struct FakeElb {
    targets: Arc<Mutex<BTreeMap<String, Vec<Target>>>>,
    listeners: Arc<Mutex<BTreeMap<String, String>>>,
    load_balancers: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
    faults: Faults,
}

impl FakeElb {
    pub fn new(faults: &Faults) -> Self {
        Self { faults: faults.clone(), ..Self::default() }
    }

    pub fn set_targets(&self, target_group: &str, targets: Vec<Target>) {
        lock(&self.targets).insert(target_group.to_owned(), targets);
    }

    pub fn set_listener(&self, listener: &str, target_group: &str) {
        lock(&self.listeners).insert(listener.to_owned(), target_group.to_owned());
    }

    /// The target group exists, routed to by `load_balancers`.
    pub fn set_load_balancers(&self, target_group: &str, load_balancers: &[&str]) {
        lock(&self.load_balancers).insert(target_group.to_owned(), load_balancers.iter().map(|lb| (*lb).to_owned()).collect());
    }
}

impl LoadBalancers for FakeElb {
    async fn target_health(&self, target_group: &str) -> AwsResult<Vec<Target>> {
        self.faults.call("elasticloadbalancing:DescribeTargetHealth", || {
            lock(&self.targets).get(target_group).cloned().ok_or_else(|| HandlerError::Aws {
                operation: "elasticloadbalancing:DescribeTargetHealth",
                message: format!("TargetGroupNotFound: {target_group}"),
            })
        })
    }

    async fn forward_target_group(&self, listener: &str) -> AwsResult<Option<String>> {
        self.faults.call("elasticloadbalancing:DescribeListeners", || Ok(lock(&self.listeners).get(listener).cloned()))
    }

    /// As ELB: a target group of neither `set_targets` nor `set_load_balancers` does not exist.
    async fn load_balancers_of(&self, target_groups: &[String]) -> AwsResult<BTreeMap<String, Vec<String>>> {
        self.faults.call("elasticloadbalancing:DescribeTargetGroups", || {
            let (known, targets) = (lock(&self.load_balancers), lock(&self.targets));
            target_groups
                .iter()
                .map(|group| match known.get(group) {
                    Some(balancers) => Ok((group.clone(), balancers.clone())),
                    None if targets.contains_key(group) => Ok((group.clone(), Vec::new())),
                    None => Err(HandlerError::Aws {
                        operation: "elasticloadbalancing:DescribeTargetGroups",
                        message: format!("TargetGroupNotFound: {group}"),
                    }),
                })
                .collect()
        })
    }
}

/// The failover pair's records: which side they send traffic to, and every change made.
#[derive(Debug, Clone, Default)]
pub struct FakeDns {
    serving: Arc<Mutex<Option<Side>>>,
    changes: Arc<Mutex<Vec<Side>>>,
    faults: Faults,
}

impl FakeDns {
    pub fn new(faults: &Faults) -> Self {
        Self { serving: Arc::new(Mutex::new(Some(Side::Primary))), changes: Arc::default(), faults: faults.clone() }
    }

    pub fn serving_now(&self) -> Option<Side> {
        *lock(&self.serving)
    }

    pub fn set_serving(&self, side: Option<Side>) {
        *lock(&self.serving) = side;
    }

    /// Every ChangeResourceRecordSets that took effect, by the side it pointed to.
    pub fn changes(&self) -> Vec<Side> {
        lock(&self.changes).clone()
    }
}

impl Dns for FakeDns {
    async fn serving(&self, _records: &DnsRecords) -> AwsResult<Option<Side>> {
        self.faults.call("route53:ListResourceRecordSets", || Ok(*lock(&self.serving)))
    }

    async fn point_to(&self, _records: &DnsRecords, to: Side) -> AwsResult<String> {
        self.faults.call("route53:ChangeResourceRecordSets", || {
            *lock(&self.serving) = Some(to);
            let mut changes = lock(&self.changes);
            changes.push(to);
            Ok(format!("C{}", changes.len()))
        })
    }

    async fn wait_in_sync(&self, _change_id: &str, _bound: Duration) -> AwsResult<bool> {
        self.faults.call("route53:GetChange", || Ok(true))
    }
}

/// Probes answered from a script, in order; healthy once the script runs out.
#[derive(Debug, Clone, Default)]
pub struct FakeProber {
    script: Arc<Mutex<VecDeque<ProbeOutcome>>>,
    urls: Arc<Mutex<Vec<String>>>,
}

impl FakeProber {
    pub fn answering(outcomes: impl IntoIterator<Item = (bool, &'static str)>) -> Self {
        let script = outcomes.into_iter().map(|(ok, detail)| ProbeOutcome { ok, detail: detail.to_owned() }).collect();
        Self { script: Arc::new(Mutex::new(script)), urls: Arc::default() }
    }

    /// The URLs probed, in order.
    pub fn urls(&self) -> Vec<String> {
        lock(&self.urls).clone()
    }
}

impl Prober for FakeProber {
    async fn probe(&self, url: &str, _expected: &[u16]) -> ProbeOutcome {
        lock(&self.urls).push(url.to_owned());
        lock(&self.script).pop_front().unwrap_or(ProbeOutcome { ok: true, detail: "HTTP 200 in 1 ms".into() })
    }
}
