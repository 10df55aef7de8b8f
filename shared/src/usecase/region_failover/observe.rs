//! What both regions show now: their health alarms, their services, where DNS points, the last flip.

use super::plan::{FrozenBy, Observed, RegionState, ServiceState, Side};
use super::{RegionEcs, RegionFailover};
use crate::error::HandlerError;
use crate::ports::{Alarms, Capacity, Dns, Notifier, Registry};
use crate::tags;
use std::collections::BTreeMap;
use tracing::warn;

/// One look at both regions: what the plan reads, and what the steps act on.
pub(super) struct Observation {
    pub seen: Observed,
    /// The services as read, primary's first.
    pub capacities: [Vec<Capacity>; 2],
    /// The first read that failed in each region, primary's first: what a retry waits out.
    pub errors: [Option<HandlerError>; 2],
    /// The first call of the standby's image check that failed.
    pub image_error: Option<HandlerError>,
}

impl Observation {
    /// Why `side` could not be read: its own read that failed, else the image check's call, else
    /// the other side's read (what kept the standby's images from being compared).
    pub fn read_error(self, side: Side, reason: &str) -> HandlerError {
        let [primary, standby] = self.errors;
        let (own, other) = if side == Side::Primary { (primary, standby) } else { (standby, primary) };
        own.or(self.image_error).or(other).unwrap_or_else(|| HandlerError::Misconfigured(reason.to_owned()))
    }
}

impl<E: RegionEcs, A: Alarms, R: Registry, D: Dns, N: Notifier> RegionFailover<E, A, R, D, N> {
    /// Both regions as they are now; a region whose APIs fail reads as unhealthy.
    pub(super) async fn observe(&self) -> Observation {
        let (primary, primary_capacity, primary_error) = self.observe_region(Side::Primary, &self.config.primary_alarm).await;
        let (standby, standby_capacity, standby_error) = self.observe_region(Side::Standby, &self.config.standby_alarm).await;
        let serving = match self.dns.serving(&self.records()).await {
            Ok(serving) => serving,
            Err(err) => {
                warn!(error = %err, "cannot read the DNS records");
                None
            }
        };
        let last_flip =
            [&primary, &standby].iter().flat_map(|r| r.services.iter().flatten()).filter_map(|s| s.last_flip).max_by_key(|(_, at)| *at);
        Observation {
            seen: Observed { primary, standby, serving, last_flip, now: (self.now)(), standby_images: None },
            capacities: [primary_capacity, standby_capacity],
            errors: [primary_error, standby_error],
            image_error: None,
        }
    }

    async fn observe_region(&self, side: Side, alarm_name: &str) -> (RegionState, Vec<Capacity>, Option<HandlerError>) {
        let ports = self.ports(side);
        let mut error = None;
        let (healthy, alarm_state, alarm_since) = match ports.alarms.named(&[alarm_name.to_owned()]).await {
            Ok(found) => match found.into_iter().next() {
                Some(alarm) => (alarm.state == "OK", alarm.state, alarm.since),
                None => (false, "MISSING".to_owned(), None),
            },
            Err(err) => {
                error = Some(err);
                (false, "UNREADABLE".to_owned(), None)
            }
        };
        let mut services = Some(Vec::new());
        let mut capacities = Vec::new();
        for (cluster, service) in &self.config.services {
            let found = match ports.ecs.capacity(cluster, service).await {
                Ok(found) => found,
                Err(err) => {
                    warn!(region = self.region(side), error = %err, "cannot read services");
                    error.get_or_insert(err);
                    services = None;
                    continue;
                }
            };
            if let Some(list) = services.as_mut() {
                list.push(service_state(cluster, service, found.as_ref()));
            }
            capacities.extend(found);
        }
        let unreadable = error.as_ref().map(ToString::to_string);
        (RegionState { region: self.region(side).to_owned(), healthy, alarm_state, alarm_since, unreadable, services }, capacities, error)
    }
}

/// A service as the plan sees it; one that does not exist reads as 0 tasks.
fn service_state(cluster: &str, service: &str, found: Option<&Capacity>) -> ServiceState {
    let empty = BTreeMap::new();
    let tags = found.map_or(&empty, |c| &c.tags);
    let count = |key: &str| tags.get(key).and_then(|v| v.parse().ok());
    ServiceState {
        cluster: cluster.to_owned(),
        service: service.to_owned(),
        exists: found.is_some(),
        desired: found.map_or(0, |c| c.desired),
        running: found.map_or(0, |c| c.running),
        min: count(tags::SCALE_MIN),
        max: count(tags::SCALE_MAX),
        frozen: tags.get(tags::FREEZE).and_then(|v| frozen_by(v)),
        last_flip: tags.get(tags::LAST_FLIP).and_then(|v| parse_flip(v)),
        primary_desired: count(tags::PRIMARY_DESIRED),
    }
}

/// `false` is no freeze; the value region failover writes is its own; anything else a person's.
fn frozen_by(value: &str) -> Option<FrozenBy> {
    match value {
        "false" => None,
        ours if ours.starts_with(tags::FAILOVER_FREEZE_PREFIX) => Some(FrozenBy::Failover),
        _ => Some(FrozenBy::Person),
    }
}

/// `standby:1795000000` → (Standby, 1795000000).
fn parse_flip(value: &str) -> Option<(Side, u64)> {
    let (side, at) = tags::marker(value)?;
    let side = [Side::Primary, Side::Standby].into_iter().find(|s| s.as_str() == side)?;
    Some((side, at))
}
