//! `region-failover` against one moto server acting as both regions (us-east-1 primary,
//! us-west-2 standby): health alarms in CloudWatch, services in ECS, failover records in Route 53.
//! moto has no composite alarms: the test of composite health alarms reads DescribeAlarms from
//! `cloudwatch_like_aws`.

mod cloudwatch_like_aws;

use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType};
use cloudwatch_like_aws::CloudWatchLikeAws;
use deckhand::config::FailoverConfig;
use deckhand::wiring::{self, SdkRegionFailover};
use deckhand_integration_tests::{Aws, Local, TestClock, attribute, failover_config, sample_event};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NAME: &str = "api.example.com";
const PRIMARY_ALARM: &str = "deckhand-health-us-east-1";
const STANDBY_ALARM: &str = "deckhand-health-us-west-2";

struct World {
    local: Local,
    west: Aws,
    zone: String,
    clock: TestClock,
}

/// Primary `prod/web` with 6 tasks, standby with 2, failover records, both health alarms OK.
async fn world() -> World {
    let local = Local::start().await;
    let west = Aws::new(&local.moto.sdk_config_in("us-west-2").await);
    local.aws.running_service("prod", "web", 6, &[]).await;
    west.running_service("prod", "web", 2, &[("deckhand:scale-min", "2")]).await;
    let zone = local.aws.failover_records(NAME).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let w = World { local, west, zone, clock: TestClock::at(now) };
    w.health(true, true).await;
    w
}

impl World {
    async fn health(&self, primary_ok: bool, standby_ok: bool) {
        let state = |ok| if ok { "OK" } else { "ALARM" };
        self.local.aws.cpu_alarm(PRIMARY_ALARM, ("prod", "web"), false, 1.0, state(primary_ok), 4.0).await;
        self.west.cpu_alarm(STANDBY_ALARM, ("prod", "web"), false, 1.0, state(standby_ok), 4.0).await;
    }

    fn config(&self) -> FailoverConfig {
        FailoverConfig {
            notify_topic_arn: self.local.topic.clone(),
            hosted_zone: self.zone.clone(),
            scale_wait: 1,
            dns_wait: 1,
            ..failover_config()
        }
    }

    fn function(&self) -> SdkRegionFailover {
        wiring::region_failover_at(self.config(), &self.local.sdk, self.clock.clock()).with_poll(Duration::from_millis(10))
    }

    /// The function with each region's DescribeAlarms answered by `east` / `west`.
    fn function_reading(&self, east: &CloudWatchLikeAws, west: &CloudWatchLikeAws) -> SdkRegionFailover {
        let cloudwatch = |sdk: &aws_config::SdkConfig| match sdk.region().map(|r| r.as_ref()) {
            Some("us-east-1") => east.client(sdk),
            Some("us-west-2") => west.client(sdk),
            other => panic!("no CloudWatch in {other:?}"),
        };
        wiring::region_failover_with(self.config(), &self.local.sdk, self.clock.clock(), cloudwatch).with_poll(Duration::from_millis(10))
    }

    async fn handle(&self, event: Value) -> Value {
        serde_json::to_value(self.function().handle(event).await.unwrap()).unwrap()
    }

    async fn serving(&self) -> (String, String) {
        self.local.aws.primary_record(&self.zone, NAME).await
    }
}

