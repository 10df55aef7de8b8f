//! Metric analysis while production traffic shifts: the new revision's target group against the
//! old one's, over the same window of Application Load Balancer metrics. Both groups sit behind
//! the same listener rule at the same time, so whatever the load does to one it does to the
//! other: the old group is the baseline, and the new one fails when it is clearly worse.

mod dimensions;
mod rules;

pub use dimensions::{load_balancer_dimension, metric_queries, target_group_dimension};
pub use rules::AnalysisRules;
use rules::shown;

use serde::Serialize;

/// How much a stage leans on the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rigor {
    /// The stage exists to judge the production share (linear and canary steps): too few
    /// requests so far keeps the verdict pending, until the gate's checks run out.
    Required,
    /// The comparison counts when there is enough traffic to make one; too little is only noted
    /// (a canary's step before any production traffic, an all-at-once shift just done).
    IfTraffic,
}

/// One target group's traffic in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupTraffic {
    pub target_group: String,
    /// `RequestCount`, Sum.
    pub requests: u64,
    /// `HTTPCode_Target_5XX_Count`, Sum. ALB publishes it only when non-zero: none is 0.
    pub errors: u64,
    /// `TargetResponseTime`, p99, in microseconds; `None` when CloudWatch has none.
    pub p99_us: Option<u64>,
}

impl GroupTraffic {
    /// `12.50% (25 of 200 requests)`.
    fn share(&self) -> String {
        format!("{:.2}% ({} of {} requests)", self.percent(), self.errors, self.requests)
    }

    fn percent(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.errors as f64 * 100.0 / self.requests as f64 }
    }

    /// For people: `web-green: 1000 requests, 2.10% 5xx, p99 241.0 ms`.
    pub fn summary(&self) -> String {
        let p99 = self.p99_us.map_or_else(|| "no p99".to_owned(), |us| format!("p99 {}", millis(us)));
        format!("{}: {} requests, {:.2}% 5xx, {p99}", self.name(), self.requests, self.percent())
    }

    /// The group's name: `web-green` of `…:targetgroup/web-green/0123abcd`.
    fn name(&self) -> &str {
        let path = self.target_group.rsplit_once(":targetgroup/").map_or(self.target_group.as_str(), |(_, path)| path);
        path.split('/').next().unwrap_or(path)
    }
}

fn millis(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// What the comparison found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Finding {
    /// Nothing worse than the margins allow.
    Passed,
    /// The new revision is worse: why, with both groups' numbers.
    Worse { reasons: Vec<String> },
    /// Too few requests on the new group to judge it yet (`Rigor::Required`).
    Pending { reason: String },
    /// Too few requests to judge, and the stage does not wait for them (`Rigor::IfTraffic`).
    NotJudged { reason: String },
}

/// The analysis as evidence: both groups' numbers, the window and the finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    pub window_minutes: u32,
    pub new: GroupTraffic,
    pub old: GroupTraffic,
    #[serde(flatten)]
    pub finding: Finding,
    /// What the finding rests on, or leaves out (no baseline, no p99).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Analysis {
    /// What a reader of the verdict must know about the comparison: what it left out, and that
    /// it judged nothing when traffic was too thin.
    pub fn caveats(&self) -> impl Iterator<Item = String> + '_ {
        let unjudged = match &self.finding {
            Finding::NotJudged { reason } => Some(format!("traffic analysis: not judged: {reason}")),
            _ => None,
        };
        self.notes.iter().map(|note| format!("traffic analysis: {note}")).chain(unjudged)
    }
}

