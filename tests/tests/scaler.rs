//! `scaler` against moto server: alarms in CloudWatch, the service's desired count in ECS, the
//! notification in SQS. Time is a test clock, so cooldowns can be crossed without sleeping.

use aws_sdk_ecs::config::interceptors::{BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef};
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use deckhand::adapters::aws::{cloudwatch::SdkCloudWatch, codedeploy::SdkCodeDeploy, ecs::SdkEcs, sns::SdkSns};
use deckhand::config::ScalerConfig;
use deckhand::outcome::ResourceResult;
use deckhand::usecase::scaler::Scaler;
use deckhand::usecase::scaler::plan::Decision;
use deckhand::wiring::{self, SdkScaler};
use deckhand_integration_tests::{Local, TestClock, attribute, sample_event};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const HIGH: &str = "deckhand-scale-prod-web-cpu-high";
const LOW: &str = "deckhand-scale-prod-web-cpu-low";
const T0: u64 = 1_795_000_000;

struct World {
    local: Local,
    clock: TestClock,
}

/// Cluster `prod` with service `web` (2 tasks, or a CodeDeploy one) carrying `tags`.
async fn world_with(tags: &[(&str, &str)], code_deploy: bool) -> World {
    let local = Local::start().await;
    local.aws.create_cluster("prod").await;
    if code_deploy {
        local.aws.create_codedeploy_group("shop", "web-bg", ("prod", "web")).await;
    }
    let td = local.aws.register_web_task_definition("web", "v1").await;
    local.aws.create_service("prod", "web", &td, tags, code_deploy).await;
    World { local, clock: TestClock::at(T0) }
}

async fn world(tags: &[(&str, &str)]) -> World {
    world_with(tags, false).await
}

impl World {
    fn config(&self) -> ScalerConfig {
        ScalerConfig { notify_topic_arn: self.local.topic.clone(), alarm_prefix: "deckhand-scale-".into(), clusters: vec![] }
    }

    fn scaler(&self) -> SdkScaler {
        wiring::scaler_at(self.config(), &self.local.sdk, self.clock.clock())
    }

    /// The scaler whose ECS calls pass through `outage`.
    fn scaler_behind(&self, outage: &UpdateServiceOutage) -> SdkScaler {
        let sdk = &self.local.sdk;
        let ecs = aws_sdk_ecs::Client::from_conf(aws_sdk_ecs::config::Builder::from(sdk).interceptor(outage.clone()).build());
        let alarms = SdkCloudWatch::new(aws_sdk_cloudwatch::Client::new(sdk));
        let notifier = SdkSns::new(aws_sdk_sns::Client::new(sdk), self.local.topic.clone());
        Scaler::new(
            self.config(),
            alarms,
            SdkEcs::new(ecs, aws_sdk_resourcegroupstagging::Client::new(sdk)),
            SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)),
            notifier,
            self.clock.clock(),
        )
    }

    async fn last_scale(&self) -> Option<String> {
        self.local.aws.service_tags("prod", "web").await.get("deckhand:last-scale").cloned()
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }

    async fn events(&self) -> Vec<String> {
        self.local.messages().await.iter().map(|m| attribute(m, "event").to_owned()).collect()
    }
}

#[tokio::test]
async fn an_alarm_raises_the_desired_count_and_says_so() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 91.2).await;

    let outcome = w.scaler().handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();

    assert!(matches!(outcome.resources[0].result, ResourceResult::Scaled { from: 2, to: 3, .. }), "{outcome:?}");
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3);
    let messages = w.local.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["Subject"], "Scaled out prod/web: 2 -> 3 tasks");
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "service")), ("scaling.out", "web"));
    assert!(messages[0]["Message"].as_str().unwrap().contains("CPUUtilization 91.2 (threshold 70.0)"));
}

