//! The lifecycle stages of an ECS hook, and which evidence about the new revision each looks at.

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
    // Before production moves (in ECS's API reference beside the seven above): green still has
    // only the test traffic.
    ("PRE_PRODUCTION_TRAFFIC_SHIFT", Stage::Test),
    // Production traffic moving to green, then all of it there.
    ("PRODUCTION_TRAFFIC_SHIFT", Stage::Production),
    ("POST_PRODUCTION_TRAFFIC_SHIFT", Stage::Production),
];

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