/// Compares the new group with the old. The 5xx share and p99 are compared exactly, in integers.
/// An old group with fewer than `min_requests` requests is no baseline: the new one is held to
/// a 0% 5xx share plus the margin, and its latency is not compared.
pub fn analyse(new: GroupTraffic, old: GroupTraffic, rules: &AnalysisRules, rigor: Rigor) -> Analysis {
    let window_minutes = rules.window_minutes();
    let mut notes = Vec::new();
    let finding = if new.requests < rules.min_requests {
        let reason = format!(
            "the new target group {} served {} requests in the last {window_minutes} min, fewer than the {} needed to judge it",
            new.name(),
            new.requests,
            rules.min_requests
        );
        match rigor {
            Rigor::Required => Finding::Pending { reason },
            Rigor::IfTraffic => Finding::NotJudged { reason },
        }
    } else {
        let mut reasons = Vec::new();
        let margin = shown(rules.error_margin);
        let baseline = old.requests >= rules.min_requests;
        let (old_errors, old_requests) = if baseline { (old.errors, old.requests) } else { (0, 1) };
        // new/new_r − old/old_r > margin/10000, cross-multiplied.
        let (ne, nr, oe, or) = (i128::from(new.errors), i128::from(new.requests), i128::from(old_errors), i128::from(old_requests));
        let worse_errors = 10_000 * (ne * or - oe * nr) > i128::from(rules.error_margin) * nr * or;
        if !baseline {
            notes.push(format!(
                "the old target group {} served {} requests (fewer than {}): no baseline, so the new one's 5xx share may be at most {margin}% and its latency is not compared",
                old.name(),
                old.requests,
                rules.min_requests
            ));
        }
        if worse_errors {
            let against = if baseline { format!("the old target group {}'s {}", old.name(), old.share()) } else { "no baseline".into() };
            reasons.push(format!(
                "5xx share of the new target group {} is {} against {against}: more than {margin} percentage points worse (last {window_minutes} min)",
                new.name(),
                new.share()
            ));
        }
        match (baseline, new.p99_us, old.p99_us) {
            (false, _, _) => {}
            (true, Some(new_p99), Some(old_p99)) => {
                let allowed = 10_000 + u128::from(rules.latency_margin);
                if u128::from(new_p99) * 10_000 > u128::from(old_p99) * allowed {
                    reasons.push(format!(
                        "p99 response time of the new target group {} is {} against the old target group {}'s {}: more than {}% slower (last {window_minutes} min)",
                        new.name(),
                        millis(new_p99),
                        old.name(),
                        millis(old_p99),
                        shown(rules.latency_margin)
                    ));
                }
            }
            (true, _, _) => notes.push("latency not compared: CloudWatch has no p99 TargetResponseTime for both target groups".into()),
        }
        if reasons.is_empty() { Finding::Passed } else { Finding::Worse { reasons } }
    };
    Analysis { window_minutes, new, old, finding, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/0123456789abcdef";
    const OLD: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/fedcba9876543210";

    fn group(arn: &str, requests: u64, errors: u64, p99_ms: Option<u64>) -> GroupTraffic {
        GroupTraffic { target_group: arn.into(), requests, errors, p99_us: p99_ms.map(|ms| ms * 1000) }
    }

    fn reasons(analysis: &Analysis) -> String {
        match &analysis.finding {
            Finding::Worse { reasons } => reasons.join("; "),
            other => format!("{other:?}"),
        }
    }

    /// Requests, 5xx, p99 ms.
    type Load = (u64, u64, Option<u64>);

    /// (new: requests, 5xx, p99 ms), (old: …), rigor → finding (what it says).
    #[test]
    fn the_new_group_fails_only_when_clearly_worse_than_the_old() {
        let rules = AnalysisRules::default();
        let table: [(Load, Load, Rigor, &str); 14] = [
            ((1000, 10, Some(200)), (9000, 90, Some(200)), Rigor::Required, "Passed"),
            // 2.0% against 1.0%: exactly the 1-point margin is not more than it.
            ((1000, 20, Some(200)), (9000, 90, Some(200)), Rigor::Required, "Passed"),
            (
                (1000, 21, Some(200)),
                (9000, 90, Some(200)),
                Rigor::Required,
                "5xx share of the new target group web-green is 2.10% (21 of 1000 requests) against the old target group web-blue's 1.00% (90 of 9000 requests): more than 1 percentage points worse (last 5 min)",
            ),
            ((1000, 0, Some(240)), (9000, 0, Some(200)), Rigor::Required, "Passed"),
            (
                (1000, 0, Some(241)),
                (9000, 0, Some(200)),
                Rigor::Required,
                "p99 response time of the new target group web-green is 241.0 ms against the old target group web-blue's 200.0 ms: more than 20% slower",
            ),
            ((1000, 50, Some(900)), (9000, 0, Some(200)), Rigor::Required, "5xx share"),
            // Better than the old one is fine, however bad the old one is.
            ((1000, 5, Some(100)), (9000, 900, Some(900)), Rigor::Required, "Passed"),
            ((49, 49, Some(9000)), (9000, 0, Some(200)), Rigor::Required, "Pending"),
            ((49, 49, Some(9000)), (9000, 0, Some(200)), Rigor::IfTraffic, "NotJudged"),
            ((0, 0, None), (0, 0, None), Rigor::Required, "served 0 requests in the last 5 min, fewer than the 50 needed"),
            // No baseline: at most the margin, as an absolute share; latency not compared.
            ((100, 1, Some(9000)), (10, 0, Some(1)), Rigor::Required, "Passed"),
            ((100, 2, None), (0, 0, None), Rigor::IfTraffic, "is 2.00% (2 of 100 requests) against no baseline"),
            // No p99 (moto, or a group without responses yet): the 5xx share still counts.
            ((1000, 0, None), (9000, 0, Some(200)), Rigor::Required, "Passed"),
            ((1000, 100, None), (9000, 0, Some(200)), Rigor::Required, "5xx share"),
        ];
        for (new, old, rigor, expected) in table {
            let analysis = analyse(group(NEW, new.0, new.1, new.2), group(OLD, old.0, old.1, old.2), &rules, rigor);
            assert!(reasons(&analysis).contains(expected), "{new:?} {old:?} {rigor:?}: {}", reasons(&analysis));
        }
    }

    #[test]
    fn what_a_finding_leaves_out_is_noted() {
        let rules = AnalysisRules::default();
        let unpaired = analyse(group(NEW, 1000, 0, None), group(OLD, 9000, 0, Some(200)), &rules, Rigor::Required);
        assert_eq!(unpaired.notes, ["latency not compared: CloudWatch has no p99 TargetResponseTime for both target groups"]);
        let lone = analyse(group(NEW, 100, 0, Some(10)), group(OLD, 3, 0, Some(10)), &rules, Rigor::Required);
        assert!(lone.notes[0].contains("web-blue served 3 requests (fewer than 50): no baseline"), "{:?}", lone.notes);
        let json = serde_json::to_value(&lone).unwrap();
        assert_eq!(
            (json["result"].as_str(), json["new"]["requests"].as_u64(), json["window_minutes"].as_u64()),
            (Some("passed"), Some(100), Some(5))
        );
    }

    #[test]
    fn a_group_is_summed_up_for_people() {
        assert_eq!(group(NEW, 1000, 21, Some(241)).summary(), "web-green: 1000 requests, 2.10% 5xx, p99 241.0 ms");
        assert_eq!(group("tg-odd", 0, 0, None).summary(), "tg-odd: 0 requests, 0.00% 5xx, no p99");
    }

    #[test]
    fn margins_and_minimum_come_from_the_rules() {
        let strict = AnalysisRules { min_requests: 10, error_margin: 0, latency_margin: 0, window: 600, ..AnalysisRules::default() };
        let worse = analyse(group(NEW, 10, 1, Some(201)), group(OLD, 10, 0, Some(200)), &strict, Rigor::Required);
        let why = reasons(&worse);
        assert!(
            why.contains("more than 0 percentage points") && why.contains("more than 0% slower") && why.contains("last 10 min"),
            "{why}"
        );
    }
}
