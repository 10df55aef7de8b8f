//! One notification format for every function.
//!
//! Published with SNS `MessageStructure=json`: readable text for `default` and `email`, a JSON
//! document for `sqs` and `lambda` subscribers, and the custom-notification schema of AWS's chat
//! integration for `https` (Amazon Q Developer in chat applications), so Slack and Teams render it.
//! Message attributes `event`, `severity`, `cluster`, `service`, `project` feed subscription
//! filter policies.
//!
//! Every message is sendable, whatever the input: SNS refuses a `Publish` over 256 KiB (message
//! and attributes). A field taken from input (a reason, a line of phase context, an initiator, a
//! URL, an exported value) is cut to [`FIELD_MAX`] with a visible marker (`… [truncated, 102400
//! bytes]`) by [`field`], which the use cases call; a name or attribute value to [`NAME_MAX`]. The
//! renderings have budgets — text [`TEXT_MAX`], chat [`CHAT_MAX`], `details` [`DETAILS_MAX`] of
//! compact JSON — under which the whole `Publish`, each rendering escaped once or (inside the JSON
//! documents) twice, stays under [`PUBLISH_MAX`]; [`Notification::publication`], the one place
//! that renders what the SNS adapter sends, measures it and shrinks the budgets rather than fail.

use serde::Serialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// SNS refuses a `Publish` whose message and message attributes exceed 256 KiB.
pub const PUBLISH_MAX: usize = 256 * 1024;
/// SNS allows subjects of at most 100 printable ASCII characters.
pub const SUBJECT_MAX: usize = 100;
/// One field taken from input, in the text and in `details`: a reason, a line of phase context,
/// an initiator, a URL, an exported value.
pub const FIELD_MAX: usize = 2 * 1024;
/// A name (cluster, service, project) in the JSON document, a message attribute's value, a key of
/// `details`.
pub const NAME_MAX: usize = 256;
/// The readable text (`default`, `email`, and the document's `text`).
pub const TEXT_MAX: usize = 12 * 1024;
/// The chat message's description.
pub const CHAT_MAX: usize = 4 * 1024;
/// `details`, as compact JSON.
pub const DETAILS_MAX: usize = 16 * 1024;
/// Items kept of a list (keys of an object) in `details`; the rest is counted in a marker.
pub const LIST_MAX: usize = 50;
/// Nesting kept in `details`.
const DEPTH_MAX: usize = 8;
/// A line of text: a label and one field.
const LINE_MAX: usize = FIELD_MAX + 128;
/// The type of every message attribute Deckhand sends.
pub const ATTRIBUTE_TYPE: &str = "String";

/// `info`: for the record. `warning`: someone should look (a failed build: production is not
/// affected). `critical`: production is affected (a failed or rolled-back deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// What happened, for filters: e.g. `image.deployed`.
    pub event: &'static str,
    pub severity: Severity,
    pub subject: String,
    /// Readable body: short lines, most important first.
    pub text: String,
    /// Machine-readable details.
    pub details: Value,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub project: Option<String>,
    /// What makes this message unique (the event id and what it is about): the deduplication
    /// id on FIFO topics.
    pub dedup_key: Option<String>,
}

/// What the SNS adapter sends: subject, message and attributes, within SNS's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub subject: String,
    /// The `Message` for `MessageStructure=json`.
    pub message: String,
    /// Name and value of each message attribute, of type [`ATTRIBUTE_TYPE`].
    pub attributes: Vec<(&'static str, String)>,
}

impl Publication {
    /// Bytes that count toward SNS's limit: the message and each attribute's name, type and
    /// value; the subject is counted too.
    pub fn size(&self) -> usize {
        let attributes: usize = self.attributes.iter().map(|(name, value)| name.len() + ATTRIBUTE_TYPE.len() + value.len()).sum();
        self.subject.len() + self.message.len() + attributes
    }
}

/// How many bytes each rendering may take. The full budgets fit SNS's limit by construction: text
/// is escaped to at most 2 bytes a byte (control characters are replaced), so `default` and
/// `email` take 2·text each, the `sqs` and `lambda` documents (escaped again) 2·(2·text + details
/// + ~2 KiB of subject and names) each, the chat message 2·(2·chat + ~0.5 KiB): 12·text + 4·details
/// + 4·chat + ~9 KiB ≈ 233 KiB with attributes and subject.
#[derive(Debug, Clone, Copy)]
struct Budget {
    text: usize,
    chat: usize,
    details: usize,
}

