//! Pure health verdicts for the traffic gate: may traffic move to the new revision? And which
//! evidence each lifecycle stage looks at (`stages`).

pub mod analysis;
mod stages;

pub use analysis::{Analysis, AnalysisRules, Finding, Rigor};
pub use stages::{ECS_STAGES, Stage, analysis_at, ecs_stage};

use crate::ports::ProbeOutcome;
use serde::Serialize;

/// When probes are healthy, unhealthy, or still undecided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProbeRules {
    /// Consecutive successes that make the revision healthy.
    pub healthy_threshold: u32,
    /// Consecutive failures that make it unhealthy.
    pub unhealthy_threshold: u32,
    /// Probes after which an undecided (flapping) revision is unhealthy.
    pub max_probes: u32,
}

impl Default for ProbeRules {
    /// The reference architecture's healthy threshold; ALB's default unhealthy threshold.
    fn default() -> Self {
        Self { healthy_threshold: 2, unhealthy_threshold: 2, max_probes: 10 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProbeState {
    Healthy,
    Unhealthy { reason: String },
    Pending,
}

pub fn probe_state(history: &[ProbeOutcome], rules: &ProbeRules) -> ProbeState {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let trailing = |ok: bool| count(history.iter().rev().take_while(|p| p.ok == ok).count());
    if trailing(true) >= rules.healthy_threshold {
        return ProbeState::Healthy;
    }
    if trailing(false) >= rules.unhealthy_threshold {
        let last = history.last().map_or("", |p| p.detail.as_str());
        return ProbeState::Unhealthy { reason: format!("{} consecutive probes failed, last: {last}", trailing(false)) };
    }
    if count(history.len()) >= rules.max_probes {
        let passed = history.iter().filter(|p| p.ok).count();
        return ProbeState::Unhealthy {
            reason: format!(
                "not {} consecutive successes in {} probes ({passed} passed): flapping",
                rules.healthy_threshold,
                history.len()
            ),
        };
    }
    ProbeState::Pending
}

/// Targets of the target group that serves the new revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealth {
    pub target_group: String,
    pub healthy: usize,
    /// Targets still in their first health checks (`initial`): not yet a verdict.
    pub initial: usize,
    /// Targets that are not healthy: `id: state (reason)`.
    pub unhealthy: Vec<String>,
    /// The service's desired count: at least this many must be healthy.
    pub desired: i32,
}

/// Everything the gate found out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The service's `deckhand:freeze` value, when frozen.
    pub freeze: Option<String>,
    pub alarms_in_alarm: Vec<String>,
    /// Alarms the gate was told to watch that do not exist: a misconfiguration, so not safe.
    pub alarms_missing: Vec<String>,
    pub target_health: Option<TargetHealth>,
    pub probes: Option<(ProbeState, usize)>,
    /// The new revision's target group against the old one's, where the stage compares them.
    pub analysis: Option<Analysis>,
    /// Why the gate refuses to probe the URL it was given (a host `GATE_PROBE_HOSTS` does not
    /// allow, not an http(s) URL): the gate fails without sending anything.
    pub probe_refused: Option<String>,
    /// Evidence this stage looks at that the gate could not gather, and why (e.g. no target
    /// group known).
    pub missing: Vec<String>,
    /// What the verdict rests on besides the above: what a stage without new tasks checks, a
    /// probe host no allowlist restricts.
    pub notes: Vec<String>,
}

impl Evidence {
    /// The stage looks at the new revision, yet the gate learnt nothing about it: no target
    /// health, no probe, no traffic analysis.
    pub fn lacks_evidence(&self) -> bool {
        !self.missing.is_empty() && self.target_health.is_none() && self.probes.is_none() && self.analysis.is_none()
    }

