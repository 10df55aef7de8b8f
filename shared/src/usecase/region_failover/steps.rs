//! Carrying out a plan's steps, each idempotent: scale, move DNS, freeze, unfreeze, record the
//! flip, remember the primary's counts. A step that fails returns its error: the caller stops there.

use super::plan::{Side, Step};
use super::{RegionEcs, RegionFailover, StepResult};
use crate::error::HandlerError;
use crate::ports::{Alarms, Capacity, Dns, Notifier, Registry};
use crate::runtime::rfc3339;
use crate::tags;
use serde_json::json;
use std::time::{Duration, Instant};
use tracing::info;

impl<E: RegionEcs, A: Alarms, R: Registry, D: Dns, N: Notifier> RegionFailover<E, A, R, D, N> {
    /// The step carried out, its result for the report, and its error when it failed.
    pub(super) async fn execute(&self, step: &Step, capacities: &[Vec<Capacity>; 2]) -> (StepResult, Result<(), HandlerError>) {
        let started = Instant::now();
        let ran = self.run(step, capacities).await;
        let (status, detail) = match &ran {
            Ok((status, detail)) => (*status, detail.clone()),
            Err(err) if matches!(step, Step::MoveDns { .. }) => (
                "failed",
                format!("could not change DNS ({err}); the Route 53 health checks, which follow the health alarms, may move it meanwhile"),
            ),
            Err(err) => ("failed", err.to_string()),
        };
        let result = StepResult { step: step.clone(), status, detail, millis: started.elapsed().as_millis() as u64 };
        info!(step = %json!(result), "step");
        (result, ran.map(drop))
    }

    async fn run(&self, step: &Step, capacities: &[Vec<Capacity>; 2]) -> Result<(&'static str, String), HandlerError> {
        let arn_of = |side: Side, cluster: &str, service: &str| {
            on_side(capacities, side)
                .iter()
                .find(|c| c.name == service && c.cluster_arn.ends_with(&format!("/{cluster}")))
                .map(|c| c.arn.clone())
                .ok_or_else(|| HandlerError::Misconfigured(format!("{cluster}/{service} not found in {}", self.region(side))))
        };
        match step {
            Step::Scale { side, cluster, service, to: count, .. } => {
                let ports = self.ports(*side);
                ports.ecs.set_desired_count(cluster, service, *count).await?;
                // The count is set: the wait is only for the report, so a failed look is not the
                // step's failure.
                let deadline = Instant::now() + Duration::from_secs(self.config.scale_wait);
                loop {
                    let running = ports.ecs.capacity(cluster, service).await.ok().flatten().map_or(0, |c| c.running);
                    if running >= *count {
                        return Ok(("done", format!("{running} of {count} tasks running")));
                    }
                    if Instant::now() >= deadline {
                        return Ok((
                            "incomplete",
                            format!("{running} of {count} tasks seen running after {} s; moving on", self.config.scale_wait),
                        ));
                    }
                    tokio::time::sleep(self.poll).await;
                }
            }
            Step::MoveDns { to } => {
                let change = self.dns.point_to(&self.records(), *to).await?;
                let region = self.region(*to);
                // Route 53 accepted the change and finishes it by itself: a wait that fails or
                // runs out leaves it to do so.
                match self.dns.wait_in_sync(&change, Duration::from_secs(self.config.dns_wait)).await {
                    Ok(true) => Ok(("done", format!("{} now resolves to {region} (change {change} INSYNC)", self.config.record_name))),
                    Ok(false) => Ok((
                        "incomplete",
                        format!("change {change} to {region} not INSYNC after {} s; Route 53 will finish it", self.config.dns_wait),
                    )),
                    Err(err) => Ok(("incomplete", format!("change {change} to {region} accepted; its progress could not be read ({err})"))),
                }
            }
            Step::Freeze { side, cluster, service } => {
                let arn = arn_of(*side, cluster, service)?;
                let now = (self.now)();
                let reason = format!("{}{} at {}", tags::FAILOVER_FREEZE_PREFIX, self.region(side.other()), rfc3339(now));
                self.ports(*side).ecs.tag_service(&arn, tags::FREEZE, &reason).await?;
                Ok(("done", format!("{cluster}/{service} in {}: {} = {reason}", self.region(*side), tags::FREEZE)))
            }
            Step::Unfreeze { side, cluster, service } => {
                let arn = arn_of(*side, cluster, service)?;
                self.ports(*side).ecs.untag_service(&arn, tags::FREEZE).await?;
                Ok(("done", format!("{cluster}/{service} in {}: freeze lifted", self.region(*side))))
            }
            Step::RecordFlip { to, at } => {
                let value = tags::marker_value(to.as_str(), *at);
                let mut recorded = Vec::new();
                for side in [Side::Standby, Side::Primary] {
                    for capacity in on_side(capacities, side).iter().filter(|c| c.tags.get(tags::LAST_FLIP) != Some(&value)) {
                        self.ports(side).ecs.tag_service(&capacity.arn, tags::LAST_FLIP, &value).await?;
                        recorded.push(format!("{} in {}", capacity.name, self.region(side)));
                    }
                }
                Ok(("done", format!("{} = {value} on {}", tags::LAST_FLIP, recorded.join(", "))))
            }
            Step::RememberPrimaryCount { cluster, service, desired } => {
                let arn = arn_of(Side::Standby, cluster, service)?;
                self.standby.ecs.tag_service(&arn, tags::PRIMARY_DESIRED, &desired.to_string()).await?;
                Ok(("done", format!("{cluster}/{service} in {}: {} = {desired}", self.region(Side::Standby), tags::PRIMARY_DESIRED)))
            }
        }
    }
}

/// The services read on one side, as `observe` returns them: primary's first.
fn on_side(capacities: &[Vec<Capacity>; 2], side: Side) -> &[Capacity] {
    match side {
        Side::Primary => &capacities[0],
        Side::Standby => &capacities[1],
    }
}
