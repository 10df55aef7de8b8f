//! The traffic analysis's evidence: each target group's requests, 5xx and p99 latency from
//! CloudWatch, found through the Application Load Balancer that routes to it.

use super::plan::analysis::{self, Analysis, GroupTraffic, Rigor};
use super::target::GateTarget;
use crate::error::HandlerError;
use crate::ports::{LoadBalancers, MetricWindows};
use crate::quote::quote;
use crate::tags;
use std::collections::BTreeMap;

/// The new revision's target group (tag `deckhand:gate-target-group`, else the service's
/// alternate) against the old one's (the service's production target group), over the rules'
/// window up to `now`. `Ok(Err(why))`: the comparison cannot be made (evidence missing); an AWS
/// call that fails is an error, which fails the gate.
pub(super) async fn analysis(
    cloudwatch: &impl MetricWindows,
    elb: &impl LoadBalancers,
    target: &GateTarget,
    rigor: Rigor,
    now: u64,
) -> Result<Result<Analysis, String>, HandlerError> {
    let missing = |why: String| Ok(Err(format!("traffic analysis: {why}")));
    let (new, old) = match (&target.target_group, &target.capacity.target_group) {
        (Some(new), Some(old)) if new != old => (new.clone(), old.clone()),
        (Some(same), Some(_)) => {
            return missing(format!("the new revision's target group {} is the production one: nothing to compare it with", quote(same)));
        }
        (None, _) => return missing(format!("no target group of the new revision known (tag {})", tags::GATE_TARGET_GROUP)),
        (_, None) => return missing("the service names no production target group".into()),
    };
    // Garbage is refused before any call: ELB would answer a ValidationError.
    if let Some(bad) = [&new, &old].into_iter().find(|group| analysis::target_group_dimension(group).is_none()) {
        return missing(format!("{} is not a target group ARN", quote(bad)));
    }
    let balancers = elb.load_balancers_of(&[new.clone(), old.clone()]).await?;
    let (new_at, old_at) = match (located(&new, &balancers), located(&old, &balancers)) {
        (Ok(new_at), Ok(old_at)) => (new_at, old_at),
        (Err(why), _) | (_, Err(why)) => return missing(why),
    };
    let window = (target.analysis.window, now);
    let new = traffic(cloudwatch, new, &new_at, window).await?;
    let old = traffic(cloudwatch, old, &old_at, window).await?;
    Ok(Ok(analysis::analyse(new, old, &target.analysis, rigor)))
}

/// A target group's metric dimensions: `TargetGroup` and its load balancer's `LoadBalancer`.
fn located(group: &str, balancers: &BTreeMap<String, Vec<String>>) -> Result<(String, String), String> {
    let dimension = analysis::target_group_dimension(group).ok_or_else(|| format!("{} is not a target group ARN", quote(group)))?;
    let balancer = balancers
        .get(group)
        .and_then(|found| found.first())
        .ok_or_else(|| format!("target group {} is behind no load balancer", quote(group)))?;
    let balancer =
        analysis::load_balancer_dimension(balancer).map_err(|why| format!("the load balancer of target group {}: {why}", quote(group)))?;
    Ok((dimension, balancer))
}

/// One group's requests and 5xx (sums, none being 0) and p99 latency over `window` seconds up to
/// `now`.
async fn traffic(
    cloudwatch: &impl MetricWindows,
    group: String,
    (dimension, balancer): &(String, String),
    (window, now): (u32, u64),
) -> Result<GroupTraffic, HandlerError> {
    let [requests, errors, latency] = analysis::metric_queries(dimension, balancer, window);
    let count = |sum: Option<f64>| sum.map_or(0, |sum| sum.max(0.0).round() as u64);
    Ok(GroupTraffic {
        target_group: group,
        requests: count(cloudwatch.window_statistic(&requests, now).await?),
        errors: count(cloudwatch.window_statistic(&errors, now).await?),
        p99_us: cloudwatch.window_statistic(&latency, now).await?.map(|seconds| (seconds.max(0.0) * 1e6).round() as u64),
    })
}