    /// What a reader of a verdict must know besides it: evidence not gathered, and the notes.
    pub fn caveats(&self) -> Vec<String> {
        let missing = self.missing.iter().map(|missing| format!("not checked: {missing}"));
        missing.chain(self.notes.iter().cloned()).chain(self.analysis.iter().flat_map(Analysis::caveats)).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail {
        reasons: Vec<String>,
    },
    /// Nothing failed, but the probes have not yet proven the revision healthy.
    Pending {
        reason: String,
    },
}

/// The verdict on `evidence`. With `require_evidence`, a stage that looks at the new revision
/// but learnt nothing about it fails; without, it passes and its caveats say what was missing.
pub fn verdict(evidence: &Evidence, require_evidence: bool) -> Verdict {
    let mut reasons = Vec::new();
    if let Some(freeze) = &evidence.freeze {
        reasons.push(format!("deployments are frozen (deckhand:freeze = {freeze})"));
    }
    if let Some(refused) = &evidence.probe_refused {
        reasons.push(refused.clone());
    }
    if !evidence.alarms_in_alarm.is_empty() {
        reasons.push(format!("alarms in ALARM: {}", evidence.alarms_in_alarm.join(", ")));
    }
    if !evidence.alarms_missing.is_empty() {
        reasons.push(format!("alarms not found: {}", evidence.alarms_missing.join(", ")));
    }
    if let Some(health) = &evidence.target_health
        && !health.unhealthy.is_empty()
    {
        reasons.push(format!("unhealthy targets in {}: {}", health.target_group, health.unhealthy.join("; ")));
    }
    if let Some((ProbeState::Unhealthy { reason }, _)) = &evidence.probes {
        reasons.push(format!("health probes: {reason}"));
    }
    if let Some(Finding::Worse { reasons: worse }) = evidence.analysis.as_ref().map(|a| &a.finding) {
        reasons.extend(worse.iter().map(|reason| format!("analysis: {reason}")));
    }
    if require_evidence && evidence.lacks_evidence() {
        reasons.push(format!(
            "no evidence about the new revision: {} (GATE_REQUIRE_EVIDENCE=false lets such a gate pass)",
            evidence.missing.join("; ")
        ));
    }
    if !reasons.is_empty() {
        return Verdict::Fail { reasons };
    }
    if let Some((ProbeState::Pending, count)) = &evidence.probes {
        return Verdict::Pending { reason: format!("{count} probes so far, not yet healthy") };
    }
    if let Some(Finding::Pending { reason }) = evidence.analysis.as_ref().map(|a| &a.finding) {
        return Verdict::Pending { reason: format!("analysis: {reason}") };
    }
    if let Some(health) = &evidence.target_health
        && (health.initial > 0 || (health.healthy as i64) < i64::from(health.desired))
    {
        return Verdict::Pending {
            reason: format!(
                "{} healthy targets in {} ({} in initial checks), the service wants {}",
                health.healthy, health.target_group, health.initial, health.desired
            ),
        };
    }
    Verdict::Pass
}

/// A verdict still pending when the gate has no more checks to spend is a failure: the revision
/// was not proven healthy. Except an analysis still waiting for requests: it then judges nothing
/// (a caveat says so) and the rest of the evidence decides, or a quiet service would fail every
/// linear or canary deployment for want of traffic, whatever its health.
pub fn final_verdict(evidence: &mut Evidence, decided: Verdict, checks: u32, require_evidence: bool) -> Verdict {
    let decided = match evidence.analysis.as_mut() {
        Some(analysis) if matches!(decided, Verdict::Pending { .. }) => match &analysis.finding {
            Finding::Pending { reason } => {
                analysis.finding = Finding::NotJudged { reason: format!("{reason}, after {checks} checks") };
                verdict(evidence, require_evidence)
            }
            _ => decided,
        },
        _ => decided,
    };
    match decided {
        Verdict::Pending { reason } => Verdict::Fail { reasons: vec![format!("not proven healthy after {checks} checks: {reason}")] },
        decided => decided,
    }
}

/// Seconds before ECS calls a pending hook again: the gate's interval, but at least a minute
/// while the analysis waits for traffic (load balancers publish their metrics per minute).
pub fn call_back_delay(evidence: &Evidence, interval_ms: u64) -> u64 {
    let waits_for_traffic = evidence.analysis.as_ref().is_some_and(|a| matches!(a.finding, Finding::Pending { .. }));
    let interval = interval_ms.div_ceil(1000).max(1);
    if waits_for_traffic { interval.max(60) } else { interval }
}

#[cfg(test)]
mod tests;
