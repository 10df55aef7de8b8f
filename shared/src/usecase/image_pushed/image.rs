//! Container image references, and whether one comes from a given ECR repository.

use crate::quote::quote;
use std::fmt;
use thiserror::Error;

/// `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`, as Docker and ECS read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid image reference {}: {reason}", quote(.image))]
pub struct ImageRefError {
    pub image: String,
    pub reason: &'static str,
}

/// An ECR registry: `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRegistry<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

impl ImageRef {
    pub fn parse(image: &str) -> Result<Self, ImageRefError> {
        let invalid = |reason| ImageRefError { image: image.to_owned(), reason };
        if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("empty or contains white space"));
        }
        let (name, digest) = match image.split_once('@') {
            Some((name, digest)) if !digest.is_empty() => (name, Some(digest.to_owned())),
            Some(_) => return Err(invalid("empty digest after `@`")),
            None => (image, None),
        };
        // The first component is a registry when it looks like a host (Docker's rule).
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (Some(first.to_owned()), rest),
            _ => (None, name),
        };
        let last_slash = path.rfind('/').map_or(0, |at| at + 1);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                (&path[..colon], Some(path[colon + 1..].to_owned()))
            }
            None => (path, None),
        };
        if repository.is_empty() || repository.split('/').any(str::is_empty) {
            return Err(invalid("empty repository name"));
        }
        if tag.as_deref() == Some("") {
            return Err(invalid("empty tag after `:`"));
        }
        Ok(Self { registry, repository: repository.to_owned(), tag, digest })
    }

    /// The ECR registry this image is stored in, if it is an ECR image.
    pub fn ecr_registry(&self) -> Option<EcrRegistry<'_>> {
        let host = self.registry.as_deref()?;
        let labels: Vec<&str> = host.split('.').collect();
        let is_ecr = labels.len() >= 5
            && labels[0].len() == 12
            && labels[0].bytes().all(|b| b.is_ascii_digit())
            && labels[1] == "dkr"
            && matches!(labels[2], "ecr" | "ecr-fips")
            && labels[4] == "amazonaws";
        is_ecr.then(|| EcrRegistry { account: labels[0], region: labels[3] })
    }

    /// True when the image is stored in this account's repository in this region.
    pub fn is_from_ecr_repository(&self, account: &str, region: &str, repository: &str) -> bool {
        self.repository == repository && self.ecr_registry().is_some_and(|ecr| ecr.account == account && ecr.region == region)
    }

    /// The same repository pinned by digest: `REGISTRY/REPOSITORY@DIGEST` (no tag: the digest decides).
    pub fn pinned_to(&self, digest: &str) -> ImageRef {
        ImageRef { registry: self.registry.clone(), repository: self.repository.clone(), tag: None, digest: Some(digest.to_owned()) }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

    #[test]
    fn parses_and_prints_references() {
        for image in [
            "nginx",
            "nginx:1.27",
            "library/nginx:1.27@sha256:abc",
            "localhost:5000/app:dev",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1.4.2",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:abc",
            "registry.example:443/team/app:tag@sha256:abc",
        ] {
            assert_eq!(ImageRef::parse(image).unwrap().to_string(), image);
        }
        let image = ImageRef::parse("localhost:5000/app:dev").unwrap();
        assert_eq!(
            (image.registry.as_deref(), image.repository.as_str(), image.tag.as_deref()),
            (Some("localhost:5000"), "app", Some("dev"))
        );
        let image = ImageRef::parse("team/app").unwrap();
        assert_eq!((image.registry, image.repository.as_str()), (None, "team/app"));
    }

    #[test]
    fn rejects_broken_references() {
        for image in ["", "a b", "app:", "app@", "host.io//app", ":tag"] {
            assert!(ImageRef::parse(image).is_err(), "{image} should be rejected");
        }
    }

    #[test]
    fn recognises_the_pushed_repository() {
        let image = ImageRef::parse(&format!("{REGISTRY}/shop/web:v1")).unwrap();
        assert!(image.is_from_ecr_repository("123456789012", "us-east-1", "shop/web"));
        assert!(!image.is_from_ecr_repository("123456789012", "us-west-2", "shop/web"));
        assert!(!image.is_from_ecr_repository("210987654321", "us-east-1", "shop/web"));
        assert!(!image.is_from_ecr_repository("123456789012", "us-east-1", "shop"));
        let fips = ImageRef::parse("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app").unwrap();
        assert!(fips.is_from_ecr_repository("123456789012", "us-gov-west-1", "app"));
        let china = ImageRef::parse("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app").unwrap();
        assert!(china.is_from_ecr_repository("123456789012", "cn-north-1", "app"));
        assert!(!ImageRef::parse("docker.io/shop/web").unwrap().is_from_ecr_repository("123456789012", "us-east-1", "shop/web"));
    }

    #[test]
    fn pins_by_digest_without_the_tag() {
        let image = ImageRef::parse(&format!("{REGISTRY}/shop/web:v1@sha256:old")).unwrap();
        assert_eq!(image.pinned_to("sha256:new").to_string(), format!("{REGISTRY}/shop/web@sha256:new"));
    }
}
