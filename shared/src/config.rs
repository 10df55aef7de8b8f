//! Typed configuration read from the environment once, at cold start.
//! Every error names the variable and says what was expected.

use crate::quote::quote;
use thiserror::Error;

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

/// Configuration of the `traffic-gate` function: defaults that service tags override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfig {
    pub notify_topic_arn: String,
    /// `GATE_PATH` (default `/health`).
    pub path: String,
    /// `GATE_TIMEOUT_MS` per probe (default 5000).
    pub timeout_ms: u64,
    /// `GATE_INTERVAL_MS` between probes (default 5000); also the ECS hook's callBackDelay.
    pub interval_ms: u64,
    /// `GATE_HEALTHY_THRESHOLD` (default 2), `GATE_UNHEALTHY_THRESHOLD` (default 2), `GATE_MAX_PROBES` (default 10).
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub max_probes: u32,
    /// `GATE_STATUS`: healthy status codes (default `200`).
    pub expected_status: Vec<u16>,
    /// `GATE_ALARMS`: alarms that must not be in ALARM for any service.
    pub alarms: Vec<String>,
    /// `GATE_REQUIRE_EVIDENCE` (default `true`): a stage that looks at the new revision fails when
    /// it can learn nothing about it (no target group known, no URL to probe).
    pub require_evidence: bool,
    /// `GATE_PROBE_HOSTS`: the hosts probe URLs may name (default: any, noted in the verdict).
    pub probe_hosts: ProbeHosts,
}

impl FromEnv for GateConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let path = or_default(&lookup, "GATE_PATH", "/health");
        if !path.starts_with('/') {
            return Err(ConfigError::Invalid { var: "GATE_PATH", reason: format!("{} does not start with /", quote(&path)) });
        }
        let config = Self {
            notify_topic_arn: topic_arn(&lookup)?,
            path,
            timeout_ms: number(&lookup, "GATE_TIMEOUT_MS", 5000)?,
            interval_ms: number(&lookup, "GATE_INTERVAL_MS", 5000)?,
            healthy_threshold: number(&lookup, "GATE_HEALTHY_THRESHOLD", 2)?,
            unhealthy_threshold: number(&lookup, "GATE_UNHEALTHY_THRESHOLD", 2)?,
            max_probes: number(&lookup, "GATE_MAX_PROBES", 10)?,
            expected_status: status_codes(lookup("GATE_STATUS").as_deref().unwrap_or("200"))
                .map_err(|reason| ConfigError::Invalid { var: "GATE_STATUS", reason })?,
            alarms: words(lookup("GATE_ALARMS").as_deref().unwrap_or("")),
            require_evidence: true_or_false(&lookup, "GATE_REQUIRE_EVIDENCE", true)?,
            probe_hosts: ProbeHosts::parse(&optional(&lookup, "GATE_PROBE_HOSTS").unwrap_or_default())
                .map_err(|reason| ConfigError::Invalid { var: "GATE_PROBE_HOSTS", reason })?,
        };
        if config.healthy_threshold == 0 || config.unhealthy_threshold == 0 || config.max_probes < config.healthy_threshold {
            return Err(ConfigError::Invalid {
                var: "GATE_MAX_PROBES",
                reason: "thresholds must be at least 1 and GATE_MAX_PROBES at least GATE_HEALTHY_THRESHOLD".into(),
            });
        }
        Ok(config)
    }
}

/// `true` or `false` (any case), nothing else; unset or blank: `default`.
fn true_or_false(lookup: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match optional(lookup, var).map(|value| value.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ConfigError::Invalid { var, reason: format!("{} is neither true nor false", quote(other)) }),
    }
}

/// `GATE_PROBE_HOSTS`: the hosts the traffic gate may send probes to. Unset, any host: whoever
/// can tag a service then chooses where the gate sends requests, and each verdict notes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProbeHosts {
    #[default]
    Any,
    Only(Vec<HostPattern>),
}

/// One entry of `GATE_PROBE_HOSTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `web.internal.example.com`: that host name only (lower case).
    Name(String),
    /// `.internal.example.com`: any name that ends with it (the dot included), not the name
    /// itself.
    Suffix(String),
    /// `127.0.0.1`, `::1`, `[::1]`.
    Ip(std::net::IpAddr),
}

