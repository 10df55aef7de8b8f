//! ECS as the use cases see it: services and their deployments, task definitions, and a
//! service's capacity for scaling.

use super::AwsResult;
use super::native::{Shift, Strategy};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

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
    /// Under the ECS controller: how ECS deploys (rolling, or shifting traffic between revisions).
    pub strategy: Strategy,
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

/// A service as the tag index (the Resource Groups Tagging API) lists it: its ARN and its tags,
/// as the index has them. The index is eventually consistent: a tag set or removed moments ago
/// may not show yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedService {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

impl IndexedService {
    /// The cluster's name, from the ARN (`…:service/CLUSTER/NAME`); `None` for a service ARN of
    /// ECS's older format (`…:service/NAME`), which does not name its cluster.
    pub fn cluster_name(&self) -> Option<&str> {
        self.arn.rsplit_once(":service/").and_then(|(_, path)| path.split_once('/')).map(|(cluster, _)| cluster)
    }

    /// The service's name (the ARN's last part).
    pub fn name(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}

pub trait EcsServices {
    /// The services of the region that carry the tag `key`, with their tags, from the tag index:
    /// every cluster in one paginated read, whatever the fleet's other services.
    fn services_tagged(&self, key: &str) -> impl Future<Output = AwsResult<Vec<IndexedService>>> + Send;
    /// These services of `cluster` (ARNs), as ECS describes them now: those that exist and carry
    /// the `deckhand:track` tag.
    fn tracked_services(&self, cluster: &str, services: &[String]) -> impl Future<Output = AwsResult<Vec<Service>>> + Send;
    /// A deployment of `task_definition` under the ECS controller: the service's own strategy and
    /// settings (bake time, hooks, alarms, percentages) kept, `shift` over them, the circuit
    /// breaker with rollback on; the deployment id.
    fn roll_out(&self, service: &Service, task_definition: &str, shift: Option<&Shift>) -> impl Future<Output = AwsResult<String>> + Send;
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

/// What scaling needs to know about a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity {
    pub arn: String,
    pub cluster_arn: String,
    pub name: String,
    pub desired: i32,
    pub running: i32,
    pub controller: Controller,
    pub strategy: Strategy,
    pub tags: BTreeMap<String, String>,
    /// ECS deployments listed (more than one: a rolling deployment is under way).
    pub deployments: usize,
    /// Task sets (more than one: a blue/green deployment runs green beside blue).
    pub task_sets: usize,
    /// The first load balancer's target group: the one production traffic reaches.
    pub target_group: Option<String>,
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
