//! Pure health verdicts for the traffic gate: may traffic move to the new revision?

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
    let trailing = |ok: bool| history.iter().rev().take_while(|p| p.ok == ok).count() as u32;
    if trailing(true) >= rules.healthy_threshold {
        return ProbeState::Healthy;
    }
    if trailing(false) >= rules.unhealthy_threshold {
        let last = history.last().map_or("", |p| p.detail.as_str());
        return ProbeState::Unhealthy { reason: format!("{} consecutive probes failed, last: {last}", trailing(false)) };
    }
    if history.len() as u32 >= rules.max_probes {
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
    /// Evidence the gate could not gather, and why (e.g. no target group known).
    pub skipped: Vec<String>,
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

pub fn verdict(evidence: &Evidence) -> Verdict {
    let mut reasons = Vec::new();
    if let Some(freeze) = &evidence.freeze {
        reasons.push(format!("deployments are frozen (deckhand:freeze = {freeze})"));
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
    if !reasons.is_empty() {
        return Verdict::Fail { reasons };
    }
    if let Some((ProbeState::Pending, count)) = &evidence.probes {
        return Verdict::Pending { reason: format!("{count} probes so far, not yet healthy") };
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
/// was not proven healthy.
pub fn final_verdict(verdict: Verdict, checks: u32) -> Verdict {
    match verdict {
        Verdict::Pending { reason } => Verdict::Fail { reasons: vec![format!("not proven healthy after {checks} checks: {reason}")] },
        decided => decided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(oks: &[bool]) -> Vec<ProbeOutcome> {
        oks.iter().map(|&ok| ProbeOutcome { ok, detail: if ok { "HTTP 200".into() } else { "HTTP 500".into() } }).collect()
    }

    #[test]
    fn probe_states() {
        let rules = ProbeRules::default();
        assert_eq!(probe_state(&history(&[]), &rules), ProbeState::Pending);
        assert_eq!(probe_state(&history(&[true]), &rules), ProbeState::Pending);
        assert_eq!(probe_state(&history(&[true, true]), &rules), ProbeState::Healthy);
        assert_eq!(probe_state(&history(&[true, false, true]), &rules), ProbeState::Pending, "flapping is not healthy");
        assert_eq!(probe_state(&history(&[true, false, true, true]), &rules), ProbeState::Healthy);
        assert!(
            matches!(probe_state(&history(&[true, false, false]), &rules), ProbeState::Unhealthy { reason } if reason.contains("HTTP 500"))
        );
        let flapping: Vec<bool> = (0..10).map(|i| i % 2 == 0).collect();
        assert!(matches!(probe_state(&history(&flapping), &rules), ProbeState::Unhealthy { reason } if reason.contains("flapping")));
        let strict = ProbeRules { unhealthy_threshold: 3, ..rules };
        assert_eq!(probe_state(&history(&[false, false]), &strict), ProbeState::Pending);
    }

    #[test]
    fn verdicts() {
        let healthy_probes = Some((ProbeState::Healthy, 2));
        let pass = Evidence { probes: healthy_probes.clone(), ..Evidence::default() };
        assert_eq!(verdict(&pass), Verdict::Pass);
        assert_eq!(verdict(&Evidence::default()), Verdict::Pass, "nothing against it");

        let frozen =
            Evidence { freeze: Some("region failover to us-west-2".into()), probes: healthy_probes.clone(), ..Evidence::default() };
        assert!(matches!(verdict(&frozen), Verdict::Fail { reasons } if reasons[0].contains("frozen")));

        let alarmed = Evidence { alarms_in_alarm: vec!["web-5xx".into()], alarms_missing: vec!["web-p99".into()], ..Evidence::default() };
        assert!(matches!(verdict(&alarmed), Verdict::Fail { reasons } if reasons.len() == 2));

        let health =
            |healthy, unhealthy: Vec<String>| TargetHealth { target_group: "tg-green".into(), healthy, initial: 0, unhealthy, desired: 2 };
        let short = Evidence { target_health: Some(health(1, vec![])), ..Evidence::default() };
        assert!(matches!(verdict(&short), Verdict::Pending { reason } if reason.contains("wants 2")));
        assert!(matches!(final_verdict(verdict(&short), 10), Verdict::Fail { reasons } if reasons[0].contains("after 10 checks")));
        assert_eq!(final_verdict(Verdict::Pass, 3), Verdict::Pass);
        let sick = Evidence { target_health: Some(health(2, vec!["10.0.1.7: unhealthy (Target.Timeout)".into()])), ..Evidence::default() };
        assert!(matches!(verdict(&sick), Verdict::Fail { reasons } if reasons[0].contains("Target.Timeout")));

        let pending = Evidence { probes: Some((ProbeState::Pending, 1)), target_health: Some(health(2, vec![])), ..Evidence::default() };
        assert!(matches!(verdict(&pending), Verdict::Pending { .. }));
        let failing = Evidence { probes: Some((ProbeState::Unhealthy { reason: "connection refused".into() }, 2)), ..Evidence::default() };
        assert!(matches!(verdict(&failing), Verdict::Fail { reasons } if reasons[0].contains("connection refused")));
    }
}
