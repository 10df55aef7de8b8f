//! The build message: what a person needs at a glance, the phase that failed, the links.

use super::BuildKind;
use super::exported::Claim;
use super::value_shown;
use super::verify::{Refusal, Seen};
use crate::event::codebuild::BuildStateChange;
use crate::notify::{Notification, field};
use crate::outcome::{Outcome, ResourceResult};
use serde_json::{Value, json};
use std::fmt::Write;

/// `1h 2m 3s`, `2m 5s`, `42s`.
pub(super) fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

/// The build's page in the CodeBuild console.
pub fn console_link(build: &BuildStateChange) -> Option<String> {
    let (_, build_path) = build.build_id.split_once(":build/")?;
    let encoded = build_path.replace(':', "%3A");
    Some(format!(
        "https://{region}.console.aws.amazon.com/codesuite/codebuild/{account}/projects/{project}/build/{encoded}/?region={region}",
        region = build.region,
        account = build.account,
        project = build.project,
    ))
}

pub fn build_notification(build: &BuildStateChange, kind: BuildKind, rollout: &Outcome, rollout_note: Option<&str>) -> Notification {
    let number = build.build_number.map(|n| format!(" #{n}")).unwrap_or_default();
    let failed_phase = build.phases.iter().find(|p| p.status.as_deref().is_some_and(|s| s != "SUCCEEDED"));
    let seconds: f64 = build.phases.iter().filter_map(|p| p.seconds).sum();
    let subject = match kind {
        BuildKind::Started => format!("Build started: {}{number}", build.project),
        BuildKind::Succeeded => format!("Build succeeded: {}{number}", build.project),
        _ => {
            let phase = failed_phase.map(|p| format!(" in {}", p.kind)).unwrap_or_default();
            format!("Build {}: {}{number}{phase}", build.status, build.project)
        }
    };
    let mut text = format!("CodeBuild project {}{number}: {}.\n\n", field(&build.project), field(&build.status));
    if let Some(phase) = failed_phase {
        let _ = writeln!(text, "Phase:      {} {}", field(&phase.kind), field(phase.status.as_deref().unwrap_or("")));
        // The phase's context is one field, however many lines it has: the links stay in view.
        for line in field(&phase.context.join("\n")).lines() {
            let _ = writeln!(text, "            {line}");
        }
    }
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(value) = value {
            let _ = writeln!(text, "{label:<11} {}", field(value));
        }
    };
    line("Source:", build.source_version.as_deref());
    line("Initiator:", build.initiator.as_deref());
    line("Duration:", (seconds > 0.0).then(|| duration(seconds)).as_deref());
    line("Console:", console_link(build).as_deref());
    line("Logs:", build.logs_link.as_deref());
    let shown: Vec<(&str, &str)> = build.exported.iter().filter(|(n, _)| value_shown(n)).map(|(n, v)| (n.as_str(), v.as_str())).collect();
    for (name, value) in &shown {
        let _ = writeln!(text, "Exported:   {}={}", field(name), field(value));
    }
    // Any other variable may hold a secret whatever its name: neither its value nor its name.
    let unshown = build.exported.len() - shown.len();
    if unshown > 0 {
        let plural = if unshown == 1 { "" } else { "s" };
        let _ = writeln!(text, "Not shown:  {unshown} other exported variable{plural} (only the image and commit ones are shown)");
    }
    let deployed: Vec<String> = rollout
        .resources
        .iter()
        .filter_map(|s| match &s.result {
            ResourceResult::Deployed { revision, deployment_id, .. } => Some(format!("{} (rev {revision}, {deployment_id})", s.resource)),
            _ => None,
        })
        .collect();
    if !deployed.is_empty() {
        let _ = writeln!(text, "Deploying:  {}", deployed.join(", "));
    }
    if let Some(note) = rollout_note {
        let _ = writeln!(text, "Not deployed: {}", field(note));
    }
    Notification {
        event: kind.event(),
        severity: kind.severity(),
        subject,
        text,
        details: json!({
            "project": build.project,
            "build_id": build.build_id,
            "build_number": build.build_number,
            "status": build.status,
            "failed_phase": failed_phase.map(|p| json!({"phase": p.kind, "status": p.status, "context": p.context})),
            "source_version": build.source_version,
            "initiator": build.initiator,
            "duration_seconds": seconds,
            "console_link": console_link(build),
            "logs_link": build.logs_link,
            "exported": shown.iter().map(|(n, v)| (n.to_string(), Value::from(*v))).collect::<serde_json::Map<_, _>>(),
            "exported_not_shown": unshown,
            "deployments": rollout.resources,
        }),
        cluster: None,
        service: None,
        project: Some(build.project.clone()),
        dedup_key: build.event_id.clone(),
    }
}

/// The build message of a build whose claim ECR confirmed: the image, by digest (the one its tag
/// points at, when the build exported only a tag).
pub(super) fn confirmed(notification: &mut Notification, claim: &Claim, digest: &str) {
    let how = if claim.digest.is_some() { "in ECR" } else { "resolved with ECR" };
    let _ = writeln!(notification.text, "Verified:   {} is {digest} ({how})", field(&claim.to_string()));
    notification.details["verified"] = json!({"repository": claim.repository, "tag": claim.tag, "digest": digest});
}

/// The build message of a build whose claim ECR contradicts, made an alert: what the build
/// claimed and what ECR says.
pub(super) fn refused(notification: &mut Notification, build: &BuildStateChange, claim: &Claim, refusal: &Refusal, seen: &Seen) {
    let number = build.build_number.map(|n| format!(" #{n}")).unwrap_or_default();
    notification.event = "build.image_refused";
    notification.severity = refusal.severity;
    notification.subject = format!("Build image refused: {}{number}", build.project);
    let _ = writeln!(notification.text, "Claimed:    {}", field(&claim.to_string()));
    let _ = writeln!(notification.text, "ECR says:   {}", field(&refusal.ecr));
    notification.details["refused"] = refusal.details(claim, seen);
}
