//! `region-failover`: health alarms (and operators) → a failover plan → its steps, each
//! idempotent: pre-scale the region about to serve, move DNS, freeze deployments in the region
//! traffic left, remember the flip, notify.
//!
//! The Route 53 control plane lives in us-east-1 — the primary region itself. The template's
//! failover records carry health checks that follow each region's health alarm, so DNS moves on
//! the data plane even when no API can be called; when this function cannot change the records,
//! it still pre-scales, freezes and notifies, and reports that DNS is left to the health checks.

use crate::aws::cloudwatch::SdkCloudWatch;
use crate::aws::ecs::SdkEcs;
use crate::aws::route53::SdkRoute53;
use crate::aws::sns::SdkSns;
use crate::aws::{Alarms, Capacity, Dns, DnsRecords, Notifier, ServiceCapacity, publish_or_log};
use crate::config::FailoverConfig;
use crate::error::HandlerError;
use crate::event::{EventError, alarm};
use crate::failover::{Intent, Observed, Plan, RegionState, ServiceState, Settings, Side, Step, plan};
use crate::notify::{Notification, Severity};
use crate::runtime::Clock;
use crate::tags;
use aws_smithy_types::date_time::{DateTime, Format};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tracing::{info, warn};

pub const FUNCTION: &str = "region-failover";

/// The capabilities the function has in one region.
pub struct RegionPorts<E, A> {
    pub ecs: E,
    pub alarms: A,
}

pub type SdkRegionFailover = RegionFailover<SdkEcs, SdkCloudWatch, SdkRoute53, SdkSns>;

impl SdkRegionFailover {
    pub fn from_sdk(config: FailoverConfig, sdk: &aws_config::SdkConfig, now: Clock) -> Self {
        let in_region = |region: &str| {
            let sdk = sdk.to_builder().region(aws_config::Region::new(region.to_owned())).build();
            RegionPorts {
                ecs: SdkEcs::new(aws_sdk_ecs::Client::new(&sdk)),
                alarms: SdkCloudWatch::new(aws_sdk_cloudwatch::Client::new(&sdk)),
            }
        };
        let (primary, standby) = (in_region(&config.primary_region), in_region(&config.standby_region));
        let notifier = SdkSns::new(aws_sdk_sns::Client::new(sdk), config.notify_topic_arn.clone());
        let dns = SdkRoute53::new(aws_sdk_route53::Client::new(sdk));
        RegionFailover { config, primary, standby, dns, notifier, now, poll: Duration::from_secs(5) }
    }
}

pub struct RegionFailover<E, A, D, N> {
    config: FailoverConfig,
    primary: RegionPorts<E, A>,
    standby: RegionPorts<E, A>,
    dns: D,
    notifier: N,
    now: Clock,
    /// Between two looks while waiting for tasks to run.
    poll: Duration,
}

