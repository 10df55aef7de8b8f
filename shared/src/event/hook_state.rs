//! `ECS Hook State Change` (source `aws.ecs`): a lifecycle hook of an ECS service deployment
//! moved (`HOOK_IN_PROGRESS`, `HOOK_AWAITING_ACTION`, `HOOK_SUCCEEDED`, `HOOK_FAILED`,
//! `HOOK_TIMED_OUT`). A pause hook awaiting action is the traffic gate's to answer; the others
//! are deploy-events' to report.

use super::limits::{ARN_MAX, ECS_NAME_MAX, EVENT_ID_MAX, HOOK_EXECUTION_ID_MAX, STATE_MAX, at_most};
use super::{EventError, detail, envelope};
use crate::quote::quote;
use serde::Deserialize;
use serde_json::Value;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

pub const DETAIL_TYPE: &str = "ECS Hook State Change";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookStateChange {
    pub event_id: Option<String>,
    pub region: String,
    /// `HOOK_IN_PROGRESS`, `HOOK_AWAITING_ACTION`, `HOOK_SUCCEEDED`, `HOOK_FAILED` or
    /// `HOOK_TIMED_OUT`, as ECS sent it.
    pub name: String,
    pub hook_id: String,
    /// `PAUSE` or `AWS_LAMBDA`, as ECS sent it.
    pub hook_type: String,
    /// `RECONCILE_SERVICE`, `PRE_SCALE_UP`, … as ECS sent it.
    pub stage: String,
    /// When ECS stops waiting (seconds since the epoch); only hooks that wait carry it.
    pub expires_at: Option<u64>,
    pub service_arn: String,
    pub deployment_arn: String,
}

impl HookStateChange {
    pub const AWAITING_ACTION: &str = "HOOK_AWAITING_ACTION";

    /// A pause hook now waiting for someone to continue or roll back the deployment.
    pub fn is_pause_awaiting_action(&self) -> bool {
        self.name == Self::AWAITING_ACTION && self.hook_type == "PAUSE"
    }

    /// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE` → (cluster, service); the decoder
    /// refused any other shape.
    pub fn cluster_and_service(&self) -> (&str, &str) {
        super::deployment::service_names(&self.service_arn)
    }

    /// The deployment's id: the last segment of its ARN.
    pub fn deployment_id(&self) -> &str {
        deployment_id(&self.deployment_arn)
    }
}

/// The last part of a service deployment's ARN: its id.
pub fn deployment_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    expecting = "an object with eventName, hookId, hookType, lifecycleStage, serviceArn, serviceDeploymentArn and optional expiresAt"
)]
struct RawDetail {
    event_name: String,
    hook_id: String,
    hook_type: String,
    lifecycle_stage: String,
    service_arn: String,
    service_deployment_arn: String,
    #[serde(default)]
    expires_at: Option<String>,
}

pub fn decode(event: Value) -> Result<HookStateChange, EventError> {
    let envelope = envelope(event, "aws.ecs", DETAIL_TYPE)?;
    let raw: RawDetail = detail(envelope.detail)?;
    at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
    at_most("detail.eventName", &raw.event_name, STATE_MAX)?;
    at_most("detail.hookId", &raw.hook_id, HOOK_EXECUTION_ID_MAX)?;
    at_most("detail.hookType", &raw.hook_type, STATE_MAX)?;
    at_most("detail.lifecycleStage", &raw.lifecycle_stage, STATE_MAX)?;
    at_most("detail.serviceArn", &raw.service_arn, ARN_MAX)?;
    at_most("detail.serviceDeploymentArn", &raw.service_deployment_arn, ARN_MAX)?;
    let expires_at = raw.expires_at.as_deref().map(expiry).transpose()?;
    let change = HookStateChange {
        event_id: envelope.id,
        region: envelope.region,
        name: raw.event_name,
        hook_id: raw.hook_id,
        hook_type: raw.hook_type,
        stage: raw.lifecycle_stage,
        expires_at,
        service_arn: raw.service_arn,
        deployment_arn: raw.service_deployment_arn,
    };
    let (cluster, service) = change.cluster_and_service();
    if cluster.is_empty() || service.is_empty() || service.contains('/') {
        let got = quote(&change.service_arn);
        return Err(EventError::field("detail.serviceArn", format!("an ECS service ARN (…:service/CLUSTER/SERVICE), got {got}")));
    }
    at_most("detail.serviceArn (the cluster's name)", cluster, ECS_NAME_MAX)?;
    at_most("detail.serviceArn (the service's name)", service, ECS_NAME_MAX)?;
    if !change.deployment_arn.contains(":service-deployment/") {
        let got = quote(&change.deployment_arn);
        return Err(EventError::field("detail.serviceDeploymentArn", format!("an ECS service deployment ARN, got {got}")));
    }
    Ok(change)
}

