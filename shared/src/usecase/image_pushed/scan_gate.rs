//! The scan gate (issue 15): a service tagged `deckhand:scan` gets a pushed image only once the
//! image's scan is within its policy. `check` runs in every rollout just before it deploys: a
//! finished scan decides at once (deploy, or a warning and nothing deployed); a scan still to come
//! defers the deployment, recorded in `deckhand:scan-pending`. The scan's result event
//! (`scan_arrived`) and the schedule's re-check (`recheck`) resume deferred deployments through the
//! same rollout, which asks `check` again: a scan that never arrives is decided by the policy
//! once the deadline passes. Every write follows what it records, so a redelivery converges.

mod notification;
pub mod plan;
#[cfg(test)]
mod tests;

use super::image::ImageRef;
use super::plan::{ImagePush, RolloutPlan, short_digest, track_mismatch};
use super::rollout::Rollout;
use crate::error::HandlerError;
use crate::event::ecr_scan::ImageScan;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{
    CodeDeployments, EcsServices, NativeDeployments, Notifier, Registry, RegistryImage, Service, ServiceCapacity, TaskDefinitions,
};
use crate::quote::quote;
use crate::runtime::rfc3339;
use crate::tags;
use crate::usecase::{described, indexed_services};
use notification::blocked_notification;
use plan::{Blocked, GateDecision, Observation, Pending, ScanPolicy, counts};
use serde_json::json;
use tracing::{info, warn};

/// How every result of the gate holding a deployment back begins: a resumed deferral that ends
/// so is not settled yet (`resume`).
pub const HELD: &str = "scan gate: ";

/// The gate, for a rollout about to deploy `push` to `service` as `decided`: `None` lets it go
/// ahead; otherwise what happened instead. Services without `deckhand:scan`, and plans that deploy
/// nothing, pass without a call.
pub(super) async fn check<E: ServiceCapacity, N: Notifier, G: Registry>(
    ecs: &E,
    notifier: &N,
    registry: &G,
    now: u64,
    push: &ImagePush,
    service: &Service,
    decided: &RolloutPlan,
) -> Result<Option<ResourceResult>, HandlerError> {
    let Some(value) = service.tags.get(tags::SCAN) else { return Ok(None) };
    if matches!(decided, RolloutPlan::Ignore(_) | RolloutPlan::Unchanged { .. }) {
        return Ok(None);
    }
    let policy = match ScanPolicy::parse(value) {
        Ok(policy) => policy,
        Err(reason) => {
            warn!(service = service.arn, reason, "invalid scan policy: not deployed");
            return Ok(Some(ResourceResult::Ignored { reason: format!("{HELD}{reason}; not deployed") }));
        }
    };
    let pending = service.tags.get(tags::SCAN_PENDING).and_then(|value| Pending::parse(value));
    // The newest push wins, a deferred one included: an older push (a late or redelivered event)
    // never displaces a newer image that waits for its scan.
    if let Some(waiting) = pending.as_ref().filter(|pending| pending.digest != push.digest) {
        let pushed_at = |image: Option<RegistryImage>| image.and_then(|image| image.pushed_at);
        let ours = pushed_at(registry.image_by_digest(&push.account, &push.repository, &push.digest).await?);
        let theirs = pushed_at(registry.image_by_digest(&push.account, &push.repository, &waiting.digest).await?);
        if let (Some(ours), Some(theirs)) = (ours, theirs)
            && ours < theirs
        {
            let reason = format!(
                "older than the image waiting for its scan: {} was pushed {}, {} (deferred) {}; an event never moves a service to an older image",
                short_digest(&push.digest),
                rfc3339(ours),
                short_digest(&waiting.digest),
                rfc3339(theirs)
            );
            return Ok(Some(ResourceResult::Ignored { reason }));
        }
    }
    let report = registry.scan_report(&push.account, &push.repository, &push.digest).await?;
    let mut seen = Observation {
        digest: &push.digest,
        report: report.as_ref(),
        scans_on_push: None,
        pending: pending.as_ref(),
        blocked: service.tags.get(tags::SCAN_BLOCKED).map(String::as_str),
        now,
    };
    let mut decision = plan::decide(&policy, &seen);
    if decision == GateDecision::AskRepository {
        seen.scans_on_push = Some(registry.scans_on_push(&push.account, &push.repository).await?);
        decision = plan::decide(&policy, &seen);
    }
    let short = short_digest(&push.digest);
    match decision {
        GateDecision::Deploy { reason } => {
            // A deferral of another image is superseded: the newest push wins. One of this image
            // stays until the deployment is done (`resume` settles it; a re-check, if this is a push).
            if pending.as_ref().is_some_and(|pending| pending.digest != push.digest) {
                ecs.untag_service(&service.arn, tags::SCAN_PENDING).await?;
            }
            info!(service = service.arn, digest = push.digest, reason, "scan gate: deploying");
            Ok(None)
        }
        GateDecision::Block { blocked, warn } => {
            if warn {
                notifier.publish(&blocked_notification(push, service, value, &blocked, report.as_ref())).await?;
                ecs.tag_service(&service.arn, tags::SCAN_BLOCKED, &push.digest).await?;
            }
            if pending.is_some() {
                ecs.untag_service(&service.arn, tags::SCAN_PENDING).await?;
            }
            let why = match &blocked {
                Blocked::Findings(found) => format!("findings {}", counts(&found.iter().cloned().collect())),
                Blocked::Missing(missing) => missing.describe(),
            };
            let warned = if warn { "warning sent" } else { "warned already" };
            Ok(Some(ResourceResult::Unchanged {
                reason: format!("{HELD}{short} blocked by {} {}: {why}; {warned}", tags::SCAN, quote(value)),
            }))
        }
        GateDecision::Defer { mark, decide_at } => {
            if mark {
                ecs.tag_service(&service.arn, tags::SCAN_PENDING, &Pending { digest: push.digest.clone(), since: now }.value()).await?;
            }
            let reason = format!("{HELD}deferred until the scan of {short} arrives; decided by {} at the latest", rfc3339(decide_at));
            Ok(Some(ResourceResult::Unchanged { reason }))
        }
        GateDecision::AskRepository => Err(HandlerError::Misconfigured("the scan gate could not tell whether the repository scans".into())),
    }
}

