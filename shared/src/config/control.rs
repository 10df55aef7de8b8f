//! How the traffic gate steers ECS-native deployments beyond its lifecycle hooks: pause hooks,
//! operator requests, the stuck-deployment check.

use super::read::{minutes_in, optional, optional_cluster_list};
use super::{ConfigError, FromEnv};
use crate::quote::quote;

/// How the gate steers ECS-native deployments beyond its lifecycle hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlConfig {
    /// `CLUSTERS`: the clusters whose pause hooks and operator requests the gate takes (empty:
    /// any), and whose tracked services the schedule checks for stuck deployments (empty: none).
    pub clusters: Vec<String>,
    /// `GATE_PROGRESS_DEADLINE` (default 60 minutes): how long a deployment may be in flight before
    /// it counts as stuck, where the service's `deckhand:progress-deadline` says nothing.
    pub progress_deadline_minutes: u32,
    /// `AWS_LAMBDA_FUNCTION_NAME` (Lambda sets it): what an approval request tells people to invoke.
    pub function_name: Option<String>,
}

/// ECS's own default for a pause hook is 24 hours; an hour in flight is long for any deployment.
pub const DEFAULT_PROGRESS_DEADLINE_MINUTES: u32 = 60;

impl Default for ControlConfig {
    fn default() -> Self {
        Self { clusters: Vec::new(), progress_deadline_minutes: DEFAULT_PROGRESS_DEADLINE_MINUTES, function_name: None }
    }
}

impl FromEnv for ControlConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let progress_deadline_minutes = match optional(&lookup, "GATE_PROGRESS_DEADLINE") {
            None => DEFAULT_PROGRESS_DEADLINE_MINUTES,
            Some(value) => minutes(&value).map_err(|reason| ConfigError::Invalid { var: "GATE_PROGRESS_DEADLINE", reason })?,
        };
        Ok(Self {
            clusters: optional_cluster_list(&lookup)?,
            progress_deadline_minutes,
            function_name: optional(&lookup, "AWS_LAMBDA_FUNCTION_NAME"),
        })
    }
}

/// The most minutes a progress deadline may be: a week.
pub const DEADLINE_MAX_MINUTES: u32 = 7 * 24 * 60;

/// A duration of 1 minute to a week: `45`, `45m` or `2h`.
pub fn minutes(value: &str) -> Result<u32, String> {
    minutes_in(value, 1..=DEADLINE_MAX_MINUTES)
        .ok_or_else(|| format!("{} is not a duration of 1 minute to a week: write 45, 45m or 2h", quote(value.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GateConfig;
    use crate::config::tests::TOPIC;

    #[test]
    fn control_settings_default_and_are_read_strictly() {
        let with = |pairs: &'static [(&'static str, &'static str)]| {
            GateConfig::from_lookup(move |var| match var {
                "NOTIFY_TOPIC_ARN" => Some(TOPIC.into()),
                _ => pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string()),
            })
        };
        assert_eq!(with(&[]).unwrap().control, ControlConfig::default());
        let cfg = with(&[("CLUSTERS", "prod, staging"), ("GATE_PROGRESS_DEADLINE", "2h"), ("AWS_LAMBDA_FUNCTION_NAME", "gate")]).unwrap();
        assert_eq!(cfg.control.clusters, ["prod", "staging"]);
        assert_eq!((cfg.control.progress_deadline_minutes, cfg.control.function_name.as_deref()), (120, Some("gate")));
        for bad in ["0", "-5", "1.5h", "90s", "h", "10081", "2 h", "4294967295h"] {
            let err = ControlConfig::from_lookup(|var| (var == "GATE_PROGRESS_DEADLINE").then(|| bad.to_owned())).unwrap_err();
            assert!(matches!(&err, ConfigError::Invalid { var: "GATE_PROGRESS_DEADLINE", .. }), "{bad}: {err}");
        }
        assert_eq!([minutes("45"), minutes("45m"), minutes(" 2h "), minutes("10080")], [Ok(45), Ok(45), Ok(120), Ok(10080)]);
    }
}