/// An operator's request: `{"action": "failover" | "failback" | "status", "dryRun": bool}`.
#[derive(Debug, Deserialize)]
struct Manual {
    action: String,
    #[serde(default, rename = "dryRun")]
    dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    #[serde(flatten)]
    pub step: Step,
    /// `done`, `incomplete` (it happened, but a wait ran out) or `failed`.
    pub status: &'static str,
    pub detail: String,
    pub millis: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailoverOutcome {
    pub function: &'static str,
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

/// What the function was asked to do.
struct Request {
    event_id: Option<String>,
    trigger: String,
    ask: Ask,
    dry_run: bool,
}

enum Ask {
    /// Plan (and, unless a dry run, carry out) a move.
    Plan(Intent),
    /// Report both regions; change nothing.
    Status,
    /// Not ours: the reason.
    Ignore(String),
}

impl<E: ServiceCapacity, A: Alarms, D: Dns, N: Notifier> RegionFailover<E, A, D, N> {
    pub fn new(config: FailoverConfig, primary: RegionPorts<E, A>, standby: RegionPorts<E, A>, dns: D, notifier: N, now: Clock) -> Self {
        Self { config, primary, standby, dns, notifier, now, poll: Duration::from_secs(5) }
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

    pub async fn handle(&self, event: Value) -> Result<FailoverOutcome, HandlerError> {
        let request = self.request(event)?;
        let mut outcome = FailoverOutcome {
            function: FUNCTION,
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
                outcome.observed = Some(self.observe().await.0);
                return Ok(outcome);
            }
        };
        let (observed, capacities) = self.observe().await;
        let settings =
            Settings { dwell: self.config.dwell, stabilization: self.config.stabilization, auto_failback: self.config.auto_failback };
        let decided = plan(&observed, intent, &settings);
        info!(trigger = request.trigger, plan = %json!(decided), "planned");
        outcome.observed = Some(observed);
        outcome.plan = Some(decided.clone());
        if request.dry_run {
            return Ok(outcome);
        }
        if let Plan::Move { to, steps } = &decided {
            for step in steps {
                outcome.steps.push(self.execute(step, *to, &capacities).await);
            }
        }
        if let Some(notification) = self.notification(&outcome, intent) {
            publish_or_log(&self.notifier, &notification).await;
        }
        Ok(outcome)
    }

    fn request(&self, event: Value) -> Result<Request, HandlerError> {
        let event_id = event.get("id").and_then(Value::as_str).map(str::to_owned);
        if alarm::is_schedule(&event) {
            return Ok(Request { event_id, trigger: "schedule".into(), ask: Ask::Plan(Intent::Automatic), dry_run: false });
        }
        if event.get("action").is_some() {
            let manual: Manual = serde_json::from_value(event).map_err(|err| {
                EventError::field("action", format!("failover, failback or status, with optional dryRun (true/false): {err}"))
            })?;
            let ask = match manual.action.as_str() {
                "failover" => Ask::Plan(Intent::Failover),
                "failback" => Ask::Plan(Intent::Failback),
                "status" => Ask::Status,
                other => return Err(EventError::field("action", format!("failover, failback or status, got \"{other}\"")).into()),
            };
            return Ok(Request { event_id: None, trigger: format!("operator: {}", manual.action), ask, dry_run: manual.dry_run });
        }
        let change = alarm::decode(event)?;
        let trigger = format!("alarm {} {}", change.alarm_name, change.state);
        let ours = change.alarm_name == self.config.primary_alarm || change.alarm_name == self.config.standby_alarm;
        let ask =
            if ours { Ask::Plan(Intent::Automatic) } else { Ask::Ignore(format!("{trigger} is not a health alarm of this failover pair")) };
        Ok(Request { event_id: change.event_id, trigger, ask, dry_run: false })
    }

    /// Both regions as they are now; a region whose APIs fail reads as unhealthy.
    async fn observe(&self) -> (Observed, [Vec<Capacity>; 2]) {
        let (primary, primary_capacity) = self.observe_region(Side::Primary, &self.config.primary_alarm).await;
        let (standby, standby_capacity) = self.observe_region(Side::Standby, &self.config.standby_alarm).await;
        let serving = match self.dns.serving(&self.records()).await {
            Ok(serving) => serving,
            Err(err) => {
                warn!(error = %err, "cannot read the DNS records");
                None
            }
        };
        let last_flip =
            standby_capacity.iter().chain(&primary_capacity).find_map(|c| c.tags.get(tags::LAST_FLIP)).and_then(|v| parse_flip(v));
        (Observed { primary, standby, serving, last_flip, now: (self.now)() }, [primary_capacity, standby_capacity])
    }

    async fn observe_region(&self, side: Side, alarm_name: &str) -> (RegionState, Vec<Capacity>) {
        let ports = self.ports(side);
        let (healthy, alarm_state, alarm_since) = match ports.alarms.named(&[alarm_name.to_owned()]).await {
            Ok(found) => match found.into_iter().next() {
                Some(alarm) => (alarm.state == "OK", alarm.state, alarm.since),
                None => (false, "MISSING".to_owned(), None),
            },
            Err(err) => (false, format!("UNREADABLE ({err})"), None),
        };
        let mut services = Some(Vec::new());
        let mut capacities = Vec::new();
        for (cluster, service) in &self.config.services {
            match ports.ecs.capacity(cluster, service).await {
                Ok(Some(capacity)) => {
                    if let Some(list) = services.as_mut() {
                        list.push(ServiceState {
                            cluster: cluster.clone(),
                            service: service.clone(),
                            desired: capacity.desired,
                            running: capacity.running,
                            min: capacity.tags.get(tags::SCALE_MIN).and_then(|v| v.parse().ok()),
                            frozen: capacity.tags.get(tags::FREEZE).is_some_and(|v| v != "false"),
                        });
                    }
                    capacities.push(capacity);
                }
                Ok(None) => {
                    if let Some(list) = services.as_mut() {
                        list.push(ServiceState {
                            cluster: cluster.clone(),
                            service: service.clone(),
                            desired: 0,
                            running: 0,
                            min: None,
                            frozen: false,
                        });
                    }
                }
                Err(err) => {
                    warn!(region = self.region(side), error = %err, "cannot read services");
                    services = None;
                }
            }
        }
        (RegionState { region: self.region(side).to_owned(), healthy, alarm_state, alarm_since, services }, capacities)
    }

    async fn execute(&self, step: &Step, to: Side, capacities: &[Vec<Capacity>; 2]) -> StepResult {
        let started = Instant::now();
        let (status, detail) = match self.run(step, to, capacities).await {
            Ok((status, detail)) => (status, detail),
            Err(err) => ("failed", err.to_string()),
        };
        let result = StepResult { step: step.clone(), status, detail, millis: started.elapsed().as_millis() as u64 };
        info!(step = %json!(result), "step");
        result
    }

    async fn run(&self, step: &Step, to: Side, capacities: &[Vec<Capacity>; 2]) -> Result<(&'static str, String), HandlerError> {
        let arn_of = |side: Side, cluster: &str, service: &str| {
            on_side(capacities, side)
                .iter()
                .find(|c| c.name == service && c.cluster_arn.ends_with(&format!("/{cluster}")))
                .map(|c| c.arn.clone())
        };
        let now = (self.now)();
        match step {
            Step::Scale { side, cluster, service, to: count, .. } => {
                let ports = self.ports(*side);
                ports.ecs.set_desired_count(cluster, service, *count).await?;
                let deadline = Instant::now() + Duration::from_secs(self.config.scale_wait);
                loop {
                    let running = ports.ecs.capacity(cluster, service).await?.map_or(0, |c| c.running);
                    if running >= *count {
                        return Ok(("done", format!("{running} of {count} tasks running")));
                    }
                    if Instant::now() >= deadline {
                        return Ok((
                            "incomplete",
                            format!("{running} of {count} tasks running after {} s; moving on", self.config.scale_wait),
                        ));
                    }
                    tokio::time::sleep(self.poll).await;
                }
            }
            Step::MoveDns { to } => match self.dns.point_to(&self.records(), *to).await {
                Ok(change) => {
                    let synced = self.dns.wait_in_sync(&change, Duration::from_secs(self.config.dns_wait)).await?;
                    let region = self.region(*to);
                    if synced {
                        Ok(("done", format!("{} now resolves to {region} (change {change} INSYNC)", self.config.record_name)))
                    } else {
                        Ok((
                            "incomplete",
                            format!("change {change} to {region} not INSYNC after {} s; Route 53 will finish it", self.config.dns_wait),
                        ))
                    }
                }
                Err(err) => Ok((
                    "failed",
                    format!("could not change DNS ({err}); DNS is left to the Route 53 health checks, which follow the health alarms"),
                )),
            },
            Step::Freeze { side, cluster, service } => {
                let arn = arn_of(*side, cluster, service)
                    .ok_or_else(|| HandlerError::Misconfigured(format!("{cluster}/{service} not found in {}", self.region(*side))))?;
                let reason = format!("failover to {} at {}", self.region(to), timestamp(now));
                self.ports(*side).ecs.tag_service(&arn, tags::FREEZE, &reason).await?;
                Ok(("done", format!("{cluster}/{service} in {}: {} = {reason}", self.region(*side), tags::FREEZE)))
            }
            Step::Unfreeze { side, cluster, service } => {
                let arn = arn_of(*side, cluster, service)
                    .ok_or_else(|| HandlerError::Misconfigured(format!("{cluster}/{service} not found in {}", self.region(*side))))?;
                self.ports(*side).ecs.untag_service(&arn, tags::FREEZE).await?;
                Ok(("done", format!("{cluster}/{service} in {}: freeze lifted", self.region(*side))))
            }
            Step::RecordFlip { to } => {
                let value = format!("{}:{now}", if *to == Side::Primary { "primary" } else { "standby" });
                let mut recorded = Vec::new();
                for side in [Side::Standby, Side::Primary] {
                    for capacity in on_side(capacities, side) {
                        // Best effort in each region: either one is enough to remember the flip.
                        if self.ports(side).ecs.tag_service(&capacity.arn, tags::LAST_FLIP, &value).await.is_ok() {
                            recorded.push(format!("{} in {}", capacity.name, self.region(side)));
                        }
                    }
                }
                if recorded.is_empty() {
                    return Err(HandlerError::Misconfigured("no service could record the flip".into()));
                }
                Ok(("done", format!("{} = {value} on {}", tags::LAST_FLIP, recorded.join(", "))))
            }
        }
    }

    fn notification(&self, outcome: &FailoverOutcome, intent: Intent) -> Option<Notification> {
        let plan = outcome.plan.as_ref()?;
        let (event, severity, subject) = match plan {
            Plan::Move { to: Side::Standby, .. } => {
                ("failover.failed_over", Severity::Critical, format!("Failed over to {}", self.config.standby_region))
            }
            Plan::Move { to: Side::Primary, .. } => {
                ("failover.failed_back", Severity::Warning, format!("Failed back to {}", self.config.primary_region))
            }
            Plan::Alert { .. } => ("failover.alert", Severity::Critical, "Region failover: NOT SAFE to move traffic".to_owned()),
            // Traffic stays on an unhealthy region (e.g. flap damping): worth knowing. A hold
            // while a healthy region serves is not news.
            Plan::Hold { reason } if intent == Intent::Automatic && !serving_healthy(outcome.observed.as_ref()) => {
                ("failover.held", Severity::Warning, format!("Region failover held: {}", reason.split(':').next().unwrap_or(reason)))
            }
            Plan::Hold { .. } => return None,
        };
        let mut text = format!("{subject}.\n\nTrigger:  {}\n", outcome.trigger);
        match plan {
            Plan::Alert { reason } | Plan::Hold { reason } => text.push_str(&format!("Why:      {reason}\n")),
            Plan::Move { .. } => {}
        }
        if let Some(seen) = &outcome.observed {
            for region in [&seen.primary, &seen.standby] {
                text.push_str(&format!("Region:   {} health alarm {}\n", region.region, region.alarm_state));
            }
        }
        for step in &outcome.steps {
            text.push_str(&format!(
                "Step:     {} {} ({} ms): {}\n",
                json!(step.step)["step"].as_str().unwrap_or(""),
                step.status,
                step.millis,
                step.detail
            ));
        }
        Some(Notification {
            event,
            severity,
            subject: format!("{subject}: {}", self.config.record_name),
            text,
            details: json!(outcome),
            cluster: None,
            service: None,
            project: None,
            dedup_key: outcome.event_id.clone(),
        })
    }
}

/// The services read on one side, as `observe` returns them: primary's first.
fn on_side(capacities: &[Vec<Capacity>; 2], side: Side) -> &[Capacity] {
    match side {
        Side::Primary => &capacities[0],
        Side::Standby => &capacities[1],
    }
}

fn serving_healthy(observed: Option<&Observed>) -> bool {
    observed.is_some_and(|seen| match seen.serving.unwrap_or(Side::Primary) {
        Side::Primary => seen.primary.healthy,
        Side::Standby => seen.standby.healthy,
    })
}

/// `standby:1795000000` → (Standby, 1795000000).
fn parse_flip(value: &str) -> Option<(Side, u64)> {
    let (side, at) = value.split_once(':')?;
    let side = match side {
        "primary" => Side::Primary,
        "standby" => Side::Standby,
        _ => return None,
    };
    Some((side, at.parse().ok()?))
}

/// RFC 3339, as tag values allow.
fn timestamp(epoch: u64) -> String {
    DateTime::from_secs(epoch as i64).fmt(Format::DateTime).unwrap_or_else(|_| epoch.to_string())
}
