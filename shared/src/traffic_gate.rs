//! `traffic-gate`: the lifecycle hook of CodeDeploy ECS blue/green deployments and of ECS native
//! blue/green deployments. May traffic move to the new revision? Evidence: a deployment freeze,
//! CloudWatch alarms, target health, HTTP probes.
//!
//! Configuration: the service's tags over the function's environment (see the README).
//! CodeDeploy does not tell a hook which lifecycle event it serves; the gate probes the test
//! listener's URL when the service names one (it reaches the new revision in every ECS hook),
//! else the production URL.

use crate::aws::cloudwatch::SdkCloudWatch;
use crate::aws::codedeploy::SdkCodeDeploy;
use crate::aws::ecs::SdkEcs;
use crate::aws::elb::SdkElb;
use crate::aws::sns::SdkSns;
use crate::aws::{Alarms, Capacity, CodeDeployments, HookReporter, LoadBalancers, Notifier, ServiceCapacity, publish_or_log};
use crate::config::{GateConfig, status_codes, words};
use crate::error::HandlerError;
use crate::event::hook::{self, EcsHook, HookInvocation};
use crate::gate::{Evidence, ProbeOutcome, ProbeRules, TargetHealth, Verdict, final_verdict, probe_state, verdict};
use crate::http_probe::{HttpProber, Prober};
use crate::notify::{Notification, Severity};
use crate::tags;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;
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

pub type SdkGatePorts = GatePorts<SdkCodeDeploy, SdkCodeDeploy, SdkEcs, SdkElb, SdkCloudWatch, HttpProber, SdkSns>;

impl SdkGatePorts {
    pub fn from_sdk(config: &GateConfig, sdk: &aws_config::SdkConfig) -> Self {
        let codedeploy = SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk));
        GatePorts {
            reporter: codedeploy.clone(),
            codedeploy,
            ecs: SdkEcs::new(aws_sdk_ecs::Client::new(sdk)),
            elb: SdkElb::new(aws_sdk_elasticloadbalancingv2::Client::new(sdk)),
            alarms: SdkCloudWatch::new(aws_sdk_cloudwatch::Client::new(sdk)),
            prober: HttpProber::new(Duration::from_millis(config.timeout_ms)),
            notifier: SdkSns::new(aws_sdk_sns::Client::new(sdk), config.notify_topic_arn.clone()),
        }
    }
}

/// Which traffic reaches the new revision at this point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// ECS PRE_SCALE_UP: no new tasks yet.
    BeforeScaleUp,
    /// New tasks run, behind no listener (ECS POST_SCALE_UP).
    ScaledUp,
    Test,
    Production,
}

