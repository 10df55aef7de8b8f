//! The warning that a pushed image is not deployed: the findings the policy blocks (counts and the
//! worst few), or the scan that is missing.

use super::plan::{Blocked, counts};
use crate::notify::{Notification, Severity, field};
use crate::ports::{ScanFinding, ScanReport, Service};
use crate::quote::quote;
use crate::tags;
use crate::usecase::image_pushed::plan::{ImagePush, short_digest};
use serde_json::json;

/// Most findings a warning names: the worst; the counts cover the rest.
pub const WORST_MAX: usize = 5;
/// Most severities a warning counts (ECR and Inspector know six).
const SEVERITIES_MAX: usize = 8;

pub fn blocked_notification(
    push: &ImagePush,
    service: &Service,
    policy: &str,
    blocked: &Blocked,
    report: Option<&ScanReport>,
) -> Notification {
    let cluster = service.cluster_name();
    let tag = push.tag.as_deref().unwrap_or("(untagged)");
    let (why, short) = match blocked {
        Blocked::Findings(found) => {
            let found: Vec<String> = found.iter().take(SEVERITIES_MAX).map(|(severity, count)| format!("{count} {severity}")).collect();
            (format!("its scan finds what {} {} blocks", tags::SCAN, quote(policy)), found.join(", "))
        }
        Blocked::Missing(missing) => (format!("{} ({} {})", missing.describe(), tags::SCAN, quote(policy)), "no scan result".into()),
    };
    let severity_counts: std::collections::BTreeMap<&String, &u64> =
        report.map(|r| r.severity_counts.iter().take(SEVERITIES_MAX).collect()).unwrap_or_default();
    let worst: &[ScanFinding] = report.map_or(&[], |r| &r.worst[..r.worst.len().min(WORST_MAX)]);
    let mut text = format!(
        "Deckhand did not deploy {}:{} ({}) to {}/{}: {}.\nThe service keeps running its current image; a later push of a fixed image deploys.\n\n",
        field(&push.repository),
        field(tag),
        field(short_digest(&push.digest)),
        field(cluster),
        field(&service.name),
        field(&why),
    );
    if let Some(report) = report {
        let counted = report.severity_counts.iter().take(SEVERITIES_MAX).map(|(s, c)| (s.clone(), *c)).collect();
        text.push_str(&format!("Scan:        {} ({})\n", field(&report.status), field(&counts(&counted))));
    }
    if !worst.is_empty() {
        text.push_str("Worst findings:\n");
    }
    for finding in worst {
        let package = finding.package.as_deref().unwrap_or("-");
        text.push_str(&format!("  {}  {}  {}\n", field(&finding.severity), field(&finding.id), field(package)));
    }
    if let Some(id) = &push.event_id {
        text.push_str(&format!("Event:       {}\n", field(id)));
    }
    Notification {
        event: "image.blocked",
        severity: Severity::Warning,
        subject: format!("Not deploying {}:{tag} to {cluster}/{}: {short}", push.repository, service.name),
        text,
        details: json!({
            "repository": push.repository,
            "tag": push.tag,
            "digest": push.digest,
            "service_arn": service.arn,
            "policy": policy,
            "reason": why,
            "status": report.map(|r| &r.status),
            "severity_counts": severity_counts,
            "worst": worst,
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.name.clone()),
        project: None,
        // One warning per digest and service, whichever event (push, scan, re-check) decided it.
        dedup_key: Some(format!("scan-blocked:{}:{}", push.digest, service.arn)),
    }
}
