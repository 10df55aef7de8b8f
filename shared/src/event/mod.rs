//! The events Deckhand accepts, decoded strictly: a malformed event is an error that names the
//! field and what was expected; a well-formed event of another kind is the caller's to ignore.

pub mod alarm;
pub mod codebuild;
pub mod deployment;
pub mod ecr;
pub mod hook;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::de::DeserializeOwned;
use serde_json::Value;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    #[error("malformed event: field `{field}`: expected {expected}")]
    Field { field: String, expected: String },
}

impl EventError {
    pub fn field(field: impl Into<String>, expected: impl Into<String>) -> Self {
        Self::Field { field: field.into(), expected: expected.into() }
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
    let Value::Object(fields) = event else {
        return Err(EventError::field("(event)", "a JSON object (an EventBridge event)"));
    };
    expect_string(&fields, "detail-type", Some(detail_type))?;
    expect_string(&fields, "source", Some(source))?;
    let account = expect_string(&fields, "account", None)?;
    let region = expect_string(&fields, "region", None)?;
    match fields.get("detail") {
        Some(Value::Object(_)) => {}
        Some(_) => return Err(EventError::field("detail", "an object")),
        None => return Err(EventError::field("detail", "an object (it is missing)")),
    }
    let event: EventBridgeEvent<Value> = decode_at(Value::Object(fields), "")?;
    Ok(Envelope { id: event.id, account, region, detail: event.detail })
}

fn expect_string(fields: &serde_json::Map<String, Value>, name: &str, wanted: Option<&str>) -> Result<String, EventError> {
    let expected = || wanted.map_or_else(|| "a non-empty string".to_owned(), |value| format!("\"{value}\""));
    match fields.get(name) {
        Some(Value::String(value)) if wanted.is_none_or(|wanted| wanted == value) && !value.is_empty() => Ok(value.clone()),
        Some(Value::String(value)) => Err(EventError::field(name, format!("{}, got \"{value}\"", expected()))),
        Some(other) => Err(EventError::field(name, format!("{}, got {}", expected(), kind_of(other)))),
        None => Err(EventError::field(name, format!("{} (it is missing)", expected()))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes `detail` into `T`; an error names the full path (e.g. `detail.image-digest`).
pub fn detail<T: DeserializeOwned>(detail: Value) -> Result<T, EventError> {
    decode_at(detail, "detail")
}

/// Decodes `value`, found at `prefix` in the event (empty: the event itself), into `T`; an
/// error names the field by its full path.
pub fn decode_at<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, EventError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = match (path.as_str(), prefix) {
            (".", _) => prefix.to_owned(),
            (_, "") => path,
            _ => format!("{prefix}.{path}"),
        };
        let inner = err.into_inner().to_string();
        // serde's "missing field `x`" is reported at the parent: name the field itself.
        match inner.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            Some(missing) if field.is_empty() => EventError::field(missing, "a value (it is missing)"),
            Some(missing) => EventError::field(format!("{field}.{missing}"), "a value (it is missing)"),
            None if field.is_empty() => EventError::field("(event)", strip_position(&inner)),
            None => EventError::field(field, strip_position(&inner)),
        }
    })
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}
