//! For the tests of every use case: the input sizes a field is tried at, and the check each
//! notification passes.

use super::{Notification, PUBLISH_MAX, SUBJECT_MAX};
use serde_json::Value;

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
        assert!(shown.contains(" bytes)"), "{}: no truncation marker in {shown:.300}", notification.event);
    }
    text
}
