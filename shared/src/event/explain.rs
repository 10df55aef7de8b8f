//! serde's error messages said in terms of JSON, to whoever sent the event: the field by its
//! path, what JSON was expected (never a Rust type), and what was found, bounded.

use super::{EventError, describe};
use crate::quote::{QUOTED_MAX, clip};
use serde_json::Value;

/// serde's message for a value at `field`, said in terms of JSON, with the input bounded.
pub(super) fn explain(field: String, message: &str, found: Option<&Value>) -> EventError {
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
