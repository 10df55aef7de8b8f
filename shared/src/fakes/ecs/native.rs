//! The fake ECS's service deployments: ECS-native strategies, their hooks, stop and continue.

use super::{FakeEcs, lock, not_found};
use crate::ports::{AwsResult, HookAction, LifecycleHook, NativeDeployment, NativeDeployments, RevisionShare, Service};

/// A native deployment of `service` from `from` to `to`, as ECS starts it: `IN_PROGRESS`, before
/// scale-up, production traffic all on `from`.
pub fn native_deployment(service: &Service, id: usize, from: &str, to: &str) -> NativeDeployment {
    let revision = |n: usize, task_definition: &str, weight: f64| RevisionShare {
        revision_arn: format!("{}/{n}", service.arn.replace(":service/", ":service-revision/")),
        task_definition: Some(task_definition.to_owned()),
        production_weight: Some(weight),
        test_weight: None,
        running: 0,
        requested: 2,
    };
    NativeDeployment {
        arn: format!("{}/d{id}", service.arn.replace(":service/", ":service-deployment/")),
        service_arn: service.arn.clone(),
        status: "IN_PROGRESS".into(),
        status_reason: None,
        strategy: Some(service.strategy),
        stage: Some("PRE_SCALE_UP".into()),
        created_at: None,
        started_at: None,
        finished_at: None,
        bake_minutes: None,
        target: Some(revision(2 * id + 1, to, 0.0)),
        sources: vec![revision(2 * id, from, 100.0)],
        hooks: Vec::new(),
    }
}

/// A pause hook awaiting action until `expires_at`, then rolled back, as ECS reports one.
pub fn pause_hook(id: &str, expires_at: u64) -> LifecycleHook {
    LifecycleHook {
        id: id.to_owned(),
        target_type: "PAUSE".into(),
        status: "AWAITING_ACTION".into(),
        expires_at: Some(expires_at),
        timeout_action: Some("ROLLBACK".into()),
    }
}

impl FakeEcs {
    fn with_native<T>(&self, arn: &str, act: impl FnOnce(&mut NativeDeployment) -> T) -> AwsResult<T> {
        let mut state = lock(&self.state);
        let found = state.services.iter_mut().flat_map(|s| s.native.iter_mut()).find(|d| d.arn == arn);
        found.map(act).ok_or_else(|| not_found("ServiceDeploymentNotFoundException", arn))
    }
}

impl NativeDeployments for FakeEcs {
    async fn recent_deployments(&self, cluster: &str, service: &str) -> AwsResult<Vec<NativeDeployment>> {
        self.faults.call("ecs:ListServiceDeployments", || {
            Ok(self.with_service(cluster, service, |s| s.native.iter().take(10).cloned().collect()).unwrap_or_default())
        })
    }

    async fn deployment(&self, arn: &str) -> AwsResult<Option<NativeDeployment>> {
        self.faults.call("ecs:DescribeServiceDeployments", || Ok(self.with_native(arn, |d| d.clone()).ok()))
    }

    async fn stop_with_rollback(&self, arn: &str) -> AwsResult<()> {
        self.faults.call("ecs:StopServiceDeployment", || {
            self.with_native(arn, |d| {
                if d.advancing() {
                    d.status = "ROLLBACK_REQUESTED".into();
                }
            })
        })
    }

    async fn continue_hook(&self, arn: &str, hook_id: &str, action: HookAction) -> AwsResult<()> {
        self.faults.call("ecs:ContinueServiceDeployment", || {
            self.with_native(arn, |d| {
                let hook = d.hooks.iter_mut().find(|h| h.id == hook_id && h.awaiting_action());
                let Some(hook) = hook else { return Err(not_found("InvalidParameterException", hook_id)) };
                // As ECS documents its events: HOOK_SUCCEEDED for CONTINUE, HOOK_FAILED for ROLLBACK.
                hook.status = if action == HookAction::Rollback { "FAILED" } else { "SUCCEEDED" }.into();
                if action == HookAction::Rollback {
                    d.status = "ROLLBACK_REQUESTED".into();
                }
                Ok(())
            })?
        })
    }
}
