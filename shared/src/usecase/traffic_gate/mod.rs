//! `traffic-gate`: the lifecycle hook of CodeDeploy ECS blue/green deployments and of ECS native
//! blue/green deployments. May traffic move to the new revision? Evidence: a deployment freeze,
//! CloudWatch alarms, target health, HTTP probes.
//!
//! Configuration: the service's tags over the function's environment (see the README).
//! CodeDeploy does not tell a hook which lifecycle event it serves; the gate probes the test
//! listener's URL when the service names one (it reaches the new revision in every ECS hook),
//! else the production URL.

mod notification;
pub mod plan;
mod target;
#[cfg(test)]
mod tests;

use crate::config::GateConfig;
use crate::config::words;
use crate::error::HandlerError;
use crate::event::hook::{self, EcsHook, HookInvocation};
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{Alarms, CodeDeployments, HookReporter, LoadBalancers, Notifier, ProbeOutcome, Prober, ServiceCapacity};
use crate::tags;
use crate::usecase::publish_or_log;
use notification::gate_notification;
use plan::{Evidence, ProbeRules, TargetHealth, Verdict, final_verdict, probe_state, verdict};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;
pub use target::{GateTarget, Stage};
use tracing::info;

pub const FUNCTION: &str = "traffic-gate";

/// The capabilities the gate uses.
pub struct GatePorts<C, R, E, L, A, P, N> {
    pub codedeploy: C,
    pub reporter: R,
    pub ecs: E,
    pub elb: L,
    pub alarms: A,
    pub prober: P,
    pub notifier: N,
}

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
}

