//! The gate's verdict, as a person reads it.

use super::GateReport;
use super::plan::Verdict;
use crate::notify::{Notification, Severity, field};
use serde_json::json;

pub fn gate_notification(outcome: &GateReport) -> Notification {
    let (cluster, service) = outcome.cluster_service().unwrap_or(("?", "?"));
    let (cluster, service) = (field(cluster), field(service));
    let passed = outcome.verdict == Verdict::Pass;
    // Passed, though the stage learnt nothing about the new revision (GATE_REQUIRE_EVIDENCE=false).
    let unproven = passed && outcome.evidence.lacks_evidence();
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
            if unproven {
                "PASSED WITHOUT EVIDENCE: traffic may move to the new revision, which nothing checked"
            } else if passed {
                "PASSED: traffic may move to the new revision"
            } else {
                "FAILED: the shift is refused and the deployment rolls back"
            }
        )
    };
    if let Verdict::Fail { reasons } = &outcome.verdict {
        for reason in reasons {
            text.push_str(&format!("Reason:   {}\n", field(reason)));
        }
    }
    text.push_str(&format!("Probes:   {passed_probes} of {} passed", outcome.probes.len()));
    if let Some(last) = outcome.probes.last() {
        text.push_str(&format!(", last: {}", field(&last.detail)));
    }
    text.push('\n');
    if let Some(health) = &outcome.evidence.target_health {
        text.push_str(&format!(
            "Targets:  {} healthy of the {} wanted in {}\n",
            health.healthy,
            health.desired,
            field(&health.target_group)
        ));
    }
    if let Some(analysis) = &outcome.evidence.analysis {
        for (side, group) in [("new", &analysis.new), ("old", &analysis.old)] {
            text.push_str(&format!("Traffic:  {side} {} in {} min\n", field(&group.summary()), analysis.window_minutes));
        }
    }
    for missing in &outcome.evidence.missing {
        text.push_str(&format!("Missing:  {}\n", field(missing)));
    }
    for note in &outcome.evidence.notes {
        text.push_str(&format!("Note:     {}\n", field(note)));
    }
    let hook = match &outcome.deployment_id {
        Some(id) => format!("CodeDeploy deployment {}, hook execution {}", field(id), field(&outcome.execution_id)),
        None => format!("ECS lifecycle hook execution {}", field(&outcome.execution_id)),
    };
    text.push_str(&format!("Hook:     {hook}\n"));
    Notification {
        event: if passed { "gate.passed" } else { "gate.failed" },
        severity: if passed && !unproven { Severity::Info } else { Severity::Warning },
        subject: format!(
            "Traffic gate {}{}: {cluster}/{service}",
            if outcome.already_reported { "re-check " } else { "" },
            if unproven {
                "passed WITHOUT EVIDENCE"
            } else if passed {
                "passed"
            } else {
                "FAILED"
            }
        ),
        text,
        details: json!(outcome),
        cluster: outcome.cluster_service().map(|(cluster, _)| cluster.to_owned()),
        service: outcome.cluster_service().map(|(_, service)| service.to_owned()),
        project: None,
        dedup_key: Some(format!("gate:{}", outcome.execution_id)),
    }
}
