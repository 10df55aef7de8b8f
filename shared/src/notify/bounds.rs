//! What a message keeps of its input: each field, name, line, text and `details` cut to its
//! budget by `quote::cut`, with its marker (`…(N bytes)`) wherever something was left out.

use super::{DEPTH_MAX, FIELD_MAX, LINE_MAX, LIST_MAX, NAME_MAX};
use crate::quote::{Escape, cut, marker};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// A field taken from input, as a message shows it: at most [`FIELD_MAX`] bytes, with the marker
/// when cut. Every use case quotes reasons, context, initiators, URLs and values through it.
pub fn field(value: &str) -> Cow<'_, str> {
    plain(value, FIELD_MAX)
}

/// `value` in at most `max` bytes as it is: the renderings are JSON, which escapes it.
fn plain(value: &str, max: usize) -> Cow<'_, str> {
    cut(value, max, value.len(), Escape::Nothing)
}

/// A name or attribute value: one line of at most [`NAME_MAX`] bytes, control characters as `?`.
pub(super) fn one_line(value: &str) -> String {
    let line: String = value.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    plain(&line, NAME_MAX).into_owned()
}

/// Readable text of at most `max` bytes: control characters other than line breaks and tabs
/// shown as `?` (JSON would escape each into six bytes), each line cut to `LINE_MAX`.
pub(super) fn bounded_text(text: &str, max: usize) -> String {
    let clean: String =
        text.chars().filter(|&c| c != '\r').map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c }).collect();
    let lines: Vec<Cow<'_, str>> = clean.split('\n').map(|line| plain(line, LINE_MAX.min(max))).collect();
    cut(&lines.join("\n"), max, text.len(), Escape::Nothing).into_owned()
}

/// `details` in at most `max` bytes of compact JSON: strings cut to a field's length (shorter
/// ones if it still does not fit), lists and objects to [`LIST_MAX`] entries, nesting to
/// `DEPTH_MAX`; a marker wherever something was left out.
pub(super) fn bounded_details(details: &Value, max: usize) -> Value {
    let mut field_max = FIELD_MAX;
    loop {
        let bounded = bounded_value(details, field_max, 0);
        if bounded.to_string().len() <= max {
            return bounded;
        }
        if field_max <= 64 {
            return json!({ "truncated": marker(details.to_string().len()) });
        }
        field_max /= 4;
    }
}

fn bounded_value(value: &Value, field_max: usize, depth: usize) -> Value {
    let more = |kind: &str, n: usize| format!("…({n} more {kind})");
    match value {
        Value::String(text) => Value::String(plain(text, field_max).into_owned()),
        Value::Array(_) | Value::Object(_) if depth >= DEPTH_MAX => Value::String(format!("…(nested deeper than {DEPTH_MAX})")),
        Value::Array(items) => {
            let mut kept: Vec<Value> = items.iter().take(LIST_MAX).map(|item| bounded_value(item, field_max, depth + 1)).collect();
            if items.len() > LIST_MAX {
                kept.push(Value::String(more("items", items.len() - LIST_MAX)));
            }
            Value::Array(kept)
        }
        Value::Object(entries) => {
            let mut kept: Map<String, Value> = entries
                .iter()
                .take(LIST_MAX)
                .map(|(key, item)| (plain(key, NAME_MAX.min(field_max)).into_owned(), bounded_value(item, field_max, depth + 1)))
                .collect();
            if entries.len() > LIST_MAX {
                kept.insert("…".into(), Value::String(more("keys", entries.len() - LIST_MAX)));
            }
            Value::Object(kept)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{DETAILS_MAX, TEXT_MAX};

    #[test]
    fn fields_are_cut_on_a_character_boundary_with_a_marker() {
        let text = "é".repeat(FIELD_MAX);
        let cut = field(&text);
        assert!(cut.len() <= FIELD_MAX && cut.ends_with(&format!("…({} bytes)", 2 * FIELD_MAX)), "{cut}");
        assert!(matches!(field("short"), Cow::Borrowed("short")));
        assert_eq!(plain("x".repeat(10).as_str(), 10), "x".repeat(10));
    }

    #[test]
    fn details_keep_a_marker_where_they_were_cut() {
        let deep = json!([[[[[[[[[["bottom"]]]]]]]]]]);
        let long: Vec<u32> = (0..200).collect();
        let bounded = bounded_details(&json!({"deep": deep, "long": long, "big": "x".repeat(300 * 1024)}), DETAILS_MAX);
        assert!(bounded.to_string().len() <= DETAILS_MAX);
        assert_eq!(bounded["long"].as_array().unwrap().len(), LIST_MAX + 1);
        assert_eq!(bounded["long"][LIST_MAX], "…(150 more items)");
        assert!(bounded["deep"].to_string().contains("nested deeper than"), "{}", bounded["deep"]);
        assert!(bounded["big"].as_str().unwrap().ends_with("…(307200 bytes)"));
        let huge: Vec<String> = (0..1000).map(|_| "y".repeat(FIELD_MAX)).collect();
        let fallback = bounded_details(&json!([{"a": huge.clone(), "b": huge.clone(), "c": huge}]), 1024);
        assert!(fallback.to_string().len() <= 1024 && fallback.to_string().contains(" bytes)"), "{fallback}");
    }

    #[test]
    fn text_lines_and_the_whole_text_are_bounded() {
        let text = format!("first\r\n{}\nlast \u{1b}[31mred", "z".repeat(100 * 1024));
        let bounded = bounded_text(&text, TEXT_MAX);
        let lines: Vec<&str> = bounded.lines().collect();
        assert_eq!((lines[0], lines[2]), ("first", "last ?[31mred"));
        assert!(lines[1].len() <= LINE_MAX && lines[1].ends_with("…(102400 bytes)"));
        let long = "line\n".repeat(10_000);
        let bounded = bounded_text(&long, TEXT_MAX);
        assert!(bounded.len() <= TEXT_MAX && bounded.ends_with("…(50000 bytes)"), "{}", &bounded[bounded.len() - 40..]);
    }
}