#[tokio::test]
async fn rechecks_keep_scaling_until_the_maximum_and_stop_there() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 75.0).await;
    let scaler = w.scaler();

    scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3);
    w.advance(61);
    scaler.handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 4);
    w.advance(61);
    let held = scaler.handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert!(
        matches!(
            held.resources[0].result,
            ResourceResult::Held { decision: Decision::AtLimit { desired: 4, limit: 4 }, notified: false, .. }
        ),
        "{held:?}"
    );
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 4);
    assert_eq!(w.events().await, ["scaling.out", "scaling.out"], "re-checks at the maximum stay quiet");

    // The alarm firing again at the maximum is worth one warning.
    scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    let messages = w.local.messages().await;
    assert_eq!((attribute(&messages[0], "event"), attribute(&messages[0], "severity")), ("scaling.at_max", "warning"));
}

#[tokio::test]
async fn cooldowns_hold_across_invocations() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 80.0).await;
    w.scaler().handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();

    // A new instance (a cold start) still sees the cooldown: it lives on the service's tag.
    w.advance(59);
    let held = w.scaler().handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert!(
        matches!(held.resources[0].result, ResourceResult::Held { decision: Decision::Cooldown { remaining_seconds: 1 }, .. }),
        "{held:?}"
    );
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3);

    // Scale-in waits 300 s after any scaling.
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "OK", 40.0).await;
    w.local.aws.cpu_alarm(LOW, ("prod", "web"), false, 30.0, "ALARM", 10.0).await;
    w.advance(200);
    let held = w.scaler().handle(sample_event("cloudwatch-alarm-scale-in.json")).await.unwrap();
    assert!(
        matches!(held.resources[0].result, ResourceResult::Held { decision: Decision::Cooldown { remaining_seconds: 41 }, .. }),
        "{held:?}"
    );
    w.advance(42);
    w.scaler().handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 2);
}

#[tokio::test]
async fn scale_in_is_refused_while_a_blue_green_deployment_is_active() {
    let tags = [
        ("deckhand:scale", "on"),
        ("deckhand:scale-max", "6"),
        ("deckhand:codedeploy-app", "shop"),
        ("deckhand:codedeploy-group", "web-bg"),
    ];
    let w = world_with(&tags, true).await;
    w.local.aws.ecs.update_service().cluster("prod").service("web").desired_count(4).send().await.unwrap();
    w.local.aws.cpu_alarm(LOW, ("prod", "web"), false, 30.0, "ALARM", 8.0).await;

    // No deployment: one task goes.
    w.scaler().handle(sample_event("cloudwatch-alarm-scale-in.json")).await.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3);

    // A deployment starts (CodeDeploy, status Created): scale-in waits, scale-out still works.
    w.local.aws.start_codedeploy_deployment("shop", "web-bg").await;
    w.advance(301);
    let held = w.scaler().handle(sample_event("scheduled-recheck.json")).await.unwrap();
    assert!(matches!(held.resources[0].result, ResourceResult::Held { decision: Decision::DeploymentInFlight, .. }), "{held:?}");
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3);
    w.local.aws.cpu_alarm(LOW, ("prod", "web"), false, 30.0, "OK", 50.0).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 90.0).await;
    w.scaler().handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 4);
}

#[tokio::test]
async fn two_concurrent_invocations_scale_once() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 80.0).await;
    let (first, second) = (w.scaler(), w.scaler());

    let (a, b) =
        tokio::join!(first.handle(sample_event("cloudwatch-alarm-scale-out.json")), second.handle(sample_event("scheduled-recheck.json")));

    a.unwrap();
    b.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3, "one step, not two");
}

