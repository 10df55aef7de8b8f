//! The scaler's fault matrix: its four main scenarios with a fault at every AWS call of their
//! clean run, then the same event delivered again, as Lambda retries it.

use super::*;
use crate::fakes::Faults;
use crate::fakes::matrix;
use crate::notify::Severity;
use std::collections::BTreeMap;

/// A scenario's world and the event it delivers.
struct Delivery(World, &'static str);

/// The count, the markers, and the messages by deduplication id (a retry may repeat one, never
/// lose one, and the id tells the step it announces).
#[derive(Debug, PartialEq)]
struct Scaled {
    desired: i32,
    last_scale: Option<String>,
    warned: Option<String>,
    messages: BTreeMap<String, (&'static str, Severity)>,
}

impl matrix::World for Delivery {
    type State = Scaled;

    fn faults(&self) -> &Faults {
        &self.0.aws.faults
    }

    async fn deliver(&self) -> Result<(), HandlerError> {
        self.0.handle(sample_event(self.1)).await.map(drop)
    }

    fn state(&self) -> Scaled {
        let messages = self.0.aws.sns.published().into_iter().map(|n| (n.dedup_key.unwrap_or_default(), (n.event, n.severity))).collect();
        let warned = self.0.web().tags.get(tags::SCALE_WARNED).cloned();
        Scaled { desired: self.0.web().desired, last_scale: self.0.last_scale(), warned, messages }
    }
}

/// The alarm fires: prod/web scales out 2 -> 3.
fn alarm_scales_out() -> Delivery {
    Delivery(World::new(high(), |s| s), "cloudwatch-alarm-scale-out.json")
}

/// The schedule's re-check, a minute after the last scale-out: 3 -> 4.
fn recheck_scales_further() -> Delivery {
    let world = World::new(high(), |s| s.tasks(3, 3).tag(tags::LAST_SCALE, &format!("out:{}", T0 - 60)));
    Delivery(world, "scheduled-recheck.json")
}

/// The low alarm on a blue/green service with no deployment in flight (so the check for one is
/// among the calls): 3 -> 2.
fn scale_in() -> Delivery {
    let world = World::new(low(), |s| {
        let s = s.controller(crate::ports::Controller::CodeDeploy).tasks(3, 3);
        s.tag(tags::CODEDEPLOY_APP, "shop").tag(tags::CODEDEPLOY_GROUP, "web-bg")
    });
    Delivery(world, "cloudwatch-alarm-scale-in.json")
}

/// The alarm fires with prod/web at its maximum: one warning, marked with the event's id.
fn alarm_at_max() -> Delivery {
    Delivery(World::new(high(), |s| s.tasks(4, 4)), "cloudwatch-alarm-scale-out.json")
}

#[tokio::test]
async fn fault_matrix() {
    let out = matrix::run("scaler: alarm scales out", alarm_scales_out).await;
    let further = matrix::run("scaler: re-check scales further", recheck_scales_further).await;
    let scale_in = matrix::run("scaler: scale-in", scale_in).await;
    let at_max = matrix::run("scaler: alarm at the maximum", alarm_at_max).await;
    // Calls of each clean run: DescribeAlarms, DescribeServices, GetMetricStatistics,
    // [ListDeployments,] TagResource (intent), UpdateService, Publish, TagResource (done); at the
    // maximum: DescribeAlarms, DescribeServices, GetMetricStatistics, Publish, TagResource
    // (warned); each with three faults.
    assert_eq!((out, further, scale_in, at_max), (21, 21, 24, 15));
    println!("fault matrix scaler: 4 scenarios, {} cells", out + further + scale_in + at_max);
}
