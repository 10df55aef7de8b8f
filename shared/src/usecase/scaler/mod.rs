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

use crate::config::ScalerConfig;
use crate::error::HandlerError;
use crate::event::alarm;
use crate::outcome::{Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{Alarm, Alarms, Capacity, CodeDeployments, Controller, Notifier, ServiceCapacity};
use crate::runtime::Clock;
use crate::tags;
use marker::{LastAction, Step};
use notification::{at_max_notification, scaled_notification};
use plan::{Decision, Direction, Observation, ScalingPolicy, decide};
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

pub struct Scaler<A, E, C, N> {
    config: ScalerConfig,
    alarms: A,
    ecs: E,
    codedeploy: C,
    notifier: N,
    now: Clock,
}

impl<A: Alarms, E: ServiceCapacity, C: CodeDeployments, N: Notifier> Scaler<A, E, C, N> {
    pub fn new(config: ScalerConfig, alarms: A, ecs: E, codedeploy: C, notifier: N, now: Clock) -> Self {
        Self { config, alarms, ecs, codedeploy, notifier, now }
    }

    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
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
                .unwrap_or_else(|err| ResourceResult::Failed { error: err.to_string() });
            info!(alarm = alarm.name, cluster, service, result = %json!(result), "evaluated");
            let resource = ResourceOutcome { trigger: Some(alarm.name.clone()), ..ResourceOutcome::service(cluster, service, result) };
            outcome.resources.push(resource);
        }
        outcome.into_result()
    }

    async fn evaluate(&self, alarm: &Alarm, trigger: Trigger, cluster: &str, service: &str) -> Result<ResourceResult, HandlerError> {
        let ignore = |reason: String| Ok(ResourceResult::Ignored { reason });
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
        let last_action = capacity.tags.get(tags::LAST_SCALE).and_then(|v| LastAction::parse(v));
        // A step done but perhaps not announced is announced before anything else, whatever state
        // the alarm is in now (Lambda's retry of the event that caused it may find it OK), by an
        // alarm of the step's direction only: the notice cites the alarm as the step's cause.
        if let Some((intent, step)) = last_action.and_then(|last| Some((last, last.unannounced(direction, capacity.desired)?))) {
            self.announce(alarm, &capacity, &policy, intent, step).await?;
            let (direction, metric) = (intent.direction, alarm.latest_datapoint);
            return Ok(ResourceResult::Scaled { direction, from: step.from, to: step.to, metric, threshold });
        }
        if alarm.state != "ALARM" {
            return ignore(format!("alarm is {} now", alarm.state));
        }
        let now = (self.now)();
        let observation = Observation {
            direction,
            metric: alarm.latest_datapoint,
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
                self.announce(alarm, &capacity, &policy, intent, step).await?;
                Ok(ResourceResult::Scaled { direction, from, to, metric: alarm.latest_datapoint, threshold })
            }
            // Worth a person's attention once, when the alarm fires, not at every re-check. A
            // failed Publish fails the invocation: the retry, with nothing else to do, sends it.
            Decision::AtLimit { desired, limit } if direction == Direction::Out && trigger == Trigger::Transition => {
                self.notifier.publish(&at_max_notification(alarm, &capacity, desired, limit)).await?;
                Ok(ResourceResult::Held { direction, decision, notified: true })
            }
            decision => Ok(ResourceResult::Held { direction, decision, notified: false }),
        }
    }

    /// Publishes the scaling notification of `intent`'s step, then marks the step done. Until
    /// then the marker still says the step was intended, so a retry announces it (again, with the
    /// same deduplication id, when only the marker's write failed).
    async fn announce(
        &self,
        alarm: &Alarm,
        capacity: &Capacity,
        policy: &ScalingPolicy,
        intent: LastAction,
        step: Step,
    ) -> Result<(), HandlerError> {
        self.notifier.publish(&scaled_notification(alarm, capacity, policy, intent.direction, intent.at, step)).await?;
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

fn dimension<'a>(alarm: &'a Alarm, name: &str) -> &'a str {
    alarm.dimensions.get(name).map_or("", String::as_str)
}

/// One tag opts in, so IAM can limit the scaler's `UpdateService` to exactly these services.
fn opted_in(capacity: &Capacity) -> bool {
    capacity.tags.contains_key(tags::SCALE)
}
