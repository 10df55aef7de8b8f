//! Image scan results: `ECR Image Scan` (basic scanning, source `aws.ecr`) and `Inspector2 Scan`
//! (enhanced scanning, source `aws.inspector2`, which names the repository by its ARN and also
//! reports scans of EC2 instances and Lambda functions: those are not images, and not ours).

use super::limits::{ARN_MAX, DIGEST_MAX, EVENT_ID_MAX, IMAGE_TAG_MAX, REPOSITORY_NAME_MAX, STATE_MAX, at_most};
use super::{EventError, detail, detail_type, envelope};
use crate::event::ecr::is_digest;
use crate::quote::quote;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const BASIC_SOURCE: &str = "aws.ecr";
pub const BASIC_DETAIL_TYPE: &str = "ECR Image Scan";
pub const ENHANCED_SOURCE: &str = "aws.inspector2";
pub const ENHANCED_DETAIL_TYPE: &str = "Inspector2 Scan";
/// Most tags one image carries (ECR service quotas: 1,000 tags per image).
pub const IMAGE_TAGS_MAX: usize = 1000;
/// Most severities a count names (ECR and Inspector know six, and Inspector adds `TOTAL`).
pub const SEVERITIES_MAX: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanner {
    /// ECR's basic scanning.
    Basic,
    /// Amazon Inspector (ECR's enhanced scanning).
    Enhanced,
}

impl Scanner {
    pub fn as_str(self) -> &'static str {
        match self {
            Scanner::Basic => "basic",
            Scanner::Enhanced => "enhanced",
        }
    }
}

/// A finished scan of one image, as the event reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScan {
    pub event_id: Option<String>,
    /// The registry's account and region.
    pub account: String,
    pub region: String,
    pub scanner: Scanner,
    /// `COMPLETE` or `FAILED` (basic), `INITIAL_SCAN_COMPLETE` (enhanced).
    pub status: String,
    pub repository: String,
    pub digest: String,
    /// The image's tags when it was scanned (often empty in basic scanning's events).
    pub tags: Vec<String>,
    /// Findings per severity; only the severities found (Inspector's `TOTAL` left out).
    pub severity_counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    Image(ImageScan),
    /// An Inspector2 Scan of something that is not an ECR image: why it is not ours.
    NotAnImage {
        event_id: Option<String>,
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(
    rename_all = "kebab-case",
    expecting = "an object with scan-status, repository-name, image-digest, optional image-tags and finding-severity-counts"
)]
struct Detail {
    scan_status: String,
    #[serde(default)]
    repository_name: Option<String>,
    #[serde(default)]
    image_digest: Option<String>,
    #[serde(default)]
    image_tags: Vec<String>,
    #[serde(default)]
    finding_severity_counts: BTreeMap<String, u64>,
}

pub fn decode(event: Value) -> Result<ScanEvent, EventError> {
    let (scanner, source) = match detail_type(&event, &[BASIC_DETAIL_TYPE, ENHANCED_DETAIL_TYPE])? {
        BASIC_DETAIL_TYPE => (Scanner::Basic, BASIC_SOURCE),
        _ => (Scanner::Enhanced, ENHANCED_SOURCE),
    };
    let detail_type = match scanner {
        Scanner::Basic => BASIC_DETAIL_TYPE,
        Scanner::Enhanced => ENHANCED_DETAIL_TYPE,
    };
    let envelope = envelope(event, source, detail_type)?;
    at_most("id", envelope.id.as_deref().unwrap_or_default(), EVENT_ID_MAX)?;
    let detail: Detail = detail(envelope.detail)?;
    at_most("detail.scan-status", &detail.scan_status, STATE_MAX)?;
    if scanner == Scanner::Enhanced && detail.repository_name.is_none() && detail.image_digest.is_none() {
        let reason = "an Inspector2 Scan of a resource that is not an ECR image (no repository-name, no image-digest)".to_owned();
        return Ok(ScanEvent::NotAnImage { event_id: envelope.id, reason });
    }
    let missing = |field: &str, what: &str| EventError::field(field, format!("{what} (it is missing)"));
    let named = detail.repository_name.ok_or_else(|| missing("detail.repository-name", "a repository name"))?;
    let digest = detail.image_digest.ok_or_else(|| missing("detail.image-digest", "an image digest like sha256:<hex>"))?;
    let (account, region, repository) = match scanner {
        Scanner::Enhanced if named.starts_with("arn:") => {
            at_most("detail.repository-name", &named, ARN_MAX)?;
            let (account, region, name) = repository_arn(&named)
                .ok_or_else(|| EventError::field("detail.repository-name", format!("an ECR repository ARN, got {}", quote(&named))))?;
            (account.to_owned(), region.to_owned(), name.to_owned())
        }
        _ => (envelope.account, envelope.region, named),
    };
    at_most("detail.repository-name", &repository, REPOSITORY_NAME_MAX)?;
    if repository.is_empty() {
        return Err(EventError::field("detail.repository-name", "a repository name, got \"\""));
    }
    if !is_digest(&digest) {
        return Err(EventError::field("detail.image-digest", format!("an image digest like sha256:<hex>, got {}", quote(&digest))));
    }
    at_most("detail.image-digest", &digest, DIGEST_MAX)?;
    if detail.image_tags.len() > IMAGE_TAGS_MAX {
        let found = detail.image_tags.len();
        return Err(EventError::field("detail.image-tags", format!("at most {IMAGE_TAGS_MAX} tags (as ECR allows), got {found}")));
    }
    for (at, tag) in detail.image_tags.iter().enumerate() {
        at_most(&format!("detail.image-tags[{at}]"), tag, IMAGE_TAG_MAX)?;
    }
    if detail.finding_severity_counts.len() > SEVERITIES_MAX {
        let found = detail.finding_severity_counts.len();
        return Err(EventError::field("detail.finding-severity-counts", format!("at most {SEVERITIES_MAX} severities, got {found}")));
    }
    for severity in detail.finding_severity_counts.keys() {
        at_most("detail.finding-severity-counts", severity, STATE_MAX)?;
    }
    let mut severity_counts = detail.finding_severity_counts;
    severity_counts.remove("TOTAL");
    Ok(ScanEvent::Image(ImageScan {
        event_id: envelope.id,
        account,
        region,
        scanner,
        status: detail.scan_status,
        repository,
        digest,
        tags: detail.image_tags.into_iter().filter(|tag| !tag.is_empty()).collect(),
        severity_counts,
    }))
}

/// `arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME` → (account, region, name).
fn repository_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_arn, _partition, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let name = resource.strip_prefix("repository/")?;
    (service == "ecr" && !region.is_empty() && !account.is_empty() && !name.is_empty()).then_some((account, region, name))
}

#[cfg(test)]
mod tests;
