//! The scaler's marker on a service, tag `deckhand:last-scale`: the cooldown's memory, and what
//! a retry needs to finish a step an earlier attempt began.

use super::plan::{Direction, ScalingPolicy};
use crate::tags;
use serde::Serialize;

/// One change of the desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub from: i32,
    pub to: i32,
}

/// The scaler's marker on the service (tag `deckhand:last-scale`). `out:EPOCH:FROM:TO` is an
/// intent, written before `UpdateService`: the step may not have happened, or not been announced.
/// `out:EPOCH` (the only form before intents) records a step done and announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastAction {
    pub direction: Direction,
    pub at: u64,
    /// The intended step, until it is done and announced.
    pub pending: Option<Step>,
}

impl LastAction {
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(':');
        let direction = match parts.next()? {
            "out" => Direction::Out,
            "in" => Direction::In,
            _ => return None,
        };
        let at = parts.next()?.parse().ok()?;
        let pending = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => None,
            (Some(from), Some(to), None) => Some(Step { from: from.parse().ok()?, to: to.parse().ok()? }),
            _ => return None,
        };
        Some(Self { direction, at, pending })
    }

    pub fn tag_value(self) -> String {
        let done = tags::marker_value(self.direction.as_str(), self.at);
        match self.pending {
            Some(Step { from, to }) => format!("{done}:{from}:{to}"),
            None => done,
        }
    }

    /// The intended step, when the count shows it done but its notification may not have gone out,
    /// and the alarm at hand is of its direction: only such an alarm is the step's cause. Another
    /// leaves it to an alarm of its direction (Lambda's retry of the event, or a re-check), lest
    /// the notice cite the opposite alarm, or take a count a person set for the step.
    pub fn unannounced(self, direction: Direction, desired: i32) -> Option<Step> {
        self.pending.filter(|step| self.direction == direction && step.to == desired)
    }

    /// The intended step, when a retry (or any invocation in the same direction) should finish it
    /// as recorded: the count is still where the step starts, so it did not happen, and the
    /// policy still allows its target. Not held by the cooldown: nothing was done at `at`. Set as
    /// recorded, not recomputed, so that invocations reading one intent all set one count.
    pub(super) fn unfinished(self, direction: Direction, desired: i32, policy: &ScalingPolicy) -> Option<Step> {
        let step = self.pending.filter(|step| step.from == desired && (policy.min..=policy.max).contains(&step.to))?;
        (self.direction == direction).then_some(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_round_trip() {
        let done = LastAction { direction: Direction::Out, at: 1_732_270_000, pending: None };
        assert_eq!(done.tag_value(), "out:1732270000");
        assert_eq!(LastAction::parse(&done.tag_value()), Some(done));
        let intent = LastAction { direction: Direction::In, at: 1_732_270_000, pending: Some(Step { from: 4, to: 3 }) };
        assert_eq!(intent.tag_value(), "in:1732270000:4:3");
        assert_eq!(LastAction::parse(&intent.tag_value()), Some(intent));
        for malformed in ["sideways:1", "out:soon", "out:1:2", "out:1:2:x", "out:1:2:3:4", "out:"] {
            assert_eq!(LastAction::parse(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn only_an_intent_at_its_target_is_unannounced() {
        let intent = LastAction { direction: Direction::Out, at: 1, pending: Some(Step { from: 2, to: 3 }) };
        assert_eq!(intent.unannounced(Direction::Out, 3), Some(Step { from: 2, to: 3 }));
        assert_eq!(intent.unannounced(Direction::Out, 2), None);
        assert_eq!(LastAction { pending: None, ..intent }.unannounced(Direction::Out, 3), None);
    }

    #[test]
    fn only_an_alarm_of_its_direction_announces_an_intent() {
        let intent = LastAction { direction: Direction::Out, at: 1, pending: Some(Step { from: 2, to: 3 }) };
        assert_eq!(intent.unannounced(Direction::In, 3), None);
        let scale_in = LastAction { direction: Direction::In, at: 1, pending: Some(Step { from: 3, to: 2 }) };
        assert_eq!(scale_in.unannounced(Direction::Out, 2), None);
        assert_eq!(scale_in.unannounced(Direction::In, 2), Some(Step { from: 3, to: 2 }));
    }
}
