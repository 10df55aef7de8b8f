//! The ports: one small trait per capability the use cases act through, and the plain data they
//! exchange. No SDK type appears here: `adapters` implement these traits with the AWS SDK,
//! `fakes` in memory, and a use case names only the traits.

mod cloudwatch;
mod codedeploy;
mod ecr;
mod ecs;
mod native;

pub use cloudwatch::{Alarm, Alarms, MetricQuery, MetricWindows, ScalingAlarm, ScalingAlarms, Watched};
pub use codedeploy::{ActiveDeployment, BlueGreenRequest, CodeDeployments, DeploymentDetails, DeploymentGroup, HookReporter, Reported};
pub use ecr::{Registry, RegistryImage, SEVERITIES, ScanFinding, ScanReport, severity_rank};
pub use ecs::{
    Capacity, Container, Controller, EcsDeployment, EcsServices, ImageUpdate, IndexedService, LoadBalancer, Registered, Service,
    ServiceCapacity, ServiceDeployments, TaskDefinition, TaskDefinitions,
};
pub use native::{HookAction, LifecycleHook, NativeDeployment, NativeDeployments, RevisionShare, Shift, Strategy};

use crate::error::HandlerError;
use crate::notify::Notification;
use crate::usecase::region_failover::plan::Side;
use serde::Serialize;
use std::future::Future;

pub type AwsResult<T> = Result<T, HandlerError>;

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
    /// The load balancers that route to each of these target groups (ARNs, by target group); a
    /// target group that does not exist is an error, as ELB answers.
    fn load_balancers_of(
        &self,
        target_groups: &[String],
    ) -> impl Future<Output = AwsResult<std::collections::BTreeMap<String, Vec<String>>>> + Send;
}

pub trait Notifier {
    /// Publishes and returns the message id.
    fn publish(&self, notification: &Notification) -> impl Future<Output = AwsResult<String>> + Send;
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
