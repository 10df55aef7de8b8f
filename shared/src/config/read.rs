//! How a variable is read: trimmed, blank as unset, and every refusal naming the variable and
//! quoting the value.

use super::ConfigError;
use crate::quote::quote;

/// Names separated by commas or white space (tag values cannot hold commas).
pub fn words(value: &str) -> Vec<String> {
    value.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// `200`, `200 204`, `200,301`: HTTP status codes.
pub fn status_codes(value: &str) -> Result<Vec<u16>, String> {
    let codes: Result<Vec<u16>, String> = words(value)
        .iter()
        .map(|w| w.parse::<u16>().ok().filter(|c| (100..600).contains(c)).ok_or_else(|| format!("{} is not an HTTP status code", quote(w))))
        .collect();
    codes.and_then(|c| if c.is_empty() { Err("no status code".into()) } else { Ok(c) })
}

pub(super) fn number<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match optional(lookup, var) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|_| ConfigError::Invalid { var, reason: format!("{} is not a whole number", quote(&value)) }),
    }
}

const CLUSTERS: &str = "CLUSTERS";
const ROLLOUT_PROJECTS: &str = "ROLLOUT_PROJECTS";
const NOTIFY_TOPIC_ARN: &str = "NOTIFY_TOPIC_ARN";

/// The variable's value, trimmed; `None` when unset or blank.
pub(super) fn optional(lookup: &impl Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    lookup(var).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

pub(super) fn or_default(lookup: &impl Fn(&str) -> Option<String>, var: &str, default: &str) -> String {
    optional(lookup, var).unwrap_or_else(|| default.to_owned())
}

pub(super) fn required(lookup: &impl Fn(&str) -> Option<String>, var: &'static str, expected: &'static str) -> Result<String, ConfigError> {
    optional(lookup, var).ok_or(ConfigError::Missing { var, expected })
}

/// Whether `clusters` (`CLUSTERS`: names or ARNs; empty means every cluster) takes in the cluster
/// named `cluster`: the one matcher of every function that `CLUSTERS` limits to some clusters.
pub fn cluster_listed(clusters: &[String], cluster: &str) -> bool {
    fn name(cluster: &str) -> &str {
        cluster.rsplit_once(":cluster/").map_or(cluster, |(_, name)| name)
    }
    clusters.is_empty() || clusters.iter().any(|listed| name(listed) == name(cluster))
}

pub(super) fn cluster_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let raw = required(lookup, CLUSTERS, "a comma-separated list of ECS cluster names or ARNs")?;
    let mut clusters: Vec<String> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        if name.chars().any(char::is_whitespace) {
            return Err(ConfigError::Invalid { var: CLUSTERS, reason: format!("cluster name {} contains white space", quote(name)) });
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

pub(super) fn optional_cluster_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    match optional(lookup, CLUSTERS) {
        Some(_) => cluster_list(lookup),
        None => Ok(Vec::new()),
    }
}

/// `ROLLOUT_PROJECTS`: CodeBuild project names (letters, digits, `-` and `_`, as CodeBuild allows),
/// comma-separated; unset or blank is none.
pub(super) fn project_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let mut projects: Vec<String> = Vec::new();
    for name in optional(lookup, ROLLOUT_PROJECTS).unwrap_or_default().split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let well_formed = name.len() <= 255
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(ConfigError::Invalid {
                var: ROLLOUT_PROJECTS,
                reason: format!("{} is not a CodeBuild project name (letters, digits, - and _; the name, not the ARN)", quote(name)),
            });
        }
        if !projects.iter().any(|known| known == name) {
            projects.push(name.to_owned());
        }
    }
    Ok(projects)
}

pub(super) fn flag(lookup: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    match lookup(var).as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid { var, reason: format!("{} is not true or false", quote(other)) }),
    }
}

pub(super) fn topic_arn(lookup: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    let arn = required(lookup, NOTIFY_TOPIC_ARN, "the ARN of an SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME)")?;
    let parts: Vec<&str> = arn.split(':').collect();
    let well_formed = parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts[3..].iter().all(|part| !part.is_empty());
    if !well_formed {
        return Err(ConfigError::Invalid {
            var: NOTIFY_TOPIC_ARN,
            reason: format!("{} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", quote(&arn)),
        });
    }
    Ok(arn)
}

/// `true` or `false` (any case), nothing else; unset or blank: `default`.
pub(super) fn true_or_false(lookup: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match optional(lookup, var).map(|value| value.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ConfigError::Invalid { var, reason: format!("{} is neither true nor false", quote(other)) }),
    }
}

/// A duration in whole minutes within `range`: `45`, `45m` or `2h` — the one spelling of
/// durations in settings and tags (tag values allow no other units' symbols); `None` otherwise.
pub fn minutes_in(value: &str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
    let value = value.trim();
    let (number, unit) = match value.strip_suffix('h') {
        Some(hours) => (hours, 60),
        None => (value.strip_suffix('m').unwrap_or(value), 1),
    };
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| number.parse::<u32>().ok())
        .flatten()
        .and_then(|n| n.checked_mul(unit))
        .filter(|total| range.contains(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_match_by_name_or_arn() {
        let listed = |clusters: &[&str]| clusters.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
        assert!(cluster_listed(&listed(&[]), "prod"), "unset: every cluster");
        assert!(cluster_listed(&listed(&["prod"]), "prod"));
        assert!(cluster_listed(&listed(&["staging", arn]), "prod"));
        assert!(cluster_listed(&listed(&["prod"]), arn));
        assert!(!cluster_listed(&listed(&[arn]), "production"));
        assert!(!cluster_listed(&listed(&["arn:aws:ecs:us-east-1:123456789012:cluster/prod-2"]), "prod"));
    }
}
