//! Issue 13, item 3: a failover reason of any size leaves an alert SNS accepts.

use super::*;
use crate::notify::limits::{SIZES, assert_sendable};

#[tokio::test]
async fn a_huge_failover_reason_is_cut_and_the_alert_is_sent() {
    for size in SIZES {
        // Both health alarms unhealthy, in a state CloudWatch names at length.
        let world = World::new(false, false);
        world.aws.cloudwatch.put_alarm(Alarm::new(PRIMARY_ALARM, "A".repeat(size), Some(NOW)));
        world.west_alarms.put_alarm(Alarm::new(STANDBY_ALARM, "B".repeat(size), Some(NOW)));

        let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

        assert_eq!(outcome.details.as_ref().unwrap()["plan"]["plan"], "alert", "{size}");
        assert_eq!(world.writes(), 0);
        assert_eq!(world.published(), ["failover.alert"], "{size}");
        let text = assert_sendable(&world.aws.sns.published()[0]);
        assert!(text.contains("Why:      both regions are unhealthy (us-east-1: AAA"), "{size}: {text:.3000}");
        assert!(text.contains("Region:   us-west-2 health alarm BBB"), "{size}: the lines after it stay");
    }
}

/// Issue 13, item 2: an alarm name longer than CloudWatch allows is refused in a short error; it
/// never becomes the failover's trigger, in full, in the outcome, the log or an alert.
#[tokio::test]
async fn a_megabyte_alarm_name_is_refused_short() {
    let world = World::new(false, true);
    let mut event = sample_event("failover-primary-alarm.json");
    event["detail"]["alarmName"] = json!("a".repeat(1 << 20));

    let message = world.handle(event).await.expect_err("refused").to_string();

    assert!(message.contains("field `detail.alarmName`: expected at most 255 characters"), "{message:.300}");
    assert!(message.len() <= crate::event::EVENT_ERROR_MAX, "{} bytes", message.len());
    assert_eq!(world.writes(), 0);
    assert_eq!(world.published(), Vec::<&str>::new());
}
