//! The traffic gate's control of ECS-native deployments, beside its lifecycle hooks:
//!
//! - `pause`: pause hooks awaiting action (`ECS Hook State Change`), answered from evidence, or
//!   by a person on services tagged `deckhand:approval`;
//! - `operator`: an operator's `status`, `rollback`, `continue`, `freeze`, `unfreeze` (strict
//!   requests, `request`), with `dryRun`;
//! - `stuck`: on a schedule, deployments in flight past their progress deadline.
//!
//! What to do is decided in `plan` from what ECS shows now; markers (service tags) record what
//! was done and announced, written after it was, so that a retry finishes the job and a
//! redelivery does nothing.

mod notification;
mod operator;
mod pause;
pub mod plan;
pub mod request;
mod stuck;
#[cfg(test)]
mod tests;

use crate::event::alarm;
use crate::event::hook_state;
use serde_json::Value;

/// Which of the gate's control inputs an event is; `None`: a lifecycle hook (or nothing the gate
/// takes, which the hook decoder then says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// EventBridge Scheduler's (or a rule's) `Scheduled Event`: look for stuck deployments.
    Schedule,
    /// `ECS Hook State Change`.
    HookState,
    /// An operator's request.
    Operator,
}

pub fn input(event: &Value) -> Option<Input> {
    if alarm::is_schedule(event) {
        return Some(Input::Schedule);
    }
    if event.get("detail-type").and_then(Value::as_str) == Some(hook_state::DETAIL_TYPE) {
        return Some(Input::HookState);
    }
    request::is_operator_request(event).then_some(Input::Operator)
}
