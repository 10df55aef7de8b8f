//! The ports: one small trait per capability the use cases act through, and the plain data they
//! exchange. No SDK type appears here: `adapters` implement these traits with the AWS SDK,
//! `fakes` in memory, and a use case names only the traits.

use crate::error::HandlerError;
use crate::notify::Notification;
use crate::usecase::region_failover::plan::Side;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

pub type AwsResult<T> = Result<T, HandlerError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    Ecs,
    CodeDeploy,
    External,
}

impl Controller {
    pub fn as_str(self) -> &'static str {
        match self {
            Controller::Ecs => "ECS",
            Controller::CodeDeploy => "CODE_DEPLOY",
            Controller::External => "EXTERNAL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub container_name: String,
    pub container_port: i32,
}

/// An ECS service as a rollout sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    pub task_definition: String,
    pub controller: Controller,
    pub tags: BTreeMap<String, String>,
    pub load_balancers: Vec<LoadBalancer>,
}

impl Service {
    /// The cluster's name (the last part of its ARN).
    pub fn cluster_name(&self) -> &str {
        self.cluster_arn.rsplit('/').next().unwrap_or(&self.cluster_arn)
    }
}

/// A container of a task definition, as far as a rollout cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: String,
}

/// One container moving from one image to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageUpdate {
    pub container: String,
    pub from: String,
    pub to: String,
}

/// A registered task definition, as far as a rollout reads it. The adapter keeps the full
/// document it described, to copy every field into the next revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    pub arn: String,
    pub revision: i32,
    pub containers: Vec<Container>,
    /// The revision Deckhand copied this one from (its tag `deckhand:revised-from`); `None` when
    /// Deckhand did not register it.
    pub revised_from: Option<String>,
}

impl TaskDefinition {
    /// `arn:…:task-definition/web:8` → `web`.
    pub fn family(&self) -> &str {
        let name = self.arn.rsplit_once("task-definition/").map_or(self.arn.as_str(), |(_, name)| name);
        name.rsplit_once(':').map_or(name, |(family, _)| family)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub arn: String,
    pub revision: i32,
}

pub trait EcsServices {
    /// Services of the cluster that carry the `deckhand:track` tag.
    fn opted_in_services(&self, cluster: &str) -> impl Future<Output = AwsResult<Vec<Service>>> + Send;
    /// Rolling update to `task_definition`, circuit breaker with rollback on and the service's
    /// own deployment settings kept; the deployment id.
    fn roll_out(&self, service: &Service, task_definition: &str) -> impl Future<Output = AwsResult<String>> + Send;
}

/// One of a service's ECS deployments, as DescribeServices lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsDeployment {
    pub id: String,
    /// PRIMARY (the newest), ACTIVE (older, draining) or INACTIVE.
    pub status: String,
    pub task_definition: String,
}

pub trait ServiceDeployments {
    /// The deployments a service currently lists; empty when the service does not exist.
    fn deployments_of(&self, cluster: &str, service: &str) -> impl Future<Output = AwsResult<Vec<EcsDeployment>>> + Send;
}

pub trait TaskDefinitions {
    fn describe(&self, arn: &str) -> impl Future<Output = AwsResult<TaskDefinition>> + Send;
    /// The family's newest ACTIVE revision.
    fn latest_revision(&self, family: &str) -> impl Future<Output = AwsResult<TaskDefinition>> + Send;
    /// Registers a copy of `source` (every field RegisterTaskDefinition accepts) with the images
    /// updated; `pushed_tag` is recorded as a docker label, `source` as `deckhand:revised-from`.
    fn register_revision(
        &self,
        source: &TaskDefinition,
        updates: &[ImageUpdate],
        pushed_tag: Option<&str>,
    ) -> impl Future<Output = AwsResult<Registered>> + Send;
}

/// A CodeDeploy deployment that has not ended yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveDeployment {
    pub id: String,
    pub task_definition: Option<String>,
}

/// What a CodeDeploy ECS deployment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreenRequest<'a> {
    pub application: &'a str,
    pub deployment_group: &'a str,
    pub task_definition: &'a str,
    pub container_name: &'a str,
    pub container_port: i32,
    /// CodeDeploy deployment configuration (traffic shift); the group's default when `None`.
    pub deployment_config: Option<&'a str>,
    pub description: String,
}

/// What a CodeDeploy deployment was about and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentDetails {
    pub application: String,
    pub deployment_group: String,
    pub task_definition: Option<String>,
    /// `CODE: message` when it failed.
    pub error: Option<String>,
    pub rollback: Option<String>,
}

/// A CodeDeploy deployment group of ECS services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentGroup {
    /// (cluster, service)
    pub services: Vec<(String, String)>,
    pub production_listeners: Vec<String>,
    pub test_listeners: Vec<String>,
}

/// How CodeDeploy took a hook's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// CodeDeploy acts on this status.
    Accepted,
    /// The hook execution already had a status (`LifecycleEventAlreadyCompletedException`): an
    /// earlier attempt reported it and its answer, or what followed it, was lost. CodeDeploy keeps
    /// and acts on that first status, which may differ from this one.
    AlreadyCompleted,
}

