//! The scan gate's pure decisions: the `deckhand:scan` policy, the deferral marker, and what a
//! pushed image's scan (or its absence) means for one service.

use crate::config::minutes_in;
use crate::event::ecr::is_digest;
use crate::ports::{SEVERITIES, ScanReport, severity_rank};
use crate::quote::quote;
use crate::tags;
use std::collections::BTreeMap;

/// How long a deferral waits for the scan unless `deadline=` says otherwise.
pub const DEFAULT_DEADLINE_MINUTES: u32 = 30;
/// The longest a deferral may wait: a day.
pub const DEADLINE_MAX_MINUTES: u32 = 24 * 60;

/// What a missing scan means: no result by the deadline, a failed scan, or a repository that
/// does not scan on push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    Deploy,
    /// The default: fail closed.
    Block,
}

/// A service's `deckhand:scan`: `critical`, `high deadline=45m missing=deploy`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPolicy {
    /// Findings of this rank (`severity_rank`) or worse block.
    pub block_at: usize,
    pub deadline_minutes: u32,
    pub missing: OnMissing,
}

impl ScanPolicy {
    pub fn parse(value: &str) -> Result<Self, String> {
        let invalid = |why: String| format!("{} {}: {why}", tags::SCAN, quote(value));
        let (mut block_at, mut deadline, mut missing) = (None, None, None);
        for word in value.split_whitespace() {
            let (twice, what) = match word.split_once('=') {
                Some(("deadline", minutes)) => {
                    let minutes = minutes_in(minutes, 1..=DEADLINE_MAX_MINUTES)
                        .ok_or_else(|| invalid(format!("deadline {} is not 1 minute to a day: write 30, 30m or 2h", quote(minutes))))?;
                    (deadline.replace(minutes).is_some(), "deadline")
                }
                Some(("missing", choice)) => {
                    let choice = match choice.to_ascii_lowercase().as_str() {
                        "deploy" => OnMissing::Deploy,
                        "block" => OnMissing::Block,
                        _ => return Err(invalid(format!("missing={} is neither deploy nor block", quote(choice)))),
                    };
                    (missing.replace(choice).is_some(), "missing")
                }
                Some(_) => return Err(invalid(format!("unknown setting {}: deadline= and missing= are known", quote(word)))),
                None => {
                    let rank = SEVERITIES.iter().position(|s| s.eq_ignore_ascii_case(word)).ok_or_else(|| {
                        invalid(format!("{} is not a severity: critical, high, medium, low or informational", quote(word)))
                    })?;
                    (block_at.replace(rank).is_some(), "the severity")
                }
            };
            if twice {
                return Err(invalid(format!("{what} is given twice")));
            }
        }
        let block_at =
            block_at.ok_or_else(|| invalid("name the severity that blocks: critical, high, medium, low or informational".into()))?;
        Ok(Self { block_at, deadline_minutes: deadline.unwrap_or(DEFAULT_DEADLINE_MINUTES), missing: missing.unwrap_or(OnMissing::Block) })
    }

    /// The severities found that this policy blocks, worst first, with their counts.
    pub fn blocking(&self, counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
        let mut found: Vec<(String, u64)> = counts
            .iter()
            .filter(|(severity, count)| **count > 0 && severity_rank(severity) <= self.block_at)
            .map(|(s, c)| (s.clone(), *c))
            .collect();
        found.sort_by_key(|(severity, _)| severity_rank(severity));
        found
    }
}

/// A deferral, as `deckhand:scan-pending` records it: `DIGEST:EPOCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub digest: String,
    /// When the deployment was deferred (seconds since the epoch).
    pub since: u64,
}

impl Pending {
    pub fn parse(value: &str) -> Option<Self> {
        let (digest, since) = value.rsplit_once(':')?;
        if !is_digest(digest) {
            return None;
        }
        Some(Self { digest: digest.to_owned(), since: since.parse().ok()? })
    }

    pub fn value(&self) -> String {
        format!("{}:{}", self.digest, self.since)
    }
}

/// Why a scan is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No result by the deadline of the deferral made at `since`.
    Deadline { since: u64, minutes: u32 },
    /// The scan ended without findings to judge (`FAILED`, `UNSUPPORTED_IMAGE`, …).
    Failed { status: String },
    /// No scan, and the repository does not scan on push: none will come.
    NotScanning,
}

