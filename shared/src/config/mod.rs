//! Typed configuration read from the environment once, at cold start.
//! Every error names the variable and says what was expected. The functions' settings are here,
//! the traffic gate's in `gate`, the region failover's in `failover`; how a variable is read
//! (lists, numbers, flags, ARNs) in `read`.

mod control;
mod failover;
mod gate;
mod read;

pub use control::{ControlConfig, minutes};
pub use failover::{FailoverConfig, StandbyImageCheck};
pub use gate::{GateConfig, HostPattern, ProbeHosts};
pub use read::{cluster_listed, minutes_in, status_codes, words};

use read::{cluster_list, flag, optional_cluster_list, or_default, project_list, topic_arn};
use thiserror::Error;

const SCALING_ALARM_PREFIX: &str = "SCALING_ALARM_PREFIX";
const NOTIFY_BUILD_STARTED: &str = "NOTIFY_BUILD_STARTED";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {var} is not set; expected {expected}")]
    Missing { var: &'static str, expected: &'static str },
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// Configuration read from the environment; `from_lookup` lets tests pass their own.
pub trait FromEnv: Sized {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }
}

/// Configuration of the `image-pushed` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePushedConfig {
    /// Clusters whose services may be deployed (names or ARNs), from `CLUSTERS`.
    pub clusters: Vec<String>,
    /// SNS topic for notifications, from `NOTIFY_TOPIC_ARN`.
    pub notify_topic_arn: String,
}

impl FromEnv for ImagePushedConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { clusters: cluster_list(&lookup)?, notify_topic_arn: topic_arn(&lookup)? })
    }
}

/// Configuration of the `build-finished` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFinishedConfig {
    pub notify_topic_arn: String,
    /// Clusters to roll exported images out to; empty (`CLUSTERS` unset) means no rollout.
    pub clusters: Vec<String>,
    /// `NOTIFY_BUILD_STARTED=true`: a quiet message when a build starts.
    pub notify_build_started: bool,
    /// CodeBuild projects whose exported images roll out, from `ROLLOUT_PROJECTS` (comma-separated
    /// names); empty (unset) means none: every build only notifies.
    pub rollout_projects: Vec<String>,
}

impl BuildFinishedConfig {
    /// Whether a successful build of `project` may start a rollout.
    pub fn rolls_out(&self, project: &str) -> bool {
        self.rollout_projects.iter().any(|listed| listed == project)
    }
}

impl FromEnv for BuildFinishedConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            notify_topic_arn: topic_arn(&lookup)?,
            clusters: optional_cluster_list(&lookup)?,
            notify_build_started: flag(&lookup, NOTIFY_BUILD_STARTED)?,
            rollout_projects: project_list(&lookup)?,
        })
    }
}

/// Configuration of the `deploy-events` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployEventsConfig {
    pub notify_topic_arn: String,
    /// Only deployments in these clusters are reported; empty (`CLUSTERS` unset) means all.
    pub clusters: Vec<String>,
}

impl FromEnv for DeployEventsConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { notify_topic_arn: topic_arn(&lookup)?, clusters: optional_cluster_list(&lookup)? })
    }
}

/// Configuration of the `scaler` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalerConfig {
    pub notify_topic_arn: String,
    /// Alarms whose names start with this drive scaling (`SCALING_ALARM_PREFIX`, default `deckhand-scale-`).
    pub alarm_prefix: String,
    /// Only services in these clusters are scaled; empty (`CLUSTERS` unset) means any.
    pub clusters: Vec<String>,
}

pub const DEFAULT_SCALING_ALARM_PREFIX: &str = "deckhand-scale-";

