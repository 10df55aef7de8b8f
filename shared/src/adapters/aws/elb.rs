//! Elastic Load Balancing v2 through the SDK: target health, listener forwarding, and the load
//! balancers of target groups.

use super::aws_error;
use crate::ports::{AwsResult, LoadBalancers, Target};
use aws_sdk_elasticloadbalancingv2::Client;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct SdkElb {
    client: Client,
}

impl SdkElb {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl LoadBalancers for SdkElb {
    async fn target_health(&self, target_group: &str) -> AwsResult<Vec<Target>> {
        let output = self
            .client
            .describe_target_health()
            .target_group_arn(target_group)
            .send()
            .await
            .map_err(|err| aws_error("elasticloadbalancing:DescribeTargetHealth", err))?;
        Ok(output
            .target_health_descriptions
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                let id = d.target.and_then(|t| match t.port {
                    Some(port) => t.id.map(|id| format!("{id}:{port}")),
                    None => t.id,
                });
                let health = d.target_health;
                Target {
                    id: id.unwrap_or_default(),
                    state: health.as_ref().and_then(|h| h.state.as_ref()).map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    reason: health.and_then(|h| h.reason).map(|r| r.as_str().to_owned()),
                }
            })
            .collect())
    }

    async fn forward_target_group(&self, listener: &str) -> AwsResult<Option<String>> {
        let output = self
            .client
            .describe_listeners()
            .listener_arns(listener)
            .send()
            .await
            .map_err(|err| aws_error("elasticloadbalancing:DescribeListeners", err))?;
        let actions = output.listeners.unwrap_or_default().into_iter().flat_map(|l| l.default_actions.unwrap_or_default());
        let mut best: Option<(i32, String)> = None;
        for action in actions {
            if let Some(arn) = action.target_group_arn {
                return Ok(Some(arn));
            }
            for group in action.forward_config.and_then(|f| f.target_groups).unwrap_or_default() {
                let weight = group.weight.unwrap_or(1);
                if let Some(arn) = group.target_group_arn.filter(|_| best.as_ref().is_none_or(|(w, _)| weight > *w)) {
                    best = Some((weight, arn));
                }
            }
        }
        Ok(best.map(|(_, arn)| arn))
    }

    async fn load_balancers_of(&self, target_groups: &[String]) -> AwsResult<BTreeMap<String, Vec<String>>> {
        // The gate names two target groups: one page (up to 400) holds them, no paginator needed.
        let output = self
            .client
            .describe_target_groups()
            .set_target_group_arns(Some(target_groups.to_vec()))
            .send()
            .await
            .map_err(|err| aws_error("elasticloadbalancing:DescribeTargetGroups", err))?;
        Ok(output
            .target_groups
            .unwrap_or_default()
            .into_iter()
            .filter_map(|group| Some((group.target_group_arn?, group.load_balancer_arns.unwrap_or_default())))
            .collect())
    }
}
