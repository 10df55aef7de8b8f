//! `region-failover`: health alarms (and operators) → a failover plan → its steps, each
//! idempotent: pre-scale the region about to serve, move DNS, freeze deployments in the region
//! traffic left, notify, remember the flip.
//!
//! A step that fails stops the plan there and fails the invocation (after a notice saying what
//! is half done), so Lambda retries it; the retry plans anew from what it observes and finishes
//! the job. The flip's notice goes out before its record (`deckhand:last-flip`), the last step:
//! a retry that finds no record still owes both, and none is damped by a flip that never happened.
//!
//! The Route 53 control plane lives in us-east-1 — the primary region itself. The template's
//! failover records carry health checks that follow each region's health alarm, so DNS moves on
//! the data plane even when no API can be called; when this function cannot change the records,
//! the invocation fails after the standby was pre-scaled, and its retries finish the rest.
//!
//! Before traffic moves to the standby, its services' images are checked against the primary's
//! and against the standby region's registry (`images`, `plan::images`): under
//! `STANDBY_IMAGE_CHECK=warn` (the default) what is wrong is said and traffic moves; under `refuse`
//! it does not.

mod images;
mod notification;
mod observe;
pub mod operator;
pub mod plan;
mod request;
mod steps;
#[cfg(test)]
mod tests;

use crate::config::FailoverConfig;
use crate::error::HandlerError;
use crate::outcome::{OUTCOME_ID_MAX, Outcome, ResourceOutcome, ResourceResult};
use crate::ports::{Alarms, Dns, DnsRecords, Notifier, Registry, ServiceCapacity, ServiceDeployments, TaskDefinitions};
use crate::quote::clip;
use crate::runtime::Clock;
use crate::usecase::publish_or_log;
use observe::Observation;
use plan::{Intent, Observed, Plan, Settings, Side, Step, counts_to_remember, plan, wants_image_check};
use request::Ask;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;
use tracing::{info, warn};

pub const FUNCTION: &str = "region-failover";

/// The capabilities the function has in one region.
pub struct RegionPorts<E, A> {
    pub ecs: E,
    pub alarms: A,
}

/// What region failover needs of ECS in each region: services' counts and tags, and the task
/// definitions of their deployments (the images they run).
pub trait RegionEcs: ServiceCapacity + ServiceDeployments + TaskDefinitions {}

impl<T: ServiceCapacity + ServiceDeployments + TaskDefinitions> RegionEcs for T {}

pub struct RegionFailover<E, A, R, D, N> {
    config: FailoverConfig,
    primary: RegionPorts<E, A>,
    standby: RegionPorts<E, A>,
    /// The standby region's registry: whether it has the images the standby is to run.
    standby_registry: R,
    dns: D,
    notifier: N,
    now: Clock,
    /// Between two looks while waiting for tasks to run.
    poll: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    #[serde(flatten)]
    pub step: Step,
    /// `done`, `incomplete` (it happened, but a wait ran out) or `failed` (the plan stopped there).
    pub status: &'static str,
    pub detail: String,
    pub millis: u64,
}

/// What one invocation observed, planned and did: the outcome's details and resources, and the
/// notification's content.
#[derive(Debug, Clone, Serialize)]
pub struct FailoverReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// What started it: an alarm's name, an operator's action, or the schedule.
    pub trigger: String,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    pub steps: Vec<StepResult>,
}

impl<E: RegionEcs, A: Alarms, R: Registry, D: Dns, N: Notifier> RegionFailover<E, A, R, D, N> {
    pub fn new(
        config: FailoverConfig,
        primary: RegionPorts<E, A>,
        standby: RegionPorts<E, A>,
        standby_registry: R,
        dns: D,
        notifier: N,
        now: Clock,
    ) -> Self {
        Self { config, primary, standby, standby_registry, dns, notifier, now, poll: Duration::from_secs(5) }
    }

    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    fn records(&self) -> DnsRecords {
        DnsRecords {
            zone: self.config.hosted_zone.clone(),
            name: self.config.record_name.clone(),
            record_type: self.config.record_type.clone(),
            primary_id: self.config.primary_set_id.clone(),
            standby_id: self.config.standby_set_id.clone(),
        }
    }

    fn ports(&self, side: Side) -> &RegionPorts<E, A> {
        match side {
            Side::Primary => &self.primary,
            Side::Standby => &self.standby,
        }
    }

    fn region(&self, side: Side) -> &str {
        match side {
            Side::Primary => &self.config.primary_region,
            Side::Standby => &self.config.standby_region,
        }
    }

    pub async fn handle(&self, event: Value) -> Result<Outcome, HandlerError> {
        let report = self.report(event).await?;
        Ok(self.outcome(report))
    }

