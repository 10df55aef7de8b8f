//! `scaler`: CloudWatch alarms → ECS service desired count, aware of deployments in flight.
//!
//! Driven by alarm state changes (alarms named with the configured prefix) and by a schedule that
//! re-checks every such alarm still in ALARM: CloudWatch sends an event only on a transition, and
//! a service under sustained load must keep scaling until it reaches its maximum.

use crate::aws::cloudwatch::SdkCloudWatch;
use crate::aws::codedeploy::SdkCodeDeploy;
use crate::aws::ecs::SdkEcs;
use crate::aws::sns::SdkSns;
use crate::aws::{Alarm, Alarms, Capacity, CodeDeployments, Controller, Notifier, ServiceCapacity, publish_or_log};
use crate::config::ScalerConfig;
use crate::error::HandlerError;
use crate::event::alarm;
use crate::notify::{Notification, Severity};
use crate::outcome::{Failure, Outcome, ServiceOutcome};
use crate::runtime::Clock;
use crate::scaling::{Decision, Direction, LastAction, Observation, ScalingPolicy, decide};
use crate::tags;
use serde::Serialize;
use serde_json::{Value, json};
use tracing::{info, warn};

pub const FUNCTION: &str = "scaler";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The alarm just went into ALARM.
    Transition,
    /// The schedule's re-check of an alarm still in ALARM.
    Recheck,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ScalingResult {
    Scaled {
        alarm: String,
        direction: Direction,
        from: i32,
        to: i32,
        metric: Option<f64>,
        threshold: f64,
        notified: bool,
    },
    Held {
        alarm: String,
        direction: Direction,
        #[serde(flatten)]
        decision: Decision,
        notified: bool,
    },
    Ignored {
        alarm: String,
        reason: String,
    },
    Failed {
        alarm: String,
        error: String,
    },
}

impl Failure for ScalingResult {
    fn failure(&self) -> Option<&str> {
        match self {
            ScalingResult::Failed { error, .. } => Some(error),
            _ => None,
        }
    }
}

pub struct Scaler<A, E, C, N> {
    config: ScalerConfig,
    alarms: A,
    ecs: E,
    codedeploy: C,
    notifier: N,
    now: Clock,
}

impl Scaler<SdkCloudWatch, SdkEcs, SdkCodeDeploy, SdkSns> {
    pub fn from_sdk(config: ScalerConfig, sdk: &aws_config::SdkConfig, now: Clock) -> Self {
        let notifier = SdkSns::new(aws_sdk_sns::Client::new(sdk), config.notify_topic_arn.clone());
        Self {
            config,
            alarms: SdkCloudWatch::new(aws_sdk_cloudwatch::Client::new(sdk)),
            ecs: SdkEcs::new(aws_sdk_ecs::Client::new(sdk)),
            codedeploy: SdkCodeDeploy::new(aws_sdk_codedeploy::Client::new(sdk)),
            notifier,
            now,
        }
    }
}

impl<A: Alarms, E: ServiceCapacity, C: CodeDeployments, N: Notifier> Scaler<A, E, C, N> {
    pub async fn handle(&self, event: Value) -> Result<Outcome<ScalingResult>, HandlerError> {
        let (event_id, trigger, alarms) = if alarm::is_schedule(&event) {
            let id = event.get("id").and_then(Value::as_str).map(str::to_owned);
            (id, Trigger::Recheck, self.alarms.in_alarm_with_prefix(&self.config.alarm_prefix).await?)
        } else {
            let change = alarm::decode(event)?;
            if !change.alarm_name.starts_with(&self.config.alarm_prefix) {
                let reason = format!("alarm {} is not a scaling alarm (prefix {})", change.alarm_name, self.config.alarm_prefix);
                return Ok(ignored(change.event_id, reason));
            }
            if change.state != "ALARM" {
                return Ok(ignored(change.event_id, format!("alarm {} is {}: only ALARM scales", change.alarm_name, change.state)));
            }
            // The event carries no comparison operator; DescribeAlarms has it, and the current state.
            (change.event_id, Trigger::Transition, self.alarms.named(&[change.alarm_name]).await?)
        };
        let mut outcome = Outcome::new(FUNCTION, event_id);
        if alarms.is_empty() {
            outcome.ignored = Some(format!("no alarm named {}* is in ALARM", self.config.alarm_prefix));
        }
        for alarm in &alarms {
            let (cluster, service) = (dimension(alarm, "ClusterName"), dimension(alarm, "ServiceName"));
            let result = self
                .evaluate(alarm, trigger, cluster, service)
                .await
                .unwrap_or_else(|err| ScalingResult::Failed { alarm: alarm.name.clone(), error: err.to_string() });
            info!(alarm = alarm.name, cluster, service, result = %json!(result), "evaluated");
            outcome.services.push(ServiceOutcome { cluster: cluster.to_owned(), service: service.to_owned(), result });
        }
        outcome.into_result()
    }