#[tokio::test]
async fn what_is_not_ours_is_left_alone() {
    let w = world(&[("deckhand:scale-max", "8")]).await; // bounds alone do not opt in
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 99.0).await;

    let outcome = w.scaler().handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert!(
        matches!(&outcome.resources[0].result, ResourceResult::Ignored { reason, .. } if reason.contains("not opted in")),
        "{outcome:?}"
    );
    let ok = w.scaler().handle(sample_event("cloudwatch-alarm-ok.json")).await.unwrap();
    assert!(ok.ignored.unwrap().contains("only ALARM scales"));
    let mut other = sample_event("cloudwatch-alarm-scale-out.json");
    other["detail"]["alarmName"] = "billing-too-high".into();
    assert!(w.scaler().handle(other).await.unwrap().ignored.unwrap().contains("not a scaling alarm"));
    let mut malformed = sample_event("cloudwatch-alarm-scale-out.json");
    malformed["detail"].as_object_mut().unwrap().remove("state");
    assert!(w.scaler().handle(malformed).await.unwrap_err().to_string().contains("`detail.state`"));

    assert_eq!(w.local.aws.desired_count("prod", "web").await, 2);
    assert!(w.events().await.is_empty());
}

/// ECS `UpdateService` out of order, between the scaler and the local AWS: while armed, the call
/// fails before it is sent, or (`answer_lost`) after the local AWS applied it, as a timeout would.
#[derive(Debug, Clone, Default)]
struct UpdateServiceOutage {
    armed: Arc<AtomicBool>,
    answer_lost: bool,
    /// An UpdateService is on the wire: its answer is the next one deserialized.
    sent: Arc<AtomicBool>,
}

impl UpdateServiceOutage {
    fn armed(answer_lost: bool) -> Self {
        Self { armed: Arc::new(AtomicBool::new(true)), answer_lost, sent: Arc::default() }
    }

    fn end(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for UpdateServiceOutage {
    fn name(&self) -> &'static str {
        "UpdateServiceOutage"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let update = context.request().headers().get("x-amz-target").is_some_and(|target| target.ends_with(".UpdateService"));
        if update && self.armed.load(Ordering::SeqCst) && !self.answer_lost {
            return Err("InternalFailure: UpdateService is out of order (injected by the test)".into());
        }
        self.sent.store(update, Ordering::SeqCst);
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.sent.swap(false, Ordering::SeqCst) && self.armed.load(Ordering::SeqCst) {
            return Err("dispatch failure: timeout: the answer to UpdateService was lost (injected by the test)".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_scale_out_whose_update_service_failed_is_finished_by_the_retry_in_one_step() {
    for answer_lost in [false, true] {
        let w = world(&[("deckhand:scale", "on")]).await;
        w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 91.2).await;
        let outage = UpdateServiceOutage::armed(answer_lost);
        let scaler = w.scaler_behind(&outage);

        let err = scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap_err();
        assert!(err.to_string().contains("ecs:UpdateService"), "{err}");
        let applied = if answer_lost { 3 } else { 2 };
        assert_eq!((w.local.aws.desired_count("prod", "web").await, w.last_scale().await), (applied, Some(format!("out:{T0}:2:3"))));
        assert!(w.events().await.is_empty());

        // Lambda's retry, within 60 s of the intent: a step that never happened holds no
        // cooldown; one whose answer was lost is announced, not taken again.
        outage.end();
        w.advance(50);
        let retry = scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
        assert!(matches!(retry.resources[0].result, ResourceResult::Scaled { from: 2, to: 3, .. }), "{retry:?}");
        // Either way the step is the intent's, at its time: one step, one notice id.
        assert_eq!((w.local.aws.desired_count("prod", "web").await, w.last_scale().await), (3, Some(format!("out:{T0}"))));
        assert_eq!(w.events().await, ["scaling.out"], "answer lost: {answer_lost}");
    }
}

/// Issue 12: the re-check comes from EventBridge Scheduler (`aws.scheduler`, `detail` a string),
/// and sizes from the metric's newest datapoint (GetMetricStatistics), not from the alarm's state
/// reason data, which CloudWatch leaves as it was while the alarm stays in ALARM.
#[tokio::test]
async fn a_scheduler_recheck_sizes_from_the_metric_now() {
    let w = world(&[("deckhand:scale", "on"), ("deckhand:scale-max", "10")]).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 140.0).await;
    w.local.aws.put_cpu(("prod", "web"), 140.0, T0 - 60).await;
    let scaler = w.scaler();

    let outcome = scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert!(matches!(outcome.resources[0].result, ResourceResult::Scaled { from: 2, to: 4, .. }), "{outcome:?}");

    // The load is down to 80 %; the alarm's reason data still says 140 % (it would give 8).
    w.local.aws.put_cpu(("prod", "web"), 80.0, T0 + 30).await;
    w.advance(61);
    let recheck = sample_event("scheduled-recheck.json");
    assert_eq!(recheck["source"], "aws.scheduler");
    let outcome = scaler.handle(recheck).await.unwrap();
    assert!(matches!(outcome.resources[0].result, ResourceResult::Scaled { from: 4, to: 5, .. }), "{outcome:?}");
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 5);
    let messages = w.local.messages().await;
    assert!(messages[1]["Message"].as_str().unwrap().contains("CPUUtilization 80.0 (threshold 70.0)"), "{}", messages[1]["Message"]);
}

/// Issue 12: `CLUSTERS` may name clusters by ARN, as it may for the other functions.
#[tokio::test]
async fn clusters_given_as_arns_still_scale() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 91.2).await;
    let config = ScalerConfig { clusters: vec!["arn:aws:ecs:us-east-1:123456789012:cluster/prod".into()], ..w.config() };
    let scaler = wiring::scaler_at(config, &w.local.sdk, w.clock.clock());

