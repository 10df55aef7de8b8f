//! The failover message: what moved (or why nothing did), each region's health, each step.

use super::plan::{Intent, Observed, Plan, Side};
use super::{FailoverReport, RegionFailover};
use crate::notify::{Notification, Severity};
use crate::ports::{Alarms, Dns, Notifier, ServiceCapacity};
use serde_json::json;

impl<E: ServiceCapacity, A: Alarms, D: Dns, N: Notifier> RegionFailover<E, A, D, N> {
    pub(super) fn notification(&self, outcome: &FailoverReport, intent: Intent) -> Option<Notification> {
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

fn serving_healthy(observed: Option<&Observed>) -> bool {
    observed.is_some_and(|seen| match seen.serving.unwrap_or(Side::Primary) {
        Side::Primary => seen.primary.healthy,
        Side::Standby => seen.standby.healthy,
    })
}
