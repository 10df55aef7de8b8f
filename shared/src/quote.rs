//! Untrusted text made safe to show: the one way an input value, or a message from outside
//! (AWS, a library), reaches an error, an outcome, a log line or a notification. Everything is
//! cut by [`cut`], in bytes, on a character boundary, with one visible marker, `…(N bytes)`, so a
//! 1 MB field costs a few dozen bytes wherever it is echoed. What differs between uses is only
//! how the kept characters are written ([`Escape`]).

use std::borrow::Cow;

/// Most bytes `quote` keeps of a value, escapes included.
pub const QUOTE_MAX: usize = 64;

/// The longest `quote` can return, in bytes: the two quotes, `QUOTE_MAX` bytes and the marker
/// `…(N bytes)` for any `N` a `usize` holds.
pub const QUOTED_MAX: usize = 2 + QUOTE_MAX + MARKER_MAX;

/// The longest cut marker in bytes: `…(` (4) + 20 digits + ` bytes)` (7).
const MARKER_MAX: usize = 4 + 20 + 7;

/// How the characters a cut keeps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As they are: text whose renderer escapes it (a notification's JSON), line breaks kept.
    Nothing,
    /// Line breaks, control and reordering characters escaped: one line of prose, where quotes
    /// stay as they are, so text that holds a `quote` is not escaped twice.
    Line,
    /// Also quotes and backslashes: the inside of a string literal.
    Literal,
}

/// The marker that ends every cut: `…(N bytes)`, N the size of what was cut.
pub fn marker(whole: usize) -> String {
    format!("…({whole} bytes)")
}

/// The one cutting primitive. `text` written as `escape` says, in at most `max` bytes: whole
/// when it fits; else as many characters (whole escapes) as leave room for the marker
/// `…(N bytes)`, N being `whole` (the size of the input `text` shows, usually its own). Under a
/// `max` of 31 the marker alone can be longer.
pub fn cut(text: &str, max: usize, whole: usize, escape: Escape) -> Cow<'_, str> {
    if text.len() <= max && text.chars().all(|c| escaped(c, escape).is_none()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max));
    if escape_into(&mut out, text, max, escape) == text.len() {
        return Cow::Owned(out);
    }
    let marker = marker(whole);
    out.clear();
    escape_into(&mut out, text, max.saturating_sub(marker.len()), escape);
    out.push_str(&marker);
    Cow::Owned(out)
}

/// `value` as a JSON-like string literal: `"…"`, with quotes, backslashes and control characters
/// escaped, cut after `QUOTE_MAX` bytes with `…(N bytes)` (N: the whole value's length) after
/// the closing quote. Never longer than `QUOTED_MAX` bytes.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(QUOTE_MAX) + 2);
    out.push('"');
    let kept = escape_into(&mut out, value, QUOTE_MAX, Escape::Literal);
    out.push('"');
    if kept < value.len() {
        out.push_str(&marker(value.len()));
    }
    out
}

/// `text` (an error message, a reason) on one line of at most `max` bytes, marker included (for
/// a `max` of 31 or more): [`cut`] with [`Escape::Line`].
pub fn clip(text: &str, max: usize) -> String {
    cut(text, max, text.len(), Escape::Line).into_owned()
}

/// Appends `text`, escaped, to `out` while it fits `max` bytes; returns how many bytes of `text`
/// went in.
fn escape_into(out: &mut String, text: &str, max: usize, escape: Escape) -> usize {
    let mut written = 0;
    for (at, c) in text.char_indices() {
        let escaped = escaped(c, escape);
        let width = escaped.as_deref().map_or(c.len_utf8(), str::len);
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

fn escaped(c: char, escape: Escape) -> Option<String> {
    let quotes = match escape {
        Escape::Nothing => return None,
        Escape::Line => false,
        Escape::Literal => true,
    };
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
        assert!(quoted.len() <= QUOTED_MAX);
        // Escapes count: a value of newlines keeps whole escapes only.
        let quoted = quote(&"\n".repeat(1000));
        assert_eq!(quoted, format!("\"{}\"…(1000 bytes)", "\\n".repeat(QUOTE_MAX / 2)));
        // Multi-byte characters are never split.
        let quoted = quote(&"é".repeat(100));
        assert_eq!(quoted, format!("\"{}\"…(200 bytes)", "é".repeat(QUOTE_MAX / 2)));
    }

    #[test]
    fn clipped_text_fits_its_bound_with_the_marker() {
        assert_eq!(clip("ThrottlingException: Rate exceeded", 100), "ThrottlingException: Rate exceeded");
        assert_eq!(clip("two\nlines \"quoted\"", 100), "two\\nlines \"quoted\"");
        let clipped = clip(&"y".repeat(1 << 20), 120);
        assert_eq!(clipped.len(), 120, "{clipped}");
        assert!(clipped.ends_with("y…(1048576 bytes)"), "{clipped}");
        assert_eq!(clip("abcdef", 6), "abcdef");
        assert!(clip("abcdefg", 3).len() <= 3 + MARKER_MAX);
        // Escapes are kept whole: never a dangling backslash before the marker.
        let clipped = clip(&"\n".repeat(100), 40);
        assert_eq!(clipped, format!("{}…(100 bytes)", "\\n".repeat(13)));
    }

    #[test]
    fn cuts_keep_characters_whole_and_borrow_what_fits() {
        assert!(matches!(cut("short\nlines", 20, 11, Escape::Nothing), Cow::Borrowed("short\nlines")));
        assert!(matches!(cut("one line", 20, 8, Escape::Line), Cow::Borrowed(_)));
        let text = "é".repeat(100);
        let cut = cut(&text, 50, 1000, Escape::Nothing);
        assert_eq!(cut, format!("{}…(1000 bytes)", "é".repeat(17)));
        assert!(cut.len() <= 50);
    }
}
