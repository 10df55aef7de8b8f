//! An operator's request to the traffic gate: `{"action": "status" | "rollback" | "continue" |
//! "freeze" | "unfreeze", "cluster": …, "service": …, "hookId": … (continue), "reason": …
//! (freeze), "dryRun": true | false}`. Read strictly (`event::operator`): an unknown field, or
//! one the action does not take, is an error that names it, and nothing is done.

use crate::event::limits::{ECS_NAME_MAX, HOOK_EXECUTION_ID_MAX, at_most};
use crate::event::operator::only_fields;
use crate::event::{EventError, decode_at};
use crate::quote::quote;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every field a request may have.
pub const FIELDS: [&str; 6] = ["action", "cluster", "service", "hookId", "reason", "dryRun"];

const SHAPE: &str = "{\"action\": \"status\" | \"rollback\" | \"continue\" | \"freeze\" | \"unfreeze\", \"cluster\": …, \"service\": …, \
                     \"hookId\": …, \"reason\": …, \"dryRun\": true | false}";

/// ECS tag values: at most 256 characters (ECS API reference, `Tag.value`).
const REASON_MAX: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Report the service's deployments; change nothing.
    Status,
    /// Roll the service back: stop the deployment in flight, or redeploy the revision before.
    Rollback,
    /// Continue a deployment paused at a hook.
    Continue,
    /// Set `deckhand:freeze`: the gate fails every shift.
    Freeze,
    /// Lift `deckhand:freeze`.
    Unfreeze,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Status => "status",
            Action::Rollback => "rollback",
            Action::Continue => "continue",
            Action::Freeze => "freeze",
            Action::Unfreeze => "unfreeze",
        }
    }

    const ALL: [Action; 5] = [Action::Status, Action::Rollback, Action::Continue, Action::Freeze, Action::Unfreeze];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlRequest {
    pub action: Action,
    pub cluster: String,
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Observe and say what would be done; change nothing, send nothing.
    pub dry_run: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    action: String,
    cluster: String,
    service: String,
    #[serde(default)]
    hook_id: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

/// Whether `event` is meant as an operator's request, not a lifecycle hook or an AWS event: an
/// object without EventBridge's `source` that has one of the request's fields and none of a
/// hook's. (`{"dryRun": true}` is then an error saying `action` is missing.)
pub fn is_operator_request(event: &Value) -> bool {
    const HOOK_FIELDS: [&str; 5] = ["DeploymentId", "LifecycleEventHookExecutionId", "executionId", "lifecycleStage", "executionDetails"];
    event.as_object().is_some_and(|fields| {
        !fields.contains_key("source")
            && FIELDS.iter().any(|name| fields.contains_key(*name))
            && !HOOK_FIELDS.iter().any(|name| fields.contains_key(*name))
    })
}

pub fn decode(event: Value) -> Result<ControlRequest, EventError> {
    only_fields(&event, &FIELDS, SHAPE)?;
    let raw: Raw = decode_at(event, "")?;
    let action = Action::ALL.into_iter().find(|action| action.as_str() == raw.action).ok_or_else(|| {
        EventError::field("action", format!("status, rollback, continue, freeze or unfreeze, got {}", quote(&raw.action)))
    })?;
    ecs_name("cluster", &raw.cluster)?;
    ecs_name("service", &raw.service)?;
    if let Some(hook_id) = &raw.hook_id {
        if action != Action::Continue {
            return Err(EventError::field("hookId", format!("no hookId with action {}: only continue names a hook", action.as_str())));
        }
        at_most("hookId", hook_id, HOOK_EXECUTION_ID_MAX)?;
        if hook_id.trim().is_empty() {
            return Err(EventError::field("hookId", "a hook's id (aws ecs describe-service-deployments lists them), got an empty string"));
        }
    }
    if let Some(reason) = &raw.reason {
        if action != Action::Freeze {
            return Err(EventError::field("reason", format!("no reason with action {}: only freeze takes one", action.as_str())));
        }
        tag_value("reason", reason)?;
    }
    Ok(ControlRequest {
        action,
        cluster: raw.cluster,
        service: raw.service,
        hook_id: raw.hook_id,
        reason: raw.reason,
        dry_run: raw.dry_run,
    })
}

/// ECS cluster and service names: 1–255 letters, digits, hyphens and underscores (names, not ARNs).
fn ecs_name(field: &str, name: &str) -> Result<(), EventError> {
    at_most(field, name, ECS_NAME_MAX)?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(EventError::field(field, format!("an ECS name (letters, digits, - and _; not an ARN), got {}", quote(name))));
    }
    Ok(())
}

/// A freeze's value as ECS takes it: letters, digits, spaces and `_ . : / = + - @`, at most 256
/// characters; not blank and not `false`, which the gate reads as no freeze.
fn tag_value(field: &str, value: &str) -> Result<(), EventError> {
    at_most(field, value, REASON_MAX)?;
    let allowed = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
    if !value.chars().all(allowed) {
        return Err(EventError::field(
            field,
            format!("letters, digits, spaces and _ . : / = + - @ (what ECS allows in a tag), got {}", quote(value)),
        ));
    }
    if value.trim().is_empty() || value.trim() == "false" {
        return Err(EventError::field(
            field,
            format!("a reason that is neither blank nor false (both mean no freeze), got {}", quote(value)),
        ));
    }
    Ok(())
}
