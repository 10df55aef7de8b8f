//! ECR as the use cases see it: an image's digest, tags and push time; whether a repository scans
//! on push; an image's scan findings.

use super::AwsResult;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// One image of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryImage {
    pub digest: String,
    pub tags: Vec<String>,
    /// `imagePushedAt`, seconds since the epoch.
    pub pushed_at: Option<u64>,
}

/// One finding of an image scan, as far as a notice names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFinding {
    /// The CVE (or other) id.
    pub id: String,
    pub package: Option<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL`, `UNDEFINED` (`UNTRIAGED` for enhanced).
    pub severity: String,
}

/// The severities a finding can have that rank, worst first; UNDEFINED and UNTRIAGED come after.
pub const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"];

/// Worst first: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, then the rest (UNDEFINED, UNTRIAGED).
pub fn severity_rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| *s == severity).unwrap_or(SEVERITIES.len())
}

/// An image's scan as ECR reports it (DescribeImageScanFindings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// `COMPLETE`, `IN_PROGRESS`, `FAILED`, `PENDING`, … as ECR names it.
    pub status: String,
    /// Findings per severity.
    pub severity_counts: BTreeMap<String, u64>,
    /// The worst findings, worst first (a few, for the notice).
    pub worst: Vec<ScanFinding>,
}

/// An image of `repository` in the registry of `account` (the pushing account), in the region
/// of the client.
pub trait Registry {
    /// The image with this digest; `None` when the repository has none.
    fn image_by_digest(
        &self,
        account: &str,
        repository: &str,
        digest: &str,
    ) -> impl Future<Output = AwsResult<Option<RegistryImage>>> + Send;
    /// The image this tag points at; `None` when no image carries it.
    fn image_by_tag(&self, account: &str, repository: &str, tag: &str) -> impl Future<Output = AwsResult<Option<RegistryImage>>> + Send;
    /// Whether the repository scans images on push (basic scanning).
    fn scans_on_push(&self, account: &str, repository: &str) -> impl Future<Output = AwsResult<bool>> + Send;
    /// The image's scan; `None` when it was never scanned.
    fn scan_report(&self, account: &str, repository: &str, digest: &str) -> impl Future<Output = AwsResult<Option<ScanReport>>> + Send;
}
