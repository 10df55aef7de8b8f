//! The fake ECS's services as a rollout finds and moves them: the tag index (GetResources),
//! DescribeServices of the services it named, and rolling updates.

use super::{FakeEcs, FakeService, lock, native_deployment};
use crate::ports::{AwsResult, EcsDeployment, EcsServices, IndexedService, Service, Shift};
use crate::tags;

/// As GetResources pages (its most) and DescribeServices takes (its most) services.
const INDEX_PAGE: usize = 100;
const DESCRIBE_BATCH: usize = 10;

impl EcsServices for FakeEcs {
    async fn services_tagged(&self, key: &str) -> AwsResult<Vec<IndexedService>> {
        let tagged: Vec<IndexedService> = {
            let state = lock(&self.state);
            let listed = state.services.iter().filter(|s| s.indexed && s.tags.contains_key(key));
            listed.map(|s| IndexedService { arn: s.arn.clone(), tags: s.tags.clone() }).collect()
        };
        for _ in 0..tagged.len().div_ceil(INDEX_PAGE).max(1) {
            self.faults.call("tag:GetResources", || Ok(()))?;
        }
        Ok(tagged)
    }

    async fn tracked_services(&self, cluster: &str, services: &[String]) -> AwsResult<Vec<Service>> {
        let mut tracked = Vec::new();
        for batch in services.chunks(DESCRIBE_BATCH) {
            tracked.extend(self.faults.call("ecs:DescribeServices", || {
                let state = lock(&self.state);
                let asked = |s: &&FakeService| s.in_cluster(cluster) && batch.iter().any(|b| *b == s.arn || *b == s.name);
                Ok(state
                    .services
                    .iter()
                    .filter(asked)
                    .filter(|s| s.tags.contains_key(tags::TRACK))
                    .map(|s| s.service.clone())
                    .collect::<Vec<_>>())
            })?);
        }
        Ok(tracked)
    }

    async fn roll_out(&self, service: &Service, task_definition: &str, shift: Option<&Shift>) -> AwsResult<String> {
        self.faults.call("ecs:UpdateService", || {
            let started = {
                let mut state = lock(&self.state);
                state.deployments_started += 1;
                state.deployments_started
            };
            let id = format!("ecs-svc/{started}");
            self.with_arn(&service.arn, |s| {
                for deployment in &mut s.deployments {
                    deployment.status = "ACTIVE".into();
                }
                s.deployments
                    .insert(0, EcsDeployment { id: id.clone(), status: "PRIMARY".into(), task_definition: task_definition.into() });
                if s.strategy.shifts_traffic() {
                    let deployment = native_deployment(&s.service, started, &s.task_definition, task_definition);
                    s.native.insert(0, deployment);
                    s.shifts.insert(0, shift.copied());
                }
                s.task_definition = task_definition.to_owned();
            })?;
            Ok(id)
        })
    }
}
