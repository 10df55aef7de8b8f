//! The events Deckhand accepts, decoded strictly: a malformed event is an error that names the
//! field and what was expected; a well-formed event of another kind is the caller's to ignore.

pub mod alarm;
pub mod codebuild;
pub mod deployment;
pub mod ecr;
pub mod ecr_scan;
pub mod hook;
pub mod hook_state;
pub mod limits;
pub mod operator;
pub mod service_action;

mod explain;

use crate::quote::{QUOTED_MAX, clip, quote};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use explain::explain;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;
use thiserror::Error;

/// Most characters of a field's path an error shows (a path can hold keys from the input).
pub const FIELD_MAX: usize = 128;
/// Most characters of what an error says was expected and found (input in it is `quote`d).
pub const EXPECTED_MAX: usize = 320;
/// The longest `EventError` any input can produce: `malformed event: field ``: expected ` and
/// the two bounded parts. Every constructor goes through `EventError::field`, which cuts.
pub const EVENT_ERROR_MAX: usize = 36 + FIELD_MAX + EXPECTED_MAX;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    /// At most `EVENT_ERROR_MAX` characters, on one line.
    #[error("malformed event: field `{field}`: expected {expected}")]
    Field { field: String, expected: String },
}

impl EventError {
    /// The field (`(event)`: the event itself) and what was expected there, each cut to its
    /// bound with control characters escaped. Input values in `expected` go through `quote`.
    pub fn field(field: impl Into<String>, expected: impl Into<String>) -> Self {
        Self::Field { field: clip(&field.into(), FIELD_MAX), expected: clip(&expected.into(), EXPECTED_MAX) }
    }
}

/// A value found where another was expected, as an error shows it: a string `quote`d (short,
/// escaped), a number or literal as it is, an array or object by its kind. At most `QUOTED_MAX`
/// characters.
pub fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => quote(text),
        Value::Number(number) => clip(&number.to_string(), QUOTED_MAX),
        Value::Null => "null".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The EventBridge envelope fields Deckhand relies on, checked against what the function expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: Option<String>,
    pub account: String,
    pub region: String,
    pub detail: Value,
}

/// Checks `source` and `detail-type`, requires `account`, `region` and an object `detail`, then
/// decodes the rest of the envelope (`id`, `time`, `resources`) as `aws_lambda_events` types it.
pub fn envelope(event: Value, source: &str, detail_type: &str) -> Result<Envelope, EventError> {
    let fields = event_object(&event)?;
    expect_string(fields, "detail-type", &[detail_type])?;
    expect_string(fields, "source", &[source])?;
    let account = expect_string(fields, "account", &[])?.to_owned();
    let region = expect_string(fields, "region", &[])?.to_owned();
    match fields.get("detail") {
        Some(Value::Object(_)) => {}
        Some(other) => return Err(EventError::field("detail", format!("an object, got {}", describe(other)))),
        None => return Err(EventError::field("detail", "an object (it is missing)")),
    }
    let event: EventBridgeEvent<Value> = decode_at(event, "")?;
    Ok(Envelope { id: event.id, account, region, detail: event.detail })
}

/// The event's `detail-type`, which must be one of `wanted`; the error says when the event is no
/// JSON object at all, or has no `detail-type`.
pub fn detail_type<'a>(event: &'a Value, wanted: &[&str]) -> Result<&'a str, EventError> {
    expect_string(event_object(event)?, "detail-type", wanted)
}

/// The event's fields; an event that is not a JSON object is an error that says so.
fn event_object(event: &Value) -> Result<&serde_json::Map<String, Value>, EventError> {
    event.as_object().ok_or_else(|| {
        EventError::field(
            "(event)",
            format!("a JSON object (an EventBridge event), got {}: the event is not a JSON object", describe(event)),
        )
    })
}

/// The string field `name`, which must be one of `wanted` (empty: any non-empty string).
fn expect_string<'a>(fields: &'a serde_json::Map<String, Value>, name: &str, wanted: &[&str]) -> Result<&'a str, EventError> {
    let expected = || match wanted {
        [] => "a non-empty string".to_owned(),
        _ => wanted.iter().map(|value| format!("\"{value}\"")).collect::<Vec<_>>().join(" or "),
    };
    match fields.get(name) {
        Some(Value::String(value)) if !value.is_empty() && (wanted.is_empty() || wanted.contains(&value.as_str())) => Ok(value),
        Some(other) => Err(EventError::field(name, format!("{}, got {}", expected(), describe(other)))),
        None => Err(EventError::field(name, format!("{} (it is missing)", expected()))),
    }
}

/// Decodes `detail` into `T`; an error names the full path (e.g. `detail.image-digest`).
pub fn detail<T: DeserializeOwned>(detail: Value) -> Result<T, EventError> {
    decode_at(detail, "detail")
}

/// Decodes `value`, found at `prefix` in the event (empty: the event itself), into `T`. An error
/// names the field by its full path, says what JSON was expected there (never a Rust type: give
/// `T`'s structs a `#[serde(expecting = "…")]`, or they read "an object"), and shows what was
/// found through `describe`, never serde's unbounded echo of it.
pub fn decode_at<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, EventError> {
    serde_path_to_error::deserialize(&value).map_err(|err| {
        let found = err.path().iter().try_fold(&value, |at, segment| match segment {
            Segment::Map { key } => at.get(key),
            Segment::Seq { index } => at.get(index),
            Segment::Enum { .. } => Some(at),
            _ => None,
        });
        let path = err.path().to_string();
        let field = match (path.as_str(), prefix) {
            (".", _) => prefix.to_owned(),
            (_, "") => path,
            _ => format!("{prefix}.{path}"),
        };
        explain(field, &err.into_inner().to_string(), found)
    })
}

#[cfg(test)]
mod tests;
