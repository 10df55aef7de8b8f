//! The one JSON outcome every function returns (the ECS lifecycle hook excepted: ECS dictates
//! that reply, and the outcome is logged instead): which function, which event, what happened
//! to each resource it looked at — or why it ignored the event — and what it published.
//!
//! Inputs are untrusted, outputs bounded: the decoders refuse ids longer than AWS issues
//! (`event::limits`), and as a last guard an outcome serializes through `Outcome::bounded`, which
//! clips every string and caps the whole at `OUTCOME_MAX` bytes, whatever went into it.

use crate::error::{ERROR_MAX, HandlerError};
use crate::notify::{Notification, Severity};
use crate::ports::ImageUpdate;
use crate::quote::clip;
use crate::usecase::region_failover::plan::Step;
use crate::usecase::scaler::plan::{Decision, Direction};
use crate::usecase::traffic_gate::plan::Verdict;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// Most bytes of an outcome as JSON, wherever it goes (the Lambda response, the log line that
/// carries it): 128 KiB, half of CloudWatch Logs' 256 KiB event limit, far under Lambda's 6 MB
/// response limit. Enforced by `Outcome::bounded`: once every string is clipped, an outcome still
/// over it loses its `details`, then its last resources (counted in `resources_omitted`). What is
/// always kept fits: `event_id` (`OUTCOME_ID_MAX` characters), `ignored` and the notification's
/// four strings (`OUTCOME_TEXT_MAX` each), at most 4 bytes of JSON per character, plus keys and
/// small values: (600 + 5 × 1,100) × 4 + 1,024 = 25,424 bytes (`KEPT_MAX`).
pub const OUTCOME_MAX: usize = 128 * 1024;
/// Most characters of an id or name in an outcome (`event_id`, `resource`, `trigger`): room for
/// `REGION cluster/service` with two 255-character ECS names.
pub const OUTCOME_ID_MAX: usize = 600;
/// Most characters of any other string in an outcome (reasons, errors, details): `ERROR_MAX`.
pub const OUTCOME_TEXT_MAX: usize = ERROR_MAX;
/// The most an outcome stripped of details and resources can take (see `OUTCOME_MAX`).
const KEPT_MAX: usize = (OUTCOME_ID_MAX + 5 * OUTCOME_TEXT_MAX) * 4 + 1024;
/// Room kept for `"resources_omitted": N` when resources are dropped.
const OMITTED_ROOM: usize = 64;
const _: () = assert!(KEPT_MAX + OMITTED_ROOM + 256 <= OUTCOME_MAX);

/// Serialized through `Outcome::bounded`: at most `OUTCOME_MAX` bytes of JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub function: &'static str,
    pub event_id: Option<String>,
    /// Set when the whole event was ignored: why.
    pub ignored: Option<String>,
    pub resources: Vec<ResourceOutcome>,
    /// The message the function itself published (rollouts and scaling publish one per resource:
    /// a resource's result is a success only once its notice went out).
    pub notification: Option<Sent>,
    /// What the decision rested on, where that is more than the per-resource results: the gate's
    /// evidence and probes, the failover's observation of both regions and its plan.
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
        /// ECS-native deployments: `BLUE_GREEN`, `LINEAR` or `CANARY`.
        #[serde(skip_serializing_if = "Option::is_none")]
        strategy: Option<&'static str>,
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
    /// The outcome as JSON, at most `OUTCOME_MAX` bytes: ids and names (`event_id`, `resource`,
    /// `trigger`) clipped to `OUTCOME_ID_MAX` characters, every other string (reasons, errors,
    /// details) to `OUTCOME_TEXT_MAX`; then, if still over, `details` replaced by a note of its
    /// size, then the last resources dropped and counted in `resources_omitted`.
    pub fn bounded(&self) -> Value {
        let fields = Fields {
            function: self.function,
            event_id: self.event_id.as_deref(),
            ignored: self.ignored.as_deref(),
            resources: &self.resources,
            notification: self.notification.as_ref(),
            details: self.details.as_ref(),
        };
        let mut value = serde_json::to_value(fields).unwrap_or_else(
            |err| json!({"function": self.function, "event_id": self.event_id, "error": format!("outcome not serializable: {err}")}),
        );
        clip_strings(value.get_mut("event_id"), OUTCOME_ID_MAX);
        if let Some(Value::Array(resources)) = value.get_mut("resources") {
            for resource in resources {
                clip_strings(resource.get_mut("resource"), OUTCOME_ID_MAX);
                clip_strings(resource.get_mut("trigger"), OUTCOME_ID_MAX);
            }
        }
        clip_strings(Some(&mut value), OUTCOME_TEXT_MAX);
        if json_len(&value) <= OUTCOME_MAX {
            return value;
        }
        if let Some(details) = value.get_mut("details") {
            let size = json_len(details);
            *details = json!({ "omitted": format!("{size} bytes of details: over the outcome's bound ({OUTCOME_MAX} bytes)") });
        }
        let mut size = json_len(&value);
        if size > OUTCOME_MAX
            && let Some(Value::Array(resources)) = value.get_mut("resources")
        {
            let mut omitted = 0_usize;
            while size + OMITTED_ROOM > OUTCOME_MAX {
                let Some(last) = resources.pop() else { break };
                // The element and its comma (one byte too many for the last: the room covers it).
                size = size.saturating_sub(json_len(&last) + 1);
                omitted += 1;
            }
            value["resources_omitted"] = json!(omitted);
        }
        value
    }

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

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.bounded().serialize(serializer)
    }
}

