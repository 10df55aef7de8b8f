//! Pure scaling decisions: whether a service in alarm scales, in which direction, by how much.

use super::marker::LastAction;
use crate::tags;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Out,
    In,
}

impl Direction {
    /// From a CloudWatch comparison operator: above-threshold alarms scale out, below scale in.
    pub fn from_comparison(operator: &str) -> Option<Self> {
        match operator {
            "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "GreaterThanUpperThreshold" => Some(Direction::Out),
            "LessThanThreshold" | "LessThanOrEqualToThreshold" | "LessThanLowerThreshold" => Some(Direction::In),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }
}

/// Bounds and cooldowns of one service, from its tags over the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScalingPolicy {
    pub min: i32,
    pub max: i32,
    /// Seconds after a scale-out before another scale-out.
    pub out_cooldown: u64,
    /// Seconds after any scaling before a scale-in.
    pub in_cooldown: u64,
}

impl Default for ScalingPolicy {
    /// The reference architecture's defaults.
    fn default() -> Self {
        Self { min: 2, max: 4, out_cooldown: 60, in_cooldown: 300 }
    }
}

impl ScalingPolicy {
    /// Defaults overridden by `deckhand:scale-min`, `-max`, `-out-cooldown`, `-in-cooldown`.
    pub fn from_tags(service_tags: &BTreeMap<String, String>) -> Result<Self, String> {
        fn read<T: std::str::FromStr>(tags: &BTreeMap<String, String>, key: &str, default: T) -> Result<T, String> {
            match tags.get(key) {
                None => Ok(default),
                Some(value) => value.trim().parse().map_err(|_| format!("{key} {} is not a whole number", crate::quote::quote(value))),
            }
        }
        let defaults = Self::default();
        let policy = Self {
            min: read(service_tags, tags::SCALE_MIN, defaults.min)?,
            max: read(service_tags, tags::SCALE_MAX, defaults.max)?,
            out_cooldown: read(service_tags, tags::SCALE_OUT_COOLDOWN, defaults.out_cooldown)?,
            in_cooldown: read(service_tags, tags::SCALE_IN_COOLDOWN, defaults.in_cooldown)?,
        };
        if policy.min < 0 || policy.max < policy.min {
            return Err(format!("{} {} and {} {} do not make a range", tags::SCALE_MIN, policy.min, tags::SCALE_MAX, policy.max));
        }
        Ok(policy)
    }
}

/// What a scaling decision looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub direction: Direction,
    /// The latest datapoint of the alarm's metric, when it has one.
    pub metric: Option<f64>,
    /// The alarm's threshold: the utilisation the service should be brought to.
    pub threshold: f64,
    pub desired: i32,
    pub last_action: Option<LastAction>,
    pub now: u64,
    pub deployment_in_flight: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Scale {
        from: i32,
        to: i32,
    },
    /// Finish the step `from -> to` the marker records as intended at `at`: as recorded, with its
    /// `at`, so that every invocation finishing it announces it with one deduplication id.
    Finish {
        from: i32,
        to: i32,
        at: u64,
    },
    AtLimit {
        desired: i32,
        limit: i32,
    },
    Cooldown {
        remaining_seconds: u64,
    },
    DeploymentInFlight,
}

