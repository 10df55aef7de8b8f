//! Pure failover planning: from what is observed in both regions, which steps move (or do not
//! move) traffic. Every step is derived from what is still missing, so a plan re-run after a
//! partial failure completes it, and a re-run after a complete one is empty.

mod images;
mod observed;

pub use images::{ContainerImages, Lookup, ServiceImages, StandbyImages};
pub use observed::{FrozenBy, Observed, RegionState, ServiceState, Side};

use crate::config::StandbyImageCheck;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// A health alarm changed: move traffic only if it must, and is safe to.
    Automatic,
    Failover,
    Failback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Minimum seconds between two flips (flap damping).
    pub dwell: u64,
    /// Seconds the primary must have been healthy before a failback.
    pub stabilization: u64,
    pub auto_failback: bool,
    /// What a move to the standby does when its images are not the primary's or not in its
    /// registry, or that could not be checked.
    pub image_check: StandbyImageCheck,
}

impl Default for Settings {
    fn default() -> Self {
        Self { dwell: 300, stabilization: 600, auto_failback: false, image_check: StandbyImageCheck::Warn }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Raise a service in the region about to serve to (at least) this count.
    Scale {
        side: Side,
        cluster: String,
        service: String,
        from: i32,
        to: i32,
    },
    /// Point DNS at this side.
    MoveDns {
        to: Side,
    },
    Freeze {
        side: Side,
        cluster: String,
        service: String,
    },
    Unfreeze {
        side: Side,
        cluster: String,
        service: String,
    },
    /// Record the flip to `to` at `at` on every service that does not carry it yet (for flap
    /// damping, and as the sign that the flip is done and announced).
    RecordFlip {
        to: Side,
        at: u64,
    },
    /// Remember the primary's desired count of a service on the standby's service of that name.
    RememberPrimaryCount {
        cluster: String,
        service: String,
        desired: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum Plan {
    /// Move traffic to `to` (or finish moving it) with these steps; `warnings`: what the check of
    /// the standby's images found wrong (or could not check), moving anyway.
    Move {
        to: Side,
        steps: Vec<Step>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// Do nothing: nothing needs doing, or it would not be safe.
    Hold { reason: String },
    /// Do nothing and tell a person now: e.g. both regions are unhealthy.
    Alert { reason: String },
    /// Do nothing now and fail, so that the invocation is retried: `side` could not be read —
    /// the region traffic should move to (moving there unseen is not safe), or the serving one,
    /// whose health decides whether traffic moves at all.
    Retry { side: Side, reason: String },
}

pub fn plan(seen: &Observed, intent: Intent, settings: &Settings) -> Plan {
    let (primary, standby) = (&seen.primary, &seen.standby);
    let serving = seen.serving.unwrap_or(Side::Primary);
    let target = match intent {
        Intent::Failover => Side::Standby,
        Intent::Failback => Side::Primary,
        Intent::Automatic => {
            // The serving region's alarm unreadable while its services answer: a hiccup of one
            // API, not a region down (whose APIs all fail), and no reason to move traffic.
            let here = seen.region(serving);
            if let Some(why) = &here.unreadable
                && here.services.is_some()
            {
                let reason =
                    format!("the health alarm of {} could not be read ({why}) though its services answer: nothing moved", here.region);
                return Plan::Retry { side: serving, reason };
            }
            match serving {
                Side::Primary if primary.healthy => {
                    return stay(seen, Side::Primary, format!("{} serves and is healthy", primary.region), settings);
                }
                Side::Primary => Side::Standby,
                Side::Standby if !standby.healthy || (settings.auto_failback && primary.healthy) => Side::Primary,
                Side::Standby if settings.auto_failback => {
                    return stay(seen, Side::Standby, format!("{} serves; {} is not healthy", standby.region, primary.region), settings);
                }
                Side::Standby => {
                    let reason = format!("{} serves; failback to {} is manual", standby.region, primary.region);
                    return stay(seen, Side::Standby, reason, settings);
                }
            }
        }
    };
    let (to, from) = match target {
        Side::Standby => (standby, primary),
        Side::Primary => (primary, standby),
    };
    if let Some(why) = &to.unreadable {
        return Plan::Retry { side: target, reason: format!("{} could not be read ({why}): nothing moved", to.region) };
    }
    if !to.healthy && !from.healthy {
        return Plan::Alert {
            reason: format!(
                "both regions are unhealthy ({}: {}, {}: {}): nothing moved",
                primary.region, primary.alarm_state, standby.region, standby.alarm_state
            ),
        };
    }
    if !to.healthy {
        return Plan::Alert { reason: format!("{} is not healthy (alarm {}): traffic stays", to.region, to.alarm_state) };
    }
    if !to.running_tasks() {
        return Plan::Alert { reason: format!("{} has no running tasks: traffic stays", to.region) };
    }
    if seen.serving != Some(target) {
        // Flap damping keeps a flapping alarm from moving traffic back and forth; it never keeps
        // traffic on a failed standby when the primary is healthy ("never worse"). An operator's
        // explicit move is theirs to make.
        let off_a_failed_standby = target == Side::Primary && !standby.healthy;
        if intent == Intent::Automatic
            && !off_a_failed_standby
            && let Some((_, at)) = seen.last_flip
            && seen.now.saturating_sub(at) < settings.dwell
        {
            return Plan::Hold {
                reason: format!("last flip {} s ago, within the {} s dwell time", seen.now.saturating_sub(at), settings.dwell),
            };
        }
        if target == Side::Primary && from.healthy {
            let healthy_for = primary.alarm_since.map_or(0, |since| seen.now.saturating_sub(since));
            if healthy_for < settings.stabilization {
                return Plan::Hold {
                    reason: format!(
                        "{} healthy for {healthy_for} s, less than the {} s stabilization window",
                        primary.region, settings.stabilization
                    ),
                };
            }
        }
    }
    let steps = steps_to(target, seen);
    if steps.is_empty() {
        return Plan::Hold { reason: format!("{} already serves; nothing left to do", to.region) };
    }
    images::gate(target, steps, seen, settings.image_check)
}

/// Traffic stays on `side`: only what an earlier run left undone there (a freeze, an unfreeze,
/// the flip's notice and record) is finished. When DNS could not be read, nothing is.
fn stay(seen: &Observed, side: Side, reason: String, settings: &Settings) -> Plan {
    let steps = if seen.serving == Some(side) { steps_to(side, seen) } else { Vec::new() };
    if steps.is_empty() { Plan::Hold { reason } } else { images::gate(side, steps, seen, settings.image_check) }
}

/// Whether the standby's images are to be checked before `plan` is carried out: it moves
/// traffic to the standby and its notice is still owed (DNS moves, or the flip is not recorded).
pub fn wants_image_check(plan: &Plan, seen: &Observed) -> bool {
    matches!(plan, Plan::Move { to: Side::Standby, .. }) && seen.flip_owed(Side::Standby)
}

/// What is still missing for `to` to serve: scale, DNS, freeze the other side, unfreeze this one,
/// record the flip.
fn steps_to(to: Side, seen: &Observed) -> Vec<Step> {
    let (arriving, leaving) = match to {
        Side::Standby => (&seen.standby, &seen.primary),
        Side::Primary => (&seen.primary, &seen.standby),
    };
    let mut steps = Vec::new();
    // Capacity comes first, so traffic lands on tasks that run; once a region serves, its count
    // is the scaler's.
    if seen.serving != Some(to) {
        for (i, service) in arriving.services.iter().flatten().enumerate() {
            let wanted = peer_desired(to, i, service, leaving).max(service.min.unwrap_or(0)).max(service.desired);
            if wanted > service.desired {
                steps.push(Step::Scale {
                    side: to,
                    cluster: service.cluster.clone(),
                    service: service.service.clone(),
                    from: service.desired,
                    to: wanted,
                });
            }
        }
        steps.push(Step::MoveDns { to });
    }
    // A service's part in a flip is done once the flip is recorded on it: a freeze a person lifted
    // (or set) since then is theirs. A record of `to` while DNS points elsewhere is an older flip
    // (DNS was moved back by hand since): this one is new.
    let recorded = seen.last_flip.filter(|(side, _)| *side == to && !seen.dns_moves(to));
    let pending = |service: &&ServiceState| recorded.is_none() || service.last_flip != recorded;
    match to {
        // The region traffic leaves is frozen, so no deployment shifts traffic there meanwhile;
        // a freeze already there (a person's) stays as it is. A primary that cannot be read is
        // frozen by the first run that can read it.
        Side::Standby => {
            for service in leaving.services.iter().flatten().filter(|s| s.exists).filter(pending).filter(|s| s.frozen.is_none()) {
                steps.push(Step::Freeze { side: Side::Primary, cluster: service.cluster.clone(), service: service.service.clone() });
            }
        }
        // Failback lifts the freezes failover set, and only those.
        Side::Primary => {
            for service in arriving.services.iter().flatten().filter(pending).filter(|s| s.frozen == Some(FrozenBy::Failover)) {
                steps.push(Step::Unfreeze { side: Side::Primary, cluster: service.cluster.clone(), service: service.service.clone() });
            }
        }
    }
    match recorded {
        None if seen.flip_owed(to) => steps.push(Step::RecordFlip { to, at: seen.now }),
        // Recorded, but not on every service that exists (one could not be read, or its tag failed).
        Some((_, at)) if seen.services().any(|s| s.last_flip != recorded) => steps.push(Step::RecordFlip { to, at }),
        _ => {}
    }
    steps
}

/// The count the `i`th service arriving on `to` gets ready for: its peer's in the region traffic
/// leaves. When the primary cannot be read (the usual state of a region that is down), what is
/// known of it instead: the count the standby remembers, else the standby's own `deckhand:scale-max`.
fn peer_desired(to: Side, i: usize, service: &ServiceState, leaving: &RegionState) -> i32 {
    match &leaving.services {
        Some(services) => services.get(i).map_or(0, |peer| peer.desired),
        None if to == Side::Standby => service.primary_desired.or(service.max).unwrap_or(0),
        None => 0,
    }
}

/// While the primary serves and both regions can be read, each standby service remembers its
/// primary peer's desired count, written only when the count changed (a tag write per change,
/// not per run), so that a failover while the primary cannot be read pre-scales to it.
pub fn counts_to_remember(seen: &Observed) -> Vec<Step> {
    let (Some(primary), Some(standby)) = (&seen.primary.services, &seen.standby.services) else {
        return Vec::new();
    };
    if seen.serving != Some(Side::Primary) {
        return Vec::new();
    }
    primary
        .iter()
        .zip(standby)
        // A service missing in either region has no count to remember, nor a tag to hold it.
        .filter(|(primary, standby)| primary.exists && standby.exists)
        .filter(|(primary, standby)| standby.primary_desired != Some(primary.desired))
        .map(|(primary, standby)| Step::RememberPrimaryCount {
            cluster: standby.cluster.clone(),
            service: standby.service.clone(),
            desired: primary.desired,
        })
        .collect()
}

#[cfg(test)]
mod tests;
