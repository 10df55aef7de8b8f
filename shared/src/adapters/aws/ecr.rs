//! ECR through the SDK: DescribeImages (digest, tags, push time), DescribeRepositories (scan on
//! push), DescribeImageScanFindings (basic and enhanced findings).

use super::aws_error;
use crate::ports::{AwsResult, Registry, RegistryImage, ScanFinding, ScanReport, severity_rank};
use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{EnhancedImageScanFinding, ImageDetail, ImageIdentifier, ImageScanFinding, ScanFrequency};

/// How many of the worst findings a report keeps: enough for a notice to name them.
const WORST: usize = 5;

#[derive(Debug, Clone)]
pub struct SdkEcr {
    client: Client,
}

impl SdkEcr {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    async fn image(&self, account: &str, repository: &str, id: ImageIdentifier) -> AwsResult<Option<RegistryImage>> {
        let described = self.client.describe_images().registry_id(account).repository_name(repository).image_ids(id).send().await;
        match described {
            Ok(output) => Ok(output.image_details.unwrap_or_default().into_iter().next().map(registry_image)),
            Err(err)
                if err.as_service_error().is_some_and(|e| e.is_image_not_found_exception() || e.is_repository_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(err) => Err(aws_error("ecr:DescribeImages", err)),
        }
    }
}

fn registry_image(detail: ImageDetail) -> RegistryImage {
    RegistryImage {
        digest: detail.image_digest.unwrap_or_default(),
        tags: detail.image_tags.unwrap_or_default(),
        pushed_at: detail.image_pushed_at.map(|at| at.secs().max(0) as u64),
    }
}

impl Registry for SdkEcr {
    async fn image_by_digest(&self, account: &str, repository: &str, digest: &str) -> AwsResult<Option<RegistryImage>> {
        self.image(account, repository, ImageIdentifier::builder().image_digest(digest).build()).await
    }

    async fn image_by_tag(&self, account: &str, repository: &str, tag: &str) -> AwsResult<Option<RegistryImage>> {
        self.image(account, repository, ImageIdentifier::builder().image_tag(tag).build()).await
    }

    async fn scans_on_push(&self, account: &str, repository: &str) -> AwsResult<bool> {
        let repository_name = repository;
        let output = self
            .client
            .describe_repositories()
            .registry_id(account)
            .repository_names(repository)
            .send()
            .await
            .map_err(|err| aws_error("ecr:DescribeRepositories", err))?;
        let repository = output.repositories.unwrap_or_default().into_iter().next();
        if repository.and_then(|r| r.image_scanning_configuration).is_some_and(|c| c.scan_on_push) {
            return Ok(true);
        }
        // Scanning set for the whole registry (basic or enhanced) does not show in the
        // repository's own scanOnPush: the repository's effective scanning configuration does.
        let effective = self
            .client
            .batch_get_repository_scanning_configuration()
            .repository_names(repository_name)
            .send()
            .await
            .map_err(|err| aws_error("ecr:BatchGetRepositoryScanningConfiguration", err))?;
        let scanned = effective
            .scanning_configurations
            .unwrap_or_default()
            .into_iter()
            .any(|c| c.scan_on_push || c.scan_frequency.is_some_and(|frequency| frequency != ScanFrequency::Manual));
        Ok(scanned)
    }

    async fn scan_report(&self, account: &str, repository: &str, digest: &str) -> AwsResult<Option<ScanReport>> {
        let found = self
            .client
            .describe_image_scan_findings()
            .registry_id(account)
            .repository_name(repository)
            .image_id(ImageIdentifier::builder().image_digest(digest).build())
            .send()
            .await;
        let output = match found {
            Ok(output) => output,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_scan_not_found_exception() || e.is_image_not_found_exception()) => {
                return Ok(None);
            }
            Err(err) => return Err(aws_error("ecr:DescribeImageScanFindings", err)),
        };
        let status = output.image_scan_status.and_then(|s| s.status).map(|s| s.as_str().to_owned()).unwrap_or_default();
        let Some(findings) = output.image_scan_findings else {
            return Ok(Some(ScanReport { status, severity_counts: Default::default(), worst: Vec::new() }));
        };
        let severity_counts = findings
            .finding_severity_counts
            .unwrap_or_default()
            .into_iter()
            .map(|(severity, count)| (severity.as_str().to_owned(), u64::try_from(count).unwrap_or(0)))
            .collect();
        let mut worst: Vec<ScanFinding> = findings
            .findings
            .unwrap_or_default()
            .into_iter()
            .map(basic_finding)
            .chain(findings.enhanced_findings.unwrap_or_default().into_iter().map(enhanced_finding))
            .collect();
        worst.sort_by_key(|finding| severity_rank(&finding.severity));
        worst.truncate(WORST);
        Ok(Some(ScanReport { status, severity_counts, worst }))
    }
}

fn basic_finding(finding: ImageScanFinding) -> ScanFinding {
    let package = finding.attributes.unwrap_or_default().into_iter().find(|a| a.key == "package_name").and_then(|a| a.value);
    ScanFinding {
        id: finding.name.unwrap_or_default(),
        package,
        severity: finding.severity.map(|s| s.as_str().to_owned()).unwrap_or_default(),
    }
}

fn enhanced_finding(finding: EnhancedImageScanFinding) -> ScanFinding {
    let details = finding.package_vulnerability_details;
    let package = details.as_ref().and_then(|d| d.vulnerable_packages.as_ref()).and_then(|p| p.first()).and_then(|p| p.name.clone());
    ScanFinding {
        id: details.and_then(|d| d.vulnerability_id).or(finding.title).unwrap_or_default(),
        package,
        severity: finding.severity.unwrap_or_default(),
    }
}
