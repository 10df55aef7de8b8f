//! Untrusted text made safe to show: the one way an input value, or a message from outside
//! (AWS, a library), reaches an error, an outcome, a log line or a notification. Both helpers
//! escape what could break a line or fake a new one, and cut with a visible marker, so a 1 MB
//! field costs a few dozen characters wherever it is echoed.

use std::fmt::Write;

/// Most characters `quote` keeps of a value, escapes included.
pub const QUOTE_MAX: usize = 64;

/// The longest `quote` can return: the two quotes, `QUOTE_MAX` characters and the marker
/// `…(N bytes)` for any `N` a `usize` holds.
pub const QUOTED_MAX: usize = 2 + QUOTE_MAX + MARKER_MAX;

/// The longest cut marker: `…(` + 20 digits + ` bytes)`.
const MARKER_MAX: usize = 2 + 20 + 7;

/// `value` as a JSON-like string literal: `"…"`, with quotes, backslashes and control characters
/// escaped, cut after `QUOTE_MAX` characters with `…(N bytes)` (N: the whole value's length).
/// Never longer than `QUOTED_MAX` characters.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(QUOTE_MAX) + 2);
    out.push('"');
    let kept = escape_into(&mut out, value, QUOTE_MAX, true);
    out.push('"');
    if kept < value.len() {
        let _ = write!(out, "…({} bytes)", value.len());
    }
    out
}

/// `text` (an error message, a reason) on one line and at most `max` characters: control
/// characters escaped, and when too long cut with `…(N bytes)` (N: the whole text's length) so
/// that the result, marker included, still fits `max` (for a `max` of 30 or more). Quotes stay as they are (the text is
/// prose, not a value), so text that holds a `quote` is not escaped twice.
pub fn clip(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let kept = escape_into(&mut out, text, max, false);
    if kept == text.len() {
        return out;
    }
    let marker = format!("…({} bytes)", text.len());
    let room = max.saturating_sub(marker.chars().count());
    out.clear();
    escape_into(&mut out, text, room, false);
    out.push_str(&marker);
    out
}

/// Appends `text` escaped to `out` until `max` characters are written; returns how many bytes
/// of `text` went in.
fn escape_into(out: &mut String, text: &str, max: usize, quotes: bool) -> usize {
    let mut written = 0;
    for (at, c) in text.char_indices() {
        let escaped = escaped(c, quotes);
        let width = escaped.as_deref().map_or(1, |e| e.chars().count());
        if written + width > max {
            return at;
        }
        match escaped {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
        written += width;
    }
    text.len()
}

fn escaped(c: char, quotes: bool) -> Option<String> {
    match c {
        '"' if quotes => Some("\\\"".into()),
        '\\' if quotes => Some("\\\\".into()),
        '\n' => Some("\\n".into()),
        '\r' => Some("\\r".into()),
        '\t' => Some("\\t".into()),
        // Control characters, and the invisible ones that reorder or break a line.
        c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') => {
            Some(format!("\\u{{{:x}}}", c as u32))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quote("v1.4.2"), r#""v1.4.2""#);
        assert_eq!(quote(""), r#""""#);
        assert_eq!(quote("a\"b\\c\nd\u{1b}[31m\u{202e}"), r#""a\"b\\c\nd\u{1b}[31m\u{202e}""#);
    }

    #[test]
    fn long_values_are_cut_with_their_size() {
        let megabyte = "x".repeat(1 << 20);
        let quoted = quote(&megabyte);
        assert_eq!(quoted, format!("\"{}\"…(1048576 bytes)", "x".repeat(QUOTE_MAX)));
        assert!(quoted.chars().count() <= QUOTED_MAX);
        // Escapes count: a value of newlines keeps whole escapes only.
        let quoted = quote(&"\n".repeat(1000));
        assert_eq!(quoted, format!("\"{}\"…(1000 bytes)", "\\n".repeat(QUOTE_MAX / 2)));
        // Multi-byte characters are never split.
        let quoted = quote(&"é".repeat(100));
        assert_eq!(quoted, format!("\"{}\"…(200 bytes)", "é".repeat(QUOTE_MAX)));
    }

    #[test]
    fn clipped_text_fits_its_bound_with_the_marker() {
        assert_eq!(clip("ThrottlingException: Rate exceeded", 100), "ThrottlingException: Rate exceeded");
        assert_eq!(clip("two\nlines \"quoted\"", 100), "two\\nlines \"quoted\"");
        let clipped = clip(&"y".repeat(1 << 20), 120);
        assert_eq!(clipped.chars().count(), 120, "{clipped}");
        assert!(clipped.ends_with("y…(1048576 bytes)"), "{clipped}");
        assert_eq!(clip("abcdef", 6), "abcdef");
        assert!(clip("abcdefg", 3).chars().count() <= 3 + MARKER_MAX);
    }
}
