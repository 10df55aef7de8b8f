//! Brings every opted-in service that tracks a pushed image to it: digest-pinned revision →
//! deployment (ECS rolling, ECS-native traffic shift, or CodeDeploy blue/green) → notification.
//! Shared by `image-pushed` (ECR push events) and `build-finished` (images a CodeBuild build
//! exported). What to do with each service is `plan::plan`'s decision; this module observes and
//! acts.

use super::discovery::{Concerned, concerned, nothing_tracks};
use super::notification::deployed_notification;
use super::plan::{ActiveRollout, BlueGreen, ImagePush, OwedNotice, RolloutPlan, plan, reusable, to_supersede, track_mismatch};
use super::push_order::{self, Lookups, Order};
use super::scan_gate;
use super::tracked_index::TrackedIndex;
use crate::error::HandlerError;
use crate::notify::Notification;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{
    BlueGreenRequest, CodeDeployments, Controller, EcsServices, ImageUpdate, NativeDeployments, Notifier, Registered, Registry,
    RegistryImage, Service, ServiceCapacity, Strategy, TaskDefinition, TaskDefinitions,
};
use crate::runtime::{Clock, system_clock};
use crate::tags;
use crate::usecase::described;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tracing::info;

pub struct Rollout<E, C, N, G> {
    clusters: Vec<String>,
    /// How long to wait, in turn, for a busy CodeDeploy group (one active deployment) to free up.
    busy_waits: Vec<Duration>,
    ecs: E,
    codedeploy: C,
    notifier: N,
    /// ECR: push times, what a build claims, scan findings.
    registry: G,
    /// The scan gate's clock (when a deployment was deferred, whether its deadline passed) and
    /// the tracked index's age.
    now: Clock,
    tracked: TrackedIndex,
}

/// Per-event memo: services sharing a task definition get one new revision, not one each.
#[derive(Default)]
struct Memo {
    described: HashMap<String, TaskDefinition>,
    registered: HashMap<(String, Vec<ImageUpdate>), Registered>,
    /// ECR's answers: one DescribeImages per distinct image.
    images: Lookups,
}

/// How one service's rollout ended, before it becomes part of the outcome.
enum Step {
    Done(ResourceResult),
    Deployed {
        registered: Registered,
        deployment_id: String,
        updates: Vec<ImageUpdate>,
        /// ECS-native deployments: the strategy.
        strategy: Option<Strategy>,
        superseded: Option<String>,
        /// What `push_order` could not compare, for the notice.
        unchecked: Vec<String>,
    },
    /// Already at the pushed image, deployed by an earlier delivery whose notice did not go out.
    Owed {
        reason: String,
        notice: OwedNotice,
    },
}

