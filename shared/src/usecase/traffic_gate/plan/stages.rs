//! The lifecycle stages of an ECS hook, and which evidence about the new revision each looks at.

use super::analysis::Rigor;
use crate::ports::Strategy;
use crate::quote::quote;
use serde::Serialize;

/// Which evidence about the new revision a hook looks at. Every stage also checks the standing
/// facts: a deployment freeze and the alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No new tasks yet: nothing about the new revision to look at.
    BeforeScaleUp,
    /// New tasks run, behind no listener: their target health.
    ScaledUp,
    /// Test traffic reaches the new revision: target health and the test listener's URL.
    Test,
    /// Production traffic reaches it: target health and the production URL.
    Production,
}

impl Stage {
    pub fn reads_target_health(self) -> bool {
        self != Stage::BeforeScaleUp
    }

    pub fn probes(self) -> bool {
        matches!(self, Stage::Test | Stage::Production)
    }
}

/// The ECS lifecycle stages, each handled on purpose (what ECS says of each, then what the gate
/// looks at). Any other stage fails the hook: the gate cannot know what is safe to check there.
pub const ECS_STAGES: [(&str, Stage); 8] = [
    // Only with more than one ACTIVE service revision, before anything scales: no new tasks.
    ("RECONCILE_SERVICE", Stage::BeforeScaleUp),
    // The green revision has not started.
    ("PRE_SCALE_UP", Stage::BeforeScaleUp),
    // Green has started; blue serves all production traffic, there is no test traffic.
    ("POST_SCALE_UP", Stage::ScaledUp),
    // Test traffic moving to green, then all of it there.
    ("TEST_TRAFFIC_SHIFT", Stage::Test),
    ("POST_TEST_TRAFFIC_SHIFT", Stage::Test),
    // Before production moves (in ECS's API reference beside the seven above); for linear and
    // canary, before every step: green has the test traffic, and after the first step a share of
    // production (`analysis_at`).
    ("PRE_PRODUCTION_TRAFFIC_SHIFT", Stage::Test),
    // Production traffic moving to green (linear and canary: at every step), then all of it there.
    ("PRODUCTION_TRAFFIC_SHIFT", Stage::Production),
    ("POST_PRODUCTION_TRAFFIC_SHIFT", Stage::Production),
];

/// Where a stage also compares the new revision's target group with the old one's (metric
/// analysis), by the service's strategy. Only production traffic says how the new revision
/// serves production: ECS shifts a linear or canary deployment's share step by step, calling
/// PRE_PRODUCTION_TRAFFIC_SHIFT before each step and PRODUCTION_TRAFFIC_SHIFT at each. The
/// steps wait for evidence (`Required`); before the first step there is no production share
/// yet, so PRE_PRODUCTION judges only when the new group has traffic (later steps' shares). An
/// all-at-once BLUE_GREEN shift has production traffic only once it is done: POST_PRODUCTION
/// judges what there is, and never waits for more (bake time, not this hook, is where a quiet
/// service proves itself).
pub fn analysis_at(lifecycle_stage: &str, strategy: Strategy) -> Option<Rigor> {
    use Strategy::{BlueGreen, Canary, Linear};
    match (lifecycle_stage, strategy) {
        ("PRODUCTION_TRAFFIC_SHIFT" | "POST_PRODUCTION_TRAFFIC_SHIFT", Linear | Canary) => Some(Rigor::Required),
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", Linear | Canary) | ("POST_PRODUCTION_TRAFFIC_SHIFT", BlueGreen) => Some(Rigor::IfTraffic),
        _ => None,
    }
}