impl ProbeHosts {
    /// Comma-separated host names, `.suffixes` and IP addresses; blank: any host. Strict: an entry
    /// with a scheme, port, path, wildcard or anything else a host cannot hold is an error, and so
    /// is an empty entry.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.trim().is_empty() {
            return Ok(Self::Any);
        }
        let mut patterns = Vec::new();
        for entry in value.split(',').map(str::trim) {
            let pattern = HostPattern::parse(entry)?;
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        Ok(Self::Only(patterns))
    }

    /// Whether a probe may go to `host`, as a URL parser gives it: lower case, an IPv4 address
    /// in dotted decimal, an IPv6 address in brackets.
    pub fn allows(&self, host: &str) -> bool {
        let Self::Only(patterns) = self else { return true };
        let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let ip = unbracketed.parse::<std::net::IpAddr>().ok();
        patterns.iter().any(|pattern| match pattern {
            HostPattern::Ip(allowed) => ip == Some(*allowed),
            HostPattern::Name(name) => ip.is_none() && host == name,
            HostPattern::Suffix(suffix) => ip.is_none() && host.len() > suffix.len() && host.ends_with(suffix.as_str()),
        })
    }
}

impl HostPattern {
    fn parse(entry: &str) -> Result<Self, String> {
        if entry.is_empty() {
            return Err("an entry is empty (two commas in a row, or one at an end)".into());
        }
        let unbracketed = entry.strip_prefix('[').and_then(|e| e.strip_suffix(']')).unwrap_or(entry);
        if let Ok(ip) = unbracketed.parse::<std::net::IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let entry = entry.to_ascii_lowercase();
        let (suffix, name) = match entry.strip_prefix('.') {
            Some(name) => (true, name),
            None => (false, entry.as_str()),
        };
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        let labels: Vec<&str> = name.split('.').collect();
        let last_numeric = labels.last().is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()));
        if name.len() > 253 || !labels.iter().all(|l| label_ok(l)) || last_numeric {
            return Err(format!(
                "{} is not a host name, a .suffix or an IP address (no scheme, port, path or wildcard: write \
                 `.example.com` for every name under example.com)",
                quote(&entry)
            ));
        }
        Ok(if suffix { Self::Suffix(format!(".{name}")) } else { Self::Name(name.to_owned()) })
    }
}

/// Configuration of the `region-failover` function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverConfig {
    pub notify_topic_arn: String,
    /// `PRIMARY_REGION` (default us-east-1) and `STANDBY_REGION` (default us-west-2).
    pub primary_region: String,
    pub standby_region: String,
    /// `PRIMARY_HEALTH_ALARM`, `STANDBY_HEALTH_ALARM`: each region's health alarm (in that region).
    pub primary_alarm: String,
    pub standby_alarm: String,
    /// `SERVICES`: `cluster/service` pairs, the same names in both regions.
    pub services: Vec<(String, String)>,
    /// `HOSTED_ZONE_ID`, `RECORD_NAME`, `RECORD_TYPE` (default A).
    pub hosted_zone: String,
    pub record_name: String,
    pub record_type: String,
    /// `PRIMARY_SET_ID`, `STANDBY_SET_ID`: the records' set identifiers (default: the region names).
    pub primary_set_id: String,
    pub standby_set_id: String,
    /// `DWELL_SECONDS` (default 300), `STABILIZATION_SECONDS` (default 600), `AUTO_FAILBACK` (default false).
    pub dwell: u64,
    pub stabilization: u64,
    pub auto_failback: bool,
    /// `SCALE_WAIT_SECONDS` (default 120), `DNS_WAIT_SECONDS` (default 120): bounds of the waits.
    pub scale_wait: u64,
    pub dns_wait: u64,
}