impl<E: EcsServices + TaskDefinitions + ServiceCapacity + NativeDeployments, C: CodeDeployments, N: Notifier, G: Registry>
    Rollout<E, C, N, G>
{
    pub fn new(clusters: Vec<String>, ecs: E, codedeploy: C, notifier: N, registry: G) -> Self {
        Self {
            clusters,
            busy_waits: [2, 4, 8, 16].map(Duration::from_secs).to_vec(),
            ecs,
            codedeploy,
            notifier,
            registry,
            now: system_clock(),
            tracked: TrackedIndex::default(),
        }
    }

    pub fn with_busy_waits(mut self, waits: Vec<Duration>) -> Self {
        self.busy_waits = waits;
        self
    }

    /// The scan gate on a clock of the caller's (tests move time past its deadline).
    pub fn with_clock(mut self, now: Clock) -> Self {
        self.now = now;
        self
    }

    /// ECS, for the scan gate's deferred deployments (`scan_gate`).
    pub(crate) fn ecs(&self) -> &E {
        &self.ecs
    }

    /// The clusters the rollout deploys in (`CLUSTERS`).
    pub(crate) fn clusters(&self) -> &[String] {
        &self.clusters
    }

    /// Rolls `push` out to one `service` as `deploy` does each: a deferred deployment resumed.
    pub(crate) async fn deploy_to(&self, push: &ImagePush, service: &Service) -> ResourceResult {
        self.roll_out(push, service, &mut Memo::default()).await
    }

    /// The registry the rollout reads: `build-finished` checks a build's claim with it first.
    pub fn registry(&self) -> &G {
        &self.registry
    }

    /// Rolls `push` out to every service that tracks it, one service at a time. A failing
    /// service does not stop the others; the outcome records it.
    pub async fn deploy(&self, function: &'static str, push: &ImagePush) -> Outcome {
        self.deploy_knowing(function, push, []).await
    }

    /// `deploy`, with images of the pushed repository the caller read from ECR for this event
    /// (`build-finished`'s claim check): not asked for again.
    pub async fn deploy_knowing(
        &self,
        function: &'static str,
        push: &ImagePush,
        known: impl IntoIterator<Item = RegistryImage>,
    ) -> Outcome {
        let mut outcome = Outcome::new(function, push.event_id.clone());
        let mut memo = Memo { images: Lookups::knowing(known), ..Memo::default() };
        // Decided from the index's tags: only the services the push is for are described.
        let index = self.tracked.services(&self.ecs, &self.clusters, (self.now)(), &mut outcome).await;
        let listed = index.services.len();
        let Concerned { matching, invalid, others } = concerned(push, index.services);
        for (service, reason) in &invalid {
            let ignored = ResourceResult::Ignored { reason: reason.clone() };
            outcome.resources.push(ResourceOutcome::service(service.cluster_name().unwrap_or("?"), service.name(), ignored));
        }
        for service in described(&self.ecs, &self.clusters, &matching, &mut outcome).await {
            let result = self.roll_out(push, &service, &mut memo).await;
            info!(cluster = service.cluster_name(), service = service.name, result = %json!(result), "service handled");
            outcome.resources.push(ResourceOutcome::service(service.cluster_name(), &service.name, result));
        }
        if outcome.resources.iter().all(|s| matches!(s.result, ResourceResult::Ignored { .. })) {
            let not_for_it: Vec<_> = invalid.into_iter().chain(others).collect();
            outcome.ignored = Some(nothing_tracks(push, &self.clusters, &not_for_it, listed, index.age));
        }
        outcome
    }

    async fn roll_out(&self, push: &ImagePush, service: &Service, memo: &mut Memo) -> ResourceResult {
        let announced = match self.deploy_service(push, service, memo).await {
            Ok(Step::Done(result)) => return result,
            Err(err) => return ResourceResult::Failed { error: err.to_string() },
            Ok(Step::Deployed { registered, deployment_id, updates, strategy, superseded, unchecked }) => {
                let notification =
                    deployed_notification(push, service, &registered, Some(&deployment_id), &updates, strategy, superseded.as_deref());
                let notification = push_order::noted(notification, &unchecked);
                let result = ResourceResult::Deployed {
                    controller: service.controller.as_str(),
                    strategy: strategy.map(Strategy::as_str),
                    task_definition: registered.arn,
                    revision: registered.revision,
                    deployment_id,
                    images: updates,
                    superseded,
                };
                self.announce(push, service, &notification).await.map(|()| result)
            }
            Ok(Step::Owed { reason, notice }) => {
                let registered = Registered { arn: notice.task_definition, revision: notice.revision };
                // The strategy the service reads now: the one its deployment was started with.
                let strategy = (service.controller == Controller::Ecs && service.strategy.shifts_traffic()).then_some(service.strategy);
                let notification = deployed_notification(push, service, &registered, notice.deployment_id.as_deref(), &[], strategy, None);
                let reason = format!("{reason}; its deployment notice, owed by an earlier delivery, is sent now");
                self.announce(push, service, &notification).await.map(|()| ResourceResult::Unchanged { reason })
            }
        };
        // The deployment stands; failing the service makes Lambda retry, and the retry finds the
        // notice still owed (no `deckhand:announced` for this digest) and sends it.
        announced.unwrap_or_else(|error| ResourceResult::Failed { error })
    }

    /// Publishes the deployment notice, then records it on the service: marked only once sent.
    async fn announce(&self, push: &ImagePush, service: &Service, notification: &Notification) -> Result<(), String> {
        self.notifier.publish(notification).await.map_err(|err| format!("deployed, but the notice did not go out: {err}"))?;
        let marked = self.ecs.tag_service(&service.arn, tags::ANNOUNCED, &push.digest).await;
        marked
            .map_err(|err| format!("deployed and announced, but {} was not recorded (a retry repeats the notice): {err}", tags::ANNOUNCED))
    }

    async fn deploy_service(&self, push: &ImagePush, service: &Service, memo: &mut Memo) -> Result<Step, HandlerError> {
        if let Some(reason) = track_mismatch(push, &service.tags) {
            return Ok(Step::Done(ResourceResult::Ignored { reason }));
        }
        let current = self.describe(&service.task_definition, memo).await?;
        let mut decided = plan(push, service, &current, None);
        let active = match &decided {
            RolloutPlan::BlueGreen(blue_green) => self.active_rollout(blue_green, memo).await?,
            RolloutPlan::Native(_) => self.advancing_deployment(service, memo).await?,
            _ => None,
        };
        if let Some(active) = &active {
            decided = plan(push, service, &current, Some(active));
        }
        // Never an older image on an event: compared with what runs and what deploys.
        let unchecked = match push_order::check(&self.registry, &mut memo.images, push, service, &decided, active.as_ref()).await? {
            Order::Refuse(reason) => return Ok(Step::Done(ResourceResult::Ignored { reason })),
            Order::Deploy { unchecked } => unchecked,
        };
        // `deckhand:scan`: deploys only what the image's scan allows; may defer or block it.
        let now = (self.now)();
        if let Some(held) = scan_gate::check(&self.ecs, &self.notifier, &self.registry, now, push, service, &decided).await? {
            return Ok(Step::Done(held));
        }
        match decided {
            RolloutPlan::Ignore(reason) => Ok(Step::Done(ResourceResult::Ignored { reason })),
            RolloutPlan::Unchanged { reason, owed: None } => Ok(Step::Done(ResourceResult::Unchanged { reason })),
            RolloutPlan::Unchanged { reason, owed: Some(notice) } => Ok(Step::Owed { reason, notice }),
            RolloutPlan::Rolling { updates } => {
                let registered = self.register(&current, updates.clone(), push, memo).await?;
                let deployment_id = self.ecs.roll_out(service, &registered.arn, None).await?;
                Ok(Step::Deployed { registered, deployment_id, updates, strategy: None, superseded: None, unchecked })
            }
            RolloutPlan::Native(native) => {
                let registered = self.register(&current, native.updates.clone(), push, memo).await?;
                // Stopped first: a failed stop fails the service before anything is deployed.
                if let Some(arn) = &native.supersede {
                    info!(service = service.name, deployment = arn, "stopping the deployment of an older image");
                    self.ecs.stop_with_rollback(arn).await?;
                }
                let deployment_id = self.ecs.roll_out(service, &registered.arn, native.shift.as_ref()).await?;
                let (updates, strategy, superseded) = (native.updates, Some(native.strategy), native.supersede);
                Ok(Step::Deployed { registered, deployment_id, updates, strategy, superseded, unchecked })
            }
            RolloutPlan::BlueGreen(blue_green) => {
                let registered = self.register(&current, blue_green.updates.clone(), push, memo).await?;
                if let Some(id) = &blue_green.supersede {
                    info!(service = service.name, deployment = id, "stopping the deployment of an older image");
                    self.codedeploy.stop_deployment(id).await?;
                }
                let request = BlueGreenRequest {
                    application: &blue_green.application,
                    deployment_group: &blue_green.deployment_group,
                    task_definition: &registered.arn,
                    container_name: &blue_green.container_name,
                    container_port: blue_green.container_port,
                    deployment_config: blue_green.deployment_config.as_deref(),
                    description: format!("Deckhand: {}:{} ({})", push.repository, push.tag.as_deref().unwrap_or("-"), push.digest),
                };
                let deployment_id = self.create_when_free(&request).await?;
                let (updates, superseded) = (blue_green.updates, blue_green.supersede);
                Ok(Step::Deployed { registered, deployment_id, updates, strategy: None, superseded, unchecked })
            }
        }
    }

    /// The group's active deployment and the containers of the revision it deploys.
    async fn active_rollout(&self, blue_green: &BlueGreen, memo: &mut Memo) -> Result<Option<ActiveRollout>, HandlerError> {
        let Some(active) = self.codedeploy.active_deployment(&blue_green.application, &blue_green.deployment_group).await? else {
            return Ok(None);
        };
        Ok(Some(self.with_revision(active.id, active.task_definition.as_deref(), memo).await?))
    }

    /// The ECS-native deployment of the service a new one would supersede, and its revision.
    async fn advancing_deployment(&self, service: &Service, memo: &mut Memo) -> Result<Option<ActiveRollout>, HandlerError> {
        let deployments = self.ecs.recent_deployments(&service.cluster_arn, &service.arn).await?;
        let Some(advancing) = to_supersede(&deployments) else { return Ok(None) };
        Ok(Some(self.with_revision(advancing.arn.clone(), advancing.target_task_definition(), memo).await?))
    }

    /// Deployment `id` with the task definition it deploys, described.
    async fn with_revision(&self, id: String, task_definition: Option<&str>, memo: &mut Memo) -> Result<ActiveRollout, HandlerError> {
        let revision = match task_definition {
            Some(arn) => Some(self.describe(arn, memo).await?),
            None => None,
        };
        Ok(ActiveRollout { id, revision })
    }

    /// CreateDeployment, waiting (bounded) while the group's stopped deployment rolls back:
    /// CodeDeploy allows one active deployment per group. Still busy after the last wait, the
    /// error makes Lambda retry the event, which then finds nothing left to stop.
    async fn create_when_free(&self, request: &BlueGreenRequest<'_>) -> Result<String, HandlerError> {
        let mut waits = self.busy_waits.iter();
        loop {
            match self.codedeploy.create_deployment(request).await {
                Err(HandlerError::Busy(err)) => match waits.next() {
                    Some(wait) => {
                        info!(group = request.deployment_group, wait_ms = wait.as_millis() as u64, "deployment group busy, waiting");
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Err(HandlerError::Busy(err)),
                },
                result => return result,
            }
        }
    }

    async fn describe(&self, arn: &str, memo: &mut Memo) -> Result<TaskDefinition, HandlerError> {
        if let Some(known) = memo.described.get(arn) {
            return Ok(known.clone());
        }
        let described = self.ecs.describe(arn).await?;
        memo.described.insert(arn.to_owned(), described.clone());
        Ok(described)
    }

    async fn register(
        &self,
        source: &TaskDefinition,
        updates: Vec<ImageUpdate>,
        push: &ImagePush,
        memo: &mut Memo,
    ) -> Result<Registered, HandlerError> {
        let key = (source.arn.clone(), updates);
        if let Some(known) = memo.registered.get(&key) {
            return Ok(known.clone());
        }
        // An earlier attempt may have registered it (its answer lost, or the deployment after it
        // failed): the family's newest revision tells, and is reused rather than doubled.
        let latest = self.ecs.latest_revision(source.family()).await?;
        let registered = if reusable(&latest, source, &key.1) {
            info!(revision = latest.arn, "reusing the revision an earlier attempt registered");
            Registered { arn: latest.arn, revision: latest.revision }
        } else {
            self.ecs.register_revision(source, &key.1, push.tag.as_deref()).await?
        };
        memo.registered.insert(key, registered.clone());
        Ok(registered)
    }
}
