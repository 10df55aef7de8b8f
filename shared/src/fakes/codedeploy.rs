//! A fake CodeDeploy: deployment groups of ECS services, deployments with one active per
//! group, and the statuses lifecycle hooks reported.

use super::{Faults, lock};
use crate::error::HandlerError;
use crate::ports::{
    ActiveDeployment, AwsResult, BlueGreenRequest, CodeDeployments, DeploymentDetails, DeploymentGroup, HookReporter, Reported,
};
use std::sync::{Arc, Mutex};

/// A deployment as the fake CodeDeploy holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeDeployment {
    pub id: String,
    pub application: String,
    pub group: String,
    pub task_definition: Option<String>,
    /// `Created` (active), `Stopped`, `Succeeded`, `Failed`.
    pub status: String,
    pub deployment_config: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    groups: Vec<(String, String, DeploymentGroup)>,
    deployments: Vec<FakeDeployment>,
    /// (deployment, hook execution, succeeded), in the order reported.
    hook_reports: Vec<(String, String, bool)>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeCodeDeploy {
    state: Arc<Mutex<State>>,
    faults: Faults,
}

impl FakeCodeDeploy {
    pub fn new(faults: &Faults) -> Self {
        Self { state: Arc::default(), faults: faults.clone() }
    }

    pub fn add_group(&self, application: &str, group: &str, deployment_group: DeploymentGroup) {
        lock(&self.state).groups.push((application.to_owned(), group.to_owned(), deployment_group));
    }

    /// A deployment already under way (or ended), as if someone had created it.
    pub fn add_deployment(&self, deployment: FakeDeployment) {
        lock(&self.state).deployments.push(deployment);
    }

    pub fn deployments(&self) -> Vec<FakeDeployment> {
        lock(&self.state).deployments.clone()
    }

    pub fn hook_reports(&self) -> Vec<(String, String, bool)> {
        lock(&self.state).hook_reports.clone()
    }
}

fn does_not_exist(code: &str, what: &str) -> HandlerError {
    HandlerError::Aws { operation: "codedeploy", message: format!("{code}: {what} does not exist") }
}

impl CodeDeployments for FakeCodeDeploy {
    async fn deployment(&self, id: &str) -> AwsResult<DeploymentDetails> {
        self.faults.call("codedeploy:GetDeployment", || {
            let state = lock(&self.state);
            let found =
                state.deployments.iter().find(|d| d.id == id).ok_or_else(|| does_not_exist("DeploymentDoesNotExistException", id))?;
            Ok(DeploymentDetails {
                application: found.application.clone(),
                deployment_group: found.group.clone(),
                task_definition: found.task_definition.clone(),
                error: found.error.clone(),
                rollback: None,
            })
        })
    }

    async fn deployment_group(&self, application: &str, group: &str) -> AwsResult<DeploymentGroup> {
        self.faults.call("codedeploy:GetDeploymentGroup", || {
            let state = lock(&self.state);
            let found = state.groups.iter().find(|(a, g, _)| a == application && g == group);
            found.map(|(_, _, info)| info.clone()).ok_or_else(|| does_not_exist("DeploymentGroupDoesNotExistException", group))
        })
    }

    async fn stop_deployment(&self, id: &str) -> AwsResult<()> {
        self.faults.call("codedeploy:StopDeployment", || {
            let mut state = lock(&self.state);
            let found =
                state.deployments.iter_mut().find(|d| d.id == id).ok_or_else(|| does_not_exist("DeploymentDoesNotExistException", id))?;
            found.status = "Stopped".into();
            Ok(())
        })
    }

    async fn active_deployment(&self, application: &str, group: &str) -> AwsResult<Option<ActiveDeployment>> {
        self.faults.call("codedeploy:ListDeployments", || {
            let state = lock(&self.state);
            let active = state.deployments.iter().find(|d| d.application == application && d.group == group && d.status == "Created");
            Ok(active.map(|d| ActiveDeployment { id: d.id.clone(), task_definition: d.task_definition.clone() }))
        })
    }

    async fn create_deployment(&self, request: &BlueGreenRequest<'_>) -> AwsResult<String> {
        self.faults.call("codedeploy:CreateDeployment", || {
            let mut state = lock(&self.state);
            let (application, group) = (request.application, request.deployment_group);
            if state.deployments.iter().any(|d| d.application == application && d.group == group && d.status == "Created") {
                let busy = HandlerError::Aws {
                    operation: "codedeploy:CreateDeployment",
                    message: format!("DeploymentLimitExceededException: group {group} has an active deployment"),
                };
                return Err(HandlerError::Busy(Box::new(busy)));
            }
            let id = format!("d-FAKE{:05}", state.deployments.len() + 1);
            state.deployments.push(FakeDeployment {
                id: id.clone(),
                application: application.to_owned(),
                group: group.to_owned(),
                task_definition: Some(request.task_definition.to_owned()),
                status: "Created".into(),
                deployment_config: request.deployment_config.map(str::to_owned),
                error: None,
            });
            Ok(id)
        })
    }
}

impl HookReporter for FakeCodeDeploy {
    /// The first report of a hook execution is the one kept; CodeDeploy refuses any later one
    /// with `LifecycleEventAlreadyCompletedException`, which the adapter answers as
    /// `AlreadyCompleted`.
    async fn report(&self, deployment_id: &str, execution_id: &str, succeeded: bool) -> AwsResult<Reported> {
        self.faults.call("codedeploy:PutLifecycleEventHookExecutionStatus", || {
            let mut state = lock(&self.state);
            if state.hook_reports.iter().any(|(d, e, _)| d == deployment_id && e == execution_id) {
                return Ok(Reported::AlreadyCompleted);
            }
            state.hook_reports.push((deployment_id.to_owned(), execution_id.to_owned(), succeeded));
            Ok(Reported::Accepted)
        })
    }
}
