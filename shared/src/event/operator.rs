//! Operator requests (`aws lambda invoke --payload '{"action": …}'`): region failover's and the
//! traffic gate's. A person types them, so they are read strictly: a field the request does not
//! know is an error that names it, and nothing is done. A misspelt safety flag (`"dryrun": true`)
//! must never run the real thing.

use super::EventError;
use super::hook_state::HookStateChange;
use crate::ports::HookAction;
use crate::quote::clip;
use serde_json::{Map, Value};

/// Most unknown fields an error names (the rest are counted), and most characters of each name.
const NAMED_MAX: usize = 3;
const NAME_MAX: usize = 64;

/// The request's fields, when it is a JSON object holding none but `allowed`; else an error that
/// names the first unknown field (and lists a few), or says that `shape` was expected.
pub fn only_fields<'a>(event: &'a Value, allowed: &[&str], shape: &str) -> Result<&'a Map<String, Value>, EventError> {
    let Value::Object(fields) = event else {
        return Err(EventError::field("(event)", format!("a JSON object {shape}")));
    };
    let unknown: Vec<String> = fields.keys().filter(|key| !allowed.contains(&key.as_str())).map(|key| clip(key, NAME_MAX)).collect();
    let Some(first) = unknown.first() else { return Ok(fields) };
    let mut which = unknown.iter().take(NAMED_MAX).map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    if unknown.len() > NAMED_MAX {
        which.push_str(&format!(" and {} more", unknown.len() - NAMED_MAX));
    }
    let plural = if unknown.len() == 1 { "" } else { "s" };
    Err(EventError::field(
        first.clone(),
        format!("only {} in an operator request: unknown field{plural} {which}; nothing was done", listed(allowed)),
    ))
}

/// The traffic-gate request that answers a paused deployment (`continue` with the hook's id, or
/// `rollback`), as a person pastes it: JSON with its fields always in this order, whatever map
/// order serde_json was built with.
pub fn pause_answer(continue_hook: Option<&str>, cluster: &str, service: &str) -> String {
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        action: &'a str,
        cluster: &'a str,
        service: &'a str,
        #[serde(rename = "hookId", skip_serializing_if = "Option::is_none")]
        hook_id: Option<&'a str>,
    }
    let action = if continue_hook.is_some() { "continue" } else { "rollback" };
    serde_json::to_string(&Answer { action, cluster, service, hook_id: continue_hook }).unwrap_or_default()
}

/// The AWS CLI command that answers a paused deployment (`CONTINUE` or `ROLLBACK`), for a person
/// to paste into a shell: `None` when an id holds a character a shell would interpret.
pub fn continue_command(change: &HookStateChange, action: HookAction) -> Option<String> {
    let (arn, hook, region) = (&change.deployment_arn, &change.hook_id, &change.region);
    let shell_safe = |value: &str| value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '_' | '-'));
    [arn, hook, region].iter().all(|v| shell_safe(v)).then(|| {
        format!(
            "aws ecs continue-service-deployment --region {region} --service-deployment-arn {arn} --hook-id {hook} --action {}",
            action.as_str()
        )
    })
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "no field".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_fields_a_request_may_have() {
        assert_eq!(listed(&["action"]), "`action`");
        assert_eq!(listed(&["action", "dryRun"]), "`action` and `dryRun`");
        assert_eq!(listed(&["action", "cluster", "dryRun"]), "`action`, `cluster` and `dryRun`");
        let request = json!({"action": "status", "dryRun": true});
        assert_eq!(only_fields(&request, &["action", "dryRun"], "{…}").unwrap().len(), 2);
        let err = only_fields(&json!({"action": "x", "dryrun": true}), &["action", "cluster", "dryRun"], "{…}").unwrap_err();
        assert!(err.to_string().contains("field `dryrun`: expected only `action`, `cluster` and `dryRun` in an operator request"), "{err}");
        let err = only_fields(&json!("status"), &["action"], "{\"action\": …}").unwrap_err().to_string();
        assert!(err.contains("field `(event)`: expected a JSON object {\"action\": …}"), "{err}");
    }
}
