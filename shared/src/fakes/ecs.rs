//! A fake ECS: services with their tags, counts and deployments; task-definition revisions.
//! Its service deployments (ECS-native strategies) are in `native`.

mod native;
mod services;

pub use native::{native_deployment, pause_hook};

use super::{ACCOUNT, Faults, lock};
use crate::error::HandlerError;
use crate::ports::{
    AwsResult, Capacity, Container, Controller, EcsDeployment, ImageUpdate, LoadBalancer, NativeDeployment, Registered, Service,
    ServiceCapacity, ServiceDeployments, Shift, Strategy, TaskDefinition, TaskDefinitions,
};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

/// A service as the fake ECS holds it: what a rollout sees (it reads as that `Service`), and
/// its capacity and deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeService {
    pub service: Service,
    pub desired: i32,
    pub running: i32,
    /// Newest first; the first is PRIMARY.
    pub deployments: Vec<EcsDeployment>,
    pub task_sets: usize,
    pub target_group: Option<String>,
    pub alternate_target_group: Option<String>,
    /// ECS-native service deployments, newest first.
    pub native: Vec<NativeDeployment>,
    /// The `deckhand:shift` each native deployment was started with, newest first.
    pub shifts: Vec<Option<Shift>>,
    /// Whether the tag index lists the service (and its tags) yet: `false` for one tagged
    /// moments ago, which the eventually consistent index does not show.
    pub indexed: bool,
}

impl FakeService {
    /// A service of `cluster` running `task_definition` with 2 tasks, under the ECS controller.
    pub fn new(cluster: &str, name: &str, task_definition: &str) -> Self {
        let cluster_arn = format!("arn:aws:ecs:{}:{ACCOUNT}:cluster/{cluster}", region_of(task_definition));
        let service = Service {
            arn: format!("arn:aws:ecs:{}:{ACCOUNT}:service/{cluster}/{name}", region_of(task_definition)),
            name: name.to_owned(),
            cluster_arn,
            task_definition: task_definition.to_owned(),
            controller: Controller::Ecs,
            strategy: Strategy::Rolling,
            tags: BTreeMap::new(),
            load_balancers: Vec::new(),
        };
        Self {
            service,
            desired: 2,
            running: 2,
            deployments: vec![EcsDeployment {
                id: "ecs-svc/0".into(),
                status: "PRIMARY".into(),
                task_definition: task_definition.to_owned(),
            }],
            task_sets: 0,
            target_group: None,
            alternate_target_group: None,
            native: Vec::new(),
            shifts: Vec::new(),
            indexed: true,
        }
    }

    /// Tagged moments ago: the tag index does not list it yet.
    pub fn not_yet_indexed(mut self) -> Self {
        self.indexed = false;
        self
    }

    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.service.strategy = strategy;
        self
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn controller(mut self, controller: Controller) -> Self {
        self.controller = controller;
        self
    }

    pub fn load_balancer(mut self, container_name: &str, container_port: i32) -> Self {
        self.load_balancers.push(LoadBalancer { container_name: container_name.to_owned(), container_port });
        self
    }

    pub fn tasks(mut self, desired: i32, running: i32) -> Self {
        (self.desired, self.running) = (desired, running);
        self
    }

    fn in_cluster(&self, cluster: &str) -> bool {
        self.cluster_arn == cluster || self.cluster_arn.ends_with(&format!(":cluster/{cluster}"))
    }
}

impl Deref for FakeService {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.service
    }
}

impl DerefMut for FakeService {
    fn deref_mut(&mut self) -> &mut Service {
        &mut self.service
    }
}

fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).filter(|r| !r.is_empty()).unwrap_or(super::REGION)
}

#[derive(Debug, Default)]
struct State {
    services: Vec<FakeService>,
    /// Every revision registered, with the tag label of the images it pins.
    revisions: Vec<(TaskDefinition, Option<String>)>,
    deployments_started: usize,
}

#[derive(Debug, Clone, Default)]
pub struct FakeEcs {
    state: Arc<Mutex<State>>,
    faults: Faults,
    region: String,
}

impl FakeEcs {
    pub fn new(faults: &Faults, region: &str) -> Self {
        Self { state: Arc::default(), faults: faults.clone(), region: region.to_owned() }
    }

    /// Registers the next revision of `family` with these `(container, image)`s; its ARN.
    pub fn add_task_definition(&self, family: &str, containers: &[(&str, &str)]) -> String {
        let containers = containers.iter().map(|(name, image)| Container { name: name.to_string(), image: image.to_string() }).collect();
        self.register(family, containers, None, None).arn
    }

    pub fn add_service(&self, service: FakeService) {
        lock(&self.state).services.push(service);
    }

    /// The service as it is now.
    pub fn service(&self, cluster: &str, name: &str) -> FakeService {
        let state = lock(&self.state);
        state.services.iter().find(|s| s.in_cluster(cluster) && s.name == name).cloned().expect("the service was added")
    }

    /// Changes a service in place (a person retagging it, tasks starting).
    pub fn update_service(&self, cluster: &str, name: &str, change: impl FnOnce(&mut FakeService)) {
        let mut state = lock(&self.state);
        change(state.services.iter_mut().find(|s| s.in_cluster(cluster) && s.name == name).expect("the service was added"));
    }

