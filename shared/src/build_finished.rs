//! `build-finished`: CodeBuild build state changes → a notification; a successful build that
//! exported the image it pushed also starts the same rollout `image-pushed` does.
//!
//! Exported variables read (buildspec `env.exported-variables`):
//! - `IMAGE_URI`: `REGISTRY/REPO[:TAG]@sha256:…` (the digest may come from `IMAGE_DIGEST`, the tag from `IMAGE_TAG`);
//! - or `IMAGE_REPO_NAME` + `IMAGE_DIGEST` (+ `IMAGE_TAG`), in the build's own account and region.

use crate::aws::Notifier;
use crate::aws::sns::SdkSns;
use crate::config::BuildFinishedConfig;
use crate::deployer::SdkDeployer;
use crate::error::HandlerError;
use crate::event::codebuild::{self, BuildStateChange};
use crate::event::ecr::{ImageAction, is_digest};
use crate::notify::{Notification, Severity};
use crate::outcome::{Outcome, Sent, ServiceResult};
use crate::recent::RecentEvents;
use crate::rollout::image::ImageRef;
use serde_json::{Value, json};
use std::fmt::Write;
use tracing::info;

pub const FUNCTION: &str = "build-finished";

pub struct BuildFinished {
    config: BuildFinishedConfig,
    notifier: SdkSns,
    deployer: Option<SdkDeployer>,
    recent: RecentEvents,
}

impl BuildFinished {
    pub fn from_sdk(config: BuildFinishedConfig, sdk: &aws_config::SdkConfig) -> Self {
        let notifier = SdkSns::new(aws_sdk_sns::Client::new(sdk), config.notify_topic_arn.clone());
        let deployer = (!config.clusters.is_empty()).then(|| SdkDeployer::from_sdk(config.clusters.clone(), notifier.clone(), sdk));
        Self { config, notifier, deployer, recent: RecentEvents::default() }
    }

    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let build = codebuild::decode(event)?;
        let event_id = build.event_id.clone();
        let done_key = event_id.as_ref().map(|id| format!("{id}:done"));
        if done_key.as_deref().is_some_and(|key| self.recent.contains(key)) {
            return Ok(self.ignored(&build, "duplicate delivery: this event was already handled"));
        }
        let kind = match BuildKind::of(&build.status) {
            Some(BuildKind::Started) if !self.config.notify_build_started => {
                return Ok(self.ignored(&build, "build started; NOTIFY_BUILD_STARTED is off"));
            }
            Some(kind) => kind,
            None => return Ok(self.ignored(&build, &format!("build-status {} is not one Deckhand reports", build.status))),
        };
        // Roll out first, so the build message can say where the image went.
        let mut outcome = Outcome::new(FUNCTION, event_id.clone());
        let mut rollout_note = None;
        if let (BuildKind::Succeeded, Some(deployer)) = (kind, &self.deployer) {
            match exported_image(&build) {
                Ok(Some(push)) => outcome = deployer.deploy(FUNCTION, &push).await,
                Ok(None) => {}
                Err(reason) => rollout_note = Some(reason),
            }
        }
        let notified_key = event_id.as_ref().map(|id| format!("{id}:notified"));
        if !notified_key.as_deref().is_some_and(|key| self.recent.contains(key)) {
            let notification = build_notification(&build, kind, &outcome, rollout_note.as_deref());
            let message_id = self.notifier.publish(&notification).await?;
            outcome.notification = Some(Sent::of(&notification, message_id));
            if let Some(key) = &notified_key {
                self.recent.remember(key);
            }
        }
        let outcome = outcome.into_result()?;
        if let Some(key) = &done_key {
            self.recent.remember(key);
        }
        info!(project = build.project, status = build.status, outcome = %json!(outcome), "handled");
        Ok(outcome)
    }

    fn ignored(&self, build: &BuildStateChange, reason: &str) -> Outcome {
        info!(project = build.project, status = build.status, reason, "ignored");
        Outcome::ignored(FUNCTION, build.event_id.clone(), reason)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildKind {
    Started,
    Succeeded,
    Failed,
    Stopped,
    TimedOut,
}

impl BuildKind {
    pub fn of(status: &str) -> Option<Self> {
        Some(match status {
            "IN_PROGRESS" => BuildKind::Started,
            "SUCCEEDED" => BuildKind::Succeeded,
            "FAILED" => BuildKind::Failed,
            "STOPPED" => BuildKind::Stopped,
            "TIMED_OUT" => BuildKind::TimedOut,
            _ => return None,
        })
    }

    fn event(self) -> &'static str {
        match self {
            BuildKind::Started => "build.started",
            BuildKind::Succeeded => "build.succeeded",
            BuildKind::Failed => "build.failed",
            BuildKind::Stopped => "build.stopped",
            BuildKind::TimedOut => "build.timed_out",
        }
    }

    fn severity(self) -> Severity {
        match self {
            BuildKind::Started | BuildKind::Succeeded => Severity::Info,
            BuildKind::Failed | BuildKind::Stopped | BuildKind::TimedOut => Severity::Warning,
        }
    }
}

