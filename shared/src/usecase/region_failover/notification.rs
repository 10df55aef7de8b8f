//! The failover messages: what moved (or why nothing did), each region's health, each step; and
//! the notice that an attempt stopped short.

use super::plan::{Intent, Observed, Plan, Side};
use super::{FailoverReport, RegionEcs, RegionFailover};
use crate::notify::{Notification, Severity, field};
use crate::ports::{Alarms, Dns, Notifier, Registry};
use crate::tags;
use serde_json::json;

impl<E: RegionEcs, A: Alarms, R: Registry, D: Dns, N: Notifier> RegionFailover<E, A, R, D, N> {
    /// What to say about a plan carried out: a move (sent once its steps before the flip's
    /// record are done), an alert, or a hold worth knowing.
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
            // A retry's notice, when it has one, is `incomplete`.
            Plan::Hold { .. } | Plan::Retry { .. } => return None,
        };
        let mut text = format!("{}.\n\nTrigger:  {}\n", field(&subject), field(&outcome.trigger));
        match plan {
            Plan::Alert { reason } | Plan::Hold { reason } => text.push_str(&format!("Why:      {}\n", field(reason))),
            Plan::Move { .. } | Plan::Retry { .. } => {}
        }
        if let Some(seen) = &outcome.observed
            && let Plan::Move { to: Side::Standby, .. } = plan
            && seen.primary.services.is_none()
        {
            text.push_str(&format!(
                "Note:     {} could not be read: the standby was raised to the counts it remembers of it (else to its {}), \
                 and the primary's services are frozen by the first run that can read them\n",
                seen.primary.region,
                tags::SCALE_MAX
            ));
        }
        text.push_str(&self.regions_and_steps(outcome));
        // One id per flip, whichever delivery sends it: the side it moves to and the flip it follows.
        let dedup_key = match (plan, &outcome.observed) {
            (Plan::Move { to, .. }, Some(seen)) => Some(format!(
                "{}:{}:after:{}",
                self.config.record_name,
                to.as_str(),
                seen.last_flip.map_or("none".to_owned(), |(side, at)| tags::marker_value(side.as_str(), at))
            )),
            _ => outcome.event_id.clone(),
        };
        Some(self.message(event, severity, subject, text, outcome, dedup_key))
    }

    /// An attempt that stops short — a step failed (`what`), or the region to move to could not be
    /// read — fails its invocation so that it is retried; this says so at once, with what is done.
    pub(super) fn incomplete(&self, outcome: &FailoverReport, what: &str, why: &str) -> Notification {
        let subject = format!("Region failover incomplete: {what}");
        let mut text = format!("{}.\n\nTrigger:  {}\nWhy:      {}\n", field(&subject), field(&outcome.trigger), field(why));
        text.push_str(&self.regions_and_steps(outcome));
        text.push_str("\nThis attempt fails, so it is retried; each retry carries on from what it observes.\n");
        // Without an event id (an operator's request), each attempt is its own: the time tells them apart.
        let attempt = outcome.event_id.clone().unwrap_or_else(|| format!("{}@{}", outcome.trigger, (self.now)()));
        let dedup_key = format!("{attempt}:incomplete:{what}");
        self.message("failover.incomplete", Severity::Critical, subject, text, outcome, Some(dedup_key))
    }

    fn regions_and_steps(&self, outcome: &FailoverReport) -> String {
        let mut text = String::new();
        if let Some(seen) = &outcome.observed {
            for region in [&seen.primary, &seen.standby] {
                text.push_str(&format!("Region:   {} health alarm {}", field(&region.region), field(&region.alarm_state)));
                if let Some(why) = &region.unreadable {
                    text.push_str(&format!("; could not be read: {}", field(why)));
                }
                text.push('\n');
            }
            if let Some(images) = seen.standby_images.as_ref().filter(|images| !images.findings.is_empty()) {
                let setting = self.config.image_check.as_str();
                text.push_str(&format!("Images:   not all in order in the standby (STANDBY_IMAGE_CHECK={setting}):\n"));
                for finding in &images.findings {
                    text.push_str(&format!("Image:    {}\n", field(finding)));
                }
            }
        }
        for step in &outcome.steps {
            text.push_str(&format!(
                "Step:     {} {} ({} ms): {}\n",
                json!(step.step)["step"].as_str().unwrap_or(""),
                step.status,
                step.millis,
                field(&step.detail)
            ));
        }
        text
    }

    fn message(
        &self,
        event: &'static str,
        severity: Severity,
        subject: String,
        text: String,
        outcome: &FailoverReport,
        dedup_key: Option<String>,
    ) -> Notification {
        Notification {
            event,
            severity,
            subject: format!("{subject}: {}", self.config.record_name),
            text,
            details: json!(outcome),
            cluster: None,
            service: None,
            project: None,
            dedup_key,
        }
    }
}

fn serving_healthy(observed: Option<&Observed>) -> bool {
    observed.is_some_and(|seen| match seen.serving.unwrap_or(Side::Primary) {
        Side::Primary => seen.primary.healthy,
        Side::Standby => seen.standby.healthy,
    })
}
