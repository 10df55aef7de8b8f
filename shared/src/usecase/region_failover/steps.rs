//! Carrying out a plan's steps, each idempotent: scale, move DNS, freeze, unfreeze, record the flip.

use super::RegionFailover;
use super::StepResult;
use super::plan::{Side, Step};
use crate::error::HandlerError;
use crate::ports::{Alarms, Capacity, Dns, Notifier, ServiceCapacity};
use crate::tags;
use serde_json::json;
use std::time::{Duration, Instant};
use tracing::info;

impl<E: ServiceCapacity, A: Alarms, D: Dns, N: Notifier> RegionFailover<E, A, D, N> {
    pub(super) async fn execute(&self, step: &Step, to: Side, capacities: &[Vec<Capacity>; 2]) -> StepResult {
        let started = Instant::now();
        let (status, detail) = match self.run(step, to, capacities).await {
            Ok((status, detail)) => (status, detail),
            Err(err) => ("failed", err.to_string()),
        };
        let result = StepResult { step: step.clone(), status, detail, millis: started.elapsed().as_millis() as u64 };
        info!(step = %json!(result), "step");
        result
    }

    async fn run(&self, step: &Step, to: Side, capacities: &[Vec<Capacity>; 2]) -> Result<(&'static str, String), HandlerError> {
        let arn_of = |side: Side, cluster: &str, service: &str| {
            on_side(capacities, side)
                .iter()
                .find(|c| c.name == service && c.cluster_arn.ends_with(&format!("/{cluster}")))
                .map(|c| c.arn.clone())
        };
        let now = (self.now)();
        match step {
            Step::Scale { side, cluster, service, to: count, .. } => {
                let ports = self.ports(*side);
                ports.ecs.set_desired_count(cluster, service, *count).await?;
                let deadline = Instant::now() + Duration::from_secs(self.config.scale_wait);
                loop {
                    let running = ports.ecs.capacity(cluster, service).await?.map_or(0, |c| c.running);
                    if running >= *count {
                        return Ok(("done", format!("{running} of {count} tasks running")));
                    }
                    if Instant::now() >= deadline {
                        return Ok((
                            "incomplete",
                            format!("{running} of {count} tasks running after {} s; moving on", self.config.scale_wait),
                        ));
                    }
                    tokio::time::sleep(self.poll).await;
                }
            }
            Step::MoveDns { to } => match self.dns.point_to(&self.records(), *to).await {
                Ok(change) => {
                    let synced = self.dns.wait_in_sync(&change, Duration::from_secs(self.config.dns_wait)).await?;
                    let region = self.region(*to);
                    if synced {
                        Ok(("done", format!("{} now resolves to {region} (change {change} INSYNC)", self.config.record_name)))
                    } else {
                        Ok((
                            "incomplete",
                            format!("change {change} to {region} not INSYNC after {} s; Route 53 will finish it", self.config.dns_wait),
                        ))
                    }
                }
                Err(err) => Ok((
                    "failed",
                    format!("could not change DNS ({err}); DNS is left to the Route 53 health checks, which follow the health alarms"),
                )),
            },
            Step::Freeze { side, cluster, service } => {
                let arn = arn_of(*side, cluster, service)
                    .ok_or_else(|| HandlerError::Misconfigured(format!("{cluster}/{service} not found in {}", self.region(*side))))?;
                let reason = format!("failover to {} at {}", self.region(to), timestamp(now));
                self.ports(*side).ecs.tag_service(&arn, tags::FREEZE, &reason).await?;
                Ok(("done", format!("{cluster}/{service} in {}: {} = {reason}", self.region(*side), tags::FREEZE)))
            }
            Step::Unfreeze { side, cluster, service } => {
                let arn = arn_of(*side, cluster, service)
                    .ok_or_else(|| HandlerError::Misconfigured(format!("{cluster}/{service} not found in {}", self.region(*side))))?;
                self.ports(*side).ecs.untag_service(&arn, tags::FREEZE).await?;
                Ok(("done", format!("{cluster}/{service} in {}: freeze lifted", self.region(*side))))
            }
            Step::RecordFlip { to } => {
                let value = tags::marker_value(if *to == Side::Primary { "primary" } else { "standby" }, now);
                let mut recorded = Vec::new();
                for side in [Side::Standby, Side::Primary] {
                    for capacity in on_side(capacities, side) {
                        // Best effort in each region: either one is enough to remember the flip.
                        if self.ports(side).ecs.tag_service(&capacity.arn, tags::LAST_FLIP, &value).await.is_ok() {
                            recorded.push(format!("{} in {}", capacity.name, self.region(side)));
                        }
                    }
                }
                if recorded.is_empty() {
                    return Err(HandlerError::Misconfigured("no service could record the flip".into()));
                }
                Ok(("done", format!("{} = {value} on {}", tags::LAST_FLIP, recorded.join(", "))))
            }
        }
    }
}

/// The services read on one side, as `observe` returns them: primary's first.
pub(super) fn on_side(capacities: &[Vec<Capacity>; 2], side: Side) -> &[Capacity] {
    match side {
        Side::Primary => &capacities[0],
        Side::Standby => &capacities[1],
    }
}

/// RFC 3339, as tag values allow.
fn timestamp(epoch: u64) -> String {
    let at = i64::try_from(epoch).ok().and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok());
    at.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_else(|| epoch.to_string())
}