/// The stage an ECS hook names, or why the gate refuses it (naming the field).
pub fn ecs_stage(name: &str) -> Result<(&'static str, Stage), String> {
    ECS_STAGES.iter().find(|(known, _)| *known == name).copied().ok_or_else(|| {
        let known: Vec<&str> = ECS_STAGES.iter().map(|(known, _)| *known).collect();
        format!(
            "field `lifecycleStage`: expected one of {}, got {}: the gate does not know what to check at an unknown stage",
            known.join(", "),
            quote(name)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 item 6: every ECS stage is handled on purpose, and which evidence each looks at.
    #[test]
    fn each_ecs_stage_looks_at_its_own_evidence() {
        // (stage, what ECS says of it) → (target health, probe URL)
        let table = [
            ("RECONCILE_SERVICE", Stage::BeforeScaleUp, false, None),
            ("PRE_SCALE_UP", Stage::BeforeScaleUp, false, None),
            ("POST_SCALE_UP", Stage::ScaledUp, true, None),
            ("TEST_TRAFFIC_SHIFT", Stage::Test, true, Some("test")),
            ("POST_TEST_TRAFFIC_SHIFT", Stage::Test, true, Some("test")),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", Stage::Test, true, Some("test")),
            ("PRODUCTION_TRAFFIC_SHIFT", Stage::Production, true, Some("production")),
            ("POST_PRODUCTION_TRAFFIC_SHIFT", Stage::Production, true, Some("production")),
        ];
        assert_eq!(table.len(), ECS_STAGES.len(), "the table covers every known stage");
        for (name, stage, target_health, url) in table {
            assert_eq!(ecs_stage(name), Ok((name, stage)), "{name}");
            let probed = stage.probes().then_some(if stage == Stage::Production { "production" } else { "test" });
            assert_eq!((stage.reads_target_health(), probed), (target_health, url), "{name}");
        }
    }

    /// Issue 14: where each stage compares the two target groups, by strategy (ROLLING, BLUE_GREEN,
    /// LINEAR, CANARY); every known stage is in the table.
    #[test]
    fn each_stage_analyses_traffic_where_production_traffic_says_something() {
        use Rigor::{IfTraffic as If, Required as Req};
        let table: [(&str, [Option<Rigor>; 4]); 8] = [
            ("RECONCILE_SERVICE", [None, None, None, None]),
            ("PRE_SCALE_UP", [None, None, None, None]),
            ("POST_SCALE_UP", [None, None, None, None]),
            ("TEST_TRAFFIC_SHIFT", [None, None, None, None]),
            ("POST_TEST_TRAFFIC_SHIFT", [None, None, None, None]),
            ("PRE_PRODUCTION_TRAFFIC_SHIFT", [None, None, Some(If), Some(If)]),
            ("PRODUCTION_TRAFFIC_SHIFT", [None, None, Some(Req), Some(Req)]),
            ("POST_PRODUCTION_TRAFFIC_SHIFT", [None, Some(If), Some(Req), Some(Req)]),
        ];
        assert!(table.iter().map(|(name, _)| *name).eq(ECS_STAGES.iter().map(|(name, _)| *name)), "every stage, in order");
        let strategies = [Strategy::Rolling, Strategy::BlueGreen, Strategy::Linear, Strategy::Canary];
        for (name, rigors) in table {
            for (strategy, rigor) in strategies.into_iter().zip(rigors) {
                assert_eq!(analysis_at(name, strategy), rigor, "{name} {strategy:?}");
            }
        }
        assert_eq!(analysis_at("BAKE_TIME", Strategy::Canary), None, "no hook there: nothing to analyse");
    }

    /// `EcsHook`'s stage helpers (for readers of a hook, e.g. the fuzzer) say what the table says.
    #[test]
    fn the_hooks_stage_helpers_agree_with_the_table() {
        use crate::event::hook::{HookInvocation, decode};
        let names = ECS_STAGES.iter().map(|(name, _)| *name).chain(["POST_TEST_TRAFFIC", "BEFORE_INSTALL"]);
        for name in names {
            let event = serde_json::json!({
                "executionId": "x", "lifecycleStage": name,
                "executionDetails": {"serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web"},
            });
            let Ok(HookInvocation::Ecs(hook)) = decode(event) else { panic!("{name}") };
            let stage = ecs_stage(name).ok().map(|(_, stage)| stage);
            assert_eq!(hook.is_test_stage(), stage == Some(Stage::Test), "{name}");
            assert_eq!(hook.is_production_stage(), stage == Some(Stage::Production), "{name}");
            assert_eq!(hook.has_new_tasks(), stage.is_some_and(Stage::reads_target_health), "{name}");
        }
    }

    #[test]
    fn an_unknown_stage_is_refused_naming_the_field() {
        for unknown in ["POST_TEST_TRAFFIC", "post_scale_up", "", " PRE_SCALE_UP", "BEFORE_INSTALL"] {
            let err = ecs_stage(unknown).unwrap_err();
            assert!(err.starts_with("field `lifecycleStage`: expected one of RECONCILE_SERVICE, PRE_SCALE_UP"), "{err}");
            assert!(err.contains(&format!("got {}", quote(unknown))), "{err}");
        }
        let err = ecs_stage(&format!("X{}\n", "Y".repeat(1 << 20))).unwrap_err();
        assert!(err.len() < 600 && err.contains("bytes)"), "a 1 MB stage is quoted short: {}", err.len());
    }
}
