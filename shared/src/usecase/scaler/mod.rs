//! `scaler`: CloudWatch alarms → ECS service desired count, aware of deployments in flight.
//!
//! Driven by alarm state changes (alarms named with the configured prefix) and by a schedule that
//! re-checks every such alarm still in ALARM: CloudWatch sends an event only on a transition, and
//! a service under sustained load must keep scaling until it reaches its maximum.

pub mod marker;
mod notification;
pub mod plan;
#[cfg(test)]
mod tests;

use crate::config::{ScalerConfig, cluster_listed};
use crate::error::HandlerError;
use crate::event::alarm;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{Capacity, CodeDeployments, Controller, MetricQuery, Notifier, ScalingAlarm, ScalingAlarms, ServiceCapacity, Watched};
use crate::quote::quote;
use crate::runtime::Clock;
use crate::tags;
use marker::{LastAction, Step};
use notification::{Cause, at_max_notification, scaled_notification};
use plan::{Decision, Direction, Observation, ScalingPolicy, decide};
use serde_json::{Value, json};
use tracing::{info, warn};

pub const FUNCTION: &str = "scaler";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Trigger {
    /// The alarm just went into ALARM; the event's id tells a redelivery of it.
    Transition { event_id: Option<String> },
    /// The schedule's re-check of an alarm still in ALARM.
    Recheck,
}

pub struct Scaler<A, E, C, N> {
    config: ScalerConfig,
    alarms: A,
    ecs: E,
    codedeploy: C,
    notifier: N,
    now: Clock,
}

