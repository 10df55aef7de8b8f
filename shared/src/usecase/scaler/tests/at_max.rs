//! The maximum: the alarm firing there is worth one warning per alarm event, cooldown or not;
//! a count above it comes down to it.

use super::*;

/// An alarm event like `cloudwatch-alarm-scale-out.json`, with its own id.
fn firing(id: &str) -> Value {
    let mut event = sample_event("cloudwatch-alarm-scale-out.json");
    event["id"] = json!(id);
    event
}

fn warned(result: &ResourceResult) -> bool {
    matches!(result, ResourceResult::Held { decision: Decision::AtLimit { .. }, notified: true, .. })
}

#[tokio::test]
async fn the_alarm_firing_at_the_maximum_inside_the_out_cooldown_warns() {
    let w = World::new(high(), |s| s.tasks(3, 3));
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(result, ResourceResult::Scaled { from: 3, to: 4, .. }), "{result:?}");
    // The alarm flaps back into ALARM 10 s later, inside the 60 s out-cooldown, at the maximum.
    w.advance(10);
    let outcome = w.handle(firing("second-firing")).await.unwrap();
    assert!(warned(&outcome.resources[0].result), "{outcome:?}");
    assert_eq!((w.web().desired, w.published()), (4, vec!["scaling.out", "scaling.at_max"]));
}

#[tokio::test]
async fn a_redelivered_event_does_not_warn_twice() {
    let w = World::new(high(), |s| s.tasks(4, 4));
    let first = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(warned(&first), "{first:?}");
    let event_id = sample_event("cloudwatch-alarm-scale-out.json")["id"].as_str().unwrap().to_owned();
    assert_eq!(w.web().tags.get(tags::SCALE_WARNED), Some(&event_id));

    // EventBridge delivers the same event again.
    let again = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(matches!(again, ResourceResult::Held { notified: false, .. }), "{again:?}");
    assert_eq!(w.published(), ["scaling.at_max"]);

    // The alarm's next firing is a new event: one more warning.
    w.advance(600);
    let outcome = w.handle(firing("next-firing")).await.unwrap();
    assert!(warned(&outcome.resources[0].result), "{outcome:?}");
    assert_eq!(w.published(), ["scaling.at_max", "scaling.at_max"]);
    let ids: Vec<_> = w.aws.sns.published().into_iter().filter_map(|n| n.dedup_key).collect();
    assert_ne!(ids[0], ids[1], "one deduplication id per alarm event");
}

#[tokio::test]
async fn a_failed_marker_write_repeats_the_warning_with_its_id() {
    let w = World::new(high(), |s| s.tasks(4, 4));
    w.aws.faults.fail_nth("ecs:TagResource", 1, Fault::Error);
    let err = w.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
    assert!(err.to_string().contains("ecs:TagResource"), "{err}");
    w.handle_one("cloudwatch-alarm-scale-out.json").await;
    w.handle_one("cloudwatch-alarm-scale-out.json").await;
    let published = w.aws.sns.published();
    assert_eq!((published.len(), &published[0].dedup_key), (2, &published[1].dedup_key), "sent again by the retry, then never");
}

#[tokio::test]
async fn a_count_above_the_maximum_comes_down_to_it_at_once() {
    // Set by hand to 6; the maximum is 4. Application Auto Scaling brings a capacity outside its
    // bounds inside them whenever a policy runs; the scale-in alarm does the same.
    let w = World::new(low(), |s| s.tasks(6, 6));
    let result = w.handle_one("cloudwatch-alarm-scale-in.json").await;
    assert!(matches!(result, ResourceResult::Scaled { direction: Direction::In, from: 6, to: 4, .. }), "{result:?}");
    assert_eq!((w.web().desired, w.published()), (4, vec!["scaling.in"]));
    assert!(w.aws.sns.published()[0].text.contains("from 6 to 4 tasks (maximum)"), "{}", w.aws.sns.published()[0].text);
}

#[tokio::test]
async fn a_scale_out_alarm_above_the_maximum_removes_nothing_and_warns() {
    let w = World::new(high(), |s| s.tasks(6, 6));
    let result = w.handle_one("cloudwatch-alarm-scale-out.json").await;
    assert!(
        matches!(result, ResourceResult::Held { decision: Decision::AtLimit { desired: 6, limit: 4 }, notified: true, .. }),
        "{result:?}"
    );
    assert_eq!((w.web().desired, w.published()), (6, vec!["scaling.at_max"]));
}
