//! Where a hook's evidence is: the service, the stage, the target group and the URL to probe.

use crate::config::{GateConfig, status_codes};
use crate::error::HandlerError;
use crate::event::hook::EcsHook;
use crate::ports::{Capacity, CodeDeployments, LoadBalancers, ServiceCapacity};
use crate::tags;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// ECS PRE_SCALE_UP: no new tasks yet.
    BeforeScaleUp,
    /// New tasks run, behind no listener (ECS POST_SCALE_UP).
    ScaledUp,
    Test,
    Production,
}

/// The service a hook is about, and where its evidence is.
#[derive(Debug, Clone, Serialize)]
pub struct GateTarget {
    pub cluster: String,
    pub service: String,
    pub stage: Stage,
    pub target_group: Option<String>,
    pub probe_url: Option<String>,
    /// Healthy status codes: tag `deckhand:gate-status`, else `GATE_STATUS`.
    pub expected_status: Vec<u16>,
    #[serde(skip)]
    pub(super) capacity: Capacity,
}

/// The service a CodeDeploy deployment deploys (its group's first), and where its evidence is.
/// CodeDeploy does not say which lifecycle event a hook serves: the test URL when the service
/// names one, else the production URL.
pub(super) async fn codedeploy_target(
    codedeploy: &impl CodeDeployments,
    ecs: &impl ServiceCapacity,
    elb: &impl LoadBalancers,
    config: &GateConfig,
    deployment_id: &str,
) -> Result<GateTarget, HandlerError> {
    let details = codedeploy.deployment(deployment_id).await?;
    let group = codedeploy.deployment_group(&details.application, &details.deployment_group).await?;
    let Some((cluster, service)) = group.services.first().cloned() else {
        return Err(HandlerError::Misconfigured(format!("deployment group {} names no ECS service", details.deployment_group)));
    };
    let capacity = capacity(ecs, &cluster, &service).await?;
    let stage = if capacity.tags.contains_key(tags::GATE_TEST_URL) || !capacity.tags.contains_key(tags::GATE_URL) {
        Stage::Test
    } else {
        Stage::Production
    };
    let target_group = match capacity.tags.get(tags::GATE_TARGET_GROUP) {
        Some(group) => Some(group.clone()),
        None => match group.test_listeners.first().or(group.production_listeners.first()) {
            Some(listener) => elb.forward_target_group(listener).await?,
            None => None,
        },
    };
    target(config, cluster, service, capacity, stage, target_group)
}

/// The service an ECS lifecycle hook is about, and where its evidence is at this stage.
pub(super) async fn ecs_target(ecs: &impl ServiceCapacity, config: &GateConfig, hook: &EcsHook) -> Result<GateTarget, HandlerError> {
    let path = hook.service_arn.split_once(":service/").map_or("", |(_, p)| p);
    let (cluster, service) = path.split_once('/').unwrap_or(("default", path));
    let capacity = capacity(ecs, cluster, service).await?;
    let stage = match () {
        _ if hook.is_test_stage() => Stage::Test,
        _ if hook.is_production_stage() => Stage::Production,
        _ if hook.has_new_tasks() => Stage::ScaledUp,
        _ => Stage::BeforeScaleUp,
    };
    let target_group = capacity.tags.get(tags::GATE_TARGET_GROUP).cloned().or_else(|| capacity.alternate_target_group.clone());
    target(config, cluster.to_owned(), service.to_owned(), capacity, stage, target_group)
}

async fn capacity(ecs: &impl ServiceCapacity, cluster: &str, service: &str) -> Result<Capacity, HandlerError> {
    ecs.capacity(cluster, service).await?.ok_or_else(|| HandlerError::Misconfigured(format!("service {cluster}/{service} does not exist")))
}

fn target(
    config: &GateConfig,
    cluster: String,
    service: String,
    capacity: Capacity,
    stage: Stage,
    target_group: Option<String>,
) -> Result<GateTarget, HandlerError> {
    let tags = &capacity.tags;
    let expected_status = match tags.get(tags::GATE_STATUS) {
        Some(value) => status_codes(value).map_err(|reason| {
            HandlerError::Misconfigured(format!("service {cluster}/{service}: tag {} is invalid: {reason}", tags::GATE_STATUS))
        })?,
        None => config.expected_status.clone(),
    };
    let base = match stage {
        Stage::Test => tags.get(tags::GATE_TEST_URL).or(tags.get(tags::GATE_URL)),
        _ => tags.get(tags::GATE_URL),
    };
    let path = tags.get(tags::GATE_PATH).unwrap_or(&config.path);
    let probe_url = base.map(|base| format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')));
    Ok(GateTarget { cluster, service, stage, target_group, probe_url, expected_status, capacity })
}
