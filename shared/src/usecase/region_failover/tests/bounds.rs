//! Issue 13, item 3: a failover reason of any size leaves an alert SNS accepts.

use super::*;
use crate::notify::limits::{SIZES, assert_sendable};

#[tokio::test]
async fn a_huge_failover_reason_is_cut_and_the_alert_is_sent() {
    for size in SIZES {
        // Both health alarms unhealthy, in a state CloudWatch names at length.
        let world = World::new(false, false);
        world.aws.cloudwatch.put_alarm(Alarm::composite(PRIMARY_ALARM, "A".repeat(size), Some(NOW)));
        world.west_alarms.put_alarm(Alarm::composite(STANDBY_ALARM, "B".repeat(size), Some(NOW)));

        let outcome = world.handle(sample_event("failover-primary-alarm.json")).await.unwrap();

        assert_eq!(outcome.details.as_ref().unwrap()["plan"]["plan"], "alert", "{size}");
        assert_eq!(world.writes(), 0);
        assert_eq!(world.published(), ["failover.alert"], "{size}");
        let text = assert_sendable(&world.aws.sns.published()[0]);
        assert!(text.contains("Why:      both regions are unhealthy (us-east-1: AAA"), "{size}: {text:.3000}");
        assert!(text.contains("Region:   us-west-2 health alarm BBB"), "{size}: the lines after it stay");
    }
}
