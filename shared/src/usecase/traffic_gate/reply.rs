//! What the gate found and answers: the report of one hook invocation, and the reply to each
//! hook shape.

use super::FUNCTION;
use super::plan::{Evidence, Verdict};
use super::target::GateTarget;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::ProbeOutcome;
use crate::quote::{QUOTE_MAX, clip};
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
    /// Cluster and service the hook names, when known before `target` (an ECS hook's ARN).
    #[serde(skip)]
    pub service: Option<(String, String)>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// What the verdict did not check, and notes on what it rests on (`Evidence::caveats`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
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
            service: None,
            verdict: Verdict::Pending { reason: "not evaluated".into() },
            caveats: Vec::new(),
            evidence: Evidence::default(),
            probes: Vec::new(),
            checks: 0,
            already_reported: false,
        }
    }

    /// The cluster and service gated, when known.
    pub fn cluster_service(&self) -> Option<(&str, &str)> {
        match (&self.target, &self.service) {
            (Some(target), _) => Some((target.cluster.as_str(), target.service.as_str())),
            (None, Some((cluster, service))) => Some((cluster.as_str(), service.as_str())),
            (None, None) => None,
        }
    }

    /// The envelope: the service gated, its verdict and caveats; the evidence in `details`.
    pub fn outcome(&self) -> Outcome {
        let resource = match (self.cluster_service(), &self.deployment_id) {
            (Some((cluster, service)), _) => format!("{cluster}/{service}"),
            (None, Some(id)) => format!("deployment {}", clip(id, QUOTE_MAX)),
            (None, None) => format!("hook execution {}", clip(&self.execution_id, QUOTE_MAX)),
        };
        let mut outcome = Outcome::new(FUNCTION, Some(self.execution_id.clone()));
        let result = ResourceResult::Gated { verdict: self.verdict.clone(), checks: self.checks, caveats: self.caveats.clone() };
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
/// reports, not the reply), the document ECS requires to an ECS hook, and the outcome of a pause
/// hook, an operator's request or the stuck-deployment schedule.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum GateReply {
    CodeDeploy(Outcome),
    Ecs(EcsHookResponse),
    Control(Outcome),
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