impl<A: ScalingAlarms, E: ServiceCapacity, C: CodeDeployments, N: Notifier> Scaler<A, E, C, N> {
    pub fn new(config: ScalerConfig, alarms: A, ecs: E, codedeploy: C, notifier: N, now: Clock) -> Self {
        Self { config, alarms, ecs, codedeploy, notifier, now }
    }

    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let (event_id, trigger, alarms) = if alarm::is_schedule(&event) {
            let id = event.get("id").and_then(Value::as_str).map(str::to_owned);
            (id, Trigger::Recheck, self.alarms.scaling_alarms_in_alarm(&self.config.alarm_prefix).await?)
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
            let alarms = self.alarms.scaling_alarms(std::slice::from_ref(&change.alarm_name)).await?;
            if alarms.is_empty() {
                return Ok(ignored(change.event_id, format!("alarm {} does not exist (any more)", change.alarm_name)));
            }
            (change.event_id.clone(), Trigger::Transition { event_id: change.event_id }, alarms)
        };
        let mut outcome = Outcome::new(FUNCTION, event_id);
        if alarms.is_empty() {
            outcome.ignored = Some(format!("no alarm named {}* is in ALARM", self.config.alarm_prefix));
        }
        for alarm in &alarms {
            let result = self.evaluate(alarm, &trigger).await.unwrap_or_else(|err| ResourceResult::Failed { error: err.to_string() });
            let (cluster, service) = watched_service(alarm);
            info!(alarm = alarm.name, cluster, service, result = %json!(result), "evaluated");
            let resource = if cluster.is_empty() && service.is_empty() {
                ResourceOutcome { resource: format!("alarm {}", alarm.name), trigger: Some(alarm.name.clone()), result }
            } else {
                ResourceOutcome { trigger: Some(alarm.name.clone()), ..ResourceOutcome::service(cluster, service, result) }
            };
            outcome.resources.push(resource);
        }
        outcome.into_result()
    }

    async fn evaluate(&self, alarm: &ScalingAlarm, trigger: &Trigger) -> Result<ResourceResult, HandlerError> {
        let ignore = |reason: String| Ok(ResourceResult::Ignored { reason });
        let metric = match &alarm.watched {
            Watched::Metric(metric) => metric,
            Watched::Composite { .. } => {
                return ignore("composite alarms are not supported for scaling: a composite alarm combines other alarms and has no metric to size the service from; use a metric alarm on the service's ClusterName and ServiceName".into());
            }
            Watched::MetricMath { expression, services } => {
                let over = if services.is_empty() { "no service's metric".to_owned() } else { services.join(", ") };
                let expression = expression.as_deref().map_or_else(|| "an expression".to_owned(), quote);
                return ignore(format!(
                    "metric-math alarms are not supported for scaling: the scaler sizes from one metric of the service, and this alarm evaluates {expression} (over {over}); use a metric alarm on the service's ClusterName and ServiceName"
                ));
            }
        };
        let Some(direction) = alarm.comparison.as_deref().and_then(Direction::from_comparison) else {
            return ignore(format!("comparison {:?} is neither above nor below a threshold", alarm.comparison));
        };
        let Some(threshold) = alarm.threshold else { return ignore("the alarm has no threshold".into()) };
        let (cluster, service) = watched_service(alarm);
        if cluster.is_empty() || service.is_empty() {
            return ignore("the alarm's metric has no ClusterName and ServiceName dimensions".into());
        }
        if !cluster_listed(&self.config.clusters, cluster) {
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
        let last_action = capacity.tags.get(tags::LAST_SCALE).and_then(|v| LastAction::parse(v));
        // A step done but perhaps not announced is announced before anything else, whatever state
        // the alarm is in now (Lambda's retry of the event that caused it may find it OK), by an
        // alarm of the step's direction only: the notice cites the alarm as the step's cause.
        if let Some((intent, step)) = last_action.and_then(|last| Some((last, last.unannounced(direction, capacity.desired)?))) {
            let cause = Cause { alarm, value: alarm.reason_datapoint };
            self.announce(&cause, &capacity, &policy, intent, step).await?;
            let (direction, metric) = (intent.direction, cause.value);
            return Ok(ResourceResult::Scaled { direction, from: step.from, to: step.to, metric, threshold });
        }
        if alarm.state != "ALARM" {
            return ignore(format!("alarm is {} now", alarm.state));
        }
        let now = (self.now)();
        let cause = Cause { alarm, value: self.load_now(alarm, metric, now).await? };
        let observation = Observation {
            direction,
            metric: cause.value,
            threshold,
            desired: capacity.desired,
            last_action,
            now,
            // Only scale-in looks at deployments; spare the calls otherwise.
            deployment_in_flight: direction == Direction::In && self.deployment_in_flight(&capacity).await?,
        };
        let decision = decide(&policy, &observation);
        match decision {
            Decision::Scale { from, to } | Decision::Finish { from, to, .. } => {
                // The intent first, then UpdateService, the notification, and the marker that says
                // both are done. Every failure fails the invocation, and the retry reads where it
                // stopped from the count and the marker: the count still at `from` → it finishes
                // the intent as recorded, `at` included, so its notice keeps one deduplication id
                // (`decide`); the count at `to` → it announces. The other order (UpdateService, then
                // the marker) is not safe: a failed tag write leaves a moved count under an old
                // marker, and the retry would take a second step from it.
                let step = Step { from, to };
                let intent = match decision {
                    // Already recorded: the marker is this intent.
                    Decision::Finish { at, .. } => LastAction { direction, at, pending: Some(step) },
                    _ => {
                        let intent = LastAction { direction, at: now, pending: Some(step) };
                        self.ecs.tag_service(&capacity.arn, tags::LAST_SCALE, &intent.tag_value()).await?;
                        intent
                    }
                };
                self.ecs.set_desired_count(cluster, service, to).await?;
                self.announce(&cause, &capacity, &policy, intent, step).await?;
                Ok(ResourceResult::Scaled { direction, from, to, metric: cause.value, threshold })
            }
            Decision::AtLimit { desired, limit } if direction == Direction::Out => {
                let Trigger::Transition { event_id } = trigger else {
                    // Worth a person's attention once, when the alarm fires, not at every re-check.
                    return Ok(ResourceResult::Held { direction, decision, notified: false });
                };
                let notified = self.warn_at_max(&cause, &capacity, desired, limit, event_id.as_deref()).await?;
                Ok(ResourceResult::Held { direction, decision, notified })
            }
            decision => Ok(ResourceResult::Held { direction, decision, notified: false }),
        }
    }

    /// The load now: the newest datapoint of the alarm's metric (its period and statistic). The
    /// alarm's own datapoints (its state reason data) are those that made it change state: fresh
    /// at the transition, but frozen while it stays in ALARM, so a re-check sizing from them
    /// would scale on a load long gone (140 % on 2 tasks → 4, the load down to 80 %, and the
    /// re-check still reads 140 % → 8). Alarm events read the metric too: a retry of one comes
    /// minutes later, and the metric may have a datapoint newer than the transition. Only when the
    /// metric has no datapoint in its window (a metric that stopped reporting, moto without data)
    /// do the alarm's datapoints stand in; with neither, `decide` takes one step. A failed read
    /// fails the invocation, as any read does: the retry, or the next re-check, reads again.
    async fn load_now(&self, alarm: &ScalingAlarm, metric: &MetricQuery, now: u64) -> Result<Option<f64>, HandlerError> {
        Ok(self.alarms.latest_value(metric, now).await?.or(alarm.reason_datapoint))
    }

    /// Warns that the service is at its maximum with the alarm firing, once per alarm event:
    /// published, then the event's id recorded in `deckhand:scale-warned`, so that a redelivery
    /// of the event (EventBridge delivers at least once) finds it and stays quiet. A failed step
    /// fails the invocation; the retry publishes again with the same deduplication id. Whether
    /// a warning went out.
    async fn warn_at_max(
        &self,
        cause: &Cause<'_>,
        capacity: &Capacity,
        desired: i32,
        limit: i32,
        event_id: Option<&str>,
    ) -> Result<bool, HandlerError> {
        if event_id.is_some() && capacity.tags.get(tags::SCALE_WARNED).map(String::as_str) == event_id {
            info!(cluster = capacity.cluster_arn, service = capacity.name, event_id, "at-max warning already sent for this event");
            return Ok(false);
        }
        self.notifier.publish(&at_max_notification(cause, capacity, desired, limit, event_id)).await?;
        if let Some(id) = event_id {
            self.ecs.tag_service(&capacity.arn, tags::SCALE_WARNED, id).await?;
        }
        Ok(true)
    }

    /// Publishes the scaling notification of `intent`'s step, then marks the step done. Until
    /// then the marker still says the step was intended, so a retry announces it (again, with the
    /// same deduplication id, when only the marker's write failed).
    async fn announce(
        &self,
        cause: &Cause<'_>,
        capacity: &Capacity,
        policy: &ScalingPolicy,
        intent: LastAction,
        step: Step,
    ) -> Result<(), HandlerError> {
        self.notifier.publish(&scaled_notification(cause, capacity, policy, intent.direction, intent.at, step)).await?;
        let done = LastAction { pending: None, ..intent };
        self.ecs.tag_service(&capacity.arn, tags::LAST_SCALE, &done.tag_value()).await
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

fn ignored(event_id: Option<String>, reason: String) -> Outcome {
    info!(reason, "ignored");
    Outcome::ignored(FUNCTION, event_id, reason)
}

/// The cluster and service an alarm's metric names (its `ClusterName` and `ServiceName`
/// dimensions); empty when it names none, or watches no single metric.
fn watched_service(alarm: &ScalingAlarm) -> (&str, &str) {
    let Watched::Metric(metric) = &alarm.watched else { return ("", "") };
    let dimension = |name| metric.dimensions.get(name).map_or("", String::as_str);
    (dimension("ClusterName"), dimension("ServiceName"))
}

/// One tag opts in, so IAM can limit the scaler's `UpdateService` to exactly these services.
fn opted_in(capacity: &Capacity) -> bool {
    capacity.tags.contains_key(tags::SCALE)
}
