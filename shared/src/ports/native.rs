//! ECS-native deployments as the use cases see them: a service's strategy, its service
//! deployments (stage, traffic, lifecycle hooks) and the calls that steer one.

use super::AwsResult;
use serde::Serialize;
use std::future::Future;

/// `deploymentConfiguration.strategy` of a service under the ECS controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Strategy {
    /// Also what ECS assumes when a service names no strategy.
    #[default]
    Rolling,
    BlueGreen,
    Linear,
    Canary,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Rolling => "ROLLING",
            Strategy::BlueGreen => "BLUE_GREEN",
            Strategy::Linear => "LINEAR",
            Strategy::Canary => "CANARY",
        }
    }

    /// The strategy ECS names; `None` for a name it does not (yet) have.
    pub fn from_ecs(name: &str) -> Option<Self> {
        [Strategy::Rolling, Strategy::BlueGreen, Strategy::Linear, Strategy::Canary].into_iter().find(|s| s.as_str() == name)
    }

    /// Traffic moves between two revisions behind a load balancer (not task by task).
    pub fn shifts_traffic(self) -> bool {
        self != Strategy::Rolling
    }
}

/// How a deployment shifts traffic, as `deckhand:shift` sets it over the service's own settings.
/// `None` fields keep the service's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Shift {
    pub strategy: Option<Strategy>,
    /// LINEAR: the share each step moves; CANARY: the canary's share (percent).
    pub percent: Option<f64>,
    /// Minutes between linear steps, or after the canary.
    pub step_bake_minutes: Option<i32>,
    /// Minutes both revisions stay up after all production traffic moved.
    pub bake_minutes: Option<i32>,
}

/// What a paused (or any) lifecycle hook is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HookAction {
    Continue,
    Rollback,
}

impl HookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HookAction::Continue => "CONTINUE",
            HookAction::Rollback => "ROLLBACK",
        }
    }
}

/// A lifecycle hook of a service deployment (`lifecycleHookDetails`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleHook {
    pub id: String,
    /// `AWS_LAMBDA` or `PAUSE`.
    pub target_type: String,
    /// `AWAITING_ACTION`, `IN_PROGRESS`, `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
    pub status: String,
    /// When ECS stops waiting (seconds since the epoch), then applies `timeout_action`.
    pub expires_at: Option<u64>,
    pub timeout_action: Option<String>,
}

impl LifecycleHook {
    pub fn awaiting_action(&self) -> bool {
        self.status == "AWAITING_ACTION"
    }
}

/// One service revision of a deployment, its task definition and its share of traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionShare {
    pub revision_arn: String,
    /// From DescribeServiceRevisions; `None` when ECS did not describe it.
    pub task_definition: Option<String>,
    pub production_weight: Option<f64>,
    pub test_weight: Option<f64>,
    pub running: i32,
    pub requested: i32,
}

/// A service deployment (ListServiceDeployments / DescribeServiceDeployments).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NativeDeployment {
    pub arn: String,
    pub service_arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOPPED`, `STOP_REQUESTED`, `ROLLBACK_REQUESTED`,
    /// `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL` or `ROLLBACK_FAILED`.
    pub status: String,
    pub status_reason: Option<String>,
    pub strategy: Option<Strategy>,
    /// `lifecycleStage`: where it is (`PRODUCTION_TRAFFIC_SHIFT`, `BAKE_TIME`, …).
    pub stage: Option<String>,
    /// Seconds since the epoch.
    pub created_at: Option<u64>,
    pub started_at: Option<u64>,
    pub finished_at: Option<u64>,
    pub bake_minutes: Option<i32>,
    pub target: Option<RevisionShare>,
    pub sources: Vec<RevisionShare>,
    pub hooks: Vec<LifecycleHook>,
}

impl NativeDeployment {
    /// Still moving (forward or back): a new deployment would meet it.
    pub fn in_flight(&self) -> bool {
        matches!(self.status.as_str(), "PENDING" | "IN_PROGRESS" | "STOP_REQUESTED" | "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS")
    }

    /// Going forward to its target (not being stopped or rolled back).
    pub fn advancing(&self) -> bool {
        matches!(self.status.as_str(), "PENDING" | "IN_PROGRESS")
    }

    /// The task definition it deploys.
    pub fn target_task_definition(&self) -> Option<&str> {
        self.target.as_ref().and_then(|t| t.task_definition.as_deref())
    }

    /// The task definition it replaces (the first source revision).
    pub fn source_task_definition(&self) -> Option<&str> {
        self.sources.iter().find_map(|s| s.task_definition.as_deref())
    }
}

pub trait NativeDeployments {
    /// The service's newest deployments (at most 10), newest first, with their revisions' task
    /// definitions; empty when there are none (or the service does not exist).
    fn recent_deployments(&self, cluster: &str, service: &str) -> impl Future<Output = AwsResult<Vec<NativeDeployment>>> + Send;
    /// One deployment by its ARN; `None` when ECS does not know it.
    fn deployment(&self, arn: &str) -> impl Future<Output = AwsResult<Option<NativeDeployment>>> + Send;
    /// StopServiceDeployment with `stopType: ROLLBACK`.
    fn stop_with_rollback(&self, arn: &str) -> impl Future<Output = AwsResult<()>> + Send;
    /// ContinueServiceDeployment: resumes (or rolls back) a deployment at a paused hook.
    fn continue_hook(&self, arn: &str, hook_id: &str, action: HookAction) -> impl Future<Output = AwsResult<()>> + Send;
}
