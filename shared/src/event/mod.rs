//! The events Deckhand accepts, decoded strictly: a malformed event is an error that names the
//! field and what was expected; a well-formed event of another kind is the caller's to ignore.

pub mod alarm;
pub mod codebuild;
pub mod deployment;
pub mod ecr;
pub mod hook;

use crate::quote::{QUOTED_MAX, clip, quote};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
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

/// serde's message for a value at `field`, said in terms of JSON, with the input bounded.
fn explain(field: String, message: &str, found: Option<&Value>) -> EventError {
    let at = |inner: &str| if field.is_empty() { inner.to_owned() } else { format!("{field}.{inner}") };
    let field = if field.is_empty() { "(event)".to_owned() } else { field.clone() };
    // serde's "missing field `x`" is reported at the parent: name the field itself.
    if let Some(missing) = message.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
        return EventError::field(at(missing), "a value (it is missing)");
    }
    // "unknown field `k`, expected one of `a`, `b`" (k is the input's): name the field itself.
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, known) = rest
            .rsplit_once("`, expected ")
            .or_else(|| rest.rsplit_once("`, there are no fields").map(|(name, _)| (name, "there is none")))
            .unwrap_or((rest, "see the documentation"));
        // serde_path_to_error has usually put the key in the path already.
        let named = if field.rsplit('.').next() == Some(name) { field } else { at(name) };
        return EventError::field(named, format!("a known field ({known}), got an unknown one"));
    }
    // "invalid type: string \"…\", expected u32" and "unknown variant `…`, expected one of …":
    // what was found is shown from the input itself, bounded.
    let leads = [
        ("invalid type: ", ", expected "),
        ("invalid value: ", ", expected "),
        ("invalid length ", ", expected "),
        ("unknown variant `", "`, expected "),
    ];
    for (lead, separator) in leads {
        if let Some((echo, expected)) = message.strip_prefix(lead).and_then(|rest| rest.rsplit_once(separator)) {
            let got = found.map_or_else(|| clip(echo, QUOTED_MAX), describe);
            return EventError::field(field, format!("{}, got {got}", plain_json(expected)));
        }
    }
    if message.starts_with("data did not match any variant of untagged enum") {
        let got = found.map_or_else(|| "something else".to_owned(), describe);
        return EventError::field(field, format!("a value of one of the accepted shapes, got {got}"));
    }
    EventError::field(field, plain_json(message.split(" at line ").next().unwrap_or(message)))
}

/// What serde says it expected, in JSON's words: `u32` → `a whole number from 0 to 4294967295`,
/// `struct ExecutionDetails` → `an object`, `a sequence` → `an array`.
fn plain_json(expected: &str) -> String {
    let whole = |min: i128, max: u128| format!("a whole number from {min} to {max}");
    let exact = match expected {
        "u8" => Some(whole(0, u8::MAX.into())),
        "u16" => Some(whole(0, u16::MAX.into())),
        "u32" => Some(whole(0, u32::MAX.into())),
        "u64" | "usize" => Some(whole(0, u64::MAX.into())),
        "i8" => Some(whole(i8::MIN.into(), i8::MAX as u128)),
        "i16" => Some(whole(i16::MIN.into(), i16::MAX as u128)),
        "i32" => Some(whole(i32::MIN.into(), i32::MAX as u128)),
        "i64" | "isize" => Some(whole(i64::MIN.into(), i64::MAX as u128)),
        "f32" | "f64" => Some("a number".to_owned()),
        "a borrowed string" => Some("a string".to_owned()),
        "a sequence" => Some("an array".to_owned()),
        "a map" => Some("an object".to_owned()),
        "option" => Some("a value or null".to_owned()),
        "unit" => Some("null".to_owned()),
        "a character" => Some("a one-character string".to_owned()),
        "variant identifier" | "field identifier" => Some("a known name".to_owned()),
        _ => None,
    };
    exact.unwrap_or_else(|| without_type_names(expected))
}