impl GateReport {
    fn new(hook: &'static str, execution_id: &str, deployment_id: Option<&str>) -> Self {
        Self {
            hook,
            execution_id: execution_id.to_owned(),
            deployment_id: deployment_id.map(str::to_owned),
            target: None,
            verdict: Verdict::Pending { reason: "not evaluated".into() },
            evidence: Evidence::default(),
            probes: Vec::new(),
            checks: 0,
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

fn cannot_gather(err: &HandlerError) -> Verdict {
    Verdict::Fail { reasons: vec![format!("could not gather evidence: {err}")] }
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

/// What the gate carries from one ECS hook call to the next.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
struct Carried {
    #[serde(default)]
    probes: Vec<ProbeOutcome>,
    #[serde(default)]
    checks: u32,
}

pub struct TrafficGate<C, R, E, L, A, P, N> {
    config: GateConfig,
    ports: GatePorts<C, R, E, L, A, P, N>,
}

impl<C, R, E, L, A, P, N> TrafficGate<C, R, E, L, A, P, N>
where
    C: CodeDeployments,
    R: HookReporter,
    E: ServiceCapacity,
    L: LoadBalancers,
    A: Alarms,
    P: Prober,
    N: Notifier,
{
    pub fn new(config: GateConfig, ports: GatePorts<C, R, E, L, A, P, N>) -> Self {
        Self { config, ports }
    }

    fn rules(&self) -> ProbeRules {
        ProbeRules {
            healthy_threshold: self.config.healthy_threshold,
            unhealthy_threshold: self.config.unhealthy_threshold,
            max_probes: self.config.max_probes,
        }
    }

    /// Handles either hook shape. A CodeDeploy hook always gets its status reported, also when
    /// gathering evidence fails, so no deployment waits for the hook's timeout.
    pub async fn handle(&self, event: Value) -> Result<GateReply, HandlerError> {
        match hook::decode(event)? {
            HookInvocation::CodeDeploy { deployment_id, execution_id } => {
                Ok(GateReply::CodeDeploy(self.codedeploy_hook(&deployment_id, &execution_id).await?.outcome()))
            }
            HookInvocation::Ecs(hook) => Ok(GateReply::Ecs(self.ecs_hook(&hook).await)),
        }
    }

    async fn codedeploy_hook(&self, deployment_id: &str, execution_id: &str) -> Result<GateReport, HandlerError> {
        let mut outcome = GateReport::new("codedeploy", execution_id, Some(deployment_id));
        match target::codedeploy_target(&self.ports.codedeploy, &self.ports.ecs, &self.ports.elb, &self.config, deployment_id).await {
            Ok(target) => {
                // Probe in-process until decided: CodeDeploy waits for one answer.
                loop {
                    let (evidence, verdict) = self.round(&target, &mut outcome.probes).await;
                    outcome.checks += 1;
                    outcome.evidence = evidence;
                    outcome.verdict = verdict;
                    if !matches!(outcome.verdict, Verdict::Pending { .. }) || outcome.checks >= self.config.max_probes {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(self.config.interval_ms)).await;
                }
                outcome.verdict = final_verdict(outcome.verdict, outcome.checks);
                outcome.target = Some(target);
            }
            Err(err) => {
                outcome.verdict = Verdict::Fail { reasons: vec![format!("could not find what deployment {deployment_id} deploys: {err}")] }
            }
        }
        let passed = outcome.verdict == Verdict::Pass;
        let reported = self.ports.reporter.report(deployment_id, execution_id, passed).await;
        info!(deployment_id, passed, outcome = %json!(outcome.outcome()), "gate decided");
        self.notify(&outcome).await;
        reported.map(|()| outcome)
    }

    async fn ecs_hook(&self, hook: &EcsHook) -> EcsHookResponse {
        let mut carried: Carried = hook.hook_details.clone().and_then(|d| serde_json::from_value(d).ok()).unwrap_or_default();
        let mut outcome = GateReport::new("ecs", &hook.execution_id, None);
        outcome.checks = carried.checks + 1;
        (outcome.evidence, outcome.verdict) = match target::ecs_target(&self.ports.ecs, &self.config, hook).await {
            Ok(target) => {
                let round = self.round(&target, &mut carried.probes).await;
                outcome.target = Some(target);
                round
            }
            Err(err) => (Evidence::default(), cannot_gather(&err)),
        };
        if outcome.checks >= self.config.max_probes {
            outcome.verdict = final_verdict(outcome.verdict, outcome.checks);
        }
        outcome.probes = carried.probes;
        // ECS reads only hookStatus, callBackDelay and hookDetails: the envelope goes to the log.
        info!(execution_id = hook.execution_id, stage = hook.stage, outcome = %json!(outcome.outcome()), "gate checked");
        let hook_status = match &outcome.verdict {
            Verdict::Pass => "SUCCEEDED",
            Verdict::Fail { .. } => "FAILED",
            Verdict::Pending { .. } => "IN_PROGRESS",
        };
        if hook_status != "IN_PROGRESS" {
            self.notify(&outcome).await;
        }
        let call_back_delay = (hook_status == "IN_PROGRESS").then(|| self.config.interval_ms.div_ceil(1000).max(1));
        let hook_details = json!({
            "probes": outcome.probes,
            "checks": outcome.checks,
            "verdict": outcome.verdict,
            "evidence": outcome.evidence,
        });
        EcsHookResponse { hook_status, call_back_delay, hook_details }
    }

    /// One round; evidence that cannot be gathered fails the gate, with the reason.
    async fn round(&self, target: &GateTarget, probes: &mut Vec<ProbeOutcome>) -> (Evidence, Verdict) {
        self.check(target, probes).await.unwrap_or_else(|err| (Evidence::default(), cannot_gather(&err)))
    }

    /// One round of evidence: standing facts (freeze, alarms), then target health and one probe.
    async fn check(&self, target: &GateTarget, probes: &mut Vec<ProbeOutcome>) -> Result<(Evidence, Verdict), HandlerError> {
        let tags = &target.capacity.tags;
        let mut evidence = Evidence {
            freeze: tags.get(tags::FREEZE).filter(|v| !v.trim().is_empty() && v.trim() != "false").cloned(),
            ..Evidence::default()
        };
        let mut alarm_names = self.config.alarms.clone();
        alarm_names.extend(tags.get(tags::GATE_ALARMS).map(|v| words(v)).unwrap_or_default());
        if !alarm_names.is_empty() {
            let found = self.ports.alarms.named(&alarm_names).await?;
            evidence.alarms_in_alarm = found.iter().filter(|a| a.state == "ALARM").map(|a| a.name.clone()).collect();
            evidence.alarms_missing = alarm_names.iter().filter(|name| !found.iter().any(|a| &a.name == *name)).cloned().collect();
        }
        if let v @ Verdict::Fail { .. } = verdict(&evidence) {
            return Ok((evidence, v));
        }
        if target.stage != Stage::BeforeScaleUp {
            match &target.target_group {
                Some(group) => evidence.target_health = Some(self.target_health(group, target.capacity.desired).await?),
                None => evidence.skipped.push(format!("target health: no target group known (tag {})", tags::GATE_TARGET_GROUP)),
            }
        }
        if matches!(target.stage, Stage::Test | Stage::Production) {
            match &target.probe_url {
                Some(url) => {
                    probes.push(self.ports.prober.probe(url, &target.expected_status).await);
                    evidence.probes = Some((probe_state(probes, &self.rules()), probes.len()));
                }
                None => evidence.skipped.push(format!("HTTP probes: no URL (tags {} / {})", tags::GATE_TEST_URL, tags::GATE_URL)),
            }
        }
        let decided = verdict(&evidence);
        Ok((evidence, decided))
    }

    async fn target_health(&self, group: &str, desired: i32) -> Result<TargetHealth, HandlerError> {
        let targets = self.ports.elb.target_health(group).await?;
        let count = |state: &str| targets.iter().filter(|t| t.state == state).count();
        let unhealthy = targets
            .iter()
            .filter(|t| !matches!(t.state.as_str(), "healthy" | "initial" | "draining"))
            .map(|t| format!("{}: {}{}", t.id, t.state, t.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()))
            .collect();
        Ok(TargetHealth { target_group: group.to_owned(), healthy: count("healthy"), initial: count("initial"), unhealthy, desired })
    }

    async fn notify(&self, outcome: &GateReport) {
        publish_or_log(&self.ports.notifier, &gate_notification(outcome)).await;
    }
}