/// `expiresAt` (RFC 3339) in seconds since the epoch; a time before the epoch is no expiry ECS sets.
fn expiry(text: &str) -> Result<u64, EventError> {
    rfc3339_seconds(text)
        .and_then(|secs| u64::try_from(secs).ok())
        .ok_or_else(|| EventError::field("detail.expiresAt", format!("an RFC 3339 time, got {}", quote(text))))
}

/// `2026-03-05T16:04:41Z`, `…41.618059641Z`, `…41+01:00` → seconds since the epoch. Read by hand
/// with `time`'s constructors: the workspace enables `time`'s formatting, not its parser.
fn rfc3339_seconds(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| -> Option<u8> {
        let digits = text.get(range)?;
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse().ok())?
    };
    let year: i32 = text.get(0..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?;
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    let bytes = text.as_bytes();
    if bytes.len() < 20 || separators.iter().any(|&(at, sep)| bytes[at] != sep) || !matches!(bytes[10], b'T' | b't') {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(number(5..7)?).ok()?, number(8..10)?).ok()?;
    let time = Time::from_hms(number(11..13)?, number(14..16)?, number(17..19)?).ok()?;
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0).then_some(())?;
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => UtcOffset::UTC,
        _ => {
            let sign: i8 = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hours, minutes) = rest.get(1..)?.split_once(':')?;
            let two = |s: &str| (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i8>().ok())?;
            UtcOffset::from_hms(sign * two(hours)?, sign * two(minutes)?, 0).ok()?
        }
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset).unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../../../events/ecs-hook-awaiting-action.json")).expect("a JSON sample")
    }

    #[test]
    fn decodes_the_sample() {
        let change = decode(sample()).unwrap();
        assert!(change.is_pause_awaiting_action());
        assert_eq!(change.cluster_and_service(), ("my-cluster", "my-service"));
        assert_eq!(change.deployment_id(), "0EYSiB0qap8xf0N76FsbE");
        assert_eq!(change.hook_id, "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw");
        assert_eq!(change.stage, "POST_TEST_TRAFFIC_SHIFT");
        assert_eq!(change.expires_at, Some(1_772_726_681));
        assert_eq!(change.region, "us-west-2");
        let mut succeeded = sample();
        succeeded["detail"]["eventName"] = json!("HOOK_SUCCEEDED");
        succeeded["detail"].as_object_mut().unwrap().remove("expiresAt");
        let change = decode(succeeded).unwrap();
        assert!(!change.is_pause_awaiting_action() && change.expires_at.is_none());
    }

    #[test]
    fn reads_rfc3339_times() {
        for (text, seconds) in [
            ("2026-03-05T16:04:41Z", Some(1_772_726_681)),
            ("2026-03-05T15:54:41.618059641Z", Some(1_772_726_081)),
            ("2026-03-05T17:04:41+01:00", Some(1_772_726_681)),
            ("2026-03-05T15:04:41-01:00", Some(1_772_726_681)),
            ("2026-02-30T16:04:41Z", None),
            ("2026-03-05 16:04:41Z", None),
            ("2026-03-05T16:04:41", None),
            ("2026-03-05T16:04:41.Z", None),
            ("2026-03-05T16:04:41+1:00", None),
            ("+026-03-05T16:04:41Z", None),
            ("tomorrow", None),
        ] {
            assert_eq!(rfc3339_seconds(text), seconds, "{text}");
        }
    }

    #[test]
    fn malformed_events_name_the_field() {
        let huge = "x".repeat(1 << 20);
        let cases = [
            ("detail.hookId", json!(null)),
            ("detail.hookId", json!(huge)),
            ("detail.expiresAt", json!("tomorrow")),
            ("detail.serviceArn", json!("arn:aws:ecs:us-west-2:1:cluster/my-cluster")),
            ("detail.serviceArn (the service's name)", json!(format!("arn:aws:ecs:r:1:service/c/{}", "s".repeat(256)))),
            ("detail.serviceDeploymentArn", json!("arn:aws:ecs:r:1:service/c/s")),
            ("detail.lifecycleStage", json!(huge)),
        ];
        for (field, value) in cases {
            let mut event = sample();
            let key = field.trim_start_matches("detail.").split(' ').next().unwrap();
            event["detail"][key] = value;
            let message = decode(event).unwrap_err().to_string();
            assert!(message.contains(&format!("field `{field}`")), "{message:.300}");
            assert!(message.chars().count() <= super::super::EVENT_ERROR_MAX, "{message:.300}");
        }
        let mut other = sample();
        other["detail-type"] = json!("ECS Deployment State Change");
        assert!(decode(other).unwrap_err().to_string().contains("detail-type"));
    }
}