impl FromEnv for FailoverConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let or = |var: &str, default: &str| or_default(&lookup, var, default);
        let primary_region = or("PRIMARY_REGION", "us-east-1");
        let standby_region = or("STANDBY_REGION", "us-west-2");
        if primary_region == standby_region {
            return Err(ConfigError::Invalid {
                var: "STANDBY_REGION",
                reason: format!("the same region as PRIMARY_REGION ({primary_region})"),
            });
        }
        let services_raw = required(&lookup, "SERVICES", "comma-separated cluster/service pairs, e.g. prod/web")?;
        let mut services = Vec::new();
        for pair in words(&services_raw) {
            let Some((cluster, service)) = pair.split_once('/').filter(|(c, s)| !c.is_empty() && !s.is_empty() && !s.contains('/')) else {
                return Err(ConfigError::Invalid { var: "SERVICES", reason: format!("{} is not cluster/service", quote(&pair)) });
            };
            services.push((cluster.to_owned(), service.to_owned()));
        }
        Ok(Self {
            notify_topic_arn: topic_arn(&lookup)?,
            primary_set_id: or("PRIMARY_SET_ID", &primary_region),
            standby_set_id: or("STANDBY_SET_ID", &standby_region),
            primary_region,
            standby_region,
            primary_alarm: required(&lookup, "PRIMARY_HEALTH_ALARM", "the name of the primary region's health alarm")?,
            standby_alarm: required(&lookup, "STANDBY_HEALTH_ALARM", "the name of the standby region's health alarm")?,
            services,
            hosted_zone: required(&lookup, "HOSTED_ZONE_ID", "the Route 53 hosted zone id of RECORD_NAME")?,
            record_name: required(&lookup, "RECORD_NAME", "the DNS name that fails over, e.g. api.example.com")?,
            record_type: or("RECORD_TYPE", "A"),
            dwell: number(&lookup, "DWELL_SECONDS", 300)?,
            stabilization: number(&lookup, "STABILIZATION_SECONDS", 600)?,
            auto_failback: flag(&lookup, "AUTO_FAILBACK")?,
            scale_wait: number(&lookup, "SCALE_WAIT_SECONDS", 120)?,
            dns_wait: number(&lookup, "DNS_WAIT_SECONDS", 120)?,
        })
    }
}

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

fn number<T: std::str::FromStr>(lookup: &impl Fn(&str) -> Option<String>, var: &'static str, default: T) -> Result<T, ConfigError> {
    match optional(lookup, var) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|_| ConfigError::Invalid { var, reason: format!("{} is not a whole number", quote(&value)) }),
    }
}

const SCALING_ALARM_PREFIX: &str = "SCALING_ALARM_PREFIX";
const CLUSTERS: &str = "CLUSTERS";
const NOTIFY_BUILD_STARTED: &str = "NOTIFY_BUILD_STARTED";
const ROLLOUT_PROJECTS: &str = "ROLLOUT_PROJECTS";
const NOTIFY_TOPIC_ARN: &str = "NOTIFY_TOPIC_ARN";

/// The variable's value, trimmed; `None` when unset or blank.
fn optional(lookup: &impl Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    lookup(var).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

fn or_default(lookup: &impl Fn(&str) -> Option<String>, var: &str, default: &str) -> String {
    optional(lookup, var).unwrap_or_else(|| default.to_owned())
}

fn required(lookup: &impl Fn(&str) -> Option<String>, var: &'static str, expected: &'static str) -> Result<String, ConfigError> {
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

fn cluster_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
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

fn optional_cluster_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    match optional(lookup, CLUSTERS) {
        Some(_) => cluster_list(lookup),
        None => Ok(Vec::new()),
    }
}

/// `ROLLOUT_PROJECTS`: CodeBuild project names (letters, digits, `-` and `_`, as CodeBuild allows),
/// comma-separated; unset or blank is none.
fn project_list(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
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

fn flag(lookup: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    match lookup(var).as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid { var, reason: format!("{} is not true or false", quote(other)) }),
    }
}