fn step_statuses(outcome: &Value) -> Vec<(String, String)> {
    outcome["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap().to_owned(), s["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_primary_alarm_fails_over_and_a_repeat_changes_nothing_more() {
    let w = world().await;
    w.health(false, true).await;

    let outcome = w.handle(sample_event("failover-primary-alarm.json")).await;

    let done = |step: &str| (step.to_owned(), "done".to_owned());
    assert_eq!(step_statuses(&outcome), [done("scale"), done("move_dns"), done("freeze"), done("record_flip")], "{outcome}");
    assert_eq!(w.serving().await, ("us-west-2".to_owned(), "198.51.100.20".to_owned()), "the standby's record is PRIMARY");
    assert_eq!(w.west.desired_count("prod", "web").await, 6, "the standby was scaled to the primary's count first");
    let freeze = w.local.aws.service_tags("prod", "web").await.get("deckhand:freeze").cloned().unwrap_or_default();
    assert!(freeze.starts_with("failover to us-west-2 at "), "{freeze}");
    let messages = w.local.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("failover.failed_over", "critical"));
    assert_eq!(messages[0]["Subject"], "Failed over to us-west-2: api.example.com");

    let again = w.handle(sample_event("failover-primary-alarm.json")).await;
    assert_eq!(again["details"]["plan"]["plan"], "hold", "{again}");
    assert!(again["resources"].as_array().is_none_or(Vec::is_empty), "no step: {again}");
    assert_eq!(w.serving().await.0, "us-west-2");
    assert_eq!(w.west.desired_count("prod", "web").await, 6);
    assert!(w.local.messages().await.is_empty(), "a repeat is not news");
}

/// Issue 12: regional health alarms that are composite alarms (the usual way to combine several
/// signals) read as MISSING in both regions, so a failover paged "both regions are unhealthy" and
/// moved nothing. DescribeAlarms comes from `cloudwatch_like_aws` (moto has no composite alarms);
/// ECS and Route 53 from moto.
#[tokio::test]
async fn composite_health_alarms_are_read_in_both_regions_and_a_failover_proceeds() {
    let w = world().await;
    let (east, west) = (CloudWatchLikeAws::new("us-east-1"), CloudWatchLikeAws::new("us-west-2"));
    let rule = |region: &str| format!(r#"ALARM("web-5xx-{region}") OR ALARM("web-latency-{region}")"#);
    east.put_composite_alarm(PRIMARY_ALARM, &rule("us-east-1"), "OK");
    west.put_composite_alarm(STANDBY_ALARM, &rule("us-west-2"), "OK");

    let status =
        serde_json::to_value(w.function_reading(&east, &west).handle(sample_event("failover-status.json")).await.unwrap()).unwrap();
    let observed = &status["details"]["observed"];
    assert_eq!(
        (observed["primary"]["alarm_state"].as_str(), observed["standby"]["alarm_state"].as_str()),
        (Some("OK"), Some("OK")),
        "{status}"
    );

    east.put_composite_alarm(PRIMARY_ALARM, &rule("us-east-1"), "ALARM");
    let outcome = w.function_reading(&east, &west).handle(sample_event("failover-primary-alarm.json")).await.unwrap();
    let outcome = serde_json::to_value(outcome).unwrap();

    let done = |step: &str| (step.to_owned(), "done".to_owned());
    assert_eq!(step_statuses(&outcome), [done("scale"), done("move_dns"), done("freeze"), done("record_flip")], "{outcome}");
    assert_eq!(w.serving().await, ("us-west-2".to_owned(), "198.51.100.20".to_owned()), "the standby's record is PRIMARY");
    assert_eq!(w.west.desired_count("prod", "web").await, 6);
    let freeze = w.local.aws.service_tags("prod", "web").await.get("deckhand:freeze").cloned().unwrap_or_default();
    assert!(freeze.starts_with("failover to us-west-2 at "), "{freeze}");
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["failover.failed_over"]);
    assert!(east.describe_calls() >= 2 && west.describe_calls() >= 2);
}

#[tokio::test]
async fn both_regions_unhealthy_changes_nothing_and_alerts() {
    let w = world().await;
    w.health(false, false).await;

    let outcome = w.handle(sample_event("failover-primary-alarm.json")).await;

    assert_eq!(outcome["details"]["plan"]["plan"], "alert");
    assert!(outcome["resources"].as_array().is_none_or(Vec::is_empty), "no step: {outcome}");
    assert_eq!(w.serving().await.0, "us-east-1");
    assert_eq!(w.west.desired_count("prod", "web").await, 2);
    assert!(!w.local.aws.service_tags("prod", "web").await.contains_key("deckhand:freeze"));
    let messages = w.local.messages().await;
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("failover.alert", "critical"));
    assert!(messages[0]["Message"].as_str().unwrap().contains("both regions are unhealthy"));
}

#[tokio::test]
async fn a_manual_failback_waits_for_stability_then_restores_the_primary_and_lifts_the_freeze() {
    let w = world().await;
    w.health(false, true).await;
    w.handle(sample_event("failover-primary-alarm.json")).await;
    w.local.messages().await;
    w.health(true, true).await;

    let early = w.handle(sample_event("failover-failback.json")).await;
    assert!(early["details"]["plan"]["reason"].as_str().unwrap().contains("stabilization"), "{early}");
    assert_eq!(w.serving().await.0, "us-west-2");

    // Past the 600 s window, with a margin: moto stamps the alarm's OK by its own clock, which ran
    // on (the failover's bounded waits) while the test clock stood still.
    w.clock.advance(660);
    let outcome = w.handle(sample_event("failover-failback.json")).await;

    assert_eq!(outcome["details"]["plan"]["to"], "primary", "{outcome}");
    assert_eq!(w.serving().await, ("us-east-1".to_owned(), "192.0.2.10".to_owned()));
    assert!(!w.local.aws.service_tags("prod", "web").await.contains_key("deckhand:freeze"), "freeze lifted");
    let messages = w.local.messages().await;
    assert_eq!(attribute(&messages[0], "event"), "failover.failed_back");
}

