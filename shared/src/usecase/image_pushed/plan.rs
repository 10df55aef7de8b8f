//! Pure rollout decisions: does a pushed image concern a service, which containers move to
//! which digest-pinned image, and how the service's deployment controller deploys it.

use super::image::ImageRef;
use super::tag_policy::TagPolicy;
use crate::event::ecr::ImageAction;
use crate::ports::{Container, Controller, ImageUpdate, Service, TaskDefinition};
use crate::quote::quote;
use crate::tags;
use std::collections::BTreeMap;

mod native;
pub use native::{NativeRollout, to_supersede};

/// Docker label recording the tag a digest-pinned image was pushed as.
pub const IMAGE_TAG_LABEL: &str = "deckhand.image-tag";

/// An image that landed in an ECR repository: from an ECR push event, or exported by a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    pub event_id: Option<String>,
    /// The registry's account and region.
    pub account: String,
    pub region: String,
    pub repository: String,
    pub digest: String,
    /// Absent for an untagged push.
    pub tag: Option<String>,
}

impl From<ImageAction> for ImagePush {
    fn from(action: ImageAction) -> Self {
        Self {
            event_id: action.event_id,
            account: action.account,
            region: action.region,
            repository: action.repository,
            digest: action.digest,
            tag: action.tag,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The push does not concern this service.
    Ignore(String),
    /// The service already has the pushed digest in every container that tracks it.
    Unchanged,
    /// These containers move to the pushed digest.
    Update(Vec<ImageUpdate>),
}

/// What a push asks of one service.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutPlan {
    /// The push is not for this service, or Deckhand does not deploy it: why.
    Ignore(String),
    /// The service already runs (or is already deploying) the pushed image: where, and the
    /// deployment notice still owed when an earlier delivery deployed it but did not announce it.
    Unchanged { reason: String, owed: Option<OwedNotice> },
    /// A new revision with these images, rolled out by ECS.
    Rolling { updates: Vec<ImageUpdate> },
    /// A new revision with these images, deployed by ECS shifting traffic between revisions.
    Native(NativeRollout),
    /// A new revision with these images, deployed blue/green by CodeDeploy.
    BlueGreen(BlueGreen),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreen {
    pub application: String,
    pub deployment_group: String,
    /// The container and port of the service's load balancer, for the AppSpec.
    pub container_name: String,
    pub container_port: i32,
    /// `deckhand:traffic`: the deployment configuration (traffic shift); the group's when `None`.
    pub deployment_config: Option<String>,
    pub updates: Vec<ImageUpdate>,
    /// The newest image wins: the group's active deployment of an older image, stopped first.
    pub supersede: Option<String>,
}

/// The deployment a CodeDeploy group or an ECS-native service is running, and the revision it
/// deploys (`None` when its AppSpec or service revision names no task definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRollout {
    pub id: String,
    pub revision: Option<TaskDefinition>,
}

/// A deployment an earlier delivery of the push started without its notice going out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedNotice {
    pub task_definition: String,
    pub revision: i32,
    pub deployment_id: Option<String>,
}

/// The notice owed for `revision` running (or deploying) on `service`: Deckhand registered it
/// and the service's `deckhand:announced` does not name the pushed digest yet.
fn owed(push: &ImagePush, service: &Service, revision: &TaskDefinition, deployment_id: Option<&str>) -> Option<OwedNotice> {
    let announced = service.tags.get(tags::ANNOUNCED).is_some_and(|digest| *digest == push.digest);
    (revision.revised_from.is_some() && !announced).then(|| OwedNotice {
        task_definition: revision.arn.clone(),
        revision: revision.revision,
        deployment_id: deployment_id.map(str::to_owned),
    })
}

/// The containers of `source` with `updates` applied: what a new revision would run.
pub fn updated_containers(source: &TaskDefinition, updates: &[ImageUpdate]) -> Vec<Container> {
    let image_of = |c: &Container| updates.iter().find(|u| u.container == c.name).map_or(c.image.clone(), |u| u.to.clone());
    source.containers.iter().map(|c| Container { name: c.name.clone(), image: image_of(c) }).collect()
}

/// Whether `latest`, the family's newest revision, is the copy of `source` with `updates` that an
/// earlier attempt registered (its response lost, or the deployment after it failed): reuse it.
pub fn reusable(latest: &TaskDefinition, source: &TaskDefinition, updates: &[ImageUpdate]) -> bool {
    latest.revised_from.as_deref() == Some(source.arn.as_str()) && latest.containers == updated_containers(source, updates)
}

