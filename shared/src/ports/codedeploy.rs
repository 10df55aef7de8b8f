//! CodeDeploy as the use cases see it: blue/green deployments, their groups, and lifecycle hooks.

use super::AwsResult;
use std::future::Future;

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

pub trait CodeDeployments {
    fn deployment(&self, id: &str) -> impl Future<Output = AwsResult<DeploymentDetails>> + Send;
    fn deployment_group(&self, application: &str, group: &str) -> impl Future<Output = AwsResult<DeploymentGroup>> + Send;
    /// Stops a deployment and rolls it back.
    fn stop_deployment(&self, id: &str) -> impl Future<Output = AwsResult<()>> + Send;
    fn active_deployment(&self, application: &str, group: &str) -> impl Future<Output = AwsResult<Option<ActiveDeployment>>> + Send;
    fn create_deployment(&self, request: &BlueGreenRequest<'_>) -> impl Future<Output = AwsResult<String>> + Send;
}
