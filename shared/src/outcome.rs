//! The one JSON outcome every function returns (the ECS lifecycle hook excepted: ECS dictates
//! that reply, and the outcome is logged instead): which function, which event, what happened
//! to each resource it looked at — or why it ignored the event — and what it published.

use crate::error::HandlerError;
use crate::notify::{Notification, Severity};
use crate::ports::ImageUpdate;
use crate::usecase::region_failover::plan::Step;
use crate::usecase::scaler::plan::{Decision, Direction};
use crate::usecase::traffic_gate::plan::Verdict;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Outcome {
    pub function: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Set when the whole event was ignored: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceOutcome>,
    /// The message the function itself published (rollouts and scaling publish one per resource:
    /// a resource's result is a success only once its notice went out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<Sent>,
    /// What the decision rested on, where that is more than the per-resource results: the gate's
    /// evidence and probes, the failover's observation of both regions and its plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceOutcome {
    /// `cluster/service`, `REGION cluster/service` where a function spans regions, or a DNS name.
    pub resource: String,
    /// What made the function look at it, when not the event itself (the alarm that fired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(flatten)]
    pub result: ResourceResult,
}

impl ResourceOutcome {
    pub fn service(cluster: &str, service: &str, result: ResourceResult) -> Self {
        Self { resource: format!("{cluster}/{service}"), trigger: None, result }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ResourceResult {
    /// image-pushed, build-finished: a new revision and a deployment of it.
    Deployed {
        controller: &'static str,
        task_definition: String,
        revision: i32,
        deployment_id: String,
        images: Vec<ImageUpdate>,
        /// A deployment of an older image that this one replaced.
        #[serde(skip_serializing_if = "Option::is_none")]
        superseded: Option<String>,
    },
    /// scaler: the desired count moved.
    Scaled { direction: Direction, from: i32, to: i32, metric: Option<f64>, threshold: f64 },
    /// scaler: the alarm asked for a change the policy holds back (cooldown, limit, deployment).
    Held {
        direction: Direction,
        #[serde(flatten)]
        decision: Decision,
        notified: bool,
    },
    /// traffic-gate: the verdict on a shift, after `checks` rounds of evidence; `caveats`: what
    /// it did not check (missing evidence) and notes on what it rests on.
    Gated {
        #[serde(flatten)]
        verdict: Verdict,
        checks: u32,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        caveats: Vec<String>,
    },
    /// region-failover: one step of the plan; `status` is `done`, `incomplete` (it happened, but
    /// a wait ran out) or `failed`.
    Step {
        #[serde(flatten)]
        step: Step,
        status: &'static str,
        detail: String,
        millis: u64,
    },
    /// Already as the event asks: why nothing was done.
    Unchanged { reason: String },
    /// Not Deckhand's to act on: why.
    Ignored { reason: String },
    /// An AWS call failed (after the SDK's retries): the invocation fails so Lambda retries it.
    Failed { error: String },
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

impl Outcome {
    pub fn new(function: &'static str, event_id: Option<String>) -> Self {
        Self { function, event_id, ignored: None, resources: Vec::new(), notification: None, details: None }
    }

    pub fn ignored(function: &'static str, event_id: Option<String>, reason: impl Into<String>) -> Self {
        Self { ignored: Some(reason.into()), ..Self::new(function, event_id) }
    }

    /// The outcome, or — when some resources failed — an error listing them, so Lambda retries
    /// the event (every step is idempotent: the resources already done are then `unchanged`).
    pub fn into_result(self) -> Result<Self, HandlerError> {
        let failures: Vec<String> = self
            .resources
            .iter()
            .filter_map(|r| match &r.result {
                ResourceResult::Failed { error } => Some(format!("{}: {error}", r.resource)),
                _ => None,
            })
            .collect();
        if failures.is_empty() {
            return Ok(self);
        }
        tracing::warn!(outcome = %serde_json::json!(self), "incomplete");
        Err(HandlerError::Incomplete { failed: failures.len(), total: self.resources.len(), summary: failures.join("; ") })
    }
}
