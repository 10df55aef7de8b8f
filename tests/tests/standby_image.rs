//! Issue 15: failing over into a region that lacks the image, against one moto server acting as
//! both regions. The primary (us-east-1) runs `shop/web` v2, pinned by digest; the standby
//! (us-west-2) still runs v1, and its registry has only v1 (replication not done). `status` and
//! the dry-run plan show both; a failover under `warn` moves and its notice says so; under
//! `refuse` nothing moves until the standby is brought up to date.

use deckhand::config::{FailoverConfig, StandbyImageCheck};
use deckhand::wiring::{self, SdkRegionFailover};
use deckhand_integration_tests::{Aws, Local, TestClock, attribute, failover_config, sample_event};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NAME: &str = "api.example.com";
const REPOSITORY: &str = "shop/web";

struct World {
    local: Local,
    west: Aws,
    zone: String,
    clock: TestClock,
    /// The primary's image (v2) and the standby's (v1).
    new: String,
    old: String,
}

/// `prod/web` in the region of `aws` runs `desired` tasks of `shop/web:TAG@DIGEST`. The function
/// reads what a service runs from its newest (PRIMARY) deployment, which UpdateService starts in
/// ECS but not in moto: the service is created anew, as moto replaces one of the same name.
async fn deploy(aws: &Aws, image: &str, desired: i32, tags: &[(&str, &str)]) {
    let task_definition = aws.register_web_task_definition("web", image).await;
    aws.create_service("prod", "web", &task_definition, tags, false).await;
    aws.ecs.update_service().cluster("prod").service("web").desired_count(desired).send().await.unwrap();
}

async fn world() -> World {
    let local = Local::start().await;
    let west = Aws::new(&local.moto.sdk_config_in("us-west-2").await);
    local.aws.create_repository(REPOSITORY, false).await;
    west.create_repository(REPOSITORY, false).await;
    let old = local.aws.push_image(REPOSITORY, "v1", "1").await;
    assert_eq!(west.push_image(REPOSITORY, "v1", "1").await, old, "v1, replicated: the same digest in both regions");
    let new = local.aws.push_image(REPOSITORY, "v2", "2").await;
    assert_ne!(new, old);
    local.aws.create_cluster("prod").await;
    west.create_cluster("prod").await;
    deploy(&local.aws, &format!("v2@{new}"), 6, &[]).await;
    deploy(&west, &format!("v1@{old}"), 2, &[("deckhand:scale-min", "2")]).await;
    let zone = local.aws.failover_records(NAME).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let w = World { local, west, zone, clock: TestClock::at(now), new, old };
    w.health(false).await;
    w
}

impl World {
    async fn health(&self, primary_ok: bool) {
        let state = if primary_ok { "OK" } else { "ALARM" };
        self.local.aws.cpu_alarm("deckhand-health-us-east-1", ("prod", "web"), false, 1.0, state, 4.0).await;
        self.west.cpu_alarm("deckhand-health-us-west-2", ("prod", "web"), false, 1.0, "OK", 4.0).await;
    }

    fn function(&self, image_check: StandbyImageCheck) -> SdkRegionFailover {
        let config = FailoverConfig {
            notify_topic_arn: self.local.topic.clone(),
            hosted_zone: self.zone.clone(),
            scale_wait: 1,
            dns_wait: 1,
            image_check,
            ..failover_config()
        };
        wiring::region_failover_at(config, &self.local.sdk, self.clock.clock()).with_poll(Duration::from_millis(10))
    }

    async fn handle(&self, image_check: StandbyImageCheck, event: Value) -> Value {
        serde_json::to_value(self.function(image_check).handle(event).await.unwrap()).unwrap()
    }

