//! One notification format for every function.
//!
//! Published with SNS `MessageStructure=json`: readable text for `default` and `email`, a JSON
//! document for `sqs` and `lambda` subscribers, and the custom-notification schema of AWS's chat
//! integration for `https` (Amazon Q Developer in chat applications), so Slack and Teams render it.
//! Message attributes `event`, `severity`, `cluster`, `service`, `project` feed subscription
//! filter policies.

use serde::Serialize;
use serde_json::{Value, json};

/// SNS allows subjects of at most 100 printable ASCII characters.
pub const SUBJECT_MAX: usize = 100;
/// Each rendering of the text stays well inside SNS's 256 KiB message limit.
pub const TEXT_MAX: usize = 32 * 1024;

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

impl Notification {
    /// The subject as SNS accepts it: printable ASCII, one line, at most 100 characters.
    pub fn sns_subject(&self) -> String {
        let ascii: String = self
            .subject
            .chars()
            .map(|c| match c {
                ' '..='~' => c,
                '\t' | '\n' | '\r' => ' ',
                _ => '?',
            })
            .collect();
        let ascii = ascii.split_whitespace().collect::<Vec<_>>().join(" ");
        if ascii.len() <= SUBJECT_MAX {
            return if ascii.is_empty() { "Deckhand notification".into() } else { ascii };
        }
        format!("{}...", ascii[..SUBJECT_MAX - 3].trim_end())
    }

    fn bounded_text(&self) -> String {
        truncate(&self.text, TEXT_MAX)
    }

    /// The attributes subscription filter policies match on; empty values are left out
    /// (SNS rejects them).
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut attributes = vec![("event", self.event.to_owned()), ("severity", self.severity.as_str().to_owned())];
        for (name, value) in [("cluster", &self.cluster), ("service", &self.service), ("project", &self.project)] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                attributes.push((name, value.clone()));
            }
        }
        attributes
    }

    /// The JSON document `sqs` and `lambda` subscribers receive.
    pub fn document(&self) -> Value {
        json!({
            "event": self.event,
            "severity": self.severity,
            "subject": self.sns_subject(),
            "text": self.bounded_text(),
            "cluster": self.cluster,
            "service": self.service,
            "project": self.project,
            "details": self.details,
        })
    }

    /// Custom-notification schema of AWS's chat integration.
    pub fn chat_message(&self) -> Value {
        json!({
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": self.sns_subject(),
                "description": truncate(&self.text, 8 * 1024),
            },
            "metadata": {
                "enableCustomActions": false,
                "additionalContext": {"event": self.event, "severity": self.severity.as_str()},
            },
        })
    }

    /// The `Message` for `Publish` with `MessageStructure=json`.
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

    pub fn sns_message(&self) -> String {
        let text = self.bounded_text();
        let document = self.document().to_string();
        json!({
            "default": text,
            "email": text,
            "sqs": document,
            "lambda": document,
            "https": self.chat_message().to_string(),
        })
        .to_string()
    }
}

/// At most `max` bytes, cut on a character boundary, with a marker when cut.
pub fn truncate(text: &str, max: usize) -> String {
    const MARKER: &str = "\n… (truncated)";
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(MARKER.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{MARKER}", &text[..end])
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
    fn text_is_truncated_on_a_character_boundary() {
        let text = "é".repeat(TEXT_MAX);
        let cut = truncate(&text, TEXT_MAX);
        assert!(cut.len() <= TEXT_MAX && cut.ends_with("(truncated)"));
        assert_eq!(truncate("short", 10), "short");
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
