//! What an invocation asks: an alarm of the pair (or another's, ignored), the re-check schedule,
//! or an operator's request.

use super::operator::{self, Action};
use super::plan::Intent;
use crate::config::FailoverConfig;
use crate::error::HandlerError;
use crate::event::alarm;
use serde_json::Value;

/// What the function was asked to do.
pub(super) struct Request {
    pub event_id: Option<String>,
    pub trigger: String,
    pub ask: Ask,
    pub dry_run: bool,
}

pub(super) enum Ask {
    /// Plan (and, unless a dry run, carry out) a move.
    Plan(Intent),
    /// Report both regions; change nothing.
    Status,
    /// Not ours: the reason.
    Ignore(String),
}

/// What `event` asks of the failover pair `config` describes; a malformed one is an error.
pub(super) fn classify(event: Value, config: &FailoverConfig) -> Result<Request, HandlerError> {
    let event_id = event.get("id").and_then(Value::as_str).map(str::to_owned);
    if alarm::is_schedule(&event) {
        return Ok(Request { event_id, trigger: "schedule".into(), ask: Ask::Plan(Intent::Automatic), dry_run: false });
    }
    if operator::is_operator_request(&event) {
        // Strict: an unknown field (a misspelt `dryRun`) is an error, and nothing is done.
        let request = operator::decode(event)?;
        let ask = match request.action {
            Action::Failover => Ask::Plan(Intent::Failover),
            Action::Failback => Ask::Plan(Intent::Failback),
            Action::Status => Ask::Status,
        };
        let trigger = format!("operator: {}", request.action.as_str());
        return Ok(Request { event_id: None, trigger, ask, dry_run: request.dry_run });
    }
    let change = alarm::decode(event)?;
    let trigger = format!("alarm {} {}", change.alarm_name, change.state);
    let ours = change.alarm_name == config.primary_alarm || change.alarm_name == config.standby_alarm;
    let ask =
        if ours { Ask::Plan(Intent::Automatic) } else { Ask::Ignore(format!("{trigger} is not a health alarm of this failover pair")) };
    Ok(Request { event_id: change.event_id, trigger, ask, dry_run: false })
}
