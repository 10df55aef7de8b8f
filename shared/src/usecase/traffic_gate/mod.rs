//! `traffic-gate`: the lifecycle hook of CodeDeploy ECS blue/green deployments and of ECS native
//! blue/green deployments. May traffic move to the new revision? Evidence: a deployment freeze,
//! CloudWatch alarms, target health, HTTP probes, and while production traffic shifts, the new
//! revision's target group against the old one's (metric analysis).
//!
//! Configuration: the service's tags over the function's environment (see the README).
//! CodeDeploy does not tell a hook which lifecycle event it serves; the gate probes the test
//! listener's URL when the service names one (it reaches the new revision in every ECS hook),
//! else the production URL.

mod carried;
mod control;
mod metrics;
mod notification;
pub mod plan;
mod reply;
mod target;
#[cfg(test)]
mod tests;

use crate::config::GateConfig;
use crate::config::words;
use crate::error::HandlerError;
use crate::event::hook::{self, EcsHook, HookInvocation};
use crate::outcome::OUTCOME_ID_MAX;
use crate::ports::{
    Alarms, CodeDeployments, EcsServices, HookReporter, LoadBalancers, MetricWindows, NativeDeployments, Notifier, ProbeOutcome, Prober,
    Reported, ServiceCapacity,
};
use crate::quote::{clip, quote};
use crate::runtime::{Clock, system_clock};
use crate::tags;
use crate::usecase::publish_or_log;
use notification::gate_notification;
pub use plan::Stage;
use plan::{Evidence, ProbeRules, TargetHealth, Verdict, final_verdict, probe_state, verdict};
pub use reply::{EcsHookResponse, GateReply, GateReport};
use serde_json::{Value, json};
use std::time::Duration;
pub use target::GateTarget;
use target::ProbeHost;
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

fn cannot_gather(err: &HandlerError) -> Verdict {
    Verdict::Fail { reasons: vec![format!("could not gather evidence: {err}")] }
}

pub struct TrafficGate<C, R, E, L, A, P, N> {
    config: GateConfig,
    ports: GatePorts<C, R, E, L, A, P, N>,
    /// What the stuck-deployment check measures deadlines and expiries against.
    now: Clock,
}