    async fn report(&self, event: Value) -> Result<FailoverReport, HandlerError> {
        let request = request::classify(event, &self.config)?;
        let mut outcome = FailoverReport {
            event_id: request.event_id.clone(),
            trigger: request.trigger.clone(),
            dry_run: request.dry_run,
            ignored: None,
            observed: None,
            plan: None,
            steps: Vec::new(),
        };
        let intent = match request.ask {
            Ask::Plan(intent) => intent,
            Ask::Ignore(reason) => {
                outcome.ignored = Some(reason);
                return Ok(outcome);
            }
            Ask::Status => {
                let mut observation = self.observe().await;
                self.check_images(&mut observation).await;
                outcome.observed = Some(observation.seen);
                return Ok(outcome);
            }
        };
        let mut observation = self.observe().await;
        let settings = Settings {
            dwell: self.config.dwell,
            stabilization: self.config.stabilization,
            auto_failback: self.config.auto_failback,
            image_check: self.config.image_check,
        };
        // The standby's images are checked when they matter (a move there, whose notice names
        // what is wrong) or are asked for; the plan then accounts for them.
        if request.dry_run || wants_image_check(&plan(&observation.seen, intent, &settings), &observation.seen) {
            self.check_images(&mut observation).await;
        }
        let decided = plan(&observation.seen, intent, &settings);
        info!(trigger = %clip(&request.trigger, OUTCOME_ID_MAX), plan = %json!(decided), "planned");
        outcome.observed = Some(observation.seen.clone());
        outcome.plan = Some(decided.clone());
        if request.dry_run {
            return Ok(outcome);
        }
        match &decided {
            Plan::Move { to, steps, .. } => self.carry_out(&mut outcome, intent, *to, steps, &observation).await?,
            Plan::Retry { side, reason } => {
                // A move that is due but cannot see where it goes is said at once; a run that
                // cannot tell whether one is due (the serving region's alarm) retries quietly.
                if *side != observation.seen.serving.unwrap_or(Side::Primary) {
                    // Checked only for a move to the standby: a retry then is the check's.
                    let what = match observation.seen.standby_images {
                        Some(_) => "the standby's images could not be checked".to_owned(),
                        None => format!("{} could not be read", self.region(*side)),
                    };
                    publish_or_log(&self.notifier, &self.incomplete(&outcome, &what, reason)).await;
                }
                return Err(observation.read_error(*side, reason));
            }
            Plan::Hold { .. } | Plan::Alert { .. } => {
                if let Some(notification) = self.notification(&outcome, intent) {
                    self.notifier.publish(&notification).await?;
                }
            }
        }
        // Runs that find nothing to do keep the memory current (the re-check schedule makes them
        // regular); a move or an alert spends no call on it. Best effort: a count not remembered
        // now is by a later run, and no run fails for it.
        if let Plan::Hold { .. } = decided {
            for step in counts_to_remember(&observation.seen) {
                let (result, done) = self.execute(&step, &observation.capacities).await;
                outcome.steps.push(result);
                if let Err(err) = done {
                    warn!(step = %json!(step), error = %err, "cannot remember the primary's count");
                }
            }
        }
        Ok(outcome)
    }

    /// The plan's steps in order, up to the first that fails. A flip still owed its notice gets it
    /// just before its record, so that the record stands for "moved and announced".
    async fn carry_out(
        &self,
        outcome: &mut FailoverReport,
        intent: Intent,
        to: Side,
        steps: &[Step],
        observation: &Observation,
    ) -> Result<(), HandlerError> {
        for step in steps {
            if matches!(step, Step::RecordFlip { .. })
                && observation.seen.flip_owed(to)
                && let Some(notification) = self.notification(outcome, intent)
            {
                self.notifier.publish(&notification).await?;
            }
            let (result, done) = self.execute(step, &observation.capacities).await;
            let detail = result.detail.clone();
            outcome.steps.push(result);
            if let Err(err) = done {
                // Said at once, before the error is returned: what is half done matters to a
                // person now, not after Lambda's retries. Best effort: the invocation fails either
                // way, and the retry that finishes the job sends the move's notice if still owed.
                let what = format!("{} failed", json!(step)["step"].as_str().unwrap_or_default());
                publish_or_log(&self.notifier, &self.incomplete(outcome, &what, &detail)).await;
                return Err(err);
            }
        }
        Ok(())
    }

    /// The envelope: one resource per step carried out; what was seen and planned in `details`.
    fn outcome(&self, report: FailoverReport) -> Outcome {
        let mut outcome = Outcome::new(FUNCTION, report.event_id);
        outcome.ignored = report.ignored;
        outcome.details = Some(json!({
            "trigger": report.trigger,
            "dry_run": report.dry_run,
            "observed": report.observed,
            "plan": report.plan,
        }));
        for StepResult { step, status, detail, millis } in report.steps {
            let resource = match &step {
                Step::Scale { side, cluster, service, .. }
                | Step::Freeze { side, cluster, service }
                | Step::Unfreeze { side, cluster, service } => {
                    format!("{} {cluster}/{service}", self.region(*side))
                }
                Step::RememberPrimaryCount { cluster, service, .. } => {
                    format!("{} {cluster}/{service}", self.region(Side::Standby))
                }
                Step::MoveDns { .. } | Step::RecordFlip { .. } => self.config.record_name.clone(),
            };
            outcome.resources.push(ResourceOutcome {
                resource,
                trigger: None,
                result: ResourceResult::Step { step, status, detail, millis },
            });
        }
        outcome
    }
}