#[tokio::test]
async fn a_dry_run_returns_the_plan_and_changes_nothing() {
    let w = world().await;
    w.health(false, true).await;

    let outcome = w.handle(sample_event("failover-dry-run.json")).await;

    assert_eq!(outcome["details"]["plan"]["plan"], "move");
    assert_eq!(outcome["details"]["plan"]["steps"].as_array().unwrap().len(), 4);
    assert!(outcome["resources"].as_array().is_none_or(Vec::is_empty), "no step: {outcome}");
    assert_eq!(w.serving().await.0, "us-east-1");
    assert_eq!(w.west.desired_count("prod", "web").await, 2);
    assert!(w.local.messages().await.is_empty());

    let status = w.handle(sample_event("failover-status.json")).await;
    assert_eq!(
        (status["details"]["observed"]["serving"].as_str(), status["details"]["observed"]["primary"]["alarm_state"].as_str()),
        (Some("primary"), Some("ALARM"))
    );
}

/// The standby's failover record as the world creates it: deleted to inject a DNS change that
/// cannot be made, put back to clear the fault.
async fn standby_record(w: &World, action: ChangeAction) {
    let set = ResourceRecordSet::builder()
        .name(NAME)
        .r#type(RrType::A)
        .set_identifier("us-west-2")
        .failover(ResourceRecordSetFailover::Secondary)
        .ttl(60)
        .resource_records(ResourceRecord::builder().value("198.51.100.20").build().unwrap())
        .build()
        .unwrap();
    let change = Change::builder().action(action).resource_record_set(set).build().unwrap();
    let route53 = aws_sdk_route53::Client::new(&w.local.sdk);
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&w.zone)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_dns_change_that_cannot_be_made_fails_the_invocation_records_no_flip_and_a_retry_finishes() {
    let w = world().await;
    w.health(false, true).await;
    standby_record(&w, ChangeAction::Delete).await;

    let err = w.function().handle(sample_event("failover-primary-alarm.json")).await.unwrap_err().to_string();

    assert!(err.contains("set identifier us-west-2"), "{err}");
    assert_eq!(w.west.desired_count("prod", "web").await, 6, "pre-scaled, then stopped at DNS");
    let (primary, standby) = (w.local.aws.service_tags("prod", "web").await, w.west.service_tags("prod", "web").await);
    assert!(!primary.contains_key("deckhand:last-flip") && !standby.contains_key("deckhand:last-flip"), "{primary:?} {standby:?}");
    assert!(!primary.contains_key("deckhand:freeze"), "the plan stopped before the freeze");
    let messages = w.local.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("failover.incomplete", "critical"));
    assert!(messages[0]["Message"].as_str().unwrap().contains("move_dns failed"));

    standby_record(&w, ChangeAction::Upsert).await;
    let retry = w.handle(sample_event("failover-primary-alarm.json")).await;

    let done = |step: &str| (step.to_owned(), "done".to_owned());
    assert_eq!(step_statuses(&retry), [done("move_dns"), done("freeze"), done("record_flip")], "{retry}");
    assert_eq!(w.serving().await.0, "us-west-2");
    assert!(w.west.service_tags("prod", "web").await.contains_key("deckhand:last-flip"));
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["failover.failed_over"]);
}

#[tokio::test]
async fn alarms_of_others_and_bad_requests_change_nothing() {
    let w = world().await;
    let mut other = sample_event("failover-primary-alarm.json");
    other["detail"]["alarmName"] = "billing".into();
    let outcome = w.handle(other).await;
    assert!(outcome["ignored"].as_str().unwrap().contains("not a health alarm"));
    let err = w.function().handle(serde_json::json!({"action": "explode"})).await.unwrap_err().to_string();
    assert!(err.contains("`action`") && err.contains("explode"), "{err}");
    assert_eq!(w.serving().await.0, "us-east-1");
}

#[tokio::test]
async fn a_misspelt_dry_run_flag_is_refused_and_route_53_is_untouched() {
    let w = world().await;
    // The primary is down: a real failover would move DNS at once.
    w.health(false, true).await;
    let records = || async {
        let route53 = aws_sdk_route53::Client::new(&w.local.sdk);
        let sets = route53.list_resource_record_sets().hosted_zone_id(&w.zone).send().await.unwrap().resource_record_sets;
        format!("{sets:?}")
    };
    let before = records().await;

    let err = w.function().handle(serde_json::json!({"action": "failover", "dryrun": true})).await.unwrap_err().to_string();

    assert!(err.contains("field `dryrun`") && err.contains("nothing was done"), "{err}");
    assert_eq!(records().await, before, "every record set is as it was");
    assert_eq!(w.serving().await.0, "us-east-1");
    assert_eq!(w.west.desired_count("prod", "web").await, 2, "the standby was not pre-scaled");
    assert!(!w.local.aws.service_tags("prod", "web").await.contains_key("deckhand:freeze"));
    assert!(w.local.messages().await.is_empty());
}