pub fn decide(policy: &ScalingPolicy, seen: &Observation) -> Decision {
    if let Some(last) = seen.last_action
        && let Some(step) = last.unfinished(seen.direction, seen.desired, policy)
    {
        if seen.direction == Direction::In && seen.deployment_in_flight {
            return Decision::DeploymentInFlight;
        }
        return Decision::Finish { from: step.from, to: step.to, at: last.at };
    }
    // At the bound it would move away from, the alarm is held by the bound, not by a cooldown:
    // so an alarm that fires at the maximum inside the out-cooldown still gets its warning.
    // (A scale-out alarm never removes tasks: above the maximum it holds too.)
    match seen.direction {
        Direction::Out if seen.desired >= policy.max => return Decision::AtLimit { desired: seen.desired, limit: policy.max },
        Direction::In if seen.desired <= policy.min => return Decision::AtLimit { desired: seen.desired, limit: policy.min },
        _ => {}
    }
    // Any other intent counts as done at `at`: one whose count reached its target was done; one
    // that cannot be finished (the other direction, a count moved since, a policy changed) holds
    // from `at` at least as long as the older marker it replaced would have.
    let cooldown = match (seen.direction, seen.last_action) {
        (Direction::Out, Some(last)) if last.direction == Direction::Out => {
            policy.out_cooldown.saturating_sub(seen.now.saturating_sub(last.at))
        }
        (Direction::In, Some(last)) => policy.in_cooldown.saturating_sub(seen.now.saturating_sub(last.at)),
        _ => 0,
    };
    if cooldown > 0 {
        return Decision::Cooldown { remaining_seconds: cooldown };
    }
    let desired = seen.desired;
    match seen.direction {
        Direction::Out => {
            // Like target tracking: enough tasks to bring the metric to the threshold, at least one more.
            let proportional = match seen.metric {
                Some(metric) if metric.is_finite() && seen.threshold > 0.0 => (f64::from(desired.max(1)) * metric / seen.threshold).ceil(),
                _ => 0.0,
            };
            let wanted = (desired + 1).max(proportional.min(f64::from(i32::MAX)) as i32);
            let to = wanted.clamp(policy.min, policy.max);
            if to <= desired { Decision::AtLimit { desired, limit: policy.max } } else { Decision::Scale { from: desired, to } }
        }
        Direction::In => {
            // Blue/green runs green beside blue: the average is diluted, so never scale in then.
            if seen.deployment_in_flight {
                return Decision::DeploymentInFlight;
            }
            // One task at a time: scale-in is the risky direction. Above the maximum (a count set by
            // hand, a maximum lowered since), down to the maximum at once, as Application Auto
            // Scaling brings a capacity outside its bounds inside them whenever a policy runs.
            let to = (desired - 1).min(policy.max).max(policy.min);
            Decision::Scale { from: desired, to }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecase::scaler::marker::Step;

    fn seen(direction: Direction, metric: Option<f64>, desired: i32) -> Observation {
        let threshold = if direction == Direction::Out { 70.0 } else { 30.0 };
        Observation { direction, metric, threshold, desired, last_action: None, now: 10_000, deployment_in_flight: false }
    }

    fn after(mut o: Observation, direction: Direction, seconds_ago: u64) -> Observation {
        o.last_action = Some(LastAction { direction, at: o.now - seconds_ago, pending: None });
        o
    }

    /// `o` after an intent `from -> to` recorded `seconds_ago`, whatever became of it.
    fn intended(mut o: Observation, direction: Direction, (from, to): (i32, i32), seconds_ago: u64) -> Observation {
        o.last_action = Some(LastAction { direction, at: o.now - seconds_ago, pending: Some(Step { from, to }) });
        o
    }

    /// The decision to finish the intent `from -> to` recorded `seconds_ago` (before `seen`'s now).
    fn finish(from: i32, to: i32, seconds_ago: u64) -> Decision {
        Decision::Finish { from, to, at: 10_000 - seconds_ago }
    }

    #[test]
    fn decision_table() {
        let p = ScalingPolicy::default();
        let out = Direction::Out;
        let inn = Direction::In;
        let in_flight = Observation { deployment_in_flight: true, ..seen(inn, Some(10.0), 3) };
        let out_in_flight = Observation { deployment_in_flight: true, ..seen(out, Some(80.0), 2) };
        let cases: Vec<(&str, Observation, Decision)> = vec![
            ("just above target: one more", seen(out, Some(75.0), 2), Decision::Scale { from: 2, to: 3 }),
            ("proportional step", seen(out, Some(130.0), 2), Decision::Scale { from: 2, to: 4 }),
            ("proportional step clamped to max", seen(out, Some(300.0), 2), Decision::Scale { from: 2, to: 4 }),
            ("at max", seen(out, Some(95.0), 4), Decision::AtLimit { desired: 4, limit: 4 }),
            ("above max already", seen(out, Some(95.0), 6), Decision::AtLimit { desired: 6, limit: 4 }),
            ("at max inside the out cooldown", after(seen(out, Some(95.0), 4), out, 10), Decision::AtLimit { desired: 4, limit: 4 }),
            ("above max inside the out cooldown", after(seen(out, Some(95.0), 6), out, 10), Decision::AtLimit { desired: 6, limit: 4 }),
            ("missing metric: one step", seen(out, None, 2), Decision::Scale { from: 2, to: 3 }),
            ("NaN metric: one step", seen(out, Some(f64::NAN), 3), Decision::Scale { from: 3, to: 4 }),
            ("below min scales up to min", seen(out, Some(75.0), 0), Decision::Scale { from: 0, to: 2 }),
            ("scale in: one task", seen(inn, Some(5.0), 4), Decision::Scale { from: 4, to: 3 }),
            ("at min", seen(inn, Some(5.0), 2), Decision::AtLimit { desired: 2, limit: 2 }),
            ("above max scales in to max at once", seen(inn, Some(5.0), 6), Decision::Scale { from: 6, to: 4 }),
            ("far above max: to max at once", seen(inn, Some(5.0), 9), Decision::Scale { from: 9, to: 4 }),
            ("just above max: one task", seen(inn, Some(5.0), 5), Decision::Scale { from: 5, to: 4 }),
            ("above max, in cooldown", after(seen(inn, Some(5.0), 6), out, 10), Decision::Cooldown { remaining_seconds: 290 }),
            (
                "above max during a deployment",
                Observation { deployment_in_flight: true, ..seen(inn, Some(5.0), 6) },
                Decision::DeploymentInFlight,
            ),
            ("at min inside the in cooldown", after(seen(inn, Some(5.0), 2), inn, 10), Decision::AtLimit { desired: 2, limit: 2 }),
            ("below min: a scale-in alarm adds none", seen(inn, Some(5.0), 1), Decision::AtLimit { desired: 1, limit: 2 }),
            ("scale in during a deployment", in_flight.clone(), Decision::DeploymentInFlight),
            ("scale out during a deployment", out_in_flight, Decision::Scale { from: 2, to: 3 }),
            ("out cooldown 59 s", after(seen(out, Some(90.0), 3), out, 59), Decision::Cooldown { remaining_seconds: 1 }),
            ("out cooldown 60 s", after(seen(out, Some(90.0), 3), out, 60), Decision::Scale { from: 3, to: 4 }),
            ("out cooldown 61 s", after(seen(out, Some(90.0), 3), out, 61), Decision::Scale { from: 3, to: 4 }),
            ("out after a scale-in: no cooldown", after(seen(out, Some(90.0), 3), inn, 5), Decision::Scale { from: 3, to: 4 }),
            ("in cooldown after out 299 s", after(seen(inn, Some(5.0), 4), out, 299), Decision::Cooldown { remaining_seconds: 1 }),
            ("in cooldown after out 301 s", after(seen(inn, Some(5.0), 4), out, 301), Decision::Scale { from: 4, to: 3 }),
            ("in cooldown after in 59 s", after(seen(inn, Some(5.0), 4), inn, 59), Decision::Cooldown { remaining_seconds: 241 }),
            ("clock behind the tag", after(seen(out, Some(90.0), 3), out, 0), Decision::Cooldown { remaining_seconds: 60 }),
            // Intents: finished as recorded while the count is where they start.
            ("retry of a failed step: finished", intended(seen(out, Some(90.0), 2), out, (2, 3), 10), finish(2, 3, 10)),
            ("finished as recorded", intended(seen(out, Some(200.0), 2), out, (2, 3), 10), finish(2, 3, 10)),
            ("scale-in retry", intended(seen(inn, Some(5.0), 4), inn, (4, 3), 10), finish(4, 3, 10)),
            ("scale-in retry during a deployment", intended(in_flight, inn, (3, 2), 10), Decision::DeploymentInFlight),
            ("step done: cooldown", intended(seen(out, Some(90.0), 3), out, (2, 3), 10), Decision::Cooldown { remaining_seconds: 50 }),
            ("step done, cooldown over", intended(seen(out, Some(90.0), 3), out, (2, 3), 60), Decision::Scale { from: 3, to: 4 }),
            ("count moved since", intended(seen(out, Some(90.0), 4), out, (2, 3), 10), Decision::AtLimit { desired: 4, limit: 4 }),
            (
                "count moved since, below max",
                intended(seen(inn, Some(5.0), 4), inn, (2, 1), 10),
                Decision::Cooldown { remaining_seconds: 290 },
            ),
            ("unfinished out holds in", intended(seen(inn, Some(5.0), 3), out, (3, 4), 10), Decision::Cooldown { remaining_seconds: 290 }),
            ("unfinished in: out not held", intended(seen(out, Some(90.0), 3), inn, (3, 2), 10), Decision::Scale { from: 3, to: 4 }),
            (
                "target beyond a lowered max",
                intended(seen(out, Some(90.0), 4), out, (4, 5), 10),
                Decision::AtLimit { desired: 4, limit: 4 },
            ),
        ];
        for (name, observation, expected) in cases {
            assert_eq!(decide(&p, &observation), expected, "{name}");
        }
    }

    #[test]
    fn policy_from_tags() {
        let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        assert_eq!(ScalingPolicy::from_tags(&tags(&[])).unwrap(), ScalingPolicy::default());
        let custom = ScalingPolicy::from_tags(&tags(&[
            ("deckhand:scale-min", "1"),
            ("deckhand:scale-max", "10"),
            ("deckhand:scale-in-cooldown", "600"),
        ]))
        .unwrap();
        assert_eq!(custom, ScalingPolicy { min: 1, max: 10, out_cooldown: 60, in_cooldown: 600 });
        assert!(ScalingPolicy::from_tags(&tags(&[("deckhand:scale-max", "lots")])).unwrap_err().contains("deckhand:scale-max"));
        assert!(ScalingPolicy::from_tags(&tags(&[("deckhand:scale-min", "5")])).unwrap_err().contains("range"));
    }

    #[test]
    fn directions() {
        assert_eq!(Direction::from_comparison("GreaterThanOrEqualToThreshold"), Some(Direction::Out));
        assert_eq!(Direction::from_comparison("LessThanThreshold"), Some(Direction::In));
        assert_eq!(Direction::from_comparison("LessThanLowerOrGreaterThanUpperThreshold"), None);
    }
}