fn topic_arn(lookup: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
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
    fn gate_config_defaults_and_errors() {
        let with = |pairs: &'static [(&'static str, &'static str)]| {
            GateConfig::from_lookup(move |var| {
                if var == "NOTIFY_TOPIC_ARN" {
                    Some(TOPIC.into())
                } else {
                    pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string())
                }
            })
        };
        let cfg = with(&[]).unwrap();
        assert_eq!(
            (cfg.path.as_str(), cfg.timeout_ms, cfg.healthy_threshold, cfg.expected_status.as_slice()),
            ("/health", 5000, 2, &[200][..])
        );
        let cfg = with(&[("GATE_STATUS", "200 204"), ("GATE_ALARMS", "a, b c")]).unwrap();
        assert_eq!((cfg.expected_status, cfg.alarms), (vec![200, 204], vec!["a".to_owned(), "b".into(), "c".into()]));
        assert!(with(&[("GATE_STATUS", "ok")]).unwrap_err().to_string().contains("GATE_STATUS"));
        assert!(with(&[("GATE_TIMEOUT_MS", "-1")]).unwrap_err().to_string().contains("GATE_TIMEOUT_MS"));
        assert!(with(&[("GATE_PATH", "health")]).unwrap_err().to_string().contains("GATE_PATH"));
        assert!(with(&[("GATE_MAX_PROBES", "1")]).unwrap_err().to_string().contains("GATE_MAX_PROBES"));
    }

    #[test]
    fn gate_evidence_and_probe_hosts_are_parsed_strictly() {
        let with = |var: &'static str, value: &'static str| {
            GateConfig::from_lookup(move |name| match name {
                "NOTIFY_TOPIC_ARN" => Some(TOPIC.into()),
                _ if name == var => Some(value.into()),
                _ => None,
            })
        };
        let cfg = with("UNRELATED", "").unwrap();
        assert_eq!((cfg.require_evidence, &cfg.probe_hosts), (true, &ProbeHosts::Any), "cautious default; any host");
        assert!(with("GATE_REQUIRE_EVIDENCE", " ").unwrap().require_evidence, "blank is unset");
        assert!(!with("GATE_REQUIRE_EVIDENCE", "False").unwrap().require_evidence);
        for loose in ["no", "0", "yes", "flase", "true,"] {
            let err = with("GATE_REQUIRE_EVIDENCE", loose).unwrap_err();
            assert!(matches!(&err, ConfigError::Invalid { var: "GATE_REQUIRE_EVIDENCE", .. }), "{loose}: {err}");
        }

        let hosts = with("GATE_PROBE_HOSTS", " .Internal.Example.com, web.example.org,127.0.0.1, [::1] ").unwrap().probe_hosts;
        for allowed in ["a.internal.example.com", "x.y.internal.example.com", "web.example.org", "127.0.0.1", "[::1]"] {
            assert!(hosts.allows(allowed), "{allowed}");
        }
        for refused in [
            "internal.example.com",
            "evilinternal.example.com",
            "a.internal.example.com.evil.com",
            "www.web.example.org",
            "127.0.0.2",
            "[::2]",
            "localhost",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        assert_eq!(with("GATE_PROBE_HOSTS", "  ").unwrap().probe_hosts, ProbeHosts::Any);
        for bad in [
            "https://web.example.org",
            "web.example.org:8080",
            "*.example.org",
            "a,,b",
            "a,",
            "web example",
            "10.0.1",
            "web.example.org/health",
        ] {
            let err = with("GATE_PROBE_HOSTS", bad).unwrap_err();
            assert!(matches!(&err, ConfigError::Invalid { var: "GATE_PROBE_HOSTS", .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn failover_config_needs_its_names_and_distinct_regions() {
        let base: [(&str, &str); 6] = [
            ("NOTIFY_TOPIC_ARN", TOPIC),
            ("PRIMARY_HEALTH_ALARM", "primary-health"),
            ("STANDBY_HEALTH_ALARM", "standby-health"),
            ("SERVICES", "prod/web, prod/api"),
            ("HOSTED_ZONE_ID", "Z123"),
            ("RECORD_NAME", "api.example.com"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let pairs: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
            FailoverConfig::from_lookup(move |var| pairs.iter().rev().find(|(k, _)| *k == var).map(|(_, v)| v.to_string()))
        };
        let cfg = with(&[]).unwrap();
        assert_eq!(
            (cfg.primary_region.as_str(), cfg.standby_set_id.as_str(), cfg.dwell, cfg.auto_failback),
            ("us-east-1", "us-west-2", 300, false)
        );
        assert_eq!(cfg.services, [("prod".to_owned(), "web".to_owned()), ("prod".into(), "api".into())]);
        assert!(with(&[("STANDBY_REGION", "us-east-1")]).unwrap_err().to_string().contains("STANDBY_REGION"));
        assert!(with(&[("SERVICES", "web")]).unwrap_err().to_string().contains("SERVICES"));
        assert!(with(&[("RECORD_NAME", "")]).unwrap_err().to_string().contains("RECORD_NAME"));
    }

    #[test]
    fn invalid_values_are_explained() {
        assert!(matches!(config(Some(" , "), Some(TOPIC)), Err(ConfigError::Invalid { var: "CLUSTERS", .. })));
        assert!(matches!(config(Some("a b"), Some(TOPIC)), Err(ConfigError::Invalid { var: "CLUSTERS", .. })));
        let err = config(Some("prod"), Some("arn:aws:sqs:us-east-1:123456789012:q")).unwrap_err();
        assert!(err.to_string().contains("not an SNS topic ARN"), "{err}");
    }
}