/// Answers a CodeDeploy lifecycle hook.
pub trait HookReporter {
    fn report(&self, deployment_id: &str, execution_id: &str, succeeded: bool) -> impl Future<Output = AwsResult<Reported>> + Send;
}

/// One target of a target group and its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub state: String,
    pub reason: Option<String>,
}

pub trait LoadBalancers {
    fn target_health(&self, target_group: &str) -> impl Future<Output = AwsResult<Vec<Target>>> + Send;
    /// The target group a listener forwards to (the heaviest, when weighted).
    fn forward_target_group(&self, listener: &str) -> impl Future<Output = AwsResult<Option<String>>> + Send;
}

pub trait CodeDeployments {
    fn deployment(&self, id: &str) -> impl Future<Output = AwsResult<DeploymentDetails>> + Send;
    fn deployment_group(&self, application: &str, group: &str) -> impl Future<Output = AwsResult<DeploymentGroup>> + Send;
    /// Stops a deployment and rolls it back.
    fn stop_deployment(&self, id: &str) -> impl Future<Output = AwsResult<()>> + Send;
    fn active_deployment(&self, application: &str, group: &str) -> impl Future<Output = AwsResult<Option<ActiveDeployment>>> + Send;
    fn create_deployment(&self, request: &BlueGreenRequest<'_>) -> impl Future<Output = AwsResult<String>> + Send;
}

pub trait Notifier {
    /// Publishes and returns the message id.
    fn publish(&self, notification: &Notification) -> impl Future<Output = AwsResult<String>> + Send;
}

/// A CloudWatch alarm, as far as Deckhand acts on it: a metric alarm, or a composite alarm (which
/// has a state but no metric, comparison, threshold or datapoint).
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub name: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state: String,
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    pub metric_name: Option<String>,
    pub dimensions: BTreeMap<String, String>,
    /// The newest datapoint CloudWatch evaluated (from the state reason data).
    pub latest_datapoint: Option<f64>,
    /// When the alarm entered its current state (seconds since the epoch).
    pub since: Option<u64>,
}

impl Alarm {
    /// A composite alarm: its rule combines other alarms, so only its state and since when it holds.
    pub fn composite(name: impl Into<String>, state: impl Into<String>, since: Option<u64>) -> Self {
        Alarm {
            name: name.into(),
            state: state.into(),
            comparison: None,
            threshold: None,
            metric_name: None,
            dimensions: BTreeMap::new(),
            latest_datapoint: None,
            since,
        }
    }
}

pub trait Alarms {
    /// The alarms of these names, of either kind (metric or composite), as a user may name either;
    /// a name that matches none is left out.
    fn named(&self, names: &[String]) -> impl Future<Output = AwsResult<Vec<Alarm>>> + Send;
    fn in_alarm_with_prefix(&self, prefix: &str) -> impl Future<Output = AwsResult<Vec<Alarm>>> + Send;
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

/// What scaling needs to know about a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity {
    pub arn: String,
    pub cluster_arn: String,
    pub name: String,
    pub desired: i32,
    pub running: i32,
    pub controller: Controller,
    pub tags: BTreeMap<String, String>,
    /// ECS deployments listed (more than one: a rolling deployment is under way).
    pub deployments: usize,
    /// Task sets (more than one: a blue/green deployment runs green beside blue).
    pub task_sets: usize,
    /// ECS blue/green: the target group the new revision registers in.
    pub alternate_target_group: Option<String>,
}

pub trait ServiceCapacity {
    /// `None` when the service does not exist (or is not ACTIVE).
    fn capacity(&self, cluster: &str, service: &str) -> impl Future<Output = AwsResult<Option<Capacity>>> + Send;
    /// Records a tag on the service (the scaler's cooldown memory).
    fn tag_service(&self, service_arn: &str, key: &str, value: &str) -> impl Future<Output = AwsResult<()>> + Send;
    fn set_desired_count(&self, cluster: &str, service: &str, desired: i32) -> impl Future<Output = AwsResult<()>> + Send;
    fn untag_service(&self, service_arn: &str, key: &str) -> impl Future<Output = AwsResult<()>> + Send;
}

/// A name served from two regions: one record per region, told apart by set identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecords {
    pub zone: String,
    pub name: String,
    pub record_type: String,
    pub primary_id: String,
    pub standby_id: String,
}

pub trait Dns {
    /// Which region the records send traffic to (`None`: neither, by their policy).
    fn serving(&self, records: &DnsRecords) -> impl Future<Output = AwsResult<Option<Side>>> + Send;
    /// Points the records at `to`; the change id.
    fn point_to(&self, records: &DnsRecords, to: Side) -> impl Future<Output = AwsResult<String>> + Send;
    /// Waits up to `bound` for the change to be INSYNC; whether it is.
    fn wait_in_sync(&self, change_id: &str, bound: std::time::Duration) -> impl Future<Output = AwsResult<bool>> + Send;
}

/// What one HTTP probe of a new revision found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProbeOutcome {
    pub ok: bool,
    /// `HTTP 200 in 12 ms`, `connection refused`, `timed out after 2000 ms`.
    pub detail: String,
}

pub trait Prober {
    /// GETs `url`; healthy when the status is one of `expected`.
    fn probe(&self, url: &str, expected: &[u16]) -> impl Future<Output = ProbeOutcome> + Send;
}