/// `Outcome`'s fields as they serialize before `Outcome::bounded` clips them.
#[derive(Serialize)]
struct Fields<'a> {
    function: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    resources: &'a [ResourceOutcome],
    #[serde(skip_serializing_if = "Option::is_none")]
    notification: Option<&'a Sent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

/// Every string in `value` longer than `max`, `clip`ped to `max`.
fn clip_strings(value: Option<&mut Value>, max: usize) {
    match value {
        Some(Value::String(text)) if text.len() > max => *text = clip(text, max),
        Some(Value::Array(items)) => items.iter_mut().for_each(|item| clip_strings(Some(item), max)),
        Some(Value::Object(fields)) => fields.values_mut().for_each(|field| clip_strings(Some(field), max)),
        _ => {}
    }
}

/// Bytes of `value` as compact JSON.
fn json_len(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Severity;

    fn size(outcome: &Outcome) -> usize {
        serde_json::to_string(outcome).unwrap().len()
    }

    #[test]
    fn an_ordinary_outcome_serializes_as_it_is() {
        let mut outcome = Outcome::ignored("scaler", Some("e-1".into()), "alarm x is OK: only ALARM scales");
        outcome.resources.push(ResourceOutcome::service("prod", "web", ResourceResult::Unchanged { reason: "two\nlines".into() }));
        assert_eq!(
            serde_json::to_value(&outcome).unwrap(),
            json!({"function": "scaler", "event_id": "e-1", "ignored": "alarm x is OK: only ALARM scales",
                   "resources": [{"resource": "prod/web", "result": "unchanged", "reason": "two\nlines"}]})
        );
    }

    #[test]
    fn no_outcome_outgrows_its_bound() {
        // A megabyte in every string an input can reach, with quotes and newlines to escape.
        let huge = format!("{}\n\"\u{1b}", "é\"".repeat(1 << 19));
        let mut outcome = Outcome::ignored("traffic-gate", Some(huge.clone()), huge.clone());
        outcome.notification = Some(Sent { event: "gate", severity: Severity::Critical, subject: huge.clone(), message_id: huge.clone() });
        outcome.details = Some(json!({"deployment_id": huge, "probes": vec![huge.clone(); 10]}));
        let resource = |result| ResourceOutcome { resource: huge.clone(), trigger: Some(huge.clone()), result };
        outcome.resources.push(resource(ResourceResult::Ignored { reason: huge.clone() }));
        outcome.resources.push(resource(ResourceResult::Failed { error: huge.clone() }));
        let bounded = outcome.bounded();
        let chars = |value: &Value| value.as_str().unwrap().chars().count();
        assert!((100..=OUTCOME_ID_MAX).contains(&chars(&bounded["event_id"])), "{}", bounded["event_id"]);
        assert!((100..=OUTCOME_ID_MAX).contains(&chars(&bounded["resources"][0]["trigger"])));
        assert!((100..=OUTCOME_TEXT_MAX).contains(&chars(&bounded["resources"][1]["error"])));
        assert!(size(&outcome) <= OUTCOME_MAX, "{} bytes", size(&outcome));
        // Ten thousand resources, each at its bound: details go first, then the last resources, counted.
        let long = "x".repeat(2 * OUTCOME_TEXT_MAX);
        let resource = |result| ResourceOutcome { resource: long.clone(), trigger: Some(long.clone()), result };
        outcome.resources = (0..10_000).map(|_| resource(ResourceResult::Unchanged { reason: long.clone() })).collect();
        let bounded = outcome.bounded();
        assert!(size(&outcome) <= OUTCOME_MAX, "{} bytes", size(&outcome));
        assert!(bounded["details"]["omitted"].as_str().unwrap().contains("bytes of details"), "{}", bounded["details"]);
        let kept = bounded["resources"].as_array().unwrap().len();
        assert!(kept > 10, "{kept} resources kept");
        assert_eq!(bounded["resources_omitted"], json!(10_000 - kept));
        let json = serde_json::to_string(&outcome).unwrap();
        assert!(!json.contains('\n') && !json.contains('\u{1b}'), "one line, no raw control characters");
    }
}
