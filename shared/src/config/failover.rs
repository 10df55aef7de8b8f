//! The region failover's settings: the two regions, their alarms, the services and the DNS
//! record that fail over, and the waits.

use super::read::{flag, number, optional, or_default, required, topic_arn, words};
use super::{ConfigError, FromEnv};
use crate::quote::quote;
use serde::Serialize;

/// `STANDBY_IMAGE_CHECK`: what a failover does when the standby's services do not run the
/// primary's images, or the standby region's registry lacks them, or that cannot be checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StandbyImageCheck {
    /// Move anyway and say so in the plan and the failover's notice (the default: a failover that
    /// a region's outage calls for is not held back by a replication lag).
    #[default]
    Warn,
    /// Move no traffic: an alert names what differs or is missing; a check that could not be
    /// made fails the invocation, so that it is retried.
    Refuse,
}

impl StandbyImageCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            StandbyImageCheck::Warn => "warn",
            StandbyImageCheck::Refuse => "refuse",
        }
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
    /// `STANDBY_IMAGE_CHECK`: `warn` (default) or `refuse`.
    pub image_check: StandbyImageCheck,
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
            image_check: match optional(&lookup, "STANDBY_IMAGE_CHECK").map(|v| v.to_ascii_lowercase()).as_deref() {
                None | Some("warn") => StandbyImageCheck::Warn,
                Some("refuse") => StandbyImageCheck::Refuse,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        var: "STANDBY_IMAGE_CHECK",
                        reason: format!("{} is neither warn nor refuse", quote(other)),
                    });
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::TOPIC;

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
        assert_eq!(cfg.image_check, StandbyImageCheck::Warn);
        assert_eq!(with(&[("STANDBY_IMAGE_CHECK", " Refuse ")]).unwrap().image_check, StandbyImageCheck::Refuse);
        assert!(with(&[("STANDBY_IMAGE_CHECK", "block")]).unwrap_err().to_string().contains("STANDBY_IMAGE_CHECK"));
    }
}