impl Budget {
    const FULL: Budget = Budget { text: TEXT_MAX, chat: CHAT_MAX, details: DETAILS_MAX };

    /// Half of each, down to 1/32 of the full budgets (a message of ~20 KiB at most); `None` below.
    fn halved(self) -> Option<Budget> {
        (self.text > TEXT_MAX / 32).then_some(Budget { text: self.text / 2, chat: self.chat / 2, details: self.details / 2 })
    }
}

impl Notification {
    /// The subject as SNS accepts it: printable ASCII, one line, at most 100 characters, starting
    /// with a letter, digit or punctuation (never blank).
    pub fn sns_subject(&self) -> String {
        let ascii: String = self
            .subject
            .chars()
            .map(|c| match c {
                ' '..='~' => c,
                c if c.is_whitespace() || c.is_control() => ' ',
                _ => '?',
            })
            .collect();
        let ascii = ascii.split_whitespace().collect::<Vec<_>>().join(" ");
        if ascii.len() <= SUBJECT_MAX {
            return if ascii.is_empty() { "Deckhand notification".into() } else { ascii };
        }
        format!("{}...", ascii[..SUBJECT_MAX - 3].trim_end())
    }

    /// The attributes subscription filter policies match on, each value one line of at most
    /// [`NAME_MAX`] bytes; empty values are left out (SNS rejects them).
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut attributes = vec![("event", self.event.to_owned()), ("severity", self.severity.as_str().to_owned())];
        for (name, value) in [("cluster", &self.cluster), ("service", &self.service), ("project", &self.project)] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                attributes.push((name, one_line(value)));
            }
        }
        attributes
    }

    /// The `Publish` as the SNS adapter sends it, at most [`PUBLISH_MAX`] bytes.
    pub fn publication(&self) -> Publication {
        self.publication_within(PUBLISH_MAX)
    }

    /// The final guard: renders with the full budgets, which fit by construction, and should the
    /// result ever exceed `limit`, shrinks the budgets rather than fail.
    fn publication_within(&self, limit: usize) -> Publication {
        let (subject, attributes) = (self.sns_subject(), self.attributes());
        let mut budget = Budget::FULL;
        loop {
            let publication = Publication { subject: subject.clone(), message: self.message(budget), attributes: attributes.clone() };
            match budget.halved() {
                Some(smaller) if publication.size() > limit => {
                    tracing::warn!(event = self.event, bytes = publication.size(), limit, "notification over the limit: shrinking it");
                    budget = smaller;
                }
                _ => return publication,
            }
        }
    }

    /// The `Message` for `Publish` with `MessageStructure=json`.
    pub fn sns_message(&self) -> String {
        self.publication().message
    }

    fn message(&self, budget: Budget) -> String {
        let text = bounded_text(&self.text, budget.text);
        let document = self.document(&text, budget).to_string();
        json!({
            "default": text,
            "email": text,
            "sqs": document,
            "lambda": document,
            "https": self.chat_message(budget).to_string(),
        })
        .to_string()
    }

    /// The JSON document `sqs` and `lambda` subscribers receive.
    fn document(&self, text: &str, budget: Budget) -> Value {
        let name = |value: &Option<String>| value.as_deref().map(one_line);
        json!({
            "event": self.event,
            "severity": self.severity,
            "subject": self.sns_subject(),
            "text": text,
            "cluster": name(&self.cluster),
            "service": name(&self.service),
            "project": name(&self.project),
            "details": bounded_details(&self.details, budget.details),
        })
    }

    /// Custom-notification schema of AWS's chat integration.
    fn chat_message(&self, budget: Budget) -> Value {
        json!({
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": self.sns_subject(),
                "description": bounded_text(&self.text, budget.chat),
            },
            "metadata": {
                "enableCustomActions": false,
                "additionalContext": {"event": self.event, "severity": self.severity.as_str()},
            },
        })
    }

    /// SNS FIFO deduplication id: at most 128 characters of the key.
    pub fn dedup_id(&self) -> Option<String> {
        let key = self.dedup_key.as_deref()?;
        let printable: String = key.chars().filter(|c| c.is_ascii_graphic()).collect();
        Some(printable.chars().rev().take(128).collect::<Vec<_>>().into_iter().rev().collect())
    }

    /// SNS FIFO message group: messages about one service (or project) stay in order.
    pub fn group_id(&self) -> String {
        let group = [&self.cluster, &self.service, &self.project].iter().filter_map(|v| v.as_deref()).collect::<Vec<_>>().join("/");
        let group: String = group.chars().filter(|c| c.is_ascii_graphic()).take(128).collect();
        if group.is_empty() { "deckhand".into() } else { group }
    }
}