/// `… struct Name …` → `… an object …`, `… enum Name …` → `… a known value …`: serde's
/// default `expecting` names the Rust type, which means nothing to whoever sent the JSON.
fn without_type_names(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let named = words.get(i + 1).is_some_and(|name| name.starts_with(|c: char| c.is_ascii_uppercase()));
        let replacement = match words[i] {
            "struct" if named => Some(match out.last() {
                Some(&"tuple") => "an array",
                Some(&"unit") => "null",
                Some(&"newtype") => "a value",
                _ => "an object",
            }),
            "enum" if named => Some(match out.last() {
                Some(&"tagged") => "an object with a known tag",
                Some(&"untagged") => "a value of one of the accepted shapes",
                _ => "a known value",
            }),
            "variant" if words.get(i + 1) == Some(&"identifier") => Some("a known name"),
            _ => None,
        };
        match replacement {
            Some(replacement) => {
                // A struct read from an array: "struct X with 3 elements" (JSON gives objects).
                let count = words.get(i + 2..i + 5).is_some_and(|w| w[0] == "with" && w[2].starts_with("element"));
                if count && replacement == "an object" {
                    i += 3;
                }
                while matches!(out.last(), Some(&("tuple" | "unit" | "newtype" | "tagged" | "internally" | "adjacently" | "untagged"))) {
                    out.pop();
                }
                out.push(replacement);
                i += 2;
            }
            None => {
                out.push(words[i]);
                i += 1;
            }
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    fn sample(name: &str) -> Value {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    type Decoder = fn(Value) -> Result<(), EventError>;

    /// Every decoder of an AWS event, with a sample it accepts.
    fn decoders() -> Vec<(&'static str, Decoder, Value)> {
        vec![
            ("ecr", |e| ecr::decode(e).map(drop), sample("ecr-push-tagged.json")),
            ("codebuild", |e| codebuild::decode(e).map(drop), sample("codebuild-failed.json")),
            ("deployment", |e| deployment::decode(e).map(drop), sample("ecs-deployment-failed.json")),
            ("alarm", |e| alarm::decode(e).map(drop), sample("cloudwatch-alarm-scale-out.json")),
            ("hook", |e| hook::decode(e).map(drop), sample("ecs-hook-test-traffic.json")),
        ]
    }

    fn error(decode: Decoder, event: Value) -> String {
        decode(event).expect_err("rejected").to_string()
    }

    /// Every string in `value`, each as a path of keys and indexes.
    fn string_paths(value: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
        match value {
            Value::String(_) => out.push(at),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| string_paths(v, [at.clone(), vec![json!(i)]].concat(), out)),
            Value::Object(fields) => fields.iter().for_each(|(k, v)| string_paths(v, [at.clone(), vec![json!(k)]].concat(), out)),
            _ => {}
        }
    }

    fn at<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
        path.iter().fold(value, |v, step| match step {
            Value::String(key) => &mut v[key.as_str()],
            step => &mut v[step.as_u64().unwrap() as usize],
        })
    }

    #[test]
    fn a_megabyte_anywhere_gives_a_short_error() {
        let huge = format!("{}\n\u{1b}[2J", "m".repeat(1 << 20));
        for (name, decode, accepted) in decoders() {
            decode(accepted.clone()).unwrap_or_else(|err| panic!("{name}: {err}"));
            let mut paths = Vec::new();
            string_paths(&accepted, vec![], &mut paths);
            let mut rejected = 0;
            for path in paths {
                for replacement in [json!(huge), json!({ huge.clone(): 1 }), json!([huge])] {
                    let mut event = accepted.clone();
                    *at(&mut event, &path) = replacement;
                    if let Err(err) = decode(event) {
                        let message = err.to_string();
                        let chars = message.chars().count();
                        assert!(chars <= EVENT_ERROR_MAX, "{name} {path:?}: {chars} characters: {message}");
                        assert!(!message.contains('\n') && !message.contains('\u{1b}'), "{name} {path:?}: {message}");
                        rejected += 1;
                    }
                }
            }
            assert!(rejected > 3, "{name}: {rejected} rejections");
        }
        // A field named by a huge key is cut too.
        let mut event = sample("ecr-push-tagged.json");
        event["detail"] = json!({ huge.clone(): {"x": 1} });
        let message = ecr::decode(event).unwrap_err().to_string();
        assert!(message.chars().count() <= EVENT_ERROR_MAX, "{message}");
    }

    #[test]
    fn echoed_values_are_quoted_short() {
        let mut event = sample("ecr-push-tagged.json");
        event["detail"]["image-digest"] = json!("x".repeat(100_000));
        assert_eq!(
            ecr::decode(event).unwrap_err().to_string(),
            format!(
                "malformed event: field `detail.image-digest`: expected an image digest like sha256:<hex>, got \"{}\"…(100000 bytes)",
                "x".repeat(64)
            )
        );
        let mut event = sample("ecr-push-tagged.json");
        event["source"] = json!("aws.s3\"\nforged");
        assert_eq!(
            ecr::decode(event).unwrap_err().to_string(),
            "malformed event: field `source`: expected \"aws.ecr\", got \"aws.s3\\\"\\nforged\""
        );
    }

    #[test]
    fn a_missing_or_non_object_event_names_the_real_problem() {
        for (name, decode, _) in decoders() {
            for event in [json!("hello"), json!(null), json!([1, 2]), json!(42)] {
                let message = error(decode, event.clone());
                assert!(message.contains("the event is not a JSON object"), "{name} {event}: {message}");
            }
        }
        let message = error(|e| deployment::decode(e).map(drop), json!({}));
        assert_eq!(
            message,
            "malformed event: field `detail-type`: expected \"ECS Deployment State Change\" or \
             \"CodeDeploy Deployment State-change Notification\" (it is missing)"
        );
        let message = error(|e| deployment::decode(e).map(drop), json!({"detail-type": 7}));
        assert!(message.ends_with("got 7"), "{message}");
        let message = error(|e| deployment::decode(e).map(drop), json!("hello"));
        assert_eq!(
            message,
            "malformed event: field `(event)`: expected a JSON object (an EventBridge event), got \"hello\": the event is not a JSON object"
        );
    }

    #[test]
    fn errors_say_what_json_was_expected_never_a_rust_type() {
        let hook = |details: Value| {
            error(
                |e| hook::decode(e).map(drop),
                json!({"executionId": "x", "lifecycleStage": "TEST_TRAFFIC_SHIFT", "executionDetails": details}),
            )
        };
        assert_eq!(
            hook(json!("arn")),
            "malformed event: field `executionDetails`: expected an object with serviceArn and optional targetServiceRevisionArn, got \"arn\""
        );
        assert!(hook(json!({"serviceArn": ["a"]})).ends_with("field `executionDetails.serviceArn`: expected a string, got an array"));
        let mut build = sample("codebuild-failed.json");
        build["detail"]["additional-information"]["build-number"] = json!("seven");
        assert!(error(|e| codebuild::decode(e).map(drop), build).ends_with("expected a number, got \"seven\""), "a number, not f64");
        let mut build = sample("codebuild-failed.json");
        build["detail"]["additional-information"]["phases"] = json!([7]);
        let message = error(|e| codebuild::decode(e).map(drop), build);
        assert!(message.contains("field `detail.additional-information.phases[0]`: expected an object with phase-type"), "{message}");
        // Types without an `expecting` of their own (the CodeDeploy hook comes from
        // aws_lambda_events) read as JSON too.
        let message = error(|e| hook::decode(e).map(drop), json!({"DeploymentId": {}, "LifecycleEventHookExecutionId": "e"}));
        assert_eq!(message, "malformed event: field `DeploymentId`: expected a string, got an object");

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Probe {
            count: u32,
            inner: Option<Inner>,
            mode: Option<Mode>,
        }
        #[derive(Debug, Deserialize)]
        struct Inner {}
        #[derive(Debug, Deserialize)]
        enum Mode {
            Fast,
            Safe,
        }
        let decode = |value: Value| decode_at::<Probe>(value, "hookDetails").unwrap_err().to_string();
        assert_eq!(
            decode(json!({"count": 4294967296u64})),
            "malformed event: field `hookDetails.count`: expected a whole number from 0 to 4294967295, got 4294967296"
        );
        assert_eq!(
            decode(json!({"count": -1})),
            "malformed event: field `hookDetails.count`: expected a whole number from 0 to 4294967295, got -1"
        );
        assert_eq!(decode(json!({"count": 1, "inner": 5})), "malformed event: field `hookDetails.inner`: expected an object, got 5");
        assert_eq!(
            decode(json!({"count": 1, "mode": "Slow"})),
            "malformed event: field `hookDetails.mode`: expected `Fast` or `Safe`, got \"Slow\""
        );
        assert_eq!(
            decode(json!({"count": 1, "dryrun": true})),
            "malformed event: field `hookDetails.dryrun`: expected a known field (one of `count`, `inner`, `mode`), got an unknown one"
        );
        assert_eq!(decode(json!([1])), "malformed event: field `hookDetails`: expected an object, got an array");
        for message in [decode(json!({"count": 1, "inner": 5})), decode(json!("x")), decode(json!({"count": 1, "mode": 3}))] {
            assert!(!message.contains("struct") && !message.contains("enum ") && !message.contains("u32"), "{message}");
        }
    }
}
