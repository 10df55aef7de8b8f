//! What the gate found and answers: the report of one hook invocation, and the reply to each
//! hook shape.

use super::FUNCTION;
use super::plan::{Evidence, Verdict};
use super::target::GateTarget;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::ProbeOutcome;
use serde::Serialize;
use serde_json::{Value, json};

/// What one hook invocation found and decided: the outcome's resource result and details, and
/// the notification's content.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// `codedeploy` or `ecs`.
    pub hook: &'static str,
    pub execution_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<GateTarget>,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub evidence: Evidence,
    pub probes: Vec<ProbeOutcome>,
    pub checks: u32,
    /// CodeDeploy already had this hook's status from an earlier attempt and acts on that one:
    /// this verdict is a re-check, which can differ from it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_reported: bool,
}

impl GateReport {
    pub(super) fn new(hook: &'static str, execution_id: &str, deployment_id: Option<&str>) -> Self {
        Self {
            hook,
            execution_id: execution_id.to_owned(),
            deployment_id: deployment_id.map(str::to_owned),
            target: None,
            verdict: Verdict::Pending { reason: "not evaluated".into() },
            evidence: Evidence::default(),
            probes: Vec::new(),
            checks: 0,
            already_reported: false,
        }
    }

    /// The envelope: the service gated and its verdict; the evidence in `details`.
    pub fn outcome(&self) -> Outcome {
        let resource = match (&self.target, &self.deployment_id) {
            (Some(target), _) => format!("{}/{}", target.cluster, target.service),
            (None, Some(id)) => format!("deployment {id}"),
            (None, None) => format!("hook execution {}", self.execution_id),
        };
        let mut outcome = Outcome::new(FUNCTION, Some(self.execution_id.clone()));
        let result = ResourceResult::Gated { verdict: self.verdict.clone(), checks: self.checks };
        outcome.resources.push(ResourceOutcome { resource, trigger: None, result });
        outcome.details = Some(json!({
            "hook": self.hook,
            "deployment_id": self.deployment_id,
            "target": self.target,
            "evidence": self.evidence,
            "probes": self.probes,
        }));
        outcome
    }
}

/// What the gate answers: the outcome to a CodeDeploy hook (CodeDeploy reads the status the gate
/// reports, not the reply), the document ECS requires to an ECS hook.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum GateReply {
    CodeDeploy(Outcome),
    Ecs(EcsHookResponse),
}

/// What an ECS lifecycle hook returns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsHookResponse {
    pub hook_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_back_delay: Option<u64>,
    pub hook_details: Value,
}
