//! `build-finished`: CodeBuild build state changes → a notification; a successful build that
//! exported the image it pushed also starts the same rollout `image-pushed` does.
//!
//! Exported variables read (buildspec `env.exported-variables`):
//! - `IMAGE_URI`: `REGISTRY/REPO[:TAG]@sha256:…` (the digest may come from `IMAGE_DIGEST`, the tag from `IMAGE_TAG`);
//! - or `IMAGE_REPO_NAME` + `IMAGE_DIGEST` (+ `IMAGE_TAG`), in the build's own account and region.
//!
//! Only builds of the projects in `ROLLOUT_PROJECTS` roll out; any other build that exported an
//! image is reported with why it was not deployed (anyone who can start a build could otherwise
//! deploy whatever tag it exports). What such a build exports is a claim, checked with ECR first
//! (`verify`): a digest must be in the repository and carry the exported tag, a tag alone is
//! resolved to its digest; a claim ECR contradicts deploys nothing and turns the build message
//! into an alert.

mod exported;
mod notification;
#[cfg(test)]
mod tests;
pub mod verify;

pub use exported::{Claim, SHOWN, exported_image, value_shown};
pub use notification::{build_notification, console_link};

use crate::config::BuildFinishedConfig;
use crate::error::HandlerError;
use crate::event::codebuild::{self, BuildStateChange};
use crate::notify::Severity;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult, Sent};
use crate::ports::{CodeDeployments, EcsServices, NativeDeployments, Notifier, Registry, ServiceCapacity, TaskDefinitions};
use crate::recent::RecentEvents;
use crate::usecase::image_pushed::rollout::Rollout;
use serde_json::{Value, json};
use tracing::{info, warn};
use verify::{Refusal, Seen, Verdict, verify};

pub const FUNCTION: &str = "build-finished";

pub struct BuildFinished<E, C, N, G> {
    config: BuildFinishedConfig,
    notifier: N,
    /// The rollout of exported images; `None` when `CLUSTERS` is unset. Used only for builds of
    /// the projects in `ROLLOUT_PROJECTS`.
    rollout: Option<Rollout<E, C, N, G>>,
    recent: RecentEvents,
}

impl<E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments, C: CodeDeployments, N: Notifier, G: Registry>
    BuildFinished<E, C, N, G>
{
    pub fn new(config: BuildFinishedConfig, notifier: N, rollout: Option<Rollout<E, C, N, G>>) -> Self {
        Self { config, notifier, rollout, recent: RecentEvents::default() }
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
        let mut checked = None;
        if let (BuildKind::Succeeded, Some(rollout)) = (kind, &self.rollout) {
            match exported_image(&build) {
                Ok(None) => {}
                // Only the projects named in ROLLOUT_PROJECTS may deploy what they export.
                exported if !self.config.rolls_out(&build.project) => {
                    let reason = self.not_a_rollout_project(&build.project);
                    if let Ok(Some(claim)) = exported {
                        outcome.resources.push(ignored(&claim, reason.clone()));
                    }
                    rollout_note = Some(reason);
                }
                // A claim: ECR confirms it (or resolves its tag) before anything deploys. A
                // failing call fails the invocation, and the retry asks again.
                Ok(Some(claim)) => match verify(rollout.registry(), &claim).await? {
                    (Verdict::Deploy { digest }, seen) => {
                        // What ECR just answered is not asked again by the push-order check.
                        let known = seen.by_digest.into_iter().chain(seen.by_tag);
                        outcome = rollout.deploy_knowing(FUNCTION, &claim.pinned(&digest), known).await;
                        // The build is reported either way: why nothing deployed goes into its message.
                        rollout_note = outcome.ignored.take();
                        checked = Some(Checked::Confirmed(claim, digest));
                    }
                    (Verdict::Refuse(refusal), seen) => {
                        warn!(project = build.project, claim = %claim, ecr = refusal.ecr, "claim refused");
                        outcome.resources.push(ignored(&claim, refusal.reason()));
                        rollout_note = Some("ECR does not confirm the image the build exported".into());
                        checked = Some(Checked::Refused(claim, refusal, seen));
                    }
                },
                Err(reason) => rollout_note = Some(reason),
            }
        }
        let notified_key = event_id.as_ref().map(|id| format!("{id}:notified"));
        if !notified_key.as_deref().is_some_and(|key| self.recent.contains(key)) {
            let mut notification = build_notification(&build, kind, &outcome, rollout_note.as_deref());
            match &checked {
                Some(Checked::Confirmed(claim, digest)) => notification::confirmed(&mut notification, claim, digest),
                Some(Checked::Refused(claim, refusal, seen)) => notification::refused(&mut notification, &build, claim, refusal, seen),
                None => {}
            }
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

    fn not_a_rollout_project(&self, project: &str) -> String {
        if self.config.rollout_projects.is_empty() {
            format!("project {project} is not in ROLLOUT_PROJECTS (unset: builds only notify)")
        } else {
            format!("project {project} is not in ROLLOUT_PROJECTS ({})", self.config.rollout_projects.join(", "))
        }
    }

    fn ignored(&self, build: &BuildStateChange, reason: &str) -> Outcome {
        info!(project = build.project, status = build.status, reason, "ignored");
        Outcome::ignored(FUNCTION, build.event_id.clone(), reason)
    }
}

/// What ECR made of a build's claim, for its message.
enum Checked {
    /// Confirmed, with the digest deployed.
    Confirmed(Claim, String),
    Refused(Claim, Refusal, Seen),
}

/// The claimed image (`REPO[:TAG][@DIGEST]`), not deployed, and why.
fn ignored(claim: &Claim, reason: String) -> ResourceOutcome {
    ResourceOutcome { resource: claim.to_string(), trigger: None, result: ResourceResult::Ignored { reason } }
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

    pub fn event(self) -> &'static str {
        match self {
            BuildKind::Started => "build.started",
            BuildKind::Succeeded => "build.succeeded",
            BuildKind::Failed => "build.failed",
            BuildKind::Stopped => "build.stopped",
            BuildKind::TimedOut => "build.timed_out",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            BuildKind::Started | BuildKind::Succeeded => Severity::Info,
            BuildKind::Failed | BuildKind::Stopped | BuildKind::TimedOut => Severity::Warning,
        }
    }
}
