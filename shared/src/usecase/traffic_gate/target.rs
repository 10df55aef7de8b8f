//! Where a hook's evidence is: the service, the stage, the target group and the URL to probe.

use super::plan::{AnalysisRules, Stage};
use crate::config::{GateConfig, ProbeHosts, status_codes};
use crate::error::HandlerError;
use crate::event::hook::EcsHook;
use crate::ports::{Capacity, CodeDeployments, LoadBalancers, ServiceCapacity};
use crate::quote::quote;
use crate::tags;
use serde::Serialize;

/// The service a hook is about, and where its evidence is.
#[derive(Debug, Clone, Serialize)]
pub struct GateTarget {
    pub cluster: String,
    pub service: String,
    pub stage: Stage,
    /// The ECS lifecycle stage, for ECS hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<&'static str>,
    pub target_group: Option<String>,
    pub probe_url: Option<String>,
    /// Healthy status codes: tag `deckhand:gate-status`, else `GATE_STATUS`.
    pub expected_status: Vec<u16>,
    /// How production traffic shifts compare the two target groups: tag `deckhand:analysis` over
    /// `GATE_ANALYSIS`.
    pub analysis: AnalysisRules,
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

/// The cluster and service an ECS lifecycle hook names (`…:service/CLUSTER/SERVICE`, or the
/// older `…:service/SERVICE` in the default cluster).
pub(super) fn ecs_service(hook: &EcsHook) -> (&str, &str) {
    crate::event::deployment::service_names(&hook.service_arn)
}

/// The service an ECS lifecycle hook is about, and where its evidence is at `stage`.
pub(super) async fn ecs_target(
    ecs: &impl ServiceCapacity,
    config: &GateConfig,
    hook: &EcsHook,
    (lifecycle_stage, stage): (&'static str, Stage),
) -> Result<GateTarget, HandlerError> {
    let (cluster, service) = ecs_service(hook);
    let capacity = capacity(ecs, cluster, service).await?;
    let target_group = capacity.tags.get(tags::GATE_TARGET_GROUP).cloned().or_else(|| capacity.alternate_target_group.clone());
    let mut target = target(config, cluster.to_owned(), service.to_owned(), capacity, stage, target_group)?;
    target.lifecycle_stage = Some(lifecycle_stage);
    Ok(target)
}

/// May the gate probe `url`?
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ProbeHost {
    /// Its host is in `GATE_PROBE_HOSTS`.
    Allowed,
    /// `GATE_PROBE_HOSTS` is unset: any host, this one.
    Unrestricted(String),
    /// Not an http(s) URL, or a host `GATE_PROBE_HOSTS` leaves out: why.
    Refused(String),
}

/// Checks `url`'s host with the parser the probe client itself uses (reqwest's, WHATWG URL), so
/// the host checked is the host connected to: `http://ok.example@evil.example/` is `evil.example`.
pub(super) fn probe_host(url: &str, hosts: &ProbeHosts) -> ProbeHost {
    let from_tags = format!("(tags {} / {})", tags::GATE_TEST_URL, tags::GATE_URL);
    let parsed = match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => parsed,
        _ => return ProbeHost::Refused(format!("the probe URL {} {from_tags} is not an http(s) URL", quote(url))),
    };
    let Some(host) = parsed.host_str() else {
        return ProbeHost::Refused(format!("the probe URL {} {from_tags} names no host", quote(url)));
    };
    match hosts {
        ProbeHosts::Any => ProbeHost::Unrestricted(host.to_owned()),
        _ if hosts.allows(host) => ProbeHost::Allowed,
        _ => ProbeHost::Refused(format!("probe host {} {from_tags} is not allowed by GATE_PROBE_HOSTS", quote(host))),
    }
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
    let invalid =
        |tag: &str, reason: String| HandlerError::Misconfigured(format!("service {cluster}/{service}: tag {tag} is invalid: {reason}"));
    let expected_status = match tags.get(tags::GATE_STATUS) {
        Some(value) => status_codes(value).map_err(|reason| invalid(tags::GATE_STATUS, reason))?,
        None => config.expected_status.clone(),
    };
    let analysis = match tags.get(tags::ANALYSIS) {
        Some(value) => AnalysisRules::parse(value, config.analysis).map_err(|reason| invalid(tags::ANALYSIS, reason))?,
        None => config.analysis,
    };
    let base = match stage {
        Stage::Test => tags.get(tags::GATE_TEST_URL).or(tags.get(tags::GATE_URL)),
        _ => tags.get(tags::GATE_URL),
    };
    let path = tags.get(tags::GATE_PATH).unwrap_or(&config.path);
    let probe_url = base.map(|base| format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/')));
    Ok(GateTarget { cluster, service, stage, lifecycle_stage: None, target_group, probe_url, expected_status, analysis, capacity })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 item 10: the host checked is the host the probe client would connect to.
    #[test]
    fn probe_hosts_are_checked_as_the_client_parses_them() {
        let only = ProbeHosts::parse(".internal.example.com, 127.0.0.1").unwrap();
        for allowed in ["http://web.internal.example.com:8443/health", "HTTPS://WEB.Internal.Example.com/h", "http://127.0.0.1:9/health"] {
            assert_eq!(probe_host(allowed, &only), ProbeHost::Allowed, "{allowed}");
        }
        // The host is what the client connects to, not what a reader might see in the URL.
        for (refused, host) in [
            ("http://web.internal.example.com@evil.example/health", "\"evil.example\""),
            ("http://evil.example#.internal.example.com", "\"evil.example\""),
            ("http://evil.example/.internal.example.com", "\"evil.example\""),
            ("http://internal.example.com/health", "\"internal.example.com\""),
            ("http://169.254.169.254/latest/meta-data/", "\"169.254.169.254\""),
        ] {
            let ProbeHost::Refused(reason) = probe_host(refused, &only) else { panic!("{refused} must be refused") };
            assert!(reason.contains(&format!("probe host {host}")) && reason.contains("GATE_PROBE_HOSTS"), "{refused}: {reason}");
        }
        assert_eq!(probe_host("http://0x7f.1/health", &only), ProbeHost::Allowed, "the client, and so the check, reads 127.0.0.1");
        for not_http in ["web.internal.example.com/health", "file:///etc/passwd", "ftp://web.internal.example.com/"] {
            assert!(
                matches!(probe_host(not_http, &only), ProbeHost::Refused(reason) if reason.contains("not an http(s) URL")),
                "{not_http}"
            );
        }
        let long = format!("http://{}.evil.example/", "a".repeat(60));
        let ProbeHost::Refused(reason) = probe_host(&long, &only) else { panic!() };
        assert!(reason.len() < 250, "the host is quoted short: {reason}");
        assert_eq!(probe_host("http://anywhere.example:8080/health", &ProbeHosts::Any), ProbeHost::Unrestricted("anywhere.example".into()));
    }
}