/// How `push` reaches `service`, which runs `current`. A CodeDeploy or ECS-native plan is first
/// made without knowing the `active` deployment; the caller then looks it up and plans again.
pub fn plan(push: &ImagePush, service: &Service, current: &TaskDefinition, active: Option<&ActiveRollout>) -> RolloutPlan {
    let only_container = service.tags.get(tags::CONTAINER).map(String::as_str);
    let updates = match decide(push, &current.containers, only_container) {
        Decision::Ignore(reason) => return RolloutPlan::Ignore(reason),
        Decision::Unchanged => {
            let reason = format!("already runs {} (revision {})", short_digest(&push.digest), current.revision);
            return RolloutPlan::Unchanged { reason, owed: owed(push, service, current, None) };
        }
        Decision::Update(updates) => updates,
    };
    match service.controller {
        Controller::External => RolloutPlan::Ignore("deployment controller EXTERNAL: deployments are not Deckhand's".into()),
        Controller::Ecs if service.strategy.shifts_traffic() => native::rollout(push, service, updates, active, only_container),
        Controller::Ecs if service.tags.contains_key(tags::SHIFT) => RolloutPlan::Ignore(format!(
            "{} applies to BLUE_GREEN, LINEAR and CANARY services; this one is ROLLING, and switching it (ECS shifts traffic \
             only behind a load balancer's advanced configuration) is not Deckhand's call",
            tags::SHIFT
        )),
        Controller::Ecs => RolloutPlan::Rolling { updates },
        Controller::CodeDeploy => {
            let (Some(application), Some(group)) = (service.tags.get(tags::CODEDEPLOY_APP), service.tags.get(tags::CODEDEPLOY_GROUP))
            else {
                return RolloutPlan::Ignore(format!(
                    "deployment controller CODE_DEPLOY needs tags {} and {}",
                    tags::CODEDEPLOY_APP,
                    tags::CODEDEPLOY_GROUP
                ));
            };
            let Some(load_balancer) = service.load_balancers.first() else {
                return RolloutPlan::Ignore("deployment controller CODE_DEPLOY needs a load balancer on the service".into());
            };
            if let Some(unchanged) = already_deploying(push, service, active, only_container, "CodeDeploy deployment") {
                return unchanged;
            }
            RolloutPlan::BlueGreen(BlueGreen {
                application: application.clone(),
                deployment_group: group.clone(),
                container_name: load_balancer.container_name.clone(),
                container_port: load_balancer.container_port,
                deployment_config: service.tags.get(tags::TRAFFIC).cloned(),
                updates,
                supersede: active.map(|a| a.id.clone()),
            })
        }
    }
}

/// `Unchanged` when the `active` deployment (`what` names its kind) already deploys the pushed
/// image, with the notice still owed for it.
fn already_deploying(
    push: &ImagePush,
    service: &Service,
    active: Option<&ActiveRollout>,
    only_container: Option<&str>,
    what: &str,
) -> Option<RolloutPlan> {
    let Some(ActiveRollout { id, revision: Some(revision) }) = active else { return None };
    (decide(push, &revision.containers, only_container) == Decision::Unchanged).then(|| {
        let reason = format!("already deploying {} in {what} {id}", short_digest(&push.digest));
        RolloutPlan::Unchanged { reason, owed: owed(push, service, revision, Some(id)) }
    })
}

/// `sha256:4f1c6e2d9b8a` — enough to tell images apart at a glance.
pub fn short_digest(digest: &str) -> &str {
    let end = digest.find(':').map_or(digest.len(), |colon| (colon + 13).min(digest.len()));
    &digest[..end]
}

/// Whether a push is for a service, by its `deckhand:track` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracking {
    Satisfied,
    /// Not for this service: why.
    Unsatisfied(String),
    /// The policy cannot be read (a person must fix the tag): why.
    Invalid(String),
}

/// Whether the pushed tag satisfies the service's `deckhand:track` policy.
pub fn tracking(push: &ImagePush, service_tags: &BTreeMap<String, String>) -> Tracking {
    let Some(track) = service_tags.get(tags::TRACK) else {
        return Tracking::Unsatisfied(format!("not opted in (no {} tag)", tags::TRACK));
    };
    let policy = match TagPolicy::parse(track) {
        Ok(policy) => policy,
        Err(err) => return Tracking::Invalid(err.to_string()),
    };
    match &push.tag {
        None => Tracking::Unsatisfied("untagged push: no tag to match deckhand:track".to_owned()),
        Some(tag) if !policy.matches(tag) => {
            Tracking::Unsatisfied(format!("tag {} does not satisfy {} {}", quote(tag), tags::TRACK, quote(track)))
        }
        Some(_) => Tracking::Satisfied,
    }
}

/// `tracking`, as `None` when the push is for the service and otherwise the reason it is not.
pub fn track_mismatch(push: &ImagePush, service_tags: &BTreeMap<String, String>) -> Option<String> {
    match tracking(push, service_tags) {
        Tracking::Satisfied => None,
        Tracking::Unsatisfied(why) | Tracking::Invalid(why) => Some(why),
    }
}

/// Which containers of a task definition move to the pushed digest.
/// `only_container` is the service's `deckhand:container` tag, when set.
pub fn decide(push: &ImagePush, containers: &[Container], only_container: Option<&str>) -> Decision {
    let mut updates = Vec::new();
    let mut already_pinned = 0;
    for container in containers {
        if only_container.is_some_and(|only| only != container.name) {
            continue;
        }
        let Ok(image) = ImageRef::parse(&container.image) else { continue };
        if !image.is_from_ecr_repository(&push.account, &push.region, &push.repository) {
            continue;
        }
        if image.digest.as_deref() == Some(push.digest.as_str()) {
            already_pinned += 1;
            continue;
        }
        updates.push(ImageUpdate {
            container: container.name.clone(),
            from: container.image.clone(),
            to: image.pinned_to(&push.digest).to_string(),
        });
    }
    match (updates.is_empty(), already_pinned) {
        (false, _) => Decision::Update(updates),
        (true, pinned) if pinned > 0 => Decision::Unchanged,
        (true, _) => Decision::Ignore(match only_container {
            Some(only) if !containers.iter().any(|c| c.name == only) => {
                format!("{} names {}, which is not a container of the task definition", tags::CONTAINER, quote(only))
            }
            Some(only) => format!("container {} does not use {}", quote(only), push_repository(push)),
            None => format!("no container uses {}", push_repository(push)),
        }),
    }
}

fn push_repository(push: &ImagePush) -> String {
    format!("repository {} of account {} in {}", push.repository, push.account, push.region)
}

/// The task definition ARN an AppSpec names (JSON or YAML): the first `arn:…:task-definition/…` token.
pub fn task_definition_in_appspec(content: &str) -> Option<&str> {
    content
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '{' | '}' | '[' | ']'))
        .find(|token| token.starts_with("arn:") && token.contains(":task-definition/"))
}

#[cfg(test)]
mod tests;