impl<C, R, E, L, A, P, N> TrafficGate<C, R, E, L, A, P, N>
where
    C: CodeDeployments,
    R: HookReporter,
    E: ServiceCapacity + NativeDeployments + EcsServices,
    L: LoadBalancers,
    A: Alarms + MetricWindows,
    P: Prober,
    N: Notifier,
{
    pub fn new(config: GateConfig, ports: GatePorts<C, R, E, L, A, P, N>) -> Self {
        Self { config, ports, now: system_clock() }
    }

    /// The gate on a clock of the caller's (tests move time past deadlines).
    pub fn with_clock(mut self, now: Clock) -> Self {
        self.now = now;
        self
    }

    fn rules(&self) -> ProbeRules {
        ProbeRules {
            healthy_threshold: self.config.healthy_threshold,
            unhealthy_threshold: self.config.unhealthy_threshold,
            max_probes: self.config.max_probes,
        }
    }

    /// Handles either hook shape, and the control of ECS-native deployments (`control`): pause
    /// hooks, operator requests, the stuck-deployment schedule. A CodeDeploy hook always gets its
    /// status reported, also when gathering evidence fails (then `Failed`), so no deployment waits
    /// for the hook's timeout.
    pub async fn handle(&self, event: Value) -> Result<GateReply, HandlerError> {
        match control::input(&event) {
            Some(control::Input::Schedule) => return Ok(GateReply::Control(self.stuck_deployments(&event).await?)),
            Some(control::Input::HookState) => return Ok(GateReply::Control(self.pause_hook(event).await?)),
            Some(control::Input::Operator) => return Ok(GateReply::Control(self.operator(event).await?)),
            None => {}
        }
        match hook::decode(event)? {
            HookInvocation::CodeDeploy { deployment_id, execution_id } => {
                Ok(GateReply::CodeDeploy(self.codedeploy_hook(&deployment_id, &execution_id).await?.outcome()))
            }
            HookInvocation::Ecs(hook) => Ok(GateReply::Ecs(self.ecs_hook(&hook).await)),
        }
    }

    /// Reports, then announces what CodeDeploy was told. A failed report or announcement fails the
    /// invocation, so Lambda retries the hook; the retry's report finds the hook answered
    /// (`AlreadyCompleted`, which counts as done) and announces: at least once per hook execution,
    /// always under the same deduplication id.
    async fn codedeploy_hook(&self, deployment_id: &str, execution_id: &str) -> Result<GateReport, HandlerError> {
        let mut outcome = GateReport::new("codedeploy", execution_id, Some(deployment_id));
        match target::codedeploy_target(&self.ports.codedeploy, &self.ports.ecs, &self.ports.elb, &self.config, deployment_id).await {
            // CodeDeploy waits for one answer.
            Ok(target) => self.rounds(&target, &mut outcome).await,
            Err(err) => {
                outcome.verdict =
                    Verdict::Fail { reasons: vec![format!("could not find what deployment {} deploys: {err}", quote(deployment_id))] }
            }
        }
        outcome.caveats = outcome.evidence.caveats();
        let passed = outcome.verdict == Verdict::Pass;
        let reported = self.ports.reporter.report(deployment_id, execution_id, passed).await;
        let answer = reported.as_ref().map_or_else(|err| format!("report failed: {err}"), |kept| format!("{kept:?}"));
        info!(deployment_id = %clip(deployment_id, OUTCOME_ID_MAX), execution_id = %clip(execution_id, OUTCOME_ID_MAX), passed, reported = answer, outcome = %json!(outcome.outcome()), "gate decided");
        outcome.already_reported = reported? == Reported::AlreadyCompleted;
        self.ports.notifier.publish(&gate_notification(&outcome)).await?;
        Ok(outcome)
    }

    async fn ecs_hook(&self, hook: &EcsHook) -> EcsHookResponse {
        let mut outcome = GateReport::new("ecs", &hook.execution_id, None);
        let (cluster, service) = target::ecs_service(hook);
        outcome.service = Some((cluster.to_owned(), service.to_owned()));
        // The stage and what the previous call carried, strictly: an unknown stage or tampered
        // hookDetails fail the hook, naming the field, before anything is read or probed.
        let stage = plan::ecs_stage(&hook.stage);
        let carried = carried::decode(hook.hook_details.as_ref(), self.config.max_probes);
        let checks = carried.as_ref().ok().and_then(|carried| carried.checks.checked_add(1));
        match (stage, carried, checks) {
            (Ok(stage), Ok(carried), Some(checks)) => {
                outcome.checks = checks;
                outcome.probes = carried.probes;
                (outcome.evidence, outcome.verdict) = match target::ecs_target(&self.ports.ecs, &self.config, hook, stage).await {
                    Ok(target) => {
                        let round = self.round(&target, &mut outcome.probes).await;
                        outcome.target = Some(target);
                        round
                    }
                    Err(err) => (Evidence::default(), cannot_gather(&err)),
                };
                if outcome.checks >= self.config.max_probes {
                    outcome.verdict = final_verdict(&mut outcome.evidence, outcome.verdict, outcome.checks, self.config.require_evidence);
                }
            }
            (stage, carried, _) => {
                let mut reasons: Vec<String> = [stage.err(), carried.err()].into_iter().flatten().collect();
                if reasons.is_empty() {
                    reasons.push("field `hookDetails.checks`: no checks left to count".into());
                }
                outcome.verdict = Verdict::Fail { reasons };
            }
        }
        outcome.caveats = outcome.evidence.caveats();
        // ECS reads only hookStatus, callBackDelay and hookDetails: the envelope goes to the log.
        info!(execution_id = %clip(&hook.execution_id, OUTCOME_ID_MAX), stage = %quote(&hook.stage), outcome = %json!(outcome.outcome()), "gate checked");
        let hook_status = match &outcome.verdict {
            Verdict::Pass => "SUCCEEDED",
            Verdict::Fail { .. } => "FAILED",
            Verdict::Pending { .. } => "IN_PROGRESS",
        };
        // ECS rolls a deployment back when its hook errors: a notification that fails must not
        // overturn the verdict (a passed revision rolled back at 3 a.m. because SNS hiccupped).
        // ECS calls a decided hook no more, so this announcement is at most once; a lost one is
        // logged, and the deployment's own end still reaches `deploy-events`.
        if hook_status != "IN_PROGRESS" {
            publish_or_log(&self.ports.notifier, &gate_notification(&outcome)).await;
        }
        let call_back_delay = (hook_status == "IN_PROGRESS").then(|| plan::call_back_delay(&outcome.evidence, self.config.interval_ms));
        let mut hook_details = json!({
            "probes": outcome.probes,
            "checks": outcome.checks,
            "verdict": outcome.verdict,
            "evidence": outcome.evidence,
        });
        if !outcome.caveats.is_empty() {
            hook_details["caveats"] = json!(outcome.caveats);
        }
        EcsHookResponse { hook_status, call_back_delay, hook_details }
    }

    /// Rounds in-process, `interval_ms` apart, until decided or the checks are spent: for hooks
    /// that wait for one answer (CodeDeploy's, a pause hook).
    async fn rounds(&self, target: &GateTarget, report: &mut GateReport) {
        loop {
            (report.evidence, report.verdict) = self.round(target, &mut report.probes).await;
            report.checks = report.checks.saturating_add(1);
            if !matches!(report.verdict, Verdict::Pending { .. }) || report.checks >= self.config.max_probes {
                break;
            }
            tokio::time::sleep(Duration::from_millis(self.config.interval_ms)).await;
        }
        report.verdict = final_verdict(&mut report.evidence, report.verdict.clone(), report.checks, self.config.require_evidence);
        report.target = Some(target.clone());
    }

    /// One round; evidence that cannot be gathered fails the gate, with the reason.
    async fn round(&self, target: &GateTarget, probes: &mut Vec<ProbeOutcome>) -> (Evidence, Verdict) {
        self.check(target, probes).await.unwrap_or_else(|err| (Evidence::default(), cannot_gather(&err)))
    }

    /// One round of evidence: standing facts (freeze, where the probe would go, alarms), then
    /// what the stage looks at: target health, one probe, and where production traffic shifts
    /// the new revision's target group against the old one's (not spent on a failed round).
    async fn check(&self, target: &GateTarget, probes: &mut Vec<ProbeOutcome>) -> Result<(Evidence, Verdict), HandlerError> {
        let tags = &target.capacity.tags;
        let mut evidence = Evidence {
            freeze: tags.get(tags::FREEZE).filter(|v| !v.trim().is_empty() && v.trim() != "false").cloned(),
            ..Evidence::default()
        };
        let probe_url = target.probe_url.as_ref().filter(|_| target.stage.probes());
        if let Some(url) = probe_url {
            match target::probe_host(url, &self.config.probe_hosts) {
                ProbeHost::Allowed => {}
                ProbeHost::Unrestricted(host) => {
                    evidence.notes.push(format!("probe host {} is not restricted: GATE_PROBE_HOSTS is unset", quote(&host)))
                }
                ProbeHost::Refused(reason) => evidence.probe_refused = Some(reason),
            }
        }
        let mut alarm_names = self.config.alarms.clone();
        alarm_names.extend(tags.get(tags::GATE_ALARMS).map(|v| words(v)).unwrap_or_default());
        if !alarm_names.is_empty() {
            let found = self.ports.alarms.named(&alarm_names).await?;
            evidence.alarms_in_alarm = found.iter().filter(|a| a.state == "ALARM").map(|a| a.name.clone()).collect();
            evidence.alarms_missing = alarm_names.iter().filter(|name| !found.iter().any(|a| &a.name == *name)).cloned().collect();
        }
        if let v @ Verdict::Fail { .. } = verdict(&evidence, self.config.require_evidence) {
            return Ok((evidence, v));
        }
        if target.stage.reads_target_health() {
            match &target.target_group {
                Some(group) => evidence.target_health = Some(self.target_health(group, target.capacity.desired).await?),
                None => evidence.missing.push(format!("target health: no target group known (tag {})", tags::GATE_TARGET_GROUP)),
            }
        } else {
            let stage = target.lifecycle_stage.unwrap_or("this stage");
            evidence.notes.push(format!("{stage}: no new tasks yet, so only the freeze and the alarms are checked"));
        }
        if target.stage.probes() {
            match probe_url {
                Some(url) => {
                    probes.push(carried::bounded(self.ports.prober.probe(url, &target.expected_status).await));
                    evidence.probes = Some((probe_state(probes, &self.rules()), probes.len()));
                }
                None => evidence.missing.push(format!("HTTP probes: no URL (tags {} / {})", tags::GATE_TEST_URL, tags::GATE_URL)),
            }
        }
        if let Some(rigor) = target.lifecycle_stage.and_then(|stage| plan::analysis_at(stage, target.capacity.strategy))
            && !matches!(verdict(&evidence, self.config.require_evidence), Verdict::Fail { .. })
        {
            if !target.analysis.enabled {
                evidence.notes.push(format!("traffic analysis is off ({} / GATE_ANALYSIS)", tags::ANALYSIS));
            } else {
                match metrics::analysis(&self.ports.alarms, &self.ports.elb, target, rigor, (self.now)()).await? {
                    Ok(analysis) => evidence.analysis = Some(analysis),
                    Err(missing) => evidence.missing.push(missing),
                }
            }
        }
        let decided = verdict(&evidence, self.config.require_evidence);
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
}
