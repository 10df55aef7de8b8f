//! `CodeBuild Build State Change` events (source `aws.codebuild`).

use super::limits::{ARN_MAX, EVENT_ID_MAX, PROJECT_NAME_MAX, STATE_MAX, at_most};
use super::{EventError, detail, envelope};
use serde::Deserialize;
use serde_json::Value;

pub const SOURCE: &str = "aws.codebuild";
pub const DETAIL_TYPE: &str = "CodeBuild Build State Change";

#[derive(Debug, Clone, PartialEq)]
pub struct BuildStateChange {
    pub event_id: Option<String>,
    pub account: String,
    pub region: String,
    /// IN_PROGRESS, SUCCEEDED, FAILED, STOPPED or TIMED_OUT.
    pub status: String,
    pub project: String,
    /// `arn:aws:codebuild:REGION:ACCOUNT:build/PROJECT:UUID`.
    pub build_id: String,
    pub build_number: Option<u64>,
    pub initiator: Option<String>,
    pub source_version: Option<String>,
    pub logs_link: Option<String>,
    pub phases: Vec<Phase>,
    pub current_phase: Option<String>,
    /// Variables the buildspec exported (`env.exported-variables`), in order.
    pub exported: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub kind: String,
    pub status: Option<String>,
    pub context: Vec<String>,
    pub seconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", expecting = "an object with build-status, project-name, build-id and optional additional-information")]
struct Detail {
    build_status: String,
    project_name: String,
    build_id: String,
    #[serde(default)]
    current_phase: Option<String>,
    #[serde(default)]
    additional_information: Additional,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case", expecting = "an object (build-number, initiator, source-version, logs, phases, …)")]
struct Additional {
    #[serde(default)]
    build_number: Option<f64>,
    #[serde(default)]
    initiator: Option<String>,
    #[serde(default)]
    source_version: Option<String>,
    #[serde(default)]
    logs: Option<Logs>,
    #[serde(default)]
    phases: Vec<RawPhase>,
    #[serde(default)]
    exported_environment_variables: Vec<NameValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", expecting = "an object with optional deep-link")]
struct Logs {
    #[serde(default)]
    deep_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", expecting = "an object with phase-type and optional phase-status, phase-context, duration-in-seconds")]
struct RawPhase {
    phase_type: String,
    #[serde(default)]
    phase_status: Option<String>,
    /// Strings, but CodeBuild has sent `[null]` and `": "`; anything else is dropped.
    #[serde(default)]
    phase_context: Vec<Value>,
    #[serde(default)]
    duration_in_seconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(expecting = "an object with name and optional value")]
struct NameValue {
    name: String,
    #[serde(default)]
    value: String,
}

pub fn decode(event: Value) -> Result<BuildStateChange, EventError> {
    let envelope = envelope(event, SOURCE, DETAIL_TYPE)?;
    let detail: Detail = detail(envelope.detail)?;
    at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
    at_most("detail.build-status", &detail.build_status, STATE_MAX)?;
    at_most("detail.project-name", &detail.project_name, PROJECT_NAME_MAX)?;
    at_most("detail.build-id", &detail.build_id, ARN_MAX)?;
    let info = detail.additional_information;
    let phases = info
        .phases
        .into_iter()
        .map(|p| Phase {
            kind: p.phase_type,
            status: p.phase_status,
            context: p
                .phase_context
                .into_iter()
                .filter_map(|c| c.as_str().map(str::trim).filter(|c| !c.is_empty() && *c != ":").map(str::to_owned))
                .collect(),
            seconds: p.duration_in_seconds,
        })
        .collect();
    Ok(BuildStateChange {
        event_id: envelope.id,
        account: envelope.account,
        region: envelope.region,
        status: detail.build_status,
        project: detail.project_name,
        build_id: detail.build_id,
        build_number: info.build_number.filter(|n| *n >= 0.0).map(|n| n as u64),
        initiator: info.initiator,
        source_version: info.source_version,
        logs_link: info.logs.and_then(|l| l.deep_link),
        phases,
        current_phase: detail.current_phase,
        exported: info.exported_environment_variables.into_iter().map(|v| (v.name, v.value)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_names_longer_than_aws_issues_are_refused_short() {
        let huge = json!("x".repeat(1 << 20));
        for (field, outer, inner) in [
            ("id", "id", ""),
            ("detail.build-status", "detail", "build-status"),
            ("detail.project-name", "detail", "project-name"),
            ("detail.build-id", "detail", "build-id"),
        ] {
            let mut event: Value = serde_json::from_str(include_str!("../../../events/codebuild-failed.json")).unwrap();
            match inner {
                "" => event[outer] = huge.clone(),
                inner => event[outer][inner] = huge.clone(),
            }
            let message = decode(event).unwrap_err().to_string();
            assert!(message.contains(&format!("field `{field}`: expected at most ")), "{message:.300}");
            assert!(message.chars().count() <= super::super::EVENT_ERROR_MAX, "{message:.300}");
        }
    }
}
