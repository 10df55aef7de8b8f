//! Typed configuration read from the environment once, at cold start.
//! Every error names the variable and says what was expected.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {var} is not set; expected {expected}")]
    Missing { var: &'static str, expected: &'static str },
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// Configuration of the `image-pushed` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePushedConfig {
    /// Clusters whose services may be deployed (names or ARNs), from `CLUSTERS`.
    pub clusters: Vec<String>,
    /// SNS topic for notifications, from `NOTIFY_TOPIC_ARN`.
    pub notify_topic_arn: String,
}

impl ImagePushedConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads through `lookup` so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self { clusters: cluster_list(&lookup)?, notify_topic_arn: topic_arn(&lookup)? })
    }
}

const CLUSTERS: &str = "CLUSTERS";
const NOTIFY_TOPIC_ARN: &str = "NOTIFY_TOPIC_ARN";

fn required(lookup: &impl Fn(&str) -> Option<String>, var: &'static str, expected: &'static str) -> Result<String, ConfigError> {
    match lookup(var) {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(ConfigError::Missing { var, expected }),
    }
}

fn cluster_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let raw = required(lookup, CLUSTERS, "a comma-separated list of ECS cluster names or ARNs")?;
    let mut clusters: Vec<String> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        if name.chars().any(char::is_whitespace) {
            return Err(ConfigError::Invalid { var: CLUSTERS, reason: format!("cluster name `{name}` contains white space") });
        }
        if !clusters.iter().any(|known| known == name) {
            clusters.push(name.to_owned());
        }
    }
    if clusters.is_empty() {
        return Err(ConfigError::Invalid { var: CLUSTERS, reason: "no cluster named".into() });
    }
    Ok(clusters)
}

fn topic_arn(lookup: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let arn = required(lookup, NOTIFY_TOPIC_ARN, "the ARN of an SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME)")?;
    let parts: Vec<&str> = arn.split(':').collect();
    let well_formed = parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts[3..].iter().all(|part| !part.is_empty());
    if !well_formed {
        return Err(ConfigError::Invalid {
            var: NOTIFY_TOPIC_ARN,
            reason: format!("`{arn}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"),
        });
    }
    Ok(arn)
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

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:deckhand";

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
    fn invalid_values_are_explained() {
        assert!(matches!(config(Some(" , "), Some(TOPIC)), Err(ConfigError::Invalid { var: "CLUSTERS", .. })));
        assert!(matches!(config(Some("a b"), Some(TOPIC)), Err(ConfigError::Invalid { var: "CLUSTERS", .. })));
        let err = config(Some("prod"), Some("arn:aws:sqs:us-east-1:123456789012:q")).unwrap_err();
        assert!(err.to_string().contains("not an SNS topic ARN"), "{err}");
    }
}