/// The service a hook is about, and where its evidence is.
#[derive(Debug, Clone, Serialize)]
pub struct GateTarget {
    pub cluster: String,
    pub service: String,
    pub stage: Stage,
    pub target_group: Option<String>,
    pub probe_url: Option<String>,
    /// Healthy status codes: tag `deckhand:gate-status`, else `GATE_STATUS`.
    pub expected_status: Vec<u16>,
    #[serde(skip)]
    capacity: Capacity,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateOutcome {
    pub function: &'static str,
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

impl GateOutcome {
    fn new(hook: &'static str, execution_id: &str, deployment_id: Option<&str>) -> Self {
        Self {
            function: FUNCTION,
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
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        match hook::decode(event)? {
            HookInvocation::CodeDeploy { deployment_id, execution_id } => {
                let outcome = self.codedeploy_hook(&deployment_id, &execution_id).await?;
                Ok(json!(outcome))
            }
            HookInvocation::Ecs(hook) => Ok(json!(self.ecs_hook(&hook).await)),
        }
    }

    async fn codedeploy_hook(&self, deployment_id: &str, execution_id: &str) -> Result<GateOutcome, HandlerError> {
        let mut outcome = GateOutcome::new("codedeploy", execution_id, Some(deployment_id));
        match self.codedeploy_target(deployment_id).await {
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
        info!(deployment_id, passed, outcome = %json!(outcome), "gate decided");
        self.notify(&outcome).await;
        reported.map(|()| outcome)
    }

    async fn ecs_hook(&self, hook: &EcsHook) -> EcsHookResponse {
        let mut carried: Carried = hook.hook_details.clone().and_then(|d| serde_json::from_value(d).ok()).unwrap_or_default();
        let mut outcome = GateOutcome::new("ecs", &hook.execution_id, None);
        outcome.checks = carried.checks + 1;
        (outcome.evidence, outcome.verdict) = match self.ecs_target(hook).await {
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
        info!(execution_id = hook.execution_id, stage = hook.stage, outcome = %json!(outcome), "gate checked");
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

    async fn codedeploy_target(&self, deployment_id: &str) -> Result<GateTarget, HandlerError> {
        let details = self.ports.codedeploy.deployment(deployment_id).await?;
        let group = self.ports.codedeploy.deployment_group(&details.application, &details.deployment_group).await?;
        let Some((cluster, service)) = group.services.first().cloned() else {
            return Err(HandlerError::Misconfigured(format!("deployment group {} names no ECS service", details.deployment_group)));
        };
        let capacity = self.capacity(&cluster, &service).await?;
        let stage = if capacity.tags.contains_key(tags::GATE_TEST_URL) || !capacity.tags.contains_key(tags::GATE_URL) {
            Stage::Test
        } else {
            Stage::Production
        };
        let target_group = match capacity.tags.get(tags::GATE_TARGET_GROUP) {
            Some(group) => Some(group.clone()),
            None => match group.test_listeners.first().or(group.production_listeners.first()) {
                Some(listener) => self.ports.elb.forward_target_group(listener).await?,
                None => None,
            },
        };
        self.target(cluster, service, capacity, stage, target_group)
    }

    async fn ecs_target(&self, hook: &EcsHook) -> Result<GateTarget, HandlerError> {
        let path = hook.service_arn.split_once(":service/").map_or("", |(_, p)| p);
        let (cluster, service) = path.split_once('/').unwrap_or(("default", path));
        let capacity = self.capacity(cluster, service).await?;
        let stage = match () {
            _ if hook.is_test_stage() => Stage::Test,
            _ if hook.is_production_stage() => Stage::Production,
            _ if hook.has_new_tasks() => Stage::ScaledUp,
            _ => Stage::BeforeScaleUp,
        };
        let target_group = capacity.tags.get(tags::GATE_TARGET_GROUP).cloned().or_else(|| capacity.alternate_target_group.clone());
        self.target(cluster.to_owned(), service.to_owned(), capacity, stage, target_group)
    }

    async fn capacity(&self, cluster: &str, service: &str) -> Result<Capacity, HandlerError> {
        self.ports
            .ecs
            .capacity(cluster, service)
            .await?
            .ok_or_else(|| HandlerError::Misconfigured(format!("service {cluster}/{service} does not exist")))
    }

    fn target(
        &self,
        cluster: String,
        service: String,
        capacity: Capacity,
        stage: Stage,
        target_group: Option<String>,
    ) -> Result<GateTarget, HandlerError> {
        let tags = &capacity.tags;
        let expected_status = match tags.get(tags::GATE_STATUS) {
            Some(value) => status_codes(value).map_err(|reason| {
                HandlerError::Misconfigured(format!("service {cluster}/{service}: tag {} is invalid: {reason}", tags::GATE_STATUS))
            })?,
            None => self.config.expected_status.clone(),
        };
        let base = match stage {
            Stage::Test => tags.get(tags::GATE_TEST_URL).or(tags.get(tags::GATE_URL)),
            _ => tags.get(tags::GATE_URL),
        };
        let path = tags.get(tags::GATE_PATH).unwrap_or(&self.config.path);
        let probe_url = base.map(|base| format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')));
        Ok(GateTarget { cluster, service, stage, target_group, probe_url, expected_status, capacity })
    }

    async fn notify(&self, outcome: &GateOutcome) {
        publish_or_log(&self.ports.notifier, &gate_notification(outcome)).await;
    }
}

fn gate_notification(outcome: &GateOutcome) -> Notification {
    let (cluster, service) = outcome.target.as_ref().map_or(("?", "?"), |t| (t.cluster.as_str(), t.service.as_str()));
    let passed = outcome.verdict == Verdict::Pass;
    let passed_probes = outcome.probes.iter().filter(|p| p.ok).count();
    let mut text = format!(
        "Traffic gate {} for {cluster}/{service}.\n\n",
        if passed { "PASSED: traffic may move to the new revision" } else { "FAILED: the shift is refused and the deployment rolls back" }
    );
    if let Verdict::Fail { reasons } = &outcome.verdict {
        for reason in reasons {
            text.push_str(&format!("Reason:   {reason}\n"));
        }
    }
    text.push_str(&format!("Probes:   {passed_probes} of {} passed", outcome.probes.len()));
    if let Some(last) = outcome.probes.last() {
        text.push_str(&format!(", last: {}", last.detail));
    }
    text.push('\n');
    if let Some(health) = &outcome.evidence.target_health {
        text.push_str(&format!("Targets:  {} healthy of the {} wanted in {}\n", health.healthy, health.desired, health.target_group));
    }
    for skipped in &outcome.evidence.skipped {
        text.push_str(&format!("Skipped:  {skipped}\n"));
    }
    let hook = match &outcome.deployment_id {
        Some(id) => format!("CodeDeploy deployment {id}, hook execution {}", outcome.execution_id),
        None => format!("ECS lifecycle hook execution {}", outcome.execution_id),
    };
    text.push_str(&format!("Hook:     {hook}\n"));
    Notification {
        event: if passed { "gate.passed" } else { "gate.failed" },
        severity: if passed { Severity::Info } else { Severity::Warning },
        subject: format!("Traffic gate {}: {cluster}/{service}", if passed { "passed" } else { "FAILED" }),
        text,
        details: json!(outcome),
        cluster: outcome.target.as_ref().map(|t| t.cluster.clone()),
        service: outcome.target.as_ref().map(|t| t.service.clone()),
        project: None,
        dedup_key: Some(format!("gate:{}", outcome.execution_id)),
    }
}
