//! What both regions show now: their health alarms, their services, where DNS points, the last flip.

use super::RegionFailover;
use super::plan::{Observed, RegionState, ServiceState, Side};
use crate::ports::{Alarms, Capacity, Dns, Notifier, ServiceCapacity};
use crate::tags;
use tracing::warn;

impl<E: ServiceCapacity, A: Alarms, D: Dns, N: Notifier> RegionFailover<E, A, D, N> {
    /// Both regions as they are now; a region whose APIs fail reads as unhealthy.
    pub(super) async fn observe(&self) -> (Observed, [Vec<Capacity>; 2]) {
        let (primary, primary_capacity) = self.observe_region(Side::Primary, &self.config.primary_alarm).await;
        let (standby, standby_capacity) = self.observe_region(Side::Standby, &self.config.standby_alarm).await;
        let serving = match self.dns.serving(&self.records()).await {
            Ok(serving) => serving,
            Err(err) => {
                warn!(error = %err, "cannot read the DNS records");
                None
            }
        };
        let last_flip =
            standby_capacity.iter().chain(&primary_capacity).find_map(|c| c.tags.get(tags::LAST_FLIP)).and_then(|v| parse_flip(v));
        (Observed { primary, standby, serving, last_flip, now: (self.now)() }, [primary_capacity, standby_capacity])
    }

    async fn observe_region(&self, side: Side, alarm_name: &str) -> (RegionState, Vec<Capacity>) {
        let ports = self.ports(side);
        let (healthy, alarm_state, alarm_since) = match ports.alarms.named(&[alarm_name.to_owned()]).await {
            Ok(found) => match found.into_iter().next() {
                Some(alarm) => (alarm.state == "OK", alarm.state, alarm.since),
                None => (false, "MISSING".to_owned(), None),
            },
            Err(err) => (false, format!("UNREADABLE ({err})"), None),
        };
        let mut services = Some(Vec::new());
        let mut capacities = Vec::new();
        for (cluster, service) in &self.config.services {
            let found = match ports.ecs.capacity(cluster, service).await {
                Ok(found) => found,
                Err(err) => {
                    warn!(region = self.region(side), error = %err, "cannot read services");
                    services = None;
                    continue;
                }
            };
            if let Some(list) = services.as_mut() {
                list.push(ServiceState {
                    cluster: cluster.clone(),
                    service: service.clone(),
                    desired: found.as_ref().map_or(0, |c| c.desired),
                    running: found.as_ref().map_or(0, |c| c.running),
                    min: found.as_ref().and_then(|c| c.tags.get(tags::SCALE_MIN)).and_then(|v| v.parse().ok()),
                    frozen: found.as_ref().and_then(|c| c.tags.get(tags::FREEZE)).is_some_and(|v| v != "false"),
                });
            }
            capacities.extend(found);
        }
        (RegionState { region: self.region(side).to_owned(), healthy, alarm_state, alarm_since, services }, capacities)
    }
}

/// `standby:1795000000` → (Standby, 1795000000).
fn parse_flip(value: &str) -> Option<(Side, u64)> {
    let (side, at) = tags::marker(value)?;
    let side = match side {
        "primary" => Side::Primary,
        "standby" => Side::Standby,
        _ => return None,
    };
    Some((side, at))
}