/// A field taken from input, as a message shows it: at most [`FIELD_MAX`] bytes, with the marker
/// when cut. Every use case quotes reasons, context, initiators, URLs and values through it.
pub fn field(value: &str) -> Cow<'_, str> {
    clip(value, FIELD_MAX)
}

/// At most `max` bytes (and at least the marker's), cut on a character boundary, ending in
/// `… [truncated, N bytes]` (N: the bytes `value` had) when cut.
pub fn clip(value: &str, max: usize) -> Cow<'_, str> {
    cut(value, max, value.len())
}

fn cut(value: &str, max: usize, original: usize) -> Cow<'_, str> {
    if value.len() <= max {
        return Cow::Borrowed(value);
    }
    let marker = format!("… [truncated, {original} bytes]");
    let mut end = max.saturating_sub(marker.len());
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{marker}", &value[..end]))
}

/// A name or attribute value: one line of at most [`NAME_MAX`] bytes, control characters as `?`.
fn one_line(value: &str) -> String {
    let line: String = value.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    clip(&line, NAME_MAX).into_owned()
}

/// Readable text of at most `max` bytes: control characters other than line breaks and tabs
/// shown as `?` (JSON would escape each into six bytes), each line cut to `LINE_MAX`.
fn bounded_text(text: &str, max: usize) -> String {
    let clean: String =
        text.chars().filter(|&c| c != '\r').map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c }).collect();
    let lines: Vec<Cow<'_, str>> = clean.split('\n').map(|line| clip(line, LINE_MAX.min(max))).collect();
    cut(&lines.join("\n"), max, text.len()).into_owned()
}

/// `details` in at most `max` bytes of compact JSON: strings cut to a field's length (shorter
/// ones if it still does not fit), lists and objects to [`LIST_MAX`] entries, nesting to
/// `DEPTH_MAX`; a marker wherever something was left out.
fn bounded_details(details: &Value, max: usize) -> Value {
    let mut field_max = FIELD_MAX;
    loop {
        let bounded = bounded_value(details, field_max, 0);
        if bounded.to_string().len() <= max {
            return bounded;
        }
        if field_max <= 64 {
            return json!({ "truncated": format!("… [truncated, {} bytes]", details.to_string().len()) });
        }
        field_max /= 4;
    }
}

fn bounded_value(value: &Value, field_max: usize, depth: usize) -> Value {
    let more = |kind: &str, n: usize| format!("… [truncated, {n} more {kind}]");
    match value {
        Value::String(text) => Value::String(clip(text, field_max).into_owned()),
        Value::Array(_) | Value::Object(_) if depth >= DEPTH_MAX => Value::String(format!("… [truncated, nested deeper than {DEPTH_MAX}]")),
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
                .map(|(key, item)| (clip(key, NAME_MAX.min(field_max)).into_owned(), bounded_value(item, field_max, depth + 1)))
                .collect();
            if entries.len() > LIST_MAX {
                kept.insert("…".into(), Value::String(more("keys", entries.len() - LIST_MAX)));
            }
            Value::Object(kept)
        }
        other => other.clone(),
    }
}

/// For the tests of every use case: the input sizes a field is tried at, and the check each
/// notification passes.
#[cfg(test)]
pub(crate) mod limits {
    use super::*;

    /// Just under SNS's limit, at it, and far over it.
    pub const SIZES: [usize; 3] = [255 * 1024, 256 * 1024, 1024 * 1024];