    let outcome = scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert!(matches!(outcome.resources[0].result, ResourceResult::Scaled { from: 2, to: 3, .. }), "{outcome:?}");
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 3);
}

/// Issue 12: the alarm firing again at the maximum inside the out-cooldown warns, once per alarm
/// event: a redelivery of the event stays quiet.
#[tokio::test]
async fn the_alarm_firing_at_the_maximum_warns_once_even_inside_the_cooldown() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.ecs.update_service().cluster("prod").service("web").desired_count(3).send().await.unwrap();
    w.local.aws.cpu_alarm(HIGH, ("prod", "web"), true, 70.0, "ALARM", 91.2).await;
    let scaler = w.scaler();
    scaler.handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 4);

    w.advance(10);
    let mut again = sample_event("cloudwatch-alarm-scale-out.json");
    again["id"] = "a-second-firing".into();
    let held = scaler.handle(again.clone()).await.unwrap();
    assert!(matches!(held.resources[0].result, ResourceResult::Held { notified: true, .. }), "{held:?}");
    let redelivered = scaler.handle(again).await.unwrap();
    assert!(matches!(redelivered.resources[0].result, ResourceResult::Held { notified: false, .. }), "{redelivered:?}");
    assert_eq!(w.events().await, ["scaling.out", "scaling.at_max"]);
    let tags = w.local.aws.service_tags("prod", "web").await;
    assert_eq!(tags.get("deckhand:scale-warned").map(String::as_str), Some("a-second-firing"));
}

/// Issue 12: a metric-math alarm is ignored for what it is, not for dimensions it does have.
#[tokio::test]
async fn a_metric_math_alarm_is_ignored_for_what_it_is() {
    let w = world(&[("deckhand:scale", "on")]).await;
    w.local.aws.max_of_cpu_and_memory_alarm(HIGH, ("prod", "web"), 70.0).await;

    let outcome = w.scaler().handle(sample_event("cloudwatch-alarm-scale-out.json")).await.unwrap();
    let ResourceResult::Ignored { reason } = &outcome.resources[0].result else { panic!("{outcome:?}") };
    assert!(reason.starts_with("metric-math alarms are not supported"), "{reason}");
    assert!(reason.contains("MAX([m1, m2])") && reason.contains("prod/web"), "{reason}");
    assert_eq!(w.local.aws.desired_count("prod", "web").await, 2);
}