/// Names that look like they hold secrets; their values are never shown.
pub fn looks_secret(name: &str) -> bool {
    const MARKERS: [&str; 13] =
        ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "PWD", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "SESSION", "COOKIE", "CERT", "SIGNATURE"];
    let upper = name.to_ascii_uppercase();
    MARKERS.iter().any(|marker| upper.contains(marker))
}

fn exported<'a>(build: &'a BuildStateChange, name: &str) -> Option<&'a str> {
    build.exported.iter().find(|(n, v)| n == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// The image the build says it pushed, as the push event ECR would send for it.
/// `Ok(None)`: the build exported no image. `Err`: it exported one Deckhand cannot pin.
pub fn exported_image(build: &BuildStateChange) -> Result<Option<ImageAction>, String> {
    let tag = exported(build, "IMAGE_TAG").map(str::to_owned);
    let digest = exported(build, "IMAGE_DIGEST").map(str::to_owned);
    let (account, region, repository, tag, digest) = if let Some(uri) = exported(build, "IMAGE_URI") {
        let image = ImageRef::parse(uri).map_err(|err| format!("exported IMAGE_URI: {err}"))?;
        let Some(ecr) = image.ecr_registry() else {
            return Err(format!("exported IMAGE_URI `{uri}` is not in an ECR registry"));
        };
        let (account, region) = (ecr.account.to_owned(), ecr.region.to_owned());
        (account, region, image.repository.clone(), image.tag.or(tag), image.digest.or(digest))
    } else if let Some(repository) = exported(build, "IMAGE_REPO_NAME") {
        (build.account.clone(), build.region.clone(), repository.to_owned(), tag, digest)
    } else {
        return Ok(None);
    };
    let Some(digest) = digest else {
        return Err(format!(
            "the build exported {repository} without a digest: export IMAGE_DIGEST (or IMAGE_URI with @sha256:…) to deploy it"
        ));
    };
    if !is_digest(&digest) {
        return Err(format!("exported digest `{digest}` is not sha256:<hex>"));
    }
    Ok(Some(ImageAction {
        event_id: build.event_id.clone(),
        account,
        region,
        action: "PUSH".into(),
        result: "SUCCESS".into(),
        repository,
        digest,
        tag,
    }))
}

/// `1h 2m 3s`, `2m 5s`, `42s`.
fn duration(seconds: f64) -> String {
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
    let mut text = format!("CodeBuild project {}{number}: {}.\n\n", build.project, build.status);
    if let Some(phase) = failed_phase {
        let _ = writeln!(text, "Phase:      {} {}", phase.kind, phase.status.as_deref().unwrap_or(""));
        for line in &phase.context {
            let _ = writeln!(text, "            {line}");
        }
    }
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(value) = value {
            let _ = writeln!(text, "{label:<11} {value}");
        }
    };
    line("Source:", build.source_version.as_deref());
    line("Initiator:", build.initiator.as_deref());
    line("Duration:", (seconds > 0.0).then(|| duration(seconds)).as_deref());
    line("Console:", console_link(build).as_deref());
    line("Logs:", build.logs_link.as_deref());
    let shown: Vec<(&str, &str)> = build.exported.iter().filter(|(n, _)| !looks_secret(n)).map(|(n, v)| (n.as_str(), v.as_str())).collect();
    for (name, value) in &shown {
        let _ = writeln!(text, "Exported:   {name}={value}");
    }
    let deployed: Vec<String> = rollout
        .services
        .iter()
        .filter_map(|s| match &s.result {
            ServiceResult::Deployed { revision, deployment_id, .. } => {
                Some(format!("{}/{} (rev {revision}, {deployment_id})", s.cluster, s.service))
            }
            _ => None,
        })
        .collect();
    if !deployed.is_empty() {
        let _ = writeln!(text, "Deploying:  {}", deployed.join(", "));
    }
    if let Some(note) = rollout_note {
        let _ = writeln!(text, "Not deployed: {note}");
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
            "deployments": rollout.services,
        }),
        cluster: None,
        service: None,
        project: Some(build.project.clone()),
        dedup_key: build.event_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::codebuild::Phase;

    const DIGEST: &str = "sha256:4f1c6e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d";

    fn build(status: &str, exported: &[(&str, &str)]) -> BuildStateChange {
        BuildStateChange {
            event_id: Some("e1".into()),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            status: status.into(),
            project: "shop-web".into(),
            build_id: "arn:aws:codebuild:us-east-1:123456789012:build/shop-web:8745a7a9".into(),
            build_number: Some(55),
            initiator: None,
            source_version: Some("3f2a9c1".into()),
            logs_link: None,
            phases: vec![
                Phase { kind: "PROVISIONING".into(), status: Some("SUCCEEDED".into()), context: vec![], seconds: Some(36.0) },
                Phase {
                    kind: "BUILD".into(),
                    status: Some(if status == "SUCCEEDED" { "SUCCEEDED" } else { "FAILED" }.into()),
                    context: vec!["COMMAND_EXECUTION_ERROR: Error while executing command: make test. Reason: exit status 2".into()],
                    seconds: Some(90.0),
                },
            ],
            current_phase: None,
            exported: exported.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn failure_names_the_phase_its_context_and_the_links() {
        let b = build("FAILED", &[]);
        let n = build_notification(&b, BuildKind::Failed, &Outcome::new(FUNCTION, None), None);
        assert_eq!(n.sns_subject(), "Build FAILED: shop-web #55 in BUILD");
        assert_eq!((n.event, n.severity), ("build.failed", Severity::Warning));
        assert!(n.text.contains("exit status 2") && n.text.contains("2m 6s") && n.text.contains("3f2a9c1"), "{}", n.text);
        assert!(n.text.contains("build/shop-web%3A8745a7a9/?region=us-east-1"), "{}", n.text);
        assert_eq!(n.attributes().iter().find(|(k, _)| *k == "project").map(|(_, v)| v.as_str()), Some("shop-web"));
    }

    #[test]
    fn missing_optional_fields_leave_their_lines_out() {
        let mut b = build("STOPPED", &[]);
        (b.build_number, b.source_version, b.phases) = (None, None, vec![]);
        let n = build_notification(&b, BuildKind::Stopped, &Outcome::new(FUNCTION, None), None);
        assert_eq!(n.sns_subject(), "Build STOPPED: shop-web");
        assert!(!n.text.contains("Source:") && !n.text.contains("Duration:") && !n.text.contains("Phase:"), "{}", n.text);
    }

    #[test]
    fn secret_looking_exports_are_never_shown() {
        let b = build(
            "SUCCEEDED",
            &[("IMAGE_TAG", "v1"), ("NPM_TOKEN", "npm_abc123"), ("db_password", "hunter2"), ("AWS_SECRET_ACCESS_KEY", "x")],
        );
        let n = build_notification(&b, BuildKind::Succeeded, &Outcome::new(FUNCTION, None), None);
        let everything = n.sns_message();
        assert!(everything.contains("IMAGE_TAG=v1"));
        for secret in ["npm_abc123", "hunter2", "NPM_TOKEN", "AWS_SECRET_ACCESS_KEY"] {
            assert!(!everything.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn reads_the_exported_image() {
        let uri = format!("123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/web:v2@{DIGEST}");
        let push = exported_image(&build("SUCCEEDED", &[("IMAGE_URI", &uri)])).unwrap().unwrap();
        assert_eq!(
            (push.region.as_str(), push.repository.as_str(), push.tag.as_deref(), push.digest.as_str()),
            ("us-west-2", "shop/web", Some("v2"), DIGEST)
        );

        let split = build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v3"), ("IMAGE_DIGEST", DIGEST)]);
        let push = exported_image(&split).unwrap().unwrap();
        assert_eq!((push.account.as_str(), push.region.as_str(), push.tag.as_deref()), ("123456789012", "us-east-1", Some("v3")));

        assert_eq!(exported_image(&build("SUCCEEDED", &[("OTHER", "x")])), Ok(None));
        assert!(
            exported_image(&build("SUCCEEDED", &[("IMAGE_REPO_NAME", "shop/web"), ("IMAGE_TAG", "v3")]))
                .unwrap_err()
                .contains("without a digest")
        );
        assert!(
            exported_image(&build("SUCCEEDED", &[("IMAGE_URI", "docker.io/library/nginx:1")]))
                .unwrap_err()
                .contains("not in an ECR registry")
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!((duration(42.0), duration(125.4), duration(3725.0)), ("42s".into(), "2m 5s".into(), "1h 2m 5s".into()));
    }
}