/// Where a scanned image lives.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Repository {
    account: String,
    region: String,
    name: String,
}

/// A scan result arrived: the deployments deferred for this image go ahead, or are blocked.
pub(super) async fn scan_arrived<E, C, N, G>(rollout: &Rollout<E, C, N, G>, function: &'static str, scan: &ImageScan) -> Outcome
where
    E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments,
    C: CodeDeployments,
    N: Notifier,
    G: Registry,
{
    let from = Repository { account: scan.account.clone(), region: scan.region.clone(), name: scan.repository.clone() };
    let mut outcome = resume_all(rollout, function, scan.event_id.clone(), Some(&scan.digest), Some(&from)).await;
    outcome.details = Some(json!({
        "scanner": scan.scanner.as_str(), "status": scan.status, "repository": scan.repository, "digest": scan.digest,
        "severity_counts": scan.severity_counts,
    }));
    if outcome.resources.is_empty() {
        outcome.ignored = Some(format!("no service waits for the scan of {}@{}", scan.repository, short_digest(&scan.digest)));
    }
    outcome
}

/// The schedule's re-check: every deferral decided again (a scan whose event was lost, or none
/// within the deadline).
pub(super) async fn recheck<E, C, N, G>(rollout: &Rollout<E, C, N, G>, function: &'static str, event_id: Option<String>) -> Outcome
where
    E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments,
    C: CodeDeployments,
    N: Notifier,
    G: Registry,
{
    let mut outcome = resume_all(rollout, function, event_id, None, None).await;
    if outcome.resources.is_empty() {
        outcome.ignored = Some("no service waits for a scan".into());
    }
    outcome
}

/// Resumes the deferrals of `digest` (every one when `None`), from `from` only when given.
async fn resume_all<E, C, N, G>(
    rollout: &Rollout<E, C, N, G>,
    function: &'static str,
    event_id: Option<String>,
    digest: Option<&str>,
    from: Option<&Repository>,
) -> Outcome
where
    E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments,
    C: CodeDeployments,
    N: Notifier,
    G: Registry,
{
    let ecs = rollout.ecs();
    let mut outcome = Outcome::new(function, event_id.clone());
    // The deferred services, by their marker: the index lists them, whatever else the clusters
    // run; described, their tags as they are now decide (a marker removed since is skipped). A
    // marker set moments ago may not be listed yet: the schedule's next re-check finds it.
    let deferred = indexed_services(ecs, rollout.clusters(), tags::SCAN_PENDING, &mut outcome).await;
    let tracked: Vec<_> = deferred.into_iter().filter(|s| s.tags.contains_key(tags::TRACK)).collect();
    for service in described(ecs, rollout.clusters(), &tracked, &mut outcome).await {
        let Some(marker) = service.tags.get(tags::SCAN_PENDING) else { continue };
        let result = match Pending::parse(marker) {
            Some(pending) if digest.is_none_or(|digest| digest == pending.digest) => {
                resume(rollout, &service, &pending, from, event_id.clone()).await
            }
            Some(_) => continue,
            // Not a marker the gate writes: the re-check removes it.
            None if digest.is_none() => {
                settle(ecs, &service, ResourceResult::Unchanged { reason: format!("unreadable {} removed", tags::SCAN_PENDING) }).await
            }
            None => continue,
        };
        info!(cluster = service.cluster_name(), service = service.name, result = %json!(result), "deferral resumed");
        outcome.resources.push(ResourceOutcome::service(service.cluster_name(), &service.name, result));
    }
    outcome
}

/// One deferral resumed: the rollout of the deferred image, which asks the gate again; once
/// neither waiting nor failed, the marker goes.
async fn resume<E, C, N, G>(
    rollout: &Rollout<E, C, N, G>,
    service: &Service,
    pending: &Pending,
    from: Option<&Repository>,
    event_id: Option<String>,
) -> ResourceResult
where
    E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments,
    C: CodeDeployments,
    N: Notifier,
    G: Registry,
{
    let ecs = rollout.ecs();
    let push = match deferred_push(rollout, service, pending, from, event_id).await {
        Ok(Ok(push)) => push,
        // A scan event of another repository's copy of the digest: the re-check decides.
        Ok(Err(reason)) if from.is_some() => return ResourceResult::Ignored { reason },
        Ok(Err(reason)) => return settle(ecs, service, ResourceResult::Unchanged { reason: format!("deferral dropped: {reason}") }).await,
        Err(err) => return ResourceResult::Failed { error: err.to_string() },
    };
    let result = rollout.deploy_to(&push, service).await;
    match &result {
        ResourceResult::Failed { .. } => result,
        // Still waiting (the marker stays), or blocked (the gate removed it).
        ResourceResult::Unchanged { reason } if reason.starts_with(HELD) => result,
        _ => settle(ecs, service, result).await,
    }
}

/// The push a deferral stands for: the deferred image in a repository the service's containers
/// use (`from`, for a scan event), with a tag that satisfies its `deckhand:track`; or why none.
async fn deferred_push<E, C, N, G>(
    rollout: &Rollout<E, C, N, G>,
    service: &Service,
    pending: &Pending,
    from: Option<&Repository>,
    event_id: Option<String>,
) -> Result<Result<ImagePush, String>, HandlerError>
where
    E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments,
    C: CodeDeployments,
    N: Notifier,
    G: Registry,
{
    let ecs = rollout.ecs();
    let short = short_digest(&pending.digest);
    let current = ecs.describe(&service.task_definition).await?;
    let only = service.tags.get(tags::CONTAINER);
    let mut repositories: Vec<Repository> = Vec::new();
    for container in current.containers.iter().filter(|c| only.is_none_or(|only| *only == c.name)) {
        let Ok(image) = ImageRef::parse(&container.image) else { continue };
        let Some(ecr) = image.ecr_registry() else { continue };
        let repository = Repository { account: ecr.account.to_owned(), region: ecr.region.to_owned(), name: image.repository.clone() };
        if !repositories.contains(&repository) && from.is_none_or(|from| *from == repository) {
            repositories.push(repository);
        }
    }
    // A container from a registry the function may not read (another account's agent image)
    // must not hold the deferral forever: its error counts only if no repository has the image.
    let mut unread = None;
    for repository in repositories {
        let image = match rollout.registry().image_by_digest(&repository.account, &repository.name, &pending.digest).await {
            Ok(Some(image)) => image,
            Ok(None) => continue,
            Err(err) => {
                unread.get_or_insert(err);
                continue;
            }
        };
        let push = |tag: &String| ImagePush {
            event_id: event_id.clone(),
            account: repository.account.clone(),
            region: repository.region.clone(),
            repository: repository.name.clone(),
            digest: pending.digest.clone(),
            tag: Some(tag.clone()),
        };
        let tracked = image.tags.iter().map(push).find(|push| track_mismatch(push, &service.tags).is_none());
        return Ok(tracked.ok_or_else(|| format!("no tag of {short} satisfies {} now", tags::TRACK)));
    }
    match unread {
        Some(err) => Err(err),
        None => Ok(Err(format!("{short} is in no repository the service's containers use"))),
    }
}

/// `result`, once `deckhand:scan-pending` is removed; a failed removal fails the service, and the
/// retry finds the deferral settled and removes it.
async fn settle<E: ServiceCapacity>(ecs: &E, service: &Service, result: ResourceResult) -> ResourceResult {
    match ecs.untag_service(&service.arn, tags::SCAN_PENDING).await {
        Ok(()) => result,
        Err(err) => ResourceResult::Failed { error: format!("the deferral is settled, but {} was not removed: {err}", tags::SCAN_PENDING) },
    }
}
