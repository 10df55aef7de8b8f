//! The traffic gate's settings: its defaults, which service tags override, the hosts its
//! probes may reach, and how it steers ECS-native deployments (`config::control`).

use super::control::ControlConfig;
use super::read::{number, optional, or_default, status_codes, topic_arn, true_or_false, words};
use super::{ConfigError, FromEnv};
use crate::quote::quote;
use crate::usecase::traffic_gate::plan::AnalysisRules;

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
    /// `GATE_ANALYSIS`: how production traffic shifts compare the new revision's target group with
    /// the old one's (default: on, `requests=50 errors=1 latency=20 window=5m`); the tag
    /// `deckhand:analysis` overrides it per service, in the same syntax.
    pub analysis: AnalysisRules,
    /// Pause hooks, operator requests and stuck-deployment detection.
    pub control: ControlConfig,
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
            analysis: match optional(&lookup, "GATE_ANALYSIS") {
                Some(value) => AnalysisRules::parse(&value, AnalysisRules::default())
                    .map_err(|reason| ConfigError::Invalid { var: "GATE_ANALYSIS", reason })?,
                None => AnalysisRules::default(),
            },
            control: ControlConfig::from_lookup(&lookup)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::TOPIC;

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
    fn gate_analysis_sets_the_defaults_in_the_tags_syntax() {
        let with = |value: &'static str| {
            GateConfig::from_lookup(move |var| match var {
                "NOTIFY_TOPIC_ARN" => Some(TOPIC.into()),
                "GATE_ANALYSIS" => Some(value.into()),
                _ => None,
            })
        };
        assert_eq!(with(" ").unwrap().analysis, AnalysisRules::default(), "blank is unset");
        assert!(!with("off").unwrap().analysis.enabled);
        let rules = with("requests=200 window=10m").unwrap().analysis;
        assert_eq!((rules.min_requests, rules.window, rules.error_margin), (200, 600, 100));
        let err = with("errors=lots").unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { var: "GATE_ANALYSIS", reason } if reason.contains("\"errors=lots\"")), "{err}");
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
}