impl Missing {
    pub fn describe(&self) -> String {
        match self {
            Missing::Deadline { minutes, .. } => format!("no scan result within the deadline ({minutes} minutes)"),
            Missing::Failed { status } => format!("the scan ended {} without findings to judge", quote(status)),
            Missing::NotScanning => "the image has no scan and its repository does not scan on push".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// Findings the policy blocks: severity and count, worst first.
    Findings(Vec<(String, u64)>),
    Missing(Missing),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateDecision {
    /// Within the policy (or a missing scan with `missing=deploy`): the rollout goes ahead.
    Deploy { reason: String },
    /// Not deployed; `warn`: the warning is still owed (`deckhand:scan-blocked` names another digest).
    Block { blocked: Blocked, warn: bool },
    /// Wait for the scan until `decide_at`; `mark`: record the deferral (no marker names this digest yet).
    Defer { mark: bool, decide_at: u64 },
    /// No scan and no deferral of this digest: whether the repository scans on push decides.
    AskRepository,
}

/// What the gate sees of one service and the pushed image.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub digest: &'a str,
    /// DescribeImageScanFindings; `None`: never scanned.
    pub report: Option<&'a ScanReport>,
    /// Asked only when there is no report (`AskRepository`).
    pub scans_on_push: Option<bool>,
    pub pending: Option<&'a Pending>,
    /// `deckhand:scan-blocked`: the digest last warned about.
    pub blocked: Option<&'a str>,
    pub now: u64,
}

/// How a scan status reads: findings to judge, no findings ever, or not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Done,
    Failed,
    Running,
}

fn status(report: &ScanReport) -> Status {
    match report.status.as_str() {
        // Basic scanning ends COMPLETE; enhanced (continuous) scanning is ACTIVE once scanned.
        "COMPLETE" | "ACTIVE" => Status::Done,
        "FAILED" | "UNSUPPORTED_IMAGE" | "SCAN_ELIGIBILITY_EXPIRED" | "FINDINGS_UNAVAILABLE" | "LIMIT_EXCEEDED" | "IMAGE_ARCHIVED" => {
            Status::Failed
        }
        // IN_PROGRESS, PENDING, and any status ECR adds later: wait, the deadline bounds it.
        _ => Status::Running,
    }
}

pub fn decide(policy: &ScanPolicy, seen: &Observation) -> GateDecision {
    let missing = |why: Missing| match policy.missing {
        OnMissing::Deploy => GateDecision::Deploy { reason: format!("{}; missing=deploy", why.describe()) },
        OnMissing::Block => GateDecision::Block { blocked: Blocked::Missing(why), warn: seen.blocked != Some(seen.digest) },
    };
    let waiting = seen.pending.filter(|pending| pending.digest == seen.digest);
    match seen.report.map(|report| (report, status(report))) {
        Some((report, Status::Done)) => {
            let blocking = policy.blocking(&report.severity_counts);
            if blocking.is_empty() {
                return GateDecision::Deploy { reason: format!("scan {}: {}", report.status, counts(&report.severity_counts)) };
            }
            GateDecision::Block { blocked: Blocked::Findings(blocking), warn: seen.blocked != Some(seen.digest) }
        }
        Some((report, Status::Failed)) => missing(Missing::Failed { status: report.status.clone() }),
        running => match waiting {
            Some(pending) => {
                let decide_at = pending.since.saturating_add(u64::from(policy.deadline_minutes) * 60);
                if seen.now >= decide_at {
                    return missing(Missing::Deadline { since: pending.since, minutes: policy.deadline_minutes });
                }
                GateDecision::Defer { mark: false, decide_at }
            }
            None if running.is_some() || seen.scans_on_push == Some(true) => {
                GateDecision::Defer { mark: true, decide_at: seen.now + u64::from(policy.deadline_minutes) * 60 }
            }
            None if seen.scans_on_push == Some(false) => missing(Missing::NotScanning),
            None => GateDecision::AskRepository,
        },
    }
}

/// `CRITICAL 2, HIGH 5` (worst first), or `no findings`.
pub fn counts(counts: &BTreeMap<String, u64>) -> String {
    let mut found: Vec<(&String, &u64)> = counts.iter().filter(|(_, count)| **count > 0).collect();
    if found.is_empty() {
        return "no findings".into();
    }
    found.sort_by_key(|(severity, _)| severity_rank(severity));
    found.iter().map(|(severity, count)| format!("{severity} {count}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