    async fn evaluate(&self, alarm: &Alarm, trigger: Trigger, cluster: &str, service: &str) -> Result<ScalingResult, HandlerError> {
        let ignore = |reason: String| Ok(ScalingResult::Ignored { alarm: alarm.name.clone(), reason });
        if alarm.state != "ALARM" {
            return ignore(format!("alarm is {} now", alarm.state));
        }
        let Some(direction) = alarm.comparison.as_deref().and_then(Direction::from_comparison) else {
            return ignore(format!("comparison {:?} is neither above nor below a threshold", alarm.comparison));
        };
        let Some(threshold) = alarm.threshold else { return ignore("the alarm has no threshold".into()) };
        if cluster.is_empty() || service.is_empty() {
            return ignore("the alarm's metric has no ClusterName and ServiceName dimensions".into());
        }
        if !self.config.clusters.is_empty() && !self.config.clusters.iter().any(|c| c == cluster) {
            return ignore(format!("cluster {cluster} is not in CLUSTERS"));
        }
        let Some(capacity) = self.ecs.capacity(cluster, service).await? else {
            return ignore(format!("service {cluster}/{service} does not exist"));
        };
        if !opted_in(&capacity) {
            return ignore(format!("service is not opted in (no {} tag)", tags::SCALE));
        }
        let policy = match ScalingPolicy::from_tags(&capacity.tags) {
            Ok(policy) => policy,
            Err(reason) => {
                warn!(cluster, service, reason, "invalid scaling tags");
                return ignore(reason);
            }
        };
        let now = (self.now)();
        let observation = Observation {
            direction,
            metric: alarm.latest_datapoint,
            threshold,
            desired: capacity.desired,
            last_action: capacity.tags.get(tags::LAST_SCALE).and_then(|v| LastAction::parse(v)),
            now,
            // Only scale-in looks at deployments; spare the calls otherwise.
            deployment_in_flight: direction == Direction::In && self.deployment_in_flight(&capacity).await?,
        };
        let decision = decide(&policy, &observation);
        match decision {
            Decision::Scale { from, to } => {
                // Cooldown first: a concurrent invocation that reads after this sees it and holds;
                // one that read before computes the same absolute count, so the service scales once.
                let action = LastAction { direction, at: now };
                self.ecs.tag_service(&capacity.arn, tags::LAST_SCALE, &action.tag_value()).await?;
                self.ecs.set_desired_count(cluster, service, to).await?;
                let notified = publish_or_log(&self.notifier, &scaled_notification(alarm, &capacity, &policy, direction, from, to)).await;
                Ok(ScalingResult::Scaled {
                    alarm: alarm.name.clone(),
                    direction,
                    from,
                    to,
                    metric: alarm.latest_datapoint,
                    threshold,
                    notified,
                })
            }
            // Worth a person's attention once, when the alarm fires, not at every re-check.
            Decision::AtLimit { desired, limit } if direction == Direction::Out && trigger == Trigger::Transition => {
                let notified = publish_or_log(&self.notifier, &at_max_notification(alarm, &capacity, desired, limit)).await;
                Ok(ScalingResult::Held { alarm: alarm.name.clone(), direction, decision, notified })
            }
            decision => Ok(ScalingResult::Held { alarm: alarm.name.clone(), direction, decision, notified: false }),
        }
    }

