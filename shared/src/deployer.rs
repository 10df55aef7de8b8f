//! Brings every opted-in service that tracks a pushed image to it: digest-pinned revision →
//! deployment (ECS rolling or CodeDeploy blue/green) → notification. Shared by `image-pushed`
//! (ECR push events) and `build-finished` (images a CodeBuild build exported).

use crate::aws::codedeploy::SdkCodeDeploy;
use crate::aws::ecs::SdkEcs;
use crate::aws::sns::SdkSns;
use crate::aws::{
    BlueGreenRequest, CodeDeployments, Controller, EcsServices, Notifier, Registered, Service, TaskDefinition, TaskDefinitions,
    publish_or_log,
};
use crate::error::HandlerError;
use crate::event::ecr::ImageAction;
use crate::notify::{Notification, Severity};
use crate::outcome::{Outcome, ServiceOutcome, ServiceResult};
use crate::rollout::{self, Decision, ImageUpdate};
use crate::tags;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tracing::{info, warn};

pub struct Deployer<E, C, N> {
    clusters: Vec<String>,
    /// How long to wait, in turn, for a busy CodeDeploy group (one active deployment) to free up.
    busy_waits: Vec<Duration>,
    ecs: E,
    codedeploy: C,
    notifier: N,
}

pub type SdkDeployer = Deployer<SdkEcs, SdkCodeDeploy, SdkSns>;

impl SdkDeployer {
    pub fn from_sdk(clusters: Vec<String>, notifier: SdkSns, sdk: &aws_config::SdkConfig) -> Self {
        Self::new(clusters, SdkEcs::new(aws_sdk_ecs::Client::new(sdk)), SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)), notifier)
    }
}

/// Per-event memo: services sharing a task definition get one new revision, not one each.
#[derive(Default)]
struct Memo {
    described: HashMap<String, TaskDefinition>,
    registered: HashMap<(String, Vec<ImageUpdate>), Registered>,
}

/// How one service's rollout ended, before it becomes part of the outcome.
enum Step {
    Done(ServiceResult),
    Deployed { registered: Registered, deployment_id: String, updates: Vec<ImageUpdate>, superseded: Option<String> },
}

impl<E: EcsServices + TaskDefinitions, C: CodeDeployments, N: Notifier> Deployer<E, C, N> {
    pub fn new(clusters: Vec<String>, ecs: E, codedeploy: C, notifier: N) -> Self {
        Self { clusters, busy_waits: [2, 4, 8, 16].map(Duration::from_secs).to_vec(), ecs, codedeploy, notifier }
    }

    pub fn with_busy_waits(mut self, waits: Vec<Duration>) -> Self {
        self.busy_waits = waits;
        self
    }

    /// Rolls `push` out to every service that tracks it, one service at a time. A failing
    /// service does not stop the others; the outcome records it.
    pub async fn deploy(&self, function: &'static str, push: &ImageAction) -> Outcome {
        let mut outcome = Outcome::new(function, push.event_id.clone());
        let mut memo = Memo::default();
        for cluster in &self.clusters {
            let services = match self.ecs.opted_in_services(cluster).await {
                Ok(services) => services,
                Err(err) => {
                    warn!(cluster, error = %err, "cannot list services");
                    outcome.services.push(ServiceOutcome {
                        cluster: cluster.clone(),
                        service: "*".into(),
                        result: ServiceResult::Failed { error: err.to_string() },
                    });
                    continue;
                }
            };
            for service in services {
                let result = self.roll_out(push, &service, &mut memo).await;
                info!(cluster = service.cluster_name(), service = service.name, result = %json!(result), "service handled");
                outcome.services.push(ServiceOutcome { cluster: service.cluster_name().to_owned(), service: service.name.clone(), result });
            }
        }
        if outcome.services.iter().all(|s| matches!(s.result, ServiceResult::Ignored { .. })) {
            let tag = push.tag.as_deref().unwrap_or("(untagged)");
            outcome.ignored = Some(format!("no service in {} tracks {}:{tag}", self.clusters.join(", "), push.repository));
        }
        outcome
    }

    async fn roll_out(&self, push: &ImageAction, service: &Service, memo: &mut Memo) -> ServiceResult {
        match self.deploy_service(push, service, memo).await {
            Ok(Step::Done(result)) => result,
            Err(err) => ServiceResult::Failed { error: err.to_string() },
            Ok(Step::Deployed { registered, deployment_id, updates, superseded }) => {
                let notification = deployed_notification(push, service, &registered, &deployment_id, &updates, superseded.as_deref());
                // The deployment stands; a retry would find it `unchanged` and not notify.
                let notified = publish_or_log(&self.notifier, &notification).await;
                ServiceResult::Deployed {
                    controller: service.controller.as_str(),
                    task_definition: registered.arn,
                    revision: registered.revision,
                    deployment_id,
                    images: updates,
                    superseded,
                    notified,
                }
            }
        }
    }