    async fn serving(&self) -> String {
        self.local.aws.primary_record(&self.zone, NAME).await.0
    }
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> &str {
    &digest[..19]
}

#[tokio::test]
async fn status_shows_the_standby_running_an_older_digest_and_its_registry_lacking_the_primary_image() {
    let w = world().await;
    let status = w.handle(StandbyImageCheck::Warn, sample_event("failover-status.json")).await;

    let images = &status["details"]["observed"]["standby_images"];
    assert_eq!(images["region"], "us-west-2", "{images}");
    let web = &images["services"][0]["containers"][0];
    assert_eq!(web["container"], "web", "{images}");
    assert!(web["primary"].as_str().unwrap().ends_with(&format!("shop/web:v2@{}", w.new)), "{web}");
    assert!(web["standby"].as_str().unwrap().ends_with(&format!("shop/web:v1@{}", w.old)), "{web}");
    assert_eq!((web["drift"].clone(), web["in_standby_registry"].clone()), (json!(true), json!(false)), "{web}");
    let otel = &images["services"][0]["containers"][1];
    assert_eq!((otel["container"].clone(), otel["drift"].clone()), (json!("otel"), json!(false)), "the sidecar is the same: {otel}");
    assert!(otel["in_standby_registry"].is_null(), "not an image of this account's ECR: {otel}");
    assert_eq!(
        images["findings"],
        json!([
            format!("prod/web web: the standby runs shop/web@{}, the primary shop/web@{}", short(&w.old), short(&w.new)),
            format!("prod/web web: shop/web@{} is not in us-west-2's registry (replication not done?)", short(&w.new)),
        ])
    );
    assert_eq!(w.serving().await, "us-east-1");
    assert!(w.local.messages().await.is_empty());
}

#[tokio::test]
async fn the_dry_run_plan_shows_the_warnings_under_warn_and_the_refusal_under_refuse() {
    let w = world().await;

    let warned = w.handle(StandbyImageCheck::Warn, sample_event("failover-dry-run.json")).await;
    let plan = &warned["details"]["plan"];
    assert_eq!(plan["plan"], "move", "{warned}");
    assert_eq!(plan["warnings"], warned["details"]["observed"]["standby_images"]["findings"], "{warned}");
    assert_eq!(plan["warnings"].as_array().unwrap().len(), 2, "{plan}");

    let refused = w.handle(StandbyImageCheck::Refuse, sample_event("failover-dry-run.json")).await;
    let plan = &refused["details"]["plan"];
    assert_eq!(plan["plan"], "alert", "{refused}");
    let reason = plan["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("the standby runs shop/web@{}", short(&w.old))), "{reason}");
    assert!(reason.contains("STANDBY_IMAGE_CHECK is refuse: nothing moved"), "{reason}");

    assert_eq!(w.serving().await, "us-east-1");
    assert_eq!(w.west.desired_count("prod", "web").await, 2);
    assert!(w.local.messages().await.is_empty(), "a dry run sends nothing");
}

#[tokio::test]
async fn under_warn_a_failover_moves_and_its_notice_names_the_digests_and_the_missing_image() {
    let w = world().await;
    let outcome = w.handle(StandbyImageCheck::Warn, sample_event("failover-primary-alarm.json")).await;

    assert_eq!(w.serving().await, "us-west-2", "{outcome}");
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["failover.failed_over"]);
    let text = messages[0]["Message"].as_str().unwrap();
    assert!(text.contains("Images:   not all in order in the standby (STANDBY_IMAGE_CHECK=warn)"), "{text}");
    assert!(text.contains(&format!("the standby runs shop/web@{}, the primary shop/web@{}", short(&w.old), short(&w.new))), "{text}");
    assert!(text.contains(&format!("shop/web@{} is not in us-west-2's registry", short(&w.new))), "{text}");
}

#[tokio::test]
async fn under_refuse_nothing_moves_until_the_image_is_replicated_and_the_standby_runs_it() {
    let w = world().await;
    let refused = w.handle(StandbyImageCheck::Refuse, sample_event("failover-primary-alarm.json")).await;

    assert_eq!(refused["details"]["plan"]["plan"], "alert", "{refused}");
    assert_eq!(w.serving().await, "us-east-1");
    assert_eq!(w.west.desired_count("prod", "web").await, 2, "not even pre-scaled");
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["failover.alert"]);

    // Replication catches up, and the standby is deployed the primary's image.
    assert_eq!(w.west.push_image(REPOSITORY, "v2", "2").await, w.new);
    deploy(&w.west, &format!("v2@{}", w.new), 2, &[("deckhand:scale-min", "2")]).await;
    let status = w.handle(StandbyImageCheck::Refuse, sample_event("failover-status.json")).await;
    assert_eq!(status["details"]["observed"]["standby_images"]["findings"], json!([]), "{status}");

    let moved = w.handle(StandbyImageCheck::Refuse, sample_event("failover-primary-alarm.json")).await;
    assert_eq!(moved["details"]["plan"]["plan"], "move", "{moved}");
    assert_eq!(w.serving().await, "us-west-2");
    let messages = w.local.messages().await;
    assert_eq!(messages.iter().map(|m| attribute(m, "event")).collect::<Vec<_>>(), ["failover.failed_over"]);
    assert!(!messages[0]["Message"].as_str().unwrap().contains("Image"), "in order: nothing to say of images");
}