    /// `notification` as the SNS adapter publishes it fits SNS's limit (subject, message and
    /// attributes), and each text rendering shows the marker of a cut; returns the text.
    pub fn assert_sendable(notification: &Notification) -> String {
        let publication = notification.publication();
        assert!(publication.size() <= PUBLISH_MAX, "{}: a Publish of {} bytes", notification.event, publication.size());
        assert!(publication.subject.len() <= SUBJECT_MAX && publication.subject.is_ascii(), "{}", publication.subject);
        let message: Value = serde_json::from_str(&publication.message).expect("the message is JSON");
        let document: Value = serde_json::from_str(message["sqs"].as_str().expect("an sqs rendering")).expect("a JSON document");
        let text = message["default"].as_str().expect("a default rendering").to_owned();
        for shown in [&text, message["email"].as_str().unwrap_or_default(), document["text"].as_str().unwrap_or_default()] {
            assert!(shown.contains("… [truncated, "), "{}: no truncation marker in {shown:.300}", notification.event);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(subject: &str, text: &str) -> Notification {
        Notification {
            event: "image.deployed",
            severity: Severity::Info,
            subject: subject.into(),
            text: text.into(),
            details: json!({"revision": 3}),
            cluster: Some("prod".into()),
            service: Some("web".into()),
            project: None,
            dedup_key: Some(format!("{}:prod/web", "e".repeat(200))),
        }
    }

    #[test]
    fn fifo_ids_are_bounded() {
        let n = note("s", "t");
        assert_eq!(n.dedup_id().unwrap().len(), 128);
        assert!(n.dedup_id().unwrap().ends_with(":prod/web"));
        assert_eq!(n.group_id(), "prod/web");
    }

    #[test]
    fn subjects_are_printable_ascii_and_short() {
        assert_eq!(note("Déployé: web → v2\n", "").sns_subject(), "D?ploy?: web ? v2");
        let long = note(&"x".repeat(300), "").sns_subject();
        assert_eq!(long.len(), SUBJECT_MAX);
        assert!(long.ends_with("..."));
        assert_eq!(note("  ", "").sns_subject(), "Deckhand notification");
    }

    #[test]
    fn fields_are_cut_on_a_character_boundary_with_a_marker() {
        let text = "é".repeat(FIELD_MAX);
        let cut = field(&text);
        assert!(cut.len() <= FIELD_MAX && cut.ends_with(&format!("… [truncated, {} bytes]", 2 * FIELD_MAX)), "{cut}");
        assert!(matches!(field("short"), Cow::Borrowed("short")));
        assert_eq!(clip("x".repeat(10).as_str(), 10), "x".repeat(10));
    }

    /// The worst input for each rendering: every byte one that JSON escapes (twice inside the
    /// documents), names and lists at their limits.
    fn worst(size: usize) -> Notification {
        let quotes = "\"\\".repeat(size / 2);
        let mut text = String::new();
        for _ in 0..size / FIELD_MAX + 1 {
            text.push_str(&field(&quotes));
            text.push('\n');
        }
        let long = "\"\\".repeat(FIELD_MAX);
        let many: Vec<Value> =
            (0..60).map(|i| json!({ format!("{i}{long}"): [long.clone(), {"deeper": [[[[[[[[[long.clone()]]]]]]]]]}] })).collect();
        Notification {
            event: "build.failed",
            severity: Severity::Warning,
            subject: quotes.clone(),
            text,
            details: json!({ "context": quotes.clone(), "many": many }),
            cluster: Some(quotes.clone()),
            service: Some(quotes.clone()),
            project: Some("\u{1}".repeat(size)),
            dedup_key: None,
        }
    }

    #[test]
    fn the_full_budgets_fit_sns_by_construction() {
        for size in [255 * 1024, 256 * 1024, 1024 * 1024] {
            let n = worst(size);
            let first = Publication { subject: n.sns_subject(), message: n.message(Budget::FULL), attributes: n.attributes() };
            assert!(first.size() <= PUBLISH_MAX, "{size}: {} bytes before any shrinking", first.size());
            assert_eq!(n.publication(), first, "the guard had nothing to do");
            let message: Value = serde_json::from_str(&first.message).unwrap();
            let document: Value = serde_json::from_str(message["sqs"].as_str().unwrap()).unwrap();
            assert!(document["text"].as_str().unwrap().contains("[truncated, "));
            assert!(document["details"].to_string().contains("[truncated, "), "{}", document["details"]);
        }
    }

    #[test]
    fn the_final_guard_shrinks_rather_than_fails() {
        let n = worst(1024 * 1024);
        let small = n.publication_within(24 * 1024);
        assert!(small.size() <= 24 * 1024, "{}", small.size());
        let message: Value = serde_json::from_str(&small.message).unwrap();
        assert!(message["default"].as_str().unwrap().ends_with(" bytes]"), "{}", message["default"]);
        // Even a limit it cannot meet gives the smallest message, never an error.
        assert!(n.publication_within(1).size() < 24 * 1024);
    }

    #[test]
    fn details_keep_a_marker_where_they_were_cut() {
        let deep = json!([[[[[[[[[["bottom"]]]]]]]]]]);
        let long: Vec<u32> = (0..200).collect();
        let bounded = bounded_details(&json!({"deep": deep, "long": long, "big": "x".repeat(300 * 1024)}), DETAILS_MAX);
        assert!(bounded.to_string().len() <= DETAILS_MAX);
        assert_eq!(bounded["long"].as_array().unwrap().len(), LIST_MAX + 1);
        assert_eq!(bounded["long"][LIST_MAX], "… [truncated, 150 more items]");
        assert!(bounded["deep"].to_string().contains("nested deeper than"), "{}", bounded["deep"]);
        assert!(bounded["big"].as_str().unwrap().ends_with("… [truncated, 307200 bytes]"));
        let huge: Vec<String> = (0..1000).map(|_| "y".repeat(FIELD_MAX)).collect();
        let fallback = bounded_details(&json!([{"a": huge.clone(), "b": huge.clone(), "c": huge}]), 1024);
        assert!(fallback.to_string().len() <= 1024 && fallback.to_string().contains("[truncated, "), "{fallback}");
    }

    #[test]
    fn attributes_and_subject_are_one_short_line() {
        let mut n = note("\n\t  \u{7}Build  failed\r\n", "");
        n.cluster = Some(format!("a\nb{}", "c".repeat(1024 * 1024)));
        assert_eq!(n.sns_subject(), "Build failed");
        let cluster = n.attributes().into_iter().find(|(name, _)| *name == "cluster").unwrap().1;
        assert!(cluster.len() <= NAME_MAX && cluster.starts_with("a?bc") && cluster.ends_with("[truncated, 1048579 bytes]"), "{cluster}");
    }

    #[test]
    fn text_lines_and_the_whole_text_are_bounded() {
        let text = format!("first\r\n{}\nlast \u{1b}[31mred", "z".repeat(100 * 1024));
        let bounded = bounded_text(&text, TEXT_MAX);
        let lines: Vec<&str> = bounded.lines().collect();
        assert_eq!((lines[0], lines[2]), ("first", "last ?[31mred"));
        assert!(lines[1].len() <= LINE_MAX && lines[1].ends_with("[truncated, 102400 bytes]"));
        let long = "line\n".repeat(10_000);
        let bounded = bounded_text(&long, TEXT_MAX);
        assert!(bounded.len() <= TEXT_MAX && bounded.ends_with("… [truncated, 50000 bytes]"), "{}", &bounded[bounded.len() - 40..]);
    }

    #[test]
    fn message_has_one_rendering_per_protocol() {
        let message: Value = serde_json::from_str(&note("Deployed web", "web → rev 3").sns_message()).unwrap();
        assert_eq!(message["default"], "web → rev 3");
        let document: Value = serde_json::from_str(message["sqs"].as_str().unwrap()).unwrap();
        assert_eq!(document["details"]["revision"], 3);
        assert_eq!(document["service"], "web");
        let chat: Value = serde_json::from_str(message["https"].as_str().unwrap()).unwrap();
        assert_eq!(chat["content"]["title"], "Deployed web");
    }

    #[test]
    fn attributes_skip_missing_values() {
        let names: Vec<_> = note("s", "t").attributes().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["event", "severity", "cluster", "service"]);
    }
}
