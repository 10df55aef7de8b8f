//! What failover planning reads: the two regions, their services, and where DNS sends traffic.

use super::StandbyImages;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Primary,
    Standby,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Primary => Side::Standby,
            Side::Standby => Side::Primary,
        }
    }

    /// As `deckhand:last-flip` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Primary => "primary",
            Side::Standby => "standby",
        }
    }
}

/// Who froze a service's deployments (`deckhand:freeze`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FrozenBy {
    /// Region failover, when traffic left the region: failback lifts it.
    Failover,
    /// A person (any other value): failover leaves it as it is.
    Person,
}

/// One ECS service as observed in its region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceState {
    pub cluster: String,
    pub service: String,
    /// The service exists in this region; one that does not reads as 0 tasks and no tags, and
    /// nothing is written to it.
    pub exists: bool,
    pub desired: i32,
    pub running: i32,
    /// Its `deckhand:scale-min`, when it has one.
    pub min: Option<i32>,
    /// Its `deckhand:scale-max`: what the standby is raised to when the primary's count is unknown.
    pub max: Option<i32>,
    pub frozen: Option<FrozenBy>,
    /// Its `deckhand:last-flip`.
    pub last_flip: Option<(Side, u64)>,
    /// On the standby: the primary's desired count as last seen while the primary served
    /// (`deckhand:primary-desired`).
    pub primary_desired: Option<i32>,
}

/// A region: its health alarm and its services (`None` when its API could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionState {
    pub region: String,
    /// The health alarm is OK (and readable).
    pub healthy: bool,
    /// OK, ALARM or INSUFFICIENT_DATA as CloudWatch says; MISSING (no such alarm) or UNREADABLE.
    pub alarm_state: String,
    /// Seconds since the epoch at which the alarm entered its current state.
    pub alarm_since: Option<u64>,
    /// What could not be read there (its health alarm or its services), and why.
    pub unreadable: Option<String>,
    pub services: Option<Vec<ServiceState>>,
}

impl RegionState {
    pub(super) fn running_tasks(&self) -> bool {
        self.services.as_ref().is_some_and(|s| !s.is_empty() && s.iter().all(|s| s.running > 0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observed {
    pub primary: RegionState,
    pub standby: RegionState,
    /// Which region DNS sends traffic to; `None` when Route 53 could not be read.
    pub serving: Option<Side>,
    /// The newest flip recorded on any service: which side it moved traffic to, and when.
    pub last_flip: Option<(Side, u64)>,
    pub now: u64,
    /// The standby's images against the primary's and in the standby's registry: checked for
    /// `status`, a dry run, and a move to the standby whose notice is owed; `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby_images: Option<StandbyImages>,
}

impl Observed {
    /// A move to `to` still owes its notice and its record: DNS is seen elsewhere (a new flip,
    /// whatever the record says: DNS may have been moved by hand since), or the newest
    /// `deckhand:last-flip` points elsewhere (none at all reads as the primary). The record is
    /// written last, after DNS moved and the notice went out, so whatever failed before it, a
    /// retry sees the flip as owed.
    pub fn flip_owed(&self, to: Side) -> bool {
        self.dns_moves(to) || self.last_flip.map_or(Side::Primary, |(side, _)| side) != to
    }

    /// DNS is seen pointing away from `to`: moving it there is a new flip. Unknown (Route 53
    /// unreadable) is not: the record decides then.
    pub(super) fn dns_moves(&self, to: Side) -> bool {
        self.serving.is_some_and(|serving| serving != to)
    }

    pub fn region(&self, side: Side) -> &RegionState {
        match side {
            Side::Primary => &self.primary,
            Side::Standby => &self.standby,
        }
    }

    pub(super) fn services(&self) -> impl Iterator<Item = &ServiceState> {
        [&self.primary, &self.standby].into_iter().flat_map(|region| region.services.iter().flatten()).filter(|s| s.exists)
    }
}
