//! The gate's verdict, as a person reads it.

use super::GateReport;
use super::plan::Verdict;
use crate::notify::{Notification, Severity};
use serde_json::json;

pub fn gate_notification(outcome: &GateReport) -> Notification {
    let (cluster, service) = outcome.target.as_ref().map_or(("?", "?"), |t| (t.cluster.as_str(), t.service.as_str()));
    let passed = outcome.verdict == Verdict::Pass;
    let passed_probes = outcome.probes.iter().filter(|p| p.ok).count();
    let mut text = if outcome.already_reported {
        // A retry cannot know which status an earlier attempt reported: it says what it found and
        // that CodeDeploy acts on the earlier status (a rollback is also announced by deploy-events).
        format!(
            "Traffic gate re-check {} for {cluster}/{service}.\nRepeat:   CodeDeploy already had this hook's status from an earlier \
             attempt and acts on that one, which can differ from this re-check.\n\n",
            if passed { "PASSED" } else { "FAILED" }
        )
    } else {
        format!(
            "Traffic gate {} for {cluster}/{service}.\n\n",
            if passed {
                "PASSED: traffic may move to the new revision"
            } else {
                "FAILED: the shift is refused and the deployment rolls back"
            }
        )
    };
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
        subject: format!(
            "Traffic gate {}{}: {cluster}/{service}",
            if outcome.already_reported { "re-check " } else { "" },
            if passed { "passed" } else { "FAILED" }
        ),
        text,
        details: json!(outcome),
        cluster: outcome.target.as_ref().map(|t| t.cluster.clone()),
        service: outcome.target.as_ref().map(|t| t.service.clone()),
        project: None,
        dedup_key: Some(format!("gate:{}", outcome.execution_id)),
    }
}
