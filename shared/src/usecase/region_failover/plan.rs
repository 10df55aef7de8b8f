//! Pure failover planning: from what is observed in both regions, which steps move (or do not
//! move) traffic. Every step is derived from what is still missing, so a plan re-run after a
//! partial failure completes it, and a re-run after a complete one is empty.

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
}

/// One ECS service as observed in its region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceState {
    pub cluster: String,
    pub service: String,
    pub desired: i32,
    pub running: i32,
    /// Its `deckhand:scale-min`, when it has one.
    pub min: Option<i32>,
    pub frozen: bool,
}

/// A region: its health alarm and its services (`None` when its API could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionState {
    pub region: String,
    /// The health alarm is OK (and readable).
    pub healthy: bool,
    pub alarm_state: String,
    /// Seconds since the epoch at which the alarm entered its current state.
    pub alarm_since: Option<u64>,
    pub services: Option<Vec<ServiceState>>,
}

impl RegionState {
    fn running_tasks(&self) -> bool {
        self.services.as_ref().is_some_and(|s| !s.is_empty() && s.iter().all(|s| s.running > 0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observed {
    pub primary: RegionState,
    pub standby: RegionState,
    /// Which region DNS sends traffic to; `None` when Route 53 could not be read.
    pub serving: Option<Side>,
    /// The last flip: which side it moved traffic to, and when.
    pub last_flip: Option<(Side, u64)>,
    pub now: u64,
}

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
}

impl Default for Settings {
    fn default() -> Self {
        Self { dwell: 300, stabilization: 600, auto_failback: false }
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
    /// Remember the flip (for flap damping).
    RecordFlip {
        to: Side,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum Plan {
    /// Move traffic to `to` (or finish moving it) with these steps.
    Move { to: Side, steps: Vec<Step> },
    /// Do nothing: nothing needs doing, or it would not be safe.
    Hold { reason: String },
    /// Do nothing and tell a person now: e.g. both regions are unhealthy.
    Alert { reason: String },
}

pub fn plan(seen: &Observed, intent: Intent, settings: &Settings) -> Plan {
    let (primary, standby) = (&seen.primary, &seen.standby);
    let serving = seen.serving.unwrap_or(Side::Primary);
    let target = match intent {
        Intent::Failover => Side::Standby,
        Intent::Failback => Side::Primary,
        Intent::Automatic => match serving {
            Side::Primary if primary.healthy => return Plan::Hold { reason: format!("{} serves and is healthy", primary.region) },
            Side::Primary => Side::Standby,
            Side::Standby if !standby.healthy => Side::Primary,
            Side::Standby if !settings.auto_failback => {
                return Plan::Hold { reason: format!("{} serves; failback to {} is manual", standby.region, primary.region) };
            }
            Side::Standby => Side::Primary,
        },
    };
    let (to, from) = match target {
        Side::Standby => (standby, primary),
        Side::Primary => (primary, standby),
    };
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
        return Plan::Alert { reason: format!("{} has no running tasks (or cannot be read): traffic stays", to.region) };
    }
    let completing = seen.serving == Some(target);
    if !completing {
        // Flap damping, and the primary's stabilization window, apply to moving traffic; an
        // operator's explicit failover is theirs to make.
        if intent == Intent::Automatic
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
    Plan::Move { to: target, steps }
}

/// What is still missing for `to` to serve: scale, DNS, freeze the other side, unfreeze this one.
fn steps_to(to: Side, seen: &Observed) -> Vec<Step> {
    let (arriving, leaving) = match to {
        Side::Standby => (&seen.standby, &seen.primary),
        Side::Primary => (&seen.primary, &seen.standby),
    };
    let mut steps = Vec::new();
    let arriving_services = arriving.services.clone().unwrap_or_default();
    for (i, service) in arriving_services.iter().enumerate() {
        // The paired service on the other side sets the capacity to be ready for.
        let peer = leaving.services.as_ref().and_then(|s| s.get(i)).map_or(0, |s| s.desired);
        let wanted = peer.max(service.min.unwrap_or(0)).max(service.desired);
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
    if seen.serving != Some(to) {
        steps.push(Step::MoveDns { to });
    }
    match to {
        // The region traffic leaves is frozen, so no deployment shifts traffic there meanwhile.
        Side::Standby => {
            for service in leaving.services.iter().flatten().filter(|s| !s.frozen) {
                steps.push(Step::Freeze { side: Side::Primary, cluster: service.cluster.clone(), service: service.service.clone() });
            }
        }
        // Failback lifts the freeze failover set.
        Side::Primary => {
            for service in arriving_services.iter().filter(|s| s.frozen) {
                steps.push(Step::Unfreeze { side: Side::Primary, cluster: service.cluster.clone(), service: service.service.clone() });
            }
        }
    }
    if !steps.is_empty() && seen.last_flip.map(|(side, _)| side) != Some(to) {
        steps.push(Step::RecordFlip { to });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_000_000;

    fn service(desired: i32, running: i32, frozen: bool) -> ServiceState {
        ServiceState { cluster: "prod".into(), service: "web".into(), desired, running, min: Some(2), frozen }
    }

    fn region(name: &str, healthy: bool, since: u64, svc: ServiceState) -> RegionState {
        RegionState {
            region: name.into(),
            healthy,
            alarm_state: if healthy { "OK".into() } else { "ALARM".into() },
            alarm_since: Some(since),
            services: Some(vec![svc]),
        }
    }

    /// Primary (6 tasks) and standby (2 tasks), healthy or not, serving `serving`.
    fn seen(primary_ok: bool, standby_ok: bool, serving: Side) -> Observed {
        Observed {
            primary: region("us-east-1", primary_ok, NOW - 60, service(6, 6, false)),
            standby: region("us-west-2", standby_ok, NOW - 3600, service(2, 2, false)),
            serving: Some(serving),
            last_flip: None,
            now: NOW,
        }
    }

    fn failed_over() -> Observed {
        let mut o = seen(true, true, Side::Standby);
        o.primary.services = Some(vec![service(6, 6, true)]);
        o.standby.services = Some(vec![service(6, 6, false)]);
        o.last_flip = Some((Side::Standby, NOW - 3600));
        o
    }

    const AUTO: Intent = Intent::Automatic;

    #[test]
    fn primary_down_standby_up_fails_over_fully() {
        let plan = plan(&seen(false, true, Side::Primary), AUTO, &Settings::default());
        let expected = vec![
            Step::Scale { side: Side::Standby, cluster: "prod".into(), service: "web".into(), from: 2, to: 6 },
            Step::MoveDns { to: Side::Standby },
            Step::Freeze { side: Side::Primary, cluster: "prod".into(), service: "web".into() },
            Step::RecordFlip { to: Side::Standby },
        ];
        assert_eq!(plan, Plan::Move { to: Side::Standby, steps: expected });
    }

    #[test]
    fn both_down_changes_nothing_and_alerts() {
        assert!(
            matches!(plan(&seen(false, false, Side::Primary), AUTO, &Settings::default()), Plan::Alert { reason } if reason.contains("both regions"))
        );
        assert!(matches!(plan(&seen(false, false, Side::Primary), Intent::Failover, &Settings::default()), Plan::Alert { .. }));
    }

    #[test]
    fn a_standby_without_running_tasks_is_not_a_refuge() {
        let mut o = seen(false, true, Side::Primary);
        o.standby.services = Some(vec![service(2, 0, false)]);
        assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Alert { reason } if reason.contains("no running tasks")));
    }

    #[test]
    fn already_failed_over_has_nothing_left() {
        let mut o = failed_over();
        o.primary.healthy = false;
        assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Hold { reason } if reason.contains("manual")));
        assert!(matches!(plan(&o, Intent::Failover, &Settings::default()), Plan::Hold { reason } if reason.contains("nothing left")));
    }

    #[test]
    fn a_partial_failover_is_completed() {
        let mut o = failed_over();
        o.primary.healthy = false;
        o.primary.services = Some(vec![service(6, 6, false)]); // the freeze did not happen
        let steps = vec![Step::Freeze { side: Side::Primary, cluster: "prod".into(), service: "web".into() }];
        assert_eq!(plan(&o, Intent::Failover, &Settings::default()), Plan::Move { to: Side::Standby, steps });
    }

    #[test]
    fn flapping_within_the_dwell_time_does_not_move_traffic() {
        let mut o = seen(false, true, Side::Primary);
        o.last_flip = Some((Side::Primary, NOW - 120));
        assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Hold { reason } if reason.contains("dwell")));
        o.last_flip = Some((Side::Primary, NOW - 301));
        assert!(matches!(plan(&o, AUTO, &Settings::default()), Plan::Move { to: Side::Standby, .. }));
        o.last_flip = Some((Side::Primary, NOW - 120));
        assert!(matches!(plan(&o, Intent::Failover, &Settings::default()), Plan::Move { .. }), "an operator's failover is not damped");
    }

    #[test]
    fn failback_waits_for_the_stabilization_window() {
        let auto = Settings { auto_failback: true, ..Settings::default() };
        let mut o = failed_over();
        o.primary.alarm_since = Some(NOW - 599);
        assert!(matches!(plan(&o, AUTO, &auto), Plan::Hold { reason } if reason.contains("stabilization")));
        assert!(matches!(plan(&o, Intent::Failback, &Settings::default()), Plan::Hold { reason } if reason.contains("stabilization")));
        o.primary.alarm_since = Some(NOW - 601);
        let expected = vec![
            Step::MoveDns { to: Side::Primary },
            Step::Unfreeze { side: Side::Primary, cluster: "prod".into(), service: "web".into() },
            Step::RecordFlip { to: Side::Primary },
        ];
        assert_eq!(plan(&o, AUTO, &auto), Plan::Move { to: Side::Primary, steps: expected.clone() });
        assert_eq!(plan(&o, Intent::Failback, &Settings::default()), Plan::Move { to: Side::Primary, steps: expected });
    }

    #[test]
    fn a_failing_standby_sends_traffic_back_at_once() {
        let mut o = failed_over();
        o.standby.healthy = false;
        o.standby.alarm_state = "ALARM".into();
        o.primary.alarm_since = Some(NOW - 30);
        assert!(
            matches!(plan(&o, AUTO, &Settings::default()), Plan::Move { to: Side::Primary, .. }),
            "the standby failing beats the window"
        );
    }

    #[test]
    fn failback_to_an_unhealthy_primary_is_refused() {
        let mut o = failed_over();
        o.primary.healthy = false;
        o.primary.alarm_state = "ALARM".into();
        assert!(
            matches!(plan(&o, Intent::Failback, &Settings::default()), Plan::Alert { reason } if reason.contains("us-east-1 is not healthy"))
        );
    }

    #[test]
    fn healthy_primary_holds() {
        assert!(matches!(plan(&seen(true, true, Side::Primary), AUTO, &Settings::default()), Plan::Hold { .. }));
    }
}
