use super::*;
use serde_json::json;

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
        assert!(document["text"].as_str().unwrap().contains(" bytes)"));
        assert!(document["details"].to_string().contains(" bytes)"), "{}", document["details"]);
    }
}

#[test]
fn the_final_guard_shrinks_rather_than_fails() {
    let n = worst(1024 * 1024);
    let small = n.publication_within(24 * 1024);
    assert!(small.size() <= 24 * 1024, "{}", small.size());
    let message: Value = serde_json::from_str(&small.message).unwrap();
    assert!(message["default"].as_str().unwrap().ends_with(" bytes)"), "{}", message["default"]);
    // Even a limit it cannot meet gives the smallest message, never an error.
    assert!(n.publication_within(1).size() < 24 * 1024);
}

#[test]
fn attributes_and_subject_are_one_short_line() {
    let mut n = note("\n\t  \u{7}Build  failed\r\n", "");
    n.cluster = Some(format!("a\nb{}", "c".repeat(1024 * 1024)));
    assert_eq!(n.sns_subject(), "Build failed");
    let cluster = n.attributes().into_iter().find(|(name, _)| *name == "cluster").unwrap().1;
    assert!(cluster.len() <= NAME_MAX && cluster.starts_with("a?bc") && cluster.ends_with("…(1048579 bytes)"), "{cluster}");
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
