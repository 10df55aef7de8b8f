//! A fake ECR: repositories of one region with their images (digest, tags, push time), whether
//! they scan on push, and scan reports.

use super::{Faults, lock};
use crate::ports::{AwsResult, Registry, RegistryImage, ScanReport};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Repository {
    images: Vec<RegistryImage>,
    scan_on_push: bool,
    scans: BTreeMap<String, ScanReport>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeEcr {
    /// By (account, repository).
    repositories: Arc<Mutex<BTreeMap<(String, String), Repository>>>,
    faults: Faults,
}

impl FakeEcr {
    pub fn new(faults: &Faults) -> Self {
        Self { repositories: Arc::default(), faults: faults.clone() }
    }

    /// Pushes `digest` with `tags` at `pushed_at`: like ECR, a tag moves to the newest image
    /// that carries it.
    pub fn push(&self, account: &str, repository: &str, digest: &str, tags: &[&str], pushed_at: u64) {
        let mut repositories = lock(&self.repositories);
        let repo = repositories.entry((account.to_owned(), repository.to_owned())).or_default();
        for image in &mut repo.images {
            image.tags.retain(|tag| !tags.contains(&tag.as_str()));
        }
        match repo.images.iter_mut().find(|image| image.digest == digest) {
            Some(image) => image.tags.extend(tags.iter().map(|t| t.to_string())),
            None => repo.images.push(RegistryImage {
                digest: digest.to_owned(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                pushed_at: Some(pushed_at),
            }),
        }
    }

    pub fn set_scan_on_push(&self, account: &str, repository: &str, on: bool) {
        lock(&self.repositories).entry((account.to_owned(), repository.to_owned())).or_default().scan_on_push = on;
    }

    pub fn set_scan(&self, account: &str, repository: &str, digest: &str, report: ScanReport) {
        let mut repositories = lock(&self.repositories);
        repositories.entry((account.to_owned(), repository.to_owned())).or_default().scans.insert(digest.to_owned(), report);
    }

    fn find<T>(&self, account: &str, repository: &str, pick: impl FnOnce(&Repository) -> Option<T>) -> Option<T> {
        lock(&self.repositories).get(&(account.to_owned(), repository.to_owned())).and_then(pick)
    }
}

impl Registry for FakeEcr {
    async fn image_by_digest(&self, account: &str, repository: &str, digest: &str) -> AwsResult<Option<RegistryImage>> {
        self.faults.call("ecr:DescribeImages", || {
            Ok(self.find(account, repository, |repo| repo.images.iter().find(|image| image.digest == digest).cloned()))
        })
    }

    async fn image_by_tag(&self, account: &str, repository: &str, tag: &str) -> AwsResult<Option<RegistryImage>> {
        self.faults.call("ecr:DescribeImages", || {
            Ok(self.find(account, repository, |repo| repo.images.iter().find(|image| image.tags.iter().any(|t| t == tag)).cloned()))
        })
    }

    async fn scans_on_push(&self, account: &str, repository: &str) -> AwsResult<bool> {
        self.faults.call("ecr:DescribeRepositories", || Ok(self.find(account, repository, |repo| Some(repo.scan_on_push)).unwrap_or(false)))
    }

    async fn scan_report(&self, account: &str, repository: &str, digest: &str) -> AwsResult<Option<ScanReport>> {
        self.faults.call("ecr:DescribeImageScanFindings", || Ok(self.find(account, repository, |repo| repo.scans.get(digest).cloned())))
    }
}