    async fn deploy_service(&self, push: &ImageAction, service: &Service, memo: &mut Memo) -> Result<Step, HandlerError> {
        let ignored = |reason: String| Ok(Step::Done(ServiceResult::Ignored { reason }));
        if let Some(reason) = rollout::track_mismatch(push, &service.tags) {
            return ignored(reason);
        }
        let only_container = service.tags.get(tags::CONTAINER).map(String::as_str);
        let current = self.describe(&service.task_definition, memo).await?;
        let updates = match rollout::decide(push, &current.containers, only_container) {
            Decision::Ignore(reason) => return ignored(reason),
            Decision::Unchanged => {
                return Ok(unchanged(format!("already runs {} (revision {})", short_digest(&push.digest), current.revision)));
            }
            Decision::Update(updates) => updates,
        };
        match service.controller {
            Controller::External => ignored("deployment controller EXTERNAL: deployments are not Deckhand's".into()),
            Controller::Ecs => {
                let registered = self.register(&current, updates.clone(), push, memo).await?;
                let deployment_id = self.ecs.roll_out(service, &registered.arn).await?;
                Ok(Step::Deployed { registered, deployment_id, updates, superseded: None })
            }
            Controller::CodeDeploy => {
                let (Some(application), Some(group)) = (service.tags.get(tags::CODEDEPLOY_APP), service.tags.get(tags::CODEDEPLOY_GROUP))
                else {
                    return ignored(format!(
                        "deployment controller CODE_DEPLOY needs tags {} and {}",
                        tags::CODEDEPLOY_APP,
                        tags::CODEDEPLOY_GROUP
                    ));
                };
                let Some(load_balancer) = service.load_balancers.first() else {
                    return ignored("deployment controller CODE_DEPLOY needs a load balancer on the service".into());
                };
                let active = self.codedeploy.active_deployment(application, group).await?;
                if let Some((id, arn)) = active.as_ref().and_then(|a| Some((&a.id, a.task_definition.as_ref()?))) {
                    let deploying = self.describe(arn, memo).await?;
                    if rollout::decide(push, &deploying.containers, only_container) == Decision::Unchanged {
                        return Ok(unchanged(format!("already deploying {} in CodeDeploy deployment {id}", short_digest(&push.digest))));
                    }
                }
                let registered = self.register(&current, updates.clone(), push, memo).await?;
                // The newest image wins: an older image still deploying is stopped and rolled back.
                let superseded = active.map(|a| a.id);
                if let Some(id) = &superseded {
                    info!(service = service.name, deployment = id, "stopping the deployment of an older image");
                    self.codedeploy.stop_deployment(id).await?;
                }
                let request = BlueGreenRequest {
                    application,
                    deployment_group: group,
                    task_definition: &registered.arn,
                    container_name: &load_balancer.container_name,
                    container_port: load_balancer.container_port,
                    deployment_config: service.tags.get(tags::TRAFFIC).map(String::as_str),
                    description: format!("Deckhand: {}:{} ({})", push.repository, push.tag.as_deref().unwrap_or("-"), push.digest),
                };
                let deployment_id = self.create_when_free(&request).await?;
                Ok(Step::Deployed { registered, deployment_id, updates, superseded })
            }
        }
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
        push: &ImageAction,
        memo: &mut Memo,
    ) -> Result<Registered, HandlerError> {
        let key = (source.arn.clone(), updates);
        if let Some(known) = memo.registered.get(&key) {
            return Ok(known.clone());
        }
        let registered = self.ecs.register_revision(source, &key.1, push.tag.as_deref()).await?;
        memo.registered.insert(key, registered.clone());
        Ok(registered)
    }
}

fn unchanged(reason: String) -> Step {
    Step::Done(ServiceResult::Unchanged { reason })
}

/// `sha256:4f1c6e2d9b8a` — enough to tell images apart at a glance.
fn short_digest(digest: &str) -> &str {
    let end = digest.find(':').map_or(digest.len(), |colon| (colon + 13).min(digest.len()));
    &digest[..end]
}

fn deployed_notification(
    push: &ImageAction,
    service: &Service,
    registered: &Registered,
    deployment_id: &str,
    updates: &[ImageUpdate],
    superseded: Option<&str>,
) -> Notification {
    let cluster = service.cluster_name();
    let tag = push.tag.as_deref().unwrap_or("(untagged)");
    let how = match service.controller {
        Controller::CodeDeploy => "CodeDeploy blue/green",
        _ => "ECS rolling update, circuit breaker with rollback",
    };
    let mut text = format!(
        "Deckhand is deploying a new image to {cluster}/{}.\n\nImage:       {}:{tag} ({})\nRevision:    {}\nDeployment:  {deployment_id} ({how})\n",
        service.name,
        push.repository,
        short_digest(&push.digest),
        registered.arn,
    );
    for update in updates {
        text.push_str(&format!("Container {}:\n  from  {}\n  to    {}\n", update.container, update.from, update.to));
    }
    if let Some(id) = superseded {
        text.push_str(&format!("Supersedes:  {id} (an older image; stopped and rolled back)\n"));
    }
    if let Some(id) = &push.event_id {
        text.push_str(&format!("ECR event:   {id}\n"));
    }
    Notification {
        event: "image.deployed",
        severity: Severity::Info,
        subject: format!("Deploying {}:{tag} to {cluster}/{} (rev {})", push.repository, service.name, registered.revision),
        text,
        details: json!({
            "repository": push.repository,
            "tag": push.tag,
            "digest": push.digest,
            "service_arn": service.arn,
            "controller": service.controller.as_str(),
            "task_definition": registered.arn,
            "revision": registered.revision,
            "deployment_id": deployment_id,
            "superseded": superseded,
            "images": updates,
        }),
        cluster: Some(cluster.to_owned()),
        service: Some(service.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:{}", push.event_id.as_deref().unwrap_or(&push.digest), service.arn)),
    }
}
