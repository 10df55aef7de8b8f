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
//! URL, an exported value) is cut to [`FIELD_MAX`] with the product's one cut marker
//! (`…(102400 bytes)`, see `crate::quote::cut`) by [`field`], which the use cases call; a name or
//! attribute value to [`NAME_MAX`]. The renderings have budgets — text [`TEXT_MAX`], chat
//! [`CHAT_MAX`], `details` [`DETAILS_MAX`] of compact JSON — under which the whole `Publish`, each
//! rendering escaped once or (inside the JSON documents) twice, stays under [`PUBLISH_MAX`];
//! [`Notification::publication`], the one place that renders what the SNS adapter sends,
//! measures it and shrinks the budgets rather than fail. What each rendering keeps of its input
//! is `bounds`'s.

mod bounds;
#[cfg(test)]
pub(crate) mod limits;
#[cfg(test)]
mod tests;

pub use bounds::field;

use bounds::{bounded_details, bounded_text, one_line};
use serde::Serialize;
use serde_json::{Value, json};

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
