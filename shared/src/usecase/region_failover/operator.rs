//! An operator's request: `{"action": "failover" | "failback" | "status", "dryRun": true | false}`.
//!
//! Strict, because a person types it: a field that is not one of these two is an error that
//! names it, and nothing is done. A misspelt safety flag (`"dryrun": true`) must never run the
//! real thing.

use crate::event::operator::only_fields;
use crate::event::{EventError, decode_at};
use crate::quote::quote;
use serde::Deserialize;
use serde_json::Value;

/// Every field an operator request may have.
pub const FIELDS: [&str; 2] = ["action", "dryRun"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Move traffic to the standby (skips the dwell time, never the health preconditions).
    Failover,
    /// Move traffic back to the primary.
    Failback,
    /// Report both regions; change nothing.
    Status,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failover => "failover",
            Action::Failback => "failback",
            Action::Status => "status",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorRequest {
    pub action: Action,
    /// Plan only: observe, plan and return the plan; change nothing, send nothing.
    pub dry_run: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    action: String,
    #[serde(default, rename = "dryRun")]
    dry_run: bool,
}

/// Whether `event` is meant as an operator's request rather than an AWS event: it has `action`,
/// or it is an object with neither of EventBridge's `source` and `detail-type` (`{"dryRun": true}`
/// is then an error that says `action` is missing, not that `detail-type` is).
pub fn is_operator_request(event: &Value) -> bool {
    event
        .as_object()
        .is_some_and(|fields| fields.contains_key("action") || !(fields.contains_key("source") || fields.contains_key("detail-type")))
}

/// Decodes an operator request; unknown fields, a missing or unknown `action`, and a `dryRun`
/// that is not `true` or `false` are errors that name the field.
pub fn decode(event: Value) -> Result<OperatorRequest, EventError> {
    only_fields(&event, &FIELDS, "{\"action\": \"failover\" | \"failback\" | \"status\", \"dryRun\": true | false}")?;
    let raw: Raw = decode_at(event, "")?;
    let action = match raw.action.as_str() {
        "failover" => Action::Failover,
        "failback" => Action::Failback,
        "status" => Action::Status,
        other => return Err(EventError::field("action", format!("failover, failback or status, got {}", quote(other)))),
    };
    Ok(OperatorRequest { action, dry_run: raw.dry_run })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_documented_requests() {
        let request = |value: Value| decode(value).unwrap();
        assert_eq!(request(json!({"action": "status"})), OperatorRequest { action: Action::Status, dry_run: false });
        assert_eq!(request(json!({"action": "failover", "dryRun": true})), OperatorRequest { action: Action::Failover, dry_run: true });
        assert_eq!(request(json!({"action": "failback", "dryRun": false})), OperatorRequest { action: Action::Failback, dry_run: false });
    }

    #[test]
    fn unknown_fields_are_named_and_refused() {
        let err = decode(json!({"action": "failover", "dryrun": true})).unwrap_err().to_string();
        assert!(err.contains("field `dryrun`") && err.contains("`action` and `dryRun`") && err.contains("nothing was done"), "{err}");
        let err = decode(json!({"action": "failover", "dry_run": true, "force": 1, "a": 1, "b": 2})).unwrap_err().to_string();
        // Three named (in the payload's order or sorted, as serde_json keeps maps), one counted.
        let named = ["`dry_run`", "`force`", "`a`", "`b`"].iter().filter(|name| err.contains(*name)).count();
        assert!(err.contains("unknown fields `") && err.contains(" and 1 more;") && named == 3, "{err}");
        let huge = "k".repeat(1 << 20);
        let err = decode(json!({"action": "failover", huge.clone(): true})).unwrap_err().to_string();
        assert!(err.len() < 400 && err.contains("1048576 bytes"), "{} bytes", err.len());
    }

    #[test]
    fn wrong_values_name_the_field() {
        for (event, field) in [
            (json!({"dryRun": true}), "`action`"),
            (json!({"action": "failover", "dryRun": "true"}), "`dryRun`"),
            (json!({"action": 1}), "`action`"),
            (json!({"action": "Failover"}), "`action`"),
            (json!(["failover"]), "`(event)`"),
        ] {
            let err = decode(event.clone()).unwrap_err().to_string();
            assert!(err.contains(field), "{event}: {err}");
        }
        let err = decode(json!({"action": "x".repeat(1 << 20)})).unwrap_err().to_string();
        assert!(err.len() < 300, "{} bytes", err.len());
    }

    #[test]
    fn tells_operator_requests_from_aws_events() {
        assert!(is_operator_request(&json!({"action": "status"})));
        assert!(is_operator_request(&json!({"dryRun": true})));
        assert!(is_operator_request(&json!({})));
        assert!(!is_operator_request(&json!({"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change"})));
        assert!(!is_operator_request(&json!("failover")));
    }
}
