//! Pure health verdicts for the traffic gate: may traffic move to the new revision? And which
//! evidence each lifecycle stage looks at (`stages`).

mod stages;

pub use stages::{ECS_STAGES, Stage, ecs_stage};

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
    /// health, no probe.
    pub fn lacks_evidence(&self) -> bool {
        !self.missing.is_empty() && self.target_health.is_none() && self.probes.is_none()
    }

    /// What a reader of a verdict must know besides it: evidence not gathered, and the notes.
    pub fn caveats(&self) -> Vec<String> {
        self.missing.iter().map(|missing| format!("not checked: {missing}")).chain(self.notes.iter().cloned()).collect()
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
        assert_eq!(verdict(&pass, true), Verdict::Pass);
        assert_eq!(verdict(&Evidence::default(), true), Verdict::Pass, "nothing against it");

        let frozen =
            Evidence { freeze: Some("region failover to us-west-2".into()), probes: healthy_probes.clone(), ..Evidence::default() };
        assert!(matches!(verdict(&frozen, true), Verdict::Fail { reasons } if reasons[0].contains("frozen")));

        let alarmed = Evidence { alarms_in_alarm: vec!["web-5xx".into()], alarms_missing: vec!["web-p99".into()], ..Evidence::default() };
        assert!(matches!(verdict(&alarmed, true), Verdict::Fail { reasons } if reasons.len() == 2));

        let health =
            |healthy, unhealthy: Vec<String>| TargetHealth { target_group: "tg-green".into(), healthy, initial: 0, unhealthy, desired: 2 };
        let short = Evidence { target_health: Some(health(1, vec![])), ..Evidence::default() };
        assert!(matches!(verdict(&short, true), Verdict::Pending { reason } if reason.contains("wants 2")));
        assert!(matches!(final_verdict(verdict(&short, true), 10), Verdict::Fail { reasons } if reasons[0].contains("after 10 checks")));
        assert_eq!(final_verdict(Verdict::Pass, 3), Verdict::Pass);
        let sick = Evidence { target_health: Some(health(2, vec!["10.0.1.7: unhealthy (Target.Timeout)".into()])), ..Evidence::default() };
        assert!(matches!(verdict(&sick, true), Verdict::Fail { reasons } if reasons[0].contains("Target.Timeout")));

        let pending = Evidence { probes: Some((ProbeState::Pending, 1)), target_health: Some(health(2, vec![])), ..Evidence::default() };
        assert!(matches!(verdict(&pending, true), Verdict::Pending { .. }));
        let failing = Evidence { probes: Some((ProbeState::Unhealthy { reason: "connection refused".into() }, 2)), ..Evidence::default() };
        assert!(matches!(verdict(&failing, true), Verdict::Fail { reasons } if reasons[0].contains("connection refused")));
    }

    /// Issue 13 item 7: a stage that looks at the new revision and learns nothing about it fails
    /// when evidence is required (the default), and passes with visible caveats when not.
    #[test]
    fn missing_evidence_fails_when_required_and_is_a_caveat_when_not() {
        let nothing =
            Evidence { missing: vec!["target health: no target group known".into(), "HTTP probes: no URL".into()], ..Evidence::default() };
        assert!(nothing.lacks_evidence());
        let Verdict::Fail { reasons } = verdict(&nothing, true) else { panic!("required evidence is missing") };
        assert!(reasons[0].starts_with("no evidence about the new revision: target health: no target group known; HTTP probes: no URL"));
        assert_eq!(verdict(&nothing, false), Verdict::Pass);
        assert_eq!(nothing.caveats(), ["not checked: target health: no target group known", "not checked: HTTP probes: no URL"]);

        // Some evidence: what is missing is a caveat, not a failure.
        let health = TargetHealth { target_group: "tg-green".into(), healthy: 2, initial: 0, unhealthy: vec![], desired: 2 };
        let partial = Evidence { target_health: Some(health), missing: vec!["HTTP probes: no URL".into()], ..Evidence::default() };
        assert!(!partial.lacks_evidence());
        assert_eq!(verdict(&partial, true), Verdict::Pass);
        assert_eq!(partial.caveats(), ["not checked: HTTP probes: no URL"]);

        // A stage with nothing to look at (PRE_SCALE_UP) misses nothing: it passes, saying so.
        let before = Evidence { notes: vec!["PRE_SCALE_UP: no new tasks yet".into()], ..Evidence::default() };
        assert_eq!((verdict(&before, true), before.caveats()), (Verdict::Pass, vec!["PRE_SCALE_UP: no new tasks yet".to_owned()]));
    }

    #[test]
    fn a_refused_probe_url_fails() {
        let refused =
            Evidence { probe_refused: Some("probe host \"evil.example\" is not in GATE_PROBE_HOSTS".into()), ..Evidence::default() };
        assert!(matches!(verdict(&refused, false), Verdict::Fail { reasons } if reasons[0].contains("evil.example")));
    }
}