impl FromEnv for ScalerConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            notify_topic_arn: topic_arn(&lookup)?,
            alarm_prefix: or_default(&lookup, SCALING_ALARM_PREFIX, DEFAULT_SCALING_ALARM_PREFIX),
            clusters: optional_cluster_list(&lookup)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(clusters: Option<&str>, topic: Option<&str>) -> Result<ImagePushedConfig, ConfigError> {
        ImagePushedConfig::from_lookup(|var| match var {
            "CLUSTERS" => clusters.map(str::to_owned),
            "NOTIFY_TOPIC_ARN" => topic.map(str::to_owned),
            _ => None,
        })
    }

    /// A topic ARN every configuration accepts.
    pub(super) const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:deckhand";

    #[test]
    fn reads_clusters_and_topic() {
        let cfg = config(Some(" prod , staging,,prod"), Some(TOPIC)).unwrap();
        assert_eq!(cfg.clusters, ["prod", "staging"]);
        assert_eq!(cfg.notify_topic_arn, TOPIC);
    }

    #[test]
    fn missing_variables_are_named() {
        let err = config(None, Some(TOPIC)).unwrap_err();
        assert!(matches!(err, ConfigError::Missing { var: "CLUSTERS", .. }), "{err}");
        assert!(err.to_string().contains("CLUSTERS"));
        let err = config(Some("prod"), Some("  ")).unwrap_err();
        assert!(err.to_string().contains("NOTIFY_TOPIC_ARN"), "{err}");
    }

    #[test]
    fn build_and_deploy_configs_have_optional_clusters_and_flags() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |var: &str| pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string())
        };
        let cfg = BuildFinishedConfig::from_lookup(lookup(&[("NOTIFY_TOPIC_ARN", TOPIC)])).unwrap();
        assert_eq!((cfg.clusters.len(), cfg.notify_build_started), (0, false));
        let cfg =
            BuildFinishedConfig::from_lookup(lookup(&[("NOTIFY_TOPIC_ARN", TOPIC), ("CLUSTERS", "a"), ("NOTIFY_BUILD_STARTED", "TRUE")]))
                .unwrap();
        assert_eq!((cfg.clusters, cfg.notify_build_started), (vec!["a".to_owned()], true));
        let err = BuildFinishedConfig::from_lookup(lookup(&[("NOTIFY_TOPIC_ARN", TOPIC), ("NOTIFY_BUILD_STARTED", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("NOTIFY_BUILD_STARTED"), "{err}");
        assert!(DeployEventsConfig::from_lookup(lookup(&[])).unwrap_err().to_string().contains("NOTIFY_TOPIC_ARN"));
    }

    #[test]
    fn rollout_projects_are_names_and_default_to_none() {
        let build = |projects: Option<&'static str>| {
            BuildFinishedConfig::from_lookup(move |var| match var {
                "NOTIFY_TOPIC_ARN" => Some(TOPIC.into()),
                "ROLLOUT_PROJECTS" => projects.map(str::to_owned),
                _ => None,
            })
        };
        for none in [None, Some(""), Some("  "), Some(" , ")] {
            assert_eq!(build(none).unwrap().rollout_projects, Vec::<String>::new(), "{none:?}");
        }
        let cfg = build(Some(" shop-web ,billing_api,shop-web")).unwrap();
        assert_eq!(cfg.rollout_projects, ["shop-web", "billing_api"]);
        assert!(cfg.rolls_out("shop-web") && cfg.rolls_out("billing_api"));
        assert!(!cfg.rolls_out("shop") && !cfg.rolls_out("Shop-web") && !build(None).unwrap().rolls_out("shop-web"));
        for bad in ["shop web", "arn:aws:codebuild:us-east-1:123456789012:project/shop-web", "-shop", "shop/web"] {
            let err = build(Some(bad)).unwrap_err();
            assert!(matches!(&err, ConfigError::Invalid { var: "ROLLOUT_PROJECTS", .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn invalid_values_are_explained() {
        assert!(matches!(config(Some(" , "), Some(TOPIC)), Err(ConfigError::Invalid { var: "CLUSTERS", .. })));
        assert!(matches!(config(Some("a b"), Some(TOPIC)), Err(ConfigError::Invalid { var: "CLUSTERS", .. })));
        let err = config(Some("prod"), Some("arn:aws:sqs:us-east-1:123456789012:q")).unwrap_err();
        assert!(err.to_string().contains("not an SNS topic ARN"), "{err}");
    }
}
