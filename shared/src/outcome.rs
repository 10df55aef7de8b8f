//! The structured JSON outcome every function returns: what it did, to which resources, or why
//! it ignored the event.

use crate::error::HandlerError;
use crate::notify::{Notification, Severity};
use crate::rollout::ImageUpdate;
use serde::Serialize;

/// A per-service result that may be a failure.
pub trait Failure {
    fn failure(&self) -> Option<&str>;
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome<R = ServiceResult> {
    pub function: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Set when the whole event was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceOutcome<R>>,
    /// The message the function itself published (deployments publish their own, per service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<Sent>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sent {
    pub event: &'static str,
    pub severity: Severity,
    pub subject: String,
    pub message_id: String,
}

impl Sent {
    pub fn of(notification: &Notification, message_id: String) -> Self {
        Self { event: notification.event, severity: notification.severity, subject: notification.sns_subject(), message_id }
    }
}

impl<R: Failure + Serialize> Outcome<R> {
    pub fn ignored(function: &'static str, event_id: Option<String>, reason: impl Into<String>) -> Self {
        Self { ignored: Some(reason.into()), ..Self::new(function, event_id) }
    }

    pub fn new(function: &'static str, event_id: Option<String>) -> Self {
        Self { function, event_id, ignored: None, services: Vec::new(), notification: None }
    }

    /// The outcome, or — when some services failed — an error listing them, so Lambda retries
    /// the event (every step is idempotent: the services already done are then `unchanged`).
    pub fn into_result(self) -> Result<Self, HandlerError> {
        let failures: Vec<String> =
            self.services.iter().filter_map(|s| s.result.failure().map(|error| format!("{}/{}: {error}", s.cluster, s.service))).collect();
        if failures.is_empty() {
            return Ok(self);
        }
        tracing::warn!(outcome = %serde_json::json!(self), "incomplete");
        Err(HandlerError::Incomplete { failed: failures.len(), total: self.services.len(), summary: failures.join("; ") })
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceOutcome<R = ServiceResult> {
    pub cluster: String,
    pub service: String,
    #[serde(flatten)]
    pub result: R,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ServiceResult {
    Deployed {
        controller: &'static str,
        task_definition: String,
        revision: i32,
        deployment_id: String,
        images: Vec<ImageUpdate>,
        /// A deployment of an older image that this one replaced.
        #[serde(skip_serializing_if = "Option::is_none")]
        superseded: Option<String>,
        notified: bool,
    },
    Unchanged {
        reason: String,
    },
    Ignored {
        reason: String,
    },
    Failed {
        error: String,
    },
}

impl Failure for ServiceResult {
    fn failure(&self) -> Option<&str> {
        match self {
            ServiceResult::Failed { error } => Some(error),
            _ => None,
        }
    }
}