    /// A rolling deployment (several ECS deployments), a blue/green one (several task sets), or
    /// an active CodeDeploy deployment in the service's group.
    async fn deployment_in_flight(&self, capacity: &Capacity) -> Result<bool, HandlerError> {
        if capacity.deployments > 1 || capacity.task_sets > 1 {
            return Ok(true);
        }
        if capacity.controller != Controller::CodeDeploy {
            return Ok(false);
        }
        let (Some(application), Some(group)) = (capacity.tags.get(tags::CODEDEPLOY_APP), capacity.tags.get(tags::CODEDEPLOY_GROUP)) else {
            return Ok(false);
        };
        Ok(self.codedeploy.active_deployment(application, group).await?.is_some())
    }
}

fn ignored(event_id: Option<String>, reason: String) -> Outcome<ScalingResult> {
    info!(reason, "ignored");
    Outcome::ignored(FUNCTION, event_id, reason)
}

fn dimension<'a>(alarm: &'a Alarm, name: &str) -> &'a str {
    alarm.dimensions.get(name).map_or("", String::as_str)
}

/// One tag opts in, so IAM can limit the scaler's `UpdateService` to exactly these services.
fn opted_in(capacity: &Capacity) -> bool {
    capacity.tags.contains_key(tags::SCALE)
}

fn metric_line(alarm: &Alarm) -> String {
    let metric = alarm.metric_name.as_deref().unwrap_or("metric");
    let value = alarm.latest_datapoint.map_or_else(|| "no recent datapoint".to_owned(), |v| format!("{v:.1}"));
    let threshold = alarm.threshold.map_or_else(String::new, |t| format!(" (threshold {t:.1})"));
    format!("{metric} {value}{threshold}, alarm {}", alarm.name)
}

fn scaled_notification(
    alarm: &Alarm,
    capacity: &Capacity,
    policy: &ScalingPolicy,
    direction: Direction,
    from: i32,
    to: i32,
) -> Notification {
    let cluster = capacity.cluster_arn.rsplit('/').next().unwrap_or_default();
    let limit = if to == policy.max {
        " (maximum)"
    } else if to == policy.min {
        " (minimum)"
    } else {
        ""
    };
    Notification {
        event: if direction == Direction::Out { "scaling.out" } else { "scaling.in" },
        severity: Severity::Info,
        subject: format!("Scaled {} {cluster}/{}: {from} -> {to} tasks", direction.as_str(), capacity.name),
        text: format!(
            "Deckhand scaled {cluster}/{} {} from {from} to {to} tasks{limit}.\n\nCause:     {}\nPolicy:    {}-{} tasks, cooldown {} s out / {} s in\nRunning:   {} tasks\n",
            capacity.name,
            direction.as_str(),
            metric_line(alarm),
            policy.min,
            policy.max,
            policy.out_cooldown,
            policy.in_cooldown,
            capacity.running,
        ),
        details: json!({"alarm": alarm.name, "metric": alarm.metric_name, "value": alarm.latest_datapoint, "threshold": alarm.threshold,
                        "direction": direction, "from": from, "to": to, "policy": policy}),
        cluster: Some(cluster.to_owned()),
        service: Some(capacity.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:{}:{from}->{to}", capacity.arn, direction.as_str())),
    }
}

fn at_max_notification(alarm: &Alarm, capacity: &Capacity, desired: i32, limit: i32) -> Notification {
    let cluster = capacity.cluster_arn.rsplit('/').next().unwrap_or_default();
    Notification {
        event: "scaling.at_max",
        severity: Severity::Warning,
        subject: format!("At maximum capacity: {cluster}/{} ({desired} tasks) still in alarm", capacity.name),
        text: format!(
            "{cluster}/{} runs {desired} tasks, its maximum is {limit}, and it is still in alarm.\n\nCause:     {}\nRaise {} to let Deckhand add tasks.\n",
            capacity.name,
            metric_line(alarm),
            tags::SCALE_MAX,
        ),
        details: json!({"alarm": alarm.name, "metric": alarm.metric_name, "value": alarm.latest_datapoint, "threshold": alarm.threshold, "desired": desired, "max": limit}),
        cluster: Some(cluster.to_owned()),
        service: Some(capacity.name.clone()),
        project: None,
        dedup_key: Some(format!("{}:at-max:{}", capacity.arn, alarm.name)),
    }
}