    /// Every revision of `family`, oldest first, with the image tag it was registered for.
    pub fn revisions(&self, family: &str) -> Vec<(TaskDefinition, Option<String>)> {
        let prefix = format!(":task-definition/{family}:");
        lock(&self.state).revisions.iter().filter(|(td, _)| td.arn.contains(&prefix)).cloned().collect()
    }

    fn register(
        &self,
        family: &str,
        containers: Vec<Container>,
        pushed_tag: Option<String>,
        revised_from: Option<String>,
    ) -> TaskDefinition {
        let mut state = lock(&self.state);
        let prefix = format!(":task-definition/{family}:");
        let revision = state.revisions.iter().filter(|(td, _)| td.arn.contains(&prefix)).count() as i32 + 1;
        let arn = format!("arn:aws:ecs:{}:{ACCOUNT}:task-definition/{family}:{revision}", self.region);
        let registered = TaskDefinition { arn, revision, containers, revised_from };
        state.revisions.push((registered.clone(), pushed_tag));
        registered
    }

    fn with_service<T>(&self, cluster: &str, name: &str, act: impl FnOnce(&mut FakeService) -> T) -> AwsResult<T> {
        let mut state = lock(&self.state);
        let found = state.services.iter_mut().find(|s| s.in_cluster(cluster) && (s.name == name || s.arn == name));
        found.map(act).ok_or_else(|| not_found("ServiceNotFoundException", name))
    }

    fn with_arn<T>(&self, arn: &str, act: impl FnOnce(&mut FakeService) -> T) -> AwsResult<T> {
        let mut state = lock(&self.state);
        state.services.iter_mut().find(|s| s.arn == arn).map(act).ok_or_else(|| not_found("InvalidParameterException", arn))
    }
}

fn not_found(code: &str, what: &str) -> HandlerError {
    HandlerError::Aws { operation: "ecs", message: format!("{code}: {what} not found") }
}

impl ServiceDeployments for FakeEcs {
    async fn deployments_of(&self, cluster: &str, service: &str) -> AwsResult<Vec<EcsDeployment>> {
        self.faults.call("ecs:DescribeServices", || Ok(self.with_service(cluster, service, |s| s.deployments.clone()).unwrap_or_default()))
    }
}

impl ServiceCapacity for FakeEcs {
    async fn capacity(&self, cluster: &str, service: &str) -> AwsResult<Option<Capacity>> {
        self.faults.call("ecs:DescribeServices", || {
            Ok(self
                .with_service(cluster, service, |s| Capacity {
                    arn: s.arn.clone(),
                    cluster_arn: s.cluster_arn.clone(),
                    name: s.name.clone(),
                    desired: s.desired,
                    running: s.running,
                    controller: s.controller,
                    strategy: s.strategy,
                    tags: s.tags.clone(),
                    deployments: s.deployments.len(),
                    task_sets: s.task_sets,
                    target_group: s.target_group.clone(),
                    alternate_target_group: s.alternate_target_group.clone(),
                })
                .ok())
        })
    }

    async fn tag_service(&self, service_arn: &str, key: &str, value: &str) -> AwsResult<()> {
        self.faults.call("ecs:TagResource", || self.with_arn(service_arn, |s| s.tags.insert(key.to_owned(), value.to_owned())).map(drop))
    }

    async fn set_desired_count(&self, cluster: &str, service: &str, desired: i32) -> AwsResult<()> {
        // Tasks start at once: the fake has no scheduler.
        self.faults.call("ecs:UpdateService", || self.with_service(cluster, service, |s| (s.desired, s.running) = (desired, desired)))
    }

    async fn untag_service(&self, service_arn: &str, key: &str) -> AwsResult<()> {
        self.faults.call("ecs:UntagResource", || self.with_arn(service_arn, |s| s.tags.remove(key)).map(drop))
    }
}

impl TaskDefinitions for FakeEcs {
    async fn describe(&self, arn: &str) -> AwsResult<TaskDefinition> {
        self.faults.call("ecs:DescribeTaskDefinition", || {
            let state = lock(&self.state);
            let found = state.revisions.iter().find(|(td, _)| td.arn == arn);
            found.map(|(td, _)| td.clone()).ok_or_else(|| not_found("ClientException", arn))
        })
    }

    async fn latest_revision(&self, family: &str) -> AwsResult<TaskDefinition> {
        self.faults.call("ecs:DescribeTaskDefinition", || {
            self.revisions(family).pop().map(|(td, _)| td).ok_or_else(|| not_found("ClientException", family))
        })
    }

    async fn register_revision(&self, source: &TaskDefinition, updates: &[ImageUpdate], pushed_tag: Option<&str>) -> AwsResult<Registered> {
        self.faults.call("ecs:RegisterTaskDefinition", || {
            // What ECS would register, worked out here rather than by `plan::updated_containers`:
            // the fake is the oracle that the planner's reuse check is tested against.
            let containers = source
                .containers
                .iter()
                .map(|c| match updates.iter().find(|u| u.container == c.name) {
                    Some(update) => Container { name: c.name.clone(), image: update.to.clone() },
                    None => c.clone(),
                })
                .collect();
            let registered = self.register(source.family(), containers, pushed_tag.map(str::to_owned), Some(source.arn.clone()));
            Ok(Registered { arn: registered.arn, revision: registered.revision })
        })
    }
}
